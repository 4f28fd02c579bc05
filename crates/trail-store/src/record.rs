//! The stored form of an event, the same in every backend: the event's canonical bytes, their
//! layout, and the salts of its personal fields (see `trail_core::canonical`). A backend may
//! compress it (SQLite does, with a trained dictionary); what it decompresses to is this.
//!
//! ```text
//! 0x01                      version 1: salts derive from one secret
//! secret                    16 bytes
//! n                         u8: personal values
//! n x (tag u8, start u32, end u32)   tag = field (bit 7 set: erased, the bytes hold its commitment)
//! seq_at                    u32
//! canonical bytes           the rest
//!
//! 0x02                      version 2, written by erasure: no secret, the salt of each field
//!                           not erased kept on its own (an erased field's salt is gone)
//! n, n x (tag, start, end)  as above
//! k x salt                  16 bytes for each field not erased, in layout order
//! seq_at, canonical bytes   as above
//! ```

use trail_core::{
    canonical::{Layout, Personal, Salts, SaltsOf, commitment},
    event::{Activity, EventBody, Fields},
};

const V1: u8 = 1;
const V2: u8 = 2;
const ERASED: u8 = 0x80;

/// Where a record's salts come from.
pub enum SaltSource {
    Secret([u8; 16]),
    /// The salts of the fields not erased (version 2).
    Kept(Vec<(Personal, [u8; 16])>),
}

/// A decoded record.
pub struct Record<'a> {
    pub salts_from: SaltSource,
    pub layout: Layout,
    /// Fields whose values were erased (their commitments are in the canonical bytes).
    pub erased: Vec<Personal>,
    pub canonical: &'a [u8],
}

/// The salts of a record's personal fields; none for an erased field.
pub enum RecordSalts {
    Secret(SaltsOf, Vec<Personal>),
    Kept(Vec<(Personal, [u8; 16])>),
}

impl Salts for RecordSalts {
    fn salt(&self, field: Personal) -> Option<[u8; 16]> {
        match self {
            RecordSalts::Secret(salts, erased) => {
                if erased.contains(&field) {
                    None
                } else {
                    salts.salt(field)
                }
            }
            RecordSalts::Kept(kept) => kept.iter().find(|(f, _)| *f == field).map(|(_, s)| *s),
        }
    }
}

impl Record<'_> {
    pub fn salts(&self) -> RecordSalts {
        match &self.salts_from {
            SaltSource::Secret(secret) => RecordSalts::Secret(SaltsOf::new(secret), self.erased.clone()),
            SaltSource::Kept(kept) => RecordSalts::Kept(kept.clone()),
        }
    }
}

fn put_layout(out: &mut Vec<u8>, layout: &Layout, erased: &[Personal]) {
    out.push(layout.personal.len() as u8);
    for &(field, start, end) in &layout.personal {
        out.push(field as u8 | if erased.contains(&field) { ERASED } else { 0 });
        out.extend_from_slice(&start.to_le_bytes());
        out.extend_from_slice(&end.to_le_bytes());
    }
}

pub fn encode(secret: &[u8; 16], layout: &Layout, canonical: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(canonical.len() + 22 + layout.personal.len() * 9);
    out.push(V1);
    out.extend_from_slice(secret);
    put_layout(&mut out, layout, &[]);
    out.extend_from_slice(&layout.seq_at.to_le_bytes());
    out.extend_from_slice(canonical);
    out
}

pub fn decode(bytes: &[u8]) -> Result<Record<'_>, String> {
    let bad = || "the stored event record is damaged".to_owned();
    let u32_at = |at: usize| -> Result<u32, String> {
        bytes.get(at..at + 4).map(|b| u32::from_le_bytes(b.try_into().expect("4 bytes"))).ok_or_else(bad)
    };
    let (version, mut at) = match bytes.first() {
        Some(&V1) if bytes.len() >= 22 => (V1, 17),
        Some(&V2) if bytes.len() >= 6 => (V2, 1),
        _ => return Err(bad()),
    };
    let n = *bytes.get(at).ok_or_else(bad)? as usize;
    at += 1;
    let mut layout = Layout::default();
    let mut erased = Vec::new();
    for _ in 0..n {
        let tag = *bytes.get(at).ok_or_else(bad)?;
        let field = Personal::from_tag(tag & !ERASED).ok_or_else(bad)?;
        if tag & ERASED != 0 {
            erased.push(field);
        }
        layout.personal.push((field, u32_at(at + 1)?, u32_at(at + 5)?));
        at += 9;
    }
    let salts_from = if version == V1 {
        SaltSource::Secret(bytes[1..17].try_into().expect("16 bytes"))
    } else {
        let mut kept = Vec::new();
        for &(field, _, _) in &layout.personal {
            if !erased.contains(&field) {
                let salt: [u8; 16] = bytes.get(at..at + 16).ok_or_else(bad)?.try_into().expect("16 bytes");
                kept.push((field, salt));
                at += 16;
            }
        }
        SaltSource::Kept(kept)
    };
    layout.seq_at = u32_at(at)?;
    let canonical = bytes.get(at + 4..).ok_or_else(bad)?;
    Ok(Record { salts_from, layout, erased, canonical })
}

/// The record with `fields` erased: each value's bytes replaced by its commitment (so the leaf
/// is unchanged), the layout shifted to match, and the salts of the other fields kept on their
/// own (version 2) so that no erased field's salt can be derived again. Fields the event does
/// not have, or already erased, are left alone. Returns `None` when nothing changes.
pub fn erase(bytes: &[u8], fields: &[Personal]) -> Result<Option<Vec<u8>>, String> {
    let record = decode(bytes)?;
    let todo: Vec<Personal> = record
        .layout
        .personal
        .iter()
        .map(|p| p.0)
        .filter(|f| fields.contains(f) && !record.erased.contains(f))
        .collect();
    if todo.is_empty() {
        return Ok(None);
    }
    let salts = record.salts();
    let mut canonical = Vec::with_capacity(record.canonical.len());
    let mut layout = Layout { personal: Vec::new(), seq_at: 0 };
    let mut pos = 0usize;
    let mut shift: i64 = 0;
    for &(field, start, end) in &record.layout.personal {
        let (s, e) = (start as usize, end as usize);
        if s < pos || e > record.canonical.len() || e < s + 2 {
            return Err("the stored event's layout does not fit its bytes".into());
        }
        canonical.extend_from_slice(&record.canonical[pos..s]);
        let new_start = canonical.len();
        if todo.contains(&field) {
            let value: String = serde_json::from_slice(&record.canonical[s..e])
                .map_err(|_| format!("{} is not a JSON string in the stored event", field.path()))?;
            let salt = salts.salt(field).ok_or("a field to erase has no salt")?;
            canonical.push(b'"');
            canonical.extend_from_slice(commitment(&salt, &value).as_bytes());
            canonical.push(b'"');
        } else {
            canonical.extend_from_slice(&record.canonical[s..e]);
        }
        shift = canonical.len() as i64 - e as i64;
        layout.personal.push((field, new_start as u32, canonical.len() as u32));
        pos = e;
    }
    canonical.extend_from_slice(&record.canonical[pos..]);
    layout.seq_at = (record.layout.seq_at as i64 + shift) as u32;
    let erased: Vec<Personal> = record.erased.iter().chain(&todo).copied().collect();
    let mut out = Vec::with_capacity(canonical.len() + 6 + layout.personal.len() * 25);
    out.push(V2);
    put_layout(&mut out, &layout, &erased);
    for &(field, _, _) in &layout.personal {
        if !erased.contains(&field) {
            out.extend_from_slice(&salts.salt(field).ok_or("a kept field has no salt")?);
        }
    }
    out.extend_from_slice(&layout.seq_at.to_le_bytes());
    out.extend_from_slice(&canonical);
    Ok(Some(out))
}

/// The event a record holds. Erased fields read `[erased]` (an erased address is absent) and
/// are listed in `erased`.
pub fn body(bytes: &[u8]) -> Result<EventBody, String> {
    body_with(bytes, Fields::All)
}

/// [`body`] with only `fields` (an event with erased fields is read whole).
pub fn body_with(bytes: &[u8], fields: Fields) -> Result<EventBody, String> {
    let record = decode(bytes)?;
    if !record.erased.is_empty() {
        return erased_body(&record);
    }
    // Validated as UTF-8 once here, so the parser need not check each string again.
    let text = std::str::from_utf8(record.canonical).map_err(|_| "the stored event is not UTF-8".to_owned())?;
    fields.parse(text).map_err(|e| format!("the stored event does not parse: {e}"))
}

/// The activity fields of the event a record holds, borrowed from it (see [`Activity`]);
/// `Ok(None)` when they must be read typed ([`body_with`]): an event with erased fields (they
/// read `[erased]` there), or text the borrowed reader declines.
pub fn activity(bytes: &[u8]) -> Result<Option<Activity<'_>>, String> {
    let record = decode(bytes)?;
    if !record.erased.is_empty() {
        return Ok(None);
    }
    let text = std::str::from_utf8(record.canonical).map_err(|_| "the stored event is not UTF-8".to_owned())?;
    Ok(Activity::read(text))
}

/// The body of a record with erased fields: their commitments read as `null` while parsing,
/// then the text fields read `[erased]` (an erased address is absent), and `erased` lists them.
fn erased_body(record: &Record<'_>) -> Result<EventBody, String> {
    let c = record.canonical;
    let mut text = Vec::with_capacity(c.len());
    let mut pos = 0;
    for &(field, start, end) in &record.layout.personal {
        let (s, e) = (start as usize, end as usize);
        if s < pos || e < s || e > c.len() {
            return Err("the stored event's layout does not fit its bytes".into());
        }
        text.extend_from_slice(&c[pos..s]);
        if record.erased.contains(&field) {
            text.extend_from_slice(b"null");
        } else {
            text.extend_from_slice(&c[s..e]);
        }
        pos = e;
    }
    text.extend_from_slice(&c[pos..]);
    let mut body: EventBody =
        serde_json::from_slice(&text).map_err(|e| format!("the stored event does not parse: {e}"))?;
    let mark = || Some(trail_core::event::ERASED.to_owned());
    for field in &record.erased {
        match field {
            Personal::ActorEmail => body.actor.iter_mut().for_each(|a| a.email = mark()),
            Personal::ActorName => body.actor.iter_mut().for_each(|a| a.name = mark()),
            Personal::Description => body.description = mark(),
            Personal::Ip => {}
        }
        body.erased.push(field.path().to_owned());
    }
    Ok(body)
}

/// The leaf hash of the event a record holds, as event `seq` of `tenant`'s tree.
pub fn leaf_hash(bytes: &[u8], tenant_suffix: &[u8], seq: u64) -> Result<trail_core::merkle::Hash, String> {
    let record = decode(bytes)?;
    trail_core::canonical::leaf_hash(record.canonical, &record.layout, tenant_suffix, &record.salts(), seq)
}

/// The data leaf `seq` hashes (`Tree::leaf_data`): the canonical form with commitments in
/// place of personal values.
pub fn leaf_data(bytes: &[u8], tenant: &str, seq: u64) -> Result<Vec<u8>, String> {
    let record = decode(bytes)?;
    let (before, after) = trail_core::canonical::leaf_parts(record.canonical, &record.layout, tenant, &record.salts())?;
    Ok(trail_core::canonical::leaf_data(&before, &after, seq))
}

/// A copy of a record for training the compression dictionary, with every personal value
/// overwritten (same length), so that no e-mail, name, address or remark can end up in the
/// dictionary, which erasure could not reach.
pub fn scrubbed(bytes: &[u8]) -> Vec<u8> {
    let mut out = bytes.to_vec();
    let Ok(record) = decode(bytes) else { return out };
    let offset = bytes.len() - record.canonical.len();
    for &(_, start, end) in &record.layout.personal {
        let (s, e) = (offset + start as usize + 1, offset + end as usize - 1);
        if s <= e && e <= out.len() {
            out[s..e].fill(b'x');
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use trail_core::{
        canonical::{leaf_hash, tenant_suffix},
        event::NewEvent,
    };

    use super::*;

    #[test]
    fn erasing_keeps_the_leaf_and_forgets_the_values_and_their_salts() {
        let now = "2026-11-22T12:00:00Z".parse().unwrap();
        let body = NewEvent::from_json(
            r#"{"action":"document.signed","actor":{"id":"u_1","name":"Asha \"A\" Rao","email":"asha@acme.example"},"description":"Asha signed","context":{"ip":"203.0.113.77"},"metadata":{"k":1}}"#,
            now,
        )
        .unwrap()
        .into_body(now);
        let (canon, layout) = trail_core::canonical::write(&body);
        let bytes = encode(&[7; 16], &layout, &canon);
        let suffix = tenant_suffix("acme");
        let leaf = |b: &[u8]| {
            let r = decode(b).unwrap();
            leaf_hash(r.canonical, &r.layout, &suffix, &r.salts(), 5).unwrap()
        };
        let before = leaf(&bytes);
        let once = erase(&bytes, &[Personal::ActorEmail, Personal::ActorName]).unwrap().unwrap();
        assert_eq!(leaf(&once), before, "the leaf is unchanged");
        let text = String::from_utf8_lossy(&once);
        assert!(!text.contains("asha@acme.example") && !text.contains("Rao"), "{text}");
        assert!(text.contains("Asha signed") && text.contains("203.0.113.77"));
        assert!(!once.windows(16).any(|w| w == [7; 16]), "the secret is gone");
        let twice = erase(&once, &[Personal::Ip, Personal::Description, Personal::ActorEmail]).unwrap().unwrap();
        assert_eq!(leaf(&twice), before);
        let text = String::from_utf8_lossy(&twice);
        assert!(!text.contains("203.0.113.77") && !text.contains("Asha signed"), "{text}");
        assert_eq!(decode(&twice).unwrap().erased.len(), 4);
        assert!(erase(&twice, &Personal::ALL).unwrap().is_none(), "nothing left to erase");
        // Any other change to the record still changes the leaf.
        let mut tampered = twice.clone();
        let at = tampered.len() - 3;
        tampered[at] ^= 1;
        assert_ne!(leaf(&tampered), before);
    }

    /// Regression (found by the stored_record fuzz target): a damaged record of an erased
    /// event whose layout put a value's start past its end made the reader panic (slice index
    /// out of range) instead of refusing the record.
    #[test]
    fn a_layout_whose_start_is_past_its_end_is_refused() {
        let canonical = br#"{"action":"a","category":"a","description":"x","occurred_at":"2026-11-22T12:00:00.000Z","outcome":"success","received_at":"2026-11-22T12:00:00.000Z","report_type":"A"}"#;
        let mut bytes = vec![V2, 1, Personal::Description as u8 | ERASED];
        bytes.extend_from_slice(&5000u32.to_le_bytes());
        bytes.extend_from_slice(&40u32.to_le_bytes());
        bytes.extend_from_slice(&(canonical.len() as u32 - 1).to_le_bytes());
        bytes.extend_from_slice(canonical);
        assert!(body(&bytes).is_err());
        assert!(super::leaf_hash(&bytes, b"t", 1).is_err());
        assert!(matches!(erase(&bytes, &Personal::ALL), Ok(None)), "nothing left to erase");
    }

    #[test]
    fn dictionary_samples_hold_no_personal_value() {
        let now = "2026-11-22T12:00:00Z".parse().unwrap();
        let body = NewEvent::from_json(
            r#"{"action":"a.b","actor":{"name":"Asha Rao","email":"asha@acme.example"},"description":"hello","context":{"ip":"203.0.113.77"}}"#,
            now,
        )
        .unwrap()
        .into_body(now);
        let (canon, layout) = trail_core::canonical::write(&body);
        let sample = scrubbed(&encode(&[1; 16], &layout, &canon));
        let text = String::from_utf8_lossy(&sample);
        for secret in ["Asha Rao", "asha@acme.example", "hello", "203.0.113.77"] {
            assert!(!text.contains(secret), "{text}");
        }
        assert!(text.contains("a.b"));
    }
}

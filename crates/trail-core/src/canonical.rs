//! The canonical form of a stored event (RFC 8785, JSON Canonicalization Scheme), and the leaf
//! it becomes in the tenant's Merkle tree (docs/integrity.md).
//!
//! [`write`] serialises an [`EventBody`] with keys in JCS order (UTF-16 code-unit order, which
//! for Trail's ASCII keys is byte order; `metadata` keys are sorted by UTF-16 as JCS requires),
//! JCS string escapes and ECMAScript number formatting, and notes a [`Layout`]: where `"seq"`
//! goes (right after `report_type`, which every event has) and where each personal value is.
//! Trail stores exactly these bytes. A leaf is then those bytes with
//!
//! - each personal value (`actor.email`, `actor.name`, `context.ip`, `description`) replaced by
//!   its commitment, the hex `SHA-256(salt || value)` of its UTF-8 value,
//! - `,"seq":N` inserted at the seq position and `,"tenant":"T"` before the closing brace,
//!
//! hashed as RFC 6962 leaf data. Building a leaf is copying and hashing, with no JSON parsing,
//! which is what lets `trail verify` check a million events a second.
//!
//! Salts: each event has a random 16-byte secret; the salts of the actor's e-mail and name are
//! the two halves of `SHA-256("trail-salt" || secret || 0x00)`, those of the IP address and the
//! description the halves of `SHA-256("trail-salt" || secret || 0x01)` (a salt is 16 bytes). Erasing one field deletes its value and keeps
//! its commitment; the others keep salts of their own (the secret is replaced by them), so the
//! erased field's salt cannot be recovered (see the erasure issue).

use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::{
    event::{EventBody, Target},
    merkle::Hash,
    time::format_rfc3339,
};

/// The personal fields, whose values a leaf holds only as commitments.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[repr(u8)]
pub enum Personal {
    ActorEmail = 0,
    ActorName = 1,
    Ip = 2,
    Description = 3,
}

impl Personal {
    pub const ALL: [Personal; 4] = [Personal::ActorEmail, Personal::ActorName, Personal::Ip, Personal::Description];

    pub fn from_tag(tag: u8) -> Option<Personal> {
        Personal::ALL.into_iter().find(|p| *p as u8 == tag)
    }

    pub fn path(self) -> &'static str {
        match self {
            Personal::ActorEmail => "actor.email",
            Personal::ActorName => "actor.name",
            Personal::Ip => "context.ip",
            Personal::Description => "description",
        }
    }
}

/// Where, in canonical bytes, the seq goes and the personal values are.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Layout {
    /// Byte offset just after the `report_type` value.
    pub seq_at: u32,
    /// Each personal value present: the field and the byte range of its JSON string (quotes
    /// included), in order of position.
    pub personal: Vec<(Personal, u32, u32)>,
}

/// A personal field's salt, from the event's secret.
pub fn salt(secret: &[u8; 16], field: Personal) -> [u8; 16] {
    let tag = field as u8;
    let mut h = Sha256::new();
    h.update(b"trail-salt");
    h.update(secret);
    h.update([tag / 2]);
    let d = h.finalize();
    let half = (tag % 2) as usize * 16;
    d[half..half + 16].try_into().expect("16 bytes")
}

/// The commitment to a personal value: hex `SHA-256(salt || value)`.
pub fn commitment(salt: &[u8; 16], value: &str) -> String {
    String::from_utf8(commitment_hex(salt, value.as_bytes()).to_vec()).expect("hex is ASCII")
}

/// [`commitment`] over the value's UTF-8 bytes, as ASCII hex on the stack.
fn commitment_hex(salt: &[u8; 16], value: &[u8]) -> [u8; 64] {
    let mut h = Sha256::new();
    h.update(salt);
    h.update(value);
    hex64_bytes(&h.finalize().into())
}

/// Lower-case hex of a hash, written directly (this runs four times an event).
pub fn hex64(bytes: &[u8; 32]) -> String {
    String::from_utf8(hex64_bytes(bytes).to_vec()).expect("hex is ASCII")
}

fn hex64_bytes(bytes: &[u8; 32]) -> [u8; 64] {
    /// The two hex digits of every byte value.
    const PAIRS: [[u8; 2]; 256] = {
        const DIGITS: &[u8; 16] = b"0123456789abcdef";
        let mut t = [[0u8; 2]; 256];
        let mut i = 0;
        while i < 256 {
            t[i] = [DIGITS[i >> 4], DIGITS[i & 0xf]];
            i += 1;
        }
        t
    };
    let mut out = [0u8; 64];
    for (pair, b) in out.chunks_exact_mut(2).zip(bytes) {
        pair.copy_from_slice(&PAIRS[*b as usize]);
    }
    out
}

/// Writes `s` as a JCS string.
pub fn write_str(out: &mut Vec<u8>, s: &str) {
    out.push(b'"');
    let bytes = s.as_bytes();
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let esc: &[u8] = match b {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            0x08 => b"\\b",
            0x0c => b"\\f",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b'\t' => b"\\t",
            0..=0x1f => {
                out.extend_from_slice(&bytes[start..i]);
                out.extend_from_slice(format!("\\u{b:04x}").as_bytes());
                start = i + 1;
                continue;
            }
            _ => continue,
        };
        out.extend_from_slice(&bytes[start..i]);
        out.extend_from_slice(esc);
        start = i + 1;
    }
    out.extend_from_slice(&bytes[start..]);
    out.push(b'"');
}

/// Writes a JSON value in JCS form.
pub fn write_value(out: &mut Vec<u8>, v: &Value) {
    match v {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Bool(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                out.extend_from_slice(i.to_string().as_bytes());
            } else if let Some(u) = n.as_u64() {
                out.extend_from_slice(u.to_string().as_bytes());
            } else {
                let f = n.as_f64().unwrap_or(0.0);
                if f == 0.0 {
                    out.push(b'0');
                } else {
                    out.extend_from_slice(ryu_js::Buffer::new().format_finite(f).as_bytes());
                }
            }
        }
        Value::String(s) => write_str(out, s),
        Value::Array(a) => {
            out.push(b'[');
            for (i, x) in a.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_value(out, x);
            }
            out.push(b']');
        }
        Value::Object(m) => write_object(out, m),
    }
}

/// Writes a JSON object in JCS form: members sorted by the UTF-16 code units of their keys.
fn write_object(out: &mut Vec<u8>, m: &serde_json::Map<String, Value>) {
    let mut keys: Vec<&String> = m.keys().collect();
    keys.sort_by(|a, b| a.encode_utf16().cmp(b.encode_utf16()));
    out.push(b'{');
    for (i, k) in keys.into_iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write_str(out, k);
        out.push(b':');
        write_value(out, &m[k]);
    }
    out.push(b'}');
}

/// Writes JSON object members in order, with commas.
struct Obj<'a> {
    out: &'a mut Vec<u8>,
    first: bool,
}

impl<'a> Obj<'a> {
    fn open(out: &'a mut Vec<u8>) -> Self {
        out.push(b'{');
        Obj { out, first: true }
    }

    fn key(&mut self, k: &str) -> &mut Vec<u8> {
        if !self.first {
            self.out.push(b',');
        }
        self.first = false;
        self.out.push(b'"');
        self.out.extend_from_slice(k.as_bytes());
        self.out.extend_from_slice(b"\":");
        self.out
    }

    fn str(&mut self, k: &str, v: &str) {
        write_str(self.key(k), v);
    }

    fn opt(&mut self, k: &str, v: Option<&str>) {
        if let Some(v) = v {
            self.str(k, v);
        }
    }

    /// A personal string value, noting its byte range.
    fn personal(&mut self, k: &str, v: Option<&str>, field: Personal, layout: &mut Layout) {
        if let Some(v) = v {
            let out = self.key(k);
            let start = out.len() as u32;
            write_str(out, v);
            layout.personal.push((field, start, out.len() as u32));
        }
    }

    fn close(self) {
        self.out.push(b'}');
    }
}

fn write_target(out: &mut Vec<u8>, t: &Target) {
    let mut o = Obj::open(out);
    o.opt("id", t.id.as_deref());
    o.opt("name", t.name.as_deref());
    o.str("type", &t.kind);
    o.close();
}

/// The canonical bytes of a stored event without `seq` and `tenant`, and their layout.
pub fn write(e: &EventBody) -> (Vec<u8>, Layout) {
    let mut out = Vec::with_capacity(768);
    let mut layout = Layout::default();
    let mut o = Obj::open(&mut out);
    o.str("action", e.action.as_str());
    if let Some(a) = &e.actor {
        let out = o.key("actor");
        let mut a_obj = Obj::open(out);
        a_obj.personal("email", a.email.as_deref(), Personal::ActorEmail, &mut layout);
        a_obj.opt("id", a.id.as_deref());
        a_obj.personal("name", a.name.as_deref(), Personal::ActorName, &mut layout);
        a_obj.str("type", a.kind.as_str());
        a_obj.close();
    }
    o.str("category", e.category.as_str());
    if let Some(c) = &e.context {
        let out = o.key("context");
        let mut c_obj = Obj::open(out);
        if let Some(cl) = &c.client {
            let out = c_obj.key("client");
            let mut cl_obj = Obj::open(out);
            cl_obj.opt("browser", cl.browser.as_deref());
            cl_obj.opt("device", cl.device.as_deref());
            cl_obj.opt("os", cl.os.as_deref());
            cl_obj.close();
        }
        let ip = c.ip.map(|ip| ip.to_string());
        c_obj.personal("ip", ip.as_deref(), Personal::Ip, &mut layout);
        if let Some(l) = &c.location {
            let out = c_obj.key("location");
            let mut l_obj = Obj::open(out);
            l_obj.opt("city", l.city.as_deref());
            l_obj.opt("country", l.country.as_deref());
            l_obj.opt("country_name", l.country_name.as_deref());
            l_obj.opt("region", l.region.as_deref());
            l_obj.close();
        }
        c_obj.opt("method", c.method.map(|m| m.as_str()));
        c_obj.opt("session_id", c.session_id.as_deref());
        if let Some(s) = c.status {
            c_obj.key("status").extend_from_slice(s.to_string().as_bytes());
        }
        c_obj.opt("url", c.url.as_deref());
        c_obj.opt("user_agent", c.user_agent.as_deref());
        c_obj.close();
    }
    o.personal("description", e.description.as_deref(), Personal::Description, &mut layout);
    o.opt("id", e.id.as_deref());
    if let Some(m) = &e.metadata {
        // Written from the map in place: wrapping it in a `Value` cloned every event's
        // metadata (4% of ingest's time).
        write_object(o.key("metadata"), m);
    }
    o.str("occurred_at", &format_rfc3339(e.occurred_at));
    o.str("outcome", e.outcome.as_str());
    o.str("received_at", &format_rfc3339(e.received_at));
    o.str("report_type", &e.report_type);
    layout.seq_at = o.out.len() as u32;
    if !e.targets.is_empty() {
        let out = o.key("targets");
        out.push(b'[');
        for (i, t) in e.targets.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            write_target(out, t);
        }
        out.push(b']');
    }
    o.close();
    (out, layout)
}

/// How a leaf treats each personal field: its value is committed with a salt, or (erased) the
/// canonical bytes already hold the commitment.
pub trait Salts {
    fn salt(&self, field: Personal) -> Option<[u8; 16]>;
}

impl Salts for [u8; 16] {
    fn salt(&self, field: Personal) -> Option<[u8; 16]> {
        Some(salt(self, field))
    }
}

/// The salts of an event's fields, derived from its secret two by two and only when asked for
/// (an event with a description and an address but no actor names costs one hash, not four).
pub struct SaltsOf {
    secret: [u8; 16],
    pairs: [std::cell::OnceCell<[u8; 32]>; 2],
}

impl SaltsOf {
    pub fn new(secret: &[u8; 16]) -> Self {
        SaltsOf { secret: *secret, pairs: Default::default() }
    }
}

impl Salts for SaltsOf {
    fn salt(&self, field: Personal) -> Option<[u8; 16]> {
        let tag = field as u8;
        let pair = self.pairs[(tag / 2) as usize].get_or_init(|| {
            let mut h = Sha256::new();
            h.update(b"trail-salt");
            h.update(self.secret);
            h.update([tag / 2]);
            h.finalize().into()
        });
        let half = (tag % 2) as usize * 16;
        Some(pair[half..half + 16].try_into().expect("16 bytes"))
    }
}

/// The leaf data of a stored event: the canonical bytes with commitments, seq and tenant.
/// Returns the part before the seq and the part after it (the seq is known only when the event
/// is appended; hashing the first part can start earlier).
pub fn leaf_parts(
    canon: &[u8],
    layout: &Layout,
    tenant: &str,
    salts: &impl Salts,
) -> Result<(Vec<u8>, Vec<u8>), String> {
    let mut before = Vec::with_capacity(canon.len() + 256);
    let (pos, seq_at) = walk_personal(canon, layout, salts, |bytes| before.extend_from_slice(bytes))?;
    before.extend_from_slice(&canon[pos..seq_at]);
    Ok((before, after_seq(canon, seq_at, tenant)))
}

/// The leaf hasher of a stored event: the part before the seq is hashed as it is assembled
/// (canonical bytes and commitments fed straight to SHA-256, nothing copied), the part after
/// the seq kept for [`LeafHasher::finish`].
pub fn leaf_hasher(canon: &[u8], layout: &Layout, tenant: &str, salts: &impl Salts) -> Result<LeafHasher, String> {
    let mut state = Sha256::new();
    state.update([0u8]);
    let (pos, seq_at) = walk_personal(canon, layout, salts, |bytes| state.update(bytes))?;
    state.update(&canon[pos..seq_at]);
    Ok(LeafHasher { state, after: after_seq(canon, seq_at, tenant) })
}

/// Feeds the bytes before the seq position to `emit`, committed personal values in place of
/// the values. Returns where the last value ended and the seq position.
fn walk_personal(
    canon: &[u8],
    layout: &Layout,
    salts: &impl Salts,
    mut emit: impl FnMut(&[u8]),
) -> Result<(usize, usize), String> {
    let mut pos = 0usize;
    let seq_at = layout.seq_at as usize;
    // The seq goes before the closing brace, which must stay after it.
    if seq_at >= canon.len() || canon.last() != Some(&b'}') {
        return Err("the stored event's layout does not fit its bytes".into());
    }
    for &(field, start, end) in &layout.personal {
        let (start, end) = (start as usize, end as usize);
        if start < pos || end > seq_at || end < start + 2 {
            return Err("the stored event's layout does not fit its bytes".into());
        }
        emit(&canon[pos..start]);
        match salts.salt(field) {
            Some(salt) => {
                let raw = &canon[start + 1..end - 1];
                // A value without escapes is its own UTF-8 (the usual case) and is hashed as it
                // lies; were those bytes not UTF-8, the hash would differ and say so.
                let commitment = if !raw.contains(&b'\\') {
                    commitment_hex(&salt, raw)
                } else {
                    let value = serde_json::from_slice::<String>(&canon[start..end])
                        .map_err(|_| format!("{} is not a JSON string in the stored event", field.path()))?;
                    commitment_hex(&salt, value.as_bytes())
                };
                emit(b"\"");
                emit(&commitment);
                emit(b"\"");
            }
            // Erased: the stored bytes hold the commitment itself.
            None => emit(&canon[start..end]),
        }
        pos = end;
    }
    Ok((pos, seq_at))
}

fn after_seq(canon: &[u8], seq_at: usize, tenant: &str) -> Vec<u8> {
    let suffix = tenant_suffix(tenant);
    let mut after = Vec::with_capacity(canon.len() - seq_at + suffix.len());
    after.extend_from_slice(&canon[seq_at..canon.len() - 1]);
    after.extend_from_slice(&suffix);
    after
}

/// The bytes that end every leaf of `tenant`: `,"tenant":"<id>"}`. Computed once per tenant for
/// [`leaf_hash`].
pub fn tenant_suffix(tenant: &str) -> Vec<u8> {
    let mut out = b",\"tenant\":".to_vec();
    write_str(&mut out, tenant);
    out.push(b'}');
    out
}

/// The decimal digits of `n`, on the stack.
fn decimal(mut n: u64, buf: &mut [u8; 20]) -> &[u8] {
    let mut at = buf.len();
    loop {
        at -= 1;
        buf[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            return &buf[at..];
        }
    }
}

/// The leaf hash of a stored event at `seq`, in one pass with nothing allocated (the same hash
/// as `leaf_hasher(..).finish(seq)`): for `trail verify`, which computes one per event.
/// `suffix` is the tenant's [`tenant_suffix`].
pub fn leaf_hash(canon: &[u8], layout: &Layout, suffix: &[u8], salts: &impl Salts, seq: u64) -> Result<Hash, String> {
    let mut state = Sha256::new();
    state.update([0u8]);
    let (pos, seq_at) = walk_personal(canon, layout, salts, |bytes| state.update(bytes))?;
    state.update(&canon[pos..seq_at]);
    state.update(b",\"seq\":");
    state.update(decimal(seq, &mut [0; 20]));
    state.update(&canon[seq_at..canon.len() - 1]);
    state.update(suffix);
    Ok(state.finalize().into())
}

/// A leaf hash being computed: the part before the seq already hashed.
#[derive(Clone)]
pub struct LeafHasher {
    state: Sha256,
    after: Vec<u8>,
}

impl LeafHasher {
    pub fn new(before: &[u8], after: Vec<u8>) -> Self {
        let mut state = Sha256::new();
        state.update([0u8]);
        state.update(before);
        LeafHasher { state, after }
    }

    /// The leaf hash for `seq`.
    pub fn finish(&self, seq: u64) -> Hash {
        let mut s = self.state.clone();
        s.update(b",\"seq\":");
        s.update(decimal(seq, &mut [0; 20]));
        s.update(&self.after);
        s.finalize().into()
    }
}

/// The leaf data with the seq in place (what an auditor hashes; see `leaf_parts`).
pub fn leaf_data(before: &[u8], after: &[u8], seq: u64) -> Vec<u8> {
    let mut out = Vec::with_capacity(before.len() + after.len() + 24);
    out.extend_from_slice(before);
    out.extend_from_slice(b",\"seq\":");
    out.extend_from_slice(seq.to_string().as_bytes());
    out.extend_from_slice(after);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::NewEvent;

    fn body(json: &str) -> EventBody {
        let now: jiff::Timestamp = "2026-11-22T12:00:00Z".parse().unwrap();
        NewEvent::from_json(json, now).unwrap().into_body(now)
    }

    /// Regression (found by the stored_record fuzz target): a damaged layout putting the seq
    /// at the very end of the bytes, after the closing brace, made the leaf hash panic (slice
    /// index out of range) instead of refusing the record.
    #[test]
    fn a_seq_after_the_closing_brace_is_refused() {
        let (canon, layout) = write(&body(r#"{"action":"a"}"#));
        let damaged = Layout { seq_at: canon.len() as u32, ..layout };
        let salts = SaltsOf::new(&[1; 16]);
        assert!(leaf_hash(&canon, &damaged, &tenant_suffix("t"), &salts, 1).is_err());
        assert!(leaf_parts(&canon, &damaged, "t", &salts).is_err());
    }

    /// Regression (found by the event_batch fuzz target): a metadata number sent as
    /// 184467440737095510615 was stored as 184467440737095480000 but read back, by serde_json's
    /// default (approximate) float parsing, as 184467440737095500000: the event returned was
    /// not the event stored. serde_json's `float_roundtrip` parses floats exactly.
    #[test]
    fn metadata_floats_read_back_as_written() {
        for n in [
            "184467440737095510615",
            "184467440737095480000",
            "1.0000000000000002",
            "5e-324",
            "1.7976931348623157e308",
            "0.30000000000000004",
        ] {
            let e = body(&format!(r#"{{"action":"a","metadata":{{"n":{n}}}}}"#));
            let (canon, _) = write(&e);
            let back: EventBody = serde_json::from_slice(&canon).unwrap();
            assert_eq!(write(&back).0, canon, "{n}");
        }
    }

    #[test]
    fn canonical_bytes_parse_back_and_keys_are_sorted() {
        let e = body(
            r#"{"id":"e1","action":"document.signed","actor":{"id":"u","name":"Asha \"A\" Rao","email":"a@x.example"},
            "targets":[{"type":"document","id":"d","name":"NDA\n2026"}],"description":"tab\there é 🎉",
            "context":{"ip":"203.0.113.7","status":200,"method":"POST","location":{"country":"IN"}},
            "metadata":{"b":1,"a":[1.5,1e21,0,null,true],"é":"x","\u0001":2}}"#,
        );
        let (bytes, layout) = write(&e);
        let text = std::str::from_utf8(&bytes).unwrap();
        let back: EventBody = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(back, e);
        // Top-level keys in JCS order.
        let v: serde_json::Map<String, Value> = serde_json::from_slice(&bytes).unwrap();
        let keys: Vec<&String> = v.keys().collect();
        let mut sorted = keys.clone();
        sorted.sort();
        assert_eq!(keys, sorted);
        assert!(text.contains(r#""metadata":{"\u0001":2,"a":[1.5,1e+21,0,null,true],"b":1,"é":"x"}"#), "{text}");
        // JCS writes -0 as 0 and numbers as ECMAScript does.
        let mut n = Vec::new();
        write_value(&mut n, &serde_json::json!([-0.0, 0.1, 1e-7, 123456789012.0, 5e-324, -1.5e300]));
        assert_eq!(std::str::from_utf8(&n).unwrap(), "[0,0.1,1e-7,123456789012,5e-324,-1.5e+300]");
        assert!(text.contains(r#""description":"tab\there é 🎉""#), "{text}");
        assert_eq!(&text[layout.seq_at as usize - 1..layout.seq_at as usize], "\"");
        assert!(text[..layout.seq_at as usize].ends_with(r#""report_type":"Document signed""#));
        let fields: Vec<Personal> = layout.personal.iter().map(|p| p.0).collect();
        assert_eq!(fields, [Personal::ActorEmail, Personal::ActorName, Personal::Ip, Personal::Description]);
        for &(_, s, e) in &layout.personal {
            assert_eq!(bytes[s as usize], b'"');
            assert_eq!(bytes[e as usize - 1], b'"');
        }
    }

    #[test]
    fn leaves_commit_to_personal_values_and_place_seq_and_tenant() {
        let e = body(
            r#"{"action":"a.b","actor":{"name":"Asha","email":"a@x"},"description":"hello","targets":[{"type":"t","id":"1"}]}"#,
        );
        let (bytes, layout) = write(&e);
        let secret = [3u8; 16];
        let (before, after) = leaf_parts(&bytes, &layout, "acme", &secret).unwrap();
        let data = leaf_data(&before, &after, 42);
        let text = String::from_utf8(data.clone()).unwrap();
        assert!(!text.contains("Asha") && !text.contains("a@x") && !text.contains("hello"), "{text}");
        let c = commitment(&salt(&secret, Personal::ActorName), "Asha");
        assert_eq!(SaltsOf::new(&secret).salt(Personal::Description), Some(salt(&secret, Personal::Description)));
        assert_eq!(c, hex::encode(sha2::Sha256::digest([&salt(&secret, Personal::ActorName)[..], b"Asha"].concat())));
        assert!(text.contains(&format!(r#""name":"{c}""#)), "{text}");
        assert!(
            text.contains(r#""report_type":"A b","seq":42,"targets":[{"id":"1","type":"t"}],"tenant":"acme"}"#),
            "{text}"
        );
        // The result is itself canonical JSON.
        let v: Value = serde_json::from_slice(&data).unwrap();
        let mut again = Vec::new();
        write_value(&mut again, &v);
        assert_eq!(again, data);
        assert_eq!(LeafHasher::new(&before, after.clone()).finish(42), crate::merkle::leaf_hash(&data));
        assert_eq!(leaf_hasher(&bytes, &layout, "acme", &secret).unwrap().finish(42), crate::merkle::leaf_hash(&data));
        for seq in [0, 1, 9, 10, 42, 1_000_000, u64::MAX] {
            let (b, a) = leaf_parts(&bytes, &layout, "acme", &secret).unwrap();
            assert_eq!(
                leaf_hash(&bytes, &layout, &tenant_suffix("acme"), &secret, seq).unwrap(),
                crate::merkle::leaf_hash(&leaf_data(&b, &a, seq)),
                "seq {seq}"
            );
        }
        // Any change to a value changes the leaf.
        let other = body(
            r#"{"action":"a.b","actor":{"name":"Asha","email":"a@y"},"description":"hello","targets":[{"type":"t","id":"1"}]}"#,
        );
        let (b2, l2) = write(&other);
        let (bb, ba) = leaf_parts(&b2, &l2, "acme", &secret).unwrap();
        assert_ne!(leaf_data(&bb, &ba, 42), data);
    }
}

//! What a row's body holds once decompressed: the event's canonical bytes, their layout, and the
//! secret its personal-field salts derive from (see `trail_core::canonical`).
//!
//! ```text
//! 0x01                      record version
//! secret                    16 bytes
//! n                         u8: personal values
//! n x (tag u8, start u32, end u32)   tag = field (bit 7 set: erased, the bytes hold its commitment)
//! seq_at                    u32
//! canonical bytes           the rest
//! ```

use trail_core::canonical::{Layout, Personal, Salts, SaltsOf};

const V1: u8 = 1;
const ERASED: u8 = 0x80;

/// A decoded record.
pub(crate) struct Record<'a> {
    pub secret: [u8; 16],
    pub layout: Layout,
    /// Fields whose values were erased (their commitments are in the canonical bytes).
    pub erased: Vec<Personal>,
    pub canonical: &'a [u8],
}

/// The salts of a record's personal fields; none for an erased field.
pub(crate) struct RecordSalts {
    salts: SaltsOf,
    erased: Vec<Personal>,
}

impl Salts for RecordSalts {
    fn salt(&self, field: Personal) -> Option<[u8; 16]> {
        if self.erased.contains(&field) { None } else { self.salts.salt(field) }
    }
}

impl Record<'_> {
    pub(crate) fn salts(&self) -> RecordSalts {
        RecordSalts { salts: SaltsOf::new(&self.secret), erased: self.erased.clone() }
    }
}

pub(crate) fn encode(secret: &[u8; 16], layout: &Layout, canonical: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(canonical.len() + 22 + layout.personal.len() * 9);
    out.push(V1);
    out.extend_from_slice(secret);
    out.push(layout.personal.len() as u8);
    for &(field, start, end) in &layout.personal {
        out.push(field as u8);
        out.extend_from_slice(&start.to_le_bytes());
        out.extend_from_slice(&end.to_le_bytes());
    }
    out.extend_from_slice(&layout.seq_at.to_le_bytes());
    out.extend_from_slice(canonical);
    out
}

pub(crate) fn decode(bytes: &[u8]) -> Result<Record<'_>, String> {
    let bad = || "the stored event record is damaged".to_owned();
    let u32_at = |at: usize| -> Result<u32, String> {
        bytes.get(at..at + 4).map(|b| u32::from_le_bytes(b.try_into().expect("4 bytes"))).ok_or_else(bad)
    };
    if bytes.first() != Some(&V1) || bytes.len() < 22 {
        return Err(bad());
    }
    let secret: [u8; 16] = bytes[1..17].try_into().expect("16 bytes");
    let n = bytes[17] as usize;
    let mut at = 18;
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
    layout.seq_at = u32_at(at)?;
    let canonical = bytes.get(at + 4..).ok_or_else(bad)?;
    Ok(Record { secret, layout, erased, canonical })
}

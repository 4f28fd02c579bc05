//! Looking for a few byte values eight bytes at a time (SWAR), for the short texts where a SIMD
//! search's set-up costs more than the search: the strings of a stored event (its reader) and
//! the cells of a CSV row (whether one needs quotes).

/// `bytes` read as a little-endian `u64` (byte 0 lowest, whatever the machine's order); panics
/// unless `bytes` holds exactly eight.
#[inline]
pub fn word(bytes: &[u8]) -> u64 {
    u64::from_le_bytes(bytes.try_into().expect("eight bytes"))
}

/// A mask with the high bit set for every byte of `w` equal to `b`. It may also be set for a
/// byte above the first such byte (one equal to `b ^ 1` that the subtraction's borrow reaches),
/// never below it: the mask is non-zero exactly when some byte is `b`, and its lowest set bit
/// marks the first.
#[inline]
pub fn bytes_equal(w: u64, b: u8) -> u64 {
    const ONES: u64 = u64::from_ne_bytes([0x01; 8]);
    const HIGHS: u64 = u64::from_ne_bytes([0x80; 8]);
    let x = w ^ u64::from_ne_bytes([b; 8]);
    x.wrapping_sub(ONES) & !x & HIGHS
}

/// The index of the byte whose high bit is the lowest set in `mask` (from [`bytes_equal`] of a
/// [`word`]); 8 for an empty mask, which callers check for first.
#[inline]
pub fn first(mask: u64) -> usize {
    (mask.trailing_zeros() / 8) as usize
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_equal_byte_is_found_whatever_surrounds_it() {
        for b in [0u8, 1, b'"', b'\\', 0x7f, 0x80, 0xff] {
            for at in 0..8 {
                for other in [0u8, 1, b ^ 1, b.wrapping_sub(1), b.wrapping_add(1), 0x80, 0xff] {
                    if other == b {
                        continue;
                    }
                    let mut bytes = [other; 8];
                    bytes[at] = b;
                    // A second one further on changes nothing.
                    if at < 7 {
                        bytes[7] = b;
                    }
                    let mask = bytes_equal(word(&bytes), b);
                    assert_eq!(first(mask), at, "{b:#x} at {at} among {other:#x}");
                    assert_eq!(bytes_equal(word(&[other; 8]), b), 0, "{b:#x} among {other:#x}");
                }
            }
        }
    }
}

//! Hex digits of digests, signatures and keys, decoded and encoded through tables: these run for
//! every record (a hash, a link, a signature), where the `hex` crate's iterator-based code showed
//! in profiles.

/// The value of each byte as a hex digit, `INVALID` when it is not one; `LOWER` accepts only
/// `0-9a-f` (digests are written in lowercase and compared as text), `ANY` also `A-F`.
const INVALID: u8 = 0xFF;
const LOWER: [u8; 256] = table(false);
const ANY: [u8; 256] = table(true);

const fn table(upper: bool) -> [u8; 256] {
    let mut t = [INVALID; 256];
    let mut i = 0;
    while i < 10 {
        t[b'0' as usize + i] = i as u8;
        i += 1;
    }
    let mut i = 0;
    while i < 6 {
        t[b'a' as usize + i] = 10 + i as u8;
        if upper {
            t[b'A' as usize + i] = 10 + i as u8;
        }
        i += 1;
    }
    t
}

/// Decodes pairs of digits into `out` (one byte per pair); false if any digit is invalid.
fn decode_into(digits: &[u8], lut: &[u8; 256], out: &mut [u8]) -> bool {
    let mut bad = 0u8;
    for (o, pair) in out.iter_mut().zip(digits.chunks_exact(2)) {
        let (hi, lo) = (lut[usize::from(pair[0])], lut[usize::from(pair[1])]);
        // An invalid digit has the high bits set, which survive the OR.
        bad |= hi | lo;
        *o = (hi << 4) | (lo & 0x0F);
    }
    bad & 0xF0 == 0
}

/// Decodes exactly 64 lowercase hex digits.
pub fn parse_hex32(s: &str) -> Option<[u8; 32]> {
    let digits: &[u8; 64] = s.as_bytes().try_into().ok()?;
    let mut out = [0u8; 32];
    decode_into(digits, &LOWER, &mut out).then_some(out)
}

/// Decodes hex digits of either case (as `hex::decode` does); `None` for an odd count or a
/// non-digit.
pub fn decode(s: &str) -> Option<Vec<u8>> {
    let digits = s.as_bytes();
    if digits.len() % 2 != 0 {
        return None;
    }
    let mut out = vec![0u8; digits.len() / 2];
    decode_into(digits, &ANY, &mut out).then_some(out)
}

/// Lowercase hex digits of `bytes`.
pub fn encode(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = Vec::with_capacity(bytes.len() * 2);
    for &b in bytes {
        out.push(DIGITS[usize::from(b >> 4)]);
        out.push(DIGITS[usize::from(b & 0x0F)]);
    }
    // ASCII digits: always valid UTF-8.
    String::from_utf8(out).unwrap_or_default()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn agrees_with_the_hex_crate_on_every_byte_pair() {
        for a in 0..=255u8 {
            for b in 0..=255u8 {
                let pair = [a, b];
                let Ok(text) = std::str::from_utf8(&pair) else {
                    continue;
                };
                assert_eq!(decode(text), hex::decode(text).ok(), "{pair:?}");
            }
        }
        for len in 0..40 {
            let bytes: Vec<u8> = (0..len).map(|i| (i * 37 + 11) as u8).collect();
            assert_eq!(encode(&bytes), hex::encode(&bytes));
            assert_eq!(decode(&encode(&bytes)), Some(bytes.clone()));
            assert_eq!(decode(&encode(&bytes).to_uppercase()), Some(bytes));
        }
        assert_eq!(decode("abc"), None);
    }

    #[test]
    fn digests_are_64_lowercase_digits() {
        let d: Vec<u8> = (0..32).collect();
        let text = hex::encode(&d);
        assert_eq!(parse_hex32(&text).unwrap().to_vec(), d);
        assert_eq!(parse_hex32(&text.to_uppercase()), None);
        assert_eq!(parse_hex32(&text[..62]), None);
        assert_eq!(parse_hex32(&format!("{text}00")), None);
        for i in 0..64 {
            for bad in [b'g', b'G', b' ', b'/', b':', b'`', 0x80] {
                let mut t = text.clone().into_bytes();
                t[i] = bad;
                if let Ok(s) = std::str::from_utf8(&t) {
                    assert_eq!(parse_hex32(s), None, "{s}");
                }
            }
        }
    }
}

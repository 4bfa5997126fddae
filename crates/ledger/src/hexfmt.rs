//! Hex text form of hashes, used in JSON, logs and the CLI.

use crate::{Hash, LedgerError};

const DIGITS: &[u8; 16] = b"0123456789abcdef";

/// Lowercase hex of a hash (64 characters).
pub fn hex(h: &Hash) -> String {
    let mut s = String::with_capacity(64);
    for b in h {
        s.push(char::from(DIGITS[usize::from(b >> 4)]));
        s.push(char::from(DIGITS[usize::from(b & 0x0f)]));
    }
    s
}

/// Parses 64 hex digits (either case) into a hash.
pub fn from_hex(s: &str) -> Result<Hash, LedgerError> {
    let bytes = s.as_bytes();
    if bytes.len() != 64 {
        return Err(LedgerError::InvalidHex(format!(
            "expected 64 hex characters, got {} characters",
            s.chars().count()
        )));
    }
    let mut out = [0u8; 32];
    for (i, pair) in bytes.chunks_exact(2).enumerate() {
        let hi = nibble(pair[0], 2 * i)?;
        let lo = nibble(pair[1], 2 * i + 1)?;
        out[i] = (hi << 4) | lo;
    }
    Ok(out)
}

fn nibble(c: u8, pos: usize) -> Result<u8, LedgerError> {
    match c {
        b'0'..=b'9' => Ok(c - b'0'),
        b'a'..=b'f' => Ok(c - b'a' + 10),
        b'A'..=b'F' => Ok(c - b'A' + 10),
        _ => Err(LedgerError::InvalidHex(format!("invalid character {:?} at position {pos}", char::from(c)))),
    }
}

/// Serde adapter: a single hash as a hex string.
pub(crate) mod serde_hash {
    use crate::Hash;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(h: &Hash, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&super::hex(h))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Hash, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        super::from_hex(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn hex_round_trip_and_case() {
        let mut h = [0u8; 32];
        for (i, b) in h.iter_mut().enumerate() {
            *b = (i as u8).wrapping_mul(37);
        }
        let s = hex(&h);
        assert_eq!(s.len(), 64);
        assert_eq!(s, s.to_lowercase());
        assert_eq!(from_hex(&s).unwrap(), h);
        assert_eq!(from_hex(&s.to_uppercase()).unwrap(), h);
    }

    #[test]
    fn from_hex_rejects_bad_input() {
        assert!(matches!(from_hex(""), Err(LedgerError::InvalidHex(_))));
        assert!(matches!(from_hex(&"a".repeat(63)), Err(LedgerError::InvalidHex(_))));
        assert!(matches!(from_hex(&"a".repeat(65)), Err(LedgerError::InvalidHex(_))));
        let mut bad = "0".repeat(64);
        bad.replace_range(10..11, "g");
        let err = from_hex(&bad).unwrap_err();
        assert!(err.to_string().contains("position 10"), "{err}");
        // Multi-byte characters must not be split or accepted.
        let mut uni = "0".repeat(62);
        uni.push('é');
        assert!(from_hex(&uni).is_err());
    }

    #[test]
    fn serde_hash_deserializes_hex_and_rejects_garbage() {
        use serde::de::IntoDeserializer;
        use serde::de::value::{Error as DeError, StrDeserializer};
        let h = [0xabu8; 32];
        let s = hex(&h);
        let d: StrDeserializer<'_, DeError> = s.as_str().into_deserializer();
        assert_eq!(serde_hash::deserialize(d).unwrap(), h);
        let d: StrDeserializer<'_, DeError> = "xyz".into_deserializer();
        assert!(serde_hash::deserialize(d).is_err());
    }
}

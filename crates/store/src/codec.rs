//! Event payloads as SQLite stores them: the canonical bytes compressed with zstd
//! against a dictionary trained on events (`dict/events-ID.zdict`,
//! `scripts/train-event-dictionary.sh`). Events are small (about 900 bytes of JSON, most
//! of it the catalog's field names and the same departments' names), so a dictionary
//! is what makes them compress: about 6× here, against 1.5× without one. The leaf
//! stays the hash of the canonical bytes; readers get those back from [`unpack`].
//!
//! A stored payload is either the canonical JSON itself (it starts with `{`: every
//! payload written before compression, and PostgreSQL's) or one zstd frame naming its
//! dictionary and its size. A dictionary is reference data: once events were written
//! with it, it stays here for as long as they may be read.

use std::borrow::Cow;
use std::cell::RefCell;
use std::sync::LazyLock;

use zstd::bulk::{Compressor, Decompressor};
use zstd::dict::{DecoderDictionary, EncoderDictionary};

use crate::{Result, StoreError};

/// zstd's level: 3 compresses an event in a few microseconds; higher levels gain 10 %
/// at four times the cost.
const LEVEL: i32 = 3;
const MAGIC: [u8; 4] = [0x28, 0xB5, 0x2F, 0xFD];
/// The largest payload a frame may claim: far above any event, so a damaged size
/// cannot make a reader allocate gigabytes.
const MAX_PAYLOAD: u64 = 64 << 20;

/// Every dictionary payloads were ever written with, by the ID their frames carry
/// (zstd's private range starts at 32 768). New payloads use the last.
const DICTIONARIES: &[(u32, &[u8])] = &[(32769, include_bytes!("../dict/events-32769.zdict"))];

static ENCODER: LazyLock<Option<(u32, EncoderDictionary<'static>)>> =
    LazyLock::new(|| DICTIONARIES.last().map(|(id, d)| (*id, EncoderDictionary::copy(d, LEVEL))));
static DECODERS: LazyLock<Vec<(u32, DecoderDictionary<'static>)>> =
    LazyLock::new(|| DICTIONARIES.iter().map(|(id, d)| (*id, DecoderDictionary::copy(d))).collect());

thread_local! {
    // contexts are reused: making one costs more than compressing an event
    static COMPRESSOR: RefCell<Option<Compressor<'static>>> = const { RefCell::new(None) };
    static DECOMPRESSORS: RefCell<Vec<(u32, Decompressor<'static>)>> = const { RefCell::new(Vec::new()) };
}

/// The bytes to store for a canonical payload: compressed, or the payload itself when
/// compressing does not make it smaller (or fails: plain bytes are always readable).
pub fn pack(canonical: &[u8]) -> Cow<'_, [u8]> {
    let Some((_, dictionary)) = ENCODER.as_ref() else { return Cow::Borrowed(canonical) };
    let packed = COMPRESSOR.with(|c| {
        let mut c = c.borrow_mut();
        if c.is_none() {
            *c = Compressor::with_prepared_dictionary(dictionary)
                .and_then(|mut made| {
                    // the frame carries the dictionary's ID and the size (both read back
                    // by unpack) but no checksum: the leaf hash already covers the bytes
                    made.set_parameter(zstd::zstd_safe::CParameter::ChecksumFlag(false))?;
                    Ok(made)
                })
                .ok();
        }
        c.as_mut()?.compress(canonical).ok()
    });
    match packed {
        Some(p) if p.len() < canonical.len() => Cow::Owned(p),
        _ => Cow::Borrowed(canonical),
    }
}

/// The canonical bytes of a stored payload.
pub fn unpack(stored: &[u8]) -> Result<Cow<'_, [u8]>> {
    if stored.first() == Some(&b'{') {
        return Ok(Cow::Borrowed(stored));
    }
    let mut out = Vec::new();
    decompress_into(stored, &mut out)?;
    Ok(Cow::Owned(out))
}

/// [`unpack`] into `buf`, reused from call to call (a verification unpacks millions).
pub fn unpack_into<'a>(stored: &'a [u8], buf: &'a mut Vec<u8>) -> Result<&'a [u8]> {
    if stored.first() == Some(&b'{') {
        return Ok(stored);
    }
    decompress_into(stored, buf)?;
    Ok(buf)
}

/// Replaces `out`'s contents with the payload of the zstd frame `stored`.
fn decompress_into(stored: &[u8], out: &mut Vec<u8>) -> Result<()> {
    if !stored.starts_with(&MAGIC) {
        return Err(damaged("neither canonical JSON nor a zstd frame"));
    }
    let id = zstd::zstd_safe::get_dict_id_from_frame(stored).map_or(0, |n| n.get());
    let size = match zstd::zstd_safe::get_frame_content_size(stored) {
        Ok(Some(n)) if n <= MAX_PAYLOAD => n as usize,
        _ => return Err(damaged("its frame does not state a plausible size")),
    };
    let Some((_, dictionary)) = DECODERS.iter().find(|(d, _)| *d == id) else {
        return Err(damaged(&format!("it names dictionary {id}, which this version does not have")));
    };
    out.clear();
    out.reserve(size);
    DECOMPRESSORS.with(|d| {
        let mut d = d.borrow_mut();
        let at = match d.iter().position(|(i, _)| *i == id) {
            Some(at) => at,
            None => {
                let made = Decompressor::with_prepared_dictionary(dictionary)
                    .map_err(|e| damaged(&format!("no decompressor: {e}")))?;
                d.push((id, made));
                d.len() - 1
            }
        };
        d[at].1.decompress_to_buffer(stored, out).map_err(|e| damaged(&e.to_string()))
    })?;
    if out.len() != size {
        return Err(damaged("it decompresses to another size than its frame states"));
    }
    Ok(())
}

/// A payload as a reader wants it: canonical, owned.
pub(crate) fn unpacked(stored: Vec<u8>) -> Result<Vec<u8>> {
    match unpack(&stored)? {
        Cow::Borrowed(_) => Ok(stored),
        Cow::Owned(v) => Ok(v),
    }
}

fn damaged(why: &str) -> StoreError {
    StoreError::Corrupt(format!("a stored event payload cannot be read: {why}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const EVENT_TEXT: &str = r#"{"at":1796700091631,"batch":"b001","fields":{"许可机关":"北京市西城区市场监督管理局","许可类别":"登记"},"item":"admin_licence","key":"京西市监许〔2022〕21607号","kind":"record.created","provider":"北京市数据中心","row":2,"source":"admin_licence.csv","subject":"92110102465130091C","v":1}"#;
    const EVENT: &[u8] = EVENT_TEXT.as_bytes();

    #[test]
    fn an_event_is_stored_smaller_and_read_back_as_it_was() {
        let packed = pack(EVENT);
        assert!(packed.len() * 2 < EVENT.len(), "{} of {}", packed.len(), EVENT.len());
        assert!(packed.starts_with(&MAGIC));
        assert_eq!(unpack(&packed).ok().as_deref(), Some(EVENT));
    }

    #[test]
    fn plain_payloads_are_read_as_they_are() {
        assert!(matches!(unpack(EVENT), Ok(Cow::Borrowed(b)) if b == EVENT));
    }

    #[test]
    fn damaged_or_foreign_bytes_are_an_error_not_a_payload() {
        let packed = pack(EVENT).into_owned();
        assert!(unpack(b"not json").is_err());
        assert!(unpack(&packed[..packed.len() - 3]).is_err());
        // a frame naming a dictionary this version does not have (the ID's bytes follow
        // the magic and the frame header descriptor)
        let mut foreign = packed.clone();
        foreign[5] ^= 0x40;
        assert!(unpack(&foreign).is_err());
        // a byte flipped inside the compressed block: an error, or other bytes (the
        // leaf hash catches those), never a panic
        for i in 6..packed.len() {
            let mut bad = packed.clone();
            bad[i] ^= 0x55;
            if let Ok(out) = unpack(&bad) {
                assert_ne!(out.as_ref(), EVENT, "byte {i}");
            }
        }
    }

    proptest! {
        #[test]
        fn any_payload_comes_back_unchanged(body in "\\{[\\PC]{0,600}", fields in proptest::collection::vec("[\\p{Han}a-z0-9]{1,12}", 0..20)) {
            let payload = format!("{body}{}", fields.join("\",\""));
            let stored = pack(payload.as_bytes());
            let back = unpack(&stored).ok().map(Cow::into_owned);
            prop_assert_eq!(back.as_deref(), Some(payload.as_bytes()));
        }
    }
}

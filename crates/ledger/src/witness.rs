//! Witness cosignatures (C2SP `tlog-cosignature`, `cosignature/v1`) and the request of
//! C2SP `tlog-witness` (`POST /add-checkpoint`): another party countersigns a log's
//! tree head only after checking that it extends the last one it saw, so a log cannot
//! show different histories to different people without a witness noticing.
//!
//! Cosigned message: `cosignature/v1\ntime <unix seconds>\n<checkpoint body>`.
//! Signature line: `— <witness name> <base64(key id (4) || time (8, big-endian) ||
//! Ed25519 signature (64))>`; the key id is computed with algorithm byte 0x04.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use ed25519_dalek::{Signer as _, SigningKey, VerifyingKey};
use sha2::{Digest, Sha256};

use crate::{Hash, LedgerError};

/// Signed-note algorithm byte of a timestamped Ed25519 cosignature.
pub const ALG_COSIGNATURE_V1: u8 = 0x04;
const SIG_PREFIX: &str = "\u{2014} ";
const PRIVATE_KEY_PREFIX: &str = "PRIVATE+KEY+";

fn key_id(name: &str, key: &VerifyingKey) -> u32 {
    let mut h = Sha256::new();
    h.update(name.as_bytes());
    h.update(b"\n");
    h.update([ALG_COSIGNATURE_V1]);
    h.update(key.as_bytes());
    let d = h.finalize();
    u32::from_be_bytes([d[0], d[1], d[2], d[3]])
}

fn message(body: &str, time: u64) -> Vec<u8> {
    format!("cosignature/v1\ntime {time}\n{body}").into_bytes()
}

fn valid_name(name: &str) -> bool {
    !name.is_empty() && !name.chars().any(|c| c.is_whitespace() || c.is_control() || c == '+')
}

/// A witness's signing key.
pub struct WitnessKey {
    name: String,
    key: SigningKey,
    key_id: u32,
}

impl std::fmt::Debug for WitnessKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WitnessKey").field("name", &self.name).finish_non_exhaustive()
    }
}

impl WitnessKey {
    /// A fresh key for the witness named `name` (e.g. `witness.tianjin.example`).
    pub fn generate(name: &str) -> Result<Self, LedgerError> {
        if !valid_name(name) {
            return Err(LedgerError::InvalidOrigin { origin: name.into(), reason: "not a valid key name" });
        }
        let key = SigningKey::generate(&mut rand_core::OsRng);
        Ok(Self { name: name.into(), key_id: key_id(name, &key.verifying_key()), key })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// `PRIVATE+KEY+<name>+<key id>+<base64(0x04 || seed)>\n`.
    pub fn to_file_bytes(&self) -> Vec<u8> {
        let mut raw = vec![ALG_COSIGNATURE_V1];
        raw.extend_from_slice(self.key.as_bytes());
        format!("{PRIVATE_KEY_PREFIX}{}+{:08x}+{}\n", self.name, self.key_id, B64.encode(&raw)).into_bytes()
    }

    pub fn from_file_bytes(b: &[u8]) -> Result<Self, LedgerError> {
        let bad = |m: &str| LedgerError::InvalidKeyFile(m.to_owned());
        let text = std::str::from_utf8(b).map_err(|_| bad("not UTF-8"))?.trim();
        let rest = text.strip_prefix(PRIVATE_KEY_PREFIX).ok_or_else(|| bad("does not start with PRIVATE+KEY+"))?;
        let mut parts = rest.splitn(3, '+');
        let (Some(name), Some(_), Some(b64)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(bad("expected PRIVATE+KEY+<name>+<key id>+<key>"));
        };
        let raw = B64.decode(b64).map_err(|_| bad("key is not base64"))?;
        let (alg, seed) = raw.split_first().ok_or_else(|| bad("key is empty"))?;
        if *alg != ALG_COSIGNATURE_V1 {
            return Err(LedgerError::UnsupportedAlgorithm(*alg));
        }
        let seed: &[u8; 32] = seed.try_into().map_err(|_| bad("the seed must be 32 bytes"))?;
        let key = SigningKey::from_bytes(seed);
        Ok(Self { name: name.into(), key_id: key_id(name, &key.verifying_key()), key })
    }

    pub fn verifier(&self) -> WitnessVerifier {
        WitnessVerifier { name: self.name.clone(), key: self.key.verifying_key(), key_id: self.key_id }
    }

    /// The cosignature line over a checkpoint's body at `time` (unix seconds).
    pub fn cosign(&self, body: &str, time: u64) -> String {
        let sig = self.key.sign(&message(body, time));
        let mut blob = Vec::with_capacity(76);
        blob.extend_from_slice(&self.key_id.to_be_bytes());
        blob.extend_from_slice(&time.to_be_bytes());
        blob.extend_from_slice(&sig.to_bytes());
        format!("{SIG_PREFIX}{} {}", self.name, B64.encode(blob))
    }
}

/// A witness's public key, `<name>+<key id>+<base64(0x04 || public key)>`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WitnessVerifier {
    name: String,
    key: VerifyingKey,
    key_id: u32,
}

impl WitnessVerifier {
    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn to_text(&self) -> String {
        let mut raw = vec![ALG_COSIGNATURE_V1];
        raw.extend_from_slice(self.key.as_bytes());
        format!("{}+{:08x}+{}", self.name, self.key_id, B64.encode(raw))
    }

    pub fn from_text(s: &str) -> Result<Self, LedgerError> {
        let bad = |m: String| LedgerError::InvalidVerifierKey(m);
        let mut parts = s.trim().splitn(3, '+');
        let (Some(name), Some(id), Some(b64)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(bad("expected <name>+<key id>+<key>".into()));
        };
        if !valid_name(name) {
            return Err(bad(format!("invalid witness name {name:?}")));
        }
        let raw = B64.decode(b64).map_err(|e| bad(format!("key is not base64: {e}")))?;
        let (alg, pk) = raw.split_first().ok_or_else(|| bad("key is empty".into()))?;
        if *alg != ALG_COSIGNATURE_V1 {
            return Err(LedgerError::UnsupportedAlgorithm(*alg));
        }
        let pk: &[u8; 32] = pk.try_into().map_err(|_| bad("the public key must be 32 bytes".into()))?;
        let key = VerifyingKey::from_bytes(pk).map_err(|_| bad("not an Ed25519 public key".into()))?;
        let actual = key_id(name, &key);
        if format!("{actual:08x}") != id {
            return Err(bad(format!("key id {id} does not match the key ({actual:08x})")));
        }
        Ok(Self { name: name.into(), key, key_id: actual })
    }

    /// Finds this witness's cosignature among the signature lines of `note` (a signed
    /// checkpoint) and checks it over the note's body; returns its time (unix seconds).
    pub fn verify_cosigned(&self, note: &str) -> Result<u64, LedgerError> {
        let bad = |m: &str| LedgerError::MalformedNote(m.into());
        let split = note.rfind("\n\n").ok_or_else(|| bad("no blank line before the signatures"))?;
        let body = &note[..=split];
        for line in note[split + 2..].lines() {
            let Some(rest) = line.strip_prefix(SIG_PREFIX) else { continue };
            let Some((name, b64)) = rest.split_once(' ') else { continue };
            if name != self.name {
                continue;
            }
            let Ok(blob) = B64.decode(b64) else { continue };
            if blob.len() != 76 || blob[..4] != self.key_id.to_be_bytes() {
                continue;
            }
            let mut t = [0u8; 8];
            t.copy_from_slice(&blob[4..12]);
            let time = u64::from_be_bytes(t);
            let mut s = [0u8; 64];
            s.copy_from_slice(&blob[12..]);
            let sig = ed25519_dalek::Signature::from_bytes(&s);
            return self
                .key
                .verify_strict(&message(body, time), &sig)
                .map(|_| time)
                .map_err(|_| LedgerError::BadSignature { origin: self.name.clone(), key_id: self.key_id });
        }
        Err(LedgerError::NoSignature { origin: self.name.clone(), key_id: self.key_id })
    }
}

/// The body of a `tlog-witness` `add-checkpoint` request: the size the witness is
/// believed to hold, the consistency proof from it, and the signed checkpoint.
pub fn add_checkpoint_request(old_size: u64, proof: &[Hash], checkpoint: &str) -> String {
    let mut out = format!("old {old_size}\n");
    for h in proof {
        out.push_str(&B64.encode(h));
        out.push('\n');
    }
    out.push('\n');
    out.push_str(checkpoint);
    out
}

/// Parses an `add-checkpoint` request: the old size, the proof, the checkpoint note.
pub fn parse_add_checkpoint(body: &str) -> Result<(u64, Vec<Hash>, &str), String> {
    let (head, checkpoint) = body.split_once("\n\n").ok_or("no blank line before the checkpoint")?;
    let mut lines = head.lines();
    let old = lines
        .next()
        .and_then(|l| l.strip_prefix("old "))
        .and_then(|n| n.parse::<u64>().ok())
        .ok_or("the first line must be \"old <size>\"")?;
    let proof = lines
        .map(|l| B64.decode(l).ok().and_then(|v| Hash::try_from(v).ok()).ok_or("a proof line is not a base64 hash"))
        .collect::<Result<Vec<_>, _>>()?;
    if proof.len() > 63 {
        return Err("the proof is too long".into());
    }
    Ok((old, proof, checkpoint))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::{LedgerKey, TreeHead};

    #[test]
    fn cosignatures_verify_only_for_their_body_and_key() {
        let log = LedgerKey::generate("xinyong.beijing/ledger");
        let head = TreeHead { size: 5, root: [7; 32], timestamp_ms: 1 };
        let note = log.sign(&head).checkpoint;
        let w = WitnessKey::generate("witness.tianjin").unwrap();
        let body = &note[..=note.rfind("\n\n").unwrap()];
        let cosigned = format!("{note}{}\n", w.cosign(body, 1_800_000_000));
        let v = WitnessVerifier::from_text(&w.verifier().to_text()).unwrap();
        assert_eq!(v.verify_cosigned(&cosigned).unwrap(), 1_800_000_000);
        // the log's own signature still verifies beside it
        assert_eq!(log.verifier().verify(&cosigned).unwrap(), head);
        // another body, another witness: refused
        let other = log.sign(&TreeHead { size: 6, ..head }).checkpoint;
        let moved = format!("{other}{}\n", w.cosign(body, 1_800_000_000));
        assert!(v.verify_cosigned(&moved).is_err());
        let stranger = WitnessKey::generate("witness.tianjin").unwrap().verifier();
        assert!(stranger.verify_cosigned(&cosigned).is_err());
        let again = WitnessKey::from_file_bytes(&w.to_file_bytes()).unwrap();
        assert_eq!(again.verifier(), w.verifier());
    }

    #[test]
    fn add_checkpoint_requests_round_trip() {
        let proof = [[1u8; 32], [2u8; 32]];
        let req = add_checkpoint_request(9, &proof, "origin\n10\nroot\n\n— sig\n");
        let (old, p, cp) = parse_add_checkpoint(&req).unwrap();
        assert_eq!((old, p.as_slice(), cp), (9, &proof[..], "origin\n10\nroot\n\n— sig\n"));
        assert!(parse_add_checkpoint("old x\n\nbody").is_err());
        assert!(parse_add_checkpoint("old 1\nnot base64!\n\nbody").is_err());
    }
}

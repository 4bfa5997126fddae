//! Signed tree heads as C2SP `tlog-checkpoint` bodies inside C2SP
//! `signed-note`s, with keys in the text formats of Go's
//! `golang.org/x/mod/sumdb/note`.
//!
//! Checkpoint written by [`LedgerKey::sign`]:
//!
//! ```text
//! <origin>
//! <size, decimal>
//! <root, base64 std>
//! timestamp <unix milliseconds>
//!
//! — <origin> <base64(key id (4 bytes, big-endian) || ed25519 signature (64 bytes))>
//! ```
//!
//! The signature covers the four body lines including the final newline.
//!
//! Key file ([`LedgerKey::to_file_bytes`]), identical to Go's signer key so the
//! key can be used by Go tooling too:
//! `PRIVATE+KEY+<origin>+<key id, 8 hex>+<base64(0x01 || 32-byte seed)>\n`.
//!
//! Verifier key ([`LedgerVerifier::to_text`]), identical to Go's verifier key:
//! `<origin>+<key id, 8 hex>+<base64(0x01 || 32-byte public key)>`.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use sha2::{Digest, Sha256};

use crate::hexfmt::serde_hash;
use crate::{Hash, LedgerError, TreeHash};

/// Signed-note algorithm id of Ed25519. Another scheme gets its own id, which also
/// changes the key id, so keys can never be confused.
pub const ALG_ED25519: u8 = 0x01;
/// Algorithm id of SM2 (GM/T 0003, SM3 digest, the default distinguishing id of GM/T
/// 0009): not assigned by C2SP signed-note, which assigns 0x01–0x06; chosen outside
/// that range so no assignment can collide with it.
pub const ALG_SM2: u8 = 0x53;
/// The SM2 distinguishing identifier (用户标识) of GM/T 0009-2012's default.
const SM2_DISTID: &str = "1234567812345678";

/// A ledger's signature scheme, and with it the hash of its tree: Ed25519 with
/// SHA-256, or SM2 with SM3 (国密). Chosen at `init`; named in every key (its
/// algorithm byte, part of the key id), so every signature and head names it too.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Algorithm {
    #[default]
    Ed25519,
    Sm2,
}

impl Algorithm {
    /// The signed-note algorithm byte.
    pub fn id(self) -> u8 {
        match self {
            Algorithm::Ed25519 => ALG_ED25519,
            Algorithm::Sm2 => ALG_SM2,
        }
    }

    pub fn from_id(id: u8) -> Result<Self, LedgerError> {
        match id {
            ALG_ED25519 => Ok(Algorithm::Ed25519),
            ALG_SM2 => Ok(Algorithm::Sm2),
            other => Err(LedgerError::UnsupportedAlgorithm(other)),
        }
    }

    /// The tree's hash under this scheme.
    pub fn tree_hash(self) -> TreeHash {
        match self {
            Algorithm::Ed25519 => TreeHash::Sha256,
            Algorithm::Sm2 => TreeHash::Sm3,
        }
    }

    /// `ed25519` or `sm2`, as `init --algorithm` takes it.
    pub fn as_str(self) -> &'static str {
        match self {
            Algorithm::Ed25519 => "ed25519",
            Algorithm::Sm2 => "sm2",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "ed25519" => Some(Algorithm::Ed25519),
            "sm2" | "sm2-sm3" | "sm" => Some(Algorithm::Sm2),
            _ => None,
        }
    }

    /// How answers name it: `Ed25519 / SHA-256` or `SM2 / SM3`.
    pub fn name(self) -> &'static str {
        match self {
            Algorithm::Ed25519 => "Ed25519 / SHA-256",
            Algorithm::Sm2 => "SM2 / SM3",
        }
    }
}

/// The secret half of a key, by scheme.
enum Secret {
    Ed25519(ed25519_dalek::SigningKey),
    Sm2 { key: Box<sm2::dsa::SigningKey>, secret: [u8; 32] },
}

impl Secret {
    fn algorithm(&self) -> Algorithm {
        match self {
            Secret::Ed25519(_) => Algorithm::Ed25519,
            Secret::Sm2 { .. } => Algorithm::Sm2,
        }
    }

    fn secret_bytes(&self) -> [u8; 32] {
        match self {
            Secret::Ed25519(k) => k.to_bytes(),
            Secret::Sm2 { secret, .. } => *secret,
        }
    }

    fn public(&self) -> Public {
        match self {
            Secret::Ed25519(k) => Public::Ed25519(k.verifying_key()),
            Secret::Sm2 { key, .. } => Public::Sm2(Box::new(key.verifying_key().clone())),
        }
    }

    /// 64 bytes: Ed25519's signature, or SM2's r ‖ s.
    fn sign(&self, message: &[u8]) -> [u8; 64] {
        use ed25519_dalek::Signer as _;
        match self {
            Secret::Ed25519(k) => k.sign(message).to_bytes(),
            Secret::Sm2 { key, .. } => {
                let sig: sm2::dsa::Signature = sm2::dsa::signature::Signer::sign(key.as_ref(), message);
                let mut out = [0u8; 64];
                out.copy_from_slice(&sig.to_bytes());
                out
            }
        }
    }

    fn from_bytes(alg: Algorithm, b: &[u8]) -> Result<Self, LedgerError> {
        let bad = |m: String| LedgerError::InvalidKeyFile(m);
        let seed: &[u8; 32] = b.try_into().map_err(|_| bad(format!("the secret must be 32 bytes, got {}", b.len())))?;
        match alg {
            Algorithm::Ed25519 => Ok(Secret::Ed25519(ed25519_dalek::SigningKey::from_bytes(seed))),
            Algorithm::Sm2 => {
                let sk = sm2::SecretKey::from_slice(seed).map_err(|_| bad("not an SM2 secret key".into()))?;
                let key =
                    sm2::dsa::SigningKey::new(SM2_DISTID, &sk).map_err(|_| bad("not an SM2 secret key".into()))?;
                Ok(Secret::Sm2 { key: Box::new(key), secret: *seed })
            }
        }
    }

    fn generate(alg: Algorithm) -> Self {
        match alg {
            Algorithm::Ed25519 => Secret::Ed25519(ed25519_dalek::SigningKey::generate(&mut rand_core::OsRng)),
            Algorithm::Sm2 => loop {
                let sk = sm2::SecretKey::random(&mut rand_core::OsRng);
                let mut secret = [0u8; 32];
                secret.copy_from_slice(&sk.to_bytes());
                // a scalar the distinguishing-id hash cannot use is drawn again
                if let Ok(key) = sm2::dsa::SigningKey::new(SM2_DISTID, &sk) {
                    break Secret::Sm2 { key: Box::new(key), secret };
                }
            },
        }
    }
}

/// The public half of a key, by scheme.
#[derive(Clone, Debug)]
enum Public {
    Ed25519(ed25519_dalek::VerifyingKey),
    Sm2(Box<sm2::dsa::VerifyingKey>),
}

// keys are equal when scheme and encoded point are (SM2's key type has no equality)
impl PartialEq for Public {
    fn eq(&self, other: &Self) -> bool {
        self.algorithm() == other.algorithm() && self.bytes() == other.bytes()
    }
}

impl Eq for Public {}

impl Public {
    fn algorithm(&self) -> Algorithm {
        match self {
            Public::Ed25519(_) => Algorithm::Ed25519,
            Public::Sm2(_) => Algorithm::Sm2,
        }
    }

    /// Ed25519: 32 bytes; SM2: the SEC1 encoding of the point.
    fn bytes(&self) -> Vec<u8> {
        match self {
            Public::Ed25519(k) => k.as_bytes().to_vec(),
            Public::Sm2(k) => k.to_sec1_bytes().to_vec(),
        }
    }

    fn from_bytes(alg: Algorithm, b: &[u8]) -> Result<Self, String> {
        match alg {
            Algorithm::Ed25519 => {
                let pk: &[u8; 32] =
                    b.try_into().map_err(|_| format!("Ed25519 public key must be 32 bytes, got {}", b.len()))?;
                ed25519_dalek::VerifyingKey::from_bytes(pk)
                    .map(Public::Ed25519)
                    .map_err(|_| "not a valid Ed25519 public key".into())
            }
            Algorithm::Sm2 => sm2::dsa::VerifyingKey::from_sec1_bytes(SM2_DISTID, b)
                .map(|k| Public::Sm2(Box::new(k)))
                .map_err(|_| "not a valid SM2 public key".into()),
        }
    }

    fn verify(&self, message: &[u8], sig: &[u8]) -> bool {
        match self {
            Public::Ed25519(k) => <&[u8; 64]>::try_from(sig)
                .map(ed25519_dalek::Signature::from_bytes)
                .is_ok_and(|sig| k.verify_strict(message, &sig).is_ok()),
            Public::Sm2(k) => sm2::dsa::Signature::try_from(sig)
                .is_ok_and(|sig| sm2::dsa::signature::Verifier::verify(k.as_ref(), message, &sig).is_ok()),
        }
    }
}

/// Signature lines start with an em dash and a space (signed-note spec).
const SIG_PREFIX: &str = "\u{2014} ";
const PRIVATE_KEY_PREFIX: &str = "PRIVATE+KEY+";
/// Same limits as Go's note package, to bound work on hostile input.
const MAX_NOTE_SIZE: usize = 1_000_000;
const MAX_SIGNATURES: usize = 100;
const TIMESTAMP_PREFIX: &str = "timestamp ";

/// A tree head: what the log commits to at one point in time.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct TreeHead {
    /// Number of leaves.
    pub size: u64,
    /// RFC 6962 root hash; hex string in serde form.
    #[serde(with = "serde_hash")]
    pub root: Hash,
    /// Unix time in milliseconds at which the head was produced.
    pub timestamp_ms: i64,
}

impl TreeHead {
    /// The checkpoint body (the signed text) of this head for `origin`.
    pub fn checkpoint_body(&self, origin: &str) -> String {
        format!("{origin}\n{}\n{}\n{TIMESTAMP_PREFIX}{}\n", self.size, B64.encode(self.root), self.timestamp_ms)
    }
}

/// A tree head together with its signed checkpoint text.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SignedHead {
    pub head: TreeHead,
    /// The full signed note: checkpoint body, blank line, signature line.
    pub checkpoint: String,
}

/// The signing key of one ledger (Ed25519 or SM2), created at init and kept in the
/// data directory.
pub struct LedgerKey {
    origin: String,
    key: Secret,
    key_id: u32,
}

impl std::fmt::Debug for LedgerKey {
    // Never print the secret key.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LedgerKey")
            .field("origin", &self.origin)
            .field("algorithm", &self.key.algorithm())
            .field("key_id", &format_args!("{:08x}", self.key_id))
            .finish_non_exhaustive()
    }
}

impl LedgerKey {
    /// Creates a fresh key for the log named `origin` (e.g.
    /// `"xinyong.local/ledger"`), using the operating system's RNG.
    ///
    /// # Panics
    ///
    /// If `origin` is not a valid signed-note key name (empty, or contains
    /// whitespace, control characters or `+`). Use
    /// [`LedgerKey::try_generate`] for origins that come from configuration.
    pub fn generate(origin: &str) -> Self {
        match Self::try_generate(origin) {
            Ok(k) => k,
            Err(e) => panic!("{e}"),
        }
    }

    /// Like [`LedgerKey::generate`] but reports an invalid origin as an error.
    pub fn try_generate(origin: &str) -> Result<Self, LedgerError> {
        Self::try_generate_with(origin, Algorithm::Ed25519)
    }

    /// A fresh key of `algorithm` for the log named `origin`.
    pub fn try_generate_with(origin: &str, algorithm: Algorithm) -> Result<Self, LedgerError> {
        check_origin(origin)?;
        Ok(Self::from_parts(origin, Secret::generate(algorithm)))
    }

    /// Builds a key from a 32-byte Ed25519 seed (e.g. from an HSM export).
    pub fn from_seed(origin: &str, seed: &[u8; 32]) -> Result<Self, LedgerError> {
        Self::from_secret(origin, Algorithm::Ed25519, seed)
    }

    /// Builds a key of `algorithm` from its 32-byte secret (Ed25519 seed, SM2 scalar).
    pub fn from_secret(origin: &str, algorithm: Algorithm, secret: &[u8; 32]) -> Result<Self, LedgerError> {
        check_origin(origin)?;
        Ok(Self::from_parts(origin, Secret::from_bytes(algorithm, secret)?))
    }

    fn from_parts(origin: &str, key: Secret) -> Self {
        let key_id = key_id(origin, &key.public());
        Self { origin: origin.to_owned(), key, key_id }
    }

    /// The signature scheme (and so the tree hash) of this key's ledger.
    pub fn algorithm(&self) -> Algorithm {
        self.key.algorithm()
    }

    /// The hash of this key's ledger tree.
    pub fn tree_hash(&self) -> TreeHash {
        self.key.algorithm().tree_hash()
    }

    /// Key file contents:
    /// `PRIVATE+KEY+<origin>+<key id hex>+<base64(alg || secret)>\n`
    /// (Go `note` signer key format; alg 0x01 Ed25519, 0x53 SM2). Secret: store with
    /// mode 0600.
    pub fn to_file_bytes(&self) -> Vec<u8> {
        let mut raw = Vec::with_capacity(33);
        raw.push(self.key.algorithm().id());
        raw.extend_from_slice(&self.key.secret_bytes());
        let text = format!("{PRIVATE_KEY_PREFIX}{}+{:08x}+{}\n", self.origin, self.key_id, B64.encode(&raw));
        raw.fill(0);
        text.into_bytes()
    }

    /// Parses [`LedgerKey::to_file_bytes`] (surrounding whitespace ignored) and
    /// checks that the key id matches the key.
    pub fn from_file_bytes(b: &[u8]) -> Result<Self, LedgerError> {
        let bad = |msg: &str| LedgerError::InvalidKeyFile(msg.to_owned());
        let text = std::str::from_utf8(b).map_err(|_| bad("not UTF-8"))?.trim();
        let rest = text.strip_prefix(PRIVATE_KEY_PREFIX).ok_or_else(|| bad("does not start with PRIVATE+KEY+"))?;
        // The origin cannot contain '+', the base64 part can.
        let mut parts = rest.splitn(3, '+');
        let (Some(origin), Some(id_hex), Some(b64)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(bad("expected PRIVATE+KEY+<origin>+<key id>+<key>"));
        };
        check_origin(origin)?;
        let claimed = parse_key_id(id_hex).map_err(|e| bad(&e))?;
        let raw = B64.decode(b64).map_err(|e| LedgerError::InvalidKeyFile(format!("key is not base64: {e}")))?;
        let (alg, seed) = raw.split_first().ok_or_else(|| bad("key is empty"))?;
        let key = Self::from_parts(origin, Secret::from_bytes(Algorithm::from_id(*alg)?, seed)?);
        if key.key_id != claimed {
            return Err(LedgerError::KeyIdMismatch { origin: origin.to_owned(), claimed, actual: key.key_id });
        }
        Ok(key)
    }

    /// The log name this key signs for.
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// Signed-note key id.
    pub fn key_id(&self) -> u32 {
        self.key_id
    }

    /// The public half, to hand to auditors.
    pub fn verifier(&self) -> LedgerVerifier {
        LedgerVerifier { origin: self.origin.clone(), key: self.key.public(), key_id: self.key_id }
    }

    /// Signs `head` as a checkpoint of this log.
    pub fn sign(&self, head: &TreeHead) -> SignedHead {
        SignedHead { head: head.clone(), checkpoint: self.sign_note(&head.checkpoint_body(&self.origin)) }
    }

    /// Wraps arbitrary note text (ending in a newline) in a signed note under this
    /// key's name: what a credit report or an exchange batch is signed as.
    pub fn sign_note(&self, text: &str) -> String {
        format!("{text}\n{}\n", self.signature_line(&self.origin, text.as_bytes()))
    }

    /// A detached signature line `— <name> <base64(key id || signature)>` over
    /// `message`, for signatures that sit beside a note rather than under it (a
    /// report's signature over its PDF file). `name` is a label, not a key lookup: the
    /// key id is this key's.
    pub fn signature_line(&self, name: &str, message: &[u8]) -> String {
        let sig = self.key.sign(message);
        let mut blob = Vec::with_capacity(SIGNATURE_BLOB_LEN);
        blob.extend_from_slice(&self.key_id.to_be_bytes());
        blob.extend_from_slice(&sig);
        format!("{SIG_PREFIX}{name} {}", B64.encode(blob))
    }

    /// Length in bytes of the base64 part of a signature line of this key: a
    /// placeholder of this length can be filled in place after the fact.
    pub fn signature_b64_len(&self) -> usize {
        SIGNATURE_BLOB_LEN.div_ceil(3) * 4
    }
}

/// Key id (4 bytes) and a signature (64 bytes: Ed25519, or SM2's r ‖ s).
const SIGNATURE_BLOB_LEN: usize = 68;

/// Public half: origin + public key; text form like Go's note verifier key
/// `"<origin>+<keyid hex 8>+<base64(alg || pubkey)>"`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LedgerVerifier {
    origin: String,
    key: Public,
    key_id: u32,
}

impl LedgerVerifier {
    /// The signature scheme (and so the tree hash) of the ledger this key verifies.
    pub fn algorithm(&self) -> Algorithm {
        self.key.algorithm()
    }

    /// The hash of that ledger's tree.
    pub fn tree_hash(&self) -> TreeHash {
        self.key.algorithm().tree_hash()
    }

    /// `<origin>+<key id hex>+<base64(alg || public key)>`.
    pub fn to_text(&self) -> String {
        let mut raw = Vec::with_capacity(66);
        raw.push(self.key.algorithm().id());
        raw.extend_from_slice(&self.key.bytes());
        format!("{}+{:08x}+{}", self.origin, self.key_id, B64.encode(raw))
    }

    /// Parses [`LedgerVerifier::to_text`] (surrounding whitespace ignored) and
    /// checks that the key id matches the key.
    pub fn from_text(s: &str) -> Result<Self, LedgerError> {
        let bad = |msg: String| LedgerError::InvalidVerifierKey(msg);
        let mut parts = s.trim().splitn(3, '+');
        let (Some(origin), Some(id_hex), Some(b64)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(bad("expected <origin>+<key id>+<key>".into()));
        };
        check_origin(origin)?;
        let claimed = parse_key_id(id_hex).map_err(bad)?;
        let raw = B64.decode(b64).map_err(|e| bad(format!("key is not base64: {e}")))?;
        let (alg, pk) = raw.split_first().ok_or_else(|| bad("key is empty".into()))?;
        let key = Public::from_bytes(Algorithm::from_id(*alg)?, pk).map_err(bad)?;
        let actual = key_id(origin, &key);
        if actual != claimed {
            return Err(LedgerError::KeyIdMismatch { origin: origin.to_owned(), claimed, actual });
        }
        Ok(Self { origin: origin.to_owned(), key, key_id: actual })
    }

    /// The log name this key verifies.
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// Signed-note key id.
    pub fn key_id(&self) -> u32 {
        self.key_id
    }

    /// Verifies a checkpoint signed by this key and returns its tree head.
    ///
    /// Requires a well-formed signed note with at least one signature line
    /// by this key (matching name and key id), every such line valid, and a
    /// body exactly as [`LedgerKey::sign`] writes it for this origin.
    /// Signature lines of other keys (e.g. witness cosignatures) are
    /// skipped, as the signed-note spec prescribes.
    pub fn verify(&self, checkpoint: &str) -> Result<TreeHead, LedgerError> {
        let body = self.open_note(checkpoint)?;
        self.parse_checkpoint(body)
    }

    /// Checks a detached signature line made by [`LedgerKey::signature_line`] with
    /// label `name` over `message`.
    pub fn verify_signature_line(&self, name: &str, line: &str, message: &[u8]) -> Result<(), LedgerError> {
        let bad = |m: String| LedgerError::MalformedNote(m);
        let rest =
            line.strip_prefix(SIG_PREFIX).ok_or_else(|| bad("signature line does not start with \"— \"".into()))?;
        let (label, b64) = rest.split_once(' ').ok_or_else(|| bad("signature line has no signature".into()))?;
        if label != name {
            return Err(bad(format!("signature line is labelled {label:?}, expected {name:?}")));
        }
        let blob = B64.decode(b64).map_err(|e| bad(format!("signature is not base64: {e}")))?;
        let Some((id, sig)) = blob.split_first_chunk::<4>() else {
            return Err(bad("signature is too short".into()));
        };
        if u32::from_be_bytes(*id) != self.key_id {
            return Err(LedgerError::NoSignature { origin: self.origin.clone(), key_id: self.key_id });
        }
        if !self.key.verify(message, sig) {
            return Err(LedgerError::BadSignature { origin: self.origin.clone(), key_id: self.key_id });
        }
        Ok(())
    }

    /// Verifies a signed note of any text signed by this key (a report, an exchange
    /// batch) and returns the signed text, final newline included.
    pub fn open_note<'a>(&self, msg: &'a str) -> Result<&'a str, LedgerError> {
        let bad = |m: String| LedgerError::MalformedNote(m);
        if msg.len() > MAX_NOTE_SIZE {
            return Err(bad(format!("note is {} bytes, limit is {MAX_NOTE_SIZE}", msg.len())));
        }
        if let Some((pos, c)) = msg.char_indices().find(|&(_, c)| c.is_control() && c != '\n') {
            return Err(bad(format!("control character {c:?} at byte {pos}")));
        }
        let split = msg.rfind("\n\n").ok_or_else(|| bad("no blank line before the signatures".into()))?;
        let text = &msg[..=split];
        let sigs = &msg[split + 2..];
        let Some(sigs) = sigs.strip_suffix('\n') else {
            return Err(bad("signature block must end with a newline".into()));
        };
        let mut verified = false;
        for (i, line) in sigs.split('\n').enumerate() {
            if i >= MAX_SIGNATURES {
                return Err(bad(format!("more than {MAX_SIGNATURES} signature lines")));
            }
            let rest = line
                .strip_prefix(SIG_PREFIX)
                .ok_or_else(|| bad(format!("signature line {} does not start with \"— \"", i + 1)))?;
            let (name, b64) =
                rest.split_once(' ').ok_or_else(|| bad(format!("signature line {} has no signature", i + 1)))?;
            if !is_valid_name(name) {
                return Err(bad(format!("signature line {} has an invalid key name", i + 1)));
            }
            let blob = B64.decode(b64).map_err(|e| bad(format!("signature line {} is not base64: {e}", i + 1)))?;
            let Some((id, sig)) = blob.split_first_chunk::<4>() else {
                return Err(bad(format!("signature line {} is too short", i + 1)));
            };
            if name != self.origin || u32::from_be_bytes(*id) != self.key_id {
                continue; // someone else's signature, e.g. a witness
            }
            if !self.key.verify(text.as_bytes(), sig) {
                return Err(LedgerError::BadSignature { origin: self.origin.clone(), key_id: self.key_id });
            }
            verified = true;
        }
        if !verified {
            return Err(LedgerError::NoSignature { origin: self.origin.clone(), key_id: self.key_id });
        }
        Ok(text)
    }

    /// Parses a checkpoint body; only the exact canonical form is accepted.
    fn parse_checkpoint(&self, body: &str) -> Result<TreeHead, LedgerError> {
        let bad = |m: String| LedgerError::MalformedCheckpoint(m);
        let lines: Vec<&str> = body.strip_suffix('\n').unwrap_or(body).split('\n').collect();
        let [origin, size, root, timestamp] = lines.as_slice() else {
            return Err(bad(format!("expected 4 lines (origin, size, root hash, timestamp), got {}", lines.len())));
        };
        if *origin != self.origin {
            return Err(LedgerError::OriginMismatch { expected: self.origin.clone(), found: (*origin).to_owned() });
        }
        let size: u64 = size.parse().map_err(|_| bad(format!("tree size {size:?} is not a decimal number")))?;
        let root: Hash = B64
            .decode(root)
            .ok()
            .and_then(|v| <Hash>::try_from(v).ok())
            .ok_or_else(|| bad(format!("root {root:?} is not a base64 32-byte hash")))?;
        let timestamp_ms: i64 = timestamp
            .strip_prefix(TIMESTAMP_PREFIX)
            .ok_or_else(|| bad(format!("line 4 {timestamp:?} is not \"timestamp <ms>\"")))?
            .parse()
            .map_err(|_| bad(format!("timestamp in {timestamp:?} is not a decimal number")))?;
        let head = TreeHead { size, root, timestamp_ms };
        // Rejects leading zeros, '+' signs, missing final newline and other
        // alternative spellings, so one head has exactly one checkpoint text.
        if head.checkpoint_body(&self.origin) != body {
            return Err(bad("checkpoint is not in canonical form".into()));
        }
        Ok(head)
    }
}

/// Key id of signed-note: the first 4 bytes of
/// `SHA-256(name || "\n" || alg || public key)`, big-endian.
fn key_id(origin: &str, key: &Public) -> u32 {
    let mut h = Sha256::new();
    h.update(origin.as_bytes());
    h.update(b"\n");
    h.update([key.algorithm().id()]);
    h.update(key.bytes());
    let d = h.finalize();
    u32::from_be_bytes([d[0], d[1], d[2], d[3]])
}

/// Key names as Go's note package allows them, minus control characters
/// (which a note may not contain anyway).
fn is_valid_name(name: &str) -> bool {
    !name.is_empty() && !name.chars().any(|c| c.is_whitespace() || c.is_control() || c == '+')
}

fn check_origin(origin: &str) -> Result<(), LedgerError> {
    if is_valid_name(origin) {
        return Ok(());
    }
    Err(LedgerError::InvalidOrigin {
        origin: origin.to_owned(),
        reason: if origin.is_empty() {
            "it is empty"
        } else {
            "it must not contain whitespace, control characters or '+'"
        },
    })
}

/// Exactly 8 lowercase hex digits, as Go writes them with `%08x`.
fn parse_key_id(s: &str) -> Result<u32, String> {
    if s.len() != 8 || !s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
        return Err(format!("key id {s:?} is not 8 lowercase hex digits"));
    }
    u32::from_str_radix(s, 16).map_err(|e| format!("key id {s:?}: {e}"))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::{Frontier, leaf_hash};

    const ORIGIN: &str = "xinyong.local/ledger";

    // Known answer from golang.org/x/mod/sumdb/note (package documentation).
    const GO_SKEY: &str = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz";
    const GO_VKEY: &str = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
    const GO_TEXT: &str = "If you think cryptography is the answer to your problem,\n\
                           then you don't know what your problem is.\n";
    const GO_NOTE: &str = "If you think cryptography is the answer to your problem,\n\
        then you don't know what your problem is.\n\
        \n\
        \u{2014} PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n";

    // Example of the C2SP signed-note specification.
    const SPEC_VKEY: &str = "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k";
    const SPEC_NOTE: &str = "This is an example message.\n\n\u{2014} example.com/foo \
        Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3mFXmRKuwHjG1Yu72IneyaQM=\n";

    fn head() -> TreeHead {
        let mut f = Frontier::new();
        for i in 0u64..1234 {
            f.push(leaf_hash(&i.to_be_bytes()));
        }
        TreeHead { size: f.size(), root: f.root(), timestamp_ms: 1_735_689_600_123 }
    }

    fn sig_line(checkpoint: &str) -> &str {
        checkpoint.rsplit_once("\n\n").unwrap().1
    }

    #[test]
    fn notes_and_detached_lines_verify_only_unaltered() {
        let key = LedgerKey::generate(ORIGIN);
        let v = key.verifier();
        let note = key.sign_note("report\n{\"a\":1}\n");
        assert_eq!(v.open_note(&note).unwrap(), "report\n{\"a\":1}\n");
        assert!(v.open_note(&note.replace("\"a\":1", "\"a\":2")).is_err());
        let line = key.signature_line("x/pdf", b"bytes");
        assert_eq!(line.rsplit_once(' ').unwrap().1.len(), key.signature_b64_len());
        v.verify_signature_line("x/pdf", &line, b"bytes").unwrap();
        assert!(v.verify_signature_line("x/pdf", &line, b"bytez").is_err());
        assert!(v.verify_signature_line("y/pdf", &line, b"bytes").is_err());
        let other = LedgerKey::generate(ORIGIN).verifier();
        assert!(other.verify_signature_line("x/pdf", &line, b"bytes").is_err());
    }

    #[test]
    fn go_note_known_answer() {
        let key = LedgerKey::from_file_bytes(GO_SKEY.as_bytes()).unwrap();
        assert_eq!(key.origin(), "PeterNeumann");
        assert_eq!(key.key_id(), 0xc74f20a3);
        assert_eq!(key.verifier().to_text(), GO_VKEY);
        assert_eq!(String::from_utf8(key.to_file_bytes()).unwrap(), format!("{GO_SKEY}\n"));
        assert_eq!(key.sign_note(GO_TEXT), GO_NOTE);
        let v = LedgerVerifier::from_text(GO_VKEY).unwrap();
        assert_eq!(v, key.verifier());
        assert_eq!(v.open_note(GO_NOTE).unwrap(), GO_TEXT);
        let altered = GO_NOTE.replace("answer", "answers");
        assert!(matches!(v.open_note(&altered), Err(LedgerError::BadSignature { .. })));
    }

    #[test]
    fn spec_example_verifies() {
        let v = LedgerVerifier::from_text(SPEC_VKEY).unwrap();
        assert_eq!(v.origin(), "example.com/foo");
        assert_eq!(v.key_id(), 0x530d903a);
        assert_eq!(v.to_text(), SPEC_VKEY);
        assert_eq!(v.open_note(SPEC_NOTE).unwrap(), "This is an example message.\n");
        let altered = SPEC_NOTE.replace("example message", "example massage");
        assert!(v.open_note(&altered).is_err());
        // Not a checkpoint, so the full verification must refuse it.
        assert!(matches!(v.verify(SPEC_NOTE), Err(LedgerError::MalformedCheckpoint(_))));
    }

    #[test]
    fn sign_and_verify_round_trip() {
        let key = LedgerKey::generate(ORIGIN);
        let h = head();
        let signed = key.sign(&h);
        assert_eq!(signed.head, h);
        let body = h.checkpoint_body(ORIGIN);
        assert_eq!(body, format!("{ORIGIN}\n1234\n{}\ntimestamp 1735689600123\n", B64.encode(h.root)));
        assert!(signed.checkpoint.starts_with(&format!("{body}\n\u{2014} {ORIGIN} ")));
        assert!(signed.checkpoint.ends_with('\n'));
        let blob = sig_line(&signed.checkpoint).trim_end().rsplit_once(' ').unwrap().1;
        let blob = B64.decode(blob).unwrap();
        assert_eq!(blob.len(), 68);
        assert_eq!(blob[..4], key.key_id().to_be_bytes());

        let v = LedgerVerifier::from_text(&key.verifier().to_text()).unwrap();
        assert_eq!(v.verify(&signed.checkpoint).unwrap(), h);
        assert_eq!(key.verifier().verify(&signed.checkpoint).unwrap(), h);
    }

    #[test]
    fn edge_values_round_trip() {
        let key = LedgerKey::generate(ORIGIN);
        let v = key.verifier();
        for h in [
            TreeHead { size: 0, root: crate::empty_root(), timestamp_ms: 0 },
            TreeHead { size: u64::MAX, root: [0xff; 32], timestamp_ms: -1 },
            TreeHead { size: 1, root: [0; 32], timestamp_ms: i64::MAX },
        ] {
            assert_eq!(v.verify(&key.sign(&h).checkpoint).unwrap(), h);
        }
    }

    #[test]
    fn tampering_is_rejected() {
        let key = LedgerKey::generate(ORIGIN);
        let v = key.verifier();
        let h = head();
        let cp = key.sign(&h).checkpoint;
        let bad_sig = |r: Result<TreeHead, LedgerError>| matches!(r, Err(LedgerError::BadSignature { .. }));

        let size = cp.replacen("\n1234\n", "\n1235\n", 1);
        assert_ne!(size, cp);
        assert!(bad_sig(v.verify(&size)));

        let mut other_root = h.root;
        other_root[0] ^= 1;
        let root = cp.replacen(&B64.encode(h.root), &B64.encode(other_root), 1);
        assert_ne!(root, cp);
        assert!(bad_sig(v.verify(&root)));

        let ts = cp.replacen("timestamp 1735689600123", "timestamp 1735689600124", 1);
        assert_ne!(ts, cp);
        assert!(bad_sig(v.verify(&ts)));

        // Flip one bit of the signature itself (after the 4-byte key id).
        let line = sig_line(&cp).trim_end();
        let (prefix, b64) = line.rsplit_once(' ').unwrap();
        let mut blob = B64.decode(b64).unwrap();
        blob[20] ^= 0x04;
        let sig = cp.replacen(line, &format!("{prefix} {}", B64.encode(&blob)), 1);
        assert!(bad_sig(v.verify(&sig)));

        // Flipping the key id makes the line someone else's: no signature left.
        let mut blob = B64.decode(b64).unwrap();
        blob[0] ^= 0x01;
        let id = cp.replacen(line, &format!("{prefix} {}", B64.encode(&blob)), 1);
        assert!(matches!(v.verify(&id), Err(LedgerError::NoSignature { .. })));

        // Truncated signature by our key.
        let short = cp.replacen(line, &format!("{prefix} {}", B64.encode(&blob[..40])), 1);
        assert!(v.verify(&short).is_err());

        // Structural damage.
        assert!(v.verify(&cp.replacen("\n\n", "\n", 1)).is_err());
        assert!(v.verify(cp.trim_end()).is_err());
        assert!(v.verify(&cp.replacen('\u{2014}', "-", 1)).is_err());
        assert!(v.verify(&format!("{cp}\n")).is_err());
        assert!(v.verify("").is_err());
    }

    #[test]
    fn other_keys_are_rejected() {
        let key = LedgerKey::generate(ORIGIN);
        let cp = key.sign(&head()).checkpoint;
        // Same origin, different key.
        let other = LedgerKey::generate(ORIGIN);
        assert_ne!(other.key_id(), key.key_id());
        assert!(matches!(other.verifier().verify(&cp), Err(LedgerError::NoSignature { .. })));
        // Same secret key under another origin: different key id and name.
        let renamed = LedgerKey::from_seed("other.example/log", &key.key.secret_bytes()).unwrap();
        assert!(matches!(renamed.verifier().verify(&cp), Err(LedgerError::NoSignature { .. })));
        // A forged line claiming our name and key id but signed by another key.
        let forged_blob = {
            let sig = other.key.sign(head().checkpoint_body(ORIGIN).as_bytes());
            let mut b = key.key_id().to_be_bytes().to_vec();
            b.extend_from_slice(&sig);
            B64.encode(b)
        };
        let forged = format!("{}\n{SIG_PREFIX}{ORIGIN} {forged_blob}\n", head().checkpoint_body(ORIGIN));
        assert!(matches!(key.verifier().verify(&forged), Err(LedgerError::BadSignature { .. })));
    }

    #[test]
    fn cosignatures_of_other_keys_are_tolerated() {
        let key = LedgerKey::generate(ORIGIN);
        let witness = LedgerKey::generate("witness.example/w1");
        let h = head();
        let cp = key.sign(&h).checkpoint;
        let wline = sig_line(&witness.sign_note(&h.checkpoint_body(ORIGIN))).to_owned();
        let both = format!("{cp}{wline}");
        assert_eq!(key.verifier().verify(&both).unwrap(), h);
        // But a note signed only by the witness is not accepted.
        let only_witness = witness.sign_note(&h.checkpoint_body(ORIGIN));
        assert!(key.verifier().verify(&only_witness).is_err());
        // And garbage lines are not tolerated.
        assert!(key.verifier().verify(&format!("{cp}garbage\n")).is_err());
    }

    #[test]
    fn validly_signed_but_non_canonical_bodies_are_rejected() {
        let key = LedgerKey::generate(ORIGIN);
        let v = key.verifier();
        let root = B64.encode([7u8; 32]);
        let cases = [
            format!("{ORIGIN}\n01234\n{root}\ntimestamp 5\n"),
            format!("{ORIGIN}\n+1234\n{root}\ntimestamp 5\n"),
            format!("{ORIGIN}\n1234\n{root}\ntimestamp 05\n"),
            format!("{ORIGIN}\n1234\n{root}\ntimestamp -0\n"),
            format!("{ORIGIN}\n1234\n{root}\ntimestamp  5\n"),
            format!("{ORIGIN}\n1234\n{root}\n"),
            format!("{ORIGIN}\n1234\n{root}\ntimestamp 5\nextra line\n"),
            format!("{ORIGIN}\n1234\n{root}\nTimestamp 5\n"),
            format!("{ORIGIN}\n-1\n{root}\ntimestamp 5\n"),
            format!("{ORIGIN}\n1234\n{}\ntimestamp 5\n", B64.encode([7u8; 31])),
            format!("{ORIGIN}\n1234\n{}\ntimestamp 5\n", hex_root()),
            format!("{ORIGIN}\n1234\n{root}\ntimestamp 99999999999999999999\n"),
        ];
        for body in cases {
            let note = key.sign_note(&body);
            assert!(
                matches!(v.verify(&note), Err(LedgerError::MalformedCheckpoint(_))),
                "accepted {body:?}: {:?}",
                v.verify(&note)
            );
        }
        let wrong_origin = key.sign_note(&format!("other.example/log\n1\n{root}\ntimestamp 5\n"));
        assert!(matches!(v.verify(&wrong_origin), Err(LedgerError::OriginMismatch { .. })));
        // Sanity: the canonical spelling of the same head is accepted.
        let good = key.sign_note(&format!("{ORIGIN}\n1234\n{root}\ntimestamp 5\n"));
        assert_eq!(v.verify(&good).unwrap().size, 1234);
    }

    fn hex_root() -> String {
        crate::hex(&[7u8; 32])
    }

    #[test]
    fn control_characters_are_rejected() {
        let key = LedgerKey::generate(ORIGIN);
        let body = head().checkpoint_body(ORIGIN).replacen('\n', "\r\n", 1);
        let note = key.sign_note(&body);
        assert!(matches!(key.verifier().verify(&note), Err(LedgerError::MalformedNote(_))));
    }

    #[test]
    fn key_file_round_trip() {
        let key = LedgerKey::generate(ORIGIN);
        let bytes = key.to_file_bytes();
        let text = String::from_utf8(bytes.clone()).unwrap();
        assert!(text.starts_with(&format!("PRIVATE+KEY+{ORIGIN}+{:08x}+", key.key_id())));
        assert!(text.ends_with('\n'));
        let back = LedgerKey::from_file_bytes(&bytes).unwrap();
        assert_eq!(back.origin(), ORIGIN);
        assert_eq!(back.key_id(), key.key_id());
        assert_eq!(back.verifier(), key.verifier());
        // Ed25519 is deterministic: the restored key signs identically.
        assert_eq!(back.sign(&head()), key.sign(&head()));
        // Debug output must not leak the secret (the base64 after the key id).
        let secret_b64 = text.trim().splitn(5, '+').nth(4).unwrap();
        assert_eq!(B64.decode(secret_b64).unwrap().len(), 33);
        assert!(!format!("{key:?}").contains(secret_b64));
    }

    #[test]
    fn malformed_keys_are_rejected() {
        // Key id that does not match the key.
        let wrong_id = GO_SKEY.replace("c74f20a3", "c74f20a4");
        assert!(matches!(LedgerKey::from_file_bytes(wrong_id.as_bytes()), Err(LedgerError::KeyIdMismatch { .. })));
        assert!(matches!(
            LedgerVerifier::from_text(&SPEC_VKEY.replace("530d903a", "530d903b")),
            Err(LedgerError::KeyIdMismatch { .. })
        ));
        assert!(LedgerVerifier::from_text(&SPEC_VKEY.replace("530d903a", "530D903A")).is_err());
        assert!(LedgerKey::from_file_bytes(b"PRIVATE+KEY+x").is_err());
        assert!(LedgerKey::from_file_bytes(GO_VKEY.as_bytes()).is_err());
        assert!(LedgerKey::from_file_bytes(&[0xff, 0xfe]).is_err());
        assert!(LedgerVerifier::from_text("example.com/foo+530d903a+!!!").is_err());
        assert!(LedgerVerifier::from_text("example.com/foo+530d903a").is_err());
        // Unknown algorithm byte (0x02) with an otherwise well-formed key.
        let mut raw = vec![0x02];
        raw.extend_from_slice(&[9u8; 32]);
        let other_alg = format!("example.com/foo+530d903a+{}", B64.encode(&raw));
        assert!(matches!(LedgerVerifier::from_text(&other_alg), Err(LedgerError::UnsupportedAlgorithm(0x02))));
        // Wrong key length.
        let short = format!("example.com/foo+530d903a+{}", B64.encode([1u8; 20]));
        assert!(LedgerVerifier::from_text(&short).is_err());
    }

    #[test]
    fn invalid_origins_are_rejected() {
        for origin in ["", "a b", "a+b", "a\nb", "tab\there", "nbsp\u{a0}x"] {
            assert!(matches!(LedgerKey::try_generate(origin), Err(LedgerError::InvalidOrigin { .. })), "{origin:?}");
        }
        assert!(LedgerKey::try_generate("信用.example/账本").is_ok());
    }

    #[test]
    #[should_panic(expected = "invalid log origin")]
    fn generate_panics_on_invalid_origin() {
        let _ = LedgerKey::generate("has space");
    }

    /// 国密: an SM2 key signs heads, notes and detached lines; its key file and verifier
    /// text name the algorithm and round-trip; an Ed25519 verifier of the same origin
    /// does not accept its signatures, nor it an Ed25519 one's.
    #[test]
    fn sm2_keys_sign_verify_and_round_trip() {
        let key = LedgerKey::try_generate_with("xinyong.sm/ledger", Algorithm::Sm2).unwrap();
        assert_eq!((key.algorithm(), key.tree_hash()), (Algorithm::Sm2, crate::TreeHash::Sm3));
        let signed = key.sign(&head());
        let verifier = key.verifier();
        assert_eq!(verifier.verify(&signed.checkpoint).unwrap(), head());
        let text = verifier.to_text();
        let parsed = LedgerVerifier::from_text(&text).unwrap();
        assert_eq!(parsed, verifier);
        assert_eq!(parsed.algorithm(), Algorithm::Sm2);
        let again = LedgerKey::from_file_bytes(&key.to_file_bytes()).unwrap();
        assert_eq!(again.verifier().to_text(), text);
        assert_eq!(again.algorithm(), Algorithm::Sm2);
        // a signature made after reloading verifies with the first verifier
        assert!(verifier.verify(&again.sign(&head()).checkpoint).is_ok());
        let line = key.signature_line("x/pdf", b"file");
        assert_eq!(line.len() - "\u{2014} x/pdf ".len(), key.signature_b64_len());
        verifier.verify_signature_line("x/pdf", &line, b"file").unwrap();
        assert!(verifier.verify_signature_line("x/pdf", &line, b"filE").is_err());
        // altered: refused
        let altered = signed.checkpoint.replacen("\n5\n", "\n6\n", 1);
        assert!(verifier.verify(&altered).is_err() || altered == signed.checkpoint);
        // the other scheme under the same origin: other key ids, nothing accepted
        let ed = LedgerKey::generate("xinyong.sm/ledger");
        assert_ne!(ed.key_id(), key.key_id());
        assert!(ed.verifier().verify(&signed.checkpoint).is_err());
        assert!(verifier.verify(&ed.sign(&head()).checkpoint).is_err());
        // the byte names the scheme: an unknown one is refused
        let mut raw = B64.decode(text.splitn(3, '+').nth(2).unwrap()).unwrap();
        raw[0] = 0x7f;
        let unknown = format!("xinyong.sm/ledger+{:08x}+{}", key.key_id(), B64.encode(raw));
        assert!(matches!(LedgerVerifier::from_text(&unknown), Err(LedgerError::UnsupportedAlgorithm(0x7f))));
        assert_eq!(Algorithm::parse("SM2"), Some(Algorithm::Sm2));
        assert_eq!(Algorithm::parse("rsa"), None);
    }
}

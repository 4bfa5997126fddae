//! Error type of the ledger crate.

/// Everything that can go wrong when building, proving, storing or verifying
/// the log. Messages name the offending index, size or field so that an
/// operator reading a log line knows what to look at.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LedgerError {
    /// The leaves a proof needs could not be read (from the store).
    #[error("reading the leaves failed: {0}")]
    Source(String),

    /// A leaf index is not inside the tree.
    #[error("leaf index {index} is out of range for a tree of size {size}")]
    IndexOutOfRange { index: u64, size: u64 },

    /// A consistency proof was requested or checked for impossible sizes.
    #[error(
        "invalid consistency sizes: old size {old_size}, new size {new_size} \
         (need 0 < old size <= new size)"
    )]
    InvalidConsistencySizes { old_size: u64, new_size: u64 },

    /// An inclusion proof does not prove the leaf under the given root.
    #[error("inclusion proof for leaf {index} in tree of size {size} does not verify: {reason}")]
    InclusionProofInvalid { index: u64, size: u64, reason: &'static str },

    /// A consistency proof does not link the two roots.
    #[error("consistency proof from size {old_size} to size {new_size} does not verify: {reason}")]
    ConsistencyProofInvalid { old_size: u64, new_size: u64, reason: &'static str },

    /// A hash in hex form could not be decoded.
    #[error("invalid hex hash: {0}")]
    InvalidHex(String),

    /// A stored frontier could not be decoded.
    #[error("invalid frontier encoding: {0}")]
    InvalidFrontier(String),

    /// The tree already holds `u64::MAX` leaves.
    #[error("tree is full: it already holds {0} leaves")]
    TreeFull(u64),

    /// A log origin (key name) is not usable in a signed note.
    #[error("invalid log origin {origin:?}: {reason}")]
    InvalidOrigin { origin: String, reason: &'static str },

    /// The private key file is malformed.
    #[error("invalid ledger key file: {0}")]
    InvalidKeyFile(String),

    /// The public verifier key text is malformed.
    #[error("invalid verifier key: {0}")]
    InvalidVerifierKey(String),

    /// The key uses a signature algorithm this build does not implement.
    #[error("unsupported signature algorithm id {0:#04x} (only 0x01 = Ed25519 is supported)")]
    UnsupportedAlgorithm(u8),

    /// The key id written next to a key does not match the key itself.
    #[error("key id mismatch for {origin:?}: text says {claimed:08x}, key hashes to {actual:08x}")]
    KeyIdMismatch { origin: String, claimed: u32, actual: u32 },

    /// The text is not a well-formed signed note.
    #[error("malformed signed note: {0}")]
    MalformedNote(String),

    /// The note carries no signature line from the expected key.
    #[error("checkpoint has no signature by {origin} with key id {key_id:08x}")]
    NoSignature { origin: String, key_id: u32 },

    /// A signature line from the expected key does not verify.
    #[error("invalid signature by {origin} (key id {key_id:08x}) on the checkpoint")]
    BadSignature { origin: String, key_id: u32 },

    /// The signed body is not a checkpoint in the exact format this crate writes.
    #[error("malformed checkpoint: {0}")]
    MalformedCheckpoint(String),

    /// The checkpoint was signed for another log.
    #[error("checkpoint origin {found:?} does not match expected origin {expected:?}")]
    OriginMismatch { expected: String, found: String },
}

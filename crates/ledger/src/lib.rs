//! Append-only, signed Merkle log for every event of the xinyong platform.
//!
//! Why these formats:
//!
//! * Tree hashing, inclusion proofs and consistency proofs follow RFC 6962 /
//!   RFC 9162 with SHA-256 (leaf prefix `0x00`, node prefix `0x01`, split at
//!   the largest power of two). That is what Certificate Transparency,
//!   Go's checksum database and Sigstore use, so anyone can audit our log with
//!   off-the-shelf verifiers instead of trusting code we wrote.
//! * Tree heads are published as C2SP `tlog-checkpoint` bodies wrapped in a
//!   C2SP `signed-note`, which is what existing witnesses and monitors read.
//! * Key ids are computed exactly as in Go's `golang.org/x/mod/sumdb/note`
//!   (`SHA-256(origin || "\n" || alg || pubkey)[..4]`). The algorithm byte is
//!   part of the id, so an SM2 key (needed for Chinese government deployments)
//!   can later be added under another algorithm id without ambiguity with the
//!   Ed25519 keys in use today.
//! * 国密: a ledger may instead sign with SM2 and hash its tree with SM3
//!   ([`Algorithm::Sm2`], chosen at init); the key's algorithm byte names it, so
//!   verifiers pick the tree hash from the key ([`LedgerVerifier::tree_hash`]).
//! * The application only keeps a [`Frontier`] (at most 64 hashes) between
//!   batches; appending is amortised O(1) and the root costs O(log n), so the
//!   log never has to be re-read to extend it.

mod error;
mod frontier;
mod hexfmt;
mod merkle;
mod nodes;
mod note;
mod witness;

pub use error::LedgerError;
pub use frontier::Frontier;
pub use hexfmt::{from_hex, hex};
pub use merkle::{
    Hash, TreeHash, consistency_proof, consistency_proof_in, empty_root, inclusion_proof, inclusion_proof_in,
    inclusion_proofs, inclusion_proofs_in, leaf_hash, node_hash, root_of, root_of_in, verify_consistency,
    verify_consistency_in, verify_inclusion, verify_inclusion_in,
};
pub use nodes::{NodeCache, Reader};
pub use note::{ALG_ED25519, ALG_SM2, Algorithm, LedgerKey, LedgerVerifier, SignedHead, TreeHead};
pub use witness::{ALG_COSIGNATURE_V1, WitnessKey, WitnessVerifier, add_checkpoint_request, parse_add_checkpoint};

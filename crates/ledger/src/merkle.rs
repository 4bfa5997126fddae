//! RFC 6962 / RFC 9162 Merkle tree hashing and proofs, with SHA-256 or SM3 (国密, GB/T
//! 32905) as the tree's hash: the same prefixes, splits and proofs, another function.
//! The free functions without `_in` are SHA-256.
//!
//! Proof generation follows the recursive definitions of RFC 6962 section 2.1
//! (`PATH`, `PROOF`, `SUBPROOF`), while verification follows the iterative
//! algorithms of RFC 9162 sections 2.1.3.2 and 2.1.4.2. Keeping the two
//! independent means a bug in one is caught by the tests of the other.

use sha2::{Digest, Sha256};
use sm3::Sm3;

use crate::LedgerError;

/// A 32-byte digest (SHA-256 or SM3): leaf hash, interior node hash or tree root.
pub type Hash = [u8; 32];

/// The hash function of a ledger's tree, fixed by its signing algorithm: Ed25519 ledgers
/// hash with SHA-256, SM2 ledgers with SM3.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TreeHash {
    #[default]
    Sha256,
    Sm3,
}

impl TreeHash {
    fn digest(self, parts: &[&[u8]]) -> Hash {
        fn run<D: Digest>(parts: &[&[u8]]) -> Hash {
            let mut h = D::new();
            for p in parts {
                h.update(p);
            }
            let out = h.finalize();
            let mut hash = [0u8; 32];
            hash.copy_from_slice(&out[..32]);
            hash
        }
        match self {
            TreeHash::Sha256 => run::<Sha256>(parts),
            TreeHash::Sm3 => run::<Sm3>(parts),
        }
    }

    /// `H(0x00 || data)`: the hash of one log entry.
    pub fn leaf(self, data: &[u8]) -> Hash {
        self.digest(&[&[LEAF_PREFIX], data])
    }

    /// `H(0x01 || left || right)`: the hash of an interior node.
    pub fn node(self, left: &Hash, right: &Hash) -> Hash {
        self.digest(&[&[NODE_PREFIX], left, right])
    }

    /// Root of the empty tree, `H("")`.
    pub fn empty(self) -> Hash {
        self.digest(&[])
    }

    /// How proofs name it: `RFC 6962 SHA-256`, `RFC 6962 SM3`.
    pub fn name(self) -> &'static str {
        match self {
            TreeHash::Sha256 => "RFC 6962 SHA-256",
            TreeHash::Sm3 => "RFC 6962 SM3",
        }
    }
}

/// Domain separation prefixes of RFC 6962 section 2.1; they stop a leaf from
/// being passed off as an interior node (second-preimage attacks).
const LEAF_PREFIX: u8 = 0x00;
const NODE_PREFIX: u8 = 0x01;

/// `SHA-256(0x00 || data)`: the hash of one log entry.
pub fn leaf_hash(data: &[u8]) -> Hash {
    let mut h = Sha256::new();
    h.update([LEAF_PREFIX]);
    h.update(data);
    h.finalize().into()
}

/// `SHA-256(0x01 || left || right)`: the hash of an interior node.
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    TreeHash::Sha256.node(left, right)
}

/// Root of the empty tree, `SHA-256("")`.
pub fn empty_root() -> Hash {
    TreeHash::Sha256.empty()
}

/// Largest power of two strictly smaller than `n`; requires `n >= 2`.
fn split_point(n: usize) -> usize {
    debug_assert!(n >= 2);
    1 << (n - 1).ilog2()
}

/// Merkle Tree Hash (RFC 6962 section 2.1) over already-hashed leaves (SHA-256).
pub fn root_of(leaves: &[Hash]) -> Hash {
    root_of_in(TreeHash::Sha256, leaves)
}

/// Merkle Tree Hash with `h`.
pub fn root_of_in(h: TreeHash, leaves: &[Hash]) -> Hash {
    match leaves {
        [] => h.empty(),
        [one] => *one,
        _ => {
            let k = split_point(leaves.len());
            h.node(&root_of_in(h, &leaves[..k]), &root_of_in(h, &leaves[k..]))
        }
    }
}

/// Audit path `PATH(index, D[n])` of RFC 6962 section 2.1.1, where `leaves`
/// are all `n` leaf hashes of the tree. The first element is the sibling
/// closest to the leaf.
pub fn inclusion_proof(leaves: &[Hash], index: u64) -> Result<Vec<Hash>, LedgerError> {
    inclusion_proof_in(TreeHash::Sha256, leaves, index)
}

/// [`inclusion_proof`] with `h`.
pub fn inclusion_proof_in(h: TreeHash, leaves: &[Hash], index: u64) -> Result<Vec<Hash>, LedgerError> {
    let size = leaves.len() as u64;
    let m = usize::try_from(index)
        .ok()
        .filter(|&m| m < leaves.len())
        .ok_or(LedgerError::IndexOutOfRange { index, size })?;
    let mut proof = Vec::new();
    path(h, m, leaves, &mut proof);
    Ok(proof)
}

/// The audit paths of several leaves of one tree, in the order of `indexes`: equal to
/// [`inclusion_proof`] for each, but every subtree root is computed once for all of
/// them, so `k` proofs cost one pass over the leaves, not `k`.
pub fn inclusion_proofs(leaves: &[Hash], indexes: &[u64]) -> Result<Vec<Vec<Hash>>, LedgerError> {
    inclusion_proofs_in(TreeHash::Sha256, leaves, indexes)
}

/// [`inclusion_proofs`] with `h`.
pub fn inclusion_proofs_in(h: TreeHash, leaves: &[Hash], indexes: &[u64]) -> Result<Vec<Vec<Hash>>, LedgerError> {
    let size = leaves.len() as u64;
    let mut wanted: Vec<(usize, usize)> = Vec::with_capacity(indexes.len());
    for (slot, &index) in indexes.iter().enumerate() {
        let m = usize::try_from(index)
            .ok()
            .filter(|&m| m < leaves.len())
            .ok_or(LedgerError::IndexOutOfRange { index, size })?;
        wanted.push((m, slot));
    }
    wanted.sort_unstable();
    let mut proofs = vec![Vec::new(); indexes.len()];
    paths(h, leaves, 0, &wanted, &mut proofs);
    Ok(proofs)
}

/// `wanted`: (leaf index, proof slot), sorted, all inside `d`, which starts at leaf `offset`.
fn paths(h: TreeHash, d: &[Hash], offset: usize, wanted: &[(usize, usize)], proofs: &mut [Vec<Hash>]) {
    if d.len() <= 1 || wanted.is_empty() {
        return;
    }
    let k = split_point(d.len());
    let cut = wanted.partition_point(|&(m, _)| m < offset + k);
    let (left, right) = wanted.split_at(cut);
    // deeper siblings first: a path runs from the leaf up
    paths(h, &d[..k], offset, left, proofs);
    paths(h, &d[k..], offset + k, right, proofs);
    if !left.is_empty() {
        let sibling = root_of_in(h, &d[k..]);
        left.iter().for_each(|&(_, slot)| proofs[slot].push(sibling));
    }
    if !right.is_empty() {
        let sibling = root_of_in(h, &d[..k]);
        right.iter().for_each(|&(_, slot)| proofs[slot].push(sibling));
    }
}

fn path(h: TreeHash, m: usize, d: &[Hash], out: &mut Vec<Hash>) {
    if d.len() <= 1 {
        return;
    }
    let k = split_point(d.len());
    if m < k {
        path(h, m, &d[..k], out);
        out.push(root_of_in(h, &d[k..]));
    } else {
        path(h, m - k, &d[k..], out);
        out.push(root_of_in(h, &d[..k]));
    }
}

/// Consistency proof `PROOF(old_size, D[n])` of RFC 6962 section 2.1.2, where
/// `leaves` are all `n` leaf hashes of the new tree. Requires
/// `0 < old_size <= n`; equal sizes give an empty proof.
pub fn consistency_proof(leaves: &[Hash], old_size: u64) -> Result<Vec<Hash>, LedgerError> {
    consistency_proof_in(TreeHash::Sha256, leaves, old_size)
}

/// [`consistency_proof`] with `h`.
pub fn consistency_proof_in(h: TreeHash, leaves: &[Hash], old_size: u64) -> Result<Vec<Hash>, LedgerError> {
    let new_size = leaves.len() as u64;
    let m = usize::try_from(old_size)
        .ok()
        .filter(|&m| m > 0 && m <= leaves.len())
        .ok_or(LedgerError::InvalidConsistencySizes { old_size, new_size })?;
    let mut proof = Vec::new();
    subproof(h, m, leaves, true, &mut proof);
    Ok(proof)
}

/// `SUBPROOF(m, D[n], b)`; `complete` is `b`: whether the old tree's root is
/// known to the verifier and therefore left out.
fn subproof(h: TreeHash, m: usize, d: &[Hash], complete: bool, out: &mut Vec<Hash>) {
    let n = d.len();
    if m == n {
        if !complete {
            out.push(root_of_in(h, d));
        }
        return;
    }
    let k = split_point(n);
    if m <= k {
        subproof(h, m, &d[..k], complete, out);
        out.push(root_of_in(h, &d[k..]));
    } else {
        subproof(h, m - k, &d[k..], false, out);
        out.push(root_of_in(h, &d[..k]));
    }
}

/// Checks that `leaf` is at `index` in the tree of `size` leaves whose root is
/// `root`, using the algorithm of RFC 9162 section 2.1.3.2.
pub fn verify_inclusion(index: u64, size: u64, leaf: &Hash, proof: &[Hash], root: &Hash) -> Result<(), LedgerError> {
    verify_inclusion_in(TreeHash::Sha256, index, size, leaf, proof, root)
}

/// [`verify_inclusion`] with `h`.
pub fn verify_inclusion_in(
    h: TreeHash,
    index: u64,
    size: u64,
    leaf: &Hash,
    proof: &[Hash],
    root: &Hash,
) -> Result<(), LedgerError> {
    let fail = |reason| Err(LedgerError::InclusionProofInvalid { index, size, reason });
    if index >= size {
        return Err(LedgerError::IndexOutOfRange { index, size });
    }
    let mut f = index;
    let mut s = size - 1;
    let mut r = *leaf;
    for p in proof {
        if s == 0 {
            return fail("proof has more hashes than the path for this index and size");
        }
        if f & 1 == 1 || f == s {
            r = h.node(p, &r);
            // Skip levels where this node is the last one and has no right sibling.
            while f & 1 == 0 && f != 0 {
                f >>= 1;
                s >>= 1;
            }
        } else {
            r = h.node(&r, p);
        }
        f >>= 1;
        s >>= 1;
    }
    if s != 0 {
        return fail("proof has fewer hashes than the path for this index and size");
    }
    if r != *root {
        return fail("computed root does not match the expected root");
    }
    Ok(())
}

/// Checks that the tree of `new_size` leaves with root `new_root` extends the
/// tree of `old_size` leaves with root `old_root`, using the algorithm of
/// RFC 9162 section 2.1.4.2.
///
/// Trivial cases, which RFC 9162 leaves to the caller, are handled here: equal
/// sizes need an empty proof and equal roots; an empty old tree needs an empty
/// proof and `old_root == empty_root()` (every tree extends the empty tree).
pub fn verify_consistency(
    old_size: u64,
    new_size: u64,
    old_root: &Hash,
    new_root: &Hash,
    proof: &[Hash],
) -> Result<(), LedgerError> {
    verify_consistency_in(TreeHash::Sha256, old_size, new_size, old_root, new_root, proof)
}

/// [`verify_consistency`] with `h`.
pub fn verify_consistency_in(
    h: TreeHash,
    old_size: u64,
    new_size: u64,
    old_root: &Hash,
    new_root: &Hash,
    proof: &[Hash],
) -> Result<(), LedgerError> {
    let fail = |reason| Err(LedgerError::ConsistencyProofInvalid { old_size, new_size, reason });
    if old_size > new_size {
        return Err(LedgerError::InvalidConsistencySizes { old_size, new_size });
    }
    if old_size == 0 {
        if !proof.is_empty() {
            return fail("proof must be empty when the old tree is empty");
        }
        if *old_root != h.empty() {
            return fail("old root of an empty tree must be the empty-tree hash");
        }
        return Ok(());
    }
    if old_size == new_size {
        if !proof.is_empty() {
            return fail("proof must be empty when both sizes are equal");
        }
        if old_root != new_root {
            return fail("roots differ although both sizes are equal");
        }
        return Ok(());
    }
    // When the old tree is a perfect subtree its root is the proof's implicit
    // first element (RFC 9162 step 2).
    let (first, rest) = if old_size.is_power_of_two() {
        (old_root, proof)
    } else {
        match proof.split_first() {
            Some(split) => split,
            None => return fail("proof is empty"),
        }
    };
    let mut f = old_size - 1;
    let mut s = new_size - 1;
    while f & 1 == 1 {
        f >>= 1;
        s >>= 1;
    }
    let mut fr = *first;
    let mut sr = *first;
    for c in rest {
        if s == 0 {
            return fail("proof has more hashes than needed for these sizes");
        }
        if f & 1 == 1 || f == s {
            fr = h.node(c, &fr);
            sr = h.node(c, &sr);
            while f & 1 == 0 && f != 0 {
                f >>= 1;
                s >>= 1;
            }
        } else {
            sr = h.node(&sr, c);
        }
        f >>= 1;
        s >>= 1;
    }
    if s != 0 {
        return fail("proof has fewer hashes than needed for these sizes");
    }
    if fr != *old_root {
        return fail("computed old root does not match the expected old root");
    }
    if sr != *new_root {
        return fail("computed new root does not match the expected new root");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::{from_hex, hex};
    use proptest::prelude::*;

    /// The eight-leaf corpus of the RFC 6962 reference tests (Google
    /// certificate-transparency / transparency-dev/merkle).
    fn corpus() -> Vec<Hash> {
        let raw: [&[u8]; 8] = [
            b"",
            b"\x00",
            b"\x10",
            b"\x20\x21",
            b"\x30\x31",
            b"\x40\x41\x42\x43",
            b"\x50\x51\x52\x53\x54\x55\x56\x57",
            b"\x60\x61\x62\x63\x64\x65\x66\x67\x68\x69\x6a\x6b\x6c\x6d\x6e\x6f",
        ];
        raw.iter().map(|d| leaf_hash(d)).collect()
    }

    /// Roots for sizes 1..=8 of the corpus (transparency-dev/merkle
    /// proof/verify_test.go `roots`).
    const CORPUS_ROOTS: [&str; 8] = [
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
        "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
        "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
        "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
    ];

    fn h(s: &str) -> Hash {
        from_hex(s).unwrap()
    }

    fn root(size: u64) -> Hash {
        h(CORPUS_ROOTS[usize::try_from(size).unwrap() - 1])
    }

    /// Inclusion vectors (0-based index, size, proof) from transparency-dev/merkle
    /// proof/verify_test.go `inclusionProofs` (which numbers leaves from 1).
    fn inclusion_vectors() -> Vec<(u64, u64, Vec<Hash>)> {
        vec![
            (0, 1, vec![]),
            (
                0,
                8,
                vec![
                    h("96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7"),
                    h("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
                    h("6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"),
                ],
            ),
            (
                5,
                8,
                vec![
                    h("bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"),
                    h("ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0"),
                    h("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"),
                ],
            ),
            (2, 3, vec![h("fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125")]),
            (
                1,
                5,
                vec![
                    h("6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"),
                    h("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
                    h("bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"),
                ],
            ),
        ]
    }

    /// Consistency vectors (old size, new size, proof) from transparency-dev/merkle
    /// proof/verify_test.go `consistencyProofs`.
    fn consistency_vectors() -> Vec<(u64, u64, Vec<Hash>)> {
        vec![
            (1, 1, vec![]),
            (
                1,
                8,
                vec![
                    h("96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7"),
                    h("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
                    h("6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"),
                ],
            ),
            (
                6,
                8,
                vec![
                    h("0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a"),
                    h("ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0"),
                    h("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"),
                ],
            ),
            (
                2,
                5,
                vec![
                    h("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
                    h("bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"),
                ],
            ),
            (
                6,
                7,
                vec![
                    h("0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a"),
                    h("b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f"),
                    h("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"),
                ],
            ),
        ]
    }

    #[test]
    fn empty_and_leaf_hashes() {
        assert_eq!(hex(&empty_root()), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
        assert_eq!(root_of(&[]), empty_root());
        assert_eq!(hex(&leaf_hash(b"")), "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d");
        // Domain separation: a node hash is not a leaf hash of the concatenation.
        let (a, b) = (leaf_hash(b"a"), leaf_hash(b"b"));
        let mut concat = a.to_vec();
        concat.extend_from_slice(&b);
        assert_ne!(node_hash(&a, &b), leaf_hash(&concat));
        let mut with_prefix = vec![0x01];
        with_prefix.extend_from_slice(&concat);
        assert_eq!(node_hash(&a, &b), <[u8; 32]>::from(Sha256::digest(&with_prefix)));
    }

    #[test]
    fn split_point_is_largest_power_of_two_below() {
        for (n, k) in [(2, 1), (3, 2), (4, 2), (5, 4), (8, 4), (9, 8), (1025, 1024)] {
            assert_eq!(split_point(n), k, "n = {n}");
        }
    }

    #[test]
    fn known_answer_roots() {
        let leaves = corpus();
        for n in 1..=8 {
            assert_eq!(hex(&root_of(&leaves[..n])), CORPUS_ROOTS[n - 1], "size {n}");
        }
    }

    #[test]
    fn known_answer_inclusion_proofs() {
        let leaves = corpus();
        for (index, size, want) in inclusion_vectors() {
            let n = usize::try_from(size).unwrap();
            let got = inclusion_proof(&leaves[..n], index).unwrap();
            assert_eq!(got, want, "PATH({index}, D[{size}])");
            let leaf = leaves[usize::try_from(index).unwrap()];
            verify_inclusion(index, size, &leaf, &want, &root(size)).unwrap();
        }
    }

    /// The corruption probes of transparency-dev/merkle `corruptInclusionProof`.
    #[test]
    fn known_answer_inclusion_corruptions_fail() {
        let leaves = corpus();
        let some = h("abacaba000000000000000000000000000000000000000000060061e00123456");
        for (index, size, proof) in inclusion_vectors() {
            let rt = root(size);
            let leaf = leaves[usize::try_from(index).unwrap()];
            let mut probes: Vec<(u64, u64, Hash, Vec<Hash>, Hash, String)> = vec![
                (index.wrapping_sub(1), size, leaf, proof.clone(), rt, "index - 1".into()),
                (index + 1, size, leaf, proof.clone(), rt, "index + 1".into()),
                (index ^ 2, size, leaf, proof.clone(), rt, "index ^ 2".into()),
                (index, size * 2, leaf, proof.clone(), rt, "size * 2".into()),
                (index, size / 2, leaf, proof.clone(), rt, "size / 2".into()),
                (index, size, leaf_hash(b"WrongLeaf"), proof.clone(), rt, "wrong leaf".into()),
                (index, size, leaf, proof.clone(), empty_root(), "empty root".into()),
                (index, size, leaf, proof.clone(), some, "random root".into()),
            ];
            let mut trailing = proof.clone();
            trailing.push(rt);
            probes.push((index, size, leaf, trailing, rt, "trailing root".into()));
            let mut preceding = vec![rt];
            preceding.extend_from_slice(&proof);
            probes.push((index, size, leaf, preceding, rt, "preceding root".into()));
            for i in 0..proof.len() {
                let mut p = proof.clone();
                p[i][0] ^= 8;
                probes.push((index, size, leaf, p, rt, format!("modified proof[{i}]")));
            }
            if !proof.is_empty() {
                let p = proof[..proof.len() - 1].to_vec();
                probes.push((index, size, leaf, p, rt, "removed component".into()));
            }
            if proof.len() > 1 {
                let mut p = vec![proof[0], some];
                p.extend_from_slice(&proof[1..]);
                probes.push((index, size, leaf, p, rt, "inserted component".into()));
            }
            for (i, s, l, p, r, desc) in probes {
                assert!(verify_inclusion(i, s, &l, &p, &r).is_err(), "({index}, {size}) verified with {desc}");
            }
        }
    }

    #[test]
    fn known_answer_consistency_proofs() {
        let leaves = corpus();
        for (m, n, want) in consistency_vectors() {
            let nn = usize::try_from(n).unwrap();
            let got = consistency_proof(&leaves[..nn], m).unwrap();
            assert_eq!(got, want, "PROOF({m}, D[{n}])");
            verify_consistency(m, n, &root(m), &root(n), &want).unwrap();
        }
    }

    /// The corruption probes of transparency-dev/merkle `corruptConsistencyProof`.
    #[test]
    fn known_answer_consistency_corruptions_fail() {
        for (m, n, proof) in consistency_vectors() {
            if proof.is_empty() {
                continue;
            }
            let (r1, r2) = (root(m), root(n));
            let wrong = leaf_hash(b"WrongRoot");
            let mut probes: Vec<(u64, u64, Hash, Hash, Vec<Hash>, String)> = vec![
                (m - 1, n, r1, r2, proof.clone(), "size1 - 1".into()),
                (m + 1, n, r1, r2, proof.clone(), "size1 + 1".into()),
                (m ^ 2, n, r1, r2, proof.clone(), "size1 ^ 2".into()),
                (m, n * 2, r1, r2, proof.clone(), "size2 * 2".into()),
                (m, n / 2, r1, r2, proof.clone(), "size2 / 2".into()),
                (m, n, wrong, r2, proof.clone(), "wrong root1".into()),
                (m, n, r1, wrong, proof.clone(), "wrong root2".into()),
                (m, n, r2, r1, proof.clone(), "swapped roots".into()),
                (m, n, r1, r2, vec![], "empty proof".into()),
            ];
            for (extra, desc) in [(r1, "root1"), (r2, "root2"), (proof[0], "proof[0]")] {
                let mut t = proof.clone();
                t.push(extra);
                probes.push((m, n, r1, r2, t, format!("trailing {desc}")));
                let mut p = vec![extra];
                p.extend_from_slice(&proof);
                probes.push((m, n, r1, r2, p, format!("preceding {desc}")));
            }
            probes.push((m, n, r1, r2, proof[..proof.len() - 1].to_vec(), "truncated".into()));
            for i in 0..proof.len() {
                let mut p = proof.clone();
                p[i][0] ^= 16;
                probes.push((m, n, r1, r2, p, format!("modified proof[{i}]")));
            }
            for (a, b, x, y, p, desc) in probes {
                assert!(verify_consistency(a, b, &x, &y, &p).is_err(), "({m}, {n}) verified with {desc}");
            }
        }
    }

    #[test]
    fn argument_errors_name_the_numbers() {
        let leaves = corpus();
        let err = inclusion_proof(&leaves, 8).unwrap_err();
        assert_eq!(err, LedgerError::IndexOutOfRange { index: 8, size: 8 });
        assert!(err.to_string().contains("leaf index 8"), "{err}");
        assert!(inclusion_proof(&[], 0).is_err());
        assert_eq!(
            consistency_proof(&leaves, 0).unwrap_err(),
            LedgerError::InvalidConsistencySizes { old_size: 0, new_size: 8 }
        );
        assert!(consistency_proof(&leaves, 9).is_err());
        assert!(verify_inclusion(3, 3, &leaves[0], &[], &root(3)).is_err());
        assert!(verify_consistency(5, 4, &root(5), &root(4), &[]).is_err());
    }

    #[test]
    fn trivial_consistency_cases() {
        let r = root(3);
        verify_consistency(3, 3, &r, &r, &[]).unwrap();
        assert!(verify_consistency(3, 3, &r, &root(4), &[]).is_err());
        assert!(verify_consistency(3, 3, &r, &r, &[r]).is_err());
        verify_consistency(0, 5, &empty_root(), &root(5), &[]).unwrap();
        assert!(verify_consistency(0, 5, &r, &root(5), &[]).is_err());
        assert!(verify_consistency(0, 5, &empty_root(), &root(5), &[r]).is_err());
        verify_consistency(0, 0, &empty_root(), &empty_root(), &[]).unwrap();
    }

    fn random_leaves(n: usize, salt: u64) -> Vec<Hash> {
        (0..n as u64)
            .map(|i| {
                let mut d = salt.to_be_bytes().to_vec();
                d.extend_from_slice(&i.to_be_bytes());
                leaf_hash(&d)
            })
            .collect()
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        #[test]
        fn batched_proofs_equal_single_ones(n in 1usize..300, picks in proptest::collection::vec(0usize..300, 0..8)) {
            let leaves: Vec<Hash> = (0..n as u64).map(|i| leaf_hash(&i.to_be_bytes())).collect();
            let indexes: Vec<u64> = picks.iter().map(|p| (p % n) as u64).collect();
            let batch = inclusion_proofs(&leaves, &indexes).unwrap();
            for (i, proof) in indexes.iter().zip(&batch) {
                prop_assert_eq!(proof, &inclusion_proof(&leaves, *i).unwrap());
            }
            prop_assert!(inclusion_proofs(&leaves, &[n as u64]).is_err());
        }

        #[test]
        fn every_inclusion_proof_verifies_and_wrong_inputs_fail(
            n in 1usize..300,
            salt in any::<u64>(),
        ) {
            let leaves = random_leaves(n, salt);
            let size = n as u64;
            let rt = root_of(&leaves);
            let other = leaf_hash(b"not in the tree");
            for i in 0..n {
                let index = i as u64;
                let proof = inclusion_proof(&leaves, index).unwrap();
                prop_assert!(verify_inclusion(index, size, &leaves[i], &proof, &rt).is_ok(),
                    "leaf {} of {}", i, n);
                prop_assert!(verify_inclusion(index, size, &other, &proof, &rt).is_err());
                if n > 1 {
                    let wrong = (index + 1) % size;
                    prop_assert!(verify_inclusion(wrong, size, &leaves[i], &proof, &rt).is_err(),
                        "leaf {} of {} verified at index {}", i, n, wrong);
                }
            }
        }

        #[test]
        fn flipping_any_proof_byte_breaks_inclusion(
            n in 2usize..300,
            salt in any::<u64>(),
            pick in any::<prop::sample::Index>(),
            bit in 0u8..8,
        ) {
            let leaves = random_leaves(n, salt);
            let i = pick.index(n);
            let index = i as u64;
            let rt = root_of(&leaves);
            let proof = inclusion_proof(&leaves, index).unwrap();
            prop_assert!(!proof.is_empty());
            for e in 0..proof.len() {
                for b in 0..32 {
                    let mut bad = proof.clone();
                    bad[e][b] ^= 1 << bit;
                    prop_assert!(
                        verify_inclusion(index, n as u64, &leaves[i], &bad, &rt).is_err(),
                        "flip of proof[{}][{}] accepted", e, b
                    );
                }
            }
        }

        #[test]
        fn consistency_proofs_verify_and_wrong_roots_fail(
            n in 1usize..300,
            salt in any::<u64>(),
            pick in any::<prop::sample::Index>(),
            byte in 0usize..32,
        ) {
            let leaves = random_leaves(n, salt);
            let m = pick.index(n) + 1;
            let (old_size, new_size) = (m as u64, n as u64);
            let old_root = root_of(&leaves[..m]);
            let new_root = root_of(&leaves);
            let proof = consistency_proof(&leaves, old_size).unwrap();
            prop_assert!(verify_consistency(old_size, new_size, &old_root, &new_root, &proof).is_ok());

            let mut bad_old = old_root;
            bad_old[byte] ^= 0x80;
            prop_assert!(verify_consistency(old_size, new_size, &bad_old, &new_root, &proof).is_err());
            let mut bad_new = new_root;
            bad_new[byte] ^= 0x80;
            prop_assert!(verify_consistency(old_size, new_size, &old_root, &bad_new, &proof).is_err());
            for e in 0..proof.len() {
                let mut bad = proof.clone();
                bad[e][byte] ^= 0x80;
                prop_assert!(
                    verify_consistency(old_size, new_size, &old_root, &new_root, &bad).is_err(),
                    "flip of proof[{}] accepted", e
                );
            }
            if m < n {
                // A proof for a shorter prefix must not link a different old tree.
                let other_old = root_of(&random_leaves(m, salt ^ 1));
                prop_assert!(verify_consistency(old_size, new_size, &other_old, &new_root, &proof).is_err());
            }
        }

        #[test]
        fn all_consistency_proofs_of_a_tree_verify(n in 1usize..70, salt in any::<u64>()) {
            let leaves = random_leaves(n, salt);
            let new_root = root_of(&leaves);
            for m in 1..=n {
                let proof = consistency_proof(&leaves, m as u64).unwrap();
                prop_assert!(verify_consistency(
                    m as u64, n as u64, &root_of(&leaves[..m]), &new_root, &proof
                ).is_ok(), "{} -> {}", m, n);
            }
        }
    }

    /// SM3 (GB/T 32905-2016) known answer for "abc", and the SM3 tree: proofs made
    /// with it verify with it, not with SHA-256.
    #[test]
    fn sm3_trees_prove_and_verify_in_their_own_hash() {
        use sm3::Digest as _;
        let abc: [u8; 32] = sm3::Sm3::digest(b"abc").into();
        assert_eq!(hex(&abc), "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0");
        let h = TreeHash::Sm3;
        assert_eq!(h.empty(), <[u8; 32]>::from(sm3::Sm3::digest(b"")));
        let leaves: Vec<Hash> = (0u32..13).map(|i| h.leaf(&i.to_be_bytes())).collect();
        let root = root_of_in(h, &leaves);
        assert_ne!(root, root_of(&leaves), "another hash, another root");
        assert_eq!(crate::Frontier::from_leaves_in(h, &leaves).root(), root);
        for i in 0..13u64 {
            let proof = inclusion_proof_in(h, &leaves, i).unwrap();
            verify_inclusion_in(h, i, 13, &leaves[i as usize], &proof, &root).unwrap();
            assert!(verify_inclusion(i, 13, &leaves[i as usize], &proof, &root).is_err() || proof.is_empty());
        }
        let all: Vec<u64> = (0..13).collect();
        assert_eq!(
            inclusion_proofs_in(h, &leaves, &all).unwrap(),
            all.iter().map(|&i| inclusion_proof_in(h, &leaves, i).unwrap()).collect::<Vec<_>>()
        );
        for m in 1..13usize {
            let proof = consistency_proof_in(h, &leaves, m as u64).unwrap();
            verify_consistency_in(h, m as u64, 13, &root_of_in(h, &leaves[..m]), &root, &proof).unwrap();
        }
    }
}

//! Compact state of a growing tree.

use crate::{Hash, LedgerError, TreeHash, from_hex, hex};

/// Compact state of a growing tree: the roots of its perfect subtrees (at most
/// 64), so appending is amortised O(1) and the root O(log n). Stored by the
/// application between batches.
///
/// For a tree of `size` leaves there is one subtree root per set bit of
/// `size`, ordered left to right (largest subtree first). This is the "compact
/// range" of transparency-dev/merkle, and it is all one needs to keep
/// extending an RFC 6962 tree without the old leaves.
///
/// Serde form: `{"size": n, "nodes": ["<hex>", ...]}`; decoding checks that
/// the number of nodes matches the size.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "FrontierRepr", into = "FrontierRepr")]
pub struct Frontier {
    size: u64,
    /// Invariant: `nodes.len() == size.count_ones()`.
    nodes: Vec<Hash>,
    /// The tree's hash function (the ledger's algorithm decides it; not in the bytes).
    hash: TreeHash,
}

impl Frontier {
    /// The frontier of the empty SHA-256 tree.
    pub fn new() -> Self {
        Self::default()
    }

    /// The frontier of the empty tree hashed with `h`.
    pub fn new_in(h: TreeHash) -> Self {
        Self { hash: h, ..Self::default() }
    }

    /// The same tree, its further nodes hashed with `h` (for a frontier read back from
    /// [`Frontier::to_bytes`], which does not hold the hash function).
    pub fn with_hash(self, h: TreeHash) -> Self {
        Self { hash: h, ..self }
    }

    /// The tree's hash function.
    pub fn tree_hash(&self) -> TreeHash {
        self.hash
    }

    /// The leaf hash of `data` in this tree.
    pub fn leaf_hash(&self, data: &[u8]) -> Hash {
        self.hash.leaf(data)
    }

    /// Builds the frontier of a SHA-256 tree from all its leaf hashes.
    pub fn from_leaves(leaves: &[Hash]) -> Self {
        Self::from_leaves_in(TreeHash::Sha256, leaves)
    }

    /// Builds the frontier of a tree hashed with `h` from all its leaf hashes.
    pub fn from_leaves_in(h: TreeHash, leaves: &[Hash]) -> Self {
        let mut f = Self::new_in(h);
        for leaf in leaves {
            // A slice cannot hold u64::MAX elements, so this never fails.
            let _ = f.try_push(*leaf);
        }
        f
    }

    /// Number of leaves in the tree.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Roots of the perfect subtrees, largest (leftmost) first.
    pub fn subtree_roots(&self) -> &[Hash] {
        &self.nodes
    }

    /// Appends one leaf hash.
    ///
    /// # Panics
    ///
    /// If the tree already holds `u64::MAX` leaves, which cannot happen by
    /// appending in practice; use [`Frontier::try_push`] to get an error.
    pub fn push(&mut self, leaf: Hash) {
        if let Err(e) = self.try_push(leaf) {
            panic!("{e}");
        }
    }

    /// Appends one leaf hash, failing only when the tree is full.
    pub fn try_push(&mut self, leaf: Hash) -> Result<(), LedgerError> {
        let new_size = self.size.checked_add(1).ok_or(LedgerError::TreeFull(self.size))?;
        // Every trailing one bit of the old size is a perfect subtree of the
        // same height as the carry; merge them like a binary increment.
        let mut carry = leaf;
        let mut s = self.size;
        while s & 1 == 1 {
            let Some(left) = self.nodes.pop() else {
                break; // unreachable while the invariant holds
            };
            carry = self.hash.node(&left, &carry);
            s >>= 1;
        }
        self.nodes.push(carry);
        self.size = new_size;
        Ok(())
    }

    /// Root hash of the tree (RFC 6962 MTH); the empty tree's hash when empty.
    pub fn root(&self) -> Hash {
        // RFC 6962 splits at the largest power of two, so the root is the
        // subtree roots folded from the right.
        let mut it = self.nodes.iter().rev();
        match it.next() {
            None => self.hash.empty(),
            Some(last) => it.fold(*last, |acc, left| self.hash.node(left, &acc)),
        }
    }

    /// Compact binary form: size as u64 big-endian, then the subtree roots
    /// (32 bytes each, largest first).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(8 + 32 * self.nodes.len());
        out.extend_from_slice(&self.size.to_be_bytes());
        for n in &self.nodes {
            out.extend_from_slice(n);
        }
        out
    }

    /// Parses [`Frontier::to_bytes`]; the length must match the size exactly.
    pub fn from_bytes(b: &[u8]) -> Result<Self, LedgerError> {
        let Some((head, rest)) = b.split_first_chunk::<8>() else {
            return Err(LedgerError::InvalidFrontier(format!("need at least 8 bytes for the size, got {}", b.len())));
        };
        let size = u64::from_be_bytes(*head);
        let want = size.count_ones() as usize;
        if rest.len() != 32 * want {
            return Err(LedgerError::InvalidFrontier(format!(
                "size {size} needs {want} subtree hashes ({} bytes) after the size, got {} bytes",
                32 * want,
                rest.len()
            )));
        }
        let nodes = rest
            .chunks_exact(32)
            .map(|c| {
                let mut h = [0u8; 32];
                h.copy_from_slice(c);
                h
            })
            .collect();
        Ok(Self { size, nodes, hash: TreeHash::Sha256 })
    }
}

/// Human-readable serde form of [`Frontier`].
#[derive(serde::Serialize, serde::Deserialize)]
struct FrontierRepr {
    size: u64,
    nodes: Vec<String>,
    #[serde(default)]
    hash: TreeHash,
}

impl From<Frontier> for FrontierRepr {
    fn from(f: Frontier) -> Self {
        Self { size: f.size, nodes: f.nodes.iter().map(hex).collect(), hash: f.hash }
    }
}

impl TryFrom<FrontierRepr> for Frontier {
    type Error = LedgerError;

    fn try_from(r: FrontierRepr) -> Result<Self, LedgerError> {
        let want = r.size.count_ones() as usize;
        if r.nodes.len() != want {
            return Err(LedgerError::InvalidFrontier(format!(
                "size {} needs {want} subtree hashes, got {}",
                r.size,
                r.nodes.len()
            )));
        }
        let nodes = r.nodes.iter().map(|s| from_hex(s)).collect::<Result<Vec<_>, _>>()?;
        Ok(Self { size: r.size, nodes, hash: r.hash })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::{leaf_hash, root_of};
    use proptest::prelude::*;

    #[test]
    fn empty_frontier() {
        let f = Frontier::new();
        assert_eq!(f.size(), 0);
        assert_eq!(f.root(), crate::empty_root());
        assert_eq!(f.to_bytes(), vec![0u8; 8]);
        assert_eq!(Frontier::from_bytes(&[0u8; 8]).unwrap(), f);
    }

    #[test]
    fn subtree_count_follows_bits() {
        let mut f = Frontier::new();
        for i in 0u64..100 {
            f.push(leaf_hash(&i.to_be_bytes()));
            assert_eq!(f.subtree_roots().len() as u32, f.size().count_ones());
        }
    }

    #[test]
    fn from_bytes_rejects_wrong_lengths() {
        assert!(Frontier::from_bytes(&[]).is_err());
        assert!(Frontier::from_bytes(&[0u8; 7]).is_err());
        // size 3 needs two hashes.
        let mut b = 3u64.to_be_bytes().to_vec();
        b.extend_from_slice(&[1u8; 32]);
        let err = Frontier::from_bytes(&b).unwrap_err();
        assert!(err.to_string().contains("size 3 needs 2"), "{err}");
        b.extend_from_slice(&[2u8; 32]);
        assert!(Frontier::from_bytes(&b).is_ok());
        b.push(0);
        assert!(Frontier::from_bytes(&b).is_err());
    }

    #[test]
    fn full_tree_reports_error_instead_of_wrapping() {
        let mut b = u64::MAX.to_be_bytes().to_vec();
        b.extend(std::iter::repeat_n(7u8, 64 * 32));
        let mut f = Frontier::from_bytes(&b).unwrap();
        assert_eq!(f.try_push([0u8; 32]), Err(LedgerError::TreeFull(u64::MAX)));
        assert_eq!(f.size(), u64::MAX);
    }

    #[test]
    fn serde_repr_round_trip_and_validation() {
        let f = Frontier::from_leaves(&[leaf_hash(b"a"), leaf_hash(b"b"), leaf_hash(b"c")]);
        let r = FrontierRepr::from(f.clone());
        assert_eq!(r.nodes.len(), 2);
        assert_eq!(Frontier::try_from(r).unwrap(), f);
        let bad = FrontierRepr { size: 3, nodes: vec![hex(&[0u8; 32])], hash: TreeHash::Sha256 };
        assert!(Frontier::try_from(bad).is_err());
        let bad_hex = FrontierRepr { size: 1, nodes: vec!["zz".into()], hash: TreeHash::Sha256 };
        assert!(Frontier::try_from(bad_hex).is_err());
    }

    proptest! {
        #[test]
        fn root_matches_root_of_every_prefix(n in 0usize..300, salt in any::<u64>()) {
            let leaves: Vec<Hash> = (0..n as u64)
                .map(|i| leaf_hash(&[salt.to_be_bytes(), i.to_be_bytes()].concat()))
                .collect();
            let mut f = Frontier::new();
            prop_assert_eq!(f.root(), root_of(&[]));
            for (i, leaf) in leaves.iter().enumerate() {
                f.push(*leaf);
                prop_assert_eq!(f.size(), i as u64 + 1);
                prop_assert_eq!(f.root(), root_of(&leaves[..=i]), "prefix {}", i + 1);
            }
            prop_assert_eq!(Frontier::from_leaves(&leaves), f);
        }

        #[test]
        fn bytes_round_trip_and_resume(n in 0usize..300, extra in 0usize..20) {
            let leaves: Vec<Hash> = (0..(n + extra) as u64).map(|i| leaf_hash(&i.to_le_bytes())).collect();
            let f = Frontier::from_leaves(&leaves[..n]);
            let bytes = f.to_bytes();
            prop_assert_eq!(bytes.len(), 8 + 32 * (n as u64).count_ones() as usize);
            let mut g = Frontier::from_bytes(&bytes).unwrap();
            prop_assert_eq!(&g, &f);
            // A restored frontier keeps growing into the same tree.
            for leaf in &leaves[n..] {
                g.push(*leaf);
            }
            prop_assert_eq!(g.root(), root_of(&leaves));
        }
    }
}

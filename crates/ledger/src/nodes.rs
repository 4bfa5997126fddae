//! Proofs without every leaf: the roots of the tree's complete blocks of 256 leaves and
//! of every complete subtree above them, kept in memory (32 bytes per 256 leaves, about
//! 7.5 MiB for 30 million events), so an inclusion or consistency proof reads at most a
//! few partial blocks of leaves instead of hashing the whole tree.
//!
//! The proofs are RFC 6962's `PATH` and `SUBPROOF`, with each sibling — the root of a
//! range `[a, b)` of leaves — folded from the range's perfect aligned subtrees: the
//! cached ones whole, the rest (at most one block's worth) from leaves read for them.

use crate::{Hash, LedgerError, TreeHash, root_of_in};

/// Leaves per block: 2^BLOCK_BITS.
const BLOCK_BITS: u32 = 8;
const BLOCK: u64 = 1 << BLOCK_BITS;

/// The roots of a growing tree's complete blocks and of the complete subtrees above
/// them, with the leaves of its last, incomplete block.
#[derive(Debug, Clone)]
pub struct NodeCache {
    hash: TreeHash,
    /// `levels[k][i]`: the root of leaves `[i·2^(k+8), (i+1)·2^(k+8))`.
    levels: Vec<Vec<Hash>>,
    /// The leaves after the last complete block.
    pending: Vec<Hash>,
    size: u64,
}

impl NodeCache {
    pub fn new(hash: TreeHash) -> Self {
        NodeCache { hash, levels: Vec::new(), pending: Vec::new(), size: 0 }
    }

    /// Number of leaves taken in.
    pub fn size(&self) -> u64 {
        self.size
    }

    pub fn tree_hash(&self) -> TreeHash {
        self.hash
    }

    /// Takes in the next leaf.
    pub fn push(&mut self, leaf: Hash) {
        self.pending.push(leaf);
        self.size += 1;
        if self.pending.len() as u64 == BLOCK {
            let root = root_of_in(self.hash, &self.pending);
            self.pending.clear();
            self.push_node(0, root);
        }
    }

    fn push_node(&mut self, level: usize, root: Hash) {
        if self.levels.len() <= level {
            self.levels.push(Vec::new());
        }
        let nodes = &mut self.levels[level];
        nodes.push(root);
        if nodes.len().is_multiple_of(2) {
            let parent = self.hash.node(&nodes[nodes.len() - 2], &root);
            self.push_node(level + 1, parent);
        }
    }

    /// The cached root of the perfect subtree of `2^bits` leaves starting at `start`.
    fn perfect(&self, start: u64, bits: u32) -> Option<Hash> {
        let level = bits.checked_sub(BLOCK_BITS)? as usize;
        self.levels.get(level)?.get((start >> bits) as usize).copied()
    }

    /// The root of leaves `[a, b)`, where `a` is aligned to the largest power of two
    /// not above `b - a` (as every range of RFC 6962's recursion is). `read` gives the
    /// leaves of a range the cache does not hold.
    fn range_root(&self, a: u64, b: u64, read: &mut Reader<'_>) -> Result<Hash, LedgerError> {
        if a == b {
            return Ok(self.hash.empty());
        }
        let mut pieces = Vec::new();
        let mut p = a;
        while p < b {
            // the largest perfect subtree aligned at p that fits
            let mut bits = (b - p).ilog2();
            while !p.is_multiple_of(1u64 << bits) {
                bits -= 1;
            }
            match self.perfect(p, bits) {
                Some(root) => {
                    pieces.push(root);
                    p += 1 << bits;
                }
                None => {
                    // every further piece is smaller than a block or not complete yet:
                    // the rest of the range from leaves, in one read
                    let leaves = self.leaves(p, b, read)?;
                    pieces.push(root_of_in(self.hash, &leaves));
                    p = b;
                }
            }
        }
        let mut it = pieces.iter().rev();
        let last = *it.next().unwrap_or(&self.hash.empty());
        Ok(it.fold(last, |acc, left| self.hash.node(left, &acc)))
    }

    /// Leaves `[a, b)`: from the last incomplete block when they are there, else read.
    fn leaves(&self, a: u64, b: u64, read: &mut Reader<'_>) -> Result<Vec<Hash>, LedgerError> {
        let pending_from = self.size - self.pending.len() as u64;
        if a >= pending_from && b <= self.size {
            return Ok(self.pending[(a - pending_from) as usize..(b - pending_from) as usize].to_vec());
        }
        let leaves = read(a, b)?;
        if leaves.len() as u64 != b - a {
            return Err(LedgerError::IndexOutOfRange { index: b.saturating_sub(1), size: a + leaves.len() as u64 });
        }
        Ok(leaves)
    }

    /// The root of the tree of the first `size` leaves (`size` ≤ the cache's).
    pub fn root_at(&self, size: u64, read: &mut Reader<'_>) -> Result<Hash, LedgerError> {
        self.check(size)?;
        self.range_root(0, size, read)
    }

    /// [`crate::inclusion_proof_in`] of leaf `index` in the tree of the first `size`
    /// leaves.
    pub fn inclusion_proof(&self, index: u64, size: u64, read: &mut Reader<'_>) -> Result<Vec<Hash>, LedgerError> {
        self.check(size)?;
        if index >= size {
            return Err(LedgerError::IndexOutOfRange { index, size });
        }
        let mut proof = Vec::new();
        self.path(index, 0, size, read, &mut proof)?;
        Ok(proof)
    }

    /// [`crate::consistency_proof_in`] from the tree of `old_size` leaves to that of
    /// `size`.
    pub fn consistency_proof(&self, old_size: u64, size: u64, read: &mut Reader<'_>) -> Result<Vec<Hash>, LedgerError> {
        self.check(size)?;
        if old_size == 0 || old_size > size {
            return Err(LedgerError::InvalidConsistencySizes { old_size, new_size: size });
        }
        let mut proof = Vec::new();
        self.subproof(old_size, 0, size, true, read, &mut proof)?;
        Ok(proof)
    }

    fn check(&self, size: u64) -> Result<(), LedgerError> {
        if size > self.size {
            return Err(LedgerError::IndexOutOfRange { index: size, size: self.size });
        }
        Ok(())
    }

    /// `PATH(m, D[lo:hi])`, `m` absolute.
    fn path(&self, m: u64, lo: u64, hi: u64, read: &mut Reader<'_>, out: &mut Vec<Hash>) -> Result<(), LedgerError> {
        let n = hi - lo;
        if n <= 1 {
            return Ok(());
        }
        let k = 1u64 << (n - 1).ilog2();
        if m < lo + k {
            self.path(m, lo, lo + k, read, out)?;
            out.push(self.range_root(lo + k, hi, read)?);
        } else {
            self.path(m, lo + k, hi, read, out)?;
            out.push(self.range_root(lo, lo + k, read)?);
        }
        Ok(())
    }

    /// `SUBPROOF(m, D[lo:hi], complete)`, `m` relative to `lo`.
    fn subproof(
        &self,
        m: u64,
        lo: u64,
        hi: u64,
        complete: bool,
        read: &mut Reader<'_>,
        out: &mut Vec<Hash>,
    ) -> Result<(), LedgerError> {
        let n = hi - lo;
        if m == n {
            if !complete {
                out.push(self.range_root(lo, hi, read)?);
            }
            return Ok(());
        }
        let k = 1u64 << (n - 1).ilog2();
        if m <= k {
            self.subproof(m, lo, lo + k, complete, read, out)?;
            out.push(self.range_root(lo + k, hi, read)?);
        } else {
            self.subproof(m - k, lo + k, hi, false, read, out)?;
            out.push(self.range_root(lo, lo + k, read)?);
        }
        Ok(())
    }
}

/// Reads the leaf hashes `[from, to)` the cache does not hold (from the store).
pub type Reader<'a> = dyn FnMut(u64, u64) -> Result<Vec<Hash>, LedgerError> + 'a;

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::{consistency_proof_in, inclusion_proof_in};

    fn leaves(n: u64, salt: u64) -> Vec<Hash> {
        (0..n).map(|i| TreeHash::Sha256.leaf(&[salt.to_be_bytes(), i.to_be_bytes()].concat())).collect()
    }

    fn cache(h: TreeHash, all: &[Hash]) -> NodeCache {
        let mut c = NodeCache::new(h);
        for l in all {
            c.push(*l);
        }
        c
    }

    proptest! {
        /// Every proof from the cache equals the one made from every leaf, for trees
        /// around block boundaries, at the cache's size and at older sizes; and the
        /// cache's own test below bounds what it reads.
        #[test]
        fn proofs_from_the_cache_are_the_proofs(
            n in 1u64..1400, salt in any::<u64>(), picks in proptest::collection::vec(any::<u64>(), 1..6), sm3 in any::<bool>(),
        ) {
            let h = if sm3 { TreeHash::Sm3 } else { TreeHash::Sha256 };
            let all = leaves(n, salt);
            let c = cache(h, &all);
            let mut read = |a: u64, b: u64| Ok(all[a as usize..b as usize].to_vec());
            for p in picks {
                let size = 1 + p % n;
                let index = (p / 7) % size;
                prop_assert_eq!(c.root_at(size, &mut read).unwrap(), root_of_in(h, &all[..size as usize]));
                prop_assert_eq!(
                    c.inclusion_proof(index, size, &mut read).unwrap(),
                    inclusion_proof_in(h, &all[..size as usize], index).unwrap()
                );
                let old = 1 + (p / 13) % size;
                prop_assert_eq!(
                    c.consistency_proof(old, size, &mut read).unwrap(),
                    consistency_proof_in(h, &all[..size as usize], old).unwrap()
                );
            }
            prop_assert!(c.inclusion_proof(n, n, &mut read).is_err());
            prop_assert!(c.consistency_proof(0, n, &mut read).is_err());
        }
    }

    #[test]
    fn a_proof_in_a_large_tree_reads_a_few_blocks_at_most() {
        let all = leaves(100_000, 1);
        let c = cache(TreeHash::Sha256, &all);
        let mut read_leaves = 0u64;
        let mut read = |a: u64, b: u64| {
            read_leaves += b - a;
            Ok(all[a as usize..b as usize].to_vec())
        };
        let p = c.inclusion_proof(12_345, 99_999, &mut read).unwrap();
        assert_eq!(p, inclusion_proof_in(TreeHash::Sha256, &all[..99_999], 12_345).unwrap());
        let q = c.consistency_proof(54_321, 99_999, &mut read).unwrap();
        assert_eq!(q, consistency_proof_in(TreeHash::Sha256, &all[..99_999], 54_321).unwrap());
        assert!(read_leaves <= 4 * BLOCK, "read {read_leaves} leaves");
    }
}

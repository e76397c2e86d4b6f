//! RFC 9162 §2 Merkle tree for the append-only audit log.
//!
//! The log is expected to grow to tens of millions of leaves, so nothing here
//! needs the full leaf list in memory. Proof generation reads perfect-subtree
//! hashes through [`NodeSource`]; because every subrange that RFC 9162's
//! recursion visits is a left-aligned run of perfect subtrees, each proof costs
//! O(log n) lookups. [`Frontier`] keeps only the right edge of the tree so the
//! writer can append in O(1) amortised time and hand back the nodes to persist.

use std::fmt;

use ring::digest;

/// A SHA-256 tree hash.
pub type Hash = [u8; 32];

/// RFC 9162 §2.1.1 domain-separation prefixes; they keep a leaf from being
/// reinterpreted as an interior node (second-preimage protection).
const LEAF_PREFIX: u8 = 0x00;
const NODE_PREFIX: u8 = 0x01;

/// Deepest level a `u64`-sized tree can have: a perfect subtree at level 64
/// would need 2^64 leaves.
const MAX_LEVELS: usize = 64;

fn to_hash(d: digest::Digest) -> Hash {
    let mut out = [0u8; 32];
    out.copy_from_slice(d.as_ref());
    out
}

/// MTH({}) = SHA-256() — RFC 9162 §2.1.1.
pub fn empty_root() -> Hash {
    to_hash(digest::digest(&digest::SHA256, b""))
}

/// MTH({d}) = SHA-256(0x00 || d) — RFC 9162 §2.1.1.
pub fn leaf_hash(data: &[u8]) -> Hash {
    let mut ctx = digest::Context::new(&digest::SHA256);
    ctx.update(&[LEAF_PREFIX]);
    ctx.update(data);
    to_hash(ctx.finish())
}

/// SHA-256(0x01 || left || right) — RFC 9162 §2.1.1.
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    // One contiguous stack buffer keeps the hot append/verify path to a
    // single digest call with no allocation.
    let mut buf = [0u8; 65];
    buf[0] = NODE_PREFIX;
    buf[1..33].copy_from_slice(left);
    buf[33..].copy_from_slice(right);
    to_hash(digest::digest(&digest::SHA256, &buf))
}

/// Errors from proof and root construction.
#[derive(Debug, thiserror::Error)]
pub enum MerkleError<E> {
    #[error("leaf index {index} is not below tree size {tree_size}")]
    IndexOutOfRange { index: u64, tree_size: u64 },
    #[error("consistency proof requested from size {from} to smaller size {to}")]
    ShrinkingTree { from: u64, to: u64 },
    #[error("node source failed")]
    Source(#[source] E),
}

/// Read access to the hashes of perfect subtrees of the log.
///
/// `perfect(level, index)` returns the hash of the perfect subtree covering
/// leaves `[index * 2^level, (index + 1) * 2^level)`; level 0 is a leaf hash.
/// Implementations only ever get asked for subtrees that lie entirely inside
/// the tree size passed to the calling function.
pub trait NodeSource {
    type Error;
    fn perfect(&self, level: u32, index: u64) -> Result<Hash, Self::Error>;
}

impl<S: NodeSource + ?Sized> NodeSource for &S {
    type Error = S::Error;
    fn perfect(&self, level: u32, index: u64) -> Result<Hash, Self::Error> {
        (**self).perfect(level, index)
    }
}

/// Largest power of two strictly below `n` (the RFC 9162 §2.1.1 split point
/// `k`). Requires `n >= 2`.
fn split_point(n: u64) -> u64 {
    debug_assert!(n >= 2);
    1 << (63 - (n - 1).leading_zeros())
}

/// MTH(D[start:end]) from O(log n) perfect-subtree lookups.
///
/// RFC 9162's recursion only produces ranges whose start is a multiple of
/// 2^(bit length of the range - 1): the left part of each split is a perfect
/// subtree and the right part is again such a range. Such a range is exactly
/// the binary decomposition of its length laid out largest-first, and its MTH
/// is the right fold of those perfect subtrees, which is what we compute.
fn range_hash<S: NodeSource + ?Sized>(
    src: &S,
    start: u64,
    end: u64,
) -> Result<Hash, MerkleError<S::Error>> {
    debug_assert!(start < end);
    let len = end - start;
    debug_assert!(
        start & ((1u64 << (63 - len.leading_zeros())) - 1) == 0,
        "range [{start}, {end}) is not aligned as RFC 9162 recursion requires"
    );
    let mut bits = len;
    let mut offset = end;
    let mut acc: Option<Hash> = None;
    while bits != 0 {
        let level = bits.trailing_zeros();
        offset -= 1 << level;
        let h = src
            .perfect(level, offset >> level)
            .map_err(MerkleError::Source)?;
        acc = Some(match acc {
            None => h,
            Some(right) => node_hash(&h, &right),
        });
        bits &= bits - 1;
    }
    Ok(acc.unwrap_or_else(empty_root))
}

/// Root hash MTH(D[0:tree_size]) — RFC 9162 §2.1.1.
pub fn root<S: NodeSource + ?Sized>(
    src: &S,
    tree_size: u64,
) -> Result<Hash, MerkleError<S::Error>> {
    if tree_size == 0 {
        return Ok(empty_root());
    }
    range_hash(src, 0, tree_size)
}

/// Audit path PATH(leaf_index, D[0:tree_size]) — RFC 9162 §2.1.3.1.
///
/// The recursion is unrolled top-down and the result reversed, because the
/// RFC orders the path from the leaf's sibling up to the root's child.
/// At most one sibling is a non-perfect range (the first time the path turns
/// left); after that the remaining range is perfect, so the total cost stays
/// O(log n) lookups.
pub fn inclusion_proof<S: NodeSource + ?Sized>(
    src: &S,
    leaf_index: u64,
    tree_size: u64,
) -> Result<Vec<Hash>, MerkleError<S::Error>> {
    if leaf_index >= tree_size {
        return Err(MerkleError::IndexOutOfRange {
            index: leaf_index,
            tree_size,
        });
    }
    let mut proof = Vec::with_capacity(proof_capacity(tree_size));
    let (mut start, mut end) = (0u64, tree_size);
    while end - start > 1 {
        let mid = start + split_point(end - start);
        if leaf_index < mid {
            proof.push(range_hash(src, mid, end)?);
            end = mid;
        } else {
            proof.push(range_hash(src, start, mid)?);
            start = mid;
        }
    }
    proof.reverse();
    Ok(proof)
}

/// Consistency proof PROOF(from, D[0:to]) — RFC 9162 §2.1.4.1.
///
/// `from == 0` and `from == to` yield an empty proof: the RFC defines
/// SUBPROOF only for 0 < m < n, and both cases are trivially consistent.
pub fn consistency_proof<S: NodeSource + ?Sized>(
    src: &S,
    from: u64,
    to: u64,
) -> Result<Vec<Hash>, MerkleError<S::Error>> {
    if from > to {
        return Err(MerkleError::ShrinkingTree { from, to });
    }
    if from == 0 || from == to {
        return Ok(Vec::new());
    }
    let mut proof = Vec::with_capacity(proof_capacity(to) + 1);
    // Unrolled SUBPROOF(m, D[start:end], b) with m = from - start; the
    // invariant start < from <= end holds throughout.
    let (mut start, mut end) = (0u64, to);
    let mut complete = true;
    while from != end {
        let mid = start + split_point(end - start);
        if from <= mid {
            proof.push(range_hash(src, mid, end)?);
            end = mid;
        } else {
            proof.push(range_hash(src, start, mid)?);
            start = mid;
            complete = false;
        }
    }
    // SUBPROOF(m, D[m], false) = {MTH(D[m])}: once we stepped into a right
    // subtree the verifier cannot rebuild this node from the old root alone.
    if !complete {
        proof.push(range_hash(src, start, end)?);
    }
    proof.reverse();
    Ok(proof)
}

fn proof_capacity(tree_size: u64) -> usize {
    // ceil(log2(tree_size)) is the longest possible audit path.
    (64 - tree_size.saturating_sub(1).leading_zeros()) as usize
}

/// Verifies an audit path with the iterative algorithm of RFC 9162 §2.1.3.2.
pub fn verify_inclusion(
    leaf_hash: &Hash,
    leaf_index: u64,
    tree_size: u64,
    proof: &[Hash],
    root: &Hash,
) -> bool {
    if leaf_index >= tree_size {
        return false;
    }
    let mut walk = PathWalk {
        fnode: leaf_index,
        snode: tree_size - 1,
    };
    let mut r = *leaf_hash;
    for p in proof {
        match walk.next_sibling() {
            Some(Side::Left) => r = node_hash(p, &r),
            Some(Side::Right) => r = node_hash(&r, p),
            None => return false,
        }
    }
    walk.at_root() && r == *root
}

/// Which side of the running hash a proof element goes.
enum Side {
    Left,
    Right,
}

/// The walk both verifiers make up the tree (RFC 9162 §2.1.3.2 steps 3–5 and §2.1.4.2
/// steps 5–7): `fnode` is the node whose hash is being rebuilt, `snode` the last node of its
/// level, both shifted up one level per proof element.
struct PathWalk {
    fnode: u64,
    snode: u64,
}

impl PathWalk {
    /// The side of the next proof element, and one level up; `None` when the root is already
    /// reached, so that a proof element left over is trailing junk.
    fn next_sibling(&mut self) -> Option<Side> {
        if self.snode == 0 {
            return None;
        }
        let side = if self.fnode & 1 == 1 || self.fnode == self.snode {
            // Skip the levels where this node is the lone right-edge child
            // and so has no sibling in the proof.
            if self.fnode != 0 {
                let tz = self.fnode.trailing_zeros();
                self.fnode >>= tz;
                self.snode >>= tz;
            }
            Side::Left
        } else {
            Side::Right
        };
        self.fnode >>= 1;
        self.snode >>= 1;
        Some(side)
    }

    /// Whether the proof reached the root: a short proof stops below it.
    fn at_root(&self) -> bool {
        self.snode == 0
    }
}

/// Verifies a consistency proof with the iterative algorithm of
/// RFC 9162 §2.1.4.2.
///
/// Beyond the RFC: `from == to` requires an empty proof and equal roots, and
/// `from == 0` requires an empty proof and `from_root` equal to the empty-tree
/// hash (every tree extends the empty tree, so `to_root` is unconstrained).
pub fn verify_consistency(
    from: u64,
    to: u64,
    from_root: &Hash,
    to_root: &Hash,
    proof: &[Hash],
) -> bool {
    if from > to {
        return false;
    }
    if from == to {
        return proof.is_empty() && from_root == to_root;
    }
    if from == 0 {
        return proof.is_empty() && *from_root == empty_root();
    }
    // Step 2: when `from` is a power of two the old root is itself a node of
    // the new tree, so PROOF omits it and the verifier supplies it.
    let (seed, rest) = if from.is_power_of_two() {
        (from_root, proof)
    } else {
        match proof.split_first() {
            Some((first, rest)) => (first, rest),
            None => return false,
        }
    };
    // Step 4: skip levels where the old tree's last node is a right child
    // that is already accounted for by the seed.
    let ones = (from - 1).trailing_ones();
    let mut walk = PathWalk {
        fnode: (from - 1) >> ones,
        snode: (to - 1) >> ones,
    };
    let mut fr = *seed;
    let mut sr = *seed;
    for c in rest {
        match walk.next_sibling() {
            Some(Side::Left) => {
                fr = node_hash(c, &fr);
                sr = node_hash(c, &sr);
            }
            Some(Side::Right) => sr = node_hash(&sr, c),
            None => return false,
        }
    }
    walk.at_root() && fr == *from_root && sr == *to_root
}

/// Perfect subtrees completed by one [`Frontier::push`]: the new leaf at
/// level 0 and every parent that became complete, lowest level first.
///
/// Fixed capacity (a `u64`-sized tree completes at most 64 nodes per append)
/// so appending never allocates.
#[derive(Clone)]
pub struct Completed {
    leaf_index: u64,
    len: usize,
    hashes: [Hash; MAX_LEVELS],
}

impl Completed {
    /// Number of completed nodes (always at least 1: the leaf).
    pub fn len(&self) -> usize {
        self.len
    }

    /// Always false; present for API symmetry with `len`.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// `(level, index, hash)` of each completed node, leaf first.
    pub fn iter(&self) -> CompletedIter<'_> {
        CompletedIter {
            completed: self,
            level: 0,
        }
    }

    /// The highest completed node; it is the one the frontier now holds.
    pub fn top(&self) -> (u32, u64, Hash) {
        let level = self.len - 1;
        (level as u32, self.leaf_index >> level, self.hashes[level])
    }

    pub fn to_vec(&self) -> Vec<(u32, u64, Hash)> {
        self.iter().collect()
    }
}

impl fmt::Debug for Completed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl<'a> IntoIterator for &'a Completed {
    type Item = (u32, u64, Hash);
    type IntoIter = CompletedIter<'a>;
    fn into_iter(self) -> CompletedIter<'a> {
        self.iter()
    }
}

/// Iterator over [`Completed`] as `(level, index, hash)`.
#[derive(Debug, Clone)]
pub struct CompletedIter<'a> {
    completed: &'a Completed,
    level: usize,
}

impl Iterator for CompletedIter<'_> {
    type Item = (u32, u64, Hash);

    fn next(&mut self) -> Option<Self::Item> {
        let c = self.completed;
        if self.level >= c.len {
            return None;
        }
        let level = self.level;
        self.level += 1;
        Some((level as u32, c.leaf_index >> level, c.hashes[level]))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = self.completed.len - self.level.min(self.completed.len);
        (n, Some(n))
    }
}

impl ExactSizeIterator for CompletedIter<'_> {}

/// Returned by [`Frontier::from_parts`] when the number of hashes does not
/// match the number of perfect subtrees on the right edge of `size`.
#[derive(Debug, thiserror::Error)]
#[error("tree size {size} has {expected} right-edge subtrees, got {got} hashes")]
pub struct FrontierPartsError {
    pub size: u64,
    pub expected: usize,
    pub got: usize,
}

/// The compact range [0, size) of an append-only tree: one perfect-subtree
/// hash for each set bit of `size`.
///
/// Those subtrees are exactly the left operands every future append will be
/// combined with (RFC 9162 §2.1.1 places the largest perfect subtree on the
/// left), so they are all the state a writer or a streaming verifier needs.
#[derive(Clone)]
pub struct Frontier {
    size: u64,
    /// `nodes[level]` is meaningful only when bit `level` of `size` is set.
    nodes: [Hash; MAX_LEVELS],
}

impl Default for Frontier {
    fn default() -> Self {
        Self::new()
    }
}

impl Frontier {
    pub fn new() -> Self {
        Frontier {
            size: 0,
            nodes: [[0u8; 32]; MAX_LEVELS],
        }
    }

    /// Number of leaves appended so far.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Appends a leaf hash and returns every perfect subtree it completed so
    /// the caller can persist them for a [`NodeSource`].
    ///
    /// # Panics
    /// If the tree already holds `u64::MAX` leaves.
    pub fn push(&mut self, leaf_hash: Hash) -> Completed {
        assert!(self.size < u64::MAX, "Merkle tree size overflow");
        let index = self.size;
        let mut out = Completed {
            leaf_index: index,
            len: 1,
            hashes: [[0u8; 32]; MAX_LEVELS],
        };
        out.hashes[0] = leaf_hash;
        // Each trailing one bit of the old size is a full left sibling that
        // the new node now pairs with.
        let merges = index.trailing_ones() as usize;
        let mut h = leaf_hash;
        for level in 0..merges {
            h = node_hash(&self.nodes[level], &h);
            out.hashes[level + 1] = h;
        }
        out.len = merges + 1;
        self.nodes[merges] = h;
        self.size += 1;
        out
    }

    /// MTH of the whole tree: the right fold of the frontier hashes.
    pub fn root(&self) -> Hash {
        let mut bits = self.size;
        let mut acc: Option<Hash> = None;
        while bits != 0 {
            let level = bits.trailing_zeros() as usize;
            acc = Some(match acc {
                None => self.nodes[level],
                Some(right) => node_hash(&self.nodes[level], &right),
            });
            bits &= bits - 1;
        }
        acc.unwrap_or_else(empty_root)
    }

    /// The right-edge subtrees as `(level, index, hash)`, in the order
    /// [`Frontier::from_parts`] expects: leftmost (highest level) first.
    pub fn parts(&self) -> impl Iterator<Item = (u32, u64, Hash)> + '_ {
        let size = self.size;
        (0..MAX_LEVELS as u32)
            .rev()
            .filter(move |&level| (size >> level) & 1 == 1)
            .map(move |level| {
                // size >> level counts the complete subtrees at this level;
                // the odd one out is the last, hence the right-edge node.
                let index = (size >> level) - 1;
                (level, index, self.nodes[level as usize])
            })
    }

    /// Resumes from stored right-edge hashes.
    ///
    /// `hashes` must hold one hash per set bit of `size`, ordered from the
    /// leftmost (largest, highest level) subtree to the rightmost (smallest),
    /// i.e. the order of [`Frontier::parts`] and of a compact range read left
    /// to right.
    pub fn from_parts(size: u64, hashes: &[Hash]) -> Result<Frontier, FrontierPartsError> {
        let expected = size.count_ones() as usize;
        if hashes.len() != expected {
            return Err(FrontierPartsError {
                size,
                expected,
                got: hashes.len(),
            });
        }
        let mut f = Frontier::new();
        f.size = size;
        let levels = (0..MAX_LEVELS).rev().filter(|&l| (size >> l) & 1 == 1);
        for (level, h) in levels.zip(hashes) {
            f.nodes[level] = *h;
        }
        Ok(f)
    }

    /// Resumes from a node store: reads the O(log n) right-edge subtrees.
    pub fn from_source<S: NodeSource + ?Sized>(
        src: &S,
        size: u64,
    ) -> Result<Frontier, MerkleError<S::Error>> {
        let mut f = Frontier::new();
        f.size = size;
        for level in 0..MAX_LEVELS {
            if (size >> level) & 1 == 1 {
                f.nodes[level] = src
                    .perfect(level as u32, (size >> level) - 1)
                    .map_err(MerkleError::Source)?;
            }
        }
        Ok(f)
    }
}

impl fmt::Debug for Frontier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Frontier")
            .field("size", &self.size)
            .field("parts", &self.parts().collect::<Vec<_>>())
            .finish()
    }
}

/// A perfect subtree was requested that a [`MemoryTree`] does not hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("no perfect subtree at level {level}, index {index}")]
pub struct MissingNode {
    pub level: u32,
    pub index: u64,
}

/// In-memory tree storing every perfect subtree hash, level by level.
///
/// Meant for tests and offline verification of an exported log; a production
/// store implements [`NodeSource`] over its own table instead.
#[derive(Debug, Clone, Default)]
pub struct MemoryTree {
    /// `levels[l][i]` = hash of perfect subtree (l, i).
    levels: Vec<Vec<Hash>>,
}

impl MemoryTree {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn from_leaf_hashes<I: IntoIterator<Item = Hash>>(leaves: I) -> Self {
        let mut t = Self::new();
        for h in leaves {
            t.push(h);
        }
        t
    }

    /// Appends a leaf hash, completing parents as their right child arrives.
    pub fn push(&mut self, leaf_hash: Hash) {
        let mut h = leaf_hash;
        let mut level = 0;
        loop {
            if self.levels.len() == level {
                self.levels.push(Vec::new());
            }
            let row = &mut self.levels[level];
            row.push(h);
            let n = row.len();
            if n % 2 == 1 {
                break;
            }
            h = node_hash(&row[n - 2], &row[n - 1]);
            level += 1;
        }
    }

    pub fn size(&self) -> u64 {
        self.levels.first().map_or(0, |l| l.len() as u64)
    }

    /// MTH of all leaves pushed so far.
    pub fn root(&self) -> Hash {
        // Same right fold as `Frontier::root`; every right-edge subtree of
        // our own size is stored, so no lookup can miss.
        let size = self.size();
        let mut acc: Option<Hash> = None;
        for (level, row) in self.levels.iter().enumerate() {
            if (size >> level) & 1 == 1 {
                let h = row[row.len() - 1];
                acc = Some(match acc {
                    None => h,
                    Some(right) => node_hash(&h, &right),
                });
            }
        }
        acc.unwrap_or_else(empty_root)
    }
}

impl NodeSource for MemoryTree {
    type Error = MissingNode;
    fn perfect(&self, level: u32, index: u64) -> Result<Hash, MissingNode> {
        self.levels
            .get(level as usize)
            .and_then(|row| usize::try_from(index).ok().and_then(|i| row.get(i)))
            .copied()
            .ok_or(MissingNode { level, index })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;
    use std::convert::Infallible;

    fn hx(s: &str) -> Vec<u8> {
        assert!(s.len().is_multiple_of(2));
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    fn h(s: &str) -> Hash {
        hx(s).try_into().unwrap()
    }

    // RFC 6962 test inputs shared by the Go and C++ certificate-transparency
    // code (transparency-dev/merkle testonly.LeafInputs).
    fn leaf_inputs() -> Vec<Vec<u8>> {
        [
            "",
            "00",
            "10",
            "2021",
            "3031",
            "40414243",
            "5051525354555657",
            "606162636465666768696a6b6c6d6e6f",
        ]
        .iter()
        .map(|s| hx(s))
        .collect()
    }

    // Roots for sizes 0..=8 (testonly.RootHashes).
    const ROOTS: [&str; 9] = [
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
        "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
        "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
        "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
    ];

    // Every perfect subtree of the 8-leaf tree (testonly.NodeHashes).
    const NODES: [&[&str]; 4] = [
        &[
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7",
            "07506a85fd9dd2f120eb694f86011e5bb4662e5c415a62917033d4a9624487e7",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "4271a26be0d8a84f0bd54c8c302e7cb3a3b5d1fa6780a40bcce2873477dab658",
            "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
            "46f6ffadd3d06a09ff3c5860d2755c8b9819db7df44251788c7d8e3180de8eb1",
        ],
        &[
            "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
        ],
        &[
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
        &["5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"],
    ];

    // (leaf index, tree size, path) from the CT verifier tests.
    const INCLUSION: [(u64, u64, &[&str]); 5] = [
        (0, 1, &[]),
        (
            0,
            8,
            &[
                "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
                "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
            ],
        ),
        (
            5,
            8,
            &[
                "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
                "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
                "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
            ],
        ),
        (
            2,
            3,
            &["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"],
        ),
        (
            1,
            5,
            &[
                "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
                "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            ],
        ),
    ];

    // (from, to, proof) from the CT verifier tests.
    const CONSISTENCY: [(u64, u64, &[&str]); 5] = [
        (1, 1, &[]),
        (
            1,
            8,
            &[
                "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
                "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
            ],
        ),
        (
            6,
            8,
            &[
                "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
                "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
                "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
            ],
        ),
        (
            2,
            5,
            &[
                "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            ],
        ),
        (
            6,
            7,
            &[
                "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
                "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
                "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
            ],
        ),
    ];

    fn hashes(v: &[&str]) -> Vec<Hash> {
        v.iter().map(|s| h(s)).collect()
    }

    fn vector_tree() -> MemoryTree {
        MemoryTree::from_leaf_hashes(leaf_inputs().iter().map(|d| leaf_hash(d)))
    }

    fn synthetic_leaves(n: u64) -> Vec<Hash> {
        (0..n).map(|i| leaf_hash(&i.to_be_bytes())).collect()
    }

    // Literal transcription of the RFC 9162 §2.1.1 recursion.
    fn naive_mth(leaves: &[Hash]) -> Hash {
        match leaves.len() {
            0 => empty_root(),
            1 => leaves[0],
            n => {
                let k = split_point(n as u64) as usize;
                node_hash(&naive_mth(&leaves[..k]), &naive_mth(&leaves[k..]))
            }
        }
    }

    // Literal transcription of RFC 9162 §2.1.3.1.
    fn naive_path(m: usize, leaves: &[Hash]) -> Vec<Hash> {
        let n = leaves.len();
        if n == 1 {
            return Vec::new();
        }
        let k = split_point(n as u64) as usize;
        if m < k {
            let mut p = naive_path(m, &leaves[..k]);
            p.push(naive_mth(&leaves[k..]));
            p
        } else {
            let mut p = naive_path(m - k, &leaves[k..]);
            p.push(naive_mth(&leaves[..k]));
            p
        }
    }

    // Literal transcription of RFC 9162 §2.1.4.1.
    fn naive_subproof(m: usize, leaves: &[Hash], b: bool) -> Vec<Hash> {
        let n = leaves.len();
        if m == n {
            return if b {
                Vec::new()
            } else {
                vec![naive_mth(leaves)]
            };
        }
        let k = split_point(n as u64) as usize;
        if m <= k {
            let mut p = naive_subproof(m, &leaves[..k], b);
            p.push(naive_mth(&leaves[k..]));
            p
        } else {
            let mut p = naive_subproof(m - k, &leaves[k..], false);
            p.push(naive_mth(&leaves[..k]));
            p
        }
    }

    #[test]
    fn hash_primitives() {
        assert_eq!(empty_root(), h(ROOTS[0]));
        assert_eq!(leaf_hash(b""), h(NODES[0][0]));
        assert_eq!(node_hash(&h(NODES[0][0]), &h(NODES[0][1])), h(NODES[1][0]));
    }

    #[test]
    fn vector_nodes_and_roots() {
        let tree = vector_tree();
        for (level, row) in NODES.iter().enumerate() {
            for (index, want) in row.iter().enumerate() {
                assert_eq!(
                    tree.perfect(level as u32, index as u64).unwrap(),
                    h(want),
                    "node ({level}, {index})"
                );
            }
        }
        let mut frontier = Frontier::new();
        assert_eq!(frontier.root(), h(ROOTS[0]));
        assert_eq!(root(&tree, 0).unwrap(), h(ROOTS[0]));
        for (i, data) in leaf_inputs().iter().enumerate() {
            frontier.push(leaf_hash(data));
            let size = i as u64 + 1;
            assert_eq!(root(&tree, size).unwrap(), h(ROOTS[i + 1]), "size {size}");
            assert_eq!(frontier.root(), h(ROOTS[i + 1]), "frontier size {size}");
        }
        assert_eq!(tree.root(), h(ROOTS[8]));
    }

    #[test]
    fn vector_inclusion_proofs() {
        let tree = vector_tree();
        let leaves = leaf_inputs();
        for (index, size, want) in INCLUSION {
            let want = hashes(want);
            let got = inclusion_proof(&tree, index, size).unwrap();
            assert_eq!(got, want, "inclusion {index} in {size}");
            let lh = leaf_hash(&leaves[index as usize]);
            assert!(verify_inclusion(
                &lh,
                index,
                size,
                &want,
                &h(ROOTS[size as usize])
            ));
        }
    }

    #[test]
    fn vector_consistency_proofs() {
        let tree = vector_tree();
        for (from, to, want) in CONSISTENCY {
            let want = hashes(want);
            let got = consistency_proof(&tree, from, to).unwrap();
            assert_eq!(got, want, "consistency {from} -> {to}");
            assert!(verify_consistency(
                from,
                to,
                &h(ROOTS[from as usize]),
                &h(ROOTS[to as usize]),
                &want
            ));
        }
    }

    #[test]
    fn inclusion_all_sizes() {
        let leaves = synthetic_leaves(70);
        let mut tree = MemoryTree::new();
        for n in 1..=70u64 {
            tree.push(leaves[n as usize - 1]);
            let rt = root(&tree, n).unwrap();
            for i in 0..n {
                let lh = leaves[i as usize];
                let proof = inclusion_proof(&tree, i, n).unwrap();
                assert_eq!(proof, naive_path(i as usize, &leaves[..n as usize]));
                assert!(verify_inclusion(&lh, i, n, &proof, &rt), "{i} in {n}");

                for j in 0..proof.len() {
                    for byte in [0, 31] {
                        let mut bad = proof.clone();
                        bad[j][byte] ^= 0x01;
                        assert!(!verify_inclusion(&lh, i, n, &bad, &rt));
                    }
                }
                let mut bad_leaf = lh;
                bad_leaf[7] ^= 0x80;
                assert!(!verify_inclusion(&bad_leaf, i, n, &proof, &rt));
                let mut bad_root = rt;
                bad_root[0] ^= 0x01;
                assert!(!verify_inclusion(&lh, i, n, &proof, &bad_root));
                if !proof.is_empty() {
                    assert!(!verify_inclusion(&lh, i, n, &proof[1..], &rt));
                    assert!(!verify_inclusion(&lh, i, n, &proof[..proof.len() - 1], &rt));
                }
                let mut longer = proof.clone();
                longer.push(rt);
                assert!(!verify_inclusion(&lh, i, n, &longer, &rt));
                for wi in [i + 1, i ^ 1, i ^ 2] {
                    if wi != i && wi < n {
                        assert!(
                            !verify_inclusion(&lh, wi, n, &proof, &rt),
                            "{wi} for {i}/{n}"
                        );
                    }
                }
                assert!(!verify_inclusion(&lh, n, n, &proof, &rt));
            }
        }
        assert!(matches!(
            inclusion_proof(&tree, 70, 70),
            Err(MerkleError::IndexOutOfRange { .. })
        ));
        assert!(matches!(
            inclusion_proof(&tree, 0, 0),
            Err(MerkleError::IndexOutOfRange { .. })
        ));
    }

    #[test]
    fn consistency_all_sizes() {
        let leaves = synthetic_leaves(70);
        let tree = MemoryTree::from_leaf_hashes(leaves.iter().copied());
        let roots: Vec<Hash> = (0..=70).map(|n| root(&tree, n).unwrap()).collect();
        for n in 1..=70u64 {
            let rn = roots[n as usize];
            assert!(verify_consistency(0, n, &empty_root(), &rn, &[]));
            assert!(consistency_proof(&tree, 0, n).unwrap().is_empty());
            for m in 1..=n {
                let rm = roots[m as usize];
                let proof = consistency_proof(&tree, m, n).unwrap();
                if m < n {
                    assert_eq!(
                        proof,
                        naive_subproof(m as usize, &leaves[..n as usize], true)
                    );
                } else {
                    assert!(proof.is_empty());
                }
                assert!(verify_consistency(m, n, &rm, &rn, &proof), "{m} -> {n}");

                for j in 0..proof.len() {
                    let mut bad = proof.clone();
                    bad[j][16] ^= 0x10;
                    assert!(!verify_consistency(m, n, &rm, &rn, &bad), "{m}->{n} [{j}]");
                }
                let mut bad_rm = rm;
                bad_rm[3] ^= 1;
                assert!(!verify_consistency(m, n, &bad_rm, &rn, &proof));
                let mut bad_rn = rn;
                bad_rn[3] ^= 1;
                assert!(!verify_consistency(m, n, &rm, &bad_rn, &proof));
                if m < n {
                    assert!(!verify_consistency(m, n, &rn, &rm, &proof), "swapped");
                    assert!(!verify_consistency(
                        m,
                        n,
                        &rm,
                        &rn,
                        &proof[..proof.len() - 1]
                    ));
                    let mut longer = proof.clone();
                    longer.push(rn);
                    assert!(!verify_consistency(m, n, &rm, &rn, &longer));
                    let mut prefixed = vec![proof[0]];
                    prefixed.extend_from_slice(&proof);
                    assert!(!verify_consistency(m, n, &rm, &rn, &prefixed));
                    assert!(!verify_consistency(m, n, &rm, &rn, &[]));
                    assert!(!verify_consistency(n, m, &rn, &rm, &proof));
                    if m > 1 {
                        assert!(!verify_consistency(m - 1, n, &rm, &rn, &proof));
                    }
                    if m + 1 < n {
                        assert!(!verify_consistency(m + 1, n, &rm, &rn, &proof));
                    }
                }
            }
        }
        assert!(!verify_consistency(0, 5, &roots[1], &roots[5], &[]));
        assert!(!verify_consistency(3, 3, &roots[3], &roots[4], &[]));
        assert!(matches!(
            consistency_proof(&tree, 5, 4),
            Err(MerkleError::ShrinkingTree { from: 5, to: 4 })
        ));
    }

    #[test]
    fn frontier_matches_memory_tree_and_naive() {
        let leaves = synthetic_leaves(600);
        let mut frontier = Frontier::new();
        let mut tree = MemoryTree::new();
        for (i, lh) in leaves.iter().enumerate() {
            let completed = frontier.push(*lh);
            tree.push(*lh);
            let n = i as u64 + 1;
            assert_eq!(completed.len() as u32, (i as u64).trailing_ones() + 1);
            for (level, index, hash) in &completed {
                assert_eq!(tree.perfect(level, index).unwrap(), hash);
            }
            assert_eq!(completed.top(), completed.to_vec()[completed.len() - 1]);
            assert_eq!(frontier.size(), n);
            let fr = frontier.root();
            assert_eq!(fr, tree.root(), "size {n}");
            assert_eq!(fr, naive_mth(&leaves[..=i]), "size {n}");
        }
    }

    #[test]
    fn frontier_resume() {
        let leaves = synthetic_leaves(300);
        let tree = MemoryTree::from_leaf_hashes(leaves.iter().copied());
        for n in [0u64, 1, 2, 3, 7, 8, 63, 64, 65, 200, 255] {
            let mut a = Frontier::new();
            for lh in &leaves[..n as usize] {
                a.push(*lh);
            }
            let parts: Vec<(u32, u64, Hash)> = a.parts().collect();
            for &(level, index, hash) in &parts {
                assert_eq!(tree.perfect(level, index).unwrap(), hash);
            }
            let stored: Vec<Hash> = parts.iter().map(|p| p.2).collect();
            let mut b = Frontier::from_parts(n, &stored).unwrap();
            let mut c = Frontier::from_source(&tree, n).unwrap();
            assert_eq!(b.root(), a.root());
            assert_eq!(c.root(), a.root());
            for lh in &leaves[n as usize..] {
                let ca = a.push(*lh).to_vec();
                assert_eq!(b.push(*lh).to_vec(), ca);
                assert_eq!(c.push(*lh).to_vec(), ca);
            }
            assert_eq!(b.root(), tree.root());
            assert_eq!(c.root(), tree.root());
        }
        assert!(Frontier::from_parts(3, &[[0; 32]]).is_err());
        assert!(Frontier::from_parts(0, &[[0; 32]]).is_err());
    }

    #[test]
    fn memory_tree_reports_missing_nodes() {
        let tree = MemoryTree::from_leaf_hashes(synthetic_leaves(5));
        assert!(matches!(
            root(&tree, 6),
            Err(MerkleError::Source(MissingNode { .. }))
        ));
        assert!(matches!(
            inclusion_proof(&tree, 0, 9),
            Err(MerkleError::Source(_))
        ));
    }

    /// Fake store standing in for a 10M+ leaf table: values are meaningless,
    /// we only count how many lookups proof construction performs.
    struct CountingSource {
        calls: Cell<u32>,
    }

    impl NodeSource for CountingSource {
        type Error = Infallible;
        fn perfect(&self, level: u32, index: u64) -> Result<Hash, Infallible> {
            self.calls.set(self.calls.get() + 1);
            let mut b = [0u8; 12];
            b[..4].copy_from_slice(&level.to_be_bytes());
            b[4..].copy_from_slice(&index.to_be_bytes());
            Ok(leaf_hash(&b))
        }
    }

    #[test]
    fn lookups_are_logarithmic() {
        let src = CountingSource {
            calls: Cell::new(0),
        };
        for n in [10_000_000u64, 10_000_001, (1 << 40) - 1, (1 << 40) + 12345] {
            let bound = 2 * (64 - n.leading_zeros()) + 2;
            for i in [0, 1, n / 3, n - 2, n - 1] {
                src.calls.set(0);
                let p = inclusion_proof(&src, i, n).unwrap();
                assert!(
                    src.calls.get() <= bound,
                    "inclusion {i}/{n}: {}",
                    src.calls.get()
                );
                assert!(p.len() <= 64);
            }
            for m in [1, 2, n / 2, n - 7, n - 1] {
                src.calls.set(0);
                consistency_proof(&src, m, n).unwrap();
                assert!(
                    src.calls.get() <= bound,
                    "consistency {m}/{n}: {}",
                    src.calls.get()
                );
            }
            src.calls.set(0);
            root(&src, n).unwrap();
            assert_eq!(src.calls.get(), n.count_ones());
        }
    }
}

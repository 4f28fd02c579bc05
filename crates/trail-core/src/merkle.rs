//! RFC 6962 / RFC 9162 Merkle tree math: hashes, roots, proofs, and their verification.
//!
//! Leaves are `SHA-256(0x00 || leaf)` and nodes `SHA-256(0x01 || left || right)`. A tree of `n`
//! leaves is split at the largest power of two below `n`, recursively (RFC 6962 section 2.1).
//!
//! Proof generation reads node hashes through [`NodeSource`], which stores answer from what
//! they keep (Trail keeps complete subtrees in tiles), so a proof reads O(log n) nodes.
//! Verification follows transparency-dev/merkle, whose test vectors (in `testdata/`) it passes:
//! it is what a client uses to check Trail's answers, and it needs nothing but hashes.

use sha2::{Digest, Sha256};

pub type Hash = [u8; 32];

/// `SHA-256(0x00 || data)`.
pub fn leaf_hash(data: &[u8]) -> Hash {
    let mut h = Sha256::new();
    h.update([0u8]);
    h.update(data);
    h.finalize().into()
}

/// `SHA-256(0x01 || left || right)`.
pub fn node_hash(left: &[u8], right: &[u8]) -> Hash {
    let mut h = Sha256::new();
    h.update([1u8]);
    h.update(left);
    h.update(right);
    h.finalize().into()
}

/// The root of an empty tree: `SHA-256("")`.
pub fn empty_root() -> Hash {
    Sha256::digest([]).into()
}

/// Complete subtrees of a tree, by height and index: the node at height `h` and index `i`
/// covers leaves `[i * 2^h, (i + 1) * 2^h)`.
pub trait NodeSource {
    type Error;
    fn node(&self, height: u8, index: u64) -> Result<Hash, Self::Error>;
}

/// The largest power of two strictly less than `n` (n >= 2).
fn split(n: u64) -> u64 {
    1 << (63 - (n - 1).leading_zeros())
}

/// The hash of leaves `[lo, hi)`, as RFC 6962 defines it for that range.
pub fn range_hash<S: NodeSource>(src: &S, lo: u64, hi: u64) -> Result<Hash, S::Error> {
    let n = hi - lo;
    if n == 0 {
        return Ok(empty_root());
    }
    if n.is_power_of_two() && lo.is_multiple_of(n) {
        return src.node(n.trailing_zeros() as u8, lo / n);
    }
    let k = split(n);
    Ok(node_hash(&range_hash(src, lo, lo + k)?, &range_hash(src, lo + k, hi)?))
}

/// The root of the first `size` leaves.
pub fn root<S: NodeSource>(src: &S, size: u64) -> Result<Hash, S::Error> {
    range_hash(src, 0, size)
}

/// The inclusion proof of leaf `index` in the tree of the first `size` leaves (RFC 6962
/// PATH), bottom to top.
pub fn inclusion_proof<S: NodeSource>(src: &S, index: u64, size: u64) -> Result<Vec<Hash>, S::Error> {
    let mut out = Vec::new();
    path(src, index, 0, size, &mut out)?;
    Ok(out)
}

fn path<S: NodeSource>(src: &S, m: u64, lo: u64, hi: u64, out: &mut Vec<Hash>) -> Result<(), S::Error> {
    let n = hi - lo;
    if n <= 1 {
        return Ok(());
    }
    let k = split(n);
    if m < k {
        path(src, m, lo, lo + k, out)?;
        out.push(range_hash(src, lo + k, hi)?);
    } else {
        path(src, m - k, lo + k, hi, out)?;
        out.push(range_hash(src, lo, lo + k)?);
    }
    Ok(())
}

/// The consistency proof between the trees of the first `size1` and `size2` leaves (RFC 6962
/// PROOF), for 0 < size1 <= size2.
pub fn consistency_proof<S: NodeSource>(src: &S, size1: u64, size2: u64) -> Result<Vec<Hash>, S::Error> {
    let mut out = Vec::new();
    if size1 > 0 && size1 < size2 {
        subproof(src, size1, 0, size2, true, &mut out)?;
    }
    Ok(out)
}

fn subproof<S: NodeSource>(
    src: &S,
    m: u64,
    lo: u64,
    hi: u64,
    whole: bool,
    out: &mut Vec<Hash>,
) -> Result<(), S::Error> {
    let n = hi - lo;
    if m == n {
        if !whole {
            out.push(range_hash(src, lo, hi)?);
        }
        return Ok(());
    }
    let k = split(n);
    if m <= k {
        subproof(src, m, lo, lo + k, whole, out)?;
        out.push(range_hash(src, lo + k, hi)?);
    } else {
        subproof(src, m - k, lo + k, hi, false, out)?;
        out.push(range_hash(src, lo, lo + k)?);
    }
    Ok(())
}

/// Why a proof does not verify.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ProofError(pub String);

fn err(s: impl Into<String>) -> ProofError {
    ProofError(s.into())
}

/// (inner, border): how many proof hashes fall inside the subtree that differs between the
/// leaf's path and the right edge, and how many above it.
fn decompose(index: u64, size: u64) -> (usize, usize) {
    let inner = 64 - (index ^ (size - 1)).leading_zeros() as usize;
    let border = (index >> inner).count_ones() as usize;
    (inner, border)
}

fn chain_inner(mut seed: Hash, proof: &[Vec<u8>], index: u64) -> Hash {
    for (i, h) in proof.iter().enumerate() {
        seed = if (index >> i) & 1 == 0 { node_hash(&seed, h) } else { node_hash(h, &seed) };
    }
    seed
}

fn chain_inner_right(mut seed: Hash, proof: &[Vec<u8>], index: u64) -> Hash {
    for (i, h) in proof.iter().enumerate() {
        if (index >> i) & 1 == 1 {
            seed = node_hash(h, &seed);
        }
    }
    seed
}

fn chain_border_right(mut seed: Hash, proof: &[Vec<u8>]) -> Hash {
    for h in proof {
        seed = node_hash(h, &seed);
    }
    seed
}

/// Verifies that `leaf` is leaf `index` of the tree of `size` leaves whose root is `root`.
pub fn verify_inclusion(index: u64, size: u64, leaf: &[u8], proof: &[Vec<u8>], root: &[u8]) -> Result<(), ProofError> {
    if index >= size {
        return Err(err(format!("leaf index {index} is beyond the tree size {size}")));
    }
    let leaf: Hash = leaf.try_into().map_err(|_| err(format!("a leaf hash has 32 bytes, not {}", leaf.len())))?;
    let (inner, border) = decompose(index, size);
    if proof.len() != inner + border {
        return Err(err(format!(
            "the proof has {} hashes; a proof for leaf {index} of {size} has {}",
            proof.len(),
            inner + border
        )));
    }
    let got = chain_border_right(chain_inner(leaf, &proof[..inner], index), &proof[inner..]);
    if got[..] != root[..] {
        return Err(err("the proof leads to another root: the leaf is not in this tree"));
    }
    Ok(())
}

/// Verifies that the tree of `size2` leaves with root `root2` extends the tree of `size1`
/// leaves with root `root1`.
pub fn verify_consistency(
    size1: u64,
    size2: u64,
    proof: &[Vec<u8>],
    root1: &[u8],
    root2: &[u8],
) -> Result<(), ProofError> {
    if size2 < size1 {
        return Err(err(format!("size {size2} is smaller than size {size1}")));
    }
    if size1 == 0 {
        return Err(err("consistency with an empty tree proves nothing"));
    }
    if size1 == size2 {
        if !proof.is_empty() {
            return Err(err("trees of equal size need an empty proof"));
        }
        return if root1 == root2 { Ok(()) } else { Err(err("trees of equal size have different roots")) };
    }
    if proof.is_empty() {
        return Err(err("the proof is empty"));
    }
    let (inner, border) = decompose(size1 - 1, size2);
    let shift = size1.trailing_zeros() as usize;
    let inner = inner - shift;
    let (seed, start) = if size1 == 1 << shift {
        (root1.try_into().map_err(|_| err("a root has 32 bytes"))?, 0)
    } else {
        (proof[0].as_slice().try_into().map_err(|_| err("a proof hash has 32 bytes"))?, 1)
    };
    if proof.len() != start + inner + border {
        return Err(err(format!("the proof has {} hashes; this one needs {}", proof.len(), start + inner + border)));
    }
    let proof = &proof[start..];
    let mask = (size1 - 1) >> shift;
    let hash1 = chain_border_right(chain_inner_right(seed, &proof[..inner], mask), &proof[inner..]);
    if hash1[..] != root1[..] {
        return Err(err(format!("the proof does not lead to the root of size {size1}")));
    }
    let hash2 = chain_border_right(chain_inner(seed, &proof[..inner], mask), &proof[inner..]);
    if hash2[..] != root2[..] {
        return Err(err(format!("the proof does not lead to the root of size {size2}")));
    }
    Ok(())
}

/// Leaves kept in memory (tests, and `trail verify`'s rebuilt trees).
pub struct MemoryTree {
    pub leaves: Vec<Hash>,
}

impl NodeSource for MemoryTree {
    type Error = std::convert::Infallible;

    fn node(&self, height: u8, index: u64) -> Result<Hash, Self::Error> {
        let size = 1u64 << height;
        let lo = (index * size) as usize;
        Ok(naive_root(&self.leaves[lo..lo + size as usize]))
    }
}

/// The root of `leaves` computed straight from the definition.
pub fn naive_root(leaves: &[Hash]) -> Hash {
    match leaves.len() {
        0 => empty_root(),
        1 => leaves[0],
        n => {
            let k = split(n as u64) as usize;
            node_hash(&naive_root(&leaves[..k]), &naive_root(&leaves[k..]))
        }
    }
}

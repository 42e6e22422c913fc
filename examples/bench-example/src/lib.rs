//! The code this example crate benches: a hash function, as any crate's own.
//! Its `cargo bench` (benches/hash.rs) measures what a CPU hog beside it does
//! to the function's latency, unconfined and with the hog limited to half a
//! CPU (`docker run --cpus 0.5`), with isobench.
#![deny(missing_docs)]

/// FNV-1a, 64 bits, of `bytes` (Fowler, Noll, Vo; draft-eastlake-fnv): about
/// one multiplication per byte, so 4 KiB take a few µs.
pub fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, &b| {
        (hash ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fnv1a_matches_the_reference_vectors() {
        assert_eq!(fnv1a(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fnv1a(b"foobar"), 0x8594_4171_f739_67e8);
    }
}

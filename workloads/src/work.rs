//! The unit of CPU work: integer arithmetic the optimiser cannot remove,
//! with no memory traffic beyond registers, so its cost depends on CPU time only.

use std::hint::black_box;
use std::time::{Duration, Instant};

/// Runs `iters` rounds of a xorshift64 generator and returns its state.
///
/// One iteration is a handful of ALU operations (a few ns); [`calibrate`] finds
/// how many make a unit of the wanted length on this host.
pub fn unit(iters: u64) -> u64 {
    let mut x: u64 = black_box(0x9E37_79B9_7F4A_7C15);
    for _ in 0..iters {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
    }
    black_box(x)
}

/// Finds `iters` such that [`unit`] takes about `target` on an idle CPU.
///
/// Doubles a probe until it takes at least 1 ms, scales it to `target`, then
/// times 31 units and keeps the median. Returns `(iters, median_ns)`.
pub fn calibrate(target: Duration) -> (u64, u64) {
    let mut probe = 1_000u64;
    let per_iter_ns = loop {
        let t = Instant::now();
        unit(probe);
        let took = t.elapsed();
        if took >= Duration::from_millis(1) {
            break took.as_nanos() as f64 / probe as f64;
        }
        probe *= 2;
    };
    let iters = ((target.as_nanos() as f64 / per_iter_ns).round() as u64).max(1);
    let mut samples: Vec<u64> = (0..31)
        .map(|_| {
            let t = Instant::now();
            unit(iters);
            t.elapsed().as_nanos() as u64
        })
        .collect();
    samples.sort_unstable();
    (iters, samples[samples.len() / 2])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unit_is_deterministic_and_depends_on_iters() {
        assert_eq!(unit(1000), unit(1000));
        assert_ne!(unit(1000), unit(1001));
    }

    #[test]
    fn calibration_scales_iterations_with_the_target() {
        let (short, _) = calibrate(Duration::from_micros(50));
        let (long, _) = calibrate(Duration::from_micros(500));
        // Ten times the target needs several times the iterations, however noisy the host.
        assert!(long > short * 3, "short {short} long {long}");
    }
}

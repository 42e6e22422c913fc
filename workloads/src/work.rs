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
/// Estimates the cost of one iteration from the fastest of five ~1 ms probes (a
/// probe that was preempted only looks slower), then times 31 units and keeps the
/// median, rescaling `iters` until that median is within 5 % of `target` (at most
/// four passes). Returns `(iters, median_ns)`.
pub fn calibrate(target: Duration) -> (u64, u64) {
    let mut probe = 1_000u64;
    while time_ns(probe) < 1_000_000 {
        probe *= 2;
    }
    let per_iter_ns = (0..5).map(|_| time_ns(probe)).min().unwrap_or(1) as f64 / probe as f64;
    let target_ns = target.as_nanos() as f64;
    let mut iters = ((target_ns / per_iter_ns).round() as u64).max(1);
    let mut median = 0;
    for _ in 0..4 {
        let mut samples: Vec<u64> = (0..31).map(|_| time_ns(iters)).collect();
        samples.sort_unstable();
        median = samples[samples.len() / 2].max(1);
        if (median as f64 - target_ns).abs() <= 0.05 * target_ns {
            break;
        }
        iters = ((iters as f64 * target_ns / median as f64).round() as u64).max(1);
    }
    (iters, median)
}

/// Wall time of one [`unit`] of `iters` iterations, ns.
fn time_ns(iters: u64) -> u64 {
    let t = Instant::now();
    unit(iters);
    t.elapsed().as_nanos() as u64
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

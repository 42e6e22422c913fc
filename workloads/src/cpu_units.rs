//! Victim `cpu-units`: fixed CPU work units scheduled open-loop at a target rate.
//!
//! Unit `i` is due at `t0 + i / rate`. Its latency runs from that intended start
//! to its end, so a victim that stalls records the delay of every unit it pushed
//! back, not only of the one that stalled (coordinated omission; Gil Tene,
//! "How NOT to Measure Latency", and wrk2's open-loop model).

use crate::report::{UnitsReport, histogram_to_pairs, new_histogram};
use crate::work;
use std::time::{Duration, Instant};

/// How the victim runs.
#[derive(Debug, Clone, Copy)]
pub struct UnitsPlan {
    /// Iterations of [`work::unit`] per unit (from calibration).
    pub iters_per_unit: u64,
    /// Intended units per second.
    pub rate: f64,
    /// Units run before the measured window and not recorded.
    pub warmup: Duration,
    /// Length of the measured window.
    pub duration: Duration,
}

/// Runs the plan and reports the units of the measured window.
///
/// A unit due inside the window and started before it closes counts as an op
/// (its latency recorded even if it ends just after the close); units still
/// waiting when the window closes count as `missed`.
pub fn run(plan: UnitsPlan) -> UnitsReport {
    // Sleeps end close to their deadline rather than up to 50 µs late.
    let _ = nix::sys::prctl::set_timerslack(1);
    let interval = Duration::from_secs_f64(1.0 / plan.rate);
    let start = Instant::now();
    let window_start = start + plan.warmup;
    let window_end = window_start + plan.duration;
    let mut hist = new_histogram();
    let (mut ops, mut missed) = (0u64, 0u64);
    let mut due = start;
    while due < window_end {
        let now = Instant::now();
        if now >= window_end {
            // Everything due from here to the end of the window was never started.
            let left = (window_end - due.max(window_start)).as_secs_f64() * plan.rate;
            missed += left.ceil() as u64;
            break;
        }
        if due > now {
            std::thread::sleep(due - now);
        }
        work::unit(plan.iters_per_unit);
        if due >= window_start {
            let latency_ns = (Instant::now() - due).as_nanos().min(u128::from(u64::MAX)) as u64;
            hist.saturating_record(latency_ns);
            ops += 1;
        }
        due += interval;
    }
    UnitsReport {
        ops,
        missed,
        window_s: plan.duration.as_secs_f64(),
        rate: plan.rate,
        latency_ns: histogram_to_pairs(&hist),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn idle_victim_completes_about_its_rate_times_the_window() {
        let report = run(UnitsPlan {
            iters_per_unit: 10,
            rate: 1000.0,
            warmup: Duration::from_millis(20),
            duration: Duration::from_millis(200),
        });
        // 200 units are due; a loaded test host may miss a few at the end.
        assert!((150..=201).contains(&report.ops), "ops {}", report.ops);
        let recorded: u64 = report.latency_ns.iter().map(|&(_, c)| c).sum();
        assert_eq!(recorded, report.ops);
    }

    #[test]
    fn units_too_long_for_the_rate_show_as_growing_latency_and_missed_units() {
        // Units of ~2 ms due every 0.2 ms: the victim falls ever further behind. Even if a
        // loaded test host made calibration overestimate the unit several times over,
        // far more is due in the window than can run.
        let (iters, _) = work::calibrate(Duration::from_millis(2));
        let report = run(UnitsPlan {
            iters_per_unit: iters,
            rate: 5000.0,
            warmup: Duration::ZERO,
            duration: Duration::from_millis(200),
        });
        assert!(
            report.missed > report.ops,
            "missed {} ops {}",
            report.missed,
            report.ops
        );
        let max = report.latency_ns.iter().map(|&(v, _)| v).max().unwrap();
        assert!(
            max > 50_000_000,
            "the last units started over 50 ms late: max {max} ns"
        );
    }
}

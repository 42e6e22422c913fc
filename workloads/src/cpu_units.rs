//! Victim `cpu-units`: fixed CPU work units scheduled open-loop at a target rate
//! (see [`crate::open_loop`]).

use crate::open_loop::{self, Schedule};
use crate::report::UnitsReport;
use crate::work;

/// Runs units of `iters_per_unit` iterations of [`work::unit`] (from calibration) on `schedule`.
pub fn run(iters_per_unit: u64, schedule: Schedule) -> UnitsReport {
    open_loop::run(schedule, || {
        work::unit(iters_per_unit);
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn idle_victim_completes_about_its_rate_times_the_window() {
        let report = run(
            10,
            Schedule {
                rate: 1000.0,
                warmup: Duration::from_millis(20),
                duration: Duration::from_millis(200),
                slice: None,
            },
        );
        // 200 units are due; a loaded test host may miss a few at the end.
        assert!((150..=201).contains(&report.ops), "ops {}", report.ops);
        let recorded: u64 = report.latency_ns.iter().map(|&(_, c)| c).sum();
        assert_eq!(recorded, report.ops + report.missed);
    }

    #[test]
    fn units_too_long_for_the_rate_show_as_growing_latency_and_missed_units() {
        // Units of ~2 ms due every 0.2 ms: the victim falls ever further behind. Even if a
        // loaded test host made calibration overestimate the unit several times over,
        // far more is due in the window than can run.
        let (iters, _) = work::calibrate(Duration::from_millis(2));
        let report = run(
            iters,
            Schedule {
                rate: 5000.0,
                warmup: Duration::ZERO,
                duration: Duration::from_millis(200),
                slice: None,
            },
        );
        assert!(
            report.missed > report.ops,
            "missed {} ops {}",
            report.missed,
            report.ops
        );
        let recorded: u64 = report.latency_ns.iter().map(|&(_, c)| c).sum();
        assert_eq!(
            recorded,
            report.ops + report.missed,
            "missed units are recorded too"
        );
        let max = report.latency_ns.iter().map(|&(v, _)| v).max().unwrap();
        assert!(
            max > 50_000_000,
            "the last units started over 50 ms late: max {max} ns"
        );
    }
}

//! Victim `wakeup-latency`: how late a sleeping thread wakes (the question of
//! cyclictest and schbench).
//!
//! Its units are empty: at each due time of the open-loop schedule (see
//! [`crate::open_loop`]) it sleeps until that time and records how late it woke,
//! so each latency is the oversleep, wake time minus intended time. The sleep
//! is relative to an `Instant` read just before it, with a timer slack of 1 ns;
//! cyclictest uses `clock_nanosleep(TIMER_ABSTIME)` on `CLOCK_MONOTONIC`, which
//! differs only when the thread is preempted between reading the clock and
//! sleeping, and that delay counts here as it would be felt. A victim that wakes
//! so late that the next due time has passed does not sleep, and records how far
//! behind it is: a neighbour that holds the CPU shows as a run of late wake-ups.

use crate::open_loop::{self, Schedule};
use crate::report::UnitsReport;

/// Sleeps to every due time of `schedule` and reports the oversleep of each, ns.
pub fn run(schedule: Schedule) -> UnitsReport {
    open_loop::run(schedule, || {})
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn wakes_every_due_time_and_records_each() {
        let r = run(Schedule {
            rate: 1000.0,
            warmup: Duration::from_millis(10),
            duration: Duration::from_millis(200),
            slice: None,
        });
        assert!((150..=201).contains(&r.ops), "ops {}", r.ops);
        let recorded: u64 = r.latency_ns.iter().map(|&(_, c)| c).sum();
        assert_eq!(recorded, r.ops + r.missed);
        // A sleep cannot end early: every oversleep is positive, and on an idle
        // host the median is well under a millisecond.
        let median = median_ns(&r.latency_ns);
        assert!(median > 0 && median < 5_000_000, "median {median} ns");
    }

    fn median_ns(pairs: &[(u64, u64)]) -> u64 {
        let total: u64 = pairs.iter().map(|&(_, c)| c).sum();
        let mut seen = 0;
        for &(v, c) in pairs {
            seen += c;
            if seen * 2 >= total {
                return v;
            }
        }
        0
    }
}

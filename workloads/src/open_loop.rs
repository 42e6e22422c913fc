//! The open-loop schedule every victim runs its work units on.
//!
//! Unit `i` is due at `t0 + i / rate`. Its latency runs from that intended start
//! to its end, so a victim that stalls records the delay of every unit it pushed
//! back, not only of the one that stalled (coordinated omission; Gil Tene,
//! "How NOT to Measure Latency", and wrk2's open-loop model).

use crate::report::{UnitsReport, histogram_to_pairs, new_histogram};
use std::time::{Duration, Instant};

/// When units are due.
#[derive(Debug, Clone, Copy)]
pub struct Schedule {
    /// Intended units per second.
    pub rate: f64,
    /// Units run before the measured window and not recorded.
    pub warmup: Duration,
    /// Length of the measured window.
    pub duration: Duration,
}

/// Runs `unit` on `schedule` and reports the units of the measured window.
///
/// A unit due inside the window and started before it closes counts as an op
/// (its latency recorded even if it ends just after the close); units still
/// waiting when the window closes count as `missed` and are recorded with the
/// time they had waited by then, a lower bound of their latency, so that a
/// victim stalled through the whole window still shows its delay (as wrk2
/// records requests it could not send in time).
pub fn run(schedule: Schedule, mut unit: impl FnMut()) -> UnitsReport {
    // Sleeps end close to their deadline rather than up to 50 µs late.
    let _ = nix::sys::prctl::set_timerslack(1);
    let interval = Duration::from_secs_f64(1.0 / schedule.rate);
    let start = Instant::now();
    let window_start = start + schedule.warmup;
    let window_end = window_start + schedule.duration;
    let mut hist = new_histogram();
    let (mut ops, mut missed) = (0u64, 0u64);
    let mut due = start;
    while due < window_end {
        let now = Instant::now();
        if now >= window_end {
            // Everything due from here to the end of the window was never started.
            let mut waiting = due;
            while waiting < window_start {
                waiting += interval;
            }
            while waiting < window_end {
                hist.saturating_record((now - waiting).as_nanos().min(u128::from(u64::MAX)) as u64);
                missed += 1;
                waiting += interval;
            }
            break;
        }
        if due > now {
            std::thread::sleep(due - now);
        }
        unit();
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
        window_s: schedule.duration.as_secs_f64(),
        rate: schedule.rate,
        latency_ns: histogram_to_pairs(&hist),
    }
}

//! The open-loop schedule every victim runs its work units on.
//!
//! Unit `i` is due at `t0 + i / rate`. Its latency runs from that intended start
//! to its end, so a victim that stalls records the delay of every unit it pushed
//! back, not only of the one that stalled (coordinated omission; Gil Tene,
//! "How NOT to Measure Latency", and wrk2's open-loop model).
//!
//! [`run`] covers units that end when their function returns; [`Ticks`] is the
//! schedule itself, for a victim whose units end elsewhere (`tcp-echo`, whose
//! replies arrive on another thread).

use crate::report::{UnitsReport, histogram_to_pairs, new_histogram};
use crate::slices::{SliceRecorder, SliceSpec};
use hdrhistogram::Histogram;
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
    /// Slices of the window whose latencies are also reported apart
    /// ([`crate::slices`]); `None` for none.
    pub slice: Option<SliceSpec>,
}

/// One unit as the schedule hands it out.
#[derive(Debug, Clone, Copy)]
pub struct Due {
    /// Its intended start.
    pub at: Instant,
    /// Whether it falls inside the measured window (false during warm-up).
    pub measured: bool,
}

impl Due {
    /// Time from the intended start to `end`, ns (0 if `end` is earlier).
    pub fn latency_ns(&self, end: Instant) -> u64 {
        end.saturating_duration_since(self.at)
            .as_nanos()
            .min(u128::from(u64::MAX)) as u64
    }
}

/// The open-loop schedule of one run: hands out due units, sleeping until each
/// is due, and counts and records them.
///
/// A unit due inside the window and started before it closes counts as an op
/// (its latency recorded even if it ends just after the close); units still
/// waiting when the window closes count as `missed` and are recorded with the
/// time they had waited by then, a lower bound of their latency, so that a
/// victim stalled through the whole window still shows its delay (as wrk2
/// records requests it could not send in time).
#[derive(Debug)]
pub struct Ticks {
    schedule: Schedule,
    interval: Duration,
    window_start: Instant,
    window_end: Instant,
    next: Instant,
    hist: Histogram<u64>,
    ops: u64,
    missed: u64,
    /// Per-slice latencies, while every unit's latency is known here; dropped
    /// (`None`) once a unit ends elsewhere, whose latency this schedule never sees.
    slices: Option<SliceRecorder>,
}

impl Ticks {
    /// Starts the schedule now: the first unit is due at once.
    pub fn start(schedule: Schedule) -> Ticks {
        // Sleeps end close to their deadline rather than up to 50 µs late.
        let _ = nix::sys::prctl::set_timerslack(1);
        let start = Instant::now();
        let window_start = start + schedule.warmup;
        let slices = schedule
            .slice
            .map(|slice| SliceRecorder::new(window_start, schedule.duration, slice));
        Ticks {
            schedule,
            interval: Duration::from_secs_f64(1.0 / schedule.rate),
            window_start,
            window_end: window_start + schedule.duration,
            next: start,
            hist: new_histogram(),
            ops: 0,
            missed: 0,
            slices,
        }
    }

    /// When the measured window closes.
    pub fn window_end(&self) -> Instant {
        self.window_end
    }

    /// Sleeps until the next unit is due and returns it, or `None` once the
    /// window has closed, when every unit due in the window and not started is
    /// recorded as missed. The unit stays the next one until [`Ticks::started`]
    /// is called for it: a victim that cannot start it yet may ask again.
    pub fn next_due(&mut self) -> Option<Due> {
        if self.next >= self.window_end {
            return None;
        }
        let now = Instant::now();
        if now >= self.window_end {
            let mut waiting = self.next;
            while waiting < self.window_start {
                waiting += self.interval;
            }
            while waiting < self.window_end {
                let ns = Due {
                    at: waiting,
                    measured: true,
                }
                .latency_ns(now);
                self.hist.saturating_record(ns);
                if let Some(s) = &mut self.slices {
                    s.record(waiting, ns);
                }
                self.missed += 1;
                waiting += self.interval;
            }
            self.next = self.window_end;
            return None;
        }
        if self.next > now {
            std::thread::sleep(self.next - now);
        }
        Some(Due {
            at: self.next,
            measured: self.next >= self.window_start,
        })
    }

    /// Counts `due` as started (an op if measured) and moves on to the next unit;
    /// `latency_ns`, where the unit has ended, is recorded (a unit that ends
    /// elsewhere is recorded there and merged by [`Ticks::report`]).
    pub fn started(&mut self, due: Due, latency_ns: Option<u64>) {
        if due.measured {
            self.ops += 1;
            match latency_ns {
                Some(ns) => {
                    self.hist.saturating_record(ns);
                    if let Some(s) = &mut self.slices {
                        s.record(due.at, ns);
                    }
                }
                None => self.slices = None,
            }
        }
        self.next += self.interval;
    }

    /// The report of the window, with `elsewhere`'s latencies (units that ended
    /// on another thread) added.
    pub fn report(mut self, elsewhere: Option<&Histogram<u64>>) -> UnitsReport {
        if let Some(h) = elsewhere {
            // Both histograms share the bounds of `new_histogram`, so nothing is out of range.
            let _ = self.hist.add(h);
        }
        UnitsReport {
            ops: self.ops,
            missed: self.missed,
            window_s: self.schedule.duration.as_secs_f64(),
            rate: self.schedule.rate,
            latency_ns: histogram_to_pairs(&self.hist),
            failure: None,
            slices: self.slices.map(SliceRecorder::report),
        }
    }
}

/// Runs `unit` on `schedule` and reports the units of the measured window, each
/// with its latency from its intended start to the return of `unit`.
pub fn run(schedule: Schedule, mut unit: impl FnMut()) -> UnitsReport {
    let mut ticks = Ticks::start(schedule);
    while let Some(due) = ticks.next_due() {
        unit();
        ticks.started(due, Some(due.latency_ns(Instant::now())));
    }
    ticks.report(None)
}

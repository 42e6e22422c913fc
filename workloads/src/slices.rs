//! The victim's latency per time slice of its window (issue 17): how its tail
//! moves while a neighbour comes and goes, which a window-wide percentile
//! averages away.
//!
//! The window is cut into slices of `--slice-ms` (10–100 ms) from its start;
//! each unit belongs to the slice of its intended start (the open-loop due
//! time, [`crate::open_loop`]), so a stall is charged to the slices whose units
//! it delayed, as their latencies are. A unit still waiting when the window
//! closes is counted with the time it had waited, as the histogram counts it.
//! Each slice reports its units and its p99 by the nearest-rank method (the
//! ⌈0.99·n⌉-th smallest latency; Hyndman and Fan, "Sample quantiles in
//! statistical packages", 1996, definition 1). The slices' origin is the
//! window's start on CLOCK_MONOTONIC, the clock the harness stamps a
//! neighbour's phase changes on, so the two line up.
//!
//! Memory: one `u64` per unit of the window (the latencies are kept until the
//! end to take exact percentiles), bounded by the victim's rate × window.

use serde::{Deserialize, Serialize};
use std::time::{Duration, Instant};

/// Shortest slice, ms: below it a slice of a victim at a few thousand units/s
/// holds too few units for a p99.
pub const MIN_SLICE_MS: u64 = 10;
/// Longest slice, ms: above it a 200 ms phase holds fewer than two slices.
pub const MAX_SLICE_MS: u64 = 100;

/// The window's latencies per slice, as the victim reports them.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SliceReport {
    /// CLOCK_MONOTONIC where slice 0 starts (the window's start, or the origin
    /// the harness gave), ns.
    pub start_mono_ns: u64,
    /// Length of each slice, ns.
    pub slice_ns: u64,
    /// Units of each slice (by intended start), in order.
    pub units: Vec<u64>,
    /// Nearest-rank p99 of each slice's latencies, ns; null for a slice without units.
    pub p99_ns: Vec<Option<u64>>,
}

/// How a victim slices its window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SliceSpec {
    /// Length of each slice.
    pub len: Duration,
    /// CLOCK_MONOTONIC on whose grid the slices start, ns: the harness gives
    /// the time it counts its neighbours' phases from, so that slices and
    /// phases share their edges; `None`: the window's start. Slice 0 starts at
    /// the last edge of the grid at or before the window's start (or at the
    /// origin, when that is later: units due before it are left out of the
    /// slices, not of the histogram).
    pub origin_mono_ns: Option<u64>,
}

/// Latencies gathered per slice while the window runs.
#[derive(Debug)]
pub struct SliceRecorder {
    window_start: Instant,
    slice: Duration,
    latencies: Vec<Vec<u64>>,
    start_mono_ns: u64,
}

impl SliceRecorder {
    /// A recorder of the window from `window_start` for `window`, cut into
    /// slices as `spec` says (the last slice may be shorter).
    pub fn new(window_start: Instant, window: Duration, spec: SliceSpec) -> SliceRecorder {
        // Instant is CLOCK_MONOTONIC on Linux: read both now and shift.
        let (now, mono) = (Instant::now(), crate::hold::monotonic_ns());
        let window_mono = if window_start >= now {
            mono + (window_start - now).as_nanos() as u64
        } else {
            mono.saturating_sub((now - window_start).as_nanos() as u64)
        };
        let slice_ns = spec.len.as_nanos().max(1) as u64;
        // An origin well before the window (the harness counts from before it
        // started the neighbours) moves forward by whole slices, so that the
        // edges stay on its grid and no slice lies wholly before the window.
        let start_mono_ns = match spec.origin_mono_ns {
            Some(o) if o < window_mono => o + (window_mono - o) / slice_ns * slice_ns,
            Some(o) => o,
            None => window_mono,
        };
        let origin = if start_mono_ns >= window_mono {
            window_start + Duration::from_nanos(start_mono_ns - window_mono)
        } else {
            window_start
                .checked_sub(Duration::from_nanos(window_mono - start_mono_ns))
                .unwrap_or(window_start)
        };
        let end = window_start + window;
        let covered = end.saturating_duration_since(origin);
        let slice = spec.len;
        let count = covered.as_nanos().div_ceil(slice.as_nanos().max(1)).max(1) as usize;
        SliceRecorder {
            window_start: origin,
            slice,
            latencies: vec![Vec::new(); count],
            start_mono_ns,
        }
    }

    /// Records a unit due at `due` that took `latency_ns`; one due outside the window is ignored.
    pub fn record(&mut self, due: Instant, latency_ns: u64) {
        let Some(offset) = due.checked_duration_since(self.window_start) else {
            return;
        };
        let i = (offset.as_nanos() / self.slice.as_nanos().max(1)) as usize;
        if let Some(slot) = self.latencies.get_mut(i) {
            slot.push(latency_ns);
        }
    }

    /// The slices' units and p99s.
    pub fn report(self) -> SliceReport {
        let mut units = Vec::with_capacity(self.latencies.len());
        let mut p99_ns = Vec::with_capacity(self.latencies.len());
        for mut l in self.latencies {
            units.push(l.len() as u64);
            p99_ns.push(nearest_rank(&mut l, 0.99));
        }
        SliceReport {
            start_mono_ns: self.start_mono_ns,
            slice_ns: self.slice.as_nanos() as u64,
            units,
            p99_ns,
        }
    }
}

/// The nearest-rank `q` quantile of `values` (sorted here); `None` when empty.
pub fn nearest_rank(values: &mut [u64], q: f64) -> Option<u64> {
    if values.is_empty() {
        return None;
    }
    values.sort_unstable();
    let rank = ((q * values.len() as f64).ceil() as usize).clamp(1, values.len());
    Some(values[rank - 1])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_p99_of_a_hundred_is_the_99th() {
        let mut v: Vec<u64> = (1..=100).rev().collect();
        assert_eq!(nearest_rank(&mut v, 0.99), Some(99));
        assert_eq!(nearest_rank(&mut [7], 0.99), Some(7));
        assert_eq!(nearest_rank(&mut [], 0.99), None);
    }

    #[test]
    fn units_go_to_the_slice_of_their_intended_start() {
        let start = Instant::now();
        let ms = Duration::from_millis;
        let spec = SliceSpec {
            len: ms(40),
            origin_mono_ns: None,
        };
        let mut r = SliceRecorder::new(start, ms(100), spec);
        r.record(start + ms(1), 10);
        r.record(start + ms(39), 30);
        r.record(start + ms(41), 500);
        r.record(start + ms(99), 7);
        r.record(start + ms(120), 1); // past the window: ignored
        let rep = r.report();
        assert_eq!(rep.units, vec![2, 1, 1]);
        assert_eq!(rep.p99_ns, vec![Some(30), Some(500), Some(7)]);
        assert_eq!(rep.slice_ns, 40_000_000);
        let mono = crate::hold::monotonic_ns();
        assert!(rep.start_mono_ns <= mono && mono - rep.start_mono_ns < 1_000_000_000);
    }

    #[test]
    fn an_origin_from_the_harness_moves_the_slice_edges() {
        let start = Instant::now() + Duration::from_millis(50);
        let ms = Duration::from_millis;
        let probe = SliceRecorder::new(
            start,
            ms(100),
            SliceSpec {
                len: ms(40),
                origin_mono_ns: None,
            },
        );
        // Slices counted from 10 ms into the window.
        let spec = SliceSpec {
            len: ms(40),
            origin_mono_ns: Some(probe.start_mono_ns + 10_000_000),
        };
        let mut r = SliceRecorder::new(start, ms(100), spec);
        r.record(start + ms(5), 1); // before the origin: left out
        r.record(start + ms(12), 2);
        r.record(start + ms(51), 3);
        let rep = r.report();
        assert_eq!(rep.units, vec![1, 1, 0]);
        assert_eq!(rep.start_mono_ns, probe.start_mono_ns + 10_000_000);
        // An origin 130 ms before the window: the grid's last edge before it is 10 ms before.
        let spec = SliceSpec {
            len: ms(40),
            origin_mono_ns: Some(probe.start_mono_ns - 130_000_000),
        };
        let r = SliceRecorder::new(start, ms(100), spec);
        assert_eq!(r.start_mono_ns, probe.start_mono_ns - 10_000_000);
        assert_eq!(r.latencies.len(), 3);
    }
}

//! The victim's latency per time slice beside phased neighbours (issue 17):
//! its slices ([`isobench_workloads::slices`]) lined up with the phase changes
//! the harness stamped ([`crate::scenario::phases`]), both on CLOCK_MONOTONIC,
//! and the transient figures of one condition in one round.
//!
//! Definitions (docs/results-schema.md, "Transient figures"):
//! - **worst slice p99**: the largest slice p99 of the window.
//! - **on / off slices**: a slice is *on* when its midpoint lies in a span in
//!   which at least one phased neighbour was on, *off* otherwise; the median
//!   slice p99 of each (slices without units left out): the median, so that
//!   one slice disturbed by other work on the host does not carry the figure.
//! - **recovery**: at each moment the last neighbour left (an on → off change
//!   of the union of on-spans), the time until the victim's tail is back: the
//!   first slice with at least half its length after that moment, before the
//!   next on-span, whose p99 is within [`RECOVERY_TOLERANCE`] (10 %) of the
//!   reference (the same round's solo p99 over its whole window); recovery is
//!   that slice's start less the moment, 0 when it starts before it. Its
//!   resolution is one slice. A change the victim does not recover from
//!   before the neighbour comes back (or the window ends) is *unrecovered* and
//!   counts the whole off-span, a lower bound. A round's recovery is the mean
//!   over its changes.
//! - **share of slices over the objective**: slices whose p99 is above the
//!   victim's `slo.p99_us`, of the slices with units.

use crate::scenario::phases::PhaseRecord;
use isobench_reports::schema_phases::{PhaseFlip, PhaseTrace, RampSpan, SlicePoint};
use isobench_workloads::slices::SliceReport;

/// How far above the reference p99 a slice's p99 may be and count as recovered: 10 %.
pub const RECOVERY_TOLERANCE: f64 = 0.10;

/// One condition's slices and its neighbours' phases, on the slices' time axis.
#[derive(Debug, Clone, PartialEq)]
pub struct Transient {
    /// Length of each slice, ms.
    pub slice_ms: f64,
    /// The slices, from the first.
    pub points: Vec<SlicePoint>,
    /// Each phased neighbour's changes, from the first slice's start.
    pub phases: Vec<PhaseTrace>,
    /// Where at least one neighbour was on, `[from_ms, to_ms]`, merged and in order.
    pub on_spans: Vec<[f64; 2]>,
}

/// The figures of one recovery (see the module's docs).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Recovery {
    /// When the last neighbour left, ms from the first slice's start.
    pub at_ms: f64,
    /// Time until the tail was back, ms; `None` when it was not back before the next on-span.
    pub after_ms: Option<f64>,
    /// Length of the off-span that followed, ms.
    pub off_ms: f64,
}

impl Transient {
    /// Lines up the victim's `slices` with `phases` (none in solo).
    pub fn new(slices: &SliceReport, phases: Option<&PhaseRecord>) -> Transient {
        let slice_ms = slices.slice_ns as f64 / 1e6;
        let points: Vec<SlicePoint> = slices
            .units
            .iter()
            .zip(&slices.p99_ns)
            .enumerate()
            .map(|(i, (&units, p99))| SlicePoint {
                start_ms: i as f64 * slice_ms,
                units,
                p99_us: p99.map(|ns| ns as f64 / 1e3),
            })
            .collect();
        let end_ms = points.len() as f64 * slice_ms;
        let rel = |mono: u64| (mono as f64 - slices.start_mono_ns as f64) / 1e6;
        let mut traces = Vec::new();
        if let Some(record) = phases {
            for t in &record.traces {
                let mut on = t.on_at_origin;
                let mut since = rel(record.origin_mono_ns).max(0.0);
                let mut spans = Vec::new();
                let mut flips = Vec::new();
                for f in &t.flips {
                    let at = rel(f.at_mono_ns);
                    flips.push(PhaseFlip {
                        at_ms: at,
                        on: f.on,
                        write_us: f.write_us,
                    });
                    if on && !f.on {
                        push_span(&mut spans, since, at, end_ms);
                    }
                    if f.on {
                        since = at.max(0.0);
                    }
                    on = f.on;
                }
                if on {
                    push_span(&mut spans, since, end_ms, end_ms);
                }
                traces.push(PhaseTrace {
                    sandbox: t.sandbox.clone(),
                    mechanism: t.mechanism,
                    on_at_start: t.on_at_origin,
                    flips,
                    on_ms: spans,
                    ramp: t.ramp.map(|r| RampSpan {
                        from_pct: r.from_pct,
                        to_pct: r.to_pct,
                        start_ms: rel(r.start_mono_ns),
                        end_ms: rel(r.end_mono_ns),
                    }),
                });
            }
        }
        let on_spans = merge(
            traces
                .iter()
                .flat_map(|t| t.on_ms.iter().copied())
                .collect(),
        );
        Transient {
            slice_ms,
            points,
            phases: traces,
            on_spans,
        }
    }

    /// The largest slice p99, µs; `None` without a slice with units.
    pub fn worst_p99_us(&self) -> Option<f64> {
        self.points
            .iter()
            .filter_map(|p| p.p99_us)
            .max_by(f64::total_cmp)
    }

    /// The fewest units of a slice, the first and the last left out (they may
    /// straddle the window's edges); `None` with fewer than three slices.
    pub fn fewest_units(&self) -> Option<u64> {
        let n = self.points.len();
        (n >= 3).then(|| self.points[1..n - 1].iter().map(|p| p.units).min())?
    }

    /// Whether some neighbour was on at `t_ms`.
    fn on_at(&self, t_ms: f64) -> bool {
        self.on_spans.iter().any(|s| s[0] <= t_ms && t_ms < s[1])
    }

    /// The median p99 of the on slices (`on`) or the off slices, µs (the
    /// mean of the middle two for an even count); `None` without such a slice.
    pub fn median_p99_us(&self, on: bool) -> Option<f64> {
        let mut values: Vec<f64> = self
            .points
            .iter()
            .filter(|p| self.on_at(p.start_ms + self.slice_ms / 2.0) == on)
            .filter_map(|p| p.p99_us)
            .collect();
        values.sort_by(f64::total_cmp);
        let n = values.len();
        (n > 0).then(|| (values[(n - 1) / 2] + values[n / 2]) / 2.0)
    }

    /// Each recovery after the last neighbour left, against `reference_us` (the solo p99).
    pub fn recoveries(&self, reference_us: f64) -> Vec<Recovery> {
        let end_ms = self.points.len() as f64 * self.slice_ms;
        let limit = reference_us * (1.0 + RECOVERY_TOLERANCE);
        let mut out = Vec::new();
        for (i, span) in self.on_spans.iter().enumerate() {
            let at = span[1];
            if at >= end_ms {
                continue; // on to the window's end: no change to recover from
            }
            let next_on = self.on_spans.get(i + 1).map_or(end_ms, |s| s[0]);
            let after = self
                .points
                .iter()
                .filter(|p| p.start_ms + self.slice_ms / 2.0 >= at)
                .take_while(|p| p.start_ms + self.slice_ms / 2.0 < next_on)
                .find(|p| p.p99_us.is_some_and(|v| v <= limit))
                .map(|p| (p.start_ms - at).max(0.0));
            out.push(Recovery {
                at_ms: at,
                after_ms: after,
                off_ms: next_on - at,
            });
        }
        out
    }

    /// The share of slices with units whose p99 is above `slo_us`; `None` without such slices.
    pub fn over_slo_share(&self, slo_us: f64) -> Option<f64> {
        let measured: Vec<f64> = self.points.iter().filter_map(|p| p.p99_us).collect();
        (!measured.is_empty()).then(|| {
            measured.iter().filter(|&&v| v > slo_us).count() as f64 / measured.len() as f64
        })
    }
}

/// A round's recovery time, ms: the mean over `recoveries`, an unrecovered
/// one counting its whole off-span; `None` without a change to recover from.
pub fn recovery_ms(recoveries: &[Recovery]) -> Option<f64> {
    (!recoveries.is_empty()).then(|| {
        recoveries
            .iter()
            .map(|r| r.after_ms.unwrap_or(r.off_ms))
            .sum::<f64>()
            / recoveries.len() as f64
    })
}

/// The share of `recoveries` the victim did not recover from; `None` without any.
pub fn unrecovered_share(recoveries: &[Recovery]) -> Option<f64> {
    (!recoveries.is_empty()).then(|| {
        recoveries.iter().filter(|r| r.after_ms.is_none()).count() as f64 / recoveries.len() as f64
    })
}

/// Adds span `[from, to]` clipped to `[0, end]`, when anything is left of it.
fn push_span(spans: &mut Vec<[f64; 2]>, from: f64, to: f64, end: f64) {
    let (a, b) = (from.max(0.0), to.min(end));
    if b > a {
        spans.push([a, b]);
    }
}

/// `spans` sorted and merged where they touch or overlap.
fn merge(mut spans: Vec<[f64; 2]>) -> Vec<[f64; 2]> {
    spans.sort_by(|a, b| a[0].total_cmp(&b[0]));
    let mut out: Vec<[f64; 2]> = Vec::new();
    for s in spans {
        match out.last_mut() {
            Some(last) if s[0] <= last[1] => last[1] = last[1].max(s[1]),
            _ => out.push(s),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::phases::{Flip, Trace};
    use isobench_reports::schema_phases::PhaseMechanism;

    const MS: u64 = 1_000_000;

    /// Eight 50 ms slices from t = 1 s with these p99s (µs) and 100 units each.
    fn slices(p99_us: [u64; 8]) -> SliceReport {
        SliceReport {
            start_mono_ns: 1000 * MS,
            slice_ns: 50 * MS,
            units: vec![100; 8],
            p99_ns: p99_us.iter().map(|&us| Some(us * 1000)).collect(),
        }
    }

    /// A neighbour on at the start, off at 100 ms, on at 300 ms (from t = 1 s).
    fn phases() -> PhaseRecord {
        let flip = |ms: u64, on| Flip {
            at_mono_ns: 1000 * MS + ms * MS,
            on,
            write_us: 20.0,
        };
        PhaseRecord {
            origin_mono_ns: 1000 * MS,
            traces: vec![Trace {
                sandbox: "hog".into(),
                mechanism: PhaseMechanism::FreezerState,
                on_at_origin: true,
                flips: vec![flip(100, false), flip(300, true)],
                ramp: None,
            }],
        }
    }

    #[test]
    fn on_and_off_slices_are_told_apart_by_their_midpoints() {
        let t = Transient::new(
            &slices([900, 1100, 300, 110, 100, 100, 1000, 1000]),
            Some(&phases()),
        );
        assert_eq!(t.on_spans, vec![[0.0, 100.0], [300.0, 400.0]]);
        assert_eq!(t.median_p99_us(true), Some(1000.0));
        assert_eq!(t.median_p99_us(false), Some(105.0));
        assert_eq!(t.worst_p99_us(), Some(1100.0));
        assert_eq!(t.fewest_units(), Some(100));
    }

    #[test]
    fn recovery_is_the_first_slice_back_within_ten_percent_of_solo() {
        let t = Transient::new(
            &slices([900, 1100, 300, 110, 100, 100, 1000, 1000]),
            Some(&phases()),
        );
        // Reference 100 µs: 300 is out, 110 is in (10 %): back at 150 ms, 50 ms after leaving.
        let r = t.recoveries(100.0);
        assert_eq!(r.len(), 1);
        assert_eq!(r[0].after_ms, Some(50.0));
        assert_eq!(recovery_ms(&r), Some(50.0));
        assert_eq!(unrecovered_share(&r), Some(0.0));
        // Reference 50 µs: never back before the neighbour returns at 300 ms.
        let r = t.recoveries(50.0);
        assert_eq!(r[0].after_ms, None);
        assert_eq!(recovery_ms(&r), Some(200.0));
        assert_eq!(unrecovered_share(&r), Some(1.0));
    }

    #[test]
    fn solo_has_slices_but_nothing_to_recover_from() {
        let t = Transient::new(&slices([100; 8]), None);
        assert!(t.recoveries(100.0).is_empty());
        assert_eq!(recovery_ms(&[]), None);
        assert_eq!(t.over_slo_share(99.0), Some(1.0));
        assert_eq!(t.over_slo_share(100.0), Some(0.0));
    }
}

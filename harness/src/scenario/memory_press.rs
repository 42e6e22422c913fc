//! Whether a memory aggressor really pressed while the victim ran, from its
//! sandbox's counters (docs/validity.md): it must have reached its load before
//! the victim started, held it through the victim's run, and still be alive at
//! its end. Reclaim at its own limit (v2 `memory.events` `max`/`high`, v1
//! `memory.failcnt`; Documentation/admin-guide/cgroup-v2.rst,
//! cgroup-v1/memory.rst) is recorded beside it: it shows that the limit was
//! exercised, where the host has page cache to reclaim.

use super::memory_pressure::size;
use crate::cgroup::MemoryEvents;
use isobench_reports::schema::{MemoryPressure, TimelineSample};
use isobench_workloads::memory_limit::MemoryLimit;
use isobench_workloads::report::PressReport;

/// A charge at or above this share of the target counts as holding the load.
pub const HELD: f64 = 0.9;

/// A condition is valid only when the aggressor held its load in at least this
/// share of the samples taken while the victim ran.
pub const HELD_SAMPLES: f64 = 0.9;

/// What the harness saw of the aggressor's growth before it started the victim.
#[derive(Debug, Clone, Copy)]
pub struct Fill {
    /// Seconds it waited.
    pub waited_s: f64,
    /// The aggressor sandbox's charge when the wait ended, bytes; `None` when unreadable.
    pub start_bytes: Option<u64>,
}

/// Everything the evidence is built from.
pub struct Seen<'a> {
    /// Its sandbox's lowest memory limit, as read back from the kernel.
    pub limit: Option<&'a MemoryLimit>,
    /// The charge it was to hold, bytes.
    pub target_bytes: u64,
    /// Its growth before the victim started.
    pub fill: Fill,
    /// The timeline taken while the victim ran.
    pub timeline: &'a [TimelineSample],
    /// The aggressor's index in each timeline sample.
    pub index: usize,
    /// Its sandbox's limit counters when the victim started and when it ended.
    pub events: Option<(MemoryEvents, MemoryEvents)>,
    /// How it ended before the victim did; `None` while it was still running.
    pub ended: Option<String>,
    /// Its own report, when it printed one.
    pub report: Option<&'a PressReport>,
}

/// The evidence of one condition.
pub fn evidence(seen: &Seen<'_>) -> MemoryPressure {
    let charges: Vec<u64> = seen
        .timeline
        .iter()
        .filter_map(|s| s.sandboxes.get(seen.index)?.memory.current_bytes)
        .collect();
    let floor = (seen.target_bytes as f64 * HELD) as u64;
    let held = charges.iter().filter(|&&c| c >= floor).count();
    let limit_events = seen.events.and_then(|(before, after)| {
        let d = |f: fn(&MemoryEvents) -> Option<u64>| Some(f(&after)?.saturating_sub(f(&before)?));
        match (d(|e| e.max), d(|e| e.high)) {
            (None, None) => None,
            (max, high) => Some(max.unwrap_or(0) + high.unwrap_or(0)),
        }
    });
    MemoryPressure {
        limit_knob: seen.limit.map(|l| l.knob.clone()),
        limit_bytes: seen.limit.map(|l| l.bytes),
        target_bytes: seen.target_bytes,
        start_bytes: seen.fill.start_bytes,
        fill_wait_s: seen.fill.waited_s,
        min_bytes: charges.iter().min().copied(),
        held_share: (!charges.is_empty()).then(|| held as f64 / charges.len() as f64),
        samples: charges.len(),
        limit_events,
        alive_at_end: seen.ended.is_none(),
        ended: seen.ended.clone(),
        method: method(seen),
    }
}

/// How it pressed, in words, from its report (or what it was asked to do).
fn method(seen: &Seen<'_>) -> String {
    let Some(r) = seen.report else {
        let why = match &seen.ended {
            Some(how) => format!("it ended early ({how}) and printed no report"),
            None => "it printed no report when stopped".into(),
        };
        return format!(
            "mem-hog was to hold a charge of {} and press on its limit; {why}",
            size(seen.target_bytes)
        );
    };
    let bound = match (&r.limit, &r.limit_unknown) {
        (Some(l), _) => format!(
            "its {} of {} less {} headroom",
            l.knob,
            size(l.bytes),
            size(l.bytes.saturating_sub(r.target_bytes))
        ),
        (None, Some(why)) => format!("its own limit unknown: {why}"),
        (None, None) => "no limit of its own".into(),
    };
    let stream = match (
        r.stream_file_bytes,
        r.stream_rate_bytes_per_s,
        &r.stream_off,
    ) {
        (Some(file), Some(rate), _) => format!(
            "streamed a {} file through the page cache at {}/s ({} read, {} passes)",
            size(file),
            size(rate as u64),
            size(r.streamed_bytes),
            r.stream_passes
        ),
        (_, _, Some(why)) => format!("no page-cache stream: {why}"),
        _ => "no page-cache stream".into(),
    };
    format!(
        "held anonymous memory up to a charge of {} ({bound}); {stream}",
        size(r.target_bytes)
    )
}

/// Why the condition is invalid by this evidence, if it is.
pub fn invalid(p: &MemoryPressure) -> Option<String> {
    if let Some(how) = &p.ended {
        return Some(format!(
            "the aggressor ended before the victim's window did ({how}), so the victim ran beside no neighbour for part of it"
        ));
    }
    let floor = (p.target_bytes as f64 * HELD) as u64;
    match p.start_bytes {
        Some(b) if b >= floor => {}
        start => {
            return Some(format!(
                "the aggressor never reached its load: {} of its {} target after waiting {:.1} s",
                start.map_or("an unreadable charge".into(), size),
                size(p.target_bytes),
                p.fill_wait_s
            ));
        }
    }
    match p.held_share {
        Some(share) if share < HELD_SAMPLES => Some(format!(
            "the aggressor did not hold its load: its charge was at least {:.0} % of its {} target in only {:.0} % of \
             the {} samples taken while the victim ran (lowest {})",
            HELD * 100.0,
            size(p.target_bytes),
            share * 100.0,
            p.samples,
            p.min_bytes.map_or("unreadable".into(), size)
        )),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use isobench_reports::schema::{MemoryBreakdown, TimelinePoint};

    const MIB: u64 = 1 << 20;

    fn timeline(aggressor_mib: &[u64]) -> Vec<TimelineSample> {
        aggressor_mib
            .iter()
            .enumerate()
            .map(|(i, &mib)| TimelineSample {
                t_s: i as f64 * 0.1,
                sandboxes: [0, mib]
                    .iter()
                    .map(|&m| TimelinePoint {
                        memory: MemoryBreakdown {
                            current_bytes: Some(m * MIB),
                            ..MemoryBreakdown::default()
                        },
                        psi_memory_some: None,
                        psi_memory_full: None,
                    })
                    .collect(),
            })
            .collect()
    }

    fn events(max: u64) -> MemoryEvents {
        MemoryEvents {
            max: Some(max),
            ..MemoryEvents::default()
        }
    }

    fn seen<'a>(limit: &'a MemoryLimit, t: &'a [TimelineSample]) -> Seen<'a> {
        Seen {
            limit: Some(limit),
            target_bytes: 480 * MIB,
            fill: Fill {
                waited_s: 0.8,
                start_bytes: Some(479 * MIB),
            },
            timeline: t,
            index: 1,
            events: Some((events(3), events(250))),
            ended: None,
            report: None,
        }
    }

    #[test]
    fn a_neighbour_at_its_limit_through_the_run_is_valid_with_its_evidence() {
        let limit = MemoryLimit {
            knob: "memory.max".into(),
            bytes: 512 * MIB,
        };
        let t = timeline(&[480, 511, 512, 510, 512]);
        let p = evidence(&seen(&limit, &t));
        assert_eq!(p.limit_events, Some(247));
        assert_eq!(p.held_share, Some(1.0));
        assert_eq!(p.min_bytes, Some(480 * MIB));
        assert_eq!(p.samples, 5);
        assert!(p.alive_at_end);
        assert_eq!(invalid(&p), None, "{p:?}");
    }

    #[test]
    fn killed_never_grown_or_not_held_is_invalid_with_the_reason() {
        let limit = MemoryLimit {
            knob: "memory.limit_in_bytes".into(),
            bytes: 512 * MIB,
        };
        let t = timeline(&[480, 0, 0, 0, 0]);
        let mut s = seen(&limit, &t);
        s.ended = Some("killed by SIGKILL".into());
        let why = invalid(&evidence(&s)).unwrap();
        assert!(
            why.contains("ended before the victim's window did (killed by SIGKILL)"),
            "{why}"
        );
        s.ended = None;
        let why = invalid(&evidence(&s)).unwrap();
        assert!(
            why.contains("did not hold its load") && why.contains("only 20 %"),
            "{why}"
        );
        s.fill.start_bytes = Some(100 * MIB);
        let why = invalid(&evidence(&s)).unwrap();
        assert!(
            why.contains("never reached its load: 100 MiB of its 480 MiB target"),
            "{why}"
        );
    }
}

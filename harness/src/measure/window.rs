//! Snapshots of a sandbox's memory and PSI at the edges of a window, and the
//! account built from two of them (DESIGN §2 "Memory pressure").

use crate::cgroup::psi::{self, PsiTotals, Resource};
use crate::cgroup::{Cgroup, Limits, MemoryEvents, MemoryStat, MemoryUsage};
use isobench_reports::schema::{
    MemoryAccount, MemoryBreakdown, MemoryEventCounts, PerfCount, PsiFigure,
};
use std::time::Instant;

/// Memory and PSI of one cgroup (or PSI of the host) at one instant.
#[derive(Debug)]
pub struct Snapshot {
    at: Instant,
    memory: Result<(MemoryUsage, MemoryStat, MemoryEvents), String>,
    /// `memory.events.local` (v2); `None` on v1 and hybrid, or unreadable.
    events_local: Option<MemoryEvents>,
    psi: Vec<(Resource, Result<PsiTotals, String>)>,
}

impl Snapshot {
    /// Reads `cg`'s memory files and its per-cgroup pressure files.
    pub fn of(cg: &Cgroup) -> Snapshot {
        let psi = Resource::ALL
            .iter()
            .map(|&r| {
                let totals = match cg.psi_dir() {
                    Some(dir) => psi::read(&dir.join(r.cgroup_file())).map_err(|e| e.to_string()),
                    None => Err("PSI absent: a v1 layout has no per-cgroup pressure files".into()),
                };
                (r, totals)
            })
            .collect();
        Snapshot {
            at: Instant::now(),
            memory: cg.memory().map_err(|e| e.to_string()),
            events_local: cg.memory_events_local().ok().flatten(),
            psi,
        }
    }

    /// Reads the host-wide pressure files (`/proc/pressure/*`).
    pub fn system() -> Snapshot {
        Snapshot {
            at: Instant::now(),
            memory: Err("not a cgroup".into()),
            events_local: None,
            psi: Resource::ALL
                .iter()
                .map(|&r| (r, psi::read(&r.system_file()).map_err(|e| e.to_string())))
                .collect(),
        }
    }

    /// The memory limit counters (`memory.events`, v1 `memory.failcnt`) at this
    /// instant; `None` where they could not be read.
    pub fn events(&self) -> Option<MemoryEvents> {
        self.memory.as_ref().ok().map(|m| m.2)
    }

    /// The memory charge at this instant, bytes; `None` where it could not be read.
    pub fn charge_bytes(&self) -> Option<u64> {
        self.memory.as_ref().ok().map(|m| m.0.current_bytes)
    }

    /// The memory charge now, split by kind.
    pub fn breakdown(&self) -> MemoryBreakdown {
        match &self.memory {
            Ok((usage, stat, _)) => breakdown(usage, stat),
            Err(_) => MemoryBreakdown::default(),
        }
    }
}

/// A charge split by kind from one reading.
pub fn breakdown(usage: &MemoryUsage, stat: &MemoryStat) -> MemoryBreakdown {
    MemoryBreakdown {
        current_bytes: Some(usage.current_bytes),
        anon_bytes: stat.anon_bytes,
        file_bytes: stat.file_bytes,
        shmem_bytes: stat.shmem_bytes,
        working_set_bytes: stat.working_set_bytes(usage),
    }
}

/// The counters of `memory.events` (or `.local`) as the results carry them.
fn counts(e: &MemoryEvents) -> MemoryEventCounts {
    MemoryEventCounts {
        low: e.low,
        high: e.high,
        max: e.max,
        oom: e.oom,
        oom_kill: e.oom_kill,
        oom_group_kill: e.oom_group_kill,
    }
}

/// PSI shares between two snapshots of the same files, or why there are none.
pub fn psi_figures(before: &Snapshot, after: &Snapshot) -> Vec<PsiFigure> {
    let wall = (after.at - before.at).as_secs_f64();
    before
        .psi
        .iter()
        .zip(&after.psi)
        .map(|((r, b), (_, a))| match (b, a) {
            (Ok(b), Ok(a)) if wall > 0.0 => {
                let share = a.share_since(b, wall);
                PsiFigure {
                    resource: r.as_str().into(),
                    some: Some(share.some),
                    full: share.full,
                    unavailable: None,
                }
            }
            (Err(why), _) | (_, Err(why)) => unavailable_psi(*r, why.clone()),
            _ => unavailable_psi(*r, "empty window".into()),
        })
        .collect()
}

fn unavailable_psi(r: Resource, why: String) -> PsiFigure {
    PsiFigure {
        resource: r.as_str().into(),
        some: None,
        full: None,
        unavailable: Some(why),
    }
}

/// The memory account of sandbox `name` with `limits`: PSI and faults over the
/// window between the snapshots, events since the cgroup was created (it is
/// new, so they are its counters at `after`), peak and breakdown at `after`.
pub fn account(
    name: &str,
    cg: &Cgroup,
    limits: &Limits,
    before: &Snapshot,
    after: &Snapshot,
    perf: Vec<PerfCount>,
) -> MemoryAccount {
    let stat = |s: &Snapshot| s.memory.as_ref().ok().map(|m| m.1);
    let fault_delta = |pick: fn(&MemoryStat) -> Option<u64>| {
        Some(pick(&stat(after)?)?.saturating_sub(pick(&stat(before)?)?))
    };
    let (peak_bytes, events) = match &after.memory {
        Ok((usage, _, e)) => (usage.peak_bytes, counts(e)),
        Err(_) => (None, MemoryEventCounts::default()),
    };
    MemoryAccount {
        sandbox: name.into(),
        limits: limits
            .memory
            .iter()
            .map(|s| (s.knob.file(cg.layout()).to_string(), s.value(cg.layout())))
            .collect(),
        peak_bytes,
        end: after.breakdown(),
        events,
        events_local: after.events_local.as_ref().map(counts),
        pgfault: fault_delta(|s| s.pgfault),
        pgmajfault: fault_delta(|s| s.pgmajfault),
        psi: psi_figures(before, after),
        perf,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn psi_only(at: Instant, psi: Vec<(Resource, Result<PsiTotals, String>)>) -> Snapshot {
        Snapshot {
            at,
            memory: Err("not read".into()),
            events_local: None,
            psi,
        }
    }

    #[test]
    fn c06_unavailable_psi_is_null_with_its_reason_never_zero() {
        let t0 = Instant::now();
        let disabled =
            "PSI disabled: reading /proc/pressure/memory fails with EOPNOTSUPP (boot with psi=1)";
        let ok = |some_us| {
            Ok(PsiTotals {
                some_us,
                full_us: Some(0),
            })
        };
        let before = psi_only(
            t0,
            vec![
                (Resource::Memory, Err(disabled.into())),
                (Resource::Io, ok(0)),
            ],
        );
        let after = psi_only(
            t0 + Duration::from_secs(2),
            vec![
                (Resource::Memory, Err(disabled.into())),
                (Resource::Io, ok(500_000)),
            ],
        );
        let figures = psi_figures(&before, &after);
        assert_eq!(figures[0].some, None);
        assert_eq!(figures[0].full, None);
        assert_eq!(figures[0].unavailable.as_deref(), Some(disabled));
        assert_eq!(figures[1].some, Some(0.25));
        assert_eq!(figures[1].unavailable, None);
    }
}

//! Small pieces the condition-based scenarios share: argument lists, the
//! harness's own CPU time, CPU accounts of a window, other work on the host.

use super::expected::Expected;
use crate::cgroup::{Arena, Cgroup, CpuStat, HostCpuSnapshot};
use crate::probe::host_load::ProcStatCpu;
use anyhow::{Context, Result};
use isobench_reports::schema::{CpuAccount, HostCpuWindow};

/// Owned arguments from string slices.
pub fn strings(args: &[&str]) -> Vec<String> {
    args.iter().map(|s| s.to_string()).collect()
}

/// CPU accounting of `cg`, if there is one.
///
/// # Errors
/// Read or parse errors with the path.
pub fn stat_of(cg: Option<&Cgroup>) -> Result<Option<CpuStat>> {
    Ok(cg.map(Cgroup::cpu_stat).transpose()?)
}

/// CPU time of the harness process (all its threads, live and ended, not its
/// children), seconds: `CLOCK_PROCESS_CPUTIME_ID`, the scheduler's exact runtime
/// (clock_gettime(2); the same total as getrusage(2) `RUSAGE_SELF`, without its
/// tick-based user/system split and µs steps).
///
/// # Errors
/// clock_gettime(2) failing.
pub fn own_cpu_s() -> Result<f64> {
    let t = nix::time::clock_gettime(nix::time::ClockId::CLOCK_PROCESS_CPUTIME_ID)
        .context("clock_gettime(CLOCK_PROCESS_CPUTIME_ID)")?;
    Ok(t.tv_sec() as f64 + t.tv_nsec() as f64 / 1e9)
}

/// The CPU account of one sandbox (or group) over a window of `wall_s` seconds:
/// share = Δusage / Δwall in CPUs (DESIGN §2), throttling counters as deltas,
/// and its expected share (`None` outside the isolated condition).
///
/// # Errors
/// When the cgroup's accounting has no usage (named by `path`).
pub fn account(
    sandbox: &str,
    d: &CpuStat,
    wall_s: f64,
    expected: Option<&Expected>,
    path: &std::path::Path,
) -> Result<CpuAccount> {
    let usage_us = d
        .usage_us
        .with_context(|| format!("no CPU usage in the accounting of {}", path.display()))?;
    Ok(CpuAccount {
        sandbox: sandbox.into(),
        cpu_share: usage_us as f64 / 1e6 / wall_s,
        cpu_share_expected: expected.and_then(Expected::cpus),
        cpu_share_expected_reason: expected.and_then(|e| e.reason()).map(String::from),
        nr_periods: d.nr_periods,
        nr_throttled: d.nr_throttled,
        throttled_us: d.throttled_us,
        nr_bursts: d.nr_bursts,
        burst_us: d.burst_us,
    })
}

/// The host's CPU accounts at one edge of a measured window: every task
/// (exact), the run's arena, the harness itself, and /proc/stat for interrupt
/// and steal time. Read at both edges, then [`host_cpu`] tells other work from ours.
#[derive(Debug, Clone)]
pub struct HostEdge {
    /// What `all` was read from.
    source: String,
    /// CPU time of every task, per part; or why it could not be read.
    all: std::result::Result<HostCpuSnapshot, String>,
    /// The arena's usage, µs; or why it could not be read.
    arena_us: std::result::Result<u64, String>,
    /// The kernel threads' CPU time, by pid; or why it could not be read.
    kthreads: std::result::Result<crate::probe::kthreads::KthreadTimes, String>,
    /// The harness's own CPU time, s.
    harness_s: f64,
    /// /proc/stat; or why it could not be read.
    stat: std::result::Result<ProcStatCpu, String>,
}

impl HostEdge {
    /// Reads every account now, the harness's own CPU time last (so that the
    /// reading itself falls inside what is subtracted as the harness's).
    ///
    /// # Errors
    /// Only the harness's own CPU time failing; the others become their reasons.
    pub fn read(arena: &Arena) -> Result<HostEdge> {
        let source = arena.host_cpu_source().map_err(|e| e.to_string());
        let all = source
            .as_ref()
            .map_err(Clone::clone)
            .and_then(|s| s.snapshot().map_err(|e| e.to_string()));
        let arena_us = arena.cpu_stat().map_err(|e| e.to_string()).and_then(|s| {
            s.usage_us
                .ok_or_else(|| "the arena's accounting has no usage".into())
        });
        let stat = ProcStatCpu::read();
        let kthreads = crate::probe::kthreads::read(std::path::Path::new("/proc"));
        Ok(HostEdge {
            source: source.map_or_else(|e| e, |s| s.describe()),
            all,
            arena_us,
            kthreads,
            harness_s: own_cpu_s()?,
            stat,
        })
    }
}

/// The host's CPU time over the window between edges `e0` and `e1` of
/// `wall_s` seconds, in CPUs: every task, the arena's, the harness's,
/// kernel threads, interrupts and steal; and `other = all_tasks − arena −
/// harness − kernel threads` (CPU time of user tasks that are not this run's:
/// the kernel threads work mostly for the run's own workloads, see
/// [`crate::probe::kthreads`]; tiny negatives from the order of the reads are 0), `None` with the reason in `unavailable` where a part could not be
/// read. Where the exact accounting of all tasks cannot be read, /proc/stat's
/// tick-sampled user + nice + system stands in, and `source` says so and why.
pub fn host_cpu(e0: &HostEdge, e1: &HostEdge, wall_s: f64) -> (Option<f64>, HostCpuWindow) {
    let share = |s: f64| s / wall_s;
    let stat = match (&e0.stat, &e1.stat) {
        (Ok(a), Ok(b)) => Some((a, b)),
        _ => None,
    };
    let mut source = e1.source.clone();
    let all = match (&e0.all, &e1.all, stat) {
        (Ok(a), Ok(b), _) => Ok(share(b.delta_us(a) as f64 / 1e6)),
        (Err(e), _, Some((a, b))) | (_, Err(e), Some((a, b))) => {
            source = format!(
                "/proc/stat user + nice + system, sampled at the scheduler tick and printed in 10 ms \
                 steps (about ±0.03 CPU over a 1 s window), because the exact accounting could not be read: {e}"
            );
            Ok(share(b.tasks() - a.tasks()))
        }
        (Err(e), _, None) | (_, Err(e), None) => Err(e.clone()),
    };
    let arena = match (&e0.arena_us, &e1.arena_us) {
        (Ok(a), Ok(b)) => Ok(share(b.saturating_sub(*a) as f64 / 1e6)),
        (Err(e), _) | (_, Err(e)) => Err(e.clone()),
    };
    let harness = share(e1.harness_s - e0.harness_s);
    let kthreads = match (&e0.kthreads, &e1.kthreads) {
        (Ok(a), Ok(b)) => Some(share(crate::probe::kthreads::delta_us(a, b) as f64 / 1e6)),
        _ => None,
    };
    let other = match (&all, &arena) {
        (Ok(all), Ok(arena)) => Ok((all - arena - harness - kthreads.unwrap_or(0.0)).max(0.0)),
        (Err(e), _) => Err(format!(
            "the CPU time of all tasks could not be read ({e}), nor /proc/stat"
        )),
        (_, Err(e)) => Err(format!("the arena's CPU time could not be read: {e}")),
    };
    let window = HostCpuWindow {
        source,
        all_tasks_cpu_share: all.ok(),
        arena_cpu_share: arena.ok(),
        harness_cpu_share: harness,
        kernel_threads_cpu_share: kthreads,
        irq_cpu_share: stat.map(|(a, b)| share(b.interrupts() - a.interrupts())),
        steal_cpu_share: stat.map(|(a, b)| share(b.steal - a.steal)),
        unavailable: other.as_ref().err().cloned(),
    };
    (other.ok(), window)
}

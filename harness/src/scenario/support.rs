//! Small pieces the condition-based scenarios share: argument lists, the
//! harness's own CPU time, CPU accounts of a window, other load on the host.

use crate::cgroup::{Cgroup, CpuStat};
use anyhow::{Context, Result};
use isobench_reports::schema::CpuAccount;

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

/// CPU time of the harness process (all its threads, not its children), seconds.
///
/// # Errors
/// getrusage(2) failing.
pub fn own_cpu_s() -> Result<f64> {
    use nix::sys::resource::{UsageWho, getrusage};
    let u = getrusage(UsageWho::RUSAGE_SELF).context("getrusage(RUSAGE_SELF)")?;
    let s = |t: nix::sys::time::TimeVal| t.tv_sec() as f64 + t.tv_usec() as f64 / 1e6;
    Ok(s(u.user_time()) + s(u.system_time()))
}

/// The CPU account of one sandbox over a window of `wall_s` seconds:
/// share = Δusage / Δwall in CPUs (DESIGN §2), throttling counters as deltas.
///
/// # Errors
/// When the cgroup's accounting has no usage (named by its path).
pub fn account(
    sandbox: &str,
    d: &CpuStat,
    wall_s: f64,
    expected: Option<f64>,
    cg: &Cgroup,
) -> Result<CpuAccount> {
    let usage_us = d
        .usage_us
        .with_context(|| format!("no CPU usage in the accounting of {}", cg.path().display()))?;
    Ok(CpuAccount {
        sandbox: sandbox.into(),
        cpu_share: usage_us as f64 / 1e6 / wall_s,
        cpu_share_expected: expected,
        nr_periods: d.nr_periods,
        nr_throttled: d.nr_throttled,
        throttled_us: d.throttled_us,
    })
}

/// CPU used on the host outside our sandboxes over the window, in CPUs:
/// the /proc/stat busy time less what the victim and aggressors used; `None`
/// when /proc/stat could not be read at either edge.
pub fn host_other_cpu_share(
    busy0: Result<f64, String>,
    busy1: Result<f64, String>,
    wall_s: f64,
    victim: &CpuAccount,
    aggressors: &[CpuAccount],
) -> Option<f64> {
    let ours = victim.cpu_share + aggressors.iter().map(|a| a.cpu_share).sum::<f64>();
    Some(((busy1.ok()? - busy0.ok()?) / wall_s - ours).max(0.0))
}

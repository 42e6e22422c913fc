//! `isobench doctor`: what the host supports, and why not, decided by trying —
//! reading the files, creating a cgroup, cloning into each namespace, opening
//! perf events — never by looking at the kernel version or command line.

use crate::cgroup::{self, CgroupHost, Layout};
use crate::sandbox::sys;
use isobench_reports::schema::{Check, CheckStatus, Doctor};
use nix::sched::CloneFlags;
use std::path::Path;

fn check(name: impl Into<String>, status: CheckStatus, detail: impl Into<String>) -> Check {
    Check {
        name: name.into(),
        status,
        detail: detail.into(),
    }
}

/// Runs every check. `host` is the discovered layout, or why it could not be
/// discovered; the workload binary is looked for as [`crate::workload::locate`] does.
pub fn doctor(host: Result<&CgroupHost, &cgroup::CgroupError>) -> Doctor {
    doctor_with_workload(host, crate::workload::locate().as_ref())
}

/// [`doctor`] with the workload binary already found, or why it was not: a
/// `cargo bench` binary using [`crate::bench`] is its own workload binary.
pub fn doctor_with_workload(
    host: Result<&CgroupHost, &cgroup::CgroupError>,
    workload: Result<&std::path::PathBuf, &crate::workload::WorkloadError>,
) -> Doctor {
    let mut checks = Vec::new();
    let layout = match host {
        Ok(h) => {
            let note = match h.layout {
                Layout::V2 => "unified: limits and accounting in one cgroup2 tree",
                Layout::V1 => "legacy: one hierarchy per controller, no per-cgroup PSI",
                Layout::Hybrid => {
                    "v1 controllers for limits; the cgroup2 tree for tracking and per-cgroup PSI"
                }
            };
            checks.push(check(
                "layout",
                CheckStatus::Ok,
                format!("{} ({note})", h.layout),
            ));
            cgroup_checks(h, &mut checks);
            h.layout.to_string()
        }
        Err(e) => {
            checks.push(check("layout", CheckStatus::Error, e.to_string()));
            "unknown".into()
        }
    };
    checks.extend(memory_checks(host));
    let psi = psi_status(Path::new("/proc/pressure/memory"));
    checks.push(check("psi (system)", psi.0, psi.1));
    checks.extend(perf_checks());
    checks.extend(namespace_checks());
    checks.push(if sys::has_clone3() {
        check(
            "clone3",
            CheckStatus::Ok,
            "clone3(2) present; CLONE_INTO_CGROUP needs a v2 layout",
        )
    } else {
        check(
            "clone3",
            CheckStatus::Unavailable,
            "clone3(2) answers ENOSYS (kernel < 5.3): cgroup.procs attach is used",
        )
    });
    checks.push(match workload {
        Ok(p) => check("workload binary", CheckStatus::Ok, p.display().to_string()),
        Err(e) => check("workload binary", CheckStatus::Error, e.to_string()),
    });
    Doctor { layout, checks }
}

/// One check per hierarchy (where the harness's cgroup is, whether it may create
/// cgroups there) and the per-cgroup PSI of the cgroup2 tree.
fn cgroup_checks(host: &CgroupHost, checks: &mut Vec<Check>) {
    checks.push(own_limits_check(host));
    let mut pids_files = None;
    for h in &host.hierarchies {
        let name = if h.unified {
            "cgroup2 tree".to_string()
        } else {
            format!("controller {}", h.controllers.join(","))
        };
        let probe = h
            .own_dir
            .join(format!("{}probe-{}", cgroup::PREFIX, std::process::id()));
        let status = match cgroup::files::mkdir(&probe) {
            Ok(()) => {
                if probe.join("pids.current").exists() {
                    pids_files = Some((
                        probe.join("pids.peak").exists(),
                        probe.join("pids.events.local").exists(),
                    ));
                }
                let _ = std::fs::remove_dir(&probe);
                check(
                    name,
                    CheckStatus::Ok,
                    format!("can create cgroups beneath {}", h.own_dir.display()),
                )
            }
            Err(e) => check(
                name,
                CheckStatus::Error,
                format!(
                    "{e}: run as root, or from a delegated cgroup subtree (systemd: Delegate=yes)"
                ),
            ),
        };
        checks.push(status);
        if h.unified {
            let (s, d) = psi_status(&h.own_dir.join("memory.pressure"));
            checks.push(check("psi (per cgroup)", s, d));
        }
    }
    checks.push(knobs_check(host, pids_files));
}

/// The knobs of issue 15 this kernel has (CFS burst, `cpu.idle`,
/// `memory.oom.group`) and the pids files that say where a fork was refused:
/// `pids_files` is (`pids.peak`, `pids.events.local`) of a fresh cgroup, where
/// one could be made with the pids controller.
fn knobs_check(host: &CgroupHost, pids_files: Option<(bool, bool)>) -> Check {
    let missing = host.missing_knobs();
    let mut notes: Vec<String> = missing.iter().map(|u| u.to_string()).collect();
    if host.layout != Layout::V2 {
        notes.push(cgroup::limits::oom_group_unsupported(host.layout).to_string());
    }
    match pids_files {
        Some((true, true)) => {}
        Some((peak, local)) => {
            if !peak {
                notes.push(
                    "pids.peak unsupported (an older kernel): a sandbox's peak is sampled every 10 ms"
                        .into(),
                );
            }
            if !local && host.layout == Layout::V2 {
                notes.push(
                    "no pids.events.local (a kernel before 2024): refused forks are counted where they \
                     failed, and the limit that refused them is inferred"
                        .into(),
                );
            }
        }
        None => notes
            .push("pids files not seen: no cgroup with the pids controller could be made".into()),
    }
    if notes.is_empty() {
        check(
            "knobs",
            CheckStatus::Ok,
            "cpu.max.burst, cpu.idle, memory.oom.group, pids.peak and pids.events.local present",
        )
    } else {
        check("knobs", CheckStatus::Unavailable, notes.join("; "))
    }
}

/// The limits on isobench's own cgroup. A CPU quota there throttles the
/// unconfined conditions too, so the figures still come, but `compare` refuses to judge them.
fn own_limits_check(host: &CgroupHost) -> Check {
    let limits = host.own_limits();
    let listed: Vec<String> = limits.iter().map(|(k, v)| format!("{k}={v}")).collect();
    let quota = limits
        .get("cpu.max")
        .filter(|v| !v.starts_with("max"))
        .or_else(|| {
            limits
                .get("cpu.cfs_quota_us")
                .filter(|v| v.as_str() != "-1")
        });
    match quota {
        Some(q) => check(
            "own cgroup limits",
            CheckStatus::Unavailable,
            format!(
                "{}; a CPU quota ({q}) on isobench's own cgroup throttles the unconfined conditions too: remove it \
                 for comparable results (isobench compare refuses to judge such runs)",
                listed.join(", ")
            ),
        ),
        None => check("own cgroup limits", CheckStatus::Ok, listed.join(", ")),
    }
}

/// Whether PSI can be read at `path`, decided by reading it (case C06):
/// absent (no such file: kernel without CONFIG_PSI), disabled (EOPNOTSUPP: boot
/// with psi=1), or ok.
pub fn psi_status(path: &Path) -> (CheckStatus, String) {
    match crate::cgroup::psi::read(path) {
        Ok(_) => (CheckStatus::Ok, format!("PSI: ok ({})", path.display())),
        Err(e) => (CheckStatus::Unavailable, e.to_string()),
    }
}

/// The memory controller (in the harness's hierarchies) and swap (/proc/swaps).
fn memory_checks(host: Result<&CgroupHost, &cgroup::CgroupError>) -> Vec<Check> {
    let controller = match host {
        Ok(h) if h.layout == Layout::V2 => {
            let own = h
                .hierarchies
                .first()
                .map(|x| x.own_dir.join("cgroup.controllers"));
            match own.map(|p| (cgroup::files::read(&p), p)) {
                Some((Ok(c), _)) if c.split_whitespace().any(|w| w == "memory") => check(
                    "memory limits",
                    CheckStatus::Ok,
                    "memory.max, memory.high, memory.low, memory.min, memory.swap.max",
                ),
                Some((_, p)) => check(
                    "memory limits",
                    CheckStatus::Unavailable,
                    format!(
                        "memory is not in {}: the memory scenarios cannot run",
                        p.display()
                    ),
                ),
                None => check("memory limits", CheckStatus::Unavailable, "no cgroup2 tree"),
            }
        }
        Ok(h) if h.hierarchies.iter().any(|x| x.has("memory")) => check(
            "memory limits",
            CheckStatus::Ok,
            "v1: memory.limit_in_bytes, memory.soft_limit_in_bytes (no memory.high, memory.low, memory.min)",
        ),
        Ok(_) => check(
            "memory limits",
            CheckStatus::Unavailable,
            "no v1 memory hierarchy is mounted: the memory scenarios cannot run",
        ),
        Err(e) => check("memory limits", CheckStatus::Unavailable, e.to_string()),
    };
    let swaps = std::fs::read_to_string("/proc/swaps").map(|s| s.lines().skip(1).count());
    let swap = match swaps {
        Ok(0) => check(
            "swap",
            CheckStatus::Ok,
            "none: only page cache can be reclaimed, anonymous memory over a limit is OOM-killed",
        ),
        Ok(n) => check(
            "swap",
            CheckStatus::Ok,
            format!("{n} swap area(s) in /proc/swaps"),
        ),
        Err(e) => check(
            "swap",
            CheckStatus::Unavailable,
            format!("reading /proc/swaps: {e}"),
        ),
    };
    vec![controller, swap]
}

/// Opens one software and one hardware counter on this process (perf_event_open(2)).
fn perf_checks() -> Vec<Check> {
    use perf_event::events::{Hardware, Software};
    let software = perf_event::Builder::new(Software::TASK_CLOCK)
        .include_kernel()
        .build();
    let hardware = perf_event::Builder::new(Hardware::INSTRUCTIONS).build();
    [
        ("perf software events", software.map(drop)),
        ("perf hardware events", hardware.map(drop)),
    ]
    .into_iter()
    .map(|(name, r)| match r {
        Ok(()) => check(name, CheckStatus::Ok, "perf_event_open succeeded"),
        Err(e) => check(
            name,
            CheckStatus::Unavailable,
            crate::measure::perf::explain(&e),
        ),
    })
    .collect()
}

/// Clones a child into each namespace alone.
fn namespace_checks() -> Vec<Check> {
    [
        ("pid", CloneFlags::CLONE_NEWPID),
        ("mnt", CloneFlags::CLONE_NEWNS),
        ("uts", CloneFlags::CLONE_NEWUTS),
        ("ipc", CloneFlags::CLONE_NEWIPC),
        ("net", CloneFlags::CLONE_NEWNET),
        ("cgroup", CloneFlags::CLONE_NEWCGROUP),
        ("user", CloneFlags::CLONE_NEWUSER),
    ]
    .into_iter()
    .map(|(name, flag)| match sys::probe_clone(flag) {
        Ok(()) => check(
            format!("namespace {name}"),
            CheckStatus::Ok,
            "clone(2) succeeded",
        ),
        Err(e) => check(
            format!("namespace {name}"),
            CheckStatus::Unavailable,
            format!("clone(2): {e}"),
        ),
    })
    .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn c06_missing_psi_file_reads_as_absent() {
        let (s, d) = psi_status(Path::new("/nonexistent/pressure/cpu"));
        assert_eq!(s, CheckStatus::Unavailable);
        assert!(d.starts_with("PSI absent: no "), "{d}");
    }

    #[test]
    fn c06_readable_psi_file_is_ok() {
        let p = Path::new(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/hybrid-6.18/proc/pressure_cpu"
        ));
        assert_eq!(psi_status(p).0, CheckStatus::Ok);
    }
}

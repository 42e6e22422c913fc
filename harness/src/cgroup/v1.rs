//! The v1 backend: one directory per controller hierarchy.
//!
//! Sources: Documentation/admin-guide/cgroup-v1/cgroups.rst (`cgroup.procs`),
//! cpusets.rst (a new cpuset starts with empty `cpuset.cpus`/`cpuset.mems`),
//! Documentation/scheduler/sched-bwc.rst (`cpu.cfs_quota_us`, `cpu.cfs_period_us`),
//! cpuacct.rst (`cpuacct.usage`, ns), blkio-controller.rst (`blkio.weight`,
//! `blkio.throttle.*`).

use super::error::{CgroupError, Result};
use super::files;
use super::layout::{Hierarchy, Layout};
use super::limits::{Limits, MemoryKnob};
use super::stat::{CpuStat, read_cpuacct_usage_us};
use std::path::Path;

const CPUSET_CPUS: &str = "cpuset.cpus";
const CPUSET_MEMS: &str = "cpuset.mems";
const CLONE_CHILDREN: &str = "cgroup.clone_children";

/// Prepares a new cgroup `dir` of hierarchy `h` for tasks: a cpuset child gets
/// its parent's `cpuset.cpus` and `cpuset.mems`, without which attaching fails
/// with ENOSPC (case C03, containerd/cgroups #48). Where it had to copy them,
/// it also sets `cgroup.clone_children` in `dir`, so that the kernel copies
/// them into the cgroups created beneath it at mkdir (cgroups.rst §1.6; the
/// flag is inherited): a sandbox's cgroup is then ready with two reads
/// instead of two reads and two writes each.
///
/// # Errors
/// [`CgroupError::EmptyCpuset`] when the parent has nothing to copy; read/write errors with the path.
pub fn prepare(h: &Hierarchy, dir: &Path) -> Result<()> {
    if !h.has("cpuset") {
        return Ok(());
    }
    let parent = dir.parent().unwrap_or(dir);
    let mut copied = false;
    for file in [CPUSET_CPUS, CPUSET_MEMS] {
        if !files::read(&dir.join(file))?.trim().is_empty() {
            continue;
        }
        let value = files::read(&parent.join(file))?;
        if value.trim().is_empty() {
            return Err(CgroupError::EmptyCpuset {
                file,
                path: dir.into(),
            });
        }
        files::write(&dir.join(file), value.trim())?;
        copied = true;
    }
    if copied {
        files::write(&dir.join(CLONE_CHILDREN), "1")?;
    }
    Ok(())
}

/// Writes `limits` into `dir` of hierarchy `h`: the files of
/// [`Limits::files`] whose controller `h` carries, in that order (the CFS period
/// before the quota, `memory.limit_in_bytes` first among the memory files).
///
/// # Errors
/// [`CgroupError::Write`] naming the file and value; [`CgroupError::Refused`]
/// where isobench knows why the kernel refused it ([`Limits::refusal`]).
///
/// Returns warnings for knobs the kernel refused but the run can do without:
/// `memory.kmem.limit_in_bytes` on kernels that reject (EOPNOTSUPP) or lack
/// (ENOENT) it (case C05, docker/for-linux #1001).
pub fn apply(h: &Hierarchy, dir: &Path, limits: &Limits) -> Result<Vec<String>> {
    let mut warnings = Vec::new();
    for w in limits.files(Layout::V1) {
        if !h.has(&w.controller) {
            continue;
        }
        let file = dir.join(&w.file);
        match files::write(&file, &w.value) {
            Err(CgroupError::Write { error, .. })
                if w.file == MemoryKnob::KmemLimitInBytes.as_str()
                    && matches!(
                        error.raw_os_error(),
                        Some(nix::libc::EOPNOTSUPP | nix::libc::ENOENT)
                    ) =>
            {
                warnings.push(format!(
                    "kmem limit unsupported on this kernel: writing {} failed with {error}; the sandbox runs without it",
                    file.display()
                ));
            }
            other => other.map_err(|e| limits.explain(&w, e))?,
        }
    }
    Ok(warnings)
}

/// Why arena directory `dir` of a v1 hierarchy lacks `file`, for
/// [`super::Unsupported`]: what is missing, and the usual cause.
pub fn missing_file(dir: &Path, file: &str) -> String {
    let cause = match file {
        "blkio.weight" => {
            "; it came with the CFQ I/O scheduler, removed in Linux 5.0, and isobench does not \
             write BFQ's blkio.bfq.weight, which counts only on devices whose scheduler is bfq; \
             blkio.throttle.* limits still work"
        }
        "memory.memsw.limit_in_bytes" => {
            "; swap accounting is off (boot with swapaccount=1), or the kernel lacks CONFIG_MEMCG_SWAP"
        }
        "cpu.cfs_burst_us" => {
            "; CFS burst came in Linux 5.14: upgrade the kernel, or leave the burst out"
        }
        "cpu.idle" => "; cpu.idle came in Linux 5.15: upgrade the kernel, or leave it out",
        _ => "",
    };
    format!("no {file} in {}{cause}", dir.display())
}

/// Why no v1 hierarchy of the arena carries `controller`, for
/// [`super::Unsupported`]; `missing` lists on-demand hierarchies (controllers,
/// reason) the arena could not be created in.
pub fn no_hierarchy(controller: &str, missing: &[(String, String)]) -> String {
    match missing
        .iter()
        .find(|(c, _)| c.split(',').any(|c| c == controller))
    {
        Some((_, reason)) => {
            format!("the arena could not be created in the {controller} hierarchy: {reason}")
        }
        None => format!(
            "no v1 hierarchy carries the {controller} controller (see /proc/self/mountinfo), \
             or /proc/self/cgroup places isobench in none"
        ),
    }
}

/// Adds what hierarchy `h` knows of cgroup `dir`'s CPU accounting to `stat`:
/// throttling from the cpu hierarchy's `cpu.stat`, usage from `cpuacct.usage`.
///
/// # Errors
/// Read or parse errors with the path.
pub fn read_cpu(h: &Hierarchy, dir: &Path, stat: &mut CpuStat) -> Result<()> {
    if h.has("cpu") {
        let path = dir.join("cpu.stat");
        let s = CpuStat::parse_v1(&path, &files::read(&path)?)?;
        stat.nr_periods = s.nr_periods;
        stat.nr_throttled = s.nr_throttled;
        stat.throttled_us = s.throttled_us;
        stat.nr_bursts = s.nr_bursts;
        stat.burst_us = s.burst_us;
    }
    if h.has("cpuacct") {
        stat.usage_us = Some(read_cpuacct_usage_us(&dir.join("cpuacct.usage"))?);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cgroup::limits::{CFS_PERIOD, CFS_QUOTA, CpuMax, IoMax, Limit, MemorySetting};
    use crate::cgroup::weight::CpuWeight;
    use std::path::PathBuf;

    fn hier(controllers: &[&str], root: &Path) -> Hierarchy {
        Hierarchy {
            controllers: controllers.iter().map(|s| s.to_string()).collect(),
            unified: false,
            mount_point: root.into(),
            own_dir: root.into(),
        }
    }

    fn fake(files_: &[(&str, &str)]) -> (tempfile::TempDir, PathBuf) {
        let t = tempfile::tempdir().unwrap();
        let child = t.path().join("child");
        std::fs::create_dir(&child).unwrap();
        for (name, content) in files_ {
            std::fs::write(t.path().join(name), content).unwrap();
        }
        (t, child)
    }

    #[test]
    fn c03_empty_cpuset_child_is_filled_from_parent() {
        let (t, child) = fake(&[("cpuset.cpus", "0-1\n"), ("cpuset.mems", "0\n")]);
        let empty_cpus =
            std::fs::read_to_string("tests/fixtures/hybrid-6.18/cgroup/v1_cpuset.cpus.new_child")
                .unwrap();
        std::fs::write(child.join("cpuset.cpus"), empty_cpus).unwrap();
        std::fs::write(child.join("cpuset.mems"), "\n").unwrap();
        std::fs::write(child.join("cgroup.clone_children"), "0\n").unwrap();
        prepare(&hier(&["cpuset"], t.path()), &child).unwrap();
        assert_eq!(
            std::fs::read_to_string(child.join("cpuset.cpus")).unwrap(),
            "0-1"
        );
        assert_eq!(
            std::fs::read_to_string(child.join("cpuset.mems")).unwrap(),
            "0"
        );
        // Its own children get the copy from the kernel at mkdir.
        assert_eq!(
            std::fs::read_to_string(child.join("cgroup.clone_children")).unwrap(),
            "1"
        );
    }

    #[test]
    fn c03_parent_without_mems_gives_a_named_error_not_enospc() {
        let (t, child) = fake(&[("cpuset.cpus", "0-1\n"), ("cpuset.mems", "\n")]);
        std::fs::write(child.join("cpuset.cpus"), "").unwrap();
        std::fs::write(child.join("cpuset.mems"), "").unwrap();
        let err = prepare(&hier(&["cpuset"], t.path()), &child)
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("cpuset.mems is empty in ") && err.contains("child"),
            "{err}"
        );
    }

    #[test]
    fn quota_is_written_after_period() {
        let (t, child) = fake(&[]);
        std::fs::write(child.join(CFS_PERIOD), "100000\n").unwrap();
        std::fs::write(child.join(CFS_QUOTA), "-1\n").unwrap();
        let limits = Limits {
            cpu_max: Some(CpuMax {
                quota_us: Some(50_000),
                period_us: 100_000,
            }),
            ..Limits::default()
        };
        apply(&hier(&["cpu"], t.path()), &child, &limits).unwrap();
        assert_eq!(
            std::fs::read_to_string(child.join(CFS_QUOTA)).unwrap(),
            "50000"
        );
        assert_eq!(
            std::fs::read_to_string(child.join(CFS_PERIOD)).unwrap(),
            "100000"
        );
    }

    #[test]
    fn failed_write_names_file_and_value() {
        let (t, child) = fake(&[]);
        let limits = Limits {
            cpu_max: Some(CpuMax {
                quota_us: Some(50_000),
                period_us: 100_000,
            }),
            ..Limits::default()
        };
        let err = apply(&hier(&["cpu"], t.path()), &child, &limits)
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("writing \"100000\" to ") && err.contains("cpu.cfs_period_us"),
            "{err}"
        );
    }

    #[test]
    fn memory_max_is_written_as_limit_in_bytes() {
        let (t, child) = fake(&[]);
        std::fs::copy(
            "tests/fixtures/hybrid-6.18/cgroup/v1_memory.limit_in_bytes",
            child.join("memory.limit_in_bytes"),
        )
        .unwrap();
        let limits = Limits {
            memory: vec![MemorySetting {
                knob: MemoryKnob::Max,
                bytes: Some(64 << 20),
            }],
            ..Limits::default()
        };
        let warnings = apply(&hier(&["memory"], t.path()), &child, &limits).unwrap();
        assert!(warnings.is_empty());
        assert_eq!(
            std::fs::read_to_string(child.join("memory.limit_in_bytes")).unwrap(),
            "67108864"
        );
    }

    #[test]
    fn c05_a_kmem_limit_the_kernel_lacks_is_a_warning_and_the_run_goes_on() {
        let (t, child) = fake(&[]);
        let limits = Limits {
            memory: vec![MemorySetting {
                knob: MemoryKnob::KmemLimitInBytes,
                bytes: Some(16 << 20),
            }],
            ..Limits::default()
        };
        let warnings = apply(&hier(&["memory"], t.path()), &child, &limits).unwrap();
        assert_eq!(warnings.len(), 1);
        assert!(
            warnings[0].starts_with("kmem limit unsupported on this kernel: writing ")
                && warnings[0].contains("memory.kmem.limit_in_bytes"),
            "{warnings:?}"
        );
    }

    #[test]
    fn each_hierarchy_gets_only_its_own_files() {
        let (t, child) = fake(&[]);
        let cg = Path::new("tests/fixtures/hybrid-6.18/cgroup");
        std::fs::copy(cg.join("v1_cpu.shares"), child.join("cpu.shares")).unwrap();
        std::fs::copy(cg.join("v1_pids.max"), child.join("pids.max")).unwrap();
        std::fs::write(child.join("blkio.throttle.read_bps_device"), "").unwrap();
        let limits = Limits {
            cpu_weight: Some(CpuWeight::Weight(100)),
            pids_max: Some(Limit::Max),
            io_max: vec![IoMax {
                rbps: Some(Limit::Value(1 << 20)),
                ..IoMax::device("254:0".parse().unwrap())
            }],
            ..Limits::default()
        };
        for c in ["cpu", "pids", "blkio"] {
            apply(&hier(&[c], t.path()), &child, &limits).unwrap();
        }
        let read = |f: &str| std::fs::read_to_string(child.join(f)).unwrap();
        assert_eq!(read("cpu.shares"), "1024", "weight 100 is the v1 default");
        assert_eq!(read("pids.max"), "max");
        assert_eq!(
            format!("{}\n", read("blkio.throttle.read_bps_device")),
            std::fs::read_to_string(cg.join("v1_blkio.throttle.read_bps_device")).unwrap(),
            "written as the kernel reads it back"
        );
    }

    #[test]
    fn missing_blkio_weight_names_cfq() {
        let why = missing_file(Path::new("/sys/fs/cgroup/blkio/isobench-x"), "blkio.weight");
        assert!(
            why.starts_with(
                "no blkio.weight in /sys/fs/cgroup/blkio/isobench-x; it came with the CFQ"
            ),
            "{why}"
        );
    }

    #[test]
    fn usage_and_throttling_come_from_their_own_hierarchies() {
        let (t, child) = fake(&[]);
        let cg = Path::new("tests/fixtures/hybrid-6.18/cgroup");
        std::fs::copy(cg.join("v1_cpu.stat"), child.join("cpu.stat")).unwrap();
        std::fs::copy(cg.join("v1_cpuacct.usage"), child.join("cpuacct.usage")).unwrap();
        let mut s = CpuStat::default();
        read_cpu(&hier(&["cpu"], t.path()), &child, &mut s).unwrap();
        read_cpu(&hier(&["cpuacct"], t.path()), &child, &mut s).unwrap();
        assert_eq!(
            s,
            CpuStat {
                usage_us: Some(687_405),
                nr_periods: Some(13),
                nr_throttled: Some(13),
                throttled_us: Some(679_175),
                nr_bursts: Some(0),
                burst_us: Some(0),
            }
        );
    }
}

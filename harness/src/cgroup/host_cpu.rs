//! CPU time of every task the harness can see on the host, exact to the
//! scheduler's accounting (not sampled by the tick): the whole from which
//! `host.other_cpu_share` subtracts the run's own work.
//!
//! Where it comes from, by layout:
//! - v1 and hybrid: `cpuacct.usage` of the cpuacct hierarchy's root (ns). Every
//!   task belongs to a cpuacct group, and the scheduler charges each runtime
//!   update to that group and all its ancestors, the root included
//!   (Documentation/admin-guide/cgroup-v1/cpuacct.rst; kernel/sched/cpuacct.c
//!   `cpuacct_charge`), so the root's usage is the exact sum over all tasks.
//! - v2, the kernel's own root mounted (no `cgroup.type` there: that file is not
//!   on the root): the root's `cpu.stat` `usage_usec` is *not* exact. The kernel
//!   sums it from the per-CPU tick statistics that /proc/stat prints
//!   (kernel/cgroup/rstat.c `root_cgroup_cputime`), so it moves in whole ticks
//!   (4 ms at HZ=250) and, over a window of a second, misses or adds tens of
//!   ms of a task that wakes thousands of times a second. Instead: the sum of
//!   `usage_usec` of the root's child cgroups (exact: charged from each task's
//!   runtime, Documentation/admin-guide/cgroup-v2.rst "cpu.stat") plus the
//!   runtime of every thread left in the root itself (kernel threads, mostly),
//!   from `/proc/<tid>/schedstat` (its first field: time on the CPU, ns;
//!   Documentation/scheduler/sched-stats.rst).
//! - v2 inside a cgroup namespace or a container, whose cgroup2 mount shows a
//!   non-root cgroup: that cgroup's `cpu.stat` `usage_usec` (exact). "The host"
//!   is then what that mount shows.
//!
//! Not in any of them: interrupt time on a kernel built with
//! `CONFIG_IRQ_TIME_ACCOUNTING` (it is then kept apart from task runtime; without
//! it the interrupted task is charged) and steal time of a guest with
//! paravirtual steal accounting; /proc/stat reports both (see
//! [`crate::probe::host_load`]).

use super::CgroupHost;
use super::error::{CgroupError, Result};
use super::files;
use super::layout::Layout;
use super::stat::{CpuStat, read_cpuacct_usage_us};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Where the CPU time of all tasks is read from (see the module's documentation).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HostCpuSource {
    /// `cpuacct.usage` of a v1 cpuacct hierarchy's root, ns.
    CpuacctRoot(PathBuf),
    /// `cpu.stat` of a cgroup2 mount that shows a non-root cgroup (a cgroup namespace).
    CgroupStat(PathBuf),
    /// The kernel's cgroup2 root: its child cgroups' `cpu.stat` and its own
    /// threads' `<proc>/<tid>/schedstat`.
    V2Root {
        /// The cgroup2 mount point, e.g. `/sys/fs/cgroup`.
        root: PathBuf,
        /// Where procfs is mounted, normally `/proc`.
        proc: PathBuf,
    },
}

/// One reading of a [`HostCpuSource`]: CPU time per part (a file, a cgroup, a
/// thread), µs. Parts are kept apart so that a [`HostCpuSnapshot::delta_us`]
/// counts only what each part added between two readings: a kernel thread that
/// exits in between must not take its whole past runtime away from the total.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HostCpuSnapshot {
    /// Part (a path or `tid <n>`) → CPU time, µs.
    pub parts: BTreeMap<String, u64>,
}

impl HostCpuSnapshot {
    /// CPU time added since `earlier`, µs: for every part present now, its
    /// growth (a part that is new counts whole: it started in between); a part
    /// gone since (a thread that exited, a cgroup removed) counts nothing.
    pub fn delta_us(&self, earlier: &HostCpuSnapshot) -> u64 {
        self.parts
            .iter()
            .map(|(k, now)| now.saturating_sub(earlier.parts.get(k).copied().unwrap_or(0)))
            .sum()
    }
}

impl HostCpuSource {
    /// The source for this host's layout and mounts.
    ///
    /// # Errors
    /// [`CgroupError::Layout`] when no hierarchy carries cpuacct (v1, hybrid)
    /// or there is no cgroup2 mount (v2).
    pub fn discover(host: &CgroupHost) -> Result<HostCpuSource> {
        match host.layout {
            Layout::V2 => {
                let h = host.hierarchies.iter().find(|h| h.unified).ok_or_else(|| {
                    CgroupError::Layout(
                        "no cgroup2 hierarchy to read the host's CPU time from".into(),
                    )
                })?;
                Ok(Self::for_v2_mount(&h.mount_point, Path::new("/proc")))
            }
            Layout::V1 | Layout::Hybrid => host
                .hierarchies
                .iter()
                .find(|h| !h.unified && h.has("cpuacct"))
                .map(|h| HostCpuSource::CpuacctRoot(h.mount_point.join("cpuacct.usage")))
                .ok_or_else(|| {
                    CgroupError::Layout(
                        "no v1 hierarchy carries cpuacct: the host's CPU time cannot be read"
                            .into(),
                    )
                }),
        }
    }

    /// The source for a cgroup2 mount at `mount`: the kernel's root when the
    /// mount has no `cgroup.type` (a file every cgroup but the root has), else
    /// the cgroup it shows. `proc` is where procfs is mounted.
    pub fn for_v2_mount(mount: &Path, proc: &Path) -> HostCpuSource {
        if mount.join("cgroup.type").exists() {
            HostCpuSource::CgroupStat(mount.join("cpu.stat"))
        } else {
            HostCpuSource::V2Root {
                root: mount.into(),
                proc: proc.into(),
            }
        }
    }

    /// What is read, for the results (`host_cpu.source`).
    pub fn describe(&self) -> String {
        match self {
            HostCpuSource::CpuacctRoot(p) => format!("{} (v1 cpuacct root)", p.display()),
            HostCpuSource::CgroupStat(p) => {
                format!(
                    "{} usage_usec (cgroup2 mount of a non-root cgroup)",
                    p.display()
                )
            }
            HostCpuSource::V2Root { root, proc } => format!(
                "usage_usec of every cgroup in {} and {}/<tid>/schedstat of each thread in its \
                 cgroup.threads (cgroup2 root)",
                root.display(),
                proc.display()
            ),
        }
    }

    /// Reads the CPU time of all tasks now.
    ///
    /// # Errors
    /// Read or parse errors naming the file. On the v2 root, a thread or
    /// cgroup that vanishes between listing and reading is skipped, not an error.
    pub fn snapshot(&self) -> Result<HostCpuSnapshot> {
        let mut parts = BTreeMap::new();
        match self {
            HostCpuSource::CpuacctRoot(p) => {
                parts.insert(p.display().to_string(), read_cpuacct_usage_us(p)?);
            }
            HostCpuSource::CgroupStat(p) => {
                parts.insert(p.display().to_string(), usage_of(p)?);
            }
            HostCpuSource::V2Root { root, proc } => {
                for child in child_cgroups(root)? {
                    let stat = child.join("cpu.stat");
                    match usage_of(&stat) {
                        Ok(us) => {
                            parts.insert(stat.display().to_string(), us);
                        }
                        Err(CgroupError::Read { error, .. }) if gone(&error) => {}
                        Err(e) => return Err(e),
                    }
                }
                let threads = root.join("cgroup.threads");
                for tid in files::read(&threads)?
                    .lines()
                    .filter(|l| !l.trim().is_empty())
                {
                    let tid: u32 = tid.trim().parse().map_err(|_| CgroupError::Parse {
                        path: threads.clone(),
                        line: tid.into(),
                        expected: "one thread id per line",
                    })?;
                    match read_schedstat_us(&proc.join(tid.to_string()).join("schedstat")) {
                        Ok(us) => {
                            parts.insert(format!("tid {tid}"), us);
                        }
                        Err(CgroupError::Read { error, .. }) if gone(&error) => {}
                        Err(e) => return Err(e),
                    }
                }
            }
        }
        Ok(HostCpuSnapshot { parts })
    }
}

/// True for the errors of a file whose cgroup or thread went away in between.
fn gone(e: &std::io::Error) -> bool {
    matches!(
        e.raw_os_error(),
        Some(nix::libc::ENOENT | nix::libc::ESRCH | nix::libc::ENODEV)
    )
}

/// `usage_usec` of a cgroup2 `cpu.stat`.
fn usage_of(path: &Path) -> Result<u64> {
    let text = files::read(path)?;
    CpuStat::parse_v2(path, &text)?
        .usage_us
        .ok_or_else(|| CgroupError::Parse {
            path: path.into(),
            line: text.lines().next().unwrap_or("").into(),
            expected: "a `usage_usec` line",
        })
}

/// The directories directly beneath cgroup `root`.
fn child_cgroups(root: &Path) -> Result<Vec<PathBuf>> {
    let read_err = |error| CgroupError::Read {
        path: root.into(),
        error,
    };
    let mut out = Vec::new();
    for e in std::fs::read_dir(root).map_err(read_err)? {
        let e = e.map_err(read_err)?;
        if e.file_type().is_ok_and(|t| t.is_dir()) {
            out.push(e.path());
        }
    }
    out.sort();
    Ok(out)
}

/// The first field of `/proc/<tid>/schedstat` (time the thread spent on a
/// CPU, ns; Documentation/scheduler/sched-stats.rst), in µs.
///
/// # Errors
/// [`CgroupError::Read`] or [`CgroupError::Parse`] with the path.
pub fn read_schedstat_us(path: &Path) -> Result<u64> {
    let text = files::read(path)?;
    text.split_whitespace()
        .next()
        .and_then(|ns| ns.parse::<u64>().ok())
        .map(|ns| ns / 1000)
        .ok_or_else(|| CgroupError::Parse {
            path: path.into(),
            line: text.trim().into(),
            expected: "`<ns on CPU> <ns waiting> <timeslices>`",
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    const FIX: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures");

    fn copy(from: &str, to: &Path) {
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::copy(Path::new(FIX).join(from), to).unwrap();
    }

    #[test]
    fn v1_root_cpuacct_usage_is_the_total_in_us() {
        let t = tempfile::tempdir().unwrap();
        let p = t.path().join("cpuacct.usage");
        copy("hybrid-6.18/cgroup/root_cpuacct.usage", &p);
        let s = HostCpuSource::CpuacctRoot(p.clone());
        let snap = s.snapshot().unwrap();
        assert_eq!(snap.parts.values().sum::<u64>(), 991_275_714);
        std::fs::write(&p, "991276214339\n").unwrap();
        assert_eq!(s.snapshot().unwrap().delta_us(&snap), 500);
    }

    /// Threads of the cgroup2 root of the v2 VM (its kernel threads), one per line.
    const ROOT_THREADS: &str = "v2-debian-6.1/root_cgroup.threads";

    /// A fake cgroup2 root from real files of the v2 VM (Debian 6.1): its
    /// tick-sampled `cpu.stat` (whole 4 ms ticks), its 52 threads, each with
    /// the schedstat of kthreadd (tid 2), and two children (`cpu.stat` of a
    /// v2 cgroup and of the hybrid host's cgroup2 twin).
    fn fake_v2_root() -> (tempfile::TempDir, PathBuf, PathBuf) {
        let t = tempfile::tempdir().unwrap();
        let (root, proc) = (t.path().join("cgroup"), t.path().join("proc"));
        copy("v2-debian-6.1/root_cpu.stat", &root.join("cpu.stat"));
        copy(
            "v2-debian-6.1/bench_cpu.stat",
            &root.join("ci.slice/cpu.stat"),
        );
        copy(
            "hybrid-6.18/cgroup/unified_cpu.stat",
            &root.join("init.scope/cpu.stat"),
        );
        copy(ROOT_THREADS, &root.join("cgroup.threads"));
        for tid in std::fs::read_to_string(Path::new(FIX).join(ROOT_THREADS))
            .unwrap()
            .lines()
        {
            copy(
                "v2-debian-6.1/proc_2_schedstat",
                &proc.join(tid).join("schedstat"),
            );
        }
        (t, root, proc)
    }

    #[test]
    fn the_v2_root_is_its_children_and_its_own_threads_not_its_tick_sampled_cpu_stat() {
        let (_t, root, proc) = fake_v2_root();
        let s = HostCpuSource::for_v2_mount(&root, &proc);
        assert!(matches!(s, HostCpuSource::V2Root { .. }), "{s:?}");
        let snap = s.snapshot().unwrap();
        assert_eq!(
            read_schedstat_us(&proc.join("2/schedstat")).unwrap(),
            35_563
        );
        assert_eq!(
            snap.parts.values().sum::<u64>(),
            14_338_000 + 687_405 + 52 * 35_563,
            "{snap:?}"
        );
        assert!(s.describe().contains("cgroup.threads"));
    }

    #[test]
    fn a_thread_that_exits_takes_nothing_away_and_a_new_one_counts_whole() {
        let (_t, root, proc) = fake_v2_root();
        let s = HostCpuSource::for_v2_mount(&root, &proc);
        let before = s.snapshot().unwrap();
        std::fs::write(root.join("cgroup.threads"), "2\n4194300\n").unwrap(); // the other 51 exited
        std::fs::write(proc.join("2/schedstat"), "1000000000000 0 1\n").unwrap();
        std::fs::create_dir_all(proc.join("4194300")).unwrap();
        std::fs::write(proc.join("4194300/schedstat"), "3000 0 1\n").unwrap();
        let grown_us = 1_000_000_000 - before.parts["tid 2"];
        assert_eq!(s.snapshot().unwrap().delta_us(&before), grown_us + 3);
    }

    #[test]
    fn a_thread_listed_but_gone_is_skipped() {
        let (_t, root, proc) = fake_v2_root();
        std::fs::write(root.join("cgroup.threads"), "2\n4194301\n").unwrap();
        let snap = HostCpuSource::for_v2_mount(&root, &proc)
            .snapshot()
            .unwrap();
        assert!(snap.parts.contains_key("tid 2") && !snap.parts.contains_key("tid 4194301"));
    }

    #[test]
    fn a_cgroup_namespace_mount_reads_its_own_cpu_stat() {
        let (_t, root, proc) = fake_v2_root();
        std::fs::write(root.join("cgroup.type"), "domain\n").unwrap();
        let s = HostCpuSource::for_v2_mount(&root, &proc);
        assert_eq!(s, HostCpuSource::CgroupStat(root.join("cpu.stat")));
        let root_usage = CpuStat::parse_v2(
            &root.join("cpu.stat"),
            &std::fs::read_to_string(root.join("cpu.stat")).unwrap(),
        )
        .unwrap()
        .usage_us
        .unwrap();
        assert_eq!(
            s.snapshot().unwrap().parts.values().sum::<u64>(),
            root_usage
        );
    }

    #[test]
    fn malformed_files_are_named() {
        let (_t, root, proc) = fake_v2_root();
        std::fs::write(proc.join("15/schedstat"), "soon\n").unwrap();
        let err = HostCpuSource::for_v2_mount(&root, &proc)
            .snapshot()
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("15/schedstat") && err.contains("soon"),
            "{err}"
        );
        std::fs::write(root.join("cgroup.threads"), "two\n").unwrap();
        let err = HostCpuSource::for_v2_mount(&root, &proc)
            .snapshot()
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("cgroup.threads") && err.contains("two"),
            "{err}"
        );
        std::fs::write(root.join("cgroup.threads"), "2\n").unwrap();
        let cpu = root.join("ci.slice/cpu.stat");
        std::fs::write(&cpu, "user_usec 5\n").unwrap();
        let err = usage_of(&cpu).unwrap_err().to_string();
        assert!(
            err.contains("ci.slice/cpu.stat") && err.contains("usage_usec"),
            "{err}"
        );
    }
}

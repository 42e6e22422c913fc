//! The CPU budget of a cgroup: how many CPUs its tasks may use at most, from
//! the kernel's files (case C14).
//!
//! The budget is the smallest `quota / period` over the cgroup and every
//! ancestor up to its hierarchy's root (a quota binds everything beneath it:
//! Documentation/admin-guide/cgroup-v2.rst "cpu.max"; cgroup-v1 CFS bandwidth,
//! Documentation/scheduler/sched-bwc.rst "Hierarchical considerations"),
//! capped by the CPUs the cgroup may run on (v2 `cpuset.cpus.effective`, v1
//! `cpuset.effective_cpus` or `cpuset.cpus`), and by the CPUs online. Weights
//! and shares never enter it: they divide contended time and promise no CPU.
//!
//! Files: v2 `cpu.max` (`max 100000`, `50000 100000`; absent at the root);
//! v1 `cpu.cfs_quota_us` (`-1` for no limit) and `cpu.cfs_period_us`.
//! Only reads happen here, also above the harness's own cgroup.

use super::cpulist::CpuList;
use super::error::{CgroupError, Result};
use super::files;
use super::layout::Layout;
use std::path::{Path, PathBuf};

/// A cgroup's CPU budget and where each part of it was read.
#[derive(Debug, Clone, PartialEq)]
pub struct CpuBudget {
    /// The budget, CPUs: the tightest quota, capped by the effective cpuset and the CPUs online.
    pub cpus: f64,
    /// The tightest quota at or above the cgroup, CPUs, and the cgroup that sets it;
    /// `None` when no cgroup up to the root has one.
    pub quota: Option<(f64, PathBuf)>,
    /// CPUs in the cgroup's effective cpuset and the file read; `None` without a cpuset controller.
    pub cpuset: Option<(usize, PathBuf)>,
    /// CPUs online (/sys/devices/system/cpu/online).
    pub online: usize,
    /// Each cgroup read, leaf first: its directory and what its quota files say.
    pub levels: Vec<(PathBuf, String)>,
}

impl CpuBudget {
    /// What bounds the budget, in words: `quota 50000/100000 of <dir>`, `cpuset
    /// of 1 CPU (<file>)`, or `the 2 CPUs online`.
    pub fn bound_by(&self) -> String {
        let quota = self.quota.as_ref().filter(|(q, _)| *q <= self.cpus);
        let cpuset = self
            .cpuset
            .as_ref()
            .filter(|(n, _)| (*n as f64) <= self.cpus && *n < self.online);
        match (quota, cpuset) {
            (Some((q, dir)), _) => format!("the quota of {q:.2} CPUs in {}", dir.display()),
            (None, Some((n, file))) => format!(
                "the cpuset of {n} CPU{} ({})",
                if *n == 1 { "" } else { "s" },
                file.display()
            ),
            (None, None) => format!("the {} CPUs online, no quota or cpuset", self.online),
        }
    }
}

/// Derives the budget of the cgroup at `cpu_dir` in the hierarchy of the cpu
/// controller mounted at `cpu_root` (`layout` says which files it has), with
/// the cpuset read from `cpuset_dir` (the same directory on v2), and `online` CPUs.
///
/// # Errors
/// `cpu_dir` not beneath `cpu_root`; a quota file that cannot be read or parsed
/// (naming it); a cpuset file that cannot be read.
pub fn derive(
    layout: Layout,
    cpu_dir: &Path,
    cpu_root: &Path,
    cpuset_dir: Option<&Path>,
    online: usize,
) -> Result<CpuBudget> {
    if !cpu_dir.starts_with(cpu_root) {
        return Err(CgroupError::Layout(format!(
            "{} is not beneath the cpu hierarchy's root {}",
            cpu_dir.display(),
            cpu_root.display()
        )));
    }
    let mut levels = Vec::new();
    let mut quota: Option<(f64, PathBuf)> = None;
    for dir in cpu_dir.ancestors().take_while(|d| d.starts_with(cpu_root)) {
        let (cpus, said) = if layout == Layout::V2 {
            read_v2(dir)?
        } else {
            read_v1(dir)?
        };
        if let Some(c) = cpus
            && quota.as_ref().is_none_or(|(q, _)| c < *q)
        {
            quota = Some((c, dir.to_path_buf()));
        }
        levels.push((dir.to_path_buf(), said));
    }
    let cpuset = cpuset_dir.map(|d| read_cpuset(layout, d)).transpose()?;
    let cpus = [
        quota.as_ref().map(|(q, _)| *q),
        cpuset.as_ref().map(|(n, _)| *n as f64),
        Some(online as f64),
    ]
    .into_iter()
    .flatten()
    .fold(f64::INFINITY, f64::min);
    Ok(CpuBudget {
        cpus,
        quota,
        cpuset,
        online,
        levels,
    })
}

/// v2 `cpu.max` of `dir`: the quota in CPUs (`None` for `max` or no file) and the file's words.
fn read_v2(dir: &Path) -> Result<(Option<f64>, String)> {
    let path = dir.join("cpu.max");
    if !path.exists() {
        return Ok((None, "no cpu.max (the hierarchy's root)".into()));
    }
    let text = files::read(&path)?;
    let bad = || CgroupError::Parse {
        path: path.clone(),
        line: text.trim().into(),
        expected: "`max PERIOD` or `QUOTA PERIOD` in µs",
    };
    let (q, p) = text.trim().split_once(' ').ok_or_else(bad)?;
    let period: u64 = p.parse().map_err(|_| bad())?;
    let quota: Option<u64> = match q {
        "max" => None,
        n => Some(n.parse().map_err(|_| bad())?),
    };
    if period == 0 {
        return Err(bad());
    }
    Ok((
        quota.map(|q| q as f64 / period as f64),
        format!("cpu.max {}", text.trim()),
    ))
}

/// v1 `cpu.cfs_quota_us` / `cpu.cfs_period_us` of `dir`: the quota in CPUs
/// (`None` for `-1` or no file) and the files' words.
fn read_v1(dir: &Path) -> Result<(Option<f64>, String)> {
    let quota_path = dir.join("cpu.cfs_quota_us");
    if !quota_path.exists() {
        return Ok((None, "no cpu.cfs_quota_us".into()));
    }
    let text = files::read(&quota_path)?;
    let quota: i64 = text.trim().parse().map_err(|_| CgroupError::Parse {
        path: quota_path.clone(),
        line: text.trim().into(),
        expected: "a quota in µs, or -1 for none",
    })?;
    let period = files::read_u64(&dir.join("cpu.cfs_period_us"))?;
    let said = format!("cpu.cfs_quota_us {quota}, cpu.cfs_period_us {period}");
    if quota < 0 || period == 0 {
        return Ok((None, said));
    }
    Ok((Some(quota as f64 / period as f64), said))
}

/// The effective cpuset of `dir`: how many CPUs, and the file read (v2
/// `cpuset.cpus.effective`; v1 `cpuset.effective_cpus`, else `cpuset.cpus`).
fn read_cpuset(layout: Layout, dir: &Path) -> Result<(usize, PathBuf)> {
    let names: &[&str] = if layout == Layout::V2 {
        &["cpuset.cpus.effective"]
    } else {
        &["cpuset.effective_cpus", "cpuset.cpus"]
    };
    let path = names
        .iter()
        .map(|n| dir.join(n))
        .find(|p| p.exists())
        .unwrap_or_else(|| dir.join(names[0]));
    let list = CpuList::read(&path).map_err(|error| CgroupError::Read {
        path: path.clone(),
        error,
    })?;
    Ok((list.len(), path))
}

#[cfg(test)]
mod tests {
    use super::*;

    const HYBRID: &str = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/hybrid-6.18/cgroup"
    );
    const V2: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/v2-debian-6.1");

    /// A fake hierarchy in a temp dir: `root/a/b`, each level's files copied
    /// from a fixture or written, as `(level, file, fixture or text)`.
    fn tree(files: &[(&str, &str, &str)]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for (level, name, source) in files {
            let d = dir.path().join(level);
            std::fs::create_dir_all(&d).unwrap();
            let text = match source.strip_prefix("fixture:") {
                Some(f) => std::fs::read_to_string(f).unwrap(),
                None => source.to_string(),
            };
            std::fs::write(d.join(name), text).unwrap();
        }
        dir
    }

    fn fixture(dir: &str, file: &str) -> String {
        format!("fixture:{dir}/{file}")
    }

    #[test]
    fn v1_quota_of_the_leaf_from_a_real_host_is_the_budget() {
        let quota = fixture(HYBRID, "v1_cpu.cfs_quota_us");
        let period = fixture(HYBRID, "v1_cpu.cfs_period_us");
        let t = tree(&[
            (".", "cpu.cfs_quota_us", "-1\n"),
            (".", "cpu.cfs_period_us", "100000\n"),
            ("a", "cpu.cfs_quota_us", "-1\n"),
            ("a", "cpu.cfs_period_us", "100000\n"),
            ("a/b", "cpu.cfs_quota_us", &quota),
            ("a/b", "cpu.cfs_period_us", &period),
            ("a/b", "cpuset.cpus", "0-1\n"),
        ]);
        let leaf = t.path().join("a/b");
        let b = derive(Layout::Hybrid, &leaf, t.path(), Some(&leaf), 2).unwrap();
        assert_eq!(b.cpus, 0.5);
        assert_eq!(b.quota, Some((0.5, leaf.clone())));
        assert_eq!(b.cpuset, Some((2, leaf.join("cpuset.cpus"))));
        assert_eq!(b.levels.len(), 3, "{:?}", b.levels);
        assert!(b.bound_by().contains("0.50 CPUs"), "{}", b.bound_by());
    }

    #[test]
    fn a_parents_quota_binds_an_unlimited_child_on_v2() {
        let unlimited = fixture(V2, "new_child_cpu.max");
        let t = tree(&[
            ("p", "cpu.max", "100000 100000\n"),
            ("p/c", "cpu.max", &unlimited),
            (
                "p/c",
                "cpuset.cpus.effective",
                &fixture(V2, "new_child_cpuset.cpus.effective"),
            ),
        ]);
        let leaf = t.path().join("p/c");
        let b = derive(Layout::V2, &leaf, t.path(), Some(&leaf), 2).unwrap();
        assert_eq!(b.cpus, 1.0);
        assert_eq!(b.quota, Some((1.0, t.path().join("p"))));
        assert_eq!(b.levels[0].1, "cpu.max max 100000");
        assert_eq!(b.levels[2].1, "no cpu.max (the hierarchy's root)");
    }

    #[test]
    fn the_tighter_of_child_and_parent_binds_and_a_cpuset_caps_the_budget() {
        let t = tree(&[
            ("p", "cpu.max", "200000 100000\n"),
            ("p/c", "cpu.max", &fixture(V2, "bench_cpu.max")),
            ("p/c", "cpuset.cpus.effective", "0\n"),
        ]);
        let leaf = t.path().join("p/c");
        let b = derive(Layout::V2, &leaf, t.path(), Some(&leaf), 2).unwrap();
        assert_eq!(b.quota.as_ref().unwrap().1, leaf);
        assert_eq!(b.cpus, 0.5);
        let t = tree(&[
            ("c", "cpu.max", "max 100000\n"),
            ("c", "cpuset.cpus.effective", "1\n"),
        ]);
        let leaf = t.path().join("c");
        let b = derive(Layout::V2, &leaf, t.path(), Some(&leaf), 2).unwrap();
        assert_eq!((b.cpus, b.quota.clone()), (1.0, None));
        assert!(b.bound_by().contains("cpuset of 1 CPU"), "{}", b.bound_by());
    }

    #[test]
    fn weights_and_shares_never_enter_the_budget() {
        let t = tree(&[
            ("c", "cpu.cfs_quota_us", "-1\n"),
            ("c", "cpu.cfs_period_us", "100000\n"),
            ("c", "cpu.shares", &fixture(HYBRID, "v1_cpu.shares")),
            ("c", "cpu.weight", "1\n"),
        ]);
        let leaf = t.path().join("c");
        let b = derive(Layout::V1, &leaf, t.path(), None, 2).unwrap();
        assert_eq!(b.cpus, 2.0);
        assert!(b.bound_by().contains("2 CPUs online"), "{}", b.bound_by());
    }

    #[test]
    fn a_garbled_quota_file_is_named_in_the_error() {
        let t = tree(&[("c", "cpu.max", "half 100000\n")]);
        let leaf = t.path().join("c");
        let e = derive(Layout::V2, &leaf, t.path(), None, 2)
            .unwrap_err()
            .to_string();
        assert!(e.contains("cpu.max") && e.contains("half"), "{e}");
        let e = derive(Layout::V2, Path::new("/elsewhere"), t.path(), None, 2)
            .unwrap_err()
            .to_string();
        assert!(e.contains("not beneath"), "{e}");
    }
}

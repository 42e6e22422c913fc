//! The pids controller's files, and which cgroup's limit refused a fork.
//!
//! Files (Documentation/admin-guide/cgroup-v2.rst "PID", cgroup-v1/pids.rst,
//! kernel/cgroup/pids.c): `pids.max` (a count of tasks or `max`),
//! `pids.current` (tasks now: processes and threads), `pids.peak` (the
//! high-water mark, on both layouts where the kernel has it: Debian's 6.1
//! does), `pids.events` (`max N`) and, on v2 only, `pids.events.local`.
//!
//! Where a refused fork is counted changed in 2024 (commits "cgroup/pids:
//! Separate semantics of pids.events related to pids.max" and "Make event
//! counters hierarchical", case C17):
//! - v1, v2 before those commits, and v2 mounted with `pids_localevents`: `pids.events`
//!   `max` counts forks that failed *in that cgroup*, whichever limit refused
//!   them ([`EventCounting::WhereForkFailed`]). The refusing limit is not named,
//!   so it is inferred: the nearest cgroup at or above the forking one whose
//!   limit its peak reached (the kernel charges a fork from the forking cgroup
//!   upwards and fails at the first limit it would pass).
//! - v2 since, which has `pids.events.local`: its `max` counts forks refused *by that
//!   cgroup's own limit*, and `pids.events` the same for it and its descendants
//!   ([`EventCounting::AtTheLimit`]); the forking cgroup counts nothing.
//!
//! Attaching a task is not limited (`pids.current` may exceed `pids.max`):
//! only fork(2) and clone(2) are refused, with EAGAIN.

use super::error::{CgroupError, Result};
use super::files;
use super::layout::Layout;
use super::limits::Limit;
use super::stat::key_values;
use std::path::{Path, PathBuf};

/// One cgroup's pids files at one instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PidsFiles {
    /// `pids.max`, tasks.
    pub max: Limit,
    /// `pids.current`, tasks.
    pub current: u64,
    /// `pids.peak`, tasks; `None` where the kernel lacks the file (older kernels).
    pub peak: Option<u64>,
    /// `max` of `pids.events`.
    pub events_max: u64,
    /// `max` of `pids.events.local`; `None` where the kernel lacks the file (v1, older v2).
    pub events_local_max: Option<u64>,
}

impl PidsFiles {
    /// Reads the pids files of cgroup directory `dir`.
    ///
    /// # Errors
    /// Read or parse errors with the path; a missing `pids.peak` or
    /// `pids.events.local` is `None`, not an error.
    pub fn read(dir: &Path) -> Result<PidsFiles> {
        let max_path = dir.join("pids.max");
        let max_text = files::read(&max_path)?;
        let max = match max_text.trim() {
            "max" => Limit::Max,
            n => Limit::Value(n.parse().map_err(|_| CgroupError::Parse {
                path: max_path.clone(),
                line: n.into(),
                expected: "a number of tasks, or max",
            })?),
        };
        Ok(PidsFiles {
            max,
            current: files::read_u64(&dir.join("pids.current"))?,
            peak: optional(&dir.join("pids.peak"), |p, t| {
                t.trim().parse().map_err(|_| CgroupError::Parse {
                    path: p.into(),
                    line: t.trim().into(),
                    expected: "one unsigned integer",
                })
            })?,
            events_max: events_max(
                &dir.join("pids.events"),
                &files::read(&dir.join("pids.events"))?,
            )?,
            events_local_max: optional(&dir.join("pids.events.local"), events_max)?,
        })
    }
}

/// Reads `path` with `parse`, or `None` when the kernel has no such file.
fn optional<T>(path: &Path, parse: fn(&Path, &str) -> Result<T>) -> Result<Option<T>> {
    match std::fs::read_to_string(path) {
        Ok(text) => parse(path, &text).map(Some),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(error) => Err(CgroupError::Read {
            path: path.into(),
            error,
        }),
    }
}

/// The `max` counter of a `pids.events` (or `.local`) file: `max N`.
fn events_max(path: &Path, text: &str) -> Result<u64> {
    key_values(path, text)?
        .into_iter()
        .find(|(k, _)| *k == "max")
        .map(|(_, v)| v)
        .ok_or_else(|| CgroupError::Parse {
            path: path.into(),
            line: text.trim().into(),
            expected: "a line `max N`",
        })
}

/// Where the kernel counts a refused fork in `pids.events` (see the module's docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventCounting {
    /// In the cgroup whose task forked (v1; v2 without `pids.events.local` or mounted
    /// with `pids_localevents`).
    WhereForkFailed,
    /// In the cgroup whose limit was hit: `pids.events.local` (v2 since 2024).
    AtTheLimit,
}

impl EventCounting {
    /// How this host counts: `layout`, whether the kernel has
    /// `pids.events.local`, and the mount options of the cgroup2 hierarchy
    /// (its line of /proc/self/mountinfo; `pids_localevents` restores the old
    /// counting).
    pub fn of(layout: Layout, has_events_local: bool, cgroup2_mount: &str) -> EventCounting {
        let localevents = cgroup2_mount
            .split([' ', ','])
            .any(|o| o == "pids_localevents");
        if layout == Layout::V2 && has_events_local && !localevents {
            EventCounting::AtTheLimit
        } else {
            EventCounting::WhereForkFailed
        }
    }
}

/// The line of `mountinfo` (proc(5)) that mounts `mount_point`; empty when none does.
pub fn mount_line<'a>(mountinfo: &'a str, mount_point: &Path) -> &'a str {
    let point = mount_point.to_string_lossy();
    mountinfo
        .lines()
        .find(|l| l.split(' ').nth(4) == Some(point.as_ref()))
        .unwrap_or("")
}

/// One cgroup on the way from a sandbox up to the arena: its name and its
/// files at the start and the end of a condition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Level {
    /// The cgroup as the kernel names it (relative to its hierarchy's root, starting with `/`).
    pub cgroup: String,
    /// Its files when the sandbox was created.
    pub start: PidsFiles,
    /// Its files at the end.
    pub end: PidsFiles,
    /// Highest `pids.current` sampled in between, tasks; `None` where not sampled.
    pub sampled_peak: Option<u64>,
}

impl Level {
    /// Δ`pids.events` `max`.
    pub fn events(&self) -> u64 {
        self.end.events_max.saturating_sub(self.start.events_max)
    }

    /// Δ`pids.events.local` `max`, where the kernel has the file.
    pub fn events_local(&self) -> Option<u64> {
        Some(
            self.end
                .events_local_max?
                .saturating_sub(self.start.events_local_max?),
        )
    }

    /// The highest count seen: `pids.peak` and the samples.
    pub fn peak(&self) -> Option<u64> {
        match (self.end.peak, self.sampled_peak) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        }
    }
}

/// Forks refused by one cgroup's limit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// Forks refused.
    pub forks: u64,
    /// The cgroup whose `pids.max` refused them.
    pub cgroup: String,
    /// Its `pids.max`, tasks.
    pub limit: u64,
    /// How it was told (`pids.events.local`, or how it was inferred).
    pub how: String,
}

impl std::fmt::Display for Refusal {
    /// `forks refused ×25 (limit of /a/p: pids.max 16)`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "forks refused ×{} (limit of {}: pids.max {})",
            self.forks, self.cgroup, self.limit
        )
    }
}

/// Forks refused over a condition for the tasks of the sandbox `levels[0]`
/// (its ancestors up to the arena follow), and whose limit refused them;
/// `Err` names refused forks no level's limit explains (a limit above the
/// arena, or an ancestor without a peak reaching its limit).
///
/// With [`EventCounting::AtTheLimit`] the count of an ancestor shared with
/// other sandboxes includes their refused forks: the kernel no longer counts
/// where a fork failed.
pub fn refusals(levels: &[Level], counting: EventCounting) -> (u64, Vec<Refusal>, Option<String>) {
    match counting {
        EventCounting::AtTheLimit => {
            let out: Vec<Refusal> = levels
                .iter()
                .filter_map(|l| {
                    let forks = l.events_local().filter(|&n| n > 0)?;
                    Some(Refusal {
                        forks,
                        cgroup: l.cgroup.clone(),
                        limit: match l.end.max {
                            Limit::Value(v) => v,
                            Limit::Max => u64::MAX,
                        },
                        how: "pids.events.local: the kernel counts a refused fork at the cgroup \
                              whose limit was hit"
                            .into(),
                    })
                })
                .collect();
            (out.iter().map(|r| r.forks).sum(), out, None)
        }
        EventCounting::WhereForkFailed => {
            let Some(sandbox) = levels.first() else {
                return (0, Vec::new(), None);
            };
            let forks = sandbox.events();
            if forks == 0 {
                return (0, Vec::new(), None);
            }
            let limiting = levels.iter().find_map(|l| match l.end.max {
                Limit::Value(v) if l.peak().is_none_or(|p| p >= v) => Some((l, v)),
                _ => None,
            });
            match limiting {
                Some((l, limit)) => (
                    forks,
                    vec![Refusal {
                        forks,
                        cgroup: l.cgroup.clone(),
                        limit,
                        how: format!(
                            "inferred: the kernel counts a refused fork where it failed \
                             ({}'s pids.events), and {} is the nearest cgroup at or above it \
                             whose limit {}",
                            sandbox.cgroup,
                            l.cgroup,
                            if l.peak().is_some() {
                                "its peak reached"
                            } else {
                                "is finite (no pids.peak to check the peak against)"
                            }
                        ),
                    }],
                    None,
                ),
                None => (
                    forks,
                    Vec::new(),
                    Some(format!(
                        "{forks} forks refused in {} by no limit between it and the arena \
                         (a pids.max above the arena, e.g. a service's TasksMax)",
                        sandbox.cgroup
                    )),
                ),
            }
        }
    }
}

/// The pids directories of a cgroup and its ancestors up to the arena: the
/// `pids` directory `dir` of the sandbox, its hierarchy's mount point (for the
/// kernel's names) and the harness's own cgroup there (the walk stops below it).
pub fn ancestry(dir: &Path, mount_point: &Path, own_dir: &Path) -> Vec<(PathBuf, String)> {
    let mut out = Vec::new();
    let mut at = Some(dir);
    while let Some(d) = at.filter(|d| d.starts_with(own_dir) && *d != own_dir) {
        let name = d
            .strip_prefix(mount_point)
            .map_or_else(|_| d.display().to_string(), |r| format!("/{}", r.display()));
        out.push((d.to_path_buf(), name));
        at = d.parent();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const HYBRID: &str = "tests/fixtures/hybrid-6.18/cgroup";

    fn files(max: Limit, peak: Option<u64>, events: u64, local: Option<u64>) -> PidsFiles {
        PidsFiles {
            max,
            current: 0,
            peak,
            events_max: events,
            events_local_max: local,
        }
    }

    fn level(name: &str, end: PidsFiles, sampled: Option<u64>) -> Level {
        Level {
            cgroup: name.into(),
            start: files(end.max, None, 0, end.events_local_max.map(|_| 0)),
            end,
            sampled_peak: sampled,
        }
    }

    #[test]
    fn v1_files_read_with_and_without_peak() {
        let t = tempfile::tempdir().unwrap();
        for f in ["pids.max", "pids.current", "pids.events"] {
            std::fs::copy(format!("{HYBRID}/v1_{f}"), t.path().join(f)).unwrap();
        }
        let without_peak = PidsFiles::read(t.path()).unwrap();
        assert_eq!(without_peak, files(Limit::Value(64), None, 0, None));
        std::fs::copy(format!("{HYBRID}/v1_pids.peak"), t.path().join("pids.peak")).unwrap();
        assert_eq!(PidsFiles::read(t.path()).unwrap().peak, Some(16));
    }

    #[test]
    fn c17_the_refused_childs_own_files_count_the_forks_and_overstate_its_peak() {
        let t = tempfile::tempdir().unwrap();
        std::fs::write(t.path().join("pids.max"), "max\n").unwrap();
        std::fs::write(t.path().join("pids.current"), "0\n").unwrap();
        for f in ["pids.events", "pids.peak"] {
            std::fs::copy(format!("{HYBRID}/v1_{f}.refused_child"), t.path().join(f)).unwrap();
        }
        let c = PidsFiles::read(t.path()).unwrap();
        assert_eq!((c.events_max, c.peak), (25, Some(17)));
        let p = events_max(
            Path::new("pids.events"),
            &std::fs::read_to_string(format!("{HYBRID}/v1_pids.events.limiting_parent")).unwrap(),
        );
        assert_eq!(p.unwrap(), 0);
    }

    #[test]
    fn a_malformed_events_file_names_its_path() {
        let err = events_max(Path::new("/c/pids.events"), "maximum 3\n")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("/c/pids.events") && err.contains("max N"),
            "{err}"
        );
    }

    #[test]
    fn counting_follows_layout_kernel_and_mount_option() {
        let plain = "30 1 0:26 / /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw,nsdelegate";
        let local =
            "30 1 0:26 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw,nsdelegate,pids_localevents";
        use EventCounting::*;
        assert_eq!(EventCounting::of(Layout::V2, true, plain), AtTheLimit);
        assert_eq!(EventCounting::of(Layout::V2, true, local), WhereForkFailed);
        assert_eq!(EventCounting::of(Layout::V2, false, plain), WhereForkFailed);
        assert_eq!(
            EventCounting::of(Layout::Hybrid, true, plain),
            WhereForkFailed
        );
        let info = std::fs::read_to_string("tests/fixtures/v2-debian-6.1/proc_mountinfo").unwrap();
        assert!(mount_line(&info, Path::new("/sys/fs/cgroup")).contains("cgroup2"));
        assert_eq!(mount_line(&info, Path::new("/nowhere")), "");
    }

    #[test]
    fn c17_v1_and_6_1_count_in_the_child_and_the_parents_limit_is_inferred() {
        // Group P (pids.max 16) over child C (max); C's holder forked 40 times.
        let c = level(
            "/arena/p/c",
            files(Limit::Max, Some(16), 25, None),
            Some(16),
        );
        let p = level(
            "/arena/p",
            files(Limit::Value(16), Some(16), 0, None),
            Some(16),
        );
        let arena = level("/arena", files(Limit::Max, Some(16), 0, None), None);
        let (forks, by, unexplained) = refusals(&[c, p, arena], EventCounting::WhereForkFailed);
        assert_eq!((forks, unexplained), (25, None));
        assert_eq!(
            by[0].to_string(),
            "forks refused ×25 (limit of /arena/p: pids.max 16)"
        );
        assert!(by[0].how.starts_with("inferred"), "{}", by[0].how);
    }

    #[test]
    fn c17_without_pids_peak_the_nearest_finite_limit_is_named() {
        let c = level("/p/c", files(Limit::Max, None, 25, None), Some(16));
        let p = level("/p", files(Limit::Value(16), None, 0, None), None);
        let (_, by, _) = refusals(&[c, p], EventCounting::WhereForkFailed);
        assert_eq!((by[0].cgroup.as_str(), by[0].limit), ("/p", 16));
        assert!(by[0].how.contains("no pids.peak"), "{}", by[0].how);
    }

    #[test]
    fn c17_from_6_12_the_parent_counts_its_own_limit_locally() {
        // pids.c since 2024: P's events.local and events count; C's stay 0.
        let c = level("/p/c", files(Limit::Max, Some(16), 0, Some(0)), None);
        let p = level("/p", files(Limit::Value(16), Some(16), 25, Some(25)), None);
        let (forks, by, _) = refusals(&[c, p], EventCounting::AtTheLimit);
        assert_eq!(forks, 25);
        assert_eq!(
            by[0].to_string(),
            "forks refused ×25 (limit of /p: pids.max 16)"
        );
        assert!(by[0].how.starts_with("pids.events.local"));
    }

    #[test]
    fn refusals_no_level_explains_are_said_so() {
        let c = level("/a/c", files(Limit::Value(64), Some(3), 7, None), Some(3));
        let (forks, by, unexplained) = refusals(&[c], EventCounting::WhereForkFailed);
        assert_eq!((forks, by.len()), (7, 0));
        assert!(unexplained.unwrap().contains("above the arena"));
    }

    #[test]
    fn ancestry_stops_below_the_harness_cgroup() {
        let levels = ancestry(
            Path::new("/sys/fs/cgroup/pids/job/isobench-1/p/c"),
            Path::new("/sys/fs/cgroup/pids"),
            Path::new("/sys/fs/cgroup/pids/job"),
        );
        let names: Vec<&str> = levels.iter().map(|(_, n)| n.as_str()).collect();
        assert_eq!(
            names,
            [
                "/job/isobench-1/p/c",
                "/job/isobench-1/p",
                "/job/isobench-1"
            ]
        );
    }
}

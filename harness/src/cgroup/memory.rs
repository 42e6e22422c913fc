//! Typed readers for a cgroup's memory accounting, v2 and v1.
//!
//! v2: `memory.current`, `memory.peak`, `memory.stat`, `memory.events` and
//! `memory.events.local` (Documentation/admin-guide/cgroup-v2.rst, "Memory
//! Interface Files").
//! v1: `memory.usage_in_bytes`, `memory.max_usage_in_bytes`, `memory.stat`
//! (its hierarchical `total_*` keys), `memory.failcnt` and the `oom_kill` line
//! of `memory.oom_control` (Documentation/admin-guide/cgroup-v1/memory.rst).
//! Fields are `Option`: what a kernel does not write stays `None`, never 0.

use super::error::{CgroupError, Result};
use super::files;
use super::stat::key_values;
use std::path::Path;

/// Memory use of one cgroup, bytes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MemoryUsage {
    /// Charged now (v2 `memory.current`, v1 `memory.usage_in_bytes`).
    pub current_bytes: u64,
    /// Highest charge since creation (v2 `memory.peak`, kernel ≥ 5.19; v1 `memory.max_usage_in_bytes`).
    pub peak_bytes: Option<u64>,
}

/// The breakdown of a cgroup's memory, bytes and fault counts (`memory.stat`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MemoryStat {
    /// Anonymous memory (v2 `anon`, v1 `total_rss`), bytes.
    pub anon_bytes: Option<u64>,
    /// Page cache incl. tmpfs and shared memory (v2 `file`, v1 `total_cache`), bytes.
    pub file_bytes: Option<u64>,
    /// tmpfs and shared memory (v2 `shmem`, v1 `total_shmem`), bytes.
    pub shmem_bytes: Option<u64>,
    /// Page cache on the inactive list, the first to go under reclaim, bytes.
    pub inactive_file_bytes: Option<u64>,
    /// Page faults, minor and major (`pgfault`).
    pub pgfault: Option<u64>,
    /// Major page faults: the page had to be read from disk (`pgmajfault`).
    pub pgmajfault: Option<u64>,
    /// Page cache pages read again soon after reclaim evicted them (v2
    /// `workingset_refault_file`, Linux ≥ 5.9; `workingset_refault` before;
    /// v1 has none): a working set that did not fit, or was not protected.
    pub workingset_refault_file: Option<u64>,
}

impl MemoryStat {
    /// Parses v2 `memory.stat`.
    ///
    /// # Errors
    /// [`super::CgroupError::Parse`] with `path` for a line that is not `key value`.
    pub fn parse_v2(path: &Path, text: &str) -> Result<MemoryStat> {
        Self::parse(path, text, "")
    }

    /// Parses v1 `memory.stat`, taking the hierarchical `total_*` keys (they
    /// include child cgroups, as v2's figures do).
    ///
    /// # Errors
    /// [`super::CgroupError::Parse`] with `path` for a line that is not `key value`.
    pub fn parse_v1(path: &Path, text: &str) -> Result<MemoryStat> {
        Self::parse(path, text, "total_")
    }

    fn parse(path: &Path, text: &str, prefix: &str) -> Result<MemoryStat> {
        let v1 = !prefix.is_empty();
        let mut s = MemoryStat::default();
        for (key, value) in key_values(path, text)? {
            let Some(key) = key.strip_prefix(prefix) else {
                continue;
            };
            let slot = match key {
                "anon" if !v1 => &mut s.anon_bytes,
                "rss" if v1 => &mut s.anon_bytes,
                "file" if !v1 => &mut s.file_bytes,
                "cache" if v1 => &mut s.file_bytes,
                "shmem" => &mut s.shmem_bytes,
                "inactive_file" => &mut s.inactive_file_bytes,
                "pgfault" => &mut s.pgfault,
                "pgmajfault" => &mut s.pgmajfault,
                "workingset_refault_file" | "workingset_refault" if !v1 => {
                    &mut s.workingset_refault_file
                }
                _ => continue,
            };
            *slot = Some(value);
        }
        Ok(s)
    }

    /// The working set: usage minus inactive page cache, bytes (DESIGN §2).
    pub fn working_set_bytes(&self, usage: &MemoryUsage) -> Option<u64> {
        Some(
            usage
                .current_bytes
                .saturating_sub(self.inactive_file_bytes?),
        )
    }
}

/// Event counters of a cgroup's memory limits (v2 `memory.events`).
/// v1 has only `max` (`memory.failcnt`) and `oom_kill` (`memory.oom_control`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct MemoryEvents {
    /// Times reclaim was forced by memory.low/min protection being breached.
    pub low: Option<u64>,
    /// Times usage went over memory.high and the cgroup was throttled.
    pub high: Option<u64>,
    /// Times usage was about to go over memory.max (v1: `memory.failcnt`).
    pub max: Option<u64>,
    /// Times the OOM killer was invoked for the cgroup.
    pub oom: Option<u64>,
    /// Processes of the cgroup killed by the OOM killer.
    pub oom_kill: Option<u64>,
    /// Times the OOM killer killed the whole group (`memory.oom.group` set;
    /// Linux ≥ 5.17); `None` on v1 and older kernels.
    #[serde(default)]
    pub oom_group_kill: Option<u64>,
}

impl MemoryEvents {
    /// Parses v2 `memory.events` (or `memory.events.local`, the same keys).
    ///
    /// # Errors
    /// [`super::CgroupError::Parse`] with `path` for a line that is not `key value`.
    pub fn parse_v2(path: &Path, text: &str) -> Result<MemoryEvents> {
        let mut e = MemoryEvents::default();
        for (key, value) in key_values(path, text)? {
            let slot = match key {
                "low" => &mut e.low,
                "high" => &mut e.high,
                "max" => &mut e.max,
                "oom" => &mut e.oom,
                "oom_kill" => &mut e.oom_kill,
                "oom_group_kill" => &mut e.oom_group_kill,
                _ => continue,
            };
            *slot = Some(value);
        }
        Ok(e)
    }

    /// Builds v1 events from `memory.failcnt` and `memory.oom_control` (whose
    /// `oom_kill` line exists since Linux 4.13).
    ///
    /// # Errors
    /// [`super::CgroupError::Parse`] with the path of the malformed file.
    pub fn parse_v1(failcnt: (&Path, &str), oom_control: (&Path, &str)) -> Result<MemoryEvents> {
        let max = failcnt.1.trim().parse().map_err(|_| CgroupError::Parse {
            path: failcnt.0.into(),
            line: failcnt.1.trim().into(),
            expected: "one unsigned integer",
        })?;
        let oom_kill = key_values(oom_control.0, oom_control.1)?
            .into_iter()
            .find(|(k, _)| *k == "oom_kill")
            .map(|(_, v)| v);
        Ok(MemoryEvents {
            max: Some(max),
            oom_kill,
            ..MemoryEvents::default()
        })
    }

    /// Counts since `earlier`, field by field; a field missing in either stays `None`.
    pub fn delta(&self, earlier: &MemoryEvents) -> MemoryEvents {
        let d = |a: Option<u64>, b: Option<u64>| Some(a?.saturating_sub(b?));
        MemoryEvents {
            low: d(self.low, earlier.low),
            high: d(self.high, earlier.high),
            max: d(self.max, earlier.max),
            oom: d(self.oom, earlier.oom),
            oom_kill: d(self.oom_kill, earlier.oom_kill),
            oom_group_kill: d(self.oom_group_kill, earlier.oom_group_kill),
        }
    }
}

/// Reads the v2 memory files of `dir`.
///
/// # Errors
/// Read or parse errors with the path.
pub fn read_v2(dir: &Path) -> Result<(MemoryUsage, MemoryStat, MemoryEvents)> {
    let usage = MemoryUsage {
        current_bytes: files::read_u64(&dir.join("memory.current"))?,
        peak_bytes: files::read_u64(&dir.join("memory.peak")).ok(),
    };
    let stat_path = dir.join("memory.stat");
    let stat = MemoryStat::parse_v2(&stat_path, &files::read(&stat_path)?)?;
    let events_path = dir.join("memory.events");
    let events = MemoryEvents::parse_v2(&events_path, &files::read(&events_path)?)?;
    Ok((usage, stat, events))
}

/// Reads v2 `memory.events.local` of `dir`: the events of `dir`'s own limits;
/// `Ok(None)` where the kernel lacks the file (before Linux 5.2).
///
/// # Errors
/// Read (other than a missing file) or parse errors with the path.
pub fn read_events_local(dir: &Path) -> Result<Option<MemoryEvents>> {
    let path = dir.join("memory.events.local");
    match std::fs::read_to_string(&path) {
        Ok(text) => Ok(Some(MemoryEvents::parse_v2(&path, &text)?)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(error) => Err(CgroupError::Read { path, error }),
    }
}

/// Reads the v1 memory files of `dir` (a cgroup of the memory hierarchy).
///
/// # Errors
/// Read or parse errors with the path.
pub fn read_v1(dir: &Path) -> Result<(MemoryUsage, MemoryStat, MemoryEvents)> {
    let usage = MemoryUsage {
        current_bytes: files::read_u64(&dir.join("memory.usage_in_bytes"))?,
        peak_bytes: Some(files::read_u64(&dir.join("memory.max_usage_in_bytes"))?),
    };
    let stat_path = dir.join("memory.stat");
    let stat = MemoryStat::parse_v1(&stat_path, &files::read(&stat_path)?)?;
    let (fail, oom) = (dir.join("memory.failcnt"), dir.join("memory.oom_control"));
    let events =
        MemoryEvents::parse_v1((&fail, &files::read(&fail)?), (&oom, &files::read(&oom)?))?;
    Ok((usage, stat, events))
}

#[cfg(test)]
mod tests {
    use super::*;

    const HYBRID: &str = "tests/fixtures/hybrid-6.18/cgroup";
    const V2: &str = "tests/fixtures/v2-debian-6.1";

    /// A fake cgroup directory with fixture files copied under their kernel names.
    fn fake(pairs: &[(&str, &str)]) -> tempfile::TempDir {
        let t = tempfile::tempdir().unwrap();
        for (from, to) in pairs {
            std::fs::copy(from, t.path().join(to)).unwrap();
        }
        t
    }

    #[test]
    fn v2_files_of_an_oom_killed_cgroup() {
        let t = fake(&[
            (&format!("{V2}/bench_memory.current"), "memory.current"),
            (&format!("{V2}/bench_memory.peak"), "memory.peak"),
            (&format!("{V2}/bench_memory.stat"), "memory.stat"),
            (&format!("{V2}/bench_memory.events"), "memory.events"),
        ]);
        let (usage, stat, events) = read_v2(t.path()).unwrap();
        assert!(usage.peak_bytes.unwrap() >= usage.current_bytes);
        assert_eq!(stat.file_bytes, Some(16_777_216));
        assert_eq!(stat.shmem_bytes, Some(16_777_216));
        assert_eq!(stat.anon_bytes, Some(0));
        assert_eq!(stat.pgfault, Some(3998));
        assert_eq!(stat.pgmajfault, Some(0));
        assert_eq!(stat.workingset_refault_file, Some(0));
        assert_eq!(
            events,
            MemoryEvents {
                low: Some(0),
                high: Some(0),
                max: Some(35),
                oom: Some(1),
                oom_kill: Some(1),
                oom_group_kill: Some(0),
            }
        );
    }

    #[test]
    fn v2_events_local_is_read_beside_events_and_absent_is_none() {
        let t = fake(&[(
            &format!("{V2}/bench_memory.events.local"),
            "memory.events.local",
        )]);
        let local = read_events_local(t.path()).unwrap().unwrap();
        assert_eq!((local.oom_kill, local.oom_group_kill), (Some(1), Some(0)));
        let empty = tempfile::tempdir().unwrap();
        assert_eq!(read_events_local(empty.path()).unwrap(), None);
    }

    #[test]
    fn v1_files_use_hierarchical_totals_and_oom_control() {
        let t = fake(&[
            (
                &format!("{HYBRID}/v1_memory.usage_in_bytes"),
                "memory.usage_in_bytes",
            ),
            (
                &format!("{HYBRID}/v1_memory.max_usage_in_bytes"),
                "memory.max_usage_in_bytes",
            ),
            (&format!("{HYBRID}/v1_memory.stat"), "memory.stat"),
            (&format!("{HYBRID}/v1_memory.failcnt"), "memory.failcnt"),
            (
                &format!("{HYBRID}/v1_memory.oom_control"),
                "memory.oom_control",
            ),
        ]);
        let (usage, stat, events) = read_v1(t.path()).unwrap();
        assert!(usage.peak_bytes.is_some());
        assert_eq!(stat.file_bytes, Some(65_536));
        assert_eq!(stat.anon_bytes, Some(0));
        assert_eq!(stat.inactive_file_bytes, Some(53_248));
        assert_eq!(stat.pgfault, Some(24_693));
        assert_eq!(stat.pgmajfault, Some(8));
        assert_eq!(events.oom_kill, Some(1));
        assert!(events.max.unwrap() > 0);
        assert_eq!(
            (events.low, events.high, events.oom, events.oom_group_kill),
            (None, None, None, None)
        );
    }

    #[test]
    fn working_set_is_usage_less_inactive_file() {
        let usage = MemoryUsage {
            current_bytes: 100,
            peak_bytes: None,
        };
        let stat = MemoryStat {
            inactive_file_bytes: Some(30),
            ..MemoryStat::default()
        };
        assert_eq!(stat.working_set_bytes(&usage), Some(70));
        assert_eq!(MemoryStat::default().working_set_bytes(&usage), None);
    }

    #[test]
    fn event_delta_keeps_missing_counters_missing() {
        let a = MemoryEvents {
            oom_kill: Some(3),
            max: Some(10),
            ..MemoryEvents::default()
        };
        let b = MemoryEvents {
            oom_kill: Some(1),
            max: Some(4),
            ..MemoryEvents::default()
        };
        let d = a.delta(&b);
        assert_eq!((d.oom_kill, d.max, d.high), (Some(2), Some(6), None));
    }
}

//! Typed readers for the CPU accounting files: `cpu.stat` (v1 and v2) and
//! `cpuacct.usage` (v1). Fields are `Option`: a key the kernel does not write is
//! `None`, a key it adds later is ignored. The v1 nanosecond values are converted
//! to the shared `_us` fields here and nowhere else.
//!
//! Sources: Documentation/admin-guide/cgroup-v2.rst ("cpu.stat"),
//! Documentation/scheduler/sched-bwc.rst ("Statistics"),
//! Documentation/admin-guide/cgroup-v1/cpuacct.rst.

use super::error::{CgroupError, Result};
use std::path::Path;

/// CPU accounting of one cgroup, in microseconds and counts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CpuStat {
    /// Total CPU time used by the cgroup's tasks, µs (v2 `usage_usec`; v1 `cpuacct.usage` / 1000).
    pub usage_us: Option<u64>,
    /// Enforcement periods that have elapsed while the cgroup was runnable (`nr_periods`).
    pub nr_periods: Option<u64>,
    /// Periods in which the cgroup was throttled (`nr_throttled`).
    pub nr_throttled: Option<u64>,
    /// Total time throttled, µs (v2 `throttled_usec`; v1 `throttled_time` ns / 1000).
    pub throttled_us: Option<u64>,
    /// Periods in which the cgroup ran above its quota on banked burst time
    /// (`nr_bursts`; Linux ≥ 5.14, sched-bwc.rst "Statistics").
    pub nr_bursts: Option<u64>,
    /// CPU time spent above the quota on banked burst time, µs (v2 `burst_usec`;
    /// v1 `burst_time` ns / 1000).
    pub burst_us: Option<u64>,
}

impl CpuStat {
    /// Parses a v2 `cpu.stat` (`usage_usec`, `nr_periods`, `nr_throttled`,
    /// `throttled_usec`, `nr_bursts`, `burst_usec`, ...).
    ///
    /// # Errors
    /// [`CgroupError::Parse`] with `path` for a line that is not `key value`.
    pub fn parse_v2(path: &Path, text: &str) -> Result<CpuStat> {
        let mut s = CpuStat::default();
        for (key, value) in key_values(path, text)? {
            match key {
                "usage_usec" => s.usage_us = Some(value),
                "nr_periods" => s.nr_periods = Some(value),
                "nr_throttled" => s.nr_throttled = Some(value),
                "throttled_usec" => s.throttled_us = Some(value),
                "nr_bursts" => s.nr_bursts = Some(value),
                "burst_usec" => s.burst_us = Some(value),
                _ => {}
            }
        }
        Ok(s)
    }

    /// Parses a v1 `cpu.stat` (`nr_periods`, `nr_throttled`, `throttled_time`
    /// in ns, `nr_bursts`, `burst_time` in ns).
    /// Usage is not in it: see [`read_cpuacct_usage_us`].
    ///
    /// # Errors
    /// [`CgroupError::Parse`] with `path` for a line that is not `key value`.
    pub fn parse_v1(path: &Path, text: &str) -> Result<CpuStat> {
        let mut s = CpuStat::default();
        for (key, value) in key_values(path, text)? {
            match key {
                "nr_periods" => s.nr_periods = Some(value),
                "nr_throttled" => s.nr_throttled = Some(value),
                "throttled_time" => s.throttled_us = Some(value / 1000),
                "nr_bursts" => s.nr_bursts = Some(value),
                "burst_time" => s.burst_us = Some(value / 1000),
                _ => {}
            }
        }
        Ok(s)
    }

    /// `self − earlier`, field by field; a field missing from either is `None`.
    /// Counters that went backwards (a recreated cgroup) saturate at 0.
    pub fn delta(&self, earlier: &CpuStat) -> CpuStat {
        let d = |a: Option<u64>, b: Option<u64>| Some(a?.saturating_sub(b?));
        CpuStat {
            usage_us: d(self.usage_us, earlier.usage_us),
            nr_periods: d(self.nr_periods, earlier.nr_periods),
            nr_throttled: d(self.nr_throttled, earlier.nr_throttled),
            throttled_us: d(self.throttled_us, earlier.throttled_us),
            nr_bursts: d(self.nr_bursts, earlier.nr_bursts),
            burst_us: d(self.burst_us, earlier.burst_us),
        }
    }
}

/// Reads v1 `cpuacct.usage` (ns) and returns it in µs.
///
/// # Errors
/// [`CgroupError::Read`] or [`CgroupError::Parse`] with the path.
pub fn read_cpuacct_usage_us(path: &Path) -> Result<u64> {
    Ok(super::files::read_u64(path)? / 1000)
}

/// Splits `key value` lines; values must be unsigned integers.
pub(super) fn key_values<'a>(path: &Path, text: &'a str) -> Result<Vec<(&'a str, u64)>> {
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|line| {
            let bad = || CgroupError::Parse {
                path: path.into(),
                line: line.into(),
                expected: "`key value` with an unsigned integer value",
            };
            let (k, v) = line.split_once(' ').ok_or_else(bad)?;
            Ok((k, v.trim().parse().map_err(|_| bad())?))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const FIX: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures");

    fn fixture(rel: &str) -> (std::path::PathBuf, String) {
        let p = Path::new(FIX).join(rel);
        let text = std::fs::read_to_string(&p).unwrap();
        (p, text)
    }

    #[test]
    fn v2_cpu_stat_from_a_throttled_cgroup() {
        let (p, t) = fixture("v2-debian-6.1/bench_cpu.stat");
        let s = CpuStat::parse_v2(&p, &t).unwrap();
        assert_eq!(
            s,
            CpuStat {
                usage_us: Some(14_338_000),
                nr_periods: Some(287),
                nr_throttled: Some(286),
                throttled_us: Some(33_545_960),
                nr_bursts: Some(0),
                burst_us: Some(0),
            }
        );
    }

    #[test]
    fn v1_cpu_stat_converts_throttled_time_to_us_and_has_no_usage() {
        let (p, t) = fixture("hybrid-6.18/cgroup/v1_cpu.stat");
        let s = CpuStat::parse_v1(&p, &t).unwrap();
        assert_eq!(
            s,
            CpuStat {
                usage_us: None,
                nr_periods: Some(13),
                nr_throttled: Some(13),
                throttled_us: Some(679_175),
                nr_bursts: Some(0),
                burst_us: Some(0),
            }
        );
    }

    #[test]
    fn v1_cpu_stat_of_a_bursting_group_counts_bursts_in_us() {
        let (p, t) = fixture("hybrid-6.18/cgroup/v1_cpu.stat.burst");
        let s = CpuStat::parse_v1(&p, &t).unwrap();
        assert_eq!(
            (s.nr_throttled, s.nr_bursts, s.burst_us),
            (Some(0), Some(3), Some(103_785))
        );
    }

    #[test]
    fn cgroup2_cpu_stat_without_controller_has_usage_but_no_throttle_keys() {
        let (p, t) = fixture("hybrid-6.18/cgroup/unified_cpu.stat");
        let s = CpuStat::parse_v2(&p, &t).unwrap();
        assert_eq!(s.usage_us, Some(687_405));
        assert_eq!(s.nr_throttled, None);
    }

    #[test]
    fn cpuacct_usage_is_read_in_us() {
        let p = Path::new(FIX).join("hybrid-6.18/cgroup/v1_cpuacct.usage");
        assert_eq!(read_cpuacct_usage_us(&p).unwrap(), 687_405);
    }

    #[test]
    fn malformed_line_names_the_file_and_line() {
        let err = CpuStat::parse_v2(Path::new("/x/cpu.stat"), "usage_usec lots\n").unwrap_err();
        let msg = err.to_string();
        assert!(
            msg.contains("/x/cpu.stat") && msg.contains("usage_usec lots"),
            "{msg}"
        );
    }

    #[test]
    fn delta_keeps_missing_fields_missing() {
        let a = CpuStat {
            usage_us: Some(100),
            nr_periods: Some(5),
            ..Default::default()
        };
        let b = CpuStat {
            usage_us: Some(350),
            nr_periods: Some(9),
            ..Default::default()
        };
        let d = b.delta(&a);
        assert_eq!(
            (d.usage_us, d.nr_periods, d.nr_throttled),
            (Some(250), Some(4), None)
        );
    }
}

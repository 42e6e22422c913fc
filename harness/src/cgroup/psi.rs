//! Pressure stall information (PSI): the share of wall time in which some or
//! all runnable tasks of a cgroup (or of the whole host) stalled on CPU, memory
//! or I/O. Source: Documentation/accounting/psi.rst.
//!
//! Files: `<cgroup2 dir>/{cpu,memory,io}.pressure` and `/proc/pressure/{cpu,memory,io}`,
//! each with a `some` and (except for host-wide cpu on older kernels) a `full`
//! line whose `total=` is cumulative stall time in µs. isobench reports
//! Δtotal / Δwall, a share of time 0..1, not the kernel's exponential `avg10`.
//!
//! Whether PSI works is decided by reading the file (case C06): a kernel without
//! CONFIG_PSI has no files (ENOENT), one built with `CONFIG_PSI_DEFAULT_DISABLED`
//! has them but fails every read with EOPNOTSUPP unless booted with `psi=1`.

use super::files::KeptOpen;
use std::path::{Path, PathBuf};

/// A resource PSI tracks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Resource {
    /// `cpu.pressure`.
    Cpu,
    /// `memory.pressure`.
    Memory,
    /// `io.pressure`.
    Io,
}

impl Resource {
    /// Every resource, in report order.
    pub const ALL: [Resource; 3] = [Resource::Memory, Resource::Cpu, Resource::Io];

    /// `cpu`, `memory` or `io`.
    pub fn as_str(self) -> &'static str {
        match self {
            Resource::Cpu => "cpu",
            Resource::Memory => "memory",
            Resource::Io => "io",
        }
    }

    /// The per-cgroup file, e.g. `memory.pressure`.
    pub fn cgroup_file(self) -> String {
        format!("{}.pressure", self.as_str())
    }

    /// The host-wide file, e.g. `/proc/pressure/memory`.
    pub fn system_file(self) -> PathBuf {
        Path::new("/proc/pressure").join(self.as_str())
    }
}

/// Cumulative stall time from one pressure file, µs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PsiTotals {
    /// Time in which at least one task stalled (`some total=`), µs.
    pub some_us: u64,
    /// Time in which all non-idle tasks stalled at once (`full total=`), µs;
    /// `None` where the file has no `full` line (host-wide cpu before Linux 5.13).
    pub full_us: Option<u64>,
}

/// Stall shares over a window: Δtotal / Δwall, each 0..1.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct PsiShare {
    /// Share of the window in which some task stalled, 0..1.
    pub some: f64,
    /// Share of the window in which all tasks stalled, 0..1; null without a `full` line.
    pub full: Option<f64>,
}

impl PsiTotals {
    /// Parses a pressure file's text.
    ///
    /// # Errors
    /// [`PsiUnavailable::Malformed`] naming `path` when there is no `some ... total=N` line.
    pub fn parse(path: &Path, text: &str) -> Result<PsiTotals, PsiUnavailable> {
        let total = |kind: &str| {
            text.lines()
                .find(|l| l.split_whitespace().next() == Some(kind))
                .and_then(|l| l.split_whitespace().find_map(|w| w.strip_prefix("total=")))
                .and_then(|v| v.parse::<u64>().ok())
        };
        let some_us = total("some").ok_or_else(|| PsiUnavailable::Malformed {
            path: path.into(),
            text: text.trim().chars().take(200).collect(),
        })?;
        Ok(PsiTotals {
            some_us,
            full_us: total("full"),
        })
    }

    /// The stall shares since `earlier` over `wall_s` seconds, clamped to 0..1
    /// (the kernel aggregates per CPU, so a total can run a few µs ahead of the wall clock).
    pub fn share_since(&self, earlier: &PsiTotals, wall_s: f64) -> PsiShare {
        let share =
            |now: u64, then: u64| (now.saturating_sub(then) as f64 / 1e6 / wall_s).clamp(0.0, 1.0);
        PsiShare {
            some: share(self.some_us, earlier.some_us),
            full: self
                .full_us
                .zip(earlier.full_us)
                .map(|(now, then)| share(now, then)),
        }
    }
}

/// Why PSI figures are unavailable; reported with the figure, which is then null.
#[derive(Debug, thiserror::Error)]
pub enum PsiUnavailable {
    /// The kernel has no PSI (built without CONFIG_PSI), or this cgroup has no pressure files.
    #[error("PSI absent: no {path}")]
    Absent {
        /// The file looked for.
        path: PathBuf,
    },
    /// The kernel has PSI but it is off (CONFIG_PSI_DEFAULT_DISABLED).
    #[error("PSI disabled: reading {path} fails with EOPNOTSUPP (boot with psi=1)")]
    Disabled {
        /// The file read.
        path: PathBuf,
    },
    /// Any other read failure.
    #[error("PSI unreadable: reading {path}: {error}")]
    Unreadable {
        /// The file read.
        path: PathBuf,
        /// The kernel's answer.
        error: std::io::Error,
    },
    /// The file's text has no `some ... total=` line.
    #[error("PSI unreadable: {path} has no `some ... total=` line: {text:?}")]
    Malformed {
        /// The file read.
        path: PathBuf,
        /// The start of what it held.
        text: String,
    },
}

impl PsiUnavailable {
    /// Classifies a failed open or read of `path` by its errno.
    pub fn from_io(path: &Path, error: std::io::Error) -> PsiUnavailable {
        match error.raw_os_error() {
            Some(e) if e == nix::libc::ENOENT => PsiUnavailable::Absent { path: path.into() },
            Some(e) if e == nix::libc::EOPNOTSUPP => PsiUnavailable::Disabled { path: path.into() },
            _ => PsiUnavailable::Unreadable {
                path: path.into(),
                error,
            },
        }
    }

    /// One word for the doctor: `absent`, `disabled` or `unreadable`.
    pub fn state(&self) -> &'static str {
        match self {
            PsiUnavailable::Absent { .. } => "absent",
            PsiUnavailable::Disabled { .. } => "disabled",
            PsiUnavailable::Unreadable { .. } | PsiUnavailable::Malformed { .. } => "unreadable",
        }
    }
}

/// Reads and parses one pressure file.
///
/// # Errors
/// [`PsiUnavailable`] saying whether PSI is absent, disabled or unreadable there.
pub fn read(path: &Path) -> Result<PsiTotals, PsiUnavailable> {
    let text = std::fs::read_to_string(path).map_err(|e| PsiUnavailable::from_io(path, e))?;
    PsiTotals::parse(path, &text)
}

/// A pressure file held open for repeated reads (the sampler's way: no
/// open/close per sample).
#[derive(Debug)]
pub struct PsiFile {
    file: KeptOpen,
}

impl PsiFile {
    /// Opens `path`; the first read happens here, so a disabled PSI is told at once.
    ///
    /// # Errors
    /// [`PsiUnavailable`] as for [`read`].
    pub fn open(path: &Path) -> Result<(PsiFile, PsiTotals), PsiUnavailable> {
        let file = KeptOpen::open(path).map_err(|e| PsiUnavailable::from_io(path, e))?;
        let mut f = PsiFile { file };
        let first = f.read()?;
        Ok((f, first))
    }

    /// Reads the current totals.
    ///
    /// # Errors
    /// [`PsiUnavailable`] as for [`read`].
    pub fn read(&mut self) -> Result<PsiTotals, PsiUnavailable> {
        let path = self.file.path().to_path_buf();
        let text = self
            .file
            .read()
            .map_err(|e| PsiUnavailable::from_io(&path, e))?;
        PsiTotals::parse(&path, text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn v2_and_hybrid_cgroup_files_and_host_files_parse() {
        for (path, some) in [
            ("tests/fixtures/v2-debian-6.1/bench_memory.pressure", 5009),
            (
                "tests/fixtures/hybrid-6.18/cgroup/unified_memory.pressure",
                1547,
            ),
        ] {
            let t = read(Path::new(path)).unwrap();
            assert_eq!(t.some_us, some, "{path}");
            assert_eq!(t.full_us, Some(some), "{path}");
        }
        for path in [
            "tests/fixtures/v2-debian-6.1/proc_pressure_cpu",
            "tests/fixtures/hybrid-6.18/proc/pressure_io",
            "tests/fixtures/hybrid-6.18/cgroup/unified_cpu.pressure",
        ] {
            read(Path::new(path)).unwrap();
        }
    }

    #[test]
    fn share_is_delta_total_over_wall_and_full_may_be_missing() {
        let a = PsiTotals {
            some_us: 1_000_000,
            full_us: Some(0),
        };
        let b = PsiTotals {
            some_us: 1_500_000,
            full_us: Some(250_000),
        };
        assert_eq!(
            b.share_since(&a, 2.0),
            PsiShare {
                some: 0.25,
                full: Some(0.125)
            }
        );
        let no_full = PsiTotals::parse(
            Path::new("x"),
            "some avg10=0.00 avg60=0.00 avg300=0.00 total=9\n",
        )
        .unwrap();
        assert_eq!(no_full.full_us, None);
        assert_eq!(no_full.share_since(&no_full, 1.0).full, None);
    }

    #[test]
    fn c06_missing_file_is_absent() {
        let t = tempfile::tempdir().unwrap();
        let err = read(&t.path().join("memory.pressure")).unwrap_err();
        assert_eq!(err.state(), "absent");
        assert!(err.to_string().starts_with("PSI absent: no "), "{err}");
    }

    #[test]
    fn c06_eopnotsupp_is_disabled_with_the_boot_option() {
        let err = PsiUnavailable::from_io(
            Path::new("/proc/pressure/memory"),
            std::io::Error::from_raw_os_error(nix::libc::EOPNOTSUPP),
        );
        assert_eq!(err.state(), "disabled");
        assert_eq!(
            err.to_string(),
            "PSI disabled: reading /proc/pressure/memory fails with EOPNOTSUPP (boot with psi=1)"
        );
    }

    #[test]
    fn garbage_is_unreadable_not_zero() {
        let err = PsiTotals::parse(Path::new("memory.pressure"), "nonsense\n").unwrap_err();
        assert_eq!(err.state(), "unreadable");
    }
}

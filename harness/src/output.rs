//! The run's files: results.json, report.html, summary.md, isobench.prom and
//! samples.jsonl (see [`crate::export`]) in one directory, each rewritten atomically (temp file + rename) after every round, so an
//! interrupted run keeps what it had measured.

use isobench_reports::schema::Results;
use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

/// Why the output directory cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum OutputError {
    /// The directory (or the nearest existing ancestor) is not writable.
    #[error("cannot write to output directory {path}: {reason}; choose another directory")]
    NotWritable {
        /// The directory asked for.
        path: PathBuf,
        /// What was found.
        reason: String,
    },
    /// Writing one of the files failed.
    #[error("writing {path}: {error}")]
    Write {
        /// The file.
        path: PathBuf,
        /// The error.
        error: std::io::Error,
    },
}

/// Checks, without creating anything, that `dir` could be created and written:
/// it is a writable directory, or its nearest existing ancestor is.
///
/// # Errors
/// [`OutputError::NotWritable`] saying what is in the way.
pub fn check_writable(dir: &Path) -> Result<(), OutputError> {
    let not = |reason: String| OutputError::NotWritable {
        path: dir.into(),
        reason,
    };
    let absolute = std::path::absolute(dir).map_err(|e| not(e.to_string()))?;
    let existing = absolute
        .ancestors()
        .find(|p| p.exists())
        .ok_or_else(|| not("no existing ancestor".into()))?;
    if !existing.is_dir() {
        return Err(not(format!("{} is not a directory", existing.display())));
    }
    if let Some(kind) = pseudo_filesystem(existing) {
        return Err(not(format!(
            "{} is on {kind}: a directory made there is not a plain folder (on cgroupfs it is a new cgroup)",
            existing.display()
        )));
    }
    nix::unistd::access(
        existing,
        nix::unistd::AccessFlags::W_OK | nix::unistd::AccessFlags::X_OK,
    )
    .map_err(|e| not(format!("{} is not writable: {e}", existing.display())))?;
    if absolute.join("results.json").exists() {
        return Err(not(
            "it already holds a results.json of an earlier run, which this run would overwrite"
                .into(),
        ));
    }
    Ok(())
}

/// Checks, before any work, that a file given by a flag (`--prometheus`,
/// `--junit`) can be written: its directory exists, is a directory and is
/// writable. The file is written later with [`write_atomic`], whose temp file
/// goes into that directory.
///
/// # Errors
/// [`OutputError::NotWritable`] naming the flag, the directory and what is in the way.
pub fn check_file_target(flag: &str, path: &Path) -> Result<(), OutputError> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let not = |reason: &str| OutputError::NotWritable {
        path: dir.into(),
        reason: format!("{flag} {} goes there, and {reason}", path.display()),
    };
    if !dir.is_dir() {
        return Err(not("it is not an existing directory (create it)"));
    }
    nix::unistd::access(
        dir,
        nix::unistd::AccessFlags::W_OK | nix::unistd::AccessFlags::X_OK,
    )
    .map_err(|e| not(&format!("it is not writable: {e}")))
}

/// The kernel pseudo-filesystem `path` is on (cgroupfs, sysfs, procfs), if any.
fn pseudo_filesystem(path: &Path) -> Option<&'static str> {
    use nix::sys::statfs::{
        CGROUP_SUPER_MAGIC, CGROUP2_SUPER_MAGIC, PROC_SUPER_MAGIC, SYSFS_MAGIC, statfs,
    };
    let kind = statfs(path).ok()?.filesystem_type();
    [
        (CGROUP_SUPER_MAGIC, "cgroupfs"),
        (CGROUP2_SUPER_MAGIC, "cgroupfs"),
        (SYSFS_MAGIC, "sysfs"),
        (PROC_SUPER_MAGIC, "procfs"),
    ]
    .into_iter()
    .find(|(magic, _)| *magic == kind)
    .map(|(_, name)| name)
}

/// The directory of one run's files.
#[derive(Debug)]
pub struct OutputDir {
    dir: PathBuf,
    /// The topmost directory this run created, removed again by [`OutputDir::discard`].
    created: Option<PathBuf>,
}

impl OutputDir {
    /// Creates `dir` (and its parents).
    ///
    /// # Errors
    /// [`OutputError::NotWritable`] with the reason.
    pub fn create(dir: &Path) -> Result<OutputDir, OutputError> {
        let not = |reason: String| OutputError::NotWritable {
            path: dir.into(),
            reason,
        };
        let absolute = std::path::absolute(dir).map_err(|e| not(e.to_string()))?;
        let created = absolute
            .ancestors()
            .take_while(|p| !p.exists())
            .last()
            .map(Path::to_path_buf);
        std::fs::create_dir_all(&absolute).map_err(|e| not(e.to_string()))?;
        Ok(OutputDir {
            dir: dir.into(),
            created,
        })
    }

    /// Removes what [`OutputDir::create`] created, for a run refused before it wrote anything.
    pub fn discard(self) {
        if let Some(top) = self.created {
            let _ = std::fs::remove_dir_all(top);
        }
    }

    /// Path of results.json.
    pub fn results_path(&self) -> PathBuf {
        self.dir.join("results.json")
    }

    /// Path of report.html.
    pub fn report_path(&self) -> PathBuf {
        self.dir.join("report.html")
    }

    /// Path of summary.md.
    pub fn summary_path(&self) -> PathBuf {
        self.dir.join("summary.md")
    }

    /// Path of isobench.prom (OpenMetrics text, [`crate::export::openmetrics`]).
    pub fn prometheus_path(&self) -> PathBuf {
        self.dir.join("isobench.prom")
    }

    /// Path of samples.jsonl ([`crate::export::samples`]).
    pub fn samples_path(&self) -> PathBuf {
        self.dir.join("samples.jsonl")
    }

    /// Every file [`OutputDir::write`] writes, in that order.
    pub fn paths(&self) -> [PathBuf; 5] {
        [
            self.results_path(),
            self.report_path(),
            self.summary_path(),
            self.prometheus_path(),
            self.samples_path(),
        ]
    }

    /// Rewrites all five files from `results`.
    ///
    /// # Errors
    /// [`OutputError::Write`] naming the file; files already replaced stay replaced.
    pub fn write(&self, results: &Results) -> Result<(), OutputError> {
        let json = serde_json::to_string_pretty(results).expect("results serialize");
        write_atomic(&self.results_path(), json.as_bytes())?;
        write_atomic(
            &self.report_path(),
            isobench_reports::render_html(results).as_bytes(),
        )?;
        write_atomic(
            &self.summary_path(),
            isobench_reports::render_markdown(results).as_bytes(),
        )?;
        write_atomic(&self.prometheus_path(), prometheus(results).as_bytes())?;
        write_atomic(
            &self.samples_path(),
            crate::export::samples::rows(results, None).as_bytes(),
        )
    }
}

/// The OpenMetrics text of one run's results.
pub fn prometheus(results: &Results) -> String {
    let mut e = crate::export::openmetrics::Exposition::default();
    e.add_run(results, None);
    e.render()
}

/// Writes `bytes` to a temporary file beside `path`, syncs it and renames it over `path`.
///
/// # Errors
/// [`OutputError::Write`] naming the file.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), OutputError> {
    let err = |source| OutputError::Write {
        path: path.into(),
        error: source,
    };
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(err)?;
    tmp.write_all(bytes).map_err(err)?;
    // Readable by all, as files written by cp or a shell would be (tempfile makes 0600).
    tmp.as_file()
        .set_permissions(std::fs::Permissions::from_mode(0o644))
        .map_err(err)?;
    tmp.as_file().sync_data().map_err(err)?;
    tmp.persist(path).map_err(|e| err(e.error))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_directory_under_a_writable_one_is_accepted_and_not_created() {
        let t = tempfile::tempdir().unwrap();
        let dir = t.path().join("a/b");
        check_writable(&dir).unwrap();
        assert!(!dir.exists());
    }

    #[test]
    fn a_file_in_the_way_is_named() {
        let t = tempfile::tempdir().unwrap();
        std::fs::write(t.path().join("f"), "").unwrap();
        let err = check_writable(&t.path().join("f/out"))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("is not a directory") && err.contains("choose another directory"),
            "{err}"
        );
    }

    #[test]
    fn a_directory_with_results_of_an_earlier_run_is_refused() {
        let t = tempfile::tempdir().unwrap();
        std::fs::write(t.path().join("results.json"), "{}").unwrap();
        let err = check_writable(t.path()).unwrap_err().to_string();
        assert!(err.contains("already holds a results.json"), "{err}");
    }

    #[test]
    fn a_flag_file_in_a_missing_directory_is_refused_naming_the_flag() {
        let t = tempfile::tempdir().unwrap();
        check_file_target("--junit", &t.path().join("j.xml")).unwrap();
        let err = check_file_target("--prometheus", &t.path().join("none/x.prom"))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("--prometheus ") && err.contains("is not an existing directory"),
            "{err}"
        );
    }

    #[test]
    fn discard_removes_only_what_create_made() {
        let t = tempfile::tempdir().unwrap();
        let out = OutputDir::create(&t.path().join("a/b/c")).unwrap();
        assert!(t.path().join("a/b/c").is_dir());
        out.discard();
        assert!(!t.path().join("a").exists() && t.path().exists());
    }

    #[test]
    fn atomic_write_replaces_the_whole_file() {
        let t = tempfile::tempdir().unwrap();
        let p = t.path().join("results.json");
        write_atomic(&p, b"first, longer content").unwrap();
        write_atomic(&p, b"second").unwrap();
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "second");
        assert_eq!(
            std::fs::metadata(&p).unwrap().permissions().mode() & 0o777,
            0o644
        );
        assert_eq!(
            std::fs::read_dir(t.path()).unwrap().count(),
            1,
            "no temp file left"
        );
    }
}

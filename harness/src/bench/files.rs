//! Where a bench's files go: `<target>/isobench/<bench>/`, holding `latest/`
//! (the last run: results.json, report.html, summary.md, and compare.json,
//! compare.md when it was compared) and `baselines/<name>/` (the run saved
//! under that name: results.json, report.html, summary.md).

use isobench_reports::schema::Results;
use std::ffi::OsStr;
use std::path::{Path, PathBuf};

/// The baseline each run is compared with and saved as unless told otherwise (as criterion's).
pub const DEFAULT_BASELINE: &str = "base";

/// The files a run leaves in its directory and a baseline keeps.
const RUN_FILES: [&str; 3] = ["results.json", "report.html", "summary.md"];

/// Cargo's target directory for a bench binary at `exe`: `$CARGO_TARGET_DIR`
/// when set (`cargo_target_dir`; a relative one is taken from `cwd`, as criterion
/// does), else the nearest directory above `exe` that holds cargo's
/// `CACHEDIR.TAG` (`target/release/deps/isolation-…` → `target`, also under
/// `--target TRIPLE`), else the directory three levels up, else `cwd/target`.
pub fn target_dir(cargo_target_dir: Option<&OsStr>, exe: &Path, cwd: &Path) -> PathBuf {
    if let Some(dir) = cargo_target_dir.filter(|d| !d.is_empty()) {
        return cwd.join(dir);
    }
    exe.ancestors()
        .skip(1)
        .find(|d| d.join("CACHEDIR.TAG").is_file())
        .or_else(|| exe.ancestors().nth(3).filter(|d| !d.as_os_str().is_empty()))
        .map_or_else(|| cwd.join("target"), Path::to_path_buf)
}

/// The bench target's name from its executable's file name: cargo's
/// `isolation-1a2b3c4d5e6f7a8b` → `isolation` (a name without that hash suffix as it is).
pub fn bench_name(exe: &Path) -> String {
    let stem = exe
        .file_name()
        .map_or_else(|| "bench".into(), |n| n.to_string_lossy().into_owned());
    match stem.rsplit_once('-') {
        Some((name, hash))
            if !name.is_empty()
                && hash.len() == 16
                && hash.chars().all(|c| c.is_ascii_hexdigit()) =>
        {
            name.to_string()
        }
        _ => stem,
    }
}

/// Whether `name` may name a bench's or a baseline's directory: 1 to 100 of
/// ASCII letters, digits, `.`, `_` and `-`, not starting with `.`.
pub fn valid_name(name: &str) -> bool {
    (1..=100).contains(&name.len())
        && !name.starts_with('.')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
}

/// Why a baseline cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum BaselineError {
    /// The name cannot name a directory.
    #[error(
        "baseline name {0:?}: expected 1 to 100 of letters, digits, `.`, `_` and `-`, not starting with `.`"
    )]
    BadName(String),
    /// `--baseline NAME` names a baseline never saved.
    #[error(
        "baseline {name:?} not found: {path} does not exist; save one first with \
         `cargo bench -- --save-baseline {name}`{saved}"
    )]
    Missing {
        /// The name asked for.
        name: String,
        /// The results file looked for.
        path: String,
        /// The baselines there are, as `; saved: a, b`, or nothing.
        saved: String,
    },
    /// Reading, parsing or writing a baseline failed.
    #[error("{path}: {reason}")]
    Io {
        /// The file or directory.
        path: String,
        /// What went wrong.
        reason: String,
    },
}

/// The directory of one bench: `<target>/isobench/<bench>/`.
#[derive(Debug, Clone, PartialEq)]
pub struct BenchDir {
    root: PathBuf,
}

impl BenchDir {
    /// The directory of bench `bench` in cargo target directory `target`.
    pub fn new(target: &Path, bench: &str) -> BenchDir {
        BenchDir {
            root: target.join("isobench").join(bench),
        }
    }

    /// `<target>/isobench/<bench>/`.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The last run's directory: `latest/`.
    pub fn latest(&self) -> PathBuf {
        self.root.join("latest")
    }

    /// The directory of baseline `name`: `baselines/<name>/`.
    ///
    /// # Errors
    /// [`BaselineError::BadName`] for a name that cannot name a directory.
    pub fn baseline(&self, name: &str) -> Result<PathBuf, BaselineError> {
        if !valid_name(name) {
            return Err(BaselineError::BadName(name.into()));
        }
        Ok(self.root.join("baselines").join(name))
    }

    /// The results of baseline `name`, or `None` when none was saved under it.
    ///
    /// # Errors
    /// A bad name; a results file that cannot be read or parsed, naming it.
    pub fn load(&self, name: &str) -> Result<Option<(Results, PathBuf)>, BaselineError> {
        let path = self.baseline(name)?.join("results.json");
        if !path.exists() {
            return Ok(None);
        }
        let results = crate::commands::read_results(&path).map_err(|e| BaselineError::Io {
            path: path.display().to_string(),
            reason: format!("{e:#}; delete the baseline's directory to start it afresh"),
        })?;
        Ok(Some((results, path)))
    }

    /// [`BenchDir::load`] for `--baseline NAME`, where a missing baseline is an error.
    ///
    /// # Errors
    /// As [`BenchDir::load`], and [`BaselineError::Missing`] listing the baselines saved.
    pub fn require(&self, name: &str) -> Result<(Results, PathBuf), BaselineError> {
        self.load(name)?.ok_or_else(|| {
            let saved = self.saved();
            BaselineError::Missing {
                name: name.into(),
                path: self
                    .root
                    .join("baselines")
                    .join(name)
                    .join("results.json")
                    .display()
                    .to_string(),
                saved: if saved.is_empty() {
                    String::new()
                } else {
                    format!("; saved: {}", saved.join(", "))
                },
            }
        })
    }

    /// Names of the baselines saved, sorted.
    pub fn saved(&self) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(self.root.join("baselines"))
            .into_iter()
            .flatten()
            .flatten()
            .filter(|e| e.path().join("results.json").is_file())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| !n.starts_with('.'))
            .collect();
        names.sort();
        names
    }

    /// Saves the run in `run_dir` as baseline `name`, replacing what was saved
    /// under it: its files are copied to a new directory beside it, which then
    /// takes the name, so a baseline is never half written.
    ///
    /// # Errors
    /// A bad name, or the file or directory that could not be copied or renamed.
    pub fn save(&self, run_dir: &Path, name: &str) -> Result<PathBuf, BaselineError> {
        let dest = self.baseline(name)?;
        let parent = self.root.join("baselines");
        let io = |path: &Path, e: std::io::Error| BaselineError::Io {
            path: path.display().to_string(),
            reason: e.to_string(),
        };
        let pid = std::process::id();
        let fresh = parent.join(format!(".{name}.new-{pid}"));
        let old = parent.join(format!(".{name}.old-{pid}"));
        for leftover in [&fresh, &old] {
            if leftover.exists() {
                std::fs::remove_dir_all(leftover).map_err(|e| io(leftover, e))?;
            }
        }
        std::fs::create_dir_all(&fresh).map_err(|e| io(&fresh, e))?;
        for file in RUN_FILES {
            let from = run_dir.join(file);
            if let Err(e) = std::fs::copy(&from, fresh.join(file)) {
                let _ = std::fs::remove_dir_all(&fresh);
                return Err(io(&from, e));
            }
        }
        if dest.exists() {
            std::fs::rename(&dest, &old).map_err(|e| io(&dest, e))?;
        }
        std::fs::rename(&fresh, &dest).map_err(|e| io(&dest, e))?;
        if old.exists() {
            std::fs::remove_dir_all(&old).map_err(|e| io(&old, e))?;
        }
        Ok(dest)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_target_dir_is_cargos_from_the_environment_or_above_the_executable() {
        let t = tempfile::tempdir().unwrap();
        let target = t.path().join("target");
        let deps = target.join("x86_64-unknown-linux-gnu/release/deps");
        std::fs::create_dir_all(&deps).unwrap();
        std::fs::write(
            target.join("CACHEDIR.TAG"),
            "Signature: 8a477f597d28d172789f06886806bc55",
        )
        .unwrap();
        let exe = deps.join("isolation-0123456789abcdef");
        assert_eq!(target_dir(None, &exe, Path::new("/cwd")), target);
        assert_eq!(
            target_dir(Some(OsStr::new("out")), &exe, Path::new("/cwd")),
            Path::new("/cwd/out")
        );
        assert_eq!(
            target_dir(Some(OsStr::new("/abs")), &exe, Path::new("/cwd")),
            Path::new("/abs")
        );
        let untagged = Path::new("/x/target/release/deps/isolation-0123456789abcdef");
        assert_eq!(
            target_dir(None, untagged, Path::new("/cwd")),
            Path::new("/x/target")
        );
        assert_eq!(
            target_dir(None, Path::new("bench"), Path::new("/cwd")),
            Path::new("/cwd/target")
        );
    }

    #[test]
    fn the_bench_name_is_the_executable_without_cargos_hash() {
        assert_eq!(
            bench_name(Path::new("/t/release/deps/isolation-0123456789abcdef")),
            "isolation"
        );
        assert_eq!(
            bench_name(Path::new("/t/release/deps/my-bench-0123456789abcdef")),
            "my-bench"
        );
        assert_eq!(bench_name(Path::new("/usr/bin/my-bench")), "my-bench");
    }

    #[test]
    fn a_baseline_is_saved_whole_and_replaced_whole() {
        let t = tempfile::tempdir().unwrap();
        let dir = BenchDir::new(t.path(), "isolation");
        let run = t.path().join("run");
        std::fs::create_dir_all(&run).unwrap();
        for (i, f) in RUN_FILES.iter().enumerate() {
            std::fs::write(run.join(f), format!("first {i}")).unwrap();
        }
        let saved = dir.save(&run, "base").unwrap();
        assert_eq!(saved, t.path().join("isobench/isolation/baselines/base"));
        std::fs::write(run.join("summary.md"), "second").unwrap();
        dir.save(&run, "base").unwrap();
        assert_eq!(
            std::fs::read_to_string(saved.join("summary.md")).unwrap(),
            "second"
        );
        let left = || -> Vec<_> {
            std::fs::read_dir(saved.parent().unwrap())
                .unwrap()
                .map(|e| e.unwrap().file_name())
                .collect()
        };
        assert_eq!(left(), ["base"], "nothing but the baseline is left");
        std::fs::remove_file(run.join("report.html")).unwrap();
        let err = dir.save(&run, "other").unwrap_err().to_string();
        assert!(
            err.contains("report.html") && err.contains("No such file"),
            "{err}"
        );
        assert!(!dir.baseline("other").unwrap().exists());
        assert_eq!(left(), ["base"], "no half-copied baseline is left");
    }

    #[test]
    fn a_missing_or_misnamed_baseline_is_refused_with_the_path_and_what_there_is() {
        let t = tempfile::tempdir().unwrap();
        let dir = BenchDir::new(t.path(), "isolation");
        let err = dir.require("main").unwrap_err().to_string();
        assert!(
            err.starts_with("baseline \"main\" not found: ")
                && err.contains("isobench/isolation/baselines/main/results.json does not exist")
                && err.contains("--save-baseline main"),
            "{err}"
        );
        assert!(matches!(
            dir.baseline("../x"),
            Err(BaselineError::BadName(_))
        ));
        assert!(matches!(
            dir.baseline(".hidden"),
            Err(BaselineError::BadName(_))
        ));
        assert!(dir.load("base").unwrap().is_none());
    }
}

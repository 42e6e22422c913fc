//! The `isobench-workload` binary: where it is, and what its applets report.

use isobench_workloads::report::WorkloadReport;
use std::path::{Path, PathBuf};

/// Name of the multi-call workload binary.
pub const BINARY: &str = "isobench-workload";
/// Environment variable that overrides where the binary is looked for.
pub const ENV_OVERRIDE: &str = "ISOBENCH_WORKLOAD";

/// Why a workload could not be used.
#[derive(Debug, thiserror::Error)]
pub enum WorkloadError {
    /// The binary is in none of the places looked at.
    #[error(
        "cannot find {BINARY}: looked at ${ENV_OVERRIDE}, next to {exe} and on PATH; \
         build the whole workspace (`cargo build --release`) or set {ENV_OVERRIDE}=/path/to/{BINARY}"
    )]
    NotFound {
        /// The running executable, whose directory was searched.
        exe: String,
    },
    /// The file found is not a working `isobench-workload`.
    #[error(
        "{path} ({origin}) is not a working {BINARY}: {reason}; point {ENV_OVERRIDE} at the {BINARY} built with isobench, or unset it"
    )]
    NotWorkload {
        /// The file.
        path: String,
        /// Where the path came from: `$ISOBENCH_WORKLOAD`, or `found next to isobench`.
        origin: &'static str,
        /// What `--version` showed.
        reason: String,
    },
    /// Its stdout was not the report expected.
    #[error("{applet} printed no valid report ({reason}); its output was {output:?}")]
    BadReport {
        /// The applet, e.g. `cpu-units`.
        applet: String,
        /// What was wrong.
        reason: String,
        /// The first 200 bytes of what it printed.
        output: String,
    },
}

/// Finds `isobench-workload`: `$ISOBENCH_WORKLOAD`, then the directory of the
/// running executable and its parent (test binaries live in `target/*/deps`), then
/// PATH; and checks that what it found answers `--version` as `isobench-workload`.
///
/// # Errors
/// [`WorkloadError::NotFound`] listing where it looked; [`WorkloadError::NotWorkload`]
/// naming the file, where its path came from and what it answered.
pub fn locate() -> Result<PathBuf, WorkloadError> {
    if let Some(p) = std::env::var_os(ENV_OVERRIDE) {
        return verify(PathBuf::from(p), "$ISOBENCH_WORKLOAD");
    }
    let exe = std::env::current_exe().unwrap_or_default();
    let near = exe
        .parent()
        .into_iter()
        .flat_map(|d| [d.to_path_buf(), d.parent().unwrap_or(d).to_path_buf()]);
    let on_path = std::env::var_os("PATH")
        .into_iter()
        .flat_map(|p| std::env::split_paths(&p).collect::<Vec<_>>());
    near.chain(on_path)
        .map(|dir| dir.join(BINARY))
        .find(|p| is_executable(p))
        .ok_or_else(|| WorkloadError::NotFound {
            exe: exe.display().to_string(),
        })
        .and_then(|p| verify(p, "found next to isobench or on PATH"))
}

/// Runs `path --version` and accepts it if it names itself `isobench-workload`.
fn verify(path: PathBuf, origin: &'static str) -> Result<PathBuf, WorkloadError> {
    let not = |reason: String| WorkloadError::NotWorkload {
        path: path.display().to_string(),
        origin,
        reason,
    };
    if !is_executable(&path) {
        return Err(not("not an executable file".into()));
    }
    let out = std::process::Command::new(&path)
        .arg("--version")
        .output()
        .map_err(|e| not(e.to_string()))?;
    let first = String::from_utf8_lossy(&out.stdout)
        .lines()
        .next()
        .unwrap_or_default()
        .to_string();
    if out.status.success() && first.starts_with(BINARY) {
        Ok(path)
    } else {
        Err(not(format!(
            "`--version` printed {first:?} and exited with {}",
            out.status
        )))
    }
}

fn is_executable(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    p.metadata()
        .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// Parses the report an applet printed on stdout (its last line).
///
/// # Errors
/// [`WorkloadError::BadReport`] with the applet name and the start of the output.
pub fn parse_report(applet: &str, output: &str) -> Result<WorkloadReport, WorkloadError> {
    let bad = |reason: String| WorkloadError::BadReport {
        applet: applet.into(),
        reason,
        output: output.chars().take(200).collect(),
    };
    let line = output
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .ok_or_else(|| bad("empty output".into()))?;
    serde_json::from_str(line).map_err(|e| bad(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn report_is_read_from_the_last_line() {
        let out = "noise\n{\"workload\":\"cpu-hog\",\"threads\":2,\"ran_s\":1.5}\n";
        assert!(
            matches!(parse_report("cpu-hog", out).unwrap(), WorkloadReport::CpuHog(h) if h.threads == 2)
        );
    }

    #[test]
    fn garbage_report_names_the_applet_and_shows_the_output() {
        let err = parse_report("cpu-units", "Segmentation fault\n")
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("cpu-units printed no valid report")
                && err.contains("Segmentation fault"),
            "{err}"
        );
    }
}

//! `isobench report`: report.html and summary.md remade from a results file.

use super::read_results;
use anyhow::{Context, Result};
use isobench_reports::comparison::Comparison;
use std::io::Write;
use std::process::ExitCode;

/// The comparison to show in a remade report: `explicit` (which must judge
/// `results`' run), or else compare.json beside the results when it judges that
/// run; with the file it came from.
fn comparison_for(
    results: &isobench_reports::schema::Results,
    results_path: &std::path::Path,
    explicit: Option<std::path::PathBuf>,
) -> Result<Option<(Comparison, std::path::PathBuf)>> {
    use isobench_reports::comparison::COMPARISON_VERSION;
    let read = |path: &std::path::Path| -> Result<Comparison> {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        let c: Comparison = serde_json::from_str(&text).with_context(|| {
            format!("{}: not a compare.json of isobench compare", path.display())
        })?;
        if c.schema_version != COMPARISON_VERSION {
            anyhow::bail!(
                "{}: compare.json schema_version {} is not supported: this isobench reads version {COMPARISON_VERSION}",
                path.display(),
                c.schema_version
            );
        }
        Ok(c)
    };
    if let Some(path) = explicit {
        let c = read(&path).context("--compare")?;
        if c.current.run_id != results.run_id {
            anyhow::bail!(
                "--compare {} judges run {} ({}), not run {} of {}: give the compare.json that `isobench compare` wrote with this results file as CURRENT",
                path.display(),
                c.current.run_id,
                c.current.path,
                results.run_id,
                results_path.display()
            );
        }
        return Ok(Some((c, path)));
    }
    let beside = results_path.with_file_name("compare.json");
    if !beside.is_file() {
        return Ok(None);
    }
    match read(&beside) {
        Ok(c) if c.current.run_id == results.run_id => Ok(Some((c, beside))),
        Ok(c) => {
            eprintln!(
                "note: {} left out of the report: it judges run {}, not run {}",
                beside.display(),
                c.current.run_id,
                results.run_id
            );
            Ok(None)
        }
        Err(e) => {
            eprintln!("warning: {e:#}; the report has no comparison section");
            Ok(None)
        }
    }
}

/// Writes report.html (and summary.md beside it) from a results file, with the
/// comparison of `compare` or of a compare.json beside the results that judges that run.
///
/// # Errors
/// Unreadable files (named) or a compare.json about another run.
pub fn report(
    results_path: &std::path::Path,
    out: Option<std::path::PathBuf>,
    compare: Option<std::path::PathBuf>,
) -> Result<ExitCode> {
    let results = read_results(results_path)?;
    let comparison = comparison_for(&results, results_path, compare)?;
    let html_path = out.unwrap_or_else(|| results_path.with_file_name("report.html"));
    let summary_path = html_path.with_file_name("summary.md");
    if let Some(dir) = html_path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    crate::output::write_atomic(
        &html_path,
        isobench_reports::render_html_with_comparison(&results, comparison.as_ref().map(|c| &c.0))
            .as_bytes(),
    )?;
    crate::output::write_atomic(
        &summary_path,
        isobench_reports::render_markdown(&results).as_bytes(),
    )?;
    let mut stdout = std::io::stdout().lock();
    let with = comparison.map_or_else(String::new, |(_, path)| {
        format!(" (with the comparison of {})", path.display())
    });
    writeln!(
        stdout,
        "wrote {}{with}\nwrote {}",
        html_path.display(),
        summary_path.display()
    )?;
    Ok(ExitCode::SUCCESS)
}

//! `isobench compare`: the regression gate between two results files.

use super::read_results;
use crate::cli::CompareArgs;
use crate::compare::CompareInput;
use crate::compare::margins::Margins;
use anyhow::{Context, Result};
use isobench_reports::comparison::Comparison;
use isobench_reports::schema::Results;
use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

/// Compares CURRENT against BASELINE, writes compare.json, compare.md,
/// compare.prom and report.html (and --junit, --prometheus), prints the table; the exit status is the gate's (0, 1 or 2).
///
/// # Errors
/// An unreadable results or margins file (named), or a write error.
pub fn compare(args: CompareArgs) -> Result<ExitCode> {
    for (flag, path) in [("--junit", &args.junit), ("--prometheus", &args.prometheus)] {
        if let Some(path) = path {
            crate::output::check_file_target(flag, path)?;
        }
    }
    let base = read_results(&args.baseline)?;
    let cur = read_results(&args.current)?;
    let margins = match (&args.margins, Margins::of_suite(&cur)) {
        (Some(p), _) => Margins::load(p)?,
        (None, Some(m)) => {
            eprintln!(
                "margins: those of the suite recorded in {} (its [defaults.margins]); --margins FILE replaces them",
                args.current.display()
            );
            m
        }
        (None, None) => Margins::default(),
    };
    let (bp, cp) = (
        args.baseline.display().to_string(),
        args.current.display().to_string(),
    );
    let comparison = crate::compare::compare(&CompareInput {
        baseline: (&base, &bp),
        current: (&cur, &cp),
        margins: &margins,
        force: args.force,
        accept_disturbed: args.accept_disturbed,
    });
    let dir = args.out.clone().unwrap_or_else(|| {
        args.current
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .map_or(".".into(), |p| p.to_path_buf())
    });
    let markdown = write_files(&dir, &cur, &comparison)?;
    let mut out = std::io::stdout().lock();
    write!(out, "{markdown}")?;
    writeln!(
        out,
        "
wrote {}/compare.json, compare.md, compare.prom and report.html",
        dir.display()
    )?;
    for (path, text) in [
        (&args.junit, crate::export::junit::junit(&comparison)),
        (&args.prometheus, prometheus(&comparison)),
    ] {
        if let Some(path) = path {
            crate::output::write_atomic(path, text.as_bytes())?;
            writeln!(out, "wrote {}", path.display())?;
        }
    }
    Ok(ExitCode::from(comparison.exit_code))
}

/// The OpenMetrics text of a comparison ([`crate::export::openmetrics`]).
fn prometheus(comparison: &Comparison) -> String {
    let mut e = crate::export::openmetrics::Exposition::default();
    e.add_comparison(comparison);
    e.render()
}

/// Writes compare.json, compare.md, compare.prom and report.html (CURRENT's
/// report with the comparison section) to `dir`, creating it; returns compare.md's text.
///
/// # Errors
/// The directory or file that could not be written.
pub fn write_files(dir: &Path, current: &Results, comparison: &Comparison) -> Result<String> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let json = serde_json::to_string_pretty(comparison)?;
    let markdown = isobench_reports::render_comparison_markdown(comparison);
    let html = isobench_reports::render_html_with_comparison(current, Some(comparison));
    for (name, bytes) in [
        ("compare.json", json.as_bytes()),
        ("compare.md", markdown.as_bytes()),
        ("compare.prom", prometheus(comparison).as_bytes()),
        ("report.html", html.as_bytes()),
    ] {
        crate::output::write_atomic(&dir.join(name), bytes)?;
    }
    Ok(markdown)
}

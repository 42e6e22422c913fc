//! `isobench merge`: many hosts' results files into one fleet report.

use super::EXIT_ERROR;
use crate::cli::MergeArgs;
use crate::export::openmetrics::Exposition;
use anyhow::{Context, Result};
use isobench_reports::fleet::Fleet;
use std::io::Write;
use std::process::ExitCode;

/// Merges the results files of `args` into fleet.html, fleet.md, fleet.json,
/// fleet.prom and samples.jsonl in `--out` (and fleet.prom to `--prometheus`);
/// prints one line per file left out (on stderr) and per scenario and class.
/// Exit 0 when at least one run was merged, 3 when none could be.
///
/// # Errors
/// The output directory or a file that could not be written.
pub fn merge(args: MergeArgs) -> Result<ExitCode> {
    if let Some(path) = &args.prometheus {
        crate::output::check_file_target("--prometheus", path)?;
    }
    let inputs = crate::fleet::load(&args.results);
    for e in &inputs.excluded {
        eprintln!("left out {}: {}", e.path, e.reason);
    }
    if inputs.runs.is_empty() {
        eprintln!(
            "error: no results file could be merged ({} given, each left out above); give results.json files that `isobench run` wrote",
            args.results.len()
        );
        return Ok(ExitCode::from(EXIT_ERROR));
    }
    let fleet = Fleet::build(&inputs.runs, inputs.excluded, args.pool_classes);
    let dir = &args.out;
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let mut exposition = Exposition::default();
    exposition.add_fleet(&fleet, &inputs.runs);
    let prom = exposition.render();
    let samples: String = inputs
        .runs
        .iter()
        .map(|r| crate::export::samples::rows(&r.results, Some(&r.host)))
        .collect();
    let json = serde_json::to_string_pretty(&fleet)?;
    let markdown = isobench_reports::render_fleet_markdown(&fleet);
    let html = isobench_reports::render_fleet_html(&fleet);
    let mut out = std::io::stdout().lock();
    for (name, bytes) in [
        ("fleet.json", json.as_bytes()),
        ("fleet.md", markdown.as_bytes()),
        ("fleet.html", html.as_bytes()),
        ("fleet.prom", prom.as_bytes()),
        ("samples.jsonl", samples.as_bytes()),
    ] {
        crate::output::write_atomic(&dir.join(name), bytes)?;
    }
    if let Some(path) = &args.prometheus {
        crate::output::write_atomic(path, prom.as_bytes())?;
    }
    writeln!(
        out,
        "merged {} run(s) in {} fingerprint class(es){}",
        fleet.hosts.len(),
        fleet.classes.len(),
        if fleet.pooled {
            ", figures pooled across classes (--pool-classes)"
        } else {
            ""
        }
    )?;
    for s in &fleet.scenarios {
        for g in &s.groups {
            writeln!(
                out,
                "{} [{}]: {}",
                s.name,
                g.class.as_deref().unwrap_or("pooled"),
                g.tally.summary()
            )?;
        }
    }
    writeln!(
        out,
        "wrote {0}/fleet.html, fleet.md, fleet.json, fleet.prom and samples.jsonl",
        dir.display()
    )?;
    if let Some(path) = &args.prometheus {
        writeln!(out, "wrote {}", path.display())?;
    }
    Ok(ExitCode::SUCCESS)
}

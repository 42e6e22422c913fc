//! `isobench calibrate`: gate margins from an A/A pair of runs.

use super::run::plan;
use super::{EXIT_INTERRUPTED, load_suite, utc_stamp};
use crate::cli::{CalibrateArgs, RunArgs};
use crate::compare::CompareInput;
use crate::compare::margins::Margins;
use crate::run::{self, Refused};
use anyhow::Result;
use std::io::Write;
use std::process::ExitCode;

/// Runs the suite twice (run b reuses run a's calibration), compares the pair and
/// writes margins from its spread; exit 0, or 130 when interrupted.
///
/// # Errors
/// A refused argument or an `--out` that exists or cannot be written; run errors.
pub fn calibrate(args: CalibrateArgs) -> Result<ExitCode> {
    load_suite(&args.suite)?;
    if args.out.exists() {
        return Err(Refused(format!(
            "--out {} exists: calibrate writes a new margins file; choose another --out or remove it",
            args.out.display()
        ))
        .into());
    }
    let out_dir = args
        .out
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(std::path::Path::new("."));
    if !out_dir.is_dir() || nix::unistd::access(out_dir, nix::unistd::AccessFlags::W_OK).is_err() {
        return Err(Refused(format!(
            "--out {}: {} is not a writable directory; choose another --out",
            args.out.display(),
            out_dir.display()
        ))
        .into());
    }
    let dir = args.results.clone().unwrap_or_else(|| {
        ["isobench-results", &format!("calibrate-{}", utc_stamp())]
            .iter()
            .collect()
    });
    let mut runs = Vec::new();
    for side in ["a", "b"] {
        let run_args = RunArgs {
            suite: args.suite.clone(),
            scenarios: Vec::new(),
            timing: Default::default(),
            out: Some(dir.join(side)),
            prometheus: None,
            aggressor_cpus: None,
            arena_memory: None,
            working_set: None,
            aggressor_memory: Vec::new(),
            startup_samples: None,
            churn_seconds: None,
            namespaces: None,
            until_decided: false,
            baseline: None,
            max_rounds: None,
            margins: None,
            accept_disturbed: false,
            // Run b does the work run a calibrated, as a gated pair should.
            calibration_from: (side == "b").then(|| dir.join("a").join("results.json")),
        };
        let plan = plan(run_args)?;
        crate::output::check_writable(&plan.out_dir)
            .map_err(|e| Refused(format!("--results: {e}")))?;
        eprintln!("calibrate: run {side} of 2 ({} suite)", args.suite);
        let outcome = run::execute(&plan)?;
        if crate::interrupt::requested() {
            eprintln!(
                "interrupted: no margins written; the runs so far are in {}",
                dir.display()
            );
            return Ok(ExitCode::from(EXIT_INTERRUPTED));
        }
        let warnings = outcome
            .results
            .warnings
            .iter()
            .chain(outcome.results.scenarios.iter().flat_map(|s| &s.warnings));
        for w in warnings {
            eprintln!("warning: run {side}: {w}");
        }
        runs.push((
            outcome.results,
            dir.join(side).join("results.json").display().to_string(),
        ));
    }
    let aa = crate::compare::compare(&CompareInput {
        baseline: (&runs[0].0, &runs[0].1),
        current: (&runs[1].0, &runs[1].1),
        margins: &Margins::default(),
        force: false,
        accept_disturbed: false,
    });
    let proposed = crate::compare::calibrate::propose(&aa);
    let text = format!(
        "# isobench margins, calibrated by `isobench calibrate --suite {}` on {} ({}):\n\
         # {}× the spread of an A/A pair ({} and {}), never tighter than the defaults.\n\
         # A/A verdict with the default margins: {}\n\n{}",
        args.suite,
        runs[1].0.host.kernel,
        runs[1].0.started_at,
        crate::compare::calibrate::SPREAD_FACTOR,
        runs[0].1,
        runs[1].1,
        aa.verdict,
        toml::to_string(&proposed)?
    );
    crate::output::write_atomic(&args.out, text.as_bytes())?;
    let mut out = std::io::stdout().lock();
    write!(out, "{text}")?;
    writeln!(out, "\nwrote {}", args.out.display())?;
    for reason in &aa.unfit {
        eprintln!(
            "warning: {reason}: margins calibrated on such runs are wider than a quiet runner needs"
        );
    }
    Ok(ExitCode::SUCCESS)
}

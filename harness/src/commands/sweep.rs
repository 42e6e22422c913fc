//! `isobench sweep`: the plan from the arguments, the estimate, the run, the
//! curves and knees it prints.

use super::{load_suite, utc_stamp};
use crate::cgroup::CgroupHost;
use crate::cli::SweepArgs;
use crate::plan::Overrides;
use crate::run::{Refused, RunPlan};
use crate::suite::Kind;
use crate::sweep::knob::Over;
use crate::sweep::{self, SweepPlan, knee};
use anyhow::Result;
use std::io::Write;
use std::process::ExitCode;

/// Turns the arguments into a plan, refusing bad input before anything runs.
///
/// # Errors
/// [`Refused`] naming the flag: an unknown suite or scenario, a knob the
/// scenario lacks, a bad list of values (see [`Over::values`]).
pub fn plan(args: SweepArgs) -> Result<SweepPlan, Refused> {
    let given = match (&args.over, &args.values) {
        (Some(o), Some(v)) => {
            let over = Over::parse(o).map_err(Refused)?;
            let values = over.values(v).map_err(Refused)?;
            Some((over, values))
        }
        _ => None,
    };
    let (mut suite, host) = load_suite(&args.suite)?;
    let (over, values) = match given {
        Some(g) => g,
        None => suite_sweep(&suite, &args.scenario)?,
    };
    let overrides = Overrides {
        rounds: args.timing.rounds.map(|r| r as usize),
        duration_s: args.timing.duration,
        warmup_s: args.timing.warmup,
        ..Default::default()
    };
    crate::plan::apply(&mut suite, &overrides, Some(host.layout))?;
    let conditions = match suite.scenarios.iter().find(|s| s.name == args.scenario) {
        Some(s) => match &s.kind {
            Kind::Isolation(iso) => iso.conditions.clone(),
            _ => Vec::new(),
        },
        None => Vec::new(),
    };
    let steps = sweep::steps(&mut suite, &args.scenario, &over, &values)?;
    let estimate_s = sweep::estimate_s(&suite, Some(host.layout));
    let out_dir = args.out.unwrap_or_else(|| {
        ["isobench-results", &format!("sweep-{}", utc_stamp())]
            .iter()
            .collect()
    });
    Ok(SweepPlan {
        run: RunPlan {
            suite,
            until_decided: None,
            out_dir,
            calibration: None,
            command_line: std::env::args_os()
                .map(|a| a.to_string_lossy().into_owned())
                .collect(),
            accept_disturbed: args.accept_disturbed,
            workload_bin: None,
        },
        scenario: args.scenario,
        over,
        steps,
        conditions,
        knee_margin: args.knee_margin.unwrap_or(knee::DEFAULT_MARGIN),
        estimate_s,
    })
}

/// The `[scenario.sweep]` of `scenario` in `suite` (checked when the suite was read).
fn suite_sweep(suite: &crate::suite::Suite, scenario: &str) -> Result<(Over, Vec<f64>), Refused> {
    let own = suite.scenarios.iter().find_map(|s| match &s.kind {
        Kind::Isolation(iso) if s.name == scenario => iso.sweep.clone(),
        _ => None,
    });
    let Some(sweep) = own else {
        return Err(Refused(format!(
            "--over and --values are missing, and scenario {scenario} of suite {} has no [scenario.sweep]: give both flags, or the table in the suite file",
            suite.name
        )));
    };
    let over = Over::parse(&sweep.over).map_err(Refused)?;
    Ok((over, sweep.values))
}

/// Runs the sweep of `args`: prints the plan and its estimate, runs it,
/// prints the curves and knees (the Markdown summary's sweep part) and the
/// files written; exit 3 when a step failed, 130 when interrupted.
///
/// # Errors
/// A refused plan (bad input, unfit host) or a runtime error.
pub fn sweep(args: SweepArgs) -> Result<ExitCode> {
    let plan = plan(args)?;
    let rounds = plan.rounds();
    let estimate = plan.estimate_s.round() as u64;
    eprintln!(
        "sweep {} over {}: {} steps ({}) × {} conditions × {rounds} rounds — about {} min {:02} s on 2 CPUs",
        plan.scenario,
        plan.over.text,
        plan.steps.len(),
        plan.steps
            .iter()
            .map(|s| s.label.as_str())
            .collect::<Vec<_>>()
            .join(", "),
        plan.conditions.len(),
        estimate / 60,
        estimate % 60
    );
    for w in CgroupHost::discover()
        .iter()
        .flat_map(|h| crate::scenario::protection::suite_warnings(&plan.run.suite, h))
    {
        eprintln!("warning: {w}");
    }
    let outcome = sweep::execute(&plan)?;
    let mut out = std::io::stdout().lock();
    writeln!(out)?;
    if let Some(s) = &outcome.results.sweep {
        write!(out, "{}", isobench_reports::sweep_markdown(s))?;
    }
    writeln!(out)?;
    for f in &outcome.files {
        writeln!(out, "wrote {}", f.display())?;
    }
    if let Some(code) = super::run::warnings_and_end(&outcome, "step") {
        return Ok(code);
    }
    Ok(ExitCode::SUCCESS)
}

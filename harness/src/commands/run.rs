//! `isobench run`: the plan from the arguments, the run, what it prints.

use super::{EXIT_ERROR, EXIT_INTERRUPTED, EXIT_NO_ANSWER, load_suite, read_results, utc_stamp};
use crate::cgroup::CgroupHost;
use crate::cli::RunArgs;
use crate::compare::margins::Margins;
use crate::plan::Overrides;
use crate::run::{self, Refused, RunPlan, UntilDecided};
use crate::scenario;
use anyhow::Result;
use isobench_reports::schema::{ScenarioStatus, VerdictKind};
use std::io::{IsTerminal, Write};
use std::process::ExitCode;

/// Turns the arguments into a plan, refusing bad input before anything is created.
pub fn plan(args: RunArgs) -> Result<RunPlan, Refused> {
    let (mut suite, host) = load_suite(&args.suite)?;
    check_arena(args.arena_memory)?;
    let overrides = Overrides {
        scenarios: args.scenarios,
        rounds: args.timing.rounds.map(|r| r as usize),
        duration_s: args.timing.duration,
        warmup_s: args.timing.warmup,
        aggressor_cpus: args.aggressor_cpus,
        arena_bytes: args.arena_memory,
        working_set_bytes: args.working_set,
        aggressor_memory: args.aggressor_memory,
        startup_samples: args.startup_samples.map(|n| n as usize),
        churn_s: args.churn_seconds,
        namespaces: args.namespaces,
    };
    crate::plan::apply(&mut suite, &overrides, Some(host.layout))?;
    let out_dir = args
        .out
        .unwrap_or_else(|| ["isobench-results", &utc_stamp()].iter().collect());
    let until_decided = match args.baseline {
        Some(path) => {
            let max_rounds = args.max_rounds.map_or(30, |n| n as usize);
            if let Some(s) = suite
                .scenarios
                .iter()
                .find(|s| s.timing.rounds > max_rounds)
            {
                return Err(Refused(format!(
                    "--max-rounds {max_rounds} is below the {} rounds of scenario {}: expected at least the planned rounds",
                    s.timing.rounds, s.name
                )));
            }
            let margins = match &args.margins {
                Some(p) => Margins::load(p).map_err(|e| Refused(e.to_string()))?,
                None => suite.margins.clone().unwrap_or_default(),
            };
            let baseline = read_results(&path).map_err(|e| Refused(format!("--baseline {e:#}")))?;
            if let Some(thin) = baseline.scenarios.iter().find(|b| {
                b.rounds.len() < crate::compare::MIN_ROUNDS
                    && suite.scenarios.iter().any(|s| s.name == b.name)
            }) {
                return Err(Refused(format!(
                    "--baseline {} has {} rounds of scenario {}: a verdict needs at least {} on each side, so no number of rounds here could decide; rerun the baseline with more --rounds",
                    path.display(),
                    thin.rounds.len(),
                    thin.name,
                    crate::compare::MIN_ROUNDS
                )));
            }
            if let Some(missing) = suite
                .scenarios
                .iter()
                .find(|s| !baseline.scenarios.iter().any(|b| b.name == s.name))
            {
                return Err(Refused(format!(
                    "--baseline {} has no scenario {}: --until-decided needs every scenario of the run in the baseline",
                    path.display(),
                    missing.name
                )));
            }
            Some(UntilDecided {
                baseline,
                baseline_path: path.display().to_string(),
                margins,
                max_rounds,
            })
        }
        None => None,
    };
    let calibration = match (&args.calibration_from, &until_decided) {
        (Some(path), _) => {
            let from =
                read_results(path).map_err(|e| Refused(format!("--calibration-from {e:#}")))?;
            Some(crate::run::calibration_of(&from).ok_or_else(|| {
                Refused(format!(
                    "--calibration-from {}: no scenario of that run recorded a calibration (spec.calibration); give the results.json of a run with an isolation or memory scenario",
                    path.display()
                ))
            })?)
        }
        (None, Some(u)) => crate::run::calibration_of(&u.baseline),
        (None, None) => None,
    };
    Ok(RunPlan {
        suite,
        until_decided,
        out_dir,
        calibration,
        command_line: std::env::args_os()
            .map(|a| a.to_string_lossy().into_owned())
            .collect(),
        accept_disturbed: args.accept_disturbed,
        workload_bin: None,
    })
}

/// Refuses an `--arena-memory` larger than this host can give (MemAvailable − 1 GiB).
pub fn check_arena(arena: Option<u64>) -> Result<(), Refused> {
    let Some(arena) = arena else {
        return Ok(());
    };
    let allowed = run::arena_allowance().map_err(|e| Refused(format!("--arena-memory: {e:#}")))?;
    if arena > allowed {
        return Err(Refused(format!(
            "--arena-memory {} is more than this host can give: at most {} (MemAvailable − 1 GiB) is accepted",
            scenario::memory_pressure::size(arena),
            scenario::memory_pressure::size(allowed)
        )));
    }
    Ok(())
}

/// Runs the plan of `args`, prints the verdict lines, the table and the files
/// written; exit 3 when a scenario failed, 4 when every verdict is invalid
/// after enough rounds, 130 when interrupted.
///
/// # Errors
/// A refused plan (bad input, unfit host) or a runtime error.
pub fn run_command(args: RunArgs) -> Result<ExitCode> {
    let prometheus = args.prometheus.clone();
    if let Some(path) = &prometheus {
        crate::output::check_file_target("--prometheus", path)
            .map_err(|e| Refused(e.to_string()))?;
    }
    let plan = plan(args)?;
    let cgroup_host = CgroupHost::discover().ok();
    let layout = cgroup_host.as_ref().map(|h| h.layout);
    let names: Vec<&str> = plan
        .suite
        .scenarios
        .iter()
        .map(|s| s.name.as_str())
        .collect();
    let estimate = crate::plan::estimate_s(&plan.suite, layout).round() as u64;
    eprintln!(
        "suite {} ({}): {} — about {} min {:02} s on 2 CPUs",
        plan.suite.name,
        plan.suite.origin,
        names.join(", "),
        estimate / 60,
        estimate % 60
    );
    for w in cgroup_host
        .iter()
        .flat_map(|h| crate::scenario::protection::suite_warnings(&plan.suite, h))
    {
        eprintln!("warning: {w}");
    }
    let outcome = run::execute(&plan)?;
    let mut out = std::io::stdout().lock();
    writeln!(out)?;
    let colour = crate::terminal::colour_wanted(std::io::stdout().is_terminal());
    for line in isobench_reports::verdict_lines(&outcome.results) {
        writeln!(out, "{}", crate::terminal::verdict(&line, colour))?;
    }
    writeln!(out)?;
    write!(out, "{}", crate::terminal::table(&outcome.results))?;
    writeln!(out)?;
    for f in &outcome.files {
        writeln!(out, "wrote {}", f.display())?;
    }
    if let Some(path) = &prometheus {
        crate::output::write_atomic(path, crate::output::prometheus(&outcome.results).as_bytes())?;
        writeln!(out, "wrote {}", path.display())?;
    }
    if let Some(code) = warnings_and_end(&outcome, "scenario") {
        return Ok(code);
    }
    // Invalid for want of the rounds asked for (`--rounds 2`) is the user's
    // choice; invalid after enough rounds means nothing usable was measured.
    let judged: Vec<bool> = outcome
        .results
        .scenarios
        .iter()
        .filter_map(|s| {
            let v = s.verdict.as_ref()?;
            Some(v.kind == VerdictKind::Invalid && s.rounds.len() >= crate::verdict::MIN_ROUNDS)
        })
        .collect();
    if !judged.is_empty() && judged.iter().all(|&measured_nothing| measured_nothing) {
        eprintln!(
            "error: no scenario gave an answer: every verdict is INVALID (the lines above say why)"
        );
        return Ok(ExitCode::from(EXIT_NO_ANSWER));
    }
    Ok(ExitCode::SUCCESS)
}

/// Prints the scenarios' warnings and the disturbance on stderr; the exit
/// status when the run was interrupted (130) or a scenario (`what`: a
/// scenario, a sweep's step) failed (3), `None` otherwise.
pub(super) fn warnings_and_end(outcome: &crate::run::RunOutcome, what: &str) -> Option<ExitCode> {
    let colour = crate::terminal::colour_wanted(std::io::stderr().is_terminal());
    for s in &outcome.results.scenarios {
        for w in &s.warnings {
            let line = format!("warning: {}: {w}", s.name);
            eprintln!(
                "{}",
                crate::terminal::paint(&line, crate::terminal::YELLOW, colour)
            );
        }
    }
    if let Some(d) = &outcome.results.disturbance
        && let Some(summary) = crate::disturbance::summary(d)
    {
        let line = format!("{}: {summary}", if d.accepted { "note" } else { "warning" });
        eprintln!(
            "{}",
            crate::terminal::paint(&line, crate::terminal::YELLOW, colour)
        );
    }
    let statuses = || outcome.results.scenarios.iter().map(|s| &s.status);
    if statuses().any(|s| matches!(s, ScenarioStatus::Interrupted(_)))
        || crate::interrupt::requested()
    {
        eprintln!("interrupted: the files above hold the rounds completed before the signal");
        return Some(ExitCode::from(EXIT_INTERRUPTED));
    }
    if let Some(ScenarioStatus::Failed(reason)) =
        statuses().find(|s| matches!(s, ScenarioStatus::Failed(_)))
    {
        eprintln!("error: a {what} failed: {reason}");
        return Some(ExitCode::from(EXIT_ERROR));
    }
    None
}

//! `isobench`: the command line. Exit codes (DESIGN §3): 0 success, 1 regression,
//! 2 inconclusive or unfit host, 3 usage or runtime error; 130 when interrupted.

use anyhow::{Context, Result};
use clap::Parser;
use isobench::cgroup::CgroupHost;
use isobench::cli::{CalibrateArgs, Cli, Command, CompareArgs, RunArgs, SuiteCommand};
use isobench::compare::CompareInput;
use isobench::compare::margins::Margins;
use isobench::plan::Overrides;
use isobench::run::{self, Refused, RunPlan, UntilDecided};
use isobench::scenario;
use isobench::suite::{HostFacts, Kind, Suite};
use isobench_reports::comparison::Comparison;
use isobench_reports::schema::{CheckStatus, ScenarioStatus};
use std::io::{IsTerminal, Write};
use std::process::ExitCode;

const EXIT_UNFIT: u8 = 2;
const EXIT_ERROR: u8 = 3;
const EXIT_INTERRUPTED: u8 = 130;

fn main() -> ExitCode {
    isobench::sandbox::sys::default_sigpipe();
    if let Err(e) = isobench::interrupt::install() {
        eprintln!("error: installing SIGINT/SIGTERM handlers: {e}");
        return ExitCode::from(EXIT_ERROR);
    }
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) if !e.use_stderr() => {
            let _ = e.print();
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(EXIT_ERROR);
        }
    };
    let outcome = match cli.command {
        Command::Run(args) => run_command(args),
        Command::Doctor { json } => doctor(json),
        Command::Cleanup => cleanup(),
        Command::Compare(args) => compare(args),
        Command::Calibrate(args) => calibrate(args),
        Command::Report {
            results,
            out,
            compare,
        } => report(&results, out, compare),
        Command::Suite(SuiteCommand::Show { name }) => suite_show(&name),
        Command::Suite(SuiteCommand::Check { file }) => suite_check(&file),
    };
    outcome.unwrap_or_else(|e| {
        eprintln!("error: {e:#}");
        if isobench::interrupt::requested() {
            eprintln!("interrupted: the output directory, if created, holds what was measured before the signal");
            return ExitCode::from(EXIT_INTERRUPTED);
        }
        ExitCode::from(EXIT_ERROR)
    })
}

/// Loads suite `what` (an embedded name or a file), with the host's facts for its checks.
fn load_suite(what: &str) -> Result<(Suite, HostFacts), Refused> {
    let host = isobench::suite::discover_host().map_err(Refused)?;
    let suite = isobench::suite::load(what, &host).map_err(|e| Refused(format!("--suite: {e}")))?;
    Ok((suite, host))
}

/// Turns the arguments into a plan, refusing bad input before anything is created.
fn plan(args: RunArgs) -> Result<RunPlan, Refused> {
    let (mut suite, host) = load_suite(&args.suite)?;
    check_arena(args.arena_memory)?;
    let overrides = Overrides {
        scenarios: args.scenarios,
        rounds: args.rounds.map(|r| r as usize),
        duration_s: args.duration,
        warmup_s: args.warmup,
        aggressor_cpus: args.aggressor_cpus,
        arena_bytes: args.arena_memory,
        working_set_bytes: args.working_set,
        aggressor_memory: args.aggressor_memory,
        startup_samples: args.startup_samples.map(|n| n as usize),
        churn_s: args.churn_seconds,
        namespaces: args.namespaces,
    };
    isobench::plan::apply(&mut suite, &overrides, Some(host.layout))?;
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
                b.rounds.len() < isobench::compare::MIN_ROUNDS
                    && suite.scenarios.iter().any(|s| s.name == b.name)
            }) {
                return Err(Refused(format!(
                    "--baseline {} has {} rounds of scenario {}: a verdict needs at least {} on each side, so no number of rounds here could decide; rerun the baseline with more --rounds",
                    path.display(),
                    thin.rounds.len(),
                    thin.name,
                    isobench::compare::MIN_ROUNDS
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
            Some(isobench::run::calibration_of(&from).ok_or_else(|| {
                Refused(format!(
                    "--calibration-from {}: no scenario of that run recorded a calibration (spec.calibration); give the results.json of a run with an isolation or memory scenario",
                    path.display()
                ))
            })?)
        }
        (None, Some(u)) => isobench::run::calibration_of(&u.baseline),
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
    })
}

/// Refuses an `--arena-memory` larger than this host can give (MemAvailable − 1 GiB).
fn check_arena(arena: Option<u64>) -> Result<(), Refused> {
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

fn run_command(args: RunArgs) -> Result<ExitCode> {
    let plan = plan(args)?;
    let layout = CgroupHost::discover().ok().map(|h| h.layout);
    let names: Vec<&str> = plan
        .suite
        .scenarios
        .iter()
        .map(|s| s.name.as_str())
        .collect();
    let estimate = isobench::plan::estimate_s(&plan.suite, layout).round() as u64;
    eprintln!(
        "suite {} ({}): {} — about {} min {:02} s on 2 CPUs",
        plan.suite.name,
        plan.suite.origin,
        names.join(", "),
        estimate / 60,
        estimate % 60
    );
    let outcome = run::execute(&plan)?;
    let mut out = std::io::stdout().lock();
    writeln!(out)?;
    let colour = isobench::terminal::colour_wanted(std::io::stdout().is_terminal());
    for line in isobench_reports::verdict_lines(&outcome.results) {
        writeln!(out, "{}", isobench::terminal::verdict(&line, colour))?;
    }
    writeln!(out)?;
    write!(out, "{}", isobench::terminal::table(&outcome.results))?;
    writeln!(out)?;
    for f in &outcome.files {
        writeln!(out, "wrote {}", f.display())?;
    }
    let colour = isobench::terminal::colour_wanted(std::io::stderr().is_terminal());
    for s in &outcome.results.scenarios {
        for w in &s.warnings {
            let line = format!("warning: {}: {w}", s.name);
            eprintln!(
                "{}",
                isobench::terminal::paint(&line, isobench::terminal::YELLOW, colour)
            );
        }
    }
    if let Some(d) = &outcome.results.disturbance
        && let Some(summary) = isobench::disturbance::summary(d)
    {
        let line = format!("{}: {summary}", if d.accepted { "note" } else { "warning" });
        eprintln!(
            "{}",
            isobench::terminal::paint(&line, isobench::terminal::YELLOW, colour)
        );
    }
    let statuses = || outcome.results.scenarios.iter().map(|s| &s.status);
    if statuses().any(|s| matches!(s, ScenarioStatus::Interrupted(_)))
        || isobench::interrupt::requested()
    {
        eprintln!("interrupted: the files above hold the rounds completed before the signal");
        return Ok(ExitCode::from(EXIT_INTERRUPTED));
    }
    if let Some(ScenarioStatus::Failed(reason)) =
        statuses().find(|s| matches!(s, ScenarioStatus::Failed(_)))
    {
        eprintln!("error: a scenario failed: {reason}");
        return Ok(ExitCode::from(EXIT_ERROR));
    }
    Ok(ExitCode::SUCCESS)
}

fn doctor(json: bool) -> Result<ExitCode> {
    let host = CgroupHost::discover();
    let report = isobench::probe::doctor(host.as_ref());
    let mut out = std::io::stdout().lock();
    if json {
        writeln!(out, "{}", serde_json::to_string_pretty(&report)?)?;
    } else {
        writeln!(out, "layout: {}", report.layout)?;
        for c in &report.checks {
            let mark = match c.status {
                CheckStatus::Ok => "ok",
                CheckStatus::Unavailable => "unavailable",
                CheckStatus::Error => "ERROR",
            };
            writeln!(out, "{:<24} {:<12} {}", c.name, mark, c.detail)?;
        }
    }
    let unfit = report.checks.iter().any(|c| c.status == CheckStatus::Error);
    Ok(if unfit {
        ExitCode::from(EXIT_UNFIT)
    } else {
        ExitCode::SUCCESS
    })
}

/// Reads a results file, naming it in every error. Every scenario's verdict is
/// derived again from its raw rounds, as `run` gave it: a file written before
/// verdicts gets one, and a hand-edited verdict cannot contradict the data.
fn read_results(path: &std::path::Path) -> Result<isobench_reports::schema::Results> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let mut results = isobench_reports::schema::Results::from_json(&text)
        .with_context(|| format!("{}", path.display()))?;
    for s in &mut results.scenarios {
        let disturbed = s.verdict.as_ref().and_then(|v| v.disturbed.clone());
        s.verdict = isobench::verdict::judge(s)
            .map(|v| isobench_reports::schema::Verdict { disturbed, ..v });
    }
    Ok(results)
}

fn compare(args: CompareArgs) -> Result<ExitCode> {
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
    let comparison = isobench::compare::compare(&CompareInput {
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
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let json = serde_json::to_string_pretty(&comparison)?;
    let markdown = isobench_reports::render_comparison_markdown(&comparison);
    let html = isobench_reports::render_html_with_comparison(&cur, Some(&comparison));
    for (name, bytes) in [
        ("compare.json", json.as_bytes()),
        ("compare.md", markdown.as_bytes()),
        ("report.html", html.as_bytes()),
    ] {
        isobench::output::write_atomic(&dir.join(name), bytes)?;
    }
    let mut out = std::io::stdout().lock();
    write!(out, "{markdown}")?;
    writeln!(
        out,
        "
wrote {}/compare.json, compare.md and report.html",
        dir.display()
    )?;
    Ok(ExitCode::from(comparison.exit_code))
}

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

fn report(
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
    isobench::output::write_atomic(
        &html_path,
        isobench_reports::render_html_with_comparison(&results, comparison.as_ref().map(|c| &c.0))
            .as_bytes(),
    )?;
    isobench::output::write_atomic(
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

/// UTC time for directory names, e.g. `2026-11-29T134500Z`.
fn utc_stamp() -> String {
    humantime::format_rfc3339_seconds(std::time::SystemTime::now())
        .to_string()
        .replace(':', "")
}

fn calibrate(args: CalibrateArgs) -> Result<ExitCode> {
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
            rounds: None,
            duration: None,
            warmup: None,
            out: Some(dir.join(side)),
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
        isobench::output::check_writable(&plan.out_dir)
            .map_err(|e| Refused(format!("--results: {e}")))?;
        eprintln!("calibrate: run {side} of 2 ({} suite)", args.suite);
        let outcome = run::execute(&plan)?;
        if isobench::interrupt::requested() {
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
    let aa = isobench::compare::compare(&CompareInput {
        baseline: (&runs[0].0, &runs[0].1),
        current: (&runs[1].0, &runs[1].1),
        margins: &Margins::default(),
        force: false,
        accept_disturbed: false,
    });
    let proposed = isobench::compare::calibrate::propose(&aa);
    let text = format!(
        "# isobench margins, calibrated by `isobench calibrate --suite {}` on {} ({}):\n\
         # {}× the spread of an A/A pair ({} and {}), never tighter than the defaults.\n\
         # A/A verdict with the default margins: {}\n\n{}",
        args.suite,
        runs[1].0.host.kernel,
        runs[1].0.started_at,
        isobench::compare::calibrate::SPREAD_FACTOR,
        runs[0].1,
        runs[1].1,
        aa.verdict,
        toml::to_string(&proposed)?
    );
    isobench::output::write_atomic(&args.out, text.as_bytes())?;
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

fn suite_show(name: &str) -> Result<ExitCode> {
    let Some(text) = isobench::suite::embedded_text(name) else {
        let names: Vec<&str> = isobench::suite::EMBEDDED.iter().map(|(n, _)| *n).collect();
        return Err(Refused(format!(
            "unknown suite {name:?}: the embedded suites are {}",
            names.join(", ")
        ))
        .into());
    };
    std::io::stdout()
        .lock()
        .write_all(text.as_bytes())
        .context("writing the suite to stdout")?;
    Ok(ExitCode::SUCCESS)
}

/// Checks a suite; on success, says what it runs, how long it takes and what
/// each sandbox's limits become on this host.
fn suite_check(file: &str) -> Result<ExitCode> {
    let (suite, host) = match load_suite(file) {
        Ok(ok) => ok,
        Err(Refused(e)) => {
            eprintln!("{}", e.trim_start_matches("--suite: "));
            return Ok(ExitCode::from(EXIT_ERROR));
        }
    };
    let mut out = std::io::stdout().lock();
    let estimate = isobench::plan::estimate_s(&suite, Some(host.layout)).round() as u64;
    writeln!(
        out,
        "{}: ok: suite {}, {} scenarios, about {} min {:02} s on 2 CPUs",
        suite.origin,
        suite.name,
        suite.scenarios.len(),
        estimate / 60,
        estimate % 60
    )?;
    for s in &suite.scenarios {
        let t = s.timing;
        let rounds = match s.kind {
            Kind::Isolation(_) | Kind::MemoryPressure(_) => {
                format!(": {} rounds × {} s", t.rounds, t.duration_s)
            }
            Kind::StartupLatency(_) => format!(": {} rounds", t.rounds),
            Kind::Visibility | Kind::MemoryHighStall => String::new(),
        };
        writeln!(out, "  {} ({}){rounds}", s.name, s.kind.as_str())?;
        for (sandbox, limits) in isobench::suite::limits_of(&s.kind) {
            if let Some(qos) = &limits.qos {
                writeln!(out, "    {sandbox}: Kubernetes QoS class {qos}")?;
            }
            for (file, value) in &limits.files {
                writeln!(out, "    {sandbox}: {file} = {value}")?;
            }
            for (key, reason) in &limits.not_written {
                writeln!(out, "    {sandbox}: {key}: not written ({reason})")?;
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn cleanup() -> Result<ExitCode> {
    let host = CgroupHost::discover()?;
    let done = isobench::cleanup::cleanup(&host);
    let mut out = std::io::stdout().lock();
    for p in &done.removed {
        writeln!(out, "removed {}", p.display())?;
    }
    for (p, pid) in &done.in_use {
        writeln!(
            out,
            "kept {} (its run, pid {pid}, is still running)",
            p.display()
        )?;
    }
    for (p, e) in &done.failed {
        eprintln!("error: could not remove {}: {e}", p.display());
    }
    if done.removed.is_empty() && done.failed.is_empty() && done.in_use.is_empty() {
        writeln!(out, "nothing to clean up")?;
    }
    Ok(if done.failed.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(EXIT_ERROR)
    })
}

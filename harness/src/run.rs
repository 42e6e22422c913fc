//! `isobench run`: plan, check, run every scenario, save after every round.

use crate::cgroup::{CgroupError, CgroupHost, Limits};
use crate::output::{self, OutputDir};
use crate::progress::Meter;
use crate::sandbox::{self, NamespaceSet};
use crate::scenario::{
    self, Progress, RunContext, Timing, isolation, memory_high_stall, memory_pressure,
    startup_latency, visibility,
};
use crate::suite::{Kind, MemoryPressureDef, ScenarioDef, Suite};
use crate::{interrupt, probe, workload};

use anyhow::{Context, Result, bail};
use isobench_reports::schema::{
    CheckStatus, Results, SCHEMA_VERSION, ScenarioResult, ScenarioStatus,
};
use isobench_workloads::report::{Calibration, WorkloadReport};
use std::path::PathBuf;
use std::time::{Duration, SystemTime};

/// A checked request to run: nothing is created until [`execute`].
#[derive(Debug, Clone)]
pub struct RunPlan {
    /// The suite with the command line's overrides applied, holding only the
    /// scenarios to run, in order.
    pub suite: Suite,
    /// Keep adding rounds while the gate against a baseline is inconclusive.
    pub until_decided: Option<UntilDecided>,
    /// Where results.json, report.html and summary.md go.
    pub out_dir: PathBuf,
    /// argv as given, recorded in the results.
    pub command_line: Vec<String>,
    /// `--accept-disturbed`: conditions disturbed by other work on the host are
    /// judged anyway (by `--until-decided`'s gate), and results.json records that.
    pub accept_disturbed: bool,
    /// The victim's work unit to reuse (`--calibration-from`, or the
    /// `--until-decided` baseline's) instead of calibrating anew.
    pub calibration: Option<Calibration>,
    /// The multi-call binary that serves the applets (`sandbox-init`, the
    /// victims and aggressors, `calibrate`); `None` finds `isobench-workload`
    /// ([`workload::locate`]). A `cargo bench` binary using [`crate::bench`]
    /// gives its own path: it serves every applet, and its closures.
    pub workload_bin: Option<PathBuf>,
}

/// The calibration a results file's runs used: the first scenario's
/// `spec.calibration` that parses; `None` when no scenario recorded one.
pub fn calibration_of(results: &Results) -> Option<Calibration> {
    results
        .scenarios
        .iter()
        .filter_map(|s| s.spec.get("calibration"))
        .find_map(|c| serde_json::from_value(c.clone()).ok())
}

/// Memory a run must leave to the rest of the host beyond its arena, bytes.
pub const HOST_RESERVE_BYTES: u64 = 1 << 30;

/// `MemAvailable` from /proc/meminfo, bytes.
///
/// # Errors
/// The file cannot be read or has no such line.
pub fn mem_available() -> Result<u64> {
    let text = std::fs::read_to_string("/proc/meminfo").context("reading /proc/meminfo")?;
    text.lines()
        .find_map(|l| l.strip_prefix("MemAvailable:"))
        .and_then(|v| v.trim().strip_suffix("kB")?.trim().parse::<u64>().ok())
        .map(|kb| kb * 1024)
        .context("/proc/meminfo has no MemAvailable line")
}

/// The largest memory arena this host can give a run now: MemAvailable − 1 GiB, bytes.
///
/// # Errors
/// As [`mem_available`].
pub fn arena_allowance() -> Result<u64> {
    Ok(mem_available()?.saturating_sub(HOST_RESERVE_BYTES))
}

/// `--until-decided`: rounds are added while a gated metric of the scenario is
/// INCONCLUSIVE against the baseline (like Pinpoint's "need more runs").
#[derive(Debug, Clone)]
pub struct UntilDecided {
    /// The run to compare against.
    pub baseline: Results,
    /// Its path, for messages.
    pub baseline_path: String,
    /// The margins of the comparison.
    pub margins: crate::compare::margins::Margins,
    /// Rounds per scenario at most.
    pub max_rounds: usize,
}

/// How a run ended.
#[derive(Debug)]
pub struct RunOutcome {
    /// The final results document.
    pub results: Results,
    /// The files written.
    pub files: [PathBuf; 5],
}

/// A problem with the request itself or with the host's fitness: nothing was run.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Refused(pub String);

/// Run id: start time (UTC, compact) and pid, e.g. `20261129T131500Z-4242`.
pub fn new_run_id(now: SystemTime) -> String {
    let stamp = humantime::format_rfc3339_seconds(now)
        .to_string()
        .replace(['-', ':'], "");
    format!("{stamp}-{}", std::process::id())
}

/// Runs the plan. Results are rewritten after every round.
///
/// # Errors
/// [`Refused`] (wrapped) when the host cannot run it, before anything is created;
/// other errors for failures after the output directory exists (what was measured stays on disk).
pub fn execute(plan: &RunPlan) -> Result<RunOutcome> {
    execute_with(plan, &mut |host, ctx, progress| {
        for (index, def) in plan.suite.scenarios.iter().enumerate() {
            progress
                .meter
                .scenario_started(index, &def.name, def.timing.rounds);
            progress.name = def.name.clone();
            progress.round_steps = scenario::steps(
                &def.kind,
                &Timing {
                    rounds: 1,
                    ..def.timing
                },
            );
            let result = run_scenario(def, host, ctx, progress);
            progress.save(result);
            if let Some(e) = progress.failed.take() {
                return Err(e.into());
            }
            if interrupt::requested() {
                break;
            }
        }
        Ok(())
    })
}

/// What runs the plan's scenarios inside [`execute_with`]'s set-up: the host,
/// the run's context, and the saver that writes the results and shows progress.
pub(crate) type Body<'b> =
    dyn FnMut(&CgroupHost, &RunContext<'_>, &mut Saver<'_>) -> Result<()> + 'b;

/// Sets the run up as [`execute`] does (host checks, output directory, arena,
/// calibration, progress), lets `body` run the scenarios, then tears it down.
/// `isobench sweep` gives a body that interleaves its steps' rounds.
///
/// # Errors
/// As [`execute`], and `body`'s.
pub(crate) fn execute_with(plan: &RunPlan, body: &mut Body<'_>) -> Result<RunOutcome> {
    let host = CgroupHost::discover()
        .map_err(|e| Refused(format!("cannot use the host's cgroups: {e}")))?;
    output::check_writable(&plan.out_dir).map_err(|e| Refused(format!("--out: {e}")))?;
    let located = match &plan.workload_bin {
        Some(bin) => Ok(bin.clone()),
        None => workload::locate(),
    };
    let doctor = probe::doctor_with_workload(Ok(&host), located.as_ref());
    if let Some(c) = doctor
        .checks
        .iter()
        .find(|c| c.status == CheckStatus::Error)
    {
        return Err(Refused(format!("{}: {} (see `isobench doctor`)", c.name, c.detail)).into());
    }
    let workload_bin = located?;
    let started = SystemTime::now();
    let run_id = new_run_id(started);
    let out = OutputDir::create(&plan.out_dir).map_err(|e| Refused(e.to_string()))?;
    let arena = host.arena(&run_id).map_err(|e| match e {
        CgroupError::Dir { ref error, .. }
            if error.kind() == std::io::ErrorKind::PermissionDenied =>
        {
            Refused(format!(
                "{e}: run as root, or from a delegated cgroup subtree (systemd: Delegate=yes)"
            ))
        }
        other => Refused(other.to_string()),
    });
    let arena = match arena {
        Ok(a) => a,
        Err(refused) => {
            out.discard();
            return Err(refused.into());
        }
    };
    let mut results = Results {
        schema_version: SCHEMA_VERSION,
        isobench_version: env!("CARGO_PKG_VERSION").into(),
        command_line: plan.command_line.clone(),
        run_id,
        started_at: humantime::format_rfc3339_seconds(started).to_string(),
        host: probe::fingerprint(&host),
        doctor,
        scenarios: Vec::new(),
        warnings: concurrent_runs(&host),
        suite: serde_json::to_value(&plan.suite).ok(),
        disturbance: None,
        sweep: None,
    };
    results.disturbance = Some(crate::disturbance::of_run(&results, plan.accept_disturbed));
    for w in &results.warnings {
        eprintln!("warning: {w}");
    }
    out.write(&results)?;
    let cpus_allowed = results.host.cpus_allowed;
    let calibration = match plan.calibration {
        Some(c) => c,
        None => calibrate(&arena, &workload_bin)?,
    };
    let ctx = RunContext {
        arena: &arena,
        workload_bin,
        calibration,
        cpus_allowed,
        work_dir: plan.out_dir.clone(),
    };
    let steps: usize = plan
        .suite
        .scenarios
        .iter()
        .map(|s| scenario::steps(&s.kind, &s.timing))
        .sum();
    let estimates_s = plan
        .suite
        .scenarios
        .iter()
        .map(|s| crate::plan::scenario_estimate_s(s, Some(host.layout)))
        .collect();
    let mut progress = Saver {
        out: &out,
        results: &mut results,
        meter: Meter::new(&plan.suite.name, steps as u64, estimates_s),
        failed: None,
        until: plan.until_decided.as_ref(),
        accept_disturbed: plan.accept_disturbed,
        name: String::new(),
        round_steps: 0,
    };
    body(&host, &ctx, &mut progress)?;
    progress.meter.finish();
    if let Some(note) = results
        .disturbance
        .as_ref()
        .filter(|d| d.accepted)
        .and_then(crate::disturbance::summary)
    {
        results.warnings.push(note);
        out.write(&results)?;
    }
    drop(ctx);
    arena.remove().context("removing the run's cgroups")?;
    Ok(RunOutcome {
        results,
        files: out.paths(),
    })
}

/// Runs one scenario of the suite by its kind.
fn run_scenario(
    def: &ScenarioDef,
    host: &CgroupHost,
    ctx: &RunContext<'_>,
    progress: &mut Saver<'_>,
) -> ScenarioResult {
    match &def.kind {
        Kind::Isolation(iso) => isolation::run(
            &isolation::IsolationSpec {
                name: def.name.clone(),
                timing: def.timing,
                def: (**iso).clone(),
            },
            ctx,
            progress,
        ),
        Kind::MemoryPressure(m) => memory_pressure_run(def.timing, m, host, ctx, progress),
        Kind::StartupLatency(s) => startup_latency::run(
            &startup_latency::StartupSpec::new(def.timing, s.samples, s.churn_s, s.namespaces),
            ctx,
            progress,
        ),
        Kind::MemoryHighStall => {
            let r = memory_high_stall::run(&Default::default(), ctx, host.layout);
            progress.step_done(&def.name, "both cases");
            r
        }
        Kind::Visibility(v) => visibility::run(
            &visibility::VisibilitySpec {
                cpu_view: (**v).clone(),
                ..Default::default()
            },
            ctx,
            progress,
        ),
    }
}

/// A warning per other live isobench process on this host.
/// Runs `memory-pressure`, or skips it with the reason where the host cannot
/// give its arena or its knobs.
fn memory_pressure_run(
    timing: Timing,
    m: &MemoryPressureDef,
    host: &CgroupHost,
    ctx: &RunContext<'_>,
    progress: &mut dyn Progress,
) -> ScenarioResult {
    let spec = memory_pressure::MemoryPressureSpec::new(
        timing,
        host.layout,
        m.arena_bytes,
        m.working_set_bytes,
        m.aggressor_limits.as_ref().map(|l| l.limits.memory.clone()),
    );
    let skip = match arena_allowance() {
        Ok(allowed) if spec.arena_bytes > allowed => Some(format!(
            "the arena of {} MiB does not fit: this host can give at most {} MiB now (MemAvailable − 1 GiB); pass --arena-memory with at most that",
            spec.arena_bytes >> 20,
            allowed >> 20
        )),
        Ok(_) => None,
        Err(e) => Some(format!("{e:#}")),
    };
    match skip {
        Some(reason) => {
            let mut r = ScenarioResult::started(
                memory_pressure::NAME,
                "What a victim feels when a neighbour hogs memory, with and without memory limits",
                serde_json::json!({ "scenario": spec }),
            );
            r.status = ScenarioStatus::Skipped(reason);
            r
        }
        None => memory_pressure::run(&spec, ctx, progress),
    }
}

fn concurrent_runs(host: &CgroupHost) -> Vec<String> {
    crate::cleanup::other_live_owners(host)
        .into_iter()
        .map(|pid| {
            format!(
                "another isobench process (pid {pid}) is running on this host: the two runs disturb each other's \
                 figures; run one at a time"
            )
        })
        .collect()
}

/// Calibrates the victim's work unit (~100 µs) once per run, inside the arena:
/// `isobench-workload calibrate --unit-us 100` in a sandbox cgroup of its own.
///
/// # Errors
/// Creating or removing its cgroup, starting the applet, an applet that does
/// not report within 30 s or reports something else.
pub fn calibrate(arena: &crate::cgroup::Arena, bin: &std::path::Path) -> Result<Calibration> {
    let cg = arena.sandbox("calibrate", &Limits::default())?;
    let mut p = sandbox::spawn(
        bin,
        &["calibrate".into(), "--unit-us".into(), "100".into()],
        NamespaceSet::default(),
        Some(&cg),
    )?;
    p.wait_for(Duration::from_secs(30))
        .context("calibrating the work unit")?;
    let report = workload::parse_report("calibrate", &p.output()?)?;
    drop(p);
    cg.remove()?;
    match report {
        WorkloadReport::Calibrate(c) => Ok(c),
        other => bail!("calibrate reported {other:?}"),
    }
}

/// Saves the results after every round and shows the progress.
pub(crate) struct Saver<'a> {
    out: &'a OutputDir,
    results: &'a mut Results,
    pub(crate) meter: Meter,
    failed: Option<output::OutputError>,
    until: Option<&'a UntilDecided>,
    /// `--accept-disturbed`, recorded in the results and given to the gate.
    accept_disturbed: bool,
    /// The suite's name of the scenario running: its results carry it.
    name: String,
    /// Progress steps of one round of the scenario running.
    round_steps: usize,
}

impl Saver<'_> {
    /// Saves `scenario` under `name` (see [`Saver::save`]).
    ///
    /// # Errors
    /// The results could not be written.
    pub(crate) fn save_as(&mut self, name: &str, scenario: ScenarioResult) -> Result<()> {
        self.name = name.to_owned();
        self.save(scenario);
        match self.failed.take() {
            Some(e) => Err(e.into()),
            None => Ok(()),
        }
    }

    /// Puts the sweep's curves and knees into the results and writes them.
    ///
    /// # Errors
    /// The results could not be written.
    pub(crate) fn save_sweep(
        &mut self,
        sweep: isobench_reports::schema_sweep::Sweep,
    ) -> Result<()> {
        self.results.sweep = Some(sweep);
        self.out.write(self.results)?;
        Ok(())
    }

    /// Puts `scenario` into the results (replacing its partial self) and writes them.
    fn save(&mut self, mut scenario: ScenarioResult) {
        scenario.name = self.name.clone();
        scenario.verdict = crate::verdict::judge(&scenario);
        match self
            .results
            .scenarios
            .iter_mut()
            .find(|s| s.name == scenario.name)
        {
            Some(s) => *s = scenario,
            None => self.results.scenarios.push(scenario),
        }
        let disturbance = crate::disturbance::of_run(self.results, self.accept_disturbed);
        for s in &mut self.results.scenarios {
            if let Some(v) = s.verdict.as_mut() {
                v.disturbed = crate::disturbance::of_scenario(&disturbance, &s.name);
            }
        }
        self.results.disturbance = Some(disturbance);
        if let Err(e) = self.out.write(self.results) {
            self.failed.get_or_insert(e);
        }
    }
}

impl Progress for Saver<'_> {
    fn step_done(&mut self, scenario: &str, what: &str) {
        self.meter.step_done(scenario, what);
    }

    fn more_rounds(&mut self, partial: &ScenarioResult) -> bool {
        let Some(until) = self.until else {
            return false;
        };
        if partial.status != ScenarioStatus::Complete {
            return false;
        }
        let mut current = self.results.clone();
        let mut partial = partial.clone();
        partial.name = self.name.clone();
        current.scenarios = vec![partial.clone()];
        let comparison = crate::compare::compare(&crate::compare::CompareInput {
            baseline: (&until.baseline, &until.baseline_path),
            current: (&current, "(this run)"),
            margins: &until.margins,
            force: true,
            accept_disturbed: self.accept_disturbed,
        });
        let undecided: Vec<String> = comparison
            .rows
            .iter()
            .filter(|r| r.scenario == partial.name && crate::compare::more_rounds_could_decide(r))
            .map(crate::compare::label)
            .collect();
        if undecided.is_empty() {
            return false;
        }
        if partial.rounds.len() >= until.max_rounds {
            let note = format!(
                "--until-decided stopped {} at --max-rounds {} with these gated metrics still undecided: {}",
                partial.name,
                until.max_rounds,
                undecided.join(", ")
            );
            eprintln!("warning: {note}");
            self.results.warnings.push(note);
            return false;
        }
        self.meter.more_rounds(self.round_steps as u64);
        true
    }

    fn round_done(&mut self, partial: &ScenarioResult) {
        self.meter.round_done(partial);
        let mut saved = partial.clone();
        if saved.status == ScenarioStatus::Complete {
            saved.status = ScenarioStatus::Interrupted(
                "run still in progress when this file was written".into(),
            );
        }
        self.save(saved);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn run_id_is_sortable_time_then_pid() {
        let t = SystemTime::UNIX_EPOCH + Duration::from_secs(1_795_957_715);
        assert_eq!(
            new_run_id(t),
            format!("20261129T130835Z-{}", std::process::id())
        );
    }
}

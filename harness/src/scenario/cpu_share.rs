//! Scenario `cpu-share`: does a CPU quota on a noisy neighbour hold, and does
//! the victim beside it keep its throughput and latency?
//!
//! Victim `cpu-units` asks for half of one CPU in ~100 µs units, open-loop.
//! Aggressor `cpu-hog` spins one thread per CPU of the arena.
//! - solo: the victim alone, unconfined;
//! - contended: victim and aggressor, both unconfined (each in an accounting
//!   cgroup without limits, no namespaces);
//! - isolated: each in its sandbox (all namespaces), the aggressor with
//!   `cpu.max` 50000 100000 (0.5 CPU), the victim without a quota.
//!
//! CPU share = Δusage / Δwall over the measured window (DESIGN §2).

use super::metrics::{self, ConditionSample};
use super::support::{account, host_other_cpu_share, own_cpu_s, stat_of, strings};
use super::{Progress, RunContext, Timing, rounds};
use crate::cgroup::{CpuMax, Limits};
use crate::interrupt;
use crate::probe::host_load;
use crate::sandbox::{self, NamespaceSet, Process};
use crate::workload;
use anyhow::{Context, Result, bail};
use isobench_reports::schema::{Condition, ConditionRun, ScenarioResult};
use isobench_workloads::report::{WorkloadReport, add_pairs, new_histogram};
use nix::sys::wait::WaitStatus;
use serde::Serialize;
use std::time::{Duration, Instant};

/// The scenario's name in suites, results and on the command line.
pub const NAME: &str = "cpu-share";

/// The scenario's parameters, recorded in the results as its spec.
#[derive(Debug, Clone, Serialize)]
pub struct CpuShareSpec {
    /// Rounds and durations.
    pub timing: Timing,
    /// Length of one victim work unit, µs.
    pub unit_us: u64,
    /// CPU the victim asks for, in CPUs (its rate is this divided by the unit length).
    pub victim_cpus: f64,
    /// Aggressor threads; `None` is one per CPU of the arena.
    pub aggressor_threads: Option<usize>,
    /// The aggressor's limit in the isolated condition.
    pub aggressor_cpu_max: CpuMax,
    /// Namespaces of both sandboxes in the isolated condition.
    pub namespaces: NamespaceSet,
}

impl CpuShareSpec {
    /// The default spec with the given rounds and durations, and the aggressor's
    /// quota in CPUs (default 0.5: `cpu.max` 50000 100000).
    pub fn new(timing: Timing, aggressor_cpus: Option<f64>) -> CpuShareSpec {
        const PERIOD_US: u64 = 100_000;
        let quota_us = (aggressor_cpus.unwrap_or(0.5) * PERIOD_US as f64).round() as u64;
        CpuShareSpec {
            timing,
            unit_us: 100,
            victim_cpus: 0.5,
            aggressor_threads: None,
            aggressor_cpu_max: CpuMax {
                quota_us: Some(quota_us),
                period_us: PERIOD_US,
            },
            namespaces: NamespaceSet::ALL,
        }
    }
}

/// Runs every round of the scenario. Failures and interruptions end it early
/// with the rounds recorded so far and the reason in its status.
pub fn run(
    spec: &CpuShareSpec,
    ctx: &RunContext<'_>,
    progress: &mut dyn Progress,
) -> ScenarioResult {
    let mut result = ScenarioResult::started(
        NAME,
        "CPU share of a cpu.max-limited aggressor, and what the victim beside it keeps",
        serde_json::json!({
            "scenario": spec,
            "calibration": ctx.calibration,
            "victim_rate_per_s": victim_rate(spec, ctx),
        }),
    );
    rounds::run(
        &mut result,
        spec.timing.rounds,
        progress,
        &mut |index, condition| run_condition(spec, ctx, index, condition),
        &metrics::derive,
    );
    result
}

/// The expected share of the isolated aggressor: quota/period capped by the
/// CPUs it may run on and by its thread count (DESIGN §2 "CPU share").
fn expected_share(spec: &CpuShareSpec, cpus_allowed: usize, threads: usize) -> Option<f64> {
    Some(
        spec.aggressor_cpu_max
            .cpus()?
            .min(cpus_allowed as f64)
            .min(threads as f64),
    )
}

/// Units per second that make the victim ask for `victim_cpus` with the calibrated unit.
fn victim_rate(spec: &CpuShareSpec, ctx: &RunContext<'_>) -> f64 {
    spec.victim_cpus / (ctx.calibration.unit_ns as f64 / 1e9)
}

/// One condition: start the sandboxes, measure the window, collect the reports.
fn run_condition(
    spec: &CpuShareSpec,
    ctx: &RunContext<'_>,
    round: usize,
    condition: Condition,
) -> Result<ConditionSample> {
    let t = spec.timing;
    let threads = spec.aggressor_threads.unwrap_or(ctx.cpus_allowed);
    let isolated = condition == Condition::Isolated;
    let ns = if isolated {
        spec.namespaces
    } else {
        NamespaceSet::default()
    };
    let name = |role: &str| format!("r{round}-{condition}-{role}");
    let victim_cg = ctx
        .arena
        .sandbox(&name("victim"), &Limits::default())
        .context("creating the victim's cgroup")?;
    let aggressor_cg = match condition {
        Condition::Solo => None,
        _ => {
            let limits = Limits {
                cpu_max: isolated.then_some(spec.aggressor_cpu_max),
                ..Limits::default()
            };
            Some(
                ctx.arena
                    .sandbox(&name("aggressor"), &limits)
                    .context("creating the aggressor's cgroup")?,
            )
        }
    };
    let rate = victim_rate(spec, ctx);
    let mut aggressor = match &aggressor_cg {
        Some(cg) => {
            let args = strings(&[
                "cpu-hog",
                "--threads",
                &threads.to_string(),
                "--duration",
                &(t.warmup_s + t.duration_s + 2.0).to_string(),
            ]);
            Some(
                sandbox::spawn(&ctx.workload_bin, &args, ns, Some(cg))
                    .context("starting the aggressor")?,
            )
        }
        None => None,
    };
    let victim_args = strings(&[
        "cpu-units",
        "--iters-per-unit",
        &ctx.calibration.iters_per_unit.to_string(),
        "--rate",
        &rate.to_string(),
        "--warmup",
        &t.warmup_s.to_string(),
        "--duration",
        &t.duration_s.to_string(),
    ]);
    let mut victim = sandbox::spawn(&ctx.workload_bin, &victim_args, ns, Some(&victim_cg))
        .context("starting the victim")?;
    let harness0 = own_cpu_s()?;
    if !interrupt::sleep(Duration::from_secs_f64(t.warmup_s)) {
        bail!("interrupted");
    }
    let (wall0, busy0, v0, a0) = (
        Instant::now(),
        host_load::busy_cpu_s(),
        victim_cg.cpu_stat()?,
        stat_of(aggressor_cg.as_ref())?,
    );
    if !interrupt::sleep(Duration::from_secs_f64(t.duration_s)) {
        bail!("interrupted");
    }
    let (busy1, v1, a1) = (
        host_load::busy_cpu_s(),
        victim_cg.cpu_stat()?,
        stat_of(aggressor_cg.as_ref())?,
    );
    let wall = wall0.elapsed().as_secs_f64();
    let status = victim
        .wait_for(Duration::from_secs_f64(t.duration_s + 30.0))
        .context("waiting for the victim")?;
    if status != WaitStatus::Exited(nix::unistd::Pid::from_raw(victim.pid()), 0) {
        bail!("the victim ended with {status:?} (its stderr is above)");
    }
    let harness_cpu_share = (own_cpu_s()? - harness0) / (t.warmup_s + wall);
    if let Some(a) = aggressor.as_mut() {
        a.stop(Duration::from_secs(2));
    }
    let report = victim_report(&mut victim)?;
    let mut aggressors = Vec::new();
    if let (Some(cg), Some(a0), Some(a1)) = (aggressor_cg.as_ref(), a0, a1) {
        let expected = if isolated {
            expected_share(spec, ctx.cpus_allowed, threads)
        } else {
            None
        };
        aggressors.push(account("aggressor", &a1.delta(&a0), wall, expected, cg)?);
    }
    let victim_cpu = account("victim", &v1.delta(&v0), wall, None, &victim_cg)?;
    let host_other_cpu_share = host_other_cpu_share(busy0, busy1, wall, &victim_cpu, &aggressors);
    drop((victim, aggressor));
    victim_cg.remove()?;
    if let Some(cg) = aggressor_cg {
        cg.remove()?;
    }
    let mut histogram = new_histogram();
    add_pairs(&mut histogram, &report.latency_ns)?;
    Ok(ConditionSample {
        run: ConditionRun {
            condition,
            victim: Some(metrics::victim_run(
                &report,
                &histogram,
                metrics::LATE_UNITS * ctx.calibration.unit_ns,
            )),
            aggressors,
            victim_cpu,
            harness_cpu_share,
            host_other_cpu_share,
            memory: None,
        },
        histogram,
        missed: report.missed,
    })
}

fn victim_report(victim: &mut Process) -> Result<isobench_workloads::report::UnitsReport> {
    let out = victim.output().context("reading the victim's report")?;
    match workload::parse_report("cpu-units", &out)? {
        WorkloadReport::CpuUnits(r) => Ok(r),
        other => bail!("the victim reported {other:?} instead of cpu-units"),
    }
}

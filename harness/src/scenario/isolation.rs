//! Scenarios of kind `isolation`: does a limit on noisy neighbours hold, and
//! does the victim beside them keep its throughput and latency?
//!
//! A victim applet (open-loop units: `cpu-units`, `mem-units`, `wakeup-latency`,
//! `tcp-echo`), a command of the user's or a bench closure runs beside one or
//! more aggressors, each in its own cgroup:
//! - solo: the victim alone, unconfined;
//! - contended: victim and aggressors, all unconfined (each in an accounting
//!   cgroup without limits, no namespaces);
//! - isolated: each in its sandbox (the scenario's namespaces) with the limits
//!   the suite gives it.
//!
//! A service victim (a command with `mode = "service"`) is a server driven
//! open-loop by `drive-service` (see `isobench_workloads::service_driver`):
//! the server runs in the victim's cgroup and namespaces; the driver runs in a
//! cgroup of its own (so the victim is charged with the server alone), inside
//! the server's network namespace when the condition has one (setns) and on
//! the host's loopback otherwise. The server starts, and listens, before the
//! aggressors; one that ends before the window's end makes the condition
//! invalid, with how it ended and the end of its output. After the window it
//! is stopped (SIGTERM, [`COMMAND_GRACE_S`], SIGKILL) and its tree dies with
//! its cgroup.
//!
//! Groups (`[[scenario.group]]`, issue 15) exist in the isolated condition
//! only: each is created per round beneath its parent, or the arena, with its
//! limits ([`Arena::nested`]), its sandboxes beneath it, and removed deepest
//! first after the window; the contended condition keeps every sandbox a
//! sibling in the arena, without limits.
//!
//! CPU share = Δusage / Δwall over the measured window (DESIGN §2), for every
//! sandbox and group, beside the share expected through the hierarchy
//! ([`expected_shares`], [`super::expected`]). The embedded suites'
//! `cpu-share` is one: `cpu-units` asking for 0.5 CPU beside a `cpu-hog` with
//! `cpu.max` 50000 100000.

use super::expected::{self, Expected};
use super::metrics::{self, ConditionSample};
use super::phases::{self, Phaser};
use super::pressure;
use super::protection;
use super::support::{HostEdge, account, host_cpu, own_cpu_s};
use super::validity;
use super::{Progress, RunContext, Timing, rounds};
use crate::cgroup::weight::scheduler_weight;
use crate::cgroup::{Arena, Cgroup, CpuList, CpuStat, Layout, Limits};
use crate::interrupt;
use crate::measure::pids::PidsWatches;
use crate::sandbox::{self, NamespaceSet, Process};
use crate::suite::run_args::{self, VictimRun};
use crate::suite::{
    AggressorDef, AggressorWorkload, CommandMode, Demand, GroupDef, IsolationDef, ServiceDef,
    VictimDef, VictimWorkload,
};
use crate::workload;
use anyhow::{Context, Result, bail};
use isobench_reports::schema::{Condition, ConditionRun, CpuAccount, NeighbourRun, ScenarioResult};
use isobench_workloads::report::{UnitsReport, WorkloadReport, add_pairs, new_histogram};
use nix::sys::wait::WaitStatus;
use serde::Serialize;
use std::collections::BTreeSet;
use std::time::{Duration, Instant};

/// The name of the embedded suites' CPU-share scenario.
pub const CPU_SHARE: &str = "cpu-share";

/// One isolation scenario as it runs: its name, timing and definition.
#[derive(Debug, Clone, Serialize)]
pub struct IsolationSpec {
    /// The scenario's name in the suite.
    pub name: String,
    /// Rounds and durations.
    pub timing: Timing,
    /// Victim, aggressors, namespaces and conditions.
    #[serde(flatten)]
    pub def: IsolationDef,
}

/// Runs every round of the scenario. Failures and interruptions end it early
/// with the rounds recorded so far and the reason in its status.
pub fn run(
    spec: &IsolationSpec,
    ctx: &RunContext<'_>,
    progress: &mut dyn Progress,
) -> ScenarioResult {
    let mut rounds = IsolationRounds::new(spec, ctx, u64::from(std::process::id()));
    let protection = rounds.protection.clone();
    rounds::run(
        &mut rounds.result,
        spec.timing.rounds,
        &spec.def.conditions,
        progress,
        &mut |index, condition| run_condition(spec, ctx, index, condition),
        &|result, samples| derive(result, samples, &spec.def, &protection),
    );
    rounds.result
}

/// An isolation scenario run one round at a time, for a caller that
/// interleaves several scenarios' rounds (`isobench sweep`); [`run`] runs
/// them back to back.
pub struct IsolationRounds<'s, 'c> {
    spec: &'s IsolationSpec,
    ctx: &'s RunContext<'c>,
    /// What was measured so far, derived after every round.
    result: ScenarioResult,
    rounds: rounds::RoundLoop,
    /// The protection findings, warned about in the result.
    protection: Vec<String>,
}

impl<'s, 'c> IsolationRounds<'s, 'c> {
    /// The scenario of `spec`, no round run yet; `seed` sets the conditions' orders.
    pub fn new(spec: &'s IsolationSpec, ctx: &'s RunContext<'c>, seed: u64) -> Self {
        let neighbours: Vec<String> = spec
            .def
            .aggressors
            .iter()
            .map(|a| a.workload.label())
            .collect();
        let result = ScenarioResult::started(
            &spec.name,
            &format!(
                "victim {} beside {}: what the limits hold and what the victim keeps",
                spec.def.victim.workload.label(),
                if neighbours.is_empty() {
                    "no neighbour".to_string()
                } else {
                    neighbours.join(" + ")
                }
            ),
            serde_json::json!({
                "scenario": spec,
                // A command or closure victim records none: the gate compares its
                // absolute figures between any two runs (compare::comparable_absolutes).
                "calibration": spec
                    .def
                    .victim
                    .workload
                    .absolutes_need_shared_calibration()
                    .then_some(ctx.calibration),
                "victim_rate_per_s": victim_rate(spec, ctx),
            }),
        );
        let protection = protection::findings(&spec.def, ctx.arena.host())
            .iter()
            .map(ToString::to_string)
            .collect();
        IsolationRounds {
            spec,
            ctx,
            result,
            rounds: rounds::RoundLoop::new(seed),
            protection,
        }
    }

    /// Runs one more round (every condition once, in random order). Returns
    /// false when it failed or was interrupted (the result's status says why):
    /// run no further round of this scenario.
    pub fn round(&mut self, progress: &mut dyn Progress) -> bool {
        let (spec, ctx, protection) = (self.spec, self.ctx, &self.protection);
        self.rounds.round(
            &mut self.result,
            &spec.def.conditions,
            progress,
            &mut |index, condition| run_condition(spec, ctx, index, condition),
            &|result, samples| derive(result, samples, &spec.def, protection),
        )
    }

    /// What was measured so far.
    pub fn result(&self) -> &ScenarioResult {
        &self.result
    }

    /// The scenario's result once its rounds are done.
    pub fn finish(self) -> ScenarioResult {
        self.result
    }
}

/// Derives the scenario's metrics from every round's samples, and warns of the protection findings.
fn derive(
    result: &mut ScenarioResult,
    samples: &[Vec<ConditionSample>],
    def: &IsolationDef,
    protection: &[String],
) {
    phases::derive(result, samples, def);
    result.warnings.extend(protection.iter().cloned());
}

/// Units per second the victim is asked for; `None` for a command that keeps its own pace.
fn victim_rate(spec: &IsolationSpec, ctx: &RunContext<'_>) -> Option<f64> {
    match spec.def.victim.demand {
        Demand::Cpus(cpus) => Some(cpus / (ctx.calibration.unit_ns as f64 / 1e9)),
        Demand::Rate(r) => Some(r),
        Demand::Own => None,
    }
}

/// The value of flag `name` in `args` (`--flag V` or `--flag=V`).
fn flag<'a>(args: &'a [String], name: &str) -> Option<&'a str> {
    args.iter().enumerate().find_map(|(i, a)| {
        if a == name {
            args.get(i + 1).map(String::as_str)
        } else {
            a.strip_prefix(name)?.strip_prefix('=')
        }
    })
}

/// CPUs an aggressor process can keep busy: cpu-hog's threads (default one per
/// CPU it may use) × intensity, the threads × intensity of cache-thrash and mem-bw, the
/// duty cycle of cpu-bursts (burst / (burst + sleep)); `None` for applets whose
/// CPU demand is not known ahead.
fn cpu_demand(a: &AggressorDef, cpus: usize) -> Option<f64> {
    let AggressorWorkload::Applet { workload, args } = &a.workload else {
        return None;
    };
    let number = |name: &str| flag(args, name).and_then(|v| v.parse::<f64>().ok());
    let intensity = number("--intensity").unwrap_or(100.0) / 100.0;
    match workload.as_str() {
        "cpu-hog" => Some(number("--threads").unwrap_or(cpus as f64) * intensity),
        "cache-thrash" | "mem-bw" => Some(number("--threads").unwrap_or(1.0) * intensity),
        "cpu-bursts" => {
            let burst = number("--burst-ms").unwrap_or(120.0);
            Some(burst / (burst + number("--sleep-ms").unwrap_or(280.0)))
        }
        _ => None,
    }
}

/// The expected CPU shares of the isolated condition: every sandbox's and
/// group's, from the weights, quotas and cpusets of the scenario's limits and
/// each sandbox's demand, through the groups ([`expected`]).
#[derive(Debug, Clone, PartialEq)]
pub struct ExpectedShares {
    /// Each sandbox's, by name: `victim`, the aggressors, and a service
    /// victim's driver ([`DRIVER`]).
    pub sandboxes: Vec<(String, Expected)>,
    /// Each group's, in the order of the scenario's groups.
    pub groups: Vec<(String, Expected)>,
}

impl ExpectedShares {
    /// The expectation of sandbox `name`.
    pub fn sandbox(&self, name: &str) -> Option<&Expected> {
        self.sandboxes
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, e)| e)
    }
}

/// The weight the scheduler gives an idle group (`cpu.idle` 1) against its
/// siblings, on the v1 scale: `WEIGHT_IDLEPRIO`, 3 (kernel/sched/sched.h;
/// `sched_group_set_idle` in kernel/sched/fair.c sets the group's entity to it).
const WEIGHT_IDLEPRIO: f64 = 3.0;

/// What each sandbox and group of `def` should get when isolated, in CPUs,
/// on a host of `layout` whose arena may use `cpus_allowed` CPUs (see
/// [`expected`] for the method; weights count as the scheduler reads them,
/// [`crate::cgroup::weight::scheduler_weight`]).
pub fn expected_shares(def: &IsolationDef, cpus_allowed: usize, layout: Layout) -> ExpectedShares {
    let index = |g: &str| def.groups.iter().position(|x| x.name == g);
    let node = |name: &str, group: Option<&str>, limits: &Limits, demand| expected::Node {
        name: name.to_string(),
        parent: group.and_then(index),
        weight: if limits.cpu_idle == Some(true) {
            WEIGHT_IDLEPRIO
        } else {
            scheduler_weight(limits.cpu_weight, layout)
        },
        quota_cpus: limits.cpu_max.and_then(|m| m.cpus()),
        cpuset: limits.cpuset_cpus.as_ref().map(|c| c.cpus().clone()),
        demand,
    };
    // The CPUs a sandbox's threads see: its cpuset within its groups', else the arena's.
    let cpus_of = |own: Option<&CpuList>, group: Option<&str>| -> usize {
        let mut set: Option<BTreeSet<u32>> = own.map(|c| c.cpus().clone());
        let mut at = group.and_then(index);
        let mut steps = 0;
        while let Some(i) = at {
            if let Some(c) = &def.groups[i].limits.limits.cpuset_cpus {
                set = Some(match set {
                    None => c.cpus().clone(),
                    Some(s) => s.intersection(c.cpus()).copied().collect(),
                });
            }
            at = def.groups[i].parent.as_deref().and_then(index);
            steps += 1;
            if steps > def.groups.len() {
                break;
            }
        }
        set.map_or(cpus_allowed, |s| s.len().min(cpus_allowed))
    };
    let mut nodes: Vec<expected::Node> = def
        .groups
        .iter()
        .map(|g| {
            node(
                &g.name,
                g.parent.as_deref(),
                &g.limits.limits,
                expected::Demand::Group,
            )
        })
        .collect();
    let v = &def.victim;
    nodes.push(node(
        "victim",
        v.group.as_deref(),
        &v.limits.limits,
        victim_demand(v),
    ));
    for a in &def.aggressors {
        let cpus = cpus_of(a.limits.limits.cpuset_cpus.as_ref(), a.group.as_deref());
        let demand = match cpu_demand(a, cpus) {
            Some(d) => expected::Demand::Cpus(d * a.count as f64),
            None => expected::Demand::Unknown {
                at_most: f64::INFINITY,
                why: format!(
                    "the CPU demand of {} is not known ahead (only cpu-hog, cpu-bursts, cache-thrash and mem-bw have a fixed one)",
                    a.workload.label()
                ),
            },
        };
        nodes.push(node(&a.name, a.group.as_deref(), &a.limits.limits, demand));
    }
    let service = matches!(
        v.workload,
        VictimWorkload::Command {
            mode: CommandMode::Service(_),
            ..
        }
    );
    if service {
        nodes.push(node(
            DRIVER,
            None,
            &Limits::default(),
            expected::Demand::Unknown {
                at_most: f64::INFINITY,
                why: "the service's driver uses CPU as the service's replies come, not known ahead"
                    .into(),
            },
        ));
    }
    let all = expected::expected(&nodes, cpus_allowed);
    let (groups, sandboxes) = all.split_at(def.groups.len());
    let named = |nodes: &[expected::Node], shares: &[Expected]| -> Vec<(String, Expected)> {
        nodes
            .iter()
            .zip(shares)
            .map(|(n, e)| (n.name.clone(), e.clone()))
            .collect()
    };
    let (group_nodes, sandbox_nodes) = nodes.split_at(def.groups.len());
    let groups = named(group_nodes, groups);
    let sandboxes = named(sandbox_nodes, sandboxes);
    ExpectedShares { sandboxes, groups }
}

/// The victim's CPU demand: `cpus` of cpu-units; unknown for the others, at
/// most the threads of a victim applet.
fn victim_demand(v: &VictimDef) -> expected::Demand {
    let at_most = match &v.workload {
        VictimWorkload::Applet { workload, .. } => victim_threads(workload),
        _ => f64::INFINITY,
    };
    match v.demand {
        Demand::Cpus(c) => expected::Demand::Cpus(c),
        Demand::Rate(r) => expected::Demand::Unknown {
            at_most,
            why: format!(
                "the CPU use of victim {} at {r} units/s is not known ahead (only cpu-units, which asks for `cpus`, has a known demand)",
                v.workload.label()
            ),
        },
        Demand::Own => expected::Demand::Unknown {
            at_most,
            why: format!(
                "victim {} keeps its own pace: its CPU use is not known ahead",
                v.workload.label()
            ),
        },
    }
}

/// Threads of victim applet `workload` that can use CPU at once: one for the
/// open-loop applets, three for tcp-echo (sender, echo server, receiver).
fn victim_threads(workload: &str) -> f64 {
    match workload {
        "tcp-echo" => 3.0,
        _ => 1.0,
    }
}

/// The cgroups of a scenario's groups, parents first; removed deepest first.
pub(super) struct Groups {
    /// One per group of the scenario, in its order.
    arenas: Vec<Arena>,
}

impl Groups {
    /// Creates `defs` (parents first) beneath `arena`: each beneath its
    /// parent's cgroup (or the arena, named `<prefix>-group-<name>`) with its limits.
    ///
    /// # Errors
    /// A cgroup that cannot be created or take its limits, naming the group;
    /// what was created is removed.
    pub(super) fn create(defs: &[GroupDef], arena: &Arena, prefix: &str) -> Result<Groups> {
        let mut groups = Groups { arenas: Vec::new() };
        for g in defs {
            let parent = g
                .parent
                .as_deref()
                .and_then(|p| defs.iter().position(|x| x.name == p));
            let made = match parent.and_then(|i| groups.arenas.get(i)) {
                Some(under) => under.nested(&format!("group-{}", g.name), &g.limits.limits),
                None => arena.nested(&format!("{prefix}-group-{}", g.name), &g.limits.limits),
            }
            .with_context(|| format!("creating the cgroup of group {}", g.name))?;
            groups.arenas.push(made);
        }
        Ok(groups)
    }

    /// The cgroup of group `name` of `defs` (those it was created from).
    pub(super) fn get(&self, defs: &[GroupDef], name: &str) -> Option<&Arena> {
        let i = defs.iter().position(|g| g.name == name)?;
        self.arenas.get(i)
    }

    /// Each group's CPU accounting, in the scenario's order.
    fn stats(&self) -> Result<Vec<CpuStat>> {
        self.arenas.iter().map(|a| Ok(a.cpu_stat()?)).collect()
    }

    /// Removes the groups, deepest first.
    ///
    /// # Errors
    /// The first teardown error; the rest are removed on drop.
    pub(super) fn remove(mut self) -> Result<()> {
        while let Some(a) = self.arenas.pop() {
            a.remove()?;
        }
        Ok(())
    }
}

impl Drop for Groups {
    fn drop(&mut self) {
        while let Some(a) = self.arenas.pop() {
            drop(a);
        }
    }
}

/// The share of each group of `def` in a condition without groups
/// (contended): the sum of its sandboxes' (`accounts`), beneath it at any depth.
fn summed_groups(def: &IsolationDef, accounts: &[&CpuAccount]) -> Vec<CpuAccount> {
    let within = |sandbox: &str, group: &str| {
        let mut at = def.group_of(sandbox);
        let mut steps = 0;
        while let Some(g) = at {
            if g == group {
                return true;
            }
            at = def
                .groups
                .iter()
                .find(|x| x.name == g)
                .and_then(|x| x.parent.as_deref());
            steps += 1;
            if steps > def.groups.len() {
                break;
            }
        }
        false
    };
    def.groups
        .iter()
        .map(|g| CpuAccount {
            sandbox: g.name.clone(),
            cpu_share: accounts
                .iter()
                .filter(|a| within(&a.sandbox, &g.name))
                .map(|a| a.cpu_share)
                .sum(),
            cpu_share_expected: None,
            cpu_share_expected_reason: None,
            nr_periods: None,
            nr_throttled: None,
            throttled_us: None,
            nr_bursts: None,
            burst_us: None,
        })
        .collect()
}

/// Seconds an aggressor process runs past the victim's window for each
/// sandbox start that follows its own (the victim's, and those of the
/// aggressor processes started after it: 2–10 ms each here, 60–80 ms in an
/// emulated VM, more on a CPU its group shares), so that it presses on the
/// whole window and still ends by itself, printing its report. The last one
/// started runs this much past the window, the first of three aggressors
/// three times as much ([`overrun_s`]).
pub const AGGRESSOR_OVERRUN_S: f64 = 0.25;

/// The overrun of the aggressor process started `index`-th (from 0) of `total`:
/// [`AGGRESSOR_OVERRUN_S`] for each start from its own on (the victim's last).
fn overrun_s(index: usize, total: usize) -> f64 {
    AGGRESSOR_OVERRUN_S * total.saturating_sub(index).max(1) as f64
}

/// An aggressor's cgroup and processes while a condition runs.
struct Running<'d> {
    def: &'d AggressorDef,
    cg: Cgroup,
    procs: Vec<Process>,
    /// The longest overrun of its processes, s ([`overrun_s`]).
    overrun_s: f64,
}

/// One condition: start the sandboxes, measure the window, collect the reports.
fn run_condition(
    spec: &IsolationSpec,
    ctx: &RunContext<'_>,
    round: usize,
    condition: Condition,
) -> Result<ConditionSample> {
    let t = spec.timing;
    let victim_def = &spec.def.victim;
    let isolated = condition == Condition::Isolated;
    let ns = if isolated {
        spec.def.namespaces
    } else {
        NamespaceSet::default()
    };
    let name = |role: &str| format!("r{round}-{condition}-{role}");
    let limits_of = |l: &Limits| {
        if isolated {
            l.clone()
        } else {
            Limits::default()
        }
    };
    // The arena passes its children's memory protection on (case C13).
    let _claim = if isolated {
        Some(protection::ArenaClaim::set(ctx.arena, &spec.def)?)
    } else {
        None
    };
    // Groups exist in the isolated condition only: contended has no limits.
    let groups = if isolated && !spec.def.groups.is_empty() {
        Some(Groups::create(
            &spec.def.groups,
            ctx.arena,
            &format!("r{round}-{}", Condition::Isolated),
        )?)
    } else {
        None
    };
    let home = |sandbox: &str| -> &Arena {
        groups
            .as_ref()
            .zip(spec.def.group_of(sandbox))
            .and_then(|(gs, g)| gs.get(&spec.def.groups, g))
            .unwrap_or(ctx.arena)
    };
    let victim_cg = home("victim")
        .sandbox(&name("victim"), &limits_of(&victim_def.limits.limits))
        .context("creating the victim's cgroup")?;
    let mut pids = PidsWatches::default();
    pids.add("victim", &victim_cg);
    let victim_run = VictimRun {
        rate: victim_rate(spec, ctx).unwrap_or(0.0),
        iters_per_unit: ctx.calibration.iters_per_unit,
        warmup_s: t.warmup_s,
        duration_s: t.duration_s,
        slice_ms: spec.def.slice_ms(),
        slice_origin_ns: None,
    };
    // Time 0 of a ramp, handed to its applet when it starts: the window's
    // start as foreseen before the neighbours start (they take a few ms here,
    // seconds on an emulated CPU: the ramp then runs earlier, and its trace
    // says where). Time 0 of the slices and the freezes: the window's start
    // as the harness counts it when the victim starts.
    let ramp_origin_ns = phases::window_origin_ns(t.warmup_s);
    let origin_ns = std::cell::Cell::new(ramp_origin_ns);
    let start = || {
        origin_ns.set(phases::window_origin_ns(t.warmup_s));
        let run = VictimRun {
            slice_origin_ns: Some(origin_ns.get()),
            ..victim_run
        };
        start_victim(spec, ctx, ns, &victim_cg, run, &name(DRIVER))
    };
    // A service starts, and is listening, before its neighbours: they run for
    // the window's length from their start, however long it takes to listen.
    let first = match &victim_def.workload {
        VictimWorkload::Command {
            mode: CommandMode::Service(_),
            ..
        } => Some(start()?),
        _ => None,
    };
    let mut running = Vec::new();
    if condition != Condition::Solo {
        let total: usize = spec.def.aggressors.iter().map(|a| a.count).sum();
        let mut started = 0;
        for a in &spec.def.aggressors {
            let cg = phases::aggressor_cgroup(
                home(&a.name),
                &name(&a.name),
                a,
                &limits_of(&a.limits.limits),
            )
            .with_context(|| format!("creating the cgroup of aggressor {}", a.name))?;
            pids.add(&a.name, &cg);
            let mut procs = Vec::new();
            let overrun = overrun_s(started, total);
            for _ in 0..a.count {
                let mut argv = run_args::aggressor_argv(
                    &a.workload,
                    t.warmup_s + t.duration_s + overrun_s(started, total),
                    &ctx.work_dir,
                );
                argv.extend(phases::ramp_flag(a, ramp_origin_ns).into_iter().flatten());
                procs.push(
                    sandbox::spawn(&ctx.workload_bin, &argv, ns, Some(&cg))
                        .with_context(|| format!("starting aggressor {}", a.name))?,
                );
                started += 1;
            }
            running.push(Running {
                def: a,
                cg,
                procs,
                overrun_s: overrun,
            });
        }
    }
    let mut victim = match first {
        Some(v) => v,
        None => start()?,
    };
    let phaser =
        match phases::neighbours(&running.iter().map(|r| (r.def, &r.cg)).collect::<Vec<_>>())? {
            n if n.is_empty() => None,
            n => Some(Phaser::start(n, origin_ns.get())?),
        };
    pids.sample();
    let harness0 = own_cpu_s()?;
    if !interrupt::sleep(Duration::from_secs_f64(t.warmup_s)) {
        bail!("interrupted");
    }
    let stats = |running: &[Running<'_>]| -> Result<Vec<CpuStat>> {
        running.iter().map(|r| Ok(r.cg.cpu_stat()?)).collect()
    };
    let group_stats =
        || -> Result<Vec<CpuStat>> { groups.as_ref().map_or(Ok(Vec::new()), Groups::stats) };
    let (wall0, host0, v0, a0, g0, psi0) = (
        Instant::now(),
        HostEdge::read(ctx.arena)?,
        victim_cg.cpu_stat()?,
        stats(&running)?,
        group_stats()?,
        pressure::Edge::read(&sandboxes(&victim_cg, &running)),
    );
    if !interrupt::sleep(Duration::from_secs_f64(t.duration_s)) {
        bail!("interrupted");
    }
    // Thawed before anything reads or stops the neighbours.
    let phase_record = phases::record(
        phaser.map(Phaser::finish).transpose()?,
        &running.iter().map(|r| r.def).collect::<Vec<_>>(),
        origin_ns.get(),
        ramp_origin_ns,
    );
    let ended_early = ended_before_now(&mut running);
    let exits = stop_commands(&mut running);
    let (host1, v1, a1, g1, psi1) = (
        HostEdge::read(ctx.arena)?,
        victim_cg.cpu_stat()?,
        stats(&running)?,
        group_stats()?,
        pressure::Edge::read(&sandboxes(&victim_cg, &running)),
    );
    let wall = wall0.elapsed().as_secs_f64();
    let report = victim.report(t.duration_s + VICTIM_PATIENCE_S);
    let harness_cpu_share = (own_cpu_s()? - harness0) / (t.warmup_s + wall);
    let expected =
        isolated.then(|| expected_shares(&spec.def, ctx.cpus_allowed, ctx.arena.layout()));
    let expected_of = |sandbox: &str| expected.as_ref().and_then(|e| e.sandbox(sandbox));
    let mut aggressors = Vec::new();
    let mut neighbours = Vec::new();
    for ((r, (s0, s1)), exits) in running.iter_mut().zip(a0.iter().zip(&a1)).zip(exits) {
        aggressors.push(account(
            &r.def.name,
            &s1.delta(s0),
            wall,
            expected_of(&r.def.name),
            r.cg.path(),
        )?);
        neighbours.push(neighbour(r, exits)?);
    }
    let victim_cpu = account(
        "victim",
        &v1.delta(&v0),
        wall,
        expected_of("victim"),
        victim_cg.path(),
    )?;
    let cpu_pressure = {
        let all: Vec<&CpuAccount> = std::iter::once(&victim_cpu).chain(&aggressors).collect();
        pressure::accounts(&psi0, &psi1, &all, wall)
    };
    let group_accounts = match (&groups, &expected) {
        (Some(gs), Some(e)) => gs
            .arenas
            .iter()
            .zip(g0.iter().zip(&g1))
            .zip(&e.groups)
            .map(|((arena, (s0, s1)), (name, exp))| {
                let path = arena.dirs().first().cloned().unwrap_or_default();
                account(name, &s1.delta(s0), wall, Some(exp), &path)
            })
            .collect::<Result<Vec<_>>>()?,
        _ if condition == Condition::Contended => {
            let all: Vec<&CpuAccount> = std::iter::once(&victim_cpu).chain(&aggressors).collect();
            summed_groups(&spec.def, &all)
        }
        _ => Vec::new(),
    };
    let (host_other_cpu_share, host_cpu) = host_cpu(&host0, &host1, wall);
    let pids = pids.finish();
    victim.remove()?;
    victim_cg.remove()?;
    for r in running {
        drop(r.procs);
        r.cg.remove()?;
    }
    if let Some(gs) = groups {
        gs.remove()?;
    }
    let mut histogram = new_histogram();
    let (report, victim_failed) = match report {
        Ok(r) => {
            add_pairs(&mut histogram, &r.latency_ns)?;
            let failed = r.failure.clone().or_else(|| {
                (r.ops == 0).then(|| {
                    format!(
                        "it completed no unit in the window ({} due, none started in time): it cannot serve its rate on this host, so nothing of what it felt was measured; lower its rate",
                        r.missed
                    )
                })
            });
            (Some(r), failed)
        }
        Err(why) => (None, Some(why)),
    };
    let late_ns = match (victim_def.late_us, &victim_def.workload) {
        (Some(us), _) => Some((us * 1000.0) as u64),
        (None, _) if matches!(victim_def.demand, Demand::Cpus(_)) => {
            Some(metrics::LATE_UNITS * ctx.calibration.unit_ns)
        }
        (None, VictimWorkload::Applet { .. }) => Some(metrics::LATE_DEFAULT_NS),
        (None, _) => None,
    };
    let invalid = victim_failed
        .map(|why| validity::victim_failed(&why))
        .or_else(|| validity::neighbours_ended(&ended_early));
    let transient = report
        .as_ref()
        .and_then(|r| r.slices.as_ref())
        .map(|s| crate::measure::slices::Transient::new(s, phase_record.as_ref()));
    Ok(ConditionSample {
        run: ConditionRun {
            condition,
            victim: report
                .as_ref()
                .map(|r| metrics::victim_run(r, &histogram, late_ns)),
            aggressors,
            groups: group_accounts,
            victim_cpu,
            harness_cpu_share,
            host_other_cpu_share,
            host_cpu: Some(host_cpu),
            invalid,
            memory: None,
            neighbours,
            pids,
            cpu_pressure,
        },
        histogram,
        missed: report.map_or(0, |r| r.missed),
        transient,
    })
}

/// The cgroups of a condition's sandboxes, the victim's first.
fn sandboxes<'a>(victim: &'a Cgroup, running: &'a [Running<'_>]) -> Vec<&'a Cgroup> {
    std::iter::once(victim)
        .chain(running.iter().map(|r| &r.cg))
        .collect()
}

/// Seconds the harness waits for the victim's report past its window.
const VICTIM_PATIENCE_S: f64 = 30.0;

/// Seconds a command neighbour has after SIGTERM at the window's end before
/// SIGKILL; what is left in its cgroup then dies with the cgroup.
pub const COMMAND_GRACE_S: f64 = 1.0;

/// The name of a service victim's driver among the sandboxes of a condition
/// (`r0-solo-victim_driver`): no aggressor's name has `_`.
const DRIVER: &str = "victim_driver";

/// Seconds the harness waits for a service's driver to say it is ready beyond
/// the service's `ready_timeout` (the driver's own start, its last try).
const READY_SLACK_S: f64 = 5.0;

/// Bytes of a service's output quoted when it ended.
const SERVICE_TAIL: usize = 300;

/// The victim's processes while a condition runs: the one that reports its
/// units, and those it serves (a service victim's server).
struct Victim {
    /// The victim applet, or a service's driver; `None` when a service ended
    /// before its driver could join its network namespace.
    reporter: Option<Process>,
    label: String,
    service: Option<Service>,
}

/// A service victim's server, and the cgroup of its driver.
struct Service {
    /// The service command (its sandbox init where it has namespaces), in the victim's cgroup.
    process: Process,
    /// The driver's cgroup: no limits, so that the victim's is charged with the service alone.
    driver_cg: Cgroup,
    /// Why it cannot be measured, when found before the window (it ended before it listened).
    ended: Option<String>,
}

/// Starts the victim of `spec` in `cg` with namespaces `ns`; a service's
/// driver goes in cgroup `driver_name` of the arena.
fn start_victim(
    spec: &IsolationSpec,
    ctx: &RunContext<'_>,
    ns: NamespaceSet,
    cg: &Cgroup,
    run: VictimRun,
    driver_name: &str,
) -> Result<Victim> {
    let w = &spec.def.victim.workload;
    if let VictimWorkload::Command {
        mode: CommandMode::Service(service),
        ..
    } = w
    {
        return start_service(ctx, w, service, ns, cg, run, driver_name);
    }
    let argv = run_args::victim_argv(w, run);
    let reporter = sandbox::spawn(&ctx.workload_bin, &argv, ns, Some(cg))
        .with_context(|| format!("starting the victim ({})", w.label()))?;
    Ok(Victim {
        reporter: Some(reporter),
        label: w.label(),
        service: None,
    })
}

/// Starts service victim `w` (`def` its service): its command (the `exec`
/// applet) in `cg` with namespaces `ns`, then its driver (`drive-service`) in a cgroup of its
/// own, inside the service's network namespace when `ns` has one and on the
/// host's loopback otherwise; and waits until the driver says the service
/// listens, gave up on it, or the service ended.
///
/// # Errors
/// The port already accepts connections on the host's loopback (a condition
/// without a network namespace would drive another program); a start failed;
/// the run was interrupted.
fn start_service(
    ctx: &RunContext<'_>,
    w: &VictimWorkload,
    def: &ServiceDef,
    ns: NamespaceSet,
    cg: &Cgroup,
    run: VictimRun,
    driver_name: &str,
) -> Result<Victim> {
    if !ns.net {
        host_port_free(def.port)?;
    }
    let label = w.label();
    let mut process = sandbox::spawn(
        &ctx.workload_bin,
        &run_args::victim_argv(w, run),
        ns,
        Some(cg),
    )
    .with_context(|| format!("starting the victim ({label})"))?;
    let driver_cg = ctx
        .arena
        .sandbox(driver_name, &Limits::default())
        .context("creating the cgroup of the service victim's driver")?;
    let driver_argv = run_args::driver_argv(def, run);
    let driver = if ns.net {
        sandbox::spawn_in_netns_of(
            &ctx.workload_bin,
            &driver_argv,
            process.pid(),
            Some(&driver_cg),
        )
    } else {
        sandbox::spawn(
            &ctx.workload_bin,
            &driver_argv,
            NamespaceSet::default(),
            Some(&driver_cg),
        )
    };
    let (reporter, ended) = match driver {
        Ok(d) => (Some(d), None),
        // Its network namespace went with it.
        Err(_) if process.try_reap().unwrap_or(false) => (
            None,
            Some(format!(
                "the service {}",
                service_end(
                    &process,
                    &format!("before it listened on 127.0.0.1:{}", def.port)
                )
            )),
        ),
        Err(e) => {
            return Err(e).with_context(|| format!("starting the driver of the victim ({label})"));
        }
    };
    let mut victim = Victim {
        reporter,
        label,
        service: Some(Service {
            process,
            driver_cg,
            ended,
        }),
    };
    victim.await_ready(def.port, def.ready_timeout_s + READY_SLACK_S)?;
    Ok(victim)
}

/// Refuses `port` when it already accepts connections on the host's
/// 127.0.0.1 before the service has started.
///
/// # Errors
/// What listens there and what to do.
fn host_port_free(port: u16) -> Result<()> {
    let addr = std::net::SocketAddr::from((std::net::Ipv4Addr::LOCALHOST, port));
    if std::net::TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
        bail!(
            "127.0.0.1:{port} already accepts connections before the service victim has started: \
             another program listens there, and in a condition without a network namespace the \
             driver would measure it instead; stop it, or give the service another port (service.port)"
        );
    }
    Ok(())
}

/// How a reaped service ended, `when`, with the end of its output (stdout
/// and stderr, from a line's start): `exited with status 1 before it listened
/// on 127.0.0.1:8080; its output ended: "OSError: [Errno 98] Address already in use"`.
fn service_end(p: &Process, when: &str) -> String {
    let how = p
        .status()
        .map_or("ended".into(), |s| validity::ended_how(&s));
    // Twice the bytes quoted, so that the quote can start at a line's start.
    let out = p.output_tail(2 * SERVICE_TAIL as u64).unwrap_or_default();
    let out = out.trim();
    let mut cut = out
        .char_indices()
        .map(|(i, _)| i)
        .find(|&i| out.len() - i <= SERVICE_TAIL)
        .unwrap_or(out.len());
    if cut > 0
        && let Some(nl) = out[cut..].find('\n')
    {
        cut += nl + 1;
    }
    match &out[cut..] {
        "" => format!("{how} {when}"),
        tail => format!("{how} {when}; its output ended: {tail:?}"),
    }
}

impl Victim {
    /// Waits, at most `limit_s`, until a service's driver prints its ready
    /// line, ends (it reports why), or the service ends (noted in
    /// [`Service::ended`], the driver stopped). A victim without a service
    /// returns at once.
    ///
    /// # Errors
    /// SIGINT or SIGTERM reached the harness.
    fn await_ready(&mut self, port: u16, limit_s: f64) -> Result<()> {
        let (Some(driver), Some(service)) = (self.reporter.as_mut(), self.service.as_mut()) else {
            return Ok(());
        };
        let start = Instant::now();
        while start.elapsed().as_secs_f64() < limit_s {
            let said = driver.output_so_far().unwrap_or_default();
            if said
                .lines()
                .any(|l| l.starts_with(isobench_workloads::service_driver::READY_PREFIX))
            {
                return Ok(());
            }
            if service.process.try_reap().unwrap_or(true) {
                service.ended = Some(format!(
                    "the service {}",
                    service_end(
                        &service.process,
                        &format!("before it listened on 127.0.0.1:{port}")
                    )
                ));
                driver.kill_and_reap();
                return Ok(());
            }
            if driver.try_reap().unwrap_or(true) {
                return Ok(());
            }
            if interrupt::requested() {
                bail!("interrupted");
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        // The driver is late; its report, or its silence, will say why.
        Ok(())
    }

    /// Waits up to `patience_s` for the victim's end and reads its units; `Err`
    /// says why there are none (how it ended, what it printed). A service must
    /// still run at the window's end; it is stopped once its driver has
    /// reported (SIGTERM, [`COMMAND_GRACE_S`], SIGKILL).
    fn report(&mut self, patience_s: f64) -> Result<UnitsReport, String> {
        if let Some(s) = &mut self.service {
            if let Some(why) = s.ended.take() {
                return Err(why);
            }
            if s.process.try_reap().unwrap_or(true) {
                return Err(format!(
                    "the service {}",
                    service_end(&s.process, "before the window's end")
                ));
            }
        }
        let units = self.units(patience_s);
        if let Some(s) = &mut self.service {
            s.process.stop(Duration::from_secs_f64(COMMAND_GRACE_S));
        }
        units
    }

    /// The units the victim applet (or a service's driver) reported.
    fn units(&mut self, patience_s: f64) -> Result<UnitsReport, String> {
        let Some(p) = &mut self.reporter else {
            return Err("it never started".into());
        };
        let status = match p.wait_for(Duration::from_secs_f64(patience_s)) {
            Ok(s) => s,
            Err(e) => {
                p.stop(Duration::from_secs(1));
                return Err(format!("it did not end: {e}; stopped"));
            }
        };
        if status != WaitStatus::Exited(nix::unistd::Pid::from_raw(p.pid()), 0) {
            return Err(format!(
                "it {} (its stderr is above)",
                validity::ended_how(&status)
            ));
        }
        let out = p
            .output()
            .map_err(|e| format!("its report could not be read: {e}"))?;
        match workload::parse_report(&self.label, &out).map_err(|e| e.to_string())? {
            WorkloadReport::CpuUnits(r)
            | WorkloadReport::MemUnits(r)
            | WorkloadReport::WakeupLatency(r)
            | WorkloadReport::TcpEcho(r)
            | WorkloadReport::CommandRuns(r)
            | WorkloadReport::CommandReports(r)
            | WorkloadReport::BenchVictim(r) => Ok(r),
            WorkloadReport::DriveService(r) => Ok(r.units),
            other => Err(format!("it reported {other:?} instead of units")),
        }
    }

    /// Stops what is left of the victim and removes a service driver's cgroup.
    ///
    /// # Errors
    /// The driver cgroup's teardown error.
    fn remove(mut self) -> Result<()> {
        if let Some(s) = self.service.take() {
            drop(s.process);
            s.driver_cg.remove()?;
        }
        Ok(())
    }
}

/// Stops the processes of command neighbours at the window's end (SIGTERM,
/// [`COMMAND_GRACE_S`], SIGKILL) and says how each ended; applets end by themselves.
fn stop_commands(running: &mut [Running<'_>]) -> Vec<Vec<String>> {
    running
        .iter_mut()
        .map(|r| {
            if !matches!(r.def.workload, AggressorWorkload::Command(_)) {
                return Vec::new();
            }
            r.procs
                .iter_mut()
                .enumerate()
                .filter(|(_, p)| p.status().is_none())
                .map(|(i, p)| {
                    p.stop(Duration::from_secs_f64(COMMAND_GRACE_S));
                    let how = match p.status() {
                        Some(WaitStatus::Signaled(_, nix::sys::signal::Signal::SIGKILL, _)) => {
                            format!("ignored SIGTERM for {COMMAND_GRACE_S} s; killed")
                        }
                        Some(s) => format!("stopped by SIGTERM: {}", validity::ended_how(&s)),
                        None => "could not be waited for".into(),
                    };
                    format!("process {i}: {how}")
                })
                .collect()
        })
        .collect()
}

/// The aggressor processes that have already ended, as `<sandbox> process <i>:
/// <how>`: asked at the window's end, so each ended before it. One that ran its
/// scheduled overrun ([`overrun_s`]) is still running then.
fn ended_before_now(running: &mut [Running<'_>]) -> Vec<String> {
    let mut ended = Vec::new();
    for r in running.iter_mut() {
        for (i, p) in r.procs.iter_mut().enumerate() {
            let how = match p.try_reap() {
                Ok(false) => continue,
                Ok(true) => p
                    .status()
                    .map_or("ended".into(), |s| validity::ended_how(&s)),
                Err(e) => format!("could not be waited for: {e}"),
            };
            ended.push(format!("{} process {i}: {how}", r.def.name));
        }
    }
    ended
}

/// Stops an aggressor's processes and gathers their reports and the sandbox's memory peak.
fn neighbour(r: &mut Running<'_>, exits: Vec<String>) -> Result<NeighbourRun> {
    if let AggressorWorkload::Command(_) = r.def.workload {
        return Ok(NeighbourRun {
            sandbox: r.def.name.clone(),
            workload: r.def.workload.label(),
            count: r.def.count,
            work: None,
            memory_peak_bytes: memory_peak(&r.cg),
            reports: Vec::new(),
            failures: Vec::new(),
            exits,
        });
    }
    let mut reports = Vec::new();
    let mut work = None;
    let mut failures = Vec::new();
    for (i, p) in r.procs.iter_mut().enumerate() {
        let ended = match p.wait_for(Duration::from_secs_f64(r.overrun_s + 5.0)) {
            Ok(WaitStatus::Exited(_, 0)) => None,
            Ok(status) => Some(validity::ended_how(&status)),
            Err(e) => {
                p.stop(Duration::from_secs(2));
                Some(format!(
                    "still running 5 s past its deadline ({e}); stopped"
                ))
            }
        };
        let out = p.output().unwrap_or_default();
        let parsed = workload::parse_report(&r.def.workload.label(), &out);
        if let Some(how) = ended.or_else(|| parsed.as_ref().err().map(|e| e.to_string())) {
            failures.push(format!("process {i}: {how}"));
        }
        let Ok(parsed) = parsed else {
            continue;
        };
        if let Some(h) = parsed.headline() {
            let sum: &mut isobench_reports::schema::WorkFigure =
                work.get_or_insert(isobench_reports::schema::WorkFigure {
                    name: h.name.into(),
                    value: 0.0,
                    unit: h.unit.into(),
                });
            sum.value += h.value;
        }
        reports.push(serde_json::to_value(&parsed)?);
    }
    Ok(NeighbourRun {
        sandbox: r.def.name.clone(),
        workload: r.def.workload.label(),
        count: r.def.count,
        work,
        memory_peak_bytes: memory_peak(&r.cg),
        reports,
        failures,
        exits,
    })
}

/// Peak memory charged to `cg`, bytes; `None` where the kernel keeps no peak.
fn memory_peak(cg: &Cgroup) -> Option<u64> {
    cg.memory().ok().and_then(|(usage, _, _)| usage.peak_bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::suite::{self, HostFacts, Kind};

    #[test]
    fn the_first_of_several_aggressors_runs_longest_past_the_window() {
        assert_eq!(overrun_s(0, 3), 3.0 * AGGRESSOR_OVERRUN_S);
        assert_eq!(overrun_s(2, 3), AGGRESSOR_OVERRUN_S);
        assert_eq!(overrun_s(0, 1), AGGRESSOR_OVERRUN_S);
    }

    /// The isolation scenario of `text` on a 2-CPU host of `layout`.
    fn scenario(text: &str, layout: Layout) -> IsolationDef {
        let host = HostFacts {
            layout,
            online_cpus: "0-1".parse().unwrap(),
            block_devices: Vec::new(),
            missing_knobs: Vec::new(),
        };
        let s = suite::parse_text(text, "t.toml", &host).unwrap_or_else(|e| panic!("{e}"));
        match s.scenarios.into_iter().next().unwrap().kind {
            Kind::Isolation(iso) => *iso,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn expected_shares_follow_the_weights_as_written_on_each_layout() {
        let text = r#"[[scenario]]
name = "s"
kind = "isolation"
[scenario.victim]
workload = "cpu-units"
cpus = 0.2
[[scenario.aggressor]]
name = "a"
workload = "cpu-hog"
group = "kube"
[[scenario.aggressor]]
name = "b"
workload = "cpu-hog"
group = "system"
[[scenario.group]]
name = "kube"
limits.cgroup = { "cpu.weight" = 313, "cpuset.cpus" = "1" }
[[scenario.group]]
name = "system"
limits.cgroup = { "cpu.weight" = 100, "cpuset.cpus" = "1" }
"#;
        let share = |layout, name: &str| {
            let e = expected_shares(&scenario(text, layout), 2, layout);
            let all = e.groups.iter().chain(&e.sandboxes);
            let found = all.clone().find(|(n, _)| n == name);
            found.and_then(|(_, x)| x.cpus()).unwrap()
        };
        // v2: 313 against 100; v1: the shares they become, 4276 against 1024.
        assert!((share(Layout::V2, "kube") - 313.0 / 413.0).abs() < 1e-9);
        assert!((share(Layout::V1, "kube") - 4276.0 / 5300.0).abs() < 1e-9);
        assert!((share(Layout::V2, "a") - share(Layout::V2, "kube")).abs() < 1e-12);
        // The victim, unpinned, takes its 0.2 CPU on the other CPU.
        assert!((share(Layout::Hybrid, "victim") - 0.2).abs() < 1e-9);
    }

    #[test]
    fn an_idle_group_weighs_as_the_kernels_idle_priority() {
        let text = r#"[[scenario]]
name = "s"
kind = "isolation"
[scenario.victim]
workload = "cpu-units"
cpus = 0.1
[[scenario.aggressor]]
name = "busy"
workload = "cpu-hog"
args = ["--threads", "1"]
group = "batch"
[[scenario.aggressor]]
name = "idle"
workload = "cpu-hog"
args = ["--threads", "1"]
group = "background"
[[scenario.group]]
name = "batch"
limits.cgroup = { "cpuset.cpus" = "1" }
[[scenario.group]]
name = "background"
limits.cgroup = { "cpu.idle" = 1, "cpuset.cpus" = "1" }
"#;
        let e = expected_shares(&scenario(text, Layout::V2), 2, Layout::V2);
        let idle = e.sandbox("idle").and_then(Expected::cpus).unwrap();
        assert!((idle - 3.0 / 1027.0).abs() < 1e-9, "{idle}");
    }
}

//! Scenario `startup-latency`: how long a sandbox takes to start and to be torn
//! down, phase by phase, against plain fork+exec and posix_spawn of the same
//! probe measured in the same run (DESIGN §2 "Startup latency"), and how many
//! sandboxes per second can churn, one after another and one starter per CPU.
//!
//! Every round runs each variant `samples` times after a few unrecorded
//! starts, variants in a fresh random order, and the variants with a new
//! network namespace in a block of their own after the others: netns teardown
//! is asynchronous and slows whatever starts next (FIELD-NOTES, case C07).
//! Per-round p50/p99 give the metrics' CIs over rounds (DESIGN §3); all rounds
//! merged give the distributions per variant and phase.

use super::{Progress, RunContext, Timing};
use crate::interrupt;
use crate::sandbox::NamespaceSet;
use crate::startup::launch::{self, Probe, Stamps};
use crate::startup::runtime::{self, Runtimes};
use crate::startup::variant::{self, Method, Variant};
use crate::startup::{churn, tail};
use hdrhistogram::Histogram;
use isobench_reports::schema::{
    Churn, Metric, Percentiles, Phase, RuntimeInfo, ScenarioResult, ScenarioStatus, StartupDetail,
    StartupVariant,
};
use isobench_workloads::report::new_histogram;
use rand::SeedableRng;
use rand::seq::SliceRandom;
use serde::Serialize;
use std::collections::BTreeMap;

/// The scenario's name in suites, results and on the command line.
pub const NAME: &str = "startup-latency";

/// How `cgroup.procs` attach is described in the results.
const ATTACH: &str = "cgroup.procs: the child, cloned like posix_spawn (CLONE_VM | CLONE_VFORK), writes \
     itself in before it execs; with a user namespace the parent writes it while the child waits; \
     sandbox_all_clone3: clone3 CLONE_INTO_CGROUP (cgroup v2 only), no write at all";

/// +net p99 above this many times the p99 without net flags "netns serialization" (C07).
const NET_P99_FLAG_RATIO: f64 = 10.0;
/// The headline sandbox's tail is flagged as the kernel's attach cost when
/// attach adds at least this share of the tail's excess over the median start.
const ATTACH_TAIL_FLAG_SHARE: f64 = 0.5;
/// Parallel churn below this many times the sequential one "does not scale" (C07).
const SCALING_FLAG_RATIO: f64 = 1.3;

/// The scenario's parameters, recorded in the results as its spec.
#[derive(Debug, Clone, Serialize)]
pub struct StartupSpec {
    /// Rounds (durations do not apply).
    pub rounds: usize,
    /// Recorded starts per variant per round.
    pub samples: usize,
    /// Unrecorded starts per variant per round before the recorded ones.
    pub warmup_samples: usize,
    /// Seconds of each churn measurement.
    pub churn_s: f64,
    /// Namespaces of the headline sandbox (`sandbox_all`; with net, `sandbox_all_net`).
    pub namespaces: NamespaceSet,
}

impl StartupSpec {
    /// The spec with the rounds of `timing` and, where not given, 50 samples per
    /// variant per round, 1 s churns and the default headline namespaces.
    pub fn new(
        timing: Timing,
        samples: Option<usize>,
        churn_s: Option<f64>,
        namespaces: Option<NamespaceSet>,
    ) -> StartupSpec {
        StartupSpec {
            rounds: timing.rounds,
            samples: samples.unwrap_or(50),
            warmup_samples: 5,
            churn_s: churn_s.unwrap_or(1.0),
            namespaces: namespaces.unwrap_or(variant::HEADLINE),
        }
    }
}

/// Merged distributions of one variant, ns.
struct Merged {
    start: Histogram<u64>,
    teardown: Histogram<u64>,
    exit: Histogram<u64>,
    phases: BTreeMap<&'static str, Histogram<u64>>,
    /// Every recorded start, for the tail's attribution to phases.
    starts: Vec<Stamps>,
    unavailable: Option<String>,
    per_round_p50: Vec<Option<f64>>,
    per_round_p99: Vec<Option<f64>>,
    per_round_teardown_p99: Vec<Option<f64>>,
    per_round_exit_p50: Vec<Option<f64>>,
    per_round_exit_p99: Vec<Option<f64>>,
}

impl Merged {
    fn new() -> Merged {
        Merged {
            start: new_histogram(),
            teardown: new_histogram(),
            exit: new_histogram(),
            phases: BTreeMap::new(),
            starts: Vec::new(),
            unavailable: None,
            per_round_p50: Vec::new(),
            per_round_p99: Vec::new(),
            per_round_teardown_p99: Vec::new(),
            per_round_exit_p50: Vec::new(),
            per_round_exit_p99: Vec::new(),
        }
    }
}

fn record(h: &mut Histogram<u64>, us: f64) {
    h.saturating_record((us * 1000.0).round().max(1.0) as u64);
}

fn percentiles(h: &Histogram<u64>) -> Option<Percentiles> {
    let us = |q: f64| h.value_at_quantile(q) as f64 / 1000.0;
    (!h.is_empty()).then(|| Percentiles {
        count: h.len(),
        p50_us: us(0.5),
        p90_us: us(0.9),
        p99_us: us(0.99),
        p999_us: us(0.999),
        max_us: h.max() as f64 / 1000.0,
    })
}

/// Runs the scenario: rounds of every variant, then churn.
pub fn run(
    spec: &StartupSpec,
    ctx: &RunContext<'_>,
    progress: &mut dyn Progress,
) -> ScenarioResult {
    let mut result = ScenarioResult::started(
        NAME,
        "How long a sandbox takes to start and stop, phase by phase, against fork+exec and posix_spawn",
        serde_json::json!({ "scenario": spec, "variants": variants(spec) }),
    );
    let mut probe = match Probe::embedded(false) {
        Ok(p) => p,
        Err(e) => {
            result.status = ScenarioStatus::Failed(format!("{e:#}"));
            return result;
        }
    };
    // The runtimes people use, timed beside the sandbox (issue 16 part 4).
    let path = std::env::var_os("PATH").unwrap_or_default();
    let (mut runtimes, runtime_info) =
        match Runtimes::prepare(&ctx.work_dir, ctx.arena, spec.namespaces, false, &path) {
            Ok(r) => {
                let info = r.info().to_vec();
                (Some(r), info)
            }
            Err(e) => (None, runtime_failed(&format!("{e:#}"))),
        };
    let mut merged: Vec<(Variant, Merged)> = variants(spec)
        .into_iter()
        .map(|v| (v, Merged::new()))
        .collect();
    for (v, m) in &mut merged {
        if let Method::Runtime { runtime } = v.method {
            m.unavailable = match &runtimes {
                Some(r) => r.unavailable(runtime),
                None => Some("the runtimes could not be prepared".into()),
            };
        }
    }
    let mut disordered = 0usize;
    let mut rng = rand::rngs::SmallRng::seed_from_u64(u64::from(std::process::id()));
    let mut serial = 0usize;
    for round in 0..spec.rounds {
        let (mut plain, mut net): (Vec<usize>, Vec<usize>) =
            (0..merged.len()).partition(|&i| !merged[i].0.has_net());
        plain.shuffle(&mut rng);
        net.shuffle(&mut rng);
        for i in plain.into_iter().chain(net) {
            if interrupt::requested() {
                result.status = ScenarioStatus::Interrupted(format!("round {round}"));
                break;
            }
            let (v, m) = &mut merged[i];
            let mut round_start = new_histogram();
            let mut round_teardown = new_histogram();
            let mut round_exit = new_histogram();
            if m.unavailable.is_none() {
                for k in 0..spec.warmup_samples + spec.samples {
                    serial += 1;
                    let name = format!("s{serial}-{}", v.name);
                    let started = match (v.method, runtimes.as_mut()) {
                        (Method::Runtime { runtime }, Some(r)) => r.start(runtime),
                        (method, _) => launch::start(&mut probe, method, Some(ctx.arena), &name),
                    };
                    match started {
                        Ok(started) if k >= spec.warmup_samples => {
                            let s = started.stamps;
                            disordered += usize::from(!s.ordered());
                            add(
                                m,
                                [&mut round_start, &mut round_teardown, &mut round_exit],
                                &s,
                            );
                        }
                        Ok(_) => {}
                        Err(e) => {
                            m.unavailable = Some(format!("{e:#}"));
                            break;
                        }
                    }
                }
            }
            let q = |h: &Histogram<u64>, q: f64| {
                (!h.is_empty()).then(|| h.value_at_quantile(q) as f64 / 1000.0)
            };
            m.per_round_p50.push(q(&round_start, 0.5));
            m.per_round_p99.push(q(&round_start, 0.99));
            m.per_round_teardown_p99.push(q(&round_teardown, 0.99));
            m.per_round_exit_p50.push(q(&round_exit, 0.5));
            m.per_round_exit_p99.push(q(&round_exit, 0.99));
        }
        if result.status != ScenarioStatus::Complete {
            break;
        }
        progress.step_done(NAME, &format!("round {}", round + 1));
        derive(&mut result, &merged, &[], &runtime_info, disordered);
        progress.round_done(&result);
    }
    let churn = if result.status == ScenarioStatus::Complete {
        churns(spec, ctx)
    } else {
        Vec::new()
    };
    if interrupt::requested() && result.status == ScenarioStatus::Complete {
        result.status = ScenarioStatus::Interrupted("during churn".into());
    }
    progress.step_done(NAME, "churn");
    drop(runtimes);
    derive(&mut result, &merged, &churn, &runtime_info, disordered);
    result
}

/// Every variant of the scenario: isobench's own, then one per external runtime.
fn variants(spec: &StartupSpec) -> Vec<Variant> {
    let mut all = variant::all(spec.namespaces);
    all.extend(runtime::variants());
    all
}

/// Every runtime unavailable for `why` (their rootfs could not be written).
fn runtime_failed(why: &str) -> Vec<RuntimeInfo> {
    runtime::Runtime::ALL
        .iter()
        .map(|r| RuntimeInfo {
            name: r.name().into(),
            program: None,
            version: None,
            namespaces: Vec::new(),
            cgroup: String::new(),
            how: String::new(),
            unavailable: Some(why.to_string()),
        })
        .collect()
}

/// Records one start into the merged histograms and this round's `[start, teardown, exit]`.
fn add(m: &mut Merged, round: [&mut Histogram<u64>; 3], s: &Stamps) {
    let [round_start, round_teardown, round_exit] = round;
    record(&mut m.start, s.start_us());
    record(round_start, s.start_us());
    record(&mut m.teardown, s.teardown_us());
    record(round_teardown, s.teardown_us());
    record(&mut m.exit, s.exit_us());
    record(round_exit, s.exit_us());
    for (name, us) in s.phases() {
        record(m.phases.entry(name).or_insert_with(new_histogram), us);
    }
    m.starts.push(*s);
}

/// Churn of the headline sandbox with and without net, sequential and one starter per CPU.
fn churns(spec: &StartupSpec, ctx: &RunContext<'_>) -> Vec<Churn> {
    let parallel = ctx.cpus_allowed.max(1);
    let mut out = Vec::new();
    for v in variant::all(spec.namespaces)
        .into_iter()
        .filter(|v| v.name == variant::SANDBOX || v.name == variant::SANDBOX_NET)
    {
        out.push(churn::churn(v, 1, spec.churn_s, ctx.arena));
        out.push(churn::churn(v, parallel, spec.churn_s, ctx.arena));
    }
    out
}

/// A metric with one value per round.
fn metric(name: &str, unit: &str, per_round: Vec<Option<f64>>, reason: &str) -> Metric {
    super::metrics::metric(name, None, unit, per_round, reason)
}

/// Recomputes metrics, detail and flags from what was measured.
fn derive(
    result: &mut ScenarioResult,
    merged: &[(Variant, Merged)],
    churn: &[Churn],
    runtimes: &[RuntimeInfo],
    disordered: usize,
) {
    let find = |name: &str| merged.iter().find(|(v, _)| v.name == name).map(|(_, m)| m);
    let reason = |m: Option<&Merged>| {
        m.and_then(|m| m.unavailable.clone())
            .unwrap_or_else(|| "no round measured it".into())
    };
    let mut metrics = Vec::new();
    let is_runtime = |v: &Variant| matches!(v.method, Method::Runtime { .. });
    for (v, m) in merged.iter().filter(|(v, _)| !is_runtime(v)) {
        metrics.extend(variant_metrics(v, m, &reason(Some(m)), false));
    }
    let (sandbox, net, fork) = (
        find(variant::SANDBOX),
        find(variant::SANDBOX_NET),
        find(variant::FORK_EXEC),
    );
    let rounds_of = |m: Option<&Merged>, pick: fn(&Merged) -> &Vec<Option<f64>>| {
        m.map(pick).cloned().unwrap_or_default()
    };
    metrics.push(metric(
        "startup.sandbox_p50_us",
        "us",
        rounds_of(sandbox, |m| &m.per_round_p50),
        &reason(sandbox),
    ));
    metrics.push(metric(
        "startup.sandbox_p99_us",
        "us",
        rounds_of(sandbox, |m| &m.per_round_p99),
        &reason(sandbox),
    ));
    metrics.push(metric(
        "startup.sandbox_net_p99_us",
        "us",
        rounds_of(net, |m| &m.per_round_p99),
        &reason(net),
    ));
    metrics.push(metric(
        "startup.baseline_p50_us",
        "us",
        rounds_of(fork, |m| &m.per_round_p50),
        &reason(fork),
    ));
    let ratio_to = |base: Option<&Merged>| -> Vec<Option<f64>> {
        rounds_of(sandbox, |m| &m.per_round_p50)
            .iter()
            .zip(rounds_of(base, |m| &m.per_round_p50))
            .map(|(s, b)| Some(s.as_ref()? / b.filter(|&b| b > 0.0)?))
            .collect()
    };
    metrics.push(metric(
        "startup.overhead_ratio_p50",
        "ratio",
        ratio_to(fork),
        "the sandbox or fork+exec could not be measured",
    ));
    metrics.push(metric(
        "startup.spawn_ratio_p50",
        "ratio",
        ratio_to(find(variant::POSIX_SPAWN)),
        "the sandbox or posix_spawn could not be measured",
    ));
    metrics.push(metric(
        "startup.teardown_p99_us",
        "us",
        rounds_of(sandbox, |m| &m.per_round_teardown_p99),
        &reason(sandbox),
    ));
    let churn_of = |variant: &str, parallel: bool| {
        churn
            .iter()
            .find(|c| c.variant == variant && (c.starters > 1) == parallel)
    };
    for (name, variant, parallel) in [
        ("startup.churn_per_s", variant::SANDBOX, false),
        ("startup.churn_parallel_per_s", variant::SANDBOX, true),
        ("startup.churn_net_per_s", variant::SANDBOX_NET, false),
        (
            "startup.churn_net_parallel_per_s",
            variant::SANDBOX_NET,
            true,
        ),
    ] {
        let c = churn_of(variant, parallel);
        metrics.push(metric(
            name,
            "per s",
            vec![c.and_then(|c| c.per_s)],
            c.and_then(|c| c.unavailable.as_deref())
                .unwrap_or("churn not measured yet"),
        ));
    }
    // After the figures above (summaries show the first rows): the headline
    // sandbox to its exit, then each runtime beside it, as hyperfine would put
    // it (isobench's sandbox ÷ the runtime: below 1 isobench is faster).
    if let Some((v, m)) = merged.iter().find(|(v, _)| v.name == variant::SANDBOX) {
        metrics.extend(
            variant_metrics(v, m, &reason(Some(m)), true)
                .into_iter()
                .skip(2),
        );
    }
    for (v, m) in merged.iter().filter(|(v, _)| is_runtime(v)) {
        metrics.extend(variant_metrics(v, m, &reason(Some(m)), true));
        let why = format!(
            "{} or {} could not be measured: {}",
            variant::SANDBOX,
            v.name,
            reason(sandbox.filter(|s| s.unavailable.is_some()).or(Some(m)))
        );
        for (suffix, pick) in [
            (
                "sandbox_ratio_p50",
                (|m| &m.per_round_p50) as fn(&Merged) -> &Vec<Option<f64>>,
            ),
            ("sandbox_ratio_exit_p50", |m| &m.per_round_exit_p50),
        ] {
            metrics.push(metric(
                &format!("startup.{}.{suffix}", v.name),
                "ratio",
                per_round_ratio(&rounds_of(sandbox, pick), pick(m)),
                &why,
            ));
        }
    }
    result.metrics = metrics;
    let detail = StartupDetail {
        attach: ATTACH.into(),
        variants: merged
            .iter()
            .map(|(v, m)| {
                let phases = launch::PHASES.iter().filter_map(|name| {
                    Some(Phase {
                        name: (*name).into(),
                        latency: percentiles(m.phases.get(name)?)?,
                    })
                });
                StartupVariant {
                    name: v.name.into(),
                    method: serde_json::to_value(v.method).unwrap_or_default(),
                    start: percentiles(&m.start),
                    teardown: percentiles(&m.teardown),
                    exit: percentiles(&m.exit),
                    phases: phases.collect(),
                    tail: tail::attribute(&m.starts),
                    unavailable: m.unavailable.clone(),
                }
            })
            .collect(),
        churn: churn.to_vec(),
        flags: flags(merged, churn),
        runtimes: runtimes.to_vec(),
    };
    result.warnings = detail.flags.clone();
    if disordered > 0 {
        result.warnings.push(format!(
            "{disordered} starts had stamps out of order (request ≤ clone ≤ attach ≤ exec ≤ first instruction): \
             the clock or the probe misbehaved; their figures are suspect"
        ));
    }
    result.startup = Some(detail);
}

/// `startup.<variant>.p50_us` and `.p99_us` (request → first instruction), and
/// with `exit` also `.exit_p50_us` and `.exit_p99_us` (request → exit), per round.
fn variant_metrics(v: &Variant, m: &Merged, why: &str, exit: bool) -> Vec<Metric> {
    let mut rows = vec![("p50_us", &m.per_round_p50), ("p99_us", &m.per_round_p99)];
    if exit {
        rows.push(("exit_p50_us", &m.per_round_exit_p50));
        rows.push(("exit_p99_us", &m.per_round_exit_p99));
    }
    rows.into_iter()
        .map(|(suffix, per_round)| {
            metric(
                &format!("startup.{}.{suffix}", v.name),
                "us",
                per_round.clone(),
                why,
            )
        })
        .collect()
}

/// `num / den` round by round; `None` where either side is missing or `den` is not positive.
fn per_round_ratio(num: &[Option<f64>], den: &[Option<f64>]) -> Vec<Option<f64>> {
    num.iter()
        .zip(den)
        .map(|(n, d)| Some(n.as_ref()? / d.filter(|&d| d > 0.0)?))
        .collect()
}

/// Case C07: "netns serialization" when +net p99 is over 10× the p99 without
/// net, or when parallel starts with net do not scale.
fn flags(merged: &[(Variant, Merged)], churn: &[Churn]) -> Vec<String> {
    let p99 = |name: &str| {
        merged
            .iter()
            .find(|(v, _)| v.name == name)
            .and_then(|(_, m)| percentiles(&m.start))
            .map(|p| p.p99_us)
    };
    let mut out = Vec::new();
    if let (Some(net), Some(plain)) = (p99(variant::SANDBOX_NET), p99(variant::SANDBOX))
        && net > NET_P99_FLAG_RATIO * plain
    {
        out.push(format!(
            "netns serialization: p99 start with a new network namespace {net:.0} µs is {:.1}× the {plain:.0} µs \
             without (over {NET_P99_FLAG_RATIO}×); netns creation takes a global lock and teardown is asynchronous \
             (ioi/isolate #29): reuse pre-made network namespaces (setns) where sandboxes churn",
            net / plain
        ));
    }
    if let Some(t) = merged
        .iter()
        .find(|(v, _)| v.name == variant::SANDBOX)
        .and_then(|(_, m)| tail::attribute(&m.starts))
        && let Some(attach) = t.phases.iter().find(|p| p.name == "attach")
        && t.owner == "attach"
        && attach.excess_us >= ATTACH_TAIL_FLAG_SHARE * (t.mean_us - t.p50_us)
    {
        out.push(format!(
            "attach owns the start tail: the slowest {} starts spent {:.0} µs writing cgroup.procs against \
             {:.0} µs at the median. A migration takes cgroup_threadgroup_rwsem for writing, whose percpu \
             rcu_sync waits for an RCU grace period when no writer came within the last one \
             (kernel/cgroup/cgroup.c, kernel/rcu/sync.c): the kernel's cost, not isobench's. Where it \
             matters, start sandboxes straight into their cgroup with clone3 CLONE_INTO_CGROUP (cgroup v2, \
             variant {}) or mount cgroup2 with favordynmods (Linux 6.0, cgroup-v2.rst)",
            t.starts,
            attach.tail_mean_us,
            attach.p50_us,
            variant::SANDBOX_CLONE3
        ));
    }
    let per_s = |parallel: bool| {
        churn
            .iter()
            .find(|c| c.variant == variant::SANDBOX_NET && (c.starters > 1) == parallel)
            .and_then(|c| Some((c.per_s?, c.starters)))
    };
    if let (Some((seq, _)), Some((par, starters))) = (per_s(false), per_s(true))
        && par < SCALING_FLAG_RATIO * seq
    {
        out.push(format!(
            "netns serialization: {starters} starters churn {par:.0} sandboxes/s with net against {seq:.0}/s for \
             one (under {SCALING_FLAG_RATIO}×): starts with a new network namespace do not scale across CPUs"
        ));
    }
    out
}

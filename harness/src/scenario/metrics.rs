//! From raw rounds to the contract metrics (docs/results-schema.md): one value
//! per round, then the mean and its bootstrap CI over rounds.
//!
//! Victim experience (DESIGN §2): retained throughput `R = min(1, ops(c) / ops(solo))`
//! and latency impact `L_p = p(c) / p(solo) − 1`, each computed within a round so
//! that both sides share that round's noise.

use super::validity;
use crate::stats::bootstrap;
use hdrhistogram::Histogram;
use isobench_reports::schema::{
    Condition, ConditionRun, CpuAccount, HostCpuWindow, LatencyCdf, Metric, ScenarioResult,
    VictimRun,
};
use isobench_workloads::report::UnitsReport;

/// Share of periods throttled above which a sandbox under its quota is flagged (DESIGN §2).
const THROTTLED_FLAG_RATIO: f64 = 0.05;

/// Share of its units a solo victim may miss before the host is called too slow for its rate.
const MISSED_FLAG_SHARE: f64 = 0.001;

/// A unit is late when it ends more than this many unit lengths after its
/// intended start: it waited for the CPU for most of that time. The share of late
/// units is a proportion over thousands of units per round, so it stays stable
/// where a single percentile at the knee of the latency CDF jumps between rounds,
/// and it grows with the share of time the victim must compete for its CPU even
/// when the tail is capped by the scheduler's time slice.
pub const LATE_UNITS: u64 = 10;

/// Latency past which a unit of a victim without a calibrated unit length
/// (`wakeup-latency`, `tcp-echo`, `mem-units`) is late unless its suite says
/// otherwise (`late_us`): 1 ms, ns.
pub const LATE_DEFAULT_NS: u64 = 1_000_000;

/// Picks a latency percentile (µs) from the victim's figures.
type Pick = fn(&VictimRun) -> f64;

/// The victim latency percentiles reported (DESIGN §2), by the suffix of their metric names.
const LATENCIES: [(&str, Pick); 3] = [
    ("p50", |v| v.latency_p50_us),
    ("p99", |v| v.latency_p99_us),
    ("p999", |v| v.latency_p999_us),
];

/// One condition of one round: the raw values and the victim's full histogram (ns).
pub struct ConditionSample {
    /// What goes to the results as raw values.
    pub run: ConditionRun,
    /// The victim's latencies, ns, for the merged CDF.
    pub histogram: Histogram<u64>,
    /// Units due in the window that never started.
    pub missed: u64,
    /// The victim's slices beside its neighbours' phases, where it reported
    /// slices ([`crate::scenario::phases`]); `None` elsewhere.
    pub transient: Option<crate::measure::slices::Transient>,
}

/// The victim's figures from its report and histogram (ns → µs here).
///
/// `late_ns` is the latency past which a unit counts as late (see [`LATE_UNITS`]).
pub fn victim_run(report: &UnitsReport, h: &Histogram<u64>, late_ns: Option<u64>) -> VictimRun {
    let us = |q: f64| h.value_at_quantile(q) as f64 / 1000.0;
    VictimRun {
        late_share: late_ns.map(|late_ns| {
            if h.is_empty() {
                0.0
            } else {
                h.count_between(late_ns, h.max().max(late_ns)) as f64 / h.len() as f64
            }
        }),
        ops: report.ops,
        window_s: report.window_s,
        throughput_ops: report.ops as f64 / report.window_s,
        latency_p50_us: us(0.50),
        latency_p99_us: us(0.99),
        latency_p999_us: us(0.999),
        latency_max_us: h.max() as f64 / 1000.0,
    }
}

fn find(round: &[ConditionSample], c: Condition) -> Option<&ConditionSample> {
    round.iter().find(|s| s.run.condition == c)
}

/// Condition `c` of `round` when it is valid (docs/validity.md).
fn valid(round: &[ConditionSample], c: Condition) -> Option<&ConditionSample> {
    find(round, c).filter(|s| validity::valid(s))
}

/// Builds a metric from per-round values; `reason` explains a metric no round could measure.
pub fn metric(
    name: &str,
    condition: Option<Condition>,
    unit: &str,
    per_round: Vec<Option<f64>>,
    reason: &str,
) -> Metric {
    let values: Vec<f64> = per_round
        .iter()
        .flatten()
        .copied()
        .filter(|v| v.is_finite())
        .collect();
    let est = bootstrap::mean_ci(&values);
    let reason = if per_round.is_empty() {
        "no round completed"
    } else {
        reason
    };
    Metric {
        name: name.into(),
        condition,
        unit: unit.into(),
        value: est.map(|e| e.mean),
        lower: est.and_then(|e| e.lower),
        upper: est.and_then(|e| e.upper),
        per_round,
        reason: est.is_none().then(|| reason.to_string()),
    }
}

/// The value of `f` for condition `c` in every round: `None` where the round
/// lacks it or the condition is invalid (docs/validity.md), so that the mean and
/// its CI are over the valid rounds only.
pub fn per_round(
    rounds: &[Vec<ConditionSample>],
    c: Condition,
    f: &dyn Fn(&ConditionSample) -> Option<f64>,
) -> Vec<Option<f64>> {
    rounds.iter().map(|r| valid(r, c).and_then(f)).collect()
}

/// As [`per_round`], but invalid conditions included: for counts of events
/// that happened whether or not the condition measured the victim (OOM kills,
/// whose attribution says whether isolation was breached).
pub fn per_round_all(
    rounds: &[Vec<ConditionSample>],
    c: Condition,
    f: &dyn Fn(&ConditionSample) -> Option<f64>,
) -> Vec<Option<f64>> {
    rounds.iter().map(|r| find(r, c).and_then(f)).collect()
}

/// Recomputes a `cpu-share` result's metrics, merged latency CDFs and warnings from `rounds`.
pub fn derive(result: &mut ScenarioResult, rounds: &[Vec<ConditionSample>]) {
    derive_with(result, rounds, cpu_metrics(rounds));
}

/// Recomputes `result` from `rounds`: the scenario's own metrics `specific`,
/// then the victim's, the host's and the harness's, the merged latency CDFs and warnings.
pub fn derive_with(
    result: &mut ScenarioResult,
    rounds: &[Vec<ConditionSample>],
    specific: Vec<Metric>,
) {
    let mut m = specific;
    m.extend(super::pressure::metrics(rounds));
    m.extend(victim_metrics(rounds));
    m.extend(host_metrics(rounds));
    for metric in &mut m {
        if metric.value.is_none()
            && let Some(why) = metric
                .condition
                .and_then(|c| validity::invalid_throughout(rounds, c))
        {
            metric.reason = Some(why);
        }
    }
    result.metrics = m;
    result.latency_cdf = merged_cdfs(rounds);
    result.warnings = warnings(rounds);
}

/// Each aggressor's CPU share against its expected share and its throttling,
/// and the figures it reported (metrics named `<sandbox>.<figure>`, e.g.
/// `aggressor.cpu_share`); the victim's expected share; and each group's
/// share, expected share and throttling (`group.<name>.*`).
fn cpu_metrics(rounds: &[Vec<ConditionSample>]) -> Vec<Metric> {
    let mut names: Vec<&str> = Vec::new();
    for a in rounds.iter().flatten().flat_map(|s| &s.run.aggressors) {
        if !names.contains(&a.sandbox.as_str()) {
            names.push(&a.sandbox);
        }
    }
    let only_solo = rounds
        .iter()
        .flatten()
        .all(|s| s.run.condition == Condition::Solo);
    if names.is_empty() && only_solo {
        // No aggressor ran (only solo so far): its metrics are null with their reasons.
        // A scenario without a neighbour has none once isolated has run.
        names.push("aggressor");
    }
    let mut m: Vec<Metric> = names
        .iter()
        .flat_map(|n| aggressor_metrics(rounds, n))
        .collect();
    m.extend(expected_metrics(
        rounds,
        "victim",
        &|s| Some(s.run.victim_cpu.clone()),
        "no isolated condition ran",
    ));
    let mut groups: Vec<&str> = Vec::new();
    for g in rounds.iter().flatten().flat_map(|s| &s.run.groups) {
        if !groups.contains(&g.sandbox.as_str()) {
            groups.push(&g.sandbox);
        }
    }
    for g in groups {
        let pick = |s: &ConditionSample| s.run.groups.iter().find(|a| a.sandbox == g).cloned();
        let prefix = format!("{GROUP_PREFIX}{g}");
        for c in [Condition::Contended, Condition::Isolated] {
            m.push(metric(
                &format!("{prefix}.cpu_share"),
                Some(c),
                "CPUs",
                per_round(rounds, c, &|s| Some(pick(s)?.cpu_share)),
                "no round ran this condition",
            ));
        }
        m.extend(expected_metrics(
            rounds,
            &prefix,
            &pick,
            "no isolated condition ran",
        ));
        m.push(throttled_ratio(rounds, &prefix, &pick));
    }
    m
}

/// Prefix of the metrics of a group (`group.kubepods.cpu_share`), apart from
/// those of sandboxes.
pub const GROUP_PREFIX: &str = "group.";

/// `<prefix>.cpu_share_expected` and `<prefix>.cpu_share_error_pp` (isolated)
/// of the CPU account `pick` finds; a null expectation takes the reason the
/// rounds recorded, else `fallback`.
fn expected_metrics(
    rounds: &[Vec<ConditionSample>],
    prefix: &str,
    pick: &dyn Fn(&ConditionSample) -> Option<CpuAccount>,
    fallback: &str,
) -> Vec<Metric> {
    let iso = Condition::Isolated;
    let expected = |s: &ConditionSample| pick(s)?.cpu_share_expected;
    let reason = rounds
        .iter()
        .flatten()
        .filter(|s| s.run.condition == iso)
        .find_map(|s| pick(s)?.cpu_share_expected_reason)
        .unwrap_or_else(|| fallback.to_string());
    vec![
        metric(
            &format!("{prefix}.cpu_share_expected"),
            Some(iso),
            "CPUs",
            per_round(rounds, iso, &expected),
            &reason,
        ),
        metric(
            &format!("{prefix}.cpu_share_error_pp"),
            Some(iso),
            "pp",
            per_round(rounds, iso, &|s| {
                Some((pick(s)?.cpu_share - expected(s)?).abs() * 100.0)
            }),
            &reason,
        ),
    ]
}

/// `<prefix>.throttled_ratio` (isolated): Δnr_throttled / Δnr_periods of the
/// CPU account `pick` finds.
fn throttled_ratio(
    rounds: &[Vec<ConditionSample>],
    prefix: &str,
    pick: &dyn Fn(&ConditionSample) -> Option<CpuAccount>,
) -> Metric {
    let iso = Condition::Isolated;
    metric(
        &format!("{prefix}.throttled_ratio"),
        Some(iso),
        "share",
        per_round(rounds, iso, &|s| {
            let a = pick(s)?;
            let periods = a.nr_periods.filter(|&p| p > 0)?;
            Some(a.nr_throttled? as f64 / periods as f64)
        }),
        "cpu.stat reported no enforcement periods (no quota, or the cpu controller is not on)",
    )
}

/// The metrics of aggressor sandbox `name`.
fn aggressor_metrics(rounds: &[Vec<ConditionSample>], name: &str) -> Vec<Metric> {
    let per = |c, f: &dyn Fn(&ConditionSample) -> Option<f64>| per_round(rounds, c, f);
    let aggressor =
        |s: &ConditionSample| s.run.aggressors.iter().find(|a| a.sandbox == name).cloned();
    let neighbour =
        |s: &ConditionSample| s.run.neighbours.iter().find(|n| n.sandbox == name).cloned();
    let m_name = |suffix: &str| format!("{name}.{suffix}");
    let mut m = Vec::new();
    for c in [Condition::Contended, Condition::Isolated] {
        m.push(metric(
            &m_name("cpu_share"),
            Some(c),
            "CPUs",
            per(c, &|s| Some(aggressor(s)?.cpu_share)),
            "no aggressor ran",
        ));
    }
    let work = rounds.iter().flatten().find_map(|s| neighbour(s)?.work);
    if let Some(w) = work {
        for c in [Condition::Contended, Condition::Isolated] {
            m.push(metric(
                &m_name(&w.name),
                Some(c),
                &w.unit,
                per(c, &|s| Some(neighbour(s)?.work?.value)),
                "the aggressor printed no report (killed before its deadline)",
            ));
        }
    }
    if rounds.iter().flatten().any(|s| neighbour(s).is_some()) {
        for c in [Condition::Contended, Condition::Isolated] {
            m.push(metric(
                &m_name("memory_peak_bytes"),
                Some(c),
                "bytes",
                per(c, &|s| Some(neighbour(s)?.memory_peak_bytes? as f64)),
                "the kernel has no memory peak file (memory.peak needs Linux ≥ 5.19)",
            ));
        }
    }
    let iso = Condition::Isolated;
    let has_quota = rounds
        .iter()
        .flatten()
        .filter(|s| s.run.condition == iso)
        .any(|s| {
            aggressor(s)
                .and_then(|a| a.nr_periods)
                .is_some_and(|p| p > 0)
        });
    // Files written before expectations had reasons: the reason of that time.
    let fallback = if has_quota {
        "its CPU demand is not known ahead (only cpu-hog, cpu-bursts, cache-thrash and mem-bw have a fixed one), so no share is expected of its quota"
    } else {
        "the aggressor has no CPU quota"
    };
    m.extend(expected_metrics(rounds, name, &aggressor, fallback));
    m.push(throttled_ratio(rounds, name, &aggressor));
    m.push(metric(
        &m_name("burst_ratio"),
        Some(iso),
        "share",
        per(iso, &|s| {
            let a = aggressor(s)?;
            let periods = a.nr_periods.filter(|&p| p > 0)?;
            Some(a.nr_bursts? as f64 / periods as f64)
        }),
        "cpu.stat reported no enforcement periods (no quota), or no nr_bursts (Linux before 5.14)",
    ));
    m.extend(pids_metrics(rounds, name, &[Condition::Contended, iso]));
    m
}

/// The process counts of sandbox `name` in `conditions` (case C17): refused
/// forks and the peak; none where no round has a pids account for it.
fn pids_metrics(
    rounds: &[Vec<ConditionSample>],
    name: &str,
    conditions: &[Condition],
) -> Vec<Metric> {
    let pids = |s: &ConditionSample| s.run.pids.iter().find(|p| p.sandbox == name).cloned();
    if !rounds.iter().flatten().any(|s| pids(s).is_some()) {
        return Vec::new();
    }
    let mut m = Vec::new();
    for &c in conditions {
        m.push(metric(
            &format!("{name}.forks_refused"),
            Some(c),
            "count",
            per_round(rounds, c, &|s| Some(pids(s)?.forks_refused? as f64)),
            "pids.events could not be read (see pids[].unavailable in the rounds)",
        ));
        m.push(metric(
            &format!("{name}.pids_peak"),
            Some(c),
            "tasks",
            per_round(rounds, c, &|s| {
                let p = pids(s)?;
                Some(p.peak.or(p.sampled_peak)? as f64)
            }),
            "neither pids.peak nor pids.current could be read",
        ));
    }
    m
}

/// The victim's CPU share, throughput and latencies per condition, and its
/// retained throughput and latency impact against solo (DESIGN §2).
fn victim_metrics(rounds: &[Vec<ConditionSample>]) -> Vec<Metric> {
    let per = |c, f: &dyn Fn(&ConditionSample) -> Option<f64>| per_round(rounds, c, f);
    let relative = |c: Condition,
                    f: &dyn Fn(&ConditionSample, &ConditionSample) -> Option<f64>|
     -> Vec<Option<f64>> {
        rounds
            .iter()
            .map(|r| f(valid(r, c)?, valid(r, Condition::Solo)?))
            .collect()
    };
    let ran = ran(rounds);
    let mut m = pids_metrics(rounds, "victim", &ran);
    for &c in &ran {
        m.push(metric(
            "victim.cpu_share",
            Some(c),
            "CPUs",
            per(c, &|s| Some(s.run.victim_cpu.cpu_share)),
            "no round has a report from the victim (not run, or OOM-killed: see memory.victim_fate)",
        ));
        m.push(metric(
            "victim.throughput_ops",
            Some(c),
            "ops/s",
            per(c, &|s| Some(s.run.victim.as_ref()?.throughput_ops)),
            "no round has a report from the victim (not run, or OOM-killed: see memory.victim_fate)",
        ));
        m.push(metric(
            "victim.late_share",
            Some(c),
            "share",
            per(c, &|s| s.run.victim.as_ref()?.late_share),
            if rounds.iter().flatten().any(|s| s.run.victim.is_some()) {
                "this victim has no late threshold: give it `late_us` in the suite (µs past which a unit is late)"
            } else {
                "no round has a report from the victim (not run, or OOM-killed: see memory.victim_fate)"
            },
        ));
        for (p, pick) in LATENCIES {
            let name = format!("victim.latency_{p}_us");
            m.push(metric(
                &name,
                Some(c),
                "us",
                per(c, &|s| Some(pick(s.run.victim.as_ref()?))),
                "no round has a report from the victim (not run, or OOM-killed: see memory.victim_fate)",
            ));
        }
    }
    for c in [Condition::Contended, Condition::Isolated]
        .into_iter()
        .filter(|c| ran.contains(c))
    {
        let no_solo = "no solo run, or the victim completed no unit alone";
        m.push(metric(
            "victim.retained_throughput",
            Some(c),
            "share",
            relative(c, &|s, solo| {
                let (ops, solo_ops) = (s.run.victim.as_ref()?.ops, solo.run.victim.as_ref()?.ops);
                (solo_ops > 0).then(|| (ops as f64 / solo_ops as f64).min(1.0))
            }),
            no_solo,
        ));
        for (p, pick) in LATENCIES {
            let name = format!("victim.latency_impact_{p}");
            let impact = |s: &ConditionSample, solo: &ConditionSample| {
                let base = pick(solo.run.victim.as_ref()?);
                (base > 0.0).then(|| Some(pick(s.run.victim.as_ref()?) / base - 1.0))?
            };
            m.push(metric(
                &name,
                Some(c),
                "ratio",
                relative(c, &impact),
                no_solo,
            ));
        }
    }
    m
}

/// The conditions the scenario runs, as its rounds show them (a scenario
/// without a neighbour has no contended one); all of them before any round.
fn ran(rounds: &[Vec<ConditionSample>]) -> Vec<Condition> {
    let ran: Vec<Condition> = Condition::ALL
        .into_iter()
        .filter(|&c| rounds.iter().flatten().any(|s| s.run.condition == c))
        .collect();
    if ran.is_empty() {
        Condition::ALL.to_vec()
    } else {
        ran
    }
}

/// CPU taken by other work on the host, by interrupts and steal, and by the harness itself.
fn host_metrics(rounds: &[Vec<ConditionSample>]) -> Vec<Metric> {
    let mut m = Vec::new();
    let ran = ran(rounds);
    for &c in &ran {
        m.push(metric(
            "host.other_cpu_share",
            Some(c),
            "CPUs",
            per_round(rounds, c, &|s| s.run.host_other_cpu_share),
            "the CPU time of all tasks or of the arena could not be read (see host_cpu.unavailable in the rounds)",
        ));
    }
    for (name, pick) in [
        (
            "host.irq_cpu_share",
            (|h| h.irq_cpu_share) as fn(&HostCpuWindow) -> Option<f64>,
        ),
        ("host.steal_cpu_share", |h| h.steal_cpu_share),
    ] {
        for &c in &ran {
            m.push(metric(
                name,
                Some(c),
                "CPUs",
                per_round(rounds, c, &|s| s.run.host_cpu.as_ref().and_then(pick)),
                "/proc/stat could not be read",
            ));
        }
    }
    m.push(metric(
        "harness.cpu_share",
        None,
        "CPUs",
        rounds
            .iter()
            .map(|r| {
                Some(r.iter().map(|s| s.run.harness_cpu_share).sum::<f64>() / r.len().max(1) as f64)
            })
            .collect(),
        "no round completed",
    ));
    m
}

/// Quantiles at `1 − 10^(−k/10)`, k = 0..=40 (0 to 99.99 %), plus the maximum:
/// evenly spaced on the `1 / (1 − q)` axis of an HDR latency plot.
fn merged_cdfs(rounds: &[Vec<ConditionSample>]) -> Vec<LatencyCdf> {
    Condition::ALL
        .into_iter()
        .filter_map(|c| {
            let mut merged = isobench_workloads::report::new_histogram();
            for s in rounds
                .iter()
                .filter_map(|r| find(r, c))
                .filter(|s| validity::valid(s))
            {
                merged.add(&s.histogram).ok()?;
            }
            if merged.is_empty() {
                return None;
            }
            let mut points: Vec<(f64, f64)> = (0..=40)
                .map(|k| {
                    let q = 1.0 - 10f64.powf(-(k as f64) / 10.0);
                    (q, merged.value_at_quantile(q) as f64 / 1000.0)
                })
                .collect();
            points.push((1.0, merged.max() as f64 / 1000.0));
            Some(LatencyCdf {
                condition: c,
                points,
            })
        })
        .collect()
}

/// Warnings that say what was seen and what to do: one line per kind, naming
/// the rounds (0-based) and conditions where it was seen.
fn warnings(rounds: &[Vec<ConditionSample>]) -> Vec<String> {
    let (mut bursty, mut starved, mut busy, mut slow, mut died) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let mut refused = Vec::new();
    for (i, r) in rounds.iter().enumerate() {
        for s in r {
            let c = s.run.condition;
            for a in &s.run.aggressors {
                let (Some(expected), Some(periods), Some(throttled)) =
                    (a.cpu_share_expected, a.nr_periods, a.nr_throttled)
                else {
                    continue;
                };
                if a.cpu_share >= 0.9 * expected {
                    continue;
                }
                let ratio = throttled as f64 / periods.max(1) as f64;
                let seen = format!(
                    "round {i} {}: {:.2} of {:.2} CPUs, throttled in {:.0} % of periods",
                    a.sandbox,
                    a.cpu_share,
                    expected,
                    ratio * 100.0
                );
                if ratio > THROTTLED_FLAG_RATIO {
                    bursty.push(seen)
                } else {
                    starved.push(seen)
                }
            }
            for n in &s.run.neighbours {
                for f in &n.failures {
                    died.push(format!("round {i} {c} {}: {f}", n.sandbox));
                }
            }
            for p in s.run.pids.iter().filter(|p| p.sandbox == "victim") {
                for r in &p.refused_by {
                    refused.push(format!(
                        "round {i} {c}: forks refused ×{} (limit of {}: pids.max {})",
                        r.forks, r.cgroup, r.limit
                    ));
                }
            }
            if let Some(other) = s
                .run
                .host_other_cpu_share
                .filter(|&o| o > super::OTHER_LOAD_LIMIT_CPUS)
            {
                busy.push(format!(
                    "round {i} {c}: {} CPUs",
                    crate::disturbance::beyond(other, super::OTHER_LOAD_LIMIT_CPUS)
                ));
            }
            let ops = s.run.victim.as_ref().map_or(0, |v| v.ops);
            if c == Condition::Solo && s.missed as f64 > MISSED_FLAG_SHARE * ops as f64 {
                slow.push(format!(
                    "round {i}: {} of {} units",
                    s.missed,
                    s.missed + ops
                ));
            }
        }
    }
    let mut out: Vec<String> = validity::warning(rounds).into_iter().collect();
    let mut say = |seen: Vec<String>, what: &str| {
        if !seen.is_empty() {
            out.push(format!("{what} ({})", seen.join("; ")));
        }
    };
    say(
        bursty,
        "throttled while average usage is below quota: the aggressor was throttled in more than 5 % of periods while \
         using under 90 % of its quota (bursty threads exhaust per-period quota; see kubernetes #67577, kernel ≥ 5.4 \
         and cpu.max.burst)",
    );
    say(
        starved,
        "the aggressor got less than its expected share without being throttled: other work on the host took the \
         CPU, so its share says nothing about the limits; rerun on a quiet host",
    );
    say(
        busy,
        "other work on the host used more than 0.1 CPU during these conditions, so their figures are disturbed; stop \
         other load (builds, services, other benchmarks) or pin isobench to reserved CPUs, then rerun",
    );
    say(
        died,
        "an aggressor did not run to its end, so in those conditions the victim ran beside less than the scenario \
         meant (an exit status 137 or SIGKILL under a memory limit is usually an OOM kill: see dmesg; give it more \
         memory or a smaller size)",
    );
    say(
        refused,
        "the victim's forks were refused by a pids limit (EAGAIN): it could not start the processes or \
         threads it asked for; where the limit is a group's or the arena's that its neighbours share, they \
         used it up: give the victim a pids.max of its own inside that group, or raise the group's",
    );
    say(
        slow,
        "the victim missed units even alone: this host cannot sustain its rate, so throughput ratios understate \
         interference; close other load, or lower the victim's demand (its CPU, or its working set against the \
         memory it has)",
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use isobench_reports::schema::{CpuAccount, ScenarioStatus};

    fn account(share: f64, expected: Option<f64>, periods: u64, throttled: u64) -> CpuAccount {
        CpuAccount {
            sandbox: "aggressor".into(),
            cpu_share: share,
            cpu_share_expected: expected,
            cpu_share_expected_reason: None,
            nr_periods: Some(periods),
            nr_throttled: Some(throttled),
            throttled_us: Some(0),
            nr_bursts: None,
            burst_us: None,
        }
    }

    fn sample(
        c: Condition,
        ops: u64,
        latency_us: u64,
        aggressor: Option<CpuAccount>,
    ) -> ConditionSample {
        let mut h = isobench_workloads::report::new_histogram();
        h.record_n(latency_us * 1000, 100).unwrap();
        let report = UnitsReport {
            ops,
            missed: 0,
            window_s: 2.0,
            rate: 5000.0,
            latency_ns: vec![],
            failure: None,
            slices: None,
        };
        ConditionSample {
            run: ConditionRun {
                condition: c,
                victim: Some(victim_run(&report, &h, Some(1_000_000))),
                aggressors: aggressor.into_iter().collect(),
                groups: Vec::new(),
                victim_cpu: account(0.5, None, 0, 0),
                harness_cpu_share: 0.001,
                host_other_cpu_share: Some(0.01),
                host_cpu: None,
                invalid: None,
                memory: None,
                neighbours: Vec::new(),
                pids: Vec::new(),
                cpu_pressure: Vec::new(),
            },
            histogram: h,
            missed: 0,
            transient: None,
        }
    }

    fn empty() -> ScenarioResult {
        ScenarioResult {
            name: "cpu-share".into(),
            description: String::new(),
            spec: serde_json::Value::Null,
            status: ScenarioStatus::Complete,
            rounds: vec![],
            latency_cdf: vec![],
            slice_timelines: vec![],
            metrics: vec![],
            warnings: vec![],
            checks: vec![],
            cpu_view: None,
            startup: None,
            verdict: None,
        }
    }

    fn round(iso_share: f64) -> Vec<ConditionSample> {
        vec![
            sample(Condition::Solo, 10_000, 120, None),
            sample(
                Condition::Contended,
                6_000,
                600,
                Some(account(1.6, None, 0, 0)),
            ),
            sample(
                Condition::Isolated,
                9_900,
                126,
                Some(account(iso_share, Some(0.5), 20, 20)),
            ),
        ]
    }

    fn value(r: &ScenarioResult, name: &str, c: Option<Condition>) -> Option<f64> {
        r.metrics
            .iter()
            .find(|m| m.name == name && m.condition == c)
            .unwrap()
            .value
    }

    #[test]
    fn c17_refused_forks_become_metrics_and_a_victims_a_warning_naming_the_limit() {
        use isobench_reports::schema::{PidsAccount, PidsRefusal};
        let pids = |sandbox: &str, refused: u64| PidsAccount {
            sandbox: sandbox.into(),
            sampled_peak: Some(16),
            peak: None,
            forks_refused: Some(refused),
            refused_by: (refused > 0)
                .then(|| PidsRefusal {
                    forks: refused,
                    cgroup: "/isobench-1/pod".into(),
                    limit: 16,
                    how: "inferred".into(),
                })
                .into_iter()
                .collect(),
            levels: Vec::new(),
            unavailable: Vec::new(),
        };
        let mut rounds = vec![round(0.5)];
        rounds[0][2].run.pids = vec![pids("victim", 3), pids("aggressor", 25)];
        let mut r = empty();
        derive(&mut r, &rounds);
        let iso = Some(Condition::Isolated);
        assert_eq!(value(&r, "victim.forks_refused", iso), Some(3.0));
        assert_eq!(value(&r, "aggressor.forks_refused", iso), Some(25.0));
        assert_eq!(value(&r, "aggressor.pids_peak", iso), Some(16.0));
        let m = r
            .metrics
            .iter()
            .find(|m| m.name == "victim.forks_refused" && m.condition == Some(Condition::Solo))
            .unwrap();
        assert!(m.value.is_none() && m.reason.is_some(), "{m:?}");
        assert!(
            r.warnings.iter().any(|w| w.contains(
                "round 0 isolated: forks refused ×3 (limit of /isobench-1/pod: pids.max 16)"
            )),
            "{:?}",
            r.warnings
        );
    }

    #[test]
    fn burst_ratio_is_bursting_periods_over_periods() {
        let mut rounds = vec![round(0.5)];
        rounds[0][2].run.aggressors[0].nr_bursts = Some(5);
        let mut r = empty();
        derive(&mut r, &rounds);
        assert_eq!(
            value(&r, "aggressor.burst_ratio", Some(Condition::Isolated)),
            Some(0.25)
        );
    }

    #[test]
    fn victim_experience_is_relative_to_solo_within_each_round() {
        let mut r = empty();
        derive(&mut r, &[round(0.5), round(0.5)]);
        let retained = value(&r, "victim.retained_throughput", Some(Condition::Isolated)).unwrap();
        assert!((retained - 0.99).abs() < 1e-9, "{retained}");
        let retained_c =
            value(&r, "victim.retained_throughput", Some(Condition::Contended)).unwrap();
        assert!((retained_c - 0.6).abs() < 1e-9);
        let impact = value(&r, "victim.latency_impact_p99", Some(Condition::Contended)).unwrap();
        assert!(
            (impact - 4.0).abs() < 0.01,
            "600 µs vs 120 µs is +400 %: {impact}"
        );
    }

    #[test]
    fn share_error_is_in_percentage_points_of_one_cpu() {
        let mut r = empty();
        derive(&mut r, &[round(0.503), round(0.497)]);
        let err = value(
            &r,
            "aggressor.cpu_share_error_pp",
            Some(Condition::Isolated),
        )
        .unwrap();
        assert!((err - 0.3).abs() < 1e-9, "{err}");
        assert_eq!(
            value(&r, "aggressor.throttled_ratio", Some(Condition::Isolated)),
            Some(1.0)
        );
    }

    #[test]
    fn unmeasurable_metric_is_null_with_a_reason_never_zero() {
        let mut r = empty();
        derive(&mut r, &[round(0.5)]);
        let m = r
            .metrics
            .iter()
            .find(|m| m.name == "aggressor.throttled_ratio")
            .unwrap();
        assert!(m.value.is_some());
        let mut r2 = empty();
        let mut only_solo = round(0.5);
        only_solo.retain(|s| s.run.condition == Condition::Solo);
        derive(&mut r2, &[only_solo]);
        let m = r2
            .metrics
            .iter()
            .find(|m| m.name == "aggressor.cpu_share_expected")
            .unwrap();
        assert_eq!(m.value, None);
        assert!(m.reason.as_deref().unwrap().contains("no CPU quota"));
    }

    #[test]
    fn c01_throttled_below_quota_is_flagged() {
        let mut r = empty();
        let mut rd = round(0.5);
        rd[2].run.aggressors[0] = account(0.16, Some(0.2), 300, 60);
        derive(&mut r, &[rd]);
        assert!(
            r.warnings
                .iter()
                .any(|w| w.starts_with("throttled while average usage is below quota")),
            "{:?}",
            r.warnings
        );
        let mut fine = empty();
        derive(&mut fine, &[round(0.5)]);
        assert!(fine.warnings.is_empty(), "{:?}", fine.warnings);
    }

    #[test]
    fn late_share_counts_units_past_the_threshold() {
        let mut h = isobench_workloads::report::new_histogram();
        h.record_n(120_000, 90).unwrap();
        h.record_n(2_500_000, 10).unwrap();
        let report = UnitsReport {
            ops: 100,
            missed: 0,
            window_s: 1.0,
            rate: 100.0,
            latency_ns: vec![],
            failure: None,
            slices: None,
        };
        assert!(
            (victim_run(&report, &h, Some(1_000_000)).late_share.unwrap() - 0.10).abs() < 1e-12
        );
        assert_eq!(
            victim_run(&report, &h, Some(3_000_000)).late_share,
            Some(0.0)
        );
    }

    #[test]
    fn an_invalid_condition_is_left_out_of_the_metrics_and_named_in_a_warning() {
        let mut r = empty();
        let mut gone = round(0.5);
        // Round 1: the isolated aggressor died early, so the victim kept "everything".
        gone[2].run.victim = Some(victim_run(
            &UnitsReport {
                ops: 10_000,
                missed: 0,
                window_s: 2.0,
                rate: 5000.0,
                latency_ns: vec![],
                failure: None,
                slices: None,
            },
            &gone[0].histogram,
            Some(1_000_000),
        ));
        gone[2].histogram = gone[0].histogram.clone();
        gone[2].run.invalid = Some(
            "an aggressor ended before the window's end (aggressor process 0: killed by SIGKILL)"
                .into(),
        );
        let rounds = [round(0.5), gone, round(0.5)];
        derive(&mut r, &rounds);
        let m = |name: &str| {
            r.metrics
                .iter()
                .find(|m| m.name == name && m.condition == Some(Condition::Isolated))
                .unwrap()
                .clone()
        };
        let retained = m("victim.retained_throughput");
        assert_eq!(retained.per_round[1], None, "{retained:?}");
        assert!(
            (retained.value.unwrap() - 0.99).abs() < 1e-9,
            "mean of the valid rounds only: {retained:?}"
        );
        assert_eq!(m("aggressor.cpu_share").per_round[1], None);
        assert_eq!(
            m("victim.latency_p99_us")
                .per_round
                .iter()
                .flatten()
                .count(),
            2
        );
        // The raw values stay; only the derived figures leave it out.
        assert_eq!(rounds[1][2].run.victim.as_ref().unwrap().ops, 10_000);
        let iso_cdf = r
            .latency_cdf
            .iter()
            .find(|c| c.condition == Condition::Isolated)
            .unwrap();
        assert!(
            (iso_cdf.points[0].1 - 126.0).abs() < 1.0,
            "the invalid 120 µs round is not merged: {iso_cdf:?}"
        );
        let w = r
            .warnings
            .iter()
            .find(|w| w.starts_with("invalid conditions were left out of the metrics"))
            .expect("a warning");
        assert!(
            w.contains("round 1 isolated: an aggressor ended before the window's end (aggressor process 0: killed by SIGKILL)"),
            "{w}"
        );
        let counted = per_round_all(&rounds, Condition::Isolated, &|s| {
            Some(s.run.aggressors.len() as f64)
        });
        assert_eq!(counted, vec![Some(1.0); 3], "event counts keep every round");
    }

    #[test]
    fn a_condition_invalid_in_every_round_is_null_with_its_reason() {
        let mut r = empty();
        let mut rd = round(0.5);
        rd[1].run.invalid = Some(
            "the victim reported nothing (oom-killed), so there is no experience to compare".into(),
        );
        derive(&mut r, &[rd]);
        let m = r
            .metrics
            .iter()
            .find(|m| {
                m.name == "victim.retained_throughput" && m.condition == Some(Condition::Contended)
            })
            .unwrap();
        assert_eq!((m.value, m.per_round.clone()), (None, vec![None]));
        let why = m.reason.as_deref().unwrap();
        assert!(
            why.starts_with("the contended condition was invalid in every round (round 0: the victim reported nothing"),
            "{why}"
        );
        assert!(
            r.latency_cdf
                .iter()
                .all(|c| c.condition != Condition::Contended)
        );
    }

    #[test]
    fn merged_cdf_spans_median_to_max() {
        let mut r = empty();
        derive(&mut r, &[round(0.5)]);
        let solo = r
            .latency_cdf
            .iter()
            .find(|c| c.condition == Condition::Solo)
            .unwrap();
        assert_eq!(solo.points.len(), 42);
        assert!((solo.points.last().unwrap().1 - 120.0).abs() < 0.2);
    }
}

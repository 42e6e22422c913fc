//! `isobench compare`: CURRENT against BASELINE, metric by metric (DESIGN §3).
//!
//! For each gated metric ([`rules`]) the change of the two runs' means over
//! rounds gets a bootstrap 95 % CI ([`crate::stats::change`]). Against its margin:
//! - PASS: the whole CI is on the good side of the margin;
//! - IMPROVED: the whole CI is beyond the mirrored margin, on the good side;
//! - FAIL: the change is beyond the margin in the bad direction, decided by a
//!   one-sided bootstrap test (p = share of draws *not* beyond the margin) with
//!   Holm's step-down correction across all gated metrics at family-wise
//!   α = 0.025 (Holm, "A simple sequentially rejective multiple test procedure",
//!   Scand. J. Statist. 6, 1979), so that more metrics do not mean more false alarms;
//! - INCONCLUSIVE: worse than the baseline beyond the noise (the same one-sided
//!   test against "no change", Holm-corrected the same way), but not clearly
//!   beyond the margin: more rounds would decide;
//! - NO CLEAR CHANGE: the CI holds "no change" but reaches past the margin: this
//!   pair of runs is too noisy to tell a change of that size; the row says the
//!   smallest change it could have detected ([`Change::detectable`]). It does
//!   not fail the job: nothing says the metric got worse.
//!
//! So a results file compared with itself, or an A/A pair, exits 0 unless a
//! change beyond the noise is seen. A visibility check that passed in the
//! baseline and fails now is a FAIL regardless of margins. Exit codes: 0 no
//! FAIL and nothing inconclusive, 1 any FAIL, 2 inconclusive or unfit
//! (fingerprints differ, a CPU quota on the runner's own cgroup, other work
//! disturbed a run unless `--accept-disturbed`, fewer than [`MIN_ROUNDS`]
//! rounds: unfit wins over FAIL, as no verdict can be trusted then), 3 usage
//! or runtime error.

pub mod calibrate;
pub mod knee;
pub mod margins;
pub mod rules;

use crate::stats::change::{Change, Statistic, change};
use isobench_reports::comparison::{
    Better, COMPARISON_VERSION, ChangeKind, ComparedMetric, Comparison, Outcome, RunRef,
};
use isobench_reports::schema::{Condition, HostFingerprint, Metric, Results, ScenarioResult};
use margins::Margins;
use rules::{Rule, improvement_bound};

/// Rounds each side needs for its metrics to be judged.
pub const MIN_ROUNDS: usize = 3;
/// Family-wise error rate of FAIL over all gated metrics (one-sided, matching a 95 % two-sided CI).
pub const ALPHA: f64 = 0.025;

/// What to compare with what, and how.
pub struct CompareInput<'a> {
    /// The run compared against, and where it was read from.
    pub baseline: (&'a Results, &'a str),
    /// The run judged, and where it was read from.
    pub current: (&'a Results, &'a str),
    /// Margins (defaults, or from a file).
    pub margins: &'a Margins,
    /// Compare even when the fingerprints differ.
    pub force: bool,
    /// Judge runs that other work on the host disturbed (`--accept-disturbed`),
    /// noting the disturbance instead of answering UNFIT.
    pub accept_disturbed: bool,
}

fn run_ref(r: &Results, path: &str) -> RunRef {
    RunRef {
        path: path.into(),
        run_id: r.run_id.clone(),
        started_at: r.started_at.clone(),
    }
}

/// Fingerprint fields that differ between two hosts, as `field: a → b`.
pub fn fingerprint_differences(a: &HostFingerprint, b: &HostFingerprint) -> Vec<String> {
    let mut out = Vec::new();
    let mut field = |name: &str, x: String, y: String| {
        if x != y {
            out.push(format!("{name}: {x} → {y}"));
        }
    };
    field("kernel", a.kernel.clone(), b.kernel.clone());
    field("layout", a.layout.clone(), b.layout.clone());
    field(
        "cpu_model",
        format!("{:?}", a.cpu_model),
        format!("{:?}", b.cpu_model),
    );
    field("cpus", a.cpus.to_string(), b.cpus.to_string());
    field(
        "cpus_allowed",
        a.cpus_allowed.to_string(),
        b.cpus_allowed.to_string(),
    );
    field("smt", format!("{:?}", a.smt), format!("{:?}", b.smt));
    field(
        "governor",
        format!("{:?}", a.governor),
        format!("{:?}", b.governor),
    );
    field(
        "virtualised",
        a.virtualised.to_string(),
        b.virtualised.to_string(),
    );
    field(
        "harness_cgroup_limits",
        format!("{:?}", a.harness_cgroup_limits),
        format!("{:?}", b.harness_cgroup_limits),
    );
    // Only where both runs recorded it: results written before issue 18 lack it.
    if let (Some(x), Some(y)) = (&a.environment, &b.environment) {
        field("environment", x.summary(), y.summary());
    }
    out
}

/// Why the runner itself is unfit: a CPU quota on its own cgroup throttles the
/// harness and its unconfined conditions alike.
fn runner_quota(host: &HostFingerprint) -> Option<String> {
    let limits = &host.harness_cgroup_limits;
    let v2 = limits.get("cpu.max").filter(|v| !v.starts_with("max"));
    let v1 = limits
        .get("cpu.cfs_quota_us")
        .filter(|v| v.as_str() != "-1");
    v2.or(v1).map(|v| {
        format!("the runner's own cgroup has a CPU quota ({v}): remove it (see scripts/RUNNER.md); unconfined conditions are not unconfined")
    })
}

/// Conditions of `run` during which other work on the host used more than
/// [`crate::disturbance::LIMIT_CPUS`] on average (the mean of the
/// `host.other_cpu_share` metric): their figures say more about that work than
/// about isolation. One sentence each; the CPU figure is written with enough
/// digits to show it beyond the limit. `accepted`: the sentences for
/// `--accept-disturbed`, which say the disturbance was accepted; otherwise
/// they say what to do.
fn disturbed(run: &Results, accepted: bool) -> Vec<String> {
    use crate::disturbance::{FLAG, LIMIT_CPUS, beyond};
    let run_accepted = run.disturbance.as_ref().is_some_and(|d| d.accepted);
    run.scenarios
        .iter()
        .flat_map(|s| s.metrics.iter().map(move |m| (s, m)))
        .filter(|(_, m)| m.name == "host.other_cpu_share")
        .filter_map(|(s, m)| {
            let v = m.value.filter(|&v| v > LIMIT_CPUS)?;
            let what = format!(
                "run {} was disturbed: other work used {} CPUs on average during {} ({}), more than {LIMIT_CPUS} CPU",
                run.run_id,
                beyond(v, LIMIT_CPUS),
                s.name,
                m.condition.map_or("-".into(), |c| c.to_string())
            );
            Some(if accepted {
                format!("accepted ({FLAG}): {what}; its figures are judged anyway")
            } else if run_accepted {
                format!(
                    "{what}; the run was made with {FLAG}: pass {FLAG} to compare as well to judge it anyway, or \
                     rerun on a quiet host"
                )
            } else {
                format!("{what}; rerun on a quiet host, or pass {FLAG} to judge it anyway")
            })
        })
        .collect()
}

/// Per-round values of `m`, transformed by the rule.
fn values(m: &Metric, r: &Rule) -> Vec<f64> {
    m.per_round
        .iter()
        .flatten()
        .map(|v| (v + r.offset) * r.scale)
        .filter(|v| v.is_finite())
        .collect()
}

/// One row before the Holm steps: for a gated, measurable metric that neither
/// passed nor improved, its one-sided p-values for "beyond the margin" and for
/// "worse than no change".
struct Pending {
    row: ComparedMetric,
    p_fail: Option<f64>,
    p_worse: Option<f64>,
}

/// Mean of the measured (non-null, finite) per-round values, in the metric's own unit.
fn measured_mean(m: &Metric) -> Option<f64> {
    let v: Vec<f64> = m
        .per_round
        .iter()
        .flatten()
        .copied()
        .filter(|v| v.is_finite())
        .collect();
    (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64)
}

/// Compares one metric present in both runs.
fn compare_metric(scenario: &str, b: &Metric, c: &Metric, rule: Option<Rule>) -> Pending {
    let mut row = ComparedMetric {
        scenario: scenario.into(),
        name: c.name.clone(),
        condition: c.condition,
        unit: c.unit.clone(),
        kind: rule.map_or(ChangeKind::Ratio, |r| r.kind),
        better: rule.map_or(Better::Lower, |r| r.better),
        baseline: measured_mean(b),
        current: measured_mean(c),
        change: None,
        lower: None,
        upper: None,
        margin: rule.map(|r| r.margin),
        detectable: None,
        outcome: Outcome::NotGated,
        note: None,
    };
    let Some(rule) = rule else {
        row.note = Some("not gated: context only".into());
        return Pending::done(row);
    };
    if rule.kind == ChangeKind::Check {
        let (was, is) = (b.value == Some(1.0), c.value == Some(1.0));
        row.change = c.value.zip(b.value).map(|(c, b)| c - b);
        (row.outcome, row.note) = match (was, is) {
            (_, true) => (Outcome::Pass, None),
            (true, false) => (
                Outcome::Fail,
                Some("passed in the baseline, fails now: an isolation breach".into()),
            ),
            (false, false) => (
                Outcome::Fail,
                Some("fails in both runs: an isolation breach".into()),
            ),
        };
        return Pending::done(row);
    }
    let statistic = if rule.kind == ChangeKind::Ratio {
        Statistic::Ratio
    } else {
        Statistic::Difference
    };
    let seed = row.name.bytes().fold(0xC0FFEE_u64, |h, b| {
        h.wrapping_mul(31).wrapping_add(u64::from(b))
    });
    let (bv, cv) = (values(b, &rule), values(c, &rule));
    let Some(ch) = change(statistic, &bv, &cv, seed) else {
        if bv.is_empty() && cv.is_empty() {
            row.outcome = Outcome::NotGated;
            row.note = Some(format!(
                "measured in neither run ({}): nothing to judge",
                c.reason
                    .as_deref()
                    .or(b.reason.as_deref())
                    .unwrap_or("no value")
            ));
        } else {
            row.outcome = Outcome::Inconclusive;
            row.note = Some(format!(
                "not measurable in the {} run{}",
                if cv.is_empty() { "current" } else { "baseline" },
                c.reason
                    .as_deref()
                    .or(b.reason.as_deref())
                    .map_or(String::new(), |r| format!(": {r}"))
            ));
        }
        return Pending::done(row);
    };
    (row.change, row.lower, row.upper) = (Some(ch.value), Some(ch.lower), Some(ch.upper));
    row.detectable = detectable(&ch, statistic, rule.better);
    if bv.len() < MIN_ROUNDS || cv.len() < MIN_ROUNDS {
        row.outcome = Outcome::Inconclusive;
        row.note = Some(format!(
            "{} and {} measured rounds: at least {MIN_ROUNDS} {FEW_ROUNDS}",
            bv.len(),
            cv.len()
        ));
        return Pending::done(row);
    }
    let improved = improvement_bound(&rule);
    let none = no_change(rule.kind);
    let beyond = |bound: f64| match rule.better {
        Better::Lower => ch.share_at_or_below(bound),
        Better::Higher => 1.0 - ch.share_at_or_below(bound - 1e-12),
    };
    let (pass, better_than_margin) = match rule.better {
        Better::Lower => (ch.upper <= rule.margin, ch.upper < improved),
        Better::Higher => (ch.lower >= rule.margin, ch.lower > improved),
    };
    if better_than_margin || pass {
        row.outcome = if better_than_margin {
            Outcome::Improved
        } else {
            Outcome::Pass
        };
        return Pending::done(row);
    }
    row.outcome = Outcome::NoClearChange;
    Pending {
        row,
        p_fail: Some(beyond(rule.margin)),
        p_worse: Some(beyond(none)),
    }
}

impl Pending {
    /// A row whose outcome is already decided.
    fn done(row: ComparedMetric) -> Self {
        Pending {
            row,
            p_fail: None,
            p_worse: None,
        }
    }
}

/// "No change" for a kind of change: 1 for a ratio, 0 for a difference.
fn no_change(kind: ChangeKind) -> f64 {
    if kind == ChangeKind::Ratio { 1.0 } else { 0.0 }
}

/// The smallest change in the bad direction this pair could detect, as the
/// change is expressed: a ratio above 1 (lower is better) or below 1 (higher is
/// better), a difference above or below 0.
fn detectable(ch: &Change, s: Statistic, better: Better) -> Option<f64> {
    let d = ch.detectable(s)?;
    Some(match (s, better) {
        (Statistic::Ratio, Better::Lower) => d,
        (Statistic::Ratio, Better::Higher) => 1.0 / d,
        (Statistic::Difference, Better::Lower) => d,
        (Statistic::Difference, Better::Higher) => -d,
    })
}

/// Holm's step-down over the p-values `p` picks from `pending`: the indices
/// rejected at family-wise [`ALPHA`], with their p-values.
fn holm(pending: &[Pending], p: fn(&Pending) -> Option<f64>) -> Vec<(usize, f64)> {
    let mut order: Vec<(usize, f64)> = pending
        .iter()
        .enumerate()
        .filter_map(|(i, x)| p(x).map(|p| (i, p)))
        .collect();
    order.sort_by(|a, b| a.1.total_cmp(&b.1));
    let m = order.len();
    order
        .into_iter()
        .enumerate()
        .take_while(|(k, (_, p))| *p <= ALPHA / (m - k) as f64)
        .map(|(_, x)| x)
        .collect()
}

/// Decides the rows that neither passed nor improved: FAIL where the change
/// is beyond the margin, INCONCLUSIVE where it is only beyond "no change", each
/// Holm-corrected; the rest stay NO CLEAR CHANGE, with what the pair could have seen.
fn decide(pending: &mut [Pending]) {
    for (i, p) in holm(pending, |x| x.p_fail) {
        pending[i].row.outcome = Outcome::Fail;
        pending[i].row.note = Some(format!(
            "beyond the margin (one-sided p = {p:.4}, Holm-adjusted)"
        ));
    }
    for (i, p) in holm(pending, |x| x.p_worse) {
        if pending[i].row.outcome == Outcome::NoClearChange {
            pending[i].row.outcome = Outcome::Inconclusive;
            pending[i].row.note = Some(format!(
                "worse than the baseline beyond the noise (one-sided p = {p:.4}, Holm-adjusted), not clearly beyond the margin: {MORE_ROUNDS}"
            ));
        }
    }
    let judged = pending.iter().filter(|x| x.p_worse.is_some()).count();
    for x in pending.iter_mut() {
        let (Some(p), Outcome::NoClearChange) = (x.p_worse, x.row.outcome) else {
            continue;
        };
        if p <= ALPHA {
            x.row.note = Some(format!(
                "its CI alone excludes no change (one-sided p = {p:.4}), but not after Holm's correction across the {judged} metrics judged here: as often as that happens between two runs of one build"
            ));
        }
    }
}

/// `m` with the rounds in which its condition was invalid (its neighbour did
/// not press, its victim never ran: [`ConditionRun::invalid`]) left out, as
/// the run's own metrics leave them out.
///
/// [`ConditionRun::invalid`]: isobench_reports::schema::ConditionRun::invalid
fn without_invalid(s: &ScenarioResult, m: &Metric) -> Metric {
    let Some(condition) = m.condition else {
        return m.clone();
    };
    let mut m = m.clone();
    for r in &s.rounds {
        let invalid = r
            .conditions
            .iter()
            .any(|x| x.condition == condition && x.invalid.is_some());
        if let Some(v) = m.per_round.get_mut(r.index).filter(|_| invalid) {
            *v = None;
        }
    }
    m
}

/// The note of a figure that follows each run's calibration, between runs that did not share one.
const UNSHARED_CALIBRATION: &str = "not gated: each run calibrated the victim's work unit itself, so absolute latencies and rates differ by a few percent between runs of one build; run the current with --calibration-from BASELINE to gate it";

/// Whether the absolute victim figures of two runs of a scenario compare
/// ([`rules::Rule::calibrated`]): both did the same calibrated work unit, or
/// neither victim's work follows the calibration (an isolation scenario
/// records `calibration: null` for a victim whose work is the user's own: a
/// command or a `cargo bench` closure). A scenario that records no
/// `calibration` key at all says nothing, and its absolute figures stay context.
fn comparable_absolutes(base: &ScenarioResult, cur: &ScenarioResult) -> bool {
    match (base.spec.get("calibration"), cur.spec.get("calibration")) {
        (Some(b), Some(c)) => b == c,
        _ => false,
    }
}

/// Units beyond a percentile that each round must have for the gate to judge
/// it: with fewer, a p99.9 is the round's largest few units, and two runs of
/// one build differ by whether a rare stall fell in their windows.
pub const TAIL_UNITS: f64 = 10.0;

/// Why victim percentile `metric` (`victim.latency_p999_us`,
/// `victim.latency_impact_p99`, ...) of condition `c` in `s` rests on too few
/// units to gate: a round (of `c`, or of solo for an impact) with fewer than
/// [`TAIL_UNITS`] / (1 − q) units. `None` when it has enough, or for other metrics.
fn thin_tail(s: &ScenarioResult, metric: &str, c: Option<Condition>) -> Option<String> {
    if SLICE_FIGURES.contains(&metric) {
        return thin_slices(s, metric, c);
    }
    let (q, shown) = if metric.ends_with("p999_us") || metric.ends_with("impact_p999") {
        (0.999, "p99.9")
    } else if metric.ends_with("p99_us") || metric.ends_with("impact_p99") {
        (0.99, "p99")
    } else {
        return None;
    };
    let needed = (TAIL_UNITS / (1.0 - q)).round() as u64;
    let conditions = [c, metric.contains("impact").then_some(Condition::Solo)];
    let fewest = s
        .rounds
        .iter()
        .flat_map(|r| &r.conditions)
        .filter(|run| conditions.contains(&Some(run.condition)) && run.invalid.is_none())
        .filter_map(|run| run.victim.as_ref().map(|v| v.ops))
        .min()?;
    (fewest < needed).then(|| {
        format!(
            "not gated: a {shown} of {fewest} units per round rests on fewer than {TAIL_UNITS} units beyond it; {needed} per round are needed (a longer window or a higher rate)"
        )
    })
}

/// Figures that rest on the p99 of each slice of the victim's window (issue 17).
const SLICE_FIGURES: [&str; 2] = ["victim.worst_slice_p99_us", "victim.recovery_ms"];

/// Why slice figure `metric` of condition `c` in `s` rests on too few units
/// to gate: the thin-tail rule ([`TAIL_UNITS`] beyond the p99) applied to
/// each slice, whose p99 these figures take: a round whose fewest units in a
/// slice (`victim.fewest_slice_units`, the window's edge slices left out)
/// are below 1000. With fewer, a slice's p99 is one of its few largest units,
/// and the worst of tens of such slices is the largest stall the window met.
fn thin_slices(s: &ScenarioResult, metric: &str, c: Option<Condition>) -> Option<String> {
    let needed = (TAIL_UNITS / (1.0 - 0.99)).round();
    let counts = s
        .metrics
        .iter()
        .find(|m| m.name == "victim.fewest_slice_units" && m.condition == c)?;
    let fewest = counts
        .per_round
        .iter()
        .flatten()
        .copied()
        .min_by(f64::total_cmp)?;
    (fewest < needed).then(|| {
        format!(
            "not gated: {metric} takes the p99 of slices of as few as {fewest:.0} units per slice, which leaves fewer than {TAIL_UNITS} units beyond it; {needed:.0} per slice are needed (a higher rate or longer slices: rate × slice_ms / 1000 ≥ {needed:.0})"
        )
    })
}

fn scenario_rows(
    base: &ScenarioResult,
    cur: &ScenarioResult,
    margins: &Margins,
    pending: &mut Vec<Pending>,
) {
    let shared = comparable_absolutes(base, cur);
    for c in &cur.metrics {
        if let Some(b) = base
            .metrics
            .iter()
            .find(|b| b.name == c.name && b.condition == c.condition)
        {
            let rule = margins.rule(&cur.name, &c.name, c.condition);
            let unshared = rule.is_some_and(|r| r.calibrated) && !shared;
            let thin = rule
                .and_then(|_| thin_tail(base, &c.name, c.condition))
                .or_else(|| rule.and_then(|_| thin_tail(cur, &c.name, c.condition)));
            let mut p = compare_metric(
                &cur.name,
                &without_invalid(base, b),
                &without_invalid(cur, c),
                rule.filter(|_| !unshared && thin.is_none()),
            );
            if unshared {
                p.row.note = Some(UNSHARED_CALIBRATION.into());
            } else if let Some(why) = thin {
                p.row.note = Some(why);
            }
            pending.push(p);
        }
    }
    // What the baseline gated and the current run no longer reports cannot pass by its absence.
    for b in &base.metrics {
        let Some(rule) = margins
            .rule(&base.name, &b.name, b.condition)
            .filter(|r| shared || !r.calibrated)
        else {
            continue;
        };
        if cur
            .metrics
            .iter()
            .any(|c| c.name == b.name && c.condition == b.condition)
        {
            continue;
        }
        let check = rule.kind == ChangeKind::Check;
        pending.push(Pending {
            row: ComparedMetric {
                scenario: base.name.clone(),
                name: b.name.clone(),
                condition: b.condition,
                unit: b.unit.clone(),
                kind: rule.kind,
                better: rule.better,
                baseline: measured_mean(b),
                current: None,
                change: None,
                lower: None,
                upper: None,
                margin: Some(rule.margin),
                detectable: None,
                outcome: if check {
                    Outcome::Fail
                } else {
                    Outcome::Inconclusive
                },
                note: Some(if check {
                    "missing from the current run: a check that is no longer reported cannot pass"
                        .into()
                } else {
                    "missing from the current run".into()
                }),
            },
            p_fail: None,
            p_worse: None,
        });
    }
}

/// Rounds a scenario ran: its raw rounds, or for scenarios that keep their
/// rounds only in their metrics (startup latency) the most any metric has.
fn rounds_of(s: &ScenarioResult) -> usize {
    s.metrics
        .iter()
        .map(|m| m.per_round.len())
        .chain([s.rounds.len()])
        .max()
        .unwrap_or(0)
}

/// A scenario the host could not run: it has nothing to judge, in either run.
fn skipped(s: &ScenarioResult) -> bool {
    matches!(
        s.status,
        isobench_reports::schema::ScenarioStatus::Skipped(_)
    )
}

/// Compares two runs. Never fails: what cannot be compared is said in the result.
pub fn compare(input: &CompareInput<'_>) -> Comparison {
    let ((base, base_path), (cur, cur_path)) = (input.baseline, input.current);
    let differences = fingerprint_differences(&base.host, &cur.host);
    let mut unfit = Vec::new();
    if !differences.is_empty() && !input.force {
        unfit.push(format!(
            "the hosts differ ({}): results are not comparable; rerun both on one host, or pass --force",
            differences.join("; ")
        ));
    }
    unfit.extend([&base.host, &cur.host].into_iter().filter_map(runner_quota));
    let mut seen = std::collections::HashSet::new();
    let disturbance: Vec<String> = [base, cur]
        .into_iter()
        .flat_map(|r| disturbed(r, input.accept_disturbed))
        .filter(|d| seen.insert(d.clone()))
        .collect();
    let accepted_disturbance = if input.accept_disturbed {
        disturbance
    } else {
        unfit.extend(disturbance);
        Vec::new()
    };
    let mut pending = Vec::new();
    let mut not_compared = Vec::new();
    for c in &cur.scenarios {
        match base.scenarios.iter().find(|b| b.name == c.name) {
            Some(b) => {
                scenario_rows(b, c, input.margins, &mut pending);
                let sides = [(b, &base.run_id), (c, &cur.run_id)];
                for (s, run) in
                    sides
                        .into_iter()
                        .take(if base.run_id == cur.run_id { 1 } else { 2 })
                {
                    let rounds = rounds_of(s);
                    if s.checks.is_empty() && !skipped(s) && rounds < MIN_ROUNDS {
                        unfit.push(format!(
                            "scenario {} has {rounds} rounds in run {run}: at least {MIN_ROUNDS} are needed to judge it",
                            s.name,
                        ));
                    }
                }
            }
            None => not_compared.push(format!("scenario {}: not in the baseline", c.name)),
        }
    }
    for b in base
        .scenarios
        .iter()
        .filter(|b| !cur.scenarios.iter().any(|c| c.name == b.name))
    {
        not_compared.push(format!("scenario {}: not in the current run", b.name));
    }
    match knee::row(base, cur, input.margins) {
        Ok(Some(row)) => pending.push(Pending::done(row)),
        Ok(None) => {}
        Err(why) => not_compared.push(why),
    }
    decide(&mut pending);
    let rows: Vec<ComparedMetric> = pending.into_iter().map(|p| p.row).collect();
    let count = |o: Outcome| rows.iter().filter(|r| r.outcome == o).count();
    let (fails, inconclusive) = (count(Outcome::Fail), count(Outcome::Inconclusive));
    let gated = rows
        .iter()
        .filter(|r| r.outcome != Outcome::NotGated)
        .count();
    let failed: Vec<String> = rows
        .iter()
        .filter(|r| r.outcome == Outcome::Fail)
        .map(label)
        .collect();
    let (exit_code, verdict) = if gated == 0 {
        (
            2,
            "NOTHING COMPARED: the two runs share no gated metric (see what was not compared)"
                .to_string(),
        )
    } else if !unfit.is_empty() {
        (
            2,
            format!(
                "UNFIT: no verdict: {} ({fails} metrics would fail)",
                unfit.join("; ")
            ),
        )
    } else if fails > 0 {
        (
            1,
            format!(
                "REGRESSION: {fails} of {gated} gated metrics got worse beyond their margin: {}",
                failed.join(", ")
            ),
        )
    } else if inconclusive > 0 {
        let straddle = rows.iter().filter(|r| undecided(r)).count();
        let unjudged = inconclusive - straddle;
        let mut why = Vec::new();
        if straddle > 0 {
            why.push(format!("{straddle} of {gated} gated metrics got worse beyond the noise but not clearly beyond their margin ({MORE_ROUNDS})"));
        }
        if unjudged > 0 {
            why.push(format!("{unjudged} could not be judged (see their notes)"));
        }
        (2, format!("INCONCLUSIVE: {}", why.join("; ")))
    } else {
        let unclear = count(Outcome::NoClearChange);
        let within = gated - unclear;
        (
            0,
            if unclear == 0 {
                format!(
                    "PASS: all {gated} gated metrics within their margins ({} improved)",
                    count(Outcome::Improved)
                )
            } else {
                format!(
                    "PASS: no gated metric got worse beyond the noise; {within} of {gated} within their margins ({} improved), {unclear} with no clear change but too noisy to vouch for their margin (see the smallest detectable change of each)",
                    count(Outcome::Improved)
                )
            },
        )
    };
    let verdict = if accepted_disturbance.is_empty() {
        verdict
    } else {
        format!(
            "{verdict} (judged although other work disturbed {} condition{}: accepted with {})",
            accepted_disturbance.len(),
            if accepted_disturbance.len() == 1 {
                ""
            } else {
                "s"
            },
            crate::disturbance::FLAG
        )
    };
    Comparison {
        schema_version: COMPARISON_VERSION,
        baseline: run_ref(base, base_path),
        current: run_ref(cur, cur_path),
        fingerprint_differences: differences,
        forced: input.force,
        unfit,
        accept_disturbed: input.accept_disturbed,
        accepted_disturbance,
        rows,
        not_compared,
        exit_code,
        verdict,
    }
}

/// True for an INCONCLUSIVE row that got worse beyond the noise but not clearly
/// beyond its margin, the kind more rounds can decide (as opposed to a metric
/// missing, unmeasurable, or with too few measured rounds).
pub fn undecided(r: &ComparedMetric) -> bool {
    r.outcome == Outcome::Inconclusive
        && r.note.as_deref().is_some_and(|n| n.ends_with(MORE_ROUNDS))
}

/// End of the note of an INCONCLUSIVE row that more rounds can decide.
const MORE_ROUNDS: &str = "more rounds would decide";

/// Whether more rounds of the current run could decide `r`: it is undecided, or
/// it has too few measured rounds on a side (`--until-decided` keeps going then).
pub fn more_rounds_could_decide(r: &ComparedMetric) -> bool {
    undecided(r)
        || (r.outcome == Outcome::Inconclusive
            && r.note.as_deref().is_some_and(|n| n.ends_with(FEW_ROUNDS)))
}

/// End of the note of a metric with too few rounds on a side: more rounds can decide it.
const FEW_ROUNDS: &str = "on each side are needed";

/// `scenario/metric (condition)`.
pub fn label(r: &ComparedMetric) -> String {
    match r.condition {
        Some(c) => format!("{}/{} ({c})", r.scenario, r.name),
        None => format!("{}/{}", r.scenario, r.name),
    }
}

#[cfg(test)]
mod tests;

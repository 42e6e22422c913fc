//! A scenario's verdict: do the limits protect the victim from its neighbour?
//! (DESIGN §1 "verdict", §2 isolation effectiveness; the rules: docs/verdict.md).
//!
//! For each victim measure ([`measures::ALL`]: p99, late share, throughput)
//! the excess of the contended and isolated conditions over solo gets a paired
//! bootstrap CI over rounds. Per measure, with `floor` its noise floor:
//! - no interference to remove: neither the contended nor the isolated excess
//!   is above the floor beyond the noise (each CI's lower bound ≤ floor);
//! - not protected: the isolated excess is above the floor beyond the noise
//!   while the contended one is not (the victim is hurt in its sandbox and the
//!   unconfined condition, too noisy, shows nothing the limits removed), or
//!   isolation made it worse (the excess of isolated over
//!   contended, formed like the excess over solo, above the floor beyond the
//!   noise: for p99 the isolated p99 more than 10 % above the contended one),
//!   or removed little or none of the interference (the whole effectiveness CI
//!   below [`LITTLE_REMOVED`], 25 %);
//! - protected: it clearly helped (the effectiveness CI above 0) and left the
//!   victim no worse than alone beyond the floor (the isolated excess CI
//!   reaches below the floor);
//! - partly protected: anything between: it clearly left some, or it may
//!   have removed a good part but not clearly any.
//!
//! The scenario's answer: not protected when isolation made any measure
//! worse; else, among the measures that saw interference, protected when all
//! are protected, not protected when none was helped, partly protected when
//! they differ (a quota that halves the late units but leaves the p99 at the
//! scheduler's slice protects partly); "no interference to remove" when no
//! measure saw interference. Rounds in which
//! a condition is invalid ([`ConditionRun::invalid`]) are left out; with fewer
//! than [`MIN_ROUNDS`] usable rounds the verdict is invalid.

pub mod measures;

use isobench_reports::schema::{
    Condition, ConditionRun, Interval, MeasureVerdict, ScenarioResult, ScenarioStatus, SloSlack,
    SloVerdict, Verdict, VerdictKind,
};
use isobench_reports::verdict::{measure_clause, slo_clause};
use measures::{Measure, Triples, excesses};

/// Effectiveness below which the limits removed "little or none" of the
/// interference: a measure is not protected when even the upper bound of its
/// effectiveness CI is below this. Between "clearly some" and "clearly
/// little" lies an uncertain band that reads as partly protected, so that two
/// runs of one build do not flip between partly and not protected on noise.
pub const LITTLE_REMOVED: f64 = 0.25;

/// Rounds with every condition valid that a verdict needs: as many as the
/// gate needs to judge a scenario ([`crate::compare::MIN_ROUNDS`]).
pub const MIN_ROUNDS: usize = crate::compare::MIN_ROUNDS;

/// The verdict of `result` as it stands; `None` for a skipped scenario.
pub fn judge(result: &ScenarioResult) -> Option<Verdict> {
    if matches!(result.status, ScenarioStatus::Skipped(_)) {
        return None;
    }
    if !result.checks.is_empty() {
        return Some(checks(result));
    }
    if result.startup.is_some() {
        return Some(plain(
            VerdictKind::Measured,
            "a cost measured without a neighbour: how long a sandbox takes to start, against fork+exec and posix_spawn".into(),
            0,
        ));
    }
    let mut v = victim(result);
    v.cpu_pressure = crate::scenario::pressure::verdicts(result);
    Some(v)
}

fn plain(kind: VerdictKind, reason: String, rounds_used: usize) -> Verdict {
    Verdict {
        kind,
        reason,
        rounds_used,
        measures: Vec::new(),
        slo: None,
        disturbed: None,
        cpu_pressure: Vec::new(),
    }
}

/// Pass/fail checks: protected when every check passed, else not protected, naming the failures.
fn checks(result: &ScenarioResult) -> Verdict {
    let failed = result.failed_checks();
    let total = result.checks.len();
    if failed.is_empty() {
        plain(
            VerdictKind::Protected,
            format!("all {total} checks passed, each with its evidence"),
            1,
        )
    } else {
        plain(
            VerdictKind::NotProtected,
            format!(
                "{} of {total} checks failed: {}",
                failed.len(),
                failed.join(", ")
            ),
            1,
        )
    }
}

/// Why condition `c` of `round` cannot be used, if it cannot.
fn unusable(conditions: &[ConditionRun], c: Condition) -> Option<String> {
    match conditions.iter().find(|x| x.condition == c) {
        None => Some(format!("no {c} condition")),
        Some(x) => x.invalid.as_ref().map(|why| format!("{c}: {why}")),
    }
}

/// The verdict of a victim-and-neighbour scenario from its rounds.
fn victim(result: &ScenarioResult) -> Verdict {
    let has = |c: Condition| {
        result
            .rounds
            .iter()
            .any(|r| r.conditions.iter().any(|x| x.condition == c))
    };
    let compared = has(Condition::Contended) && has(Condition::Isolated);
    let neighbourless = result
        .rounds
        .iter()
        .flat_map(|r| &r.conditions)
        .all(|c| c.aggressors.is_empty());
    if has(Condition::Isolated) && !has(Condition::Contended) && neighbourless {
        return plain(
            VerdictKind::Measured,
            format!(
                "no neighbour: the cost of the victim's own limits, isolated against solo ({})",
                limit_cost(result)
            ),
            0,
        );
    }
    if !result.rounds.is_empty() && !compared {
        return plain(
            VerdictKind::Measured,
            "no verdict on protection: this scenario does not run both the contended and the isolated condition".into(),
            0,
        );
    }
    let mut left_out = Vec::new();
    let used: Vec<usize> = (0..result.rounds.len())
        .filter(|&i| {
            let r = &result.rounds[i];
            let why: Vec<String> = Condition::ALL
                .iter()
                .filter_map(|&c| unusable(&r.conditions, c))
                .collect();
            if why.is_empty() {
                true
            } else {
                left_out.push(format!("round {}: {}", r.index, why.join("; ")));
                false
            }
        })
        .collect();
    let dropped = if left_out.is_empty() {
        String::new()
    } else {
        format!(
            " ({} of {} rounds left out: {})",
            left_out.len(),
            result.rounds.len(),
            left_out.join(" | ")
        )
    };
    if used.len() < MIN_ROUNDS {
        let reason = if left_out.is_empty() {
            format!(
                "too few rounds to judge: {} ran, at least {MIN_ROUNDS} are needed (--rounds)",
                used.len()
            )
        } else {
            format!(
                "{} of {} rounds had every condition measuring something; at least {MIN_ROUNDS} are needed{dropped}",
                used.len(),
                result.rounds.len()
            )
        };
        return plain(VerdictKind::Invalid, reason, used.len());
    }
    let seed = result.name.bytes().fold(0x5EED_u64, |h, b| {
        h.wrapping_mul(131).wrapping_add(u64::from(b))
    });
    let judged: Vec<MeasureVerdict> = measures::ALL
        .iter()
        .filter_map(|m| measure_verdict(m, &Triples::of(m, &result.rounds, &used), seed))
        .collect();
    let slo = slo_p99_us(result).and_then(|s| slo_verdict(s, result, &used, seed));
    let hurt: Vec<&MeasureVerdict> = judged
        .iter()
        .filter(|m| m.kind != VerdictKind::NoInterference)
        .collect();
    let (kind, mut reason) = match combine(&hurt) {
        Some(kind) => (
            kind,
            hurt.iter()
                .filter(|m| {
                    m.isolation_worse
                        || kind != VerdictKind::NotProtected
                        || !hurt.iter().any(|h| h.isolation_worse)
                })
                .map(|m| measure_clause(m))
                .collect::<Vec<_>>()
                .join("; "),
        ),
        None if judged.is_empty() => (
            VerdictKind::Invalid,
            "no victim figure was measured in every condition".to_string(),
        ),
        None => (
            VerdictKind::NoInterference,
            format!(
                "the neighbour did not hurt the victim beyond the noise even unconfined: {}",
                judged
                    .iter()
                    .map(measure_clause)
                    .collect::<Vec<_>>()
                    .join("; ")
            ),
        ),
    };
    if let Some(s) = &slo {
        reason.push_str(&format!("; {}", slo_clause(s)));
    }
    reason.push_str(&dropped);
    Verdict {
        kind,
        reason,
        rounds_used: used.len(),
        measures: judged,
        slo,
        disturbed: None,
        cpu_pressure: Vec::new(),
    }
}

/// What the victim's own limits cost it in a scenario without a neighbour:
/// its CPU share isolated against solo and its retained throughput, from the
/// metrics (`victim.cpu_share`, `victim.retained_throughput`), each with its CI.
fn limit_cost(result: &ScenarioResult) -> String {
    let metric = |name: &str, c: Condition| {
        result
            .metrics
            .iter()
            .find(|m| m.name == name && m.condition == Some(c))
    };
    let said = |m: Option<&isobench_reports::schema::Metric>| {
        m.map_or_else(
            || "unavailable".to_string(),
            isobench_reports::verdict::metric_text,
        )
    };
    format!(
        "victim got {} isolated, {} solo; throughput retained {}",
        said(metric("victim.cpu_share", Condition::Isolated)),
        said(metric("victim.cpu_share", Condition::Solo)),
        said(metric("victim.retained_throughput", Condition::Isolated)),
    )
}

/// The scenario's answer from the answers of the measures that saw
/// interference (see the module docs); `None` when none did.
fn combine(hurt: &[&MeasureVerdict]) -> Option<VerdictKind> {
    let all = |k: VerdictKind| hurt.iter().all(|m| m.kind == k);
    Some(if hurt.is_empty() {
        return None;
    } else if hurt.iter().any(|m| m.isolation_worse) || all(VerdictKind::NotProtected) {
        VerdictKind::NotProtected
    } else if all(VerdictKind::Protected) {
        VerdictKind::Protected
    } else {
        VerdictKind::PartlyProtected
    })
}

/// One measure's answer; `None` where fewer than 2 rounds have it in every condition.
fn measure_verdict(m: &Measure, t: &Triples, seed: u64) -> Option<MeasureVerdict> {
    let x = excesses(m, t, seed)?;
    let floor = m.noise_floor;
    let isolation_worse = x.isolated_over_contended.lower > floor;
    let interference = x.contended.lower > floor;
    let kind = if isolation_worse {
        VerdictKind::NotProtected
    } else if !interference {
        // Hurt in its sandbox beyond the noise, whatever the (noisy) unconfined
        // condition says: nothing shows the limits protected it.
        if x.isolated.lower > floor {
            VerdictKind::NotProtected
        } else {
            VerdictKind::NoInterference
        }
    } else {
        match x.effectiveness {
            Some(e) if e.lower > 0.0 && x.isolated.lower <= floor => VerdictKind::Protected,
            Some(e) if e.upper >= LITTLE_REMOVED => VerdictKind::PartlyProtected,
            _ => VerdictKind::NotProtected,
        }
    };
    Some(MeasureVerdict {
        measure: m.name.into(),
        excess_unit: m.excess_unit.into(),
        noise_floor: floor,
        solo: x.solo,
        contended_excess: x.contended,
        isolated_excess: x.isolated,
        effectiveness: interference.then_some(x.effectiveness).flatten(),
        kind,
        isolation_worse,
        isolated_over_contended: Some(x.isolated_over_contended),
    })
}

/// The victim's latency objective from the scenario's spec (`victim.slo.p99_us`).
fn slo_p99_us(result: &ScenarioResult) -> Option<f64> {
    result
        .spec
        .pointer("/scenario/victim/slo/p99_us")
        .and_then(serde_json::Value::as_f64)
}

/// Each condition's p99 and slack against `slo_us`, and whether the isolated victim held it.
fn slo_verdict(
    slo_us: f64,
    result: &ScenarioResult,
    used: &[usize],
    seed: u64,
) -> Option<SloVerdict> {
    let conditions: Vec<SloSlack> = Condition::ALL
        .iter()
        .filter_map(|&c| {
            let values: Vec<f64> = used
                .iter()
                .filter_map(|&i| {
                    result.rounds[i]
                        .conditions
                        .iter()
                        .find(|x| x.condition == c)?
                        .victim
                        .as_ref()
                        .map(|v| v.latency_p99_us)
                })
                .collect();
            let p99 = measures::trimmed_interval(&values, seed)?;
            let slack = |p: f64| (slo_us - p) / slo_us;
            Some(SloSlack {
                condition: c,
                p99_us: p99,
                slack: Interval {
                    value: slack(p99.value),
                    lower: slack(p99.upper),
                    upper: slack(p99.lower),
                },
            })
        })
        .collect();
    let isolated = conditions
        .iter()
        .find(|s| s.condition == Condition::Isolated)?;
    let held = if isolated.p99_us.upper <= slo_us {
        Some(true)
    } else if isolated.p99_us.lower > slo_us {
        Some(false)
    } else {
        None
    };
    Some(SloVerdict {
        p99_us: slo_us,
        conditions,
        held,
    })
}

#[cfg(test)]
mod tests;

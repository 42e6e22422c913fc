//! One line per scenario saying what the reader most needs to know: the
//! scenario's verdict (protected, partly protected, not protected, no
//! interference to remove, invalid; docs/verdict.md), the evidence per victim
//! measure with its 95 % CI, and (for CPU scenarios) whether the aggressor got
//! the CPU share it should.
//!
//! A change whose CI holds "no change" reads as "no clear change", with the
//! interval; a metric that is missing or null is said as `unavailable`, never
//! as 0.

use crate::format;
use crate::metric_names::{
    OOM_KILLS, STARTUP_BASELINE_P50, STARTUP_CHURN, STARTUP_CHURN_PARALLEL,
    STARTUP_HEADLINE_VARIANT, STARTUP_OVERHEAD_RATIO, STARTUP_SANDBOX_NET_P99, STARTUP_SANDBOX_P50,
    STARTUP_SANDBOX_P99, STARTUP_SPAWN_P50, STARTUP_SPAWN_RATIO, STARTUP_TEARDOWN_P99,
    VICTIM_PSI_MEMORY_FULL, aggressor_sandboxes,
};
use crate::schema::{
    Condition, Interval, MeasureVerdict, Metric, PressureVerdict, Results, ScenarioResult,
    ScenarioStatus, SloVerdict, StallCause, VerdictKind,
};
use crate::units::Rule;

/// One line per scenario, in run order, e.g.
/// `cpu-share: PARTLY PROTECTED — late units vs solo: +9.9 pp [6.9, 12.9]
/// contended, +4.6 pp [3.2, 6.1] isolated; the limits removed 54 % [38, 68] of
/// it; p99 vs solo: …; aggressor got 0.50 CPUs of 0.50 expected`.
///
/// - The verdict word in capitals, then one clause per victim measure
///   ([`measure_clause`]), the objective if the suite set one ([`slo_clause`]),
///   whose doing the victim's CPU stalls were ([`pressure_clause`], case C12);
///   an invalid verdict gives its reason instead.
/// - The aggressor clause (CPUs, from `<sandbox>.cpu_share` and
///   `<sandbox>.cpu_share_expected` under `isolated`) appears once per aggressor
///   sandbox that has either metric: `aggressor`, or the name a suite file gives
///   it (`batch got 0.25 CPUs of 0.25 expected`).
/// - A missing or null metric reads `unavailable`; a failed or interrupted
///   scenario starts with that status and its reason.
pub fn verdict_lines(results: &Results) -> Vec<String> {
    results.scenarios.iter().map(scenario_line).collect()
}

/// How far `scenario` got, e.g. `complete, 3 rounds` or
/// `failed after 1 round: <reason>`.
pub(crate) fn status_text(scenario: &ScenarioResult) -> String {
    // startup-latency keeps its rounds in its metrics' per-round values only.
    let n_rounds = match (&scenario.startup, scenario.metrics.first()) {
        (Some(_), Some(m)) => m.per_round.len(),
        _ => scenario.rounds.len(),
    };
    let rounds = match (scenario.checks.len(), n_rounds) {
        (0, 1) => "1 round".to_owned(),
        (0, n) => format!("{n} rounds"),
        (1, _) => "1 check".to_owned(),
        (n, _) => format!("{n} checks"),
    };
    match &scenario.status {
        ScenarioStatus::Complete => format!("complete, {rounds}"),
        ScenarioStatus::Failed(reason) => format!("failed after {rounds}: {reason}"),
        ScenarioStatus::Interrupted(reason) => format!("interrupted after {rounds}: {reason}"),
        ScenarioStatus::Skipped(reason) => format!("skipped: {reason}"),
    }
}

/// The verdict line of one scenario.
pub(crate) fn scenario_line(scenario: &ScenarioResult) -> String {
    let mut clauses = Vec::new();
    if scenario.status != ScenarioStatus::Complete {
        clauses.push(status_text(scenario));
    }
    let head = match &scenario.verdict {
        Some(v) => format!("{}: {} — ", scenario.name, v.kind.words().to_uppercase()),
        None => format!("{}: ", scenario.name),
    };
    if !scenario.checks.is_empty() {
        clauses.push(checks_clause(scenario));
        return head + &clauses.join("; ");
    }
    if scenario.metrics.is_empty() && scenario.verdict.is_none() {
        return head + &clauses.join("; ");
    }
    if scenario.startup.is_some() {
        clauses.push(startup_clause(scenario));
        return head + &clauses.join("; ");
    }
    match &scenario.verdict {
        Some(v) if v.kind == VerdictKind::Invalid => clauses.push(v.reason.clone()),
        Some(v) if v.kind == VerdictKind::Measured => {
            clauses.push(v.reason.clone());
            clauses.extend(victim_pressure(v));
        }
        Some(v) => {
            clauses.extend(v.measures.iter().map(measure_clause));
            clauses.extend(v.slo.as_ref().map(slo_clause));
            clauses.extend(victim_pressure(v));
            if let Some(d) = &v.disturbed {
                clauses.push(format!("disturbed: {d}"));
            }
        }
        None => clauses.push("no verdict (results written before verdicts)".into()),
    }
    if scenario
        .metrics
        .iter()
        .any(|m| m.name == VICTIM_PSI_MEMORY_FULL)
    {
        clauses.push(memory_clause(scenario));
    }
    for sandbox in aggressor_sandboxes(scenario) {
        clauses.push(aggressor_clause(scenario, sandbox));
        clauses.extend(work_clause(scenario, sandbox));
    }
    head + &clauses.join("; ")
}

/// How one measure is named in a clause.
fn measure_label(measure: &str) -> &str {
    match measure {
        "late_share" => "late units",
        other => other,
    }
}

/// How an excess over solo is written, and the value shown for excess `x`:
/// p99 as its ratio to solo (`×19.5`, one scale for every figure of the
/// clause), late share as a difference in pp (`+4.6 pp`), throughput as the
/// change of ops (`−12 %`).
fn excess_rule(m: &MeasureVerdict) -> (Rule<'static>, fn(f64) -> f64) {
    match m.measure.as_str() {
        "p99" => (Rule::Factor, |x| x + 1.0),
        "late_share" => (Rule::PpChange, |x| x * 100.0),
        _ => (Rule::Change, |x| -x),
    }
}

/// An excess with its CI in one scale: `×19.5 [×14.0, ×24.2]`, `+4.6 pp [+3.2,
/// +6.1] pp`, `-12 % [-15, -9] %`; `no clear change (…)` around it when the CI
/// holds no change and `say_unclear` asks for it.
fn excess_with_ci(m: &MeasureVerdict, i: &Interval, say_unclear: bool) -> String {
    let (rule, shown) = excess_rule(m);
    let (lo, hi) = (shown(i.lower), shown(i.upper));
    let (value, ci) = rule.with_interval(shown(i.value), lo.min(hi), lo.max(hi));
    let text = format!("{value} {ci}");
    if say_unclear && i.lower <= 0.0 && i.upper >= 0.0 {
        format!("no clear change ({text})")
    } else {
        text
    }
}

/// One victim measure's evidence, e.g. `late units vs solo: +9.9 pp [6.9,
/// 12.9] contended, +4.6 pp [3.2, 6.1] isolated; the limits removed 54 % [38,
/// 68] of it`, or `p99 vs solo: no interference to remove (contended ×1.02
/// [0.95, 1.10])`.
pub fn measure_clause(m: &MeasureVerdict) -> String {
    let label = measure_label(&m.measure);
    if m.kind == VerdictKind::NoInterference {
        return format!(
            "{label} vs solo: no interference to remove (contended {})",
            excess_with_ci(m, &m.contended_excess, false)
        );
    }
    let contended = excess_with_ci(m, &m.contended_excess, true);
    let isolated = excess_with_ci(m, &m.isolated_excess, true);
    let removed = |e: &Interval| {
        let (value, ci) = Rule::Percent.with_interval(e.value, e.lower, e.upper);
        format!("{value} {ci}")
    };
    let effect = match (m.isolation_worse, &m.effectiveness) {
        (false, _) if m.contended_excess.lower <= m.noise_floor => {
            "hurt in its sandbox beyond the noise, while contended was too noisy to show what the limits removed".to_string()
        }
        (true, _) => match &m.isolated_over_contended {
            Some(x) => format!(
                "isolation made it worse, beyond the noise (isolated over contended {})",
                excess_with_ci(m, x, false)
            ),
            None => "isolation made it worse, beyond the noise".to_string(),
        },
        (false, Some(e)) if e.upper < 0.0 => format!(
            "the isolated victim fared somewhat worse than contended, within the noise floor (removed {} of it)",
            removed(e)
        ),
        (false, Some(e)) if m.kind == VerdictKind::NotProtected => {
            format!("the limits removed little or none of it ({})", removed(e))
        }
        (false, Some(e)) if e.lower <= 0.0 => format!(
            "the limits may have removed part of it, not clearly any ({})",
            removed(e)
        ),
        (false, Some(e)) => format!("the limits removed {} of it", removed(e)),
        (false, None) => "the limits made no clear difference".to_string(),
    };
    format!("{label} vs solo: {contended} contended, {isolated} isolated; {effect}")
}

/// The victim's CPU stalls and whose doing they were, one clause per condition
/// in which it stalled (the neighbours' are in `verdict.cpu_pressure` and the
/// metrics; a line names what the victim felt).
fn victim_pressure(v: &crate::schema::Verdict) -> impl Iterator<Item = String> + '_ {
    v.cpu_pressure
        .iter()
        .filter(|p| p.sandbox == "victim" && p.cause != StallCause::NoStall)
        .map(pressure_clause)
}

/// Whose doing a sandbox's CPU pressure was in one condition (case C12), e.g.
/// `victim CPU stall (PSI some) 80 % [79, 81] % isolated: self-inflicted
/// (throttling), throttled 80 % [79, 81] % of the window by its own quota, not a
/// neighbour`, or `… 35 % [33, 37] % contended: neighbour (throttled 0 % …)`.
pub fn pressure_clause(p: &PressureVerdict) -> String {
    let share = |i: &Interval| {
        let (value, ci) = Rule::Percent.with_interval(i.value, i.lower, i.upper);
        format!("{value} {ci}")
    };
    let throttled = p.throttled.as_ref().map_or_else(
        || format::unavailable(p.throttled_unavailable.as_deref()),
        share,
    );
    let head = format!(
        "{} CPU stall (PSI some) {} {}: {}",
        p.sandbox,
        share(&p.some),
        p.condition,
        p.cause.words()
    );
    match p.cause {
        StallCause::SelfInflicted => {
            format!("{head}, throttled {throttled} of the window by its own quota, not a neighbour")
        }
        StallCause::Neighbour => format!(
            "{head}: other tasks held the CPUs it wanted (throttled by its own quota {throttled})"
        ),
        StallCause::NoStall => head,
    }
}

/// The objective and each condition's slack, e.g. `objective p99 ≤ 2 ms held
/// isolated (slack +21 % [+10, +30]; contended −95 % [−140, −60])`.
pub fn slo_clause(s: &SloVerdict) -> String {
    let held = match s.held {
        Some(true) => "held",
        Some(false) => "missed",
        None => "neither clearly held nor missed",
    };
    let slack = |c: Condition| {
        s.conditions.iter().find(|x| x.condition == c).map_or_else(
            || format::unavailable(None),
            |x| {
                let (value, ci) =
                    Rule::Change.with_interval(x.slack.value, x.slack.lower, x.slack.upper);
                format!("{value} {ci}")
            },
        )
    };
    format!(
        "objective p99 ≤ {} {held} isolated (slack {}; contended {})",
        format::latency_us(s.p99_us),
        slack(Condition::Isolated),
        slack(Condition::Contended),
    )
}

/// For a scenario of pass/fail checks: `6 of 6 checks passed`, or
/// `isolation breach: net, ipc (4 of 6 checks passed)`.
fn checks_clause(scenario: &ScenarioResult) -> String {
    let failed = scenario.failed_checks();
    let (total, passed) = (scenario.checks.len(), scenario.checks.len() - failed.len());
    if failed.is_empty() {
        let verdicts: Vec<String> = scenario
            .checks
            .iter()
            .filter(|c| c.name.starts_with("memory."))
            .map(|c| format!("{}: {}", c.name, c.saw.split(';').next().unwrap_or("")))
            .collect();
        let mut line = format!("{passed} of {total} checks passed");
        if !verdicts.is_empty() {
            line.push_str(&format!(" ({})", verdicts.join("; ")));
        }
        if let Some(view) = &scenario.cpu_view {
            line.push_str(&format!("; {}", crate::cpu_view::clause(view)));
        }
        line
    } else {
        let what = if scenario.name == "visibility" {
            "isolation breach"
        } else {
            "unexpected outcome"
        };
        format!(
            "{what}: {} ({passed} of {total} checks passed)",
            failed.join(", ")
        )
    }
}

/// `victim memory stall (PSI full) 0 % (contended: 14 %); OOM kills isolated (3 rounds): aggressor 3, victim 0, outside 0`:
/// kills are totals over the rounds, so one kill in three rounds never reads as 0.
fn memory_clause(scenario: &ScenarioResult) -> String {
    let psi = |condition| {
        figure(
            scenario,
            VICTIM_PSI_MEMORY_FULL,
            Some(condition),
            Rule::Percent,
        )
    };
    let total = |name: &str| {
        Results::metric(scenario, name, Some(Condition::Isolated)).map(|m| {
            let counted: Vec<f64> = m.per_round.iter().flatten().copied().collect();
            (counted.iter().sum::<f64>(), counted.len())
        })
    };
    let rounds = total(OOM_KILLS[0].1).map_or(0, |(_, n)| n);
    let kills: Vec<String> = OOM_KILLS
        .iter()
        .map(|(who, name)| match total(name) {
            Some((sum, n)) if n > 0 => format!("{who} {sum:.0}"),
            _ => format!("{who} {}", format::unavailable(None)),
        })
        .collect();
    format!(
        "victim memory stall (PSI full) {} (contended: {}); OOM kills isolated ({rounds} round{}): {}",
        psi(Condition::Isolated),
        psi(Condition::Contended),
        if rounds == 1 { "" } else { "s" },
        kills.join(", ")
    )
}

/// `sandbox start p50 650 µs, ×2.90 posix_spawn (224 µs), ×0.60 fork+exec (1.08 ms);
/// p99 1.64 ms (tail: attach +1.2 ms), with a new netns 4.30 ms; teardown p99 1.51 ms;
/// churn 1012/s (2 starters: 1400/s)`.
fn startup_clause(scenario: &ScenarioResult) -> String {
    let ms = |name: &str| figure(scenario, name, None, Rule::Duration { us_per_unit: 1.0 });
    let per_s = |name: &str| figure(scenario, name, None, Rule::Rate("/s"));
    let starters = scenario
        .startup
        .as_ref()
        .and_then(|d| d.churn.iter().map(|c| c.starters).max())
        .unwrap_or(1);
    let tail = scenario
        .startup
        .as_ref()
        .and_then(|d| {
            d.variants
                .iter()
                .find(|v| v.name == STARTUP_HEADLINE_VARIANT)
        })
        .and_then(|v| v.tail.as_ref())
        .and_then(|t| t.phases.iter().find(|p| p.name == t.owner))
        .map_or_else(String::new, |p| {
            format!(
                " (tail: {} +{})",
                p.name,
                format::latency_us(p.excess_us.max(0.0))
            )
        });
    format!(
        "sandbox start p50 {}, {} posix_spawn ({}), {} fork+exec ({}); p99 {}{tail}, with a new netns {}; \
         teardown p99 {}; churn {} ({starters} starters: {}){}",
        ms(STARTUP_SANDBOX_P50),
        figure(scenario, STARTUP_SPAWN_RATIO, None, Rule::Factor),
        ms(STARTUP_SPAWN_P50),
        figure(scenario, STARTUP_OVERHEAD_RATIO, None, Rule::Factor),
        ms(STARTUP_BASELINE_P50),
        ms(STARTUP_SANDBOX_P99),
        ms(STARTUP_SANDBOX_NET_P99),
        ms(STARTUP_TEARDOWN_P99),
        per_s(STARTUP_CHURN),
        per_s(STARTUP_CHURN_PARALLEL),
        crate::startup_runtimes::clause(scenario),
    )
}

/// `aggressor got 0.50 CPUs of 0.50 expected`, for aggressor sandbox `sandbox`
/// (`batch got 0.25 CPUs of 0.25 expected`).
fn aggressor_clause(scenario: &ScenarioResult, sandbox: &str) -> String {
    let share = format!("{sandbox}.cpu_share");
    let measured = value(scenario, &share, Condition::Isolated);
    let expected = value(
        scenario,
        &format!("{sandbox}.cpu_share_expected"),
        Condition::Isolated,
    );
    let got = || figure(scenario, &share, Some(Condition::Isolated), Rule::Cpus);
    match (measured, expected) {
        (Some(_), Some(e)) => format!("{sandbox} got {} of {} expected", got(), format::cpus(e)),
        (Some(_), None) => format!("{sandbox} got {} (expected share unavailable)", got()),
        (None, Some(e)) => format!(
            "{sandbox} CPU share unavailable ({} CPUs expected)",
            format::cpus(e)
        ),
        (None, None) => format!("{sandbox} CPU share unavailable"),
    }
}

/// `its work 25 % of contended (1822 vs 7233 forks/s)`: how much of its own
/// work (the applet's headline figure, a rate) the limits left aggressor
/// sandbox `sandbox`; `None` where it reports no such rate.
fn work_clause(scenario: &ScenarioResult, sandbox: &str) -> Option<String> {
    let m = scenario.metrics.iter().find(|m| {
        m.name
            .strip_prefix(sandbox)
            .and_then(|rest| rest.strip_prefix('.'))
            .is_some_and(|figure| figure.ends_with("_per_s"))
    })?;
    let iso = value(scenario, &m.name, Condition::Isolated)?;
    let con = value(scenario, &m.name, Condition::Contended).filter(|&c| c > 0.0)?;
    let rate = Rule::Rate(&m.unit);
    Some(format!(
        "its work {} of contended ({} isolated vs {} contended)",
        format::percent(iso / con),
        figure(scenario, &m.name, Some(Condition::Isolated), rate),
        figure(scenario, &m.name, Some(Condition::Contended), rate),
    ))
}

/// Metric `name` under `condition` with its 95 % CI in one scale of `rule`
/// (`0.50 [0.49, 0.51]`, `3.95 ms [3.18, 5.14] ms`), its value alone without an
/// interval, or `unavailable`.
pub(crate) fn figure(
    scenario: &ScenarioResult,
    name: &str,
    condition: Option<Condition>,
    rule: Rule<'_>,
) -> String {
    match Results::metric(scenario, name, condition) {
        Some(m) => match (m.value, m.lower, m.upper) {
            (Some(v), Some(lo), Some(hi)) => {
                let (value, ci) = rule.with_interval(v, lo, hi);
                format!("{value} {ci}")
            }
            (Some(v), ..) => rule.text(v),
            _ => format::unavailable(None),
        },
        None => format::unavailable(None),
    }
}

/// A metric's mean and CI written by its display rule (`0.20 CPUs [0.20, 0.20]
/// CPUs`, `×0.21`), or `unavailable` when it is null.
pub fn metric_text(m: &Metric) -> String {
    let rule = Rule::for_metric(&m.name, &m.unit);
    match (m.value, m.lower, m.upper) {
        (Some(v), Some(lo), Some(hi)) => {
            let (value, ci) = rule.with_interval(v, lo, hi);
            format!("{value} {ci}")
        }
        (Some(v), ..) => rule.text(v),
        _ => format::unavailable(None),
    }
}

/// The value of metric `name` for `condition`; `None` when missing or null.
fn value(scenario: &ScenarioResult, name: &str, condition: Condition) -> Option<f64> {
    Results::metric(scenario, name, Some(condition)).and_then(|m| m.value)
}

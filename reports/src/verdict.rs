//! One line per scenario saying what the reader most needs to know: how much of
//! its solo throughput the isolated victim kept, how much its p99 latency grew,
//! and (for CPU scenarios) whether the aggressor got the CPU share it should.
//!
//! Figures come from the scenario's metrics (DESIGN §2, "Victim experience" and
//! "CPU share"); a metric that is missing or null is said as `unavailable`,
//! never as 0.

use crate::format;
use crate::metric_names::{
    LATENCY_IMPACT_P99, OOM_KILLS, RETAINED_THROUGHPUT, STARTUP_BASELINE_P50, STARTUP_CHURN,
    STARTUP_CHURN_PARALLEL, STARTUP_OVERHEAD_RATIO, STARTUP_SANDBOX_NET_P99, STARTUP_SANDBOX_P50,
    STARTUP_SANDBOX_P99, STARTUP_TEARDOWN_P99, VICTIM_PSI_MEMORY_FULL, aggressor_sandboxes,
};
use crate::schema::{Condition, Results, ScenarioResult, ScenarioStatus};

/// One line per scenario, in run order, e.g.
/// `cpu-share: isolated victim kept 99 % of its solo throughput (contended: 61 %);
/// p99 +4 % (contended: +380 %); aggressor got 0.50 CPUs of 0.50 expected`.
///
/// - Retained throughput is a percentage of solo throughput
///   (`victim.retained_throughput`), the p99 change a signed percentage, or a
///   factor beyond +999 % (`victim.latency_impact_p99`), both for `isolated`
///   with `contended` in parentheses.
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
fn scenario_line(scenario: &ScenarioResult) -> String {
    if !scenario.checks.is_empty() {
        return checks_line(scenario);
    }
    let mut clauses = Vec::new();
    if scenario.status != ScenarioStatus::Complete {
        clauses.push(status_text(scenario));
        if scenario.metrics.is_empty() {
            return format!("{}: {}", scenario.name, clauses.join("; "));
        }
    }
    if scenario.startup.is_some() {
        clauses.push(startup_clause(scenario));
        return format!("{}: {}", scenario.name, clauses.join("; "));
    }
    clauses.push(retained_clause(scenario));
    clauses.push(latency_clause(scenario));
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
    format!("{}: {}", scenario.name, clauses.join("; "))
}

/// For a scenario of pass/fail checks: `visibility: 6 of 6 checks passed`, or
/// `visibility: isolation breach: net, ipc (4 of 6 checks passed)`; a status
/// other than complete is said first.
fn checks_line(scenario: &ScenarioResult) -> String {
    let failed: Vec<&str> = scenario
        .checks
        .iter()
        .filter(|c| !c.passed)
        .map(|c| c.name.as_str())
        .collect();
    let (total, passed) = (scenario.checks.len(), scenario.checks.len() - failed.len());
    let mut line = format!("{}: ", scenario.name);
    if scenario.status != ScenarioStatus::Complete {
        line.push_str(&format!("{}; ", status_text(scenario)));
    }
    if failed.is_empty() {
        let verdicts: Vec<String> = scenario
            .checks
            .iter()
            .filter(|c| c.name.starts_with("memory."))
            .map(|c| format!("{}: {}", c.name, c.saw.split(';').next().unwrap_or("")))
            .collect();
        line.push_str(&format!("{passed} of {total} checks passed"));
        if !verdicts.is_empty() {
            line.push_str(&format!(" ({})", verdicts.join("; ")));
        }
    } else {
        let what = if scenario.name == "visibility" {
            "isolation breach"
        } else {
            "unexpected outcome"
        };
        line.push_str(&format!(
            "{what}: {} ({passed} of {total} checks passed)",
            failed.join(", ")
        ));
    }
    line
}

/// `isolated victim kept 99 % of its solo throughput (contended: 61 %)`.
fn retained_clause(scenario: &ScenarioResult) -> String {
    let isolated = value(scenario, RETAINED_THROUGHPUT, Condition::Isolated);
    let contended = shown(
        value(scenario, RETAINED_THROUGHPUT, Condition::Contended),
        format::percent,
    );
    match isolated {
        Some(share) => format!(
            "isolated victim kept {} of its solo throughput (contended: {contended})",
            format::percent(share)
        ),
        None => {
            format!("isolated victim's retained throughput unavailable (contended: {contended})")
        }
    }
}

/// `p99 +4 % (contended: +380 %)`.
fn latency_clause(scenario: &ScenarioResult) -> String {
    let change = |condition| {
        shown(
            value(scenario, LATENCY_IMPACT_P99, condition),
            format::relative_change,
        )
    };
    format!(
        "p99 {} (contended: {})",
        change(Condition::Isolated),
        change(Condition::Contended)
    )
}

/// `victim memory stall (PSI full) 0 % (contended: 14 %); OOM kills isolated (3 rounds): aggressor 3, victim 0, outside 0`:
/// kills are totals over the rounds, so one kill in three rounds never reads as 0.
fn memory_clause(scenario: &ScenarioResult) -> String {
    let psi = |condition| {
        shown(
            value(scenario, VICTIM_PSI_MEMORY_FULL, condition),
            format::percent,
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

/// `sandbox start p50 4.90 ms, ×2.06 fork+exec (2.50 ms); p99 10.0 ms, with a new
/// netns 15.0 ms; teardown p99 8.40 ms; churn 84.0/s (2 starters: 139/s)`.
fn startup_clause(scenario: &ScenarioResult) -> String {
    let get = |name: &str| Results::metric(scenario, name, None).and_then(|m| m.value);
    let ms = |name: &str| shown(get(name), format::latency_us);
    let per_s = |name: &str| shown(get(name), format::per_second);
    let starters = scenario
        .startup
        .as_ref()
        .and_then(|d| d.churn.iter().map(|c| c.starters).max())
        .unwrap_or(1);
    format!(
        "sandbox start p50 {}, {} fork+exec ({}); p99 {}, with a new netns {}; teardown p99 {}; churn {} ({starters} starters: {})",
        ms(STARTUP_SANDBOX_P50),
        shown(get(STARTUP_OVERHEAD_RATIO), format::factor),
        ms(STARTUP_BASELINE_P50),
        ms(STARTUP_SANDBOX_P99),
        ms(STARTUP_SANDBOX_NET_P99),
        ms(STARTUP_TEARDOWN_P99),
        per_s(STARTUP_CHURN),
        per_s(STARTUP_CHURN_PARALLEL),
    )
}

/// `aggressor got 0.50 CPUs of 0.50 expected`, for aggressor sandbox `sandbox`
/// (`batch got 0.25 CPUs of 0.25 expected`).
fn aggressor_clause(scenario: &ScenarioResult, sandbox: &str) -> String {
    let measured = value(
        scenario,
        &format!("{sandbox}.cpu_share"),
        Condition::Isolated,
    );
    let expected = value(
        scenario,
        &format!("{sandbox}.cpu_share_expected"),
        Condition::Isolated,
    );
    match (measured, expected) {
        (Some(m), Some(e)) => format!(
            "{sandbox} got {} CPUs of {} expected",
            format::cpus(m),
            format::cpus(e)
        ),
        (Some(m), None) => format!(
            "{sandbox} got {} CPUs (expected share unavailable)",
            format::cpus(m)
        ),
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
    Some(format!(
        "its work {:.0} % of contended ({} vs {} {})",
        iso / con * 100.0,
        format::rate(iso),
        format::rate(con),
        m.unit
    ))
}

/// The value of metric `name` for `condition`; `None` when missing or null.
fn value(scenario: &ScenarioResult, name: &str, condition: Condition) -> Option<f64> {
    Results::metric(scenario, name, Some(condition)).and_then(|m| m.value)
}

/// `value` formatted by `show`, or `unavailable`.
fn shown(value: Option<f64>, show: fn(f64) -> String) -> String {
    value.map_or_else(|| format::unavailable(None), show)
}

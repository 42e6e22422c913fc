//! Disturbance by other work on the host: which conditions of a run had more
//! than [`LIMIT_CPUS`] of other work (`host.other_cpu_share`, measured by
//! [`crate::scenario`] from the exact CPU accounting of all tasks less the
//! run's arena and the harness), and how such a figure is written so that it
//! reads as beyond the limit it is said to exceed.
//!
//! A disturbed run is warned about by `isobench run` and refused a verdict by
//! `isobench compare` (UNFIT, exit 2) unless `--accept-disturbed` is given: then
//! it is judged, and the disturbance is recorded (`results.json`
//! `disturbance`, compare.json `accepted_disturbance`) and shown.

use isobench_reports::schema::{Condition, Disturbance, DisturbedCondition, Results};

/// CPU used by other work above which a condition is disturbed, in CPUs
/// (the same as [`crate::scenario::OTHER_LOAD_LIMIT_CPUS`]).
pub const LIMIT_CPUS: f64 = crate::scenario::OTHER_LOAD_LIMIT_CPUS;

/// The command-line flag, shared by `isobench run` and `isobench compare`,
/// that accepts a disturbed run.
pub const FLAG: &str = "--accept-disturbed";

/// `value` with the fewest decimals (at least two) that still show it beyond
/// `limit`: `0.1003` against 0.1 is `0.1003`, never `0.10`; `0.42` is `0.42`.
/// A value not beyond the limit is written with two decimals.
pub fn beyond(value: f64, limit: f64) -> String {
    if value.is_finite() && value > limit {
        for decimals in 2..=15 {
            let text = format!("{value:.decimals$}");
            if text.parse::<f64>().is_ok_and(|shown| shown > limit) {
                return text;
            }
        }
        return format!("{value}");
    }
    format!("{value:.2}")
}

/// The disturbance of `results`: every scenario and condition with a round in
/// which other work used more than [`LIMIT_CPUS`], with those rounds, their
/// largest value and the mean over all the condition's rounds; `accepted` as
/// the run was told.
pub fn of_run(results: &Results, accepted: bool) -> Disturbance {
    let mut disturbed = Vec::new();
    for s in &results.scenarios {
        for condition in Condition::ALL {
            let values: Vec<(usize, f64)> = s
                .rounds
                .iter()
                .flat_map(|r| {
                    r.conditions
                        .iter()
                        .filter(|c| c.condition == condition)
                        .filter_map(move |c| Some((r.index, c.host_other_cpu_share?)))
                })
                .collect();
            let rounds: Vec<usize> = values
                .iter()
                .filter(|(_, v)| *v > LIMIT_CPUS)
                .map(|(i, _)| *i)
                .collect();
            if rounds.is_empty() {
                continue;
            }
            disturbed.push(DisturbedCondition {
                scenario: s.name.clone(),
                condition,
                rounds,
                max_cpus: values.iter().map(|(_, v)| *v).fold(f64::MIN, f64::max),
                mean_cpus: values.iter().map(|(_, v)| v).sum::<f64>() / values.len() as f64,
            });
        }
    }
    Disturbance {
        accepted,
        limit_cpus: LIMIT_CPUS,
        disturbed,
    }
}

/// One line naming every disturbed condition of `d`, e.g. `cpu-share solo
/// (rounds 0, 3; up to 0.93 CPUs)`; `None` when none was.
pub fn list(d: &Disturbance) -> Option<String> {
    let items: Vec<String> = d
        .disturbed
        .iter()
        .map(|c| {
            let rounds: Vec<String> = c.rounds.iter().map(usize::to_string).collect();
            format!(
                "{} {} (round{} {}; up to {} CPUs)",
                c.scenario,
                c.condition,
                if c.rounds.len() == 1 { "" } else { "s" },
                rounds.join(", "),
                beyond(c.max_cpus, d.limit_cpus)
            )
        })
        .collect();
    (!items.is_empty()).then(|| items.join("; "))
}

/// What a verdict of scenario `scenario` says about the disturbance of `d`,
/// e.g. `other work used more than 0.1 CPU during contended (round 2; up to
/// 0.74 CPUs); accepted with --accept-disturbed`; `None` when none of its
/// conditions was disturbed.
pub fn of_scenario(d: &Disturbance, scenario: &str) -> Option<String> {
    let mine = Disturbance {
        disturbed: d
            .disturbed
            .iter()
            .filter(|c| c.scenario == scenario)
            .cloned()
            .collect(),
        ..d.clone()
    };
    let list = list(&mine)?;
    Some(format!(
        "other work on the host used more than {} CPU during {list}; {}",
        d.limit_cpus,
        if d.accepted {
            format!("accepted with {FLAG}")
        } else {
            "rerun on a quiet host".to_string()
        }
    ))
}

/// What `isobench run` says at its end about the disturbance of `d`: that it
/// was accepted, or what it means for `isobench compare` and what to do;
/// `None` when no condition was disturbed.
pub fn summary(d: &Disturbance) -> Option<String> {
    let list = list(d)?;
    Some(if d.accepted {
        format!(
            "disturbance accepted ({FLAG}): other work on the host used more than {} CPU during {list}; \
             these figures are judged anyway",
            d.limit_cpus
        )
    } else {
        format!(
            "other work on the host used more than {} CPU during {list}: `isobench compare` gives such a run \
             no verdict (UNFIT); rerun on a quiet host, or pass {FLAG} to judge it anyway",
            d.limit_cpus
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use isobench_reports::schema::{ConditionRun, CpuAccount, Round, ScenarioResult};

    #[test]
    fn a_value_at_the_limit_is_never_written_as_the_limit() {
        assert_eq!(beyond(0.1003, 0.1), "0.1003");
        assert_eq!(beyond(0.10004, 0.1), "0.10004");
        assert_eq!(beyond(0.104, 0.1), "0.104");
        assert_eq!(beyond(0.105, 0.1), "0.105"); // 0.10499999…: "0.10" at two decimals
        assert_eq!(beyond(0.106, 0.1), "0.11");
        assert_eq!(beyond(0.42, 0.1), "0.42");
        assert_eq!(beyond(1.0, 0.1), "1.00");
        let tiny = 0.1 + 1e-16_f64.max(f64::EPSILON / 10.0);
        let shown = beyond(tiny, 0.1);
        assert!(shown.parse::<f64>().unwrap() > 0.1, "{shown}");
        assert_eq!(beyond(0.05, 0.1), "0.05");
        for v in [0.10000001, 0.1000049, 0.1049999, 0.1099] {
            let shown = beyond(v, 0.1);
            assert!(shown.parse::<f64>().unwrap() > 0.1, "{v} shown as {shown}");
        }
    }

    fn condition(c: Condition, other: Option<f64>) -> ConditionRun {
        ConditionRun {
            condition: c,
            victim: None,
            aggressors: Vec::new(),
            groups: Vec::new(),
            victim_cpu: CpuAccount {
                sandbox: "victim".into(),
                cpu_share: 0.5,
                cpu_share_expected: None,
                cpu_share_expected_reason: None,
                nr_periods: None,
                nr_throttled: None,
                throttled_us: None,
                nr_bursts: None,
                burst_us: None,
            },
            harness_cpu_share: 0.0,
            host_other_cpu_share: other,
            host_cpu: None,
            invalid: None,
            memory: None,
            neighbours: Vec::new(),
            pids: Vec::new(),
            cpu_pressure: Vec::new(),
        }
    }

    fn run_with(solo: &[Option<f64>]) -> Results {
        let mut s = ScenarioResult::started("cpu-share", "", serde_json::Value::Null);
        s.rounds = solo
            .iter()
            .enumerate()
            .map(|(i, v)| Round {
                index: i,
                order: vec![Condition::Solo, Condition::Isolated],
                conditions: vec![
                    condition(Condition::Solo, *v),
                    condition(Condition::Isolated, Some(0.004)),
                ],
            })
            .collect();
        let text = include_str!("../../reports/tests/fixtures/full-default.json");
        let mut r = Results::from_json(text).unwrap();
        r.scenarios = vec![s];
        r
    }

    #[test]
    fn only_conditions_with_a_round_beyond_the_limit_are_listed_with_their_rounds() {
        let r = run_with(&[Some(0.01), Some(0.1), Some(0.1003), None, Some(0.9)]);
        let d = of_run(&r, false);
        assert_eq!(d.disturbed.len(), 1, "{d:?}");
        let c = &d.disturbed[0];
        assert_eq!(
            (c.condition, c.rounds.clone()),
            (Condition::Solo, vec![2, 4])
        );
        assert_eq!(c.max_cpus, 0.9);
        assert!((c.mean_cpus - (0.01 + 0.1 + 0.1003 + 0.9) / 4.0).abs() < 1e-12);
        let line = summary(&d).unwrap();
        assert!(
            line.contains("cpu-share solo (rounds 2, 4; up to 0.90 CPUs)")
                && line.contains("UNFIT")
                && line.contains(FLAG),
            "{line}"
        );
        let accepted = summary(&of_run(&r, true)).unwrap();
        assert!(
            accepted.starts_with("disturbance accepted (--accept-disturbed)"),
            "{accepted}"
        );
        assert_eq!(summary(&of_run(&run_with(&[Some(0.02)]), true)), None);
    }

    #[test]
    fn a_single_round_at_the_edge_is_shown_beyond_the_limit() {
        let d = of_run(&run_with(&[Some(0.1002)]), false);
        assert_eq!(
            list(&d).unwrap(),
            "cpu-share solo (round 0; up to 0.1002 CPUs)"
        );
    }
}

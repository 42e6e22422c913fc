//! From a suite and the command line's overrides to a [`RunPlan`]'s suite:
//! the scenarios picked, the overrides applied, and the time it will take.

use crate::cgroup::{CpuMax, Layout, MemorySetting};
use crate::run::Refused;
use crate::sandbox::NamespaceSet;
use crate::suite::{Kind, LimitsDef, ScenarioDef, Suite};

/// What the command line changes in a suite; `None` and empty leave it as written.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    /// Only these scenarios, in the suite's order (`--scenario`).
    pub scenarios: Vec<String>,
    /// Rounds of every scenario (`--rounds`).
    pub rounds: Option<usize>,
    /// Measured window of every scenario, seconds (`--duration`).
    pub duration_s: Option<f64>,
    /// Warm-up of every scenario, seconds (`--warmup`).
    pub warmup_s: Option<f64>,
    /// CPU quota, in CPUs, of every isolation aggressor that has one (`--aggressor-cpus`).
    pub aggressor_cpus: Option<f64>,
    /// memory-pressure's arena, bytes (`--arena-memory`).
    pub arena_bytes: Option<u64>,
    /// memory-pressure's working set, bytes (`--working-set`).
    pub working_set_bytes: Option<u64>,
    /// memory-pressure's aggressor knobs (`--aggressor-memory`).
    pub aggressor_memory: Vec<MemorySetting>,
    /// startup-latency's samples (`--startup-samples`).
    pub startup_samples: Option<usize>,
    /// startup-latency's churn seconds (`--churn-seconds`).
    pub churn_s: Option<f64>,
    /// startup-latency's namespaces (`--namespaces`).
    pub namespaces: Option<NamespaceSet>,
}

/// Applies `o` to `suite`, keeping only the scenarios asked for.
///
/// # Errors
/// [`Refused`] naming the flag: an unknown or repeated `--scenario`, memory
/// sizes that do not fit together or knobs `layout` lacks, or a flag that no
/// selected scenario would use (it would be ignored without a word).
pub fn apply(suite: &mut Suite, o: &Overrides, layout: Option<Layout>) -> Result<(), Refused> {
    select(suite, &o.scenarios)?;
    check_used(suite, o)?;
    for s in &mut suite.scenarios {
        if let Some(r) = o.rounds {
            s.timing.rounds = r;
        }
        if let Some(d) = o.duration_s {
            s.timing.duration_s = d;
        }
        if let Some(w) = o.warmup_s {
            s.timing.warmup_s = w;
        }
        match &mut s.kind {
            Kind::Isolation(iso) => {
                if let Some(cpus) = o.aggressor_cpus {
                    for a in &mut iso.aggressors {
                        set_quota(&mut a.limits, cpus);
                    }
                    if let Some(why) = crate::suite::beyond_groups(iso).first() {
                        return Err(Refused(format!(
                            "--aggressor-cpus {cpus}: scenario {}: {why}",
                            s.name
                        )));
                    }
                }
            }
            Kind::MemoryPressure(m) => {
                m.arena_bytes = o.arena_bytes.or(m.arena_bytes);
                m.working_set_bytes = o.working_set_bytes.or(m.working_set_bytes);
                if !o.aggressor_memory.is_empty() {
                    m.aggressor_limits = Some(LimitsDef {
                        vocabulary: Some("command line".into()),
                        words: o
                            .aggressor_memory
                            .iter()
                            .map(|s| {
                                let v = s.bytes.map_or("max".into(), |b| b.to_string());
                                ("--aggressor-memory".into(), format!("{}={v}", s.knob))
                            })
                            .collect(),
                        qos: None,
                        files: Vec::new(),
                        not_written: Vec::new(),
                        resources: None,
                        limits: crate::cgroup::Limits {
                            memory: o.aggressor_memory.clone(),
                            ..Default::default()
                        },
                    });
                }
                let knobs = m
                    .aggressor_limits
                    .as_ref()
                    .map(|l| l.limits.memory.clone())
                    .unwrap_or_default();
                crate::scenario::memory_pressure::check_options(
                    m.arena_bytes,
                    m.working_set_bytes,
                    &knobs,
                    layout,
                )
                .map_err(|e| Refused(format!("scenario {}: {e}", s.name)))?;
            }
            Kind::StartupLatency(st) => {
                st.samples = o.startup_samples.or(st.samples);
                st.churn_s = o.churn_s.or(st.churn_s);
                st.namespaces = o.namespaces.or(st.namespaces);
            }
            Kind::Visibility(_) | Kind::MemoryHighStall => {}
        }
    }
    Ok(())
}

/// Refuses a kind-specific flag that no selected scenario of `suite` takes.
fn check_used(suite: &Suite, o: &Overrides) -> Result<(), Refused> {
    let has = |f: &dyn Fn(&Kind) -> bool| suite.scenarios.iter().any(|s| f(&s.kind));
    let quota = has(&|k| {
        matches!(k, Kind::Isolation(iso) if iso.aggressors.iter().any(|a| {
            a.limits.limits.cpu_max.is_some_and(|m| m.quota_us.is_some())
        }))
    });
    let memory = has(&|k| matches!(k, Kind::MemoryPressure(_)));
    let startup = has(&|k| matches!(k, Kind::StartupLatency(_)));
    let groups = [
        (
            quota,
            "an isolation aggressor with a CPU quota",
            vec![("--aggressor-cpus", o.aggressor_cpus.is_some())],
        ),
        (
            memory,
            "a memory-pressure scenario",
            vec![
                ("--arena-memory", o.arena_bytes.is_some()),
                ("--working-set", o.working_set_bytes.is_some()),
                ("--aggressor-memory", !o.aggressor_memory.is_empty()),
            ],
        ),
        (
            startup,
            "a startup-latency scenario",
            vec![
                ("--startup-samples", o.startup_samples.is_some()),
                ("--churn-seconds", o.churn_s.is_some()),
                ("--namespaces", o.namespaces.is_some()),
            ],
        ),
    ];
    let unused = groups
        .iter()
        .filter(|(used, _, _)| !used)
        .find_map(|(_, needs, flags)| {
            flags
                .iter()
                .find(|(_, set)| *set)
                .map(|(flag, _)| (flag, needs))
        });
    match unused {
        Some((flag, needs)) => Err(Refused(format!(
            "{flag} applies to {needs}, and the scenarios to run ({}) have none: it would change nothing; drop it or pick such a scenario",
            suite
                .scenarios
                .iter()
                .map(|s| s.name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ))),
        None => Ok(()),
    }
}

/// Keeps the scenarios named in `wanted` (all when empty).
fn select(suite: &mut Suite, wanted: &[String]) -> Result<(), Refused> {
    if let Some((_, dup)) = wanted
        .iter()
        .enumerate()
        .find(|(i, s)| wanted[..*i].contains(s))
    {
        return Err(Refused(format!(
            "--scenario {dup} is given twice: name each scenario once"
        )));
    }
    let names: Vec<&str> = suite.scenarios.iter().map(|s| s.name.as_str()).collect();
    if let Some(bad) = wanted.iter().find(|w| !names.contains(&w.as_str())) {
        return Err(Refused(format!(
            "unknown scenario {bad:?} for --scenario: suite {} has {}",
            suite.name,
            names.join(", ")
        )));
    }
    if !wanted.is_empty() {
        suite.scenarios.retain(|s| wanted.contains(&s.name));
    }
    Ok(())
}

/// Replaces the CPU quota of `limits`, if it has one, by `cpus` over its period.
fn set_quota(limits: &mut LimitsDef, cpus: f64) {
    let Some(max) = limits.limits.cpu_max.filter(|m| m.quota_us.is_some()) else {
        return;
    };
    limits.limits.cpu_max = Some(CpuMax {
        quota_us: Some((cpus * max.period_us as f64).round() as u64),
        period_us: max.period_us,
    });
    limits
        .words
        .push(("--aggressor-cpus".into(), cpus.to_string()));
}

/// Seconds a run of `suite` takes on about 2 CPUs, from the windows, rounds and
/// what each kind adds (start-up of sandboxes, arena fills), for the plan line
/// printed before it starts. `layout` says whether memory-high-stall runs.
pub fn estimate_s(suite: &Suite, layout: Option<Layout>) -> f64 {
    suite
        .scenarios
        .iter()
        .map(|s| scenario_estimate_s(s, layout))
        .sum::<f64>()
        + 2.0
}

/// Seconds scenario `s` takes on about 2 CPUs (see [`estimate_s`]).
pub fn scenario_estimate_s(s: &ScenarioDef, layout: Option<Layout>) -> f64 {
    let t = s.timing;
    let window = t.warmup_s + t.duration_s;
    match &s.kind {
        // Sandboxes start and stop, aggressors run past the window to report.
        Kind::Isolation(iso) => {
            let overrun = crate::scenario::isolation::AGGRESSOR_OVERRUN_S;
            // Without aggressors (a sweep's step at intensity 0) nothing overruns.
            let with_aggressors = iso
                .conditions
                .iter()
                .filter(|c| c.as_str() != "solo" && !iso.aggressors.is_empty());
            t.rounds as f64
                * (iso.conditions.len() as f64 * (window + 0.1)
                    + with_aggressors.count() as f64 * overrun)
        }
        // Each condition fills a 2 GiB arena (measured 1.4–5.7 s).
        Kind::MemoryPressure(_) => t.rounds as f64 * 3.0 * (window + 2.0),
        Kind::MemoryHighStall if layout == Some(Layout::V2) => 15.0,
        Kind::MemoryHighStall => 0.0,
        // The namespace checks take about 3 s; cpu-view runs Java and Node in
        // its sandbox (the whole scenario took 4.8 s with the default suite's
        // half CPU on the 2-CPU development host).
        Kind::Visibility(_) => 5.0,
        Kind::StartupLatency(_) => 20.0,
    }
}

//! CPU pressure of each sandbox and whose doing it is: its own quota, or a
//! neighbour (case C12, kubernetes/enhancements #5062: a pod throttled by its
//! own limit showed `cpu.pressure` some ≈ 58 % on an idle node).
//!
//! Per sandbox and window: PSI `cpu.pressure` some and full as Δtotal / Δwall
//! (Documentation/accounting/psi.rst; on a hybrid host from the sandbox's twin
//! in the cgroup2 tree, [`Cgroup::psi_dir`]) and the time its quota throttled
//! it, Δ`throttled_usec` (v2) or Δ`throttled_time` (v1, ns) over Δwall.
//!
//! Why the two can be compared: kernel/sched/psi.c counts a cgroup's CPU stall
//! (`PSI_CPU_SOME`) whenever it has more runnable tasks than tasks on a CPU
//! (`tasks[NR_RUNNING] > tasks[NR_ONCPU]`, `test_state()`). CFS bandwidth
//! throttling (kernel/sched/fair.c, `throttle_cfs_rq`) takes the group's
//! runqueue off the CPU but leaves its tasks runnable: PSI is told only when a
//! task is enqueued or dequeued as such (`psi_enqueue`/`psi_dequeue` in
//! kernel/sched/core.c), so every µs in which a throttled group has a runnable
//! task is stall time in its `cpu.pressure` (and `full` too, none of its tasks
//! running). A sandbox under `cpu.max = 20000 100000` that always wants a CPU is
//! throttled 80 ms of every 100 ms and reads some ≈ 80 % with no neighbour at all.
//!
//! The rule ([`attribute`]): with `s` the PSI some share and `θ` the throttled
//! share of the same window, the stall is
//! - **no stall** when `s` < [`STALL_FLOOR`] (5 % of the window);
//! - **self-inflicted (throttling)** when `θ ≥` [`EXPLAINED_PART`] `× s`: its own
//!   quota accounts for at least half the stall time. `θ` sums the throttled
//!   time of each CPU (cpu.stat), while PSI some counts a stalled instant once,
//!   so a sandbox throttled on several CPUs at once can read `θ > s`;
//! - **neighbour** otherwise: most of the stall happened while the quota did
//!   not hold it, so other tasks held the CPUs it wanted.

use crate::cgroup::Cgroup;
use crate::cgroup::psi::{self, PsiTotals, Resource};
use isobench_reports::schema::{
    Condition, CpuAccount, CpuPressure, Interval, Metric, PressureVerdict, ScenarioResult,
    StallCause,
};

use super::metrics::{ConditionSample, metric, per_round};

/// PSI some share under which a sandbox did not stall (0..1): 5 % of the
/// window. An unconfined spinner alone on an idle 2-CPU host reads 0–2 %
/// (kernel threads and the harness's own wake-ups take its CPU now and then).
pub const STALL_FLOOR: f64 = 0.05;

/// Part of the PSI some share that the throttled share must reach for the
/// stall to be the sandbox's own quota's doing: one half.
pub const EXPLAINED_PART: f64 = 0.5;

/// Whose doing a stall of PSI some share `some` was, beside throttled share
/// `throttled` of the same window (module docs); `throttled` is `None` where
/// cpu.stat has no throttled time (no quota can have throttled it: then the
/// stall is a neighbour's).
pub fn attribute(some: f64, throttled: Option<f64>) -> StallCause {
    if some < STALL_FLOOR {
        StallCause::NoStall
    } else if throttled.is_some_and(|t| t >= EXPLAINED_PART * some) {
        StallCause::SelfInflicted
    } else {
        StallCause::Neighbour
    }
}

/// The `cpu.pressure` totals of some cgroups at one edge of a window, or why
/// each could not be read.
#[derive(Debug)]
pub struct Edge(Vec<Result<PsiTotals, String>>);

impl Edge {
    /// Reads `cpu.pressure` of each of `cgs`, in order.
    pub fn read(cgs: &[&Cgroup]) -> Edge {
        Edge(cgs.iter().map(|cg| read(cg)).collect())
    }
}

/// `cpu.pressure` of `cg`, or why there is none.
fn read(cg: &Cgroup) -> Result<PsiTotals, String> {
    match cg.psi_dir() {
        Some(dir) => psi::read(&dir.join(Resource::Cpu.cgroup_file())).map_err(|e| e.to_string()),
        None => Err("PSI absent: a v1 layout has no per-cgroup pressure files".into()),
    }
}

/// The CPU pressure of each sandbox whose CPU account is in `cpu` (in the
/// order of the cgroups the edges were read from) over a window of `wall_s`
/// seconds between `before` and `after`.
pub fn accounts(before: &Edge, after: &Edge, cpu: &[&CpuAccount], wall_s: f64) -> Vec<CpuPressure> {
    before
        .0
        .iter()
        .zip(&after.0)
        .zip(cpu)
        .map(|((b, a), c)| account(b, a, c, wall_s))
        .collect()
}

fn account(
    before: &Result<PsiTotals, String>,
    after: &Result<PsiTotals, String>,
    cpu: &CpuAccount,
    wall_s: f64,
) -> CpuPressure {
    let share = match (before, after) {
        (Ok(b), Ok(a)) if wall_s > 0.0 => Ok(a.share_since(b, wall_s)),
        (Err(why), _) | (_, Err(why)) => Err(why.clone()),
        _ => Err("empty window".to_string()),
    };
    let throttled_share = cpu.throttled_us.map(|us| us as f64 / 1e6 / wall_s);
    CpuPressure {
        sandbox: cpu.sandbox.clone(),
        some: share.as_ref().ok().map(|s| s.some),
        full: share.as_ref().ok().and_then(|s| s.full),
        psi_unavailable: share.as_ref().err().cloned(),
        throttled_share,
        throttled_unavailable: throttled_share.is_none().then(|| {
            "cpu.stat has no throttled time (throttled_usec on v2, throttled_time on v1): the cpu controller is \
             not on for this cgroup"
                .to_string()
        }),
        cause: share.ok().map(|s| attribute(s.some, throttled_share)),
    }
}

/// Picks one figure of a [`CpuPressure`].
type Figure = fn(&CpuPressure) -> Option<f64>;

/// The figures of one sandbox's [`CpuPressure`] as metrics: `<sandbox>.psi_cpu_some`,
/// `.psi_cpu_full` and `.throttled_share` (each a share of the window).
const FIGURES: [(&str, Figure); 3] = [
    ("psi_cpu_some", |p| p.some),
    ("psi_cpu_full", |p| p.full),
    ("throttled_share", |p| p.throttled_share),
];

/// Why a figure of `FIGURES` is null: what the rounds recorded, else the condition did not run.
fn reason(rounds: &[Vec<ConditionSample>], sandbox: &str, c: Condition, figure: &str) -> String {
    let recorded = rounds
        .iter()
        .flatten()
        .filter(|s| s.run.condition == c)
        .flat_map(|s| &s.run.cpu_pressure)
        .filter(|p| p.sandbox == sandbox)
        .find_map(|p| match figure {
            "throttled_share" => p.throttled_unavailable.clone(),
            "psi_cpu_full" if p.psi_unavailable.is_none() => {
                Some("cpu.pressure has no `full` line (cgroups have it from Linux 5.13)".into())
            }
            _ => p.psi_unavailable.clone(),
        });
    recorded.unwrap_or_else(|| "no round ran this condition".into())
}

/// The CPU pressure metrics of every sandbox in every condition it ran in
/// (the victim in solo too), means over the valid rounds with their CIs.
pub fn metrics(rounds: &[Vec<ConditionSample>]) -> Vec<Metric> {
    let mut sandboxes: Vec<&str> = Vec::new();
    for p in rounds.iter().flatten().flat_map(|s| &s.run.cpu_pressure) {
        if !sandboxes.contains(&p.sandbox.as_str()) {
            sandboxes.push(&p.sandbox);
        }
    }
    let mut m = Vec::new();
    for sandbox in sandboxes {
        for c in Condition::ALL {
            let ran = rounds.iter().flatten().any(|s| {
                s.run.condition == c && s.run.cpu_pressure.iter().any(|p| p.sandbox == sandbox)
            });
            if !ran {
                continue;
            }
            for (figure, pick) in FIGURES {
                let value = |s: &ConditionSample| {
                    s.run
                        .cpu_pressure
                        .iter()
                        .find(|p| p.sandbox == sandbox)
                        .and_then(pick)
                };
                m.push(metric(
                    &format!("{sandbox}.{figure}"),
                    Some(c),
                    "share",
                    per_round(rounds, c, &value),
                    &reason(rounds, sandbox, c, figure),
                ));
            }
        }
    }
    m
}

/// Whose doing each sandbox's CPU pressure was in each condition but solo,
/// from the means of its metrics (victim first); empty where none was measured.
pub fn verdicts(result: &ScenarioResult) -> Vec<PressureVerdict> {
    let find = |name: &str, c: Condition| {
        result
            .metrics
            .iter()
            .find(|m| m.name == name && m.condition == Some(c))
    };
    let interval = |m: &Metric| {
        m.value.map(|v| Interval {
            value: v,
            lower: m.lower.unwrap_or(v),
            upper: m.upper.unwrap_or(v),
        })
    };
    let mut out = Vec::new();
    for m in &result.metrics {
        let (Some(sandbox), Some(c)) = (m.name.strip_suffix(".psi_cpu_some"), m.condition) else {
            continue;
        };
        if c == Condition::Solo {
            continue;
        }
        let Some(some) = interval(m) else { continue };
        let throttled_metric = find(&format!("{sandbox}.throttled_share"), c);
        let throttled = throttled_metric.and_then(interval);
        out.push(PressureVerdict {
            sandbox: sandbox.to_string(),
            condition: c,
            some,
            throttled,
            throttled_unavailable: throttled_metric
                .filter(|_| throttled.is_none())
                .and_then(|t| t.reason.clone()),
            cause: attribute(some.value, throttled.map(|t| t.value)),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cpu(throttled_us: Option<u64>) -> CpuAccount {
        CpuAccount {
            sandbox: "victim".into(),
            cpu_share: 0.2,
            cpu_share_expected: None,
            cpu_share_expected_reason: None,
            nr_periods: Some(30),
            nr_throttled: Some(30),
            throttled_us,
            nr_bursts: None,
            burst_us: None,
        }
    }

    fn totals(some_us: u64, full_us: u64) -> Result<PsiTotals, String> {
        Ok(PsiTotals {
            some_us,
            full_us: Some(full_us),
        })
    }

    #[test]
    fn c12_stall_explained_by_throttling_is_self_inflicted() {
        // 3 s under cpu.max 20000 100000: 2.4 s throttled, 2.4 s of stall.
        let p = accounts(
            &Edge(vec![totals(0, 0)]),
            &Edge(vec![totals(2_400_000, 2_390_000)]),
            &[&cpu(Some(2_400_000))],
            3.0,
        );
        assert!((p[0].some.unwrap() - 0.8).abs() < 1e-9);
        assert!((p[0].throttled_share.unwrap() - 0.8).abs() < 1e-9);
        assert_eq!(p[0].cause, Some(StallCause::SelfInflicted));
    }

    #[test]
    fn c12_stall_without_throttling_is_a_neighbours() {
        assert_eq!(attribute(0.33, Some(0.0)), StallCause::Neighbour);
        assert_eq!(attribute(0.33, None), StallCause::Neighbour);
        // Throttled for a fifth of a 60 % stall: most of it was not its quota's doing.
        assert_eq!(attribute(0.6, Some(0.12)), StallCause::Neighbour);
        assert_eq!(attribute(0.6, Some(0.3)), StallCause::SelfInflicted);
        // Throttled on two CPUs at once: throttled time beyond the stall share.
        assert_eq!(attribute(0.5, Some(0.9)), StallCause::SelfInflicted);
    }

    #[test]
    fn a_stall_under_the_floor_is_no_stall_even_when_throttled() {
        assert_eq!(attribute(0.01, Some(0.01)), StallCause::NoStall);
        assert_eq!(attribute(0.049, None), StallCause::NoStall);
    }

    #[test]
    fn c06_missing_psi_is_null_with_its_reason_and_no_cause() {
        let p = accounts(
            &Edge(vec![Err("PSI absent: no x/cpu.pressure".into())]),
            &Edge(vec![totals(5, 5)]),
            &[&cpu(None)],
            1.0,
        );
        assert_eq!((p[0].some, p[0].full, p[0].cause), (None, None, None));
        assert_eq!(
            p[0].psi_unavailable.as_deref(),
            Some("PSI absent: no x/cpu.pressure")
        );
        assert!(
            p[0].throttled_unavailable
                .as_deref()
                .unwrap()
                .starts_with("cpu.stat has no throttled time"),
        );
    }
}

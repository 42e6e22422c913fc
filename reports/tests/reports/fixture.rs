//! A realistic results document: a complete `cpu-share` scenario (3 rounds × 3
//! conditions, every CPU-share and victim metric, one metric unavailable) and a
//! `memory-high` scenario that failed after one round.

use isobench_reports::schema::*;
use std::collections::BTreeMap;

/// Reason given for the metric that could not be measured.
pub const PSI_REASON: &str = "PSI is disabled on this kernel (boot with psi=1)";

/// Victim figures of one condition: throughput (ops/s) and p50, p99, p99.9 (µs).
struct Victim {
    throughput_ops: f64,
    p50_us: f64,
    p99_us: f64,
    p999_us: f64,
}

const SOLO: Victim = Victim {
    throughput_ops: 10_000.0,
    p50_us: 82.0,
    p99_us: 250.0,
    p999_us: 610.0,
};
const CONTENDED: Victim = Victim {
    throughput_ops: 6_100.0,
    p50_us: 140.0,
    p99_us: 1_200.0,
    p999_us: 4_800.0,
};
const ISOLATED: Victim = Victim {
    throughput_ops: 9_900.0,
    p50_us: 84.0,
    p99_us: 260.0,
    p999_us: 700.0,
};

fn victim(condition: Condition) -> &'static Victim {
    match condition {
        Condition::Solo => &SOLO,
        Condition::Contended => &CONTENDED,
        Condition::Isolated => &ISOLATED,
    }
}

/// A metric whose value is the mean of `per_round`, with an interval around it.
pub fn metric(name: &str, condition: Option<Condition>, unit: &str, per_round: [f64; 3]) -> Metric {
    let mean = per_round.iter().sum::<f64>() / 3.0;
    let spread = per_round
        .iter()
        .map(|v| (v - mean).abs())
        .fold(0.0, f64::max);
    Metric {
        name: name.into(),
        condition,
        unit: unit.into(),
        value: Some(mean),
        lower: Some(mean - spread),
        upper: Some(mean + spread),
        per_round: per_round.map(Some).to_vec(),
        reason: None,
    }
}

/// `value` in three rounds, ±1 %.
fn rounds(value: f64) -> [f64; 3] {
    [value * 0.99, value, value * 1.01]
}

fn cpu_share_metrics() -> Vec<Metric> {
    use Condition::{Contended, Isolated};
    let mut metrics = vec![
        metric("aggressor.cpu_share", Some(Contended), "CPUs", rounds(1.46)),
        metric(
            "aggressor.cpu_share",
            Some(Isolated),
            "CPUs",
            [0.497, 0.500, 0.503],
        ),
        metric(
            "aggressor.cpu_share_expected",
            Some(Isolated),
            "CPUs",
            [0.5; 3],
        ),
        metric(
            "aggressor.cpu_share_error_pp",
            Some(Isolated),
            "pp",
            [-0.3, 0.0, 0.3],
        ),
        metric(
            "aggressor.throttled_ratio",
            Some(Isolated),
            "share",
            rounds(0.62),
        ),
    ];
    for condition in Condition::ALL {
        let v = victim(condition);
        let c = Some(condition);
        metrics.push(metric(
            "victim.throughput_ops",
            c,
            "ops/s",
            rounds(v.throughput_ops),
        ));
        metrics.push(metric("victim.latency_p50_us", c, "us", rounds(v.p50_us)));
        metrics.push(metric("victim.latency_p99_us", c, "us", rounds(v.p99_us)));
        metrics.push(metric("victim.latency_p999_us", c, "us", rounds(v.p999_us)));
    }
    metrics.extend([
        metric(
            "victim.retained_throughput",
            Some(Contended),
            "share",
            [0.60, 0.61, 0.62],
        ),
        metric(
            "victim.retained_throughput",
            Some(Isolated),
            "share",
            [0.98, 0.99, 1.0],
        ),
        metric(
            "victim.latency_impact_p99",
            Some(Contended),
            "ratio",
            [3.7, 3.8, 3.9],
        ),
        metric(
            "victim.latency_impact_p99",
            Some(Isolated),
            "ratio",
            [0.03, 0.04, 0.05],
        ),
        Metric {
            name: "victim.cpu_pressure_some_us".into(),
            condition: Some(Isolated),
            unit: "us".into(),
            value: None,
            lower: None,
            upper: None,
            per_round: vec![None; 3],
            reason: Some(PSI_REASON.into()),
        },
    ]);
    metrics
}

/// Quantile points of a latency distribution through p50, p99 and p99.9.
fn cdf(condition: Condition) -> LatencyCdf {
    let v = victim(condition);
    let quantiles = [
        0.0, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 0.995, 0.999, 0.9995, 0.9999, 1.0,
    ];
    let points = quantiles
        .iter()
        .map(|&q| {
            // The maximum (q = 1) continues the tail a little past 99.99.
            let x = if q < 1.0 { -(1.0f64 - q).log10() } else { 4.3 };
            let latency = if x <= 2.0 {
                // log-linear from p50 (x = log10 2) to p99 (x = 2)
                v.p50_us * (v.p99_us / v.p50_us).powf((x - 2f64.log10()) / (2.0 - 2f64.log10()))
            } else {
                v.p99_us * (v.p999_us / v.p99_us).powf(x - 2.0)
            };
            (q, latency)
        })
        .collect();
    LatencyCdf { condition, points }
}

fn account(sandbox: &str, cpu_share: f64, expected: Option<f64>) -> CpuAccount {
    CpuAccount {
        sandbox: sandbox.into(),
        cpu_share,
        cpu_share_expected: expected,
        cpu_share_expected_reason: None,
        nr_periods: Some(100),
        nr_throttled: expected.map(|_| 62),
        throttled_us: expected.map(|_| 1_240_000),
        nr_bursts: Some(0),
        burst_us: Some(0),
    }
}

fn round(index: usize, order: [Condition; 3]) -> Round {
    let conditions = order
        .iter()
        .map(|&condition| {
            let v = victim(condition);
            let aggressors = match condition {
                Condition::Solo => vec![],
                Condition::Contended => vec![account("aggressor", 1.46, None)],
                Condition::Isolated => vec![account("aggressor", 0.5, Some(0.5))],
            };
            ConditionRun {
                condition,
                victim: Some(VictimRun {
                    ops: (v.throughput_ops * 10.0) as u64,
                    window_s: 10.0,
                    throughput_ops: v.throughput_ops,
                    latency_p50_us: v.p50_us,
                    latency_p99_us: v.p99_us,
                    latency_p999_us: v.p999_us,
                    latency_max_us: v.p999_us * 1.8,
                    late_share: Some(0.01),
                }),
                aggressors,
                groups: Vec::new(),
                victim_cpu: account("victim", 0.98, None),
                harness_cpu_share: 0.01,
                host_other_cpu_share: Some(0.02),
                host_cpu: None,
                invalid: None,
                memory: None,
                neighbours: Vec::new(),
                pids: Vec::new(),
                cpu_pressure: Vec::new(),
            }
        })
        .collect();
    Round {
        index,
        order: order.to_vec(),
        conditions,
    }
}

fn interval(value: f64, lower: f64, upper: f64) -> Interval {
    Interval {
        value,
        lower,
        upper,
    }
}

/// The cpu-share scenario's verdict: the limits halved the late units and left the p99.
pub fn verdict() -> Verdict {
    let measure =
        |measure: &str, unit: &str, floor, solo, c, i, e: Option<Interval>, kind| MeasureVerdict {
            measure: measure.into(),
            excess_unit: unit.into(),
            noise_floor: floor,
            solo,
            contended_excess: c,
            isolated_excess: i,
            effectiveness: e,
            kind,
            isolation_worse: false,
            isolated_over_contended: None,
        };
    Verdict {
        kind: VerdictKind::PartlyProtected,
        reason: "late units vs solo: +9.9 pp [+6.9, +12.9] contended".into(),
        rounds_used: 3,
        measures: vec![
            measure(
                "p99",
                "ratio",
                0.1,
                interval(120.0, 110.0, 130.0),
                interval(3.8, 3.1, 4.4),
                interval(3.6, 2.9, 4.3),
                Some(interval(0.05, -0.2, 0.3)),
                VerdictKind::NotProtected,
            ),
            measure(
                "late_share",
                "share",
                0.01,
                interval(0.003, 0.001, 0.005),
                interval(0.099, 0.069, 0.129),
                interval(0.046, 0.032, 0.061),
                Some(interval(0.54, 0.38, 0.68)),
                VerdictKind::PartlyProtected,
            ),
            measure(
                "throughput",
                "share",
                0.02,
                interval(10000.0, 9990.0, 10010.0),
                interval(0.001, -0.001, 0.003),
                interval(0.0, -0.001, 0.001),
                None,
                VerdictKind::NoInterference,
            ),
        ],
        slo: None,
        disturbed: None,
        cpu_pressure: Vec::new(),
    }
}

/// The results document.
pub fn results() -> Results {
    use Condition::{Contended, Isolated, Solo};
    let cpu_share = ScenarioResult {
        name: "cpu-share".into(),
        description: "Does cpu.max hold a CPU-bound aggressor to half a CPU while the victim keeps its latency?".into(),
        spec: serde_json::json!({
            "victim": {"workload": "cpu-units", "unit_us": 50, "rate_ops": 10000},
            "aggressor": {"workload": "spin", "threads": 4},
            "limits": {"aggressor": {"cpu.max": "50000 100000"}},
            "namespaces": ["pid", "mnt", "uts", "ipc", "net", "cgroup"],
            "warmup_s": 2, "window_s": 10, "rounds": 3
        }),
        status: ScenarioStatus::Complete,
        rounds: vec![
            round(0, [Solo, Isolated, Contended]),
            round(1, [Contended, Solo, Isolated]),
            round(2, [Isolated, Contended, Solo]),
        ],
        latency_cdf: Condition::ALL.map(cdf).to_vec(),
        slice_timelines: vec![],
        metrics: cpu_share_metrics(),
        warnings: vec![
            "aggressor throttled in 62 % of periods while its mean usage is under its quota: check cpu.max period (see DESIGN §2)".into(),
        ],
        checks: vec![],
        cpu_view: None,
        startup: None,
        verdict: Some(verdict()),
    };
    let memory_high = ScenarioResult {
        name: "memory-high".into(),
        description:
            "Does memory.high keep a leaking aggressor from evicting the victim's page cache?"
                .into(),
        spec: serde_json::json!({"limits": {"aggressor": {"memory.high": "64M"}}}),
        status: ScenarioStatus::Failed(
            "writing \"64M\" to isobench-r1/aggressor/memory.high: Permission denied".into(),
        ),
        rounds: vec![round(0, [Contended, Solo, Isolated])],
        latency_cdf: vec![cdf(Solo), cdf(Contended)],
        slice_timelines: vec![],
        metrics: vec![
            metric("victim.throughput_ops", Some(Solo), "ops/s", [10_000.0; 3]),
            metric(
                "victim.retained_throughput",
                Some(Contended),
                "share",
                [0.8; 3],
            ),
        ],
        warnings: vec![],
        checks: vec![],
        cpu_view: None,
        startup: None,
        verdict: None,
    };
    Results {
        schema_version: SCHEMA_VERSION,
        isobench_version: "0.1.0".into(),
        command_line: [
            "isobench",
            "run",
            "--suite",
            "suites/cpu.toml",
            "--rounds",
            "3",
        ]
        .map(String::from)
        .to_vec(),
        run_id: "20250114T093012Z-7f3a".into(),
        started_at: "2025-01-14T09:30:12Z".into(),
        host: HostFingerprint {
            kernel: "6.8.0-51-generic".into(),
            layout: "v2".into(),
            cpu_model: Some("AMD EPYC 7443P 24-Core Processor".into()),
            cpus: 48,
            cpus_allowed: 4,
            smt: Reading::Value("on".into()),
            governor: Reading::Unavailable(
                "/sys/devices/system/cpu/cpu0/cpufreq: No such file or directory".into(),
            ),
            virtualised: false,
            harness_cgroup_limits: BTreeMap::from([
                ("cpu.max".into(), "max 100000".into()),
                ("memory.max".into(), "max".into()),
            ]),
            environment: Some(Environment {
                kind: EnvironmentKind::Container,
                runtime: Some("podman 4.3.1".into()),
                orchestrator: None,
                evidence: vec![r#"/run/.containerenv exists (engine="podman-4.3.1")"#.into()],
            }),
        },
        doctor: Doctor {
            layout: "v2".into(),
            checks: vec![
                Check {
                    name: "controller cpu".into(),
                    status: CheckStatus::Ok,
                    detail: "/sys/fs/cgroup/cgroup.controllers".into(),
                },
                Check {
                    name: "namespace net".into(),
                    status: CheckStatus::Ok,
                    detail: "unshare(CLONE_NEWNET)".into(),
                },
                Check {
                    name: "psi".into(),
                    status: CheckStatus::Unavailable,
                    detail: "/proc/pressure/cpu: EOPNOTSUPP".into(),
                },
            ],
        },
        scenarios: vec![cpu_share, memory_high],
        warnings: vec![],
        suite: None,
        disturbance: None,
        sweep: None,
    }
}

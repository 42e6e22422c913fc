//! `isobench sweep` (issue 17): one scenario run at a list of values of one
//! knob, its steps' rounds interleaved in random order. The document keeps
//! each step as an ordinary scenario (named `<scenario>@<knob>=<value>`, with
//! its rounds, metrics and verdict); this part holds the curves drawn from
//! them and the knee of each condition (docs/results-schema.md, "sweep").

use crate::schema::{Condition, Interval};
use serde::{Deserialize, Serialize};

/// The sweep of a run: what was swept, the steps, and per condition the curve and its knee.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Sweep {
    /// The suite's scenario swept.
    pub scenario: String,
    /// The swept knob, e.g. `aggressor.intensity`, `victim.cpus`, `aggressor.memory`.
    pub over: String,
    /// Unit of the steps' values: `%` (intensity), `CPUs` (a CPU quota), `bytes` (memory.max).
    pub unit: String,
    /// The steps, by ascending value.
    pub steps: Vec<SweepStep>,
    /// Rounds planned; each runs every step once, the steps in random order.
    pub rounds: usize,
    /// The order of the steps in each round run so far (indices into `steps`).
    pub orders: Vec<Vec<usize>>,
    /// A step's p99 has risen "beyond the noise" when the lower bound of the
    /// 95 % CI of its ratio against the first step's exceeds this (×1.2: 20 %).
    pub knee_margin: f64,
    /// One curve per condition, in the scenario's order of conditions.
    pub curves: Vec<SweepCurve>,
    /// The estimate printed before the run, seconds.
    pub estimate_s: f64,
    /// Wall time from the start of the run to the end of the last round, seconds;
    /// null while the sweep runs.
    pub elapsed_s: Option<f64>,
}

/// One swept value.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SweepStep {
    /// The value, in the sweep's unit.
    pub value: f64,
    /// The value for people, e.g. `25 %`, `0.5 CPUs`, `256 MiB`; with what it
    /// means where that is not plain (`0 % (neighbour left out)`).
    pub label: String,
    /// The name of the step's scenario in `scenarios`.
    pub scenario: String,
}

/// The victim's figures against the swept value in one condition.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SweepCurve {
    /// Which condition.
    pub condition: Condition,
    /// One point per step, in the order of `steps`.
    pub points: Vec<SweepPoint>,
    /// The first step at which the victim's p99 rose beyond the noise.
    pub knee: Knee,
}

/// The victim in one condition at one step: means over rounds with their
/// bootstrap 95 % CIs (harness `stats::bootstrap`); null with the reason when
/// the step measured no valid round of it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SweepPoint {
    /// `victim.latency_p99_us`, µs.
    pub p99_us: Option<Interval>,
    /// `victim.late_share`, 0..1.
    pub late_share: Option<Interval>,
    /// `victim.throughput_ops`, ops/s.
    pub throughput_ops: Option<Interval>,
    /// The p99's ratio against the first step's, with the bootstrap CI over
    /// rounds (harness `stats::change`); null at the first step and where either lacks valid rounds.
    pub p99_ratio: Option<Interval>,
    /// Valid rounds of the condition at this step.
    pub valid_rounds: usize,
    /// Why a figure is null (every round invalid, and why), if one is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unavailable: Option<String>,
}

/// The knee of one condition's curve.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Knee {
    /// The victim's p99 at step `step` is beyond the noise above the first step's.
    At {
        /// Index into the sweep's steps.
        step: usize,
        /// Its value, in the sweep's unit.
        value: f64,
        /// The p99's ratio against the first step, with its CI (the lower bound above the margin).
        ratio: Interval,
    },
    /// No step's p99 rose beyond the noise within the swept range.
    NoneWithinRange {
        /// The largest ratio seen against the first step, with its CI; null with one step.
        largest: Option<Interval>,
    },
    /// Whether and where the p99 rose cannot be told: a step before any rise had too few valid rounds.
    Undetermined {
        /// Why, naming the step.
        reason: String,
    },
}

impl Knee {
    /// For people: `at 50 % (p99 ×2.31 [×1.62, ×3.10] of the first step)`,
    /// `no knee within the swept range`, or `undetermined: <why>`.
    pub fn describe(&self, steps: &[SweepStep]) -> String {
        match self {
            Knee::At { step, ratio, .. } => format!(
                "at {} (p99 ×{:.2} [×{:.2}, ×{:.2}] of the first step)",
                steps.get(*step).map_or("?", |s| s.label.as_str()),
                ratio.value,
                ratio.lower,
                ratio.upper
            ),
            Knee::NoneWithinRange { largest: Some(r) } => format!(
                "no knee within the swept range (largest p99 ratio against the first step ×{:.2} [×{:.2}, ×{:.2}])",
                r.value, r.lower, r.upper
            ),
            Knee::NoneWithinRange { largest: None } => "no knee within the swept range".into(),
            Knee::Undetermined { reason } => format!("undetermined: {reason}"),
        }
    }
}

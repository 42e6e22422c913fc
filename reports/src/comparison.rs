//! The comparison document (`compare.json`) that `isobench compare` writes: every
//! gated metric of CURRENT against BASELINE with its bootstrap CI, margin and
//! outcome (DESIGN §3). The renderers turn it into compare.md and a forest plot.

use crate::schema::Condition;
use serde::{Deserialize, Serialize};

/// Version of this document's schema.
pub const COMPARISON_VERSION: u32 = 1;

/// One comparison of two runs.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Comparison {
    /// [`COMPARISON_VERSION`].
    pub schema_version: u32,
    /// The run compared against.
    pub baseline: RunRef,
    /// The run judged.
    pub current: RunRef,
    /// Fingerprint fields that differ, e.g. `kernel: 6.1.0 → 6.6.0`.
    pub fingerprint_differences: Vec<String>,
    /// Compared despite differing fingerprints (`--force`).
    pub forced: bool,
    /// Why the host or the runs are unfit for a verdict (exit 2), e.g. a CPU quota on the runner.
    pub unfit: Vec<String>,
    /// Judged although other work on the host disturbed a run (`--accept-disturbed`).
    #[serde(default)]
    pub accept_disturbed: bool,
    /// Disturbance that would have made the runs unfit and was accepted with
    /// `--accept-disturbed`: one sentence per disturbed scenario and condition,
    /// with the CPU other work used there.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub accepted_disturbance: Vec<String>,
    /// Every metric present in both runs, gated or not.
    pub rows: Vec<ComparedMetric>,
    /// What could not be compared and why, e.g. `scenario visibility: not in the baseline`.
    pub not_compared: Vec<String>,
    /// 0 all pass, 1 a regression, 2 inconclusive or unfit, 3 error.
    pub exit_code: u8,
    /// One sentence: the overall verdict.
    pub verdict: String,
}

/// Which results file a side of the comparison came from.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct RunRef {
    /// Path as given.
    pub path: String,
    /// Its run id.
    pub run_id: String,
    /// When it started, RFC 3339.
    pub started_at: String,
}

/// How a metric's change is expressed.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum ChangeKind {
    /// `current / baseline` of the means (1.0 is no change).
    Ratio,
    /// `current − baseline` of the means, in percentage points for shares (0 is no change).
    DifferencePp,
    /// A pass/fail check: 1 in the baseline and 0 now fails regardless of margins.
    Check,
}

/// Which way is better for a metric.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Better {
    /// Smaller values are better (latency, error).
    Lower,
    /// Larger values are better (throughput, retained share, checks).
    Higher,
}

/// The outcome of one metric.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Outcome {
    /// The CI lies inside the margin.
    Pass,
    /// The change is beyond the margin in the bad direction (after Holm correction).
    Fail,
    /// Worse than the baseline beyond the noise but not clearly beyond the
    /// margin, or not judged (too few rounds, not measurable): see the note.
    Inconclusive,
    /// The CI holds "no change" but reaches past the margin: the pair is too
    /// noisy to vouch for the margin, and nothing says the metric got worse;
    /// `detectable` says the smallest change it could have seen. Does not fail.
    NoClearChange,
    /// The CI lies wholly beyond the margin in the good direction.
    Improved,
    /// Shown for context, not gated.
    NotGated,
}

/// One metric of one scenario and condition, compared.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ComparedMetric {
    /// Scenario name.
    pub scenario: String,
    /// Metric name.
    pub name: String,
    /// Condition, or null.
    pub condition: Option<Condition>,
    /// Unit of the metric's values.
    pub unit: String,
    /// How the change is expressed.
    pub kind: ChangeKind,
    /// Which way is better.
    pub better: Better,
    /// Mean over the baseline's rounds.
    pub baseline: Option<f64>,
    /// Mean over the current run's rounds.
    pub current: Option<f64>,
    /// The change (ratio, or difference in pp).
    pub change: Option<f64>,
    /// Lower bound of its bootstrap 95 % CI.
    pub lower: Option<f64>,
    /// Upper bound of its bootstrap 95 % CI.
    pub upper: Option<f64>,
    /// The margin: the worst change still accepted (e.g. 1.10 for a lower-is-better ratio, −5 for a
    /// higher-is-better difference in pp).
    pub margin: Option<f64>,
    /// The smallest change in the bad direction this pair of runs could have
    /// detected (80 % power, one-sided α = 2.5 %), expressed like `change`
    /// (e.g. 1.32 for a lower-is-better ratio, −4.1 for a higher-is-better
    /// difference in pp); null where not computed (checks, unmeasurable rows).
    #[serde(default)]
    pub detectable: Option<f64>,
    /// The outcome.
    pub outcome: Outcome,
    /// Anything the reader should know about this row (e.g. why it was not gated).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

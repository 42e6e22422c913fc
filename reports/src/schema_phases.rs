//! Phased neighbours and the victim's latency per time slice (issue 17): one
//! round's timeline per condition, so that results.json stays bounded however
//! many rounds ran (the per-round figures are in the metrics:
//! `victim.worst_slice_p99_us`, `victim.recovery_ms`, ...; docs/results-schema.md).

use crate::schema::Condition;
use serde::{Deserialize, Serialize};

/// The victim's slices and its neighbours' phases in one round of one condition.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SliceTimeline {
    /// Which condition.
    pub condition: Condition,
    /// The round it comes from (0-based): the first in which the condition was valid.
    pub round: usize,
    /// Length of each slice, ms.
    pub slice_ms: f64,
    /// The window's slices in order, from its start.
    pub slices: Vec<SlicePoint>,
    /// Each phased neighbour's phase changes in this window; empty in solo.
    pub phases: Vec<PhaseTrace>,
    /// The recovery reference: the same round's solo p99, µs; null without a valid solo.
    pub reference_p99_us: Option<f64>,
    /// The victim's latency objective, µs, when the suite sets one.
    pub slo_p99_us: Option<f64>,
}

/// One slice of the victim's window.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SlicePoint {
    /// Its start from the window's start, ms.
    pub start_ms: f64,
    /// Units whose intended start fell in it.
    pub units: u64,
    /// Nearest-rank p99 of their latencies, µs; null without units.
    pub p99_us: Option<f64>,
}

/// How a neighbour's phases were applied.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
pub enum PhaseMechanism {
    /// cgroup v2 `cgroup.freeze` 1 / 0 (Documentation/admin-guide/cgroup-v2.rst, "Core Interface Files").
    #[serde(rename = "cgroup.freeze")]
    CgroupFreeze,
    /// The v1 freezer's `freezer.state` FROZEN / THAWED (Documentation/admin-guide/cgroup-v1/freezer-subsystem.rst).
    #[serde(rename = "freezer.state")]
    FreezerState,
    /// The applet's own pacing of its intensity (`--ramp`: the duty cycle of
    /// each 10 ms period, as iBench's intensity knob).
    #[serde(rename = "pacing")]
    Pacing,
}

impl PhaseMechanism {
    /// The kernel file written, for people.
    pub fn as_str(self) -> &'static str {
        match self {
            PhaseMechanism::CgroupFreeze => "cgroup.freeze",
            PhaseMechanism::FreezerState => "freezer.state",
            PhaseMechanism::Pacing => "pacing",
        }
    }
}

/// One neighbour's phases in a window.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct PhaseTrace {
    /// The aggressor's sandbox name.
    pub sandbox: String,
    /// How its phases were applied.
    pub mechanism: PhaseMechanism,
    /// Whether it was on (running) when the window opened.
    pub on_at_start: bool,
    /// Its phase changes in the window, in order.
    pub flips: Vec<PhaseFlip>,
    /// The spans it was on within the window, `[from_ms, to_ms]` from the window's start.
    pub on_ms: Vec<[f64; 2]>,
    /// Its intensity ramp, where its phase is one (then `on_ms` is the whole window).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ramp: Option<RampSpan>,
}

/// An intensity ramp as it was asked of the applet, on the timeline's time axis.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq)]
pub struct RampSpan {
    /// Intensity before it, percent.
    pub from_pct: u8,
    /// Intensity after it, percent.
    pub to_pct: u8,
    /// Its start, ms from the window's start.
    pub start_ms: f64,
    /// Its end, ms from the window's start.
    pub end_ms: f64,
}

/// One phase change, stamped on CLOCK_MONOTONIC when the write to the cgroup returned.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq)]
pub struct PhaseFlip {
    /// From the window's start, ms.
    pub at_ms: f64,
    /// True when the neighbour came on (thawed), false when it left (frozen).
    pub on: bool,
    /// How long the write took, µs.
    pub write_us: f64,
}

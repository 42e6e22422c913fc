//! Proportional weights — CPU and block I/O — as the user gave them, and the
//! one conversion each way between the v1 and v2 scales.
//!
//! A weight is stored on the scale it was given in and written natively; it is
//! converted only when the host's layout has the other file:
//!
//! | given | v2 file (range) | v1 file (range) | v2 → v1 | v1 → v2 |
//! |---|---|---|---|---|
//! | CPU | `cpu.weight` (1–10000, default 100) | `cpu.shares` (2–262144, default 1024) | [`weight_to_shares`] | [`shares_to_weight`] |
//! | I/O | `io.weight` (1–10000, default 100) | `blkio.weight` (10–1000, default 500) | [`io_weight_to_blkio_weight`] | [`blkio_weight_to_io_weight`] |
//!
//! Kernel sources: Documentation/admin-guide/cgroup-v2.rst ("CPU Interface
//! Files", "IO Interface Files") and cgroup-v1/blkio-controller.rst;
//! kernel/sched/sched.h (`MIN_SHARES` 2, `MAX_SHARES` 1 << 18).

use std::ops::RangeInclusive;

/// v2 `cpu.weight` range (Documentation/admin-guide/cgroup-v2.rst, "Weights").
pub const CPU_WEIGHT_RANGE: RangeInclusive<u64> = 1..=10_000;
/// v1 `cpu.shares` range (`MIN_SHARES`..=`MAX_SHARES` in kernel/sched/sched.h).
pub const CPU_SHARES_RANGE: RangeInclusive<u64> = 2..=262_144;
/// v2 `io.weight` range (Documentation/admin-guide/cgroup-v2.rst, "IO Interface Files").
pub const IO_WEIGHT_RANGE: RangeInclusive<u64> = 1..=10_000;
/// v1 `blkio.weight` range (Documentation/admin-guide/cgroup-v1/blkio-controller.rst).
pub const BLKIO_WEIGHT_RANGE: RangeInclusive<u64> = 10..=1_000;

/// A CPU weight, on the scale the user gave it.
///
/// Serialised as `{"cpu.weight": 200}` or `{"cpu.shares": 2048}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum CpuWeight {
    /// v2 `cpu.weight`, 1–10000 (default 100).
    #[serde(rename = "cpu.weight")]
    Weight(u64),
    /// v1 `cpu.shares`, 2–262144 (default 1024).
    #[serde(rename = "cpu.shares")]
    Shares(u64),
}

impl CpuWeight {
    /// A v2 `cpu.weight`.
    ///
    /// # Errors
    /// A message saying the accepted range when `weight` is outside 1–10000.
    pub fn weight(weight: u64) -> Result<CpuWeight, String> {
        in_range(weight, CPU_WEIGHT_RANGE, "a cpu.weight").map(CpuWeight::Weight)
    }

    /// A v1 `cpu.shares` value.
    ///
    /// # Errors
    /// A message saying the accepted range when `shares` is outside 2–262144.
    pub fn shares(shares: u64) -> Result<CpuWeight, String> {
        in_range(shares, CPU_SHARES_RANGE, "cpu.shares").map(CpuWeight::Shares)
    }

    /// The value for v2 `cpu.weight` (converted from shares by [`shares_to_weight`]).
    pub fn as_weight(self) -> u64 {
        match self {
            CpuWeight::Weight(w) => w,
            CpuWeight::Shares(s) => shares_to_weight(s),
        }
    }

    /// The value for v1 `cpu.shares` (converted from a weight by [`weight_to_shares`]).
    pub fn as_shares(self) -> u64 {
        match self {
            CpuWeight::Weight(w) => weight_to_shares(w),
            CpuWeight::Shares(s) => s,
        }
    }
}

/// A block I/O weight, on the scale the user gave it.
///
/// Serialised as `{"io.weight": 100}` or `{"blkio.weight": 500}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum IoWeight {
    /// v2 `io.weight` default weight, 1–10000 (default 100).
    #[serde(rename = "io.weight")]
    Weight(u64),
    /// v1 `blkio.weight`, 10–1000 (default 500).
    #[serde(rename = "blkio.weight")]
    Blkio(u64),
}

impl IoWeight {
    /// A v2 `io.weight`.
    ///
    /// # Errors
    /// A message saying the accepted range when `weight` is outside 1–10000.
    pub fn weight(weight: u64) -> Result<IoWeight, String> {
        in_range(weight, IO_WEIGHT_RANGE, "an io.weight").map(IoWeight::Weight)
    }

    /// A v1 `blkio.weight`.
    ///
    /// # Errors
    /// A message saying the accepted range when `weight` is outside 10–1000.
    pub fn blkio(weight: u64) -> Result<IoWeight, String> {
        in_range(weight, BLKIO_WEIGHT_RANGE, "a blkio.weight").map(IoWeight::Blkio)
    }

    /// The value for v2 `io.weight` (converted by [`blkio_weight_to_io_weight`]).
    pub fn as_io_weight(self) -> u64 {
        match self {
            IoWeight::Weight(w) => w,
            IoWeight::Blkio(b) => blkio_weight_to_io_weight(b),
        }
    }

    /// The value for v1 `blkio.weight` (converted by [`io_weight_to_blkio_weight`]).
    pub fn as_blkio_weight(self) -> u64 {
        match self {
            IoWeight::Weight(w) => io_weight_to_blkio_weight(w),
            IoWeight::Blkio(b) => b,
        }
    }
}

fn in_range(v: u64, range: RangeInclusive<u64>, what: &str) -> Result<u64, String> {
    if range.contains(&v) {
        Ok(v)
    } else {
        Err(format!(
            "{v} is out of range: expected {what} from {} to {}",
            range.start(),
            range.end()
        ))
    }
}

/// v1 `cpu.shares` → v2 `cpu.weight`, as current container runtimes convert it
/// (runc ≥ 1.3.2, crun ≥ 1.23, opencontainers/cgroups `ConvertCPUSharesToCgroupV2Value`):
///
/// `weight = ⌈10^((l² + 125·l) / 612 − 7/34)⌉` with `l = log2(shares)`,
///
/// a quadratic in `log2(shares)` through (2 → 1), (1024 → 100) and
/// (262144 → 10000), so the v1 default 1024 lands on the v2 default 100.
/// Shares at or below 2 give 1, at or above 262144 give 10000.
///
/// It replaced the linear `1 + ((shares − 2) · 9999) / 262142`, which gave the
/// default 1024 shares a weight of 39 (kubernetes/kubernetes#131216).
///
/// Sources: <https://github.com/opencontainers/cgroups/blob/fd95216684463f30144d5f5e41b6f54528feedee/utils.go#L425-L441>,
/// <https://github.com/opencontainers/runc/pull/4785>,
/// <https://github.com/containers/crun/issues/1721>,
/// <https://github.com/kubernetes/kubernetes/issues/131216>.
pub fn shares_to_weight(shares: u64) -> u64 {
    if shares <= *CPU_SHARES_RANGE.start() {
        return *CPU_WEIGHT_RANGE.start();
    }
    if shares >= *CPU_SHARES_RANGE.end() {
        return *CPU_WEIGHT_RANGE.end();
    }
    let l = (shares as f64).log2();
    let exponent = (l * l + 125.0 * l) / 612.0 - 7.0 / 34.0;
    10f64.powf(exponent).ceil() as u64
}

/// v1 `cpu.shares` → v2 `cpu.weight` by the linear formula runtimes used
/// before the quadratic one of [`shares_to_weight`] (runc < 1.3.2, crun < 1.23,
/// and the kubelet for its own cgroups while it vendored them):
///
/// `weight = 1 + ((shares − 2) · 9999) / 262142` (integer division),
///
/// which maps 2–262144 onto 1–10000 in a straight line, so the v1 default 1024
/// lands on 39, and the 8192 shares of 8 allocatable CPUs on 313, against the
/// 100 of a systemd slice (kubernetes/kubernetes#131216, #139790).
/// Shares below 2 give 1, above 262144 give 10000.
///
/// Source: <https://github.com/opencontainers/runc/issues/4772> (the formula
/// as runc 1.2 wrote it), <https://github.com/containers/crun/pull/1767>.
pub fn shares_to_weight_linear(shares: u64) -> u64 {
    let s = shares.clamp(*CPU_SHARES_RANGE.start(), *CPU_SHARES_RANGE.end());
    1 + (s - 2) * 9999 / 262_142
}

/// How a v1 `cpu.shares` value becomes a v2 `cpu.weight`: the formula a
/// runtime or the kubelet used, recorded beside every weight it derives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SharesFormula {
    /// [`shares_to_weight`]: runc ≥ 1.3.2, crun ≥ 1.23 (1024 → 100).
    Quadratic,
    /// [`shares_to_weight_linear`]: the formula before them (1024 → 39).
    Linear,
}

impl SharesFormula {
    /// Both formulas, in the order messages list them.
    pub const ALL: [SharesFormula; 2] = [SharesFormula::Quadratic, SharesFormula::Linear];

    /// The name in suite files and results: `quadratic` or `linear`.
    pub fn as_str(self) -> &'static str {
        match self {
            SharesFormula::Quadratic => "quadratic",
            SharesFormula::Linear => "linear",
        }
    }

    /// The v2 `cpu.weight` for `shares` by this formula.
    pub fn weight(self, shares: u64) -> u64 {
        match self {
            SharesFormula::Quadratic => shares_to_weight(shares),
            SharesFormula::Linear => shares_to_weight_linear(shares),
        }
    }

    /// The formula in words, with where it comes from, for results and `suite check`.
    pub fn describe(self) -> &'static str {
        match self {
            SharesFormula::Quadratic => {
                "ceil(10^((l^2 + 125 l)/612 - 7/34)), l = log2(shares): runc >= 1.3.2, crun >= 1.23 \
                 (opencontainers/runc#4785)"
            }
            SharesFormula::Linear => {
                "1 + (shares - 2) * 9999 / 262142: runc < 1.3.2, crun < 1.23 (kubernetes/kubernetes#131216)"
            }
        }
    }
}

/// The weight the scheduler gives a cgroup for `weight` on `layout`, on the v1
/// scale (1024 for the default): v1 `cpu.shares` as written; v2 `cpu.weight`
/// × 1024 / 100, as `sched_weight_from_cgroup` in kernel/sched/sched.h scales
/// it (Documentation/admin-guide/cgroup-v2.rst, "Weights": a cgroup gets
/// `weight / Σ weight` of what its parent gets among its busy siblings;
/// Documentation/scheduler/sched-design-CFS.rst, group scheduling). `None`,
/// no weight written, is the default of either scale.
pub fn scheduler_weight(weight: Option<CpuWeight>, layout: super::Layout) -> f64 {
    match (weight, layout) {
        (None, _) => 1024.0,
        (Some(w), super::Layout::V2) => w.as_weight() as f64 * 1024.0 / 100.0,
        (Some(w), _) => w.as_shares() as f64,
    }
}

/// v2 `cpu.weight` → v1 `cpu.shares`: the inverse of [`shares_to_weight`].
///
/// Solves `l² + 125·l − 612·(log10(weight) + 7/34) = 0` for `l = log2(shares)`
/// and takes `⌊2^l⌋`, the largest share count that [`shares_to_weight`] maps
/// back to `weight` (so a weight survives the round trip exactly: 1 → 2,
/// 100 → 1024, 10000 → 262144). Weights at or below 1 give 2, at or above
/// 10000 give 262144. Source: as [`shares_to_weight`].
pub fn weight_to_shares(weight: u64) -> u64 {
    if weight <= *CPU_WEIGHT_RANGE.start() {
        return *CPU_SHARES_RANGE.start();
    }
    if weight >= *CPU_WEIGHT_RANGE.end() {
        return *CPU_SHARES_RANGE.end();
    }
    let c = 612.0 * ((weight as f64).log10() + 7.0 / 34.0);
    let l = (-125.0 + (125.0f64 * 125.0 + 4.0 * c).sqrt()) / 2.0;
    // The tolerance absorbs rounding where 2^l is an exact integer (100 → 1024).
    ((2f64.powf(l) + 1e-6).floor() as u64).clamp(*CPU_SHARES_RANGE.start(), *CPU_SHARES_RANGE.end())
}

/// v1 `blkio.weight` → v2 `io.weight`, as runc converts it
/// (opencontainers/cgroups `ConvertBlkIOToIOWeightValue`): linear from
/// 10–1000 to 1–10000, `1 + (blkio − 10) · 9999 / 990` (integer division).
/// Values below 10 give 1, above 1000 give 10000.
///
/// Source: <https://github.com/opencontainers/cgroups/blob/main/utils.go> (`ConvertBlkIOToIOWeightValue`).
pub fn blkio_weight_to_io_weight(blkio: u64) -> u64 {
    let b = blkio.clamp(*BLKIO_WEIGHT_RANGE.start(), *BLKIO_WEIGHT_RANGE.end());
    1 + (b - 10) * 9999 / 990
}

/// v2 `io.weight` → v1 `blkio.weight`: the inverse of [`blkio_weight_to_io_weight`],
/// `10 + (weight − 1) · 990 / 9999` rounded to the nearest integer, so every
/// blkio weight survives the round trip. Values below 1 give 10, above 10000 give 1000.
/// Source: as [`blkio_weight_to_io_weight`].
pub fn io_weight_to_blkio_weight(weight: u64) -> u64 {
    let w = weight.clamp(*IO_WEIGHT_RANGE.start(), *IO_WEIGHT_RANGE.end());
    10 + (2 * (w - 1) * 990 + 9999) / (2 * 9999)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_map_to_weights_by_the_runtimes_quadratic_formula() {
        assert_eq!(shares_to_weight(2), 1);
        assert_eq!(shares_to_weight(1024), 100);
        assert_eq!(shares_to_weight(262_144), 10_000);
        // Mid values, as runc >= 1.3.2 writes them (the linear formula gave 10 and 79).
        assert_eq!(shares_to_weight(256), 35);
        assert_eq!(shares_to_weight(2048), 174);
        assert_eq!(shares_to_weight(10_000), 627);
        assert_eq!(shares_to_weight(0), 1);
        assert_eq!(shares_to_weight(1 << 20), 10_000);
    }

    #[test]
    fn the_linear_formula_gives_the_weights_of_runc_1_2() {
        assert_eq!(shares_to_weight_linear(2), 1);
        assert_eq!(shares_to_weight_linear(1024), 39);
        // 8 allocatable CPUs: kubepods.slice's 313 against system.slice's 100 (kubernetes#139790).
        assert_eq!(shares_to_weight_linear(8192), 313);
        assert_eq!(SharesFormula::Quadratic.weight(8192), 532);
        assert_eq!(shares_to_weight_linear(262_144), 10_000);
        assert_eq!(shares_to_weight_linear(0), 1);
    }

    #[test]
    fn scheduler_weights_share_one_scale_on_every_layout() {
        use super::super::Layout;
        assert_eq!(scheduler_weight(None, Layout::V2), 1024.0);
        assert_eq!(
            scheduler_weight(Some(CpuWeight::Weight(100)), Layout::V2),
            1024.0
        );
        assert_eq!(
            scheduler_weight(Some(CpuWeight::Weight(313)), Layout::V1),
            4276.0
        );
        assert_eq!(
            scheduler_weight(Some(CpuWeight::Shares(2048)), Layout::Hybrid),
            2048.0
        );
        // On v2 the written weight counts: 2048 shares become 174, not 200.
        assert!(
            (scheduler_weight(Some(CpuWeight::Shares(2048)), Layout::V2) - 1781.76).abs() < 1e-9
        );
    }

    #[test]
    fn every_weight_survives_the_round_trip_through_shares() {
        assert_eq!(weight_to_shares(1), 2);
        assert_eq!(weight_to_shares(100), 1024);
        assert_eq!(weight_to_shares(10_000), 262_144);
        for w in CPU_WEIGHT_RANGE {
            let s = weight_to_shares(w);
            assert!(CPU_SHARES_RANGE.contains(&s), "{w} -> {s}");
            assert_eq!(shares_to_weight(s), w, "{w} -> {s} shares");
        }
    }

    #[test]
    fn blkio_weights_convert_linearly_and_back() {
        assert_eq!(blkio_weight_to_io_weight(10), 1);
        assert_eq!(blkio_weight_to_io_weight(500), 4950);
        assert_eq!(blkio_weight_to_io_weight(1000), 10_000);
        assert_eq!(io_weight_to_blkio_weight(1), 10);
        assert_eq!(io_weight_to_blkio_weight(10_000), 1000);
        for b in BLKIO_WEIGHT_RANGE {
            assert_eq!(io_weight_to_blkio_weight(blkio_weight_to_io_weight(b)), b);
        }
    }

    #[test]
    fn weights_are_written_natively_and_converted_otherwise() {
        assert_eq!(CpuWeight::Weight(250).as_weight(), 250);
        assert_eq!(CpuWeight::Shares(1024).as_weight(), 100);
        assert_eq!(CpuWeight::Shares(512).as_shares(), 512);
        assert_eq!(CpuWeight::Weight(100).as_shares(), 1024);
        assert_eq!(IoWeight::Blkio(10).as_io_weight(), 1);
        assert_eq!(IoWeight::Weight(10_000).as_blkio_weight(), 1000);
    }

    #[test]
    fn out_of_range_weights_say_the_range() {
        assert_eq!(
            CpuWeight::weight(0).unwrap_err(),
            "0 is out of range: expected a cpu.weight from 1 to 10000"
        );
        assert_eq!(
            CpuWeight::shares(1).unwrap_err(),
            "1 is out of range: expected cpu.shares from 2 to 262144"
        );
        assert!(IoWeight::blkio(5).unwrap_err().contains("from 10 to 1000"));
        assert_eq!(IoWeight::weight(10_000), Ok(IoWeight::Weight(10_000)));
    }
}

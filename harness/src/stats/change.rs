//! The change between two runs of a metric, with a bootstrap CI over rounds.
//!
//! Method: the two runs' per-round values are resampled independently (each with
//! replacement, at its own size), the statistic is taken on each pair of resample
//! means — `mean(current*) / mean(baseline*)` for a ratio, `mean(current*) −
//! mean(baseline*)` for a difference — and the 95 % interval is the 2.5 % and
//! 97.5 % quantiles of [`RESAMPLES`] such draws (percentile bootstrap, Efron &
//! Tibshirani 1993, ch. 13). The draws are kept: a bootstrap p-value against a
//! margin is the share of draws on the wrong side of it.
//!
//! Few rounds: a plain percentile interval over 3 rounds covers about 80 %, not
//! 95 % (see [`super::bootstrap`]), and an A/A pair of 3-round runs, the same
//! build on the same host, was once called ×3.41 [×1.96, ×6.80] worse. So
//! before the quantiles and p-values are taken, the draws are widened about the
//! observed change (in logarithms for a ratio) by [`spread_factor`] of the
//! smaller round count: ×2.69 at 3 rounds, ×1.22 at 10, → 1 for many — the
//! expanded percentile interval of Hesterberg (The American Statistician
//! 69(4), 2015), applied to the draws so that the gate's p-values share it.
//!
//! The smallest change a pair of runs can detect ([`Change::detectable`]) is the
//! usual power-analysis bound (Cohen, *Statistical Power Analysis for the
//! Behavioral Sciences*, 2nd ed., 1988, ch. 2): `(z₁₋α + z_power) · SE`, with
//! SE the standard deviation of the draws (of their logarithm for a ratio),
//! one-sided α = 2.5 % and 80 % power, so `2.80 · SE` (of the widened draws).

use super::bootstrap::{CONFIDENCE, RESAMPLES, spread_factor};
use super::center::Center;
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

/// How two means are compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Statistic {
    /// `current / baseline`.
    Ratio,
    /// `current − baseline`.
    Difference,
}

/// A change and its bootstrap distribution.
#[derive(Debug, Clone)]
pub struct Change {
    /// The statistic on the observed means.
    pub value: f64,
    /// 2.5 % quantile of the draws.
    pub lower: f64,
    /// 97.5 % quantile of the draws.
    pub upper: f64,
    /// The bootstrap draws, widened for few rounds, sorted ascending.
    pub draws: Vec<f64>,
}

/// `z₀.₉₇₅ + z₀.₈₀`: one-sided α = 2.5 % and 80 % power (see the module docs).
pub const DETECTABLE_Z: f64 = 1.959_964 + 0.841_621;

impl Change {
    /// Share of draws at or below `x` (0..1).
    pub fn share_at_or_below(&self, x: f64) -> f64 {
        self.draws.partition_point(|&d| d <= x) as f64 / self.draws.len() as f64
    }

    /// The smallest change away from "no change" (1 for a ratio, 0 for a
    /// difference) that this pair of runs would detect with 80 % power at
    /// one-sided α = 2.5 %, as a distance: for a ratio a factor ≥ 1 (×1.30 means
    /// 30 % either way), for a difference in the draws' unit. `None` with fewer
    /// than two distinct draws.
    pub fn detectable(&self, s: Statistic) -> Option<f64> {
        let t: Vec<f64> = match s {
            Statistic::Ratio => self
                .draws
                .iter()
                .filter(|d| **d > 0.0)
                .map(|d| d.ln())
                .collect(),
            Statistic::Difference => self.draws.clone(),
        };
        if t.len() < 2 {
            return None;
        }
        let m = t.iter().sum::<f64>() / t.len() as f64;
        let sd = (t.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (t.len() - 1) as f64).sqrt();
        let bound = DETECTABLE_Z * sd;
        Some(match s {
            Statistic::Ratio => bound.exp(),
            Statistic::Difference => bound,
        })
    }
}

fn stat(s: Statistic, base: f64, cur: f64) -> f64 {
    match s {
        Statistic::Ratio => cur / base,
        Statistic::Difference => cur - base,
    }
}

/// The change of `current` against `baseline` (per-round values). `None` when
/// either side is empty, or for a ratio whose baseline mean is not positive.
/// `seed` makes the draws repeatable.
pub fn change(s: Statistic, baseline: &[f64], current: &[f64], seed: u64) -> Option<Change> {
    let center = Center::Mean;
    let (b0, c0) = (center.of(baseline)?, center.of(current)?);
    if s == Statistic::Ratio && b0 <= 0.0 {
        return None;
    }
    let mut rng = SmallRng::seed_from_u64(seed);
    let mut buf = Vec::new();
    let mut resample = |v: &[f64]| {
        buf.clear();
        buf.extend((0..v.len()).map(|_| v[rng.random_range(0..v.len())]));
        center.of(&buf).expect("not empty")
    };
    let mut draws: Vec<f64> = (0..RESAMPLES)
        .map(|_| {
            let b = resample(baseline);
            let c = resample(current);
            stat(s, b, c)
        })
        .filter(|d| d.is_finite())
        .collect();
    if draws.is_empty() {
        return None;
    }
    let value = stat(s, b0, c0);
    widen(
        &mut draws,
        s,
        value,
        spread_factor(baseline.len().min(current.len())),
    );
    draws.sort_by(f64::total_cmp);
    let q = |p: f64| draws[((draws.len() - 1) as f64 * p).round() as usize];
    let alpha = 1.0 - CONFIDENCE;
    Some(Change {
        value,
        lower: q(alpha / 2.0),
        upper: q(1.0 - alpha / 2.0),
        draws,
    })
}

/// Widens `draws` about `value` by `factor` (see the module docs): in
/// logarithms for a ratio whose draws are all positive, so that a ratio stays
/// positive and ×2 and ×½ stay equally far from "no change"; linearly otherwise.
fn widen(draws: &mut [f64], s: Statistic, value: f64, factor: f64) {
    let log = s == Statistic::Ratio && value > 0.0 && draws.iter().all(|d| *d > 0.0);
    for d in draws.iter_mut() {
        *d = if log {
            (value.ln() + factor * (d.ln() - value.ln())).exp()
        } else {
            value + factor * (*d - value)
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ratio_of_a_ten_percent_slowdown_is_about_1_1() {
        let base = [100.0, 102.0, 98.0, 101.0, 99.0];
        let cur = [110.0, 112.0, 108.0, 111.0, 109.0];
        let c = change(Statistic::Ratio, &base, &cur, 1).unwrap();
        assert!((c.value - 1.1).abs() < 1e-9);
        assert!(
            c.lower > 1.05 && c.upper < 1.15,
            "[{}, {}]",
            c.lower,
            c.upper
        );
    }

    #[test]
    fn difference_of_identical_runs_brackets_zero() {
        let v = [0.5, 0.49, 0.51, 0.5, 0.5];
        let c = change(Statistic::Difference, &v, &v, 1).unwrap();
        assert!(c.lower <= 0.0 && c.upper >= 0.0);
        assert!((c.share_at_or_below(0.0) - 0.5).abs() < 0.2);
    }

    #[test]
    fn no_ratio_against_a_zero_baseline() {
        assert!(change(Statistic::Ratio, &[0.0, 0.0], &[1.0], 1).is_none());
        assert!(change(Statistic::Difference, &[], &[1.0], 1).is_none());
    }

    #[test]
    fn noisier_runs_can_detect_only_larger_changes() {
        let quiet = [1.0, 1.01, 0.99, 1.0, 1.0, 1.02, 0.98, 1.0];
        let noisy = [0.7, 1.3, 0.9, 1.1, 1.0, 1.4, 0.6, 1.0];
        let d = |v: &[f64]| {
            change(Statistic::Ratio, v, v, 3)
                .unwrap()
                .detectable(Statistic::Ratio)
                .unwrap()
        };
        assert!(d(&quiet) > 1.0 && d(&quiet) < 1.03, "{}", d(&quiet));
        assert!(d(&noisy) > 1.2, "{}", d(&noisy));
    }

    #[test]
    fn three_heavy_tailed_rounds_a_side_do_not_call_an_a_a_pair_worse() {
        // Per-round isolated p99s (µs) of the bench example's victim, all from
        // runs of one build on this host (8 runs, rounds between 84 and 3903):
        // the plain percentile interval of this pair was [×1.99, ×28.8], beyond
        // the ×1.60 margin with nothing changed.
        let base = [88.0, 937.0, 1348.0];
        let cur = [2654.0, 2296.0, 3146.0];
        let c = change(Statistic::Ratio, &base, &cur, 1).unwrap();
        assert!((c.value - 3.41).abs() < 0.01, "{}", c.value);
        assert!(c.lower < 1.0, "[{}, {}]", c.lower, c.upper);
        assert!(c.share_at_or_below(1.6) > 0.1);
    }

    #[test]
    fn a_clear_doubling_over_five_rounds_stays_beyond_the_margin() {
        let base = [100.0, 104.0, 97.0, 101.0, 99.0];
        let cur = [205.0, 196.0, 201.0, 199.0, 203.0];
        let c = change(Statistic::Ratio, &base, &cur, 1).unwrap();
        assert!(c.lower > 1.9 && c.upper < 2.1, "[{}, {}]", c.lower, c.upper);
        assert_eq!(c.share_at_or_below(1.6), 0.0);
    }
}

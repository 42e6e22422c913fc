//! Percentile bootstrap confidence interval of a mean over rounds.
//!
//! Method (Efron & Tibshirani, *An Introduction to the Bootstrap*, 1993, ch. 13):
//! draw `B` resamples of the per-round values with replacement, each the size of
//! the original; take each resample's mean; the interval is the `α/2` and
//! `1 − α/2` quantiles of those `B` means. What is resampled is rounds, never
//! individual events. The generator is seeded, so the same values always give the
//! same interval and a report can be re-derived offline.
//!
//! ```text
//! rounds: x1 x2 x3 x4 x5 ─▶ resample ×B ─▶ means m1..mB ─▶ sort ─▶ [m(q), m(1 − q)]
//! ```
//!
//! Few rounds: the plain percentile interval is too narrow for small samples
//! (it behaves like `mean ± z·s·√((n−1)/n)/√n` where Student's t asks for
//! `mean ± t₍ₙ₋₁₎·s/√n`): over 3 rounds a nominal 95 % interval covers about
//! 80 %, and an A/A pair of runs of 3 rounds each, the same build on the same
//! host, was once called ×3.41 [×1.96, ×6.80] worse. So the quantiles are
//! those of the *expanded* percentile interval (Hesterberg, "What Teachers
//! Should Know About the Bootstrap", The American Statistician 69(4), 2015,
//! §4.3): `q = Φ(−√(n/(n−1)) · t₍ₙ₋₁, 1−α/2₎)` ([`tail_share`]): 0.1 % at 5
//! rounds, 0.9 % at 10, 1.9 % at 30, tending to 2.5 % as rounds grow. At 3
//! rounds `q` is below one draw in [`RESAMPLES`]: the interval is the range of
//! the draws.

use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

/// Resamples drawn per interval.
pub const RESAMPLES: usize = 2_000;
/// Confidence level of the intervals.
pub const CONFIDENCE: f64 = 0.95;
const SEED: u64 = 0x1505_BE9C;

/// A mean and its bootstrap confidence interval, in the unit of the values.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Estimate {
    /// Arithmetic mean of the values.
    pub mean: f64,
    /// Lower bound of the interval; `None` with fewer than two values.
    pub lower: Option<f64>,
    /// Upper bound of the interval; `None` with fewer than two values.
    pub upper: Option<f64>,
}

/// Mean of `values` with a [`CONFIDENCE`] expanded percentile-bootstrap interval
/// ([`tail_share`]) from [`RESAMPLES`] resamples.
/// Returns `None` for no values; with one value the bounds are `None`.
pub fn mean_ci(values: &[f64]) -> Option<Estimate> {
    let mean = mean(values)?;
    if values.len() < 2 {
        return Some(Estimate {
            mean,
            lower: None,
            upper: None,
        });
    }
    let mut rng = SmallRng::seed_from_u64(SEED);
    let n = values.len();
    let mut means: Vec<f64> = (0..RESAMPLES)
        .map(|_| (0..n).map(|_| values[rng.random_range(0..n)]).sum::<f64>() / n as f64)
        .collect();
    means.sort_by(f64::total_cmp);
    let q = tail_share(n);
    Some(Estimate {
        mean,
        lower: Some(quantile(&means, q)),
        upper: Some(quantile(&means, 1.0 - q)),
    })
}

/// How much wider than the plain percentile interval the expanded one is over
/// `n` rounds, as a factor on the draws' spread about their centre:
/// `√(n/(n−1)) · t₍ₙ₋₁, 1−α/2₎ / z₁₋α/2` (9.17 at 2 rounds, 2.69 at 3, 1.58 at 5,
/// 1.22 at 10, 1.07 at 30; → 1). For draws close to normal, widening them by it about
/// the observed value moves their `α/2` quantiles where [`tail_share`] puts
/// the plain draws' ends; the gate ([`super::change`]) widens its draws so, so
/// that its one-sided p-values (shares of draws) are as wide as its intervals.
/// 1 for `n < 2`: one round holds no spread to widen (the gate judges no
/// metric with fewer than 3 rounds a side).
pub fn spread_factor(n: usize) -> f64 {
    use statrs::distribution::{ContinuousCDF, Normal};
    expanded_z(n).map_or(1.0, |z| {
        z / Normal::standard().inverse_cdf(1.0 - (1.0 - CONFIDENCE) / 2.0)
    })
}

/// The share of the bootstrap draws left out at each end of a [`CONFIDENCE`]
/// interval over `n` rounds (0..0.025): the expanded percentile interval's
/// `Φ(−√(n/(n−1)) · t₍ₙ₋₁, 1−α/2₎)` (see the module docs). 0 for `n < 2`.
pub fn tail_share(n: usize) -> f64 {
    use statrs::distribution::{ContinuousCDF, Normal};
    expanded_z(n).map_or(0.0, |z| Normal::standard().cdf(-z))
}

/// `√(n/(n−1)) · t₍ₙ₋₁, 1−α/2₎` for a [`CONFIDENCE`] interval over `n`
/// rounds (Hesterberg 2015, §4.3); `None` for `n < 2`.
fn expanded_z(n: usize) -> Option<f64> {
    use statrs::distribution::{ContinuousCDF, StudentsT};
    if n < 2 {
        return None;
    }
    let df = (n - 1) as f64;
    let t = StudentsT::new(0.0, 1.0, df)
        .expect("a t distribution with df ≥ 1")
        .inverse_cdf(1.0 - (1.0 - CONFIDENCE) / 2.0);
    Some((n as f64 / df).sqrt() * t)
}

fn mean(values: &[f64]) -> Option<f64> {
    (!values.is_empty()).then(|| values.iter().sum::<f64>() / values.len() as f64)
}

/// Linear-interpolation quantile (type 7 of Hyndman & Fan, 1996) of sorted values.
fn quantile(sorted: &[f64], q: f64) -> f64 {
    let pos = q * (sorted.len() - 1) as f64;
    let (lo, hi) = (pos.floor() as usize, pos.ceil() as usize);
    sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interval_brackets_the_mean_and_stays_within_the_data() {
        let v = [0.49, 0.50, 0.51, 0.50, 0.52];
        let e = mean_ci(&v).unwrap();
        assert!((e.mean - 0.504).abs() < 1e-12);
        let (lo, hi) = (e.lower.unwrap(), e.upper.unwrap());
        assert!(lo <= e.mean && e.mean <= hi);
        assert!(lo >= 0.49 && hi <= 0.52);
        assert!(hi - lo > 0.0 && hi - lo < 0.03);
    }

    #[test]
    fn identical_rounds_give_a_zero_width_interval() {
        let e = mean_ci(&[3.0; 5]).unwrap();
        assert_eq!((e.lower, e.upper), (Some(3.0), Some(3.0)));
    }

    #[test]
    fn one_round_has_no_interval_and_none_has_no_estimate() {
        assert_eq!(
            mean_ci(&[7.0]),
            Some(Estimate {
                mean: 7.0,
                lower: None,
                upper: None
            })
        );
        assert_eq!(mean_ci(&[]), None);
    }

    #[test]
    fn noisier_rounds_give_a_wider_interval() {
        let quiet = mean_ci(&[1.0, 1.01, 0.99, 1.0, 1.0]).unwrap();
        let noisy = mean_ci(&[0.5, 1.5, 0.8, 1.2, 1.0]).unwrap();
        let width = |e: Estimate| e.upper.unwrap() - e.lower.unwrap();
        assert!(width(noisy) > 10.0 * width(quiet));
    }

    #[test]
    fn same_values_give_the_same_interval() {
        let v = [1.0, 2.0, 3.0, 4.0];
        assert_eq!(mean_ci(&v), mean_ci(&v));
    }

    #[test]
    fn few_rounds_widen_the_interval_and_many_tend_to_the_plain_one() {
        // Φ(−√(n/(n−1))·t₍ₙ₋₁₎): values from the t and normal tables.
        assert!(tail_share(3) < 0.5 / RESAMPLES as f64, "{}", tail_share(3));
        assert!(
            (tail_share(5) - 0.00095).abs() < 0.0001,
            "{}",
            tail_share(5)
        );
        assert!(
            (tail_share(10) - 0.0085).abs() < 0.0008,
            "{}",
            tail_share(10)
        );
        assert!((tail_share(10_000) - 0.025).abs() < 0.0002);
        assert!(
            (spread_factor(3) - 2.69).abs() < 0.01,
            "{}",
            spread_factor(3)
        );
        assert!(
            (spread_factor(10) - 1.22).abs() < 0.01,
            "{}",
            spread_factor(10)
        );
        let v = [0.2, 0.9, 1.4];
        let e = mean_ci(&v).unwrap();
        assert!(
            e.lower.unwrap() <= 0.25 && e.upper.unwrap() >= 1.35,
            "{e:?}"
        );
    }
}

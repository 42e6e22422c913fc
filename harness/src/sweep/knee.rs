//! The knee of a sensitivity curve: the first swept value at which the
//! victim's p99 rises beyond the noise (issue 17; Bubble-Up, MICRO'11, and
//! iBench, IISWC'13, read the same point off their curves by eye).
//!
//! Method: each step's per-round p99s are held against the first step's
//! (the lowest value) as a ratio of means with a bootstrap 95 % CI over
//! rounds ([`crate::stats::change`]: the two sets resampled independently,
//! expanded percentile interval for few rounds). The knee is the first step
//! whose interval lies wholly above the margin (its lower bound > margin);
//! a rise that the rounds cannot tell from noise is no knee. When no step
//! gets there, the answer is "no knee within the swept range"; when a step
//! before any rise has fewer than two valid rounds, whether the p99 rose
//! there cannot be told, and the knee is undetermined — never guessed.

use crate::stats::change::{Statistic, change};
use isobench_reports::schema::Interval;
use isobench_reports::schema_sweep::Knee;

/// Default margin: a step's p99 must be above ×1.2 of the first step's with
/// 95 % confidence to count as a rise (the gate's own p99 margins are ×1.5 to
/// ×2 for a whole run; docs/compare.md).
pub const DEFAULT_MARGIN: f64 = 1.2;

/// Fewest valid rounds a step needs for a ratio's CI.
pub const MIN_ROUNDS: usize = 2;

/// The ratio of step `values` against `first` (per-round p99s, invalid rounds
/// left out), with its CI; `None` with fewer than [`MIN_ROUNDS`] on either side
/// or a first step whose p99 is 0.
pub fn ratio(first: &[f64], values: &[f64], seed: u64) -> Option<Interval> {
    if first.len() < MIN_ROUNDS || values.len() < MIN_ROUNDS {
        return None;
    }
    let c = change(Statistic::Ratio, first, values, seed)
        .filter(|c| c.value.is_finite() && c.lower.is_finite() && c.upper.is_finite())?;
    Some(Interval {
        value: c.value,
        lower: c.lower,
        upper: c.upper,
    })
}

/// The knee of one condition's curve. `steps[i]` holds step i's per-round
/// p99s (µs, invalid rounds left out), `values[i]` its swept value and
/// `labels[i]` its name for people; `margin` as [`DEFAULT_MARGIN`].
pub fn knee(steps: &[Vec<f64>], values: &[f64], labels: &[String], margin: f64) -> Knee {
    let Some(first) = steps.first() else {
        return Knee::Undetermined {
            reason: "the sweep has no step".into(),
        };
    };
    if first.len() < MIN_ROUNDS {
        return Knee::Undetermined {
            reason: format!(
                "the first step ({}) has {} valid round(s): the reference needs at least {MIN_ROUNDS}",
                labels[0],
                first.len()
            ),
        };
    }
    let mut largest: Option<Interval> = None;
    for (i, step) in steps.iter().enumerate().skip(1) {
        let Some(r) = ratio(first, step, 17 + i as u64) else {
            return Knee::Undetermined {
                reason: format!(
                    "step {} has {} valid round(s), fewer than {MIN_ROUNDS}: whether the p99 rose there cannot be told",
                    labels[i],
                    step.len()
                ),
            };
        };
        if r.lower > margin {
            return Knee::At {
                step: i,
                value: values[i],
                ratio: r,
            };
        }
        if largest.is_none_or(|l| r.value > l.value) {
            largest = Some(r);
        }
    }
    Knee::NoneWithinRange { largest }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(n: usize) -> (Vec<f64>, Vec<String>) {
        let v: Vec<f64> = (0..n).map(|i| i as f64 * 25.0).collect();
        let l = v.iter().map(|v| format!("{v} %")).collect();
        (v, l)
    }

    #[test]
    fn knee_is_the_first_step_clearly_above_the_first() {
        let steps = vec![
            vec![100.0, 104.0, 98.0, 101.0, 99.0],
            vec![103.0, 99.0, 105.0, 100.0, 102.0],
            vec![180.0, 210.0, 190.0, 205.0, 195.0],
            vec![400.0, 380.0, 420.0, 410.0, 390.0],
        ];
        let (v, l) = labels(4);
        match knee(&steps, &v, &l, DEFAULT_MARGIN) {
            Knee::At { step, value, ratio } => {
                assert_eq!((step, value), (2, 50.0));
                assert!(ratio.lower > 1.2 && ratio.value > 1.8, "{ratio:?}");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_rise_within_the_noise_is_no_knee() {
        // The last step's mean is ×1.5, but one round of the first step was as slow.
        let steps = vec![vec![100.0, 300.0, 100.0], vec![150.0, 150.0, 150.0]];
        let (v, l) = labels(2);
        match knee(&steps, &v, &l, DEFAULT_MARGIN) {
            Knee::NoneWithinRange { largest: Some(r) } => assert!(r.lower <= 1.2, "{r:?}"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_flat_curve_has_no_knee_within_the_range() {
        let flat = vec![100.0, 101.0, 99.0, 100.0];
        let steps = vec![flat.clone(), flat.clone(), flat];
        let (v, l) = labels(3);
        let k = knee(&steps, &v, &l, DEFAULT_MARGIN);
        assert!(
            matches!(k, Knee::NoneWithinRange { largest: Some(_) }),
            "{k:?}"
        );
    }

    #[test]
    fn a_step_without_valid_rounds_before_any_rise_leaves_the_knee_undetermined() {
        let steps = vec![
            vec![100.0, 101.0, 99.0],
            vec![100.0],
            vec![500.0, 510.0, 490.0],
        ];
        let (v, l) = labels(3);
        match knee(&steps, &v, &l, DEFAULT_MARGIN) {
            Knee::Undetermined { reason } => assert!(reason.contains("25 %"), "{reason}"),
            other => panic!("{other:?}"),
        }
        // After the knee, an invalid step changes nothing.
        let steps = vec![vec![100.0, 101.0, 99.0], vec![500.0, 510.0, 490.0], vec![]];
        assert!(matches!(
            knee(&steps, &v, &l, DEFAULT_MARGIN),
            Knee::At { step: 1, .. }
        ));
    }

    #[test]
    fn an_invalid_first_step_gives_no_reference() {
        let steps = vec![vec![], vec![500.0, 510.0]];
        let (v, l) = labels(2);
        assert!(matches!(
            knee(&steps, &v, &l, DEFAULT_MARGIN),
            Knee::Undetermined { .. }
        ));
    }
}

//! Where the per-round values of a metric sit: the plain mean, or a trimmed
//! mean that is not dragged by one disturbed round.
//!
//! A tail figure per round (p99, p99.9, and impacts `p / p_solo − 1`) is
//! heavy-tailed across rounds: one round in which the host hiccuped (a solo p99
//! of 4.3 ms among rounds of 0.13 ms, measured here) moves the mean of ten
//! rounds by a third and widens every interval built on it. The symmetric
//! trimmed mean (Tukey & McLaughlin, "Less vulnerable confidence and
//! significance procedures for location based on a single sample", Sankhyā A
//! 25, 1963; Wilcox, *Introduction to Robust Estimation and Hypothesis
//! Testing*, ch. 3) drops the lowest and highest `trim` share of the rounds
//! before averaging: it equals the mean when the rounds agree and ignores a
//! lone outlier when they do not. 20 % trimming is Wilcox's recommended default.

/// How the rounds of a metric are summarised before two runs are compared.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Center {
    /// The arithmetic mean of all rounds.
    Mean,
    /// The mean after dropping `⌊trim · n⌋` rounds at each end (0 ≤ trim < 0.5).
    Trimmed(f64),
}

/// Share of rounds dropped at each end for tail latencies.
pub const TAIL_TRIM: f64 = 0.2;

impl Center {
    /// The centre of `values` (any order); `None` for no values.
    pub fn of(self, values: &[f64]) -> Option<f64> {
        if values.is_empty() {
            return None;
        }
        match self {
            Center::Mean => Some(values.iter().sum::<f64>() / values.len() as f64),
            Center::Trimmed(trim) => {
                let mut v = values.to_vec();
                v.sort_by(f64::total_cmp);
                let k = ((trim * v.len() as f64).floor() as usize).min((v.len() - 1) / 2);
                let kept = &v[k..v.len() - k];
                Some(kept.iter().sum::<f64>() / kept.len() as f64)
            }
        }
    }

    /// Short name for notes and docs: `mean` or `20 % trimmed mean`.
    pub fn describe(self) -> String {
        match self {
            Center::Mean => "mean".into(),
            Center::Trimmed(t) => format!("{:.0} % trimmed mean", t * 100.0),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trimmed_mean_ignores_one_outlier_round() {
        let v = [
            140.0, 127.0, 142.0, 124.0, 4313.0, 195.0, 155.0, 134.0, 128.0, 141.0,
        ];
        let mean = Center::Mean.of(&v).unwrap();
        let trimmed = Center::Trimmed(TAIL_TRIM).of(&v).unwrap();
        assert!(mean > 500.0);
        assert!((130.0..150.0).contains(&trimmed), "{trimmed}");
    }

    #[test]
    fn agreeing_rounds_give_the_mean_and_small_samples_keep_a_middle() {
        let v = [2.0, 2.0, 2.0, 2.0];
        assert_eq!(Center::Trimmed(0.2).of(&v), Center::Mean.of(&v));
        assert_eq!(Center::Trimmed(0.4).of(&[1.0, 5.0]), Some(3.0));
        assert_eq!(Center::Trimmed(0.2).of(&[7.0]), Some(7.0));
        assert_eq!(Center::Mean.of(&[]), None);
    }
}

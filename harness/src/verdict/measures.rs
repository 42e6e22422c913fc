//! The victim measures a verdict weighs, taken from the raw rounds, and their
//! excess over solo with a paired bootstrap over rounds.
//!
//! Rounds are resampled whole (solo, contended and isolated of one round stay
//! together: they share that round's noise), each condition is summarised by
//! the 20 % trimmed mean of its resampled rounds ([`Center::Trimmed`]), and the
//! excesses and the isolation effectiveness
//! `E = (x_contended − x_isolated) / x_contended` (DESIGN §2, with `x = d − 1`)
//! are taken on those summaries. The interval is the 2.5 % and 97.5 %
//! quantiles of [`RESAMPLES`] draws (percentile bootstrap, Efron & Tibshirani
//! 1993, ch. 13).

use crate::stats::bootstrap::RESAMPLES;
use crate::stats::center::{Center, TAIL_TRIM};
use isobench_reports::schema::{Condition, ConditionRun, Interval, Round, VictimRun};
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

/// One victim measure: how to read it from a condition and how its excess over solo is formed.
#[derive(Debug, Clone, Copy)]
pub struct Measure {
    /// Its name in the verdict: `p99`, `late_share`, `throughput`.
    pub name: &'static str,
    /// What an excess of 1 means.
    pub excess_unit: &'static str,
    /// Excess below which a difference is noise, not interference.
    pub noise_floor: f64,
    /// The figure of one condition's victim; `None` where it has none.
    read: fn(&ConditionRun) -> Option<f64>,
    /// The excess of a condition's summary `c` over a reference's `s` (solo's,
    /// or contended's when asking whether isolation made it worse).
    excess: fn(c: f64, s: f64) -> f64,
}

/// p99 latency: excess = p99 / p99_solo − 1; below 10 % is noise.
pub const P99: Measure = Measure {
    name: "p99",
    excess_unit: "ratio",
    noise_floor: 0.10,
    read: |c| c.victim.as_ref().map(|v| v.latency_p99_us),
    excess: |c, s| c / s - 1.0,
};

/// Share of late units: excess = late − late_solo; below 1 pp is noise.
pub const LATE_SHARE: Measure = Measure {
    name: "late_share",
    excess_unit: "share",
    noise_floor: 0.01,
    read: |c| c.victim.as_ref()?.late_share,
    excess: |c, s| c - s,
};

/// Throughput: excess = 1 − ops / ops_solo, the share lost; below 2 % is
/// noise. A victim that reported nothing in a valid condition (it was
/// OOM-killed) lost all of it.
pub const THROUGHPUT: Measure = Measure {
    name: "throughput",
    excess_unit: "share",
    noise_floor: 0.02,
    read: |c| {
        Some(
            c.victim
                .as_ref()
                .map_or(0.0, |v: &VictimRun| v.throughput_ops),
        )
    },
    excess: |c, s| 1.0 - c / s,
};

/// The measures every victim verdict weighs, in the order they are reported.
pub const ALL: [Measure; 3] = [P99, LATE_SHARE, THROUGHPUT];

/// One measure's figures over the usable rounds: solo, contended, isolated per round.
pub struct Triples(Vec<[f64; 3]>);

impl Triples {
    /// The rounds of `rounds` (indices `used`) where all three conditions have `m`.
    pub fn of(m: &Measure, rounds: &[Round], used: &[usize]) -> Triples {
        let at = |r: &Round, c: Condition| {
            r.conditions
                .iter()
                .find(|x| x.condition == c)
                .and_then(m.read)
                .filter(|v| v.is_finite())
        };
        Triples(
            used.iter()
                .filter_map(|&i| {
                    let r = &rounds[i];
                    Some([
                        at(r, Condition::Solo)?,
                        at(r, Condition::Contended)?,
                        at(r, Condition::Isolated)?,
                    ])
                })
                .collect(),
        )
    }

    /// Rounds with all three figures.
    pub fn rounds(&self) -> usize {
        self.0.len()
    }
}

/// The bootstrap picture of one measure.
pub struct Excesses {
    /// Solo's own figure.
    pub solo: Interval,
    /// Contended excess over solo.
    pub contended: Interval,
    /// Isolated excess over solo.
    pub isolated: Interval,
    /// The excess of isolated over contended, as the measure forms excesses
    /// (p99: p99_isolated / p99_contended − 1; > 0: isolation made it worse).
    pub isolated_over_contended: Interval,
    /// Isolation effectiveness; `None` when too few draws had interference to divide by.
    pub effectiveness: Option<Interval>,
}

/// The excesses of `t` under measure `m`; `None` with fewer than 2 rounds or a
/// solo figure of 0 where the excess divides by it.
pub fn excesses(m: &Measure, t: &Triples, seed: u64) -> Option<Excesses> {
    let n = t.rounds();
    if n < 2 {
        return None;
    }
    let center = Center::Trimmed(TAIL_TRIM);
    let summary = |rows: &[[f64; 3]]| -> Option<[f64; 4]> {
        let col = |k: usize| rows.iter().map(|r| r[k]).collect::<Vec<f64>>();
        let (s, c, i) = (
            center.of(&col(0))?,
            center.of(&col(1))?,
            center.of(&col(2))?,
        );
        let (xc, xi, xic) = ((m.excess)(c, s), (m.excess)(i, s), (m.excess)(i, c));
        (xc.is_finite() && xi.is_finite() && xic.is_finite()).then_some([s, xc, xi, xic])
    };
    let observed = summary(&t.0)?;
    let mut rng = SmallRng::seed_from_u64(seed);
    let mut draws: [Vec<f64>; 4] = Default::default();
    let mut effectiveness = Vec::new();
    let mut sample = Vec::with_capacity(n);
    for _ in 0..RESAMPLES {
        sample.clear();
        sample.extend((0..n).map(|_| t.0[rng.random_range(0..n)]));
        let Some(d) = summary(&sample) else { continue };
        for (k, v) in d.iter().enumerate() {
            draws[k].push(*v);
        }
        if d[1] > 0.0 {
            effectiveness.push((d[1] - d[2]) / d[1]);
        }
    }
    let interval = |value: f64, v: &mut Vec<f64>| percentile_interval(value, v);
    let e_observed = (observed[1] > 0.0).then(|| (observed[1] - observed[2]) / observed[1]);
    Some(Excesses {
        solo: interval(observed[0], &mut draws[0])?,
        contended: interval(observed[1], &mut draws[1])?,
        isolated: interval(observed[2], &mut draws[2])?,
        isolated_over_contended: interval(observed[3], &mut draws[3])?,
        // Effectiveness only where nearly every draw had interference to divide by.
        effectiveness: e_observed
            .filter(|_| effectiveness.len() * 10 >= RESAMPLES * 9)
            .and_then(|e| interval(e, &mut effectiveness)),
    })
}

/// `value` with the 2.5 % and 97.5 % quantiles of `draws` (sorted here).
fn percentile_interval(value: f64, draws: &mut [f64]) -> Option<Interval> {
    if draws.is_empty() {
        return None;
    }
    draws.sort_by(f64::total_cmp);
    let q = |p: f64| draws[((draws.len() - 1) as f64 * p).round() as usize];
    Some(Interval {
        value,
        lower: q(0.025),
        upper: q(0.975),
    })
}

/// The 20 % trimmed mean of `values` with its percentile-bootstrap 95 % CI
/// over rounds; `None` with fewer than 2 values.
pub fn trimmed_interval(values: &[f64], seed: u64) -> Option<Interval> {
    let n = values.len();
    if n < 2 {
        return None;
    }
    let center = Center::Trimmed(TAIL_TRIM);
    let mut rng = SmallRng::seed_from_u64(seed);
    let mut sample = Vec::with_capacity(n);
    let mut draws: Vec<f64> = (0..RESAMPLES)
        .filter_map(|_| {
            sample.clear();
            sample.extend((0..n).map(|_| values[rng.random_range(0..n)]));
            center.of(&sample)
        })
        .collect();
    percentile_interval(center.of(values)?, &mut draws)
}

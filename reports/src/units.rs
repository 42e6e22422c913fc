//! One display rule per metric: how every output (the terminal table, the HTML
//! report, summary.md, compare.md and the verdict lines) writes a metric's
//! values, chosen once from its name and unit.
//!
//! | unit in the results | shown as | e.g. |
//! |---|---|---|
//! | `us`, `s` | µs, ms or s by magnitude, three significant digits | `107 µs`, `3.95 ms`, `1.45 s` |
//! | `share` (0..1) | percent | `0.3 %`, `4.9 %`, `100 %` |
//! | `ratio` of a latency impact (`p / p_solo − 1`) | signed percent up to +999 %, beyond that the factor `p / p_solo` | `-2 %`, `+815 %`, `×18.5` |
//! | any other `ratio` | a factor | `×0.84` |
//! | `CPUs` | two decimals | `0.50 CPUs` |
//! | `pp` | one decimal | `0.2 pp` |
//! | `count` | SI prefixes, whole numbers without decimals | `3`, `0.33`, `1.82 k` |
//! | `bytes` | bytes, KiB, MiB, GiB | `660 KiB`, `1.25 MiB` |
//! | `…/s`, `per s` | SI prefix before the unit | `5.04 k ops/s`, `171 M lines/s`, `408/s` |
//! | `pass` | pass or fail | `pass` |
//!
//! A value and its 95 % CI are written in one scale, chosen from the value: `3.95 ms`
//! beside `[3.18, 5.14] ms`, `×18.5` beside `[×14.0, ×24.2]`.

use crate::schema::Metric;

/// How the values of one metric are written. Each variant states the unit it
/// expects its values in.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Rule<'a> {
    /// A duration, `us_per_unit` µs per unit of the values: µs, ms or s by magnitude.
    Duration {
        /// Microseconds in one unit of the values (1 for `us`, 10⁶ for `s`).
        us_per_unit: f64,
    },
    /// A share 0..1, as a percentage.
    Percent,
    /// A relative change `ratio − 1`: a signed percentage up to +999 %, beyond
    /// that the factor `ratio` (`+1749110 %` reads `×17492`).
    Change,
    /// A ratio, as a factor: `×0.84`.
    Factor,
    /// CPUs (CPU time / wall time), two decimals.
    Cpus,
    /// Percentage points, one decimal.
    Pp,
    /// A signed difference in percentage points: `+0.3 pp`.
    PpChange,
    /// A count (events, kills, faults): SI prefixes.
    Count,
    /// Bytes, in bytes, KiB, MiB or GiB (1024-based).
    Bytes,
    /// A rate in `unit` (`ops/s`, `lines/s`, `MB/s`, or `/s` alone): SI prefix before the unit.
    Rate(&'a str),
    /// A pass/fail check: 1 is pass, 0 fail, a mean between them the share of passes.
    Check,
    /// A unit without a rule of its own: three significant digits and the unit as is.
    Other(&'a str),
}

/// SI prefixes of counts and rates: the size of each step and its symbol.
const SI: [(f64, &str); 4] = [(1.0, ""), (1e3, "k"), (1e6, "M"), (1e9, "G")];

/// Binary prefixes of bytes.
const BINARY: [(f64, &str); 4] = [
    (1.0, "bytes"),
    (1024.0, "KiB"),
    (1024.0 * 1024.0, "MiB"),
    (1024.0 * 1024.0 * 1024.0, "GiB"),
];

/// Durations, in µs.
const DURATIONS: [(f64, &str); 3] = [(1.0, "µs"), (1e3, "ms"), (1e6, "s")];

/// Largest change (ratio − 1) written as a percentage: `+999 %`; beyond, a factor.
const LARGEST_PERCENT_CHANGE: f64 = 9.995;

impl<'a> Rule<'a> {
    /// The rule of metric `name` in `unit` (a unit of [`Metric::unit`]).
    pub(crate) fn for_metric(name: &str, unit: &'a str) -> Rule<'a> {
        match unit {
            "us" => Rule::Duration { us_per_unit: 1.0 },
            "s" => Rule::Duration { us_per_unit: 1e6 },
            "share" => Rule::Percent,
            "ratio" if name.contains(".latency_impact_") => Rule::Change,
            "ratio" => Rule::Factor,
            "CPUs" => Rule::Cpus,
            "pp" => Rule::Pp,
            "count" => Rule::Count,
            "bytes" => Rule::Bytes,
            "pass" => Rule::Check,
            "per s" => Rule::Rate("/s"),
            rate if rate.ends_with("/s") => Rule::Rate(rate),
            other => Rule::Other(other),
        }
    }

    /// `value` as text: `3.95 ms`.
    pub(crate) fn text(&self, value: f64) -> String {
        self.scale(&[value]).text(value)
    }

    /// `value` and its interval `[lower, upper]` in one scale: (`3.95 ms`, `[3.18, 5.14] ms`).
    pub(crate) fn with_interval(&self, value: f64, lower: f64, upper: f64) -> (String, String) {
        let scale = self.scale(&[value, lower, upper]);
        (scale.text(value), scale.interval(lower, upper))
    }

    /// The scale in which `numbers` are written together; the first one (the
    /// value) chooses the display unit and the digits.
    pub(crate) fn scale(&self, numbers: &[f64]) -> Scale {
        let value = numbers.first().copied().unwrap_or(0.0);
        let magnitude = value.abs();
        match *self {
            Rule::Duration { us_per_unit } => {
                Scale::stepped(magnitude * us_per_unit, &DURATIONS).per_unit(us_per_unit)
            }
            Rule::Percent => Scale::plain(100.0, percent_decimals(magnitude * 100.0), " %"),
            Rule::Change if value < LARGEST_PERCENT_CHANGE => Scale {
                mark: Mark::Sign,
                ..Scale::plain(100.0, 0, " %")
            },
            Rule::Change => Scale {
                offset: 1.0,
                ..Rule::Factor.scale(&[value + 1.0])
            },
            Rule::Factor => Scale {
                mark: Mark::Times,
                ..Scale::plain(1.0, factor_decimals(magnitude), "")
            },
            // Below 0.01 (a harness's own overhead) two decimals would read 0.00.
            Rule::Cpus if magnitude > 0.0 && magnitude < 0.01 => Scale::plain(1.0, 4, " CPUs"),
            Rule::Cpus => Scale::plain(1.0, 2, " CPUs"),
            Rule::Pp => Scale::plain(1.0, 1, " pp"),
            Rule::PpChange => Scale {
                mark: Mark::Sign,
                ..Scale::plain(1.0, 1, " pp")
            },
            Rule::Count => {
                let scale = Scale::si(magnitude);
                let whole = numbers.iter().all(|n| n.fract() == 0.0);
                // A mean of a few counts below 1 (0.33 kills a round) needs no third decimal.
                let decimals = if whole && magnitude < 1e3 {
                    0
                } else {
                    scale.decimals.min(2)
                };
                Scale { decimals, ..scale }
            }
            Rule::Bytes => Scale::stepped(magnitude, &BINARY),
            Rule::Rate(unit) => {
                let (size, prefix) = step(magnitude, &SI);
                // `/s` alone goes right after the number or prefix: `408/s`, `1.82 k/s`.
                let suffix = match (prefix, unit.starts_with('/')) {
                    ("", true) => unit.to_owned(),
                    ("", false) => format!(" {unit}"),
                    (prefix, true) => format!(" {prefix}{unit}"),
                    (prefix, false) => format!(" {prefix} {unit}"),
                };
                Scale::plain(1.0 / size, significant_decimals(magnitude / size), &suffix)
            }
            Rule::Check => Scale {
                words: true,
                ..Rule::Percent.scale(numbers)
            },
            Rule::Other(unit) => Scale::plain(
                1.0,
                significant_decimals(magnitude),
                &if unit.is_empty() {
                    String::new()
                } else {
                    format!(" {unit}")
                },
            ),
        }
    }
}

/// How a mark goes with every number of a scale.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Mark {
    /// No mark: `3.95`.
    Plain,
    /// A sign, also `+`: `+4`, `-2`.
    Sign,
    /// A times sign before a factor: `×18.5`.
    Times,
}

/// Numbers of one display unit: `(value + offset) × factor` with `decimals`
/// digits, marked, followed by `suffix` (the display unit with its space).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Scale {
    offset: f64,
    factor: f64,
    decimals: usize,
    mark: Mark,
    suffix: String,
    /// Whole values read `pass` (1) and `fail` (0).
    words: bool,
}

impl Scale {
    /// `factor` and `decimals`, no offset or mark, then `suffix`.
    fn plain(factor: f64, decimals: usize, suffix: &str) -> Scale {
        Scale {
            offset: 0.0,
            factor,
            decimals,
            mark: Mark::Plain,
            suffix: suffix.to_owned(),
            words: false,
        }
    }

    /// The largest of `steps` that `magnitude` reaches (see [`step`]), with
    /// three significant digits: `3.95 ms`.
    fn stepped(magnitude: f64, steps: &[(f64, &str)]) -> Scale {
        let (size, symbol) = step(magnitude, steps);
        let suffix = if symbol.is_empty() {
            String::new()
        } else {
            format!(" {symbol}")
        };
        Scale::plain(1.0 / size, significant_decimals(magnitude / size), &suffix)
    }

    /// SI prefixes with three significant digits, for numbers around `magnitude`: `1.82 k`.
    pub(crate) fn si(magnitude: f64) -> Scale {
        Scale::stepped(magnitude, &SI)
    }

    /// This scale for values given in units of `size` base units each.
    fn per_unit(self, size: f64) -> Scale {
        Scale {
            factor: self.factor * size,
            ..self
        }
    }

    /// `value` in this scale, marked, without the suffix: `3.95`, `+815`, `×18.5`.
    pub(crate) fn number(&self, value: f64) -> String {
        let text = fixed((value + self.offset) * self.factor, self.decimals);
        match self.mark {
            Mark::Plain => text,
            Mark::Sign if text.starts_with('-') => text,
            Mark::Sign => format!("+{text}"),
            Mark::Times => format!("×{text}"),
        }
    }

    /// `value` with its display unit: `3.95 ms`, or `pass` / `fail` for a whole check.
    pub(crate) fn text(&self, value: f64) -> String {
        match value {
            1.0 if self.words => "pass".to_owned(),
            0.0 if self.words => "fail".to_owned(),
            _ if self.words => format!("{}{} pass", self.number(value), self.suffix),
            _ => format!("{}{}", self.number(value), self.suffix),
        }
    }

    /// `[lower, upper]` with the display unit once: `[3.18, 5.14] ms`, `[×14.0, ×24.2]`.
    pub(crate) fn interval(&self, lower: f64, upper: f64) -> String {
        format!(
            "[{}, {}]{}",
            self.number(lower),
            self.number(upper),
            self.suffix
        )
    }
}

/// One metric as every table shows it: the value and its 95 % CI in one scale.
#[derive(Debug, Clone, PartialEq)]
pub struct MetricCells {
    /// The mean over rounds with its display unit (`3.95 ms`), or `unavailable`
    /// followed by the marker of the note that says why (`unavailable [1]`).
    pub value: String,
    /// `[lower, upper]` with the display unit of `value` (`[3.18, 5.14] ms`), or
    /// `—` when there is no interval (fewer than 2 rounds, or no value).
    pub ci: String,
}

/// Formats `metric` for a table row; the reason of an unavailable value goes to
/// `notes` and the value cell carries its marker.
pub fn metric_cells(metric: &Metric, notes: &mut Notes) -> MetricCells {
    let rule = Rule::for_metric(&metric.name, &metric.unit);
    match (metric.value, metric.lower, metric.upper) {
        (Some(value), Some(lower), Some(upper)) => {
            let (value, ci) = rule.with_interval(value, lower, upper);
            MetricCells { value, ci }
        }
        (Some(value), ..) => MetricCells {
            value: rule.text(value),
            ci: "—".to_owned(),
        },
        (None, ..) => MetricCells {
            value: match metric.reason.as_deref() {
                Some(reason) => format!("unavailable {}", notes.marker(reason)),
                None => "unavailable".to_owned(),
            },
            ci: "—".to_owned(),
        },
    }
}

/// The reasons of the unavailable values of one table, each once, numbered from 1
/// in the order they are first met; printed below the table as `[1] reason`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Notes {
    reasons: Vec<String>,
}

impl Notes {
    /// The marker of `reason`'s note, `[n]`, adding the note when it is new.
    pub fn marker(&mut self, reason: &str) -> String {
        let n = match self.reasons.iter().position(|r| r == reason) {
            Some(i) => i + 1,
            None => {
                self.reasons.push(reason.to_owned());
                self.reasons.len()
            }
        };
        format!("[{n}]")
    }

    /// Each note as one line of plain text: `[1] the kernel has no memory.peak file`.
    pub fn lines(&self) -> impl Iterator<Item = String> + '_ {
        self.reasons
            .iter()
            .enumerate()
            .map(|(i, reason)| format!("[{}] {reason}", i + 1))
    }

    /// Whether no value of the table was unavailable with a reason.
    pub fn is_empty(&self) -> bool {
        self.reasons.is_empty()
    }
}

/// The largest of `steps` (size in base units, symbol; ascending) that
/// `magnitude` reaches once rounded to three significant digits (999.7 µs is
/// `1.00 ms`), or the first.
fn step<'s>(magnitude: f64, steps: &'s [(f64, &'s str)]) -> (f64, &'s str) {
    steps
        .iter()
        .rev()
        .find(|(size, _)| magnitude >= *size * 0.9995)
        .copied()
        .unwrap_or(steps[0])
}

/// Decimals of a percentage: one below 10 %, none from 10 % and for 0.
fn percent_decimals(percent: f64) -> usize {
    if percent == 0.0 || percent >= 9.95 {
        0
    } else {
        1
    }
}

/// Decimals of a factor: two below 10, one below 100, none beyond.
fn factor_decimals(magnitude: f64) -> usize {
    match magnitude {
        m if m >= 99.95 => 0,
        m if m >= 9.995 => 1,
        _ => 2,
    }
}

/// Decimals that show three significant digits of numbers around `magnitude`
/// (at most three decimals), counted after rounding: 99.96 is `100`, 0.9996 `1.00`.
pub(crate) fn significant_decimals(magnitude: f64) -> usize {
    if !(magnitude > 0.0 && magnitude.is_finite()) {
        return 0;
    }
    let exponent = magnitude.log10().floor();
    let decimals = (2.0 - exponent).clamp(0.0, 3.0) as usize;
    let rounded: f64 = fixed(magnitude, decimals).parse().unwrap_or(magnitude);
    if decimals > 0 && rounded >= 10f64.powf(exponent + 1.0) {
        decimals - 1
    } else {
        decimals
    }
}

/// `value` with `decimals` digits after the point, never as `-0`.
pub(crate) fn fixed(value: f64, decimals: usize) -> String {
    let text = format!("{value:.decimals$}");
    match text.strip_prefix('-') {
        Some(rest) if rest.chars().all(|c| c == '0' || c == '.') => rest.to_owned(),
        _ => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The value and CI cells of a metric `name` in `unit`.
    fn cells(name: &str, unit: &str, value: f64, lower: f64, upper: f64) -> (String, String) {
        let metric = Metric {
            name: name.into(),
            condition: None,
            unit: unit.into(),
            value: Some(value),
            lower: Some(lower),
            upper: Some(upper),
            per_round: vec![Some(value)],
            reason: None,
        };
        let c = metric_cells(&metric, &mut Notes::default());
        (c.value, c.ci)
    }

    fn pair(value: &str, ci: &str) -> (String, String) {
        (value.to_owned(), ci.to_owned())
    }

    #[test]
    fn latencies_take_a_unit_by_magnitude_and_the_interval_follows_the_value() {
        let p99 = "victim.latency_p99_us";
        assert_eq!(
            cells(p99, "us", 107.0, 104.0, 109.0),
            pair("107 µs", "[104, 109] µs")
        );
        assert_eq!(
            cells(p99, "us", 559.96, 134.0, 1397.0),
            pair("560 µs", "[134, 1397] µs")
        );
        assert_eq!(
            cells(p99, "us", 3952.6, 3180.0, 5140.0),
            pair("3.95 ms", "[3.18, 5.14] ms")
        );
        assert_eq!(
            cells(p99, "us", 1_453_183.0, 380_000.0, 2_970_000.0),
            pair("1.45 s", "[0.38, 2.97] s")
        );
        assert_eq!(Rule::for_metric("x", "us").text(999.7), "1.00 ms");
        assert_eq!(Rule::for_metric("x.verdict_s", "s").text(12.34), "12.3 s");
    }

    #[test]
    fn shares_are_percentages_with_one_decimal_below_ten() {
        let late = "victim.late_share";
        assert_eq!(
            cells(late, "share", 0.0488, 0.035, 0.064),
            pair("4.9 %", "[3.5, 6.4] %")
        );
        assert_eq!(
            cells(late, "share", 0.1025, 0.072, 0.132),
            pair("10 %", "[7, 13] %")
        );
        assert_eq!(
            cells("victim.retained_throughput", "share", 0.9997, 0.999, 1.0),
            pair("100 %", "[100, 100] %")
        );
        assert_eq!(Rule::Percent.text(0.0), "0 %");
    }

    #[test]
    fn latency_impact_is_a_signed_percentage_then_a_factor() {
        let impact = "victim.latency_impact_p99";
        assert_eq!(
            cells(impact, "ratio", 0.023, -0.013, 0.062),
            pair("+2 %", "[-1, +6] %")
        );
        assert_eq!(
            cells(impact, "ratio", 8.15, 5.0, 14.0),
            pair("+815 %", "[+500, +1400] %")
        );
        assert_eq!(
            cells(impact, "ratio", 17.491, 12.987, 23.188),
            pair("×18.5", "[×14.0, ×24.2]")
        );
        assert_eq!(Rule::for_metric(impact, "ratio").text(17_491.105), "×17492");
        assert_eq!(
            cells("startup.overhead_ratio_p50", "ratio", 0.8444, 0.81, 0.88),
            pair("×0.84", "[×0.81, ×0.88]")
        );
    }

    #[test]
    fn cpus_have_two_decimals_and_pp_one() {
        assert_eq!(
            cells("aggressor.cpu_share", "CPUs", 0.5013, 0.4998, 0.5029),
            pair("0.50 CPUs", "[0.50, 0.50] CPUs")
        );
        assert_eq!(
            cells("harness.cpu_share", "CPUs", 0.00224, 0.0021, 0.0024),
            pair("0.0022 CPUs", "[0.0021, 0.0024] CPUs")
        );
        assert_eq!(
            cells("aggressor.cpu_share_error_pp", "pp", 0.21, 0.1, 0.3),
            pair("0.2 pp", "[0.1, 0.3] pp")
        );
        assert_eq!(Rule::PpChange.text(0.3), "+0.3 pp");
        assert_eq!(Rule::PpChange.text(-5.0), "-5.0 pp");
    }

    #[test]
    fn counts_are_humanised_and_whole_counts_have_no_decimals() {
        let faults = "victim.major_faults";
        assert_eq!(cells(faults, "count", 1.0, 1.0, 1.0), pair("1", "[1, 1]"));
        assert_eq!(
            cells(faults, "count", 1.0 / 3.0, 0.0, 1.0),
            pair("0.33", "[0.00, 1.00]")
        );
        assert_eq!(
            cells(faults, "count", 1234.0, 1100.0, 1390.0),
            pair("1.23 k", "[1.10, 1.39] k")
        );
        assert_eq!(Rule::Count.text(3_400_000.0), "3.40 M");
    }

    #[test]
    fn bytes_are_binary_and_rates_put_the_prefix_before_their_unit() {
        let peak = "aggressor.memory_peak_bytes";
        assert_eq!(
            cells(peak, "bytes", 675_430.4, 598_000.0, 750_600.0),
            pair("660 KiB", "[584, 733] KiB")
        );
        assert_eq!(Rule::Bytes.text(512.0), "512 bytes");
        assert_eq!(Rule::Bytes.text(2_034_632_021.3), "1.89 GiB");
        assert_eq!(
            cells(
                "aggressor.lines_per_s",
                "lines/s",
                170_904_824.0,
                165e6,
                178e6
            ),
            pair("171 M lines/s", "[165, 178] M lines/s")
        );
        assert_eq!(
            cells("victim.throughput_ops", "ops/s", 5037.0, 5030.0, 5040.0),
            pair("5.04 k ops/s", "[5.03, 5.04] k ops/s")
        );
        assert_eq!(
            Rule::for_metric("startup.churn_per_s", "per s").text(407.97),
            "408/s"
        );
        assert_eq!(Rule::for_metric("x", "MB/s").text(622.0), "622 MB/s");
    }

    #[test]
    fn checks_read_pass_or_fail() {
        assert_eq!(Rule::Check.text(1.0), "pass");
        assert_eq!(Rule::Check.text(0.0), "fail");
        assert_eq!(Rule::Check.text(0.5), "50 % pass");
    }

    #[test]
    fn unavailable_values_carry_a_marker_and_each_reason_is_noted_once() {
        let mut notes = Notes::default();
        let null = |reason: &str| Metric {
            name: "victim.psi_memory_full".into(),
            condition: None,
            unit: "share".into(),
            value: None,
            lower: None,
            upper: None,
            per_round: vec![None],
            reason: Some(reason.into()),
        };
        let first = metric_cells(&null("PSI disabled"), &mut notes);
        let second = metric_cells(&null("no memory.peak"), &mut notes);
        let again = metric_cells(&null("PSI disabled"), &mut notes);
        assert_eq!(
            (first.value.as_str(), first.ci.as_str()),
            ("unavailable [1]", "—")
        );
        assert_eq!(second.value, "unavailable [2]");
        assert_eq!(again.value, "unavailable [1]");
        assert_eq!(
            notes.lines().collect::<Vec<_>>(),
            ["[1] PSI disabled", "[2] no memory.peak"]
        );
    }
}

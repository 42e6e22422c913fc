//! Number formatting for people.
//!
//! Results keep base units (µs, bytes, ops/s, shares 0..1); this module is the one
//! place that scales them for display and decides how many digits to show. All
//! functions return plain text: the renderers escape it for their format.

use crate::schema::Metric;
use std::borrow::Cow;

/// One metric as shown in a table: value and 95 % CI in the same display unit.
pub(crate) struct MetricCells {
    /// The mean over rounds, or `unavailable (reason)`.
    pub value: String,
    /// `[lower, upper]`, or `—` when there is no interval (fewer than 2 rounds).
    pub ci: String,
    /// The display unit of `value` and `ci`, e.g. `ms` for a metric in `us`.
    pub unit: String,
}

/// Formats `metric` for a table, choosing a display unit from its value.
pub(crate) fn metric_cells(metric: &Metric) -> MetricCells {
    let magnitude = metric.value.or(metric.upper).map_or(0.0, f64::abs);
    let scale = Scale::for_unit(&metric.unit, magnitude);
    let value = match metric.value {
        Some(v) => scale.number(v),
        None => unavailable(metric.reason.as_deref()),
    };
    let ci = match (metric.value, metric.lower, metric.upper) {
        (Some(_), Some(lower), Some(upper)) => {
            format!("[{}, {}]", scale.number(lower), scale.number(upper))
        }
        _ => "—".to_owned(),
    };
    MetricCells {
        value,
        ci,
        unit: scale.unit.into_owned(),
    }
}

/// `unavailable`, with the reason in parentheses when there is one.
pub(crate) fn unavailable(reason: Option<&str>) -> String {
    match reason {
        Some(reason) => format!("unavailable ({reason})"),
        None => "unavailable".to_owned(),
    }
}

/// A share (0..1) as a whole percentage: `0.99` → `99 %`.
pub(crate) fn percent(share: f64) -> String {
    format!("{} %", fixed(share * 100.0, 0))
}


/// A number with `decimals` decimals and its sign always shown, `−` for
/// negatives: `+4.6`, `−12.0`, `+0.0`.
pub(crate) fn signed(value: f64, decimals: usize) -> String {
    let text = fixed(value.abs(), decimals);
    let zero = text.chars().all(|c| c == '0' || c == '.');
    if value < 0.0 && !zero {
        format!("−{text}")
    } else {
        format!("+{text}")
    }
}

/// A factor (ratio) with three significant digits at most: `1.05`, `19.5`, `262`.
pub(crate) fn factor(value: f64) -> String {
    let decimals = match value.abs() {
        v if v < 10.0 => 2,
        v if v < 100.0 => 1,
        _ => 0,
    };
    fixed(value, decimals)
}

/// A rate or count with three significant digits and a k/M/G prefix: `1.82 k`, `173 M`, `950`.
pub(crate) fn rate(value: f64) -> String {
    let (scaled, prefix) = [(1e9, " G"), (1e6, " M"), (1e3, " k")]
        .into_iter()
        .find(|(f, _)| value.abs() >= *f)
        .map_or((value, ""), |(f, p)| (value / f, p));
    let decimals = match scaled.abs() {
        a if a >= 100.0 => 0,
        a if a >= 10.0 => 1,
        _ => 2,
    };
    format!("{scaled:.decimals$}{prefix}")
}

/// A CPU count (CPUs, e.g. a share of CPU time) with two decimals: `0.5` → `0.50`.
pub(crate) fn cpus(value: f64) -> String {
    fixed(value, 2)
}

/// A latency in µs as an axis label in a fitting unit: `500` → `500 µs`,
/// `2000` → `2 ms`, `1500000` → `1.5 s`.
pub(crate) fn latency_us(value_us: f64) -> String {
    let scale = Scale::for_unit("us", value_us.abs());
    let number = scale.number(value_us);
    let number = if number.contains('.') {
        number.trim_end_matches('0').trim_end_matches('.')
    } else {
        &number
    };
    format!("{number} {}", scale.unit)
}

/// A quantile (0..1) as a percentile label with as many decimals as it needs:
/// `0.5` → `50`, `0.99` → `99`, `0.999` → `99.9`.
pub(crate) fn percentile(quantile: f64) -> String {
    let tail = 100.0 * (1.0 - quantile);
    let decimals = if tail > 0.0 {
        // The small offset keeps 0.0999… (from 1 − 0.999) at one decimal.
        (-(tail.log10() + 1e-9).floor()).clamp(0.0, 6.0) as usize
    } else {
        0
    };
    fixed(100.0 * quantile, decimals)
}

/// An argv as one shell command line, quoting the arguments that need it.
pub(crate) fn command_line(argv: &[String]) -> String {
    let plain = |c: char| c.is_ascii_alphanumeric() || "-_./=:,+@%".contains(c);
    argv.iter()
        .map(|arg| {
            if !arg.is_empty() && arg.chars().all(plain) {
                arg.clone()
            } else {
                format!("'{}'", arg.replace('\'', r"'\''"))
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// How a value of some unit is shown: multiplied by `factor`, with `decimals`
/// digits after the point, followed by `unit`.
struct Scale<'a> {
    factor: f64,
    unit: Cow<'a, str>,
    decimals: usize,
}

impl<'a> Scale<'a> {
    /// The display scale for values of `unit` around `magnitude` (in `unit`).
    /// Units are those of [`Metric::unit`]; an unknown unit is shown as is.
    fn for_unit(unit: &'a str, magnitude: f64) -> Scale<'a> {
        match unit {
            "us" => Self::stepped(magnitude, &[(1.0, "µs"), (1e3, "ms"), (1e6, "s")]),
            "ops/s" => Self::stepped(
                magnitude,
                &[(1.0, "ops/s"), (1e3, "k ops/s"), (1e6, "M ops/s")],
            ),
            "bytes" => Self::stepped(
                magnitude,
                &[
                    (1.0, "bytes"),
                    (1024.0, "KiB"),
                    (1024.0 * 1024.0, "MiB"),
                    (1024.0 * 1024.0 * 1024.0, "GiB"),
                ],
            ),
            "share" => Self::fixed(100.0, "%", 1),
            // Below 0.01 (a harness's own overhead) two decimals would read 0.00.
            "CPUs" if magnitude > 0.0 && magnitude < 0.01 => Self::fixed(1.0, "CPUs", 4),
            "CPUs" => Self::fixed(1.0, "CPUs", 2),
            "pp" => Self::fixed(1.0, "pp", 1),
            "ratio" => Self::fixed(1.0, "ratio", 3),
            _ => Scale {
                factor: 1.0,
                unit: Cow::Borrowed(unit),
                decimals: significant_decimals(magnitude),
            },
        }
    }

    /// A scale with a set number of decimals.
    fn fixed(factor: f64, unit: &'static str, decimals: usize) -> Scale<'a> {
        Scale {
            factor,
            unit: Cow::Borrowed(unit),
            decimals,
        }
    }

    /// The largest of `steps` (size of the display unit in base units, its name)
    /// that `magnitude` reaches, with three significant digits.
    fn stepped(magnitude: f64, steps: &[(f64, &'static str)]) -> Scale<'a> {
        let (size, unit) = steps
            .iter()
            .rev()
            .find(|(size, _)| magnitude >= *size)
            .unwrap_or(&steps[0]);
        Scale {
            factor: 1.0 / size,
            unit: Cow::Borrowed(unit),
            decimals: significant_decimals(magnitude / size),
        }
    }

    /// `value` (in base units) in this scale, without the unit.
    fn number(&self, value: f64) -> String {
        fixed(value * self.factor, self.decimals)
    }
}

/// Decimals that show three significant digits of numbers around `magnitude`
/// (at most three decimals).
fn significant_decimals(magnitude: f64) -> usize {
    if magnitude > 0.0 && magnitude.is_finite() {
        (2.0 - magnitude.log10().floor()).clamp(0.0, 3.0) as usize
    } else {
        0
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

    #[test]
    fn rates_keep_three_significant_digits() {
        assert_eq!(rate(1822.4), "1.82 k");
        assert_eq!(rate(172_792_941.0), "173 M");
        assert_eq!(rate(950.0), "950");
        assert_eq!(rate(12.345), "12.3");
    }

    fn metric(unit: &str, value: Option<f64>, lower: f64, upper: f64) -> Metric {
        Metric {
            name: "m".into(),
            condition: None,
            unit: unit.into(),
            value,
            lower: value.map(|_| lower),
            upper: value.map(|_| upper),
            per_round: vec![value],
            reason: value.is_none().then(|| "no PSI".to_owned()),
        }
    }

    #[test]
    fn latency_in_us_is_scaled_to_ms_with_its_interval() {
        let cells = metric_cells(&metric("us", Some(1234.0), 1100.0, 1390.0));
        assert_eq!(
            (cells.value.as_str(), cells.ci.as_str(), cells.unit.as_str()),
            ("1.23", "[1.10, 1.39]", "ms")
        );
    }

    #[test]
    fn share_is_shown_as_percent_and_throughput_in_thousands() {
        assert_eq!(
            metric_cells(&metric("share", Some(0.987), 0.9, 1.0)).value,
            "98.7"
        );
        let ops = metric_cells(&metric("ops/s", Some(12_345.0), 12_000.0, 12_600.0));
        assert_eq!((ops.value.as_str(), ops.unit.as_str()), ("12.3", "k ops/s"));
    }

    #[test]
    fn null_value_is_unavailable_with_reason_and_no_interval() {
        let cells = metric_cells(&metric("us", None, 0.0, 0.0));
        assert_eq!(cells.value, "unavailable (no PSI)");
        assert_eq!(cells.ci, "—");
    }

    #[test]
    fn percentages_round_and_sign() {
        assert_eq!(percent(0.99), "99 %");
        assert_eq!(signed(4.0, 0), "+4");
        assert_eq!(signed(-12.04, 1), "−12.0");
        assert_eq!(signed(-0.01, 1), "+0.0");
        assert_eq!(factor(1.046), "1.05");
        assert_eq!(factor(19.46), "19.5");
        assert_eq!(factor(262.4), "262");
    }

    #[test]
    fn axis_labels_drop_needless_zeros() {
        assert_eq!(latency_us(500.0), "500 µs");
        assert_eq!(latency_us(2000.0), "2 ms");
        assert_eq!(latency_us(1_500_000.0), "1.5 s");
        assert_eq!(percentile(0.5), "50");
        assert_eq!(percentile(0.99), "99");
        assert_eq!(percentile(0.999), "99.9");
        assert_eq!(percentile(0.9999), "99.99");
    }

    #[test]
    fn command_line_quotes_what_a_shell_would_split() {
        let argv = ["isobench", "run", "--suite", "my suite.toml", "it's"].map(String::from);
        assert_eq!(
            command_line(&argv),
            r"isobench run --suite 'my suite.toml' 'it'\''s'"
        );
    }
}

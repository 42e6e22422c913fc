//! Number formatting for people.
//!
//! Results keep base units (µs, bytes, ops/s, shares 0..1); [`crate::units`] holds
//! the one display rule per metric, and this module names the rules that the
//! verdict lines, charts and detail tables use for single figures. All functions
//! return plain text: the renderers escape it for their format.

use crate::units::{Rule, fixed};

/// `unavailable`, with the reason in parentheses when there is one.
pub(crate) fn unavailable(reason: Option<&str>) -> String {
    match reason {
        Some(reason) => format!("unavailable ({reason})"),
        None => "unavailable".to_owned(),
    }
}

/// A share (0..1) as a percentage, as the `share` rule writes it: `0.99` → `99 %`,
/// `0.049` → `4.9 %`.
pub(crate) fn percent(share: f64) -> String {
    Rule::Percent.text(share)
}

/// Events per second: `408/s`, `1.82 k/s`.
pub(crate) fn per_second(value: f64) -> String {
    Rule::Rate("/s").text(value)
}

/// A CPU count (CPUs, e.g. a share of CPU time) without its unit, two decimals:
/// `0.5` → `0.50`.
pub(crate) fn cpus(value: f64) -> String {
    Rule::Cpus.scale(&[value]).number(value)
}

/// Bytes in bytes, KiB, MiB or GiB: `1310720` → `1.25 MiB`.
pub(crate) fn bytes(value: f64) -> String {
    Rule::Bytes.text(value)
}

/// A latency in µs in a unit that fits it, three significant digits: `107 µs`,
/// `3.95 ms`, `1.45 s`.
pub(crate) fn latency_us(value_us: f64) -> String {
    Rule::Duration { us_per_unit: 1.0 }.text(value_us)
}

/// A latency in µs as an axis label, without needless zeros: `500` → `500 µs`,
/// `2000` → `2 ms`, `1500000` → `1.5 s`.
pub(crate) fn latency_label(value_us: f64) -> String {
    let text = latency_us(value_us);
    let (number, unit) = text.split_once(' ').unwrap_or((&text, ""));
    let number = if number.contains('.') {
        number.trim_end_matches('0').trim_end_matches('.')
    } else {
        number
    };
    format!("{number} {unit}")
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::units::Scale;

    #[test]
    fn rates_keep_three_significant_digits() {
        assert_eq!(Scale::si(1822.4).text(1822.4), "1.82 k");
        assert_eq!(Scale::si(172_792_941.0).text(172_792_941.0), "173 M");
        assert_eq!(Scale::si(950.0).text(950.0), "950");
        assert_eq!(Scale::si(12.345).text(12.345), "12.3");
        assert_eq!(per_second(407.97), "408/s");
        assert_eq!(per_second(1822.4), "1.82 k/s");
    }

    #[test]
    fn percentages_round_and_sign() {
        assert_eq!(percent(0.99), "99 %");
        assert_eq!(percent(0.049), "4.9 %");
        assert_eq!(percent(0.0), "0 %");
        assert_eq!(Rule::Change.text(0.04), "+4 %");
        assert_eq!(Rule::Change.text(3.8), "+380 %");
        assert_eq!(Rule::Change.text(-0.02), "-2 %");
        assert_eq!(Rule::Change.text(-0.001), "+0 %");
    }

    #[test]
    fn a_latency_impact_past_999_percent_reads_as_a_factor() {
        assert_eq!(Rule::Change.text(9.99), "+999 %");
        assert_eq!(Rule::Change.text(17.491), "×18.5");
        assert_eq!(Rule::Change.text(17_491.105), "×17492");
        assert_eq!(Rule::Factor.text(0.8444), "×0.84");
    }

    #[test]
    fn cpus_have_two_decimals_and_latencies_three_digits() {
        assert_eq!(cpus(0.5), "0.50");
        assert_eq!(cpus(0.0022), "0.0022");
        assert_eq!(latency_us(1910.0), "1.91 ms");
        assert_eq!(latency_us(2000.0), "2.00 ms");
        assert_eq!(bytes(1_310_720.0), "1.25 MiB");
    }

    #[test]
    fn axis_labels_drop_needless_zeros() {
        assert_eq!(latency_label(500.0), "500 µs");
        assert_eq!(latency_label(2000.0), "2 ms");
        assert_eq!(latency_label(1_500_000.0), "1.5 s");
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

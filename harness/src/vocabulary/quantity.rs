//! Reading the values of limit entries: numbers, byte sizes in the kernel's,
//! Docker's and Kubernetes' notations, CPU counts and `max`. Each parser says,
//! when it refuses a value, what it accepts.

use toml::Value;

/// How a value is shown back to the user: a string as written, anything else in TOML notation.
pub fn show(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The kind of a TOML value with its article, for messages: `an integer`, `a string`, ….
pub fn kind(value: &Value) -> &'static str {
    match value {
        Value::String(_) => "a string",
        Value::Integer(_) => "an integer",
        Value::Float(_) => "a float",
        Value::Boolean(_) => "a boolean",
        Value::Datetime(_) => "a date-time",
        Value::Array(_) => "an array",
        Value::Table(_) => "a table",
    }
}

/// A TOML string, or a message saying what was expected.
pub fn string<'a>(value: &'a Value, expected: &str) -> Result<&'a str, String> {
    match value {
        Value::String(s) => Ok(s.trim()),
        _ => Err(format!("expected {expected}, not {}", kind(value))),
    }
}

/// A whole number: a TOML integer, or a string of digits (with an optional sign).
pub fn integer(value: &Value, expected: &str) -> Result<i64, String> {
    match value {
        Value::Integer(i) => Ok(*i),
        Value::String(s) => s
            .trim()
            .parse()
            .map_err(|_| format!("{s:?} is not a whole number: expected {expected}")),
        _ => Err(format!("expected {expected}, not {}", kind(value))),
    }
}

/// A whole number that is not negative.
pub fn unsigned(value: &Value, expected: &str) -> Result<u64, String> {
    let n = integer(value, expected)?;
    u64::try_from(n).map_err(|_| format!("{n} is negative: expected {expected}"))
}

/// One string, or an array of strings (each trimmed).
pub fn strings<'a>(value: &'a Value, expected: &str) -> Result<Vec<&'a str>, String> {
    match value {
        Value::Array(items) => items.iter().map(|i| string(i, expected)).collect(),
        _ => string(value, expected).map(|s| vec![s]),
    }
}

/// What the kernel's size notation accepts, for messages.
pub const KERNEL_SIZE: &str = "bytes, or a size such as 512K, 256M, 256MiB or 2G \
                               (K, M, G are powers of 1024, as the kernel reads them)";

/// A byte size as cgroup files read it (the kernel's `memparse`, lib/cmdline.c):
/// a TOML integer, or a string with an optional K/M/G/T suffix (also KiB, MiB,
/// GiB; KB, MB and GB count in powers of 1024 too).
pub fn kernel_bytes(value: &Value) -> Result<u64, String> {
    binary_size(value, KERNEL_SIZE)
}

/// What Docker's size notation accepts, for messages.
pub const DOCKER_SIZE: &str = "bytes, or a size such as 512k, 256m or 2g \
                               (b, k, m, g: powers of 1024, as Docker reads them)";

/// A byte size as Docker reads it (`units.RAMInBytes` of go-units: b, k, m, g,
/// t, p in powers of 1024, case-insensitive, an optional trailing b).
pub fn docker_bytes(value: &Value) -> Result<u64, String> {
    binary_size(value, DOCKER_SIZE)
}

fn binary_size(value: &Value, expected: &str) -> Result<u64, String> {
    match value {
        Value::Integer(i) => {
            u64::try_from(*i).map_err(|_| format!("{i} is negative: expected {expected}"))
        }
        Value::String(s) => parse_size::Config::new()
            .with_binary()
            .parse_size(s.trim())
            .map_err(|e| format!("{s:?} is not a size ({e}): expected {expected}")),
        _ => Err(format!("expected {expected}, not {}", kind(value))),
    }
}

/// A byte size in the kernel's notation, or `max` (`None`).
pub fn kernel_bytes_or_max(value: &Value) -> Result<Option<u64>, String> {
    match value {
        Value::String(s) if s.trim() == "max" => Ok(None),
        _ => kernel_bytes(value)
            .map(Some)
            .map_err(|e| format!("{e}; or max")),
    }
}

/// What a Kubernetes quantity looks like, for messages.
pub const K8S_QUANTITY: &str = "a Kubernetes quantity such as 250m, 0.5 or 2 (CPU) \
                                or 512Mi, 1Gi or 1G (memory)";

/// A Kubernetes resource quantity, in thousandths of its unit ("milli-units":
/// `250m` → 250, `2` → 2000, `1Ki` → 1 024 000).
///
/// Accepts a decimal number with an optional exponent (`1e3`) or suffix: `m`,
/// decimal `k M G T P E` or binary `Ki Mi Gi Ti Pi Ei`, as
/// k8s.io/apimachinery/pkg/api/resource (quantity.go) defines them; a TOML
/// integer or float counts as the bare number. Negative values are refused.
pub fn k8s_milli(value: &Value) -> Result<u128, String> {
    let text = match value {
        Value::String(s) => s.trim().to_string(),
        Value::Integer(i) => i.to_string(),
        Value::Float(f) => f.to_string(),
        _ => {
            return Err(format!("expected {K8S_QUANTITY}, not {}", kind(value)));
        }
    };
    parse_k8s_milli(&text)
        .ok_or_else(|| format!("{text:?} is not a quantity: expected {K8S_QUANTITY}"))
}

fn parse_k8s_milli(s: &str) -> Option<u128> {
    let end = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(s.len());
    let (number, suffix) = s.split_at(end);
    let (int, frac) = number.split_once('.').unwrap_or((number, ""));
    if int.is_empty() && frac.is_empty() {
        return None;
    }
    let digits = format!("{int}{frac}");
    let mantissa: u128 = digits.parse().ok()?;
    let scale = 10u128.checked_pow(frac.len() as u32)?;
    // The multiplier in milli-units, and a power of ten to divide by.
    let (mult, div): (u128, u128) = match suffix {
        "" => (1000, 1),
        "m" => (1, 1),
        "k" => (1000 * 10u128.pow(3), 1),
        "M" => (1000 * 10u128.pow(6), 1),
        "G" => (1000 * 10u128.pow(9), 1),
        "T" => (1000 * 10u128.pow(12), 1),
        "P" => (1000 * 10u128.pow(15), 1),
        "E" => (1000 * 10u128.pow(18), 1),
        "Ki" => (1000 << 10, 1),
        "Mi" => (1000 << 20, 1),
        "Gi" => (1000 << 30, 1),
        "Ti" => (1000 << 40, 1),
        "Pi" => (1000 << 50, 1),
        "Ei" => (1000 << 60, 1),
        e if e.starts_with(['e', 'E']) => {
            let exp: i32 = e[1..].parse().ok()?;
            if exp >= 0 {
                (1000 * 10u128.checked_pow(exp as u32)?, 1)
            } else {
                (1000, 10u128.checked_pow(exp.unsigned_abs())?)
            }
        }
        _ => return None,
    };
    let value = mantissa.checked_mul(mult)?;
    let div = scale.checked_mul(div)?;
    // Finer than the unit allows: round up, as Kubernetes does for CPU (quantity.go RoundUp).
    Some(value.div_ceil(div))
}

/// A number of CPUs as Docker's `--cpus` takes it: a TOML integer or float, or
/// a decimal string.
pub fn cpus(value: &Value) -> Result<f64, String> {
    const EXPECTED: &str = "a number of CPUs such as 1.5";
    let v = match value {
        Value::Integer(i) => *i as f64,
        Value::Float(f) => *f,
        Value::String(s) => s
            .trim()
            .parse()
            .map_err(|_| format!("{s:?} is not a number: expected {EXPECTED}"))?,
        _ => return Err(format!("expected {EXPECTED}, not {}", kind(value))),
    };
    if v.is_finite() {
        Ok(v)
    } else {
        Err(format!("{v} is not a number: expected {EXPECTED}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &str) -> Value {
        Value::String(v.into())
    }

    #[test]
    fn kubernetes_quantities_in_milli_units() {
        assert_eq!(k8s_milli(&s("250m")), Ok(250));
        assert_eq!(k8s_milli(&s("0.5")), Ok(500));
        assert_eq!(k8s_milli(&Value::Integer(2)), Ok(2000));
        assert_eq!(k8s_milli(&Value::Float(1.5)), Ok(1500));
        assert_eq!(k8s_milli(&s("1Gi")), Ok(1000 << 30));
        assert_eq!(k8s_milli(&s("512Mi")), Ok((1000 * 512) << 20));
        assert_eq!(k8s_milli(&s("1G")), Ok(1000 * 1_000_000_000));
        assert_eq!(k8s_milli(&s("1e3")), Ok(1_000_000));
        assert_eq!(k8s_milli(&s("0.0001")), Ok(1), "finer than 1m rounds up");
        for bad in ["", "1X", "-1", "1.2.3", "Gi", "1gi"] {
            assert!(k8s_milli(&s(bad)).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn sizes_count_in_powers_of_1024_as_the_kernel_and_docker_read_them() {
        assert_eq!(kernel_bytes(&s("512M")), Ok(512 << 20));
        assert_eq!(kernel_bytes(&s("1GiB")), Ok(1 << 30));
        assert_eq!(kernel_bytes(&Value::Integer(4096)), Ok(4096));
        assert_eq!(docker_bytes(&s("1mb")), Ok(1 << 20));
        assert_eq!(docker_bytes(&s("2g")), Ok(2 << 30));
        assert_eq!(kernel_bytes_or_max(&s("max")), Ok(None));
        let err = kernel_bytes(&s("12X")).unwrap_err();
        assert!(
            err.starts_with("\"12X\" is not a size") && err.contains("powers of 1024"),
            "{err}"
        );
        assert!(
            kernel_bytes(&Value::Integer(-1))
                .unwrap_err()
                .contains("negative")
        );
        assert!(
            kernel_bytes(&Value::Boolean(true))
                .unwrap_err()
                .contains("not a boolean")
        );
    }

    #[test]
    fn numbers_and_cpus() {
        assert_eq!(integer(&s("12"), "n"), Ok(12));
        assert_eq!(unsigned(&Value::Integer(5), "a weight"), Ok(5));
        assert_eq!(
            unsigned(&Value::Integer(-1), "a weight").unwrap_err(),
            "-1 is negative: expected a weight"
        );
        let list: Value =
            toml::from_str::<toml::Table>("a = [\"x\", \" y \"]").unwrap()["a"].clone();
        assert_eq!(strings(&list, "paths"), Ok(vec!["x", "y"]));
        assert!(
            strings(&Value::Integer(1), "paths")
                .unwrap_err()
                .contains("not an integer")
        );
        assert_eq!(cpus(&Value::Float(1.5)), Ok(1.5));
        assert_eq!(cpus(&s("2")), Ok(2.0));
        assert!(cpus(&s("two")).is_err());
        assert_eq!(show(&s("500m")), "500m");
        assert_eq!(show(&Value::Integer(3)), "3");
    }
}

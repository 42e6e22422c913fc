//! A neighbour's phases (`phase = { ... }` of a `[[scenario.aggressor]]`,
//! issue 17) and the victim's slices (`slice_ms`): the pattern, how it reads
//! from a suite file, and where it is on or off at a time of the window.
//!
//! Time runs from the start of the measured window. Before it (the warm-up)
//! a neighbour is in the state the pattern starts with.

use super::error::Problems;
use super::reader::{Table, shown};
use serde::Serialize;
use toml::de::DeValue;

/// Shortest on/off period, ms: below it a cgroup freeze and thaw (a write of
/// tens of µs, and the freezer's walk of the tasks) is a large part of each phase.
pub const MIN_PERIOD_MS: f64 = 10.0;
/// Longest on/off period, ms.
pub const MAX_PERIOD_MS: f64 = 60_000.0;
/// Latest step, ms from the window's start.
pub const MAX_STEP_MS: f64 = 3_600_000.0;
/// Slice length when a scenario has a phased neighbour and its suite sets none, ms.
pub const DEFAULT_SLICE_MS: u64 = 50;
/// Aggressor applets with an intensity knob ([`isobench_workloads::intensity`]),
/// the only ones a ramp can pace.
pub const RAMPED: [&str; 6] = [
    "cpu-hog",
    "cache-thrash",
    "mem-bw",
    "fork-storm",
    "io-hog",
    "net-hog",
];
/// Longest ramp, ms.
pub const MAX_RAMP_MS: f64 = 3_600_000.0;
/// Victim applets that report their latencies per slice: those whose units
/// end on the schedule's thread (`tcp-echo`'s end on its receiver's).
pub const SLICED_VICTIMS: [&str; 3] = ["cpu-units", "mem-units", "wakeup-latency"];

/// When a neighbour is on (running) and off (frozen).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(tag = "pattern", rename_all = "kebab-case")]
pub enum Phase {
    /// On for `on_ms`, then off for `off_ms`, again and again from the
    /// window's start, on first (and on through the warm-up).
    OnOff {
        /// Length of each on-phase, ms.
        on_ms: f64,
        /// Length of each off-phase, ms.
        off_ms: f64,
    },
    /// One change at `at_ms` from the window's start: it comes on
    /// (`on_after`, off until then) or leaves.
    Step {
        /// When it changes, ms from the window's start.
        at_ms: f64,
        /// Its state after the step.
        on_after: bool,
    },
    /// On throughout, its intensity moving linearly from `from_pct` to
    /// `to_pct` over `over_ms` from `start_ms`, applied by the applet's own
    /// pacing ([`RAMPED`] applets only).
    Ramp {
        /// Intensity before and at the ramp's start, percent (0 to 100).
        from_pct: u8,
        /// Intensity at its end and after, percent.
        to_pct: u8,
        /// When it starts, ms from the window's start.
        start_ms: f64,
        /// How long it takes, ms.
        over_ms: f64,
    },
}

impl Phase {
    /// Whether the neighbour is on at `t_ms` from the window's start (a
    /// negative time is the warm-up: the pattern's first state).
    pub fn on_at(&self, t_ms: f64) -> bool {
        match *self {
            Phase::OnOff { on_ms, off_ms } => t_ms < 0.0 || t_ms.rem_euclid(on_ms + off_ms) < on_ms,
            Phase::Step { at_ms, on_after } => (t_ms >= at_ms) == on_after,
            Phase::Ramp { .. } => true,
        }
    }

    /// Whether the pattern is applied by freezing the neighbour's cgroup (on/off,
    /// step) rather than by its own pacing (a ramp).
    pub fn freezes(&self) -> bool {
        !matches!(self, Phase::Ramp { .. })
    }

    /// The first change strictly after `t_ms`, ms from the window's start;
    /// `None` when there is none (after a step).
    pub fn next_change_after(&self, t_ms: f64) -> Option<f64> {
        match *self {
            Phase::OnOff { on_ms, off_ms } => {
                let period = on_ms + off_ms;
                let t = t_ms.max(0.0);
                let base = (t / period).floor() * period;
                [base + on_ms, base + period, base + period + on_ms]
                    .into_iter()
                    .find(|&c| c > t_ms && c > 0.0)
            }
            Phase::Step { at_ms, .. } => (at_ms > t_ms).then_some(at_ms),
            Phase::Ramp { .. } => None,
        }
    }

    /// The pattern in words, for people: `on 200 ms / off 200 ms (period 400 ms, duty 50 %)`.
    pub fn describe(&self) -> String {
        match *self {
            Phase::OnOff { on_ms, off_ms } => format!(
                "on {on_ms} ms / off {off_ms} ms (period {} ms, duty {:.0} %)",
                on_ms + off_ms,
                100.0 * on_ms / (on_ms + off_ms)
            ),
            Phase::Step { at_ms, on_after } => format!(
                "{} at {at_ms} ms",
                if on_after { "comes on" } else { "leaves" }
            ),
            Phase::Ramp {
                from_pct,
                to_pct,
                start_ms,
                over_ms,
            } => {
                format!("intensity {from_pct} % to {to_pct} % over {over_ms} ms from {start_ms} ms")
            }
        }
    }
}

/// A duration such as `"400ms"`, `"1.5s"` or `"2s"`, in ms.
///
/// # Errors
/// Anything else, saying what is accepted.
pub fn parse_duration_ms(text: &str) -> Result<f64, String> {
    let t = text.trim();
    let (number, scale) = if let Some(n) = t.strip_suffix("ms") {
        (n, 1.0)
    } else if let Some(n) = t.strip_suffix('s') {
        (n, 1000.0)
    } else {
        return Err(format!(
            "{text:?} is not a duration: expected a number with ms or s, such as \"400ms\" or \"1.5s\""
        ));
    };
    match number.trim().parse::<f64>() {
        Ok(v) if v.is_finite() && v >= 0.0 => Ok(v * scale),
        _ => Err(format!(
            "{text:?} is not a duration: expected a number with ms or s, such as \"400ms\" or \"1.5s\""
        )),
    }
}

/// The keys of a `phase` table.
const KEYS: [&str; 7] = [
    "on_ms", "off_ms", "period", "duty", "step_at", "then", "ramp",
];

/// Reads the `phase` of aggressor table `a`; every problem goes to `p` with its place.
pub fn read(a: Table<'_, '_>, p: &mut Problems) -> Option<Phase> {
    let t = a.table("phase", "scenario.aggressor.phase", p)?;
    t.only(&KEYS, p);
    let has = |k: &str| t.get(k).is_some();
    let path = |k: &str| format!("scenario.aggressor.phase.{k}");
    let forms = [
        has("on_ms") || has("off_ms"),
        has("period") || has("duty"),
        has("step_at") || has("then"),
        has("ramp"),
    ];
    if forms.iter().filter(|&&f| f).count() != 1 {
        p.at(
            t.span(),
            "scenario.aggressor.phase",
            "expected one pattern: on/off as { on_ms = 200, off_ms = 200 } or { period = \"400ms\", duty = 0.5 }, a step as { step_at = \"1s\" } (then = \"on\" or \"off\"), or a ramp as { ramp = { from = 0, to = 100, over = \"2s\" } }",
        );
        return None;
    }
    if forms[3] {
        return ramp(t, p);
    }
    let duration = |k: &str, p: &mut Problems| -> Option<f64> {
        let f = t.get(k)?;
        match f.value {
            DeValue::String(s) => match parse_duration_ms(s) {
                Ok(ms) => Some(ms),
                Err(why) => {
                    p.at(f.span, &path(k), why);
                    None
                }
            },
            _ => {
                p.wrong_type(
                    f,
                    &path(k),
                    "a duration with ms or s, such as \"400ms\" or \"1.5s\"",
                );
                None
            }
        }
    };
    let span_of = |k: &str| t.get(k).map_or(t.span(), |f| f.span);
    if forms[0] {
        for k in ["on_ms", "off_ms"] {
            if !has(k) {
                p.at(
                    t.span(),
                    &path(k),
                    "missing: on/off needs both on_ms and off_ms (ms), e.g. { on_ms = 200, off_ms = 200 }",
                );
            }
        }
        let on = t.number("on_ms", 0.001..=MAX_PERIOD_MS, "ms", p);
        let off = t.number("off_ms", 0.001..=MAX_PERIOD_MS, "ms", p);
        let (on_ms, off_ms) = (on?, off?);
        return period_in_range(on_ms + off_ms, span_of("on_ms"), "on_ms", p)
            .then_some(Phase::OnOff { on_ms, off_ms });
    }
    if forms[1] {
        for (k, eg) in [("period", "period = \"400ms\""), ("duty", "duty = 0.5")] {
            if !has(k) {
                p.at(
                    t.span(),
                    &path(k),
                    format!(
                        "missing: on/off by period needs both period and duty, e.g. {{ {eg} }}"
                    ),
                );
            }
        }
        let period = duration("period", p);
        let duty = duty(t, p);
        let (period, duty) = (period?, duty?);
        return period_in_range(period, span_of("period"), "period", p).then_some(Phase::OnOff {
            on_ms: period * duty,
            off_ms: period * (1.0 - duty),
        });
    }
    if !has("step_at") {
        p.at(
            t.span(),
            &path("step_at"),
            "missing: a step needs step_at, e.g. { step_at = \"1s\" }",
        );
    }
    let on_after = match t.str("then", p) {
        None => Some(true),
        Some(("on", _)) => Some(true),
        Some(("off", _)) => Some(false),
        Some((other, span)) => {
            p.at(
                span,
                &path("then"),
                format!(
                    "{other:?} is not a state: expected \"on\" (the neighbour comes at step_at) or \"off\" (it leaves)"
                ),
            );
            None
        }
    };
    let at_ms = duration("step_at", p)?;
    if at_ms > MAX_STEP_MS {
        p.at(
            span_of("step_at"),
            &path("step_at"),
            format!("{at_ms} ms is out of range: expected 0 to 3600 s from the window's start"),
        );
        return None;
    }
    Some(Phase::Step {
        at_ms,
        on_after: on_after?,
    })
}

/// The `ramp` of phase table `t`: `from`, `to` (percent), `over` and an optional `start`.
fn ramp(t: Table<'_, '_>, p: &mut Problems) -> Option<Phase> {
    let r = t.table("ramp", "scenario.aggressor.phase.ramp", p)?;
    r.only(&["from", "to", "over", "start"], p);
    let path = |k: &str| format!("scenario.aggressor.phase.ramp.{k}");
    for k in ["from", "to", "over"] {
        if r.get(k).is_none() {
            p.at(
                r.span(),
                &path(k),
                "missing: a ramp needs from and to (intensity, 0 to 100 %) and over (a duration), e.g. { from = 0, to = 100, over = \"2s\" }",
            );
        }
    }
    let from = r.integer("from", 0..=100, p);
    let to = r.integer("to", 0..=100, p);
    let duration = |k: &str, p: &mut Problems| -> Option<f64> {
        let f = r.get(k)?;
        let ms = match f.value {
            DeValue::String(s) => parse_duration_ms(s),
            _ => Err(format!(
                "{} is {}: expected a duration with ms or s, such as \"2s\"",
                shown(f.value),
                f.value.type_str()
            )),
        };
        match ms {
            Ok(ms) if ms <= MAX_RAMP_MS => Some(ms),
            Ok(ms) => {
                p.at(
                    f.span,
                    &path(k),
                    format!("{ms} ms is out of range: expected 0 to 3600 s"),
                );
                None
            }
            Err(why) => {
                p.at(f.span, &path(k), why);
                None
            }
        }
    };
    let over = duration("over", p);
    let start = if r.get("start").is_some() {
        Some(duration("start", p)?)
    } else {
        Some(0.0)
    };
    if over == Some(0.0) {
        p.at(
            r.get("over").map_or(r.span(), |f| f.span),
            &path("over"),
            "a ramp over 0 ms is a step: expected a duration above 0, or use step_at",
        );
        return None;
    }
    let (from, to) = (from? as u8, to? as u8);
    if from == to {
        p.at(
            r.get("to").map_or(r.span(), |f| f.span),
            &path("to"),
            format!("a ramp from {from} % to {to} % does not move: expected two different intensities (a fixed one is --intensity in args)"),
        );
        return None;
    }
    Some(Phase::Ramp {
        from_pct: from,
        to_pct: to,
        start_ms: start?,
        over_ms: over?,
    })
}

/// True when an on/off period of `ms` is within [`MIN_PERIOD_MS`]..=[`MAX_PERIOD_MS`];
/// otherwise says so at `span`.
fn period_in_range(ms: f64, span: super::error::Span, key: &str, p: &mut Problems) -> bool {
    let ok = (MIN_PERIOD_MS..=MAX_PERIOD_MS).contains(&ms);
    if !ok {
        p.at(
            span,
            &format!("scenario.aggressor.phase.{key}"),
            format!(
                "a period of {ms} ms is out of range: expected 10 ms to 60 s (on and off together)"
            ),
        );
    }
    ok
}

/// The `duty` of a phase table: a share above 0 and below 1, or a percentage string.
fn duty(t: Table<'_, '_>, p: &mut Problems) -> Option<f64> {
    let f = t.get("duty")?;
    let value = match f.value {
        DeValue::Integer(i) => i.as_str().parse::<f64>().ok(),
        DeValue::Float(x) => x.as_str().replace('_', "").parse::<f64>().ok(),
        DeValue::String(s) => s
            .trim()
            .strip_suffix('%')
            .and_then(|n| n.trim().parse::<f64>().ok())
            .map(|pct| pct / 100.0),
        _ => None,
    };
    match value {
        Some(d) if d > 0.0 && d < 1.0 => Some(d),
        _ => {
            p.at(
                f.span,
                "scenario.aggressor.phase.duty",
                format!(
                    "{} is out of range: expected a duty cycle above 0 and below 1 (0–100 %, both ends excluded: a neighbour always on or always off has no phases), e.g. 0.5 or \"50%\"",
                    shown(f.value)
                ),
            );
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn on_off_starts_on_and_changes_every_half_period() {
        let p = Phase::OnOff {
            on_ms: 200.0,
            off_ms: 100.0,
        };
        assert!(p.on_at(-5.0) && p.on_at(0.0) && p.on_at(199.0));
        assert!(!p.on_at(200.0) && !p.on_at(299.0) && p.on_at(300.0));
        assert_eq!(p.next_change_after(-5.0), Some(200.0));
        assert_eq!(p.next_change_after(200.0), Some(300.0));
        assert_eq!(p.next_change_after(310.0), Some(500.0));
    }

    #[test]
    fn a_step_changes_once() {
        let p = Phase::Step {
            at_ms: 1000.0,
            on_after: true,
        };
        assert!(!p.on_at(-1.0) && !p.on_at(999.0) && p.on_at(1000.0));
        assert_eq!(p.next_change_after(0.0), Some(1000.0));
        assert_eq!(p.next_change_after(1000.0), None);
    }

    #[test]
    fn durations_take_ms_or_s() {
        assert_eq!(parse_duration_ms("400ms"), Ok(400.0));
        assert_eq!(parse_duration_ms("1.5s"), Ok(1500.0));
        assert!(parse_duration_ms("400").unwrap_err().contains("\"400ms\""));
        assert!(parse_duration_ms("-1s").is_err());
    }
}

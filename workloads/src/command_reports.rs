//! `command-reports`: a user's command that measures itself and reports its
//! own latencies, which are ingested as the victim's units.
//!
//! - `lines`: one latency in µs per line of stdout; the lines read while the
//!   window is open are the window's units (each stamped on arrival); the
//!   command is stopped at the close.
//! - `json`: one JSON object as the last line of stdout, at exit:
//!   `{"latencies_us": [..], "ops": N, "window_s": S}` (`ops` defaults to the
//!   number of latencies, `window_s` to the window). The command is told the
//!   window in `ISOBENCH_WARMUP_S` and `ISOBENCH_DURATION_S` and should end by
//!   itself soon after; it is stopped [`JSON_GRACE`] past the close.

use crate::command::{self, CommandArgs, Running, Waited};
use crate::report::{MAX_LATENCY_NS, UnitsReport, histogram_to_pairs, new_histogram};
use hdrhistogram::Histogram;
use std::io::{BufRead, BufReader, Read};
use std::process::Stdio;
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// How long a `json` command may run past the window's close before it is stopped.
pub const JSON_GRACE: Duration = Duration::from_secs(10);
/// Most bytes of output a `json` command's summary may take.
pub const MAX_JSON_BYTES: u64 = 64 << 20;

/// What the command prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// One latency in µs per line.
    Lines,
    /// One JSON summary at exit.
    Json,
}

/// What to run, how it reports and for how long.
#[derive(Debug, Clone)]
pub struct ReportsPlan {
    /// The command.
    pub command: CommandArgs,
    /// What it prints.
    pub format: Format,
    /// Unrecorded warm-up.
    pub warmup: Duration,
    /// The measured window.
    pub duration: Duration,
}

/// Runs the command through warm-up and window and reads what it reported; a
/// command that fails, ends early or prints a malformed line leaves the reason
/// in [`UnitsReport::failure`] (with the line's number and text).
pub fn run(plan: &ReportsPlan) -> UnitsReport {
    let start = Instant::now();
    let window_start = start + plan.warmup;
    let window_end = window_start + plan.duration;
    let mut c = plan.command.command();
    c.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .env("ISOBENCH_WARMUP_S", plan.warmup.as_secs_f64().to_string())
        .env(
            "ISOBENCH_DURATION_S",
            plan.duration.as_secs_f64().to_string(),
        );
    let empty = |failure: String| UnitsReport {
        ops: 0,
        missed: 0,
        window_s: plan.duration.as_secs_f64(),
        rate: 0.0,
        latency_ns: Vec::new(),
        failure: Some(failure),
        slices: None,
    };
    let (running, stdout) = match Running::spawn(c) {
        Ok((r, Some(out))) => (r, out),
        Ok((r, None)) => {
            r.stop();
            return empty("its stdout could not be read".into());
        }
        Err(e) => {
            return empty(format!(
                "could not start {}: {e}",
                plan.command.program.display()
            ));
        }
    };
    match plan.format {
        Format::Lines => lines(&running, stdout, window_start, window_end, plan.duration),
        Format::Json => json(&running, stdout, start, window_end, plan.duration),
    }
}

/// Reads latency lines until the window closes, then stops the command.
fn lines(
    running: &Running,
    stdout: std::process::ChildStdout,
    window_start: Instant,
    window_end: Instant,
    duration: Duration,
) -> UnitsReport {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for (i, line) in BufReader::new(stdout).lines().enumerate() {
            let Ok(line) = line else { break };
            if tx.send((Instant::now(), i + 1, line)).is_err() {
                break;
            }
        }
    });
    let mut hist = new_histogram();
    let mut ops = 0;
    let mut failure = None;
    loop {
        let left = window_end.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok((at, number, text)) => match parse_latency_us(&text) {
                Ok(None) => {}
                Ok(Some(us)) if at >= window_start => {
                    hist.saturating_record((us * 1000.0) as u64);
                    ops += 1;
                }
                Ok(Some(_)) => {}
                Err(why) => {
                    failure = Some(format!("line {number} of its output, {text:?}: {why}"));
                    break;
                }
            },
            Err(mpsc::RecvTimeoutError::Timeout) => break,
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                let how = match running.wait_until(Instant::now() + command::GRACE) {
                    Waited::Ended(_, status) => command::ended_how(status),
                    _ => "closed its stdout".into(),
                };
                failure = Some(format!(
                    "it ended before the window's close ({how}), so it did not report through the window"
                ));
                break;
            }
        }
    }
    running.stop();
    if failure.is_none() && ops == 0 {
        failure = Some("it printed no latency line while the window was open".into());
    }
    UnitsReport {
        ops,
        missed: 0,
        window_s: duration.as_secs_f64(),
        rate: 0.0,
        latency_ns: histogram_to_pairs(&hist),
        failure,
        slices: None,
    }
}

/// One line of a `lines` report: `Ok(None)` for a blank line, else a latency ≥ 0 in µs.
///
/// # Errors
/// What the line should have been.
pub fn parse_latency_us(text: &str) -> Result<Option<f64>, String> {
    let t = text.trim();
    if t.is_empty() {
        return Ok(None);
    }
    match t.parse::<f64>() {
        Ok(v) if v.is_finite() && v >= 0.0 => within_range(v).map(Some),
        _ => Err("not a latency: expected one number of µs (0 or more) per line".into()),
    }
}

/// Most µs a reported latency may be: what the histograms hold (60 s).
const MAX_US: f64 = MAX_LATENCY_NS as f64 / 1000.0;

/// `us` if the histograms can hold it, else why not.
fn within_range(us: f64) -> Result<f64, String> {
    if us > MAX_US {
        return Err(format!(
            "{us} µs is above {MAX_US} µs (60 s), the longest latency isobench records"
        ));
    }
    Ok(us)
}

/// Waits for the command's exit (at most [`JSON_GRACE`] past the close) and reads its summary.
fn json(
    running: &Running,
    stdout: std::process::ChildStdout,
    started: Instant,
    window_end: Instant,
    duration: Duration,
) -> UnitsReport {
    let reader = std::thread::spawn(move || {
        let mut out = String::new();
        let _ = stdout.take(MAX_JSON_BYTES).read_to_string(&mut out);
        out
    });
    // It must have run beside the neighbours through the window (a twentieth
    // of it may be missing: its own clock and ours start apart).
    let close_enough = window_end - duration / 20;
    let ended = match running.wait_until(window_end + JSON_GRACE) {
        Waited::Ended(at, status) if status.success() && at < close_enough => Err(format!(
            "it exited {:.2} s before the window's close, so it did not run beside the neighbours through the window (it is told the window in ISOBENCH_WARMUP_S and ISOBENCH_DURATION_S)",
            window_end.duration_since(at).as_secs_f64()
        )),
        Waited::Ended(at, status) if status.success() => {
            Ok(at.duration_since(started).as_secs_f64())
        }
        Waited::Ended(_, status) => Err(command::ended_how(status)),
        Waited::Running => Err(format!(
            "did not exit within {} s of the window's close ({})",
            JSON_GRACE.as_secs(),
            running.stop()
        )),
        Waited::Failed(e) => Err(format!("could not be waited for: {e}")),
    };
    running.stop();
    let output = reader.join().unwrap_or_default();
    let summary = ended.and_then(|ran_s| parse_summary(&output, duration.as_secs_f64(), ran_s));
    match summary {
        Ok((ops, window_s, hist)) => UnitsReport {
            ops,
            missed: 0,
            window_s,
            rate: 0.0,
            latency_ns: histogram_to_pairs(&hist),
            failure: None,
            slices: None,
        },
        Err(why) => UnitsReport {
            ops: 0,
            missed: 0,
            window_s: duration.as_secs_f64(),
            rate: 0.0,
            latency_ns: Vec::new(),
            failure: Some(why),
            slices: None,
        },
    }
}

/// The summary a `json` command printed as its last line: `(ops, window_s,
/// latencies)`; `duration_s` is the window, `ran_s` how long the command ran.
///
/// # Errors
/// What is wrong with it, quoting the start of the line: a latency out of
/// range, fewer `ops` than latencies, a `window_s` longer than the command ran.
pub fn parse_summary(
    output: &str,
    duration_s: f64,
    ran_s: f64,
) -> Result<(u64, f64, Histogram<u64>), String> {
    #[derive(serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Summary {
        latencies_us: Vec<f64>,
        ops: Option<u64>,
        window_s: Option<f64>,
    }
    let Some((number, line)) = output
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .last()
    else {
        return Err("it printed nothing: expected a JSON summary {\"latencies_us\": [...]} as its last line".into());
    };
    let shown: String = line.chars().take(200).collect();
    let s: Summary = serde_json::from_str(line).map_err(|e| {
        format!("line {} of its output, {shown:?}, is not the JSON summary expected ({e}): {{\"latencies_us\": [...], \"ops\": N, \"window_s\": S}}", number + 1)
    })?;
    let mut hist = new_histogram();
    for (i, us) in s.latencies_us.iter().enumerate() {
        if !us.is_finite() || *us < 0.0 {
            return Err(format!("latencies_us[{i}] is {us}: expected µs, 0 or more"));
        }
        let us = within_range(*us).map_err(|e| format!("latencies_us[{i}]: {e}"))?;
        hist.saturating_record((us * 1000.0) as u64);
    }
    if s.latencies_us.is_empty() {
        return Err("latencies_us is empty: the summary reported no unit".into());
    }
    let window_s = s.window_s.unwrap_or(duration_s);
    if !(window_s.is_finite() && window_s > 0.0) {
        return Err(format!("window_s is {window_s}: expected seconds above 0"));
    }
    if window_s > ran_s {
        return Err(format!(
            "window_s is {window_s} s, longer than the {ran_s:.2} s the command ran: expected its own measured window"
        ));
    }
    let ops = s.ops.unwrap_or(s.latencies_us.len() as u64);
    if ops < s.latencies_us.len() as u64 {
        return Err(format!(
            "ops is {ops}, fewer than the {} latencies reported: expected the units completed, each latency one of them",
            s.latencies_us.len()
        ));
    }
    Ok((ops, window_s, hist))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latency_lines_take_numbers_and_refuse_the_rest() {
        assert_eq!(parse_latency_us(" 12.5 "), Ok(Some(12.5)));
        assert_eq!(parse_latency_us(""), Ok(None));
        assert!(parse_latency_us("12us").is_err());
        assert!(parse_latency_us("-1").is_err());
        assert!(parse_latency_us("NaN").is_err());
        assert!(parse_latency_us("1e300").unwrap_err().contains("above"));
    }

    #[test]
    fn a_summary_is_the_last_line_and_a_bad_one_is_named() {
        let (ops, w, h) = parse_summary(
            "noise\n{\"latencies_us\": [100, 200], \"ops\": 5}\n",
            2.0,
            2.5,
        )
        .unwrap();
        assert_eq!((ops, w, h.len()), (5, 2.0, 2));
        let err = parse_summary("{\"latency\": [1]}", 1.0, 2.0).unwrap_err();
        assert!(
            err.starts_with("line 1 of its output") && err.contains("latencies_us"),
            "{err}"
        );
        assert!(
            parse_summary("{\"latencies_us\": [-3]}", 1.0, 2.0)
                .unwrap_err()
                .contains("latencies_us[0]")
        );
        assert!(
            parse_summary("", 1.0, 2.0)
                .unwrap_err()
                .contains("printed nothing")
        );
    }
}

//! `command-runs`: a user's command run to completion again and again, back to
//! back. Each run's wall time, from its spawn to its exit, is one unit's
//! latency; the throughput is runs per second.
//!
//! Runs during the warm-up are not recorded; the run in progress when the
//! window opens is stopped, so that the window's runs start at its start and
//! follow each other without a gap. The run in progress when the window closes
//! is stopped and not counted; the window's length is then taken from its
//! start to the end of its last completed run, so runs per second is not
//! biased by the part of a run cut off at the close.

use crate::command::{self, CommandArgs, Running, Waited};
use crate::report::{UnitsReport, histogram_to_pairs, new_histogram};
use std::process::Stdio;
use std::time::{Duration, Instant};

/// Bytes of a failed run's stderr kept in the report.
const STDERR_TAIL: u64 = 400;

/// What to run and for how long.
#[derive(Debug, Clone)]
pub struct RunsPlan {
    /// The command.
    pub command: CommandArgs,
    /// Unrecorded warm-up.
    pub warmup: Duration,
    /// The measured window.
    pub duration: Duration,
}

/// How one run went.
enum Run {
    /// It ended with status 0 at this instant.
    Done(Instant),
    /// The deadline came first; it was stopped.
    Cut,
    /// It failed: why.
    Failed(String),
}

/// Runs the command back to back through warm-up and window; a run that fails
/// (non-zero status, a signal, a spawn error) ends the applet with the reason in
/// [`UnitsReport::failure`], its stderr's last lines included.
pub fn run(plan: &RunsPlan) -> UnitsReport {
    let start = Instant::now();
    let window_start = start + plan.warmup;
    let window_end = window_start + plan.duration;
    let mut stderr = tempfile::tempfile().ok();
    let mut hist = new_histogram();
    let (mut ops, mut runs) = (0u64, 0u64);
    let mut last_end = window_start;
    let mut failure = None;
    let mut phase_end = window_start;
    while failure.is_none() {
        let began = Instant::now();
        if began >= window_end {
            break;
        }
        if began >= window_start {
            phase_end = window_end;
        }
        runs += 1;
        match run_once(plan, stderr.as_mut(), phase_end) {
            Run::Done(end) if phase_end == window_end => {
                hist.saturating_record(end.duration_since(began).as_nanos() as u64);
                ops += 1;
                last_end = end;
            }
            Run::Done(_) => {}
            Run::Cut if phase_end == window_end => break,
            Run::Cut => phase_end = window_end,
            Run::Failed(why) => failure = Some(format!("run {runs} {why}")),
        }
    }
    if failure.is_none() && ops == 0 {
        failure = Some(format!(
            "no run finished within the {} s window (each is stopped at the window's close): give a window longer than one run",
            plan.duration.as_secs_f64()
        ));
    }
    UnitsReport {
        ops,
        missed: 0,
        window_s: if ops > 0 {
            last_end.duration_since(window_start).as_secs_f64()
        } else {
            plan.duration.as_secs_f64()
        },
        rate: 0.0,
        latency_ns: histogram_to_pairs(&hist),
        failure,
        slices: None,
    }
}

/// One run, stopped if it is still running at `deadline`.
fn run_once(plan: &RunsPlan, stderr: Option<&mut std::fs::File>, deadline: Instant) -> Run {
    let mut c = plan.command.command();
    c.stdin(Stdio::null()).stdout(Stdio::null());
    if let Some(f) = stderr.as_ref().and_then(|f| f.try_clone().ok()) {
        let _ = f.set_len(0);
        c.stderr(f);
    }
    let running = match Running::spawn(c) {
        Ok((r, _)) => r,
        Err(e) => {
            return Run::Failed(format!(
                "could not start {}: {e}",
                plan.command.program.display()
            ));
        }
    };
    match running.wait_until(deadline) {
        Waited::Ended(at, status) if status.success() => Run::Done(at),
        Waited::Ended(_, status) => {
            let said = stderr
                .map(|f| command::tail(f, STDERR_TAIL))
                .unwrap_or_default();
            Run::Failed(format!(
                "{}{}",
                command::ended_how(status),
                if said.is_empty() {
                    String::new()
                } else {
                    format!("; its stderr ended: {said:?}")
                }
            ))
        }
        Waited::Running => {
            running.stop();
            Run::Cut
        }
        Waited::Failed(e) => Run::Failed(format!("could not be waited for: {e}")),
    }
}

//! Scenario `memory-high-stall` (case C04, neondatabase/neon #5444): with
//! `memory.high` below the working set, no swap and anonymous memory, the
//! kernel throttles the task in reclaim and it makes no progress — it is
//! neither killed nor finished — where `memory.max` would OOM-kill it.
//!
//! Two cases, each a `mem-hog` touching 256 MiB of anonymous memory in 16 MiB
//! steps in a sandbox with `memory.swap.max` = 0:
//! - `memory.high`: `memory.high` = 128 MiB, `memory.max` = max; expected
//!   verdict "stalled at memory.high" when the deadline comes;
//! - `memory.max`: `memory.high` = max, `memory.max` = 128 MiB; expected
//!   verdict "OOM-killed in its own sandbox" within seconds.
//!
//! The harness enforces the deadline: it does not hang and does not pass a
//! stalled sandbox. v1 has no memory.high: there the scenario is skipped with
//! "not supported on <layout>".

use super::RunContext;
use super::support::strings;
use crate::cgroup::psi::{self, Resource};
use crate::cgroup::{Layout, Limits, MemoryEvents, MemoryKnob, MemorySetting};
use crate::interrupt;
use crate::sandbox::{self, NamespaceSet};
use anyhow::{Context, Result, bail};
use isobench_reports::schema::{Metric, ScenarioResult, ScenarioStatus, VisibilityCheck};
use serde::Serialize;
use std::time::{Duration, Instant};

/// The scenario's name in suites, results and on the command line.
pub const NAME: &str = "memory-high-stall";

const MIB: u64 = 1 << 20;

/// Verdict when the hog was still stuck at the deadline with memory.high events rising.
pub const STALLED: &str = "stalled at memory.high";
/// Verdict when the hog was OOM-killed inside its sandbox.
pub const OOM_KILLED: &str = "OOM-killed in its own sandbox";

/// The scenario's parameters, recorded in the results as its spec.
#[derive(Debug, Clone, Serialize)]
pub struct MemoryHighStallSpec {
    /// Anonymous memory the hog touches, bytes.
    pub bytes: u64,
    /// Bytes per step.
    pub step: u64,
    /// The limit (memory.high in one case, memory.max in the other), bytes.
    pub limit_bytes: u64,
    /// Seconds the harness waits for a verdict in each case.
    pub deadline_s: f64,
}

impl Default for MemoryHighStallSpec {
    /// C04's sizes; a 10 s deadline (C04 allows 30 s; a stall is plain after a few).
    fn default() -> MemoryHighStallSpec {
        MemoryHighStallSpec {
            bytes: 256 * MIB,
            step: 16 * MIB,
            limit_bytes: 128 * MIB,
            deadline_s: 10.0,
        }
    }
}

/// One case: its name (also the check's), its knobs and the verdict expected.
struct Case {
    name: &'static str,
    high: Option<u64>,
    max: Option<u64>,
    expected: &'static str,
}

/// Runs both cases, or skips the scenario where the layout has no memory.high.
pub fn run(spec: &MemoryHighStallSpec, ctx: &RunContext<'_>, layout: Layout) -> ScenarioResult {
    let mut result = ScenarioResult::started(
        NAME,
        "Whether memory.high below the working set stalls a task forever where memory.max would OOM-kill it (C04)",
        serde_json::json!({ "scenario": spec }),
    );
    if !MemoryKnob::High.supported_on(layout) {
        result.status = ScenarioStatus::Skipped(format!(
            "memory.high is not supported on {layout}: v1 has no throttling limit; run this scenario on a cgroup v2 host"
        ));
        return result;
    }
    let cases = [
        Case {
            name: "memory.high",
            high: Some(spec.limit_bytes),
            max: None,
            expected: STALLED,
        },
        Case {
            name: "memory.max",
            high: None,
            max: Some(spec.limit_bytes),
            expected: OOM_KILLED,
        },
    ];
    for case in &cases {
        match run_case(spec, ctx, case) {
            Ok((check, metrics)) => {
                result.checks.push(check);
                result.metrics.extend(metrics);
            }
            Err(e) => {
                let reason = format!("case {}: {e:#}", case.name);
                result.status = if interrupt::requested() {
                    ScenarioStatus::Interrupted(reason)
                } else {
                    ScenarioStatus::Failed(reason)
                };
                break;
            }
        }
    }
    result.warnings = result
        .checks
        .iter()
        .filter(|c| !c.passed)
        .map(|c| format!("unexpected verdict in case {}: {}", c.name, c.saw))
        .collect();
    result
}

/// The knobs of a case: memory.high, memory.max and, where the kernel has swap
/// accounting (the file exists in the arena), memory.swap.max = 0.
fn limits(case: &Case, ctx: &RunContext<'_>) -> Limits {
    let mut memory = vec![
        MemorySetting {
            knob: MemoryKnob::High,
            bytes: case.high,
        },
        MemorySetting {
            knob: MemoryKnob::Max,
            bytes: case.max,
        },
    ];
    let swap_accounting = ctx
        .arena
        .dirs()
        .first()
        .is_some_and(|d| d.join("memory.swap.max").exists());
    if swap_accounting {
        memory.push(MemorySetting {
            knob: MemoryKnob::SwapMax,
            bytes: Some(0),
        });
    }
    Limits {
        memory,
        ..Limits::default()
    }
}

/// Runs one case to its verdict or its deadline.
fn run_case(
    spec: &MemoryHighStallSpec,
    ctx: &RunContext<'_>,
    case: &Case,
) -> Result<(VisibilityCheck, Vec<Metric>)> {
    let limits = limits(case, ctx);
    let cg = ctx
        .arena
        .sandbox(&format!("stall-{}", case.name.replace('.', "-")), &limits)
        .context("creating the sandbox")?;
    let psi_path = cg.psi_dir().map(|d| d.join(Resource::Memory.cgroup_file()));
    let psi0 = psi_path.as_deref().map(psi::read);
    let deadline = Duration::from_secs_f64(spec.deadline_s);
    let args = strings(&[
        "mem-hog",
        "--bytes",
        &spec.bytes.to_string(),
        "--step",
        &spec.step.to_string(),
        "--kind",
        "anon",
        "--duration",
        &(spec.deadline_s + 30.0).to_string(),
    ]);
    let start = Instant::now();
    let mut hog = sandbox::spawn(&ctx.workload_bin, &args, NamespaceSet::default(), Some(&cg))
        .context("starting mem-hog")?;
    let mut ended = None;
    while start.elapsed() < deadline {
        if interrupt::requested() {
            bail!("interrupted");
        }
        if hog.try_reap()? {
            ended = Some(hog.wait_for(Duration::ZERO)?);
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let elapsed = start.elapsed().as_secs_f64();
    let (usage, _, events) = cg.memory()?;
    let psi_full = match (psi0, psi_path.as_deref().map(psi::read)) {
        (Some(Ok(a)), Some(Ok(b))) => b.share_since(&a, elapsed).full,
        _ => None,
    };
    hog.kill_and_reap();
    let verdict = verdict(ended, &events, elapsed);
    let saw = format!(
        "{verdict}; memory.events high {}, max {}, oom_kill {}; memory.current {} MiB; memory PSI full {}",
        count(events.high),
        count(events.max),
        count(events.oom_kill),
        usage.current_bytes / MIB,
        psi_full.map_or("unavailable".into(), |f| format!("{:.0} %", f * 100.0)),
    );
    let knobs: Vec<String> = limits
        .memory
        .iter()
        .map(|s| format!("{}={}", s.knob, s.value(Layout::V2)))
        .collect();
    let check = VisibilityCheck {
        name: case.name.into(),
        passed: verdict.starts_with(case.expected),
        looked_at: format!(
            "mem-hog touching {} MiB of anonymous memory in {} MiB steps under {}, deadline {} s",
            spec.bytes / MIB,
            spec.step / MIB,
            knobs.join(", "),
            spec.deadline_s
        ),
        saw,
    };
    cg.remove()?;
    let key = case.name.replace('.', "_");
    let metrics = vec![
        number(&format!("{NAME}.{key}.verdict_s"), "s", Some(elapsed)),
        number(
            &format!("{NAME}.{key}.high_events"),
            "count",
            events.high.map(|v| v as f64),
        ),
        number(
            &format!("{NAME}.{key}.oom_kills"),
            "count",
            events.oom_kill.map(|v| v as f64),
        ),
        number(&format!("{NAME}.{key}.psi_memory_full"), "share", psi_full),
        number(
            &format!("{NAME}.{key}.passed"),
            "pass",
            Some(if check.passed { 1.0 } else { 0.0 }),
        ),
    ];
    Ok((check, metrics))
}

/// The verdict from how the hog ended (or did not) and its cgroup's events.
fn verdict(ended: Option<nix::sys::wait::WaitStatus>, e: &MemoryEvents, elapsed: f64) -> String {
    use nix::sys::wait::WaitStatus;
    let killed = e.oom_kill.unwrap_or(0) > 0;
    match ended {
        Some(WaitStatus::Signaled(..)) if killed => format!("{OOM_KILLED} after {elapsed:.1} s"),
        Some(WaitStatus::Exited(_, 0)) => format!("completed in {elapsed:.1} s: no stall"),
        Some(other) => format!("ended with {other:?} after {elapsed:.1} s"),
        None if e.high.unwrap_or(0) > 0 && !killed => {
            format!("{STALLED}: no progress to the deadline of {elapsed:.1} s")
        }
        None => {
            format!("still running at the deadline of {elapsed:.1} s without memory.high events")
        }
    }
}

fn count(v: Option<u64>) -> String {
    v.map_or("unavailable".into(), |v| v.to_string())
}

/// A single-valued metric (the scenario runs each case once).
fn number(name: &str, unit: &str, value: Option<f64>) -> Metric {
    Metric {
        name: name.into(),
        condition: None,
        unit: unit.into(),
        value,
        lower: None,
        upper: None,
        per_round: vec![value],
        reason: value
            .is_none()
            .then(|| "not reported by this kernel".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use nix::sys::signal::Signal;
    use nix::sys::wait::WaitStatus;
    use nix::unistd::Pid;

    fn events(high: u64, oom_kill: u64) -> MemoryEvents {
        MemoryEvents {
            high: Some(high),
            oom_kill: Some(oom_kill),
            ..MemoryEvents::default()
        }
    }

    #[test]
    fn c04_stuck_at_the_deadline_with_high_events_is_a_stall() {
        let v = verdict(None, &events(412, 0), 10.0);
        assert!(v.starts_with(STALLED), "{v}");
    }

    #[test]
    fn c04_killed_with_an_oom_kill_counted_is_oom_killed() {
        let status = WaitStatus::Signaled(Pid::from_raw(1), Signal::SIGKILL, false);
        let v = verdict(Some(status), &events(0, 1), 0.8);
        assert!(v.starts_with(OOM_KILLED), "{v}");
    }

    #[test]
    fn finishing_is_neither_verdict() {
        let v = verdict(
            Some(WaitStatus::Exited(Pid::from_raw(1), 0)),
            &events(3, 0),
            2.0,
        );
        assert!(!v.starts_with(STALLED) && !v.starts_with(OOM_KILLED), "{v}");
    }
}

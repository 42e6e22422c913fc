//! Phased neighbours (issue 17): an aggressor that comes and goes, as garbage
//! collectors, batch phases and cron bursts do, applied by freezing and
//! thawing its cgroup ([`crate::cgroup::Freezer`]: v2 `cgroup.freeze`, v1
//! `freezer.state`) on the pattern of its `phase` ([`Phase`]).
//!
//! A phased aggressor gets a cgroup of its own in every condition where it
//! runs, as every aggressor does: in the isolated condition its sandbox with
//! the scenario's limits, in the contended condition one without limits
//! beside the victim in the arena (so freezing it stops nothing else, and
//! nothing limits it). A thread of the harness ([`Phaser`]) sleeps to each
//! change, writes the freezer file and stamps the moment the write returned
//! on CLOCK_MONOTONIC, the clock of the victim's slices
//! ([`isobench_workloads::slices`]).
//!
//! A frozen neighbour is always thawed: when the window ends
//! ([`Phaser::finish`]), when the phaser is dropped on an error, SIGINT or
//! SIGTERM (the run's waits bail out and drop it) or a panic, when its cgroup
//! is torn down ([`crate::cgroup::Cgroup`] thaws a freezable cgroup first,
//! since a v1 task that is frozen does not die of SIGKILL), and, after a
//! crash or `kill -9` of the harness, by `isobench cleanup`.

use super::metrics::{self, ConditionSample, metric, per_round};
use crate::cgroup::{Arena, Cgroup, Freezer, Limits};
use crate::interrupt;
use crate::measure::slices::{self, Transient};
use crate::suite::phase::Phase;
use crate::suite::{AggressorDef, IsolationDef};
use isobench_reports::schema::{Condition, ScenarioResult};
use isobench_reports::schema_phases::{PhaseMechanism, SliceTimeline};
use isobench_workloads::hold::monotonic_ns;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// CLOCK_MONOTONIC of a window that opens `warmup_s` from now, ns: the time 0
/// of the slices and the phases of a victim started now.
pub fn window_origin_ns(warmup_s: f64) -> u64 {
    monotonic_ns() + (warmup_s * 1e9) as u64
}

/// The cgroup of aggressor `a` beneath `home`, named `name`, with `limits`
/// (none in the contended condition): freezable when its phases freeze it.
///
/// # Errors
/// As [`Arena::sandbox`].
pub fn aggressor_cgroup(
    home: &Arena,
    name: &str,
    a: &AggressorDef,
    limits: &Limits,
) -> crate::cgroup::Result<Cgroup> {
    if a.phase.is_some_and(|p| p.freezes()) {
        home.freezable_sandbox(name, limits)
    } else {
        home.sandbox(name, limits)
    }
}

/// The aggressors among `running` (definition, cgroup) whose phases freeze
/// them (on/off, step), with their freezers; a ramp paces itself.
///
/// # Errors
/// A phased aggressor whose cgroup has no freezer: a v1 or hybrid host
/// without a `freezer` hierarchy, or one the arena could not be created in.
pub fn neighbours(running: &[(&AggressorDef, &Cgroup)]) -> anyhow::Result<Vec<PhasedNeighbour>> {
    running
        .iter()
        .filter_map(|(a, cg)| Some((a, a.phase.filter(Phase::freezes)?, cg)))
        .map(|(a, phase, cg)| {
            let freezer = cg.freezer().ok_or_else(|| {
                anyhow::anyhow!(
                    "aggressor {} has a phase, but its cgroup {} has no freezer: on cgroup v1 and hybrid hosts phases need the freezer controller mounted (e.g. at /sys/fs/cgroup/freezer); `isobench doctor` lists the hierarchies",
                    a.name,
                    cg.path().display()
                )
            })?;
            Ok(PhasedNeighbour {
                sandbox: a.name.clone(),
                freezer,
                phase,
            })
        })
        .collect()
}

/// One aggressor with phases, and the freezer of its cgroup.
#[derive(Debug, Clone)]
pub struct PhasedNeighbour {
    /// Its sandbox name.
    pub sandbox: String,
    /// Its cgroup's freezer.
    pub freezer: Freezer,
    /// When it is on.
    pub phase: Phase,
}

/// One change of a neighbour's phase as it happened.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Flip {
    /// CLOCK_MONOTONIC when the write returned, ns.
    pub at_mono_ns: u64,
    /// True when it came on (thawed).
    pub on: bool,
    /// How long the write took, µs.
    pub write_us: f64,
}

/// What one neighbour's phases did in a window.
#[derive(Debug, Clone, PartialEq)]
pub struct Trace {
    /// Its sandbox name.
    pub sandbox: String,
    /// The kernel file written.
    pub mechanism: PhaseMechanism,
    /// Whether it was on when its phases began (the warm-up's state).
    pub on_at_origin: bool,
    /// Its changes, in order (none for a ramp).
    pub flips: Vec<Flip>,
    /// Its intensity ramp, where its phase is one.
    pub ramp: Option<RampTrace>,
}

/// An intensity ramp as the applet was asked for it, on CLOCK_MONOTONIC.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RampTrace {
    /// Intensity before it, percent.
    pub from_pct: u8,
    /// Intensity after it, percent.
    pub to_pct: u8,
    /// Its start, ns.
    pub start_mono_ns: u64,
    /// Its end, ns.
    pub end_mono_ns: u64,
}

/// The ramp of aggressor `a`, its times counted from `origin_mono_ns`; `None`
/// when its phase is no ramp.
fn ramp_of(a: &AggressorDef, origin_mono_ns: u64) -> Option<RampTrace> {
    let Some(Phase::Ramp {
        from_pct,
        to_pct,
        start_ms,
        over_ms,
    }) = a.phase
    else {
        return None;
    };
    let start_mono_ns = origin_mono_ns + (start_ms * 1e6) as u64;
    Some(RampTrace {
        from_pct,
        to_pct,
        start_mono_ns,
        end_mono_ns: start_mono_ns + (over_ms * 1e6) as u64,
    })
}

/// The `--ramp` flag that makes aggressor applet `a` pace its own intensity
/// on its ramp, counted from `origin_mono_ns`; `None` when its phase is no ramp.
pub fn ramp_flag(a: &AggressorDef, origin_mono_ns: u64) -> Option<[String; 2]> {
    let r = ramp_of(a, origin_mono_ns)?;
    let over_ms = (r.end_mono_ns - r.start_mono_ns) as f64 / 1e6;
    Some([
        "--ramp".into(),
        format!("{}:{}:{}:{over_ms}", r.from_pct, r.to_pct, r.start_mono_ns),
    ])
}

/// The phases of a condition: those `frozen` applied (if any, counted from
/// `origin_mono_ns`), and a trace of each ramped aggressor among `aggressors`
/// (mechanism `pacing`, on throughout; its ramp counted from `ramp_origin_mono_ns`,
/// as its applet was told); `None` without a phased aggressor.
pub fn record(
    frozen: Option<PhaseRecord>,
    aggressors: &[&AggressorDef],
    origin_mono_ns: u64,
    ramp_origin_mono_ns: u64,
) -> Option<PhaseRecord> {
    let ramps: Vec<Trace> = aggressors
        .iter()
        .filter_map(|a| {
            Some(Trace {
                sandbox: a.name.clone(),
                mechanism: PhaseMechanism::Pacing,
                on_at_origin: true,
                flips: Vec::new(),
                ramp: Some(ramp_of(a, ramp_origin_mono_ns)?),
            })
        })
        .collect();
    if frozen.is_none() && ramps.is_empty() {
        return None;
    }
    let mut record = frozen.unwrap_or(PhaseRecord {
        origin_mono_ns,
        traces: Vec::new(),
    });
    record.traces.extend(ramps);
    Some(record)
}

/// The phases of a condition's neighbours as they ran.
#[derive(Debug, Clone, PartialEq)]
pub struct PhaseRecord {
    /// CLOCK_MONOTONIC of the phases' time 0 (the window's start as the harness counts it), ns.
    pub origin_mono_ns: u64,
    /// One per phased neighbour.
    pub traces: Vec<Trace>,
}

/// Applies the phases of a condition's neighbours on a thread of its own.
pub struct Phaser {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<Result<Vec<Trace>, String>>>,
    freezers: Vec<Freezer>,
    origin_mono_ns: u64,
}

impl Phaser {
    /// Puts each neighbour in its warm-up state now (frozen when its
    /// pattern starts off) and starts the thread that applies its changes,
    /// counted from `origin_mono_ns` (CLOCK_MONOTONIC, ns).
    ///
    /// # Errors
    /// A first freeze the kernel refused, naming the file; what was frozen is thawed.
    pub fn start(neighbours: Vec<PhasedNeighbour>, origin_mono_ns: u64) -> anyhow::Result<Phaser> {
        let freezers: Vec<Freezer> = neighbours.iter().map(|n| n.freezer.clone()).collect();
        let stop = Arc::new(AtomicBool::new(false));
        let mut phaser = Phaser {
            stop: Arc::clone(&stop),
            thread: None,
            freezers,
            origin_mono_ns,
        };
        for n in &neighbours {
            if !n.phase.on_at(-1.0) {
                n.freezer.freeze().map_err(|e| {
                    anyhow::anyhow!("freezing aggressor {} for its phase: {e}", n.sandbox)
                })?;
            }
        }
        let origin = instant_of(origin_mono_ns);
        phaser.thread = Some(
            std::thread::Builder::new()
                .name("isobench-phases".into())
                .spawn(move || apply(&neighbours, origin, &stop))?,
        );
        Ok(phaser)
    }

    /// Stops the changes, thaws every neighbour, and returns what happened.
    ///
    /// # Errors
    /// A freeze or thaw the kernel refused while the window ran (the
    /// neighbours are thawed all the same), or a thaw refused now.
    pub fn finish(mut self) -> anyhow::Result<PhaseRecord> {
        let traces = self.join();
        self.thaw_all()?;
        let traces = traces.map_err(|e| anyhow::anyhow!("applying the neighbours' phases: {e}"))?;
        Ok(PhaseRecord {
            origin_mono_ns: self.origin_mono_ns,
            traces,
        })
    }

    fn join(&mut self) -> Result<Vec<Trace>, String> {
        self.stop.store(true, Ordering::Relaxed);
        match self.thread.take().map(JoinHandle::join) {
            Some(Ok(r)) => r,
            Some(Err(_)) => Err("the phase thread panicked".into()),
            None => Err("the phases were already stopped".into()),
        }
    }

    /// Thaws every neighbour, going on past failures.
    ///
    /// # Errors
    /// The first refusal, naming the file.
    fn thaw_all(&self) -> anyhow::Result<()> {
        let mut first = None;
        for f in &self.freezers {
            if let Err(e) = f.thaw() {
                first.get_or_insert(anyhow::anyhow!("thawing a phased neighbour: {e}"));
            }
        }
        first.map_or(Ok(()), Err)
    }
}

impl Drop for Phaser {
    fn drop(&mut self) {
        if self.thread.is_some() {
            let _ = self.join();
        }
        if let Err(e) = self.thaw_all() {
            eprintln!("warning: {e:#}; run `isobench cleanup`");
        }
    }
}

/// The `Instant` of CLOCK_MONOTONIC time `mono_ns` (both read the same clock on Linux).
fn instant_of(mono_ns: u64) -> Instant {
    let (now, mono) = (Instant::now(), monotonic_ns());
    if mono_ns >= mono {
        now + Duration::from_nanos(mono_ns - mono)
    } else {
        now.checked_sub(Duration::from_nanos(mono - mono_ns))
            .unwrap_or(now)
    }
}

/// Longest sleep between looks at the stop flag and SIGINT, so that the
/// window's end thaws a neighbour within this.
const POLL: Duration = Duration::from_millis(20);

/// The phase thread: sleeps to each change of any neighbour and writes it,
/// until `stop`, SIGINT or SIGTERM.
fn apply(
    neighbours: &[PhasedNeighbour],
    origin: Instant,
    stop: &AtomicBool,
) -> Result<Vec<Trace>, String> {
    // Wake close to each change rather than up to 50 µs late.
    let _ = nix::sys::prctl::set_timerslack(1);
    let mut on: Vec<bool> = neighbours.iter().map(|n| n.phase.on_at(-1.0)).collect();
    let mut traces: Vec<Trace> = neighbours
        .iter()
        .zip(&on)
        .map(|(n, &on)| Trace {
            sandbox: n.sandbox.clone(),
            mechanism: n.freezer.mechanism(),
            on_at_origin: on,
            flips: Vec::new(),
            ramp: None,
        })
        .collect();
    let ms_since = |t: Instant| -> f64 {
        match t.checked_duration_since(origin) {
            Some(d) => d.as_secs_f64() * 1e3,
            None => -(origin - t).as_secs_f64() * 1e3,
        }
    };
    let mut now_ms = ms_since(Instant::now());
    loop {
        let next = neighbours
            .iter()
            .filter_map(|n| n.phase.next_change_after(now_ms))
            .min_by(f64::total_cmp);
        let wake = next.map(|ms| origin + Duration::from_secs_f64(ms / 1e3));
        // Sleep in slices, so that the window's end or SIGINT is seen soon.
        loop {
            if stop.load(Ordering::Relaxed) || interrupt::requested() {
                return Ok(traces);
            }
            let left = wake.map_or(POLL, |w| w.saturating_duration_since(Instant::now()));
            if left.is_zero() {
                break;
            }
            std::thread::sleep(left.min(POLL));
        }
        let Some(at_ms) = next else { continue };
        for (i, n) in neighbours.iter().enumerate() {
            let want = n.phase.on_at(at_ms);
            if want == on[i] {
                continue;
            }
            let t0 = Instant::now();
            let written = if want {
                n.freezer.thaw()
            } else {
                n.freezer.freeze()
            };
            let at_mono_ns = monotonic_ns();
            written.map_err(|e| format!("aggressor {}: {e}", n.sandbox))?;
            on[i] = want;
            traces[i].flips.push(Flip {
                at_mono_ns,
                on: want,
                write_us: t0.elapsed().as_secs_f64() * 1e6,
            });
        }
        now_ms = at_ms;
    }
}

/// Recomputes an isolation scenario's result from `rounds`
/// ([`metrics::derive`]), then its transient figures and slice timelines
/// where its victim reports slices or a neighbour has phases.
pub fn derive(result: &mut ScenarioResult, rounds: &[Vec<ConditionSample>], def: &IsolationDef) {
    metrics::derive(result, rounds);
    if def.slice_ms().is_none() && !def.phased() {
        return;
    }
    result.metrics.extend(transient_metrics(rounds, def));
    result.slice_timelines = timelines(rounds, def);
}

/// Why a transient figure is null when no round has slices.
fn no_slices(def: &IsolationDef) -> String {
    match def.slice_ms() {
        None => format!(
            "victim {} does not report its latencies per slice (slices are recorded by {} and bench closures)",
            def.victim.workload.label(),
            crate::suite::phase::SLICED_VICTIMS.join(", ")
        ),
        Some(_) => "no round has slices from the victim (it reported nothing, or its condition was invalid)".into(),
    }
}

/// The transient figures of a condition, where its victim reported slices.
fn of(s: &ConditionSample) -> Option<&Transient> {
    s.transient.as_ref()
}

/// The solo p99 of `round`, µs: the reference a recovery is measured against.
fn solo_p99_us(round: &[ConditionSample]) -> Option<f64> {
    round
        .iter()
        .find(|s| s.run.condition == Condition::Solo && s.run.invalid.is_none())
        .and_then(|s| s.run.victim.as_ref())
        .map(|v| v.latency_p99_us)
        .filter(|&v| v > 0.0)
}

/// The transient figures of every condition (module docs of [`slices`]).
fn transient_metrics(
    rounds: &[Vec<ConditionSample>],
    def: &IsolationDef,
) -> Vec<isobench_reports::schema::Metric> {
    let why = no_slices(def);
    let mut m = Vec::new();
    for c in &def.conditions {
        let c = *c;
        m.push(metric(
            "victim.worst_slice_p99_us",
            Some(c),
            "us",
            per_round(rounds, c, &|s| of(s)?.worst_p99_us()),
            &why,
        ));
        m.push(metric(
            "victim.fewest_slice_units",
            Some(c),
            "units",
            per_round(rounds, c, &|s| of(s)?.fewest_units().map(|u| u as f64)),
            &why,
        ));
        if let Some(slo) = &def.victim.slo {
            m.push(metric(
                "victim.slices_over_slo",
                Some(c),
                "share",
                per_round(rounds, c, &|s| of(s)?.over_slo_share(slo.p99_us)),
                &why,
            ));
        }
        if c == Condition::Solo || !def.phased() {
            continue;
        }
        for (name, on) in [
            ("victim.slice_p99_on_us", true),
            ("victim.slice_p99_off_us", false),
        ] {
            m.push(metric(
                name,
                Some(c),
                "us",
                per_round(rounds, c, &|s| of(s)?.median_p99_us(on)),
                &format!(
                    "{why}; or no slice lay {} a phase",
                    if on { "in an on" } else { "in an off" }
                ),
            ));
        }
        let recoveries = |round: &[ConditionSample]| -> Option<Vec<slices::Recovery>> {
            let s = round
                .iter()
                .find(|s| s.run.condition == c && s.run.invalid.is_none())?;
            Some(of(s)?.recoveries(solo_p99_us(round)?))
        };
        let recovery_why = format!(
            "{why}; or no round has both a valid solo condition (the reference p99) and a moment the neighbours left before the window's end"
        );
        m.push(metric(
            "victim.recovery_ms",
            Some(c),
            "ms",
            rounds
                .iter()
                .map(|r| slices::recovery_ms(&recoveries(r)?))
                .collect(),
            &recovery_why,
        ));
        m.push(metric(
            "victim.unrecovered_share",
            Some(c),
            "share",
            rounds
                .iter()
                .map(|r| slices::unrecovered_share(&recoveries(r)?))
                .collect(),
            &recovery_why,
        ));
    }
    m
}

/// One round's slice timeline per condition: the first round in which the
/// condition was valid and the victim reported slices.
fn timelines(rounds: &[Vec<ConditionSample>], def: &IsolationDef) -> Vec<SliceTimeline> {
    def.conditions
        .iter()
        .filter_map(|&c| {
            rounds.iter().enumerate().find_map(|(i, round)| {
                let s = round
                    .iter()
                    .find(|s| s.run.condition == c && s.run.invalid.is_none())?;
                let t: &Transient = s.transient.as_ref()?;
                Some(SliceTimeline {
                    condition: c,
                    round: i,
                    slice_ms: t.slice_ms,
                    slices: t.points.clone(),
                    phases: t.phases.clone(),
                    reference_p99_us: solo_p99_us(round),
                    slo_p99_us: def.victim.slo.as_ref().map(|s| s.p99_us),
                })
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changes_are_written_and_stamped_then_thawed_at_the_end() {
        let t = tempfile::tempdir().unwrap();
        std::fs::write(t.path().join("freezer.state"), "THAWED").unwrap();
        let freezer = Freezer::v1(t.path());
        let n = PhasedNeighbour {
            sandbox: "hog".into(),
            freezer: freezer.clone(),
            phase: Phase::OnOff {
                on_ms: 20.0,
                off_ms: 20.0,
            },
        };
        let origin = monotonic_ns();
        let phaser = Phaser::start(vec![n], origin).unwrap();
        std::thread::sleep(Duration::from_millis(130));
        let record = phaser.finish().unwrap();
        let flips = &record.traces[0].flips;
        // Off at 20, on at 40, off at 60, ... : at least 4 changes in 130 ms.
        assert!(flips.len() >= 4, "{flips:?}");
        assert!(!flips[0].on && flips[1].on);
        let first_ms = (flips[0].at_mono_ns - origin) as f64 / 1e6;
        assert!(first_ms >= 20.0, "{first_ms}");
        assert!(!freezer.is_frozen().unwrap(), "thawed at the end");
    }

    #[test]
    fn a_dropped_phaser_thaws_its_neighbour() {
        let t = tempfile::tempdir().unwrap();
        std::fs::write(t.path().join("cgroup.freeze"), "0").unwrap();
        let freezer = Freezer::v2(t.path());
        let n = PhasedNeighbour {
            sandbox: "hog".into(),
            freezer: freezer.clone(),
            phase: Phase::Step {
                at_ms: 10_000.0,
                on_after: true,
            },
        };
        let phaser = Phaser::start(vec![n], monotonic_ns()).unwrap();
        assert!(freezer.is_frozen().unwrap(), "off until the step");
        drop(phaser);
        assert!(!freezer.is_frozen().unwrap());
    }
}

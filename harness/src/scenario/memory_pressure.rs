//! Scenario `memory-pressure`: does a memory limit on a memory-hungry
//! neighbour protect the victim beside it? (DESIGN §2 "Memory pressure")
//!
//! Contention must be real on a host with plenty of RAM, and the host must
//! never be at risk, so every condition runs in an arena of its own with a
//! memory limit (`memory.max`, v1 `memory.limit_in_bytes`; default 2 GiB) that
//! stands for "the machine" (DESIGN §5).
//! - solo: the victim alone in the arena;
//! - contended: victim and aggressor in the arena, no limits of their own;
//! - isolated: each in its sandbox (all namespaces), the aggressor with
//!   `memory.max` 512 MiB and, where the layout has it, the victim with
//!   `memory.low` = its working set.
//!
//! Victim `mem-units` reads random cache lines of a 256 MiB file-backed working
//! set; aggressor `mem-hog --press-limit` grows anonymous memory to the arena
//! size less half the working set, so in contention the victim keeps only part
//! of its working set and pays major faults. Under a limit of its own it grows
//! only to that limit less a headroom (on a host without swap, anonymous
//! memory over a limit can only be OOM-killed) and streams a file through the
//! page cache, so that it lives at its limit and reclaim runs there while the
//! victim runs. Whether it did is recorded (`memory.pressure`) and a condition
//! in which it did not is invalid (docs/validity.md). Every OOM kill is
//! attributed (case C05), and an unconfined 32 MiB canary runs beside each
//! condition: its death is a breach.

use super::memory_press::{self, Fill, Seen};
use super::metrics::{self, ConditionSample};
use super::support::{HostEdge, account, host_cpu, own_cpu_s, stat_of, strings};
use super::validity;
use super::{Progress, RunContext, Timing, rounds};
use crate::cgroup::{Cgroup, Layout, Limits, MemoryKnob, MemorySetting};
use crate::interrupt;
use crate::measure::kmsg::KernelLog;
use crate::measure::oom::{self, Watched};
use crate::measure::perf::SandboxCounters;
use crate::measure::sampler::{self, Sampler};
use crate::measure::window::{self, Snapshot};
use crate::sandbox::{self, NamespaceSet, Process};
use crate::workload;
use anyhow::{Context, Result, bail};
use isobench_reports::schema::{
    Condition, ConditionRun, MemoryAccount, MemoryRun, Metric, NeighbourRun, ScenarioResult,
};
use isobench_workloads::memory::Kind;
use isobench_workloads::memory_limit::{self, MemoryLimit};
use isobench_workloads::report::{MemHogReport, WorkloadReport, add_pairs, new_histogram};
use nix::sys::wait::WaitStatus;
use serde::Serialize;
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// The scenario's name in suites, results and on the command line.
pub const NAME: &str = "memory-pressure";

/// Bytes in a MiB.
pub const MIB: u64 = 1 << 20;

/// Default memory limit of each condition's arena, bytes (2 GiB).
pub const DEFAULT_ARENA_BYTES: u64 = 2048 * MIB;
/// Smallest arena accepted, bytes: room for a victim, an aggressor and their code.
pub const MIN_ARENA_BYTES: u64 = 64 * MIB;
/// Default working set of the victim, bytes (256 MiB).
pub const DEFAULT_WORKING_SET_BYTES: u64 = 256 * MIB;
/// Smallest working set accepted, bytes.
pub const MIN_WORKING_SET_BYTES: u64 = MIB;

/// Size of the unconfined canary, bytes (case C05).
pub const CANARY_BYTES: u64 = 32 * MIB;

/// A victim unit later than this after its intended start counts as late, ns
/// (ten times a ~100 µs unit, as in `cpu-share`).
const LATE_NS: u64 = 1_000_000;

/// The longest the harness waits for the aggressor to grow before starting the victim.
const FILL_DEADLINE: Duration = Duration::from_secs(20);

/// Default rate of the aggressor's page-cache stream, bytes/s (64 MiB/s): enough
/// to keep reclaim running at its limit, little enough (a few % of a CPU) not to
/// turn the memory neighbour into a CPU or disk one.
pub const DEFAULT_STREAM_RATE: u64 = 64 * MIB;

/// The scenario's parameters, recorded in the results as its spec.
#[derive(Debug, Clone, Serialize)]
pub struct MemoryPressureSpec {
    /// Rounds and durations.
    pub timing: Timing,
    /// Memory limit of each condition's arena ("the machine"), bytes.
    pub arena_bytes: u64,
    /// The victim's working set, bytes.
    pub working_set_bytes: u64,
    /// Kind of the victim's working set (`file`: a mapped file on disk).
    pub working_set_kind: Kind,
    /// Directory of the working-set file: a disk, not tmpfs.
    pub working_dir: PathBuf,
    /// Victim units per second.
    pub victim_rate: f64,
    /// Cache lines each victim unit reads.
    pub victim_lines: usize,
    /// Anonymous memory the aggressor grows to, bytes; under a limit of its own
    /// it stops at that limit less its headroom (1/16, 4 to 64 MiB).
    pub aggressor_bytes: u64,
    /// Rate at which the grown aggressor streams a file of twice its headroom
    /// through the page cache, bytes/s, so that reclaim keeps running at its
    /// limit (none where the working directory is on tmpfs).
    pub aggressor_stream_rate: u64,
    /// The aggressor's memory knobs in the isolated condition.
    pub aggressor_limits: Vec<MemorySetting>,
    /// The victim's memory knobs in the isolated condition (protection where the layout has it).
    pub victim_limits: Vec<MemorySetting>,
    /// Where this host differs from the design (a knob the layout lacks, a
    /// working set on tmpfs), each with what it means for the figures.
    pub notes: Vec<String>,
    /// Namespaces of both sandboxes in the isolated condition.
    pub namespaces: NamespaceSet,
    /// Interval of the memory/PSI timeline, ms.
    pub sample_interval_ms: u64,
}

impl MemoryPressureSpec {
    /// The default spec for `layout`: arena `arena_bytes` (default 2 GiB), working set
    /// `working_set_bytes` (default 256 MiB), aggressor knobs `aggressor_limits`
    /// (default `memory.max` = 512 MiB). The victim's `memory.low` is skipped, with
    /// the reason, where the layout has no such knob.
    pub fn new(
        timing: Timing,
        layout: Layout,
        arena_bytes: Option<u64>,
        working_set_bytes: Option<u64>,
        aggressor_limits: Option<Vec<MemorySetting>>,
    ) -> MemoryPressureSpec {
        let arena_bytes = arena_bytes.unwrap_or(DEFAULT_ARENA_BYTES);
        let working_set_bytes = working_set_bytes.unwrap_or(DEFAULT_WORKING_SET_BYTES);
        let low = MemorySetting {
            knob: MemoryKnob::Low,
            bytes: Some(working_set_bytes),
        };
        let (victim_limits, mut notes) = if low.knob.supported_on(layout) {
            (vec![low], vec![])
        } else {
            (
                vec![],
                vec![format!(
                    "victim memory.low: not supported on {layout}; the isolated victim runs without protection"
                )],
            )
        };
        let (working_dir, on_tmpfs) = working_dir();
        if on_tmpfs {
            notes.push(format!(
                "the working set is on tmpfs ({}): its pages are shmem, which only swap can reclaim, so a \
                 neighbour's pressure shows as OOM kills rather than major faults; set TMPDIR to a directory on a disk",
                working_dir.display()
            ));
        }
        MemoryPressureSpec {
            timing,
            arena_bytes,
            working_set_bytes,
            working_set_kind: Kind::File,
            working_dir,
            victim_rate: 1000.0,
            victim_lines: 64,
            aggressor_bytes: arena_bytes.saturating_sub(working_set_bytes / 2),
            aggressor_stream_rate: DEFAULT_STREAM_RATE,
            aggressor_limits: aggressor_limits.unwrap_or(vec![MemorySetting {
                knob: MemoryKnob::Max,
                bytes: Some(512 * MIB),
            }]),
            victim_limits,
            notes,
            namespaces: NamespaceSet::ALL,
            sample_interval_ms: sampler::INTERVAL.as_millis() as u64,
        }
    }
}

/// A size for people: whole MiB from 1 MiB up, else bytes.
pub fn size(bytes: u64) -> String {
    if bytes >= MIB {
        format!("{:.0} MiB", bytes as f64 / MIB as f64)
    } else {
        format!("{bytes} bytes")
    }
}

/// Checks `--arena-memory`, `--working-set` and `--aggressor-memory` against each
/// other and, where known, the host's `layout`: an arena of at least 64 MiB, a
/// working set of at least 1 MiB below it, each knob once (v1 spells
/// memory.max as memory.limit_in_bytes), supported on the layout, a hard limit
/// below the arena (or it would not bind), and memory+swap only above memory.
///
/// # Errors
/// A message naming the option, the value and what would be accepted.
pub fn check_options(
    arena: Option<u64>,
    working_set: Option<u64>,
    knobs: &[MemorySetting],
    layout: Option<Layout>,
) -> Result<(), String> {
    let arena_bytes = arena.unwrap_or(DEFAULT_ARENA_BYTES);
    if arena_bytes < MIN_ARENA_BYTES {
        return Err(format!(
            "--arena-memory {} is too small: expected at least {}",
            size(arena_bytes),
            size(MIN_ARENA_BYTES)
        ));
    }
    let ws = working_set.unwrap_or(DEFAULT_WORKING_SET_BYTES);
    if ws < MIN_WORKING_SET_BYTES {
        return Err(format!(
            "--working-set {} is too small: expected at least {}",
            size(ws),
            size(MIN_WORKING_SET_BYTES)
        ));
    }
    if ws >= arena_bytes {
        let what = match working_set {
            Some(_) => format!("--working-set {}", size(ws)),
            None => format!("the default working set of {}", size(ws)),
        };
        return Err(format!(
            "{what} is not below the arena's memory limit of {}: expected a working set smaller than --arena-memory",
            size(arena_bytes)
        ));
    }
    let Some(layout) = layout else {
        return Ok(());
    };
    let limits = Limits {
        memory: knobs.to_vec(),
        ..Limits::default()
    };
    if let Some(u) = limits.unsupported_on(layout) {
        return Err(format!("--aggressor-memory: {u}"));
    }
    for (i, k) in knobs.iter().enumerate() {
        if let Some(twin) = knobs[..i]
            .iter()
            .find(|o| o.knob.file(layout) == k.knob.file(layout))
        {
            return Err(format!(
                "--aggressor-memory gives {} twice ({} and {}, which is the same file on {layout}): give each knob once",
                k.knob.file(layout),
                twin.knob,
                k.knob
            ));
        }
    }
    let hard = knobs
        .iter()
        .find(|k| k.knob.file(layout) == MemoryKnob::Max.file(layout));
    if let Some(bytes) = hard.and_then(|k| k.bytes)
        && bytes >= arena_bytes
    {
        return Err(format!(
            "--aggressor-memory {}={} is not below the arena of {}: the limit would never bind; expected less than --arena-memory",
            hard.map_or("", |k| k.knob.as_str()),
            size(bytes),
            size(arena_bytes)
        ));
    }
    if let Some(memsw) = knobs
        .iter()
        .find(|k| k.knob == MemoryKnob::MemswLimitInBytes)
    {
        let below = match (hard.and_then(|k| k.bytes), memsw.bytes) {
            (Some(max), Some(sw)) => max <= sw,
            (_, None) => true,
            (None, Some(_)) => false,
        };
        if !below {
            return Err(
                "--aggressor-memory memory.memsw.limit_in_bytes needs memory.max (memory.limit_in_bytes) at most as large: \
                 the kernel keeps memory+swap at or above memory"
                    .into(),
            );
        }
    }
    Ok(())
}

/// A directory on a disk for the working-set file, and whether none was found:
/// `$TMPDIR` (or /tmp), else /var/tmp, skipping tmpfs (whose pages are shmem,
/// which a host without swap cannot reclaim); the first that exists otherwise.
fn working_dir() -> (PathBuf, bool) {
    let candidates = [std::env::temp_dir(), PathBuf::from("/var/tmp")];
    let on_tmpfs = |p: &PathBuf| {
        nix::sys::statfs::statfs(p).map(|s| s.filesystem_type() == nix::sys::statfs::TMPFS_MAGIC)
    };
    if let Some(disk) = candidates.iter().find(|p| on_tmpfs(p) == Ok(false)) {
        return (disk.clone(), false);
    }
    let existing = candidates
        .iter()
        .find(|p| p.is_dir())
        .unwrap_or(&candidates[0]);
    (existing.clone(), true)
}

/// Runs every round of the scenario. Failures and interruptions end it early
/// with the rounds recorded so far and the reason in its status.
pub fn run(
    spec: &MemoryPressureSpec,
    ctx: &RunContext<'_>,
    progress: &mut dyn Progress,
) -> ScenarioResult {
    let mut result = ScenarioResult::started(
        NAME,
        "What a victim feels when a neighbour hogs memory, with and without memory limits",
        serde_json::json!({ "scenario": spec }),
    );
    rounds::run(
        &mut result,
        spec.timing.rounds,
        &Condition::ALL,
        progress,
        &mut |index, condition| run_condition(spec, ctx, index, condition),
        &derive,
    );
    result.warnings.extend(spec.notes.iter().cloned());
    result
}

/// Everything started for one condition; dropping it kills and removes it all.
struct Sandboxes {
    victim_cg: Cgroup,
    aggressor_cg: Option<Cgroup>,
    aggressor: Option<Process>,
    canary: Process,
}

/// One condition: arena, canary, aggressor grown, victim run, figures collected.
fn run_condition(
    spec: &MemoryPressureSpec,
    ctx: &RunContext<'_>,
    round: usize,
    condition: Condition,
) -> Result<ConditionSample> {
    let t = spec.timing;
    let isolated = condition == Condition::Isolated;
    let ns = if isolated {
        spec.namespaces
    } else {
        NamespaceSet::default()
    };
    let arena = ctx
        .arena
        .nested(
            &format!("r{round}-{condition}"),
            &Limits {
                memory: vec![MemorySetting {
                    knob: MemoryKnob::Max,
                    bytes: Some(spec.arena_bytes),
                }],
                ..Limits::default()
            },
        )
        .context("creating the condition's memory arena")?;
    let limits = |l: &[MemorySetting]| Limits {
        memory: if isolated { l.to_vec() } else { vec![] },
        ..Limits::default()
    };
    let victim_limits = limits(&spec.victim_limits);
    let aggressor_limits = limits(&spec.aggressor_limits);
    let mut kmsg = KernelLog::open();
    let mut s = Sandboxes {
        victim_cg: arena
            .sandbox("victim", &victim_limits)
            .context("creating the victim's cgroup")?,
        aggressor_cg: None,
        aggressor: None,
        canary: sandbox::spawn(
            &ctx.workload_bin,
            &strings(&[
                "mem-hog",
                "--bytes",
                &CANARY_BYTES.to_string(),
                "--duration",
                "3600",
            ]),
            NamespaceSet::default(),
            None,
        )
        .context("starting the canary")?,
    };
    let mut aggressor_perf = None;
    let mut fill = None;
    if condition != Condition::Solo {
        let cg = arena
            .sandbox("aggressor", &aggressor_limits)
            .context("creating the aggressor's cgroup")?;
        let budget = FILL_DEADLINE.as_secs_f64() + 60.0 + t.warmup_s + t.duration_s;
        let memory_dir = cg
            .memory_dir()
            .context("the aggressor's cgroup has no memory controller")?
            .display()
            .to_string();
        let args = strings(&[
            "mem-hog",
            "--bytes",
            &spec.aggressor_bytes.to_string(),
            "--kind",
            "anon",
            "--huge-pages",
            "--press-limit",
            "--cgroup",
            &memory_dir,
            "--stream-rate",
            &spec.aggressor_stream_rate.to_string(),
            "--dir",
            &spec.working_dir.display().to_string(),
            "--duration",
            &budget.to_string(),
        ]);
        let mut perf = None;
        let process = sandbox::spawn_with(&ctx.workload_bin, &args, ns, Some(&cg), &mut |pid| {
            perf = Some(SandboxCounters::open(pid))
        })
        .context("starting the aggressor")?;
        aggressor_perf = perf;
        s.aggressor_cg = Some(cg);
        s.aggressor = Some(process);
        fill = Some(wait_for_fill(&mut s, spec)?);
    }
    let victim_args = strings(&[
        "mem-units",
        "--working-set",
        &spec.working_set_bytes.to_string(),
        "--kind",
        "file",
        "--dir",
        &spec.working_dir.display().to_string(),
        "--lines",
        &spec.victim_lines.to_string(),
        "--rate",
        &spec.victim_rate.to_string(),
        "--warmup",
        &t.warmup_s.to_string(),
        "--duration",
        &t.duration_s.to_string(),
    ]);
    let cgs: Vec<&Cgroup> = std::iter::once(&s.victim_cg)
        .chain(s.aggressor_cg.as_ref())
        .collect();
    let before: Vec<Snapshot> = cgs.iter().map(|cg| Snapshot::of(cg)).collect();
    let system0 = Snapshot::system();
    let (wall0, host0, cpu_v0, cpu_a0, harness0) = (
        Instant::now(),
        HostEdge::read(ctx.arena)?,
        s.victim_cg.cpu_stat()?,
        stat_of(s.aggressor_cg.as_ref())?,
        own_cpu_s()?,
    );
    let interval = Duration::from_millis(spec.sample_interval_ms);
    let sampler = Sampler::start(&cgs, interval);
    let timeline_start_s = sampler.started_monotonic_s();
    let mut victim_perf = None;
    let mut victim = sandbox::spawn_with(
        &ctx.workload_bin,
        &victim_args,
        ns,
        Some(&s.victim_cg),
        &mut |pid| victim_perf = Some(SandboxCounters::open(pid)),
    )
    .context("starting the victim")?;
    let deadline = Duration::from_secs_f64(60.0 + t.warmup_s + t.duration_s);
    let status = match victim.wait_for(deadline) {
        Ok(status) => Some(status),
        Err(sandbox::WaitError::Timeout { .. }) => None,
        Err(e) => return Err(e).context("waiting for the victim"),
    };
    let wall = wall0.elapsed().as_secs_f64();
    let (timeline, sampler_cpu_share) = sampler.finish();
    let after: Vec<Snapshot> = cgs.iter().map(|cg| Snapshot::of(cg)).collect();
    let system1 = Snapshot::system();
    let (host1, cpu_v1, cpu_a1) = (
        HostEdge::read(ctx.arena)?,
        s.victim_cg.cpu_stat()?,
        stat_of(s.aggressor_cg.as_ref())?,
    );
    let harness_cpu_share = (own_cpu_s()? - harness0) / wall;
    let aggressor_end = s.aggressor.as_mut().map(finish_aggressor);
    let canary_survived = !s.canary.try_reap().unwrap_or(true);
    s.canary.stop(Duration::from_secs(1));
    let perf = |p: Option<SandboxCounters>| p.map(|mut c| c.read()).unwrap_or_default();
    let mut accounts = vec![window::account(
        "victim",
        &s.victim_cg,
        &victim_limits,
        &before[0],
        &after[0],
        perf(victim_perf),
    )];
    if let (Some(cg), Some(b), Some(a)) = (s.aggressor_cg.as_ref(), before.get(1), after.get(1)) {
        accounts.push(window::account(
            "aggressor",
            cg,
            &aggressor_limits,
            b,
            a,
            perf(aggressor_perf),
        ));
    }
    let logged = match kmsg.as_mut() {
        Ok(log) => Ok(log.oom_kills()),
        Err(why) => Err(why.clone()),
    };
    let watched: Vec<Watched> = cgs
        .iter()
        .zip(&accounts)
        .map(|(cg, a)| Watched {
            name: a.sandbox.clone(),
            memory_path: cg.memory_path(),
            oom_kills: a.events.oom_kill,
        })
        .collect();
    let oom_kills = oom::attribute(
        &logged,
        &watched,
        arena.memory_path().as_deref(),
        "aggressor",
        timeline_start_s,
    );
    let (neighbours, pressure) = match (&aggressor_end, &fill, s.aggressor_cg.as_ref()) {
        (Some(end), Some((fill, limit, target)), Some(cg)) => {
            let evidence = memory_press::evidence(&Seen {
                limit: limit.as_ref(),
                target_bytes: *target,
                fill: *fill,
                timeline: &timeline,
                index: 1,
                events: before[1].events().zip(after[1].events()),
                ended: end.ended.as_ref().map(|how| {
                    let kills = oom_kills
                        .iter()
                        .filter(|k| k.attributed_to == "aggressor")
                        .count();
                    match kills {
                        0 => how.clone(),
                        n => {
                            format!("{how}: OOM-killed, {n} OOM kill(s) attributed to its sandbox")
                        }
                    }
                }),
                report: end.report.as_ref().and_then(|r| r.press.as_ref()),
            });
            (vec![end.neighbour(cg)], Some(evidence))
        }
        _ => (Vec::new(), None),
    };
    let victim_killed = accounts[0].events.oom_kill.unwrap_or(0) > 0;
    let victim_fate = match status {
        Some(WaitStatus::Exited(_, 0)) => "completed".to_string(),
        Some(_) if victim_killed => "oom-killed".to_string(),
        Some(other) => bail!("the victim ended with {other:?} (its stderr is above)"),
        None => format!("did not finish within {} s; killed", deadline.as_secs()),
    };
    let invalid = if victim_fate != "completed" {
        Some(validity::victim_silent(&victim_fate))
    } else {
        pressure.as_ref().and_then(memory_press::invalid)
    };
    let report = if victim_fate == "completed" {
        let out = victim.output().context("reading the victim's report")?;
        match workload::parse_report("mem-units", &out)? {
            WorkloadReport::MemUnits(r) => Some(r),
            other => bail!("the victim reported {other:?} instead of mem-units"),
        }
    } else {
        None
    };
    let victim_cpu = account(
        "victim",
        &cpu_v1.delta(&cpu_v0),
        wall,
        None,
        s.victim_cg.path(),
    )?;
    let mut aggressors = Vec::new();
    if let (Some(cg), Some(a0), Some(a1)) = (s.aggressor_cg.as_ref(), cpu_a0, cpu_a1) {
        aggressors.push(account("aggressor", &a1.delta(&a0), wall, None, cg.path())?);
    }
    let (host_other, host_cpu) = host_cpu(&host0, &host1, wall);
    drop(victim);
    drop(s);
    arena.remove().context("removing the condition's arena")?;
    let mut histogram = new_histogram();
    if let Some(r) = &report {
        add_pairs(&mut histogram, &r.latency_ns)?;
    }
    Ok(ConditionSample {
        run: ConditionRun {
            condition,
            victim: report
                .as_ref()
                .map(|r| metrics::victim_run(r, &histogram, Some(LATE_NS))),
            aggressors,
            groups: Vec::new(),
            victim_cpu,
            harness_cpu_share,
            host_other_cpu_share: host_other,
            host_cpu: Some(host_cpu),
            invalid,
            memory: Some(MemoryRun {
                victim_fate,
                sandboxes: accounts,
                system_psi: window::psi_figures(&system0, &system1),
                oom_kills,
                canary_survived,
                timeline,
                sample_interval_s: interval.as_secs_f64(),
                sampler_cpu_share,
                pressure,
            }),
            neighbours,
            pids: Vec::new(),
            cpu_pressure: Vec::new(),
        },
        histogram,
        missed: report.map_or(0, |r| r.missed),
        transient: None,
    })
}

/// The aggressor's growth before the victim starts, its sandbox's lowest limit
/// as the kernel has it, and the charge it is to hold, bytes.
type Filled = (Fill, Option<MemoryLimit>, u64);

/// Waits until the aggressor's charge is 90 % of what it is to hold (its size,
/// or its own limit less its headroom: [`memory_limit::press_target`], the rule
/// mem-hog follows), or it has ended, at most [`FILL_DEADLINE`].
fn wait_for_fill(s: &mut Sandboxes, spec: &MemoryPressureSpec) -> Result<Filled> {
    let (Some(cg), Some(process)) = (s.aggressor_cg.as_ref(), s.aggressor.as_mut()) else {
        bail!("no aggressor to wait for");
    };
    let dir = cg
        .memory_dir()
        .context("the aggressor's cgroup has no memory controller")?;
    let limit = memory_limit::read_limit(dir).context("reading the aggressor's memory limit")?;
    let target = memory_limit::press_target(spec.aggressor_bytes, limit.as_ref().map(|l| l.bytes));
    let floor = (target as f64 * memory_press::HELD) as u64;
    let start = Instant::now();
    loop {
        if interrupt::requested() {
            bail!("interrupted");
        }
        let current = cg.memory()?.0.current_bytes;
        if current >= floor || process.try_reap()? || start.elapsed() >= FILL_DEADLINE {
            let fill = Fill {
                waited_s: start.elapsed().as_secs_f64(),
                start_bytes: Some(current),
            };
            return Ok((fill, limit, target));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// How the aggressor ended: before the victim did, or stopped after it, with its report.
struct AggressorEnd {
    /// How it ended when that was before the victim ended; `None` while it still ran.
    ended: Option<String>,
    /// Its report (it prints one when stopped with SIGTERM).
    report: Option<MemHogReport>,
    /// Its report as printed, for the results.
    raw: Option<serde_json::Value>,
    /// What went wrong, for `neighbours[].failures`.
    failures: Vec<String>,
}

impl AggressorEnd {
    /// The neighbour entry of the results.
    fn neighbour(&self, cg: &Cgroup) -> NeighbourRun {
        let headline = self
            .report
            .clone()
            .and_then(|r| WorkloadReport::MemHog(r).headline());
        NeighbourRun {
            sandbox: "aggressor".into(),
            workload: "mem-hog".into(),
            count: 1,
            work: headline.map(|h| isobench_reports::schema::WorkFigure {
                name: h.name.into(),
                value: h.value,
                unit: h.unit.into(),
            }),
            memory_peak_bytes: cg.memory().ok().and_then(|m| m.0.peak_bytes),
            reports: self.raw.iter().cloned().collect(),
            failures: self.failures.clone(),
            exits: Vec::new(),
        }
    }
}

/// Right after the victim ended: notes whether the aggressor was still running,
/// then stops it (SIGTERM: a pressing mem-hog prints its report and ends) and reads its report.
fn finish_aggressor(p: &mut Process) -> AggressorEnd {
    let ended = match p.try_reap() {
        Ok(true) => Some(
            p.status()
                .map_or("ended".into(), |s| validity::ended_how(&s)),
        ),
        Ok(false) => None,
        Err(e) => Some(format!("could not be waited for: {e}")),
    };
    p.stop(Duration::from_secs(2));
    let mut failures: Vec<String> = ended.iter().map(|e| format!("process 0: {e}")).collect();
    if ended.is_none()
        && let Some(status) = p.status()
        && !matches!(status, WaitStatus::Exited(_, 0))
    {
        failures.push(format!(
            "process 0: did not end with its report on SIGTERM ({})",
            validity::ended_how(&status)
        ));
    }
    let out = p.output().unwrap_or_default();
    let parsed = (!out.trim().is_empty()).then(|| workload::parse_report("mem-hog", &out));
    let (report, raw) = match parsed {
        Some(Ok(WorkloadReport::MemHog(r))) => {
            let raw = serde_json::to_value(WorkloadReport::MemHog(r.clone())).ok();
            (Some(r), raw)
        }
        Some(Ok(other)) => {
            failures.push(format!("process 0: reported {other:?} instead of mem-hog"));
            (None, None)
        }
        Some(Err(e)) => {
            failures.push(format!("process 0: {e}"));
            (None, None)
        }
        None => (None, None),
    };
    AggressorEnd {
        ended,
        report,
        raw,
        failures,
    }
}

/// A sandbox's memory account in a sample.
fn sandbox<'a>(s: &'a ConditionSample, name: &str) -> Option<&'a MemoryAccount> {
    s.run
        .memory
        .as_ref()?
        .sandboxes
        .iter()
        .find(|a| a.sandbox == name)
}

/// The memory PSI figure of a sandbox: (some, full), or the reason.
fn psi_memory(s: &ConditionSample, name: &str) -> Result<(f64, Option<f64>), String> {
    let f = sandbox(s, name)
        .and_then(|a| a.psi.iter().find(|p| p.resource == "memory"))
        .ok_or_else(|| format!("no {name} in this condition"))?;
    match (f.some, &f.unavailable) {
        (Some(some), _) => Ok((some, f.full)),
        (None, why) => Err(why.clone().unwrap_or_else(|| "unavailable".into())),
    }
}

/// The first reason a PSI figure of `name` was unavailable, for the metric.
fn psi_reason(rounds: &[Vec<ConditionSample>], name: &str) -> String {
    rounds
        .iter()
        .flatten()
        .find_map(|s| psi_memory(s, name).err())
        .unwrap_or_else(|| format!("no {name} ran"))
}

/// The memory metrics, then the victim's, host's and harness's (DESIGN §2).
fn derive(result: &mut ScenarioResult, rounds: &[Vec<ConditionSample>]) {
    let per = |c, f: &dyn Fn(&ConditionSample) -> Option<f64>| metrics::per_round(rounds, c, f);
    // OOM kills happened whether or not the condition measured the victim: counted in every round.
    let all = |c, f: &dyn Fn(&ConditionSample) -> Option<f64>| metrics::per_round_all(rounds, c, f);
    let with_aggressor = [Condition::Contended, Condition::Isolated];
    let mut m: Vec<Metric> = Vec::new();
    for c in Condition::ALL {
        let reason = psi_reason(rounds, "victim");
        m.push(metrics::metric(
            "victim.psi_memory_some",
            Some(c),
            "share",
            per(c, &|s| psi_memory(s, "victim").ok().map(|p| p.0)),
            &reason,
        ));
        m.push(metrics::metric(
            "victim.psi_memory_full",
            Some(c),
            "share",
            per(c, &|s| psi_memory(s, "victim").ok()?.1),
            &reason,
        ));
        m.push(metrics::metric(
            "victim.major_faults",
            Some(c),
            "count",
            per(c, &|s| Some(sandbox(s, "victim")?.pgmajfault? as f64)),
            "memory.stat has no pgmajfault",
        ));
        m.push(metrics::metric(
            "victim.oom_kills",
            Some(c),
            "count",
            all(c, &|s| Some(kills(s, "victim"))),
            "no memory figures",
        ));
        m.push(metrics::metric(
            "outside.oom_kills",
            Some(c),
            "count",
            all(c, &|s| Some(kills(s, "outside"))),
            "no memory figures",
        ));
    }
    for c in with_aggressor {
        m.push(metrics::metric(
            "aggressor.psi_memory_full",
            Some(c),
            "share",
            per(c, &|s| psi_memory(s, "aggressor").ok()?.1),
            &psi_reason(rounds, "aggressor"),
        ));
        m.push(metrics::metric(
            "aggressor.oom_kills",
            Some(c),
            "count",
            all(c, &|s| Some(kills(s, "aggressor"))),
            "no memory figures",
        ));
        m.push(metrics::metric(
            "aggressor.held_share",
            Some(c),
            "share",
            per(c, &|s| pressure(s)?.held_share),
            "no timeline sample of the aggressor's charge while the victim ran",
        ));
        m.push(metrics::metric(
            "aggressor.limit_events",
            Some(c),
            "count",
            per(c, &|s| Some(pressure(s)?.limit_events? as f64)),
            "its sandbox's limit counters (memory.events, memory.failcnt) could not be read",
        ));
        m.push(metrics::metric(
            "aggressor.memory_peak_bytes",
            Some(c),
            "bytes",
            per(c, &|s| Some(sandbox(s, "aggressor")?.peak_bytes? as f64)),
            "the kernel has no peak counter (memory.peak needs Linux 5.19)",
        ));
    }
    m.push(metrics::metric(
        "harness.sampler_cpu_share",
        None,
        "CPUs",
        rounds
            .iter()
            .map(|r| {
                let shares: Vec<f64> = r
                    .iter()
                    .filter_map(|s| Some(s.run.memory.as_ref()?.sampler_cpu_share))
                    .collect();
                (!shares.is_empty()).then(|| shares.iter().sum::<f64>() / shares.len() as f64)
            })
            .collect(),
        "no round completed",
    ));
    metrics::derive_with(result, rounds, m);
    result.warnings.extend(breaches(rounds));
}

/// The aggressor's pressing evidence in a sample.
fn pressure(s: &ConditionSample) -> Option<&isobench_reports::schema::MemoryPressure> {
    s.run.memory.as_ref()?.pressure.as_ref()
}

/// OOM kills attributed to `to` in a sample.
fn kills(s: &ConditionSample, to: &str) -> f64 {
    s.run.memory.as_ref().map_or(0, |m| {
        m.oom_kills.iter().filter(|k| k.attributed_to == to).count()
    }) as f64
}

/// Warnings for victims killed and for isolation breaches, naming rounds and conditions.
fn breaches(rounds: &[Vec<ConditionSample>]) -> Vec<String> {
    let mut out = Vec::new();
    for c in Condition::ALL {
        let killed = rounds
            .iter()
            .flatten()
            .filter(|s| s.run.condition == c)
            .filter(|s| {
                s.run
                    .memory
                    .as_ref()
                    .is_some_and(|m| m.victim_fate == "oom-killed")
            })
            .count();
        if killed > 0 {
            out.push(format!(
                "victim OOM-killed in {killed} of {} {c} rounds",
                rounds.len()
            ));
        }
    }
    for (i, r) in rounds.iter().enumerate() {
        for s in r {
            let Some(m) = &s.run.memory else { continue };
            for k in m.oom_kills.iter().filter(|k| k.breach) {
                out.push(format!(
                    "isolation breach: round {i} {}: OOM kill {} in {} (attributed to {}, from {})",
                    s.run.condition,
                    k.process.as_deref().unwrap_or("of an unnamed process"),
                    k.cgroup,
                    k.attributed_to,
                    k.source
                ));
            }
            if !m.canary_survived {
                out.push(format!(
                    "isolation breach: round {i} {}: the unconfined canary outside the arena died",
                    s.run.condition
                ));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn knob(knob: MemoryKnob, mib: u64) -> MemorySetting {
        MemorySetting {
            knob,
            bytes: Some(mib * MIB),
        }
    }

    #[test]
    fn sizes_must_leave_room_to_contend() {
        let err = check_options(Some(128 * MIB), None, &[], None).unwrap_err();
        assert!(
            err.starts_with("the default working set of 256 MiB is not below"),
            "{err}"
        );
        let err = check_options(Some(2), Some(1), &[], None).unwrap_err();
        assert!(
            err.starts_with("--arena-memory 2 bytes is too small: expected at least 64 MiB"),
            "{err}"
        );
        let err = check_options(None, Some(1000), &[], None).unwrap_err();
        assert!(
            err.starts_with("--working-set 1000 bytes is too small"),
            "{err}"
        );
        assert!(check_options(Some(512 * MIB), Some(64 * MIB), &[], None).is_ok());
    }

    #[test]
    fn knobs_are_given_once_bind_inside_the_arena_and_keep_memsw_above_memory() {
        let twice = [
            knob(MemoryKnob::Max, 128),
            knob(MemoryKnob::LimitInBytes, 256),
        ];
        let err = check_options(None, None, &twice, Some(Layout::Hybrid)).unwrap_err();
        assert!(err.contains("memory.limit_in_bytes twice"), "{err}");
        let loose = [knob(MemoryKnob::Max, 4096)];
        let err = check_options(None, None, &loose, Some(Layout::V2)).unwrap_err();
        assert!(err.contains("would never bind"), "{err}");
        let memsw = [knob(MemoryKnob::MemswLimitInBytes, 128)];
        let err = check_options(None, None, &memsw, Some(Layout::V1)).unwrap_err();
        assert!(err.contains("needs memory.max"), "{err}");
        let fine = [
            knob(MemoryKnob::MemswLimitInBytes, 256),
            knob(MemoryKnob::Max, 128),
        ];
        assert!(check_options(None, None, &fine, Some(Layout::V1)).is_ok());
    }
}

//! Memory limits, readers, counters and OOM attribution on the real host (root
//! only). CI runs it on this hybrid host and in a cgroup v2 VM.

mod common;

use isobench::cgroup::{Layout, Limits, MemoryKnob, MemorySetting};
use isobench::measure::kmsg::KernelLog;
use isobench::measure::oom::{self, Watched};
use isobench::measure::perf::SandboxCounters;
use isobench::measure::window::{self, Snapshot};
use isobench::sandbox::{self, NamespaceSet};
use isobench::scenario::{
    Progress, Timing, isolation, memory_high_stall, memory_press, memory_pressure,
};
use isobench::suite::{
    AggressorDef, AggressorWorkload, Demand, IsolationDef, LimitsDef, VictimDef, VictimWorkload,
};
use isobench::workload;
use isobench_reports::schema::{Condition, ScenarioResult, ScenarioStatus};
use nix::sys::wait::WaitStatus;
use std::time::Duration;

const MIB: u64 = 1 << 20;

fn max(bytes: u64) -> Limits {
    Limits {
        memory: vec![MemorySetting {
            knob: MemoryKnob::Max,
            bytes: Some(bytes),
        }],
        ..Limits::default()
    }
}

fn hog(bytes: &str, seconds: &str) -> Vec<String> {
    ["mem-hog", "--bytes", bytes, "--duration", seconds]
        .iter()
        .map(|s| s.to_string())
        .collect()
}

#[test]
fn c05_oom_kill_stays_in_the_limited_sandbox_and_is_attributed_to_it() {
    require_root!();
    let (_host, arena, id) = common::arena("c05");
    let bin = workload::locate().unwrap();
    let aggressor_cg = arena.sandbox("aggressor", &max(64 * MIB)).unwrap();
    let victim_cg = arena.sandbox("victim", &Limits::default()).unwrap();
    let mut log = KernelLog::open();
    let mut canary =
        sandbox::spawn(&bin, &hog("32MiB", "60"), NamespaceSet::default(), None).unwrap();
    let mut victim = sandbox::spawn(
        &bin,
        &hog("16MiB", "60"),
        NamespaceSet::default(),
        Some(&victim_cg),
    )
    .unwrap();
    let mut aggressor = sandbox::spawn(
        &bin,
        &hog("256MiB", "60"),
        NamespaceSet::default(),
        Some(&aggressor_cg),
    )
    .unwrap();
    let status = aggressor.wait_for(Duration::from_secs(30)).unwrap();
    assert!(
        matches!(
            status,
            WaitStatus::Signaled(_, nix::sys::signal::Signal::SIGKILL, _)
        ),
        "a 64 MiB sandbox allocating 256 MiB is OOM-killed: {status:?}"
    );
    let kills = aggressor_cg.memory().unwrap().2.oom_kill;
    assert_eq!(kills, Some(1), "memory.events / oom_control count the kill");
    assert!(!victim.try_reap().unwrap(), "the sibling victim survives");
    assert!(!canary.try_reap().unwrap(), "the canary survives");
    let watched: Vec<Watched> = [("aggressor", &aggressor_cg), ("victim", &victim_cg)]
        .iter()
        .map(|(name, cg)| Watched {
            name: name.to_string(),
            memory_path: cg.memory_path(),
            oom_kills: cg.memory().unwrap().2.oom_kill,
        })
        .collect();
    let logged = log.as_mut().map(|l| l.oom_kills()).map_err(|e| e.clone());
    let attributed = oom::attribute(
        &logged,
        &watched,
        arena.memory_path().as_deref(),
        "aggressor",
        0.0,
    );
    assert_eq!(attributed.len(), 1, "{attributed:?}");
    assert_eq!(attributed[0].attributed_to, "aggressor");
    assert!(!attributed[0].breach);
    if logged.is_ok() {
        assert_eq!(
            attributed[0].source, "kmsg",
            "the kernel log named the cgroup"
        );
    }
    drop((victim, canary, aggressor));
    drop((victim_cg, aggressor_cg));
    arena.remove().unwrap();
    common::assert_nothing_left(&id);
}

#[test]
fn per_cgroup_psi_is_present_and_a_share_of_time() {
    require_root!();
    let (host, arena, id) = common::arena("psi");
    let bin = workload::locate().unwrap();
    let cg = arena.sandbox("victim", &Limits::default()).unwrap();
    let before = Snapshot::of(&cg);
    let mut p = sandbox::spawn(
        &bin,
        &hog("64MiB", "0.5"),
        NamespaceSet::default(),
        Some(&cg),
    )
    .unwrap();
    p.wait_for(Duration::from_secs(30)).unwrap();
    let after = Snapshot::of(&cg);
    let figures = window::psi_figures(&before, &after);
    assert_eq!(figures.len(), 3);
    for f in &figures {
        if host.layout == Layout::V1 {
            assert!(f.some.is_none() && f.unavailable.is_some(), "{f:?}");
            continue;
        }
        let some = f
            .some
            .unwrap_or_else(|| panic!("PSI present on {}: {f:?}", host.layout));
        assert!((0.0..=1.0).contains(&some), "{f:?}");
        if let Some(full) = f.full {
            assert!((0.0..=some + 1e-9).contains(&full), "full ≤ some: {f:?}");
        }
    }
    drop(p);
    drop(cg);
    arena.remove().unwrap();
    common::assert_nothing_left(&id);
}

#[test]
fn a_sandbox_that_touched_100_mib_counts_at_least_25600_minor_faults() {
    require_root!();
    let (_host, arena, id) = common::arena("faults");
    let bin = workload::locate().unwrap();
    let cg = arena.sandbox("victim", &Limits::default()).unwrap();
    let before = Snapshot::of(&cg);
    let mut counters = None;
    let mut args = hog("100MiB", "120");
    args.push("--exit-when-grown".into());
    let mut p = sandbox::spawn_with(&bin, &args, NamespaceSet::ALL, Some(&cg), &mut |pid| {
        counters = Some(SandboxCounters::open(pid))
    })
    .unwrap();
    assert_eq!(
        p.wait_for(Duration::from_secs(30)).unwrap(),
        WaitStatus::Exited(nix::unistd::Pid::from_raw(p.pid()), 0)
    );
    let after = Snapshot::of(&cg);
    let account = window::account("victim", &cg, &Limits::default(), &before, &after, vec![]);
    let pgfault = account.pgfault.expect("memory.stat pgfault");
    assert!(pgfault >= 25_600, "memory.stat pgfault {pgfault}");
    let counts = counters.unwrap().read();
    let minor = counts.iter().find(|c| c.event == "minor-faults").unwrap();
    match minor.value {
        Some(v) => assert!(v >= 25_600, "perf minor-faults {v}"),
        None => eprintln!("perf unavailable here: {:?}", minor.unavailable),
    }
    let switches = counts
        .iter()
        .find(|c| c.event == "context-switches")
        .unwrap();
    if let Some(v) = switches.value {
        assert!(
            v > 0,
            "kernel events included: context switches are counted"
        );
    }
    drop(p);
    drop(cg);
    arena.remove().unwrap();
    common::assert_nothing_left(&id);
}

#[test]
fn c05_a_kmem_limit_the_kernel_refuses_is_a_warning_not_an_error() {
    require_root!();
    let (host, arena, id) = common::arena("kmem");
    let limits = Limits {
        memory: vec![MemorySetting {
            knob: MemoryKnob::KmemLimitInBytes,
            bytes: Some(16 * MIB),
        }],
        ..Limits::default()
    };
    match arena.sandbox("aggressor", &limits) {
        Ok(cg) => {
            for w in cg.warnings() {
                assert!(
                    w.starts_with("kmem limit unsupported on this kernel"),
                    "{w}"
                );
            }
        }
        Err(e) => {
            assert_eq!(
                host.layout,
                Layout::V2,
                "refused only where v1 knobs do not exist: {e}"
            );
            assert!(e.to_string().contains("not supported on v2"), "{e}");
        }
    }
    arena.remove().unwrap();
    common::assert_nothing_left(&id);
}

#[test]
fn c04_memory_high_stalls_and_memory_max_kills_or_the_layout_says_why_not() {
    require_root!();
    let (host, arena, id) = common::arena("c04");
    let ctx = common::context(&arena, 100_000);
    let spec = memory_high_stall::MemoryHighStallSpec::default();
    let result = memory_high_stall::run(&spec, &ctx, host.layout);
    if host.layout != Layout::V2 {
        match &result.status {
            ScenarioStatus::Skipped(why) => {
                assert!(
                    why.contains(&format!("not supported on {}", host.layout)),
                    "{why}"
                )
            }
            other => panic!("memory.high on {}: {other:?}", host.layout),
        }
    } else {
        assert_eq!(result.status, ScenarioStatus::Complete);
        let verdict = |name: &str| {
            result
                .checks
                .iter()
                .find(|c| c.name == name)
                .unwrap_or_else(|| panic!("no case {name}"))
                .clone()
        };
        let high = verdict("memory.high");
        assert!(high.saw.starts_with(memory_high_stall::STALLED), "{high:?}");
        assert!(high.passed);
        let max = verdict("memory.max");
        assert!(
            max.saw.starts_with(memory_high_stall::OOM_KILLED),
            "{max:?}"
        );
        assert!(max.passed);
        let metric = |name: &str| {
            result
                .metrics
                .iter()
                .find(|m| m.name == name)
                .and_then(|m| m.value)
        };
        assert_eq!(metric("memory-high-stall.memory_high.oom_kills"), Some(0.0));
        assert!(metric("memory-high-stall.memory_high.high_events").unwrap() > 0.0);
        assert_eq!(metric("memory-high-stall.memory_max.oom_kills"), Some(1.0));
        assert!(metric("memory-high-stall.memory_max.verdict_s").unwrap() < spec.deadline_s);
    }
    drop(ctx);
    arena.remove().unwrap();
    common::assert_nothing_left(&id);
}

/// Progress that records nothing and asks for no extra round.
struct Quiet;

impl Progress for Quiet {
    fn step_done(&mut self, _: &str, _: &str) {}
    fn round_done(&mut self, _: &ScenarioResult) {}
    fn more_rounds(&mut self, _: &ScenarioResult) -> bool {
        false
    }
}

#[test]
fn memory_pressure_isolated_neighbour_lives_at_its_limit_and_the_condition_is_valid() {
    require_root!();
    let (host, arena, id) = common::arena("press");
    let ctx = common::context(&arena, 100_000);
    let timing = Timing {
        rounds: 1,
        duration_s: 0.5,
        warmup_s: 0.2,
    };
    let limit = 256 * MIB;
    let spec = memory_pressure::MemoryPressureSpec::new(
        timing,
        host.layout,
        Some(512 * MIB),
        Some(64 * MIB),
        Some(vec![MemorySetting {
            knob: MemoryKnob::Max,
            bytes: Some(limit),
        }]),
    );
    let result = memory_pressure::run(&spec, &ctx, &mut Quiet);
    assert_eq!(result.status, ScenarioStatus::Complete, "{result:?}");
    let isolated = result.rounds[0]
        .conditions
        .iter()
        .find(|c| c.condition == Condition::Isolated)
        .unwrap();
    assert_eq!(isolated.invalid, None, "{isolated:#?}");
    let memory = isolated.memory.as_ref().unwrap();
    let p = memory.pressure.as_ref().expect("pressing evidence");
    assert_eq!(p.limit_bytes, Some(limit), "{p:?}");
    assert!(p.alive_at_end, "{p:?}");
    assert!(
        p.target_bytes < limit && p.target_bytes >= limit / 16 * 15,
        "{p:?}"
    );
    let held = p.held_share.expect("timeline samples");
    assert!(held >= memory_press::HELD_SAMPLES, "{p:?}");
    assert!(
        p.min_bytes.unwrap() as f64 >= 0.9 * p.target_bytes as f64,
        "{p:?}"
    );
    assert!(
        memory
            .oom_kills
            .iter()
            .all(|k| k.attributed_to != "aggressor"),
        "pressing is not dying: {:?}",
        memory.oom_kills
    );
    if p.method.contains("streamed") {
        // With page cache to reclaim (a disk), the limit is hit again and again.
        assert!(p.limit_events.unwrap() > 0, "{p:?}");
    } else {
        assert!(p.method.contains("no page-cache stream: "), "{p:?}");
    }
    let neighbour = &isolated.neighbours[0];
    assert_eq!(neighbour.workload, "mem-hog");
    assert!(neighbour.failures.is_empty(), "{neighbour:?}");
    assert_eq!(
        neighbour.reports.len(),
        1,
        "it ends with its report on SIGTERM"
    );
    eprintln!(
        "isolated: {}; held {:.0} % of samples, {:?} limit events",
        p.method,
        held * 100.0,
        p.limit_events
    );
    drop(ctx);
    arena.remove().unwrap();
    common::assert_nothing_left(&id);
}

#[test]
fn an_isolation_aggressor_killed_before_the_windows_end_makes_the_condition_invalid() {
    require_root!();
    let (_host, arena, id) = common::arena("ended");
    let ctx = common::context(&arena, 100_000);
    // 128 MiB of anonymous memory under memory.max = 32 MiB: OOM-killed in its
    // sandbox at once when isolated; unconfined it holds them to its deadline.
    let spec = isolation::IsolationSpec {
        name: "ended-early".into(),
        timing: Timing {
            rounds: 1,
            duration_s: 0.5,
            warmup_s: 0.2,
        },
        def: IsolationDef {
            victim: VictimDef {
                workload: VictimWorkload::Applet {
                    workload: "wakeup-latency".into(),
                    args: vec![],
                },
                demand: Demand::Rate(500.0),
                limits: LimitsDef::default(),
                late_us: None,
                slo: None,
                group: None,
                slice_ms: None,
            },
            aggressors: vec![AggressorDef {
                name: "aggressor".into(),
                workload: AggressorWorkload::Applet {
                    workload: "mem-hog".into(),
                    args: ["--bytes", "128MiB"].map(String::from).to_vec(),
                },
                count: 1,
                limits: LimitsDef {
                    limits: max(32 * MIB),
                    ..LimitsDef::default()
                },
                group: None,
                phase: None,
            }],
            namespaces: NamespaceSet::default(),
            conditions: Condition::ALL.to_vec(),
            groups: Vec::new(),
            sweep: None,
        },
    };
    let result = isolation::run(&spec, &ctx, &mut Quiet);
    assert_eq!(result.status, ScenarioStatus::Complete, "{result:?}");
    let run = |c| {
        result.rounds[0]
            .conditions
            .iter()
            .find(|r| r.condition == c)
            .unwrap()
    };
    let why = run(Condition::Isolated).invalid.clone().expect("invalid");
    assert!(
        why.starts_with(
            "an aggressor ended before the window's end (aggressor process 0: killed by SIGKILL)"
        ),
        "{why}"
    );
    assert!(run(Condition::Isolated).victim.is_some(), "raw values stay");
    assert_eq!(
        run(Condition::Contended).invalid,
        None,
        "ran past the window: valid"
    );
    assert_eq!(run(Condition::Solo).invalid, None);
    let metric = |name: &str, c| {
        result
            .metrics
            .iter()
            .find(|m| m.name == name && m.condition == Some(c))
            .unwrap()
    };
    let retained = metric("victim.retained_throughput", Condition::Isolated);
    assert_eq!(retained.per_round, vec![None]);
    assert!(
        retained
            .reason
            .as_deref()
            .unwrap()
            .contains("invalid in every round")
    );
    assert!(
        metric("victim.retained_throughput", Condition::Contended)
            .value
            .is_some()
    );
    assert!(
        result
            .warnings
            .iter()
            .any(|w| w.contains("round 0 isolated: an aggressor ended before the window's end")),
        "{:?}",
        result.warnings
    );
    drop(ctx);
    arena.remove().unwrap();
    common::assert_nothing_left(&id);
}

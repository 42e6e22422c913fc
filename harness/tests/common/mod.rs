//! Helpers shared by the integration tests that need root and real cgroups.

use isobench::cgroup::{Arena, CgroupHost};
use isobench::scenario::RunContext;
use isobench::workload;
use isobench_workloads::report::Calibration;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Skips the calling test, with a one-line reason, unless it runs as root.
#[macro_export]
macro_rules! require_root {
    () => {
        if !nix::unistd::Uid::effective().is_root() {
            eprintln!("skipped: needs root to create cgroups and namespaces (CI runs as root)");
            return;
        }
    };
}

/// A fresh arena with a unique run id; returns the host, the arena and its run id.
#[allow(dead_code)] // each test file uses the helpers it needs
pub fn arena(test: &str) -> (CgroupHost, Arena, String) {
    static N: AtomicUsize = AtomicUsize::new(0);
    let host = CgroupHost::discover().expect("cgroup layout");
    let id = format!(
        "test-{}-{}-{test}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    );
    let arena = host.arena(&id).expect("creating the arena");
    (host, arena, id)
}

/// Asserts that no cgroup whose name ends with `suffix` (a run id, or `-<pid>` of a
/// run) is left directly beneath the harness's cgroup in any hierarchy.
#[allow(dead_code)]
pub fn assert_nothing_left(suffix: &str) {
    let host = CgroupHost::discover().expect("cgroup layout");
    let left: Vec<_> = host
        .leftovers()
        .into_iter()
        .filter(|p| p.to_string_lossy().ends_with(suffix))
        .collect();
    assert!(left.is_empty(), "left behind: {left:?}");
}

/// A run context over `arena` for tests that run a scenario: the workload
/// binary found as `run` finds it, a victim unit of `unit_ns` ns (not
/// calibrated: these tests do not judge the victim's speed), one CPU.
#[allow(dead_code)]
pub fn context(arena: &Arena, unit_ns: u64) -> RunContext<'_> {
    RunContext {
        arena,
        workload_bin: workload::locate().unwrap(),
        calibration: Calibration {
            iters_per_unit: 1,
            unit_ns,
        },
        cpus_allowed: 1,
        work_dir: std::env::temp_dir(),
    }
}

/// Progress that records nothing and asks for no extra round.
#[allow(dead_code)]
pub struct Quiet;

impl isobench::scenario::Progress for Quiet {
    fn step_done(&mut self, _: &str, _: &str) {}
    fn round_done(&mut self, _: &isobench_reports::schema::ScenarioResult) {}
    fn more_rounds(&mut self, _: &isobench_reports::schema::ScenarioResult) -> bool {
        false
    }
}

/// What [`run_suite`] gives back.
#[allow(dead_code)]
pub struct SuiteRun {
    /// The scenario's result.
    pub result: isobench_reports::schema::ScenarioResult,
    /// Wall time of the scenario.
    pub wall: std::time::Duration,
    /// The run id of its arena (already removed).
    pub id: String,
}

/// Checks `text` as a suite file (as `isobench run --suite` reads it), runs its
/// first scenario, an isolation one, in a fresh arena, removes the arena and
/// asserts nothing of it is left. Scenario runs of one test binary take turns:
/// tests that measure CPU shares and slowdowns must not load each other's CPUs.
#[allow(dead_code)]
pub fn run_suite(text: &str, test: &str) -> SuiteRun {
    run_suite_with(text, test, |_| Calibration {
        iters_per_unit: 1,
        unit_ns: 100_000,
    })
}

/// As [`run_suite`], with the victim's work unit calibrated in the arena as
/// `isobench run` does it: for tests whose victim must spend the CPU it asks for.
#[allow(dead_code)]
pub fn run_suite_calibrated(text: &str, test: &str) -> SuiteRun {
    run_suite_with(text, test, |arena| {
        isobench::run::calibrate(arena, &workload::locate().unwrap()).expect("calibrating")
    })
}

fn run_suite_with(
    text: &str,
    test: &str,
    calibration: impl FnOnce(&Arena) -> Calibration,
) -> SuiteRun {
    use isobench::scenario::isolation;
    use isobench::suite::{self, Kind};
    let facts = suite::discover_host().expect("host facts");
    let s =
        suite::parse_text(text, "t.toml", &facts).unwrap_or_else(|e| panic!("{e}\nin:\n{text}"));
    let scenario = &s.scenarios[0];
    let Kind::Isolation(def) = &scenario.kind else {
        panic!("not an isolation scenario: {text}");
    };
    let spec = isolation::IsolationSpec {
        name: scenario.name.clone(),
        timing: scenario.timing,
        def: (**def).clone(),
    };
    let _turn = take_turn();
    let (_host, arena, id) = arena(test);
    let t = std::time::Instant::now();
    let result = {
        let mut ctx = context(&arena, 100_000);
        ctx.calibration = calibration(&arena);
        isolation::run(&spec, &ctx, &mut Quiet)
    };
    let wall = t.elapsed();
    arena.remove().expect("removing the arena");
    assert_nothing_left(&id);
    SuiteRun { result, wall, id }
}

/// The highest online CPU, for pinning.
#[allow(dead_code)]
pub fn last_cpu() -> String {
    let online = std::fs::read_to_string("/sys/devices/system/cpu/online").unwrap();
    online.trim().rsplit([',', '-']).next().unwrap().to_string()
}

/// The turn of a test that measures: held while it runs, so that the tests of
/// one binary, which `cargo test` runs on parallel threads, do not load each
/// other's CPUs (cargo-nextest's test group does the same across processes).
#[allow(dead_code)]
pub fn take_turn() -> std::sync::MutexGuard<'static, ()> {
    static TURN: std::sync::Mutex<()> = std::sync::Mutex::new(());
    TURN.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Gives `arena` the top CPU weight among its siblings (the tasks and groups
/// beside the harness), so that other work on a shared host does not stretch
/// the timing of what runs in it; what that may use is bounded by its limits
/// and by the test's few seconds.
#[allow(dead_code)]
pub fn top_weight(arena: &Arena) {
    for dir in arena.dirs() {
        for (file, top) in [("cpu.shares", "262144"), ("cpu.weight", "10000")] {
            if dir.join(file).exists() {
                std::fs::write(dir.join(file), top).unwrap();
            }
        }
    }
}

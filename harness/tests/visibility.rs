//! The visibility checks on real namespaces (root only): each passes with every
//! namespace on, and each reports 0 with evidence when its namespace is off, so
//! no check is an assertion that cannot fail.

mod common;

use isobench::sandbox::NamespaceSet;
use isobench::scenario::visibility::{self, CHECKS};
use std::sync::Mutex;

/// The checks bind host port 3306 and mount in /tmp: one at a time.
static SERIAL: Mutex<()> = Mutex::new(());

fn without(name: &str) -> NamespaceSet {
    let mut ns = NamespaceSet::ALL;
    match name {
        "pid" => ns.pid = false,
        "uts" => ns.uts = false,
        "net" => ns.net = false,
        "mnt" => ns.mnt = false,
        "ipc" => ns.ipc = false,
        "cgroup" => ns.cgroup = false,
        "user" => ns.user = false,
        other => panic!("no namespace for check {other}"),
    }
    ns
}

fn run_check(name: &str, ns: NamespaceSet) -> isobench_reports::schema::VisibilityCheck {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let (_host, arena, id) = common::arena(&format!("vis-{name}"));
    let ctx = common::context(&arena, 1);
    let check = visibility::check(name, ns, &ctx).unwrap();
    arena.remove().unwrap();
    common::assert_nothing_left(&id);
    check
}

#[test]
fn every_check_passes_with_every_namespace_on() {
    require_root!();
    for name in CHECKS {
        let c = run_check(
            name,
            NamespaceSet {
                user: name == "user",
                ..NamespaceSet::ALL
            },
        );
        assert!(
            c.passed,
            "{name} failed: looked at {}; saw {}",
            c.looked_at, c.saw
        );
        assert!(!c.saw.is_empty() && !c.looked_at.is_empty());
    }
}

#[test]
fn every_check_fails_with_evidence_when_its_namespace_is_off() {
    require_root!();
    for name in CHECKS {
        let c = run_check(name, without(name));
        assert!(
            !c.passed,
            "{name} passed without its namespace: saw {}",
            c.saw
        );
        assert!(!c.saw.is_empty(), "{name}: no evidence");
        eprintln!("{name} off: {}", c.saw);
    }
}

#[test]
fn net_check_sees_the_port_clash_between_unconfined_processes() {
    require_root!();
    let c = run_check("net", NamespaceSet::ALL);
    assert!(
        c.saw.contains("got \"pong-a\"") && c.saw.contains("got \"pong-b\""),
        "{}",
        c.saw
    );
    assert!(
        c.saw.contains("the expected clash") && c.saw.contains("Address already in use"),
        "{}",
        c.saw
    );
}

// ---- cpu-view: what a workload believes it has (cases C14, C15) ----

use isobench::suite::{self, Kind};
use isobench_reports::schema::{CpuView, Reading};
use std::time::Duration;

/// Runs the `cpu-view` check of a visibility scenario whose `[scenario.cpu_view]`
/// and groups are `tables` (a suite file's text, checked as `run` checks it).
fn cpu_view_in(tables: &str) -> CpuView {
    let text = format!("[[scenario]]\nname = \"v\"\nkind = \"visibility\"\n{tables}");
    let facts = suite::discover_host().expect("host facts");
    let s =
        suite::parse_text(&text, "t.toml", &facts).unwrap_or_else(|e| panic!("{e}\nin:\n{text}"));
    let Kind::Visibility(def) = &s.scenarios[0].kind else {
        panic!("not a visibility scenario: {text}");
    };
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let (_host, arena, id) = common::arena("cpu-view");
    let ctx = common::context(&arena, 1);
    let view = visibility::cpu_view(def, NamespaceSet::ALL, &ctx, Duration::from_secs(60)).unwrap();
    arena.remove().unwrap();
    common::assert_nothing_left(&id);
    view
}

fn count(view: &CpuView, runtime: &str) -> Reading<u64> {
    view.runtimes
        .iter()
        .find(|r| r.runtime == runtime)
        .unwrap_or_else(|| panic!("no {runtime} in {view:#?}"))
        .cpus
        .clone()
}

/// What a runtime reports where it is installed; where it is not (the v2 VM
/// has neither Java nor Node), it must read as unavailable with the reason.
fn assert_runtime(view: &CpuView, runtime: &str, expected: u64) {
    match count(view, runtime) {
        Reading::Value(n) => assert_eq!(n, expected, "{runtime} in {}", view.sandbox),
        Reading::Unavailable(why) => {
            assert!(
                why.contains("not installed") && which(runtime).is_none(),
                "{runtime} installed but unavailable: {why}"
            );
            eprintln!("{runtime}: {why}");
        }
    }
}

fn which(program: &str) -> Option<std::path::PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|d| d.join(program))
        .find(|p| p.is_file())
}

fn flagged(view: &CpuView) -> Vec<String> {
    let mut over: Vec<String> = view
        .runtimes
        .iter()
        .filter(|r| r.over_budget)
        .map(|r| r.runtime.clone())
        .collect();
    over.sort();
    over
}

/// One condition of C14: the budget, Rust, affinity, and Java 17 / Node 20
/// where installed (on this host's 2 CPUs), and which runtimes are flagged.
///
/// Java 17 (OpenJDK 17.0.15, hotspot/os/linux/cgroupSubsystem_linux.cpp
/// `active_processor_count`): ⌈quota/period⌉ of its own cgroup only, capped by
/// its cpuset (a parent's quota is read from JDK 23, JDK-8322420). Node 20
/// (`os.availableParallelism()` is libuv's `uv_available_parallelism`, the
/// affinity count; libuv reads the quota from PR #4746, not in Node 20).
/// Rust (library/std/src/sys/pal/unix/thread.rs): the affinity count capped by
/// the smallest quota/period of its cgroup and ancestors, rounded down, at least 1.
fn c14(tables: &str, budget: f64, rust: u64, java: u64, node: u64) -> CpuView {
    let v = cpu_view_in(tables);
    let cpus = std::thread::available_parallelism().unwrap().get() as u64;
    assert_eq!(cpus, 2, "C14's figures are for a 2-CPU host");
    assert_eq!(v.budget_cpus, Reading::Value(budget), "{:?}", v.budget_read);
    assert_eq!(count(&v, "rust"), Reading::Value(rust), "{}", v.sandbox);
    assert_runtime(&v, "java", java);
    assert_runtime(&v, "node", node);
    assert!(matches!(count(&v, "go"), Reading::Value(_)) || which("go").is_none());
    // The flag: a runtime counting more than ⌈budget⌉, and only such.
    let whole = budget.ceil() as u64;
    for r in &v.runtimes {
        let over = matches!(r.cpus, Reading::Value(n) if n > whole);
        assert_eq!(r.over_budget, over, "{r:?} against budget {budget}");
        if let Reading::Unavailable(why) = &r.cpus {
            assert!(!why.is_empty());
        }
    }
    let findings = visibility::findings(&v);
    assert_eq!(findings.len(), flagged(&v).len(), "{findings:?}");
    for f in &findings {
        assert!(f.contains(&format!("budget {budget:.2}")), "{f}");
    }
    v
}

const PARENT: &str = "group = \"pod\"\n[[scenario.group]]\nname = \"pod\"\n";

#[test]
fn c14_a_no_limit_every_runtime_sees_the_two_cpus_within_budget() {
    require_root!();
    let v = c14("", 2.0, 2, 2, 2);
    assert_eq!(count(&v, "affinity"), Reading::Value(2));
    assert!(flagged(&v).is_empty(), "{:?}", v.runtimes);
    assert!(
        v.budget_bound_by.contains("2 CPUs online"),
        "{}",
        v.budget_bound_by
    );
}

#[test]
fn c14_b_half_a_cpu_of_quota_flags_node_and_the_affinity_count() {
    require_root!();
    let v = c14(
        "[scenario.cpu_view]\nlimits.docker = { cpus = 0.5 }\n",
        0.5,
        1,
        1,
        2,
    );
    assert!(
        flagged(&v).contains(&"affinity".to_string()),
        "{:?}",
        v.runtimes
    );
    if which("node").is_some() {
        assert!(flagged(&v).contains(&"node".to_string()));
        assert!(
            visibility::findings(&v)
                .iter()
                .any(|f| f.contains("node sees 2 CPUs, budget 0.50"))
        );
    }
}

#[test]
fn c14_c_one_and_a_half_cpus_round_up_to_two_and_nothing_is_flagged() {
    require_root!();
    let v = c14(
        "[scenario.cpu_view]\nlimits.docker = { cpus = 1.5 }\n",
        1.5,
        1,
        2,
        2,
    );
    assert!(flagged(&v).is_empty(), "{:?}", v.runtimes);
}

#[test]
fn c14_d_a_parents_quota_binds_an_unlimited_child_and_java_17_misses_it() {
    require_root!();
    let v = c14(
        &format!("[scenario.cpu_view]\n{PARENT}limits.docker = {{ cpus = 1 }}\n"),
        1.0,
        1,
        2,
        2,
    );
    assert!(
        v.budget_bound_by.contains("group-pod"),
        "{}",
        v.budget_bound_by
    );
    assert!(v.sandbox.contains("in group pod"), "{}", v.sandbox);
    if which("java").is_some() {
        assert!(
            flagged(&v).contains(&"java".to_string()),
            "{:?}",
            v.runtimes
        );
    }
}

#[test]
fn c14_e_the_childs_quota_binds_below_its_parents() {
    require_root!();
    let v = c14(
        &format!(
            "[scenario.cpu_view]\nlimits.docker = {{ cpus = 1 }}\n{PARENT}limits.docker = {{ cpus = 2 }}\n"
        ),
        1.0,
        1,
        1,
        2,
    );
    assert!(
        v.budget_bound_by.contains("visibility-cpu-view"),
        "{}",
        v.budget_bound_by
    );
}

#[test]
fn c14_f_a_cpuset_of_one_cpu_is_seen_by_every_runtime() {
    require_root!();
    let v = c14(
        "[scenario.cpu_view]\nlimits.docker = { cpuset_cpus = \"0\" }\n",
        1.0,
        1,
        1,
        1,
    );
    assert_eq!(count(&v, "affinity"), Reading::Value(1));
    assert!(flagged(&v).is_empty(), "{:?}", v.runtimes);
    assert!(
        v.budget_bound_by.contains("cpuset of 1 CPU"),
        "{}",
        v.budget_bound_by
    );
}

/// C15: in the default suite's sandbox (one CPU, half a CPU of quota, 256 MiB),
/// /proc and sysfs show the host's 2 CPUs and its RAM; only the affinity count
/// says 1. Listed as host information, never a failed check or the budget.
#[test]
fn c15_host_figures_leak_through_proc_and_are_informational() {
    require_root!();
    let v = cpu_view_in(
        "[scenario.cpu_view]\nlimits.docker = { cpuset_cpus = \"0\", cpus = 0.5, memory = \"256MiB\" }\n",
    );
    assert_eq!(v.budget_cpus, Reading::Value(0.5));
    assert_eq!(count(&v, "affinity"), Reading::Value(1));
    let figure = |name: &str| {
        v.host_visible
            .iter()
            .find(|f| f.name.starts_with(name))
            .unwrap_or_else(|| panic!("no {name} in {:#?}", v.host_visible))
    };
    for name in [
        "/proc/cpuinfo",
        "/proc/stat",
        "/sys/devices/system/cpu/online",
        "sysconf",
    ] {
        let f = figure(name);
        assert_eq!(f.inside, Reading::Value("2".into()), "{f:?}");
        assert!(f.host_value_shown, "{f:?}");
    }
    let host_ram = std::fs::read_to_string("/proc/meminfo").unwrap();
    let host_kb: u64 = host_ram
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|r| r.trim().strip_suffix("kB"))
        .and_then(|n| n.trim().parse().ok())
        .unwrap();
    for name in ["/proc/meminfo MemTotal", "sysinfo(2) totalram"] {
        let f = figure(name);
        let Reading::Value(inside) = &f.inside else {
            panic!("{f:?}");
        };
        let inside: u64 = inside.parse().unwrap();
        assert!(inside > 256 << 20, "{f:?}");
        assert!(f.host_value_shown && f.inside == f.host, "{f:?}");
        if name.contains("MemTotal") {
            assert_eq!(inside, host_kb * 1024);
        }
    }
    assert!(figure("sysinfo(2) procs").host_value_shown);
    // Informational: the findings name runtimes only, never a host figure.
    for f in visibility::findings(&v) {
        assert!(!f.contains("cpuinfo") && !f.contains("MemTotal"), "{f}");
    }
}

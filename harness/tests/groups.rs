//! Groups of sandboxes (issue 15): scenarios whose sandboxes sit in nested
//! cgroups with weights and quotas of their own, run for real (root only; CI
//! runs them here on cgroup v1/hybrid and in the cgroup v2 VM). Each sandbox's
//! and group's measured CPU share must land on the share expected through the
//! hierarchy (`scenario::expected`).
//!
//! Weights only decide where CPUs are contended, so the weighted trees are
//! confined to one CPU by a cpuset on their top group: the idlest CPU of the
//! host, found just before. This host is shared, so the test's arena is given
//! the top weight among the harness's cgroup's children (its own cgroup, a
//! write of `cpu.shares` 262144 or `cpu.weight` 10000): what other work takes of
//! that CPU then stays under half a percent, and the split beneath the arena,
//! which is what is judged, is the kernel's alone.

mod common;

use isobench::scenario::{RunContext, isolation};
use isobench::suite::{self, Kind};
use isobench::workload;
use isobench_reports::schema::{Condition, ScenarioResult};
use isobench_workloads::report::Calibration;

/// Parses a suite of one isolation scenario, `[scenario]` body `body`: two
/// rounds of solo and isolated, 1.5 s windows, sandboxes without namespaces
/// (they have no bearing on CPU shares, and a sandbox that starts on a pinned,
/// busy CPU starts slowly under the v2 VM's emulated CPU: an aggressor started
/// before it would end before the window's end). Aggressors are listed from the
/// smallest share to the largest, as they start, for the same reason.
fn spec(body: &str) -> isolation::IsolationSpec {
    let text = format!(
        "[defaults]\nrounds = 2\nduration = 1.5\nwarmup = 0.3\n\n[[scenario]]\nname = \"t\"\nkind = \"isolation\"\nconditions = [\"solo\", \"isolated\"]\nnamespaces = []\n{body}"
    );
    let host = suite::discover_host().expect("host facts");
    let s = suite::parse_text(&text, "t.toml", &host).unwrap_or_else(|e| panic!("{e}"));
    let def = s.scenarios.into_iter().next().unwrap();
    let Kind::Isolation(iso) = def.kind else {
        panic!("not an isolation scenario")
    };
    isolation::IsolationSpec {
        name: def.name,
        timing: def.timing,
        def: *iso,
    }
}

/// The CPUs this process may run on.
fn cpus_allowed() -> usize {
    isobench_workloads::cpu_hog::cpus_allowed()
}

/// The CPU that was idlest over the last 300 ms (/proc/stat `cpuN` lines).
fn idlest_cpu() -> u32 {
    let read = || -> Vec<(u32, u64, u64)> {
        std::fs::read_to_string("/proc/stat")
            .unwrap()
            .lines()
            .filter_map(|l| {
                let mut f = l.split_whitespace();
                let cpu: u32 = f.next()?.strip_prefix("cpu")?.parse().ok()?;
                let v: Vec<u64> = f.filter_map(|x| x.parse().ok()).collect();
                let total: u64 = v.iter().sum();
                let idle = v.get(3).copied().unwrap_or(0) + v.get(4).copied().unwrap_or(0);
                Some((cpu, total, idle))
            })
            .collect()
    };
    let a = read();
    std::thread::sleep(std::time::Duration::from_millis(300));
    let b = read();
    let online = isobench::cgroup::CpuList::online().unwrap();
    a.iter()
        .zip(&b)
        .filter(|((cpu, ..), _)| online.cpus().contains(cpu))
        .map(|((cpu, t0, i0), (_, t1, i1))| {
            let busy = 1.0 - (i1 - i0) as f64 / (t1 - t0).max(1) as f64;
            (*cpu, busy)
        })
        .min_by(|x, y| x.1.total_cmp(&y.1))
        .map_or(0, |(cpu, _)| cpu)
}

/// Runs `spec` in a fresh arena with the top weight beside its siblings,
/// removes the arena, and checks that no cgroup of it is left. Runs take
/// turns (`cargo test` runs a binary's tests on threads side by side): they
/// must not load each other's CPUs.
fn run(test: &str, spec: &isolation::IsolationSpec) -> ScenarioResult {
    let _turn = common::take_turn();
    let (_host, arena, id) = common::arena(test);
    common::top_weight(&arena);
    let result = {
        let ctx = RunContext {
            arena: &arena,
            workload_bin: workload::locate().unwrap(),
            calibration: Calibration {
                iters_per_unit: 1,
                unit_ns: 100_000,
            },
            cpus_allowed: cpus_allowed(),
            work_dir: std::env::temp_dir(),
        };
        isolation::run(spec, &ctx, &mut common::Quiet)
    };
    arena.remove().expect("removing the arena");
    common::assert_nothing_left(&id);
    result
}

/// Runs `spec` (as [`run`]) until the CPU its weighted tree is pinned to was
/// the arena's: the isolated shares of `top` groups (the tree's top groups,
/// confined to one CPU) add up to at least 0.985 CPU in every valid round.
/// Less means the host took that CPU from the whole tree (interrupts, steal
/// time, other work: this host is a shared VM, and the v2 VM's emulated
/// interrupts cost a few percent of a CPU), which says nothing of the split
/// beneath. At most 4 tries; returns the best one and the CPU the tree got
/// there (1 when it got it all): the split is judged within that.
fn run_on_a_quiet_cpu(
    test: &str,
    spec: &isolation::IsolationSpec,
    top: &[&str],
) -> (ScenarioResult, f64) {
    let mut best: Option<(ScenarioResult, f64)> = None;
    for _ in 0..4 {
        let r = run(test, spec);
        let per_round = |g: &str| -> Vec<Option<f64>> {
            r.metrics
                .iter()
                .find(|m| {
                    m.name == format!("{g}.cpu_share") && m.condition == Some(Condition::Isolated)
                })
                .map_or_else(Vec::new, |m| m.per_round.clone())
        };
        let rounds = per_round(top[0]).len();
        let delivered: Vec<f64> = (0..rounds)
            .filter_map(|i| {
                top.iter()
                    .map(|g| per_round(g).get(i).copied().flatten())
                    .sum()
            })
            .collect();
        let lowest = delivered.iter().copied().fold(f64::INFINITY, f64::min);
        if !delivered.is_empty() && lowest >= 0.985 {
            return (r, 1.0);
        }
        let invalid: Vec<&str> = r
            .rounds
            .iter()
            .flat_map(|round| &round.conditions)
            .filter_map(|c| c.invalid.as_deref())
            .collect();
        eprintln!(
            "the pinned CPU gave the tree {delivered:.3?} CPU in the valid rounds (invalid: {invalid:?}): \
             the host took some; trying again"
        );
        let mean = delivered.iter().sum::<f64>() / delivered.len().max(1) as f64;
        if !delivered.is_empty() && best.as_ref().is_none_or(|(_, b)| mean > *b) {
            best = Some((r, mean));
        }
    }
    best.expect("no try had a valid isolated round")
}

/// Metric `name` (isolated) of `r`, with a message naming the metrics there are.
fn isolated(r: &ScenarioResult, name: &str) -> Option<f64> {
    r.metrics
        .iter()
        .find(|m| m.name == name && m.condition == Some(Condition::Isolated))
        .unwrap_or_else(|| panic!("no metric {name} in {:#?}", r.metrics))
        .value
}

/// The band a measured share must fall in around the expected one, CPUs:
/// `default`, or `ISOBENCH_SHARE_TOLERANCE` (0.05 under the v2 VM's emulated CPU).
fn tolerance(default: f64) -> f64 {
    std::env::var("ISOBENCH_SHARE_TOLERANCE")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// For each of `names` (a sandbox, or `group.<name>`): measured and expected
/// isolated share, printed as a table; panics naming every one outside `band`
/// of its expected share × `delivered` (the part of their pinned CPU the host
/// left the tree, [`run_on_a_quiet_cpu`]; 1 when it left it all).
fn judge(r: &ScenarioResult, names: &[&str], band: f64, delivered: f64) {
    assert_eq!(
        r.status,
        isobench_reports::schema::ScenarioStatus::Complete,
        "{:?}",
        r.status
    );
    let mut table = vec![format!(
        "{:<24} {:>9} {:>9} {:>8}",
        "cgroup", "measured", "expected", "error pp"
    )];
    if delivered < 1.0 {
        table[0].push_str(&format!(" {:>9}", "× got"));
    }
    let mut wrong = Vec::new();
    for n in names {
        let measured = isolated(r, &format!("{n}.cpu_share")).unwrap_or_else(|| {
            let invalid: Vec<&str> = r
                .rounds
                .iter()
                .flat_map(|round| &round.conditions)
                .filter_map(|c| c.invalid.as_deref())
                .collect();
            panic!("no measured share of {n}; invalid conditions: {invalid:?}")
        });
        let expected = isolated(r, &format!("{n}.cpu_share_expected")).unwrap_or_else(|| {
            panic!(
                "no expected share of {n}: {:?}",
                r.metrics
                    .iter()
                    .find(|m| m.name == format!("{n}.cpu_share_expected"))
            )
        });
        let error_pp = isolated(r, &format!("{n}.cpu_share_error_pp")).expect("error");
        let mut row = format!("{n:<24} {measured:>9.4} {expected:>9.4} {error_pp:>8.2}");
        if delivered < 1.0 {
            row.push_str(&format!(" {:>9.4}", expected * delivered));
        }
        table.push(row);
        if (measured - expected * delivered).abs() > band {
            wrong.push(format!(
                "{n}: measured {measured:.4}, expected {expected:.4} × {delivered:.4} CPUs"
            ));
        }
    }
    // The table is the proof the issue asks for: `--nocapture` shows it.
    let got = if delivered < 1.0 {
        format!(
            "; the host left the pinned tree {delivered:.4} of its CPU in every try, so each \
             share is judged against expected × {delivered:.4} (× got)"
        )
    } else {
        String::new()
    };
    println!("{}\n(band ±{:.1} pp{got})", table.join("\n"), band * 100.0);
    assert!(
        wrong.is_empty(),
        "outside ±{band} CPUs:\n{}\n{}",
        wrong.join("\n"),
        table.join("\n")
    );
}

/// Skips a test that needs two CPUs (one for the pinned tree, one for the rest).
macro_rules! require_two_cpus {
    () => {
        if cpus_allowed() < 2 {
            eprintln!("skipped: needs 2 CPUs (the weighted tree on one, the harness on another)");
            return;
        }
    };
}

#[test]
fn three_levels_of_weights_split_one_cpu_as_expected() {
    require_root!();
    require_two_cpus!();
    let cpu = idlest_cpu();
    // arena → kube (cpu.weight 313) → pod → a (200) and b (100), beside system (100) → s;
    // kube and system confined to one CPU, so that the weights decide.
    let s = spec(&format!(
        r#"
[scenario.victim]
workload = "wakeup-latency"
rate = 100
[[scenario.aggressor]]
name = "s"
workload = "cpu-hog"
args = ["--threads", "1"]
group = "system"
[[scenario.aggressor]]
name = "b"
workload = "cpu-hog"
args = ["--threads", "1"]
group = "pod"
limits.cgroup = {{ "cpu.weight" = 100 }}
[[scenario.aggressor]]
name = "a"
workload = "cpu-hog"
args = ["--threads", "1"]
group = "pod"
limits.cgroup = {{ "cpu.weight" = 200 }}
[[scenario.group]]
name = "kube"
limits.cgroup = {{ "cpu.weight" = 313, "cpuset.cpus" = "{cpu}" }}
[[scenario.group]]
name = "system"
limits.cgroup = {{ "cpu.weight" = 100, "cpuset.cpus" = "{cpu}" }}
[[scenario.group]]
name = "pod"
parent = "kube"
"#
    ));
    let (r, delivered) = run_on_a_quiet_cpu("groups-weights", &s, &["group.kube", "group.system"]);
    judge(
        &r,
        &["group.kube", "group.system", "group.pod", "a", "b", "s"],
        tolerance(0.02),
        delivered,
    );
    // On v2 the weights are written as they are: 313:100. On v1 they become
    // shares by the inverse of the runtimes' formula, 4276:1024 (and 200:100
    // becomes 2451:1024): not the same split, and the expectation follows the
    // files written.
    let kube = isolated(&r, "group.kube.cpu_share_expected").unwrap();
    let layout = isobench::cgroup::CgroupHost::discover().unwrap().layout;
    let want = if layout == isobench::cgroup::Layout::V2 {
        313.0 / 413.0
    } else {
        4276.0 / 5300.0
    };
    assert!((kube - want).abs() < 0.002, "{layout}: {kube}");
    let victim = r
        .metrics
        .iter()
        .find(|m| m.name == "victim.cpu_share_expected")
        .unwrap();
    assert_eq!(victim.value, None);
    assert!(
        victim
            .reason
            .as_deref()
            .unwrap()
            .contains("not known ahead"),
        "{victim:?}"
    );
}

#[test]
fn a_kubelet_pod_and_its_tiers_split_one_cpu_as_the_kubelet_weights_say() {
    require_root!();
    require_two_cpus!();
    let cpu = idlest_cpu();
    // node (one CPU) → kubepods (8 allocatable CPUs, linear formula) → burstable →
    // pod → containers asking 500m and 250m; beside system.slice (cpu.weight 100) → s.
    let s = spec(&format!(
        r#"
[scenario.victim]
workload = "wakeup-latency"
rate = 100
[[scenario.aggressor]]
name = "daemon"
workload = "cpu-hog"
args = ["--threads", "1"]
group = "system"
[[scenario.aggressor]]
name = "sidecar"
workload = "cpu-hog"
args = ["--threads", "1"]
group = "pod"
limits.kubernetes = {{ "requests.cpu" = "250m" }}
[[scenario.aggressor]]
name = "app"
workload = "cpu-hog"
args = ["--threads", "1"]
group = "pod"
limits.kubernetes = {{ "requests.cpu" = "500m" }}
[[scenario.group]]
name = "node"
limits.cgroup = {{ "cpuset.cpus" = "{cpu}" }}
[[scenario.group]]
name = "kubepods"
parent = "node"
kubelet = {{ level = "node", allocatable_cpu = "8", weight_formula = "linear" }}
[[scenario.group]]
name = "system"
parent = "node"
limits.cgroup = {{ "cpu.weight" = 100 }}
[[scenario.group]]
name = "burstable"
parent = "kubepods"
kubelet = {{ level = "burstable" }}
[[scenario.group]]
name = "pod"
parent = "burstable"
kubelet = {{ level = "pod" }}
"#
    ));
    let (r, delivered) = run_on_a_quiet_cpu("groups-kubelet", &s, &["group.node"]);
    judge(
        &r,
        &[
            "group.node",
            "group.kubepods",
            "group.system",
            "group.burstable",
            "group.pod",
            "app",
            "sidecar",
            "daemon",
        ],
        tolerance(0.02),
        delivered,
    );
    // v1: 8192 shares against 1024 (8:1); v2: weight 313 against 100.
    let kubepods = isolated(&r, "group.kubepods.cpu_share_expected").unwrap();
    let layout = isobench::cgroup::CgroupHost::discover().unwrap().layout;
    let want = if layout == isobench::cgroup::Layout::V2 {
        313.0 / 413.0
    } else {
        8.0 / 9.0
    };
    assert!((kubepods - want).abs() < 0.002, "{layout}: {kubepods}");
}

#[test]
fn a_parent_quota_holds_an_unlimited_child_to_half_a_cpu() {
    require_root!();
    let s = spec(
        r#"
[scenario.victim]
workload = "wakeup-latency"
rate = 100
[[scenario.aggressor]]
name = "hog"
workload = "cpu-hog"
args = ["--threads", "2"]
group = "pod"
[[scenario.group]]
name = "pod"
limits.cgroup = { "cpu.max" = "50000 100000" }
"#,
    );
    let r = run("groups-quota", &s);
    judge(&r, &["group.pod", "hog"], tolerance(0.01), 1.0);
    assert_eq!(isolated(&r, "group.pod.cpu_share_expected"), Some(0.5));
    let throttled = isolated(&r, "group.pod.throttled_ratio").unwrap();
    assert!(
        throttled > 0.5,
        "a 2-thread hog under 0.5 CPU is throttled: {throttled}"
    );
}

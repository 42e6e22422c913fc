//! Suite files: every kind of mistake is reported with its file, line, column
//! and field, all of a file's mistakes at once; the embedded suites are valid
//! on every layout; arbitrary text never panics the checker.

use isobench::cgroup::Layout;
use isobench::suite::{self, HostFacts, SuiteErrors};

/// A 2-CPU host of `layout` (CPUs 0 and 1 online).
fn host(layout: Layout) -> HostFacts {
    HostFacts {
        layout,
        online_cpus: "0-1".parse().unwrap(),
        block_devices: Vec::new(),
        missing_knobs: Vec::new(),
    }
}

fn errors(text: &str) -> SuiteErrors {
    match suite::parse_text(text, "t.toml", &host(Layout::Hybrid)) {
        Ok(s) => panic!("accepted:\n{text}\nas {s:?}"),
        Err(e) => e,
    }
}

/// A valid isolation scenario to break one piece of.
const BASE: &str = r#"[[scenario]]
name = "s"
kind = "isolation"
[scenario.victim]
workload = "cpu-units"
cpus = 0.5
[[scenario.aggressor]]
workload = "cpu-hog"
"#;

/// BASE with `from` replaced by `to` (asserting `from` is there).
fn base_with(from: &str, to: &str) -> String {
    assert!(BASE.contains(from), "{from:?} not in BASE");
    BASE.replacen(from, to, 1)
}

#[test]
fn the_base_scenario_is_valid() {
    let s = suite::parse_text(BASE, "t.toml", &host(Layout::Hybrid)).unwrap();
    assert_eq!(s.scenarios.len(), 1);
    assert_eq!(s.name, "suite");
}

/// Case C12: a scenario without a neighbour measures what the victim's own
/// limits cost it, solo against isolated.
#[test]
fn a_scenario_without_a_neighbour_runs_solo_and_isolated() {
    let text = BASE.split("[[scenario.aggressor]]").next().unwrap();
    let s = suite::parse_text(text, "t.toml", &host(Layout::Hybrid)).unwrap();
    let suite::Kind::Isolation(def) = &s.scenarios[0].kind else {
        panic!("not an isolation scenario");
    };
    assert!(def.aggressors.is_empty());
    use isobench_reports::schema::Condition;
    assert_eq!(def.conditions, [Condition::Solo, Condition::Isolated]);
}

/// (case, text, line, column, field, part of the message)
fn broken() -> Vec<(
    &'static str,
    String,
    usize,
    usize,
    &'static str,
    &'static str,
)> {
    vec![
        ("syntax", "rounds = \n".into(), 1, 10, "syntax", ""),
        ("unknown top key", format!("scenarios = 1\n{BASE}"), 1, 1, "scenarios", "did you mean `scenario`?"),
        ("unknown defaults key", format!("[defaults]\nround = 3\n{BASE}"), 2, 1, "defaults.round", "did you mean `rounds`?"),
        ("rounds zero", format!("[defaults]\nrounds = 0\n{BASE}"), 2, 10, "defaults.rounds", "expected 1 to 1000"),
        ("rounds wrong type", format!("[defaults]\nrounds = \"five\"\n{BASE}"), 2, 10, "defaults.rounds", "is string: expected a whole number"),
        ("duration too short", format!("[defaults]\nduration = 0.01\n{BASE}"), 2, 12, "defaults.duration", "expected 0.1 to 3600 seconds"),
        ("warmup negative", format!("[defaults]\nwarmup = -1\n{BASE}"), 2, 10, "defaults.warmup", "out of range"),
        ("size not a size", format!("[defaults]\narena_memory = \"2 bananas\"\n{BASE}"), 2, 16, "defaults.arena_memory", "is not a size"),
        ("no scenario", "name = \"x\"\n".into(), 1, 1, "scenario", "has no scenario"),
        ("empty scenario array", "scenario = []\n".into(), 1, 1, "scenario", "has no scenario"),
        ("cpu.max above the kernel's maximum", format!("{BASE}[scenario.aggressor.limits.cgroup]\n\"cpu.max\" = \"9223372036854775807 100000\"\n"), 10, 13, "scenario.aggressor.limits.cgroup.cpu.max", "maximum"),
        ("pids above PID_MAX_LIMIT", format!("{BASE}[scenario.aggressor.limits.docker]\npids_limit = 4194305\n"), 10, 14, "scenario.aggressor.limits.docker.pids_limit", "PID_MAX_LIMIT"),
        ("hex read with its radix", base_with("cpus = 0.5", "cpus = 0x401"), 6, 8, "scenario.victim.cpus", "1025 is out of range"),
        ("scenario without name", BASE.replacen("name = \"s\"\n", "", 1), 1, 1, "scenario.name", "missing"),
        ("bad scenario name", base_with("name = \"s\"", "name = \"CPU Share\""), 2, 8, "scenario.name", "is not a scenario name"),
        ("duplicate scenario", format!("{BASE}{BASE}"), 10, 8, "scenario.name", "names two scenarios"),
        ("unknown kind", base_with("\"isolation\"", "\"isolaton\""), 3, 8, "scenario.kind", "did you mean `isolation`?"),
        ("key of another kind", base_with("kind = \"isolation\"", "kind = \"isolation\"\nsamples = 3"), 4, 1, "scenario.samples", "unknown key"),
        ("isolation without victim", "[[scenario]]\nname = \"s\"\nkind = \"isolation\"\n[[scenario.aggressor]]\nworkload = \"cpu-hog\"\n".into(), 1, 1, "scenario.victim", "needs a [scenario.victim]"),
        ("contended without a neighbour", "[[scenario]]\nname = \"s\"\nkind = \"isolation\"\nconditions = [\"solo\", \"contended\"]\n[scenario.victim]\nworkload = \"cpu-units\"\ncpus = 0.5\n".into(), 4, 23, "scenario.conditions", "\"contended\" needs a neighbour"),
        ("victim typo", base_with("\"cpu-units\"", "\"cpu-unit\""), 5, 12, "scenario.victim.workload", "did you mean `cpu-units`?"),
        ("aggressor is a victim", base_with("\"cpu-hog\"", "\"cpu-units\""), 8, 12, "scenario.aggressor.workload", "is not an aggressor workload"),
        ("victim key typo", base_with("cpus = 0.5", "cpus = 0.5\nworklaod = 1"), 7, 1, "scenario.victim.worklaod", "did you mean `workload`?"),
        ("cpus on another victim", base_with("\"cpu-units\"", "\"wakeup-latency\""), 6, 8, "scenario.victim.cpus", "cpu-units only"),
        ("cpus and rate", base_with("cpus = 0.5", "cpus = 0.5\nrate = 100"), 7, 8, "scenario.victim.rate", "not both"),
        ("no demand", base_with("cpus = 0.5\n", ""), 4, 1, "scenario.victim.rate", "missing"),
        ("rate zero", base_with("cpus = 0.5", "rate = 0"), 6, 8, "scenario.victim.rate", "expected 0.1 to 1000000"),
        ("args set by isobench", base_with("cpus = 0.5", "cpus = 0.5\nargs = [\"--duration\", \"9\"]"), 7, 9, "scenario.victim.args", "--duration is set by isobench"),
        ("args the applet refuses", base_with("workload = \"cpu-hog\"", "workload = \"cpu-hog\"\nargs = [\"--bogus\"]"), 9, 8, "scenario.aggressor.args", "cpu-hog refuses these arguments"),
        ("args not strings", base_with("workload = \"cpu-hog\"", "workload = \"cpu-hog\"\nargs = [1]"), 9, 9, "scenario.aggressor.args", "is not a string"),
        ("count zero", base_with("workload = \"cpu-hog\"", "workload = \"cpu-hog\"\ncount = 0"), 9, 9, "scenario.aggressor.count", "expected 1 to 64"),
        ("count huge", base_with("workload = \"cpu-hog\"", "workload = \"cpu-hog\"\ncount = 100000"), 9, 9, "scenario.aggressor.count", "expected 1 to 64"),
        ("unknown namespace", base_with("kind = \"isolation\"", "kind = \"isolation\"\nnamespaces = [\"pid\", \"pidd\"]"), 4, 22, "scenario.namespaces", "unknown namespace \"pidd\""),
        ("conditions without solo", base_with("kind = \"isolation\"", "kind = \"isolation\"\nconditions = [\"isolated\"]"), 4, 14, "scenario.conditions", "`solo` is missing"),
        ("unknown condition", base_with("kind = \"isolation\"", "kind = \"isolation\"\nconditions = [\"solo\", \"alone\"]"), 4, 23, "scenario.conditions", "unknown condition \"alone\""),
        ("condition twice", base_with("kind = \"isolation\"", "kind = \"isolation\"\nconditions = [\"solo\", \"solo\"]"), 4, 23, "scenario.conditions", "given twice"),
        ("aggressor named victim", base_with("workload = \"cpu-hog\"", "workload = \"cpu-hog\"\nname = \"victim\""), 9, 8, "scenario.aggressor.name", "is taken"),
        ("two vocabularies", format!("{BASE}[scenario.aggressor.limits.docker]\ncpus = 1\n[scenario.aggressor.limits.kubernetes]\n\"limits.cpu\" = \"1\"\n"), 11, 1, "scenario.aggressor.limits.kubernetes", "two vocabularies"),
        ("unknown vocabulary", format!("{BASE}[scenario.aggressor.limits.podman]\ncpus = 1\n"), 9, 28, "scenario.aggressor.limits.podman", "unknown key"),
        ("working set above arena", "[[scenario]]\nname = \"m\"\nkind = \"memory-pressure\"\narena_memory = \"256MiB\"\nworking_set = \"512MiB\"\n".into(), 5, 15, "scenario", "working set"),
        ("samples zero", "[[scenario]]\nname = \"st\"\nkind = \"startup-latency\"\nsamples = 0\n".into(), 4, 11, "scenario.samples", "expected 1 to 100000"),
        ("margin of no metric", format!("[defaults.margins]\nmetrics = {{ \"victim.speed\" = 1.1 }}\n{BASE}"), 2, 13, "defaults.margins.metrics.victim.speed", "is not a gated metric"),
        ("margin of no scenario", format!("[defaults.margins.scenarios.nope]\n\"victim.latency_impact_p99\" = 1.2\n{BASE}"), 1, 29, "defaults.margins.scenarios", "no scenario of this suite"),
        ("quota below 1 ms", format!("{BASE}[scenario.aggressor.limits.cgroup]\n\"cpu.max\" = \"500 100000\"\n"), 10, 13, "scenario.aggressor.limits.cgroup.cpu.max", "1000"),
        ("period above 1 s", format!("{BASE}[scenario.aggressor.limits.cgroup]\n\"cpu.max\" = \"50000 2000000\"\n"), 10, 13, "scenario.aggressor.limits.cgroup.cpu.max", "1000000"),
        ("weight out of range", format!("{BASE}[scenario.aggressor.limits.cgroup]\n\"cpu.weight\" = 0\n"), 10, 16, "scenario.aggressor.limits.cgroup.cpu.weight", "10000"),
        ("shares out of range", format!("{BASE}[scenario.aggressor.limits.docker]\ncpu_shares = 1\n"), 10, 14, "scenario.aggressor.limits.docker.cpu_shares", "262144"),
        ("size not parseable", format!("{BASE}[scenario.aggressor.limits.docker]\nmemory = \"lots\"\n"), 10, 10, "scenario.aggressor.limits.docker.memory", "lots"),
        ("cpuset the host lacks", format!("{BASE}[scenario.aggressor.limits.docker]\ncpuset_cpus = \"0-7\"\n"), 10, 15, "scenario.aggressor.limits.docker.cpuset_cpus", "2-7"),
        ("oom.group on hybrid", format!("{BASE}[scenario.aggressor.limits.cgroup]\n\"memory.oom.group\" = 1\n"), 10, 22, "scenario.aggressor.limits.cgroup.memory.oom.group", "memory.oom.group is not supported on hybrid (cgroup v1 has no group OOM kill"),
        ("burst above the quota", format!("{BASE}[scenario.aggressor.limits.cgroup]\n\"cpu.max\" = \"50000 100000\"\n\"cpu.max.burst\" = 60000\n"), 11, 19, "scenario.aggressor.limits.cgroup.cpu.max.burst", "a burst of 60000 µs is above the quota of 50000 µs per 100000 µs period: the kernel refuses it with EINVAL"),
        ("burst without a quota", format!("{BASE}[scenario.aggressor.limits.cgroup]\n\"cpu.max.burst\" = 50000\n"), 10, 19, "scenario.aggressor.limits.cgroup.cpu.max.burst", "a burst without a quota does nothing"),
        ("burst as an unquoted dotted key", format!("{BASE}[scenario.aggressor.limits.cgroup]\ncpu.max = \"50000 100000\"\ncpu.max.burst = 50000\n"), 11, 5, "syntax", "quote it, e.g. \"cpu.max.burst\" = 50000"),
        ("cpu.idle not 0 or 1", format!("{BASE}[scenario.aggressor.limits.cgroup]\n\"cpu.idle\" = 2\n"), 10, 14, "scenario.aggressor.limits.cgroup.cpu.idle", "2 is not 0 or 1"),
        ("weight for an idle group", format!("{BASE}[scenario.aggressor.limits.cgroup]\n\"cpu.idle\" = 1\n\"cpu.shares\" = 10\n"), 11, 16, "scenario.aggressor.limits.cgroup.cpu.shares", "a weight for an idle group (`cpu.idle` = 1): the kernel refuses it with EINVAL"),
        ("knob the layout lacks", format!("{BASE}[scenario.aggressor.limits.cgroup]\n\"memory.high\" = \"1GiB\"\n"), 10, 17, "scenario.aggressor.limits.cgroup.memory.high", "not supported on hybrid"),
        ("docker typo", format!("{BASE}[scenario.aggressor.limits.docker]\ncpu = 1.5\n"), 10, 7, "scenario.aggressor.limits.docker.cpu", "cpus"),
        ("kubernetes quantity", format!("{BASE}[scenario.aggressor.limits.kubernetes]\n\"limits.cpu\" = \"half\"\n"), 10, 16, "scenario.aggressor.limits.kubernetes.limits.cpu", "half"),
        ("command not found", base_with("workload = \"cpu-hog\"", "command = [\"no-such-tool-xyz\", \"-v\"]"), 8, 11, "scenario.aggressor.command", "program \"no-such-tool-xyz\" not found: searched PATH "),
        ("command not executable", base_with("workload = \"cpu-hog\"", "command = [\"/etc/passwd\"]"), 8, 11, "scenario.aggressor.command", "/etc/passwd: not executable"),
        ("command empty", base_with("workload = \"cpu-hog\"", "command = []"), 8, 11, "scenario.aggressor.command", "an empty command"),
        ("command and workload", base_with("workload = \"cpu-hog\"", "workload = \"cpu-hog\"\ncommand = [\"sh\"]"), 8, 12, "scenario.aggressor.workload", "either `workload`"),
        ("command with args", base_with("workload = \"cpu-hog\"", "command = [\"sh\"]\nargs = [\"-c\"]"), 9, 8, "scenario.aggressor.args", "go in `command`"),
        ("cwd missing", base_with("workload = \"cpu-hog\"", "command = [\"sh\"]\ncwd = \"/no/such/dir\""), 9, 7, "scenario.aggressor.cwd", "is not a directory"),
        ("env not strings", base_with("workload = \"cpu-hog\"", "command = [\"sh\"]\nenv = { A = 1 }"), 9, 13, "scenario.aggressor.env.A", "a string"),
        ("mode unknown", base_with("workload = \"cpu-units\"\ncpus = 0.5", "command = [\"sh\"]\nmode = \"loop\""), 6, 8, "scenario.victim.mode", "expected one of runs, service, reports"),
        ("rate for runs", base_with("workload = \"cpu-units\"\ncpus = 0.5", "command = [\"sh\"]\nrate = 10"), 6, 8, "scenario.victim.rate", "keeps its own"),
        ("service without port", base_with("workload = \"cpu-units\"\ncpus = 0.5", "command = [\"sh\"]\nmode = \"service\"\nrate = 10\nservice = { protocol = \"http\" }"), 8, 11, "scenario.victim.service.port", "missing"),
        ("tcp without reply", base_with("workload = \"cpu-units\"\ncpus = 0.5", "command = [\"sh\"]\nmode = \"service\"\nrate = 10\nservice = { port = 9, protocol = \"tcp\", send = \"x\" }"), 8, 11, "scenario.victim.service.reply_bytes", "missing"),
        ("format for runs", base_with("workload = \"cpu-units\"\ncpus = 0.5", "command = [\"sh\"]\nformat = \"json\""), 6, 10, "scenario.victim.format", "for mode = \"reports\" only"),
        ("mode for an applet", base_with("cpus = 0.5", "cpus = 0.5\nmode = \"runs\""), 7, 8, "scenario.victim.mode", "for a command victim"),
        ("margin on the good side", format!("[defaults.margins]\nmetrics = {{ \"victim.latency_impact_p99\" = 0.9 }}\n{BASE}"), 2, 13, "defaults.margins.metrics.victim.latency_impact_p99", "a ratio above 1"),
        // Groups (issue 15): each mistake at its place.
        ("group parent unknown", groups_with("parent = \"kube\"", "parent = \"kub\""), 19, 10, "scenario.group.parent", "no group \"kub\"; did you mean `kube`?"),
        ("group cycle", groups_with("name = \"kube\"\n", "name = \"kube\"\nparent = \"pod\"\n"), 13, 10, "scenario.group.parent", "the groups form a cycle (kube -> pod -> kube)"),
        ("group its own parent", groups_with("name = \"system\"\n", "name = \"system\"\nparent = \"system\"\n"), 16, 10, "scenario.group.parent", "cycle (system -> system)"),
        ("groups too deep", deep_groups(5), 23, 10, "scenario.group.parent", "is 5 levels below the arena (g1 / g2 / g3 / g4 / g5): at most 4"),
        ("group knob the layout lacks", groups_with("limits.cgroup = { \"cpu.weight\" = 100 }", "limits.cgroup = { \"memory.high\" = \"1GiB\" }"), 16, 35, "scenario.group.limits.cgroup.memory.high", "not supported on hybrid"),
        ("child quota above its group's", groups_with("group = \"pod\"\n", "group = \"pod\"\nlimits.docker = { cpus = 1.5 }\n"), 11, 17, "scenario.aggressor.limits", "aggressor asks for more than its group \"pod\" allows: a CPU quota of 1.5 CPUs above the group's 1"),
        ("child group quota above an ancestor's", groups_with("limits.cgroup = { \"cpu.weight\" = 313 }", "limits.cgroup = { \"cpu.max\" = \"50000 100000\" }"), 20, 17, "scenario.group.limits", "group \"pod\" asks for more than its group \"kube\" allows: a CPU quota of 1 CPUs above the group's 0.5"),
        ("child cpuset outside its group's", groups_with("group = \"pod\"\n", "group = \"pod\"\nlimits.docker = { cpuset_cpus = \"1\" }\n").replace("cpus = 1 }", "cpus = 1, cpuset_cpus = \"0\" }"), 11, 17, "scenario.aggressor.limits", "cpuset 1 has CPUs 1 outside the group's 0"),
        ("sandbox in no such group", groups_with("group = \"system\"", "group = \"sytem\""), 7, 9, "scenario.victim.group", "no group \"sytem\"; did you mean `system`?"),
        ("group named like a sandbox", groups_with("name = \"system\"", "name = \"aggressor\"").replace("group = \"system\"", "group = \"aggressor\""), 15, 8, "scenario.group.name", "is the name of a sandbox"),
        ("group twice", format!("{}[[scenario.group]]\nname = \"kube\"\n", groups_with("", "")), 22, 8, "scenario.group.name", "names two groups"),
        ("group without sandbox", format!("{}[[scenario.group]]\nname = \"idle\"\n", groups_with("", "")), 22, 8, "scenario.group.name", "holds no sandbox"),
        ("group with limits and kubelet", groups_with("limits.docker = { cpus = 1 }", "limits.docker = { cpus = 1 }\nkubelet = { level = \"pod\" }"), 21, 11, "scenario.group.kubelet", "either `limits` or `kubelet`"),
        ("kubelet guaranteed tier", kubelet_with("level = \"burstable\"", "level = \"guaranteed\""), 19, 21, "scenario.group.kubelet.level", "no cgroup for the Guaranteed tier"),
        ("kubelet node without allocatable", kubelet_with("level = \"node\", allocatable_cpu = \"8\"", "level = \"node\""), 15, 11, "scenario.group.kubelet.allocatable_cpu", "missing"),
        ("kubelet container in docker words", kubelet_with("limits.kubernetes = { \"requests.cpu\" = \"250m\" }", "limits.docker = { cpus = 0.25 }"), 12, 17, "scenario.aggressor.limits", "give its limits in kubernetes words"),
        ("kubelet guaranteed pod in the burstable tier", guaranteed_pod(), 22, 10, "scenario.group.parent", "\"pod\" is a Guaranteed pod: the kubelet's burstable tier \"burstable\" holds Burstable pods only"),
        ("kubelet formula unknown", kubelet_with("\"linear\"", "\"cubic\""), 15, 69, "scenario.group.kubelet.weight_formula", "unknown formula \"cubic\""),
    ]
}

/// A valid scenario with three levels of groups: `kube` (weight 313) holding
/// `pod` (docker cpus = 1) holding the aggressor, beside `system` (weight 100)
/// holding the victim.
const GROUPS: &str = r#"[[scenario]]
name = "s"
kind = "isolation"
[scenario.victim]
workload = "cpu-units"
cpus = 0.5
group = "system"
[[scenario.aggressor]]
workload = "cpu-hog"
group = "pod"
[[scenario.group]]
name = "kube"
limits.cgroup = { "cpu.weight" = 313 }
[[scenario.group]]
name = "system"
limits.cgroup = { "cpu.weight" = 100 }
[[scenario.group]]
name = "pod"
parent = "kube"
limits.docker = { cpus = 1 }
"#;

/// GROUPS with `from` replaced by `to` (asserting `from` is there).
fn groups_with(from: &str, to: &str) -> String {
    assert!(GROUPS.contains(from), "{from:?} not in GROUPS");
    GROUPS.replacen(from, to, 1)
}

/// A pod of the kubelet: two containers (the victim asks 500m, the aggressor
/// 250m) in pod `pod` of tier `burstable` of `kubepods` on a node with 8
/// allocatable CPUs, whose weights come by the linear formula.
const KUBELET: &str = r#"[[scenario]]
name = "k"
kind = "isolation"
[scenario.victim]
workload = "cpu-units"
cpus = 0.5
group = "pod"
limits.kubernetes = { "requests.cpu" = "500m" }
[[scenario.aggressor]]
workload = "cpu-hog"
group = "pod"
limits.kubernetes = { "requests.cpu" = "250m" }
[[scenario.group]]
name = "kubepods"
kubelet = { level = "node", allocatable_cpu = "8", weight_formula = "linear" }
[[scenario.group]]
name = "burstable"
parent = "kubepods"
kubelet = { level = "burstable" }
[[scenario.group]]
name = "pod"
parent = "burstable"
kubelet = { level = "pod" }
"#;

/// KUBELET with `from` replaced by `to` (asserting `from` is there).
fn kubelet_with(from: &str, to: &str) -> String {
    assert!(KUBELET.contains(from), "{from:?} not in KUBELET");
    KUBELET.replacen(from, to, 1)
}

/// KUBELET with both containers Guaranteed (CPU and memory limits, requests
/// defaulted to them), still in the burstable tier.
fn guaranteed_pod() -> String {
    KUBELET
        .replace(
            "\"requests.cpu\" = \"500m\"",
            "\"limits.cpu\" = \"500m\", \"limits.memory\" = \"64Mi\"",
        )
        .replace(
            "\"requests.cpu\" = \"250m\"",
            "\"limits.cpu\" = \"250m\", \"limits.memory\" = \"32Mi\"",
        )
}

/// BASE's aggressor in the deepest of `n` nested groups `g1` … `gn`.
fn deep_groups(n: usize) -> String {
    let mut text = base_with(
        "workload = \"cpu-hog\"",
        &format!("workload = \"cpu-hog\"\ngroup = \"g{n}\""),
    );
    for i in 1..=n {
        text.push_str(&format!("[[scenario.group]]\nname = \"g{i}\"\n"));
        if i > 1 {
            text.push_str(&format!("parent = \"g{}\"\n", i - 1));
        }
    }
    text
}

#[test]
fn each_kind_of_mistake_is_placed_and_named() {
    let cases = broken();
    assert!(cases.len() >= 30, "only {} cases", cases.len());
    let mut wrong = Vec::new();
    for (case, text, line, column, field, part) in cases {
        let all = errors(&text);
        let Some(e) = all.0.iter().find(|e| e.field == field) else {
            wrong.push(format!("{case}: no error for {field} in:\n{all}"));
            continue;
        };
        let placed = e
            .to_string()
            .starts_with(&format!("t.toml:{line}:{column}: {field}: "));
        if (e.line, e.column) != (line, column) || !e.message.contains(part) || !placed {
            wrong.push(format!(
                "{case}: expected {line}:{column} with {part:?}, got {e}"
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn a_knob_the_hosts_kernel_lacks_is_refused_at_its_place() {
    let mut old = host(Layout::Hybrid);
    old.missing_knobs.push(isobench::cgroup::Unsupported {
        knob: "cpu.idle".into(),
        layout: Layout::Hybrid,
        why: "no cpu.idle in /sys/fs/cgroup/cpu; cpu.idle came in Linux 5.15".into(),
    });
    let text = format!("{BASE}[scenario.aggressor.limits.cgroup]\n\"cpu.idle\" = 1\n");
    let e = suite::parse_text(&text, "t.toml", &old).unwrap_err();
    assert_eq!((e.0[0].line, e.0[0].column), (10, 14), "{e}");
    assert!(
        e.to_string()
            .contains("cpu.idle is not supported on hybrid (no cpu.idle in /sys/fs/cgroup/cpu; cpu.idle came in Linux 5.15)"),
        "{e}"
    );
    let ok = format!(
        "{BASE}[scenario.aggressor.limits.cgroup]\n\"cpu.max\" = \"50000 100000\"\n\"cpu.max.burst\" = 50000\n\"memory.oom.group\" = 1\n"
    );
    suite::parse_text(&ok, "t.toml", &host(Layout::V2)).unwrap();
}

#[test]
fn every_mistake_of_a_file_is_reported_at_once() {
    let text = "[defaults]\nrounds = 0\nduration = \"long\"\n[[scenario]]\nname = \"s\"\nkind = \"isolaton\"\n[[scenario]]\nname = \"t\"\nkind = \"startup-latency\"\nsamples = -4\nchurn_seconds = 0\n";
    let all = errors(text);
    let fields: Vec<&str> = all.0.iter().map(|e| e.field.as_str()).collect();
    assert_eq!(
        fields,
        [
            "defaults.rounds",
            "defaults.duration",
            "scenario.kind",
            "scenario.samples",
            "scenario.churn_seconds"
        ],
        "{all}"
    );
    let lines: Vec<usize> = all.0.iter().map(|e| e.line).collect();
    assert_eq!(lines, [2, 3, 6, 10, 11]);
    assert!(all.to_string().starts_with("5 problems in the suite file:"));
}

#[test]
fn groups_nest_parents_first_with_their_limits_on_every_layout() {
    for layout in [Layout::V1, Layout::Hybrid, Layout::V2] {
        let s =
            suite::parse_text(GROUPS, "t.toml", &host(layout)).unwrap_or_else(|e| panic!("{e}"));
        let suite::Kind::Isolation(iso) = &s.scenarios[0].kind else {
            panic!("{s:?}")
        };
        let names: Vec<(&str, Option<&str>)> = iso
            .groups
            .iter()
            .map(|g| (g.name.as_str(), g.parent.as_deref()))
            .collect();
        assert_eq!(
            names,
            [("kube", None), ("system", None), ("pod", Some("kube"))]
        );
        assert_eq!(iso.group_of("victim"), Some("system"));
        assert_eq!(iso.group_of("aggressor"), Some("pod"));
        let files = &iso.groups[0].limits.files;
        let expected = if layout == Layout::V2 {
            ("cpu.weight".to_string(), "313".to_string())
        } else {
            ("cpu.shares".to_string(), "4276".to_string())
        };
        assert!(files.contains(&expected), "{layout}: {files:?}");
    }
    // Four levels are accepted.
    suite::parse_text(&deep_groups(4), "t.toml", &host(Layout::Hybrid)).unwrap();
}

#[test]
fn a_quota_raised_after_the_check_is_named_against_its_group() {
    let s = suite::parse_text(GROUPS, "t.toml", &host(Layout::V2)).unwrap();
    let suite::Kind::Isolation(mut iso) = s.scenarios.into_iter().next().unwrap().kind else {
        panic!("not isolation")
    };
    assert!(suite::beyond_groups(&iso).is_empty());
    // What --aggressor-cpus 1.5 does to the aggressor in pod (docker cpus = 1).
    iso.aggressors[0].limits.limits.cpu_max = Some(isobench::cgroup::CpuMax {
        quota_us: Some(150_000),
        period_us: 100_000,
    });
    assert_eq!(
        suite::beyond_groups(&iso),
        [
            "aggressor asks for more than its group \"pod\" allows: a CPU quota of 1.5 CPUs above the \
          group's 1: cgroup v1 refuses a child's quota above its parent's (EINVAL), and on v2 it never \
          binds; give at most 1 CPUs, or raise the group's"
        ]
    );
}

#[test]
fn kubelet_groups_get_the_shares_and_quotas_the_kubelet_writes() {
    let s =
        suite::parse_text(KUBELET, "t.toml", &host(Layout::V2)).unwrap_or_else(|e| panic!("{e}"));
    let suite::Kind::Isolation(iso) = &s.scenarios[0].kind else {
        panic!("{s:?}")
    };
    let file = |group: usize, name: &str| {
        iso.groups[group]
            .limits
            .files
            .iter()
            .find(|(f, _)| f == name)
            .map(|(_, v)| v.clone())
    };
    // kubepods: 8 CPUs = 8192 shares; the linear formula gives weight 313.
    let node = iso.groups[0].kubelet.as_ref().unwrap();
    assert_eq!((node.cpu_milli, node.cpu_shares), (8000, 8192));
    assert_eq!(node.weight_formula, isobench::cgroup::SharesFormula::Linear);
    assert!(
        node.weight_formula_text
            .starts_with("1 + (shares - 2) * 9999 / 262142")
    );
    assert_eq!(file(0, "cpu.weight").as_deref(), Some("313"));
    // The burstable tier and the pod: 750m of requests = 768 shares, the quadratic formula: 80.
    for g in [1, 2] {
        let k = iso.groups[g].kubelet.as_ref().unwrap();
        assert_eq!(
            (k.cpu_milli, k.cpu_shares),
            (750, 768),
            "{}",
            iso.groups[g].name
        );
        assert_eq!(file(g, "cpu.weight").as_deref(), Some("80"));
    }
    assert_eq!(iso.groups[2].limits.qos.as_deref(), Some("Burstable"));
    assert_eq!(file(2, "cpu.max"), None, "no container has a CPU limit");
    // A Guaranteed pod directly in kubepods: the summed quota and memory limit too (v1 files).
    let guaranteed = guaranteed_pod()
        .replace("[[scenario.group]]\nname = \"burstable\"\nparent = \"kubepods\"\nkubelet = { level = \"burstable\" }\n", "")
        .replace("parent = \"burstable\"", "parent = \"kubepods\"");
    let s = suite::parse_text(&guaranteed, "t.toml", &host(Layout::V1))
        .unwrap_or_else(|e| panic!("{e}"));
    let suite::Kind::Isolation(iso) = &s.scenarios[0].kind else {
        panic!("{s:?}")
    };
    let pod = &iso.groups[1];
    assert_eq!(pod.limits.qos.as_deref(), Some("Guaranteed"));
    let files = &pod.limits.files;
    for want in [
        ("cpu.shares", "768"),
        ("cpu.cfs_quota_us", "75000"),
        ("memory.limit_in_bytes", "100663296"),
    ] {
        assert!(
            files.contains(&(want.0.to_string(), want.1.to_string())),
            "{want:?} in {files:?}"
        );
    }
    assert_eq!(
        iso.groups[0].limits.files,
        [("cpu.shares".to_string(), "8192".to_string())]
    );
}

#[test]
fn embedded_suites_are_valid_on_every_layout() {
    for layout in [Layout::V1, Layout::Hybrid, Layout::V2] {
        for (name, _) in suite::EMBEDDED {
            let s = suite::load(name, &host(layout))
                .unwrap_or_else(|e| panic!("embedded {name} on {layout}: {e}"));
            assert_eq!(s.name, name);
            assert!(!s.scenarios.is_empty());
        }
    }
}

#[test]
fn the_default_suites_scenarios_are_the_known_ones() {
    let s = suite::load("default", &host(Layout::Hybrid)).unwrap();
    let names: Vec<&str> = s.scenarios.iter().map(|s| s.name.as_str()).collect();
    let mut known = isobench::scenario::KNOWN.to_vec();
    known.sort_unstable();
    let mut sorted = names.clone();
    sorted.sort_unstable();
    assert_eq!(sorted, known);
}

#[test]
fn the_annotated_example_of_the_docs_is_a_valid_suite() {
    let doc = include_str!("../../docs/suite-format.md");
    let start = doc.find("```toml\n").expect("a toml block") + "```toml\n".len();
    let example = &doc[start..start + doc[start..].find("```").unwrap()];
    for layout in [Layout::Hybrid, Layout::V2] {
        let s = suite::parse_text(example, "docs/suite-format.md", &host(layout))
            .unwrap_or_else(|e| panic!("on {layout}: {e}"));
        assert_eq!(s.name, "my-pod");
        assert!(s.margins.is_some());
    }
}

#[test]
fn memory_pressure_takes_memory_limits_in_kubernetes_words() {
    let text = "[[scenario]]\nname = \"m\"\nkind = \"memory-pressure\"\n[scenario.aggressor_limits.kubernetes]\n\"limits.memory\" = \"512Mi\"\n";
    let s = suite::parse_text(text, "t.toml", &host(Layout::V2)).unwrap();
    let suite::Kind::MemoryPressure(m) = &s.scenarios[0].kind else {
        panic!("{s:?}")
    };
    let knobs = &m.aggressor_limits.as_ref().unwrap().limits.memory;
    assert_eq!(knobs[0].bytes, Some(512 << 20));
}

#[test]
fn a_fifo_or_directory_is_refused_without_reading_it() {
    let t = tempfile::tempdir().unwrap();
    let fifo = t.path().join("fifo");
    nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::S_IRWXU).unwrap();
    for path in [fifo.as_path(), t.path()] {
        let e = suite::load(path.to_str().unwrap(), &host(Layout::Hybrid)).unwrap_err();
        assert!(e.to_string().contains("not a regular file"), "{e}");
    }
}

#[test]
fn a_suite_file_that_cannot_be_read_names_the_path_and_the_embedded_suites() {
    let e = suite::load("/nonexistent/suite.toml", &host(Layout::Hybrid)).unwrap_err();
    let text = e.to_string();
    assert!(
        text.contains("/nonexistent/suite.toml")
            && text.contains("default, quick")
            && text.contains("No such file"),
        "{text}"
    );
}

mod fuzz {
    use super::*;
    use proptest::prelude::*;

    /// Pieces of TOML and of suite files that mutations splice in.
    const TOKENS: [&str; 24] = [
        "[",
        "]",
        "[[",
        "]]",
        "=",
        "\"",
        "'",
        "{",
        "}",
        ",",
        "\n",
        "#",
        ".",
        "-1",
        "0",
        "1e999",
        "nan",
        "\"2GiB\"",
        "[scenario.victim]",
        "[[scenario]]",
        "kind = \"isolation\"",
        "limits.docker.cpus = 1.5",
        "\u{feff}",
        "é",
    ];

    proptest! {
        #![proptest_config(ProptestConfig { cases: 1500, ..ProptestConfig::default() })]

        #[test]
        fn arbitrary_text_never_panics(text in "\\PC{0,300}") {
            let _ = suite::parse_text(&text, "fuzz.toml", &host(Layout::V2));
        }

        #[test]
        fn mutated_default_suites_never_panic(
            edits in proptest::collection::vec((0usize..10_000, 0usize..24, 0usize..8), 1..6)
        ) {
            let mut text = suite::embedded_text("default").unwrap().to_string();
            for (at, token, cut) in edits {
                let mut at = at % (text.len() + 1);
                while !text.is_char_boundary(at) {
                    at -= 1;
                }
                let mut end = (at + cut).min(text.len());
                while !text.is_char_boundary(end) {
                    end += 1;
                }
                text.replace_range(at..end, TOKENS[token]);
            }
            for layout in [Layout::V1, Layout::V2] {
                let _ = suite::parse_text(&text, "fuzz.toml", &host(layout));
            }
        }

        #[test]
        fn mutated_group_suites_never_panic(
            edits in proptest::collection::vec((0usize..2_000, 0usize..24, 0usize..8), 1..6),
            names in proptest::collection::vec((0usize..4, 0usize..4), 0..4),
        ) {
            // Groups renamed onto each other make cycles, unknown parents and deep chains.
            let mut text = format!("{}{}", super::GROUPS, super::KUBELET.replace("name = \"k\"", "name = \"k2\""));
            let group_names = ["kube", "system", "pod", "burstable"];
            for (from, to) in names {
                text = text.replacen(&format!("\"{}\"", group_names[from]), &format!("\"{}\"", group_names[to]), 1);
            }
            for (at, token, cut) in edits {
                let mut at = at % (text.len() + 1);
                while !text.is_char_boundary(at) {
                    at -= 1;
                }
                let mut end = (at + cut).min(text.len());
                while !text.is_char_boundary(end) {
                    end += 1;
                }
                text.replace_range(at..end, TOKENS[token]);
            }
            for layout in [Layout::V1, Layout::V2] {
                let _ = suite::parse_text(&text, "fuzz.toml", &host(layout));
            }
        }
    }
}

/// A visibility scenario whose `cpu-view` sandbox sits in a group.
const VIS: &str = r#"[[scenario]]
name = "v"
kind = "visibility"
[scenario.cpu_view]
group = "pod"
limits.docker = { cpus = 1 }
[[scenario.group]]
name = "pod"
limits.docker = { cpus = 2 }
"#;

#[test]
fn a_visibility_cpu_view_sandbox_takes_limits_and_sits_in_groups() {
    use isobench::suite::Kind;
    for layout in [Layout::V1, Layout::Hybrid, Layout::V2] {
        let s = suite::parse_text(VIS, "t.toml", &host(layout)).unwrap();
        let Kind::Visibility(def) = &s.scenarios[0].kind else {
            panic!("{:?}", s.scenarios[0].kind);
        };
        assert_eq!(def.cpu_view_group.as_deref(), Some("pod"));
        assert_eq!(def.groups.len(), 1);
        let quota = def.cpu_view_limits.limits.cpu_max.and_then(|m| m.cpus());
        assert_eq!(quota, Some(1.0), "{layout:?}");
    }
}

#[test]
fn cpu_view_mistakes_are_placed_and_named() {
    let cases = [
        (VIS.replace("group = \"pod\"", "group = \"pd\""), 5, "scenario.cpu_view.group", "\"pd\""),
        (VIS.replace("group = \"pod\"\n", "group = \"pod\"\ncpus = 1\n"), 6, "scenario.cpu_view.cpus", "unknown"),
        (VIS.replace("cpus = 2 }", "cpus = 0.5 }"), 6, "scenario.cpu_view.limits", "pod"),
        (
            "[[scenario]]\nname = \"v\"\nkind = \"visibility\"\n[[scenario.group]]\nname = \"pod\"\n".to_string(),
            4,
            "scenario.group",
            "[scenario.cpu_view]",
        ),
    ];
    for (text, line, field, part) in cases {
        let all = errors(&text);
        let e = all
            .0
            .iter()
            .find(|e| e.field == field)
            .unwrap_or_else(|| panic!("no error for {field} in:\n{all}\nfor:\n{text}"));
        assert_eq!(e.line, line, "{e}");
        assert!(e.message.contains(part), "{e}");
        assert!(e.to_string().starts_with(&format!("t.toml:{line}:")), "{e}");
    }
}

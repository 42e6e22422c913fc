//! Scenario `visibility`: what a sandbox can *see* (namespaces(7)), as
//! pass/fail checks with their evidence. The other scenarios measure what a
//! sandbox can *use*; this one proves, in every run, that each namespace took
//! effect, so a runtime or kernel change that opens a window between sandboxes
//! shows at once.
//!
//! - `pid`: the sandbox sees only its own processes (its init is pid 1) and
//!   `kill(host_pid, 0)` fails with ESRCH (pid_namespaces(7));
//! - `uts`: the hostname set inside is not the host's (uts_namespaces(7));
//! - `net`: only `lo`; two sandboxes bind TCP 127.0.0.1:3306 at the same time and
//!   each serves its own client, while two unconfined processes on the host
//!   clash with EADDRINUSE (Docker's "port is already allocated");
//! - `mnt`: a tmpfs mounted inside is invisible outside; propagation is private
//!   (mount_namespaces(7));
//! - `ipc`: a POSIX message queue made inside cannot be opened outside
//!   (ipc_namespaces(7), mq_overview(7));
//! - `cgroup`: /proc/self/cgroup inside shows the sandbox's cgroup as the root
//!   (cgroup_namespaces(7));
//! - `user` (when the spec enables it; the default does): uid 0 inside a user
//!   namespace is an unprivileged uid outside (user_namespaces(7)).
//!
//! A check whose namespace is off reports 0 with what it saw, never a silent pass.
//!
//! Then `cpu-view` (cases C14, C15): what a workload believes it has, inside a
//! sandbox with the limits of the suite's `[scenario.cpu_view]` (in its groups,
//! if any). The `cpu-view` applet reports the CPU count each runtime would size
//! its pools by (the affinity mask, Rust's `available_parallelism`, and Go, Java
//! and Node where installed) and the host figures /proc, sysfs and sysinfo(2)
//! show; the harness derives the budget from the cgroup files itself
//! ([`crate::cgroup::cpu_budget`]). A runtime counting more than ⌈budget⌉ is a
//! finding — a warning naming it — not a namespace breach: no namespace is
//! meant to hide the CPU count, and the workload is still held to its quota; it
//! only sizes for CPUs it cannot get. The checks' verdict does not count it.
//! Host figures are informational ("host information visible, expected
//! without lxcfs"), never a failure and never the source of the budget.

use super::isolation::Groups;
use super::{Progress, RunContext};
use crate::cgroup::{Cgroup, CpuBudget, Limits};
use crate::sandbox::{self, NamespaceSet, Process, SANDBOX_HOSTNAME};
use crate::suite::VisibilityDef;
use anyhow::{Context, Result, bail};
use isobench_reports::schema::{
    CpuView, HostFigure, Metric, Reading, RuntimeCpus, ScenarioResult, ScenarioStatus,
    VisibilityCheck,
};
use isobench_workloads::cpu_view::{self as seen, CpuSeen};
use isobench_workloads::hold::{Failed, Held, HoldEvent, Released};
use isobench_workloads::inspect::{View, namespace_ids};
use std::net::{Ipv4Addr, SocketAddrV4, TcpListener};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// The scenario's name in suites, results and on the command line.
pub const NAME: &str = "visibility";
/// The port of the clash: MySQL's, as in Docker's classic error.
pub const PORT: u16 = 3306;
/// The checks, in the order they run; `user` only where the scenario enables it.
pub const CHECKS: [&str; 7] = ["pid", "uts", "net", "mnt", "ipc", "cgroup", "user"];
/// How long a probe holds its port, mount or queue while the harness looks.
const HOLD: Duration = Duration::from_millis(600);
/// How long the harness waits for a probe to hold its resource.
const READY_LIMIT: Duration = Duration::from_secs(10);
/// The name of the check of what a workload believes it has.
pub const CPU_VIEW: &str = "cpu-view";
/// How long each external runtime (go, java, node) may take in the `cpu-view`
/// sandbox before it is killed: Java's source-file launcher took 0.7 s
/// unlimited on the 2-CPU development host, a few seconds under half a CPU.
pub const RUNTIME_TIMEOUT: Duration = Duration::from_secs(30);

/// The scenario's parameters: the namespaces of its sandboxes, and the
/// sandbox of `cpu-view`.
#[derive(Debug, Clone, serde::Serialize)]
pub struct VisibilitySpec {
    /// Namespaces every probe sandbox gets (user aside, see `user`).
    pub namespaces: NamespaceSet,
    /// Run the `user` check, in a sandbox that also gets a user namespace.
    pub user: bool,
    /// The limits and groups of the `cpu-view` sandbox (`[scenario.cpu_view]`).
    pub cpu_view: VisibilityDef,
}

impl Default for VisibilitySpec {
    fn default() -> Self {
        VisibilitySpec {
            namespaces: NamespaceSet::ALL,
            user: true,
            cpu_view: VisibilityDef::default(),
        }
    }
}

/// Runs every check once. A check that could not run ends the scenario as failed,
/// keeping the checks already made.
pub fn run(
    spec: &VisibilitySpec,
    ctx: &RunContext<'_>,
    progress: &mut dyn Progress,
) -> ScenarioResult {
    let mut result = ScenarioResult::started(
        NAME,
        "What a sandbox can see: each namespace checked with its evidence",
        serde_json::json!({ "scenario": spec, "port": PORT }),
    );
    for name in CHECKS.iter().copied().filter(|&c| c != "user" || spec.user) {
        let ns = NamespaceSet {
            user: name == "user",
            ..spec.namespaces
        };
        match check(name, ns, ctx) {
            Ok(c) => result.checks.push(c),
            Err(e) => {
                let reason = format!("check {name}: {e:#}");
                result.status = if crate::interrupt::requested() {
                    ScenarioStatus::Interrupted(reason)
                } else {
                    ScenarioStatus::Failed(reason)
                };
                break;
            }
        }
        progress.step_done(NAME, name);
    }
    if result.status == ScenarioStatus::Complete {
        match cpu_view(&spec.cpu_view, spec.namespaces, ctx, RUNTIME_TIMEOUT) {
            Ok(view) => result.cpu_view = Some(view),
            Err(e) => {
                result.status = ScenarioStatus::Failed(format!("check {CPU_VIEW}: {e:#}"));
            }
        }
        progress.step_done(NAME, CPU_VIEW);
    }
    result.metrics = result.checks.iter().map(metric).collect();
    result.warnings = result
        .checks
        .iter()
        .filter(|c| !c.passed)
        .map(|c| {
            format!(
                "isolation breach: {}: looked at {}; saw {}",
                c.name, c.looked_at, c.saw
            )
        })
        .chain(result.cpu_view.iter().flat_map(findings))
        .collect();
    result
}

/// The findings of a `cpu-view`: one line per runtime that counts more CPUs
/// than ⌈budget⌉, "runtime sees N CPUs, budget B", saying what it means.
pub fn findings(view: &CpuView) -> Vec<String> {
    let Reading::Value(budget) = view.budget_cpus else {
        return Vec::new();
    };
    view.runtimes
        .iter()
        .filter(|r| r.over_budget)
        .filter_map(|r| match r.cpus {
            Reading::Value(n) => Some(format!(
                "{CPU_VIEW}: {} sees {n} CPUs, budget {budget:.2} ({}): it sizes its thread pools and GC for CPUs its sandbox cannot get; \
                 set its CPU count explicitly ({})",
                r.runtime,
                view.budget_bound_by,
                explicit_setting(&r.runtime)
            )),
            Reading::Unavailable(_) => None,
        })
        .collect()
}

/// How a user tells runtime `name` its CPU count.
fn explicit_setting(name: &str) -> &'static str {
    match name {
        "go" => "GOMAXPROCS",
        "java" => "-XX:ActiveProcessorCount",
        "node" => "UV_THREADPOOL_SIZE and the worker count of your code",
        "rust" => "the size of your thread pools, e.g. RAYON_NUM_THREADS or tokio's worker_threads",
        _ => "a cpuset matching the quota, or the runtime's own setting",
    }
}

/// Runs `cpu-view` in a sandbox with `def`'s limits, beneath its groups,
/// with namespaces `ns` less the cgroup and user namespaces; each external
/// runtime may take `runtime_timeout`.
///
/// Why no cgroup namespace: isobench's sandboxes keep the host's cgroupfs
/// mounts, and inside a cgroup namespace their mountinfo roots read `/..`, so
/// Rust's std and the JVM cannot find their own cgroup and ignore its quota
/// (measured: both read 2 CPUs under a 0.5-CPU quota). A container runtime
/// mounts cgroupfs afresh inside (runc: libcontainer/rootfs_linux.go), where
/// they find it; without the namespace they read the same files they would there.
///
/// # Errors
/// A cgroup or group that could not be created with its limits; a probe that
/// could not be started, did not end in time or printed no report.
pub fn cpu_view(
    def: &VisibilityDef,
    ns: NamespaceSet,
    ctx: &RunContext<'_>,
    runtime_timeout: Duration,
) -> Result<CpuView> {
    static N: AtomicUsize = AtomicUsize::new(0);
    let n = N.fetch_add(1, Ordering::Relaxed);
    let ns = NamespaceSet {
        cgroup: false,
        user: false,
        ..ns
    };
    let groups = Groups::create(&def.groups, ctx.arena, &format!("visibility-{n}"))?;
    let home = def
        .cpu_view_group
        .as_deref()
        .and_then(|g| groups.get(&def.groups, g))
        .unwrap_or(ctx.arena);
    let cgroup = home
        .sandbox(
            &format!("visibility-{CPU_VIEW}-{n}"),
            &def.cpu_view_limits.limits,
        )
        .with_context(|| format!("creating the {CPU_VIEW} sandbox's cgroup"))?;
    let budget = cgroup.cpu_budget();
    let args: Vec<String> = [
        CPU_VIEW.to_string(),
        "--runtime-timeout-s".into(),
        runtime_timeout.as_secs_f64().to_string(),
    ]
    .into();
    let mut process = sandbox::spawn(&ctx.workload_bin, &args, ns, Some(&cgroup))
        .with_context(|| format!("starting {CPU_VIEW}"))?;
    let limit = runtime_timeout * seen::RUNTIMES.len() as u32 + READY_LIMIT;
    if let Err(e) = process.wait_for(limit) {
        process.stop(Duration::from_millis(200));
        bail!("waiting for {CPU_VIEW}: {e}");
    }
    let out = process.output()?;
    let inside: CpuSeen =
        serde_json::from_str(out.trim()).with_context(|| format!("{CPU_VIEW} printed {out:?}"))?;
    drop(process);
    cgroup.remove()?;
    groups.remove()?;
    let host = seen::look(None);
    Ok(view_of(def, &budget, &inside, &host))
}

/// A figure of [`CpuSeen`]: its value, or why it is unavailable.
type Seen<T> = std::result::Result<T, String>;

/// A host figure seen `inside` beside the `host`'s, the host's value when
/// both were read and `shown(inside, host)` says so.
fn host_figure<T: PartialEq + ToString>(
    name: &str,
    inside: &Seen<T>,
    host: &Seen<T>,
    shown: impl Fn(&T, &T) -> bool,
) -> HostFigure {
    let text = |r: &Seen<T>| match r {
        Ok(v) => Reading::Value(v.to_string()),
        Err(e) => Reading::Unavailable(e.clone()),
    };
    HostFigure {
        name: name.into(),
        inside: text(inside),
        host: text(host),
        host_value_shown: matches!((inside, host), (Ok(a), Ok(b)) if shown(a, b)),
    }
}

/// The sandbox's limits and groups in words, as the suite wrote them.
fn sandbox_words(def: &VisibilityDef) -> String {
    let files = |l: &crate::suite::LimitsDef| {
        if l.files.is_empty() {
            "no limits".to_string()
        } else {
            l.files
                .iter()
                .map(|(f, v)| format!("{f} {v}"))
                .collect::<Vec<_>>()
                .join(", ")
        }
    };
    let mut text = files(&def.cpu_view_limits);
    let mut at = def.cpu_view_group.clone();
    while let Some(g) = at.and_then(|name| def.groups.iter().find(|x| x.name == name)) {
        text.push_str(&format!("; in group {} ({})", g.name, files(&g.limits)));
        at = g.parent.clone();
    }
    text
}

/// The rows of a `cpu-view`: the budget, each runtime's count against it, and
/// the host figures seen `inside` beside the `host`'s.
fn view_of(
    def: &VisibilityDef,
    budget: &crate::cgroup::Result<CpuBudget>,
    inside: &CpuSeen,
    host: &CpuSeen,
) -> CpuView {
    let whole = budget
        .as_ref()
        .ok()
        .map(|b| (b.cpus - 1e-9).ceil().max(1.0) as u64);
    let reading = |r: &Seen<u64>| match r {
        Ok(n) => Reading::Value(*n),
        Err(e) => Reading::Unavailable(e.clone()),
    };
    let runtime = |name: &str, asked: &str, cpus: &Seen<u64>| RuntimeCpus {
        runtime: name.into(),
        asked: asked.into(),
        cpus: reading(cpus),
        over_budget: matches!((cpus, whole), (Ok(n), Some(w)) if *n > w),
    };
    let mut runtimes = vec![
        runtime(
            "affinity",
            "sched_getaffinity(2): what nproc and libuv count",
            &inside.affinity,
        ),
        runtime(
            "rust",
            "std::thread::available_parallelism()",
            &inside.available_parallelism,
        ),
    ];
    runtimes.extend(
        inside
            .runtimes
            .iter()
            .map(|r| runtime(&r.name, &r.asked, &r.cpus)),
    );
    // A CPU count is the host's when it equals the host's and is above the budget.
    let cpus = |name: &str, i: &Seen<u64>, h: &Seen<u64>| {
        host_figure(name, i, h, |a, b| a == b && whole.is_some_and(|w| *a > w))
    };
    // Memory totals are the host's when they equal the host's: a sandbox sees no limit there.
    let memory = |name: &str, i: &Seen<u64>, h: &Seen<u64>| host_figure(name, i, h, |a, b| a == b);
    // The kernel keeps procs and loadavg host-wide: no namespace scopes them.
    let host_visible = vec![
        cpus(
            "/proc/cpuinfo processors",
            &inside.cpuinfo_processors,
            &host.cpuinfo_processors,
        ),
        cpus(
            "/proc/stat cpuN lines",
            &inside.proc_stat_cpus,
            &host.proc_stat_cpus,
        ),
        cpus(
            "/sys/devices/system/cpu/online CPUs",
            &inside.online_cpus,
            &host.online_cpus,
        ),
        cpus(
            "sysconf(_SC_NPROCESSORS_ONLN)",
            &inside.sysconf_nprocessors_onln,
            &host.sysconf_nprocessors_onln,
        ),
        memory(
            "/proc/meminfo MemTotal, bytes",
            &inside.memtotal_bytes,
            &host.memtotal_bytes,
        ),
        memory(
            "sysinfo(2) totalram, bytes",
            &inside.sysinfo_totalram_bytes,
            &host.sysinfo_totalram_bytes,
        ),
        host_figure(
            "sysinfo(2) procs",
            &inside.sysinfo_procs,
            &host.sysinfo_procs,
            |_, _| true,
        ),
        host_figure("/proc/loadavg", &inside.loadavg, &host.loadavg, |_, _| true),
    ];
    CpuView {
        sandbox: sandbox_words(def),
        budget_cpus: match budget {
            Ok(b) => Reading::Value(b.cpus),
            Err(e) => Reading::Unavailable(format!("reading the sandbox's cgroup files: {e}")),
        },
        budget_bound_by: budget
            .as_ref()
            .map_or_else(|e| e.to_string(), CpuBudget::bound_by),
        budget_read: budget
            .as_ref()
            .map(|b| {
                b.levels
                    .iter()
                    .map(|(dir, said)| format!("{}: {said}", dir.display()))
                    .chain(
                        b.cpuset
                            .iter()
                            .map(|(n, f)| format!("{}: {n} CPUs", f.display())),
                    )
                    .collect()
            })
            .unwrap_or_default(),
        runtimes,
        host_visible,
    }
}

/// `visibility.<check>`: 1 for pass, 0 for fail.
fn metric(c: &VisibilityCheck) -> Metric {
    let v = if c.passed { 1.0 } else { 0.0 };
    Metric {
        name: format!("visibility.{}", c.name),
        condition: None,
        unit: "pass".into(),
        value: Some(v),
        lower: None,
        upper: None,
        per_round: vec![Some(v)],
        reason: None,
    }
}

/// Runs the check `name` with probe sandboxes in namespaces `ns`.
///
/// # Errors
/// A probe that could not be started or did not report; `name` not in [`CHECKS`].
pub fn check(name: &str, ns: NamespaceSet, ctx: &RunContext<'_>) -> Result<VisibilityCheck> {
    match name {
        "pid" => check_pid(ns, ctx),
        "uts" => check_uts(ns, ctx),
        "net" => check_net(ns, ctx),
        "mnt" => check_mnt(ns, ctx),
        "ipc" => check_ipc(ns, ctx),
        "cgroup" => check_cgroup(ns, ctx),
        "user" => check_user(ns, ctx),
        other => bail!(
            "unknown visibility check {other:?}: known are {}",
            CHECKS.join(", ")
        ),
    }
}

fn verdict(name: &str, passed: bool, looked_at: String, saw: String) -> VisibilityCheck {
    VisibilityCheck {
        name: name.into(),
        passed,
        looked_at,
        saw,
    }
}

/// A probe: its cgroup and its process. The cgroup is removed on drop.
struct Probe {
    process: Process,
    _cgroup: Cgroup,
}

/// Starts `args` in a sandbox of its own with namespaces `ns`.
fn start(ctx: &RunContext<'_>, ns: NamespaceSet, args: &[&str]) -> Result<Probe> {
    static N: AtomicUsize = AtomicUsize::new(0);
    let name = format!(
        "visibility-{}-{}",
        args[0],
        N.fetch_add(1, Ordering::Relaxed)
    );
    let cgroup = ctx.arena.sandbox(&name, &Limits::default())?;
    let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    let process = sandbox::spawn(&ctx.workload_bin, &args, ns, Some(&cgroup))
        .with_context(|| format!("starting {}", args[0]))?;
    Ok(Probe {
        process,
        _cgroup: cgroup,
    })
}

/// Runs `isobench-workload inspect` in a sandbox and returns what it saw.
fn inspect(ctx: &RunContext<'_>, ns: NamespaceSet, host_pid: Option<i32>) -> Result<View> {
    let pid = host_pid.map(|p| p.to_string());
    let mut args = vec!["inspect"];
    if let Some(p) = &pid {
        args.extend(["--host-pid", p]);
    }
    let mut probe = start(ctx, ns, &args)?;
    probe
        .process
        .wait_for(READY_LIMIT)
        .context("waiting for inspect")?;
    let out = probe.process.output()?;
    serde_json::from_str(out.trim()).with_context(|| format!("inspect printed {out:?}"))
}

fn check_pid(ns: NamespaceSet, ctx: &RunContext<'_>) -> Result<VisibilityCheck> {
    let me = std::process::id() as i32;
    let view = inspect(ctx, ns, Some(me))?;
    let own = [1, view.pid];
    let foreign: Vec<i32> = view
        .visible_pids
        .iter()
        .copied()
        .filter(|p| !own.contains(p))
        .collect();
    let signal = view.signal_host.clone().unwrap_or_default();
    let passed = view.ppid == 1 && foreign.is_empty() && signal == "ESRCH";
    let shown: Vec<i32> = view.visible_pids.iter().copied().take(8).collect();
    Ok(verdict(
        "pid",
        passed,
        format!("/proc and kill({me}, 0) (the harness's host pid) from inside the sandbox"),
        format!(
            "workload pid {} with parent {}; {} pids visible ({shown:?}{}), {} not its own; kill → {signal}",
            view.pid,
            view.ppid,
            view.visible_pids.len(),
            if view.visible_pids.len() > shown.len() {
                ", ..."
            } else {
                ""
            },
            foreign.len()
        ),
    ))
}

fn check_uts(ns: NamespaceSet, ctx: &RunContext<'_>) -> Result<VisibilityCheck> {
    let host_name = || {
        nix::unistd::gethostname()
            .map(|h| h.to_string_lossy().into_owned())
            .unwrap_or_default()
    };
    let (before, host_uts) = (
        host_name(),
        namespace_ids().remove("uts").unwrap_or_default(),
    );
    let view = inspect(ctx, ns, None)?;
    let after = host_name();
    let inside_uts = view.namespaces.get("uts").cloned().unwrap_or_default();
    let own_ns = inside_uts != host_uts;
    let passed = own_ns && view.hostname == SANDBOX_HOSTNAME && before == after;
    let saw = if own_ns {
        format!(
            "hostname inside {:?} ({inside_uts}); the host's stayed {after:?} ({host_uts})",
            view.hostname
        )
    } else {
        format!(
            "the sandbox shares the host's {host_uts}: a hostname set inside would rename the host (isobench set none)"
        )
    };
    Ok(verdict(
        "uts",
        passed,
        format!("the hostname inside (set to {SANDBOX_HOSTNAME:?}) and the host's"),
        saw,
    ))
}

fn check_cgroup(ns: NamespaceSet, ctx: &RunContext<'_>) -> Result<VisibilityCheck> {
    let view = inspect(ctx, ns, None)?;
    let lines: Vec<&str> = view.cgroup.lines().collect();
    let passed = !lines.is_empty() && lines.iter().all(|l| l.ends_with(":/"));
    Ok(verdict(
        "cgroup",
        passed,
        "/proc/self/cgroup inside the sandbox".into(),
        lines.join("; "),
    ))
}

fn check_user(ns: NamespaceSet, ctx: &RunContext<'_>) -> Result<VisibilityCheck> {
    let view = inspect(ctx, ns, None)?;
    // Each line of uid_map: first id inside, first id outside, count.
    let outside_of_root = view.uid_map.lines().find_map(|l| {
        let f: Vec<u64> = l
            .split_whitespace()
            .filter_map(|v| v.parse().ok())
            .collect();
        (f.len() == 3 && f[0] == 0 && f[2] >= 1).then_some(f[1])
    });
    let passed = view.uid == 0 && outside_of_root.is_some_and(|o| o != 0);
    Ok(verdict(
        "user",
        passed,
        "the uid inside the sandbox and /proc/self/uid_map, which maps it to the host".into(),
        format!(
            "uid {} inside; uid_map {:?}: uid 0 inside is {} outside",
            view.uid,
            view.uid_map.trim(),
            outside_of_root.map_or("unmapped".to_string(), |o| format!("uid {o}"))
        ),
    ))
}

/// Waits until a holder says it holds its resource, or why it could not.
///
/// # Errors
/// A holder that ended without a word, printed something else, or took too long.
fn wait_held(p: &mut Process) -> Result<Result<Held, Failed>> {
    let start = Instant::now();
    loop {
        if let Some(line) = p.output_so_far()?.lines().next() {
            return match serde_json::from_str(line)
                .with_context(|| format!("holder printed {line:?}"))?
            {
                HoldEvent::Held(h) => Ok(Ok(h)),
                HoldEvent::Failed(f) => Ok(Err(f)),
                HoldEvent::Released(_) => bail!("holder pid {} released before it held", p.pid()),
            };
        }
        if p.try_reap()? {
            bail!(
                "holder pid {} ended without a report (its error is on stderr above)",
                p.pid()
            );
        }
        if crate::interrupt::requested() {
            bail!("interrupted");
        }
        if start.elapsed() > READY_LIMIT {
            bail!(
                "holder pid {} did not report within {READY_LIMIT:?}",
                p.pid()
            );
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Waits for the holder's [`Released`] line; returns when it released, CLOCK_MONOTONIC ns.
fn wait_released(p: &mut Process) -> Result<u64> {
    p.wait_for(HOLD + READY_LIMIT)
        .context("waiting for the holder to release")?;
    let out = p.output()?;
    let line = out.lines().last().unwrap_or_default();
    match serde_json::from_str(line)
        .with_context(|| format!("holder printed {out:?} at the end"))?
    {
        HoldEvent::Released(Released { at_ns }) => Ok(at_ns),
        other => bail!("holder ended with {other:?} instead of a release"),
    }
}

/// Two unconfined processes bind the same port on the host: the second must get
/// EADDRINUSE. Uses 3306, or a free high port when 3306 is taken on the host
/// (by a database, or by another run's clash). Returns `(clashed, evidence)`.
fn host_clash(ctx: &RunContext<'_>) -> Result<(bool, String)> {
    let hold_ms = HOLD.as_millis().to_string();
    let holder = |port: &str, tag: &str, ms: &str| {
        start(
            ctx,
            NamespaceSet::default(),
            &["hold-port", "--port", port, "--tag", tag, "--hold-ms", ms],
        )
    };
    let mut port = PORT;
    let mut note = format!("port {PORT}");
    let mut first_probe = holder(&port.to_string(), "h1", &hold_ms)?;
    let mut first = wait_held(&mut first_probe.process)?;
    if let Err(f) = &first {
        let free = TcpListener::bind(SocketAddrV4::new(Ipv4Addr::LOCALHOST, 0))
            .and_then(|l| l.local_addr())?
            .port();
        note = format!("port {free} ({PORT} is taken on the host: {})", f.error);
        port = free;
        first_probe = holder(&port.to_string(), "h1", &hold_ms)?;
        first = wait_held(&mut first_probe.process)?;
    }
    let mut second_probe = holder(&port.to_string(), "h2", "0")?;
    let second = wait_held(&mut second_probe.process)?;
    let clash = first.is_ok()
        && second
            .as_ref()
            .is_err_and(|f| f.errno.as_deref() == Some("EADDRINUSE"));
    let evidence = format!(
        "on the host, two unconfined processes on {note}: the first {}, the second {}",
        match &first {
            Ok(_) => "bound".to_string(),
            Err(f) => format!("could not bind ({})", f.error),
        },
        match &second {
            Ok(_) => "bound as well (no clash)".to_string(),
            Err(f) if clash => format!("failed ({}): the expected clash", f.error),
            Err(f) => format!("failed, but not with EADDRINUSE ({})", f.error),
        }
    );
    Ok((clash, evidence))
}

fn check_net(ns: NamespaceSet, ctx: &RunContext<'_>) -> Result<VisibilityCheck> {
    let hold_ms = HOLD.as_millis().to_string();
    let port = PORT.to_string();
    let holder = |tag: &str| {
        start(
            ctx,
            ns,
            &[
                "hold-port",
                "--port",
                &port,
                "--tag",
                tag,
                "--hold-ms",
                &hold_ms,
            ],
        )
    };
    let (mut a, mut b) = (holder("a")?, holder("b")?);
    let (held_a, held_b) = (wait_held(&mut a.process)?, wait_held(&mut b.process)?);
    let mut seen = Vec::new();
    let mut passed = true;
    let mut spans = Vec::new();
    for (tag, held, probe) in [("a", held_a, &mut a), ("b", held_b, &mut b)] {
        match held {
            Ok(h) => {
                let only_lo = h.interfaces == ["lo"];
                passed &= only_lo && h.evidence.ends_with(&format!("got \"pong-{tag}\""));
                seen.push(format!(
                    "sandbox {tag}: {}; interfaces {:?}",
                    h.evidence, h.interfaces
                ));
                spans.push((h.at_ns, wait_released(&mut probe.process)?));
            }
            Err(e) => {
                passed = false;
                seen.push(format!(
                    "sandbox {tag}: could not serve on 127.0.0.1:{PORT}: {}",
                    e.error
                ));
            }
        }
    }
    if let [(a0, a1), (b0, b1)] = spans[..] {
        let overlap = a0 < b1 && b0 < a1;
        passed &= overlap;
        seen.push(format!(
            "both held the port at once: {}",
            if overlap { "yes" } else { "no" }
        ));
    }
    let (clash, evidence) = host_clash(ctx)?;
    passed &= clash;
    seen.push(evidence);
    Ok(verdict(
        "net",
        passed,
        format!(
            "two sandboxes binding TCP 127.0.0.1:{PORT} at once, each serving its own client, and two unconfined processes doing the same"
        ),
        seen.join("; "),
    ))
}

fn check_mnt(ns: NamespaceSet, ctx: &RunContext<'_>) -> Result<VisibilityCheck> {
    let dir = tempfile::Builder::new()
        .prefix("isobench-mnt-")
        .tempdir()
        .context("creating the mount point")?;
    let host_mnt = namespace_ids().remove("mnt").unwrap_or_default();
    let dir_s = dir.path().to_string_lossy().into_owned();
    let hold_ms = HOLD.as_millis().to_string();
    let mut p = start(
        ctx,
        ns,
        &[
            "hold-mount",
            "--dir",
            &dir_s,
            "--host-mnt-ns",
            &host_mnt,
            "--hold-ms",
            &hold_ms,
        ],
    )?;
    let (passed, saw) = match wait_held(&mut p.process)? {
        Ok(held) => {
            let marker_outside = dir.path().join("marker").exists();
            let mountinfo = std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
            let mounted_outside = mountinfo
                .lines()
                .any(|l| l.split_whitespace().nth(4) == Some(dir_s.as_str()));
            wait_released(&mut p.process)?;
            let private = held.evidence.ends_with("root propagation private");
            (
                !marker_outside && !mounted_outside && private,
                format!(
                    "{}; from the host ({host_mnt}): marker {}, mount {} in /proc/self/mountinfo",
                    held.evidence,
                    if marker_outside {
                        "visible"
                    } else {
                        "invisible"
                    },
                    if mounted_outside {
                        "listed"
                    } else {
                        "not listed"
                    }
                ),
            )
        }
        Err(e) => (false, format!("the probe made no mount: {}", e.error)),
    };
    Ok(verdict(
        "mnt",
        passed,
        format!("a tmpfs mounted on {dir_s} inside the sandbox, seen from the host"),
        saw,
    ))
}

fn check_ipc(ns: NamespaceSet, ctx: &RunContext<'_>) -> Result<VisibilityCheck> {
    use nix::mqueue::{MQ_OFlag, mq_open};
    use nix::sys::stat::Mode;
    static N: AtomicUsize = AtomicUsize::new(0);
    let name = format!(
        "/isobench-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    );
    let hold_ms = HOLD.as_millis().to_string();
    let mut p = start(
        ctx,
        ns,
        &["hold-mqueue", "--name", &name, "--hold-ms", &hold_ms],
    )?;
    let held = match wait_held(&mut p.process)? {
        Ok(h) => h,
        Err(e) => bail!("the probe made no message queue: {}", e.error),
    };
    let outside = mq_open(name.as_str(), MQ_OFlag::O_RDONLY, Mode::empty(), None);
    let host_ipc = namespace_ids().remove("ipc").unwrap_or_default();
    let seen_outside = match outside {
        Ok(q) => {
            let _ = nix::mqueue::mq_close(q);
            "opened it: the queue is visible".to_string()
        }
        Err(e) => format!("{e:?}"),
    };
    wait_released(&mut p.process)?;
    let passed = seen_outside == "ENOENT";
    Ok(verdict(
        "ipc",
        passed,
        format!("mq_open({name}, O_RDONLY) on the host ({host_ipc}) while the sandbox holds it"),
        format!("{}; from the host: {seen_outside}", held.evidence),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use isobench_workloads::cpu_view::RuntimeSeen;
    use std::path::PathBuf;

    /// What a 2-CPU host's sandbox sees: affinity 2, Rust `rust`, Java 2,
    /// Node not installed; the host's own figures throughout.
    fn seen(rust: u64) -> CpuSeen {
        CpuSeen {
            affinity: Ok(2),
            available_parallelism: Ok(rust),
            cpuinfo_processors: Ok(2),
            proc_stat_cpus: Ok(2),
            online_cpus: Ok(2),
            sysconf_nprocessors_onln: Ok(2),
            memtotal_bytes: Ok(8 << 30),
            sysinfo_totalram_bytes: Ok(8 << 30),
            sysinfo_procs: Ok(120),
            loadavg: Err("/proc/loadavg: Permission denied".into()),
            runtimes: vec![
                RuntimeSeen {
                    name: "java".into(),
                    asked: "availableProcessors".into(),
                    cpus: Ok(2),
                },
                RuntimeSeen {
                    name: "node".into(),
                    asked: "availableParallelism".into(),
                    cpus: Err("node not installed (not on PATH)".into()),
                },
            ],
        }
    }

    fn budget(cpus: f64) -> crate::cgroup::Result<CpuBudget> {
        Ok(CpuBudget {
            cpus,
            quota: Some((cpus, PathBuf::from("/sys/fs/cgroup/cpu/a"))),
            cpuset: None,
            online: 2,
            levels: vec![(PathBuf::from("/sys/fs/cgroup/cpu/a"), "cpu.max".into())],
        })
    }

    fn over(view: &CpuView) -> Vec<&str> {
        view.runtimes
            .iter()
            .filter(|r| r.over_budget)
            .map(|r| r.runtime.as_str())
            .collect()
    }

    #[test]
    fn a_runtime_counting_above_the_rounded_up_budget_is_flagged_and_only_it() {
        let def = VisibilityDef::default();
        let half = view_of(&def, &budget(0.5), &seen(1), &seen(1));
        assert_eq!(over(&half), ["affinity", "java"]);
        let f = findings(&half);
        assert_eq!(f.len(), 2, "{f:?}");
        assert!(
            f[1].starts_with("cpu-view: java sees 2 CPUs, budget 0.50"),
            "{}",
            f[1]
        );
        assert!(f[1].contains("-XX:ActiveProcessorCount"), "{}", f[1]);
        // ⌈1.5⌉ = 2: two CPUs is within the budget.
        let one_and_a_half = view_of(&def, &budget(1.5), &seen(1), &seen(1));
        assert!(over(&one_and_a_half).is_empty());
        // A runtime not installed is unavailable with its reason, never 0, never flagged.
        let node = half.runtimes.iter().find(|r| r.runtime == "node").unwrap();
        assert_eq!(
            node.cpus,
            Reading::Unavailable("node not installed (not on PATH)".into())
        );
        assert!(!node.over_budget);
    }

    #[test]
    fn host_figures_are_listed_as_the_hosts_and_never_flag_the_check() {
        let def = VisibilityDef::default();
        let view = view_of(&def, &budget(0.5), &seen(1), &seen(1));
        let shown: Vec<&str> = view
            .host_visible
            .iter()
            .filter(|f| f.host_value_shown)
            .map(|f| f.name.as_str())
            .collect();
        assert_eq!(shown.len(), 7, "{shown:?}");
        let load = view.host_visible.last().unwrap();
        assert_eq!(load.name, "/proc/loadavg");
        assert!(matches!(load.inside, Reading::Unavailable(_)) && !load.host_value_shown);
        // Within the budget (⌈2⌉), two processors in /proc are not the host's leak.
        let whole = view_of(&def, &budget(2.0), &seen(2), &seen(2));
        let cpuinfo = &whole.host_visible[0];
        assert!(!cpuinfo.host_value_shown, "{cpuinfo:?}");
        assert!(findings(&whole).is_empty());
    }

    #[test]
    fn an_unreadable_budget_is_unavailable_and_flags_nothing() {
        let def = VisibilityDef::default();
        let broken = Err(crate::cgroup::CgroupError::Layout(
            "no cpu controller".into(),
        ));
        let view = view_of(&def, &broken, &seen(2), &seen(2));
        assert!(
            matches!(view.budget_cpus, Reading::Unavailable(ref why) if why.contains("no cpu controller"))
        );
        assert!(over(&view).is_empty() && findings(&view).is_empty());
    }
}

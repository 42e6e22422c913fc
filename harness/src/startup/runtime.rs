//! The runtimes people use, timed in the same run as isobench's sandbox (issue
//! 16 part 4): util-linux `unshare`, bubblewrap `bwrap`, the OCI runtimes `crun`
//! and `runc`, and `podman` / `docker` where they can run here.
//!
//! Each starts the same static probe ([`super::static_probe`]), written once as
//! a real file into a rootfs of its own (`<work dir>/isobench-runtimes-*/rootfs/probe`,
//! with empty `dev/` and `proc/`, a FROM-scratch-like image), with the
//! namespaces of isobench's headline sandbox where the runtime allows it. A
//! start is timed from the request (just before the runtime's process is
//! spawned) to the probe's first instruction (its own CLOCK_MONOTONIC stamp on
//! stdout) and to the runtime's exit (reaped): the figure hyperfine gives for a
//! whole process.
//!
//! The OCI runtimes get a bundle (`config.json` per the OCI runtime spec,
//! <https://github.com/opencontainers/runtime-spec/blob/main/config.md>) and are
//! run with `run` (create, start, wait, delete), their cgroupfs driver making
//! the probe's cgroup as it does by default. Host safety (DESIGN §5): a cgroupfs
//! driver creates cgroups in every hierarchy it finds, and crun 1.8 resolves a
//! relative `cgroupsPath` from the hierarchy's root (seen on this host: a
//! memory cgroup at the root while the caller sat in `/process_api/…`). So they
//! run from a thread of their own in a private mount namespace where every
//! cgroup mount point is a bind mount of the run's arena directory in that
//! hierarchy, and their `cgroupsPath` is `/<runtime>`: whatever they create is
//! `<arena>/<runtime>`. crun 1.8 refuses hybrid layouts ("cgroups in hybrid mode
//! not supported, drop all controllers from cgroupv2") when the cgroup2 tree it
//! sees offers controllers: the host's cgroup2 root does (`hugetlb` on the
//! development host), the arena's directory, bound in its place, does not, so
//! there crun runs as it is. Where a runtime still refuses a hybrid layout, it
//! is tried once more with the cgroup2 mount unmounted in its namespace, and
//! its record ([`RuntimeInfo::how`]) says so with the runtime's own message;
//! where that fails too, it is unavailable with both messages.

use super::launch::{self, Stamps, Started};
use super::static_probe;
use crate::cgroup::{Arena, layout};
use crate::sandbox::{NamespaceSet, monotonic_ns};
use anyhow::{Context, Result, bail};
use isobench_reports::schema::RuntimeInfo;
use serde::Serialize;
use std::ffi::OsString;
use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// An external runtime.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Runtime {
    /// util-linux `unshare(1)` with `--fork`: the namespaces and nothing else, no cgroup.
    Unshare,
    /// bubblewrap `bwrap(1)`: always a new mount namespace and root; no cgroup.
    Bwrap,
    /// `crun run`, an OCI runtime in C, cgroupfs driver.
    Crun,
    /// `runc run`, the OCI reference runtime in Go, cgroupfs driver.
    Runc,
    /// `podman run` (timed only where it can run offline and inside the arena).
    Podman,
    /// `docker run` (timed only where it can run offline and inside the arena).
    Docker,
}

impl Runtime {
    /// Every runtime looked for, in the order reported.
    pub const ALL: [Runtime; 6] = [
        Runtime::Unshare,
        Runtime::Bwrap,
        Runtime::Crun,
        Runtime::Runc,
        Runtime::Podman,
        Runtime::Docker,
    ];

    /// Its variant name (metrics `startup.<name>.*`) and the program looked for on PATH.
    pub fn name(self) -> &'static str {
        match self {
            Runtime::Unshare => "unshare",
            Runtime::Bwrap => "bwrap",
            Runtime::Crun => "crun",
            Runtime::Runc => "runc",
            Runtime::Podman => "podman",
            Runtime::Docker => "docker",
        }
    }

    fn oci(self) -> bool {
        matches!(self, Runtime::Crun | Runtime::Runc)
    }

    /// The namespaces it gives the probe when asked for `want` (net and user
    /// are never asked: net is measured apart, user is not in the headline):
    /// bwrap and the OCI runtimes always make a mount namespace.
    pub fn namespaces(self, want: NamespaceSet) -> NamespaceSet {
        let asked = NamespaceSet {
            net: false,
            user: false,
            ..want
        };
        match self {
            Runtime::Unshare => asked,
            _ => NamespaceSet { mnt: true, ..asked },
        }
    }
}

/// A startup variant per runtime of [`Runtime::ALL`], named after it.
pub fn variants() -> Vec<super::variant::Variant> {
    Runtime::ALL
        .into_iter()
        .map(|runtime| super::variant::Variant {
            name: runtime.name(),
            method: super::variant::Method::Runtime { runtime },
        })
        .collect()
}

/// Finds `program` in the directories of `path` (a `PATH` value): the first
/// executable regular file of that name.
pub fn find_on_path(program: &str, path: &std::ffi::OsStr) -> Option<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    std::env::split_paths(path)
        .map(|dir| dir.join(program))
        .find(|p| {
            std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        })
}

/// The arguments after the program for one start of the probe by `runtime`
/// (unshare, bwrap, crun, runc) with namespaces `ns` ([`Runtime::namespaces`]).
/// `dir` is the runtime's directory: the probe is `<dir>/../rootfs/probe` for
/// unshare, `rootfs` is bound as bwrap's root, and an OCI runtime keeps its
/// state in `<dir>/state` and reads `<dir>/config.json` ([`oci_config`]);
/// `container` names the OCI container. `inspect` passes the probe `--inspect`
/// (for the OCI runtimes it is in `config.json`).
///
/// # Errors
/// For podman and docker, which isobench does not start itself.
pub fn command_line(
    runtime: Runtime,
    ns: NamespaceSet,
    rootfs: &Path,
    dir: &Path,
    container: &str,
    inspect: bool,
) -> Result<Vec<OsString>> {
    let flag = |on: bool, f: &str| on.then(|| OsString::from(f));
    let mut args: Vec<OsString> = match runtime {
        Runtime::Unshare => [
            flag(ns.pid, "--pid"),
            flag(ns.pid, "--fork"),
            flag(ns.mnt, "--mount"),
            flag(ns.uts, "--uts"),
            flag(ns.ipc, "--ipc"),
            flag(ns.cgroup, "--cgroup"),
            // isobench's sandbox changes no mount propagation either.
            flag(ns.mnt, "--propagation=unchanged"),
            Some(rootfs.join("probe").into()),
        ]
        .into_iter()
        .flatten()
        .collect(),
        Runtime::Bwrap => {
            let mut a: Vec<OsString> = [
                flag(ns.pid, "--unshare-pid"),
                flag(ns.uts, "--unshare-uts"),
                flag(ns.ipc, "--unshare-ipc"),
                flag(ns.cgroup, "--unshare-cgroup"),
                // The probe is pid 1, as in isobench's sandbox, not a child of bwrap's reaper.
                flag(ns.pid, "--as-pid-1"),
            ]
            .into_iter()
            .flatten()
            .collect();
            a.extend(["--ro-bind".into(), rootfs.into(), "/".into()]);
            a.extend(["--proc", "/proc", "/probe"].map(OsString::from));
            a
        }
        Runtime::Crun | Runtime::Runc => vec![
            "--root".into(),
            dir.join("state").into(),
            "run".into(),
            "--bundle".into(),
            dir.into(),
            container.into(),
        ],
        Runtime::Podman | Runtime::Docker => {
            bail!("isobench does not start {} itself", runtime.name())
        }
    };
    if inspect && !runtime.oci() {
        args.push("--inspect".into());
    }
    Ok(args)
}

/// The OCI `config.json` of an OCI runtime's bundle: the probe as the process
/// (`--inspect` with `inspect`), `rootfs` read-only as root, `/proc` mounted
/// (what every container has; the probe reads /proc/self/cgroup there with
/// `--inspect`), the namespaces of `ns` (no network namespace: the host's, as
/// isobench's headline sandbox), and its cgroup at `cgroups_path`.
pub fn oci_config(
    ns: NamespaceSet,
    rootfs: &Path,
    cgroups_path: &str,
    inspect: bool,
) -> serde_json::Value {
    let mut args = vec!["/probe"];
    if inspect {
        args.push("--inspect");
    }
    let namespaces: Vec<serde_json::Value> = [
        (ns.pid, "pid"),
        (ns.mnt, "mount"),
        (ns.uts, "uts"),
        (ns.ipc, "ipc"),
        (ns.cgroup, "cgroup"),
    ]
    .into_iter()
    .filter(|(on, _)| *on)
    .map(|(_, t)| serde_json::json!({ "type": t }))
    .collect();
    serde_json::json!({
        "ociVersion": "1.0.2",
        "process": {
            "terminal": false,
            "user": { "uid": 0, "gid": 0 },
            "args": args,
            "env": [],
            "cwd": "/",
            "noNewPrivileges": true
        },
        "root": { "path": rootfs, "readonly": true },
        "mounts": [ { "destination": "/proc", "type": "proc", "source": "proc" } ],
        "linux": { "cgroupsPath": cgroups_path, "namespaces": namespaces }
    })
}

/// One timed start of `program args`: request → probe's stamp → reaped.
/// Its stderr goes to `stderr` (truncated first) and is quoted when it fails.
///
/// # Errors
/// Spawn failures naming the program; a start past `limit` (the process is
/// killed); a runtime that exits with a failure, with its stderr; a probe
/// that wrote no stamp.
fn timed(program: &Path, args: &[OsString], stderr: &Path, limit: Duration) -> Result<Started> {
    let err_file =
        std::fs::File::create(stderr).with_context(|| format!("creating {}", stderr.display()))?;
    let mut command = Command::new(program);
    command
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(err_file);
    let request = monotonic_ns();
    let deadline = Instant::now() + limit;
    let mut child = command
        .spawn()
        .with_context(|| format!("starting {}", program.display()))?;
    let mut out = std::fs::File::from(OwnedFd::from(
        child.stdout.take().context("the runtime's stdout")?,
    ));
    // EOF comes when the probe and the runtime (which holds its stdout) have exited.
    let read = launch::read_probe_by(&mut out, deadline);
    let status = reap_by(&mut child, deadline);
    let reaped = monotonic_ns();
    let said = || {
        let text = std::fs::read_to_string(stderr).unwrap_or_default();
        let text = text.trim();
        if text.is_empty() {
            String::from("(nothing on stderr)")
        } else {
            text.lines().rev().take(3).collect::<Vec<_>>().join(" / ")
        }
    };
    let status = status?;
    if !status.success() {
        bail!("{} exited with {status}: {}", program.display(), said());
    }
    let (first, output) = read.with_context(|| format!("{}: {}", program.display(), said()))?;
    Ok(Started {
        stamps: Stamps {
            request,
            first,
            reaped,
            ..Stamps::default()
        },
        output,
    })
}

/// How long [`reap_by`] yields the CPU between looks before it sleeps between them.
const REAP_SPIN: Duration = Duration::from_millis(2);

/// Waits for `child` until `deadline`, then kills it. Called once its stdout
/// closed, the runtime is exiting: it looks again after each sched_yield(2)
/// for [`REAP_SPIN`], so the exit stamp is not rounded up by a sleep, then
/// every 200 µs.
fn reap_by(child: &mut Child, deadline: Instant) -> Result<std::process::ExitStatus> {
    let spin_until = Instant::now() + REAP_SPIN;
    loop {
        if let Some(status) = child.try_wait().context("waiting for the runtime")? {
            return Ok(status);
        }
        let now = Instant::now();
        if now >= deadline {
            let _ = child.kill();
            let status = child.wait().context("reaping the runtime")?;
            bail!("the runtime did not exit by its deadline; it was killed ({status})");
        }
        if now < spin_until {
            std::thread::yield_now();
        } else {
            std::thread::sleep(Duration::from_micros(200));
        }
    }
}

/// Runs the first line of `program args`, bounded by `limit`, for a version or a check.
fn first_line(program: &Path, args: &[&str], limit: Duration) -> Result<String> {
    let dir = tempfile::tempdir().context("a temporary directory")?;
    // Files, not pipes: an engine's `info` may write more than a pipe holds.
    let file = |name: &str| {
        std::fs::File::create(dir.path().join(name))
            .with_context(|| format!("creating {}", dir.path().join(name).display()))
    };
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(file("out")?)
        .stderr(file("err")?)
        .spawn()
        .with_context(|| format!("starting {}", program.display()))?;
    let status = reap_by(&mut child, Instant::now() + limit)?;
    let out = std::fs::read_to_string(dir.path().join("out")).unwrap_or_default();
    let err = std::fs::read_to_string(dir.path().join("err")).unwrap_or_default();
    if !status.success() {
        let said = err
            .lines()
            .chain(out.lines())
            .find(|l| !l.trim().is_empty());
        bail!(
            "`{} {}` exited with {status}: {}",
            program.display(),
            args.join(" "),
            said.unwrap_or("(no message)").trim()
        );
    }
    Ok(out.lines().next().unwrap_or_default().trim().to_string())
}

/// A request to the confined thread: program, arguments, stderr file, time limit.
type Job = (PathBuf, Vec<OsString>, PathBuf, Duration);

/// A thread in a private mount namespace where every cgroup mount point is
/// the arena's directory of that hierarchy (bind mounts), and with `unmount`
/// also that mount gone; the OCI runtimes are spawned from it and inherit it.
struct Confined {
    jobs: Option<mpsc::Sender<Job>>,
    done: mpsc::Receiver<Result<Started>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Confined {
    /// Starts the thread and sets up its namespace.
    ///
    /// # Errors
    /// unshare(2), mount(2) or umount2(2) failing, naming the path.
    fn new(binds: Vec<(PathBuf, PathBuf)>, unmount: Option<PathBuf>) -> Result<Confined> {
        let (jobs, todo) = mpsc::channel::<Job>();
        let (report, done) = mpsc::channel::<Result<Started>>();
        let (ready_tx, ready) = mpsc::channel::<Result<()>>();
        let thread = std::thread::Builder::new()
            .name("isobench-oci".into())
            .spawn(move || {
                let set_up = confine(&binds, unmount.as_deref());
                let ok = set_up.is_ok();
                let _ = ready_tx.send(set_up);
                if !ok {
                    return;
                }
                for (program, args, stderr, limit) in todo {
                    if report.send(timed(&program, &args, &stderr, limit)).is_err() {
                        return;
                    }
                }
            })
            .context("starting the thread of the OCI runtimes")?;
        let confined = Confined {
            jobs: Some(jobs),
            done,
            thread: Some(thread),
        };
        ready
            .recv()
            .context("the thread of the OCI runtimes ended before its set-up")??;
        Ok(confined)
    }

    fn run(&self, job: Job) -> Result<Started> {
        self.jobs
            .as_ref()
            .context("the thread of the OCI runtimes is gone")?
            .send(job)
            .ok()
            .context("the thread of the OCI runtimes is gone")?;
        self.done
            .recv()
            .context("the thread of the OCI runtimes ended")?
    }
}

impl Drop for Confined {
    fn drop(&mut self) {
        self.jobs = None;
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// The calling thread's private mount namespace (mount_namespaces(7)): no
/// propagation to or from the host, `unmount` detached, then each `(from, onto)`
/// bind-mounted.
fn confine(binds: &[(PathBuf, PathBuf)], unmount: Option<&Path>) -> Result<()> {
    use nix::mount::{MntFlags, MsFlags, mount, umount2};
    // CLONE_NEWNS implies CLONE_FS: only this thread's view changes.
    nix::sched::unshare(nix::sched::CloneFlags::CLONE_NEWNS)
        .context("unshare(CLONE_NEWNS) for the OCI runtimes")?;
    mount(
        None::<&str>,
        "/",
        None::<&str>,
        MsFlags::MS_REC | MsFlags::MS_PRIVATE,
        None::<&str>,
    )
    .context("making / private in the OCI runtimes' mount namespace")?;
    if let Some(path) = unmount {
        umount2(path, MntFlags::MNT_DETACH)
            .with_context(|| format!("unmounting {}", path.display()))?;
    }
    for (from, onto) in binds {
        mount(
            Some(from.as_path()),
            onto.as_path(),
            None::<&str>,
            MsFlags::MS_BIND,
            None::<&str>,
        )
        .with_context(|| format!("bind-mounting {} onto {}", from.display(), onto.display()))?;
    }
    Ok(())
}

/// Directories `<own>/<arena name>` this module made in hierarchies where the
/// arena has none (named ones such as `name=systemd`, devices, freezer), for
/// the OCI runtimes' binds; removed, deepest first, on drop.
struct MadeDirs(Vec<PathBuf>);

impl Drop for MadeDirs {
    fn drop(&mut self) {
        for dir in self.0.iter().rev() {
            if let Err(e) = crate::cgroup::teardown::remove_all(std::iter::once(dir.clone())) {
                eprintln!(
                    "warning: removing {}: {e}; run `isobench cleanup`",
                    dir.display()
                );
            }
        }
    }
}

/// A runtime ready to start the probe.
struct Ready {
    runtime: Runtime,
    program: PathBuf,
    /// Its directory: the OCI bundle (config.json, state/) and its stderr file.
    dir: PathBuf,
    confined: Option<Confined>,
}

/// What every start of every runtime shares.
struct How {
    /// The headline sandbox's namespaces (each runtime gets [`Runtime::namespaces`] of them).
    ns: NamespaceSet,
    /// The probe's rootfs: `probe`, `dev/`, `proc/`.
    rootfs: PathBuf,
    /// Whether the probe prints its pid and cgroups after its stamp.
    inspect: bool,
    /// How long a start may take, from the request to the runtime's exit.
    deadline: Duration,
    /// Starts so far: container names are `isobench-<pid>-<serial>`.
    serial: usize,
}

impl How {
    /// Starts the probe once by `ready` and waits for the runtime's exit; a
    /// failed OCI container is deleted.
    fn start(&mut self, ready: &Ready) -> Result<Started> {
        let runtime = ready.runtime;
        self.serial += 1;
        let container = format!("isobench-{}-{}", std::process::id(), self.serial);
        let args = command_line(
            runtime,
            runtime.namespaces(self.ns),
            &self.rootfs,
            &ready.dir,
            &container,
            self.inspect,
        )?;
        let job = (
            ready.program.clone(),
            args,
            ready.dir.join("stderr"),
            self.deadline,
        );
        let Some(confined) = &ready.confined else {
            return timed(&job.0, &job.1, &job.2, job.3);
        };
        let started = confined.run(job);
        if started.is_err() {
            // Whatever the failed start left: its container, and its cgroup with it.
            let delete = [
                "--root".into(),
                ready.dir.join("state").into(),
                "delete".into(),
            ];
            let delete = delete
                .into_iter()
                .chain(["-f".into(), container.into()])
                .collect();
            let _ = confined.run((
                ready.program.clone(),
                delete,
                ready.dir.join("stderr-delete"),
                self.deadline,
            ));
        }
        started
    }

    /// Starts an OCI runtime once from a confined thread; on a hybrid host where
    /// it refuses the layout, again with the cgroup2 mount unmounted there.
    /// Returns a note on what was done beyond the binds.
    fn check_oci(
        &mut self,
        ready: &mut Ready,
        binds: Vec<(PathBuf, PathBuf)>,
        arena: &Arena,
    ) -> Result<Option<String>> {
        ready.confined = Some(Confined::new(binds.clone(), None)?);
        let Err(refusal) = self.start(ready) else {
            return Ok(None);
        };
        if arena.layout() != layout::Layout::Hybrid {
            return Err(refusal);
        }
        let unified = binds
            .iter()
            .map(|(_, onto)| onto)
            .find(|p| p.ends_with("unified"))
            .cloned()
            .context("no cgroup2 mount to remove")?;
        let others: Vec<_> = binds.into_iter().filter(|(_, o)| *o != unified).collect();
        ready.confined = Some(Confined::new(others, Some(unified.clone()))?);
        self.start(ready).with_context(|| {
            format!(
                "also without the cgroup2 mount, after it refused the hybrid layout: {refusal:#}"
            )
        })?;
        Ok(Some(format!(
            "it refused this hybrid layout ({refusal:#}), so it runs where {} (the cgroup2 mount) is unmounted",
            unified.display()
        )))
    }
}

/// The runtimes found on the host, checked once, with the probe's rootfs.
pub struct Runtimes {
    ready: Vec<Ready>,
    info: Vec<RuntimeInfo>,
    how: How,
    // Dropped in this order: the confined threads (in `ready`), then the
    // directories, then the files.
    made: MadeDirs,
    _dir: tempfile::TempDir,
}

impl Runtimes {
    /// Looks for every runtime of [`Runtime::ALL`] in `path` (a `PATH` value), writes the probe's
    /// rootfs and the OCI bundles into a temporary directory under `work_dir`,
    /// and starts each found runtime once; one that fails is recorded as
    /// unavailable with its own message. `ns`: the headline sandbox's namespaces;
    /// `inspect`: the probe prints its pid and cgroups after its stamp.
    ///
    /// # Errors
    /// Writing the rootfs (a read-only or full `work_dir`).
    pub fn prepare(
        work_dir: &Path,
        arena: &Arena,
        ns: NamespaceSet,
        inspect: bool,
        path: &std::ffi::OsStr,
    ) -> Result<Runtimes> {
        let dir = tempfile::Builder::new()
            .prefix("isobench-runtimes-")
            .tempdir_in(work_dir)
            .with_context(|| format!("a directory for the runtimes in {}", work_dir.display()))?;
        let rootfs = dir.path().join("rootfs");
        for sub in ["dev", "proc"] {
            std::fs::create_dir_all(rootfs.join(sub))
                .with_context(|| format!("creating {}", rootfs.join(sub).display()))?;
        }
        write_probe(&rootfs.join("probe"))?;
        let mut me = Runtimes {
            ready: Vec::new(),
            info: Vec::new(),
            how: How {
                ns,
                rootfs,
                inspect,
                deadline: launch::DEADLINE,
                serial: 0,
            },
            made: MadeDirs(Vec::new()),
            _dir: dir,
        };
        let mut binds: Option<Result<Vec<(PathBuf, PathBuf)>, String>> = None;
        for runtime in Runtime::ALL {
            let found = find_on_path(runtime.name(), path);
            let mut info = RuntimeInfo {
                name: runtime.name().into(),
                program: found.as_ref().map(|p| p.display().to_string()),
                version: None,
                namespaces: Vec::new(),
                cgroup: String::new(),
                how: String::new(),
                unavailable: None,
            };
            let Some(program) = found else {
                info.unavailable = Some(format!("not installed: no {} on PATH", runtime.name()));
                me.info.push(info);
                continue;
            };
            info.version = first_line(&program, &["--version"], Duration::from_secs(5)).ok();
            if matches!(runtime, Runtime::Podman | Runtime::Docker) {
                info.unavailable = Some(engine_unavailable(runtime, &program));
                me.info.push(info);
                continue;
            }
            let got = runtime.namespaces(ns);
            info.namespaces = got.names().iter().map(|n| n.to_string()).collect();
            let rt_dir = me._dir.path().join(runtime.name());
            std::fs::create_dir_all(&rt_dir)
                .with_context(|| format!("creating {}", rt_dir.display()))?;
            let mut ready = Ready {
                runtime,
                program: program.clone(),
                dir: rt_dir,
                confined: None,
            };
            let args = command_line(
                runtime,
                got,
                &me.how.rootfs,
                &ready.dir,
                "isobench-<pid>-<n>",
                inspect,
            )?;
            info.how = format!(
                "{} {}",
                program.display(),
                args.iter()
                    .map(|a| a.to_string_lossy())
                    .collect::<Vec<_>>()
                    .join(" ")
            );
            if runtime.oci() {
                let b = binds
                    .get_or_insert_with(|| me.cgroup_binds(arena).map_err(|e| format!("{e:#}")));
                let b = match b {
                    Ok(b) => b.clone(),
                    Err(e) => {
                        info.unavailable = Some(e.clone());
                        me.info.push(info);
                        continue;
                    }
                };
                let config = oci_config(
                    got,
                    &me.how.rootfs,
                    &format!("/{}", runtime.name()),
                    inspect,
                );
                std::fs::write(ready.dir.join("config.json"), config.to_string())
                    .context("writing config.json")?;
                info.cgroup = format!(
                    "its own, by its cgroupfs driver, cgroupsPath /{} in a private mount namespace where \
                     each cgroup hierarchy is the run's arena (bind mounts): <arena>/{} in every hierarchy",
                    runtime.name(),
                    runtime.name()
                );
                match me.how.check_oci(&mut ready, b, arena) {
                    Ok(note) => {
                        if let Some(note) = note {
                            info.how.push_str(&format!("; {note}"));
                        }
                    }
                    Err(e) => {
                        info.unavailable = Some(format!("{e:#}"));
                        me.info.push(info);
                        continue;
                    }
                }
            } else {
                info.cgroup = format!("none: {} makes no cgroup", runtime.name());
                if let Err(e) = me.how.start(&ready) {
                    info.unavailable = Some(format!("{e:#}"));
                    me.info.push(info);
                    continue;
                }
            }
            me.ready.push(ready);
            me.info.push(info);
        }
        Ok(me)
    }

    /// What each runtime got, or why it was not timed, in [`Runtime::ALL`]'s order.
    pub fn info(&self) -> &[RuntimeInfo] {
        &self.info
    }

    /// Why `runtime` cannot be timed, or `None` when it can.
    pub fn unavailable(&self, runtime: Runtime) -> Option<String> {
        if self.ready.iter().any(|r| r.runtime == runtime) {
            return None;
        }
        let why = self.info.iter().find(|i| i.name == runtime.name());
        Some(
            why.and_then(|i| i.unavailable.clone())
                .unwrap_or_else(|| "not looked for".into()),
        )
    }

    /// The same runtimes, given `deadline` instead of [`launch::DEADLINE`] per start.
    pub fn with_deadline(mut self, deadline: Duration) -> Runtimes {
        self.how.deadline = deadline;
        self
    }

    /// Starts the probe once by `runtime` and waits for the runtime's exit.
    ///
    /// # Errors
    /// A runtime that is unavailable ([`Runtimes::unavailable`]) or whose start failed,
    /// with its message; a failed OCI container is deleted.
    pub fn start(&mut self, runtime: Runtime) -> Result<Started> {
        match self.ready.iter().find(|r| r.runtime == runtime) {
            Some(ready) => self.how.start(ready),
            None => bail!(
                "{} is unavailable: {}",
                runtime.name(),
                self.unavailable(runtime).unwrap_or_default()
            ),
        }
    }

    /// `(arena directory, mount point)` for every cgroup mount: the arena's own
    /// where it has one, else `<own>/<arena name>` made here (removed on drop).
    fn cgroup_binds(&mut self, arena: &Arena) -> Result<Vec<(PathBuf, PathBuf)>> {
        let read = |p: &str| std::fs::read_to_string(p).with_context(|| format!("reading {p}"));
        let mounts = layout::every_mount_own_dir(
            &read("/proc/self/mountinfo")?,
            &read("/proc/self/cgroup")?,
        )?;
        let name = arena
            .dirs()
            .first()
            .and_then(|d| d.file_name())
            .context("the arena has no directory")?
            .to_owned();
        let mut binds = Vec::new();
        for (mount_point, own) in mounts {
            let dir = own.join(&name);
            if !arena.dirs().contains(&dir) {
                std::fs::create_dir(&dir).with_context(|| format!("creating {}", dir.display()))?;
                self.made.0.push(dir.clone());
            }
            binds.push((dir, mount_point));
        }
        Ok(binds)
    }
}

/// Writes the embedded probe to `path`, executable.
fn write_probe(path: &Path) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::write(path, static_probe::IMAGE)
        .with_context(|| format!("writing the probe to {}", path.display()))?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755))
        .with_context(|| format!("making {} executable", path.display()))
}

/// Why podman or docker is not timed: the engine's own message when it does
/// not answer, else that it would place the container's cgroups itself.
fn engine_unavailable(runtime: Runtime, program: &Path) -> String {
    match first_line(program, &["info"], Duration::from_secs(10)) {
        Err(e) => format!("{e:#}"),
        Ok(_) => format!(
            "{} answers, but isobench does not time it: it needs an image built offline and \
             places the container's cgroups under its own parent, outside the run's arena \
             (DESIGN §5); time it with hyperfine beside this run",
            runtime.name()
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::startup::variant::HEADLINE;

    fn strings(v: &[OsString]) -> Vec<String> {
        v.iter().map(|a| a.to_string_lossy().into_owned()).collect()
    }

    #[test]
    fn command_lines_ask_for_the_headline_namespaces() {
        let ns = HEADLINE;
        let rootfs = Path::new("/r/rootfs");
        let dir = Path::new("/r/crun");
        let unshare = command_line(
            Runtime::Unshare,
            Runtime::Unshare.namespaces(ns),
            rootfs,
            dir,
            "c",
            true,
        )
        .unwrap();
        assert_eq!(
            strings(&unshare),
            [
                "--pid",
                "--fork",
                "--mount",
                "--uts",
                "--ipc",
                "--cgroup",
                "--propagation=unchanged",
                "/r/rootfs/probe",
                "--inspect"
            ]
        );
        let bwrap = command_line(
            Runtime::Bwrap,
            Runtime::Bwrap.namespaces(ns),
            rootfs,
            dir,
            "c",
            false,
        )
        .unwrap();
        assert_eq!(
            strings(&bwrap),
            [
                "--unshare-pid",
                "--unshare-uts",
                "--unshare-ipc",
                "--unshare-cgroup",
                "--as-pid-1",
                "--ro-bind",
                "/r/rootfs",
                "/",
                "--proc",
                "/proc",
                "/probe"
            ]
        );
        let crun = command_line(Runtime::Crun, ns, rootfs, dir, "isobench-1-2", true).unwrap();
        assert_eq!(
            strings(&crun),
            [
                "--root",
                "/r/crun/state",
                "run",
                "--bundle",
                "/r/crun",
                "isobench-1-2"
            ]
        );
        assert!(command_line(Runtime::Docker, ns, rootfs, dir, "c", false).is_err());
        // Without a pid namespace unshare neither forks nor asks for one.
        let only_uts = NamespaceSet {
            uts: true,
            ..NamespaceSet::default()
        };
        let u = command_line(Runtime::Unshare, only_uts, rootfs, dir, "c", false).unwrap();
        assert_eq!(strings(&u), ["--uts", "/r/rootfs/probe"]);
    }

    #[test]
    fn runtimes_never_get_net_or_user_and_bwrap_and_oci_always_get_mnt() {
        let all = NamespaceSet {
            user: true,
            ..NamespaceSet::ALL
        };
        for r in Runtime::ALL {
            let got = r.namespaces(all);
            assert!(!got.net && !got.user, "{r:?}");
        }
        let none = NamespaceSet::default();
        assert!(!Runtime::Unshare.namespaces(none).mnt);
        assert!(Runtime::Bwrap.namespaces(none).mnt && Runtime::Runc.namespaces(none).mnt);
    }

    #[test]
    fn the_oci_bundle_has_the_probe_the_namespaces_and_the_cgroup_path() {
        let c = oci_config(HEADLINE, Path::new("/r/rootfs"), "/crun", true);
        assert_eq!(
            c["process"]["args"],
            serde_json::json!(["/probe", "--inspect"])
        );
        assert_eq!(c["root"]["path"], "/r/rootfs");
        assert_eq!(c["linux"]["cgroupsPath"], "/crun");
        let types: Vec<&str> = c["linux"]["namespaces"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n["type"].as_str().unwrap())
            .collect();
        assert_eq!(types, ["pid", "mount", "uts", "ipc", "cgroup"]);
        let plain = oci_config(
            NamespaceSet {
                pid: true,
                ..NamespaceSet::default()
            },
            Path::new("/x"),
            "/runc",
            false,
        );
        assert_eq!(plain["process"]["args"], serde_json::json!(["/probe"]));
        assert_eq!(
            plain["linux"]["namespaces"],
            serde_json::json!([{ "type": "pid" }])
        );
    }

    #[test]
    fn programs_are_found_only_as_executable_files_on_path() {
        use std::os::unix::fs::PermissionsExt;
        let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        std::fs::write(a.path().join("crun"), "").unwrap();
        std::fs::write(b.path().join("crun"), "#!/bin/sh\n").unwrap();
        std::fs::set_permissions(
            b.path().join("crun"),
            std::fs::Permissions::from_mode(0o755),
        )
        .unwrap();
        std::fs::create_dir(a.path().join("runc")).unwrap();
        let path = std::env::join_paths([a.path(), b.path()]).unwrap();
        assert_eq!(find_on_path("crun", &path), Some(b.path().join("crun")));
        assert_eq!(find_on_path("runc", &path), None);
    }
}

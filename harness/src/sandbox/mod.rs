//! Sandboxes: a workload started in fresh namespaces and attached to its cgroup
//! before its first instruction.
//!
//! The child is cloned with `CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWUTS |
//! CLONE_NEWIPC | CLONE_NEWNET` (each switchable), blocks until the harness has
//! written its pid to `cgroup.procs` in every hierarchy, enters a new cgroup
//! namespace (`CLONE_NEWCGROUP`, so the sandbox's cgroup is its root), brings `lo`
//! up in a new network namespace, and execs
//! `isobench-workload sandbox-init`, which runs as pid 1: it makes mounts private,
//! mounts a fresh /proc, sets the hostname, starts the workload and reaps.
//! See clone(2), namespaces(7), pid_namespaces(7), cgroup_namespaces(7).

mod process;
pub mod sys;

pub use process::{Process, WaitError};

use crate::cgroup::{Cgroup, CgroupError};
use nix::sched::CloneFlags;
use serde::{Deserialize, Serialize};
use std::ffi::CString;
use std::os::fd::AsFd;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

/// Hostname set inside a sandbox with a UTS namespace.
pub const SANDBOX_HOSTNAME: &str = "isobench-sandbox";

/// Which namespaces a sandbox gets (namespaces(7)). `Default` is none: an unconfined process.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NamespaceSet {
    /// `CLONE_NEWPID`: own pid numbering, the sandbox init is pid 1.
    pub pid: bool,
    /// `CLONE_NEWNS`: own mount table, private propagation, fresh /proc.
    pub mnt: bool,
    /// `CLONE_NEWUTS`: own hostname.
    pub uts: bool,
    /// `CLONE_NEWIPC`: own System V IPC and POSIX message queues.
    pub ipc: bool,
    /// `CLONE_NEWNET`: own network stack, only `lo`.
    pub net: bool,
    /// `CLONE_NEWCGROUP`: own cgroup root, entered after the attach.
    pub cgroup: bool,
    /// `CLONE_NEWUSER`: own user ids; uid and gid 0 inside map to [`UNPRIVILEGED_ID`]
    /// outside (user_namespaces(7)). Off in [`NamespaceSet::ALL`]: the workload then
    /// needs the binary and its files readable by that id.
    #[serde(default)]
    pub user: bool,
}

/// The id outside a user namespace that uid and gid 0 inside map to: `nobody`.
pub const UNPRIVILEGED_ID: u32 = 65534;

impl NamespaceSet {
    /// Every namespace a sandbox gets by default: pid, mnt, uts, ipc, net and cgroup (not user).
    pub const ALL: NamespaceSet = NamespaceSet {
        pid: true,
        mnt: true,
        uts: true,
        ipc: true,
        net: true,
        cgroup: true,
        user: false,
    };

    /// True when no namespace is requested.
    pub fn is_empty(&self) -> bool {
        *self == NamespaceSet::default()
    }

    /// The clone(2) flags for every namespace but cgroup, which is unshared after the attach.
    pub fn clone_flags(&self) -> CloneFlags {
        [
            (self.pid, CloneFlags::CLONE_NEWPID),
            (self.mnt, CloneFlags::CLONE_NEWNS),
            (self.uts, CloneFlags::CLONE_NEWUTS),
            (self.ipc, CloneFlags::CLONE_NEWIPC),
            (self.net, CloneFlags::CLONE_NEWNET),
            (self.user, CloneFlags::CLONE_NEWUSER),
        ]
        .into_iter()
        .filter(|(on, _)| *on)
        .fold(CloneFlags::empty(), |acc, (_, f)| acc | f)
    }

    /// Names of the namespaces in the set, e.g. `["pid", "net"]`.
    pub fn names(&self) -> Vec<&'static str> {
        [
            (self.pid, "pid"),
            (self.mnt, "mnt"),
            (self.uts, "uts"),
            (self.ipc, "ipc"),
            (self.net, "net"),
            (self.cgroup, "cgroup"),
            (self.user, "user"),
        ]
        .into_iter()
        .filter_map(|(on, n)| on.then_some(n))
        .collect()
    }
}

/// Why a sandbox could not start.
#[derive(Debug, thiserror::Error)]
pub enum SpawnError {
    /// clone(2) refused the namespaces.
    #[error(
        "clone with namespaces {namespaces:?} failed: {errno} (needs root or CAP_SYS_ADMIN; see `isobench doctor`)"
    )]
    Clone {
        /// The namespaces asked for.
        namespaces: Vec<&'static str>,
        /// The kernel's answer.
        errno: nix::errno::Errno,
    },
    /// The child could not be moved into its cgroup; it was killed.
    #[error("attaching the sandbox to its cgroup: {0}")]
    Attach(CgroupError),
    /// The child failed between clone and exec.
    #[error("starting {program}: {step:?} failed: {errno}")]
    Child {
        /// The workload binary.
        program: PathBuf,
        /// The step that failed.
        step: sys::ChildStep,
        /// The kernel's answer.
        errno: nix::errno::Errno,
    },
    /// Pipes, the report file, or an argument with a NUL byte.
    #[error("preparing the sandbox: {0}")]
    Setup(String),
}

/// Maps uid and gid 0 of the child's new user namespace to [`UNPRIVILEGED_ID`]
/// (user_namespaces(7): setgroups must be denied before gid_map is written).
fn map_root_to_unprivileged(pid: i32) -> std::io::Result<()> {
    let proc = PathBuf::from(format!("/proc/{pid}"));
    std::fs::write(proc.join("setgroups"), "deny")?;
    std::fs::write(proc.join("uid_map"), format!("0 {UNPRIVILEGED_ID} 1"))?;
    std::fs::write(proc.join("gid_map"), format!("0 {UNPRIVILEGED_ID} 1"))
}

/// Starts `isobench-workload` (at `program`) with `args` in the namespaces `ns`,
/// attached to `cgroup` before its first instruction. Its stdout goes to a
/// temporary file that [`Process::output`] reads back.
///
/// # Errors
/// [`SpawnError`] naming the step; a child that was created is killed and reaped.
pub fn spawn(
    program: &Path,
    args: &[String],
    ns: NamespaceSet,
    cgroup: Option<&Cgroup>,
) -> Result<Process, SpawnError> {
    start(program, args, ns, cgroup, None, None)
}

/// Starts `isobench-workload` (at `program`) with `args` in no namespace of its
/// own but in the network namespace of process `pid` (joined with setns(2)
/// from `/proc/<pid>/ns/net` before the exec), attached to `cgroup` before its
/// first instruction: a client that reaches a sandbox's 127.0.0.1 while its CPU
/// is charged elsewhere (a service victim's driver). Its stdout goes to a
/// temporary file that [`Process::output`] reads back.
///
/// # Errors
/// [`SpawnError::Setup`] naming `/proc/<pid>/ns/net` when it cannot be opened
/// (the process has ended); [`SpawnError::Child`] with step `JoinNetns` when
/// setns(2) is refused; the others of [`spawn`].
pub fn spawn_in_netns_of(
    program: &Path,
    args: &[String],
    pid: i32,
    cgroup: Option<&Cgroup>,
) -> Result<Process, SpawnError> {
    let path = format!("/proc/{pid}/ns/net");
    let netns = std::fs::File::open(&path)
        .map_err(|e| SpawnError::Setup(format!("opening {path}: {e}")))?;
    start(
        program,
        args,
        NamespaceSet::default(),
        cgroup,
        None,
        Some(netns.as_fd()),
    )
}

/// [`spawn`], calling `before_release` with the child's pid once it is in its
/// cgroup and before it runs on: what is attached there (e.g. perf counters with
/// `inherit`) sees every instruction of the sandbox.
///
/// # Errors
/// As [`spawn`].
pub fn spawn_with(
    program: &Path,
    args: &[String],
    ns: NamespaceSet,
    cgroup: Option<&Cgroup>,
    before_release: &mut dyn FnMut(i32),
) -> Result<Process, SpawnError> {
    start(program, args, ns, cgroup, Some(before_release), None)
}

/// [`spawn`], [`spawn_with`] and [`spawn_in_netns_of`]: the sandbox init's
/// argv, the report file, the launch (joining `netns` if given).
fn start(
    program: &Path,
    args: &[String],
    ns: NamespaceSet,
    cgroup: Option<&Cgroup>,
    before_release: Option<&mut dyn FnMut(i32)>,
    netns: Option<std::os::fd::BorrowedFd<'_>>,
) -> Result<Process, SpawnError> {
    let setup = |what: &str, e: &dyn std::fmt::Display| SpawnError::Setup(format!("{what}: {e}"));
    let mut argv = vec![program.as_os_str().as_bytes().to_vec()];
    if !ns.is_empty() {
        argv.push(b"sandbox-init".to_vec());
        if ns.mnt {
            argv.push(b"--private-mounts".to_vec());
        }
        if ns.mnt && ns.pid {
            argv.push(b"--fresh-proc".to_vec());
        }
        if ns.uts {
            argv.push(format!("--hostname={SANDBOX_HOSTNAME}").into_bytes());
        }
        argv.push(b"--".to_vec());
    }
    argv.extend(args.iter().map(|a| a.as_bytes().to_vec()));
    let report = tempfile::tempfile().map_err(|e| setup("creating the report file", &e))?;
    let reader = report
        .try_clone()
        .map_err(|e| setup("opening the report file", &e))?;
    let exec = Exec::new(program, argv)?;
    let mut plan = Launch::new(&exec, report.as_fd());
    if let Some(fd) = netns {
        plan = plan.joining_netns(fd);
    }
    launch(
        &plan,
        reader,
        ns,
        cgroup,
        before_release,
        &mut LaunchStamps::default(),
    )
}

/// CLOCK_MONOTONIC now, ns: the clock of the stamps of a launch (and of the
/// startup probe's own stamp).
pub fn monotonic_ns() -> u64 {
    nix::time::clock_gettime(nix::time::ClockId::CLOCK_MONOTONIC).map_or(0, |t| {
        t.tv_sec() as u64 * 1_000_000_000 + t.tv_nsec() as u64
    })
}

/// What a child execs: the program, argv and environment as C strings, made
/// once and reused by every start (the startup probe's are made before the clock).
pub struct Exec {
    program: CString,
    argv: Vec<CString>,
    envp: Vec<CString>,
}

impl Exec {
    /// `program` with `argv` (argv[0] included) and this process's environment.
    ///
    /// # Errors
    /// [`SpawnError::Setup`] for an argument or variable with a NUL byte.
    pub fn new(program: &Path, argv: Vec<Vec<u8>>) -> Result<Exec, SpawnError> {
        let cstring = |b: Vec<u8>| {
            CString::new(b).map_err(|e| SpawnError::Setup(format!("argument with a NUL byte: {e}")))
        };
        Ok(Exec {
            program: cstring(program.as_os_str().as_bytes().to_vec())?,
            argv: argv.into_iter().map(cstring).collect::<Result<_, _>>()?,
            envp: std::env::vars_os()
                .map(|(k, v)| cstring([k.as_bytes(), b"=", v.as_bytes()].concat()))
                .collect::<Result<_, _>>()?,
        })
    }

    /// Starts it by plain fork(2) + execve(2) with stdout on `stdout` (no isolation).
    ///
    /// # Errors
    /// The errno of fork(2).
    pub fn fork_exec(
        &self,
        stdout: std::os::fd::BorrowedFd<'_>,
    ) -> Result<nix::unistd::Pid, nix::errno::Errno> {
        sys::fork_exec(&self.program, &self.argv, &self.envp, stdout)
    }
}

/// One launch of an [`Exec`]: where the child's stdout goes, and the network
/// namespace it joins, if any.
pub struct Launch<'a> {
    exec: &'a Exec,
    stdout: std::os::fd::BorrowedFd<'a>,
    join_netns: Option<std::os::fd::BorrowedFd<'a>>,
}

impl<'a> Launch<'a> {
    /// A launch of `exec` writing to `stdout`.
    pub fn new(exec: &'a Exec, stdout: std::os::fd::BorrowedFd<'a>) -> Launch<'a> {
        Launch {
            exec,
            stdout,
            join_netns: None,
        }
    }

    /// The same launch, joining the network namespace `netns` (made ahead of time,
    /// e.g. by [`made_netns`]) with setns(2) instead of cloning a new one.
    pub fn joining_netns(mut self, netns: std::os::fd::BorrowedFd<'a>) -> Launch<'a> {
        self.join_netns = Some(netns);
        self
    }
}

/// A network namespace made ahead of time, for sandboxes to join (setns) instead of
/// creating their own at start: a thread of this process unshares `CLONE_NEWNET`
/// (which moves only that thread), opens its `/proc/thread-self/ns/net` and ends;
/// the returned descriptor keeps the namespace alive. Its `lo` is brought up by
/// each sandbox that joins it.
///
/// # Errors
/// The unshare or open error (EPERM without CAP_SYS_ADMIN).
pub fn made_netns() -> std::io::Result<std::fs::File> {
    std::thread::spawn(|| -> std::io::Result<std::fs::File> {
        nix::sched::unshare(CloneFlags::CLONE_NEWNET).map_err(std::io::Error::from)?;
        std::fs::File::open("/proc/thread-self/ns/net")
    })
    .join()
    .unwrap_or_else(|_| Err(std::io::Error::other("the netns thread panicked")))
}

impl Launch<'_> {
    /// The child's plan in `ns`, waiting on `release` and reporting failure on `failure`.
    fn exec_plan<'b>(
        &'b self,
        ns: NamespaceSet,
        release: std::os::fd::BorrowedFd<'b>,
        failure: std::os::fd::BorrowedFd<'b>,
    ) -> sys::ExecPlan<'b> {
        sys::ExecPlan {
            program: &self.exec.program,
            argv: &self.exec.argv,
            envp: &self.exec.envp,
            stdout: self.stdout,
            release,
            failure,
            unshare_cgroup: ns.cgroup,
            loopback_up: ns.net || self.join_netns.is_some(),
            join_netns: self.join_netns,
            become_userns_root: ns.user,
        }
    }
}

/// When the steps of a launch ended, CLOCK_MONOTONIC ns ([`monotonic_ns`]); 0 for
/// a step not taken. A child that waits for its parent ([`sys::clone_waiting`])
/// is stamped by the parent; one cloned with shared memory ([`sys::vfork_attached`])
/// attaches itself and stamps its own steps into the parent's memory
/// ([`sys::ChildStamps`]); clone3 `CLONE_INTO_CGROUP` takes none of them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LaunchStamps {
    /// clone(2) returned in the parent, or the child's first instruction (the namespaces exist).
    pub cloned_ns: u64,
    /// The child's pid was written to `cgroup.procs` in every hierarchy.
    pub attached_ns: u64,
    /// The parent is about to release the child to go on to exec, or the child,
    /// its set-up done, calls execve(2).
    pub released_ns: u64,
}

/// Clones the child of `plan` into `ns`, attaches it to `cgroup`, calls
/// `before_release`, releases it and waits until it has exec'd (or failed to).
/// `reader` is what [`Process`] reads the child's stdout from.
///
/// Without `before_release` and without a user namespace the child is cloned
/// the way posix_spawn does ([`sys::vfork_attached`]: shared memory until it
/// execs, no page tables copied) and writes itself into its cgroup before it
/// execs; otherwise it waits on a pipe while the parent attaches it
/// ([`sys::clone_waiting`]), writes its id maps and calls `before_release`.
///
/// # Errors
/// [`SpawnError`] naming the step; a child that was created is killed and reaped.
pub fn launch(
    plan: &Launch<'_>,
    reader: std::fs::File,
    ns: NamespaceSet,
    cgroup: Option<&Cgroup>,
    before_release: Option<&mut dyn FnMut(i32)>,
    stamps: &mut LaunchStamps,
) -> Result<Process, SpawnError> {
    let setup = |what: &str, e: &dyn std::fmt::Display| SpawnError::Setup(format!("{what}: {e}"));
    let mut nothing = |_| {};
    let before_release: &mut dyn FnMut(i32) = match before_release {
        None if !ns.user => return launch_attached(plan, reader, ns, cgroup, stamps),
        None => &mut nothing,
        Some(f) => f,
    };
    let (release_rd, release_wr) =
        nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC).map_err(|e| setup("pipe", &e))?;
    let (fail_rd, fail_wr) =
        nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC).map_err(|e| setup("pipe", &e))?;
    let exec = plan.exec_plan(ns, release_rd.as_fd(), fail_wr.as_fd());
    let pid = sys::clone_waiting(ns.clone_flags(), &exec).map_err(|errno| SpawnError::Clone {
        namespaces: ns.names(),
        errno,
    })?;
    stamps.cloned_ns = monotonic_ns();
    drop((release_rd, fail_wr));
    let mut process = Process::new(pid, reader);
    if ns.user {
        map_root_to_unprivileged(pid.as_raw())
            .map_err(|e| setup("writing the user namespace's id maps", &e))?;
    }
    if let Some(cg) = cgroup {
        cg.attach(pid.as_raw()).map_err(SpawnError::Attach)?; // dropping `process` kills the child
        stamps.attached_ns = monotonic_ns();
    }
    before_release(pid.as_raw());
    // Stamped before the write: the child may exec and run before the write returns.
    stamps.released_ns = monotonic_ns();
    nix::unistd::write(&release_wr, &[1]).map_err(|e| setup("releasing the child", &e))?;
    drop(release_wr);
    child_failure(&fail_rd, plan, &mut process)?;
    Ok(process)
}

/// [`launch`] by [`sys::vfork_attached`]: the child attaches itself, then execs.
fn launch_attached(
    plan: &Launch<'_>,
    reader: std::fs::File,
    ns: NamespaceSet,
    cgroup: Option<&Cgroup>,
    stamps: &mut LaunchStamps,
) -> Result<Process, SpawnError> {
    let procs = cgroup
        .map(Cgroup::open_procs)
        .transpose()
        .map_err(SpawnError::Attach)?
        .unwrap_or_default();
    let procs: Vec<std::os::fd::BorrowedFd<'_>> = procs.iter().map(|f| f.as_fd()).collect();
    let mut child = sys::ChildStamps::default();
    let process = launch_running(plan, reader, ns, |exec| {
        sys::vfork_attached(ns.clone_flags(), exec, &procs, &mut child)
    })?;
    (stamps.cloned_ns, stamps.attached_ns, stamps.released_ns) =
        (child.entered_ns, child.attached_ns, child.exec_ns);
    Ok(process)
}

/// Like [`launch`] without hooks, but the child is cloned straight into the cgroup2
/// directory of `cgroup` with clone3(2) `CLONE_INTO_CGROUP` (Linux 5.7, v2 only):
/// no `cgroup.procs` write at all. Not for user namespaces.
///
/// # Errors
/// [`SpawnError::Attach`] when `cgroup` has no cgroup2 directory (v1, or a hybrid
/// host whose cgroup2 tree has no controllers); [`SpawnError::Clone`] with the
/// errno of clone3 (ENOSYS, EINVAL before 5.7); the others of [`launch`].
pub fn launch_into_cgroup(
    plan: &Launch<'_>,
    reader: std::fs::File,
    ns: NamespaceSet,
    cgroup: &Cgroup,
) -> Result<Process, SpawnError> {
    let dir = cgroup.v2_dir().ok_or_else(|| {
        SpawnError::Setup(format!(
            "clone3 CLONE_INTO_CGROUP needs a cgroup v2 layout; this host's is {}",
            cgroup.layout()
        ))
    })?;
    let fd = std::fs::File::open(dir).map_err(|error| {
        SpawnError::Attach(CgroupError::Read {
            path: dir.into(),
            error,
        })
    })?;
    launch_running(plan, reader, ns, |exec| {
        sys::clone3_into_cgroup(ns.clone_flags(), exec, fd.as_fd())
    })
}

/// The child of `clone` runs on at once (nothing waits on `release`): waits until
/// it has exec'd, or reports how it failed.
fn launch_running(
    plan: &Launch<'_>,
    reader: std::fs::File,
    ns: NamespaceSet,
    clone: impl FnOnce(&sys::ExecPlan<'_>) -> Result<nix::unistd::Pid, nix::errno::Errno>,
) -> Result<Process, SpawnError> {
    let (fail_rd, fail_wr) = nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC)
        .map_err(|e| SpawnError::Setup(format!("pipe: {e}")))?;
    let exec = plan.exec_plan(ns, fail_rd.as_fd(), fail_wr.as_fd());
    let pid = clone(&exec).map_err(|errno| SpawnError::Clone {
        namespaces: ns.names(),
        errno,
    })?;
    drop(fail_wr);
    let mut process = Process::new(pid, reader);
    child_failure(&fail_rd, plan, &mut process)?;
    Ok(process)
}

/// Reads the `[step, errno]` a failed child wrote before it exited; EOF means it exec'd.
///
/// # Errors
/// [`SpawnError::Child`] naming the step and errno; the child is killed and reaped.
fn child_failure(
    fail_rd: &std::os::fd::OwnedFd,
    plan: &Launch<'_>,
    process: &mut Process,
) -> Result<(), SpawnError> {
    let mut report = [0u8; 8];
    let n = nix::unistd::read(fail_rd, &mut report)
        .map_err(|e| SpawnError::Setup(format!("reading the child's status: {e}")))?;
    if n == report.len() {
        let step = u32::from_ne_bytes(report[..4].try_into().expect("4 bytes"));
        let errno = nix::errno::Errno::from_raw(u32::from_ne_bytes(
            report[4..].try_into().expect("4 bytes"),
        ) as i32);
        process.kill_and_reap();
        return Err(SpawnError::Child {
            program: PathBuf::from(std::ffi::OsStr::from_bytes(plan.exec.program.as_bytes())),
            step: sys::ChildStep::from_code(step).unwrap_or(sys::ChildStep::Exec),
            errno,
        });
    }
    Ok(())
}

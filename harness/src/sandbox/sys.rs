//! The harness's only unsafe code: cloning a child into new namespaces that
//! waits, attached to nothing yet, until the parent has placed it in its cgroup,
//! then execs ([`clone_waiting`]); or, faster, one that shares the parent's
//! memory until it execs and moves itself into its cgroup first
//! ([`vfork_attached`]); and plain fork+exec. Between clone and exec the child makes raw syscalls only
//! (read, prctl, setresgid, setresuid, unshare, socket, ioctl, close, dup2, execve, write, _exit),
//! all async-signal-safe,
//! because the harness is multi-threaded (signal-safety(7)).
#![allow(unsafe_code)]

use nix::errno::Errno;
use nix::sched::CloneFlags;
use nix::unistd::Pid;
use std::ffi::CString;
use std::os::fd::{AsRawFd, BorrowedFd};
use std::os::raw::c_char;

/// Steps of the child between clone and exec, reported back on failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChildStep {
    /// Writing `0` to a `cgroup.procs` (the child moving itself into its cgroup).
    Attach,
    /// `unshare(CLONE_NEWCGROUP)` after the attach.
    UnshareCgroup,
    /// Joining a network namespace made ahead of time (setns(2)).
    JoinNetns,
    /// Bringing `lo` up in a new network namespace (SIOCSIFFLAGS, netdevice(7)).
    LoopbackUp,
    /// Becoming uid and gid 0 of a new user namespace (setresgid, setresuid).
    UserIds,
    /// `dup2` of the report file onto stdout.
    Stdout,
    /// `execve` of the workload binary.
    Exec,
}

impl ChildStep {
    fn code(self) -> u32 {
        self as u32
    }

    /// The step for a code written by the child, if it is one.
    pub fn from_code(code: u32) -> Option<ChildStep> {
        [
            ChildStep::Attach,
            ChildStep::UnshareCgroup,
            ChildStep::JoinNetns,
            ChildStep::LoopbackUp,
            ChildStep::UserIds,
            ChildStep::Stdout,
            ChildStep::Exec,
        ]
        .into_iter()
        .find(|s| s.code() == code)
    }
}

/// Everything the child needs, prepared before the clone so the child allocates nothing.
pub struct ExecPlan<'a> {
    /// Absolute path of the program.
    pub program: &'a CString,
    /// argv, argv[0] included.
    pub argv: &'a [CString],
    /// The environment, `NAME=value`.
    pub envp: &'a [CString],
    /// Becomes the child's stdout.
    pub stdout: BorrowedFd<'a>,
    /// The child blocks on this until the parent writes a byte (or closes it).
    pub release: BorrowedFd<'a>,
    /// On failure the child writes `[step, errno]` (two native-endian u32) here; close-on-exec.
    pub failure: BorrowedFd<'a>,
    /// Enter a new cgroup namespace after the attach, so the sandbox's cgroup is its root.
    pub unshare_cgroup: bool,
    /// Bring the loopback interface up (the child is in a new network namespace, where `lo` starts down).
    pub loopback_up: bool,
    /// A network namespace made ahead of time (`/proc/.../ns/net`) to join with
    /// setns(2) instead of creating one in the clone.
    pub join_netns: Option<BorrowedFd<'a>>,
    /// Switch to uid and gid 0 of the child's new user namespace, whose maps the
    /// parent wrote before the release: the child keeps the ids it was cloned with
    /// (unmapped there) until it switches, and an exec with unmapped ids drops every capability.
    pub become_userns_root: bool,
}

/// Clones a child with `flags` (namespaces) that waits on `plan.release`, then execs `plan`.
///
/// The child gets SIGKILL if the harness thread that cloned it dies
/// (`PR_SET_PDEATHSIG`), so no workload outlives a crashed harness.
///
/// # Errors
/// The errno of clone(2): EPERM without privilege for a namespace, EINVAL for a
/// namespace the kernel lacks, ENOSPC at a namespace count limit.
pub fn clone_waiting(flags: CloneFlags, plan: &ExecPlan<'_>) -> Result<Pid, Errno> {
    let (argv, envp) = (pointers(plan.argv), pointers(plan.envp));
    let tail = Tail::new(plan, &argv, &envp);
    let (release, become_userns_root) = (plan.release.as_raw_fd(), plan.become_userns_root);
    let child = move || -> isize {
        // SAFETY: runs in the child, a copy of the parent's address space (no CLONE_VM);
        // every pointer refers to memory prepared before the clone and alive in the copy;
        // only async-signal-safe syscalls are made, and the child ends in execve or _exit.
        unsafe {
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
            let mut byte = 0u8;
            if libc::read(release, (&raw mut byte).cast(), 1) != 1 {
                libc::_exit(126); // the parent gave up on this child
            }
            // Raw syscalls, not glibc's setresgid/setresuid: those signal every thread
            // glibc believes the process has (setxid), and in this single-threaded copy
            // of a multi-threaded parent they wait forever for threads that are not there.
            if become_userns_root
                && (libc::syscall(libc::SYS_setresgid, 0, 0, 0) != 0
                    || libc::syscall(libc::SYS_setresuid, 0, 0, 0) != 0)
            {
                tail.fail(ChildStep::UserIds);
            }
            tail.exec()
        }
    };
    let mut stack = vec![0u8; 256 * 1024];
    // SAFETY: the stack outlives the call (the child runs on its own copy of it);
    // the callback only makes async-signal-safe calls (see above); SIGCHLD makes the
    // child waitable like a forked one.
    unsafe { nix::sched::clone(Box::new(child), &mut stack, flags, Some(libc::SIGCHLD)) }
}

/// What a child does after its attach: enter a cgroup namespace, bring `lo` up,
/// put its stdout in place and exec — raw syscalls on values prepared before
/// the clone, so that it allocates nothing and is async-signal-safe.
#[derive(Clone, Copy)]
struct Tail {
    program: *const c_char,
    argv: *const *const c_char,
    envp: *const *const c_char,
    stdout: i32,
    failure: i32,
    unshare_cgroup: bool,
    loopback_up: bool,
    join_netns: i32,
    lo: libc::ifreq,
    /// Where a child sharing its parent's memory stamps the moment before execve; null: none.
    exec_stamp: *mut u64,
}

impl Tail {
    /// The tail of `plan`, with `argv` and `envp` as built by [`pointers`] (kept alive by the caller).
    fn new(plan: &ExecPlan<'_>, argv: &[*const c_char], envp: &[*const c_char]) -> Tail {
        // SAFETY: ifreq is plain old data; all-zero is a valid value.
        let mut lo: libc::ifreq = unsafe { std::mem::zeroed() };
        for (dst, src) in lo.ifr_name.iter_mut().zip(b"lo\0") {
            *dst = *src as libc::c_char;
        }
        Tail {
            program: plan.program.as_ptr(),
            argv: argv.as_ptr(),
            envp: envp.as_ptr(),
            stdout: plan.stdout.as_raw_fd(),
            failure: plan.failure.as_raw_fd(),
            unshare_cgroup: plan.unshare_cgroup,
            loopback_up: plan.loopback_up,
            join_netns: plan.join_netns.map_or(-1, |fd| fd.as_raw_fd()),
            lo,
            exec_stamp: std::ptr::null_mut(),
        }
    }

    /// Reports `[step, errno]` on the failure pipe and exits 127.
    ///
    /// # Safety
    /// Only in a cloned child (async-signal-safe calls).
    unsafe fn fail(&self, step: ChildStep) -> ! {
        // SAFETY: write and _exit are async-signal-safe; the report lives on this stack.
        unsafe {
            let report: [u32; 2] = [step.code(), *libc::__errno_location() as u32];
            libc::write(
                self.failure,
                report.as_ptr().cast(),
                std::mem::size_of_val(&report),
            );
            libc::_exit(127)
        }
    }

    /// The steps after the attach, ending in execve (or [`Tail::fail`]).
    ///
    /// # Safety
    /// Only in a cloned child whose pointers are alive (async-signal-safe calls).
    unsafe fn exec(&self) -> ! {
        // SAFETY: see the function's contract; every call is async-signal-safe.
        unsafe {
            if self.unshare_cgroup && libc::unshare(libc::CLONE_NEWCGROUP) != 0 {
                self.fail(ChildStep::UnshareCgroup);
            }
            if self.join_netns >= 0 && libc::setns(self.join_netns, libc::CLONE_NEWNET) != 0 {
                self.fail(ChildStep::JoinNetns);
            }
            if self.loopback_up {
                let sock = libc::socket(libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0);
                let mut ifr = self.lo;
                if sock < 0 || libc::ioctl(sock, libc::SIOCGIFFLAGS, &raw mut ifr) < 0 {
                    self.fail(ChildStep::LoopbackUp);
                }
                ifr.ifr_ifru.ifru_flags |= libc::IFF_UP as libc::c_short;
                if libc::ioctl(sock, libc::SIOCSIFFLAGS, &raw const ifr) < 0 {
                    self.fail(ChildStep::LoopbackUp);
                }
                libc::close(sock);
            }
            if libc::dup2(self.stdout, 1) < 0 {
                self.fail(ChildStep::Stdout);
            }
            if !self.exec_stamp.is_null() {
                std::ptr::write_volatile(self.exec_stamp, child_now_ns());
            }
            libc::execve(self.program, self.argv, self.envp);
            self.fail(ChildStep::Exec)
        }
    }
}

/// CLOCK_MONOTONIC now, ns, in a cloned child: clock_gettime(2) is
/// async-signal-safe (signal-safety(7)); 0 if it fails.
fn child_now_ns() -> u64 {
    let mut t = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `t` is a valid timespec to write.
    if unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &raw mut t) } != 0 {
        return 0;
    }
    t.tv_sec as u64 * 1_000_000_000 + t.tv_nsec as u64
}

/// What a child cloned with shared memory ([`vfork_attached`]) stamps into its
/// parent's memory on its way to exec, CLOCK_MONOTONIC ns (0: not reached):
/// the steps of a start the parent cannot see, because it sleeps until the exec.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ChildStamps {
    /// The child's first instruction after clone(2): its namespaces exist.
    pub entered_ns: u64,
    /// It wrote itself into every `cgroup.procs`.
    pub attached_ns: u64,
    /// Its set-up is done (cgroup namespace, network, stdout): it calls execve(2).
    pub exec_ns: u64,
}

/// A null-terminated array of pointers to `strings`, as execve(2) takes.
fn pointers(strings: &[CString]) -> Vec<*const c_char> {
    strings
        .iter()
        .map(|a| a.as_ptr())
        .chain(std::iter::once(std::ptr::null()))
        .collect()
}

/// fork(2) then execve(2) of `program` with stdout on `stdout`: the plain
/// baseline that a sandbox's start is compared with (startup-latency). Between
/// fork and exec the child calls only dup2, execve and _exit.
///
/// # Errors
/// The errno of fork(2). A failed exec shows as the child exiting with 127.
pub fn fork_exec(
    program: &CString,
    argv: &[CString],
    envp: &[CString],
    stdout: BorrowedFd<'_>,
) -> Result<Pid, Errno> {
    let (argv, envp) = (pointers(argv), pointers(envp));
    let (program, stdout) = (program.as_ptr(), stdout.as_raw_fd());
    // SAFETY: the child of a multi-threaded process calls only async-signal-safe
    // functions (dup2, execve, _exit) on memory prepared before the fork.
    match unsafe { libc::fork() } {
        -1 => Err(Errno::last()),
        0 => unsafe {
            if libc::dup2(stdout, 1) >= 0 {
                libc::execve(program, argv.as_ptr(), envp.as_ptr());
            }
            libc::_exit(127)
        },
        pid => Ok(Pid::from_raw(pid)),
    }
}

/// Clones a child with `flags` (namespaces) the way posix_spawn does —
/// `CLONE_VM | CLONE_VFORK`, on a stack of its own, so no page table is copied
/// and the parent sleeps until the child has exec'd — that moves itself into
/// its cgroup (writing `0` to each `cgroup.procs` in `attach`, opened by the
/// parent) before its workload's first instruction, then execs `plan`.
/// `plan.release` is not used: nothing waits. Not for user namespaces, whose id
/// maps the parent must write while the child waits ([`clone_waiting`]).
///
/// Returns when the child has exec'd or failed: a failure is written to
/// `plan.failure` as in [`clone_waiting`].
///
/// # Errors
/// The errno of clone(2).
pub fn vfork_attached(
    flags: CloneFlags,
    plan: &ExecPlan<'_>,
    attach: &[BorrowedFd<'_>],
    stamps: &mut ChildStamps,
) -> Result<Pid, Errno> {
    let (argv, envp) = (pointers(plan.argv), pointers(plan.envp));
    let mut tail = Tail::new(plan, &argv, &envp);
    *stamps = ChildStamps::default();
    let stamps: *mut ChildStamps = stamps;
    // SAFETY: a field of the live `*stamps`.
    tail.exec_stamp = unsafe { &raw mut (*stamps).exec_ns };
    let attach: Vec<i32> = attach.iter().map(|fd| fd.as_raw_fd()).collect();
    let child = move || -> isize {
        // SAFETY: runs in the child, which shares the parent's memory (CLONE_VM) while
        // the cloning thread sleeps (CLONE_VFORK): it only reads what was prepared
        // before the clone, writes nothing but its own stack and `*stamps` (which the
        // parent reads only after the child has exec'd), allocates nothing, and
        // makes async-signal-safe syscalls until execve or _exit.
        unsafe {
            std::ptr::write_volatile(&raw mut (*stamps).entered_ns, child_now_ns());
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
            for &fd in &attach {
                if libc::write(fd, b"0".as_ptr().cast(), 1) != 1 {
                    tail.fail(ChildStep::Attach);
                }
            }
            std::ptr::write_volatile(&raw mut (*stamps).attached_ns, child_now_ns());
            tail.exec()
        }
    };
    let mut stack = vec![0u8; 64 * 1024];
    let flags = flags | CloneFlags::CLONE_VM | CloneFlags::CLONE_VFORK;
    // SAFETY: the stack outlives the child's use of it (the parent sleeps until the
    // child execs or exits); the callback obeys the rules above; SIGCHLD makes the
    // child waitable like a forked one.
    unsafe { nix::sched::clone(Box::new(child), &mut stack, flags, Some(libc::SIGCHLD)) }
}

/// clone3(2) arguments up to `cgroup` (linux/sched.h, `CLONE_ARGS_SIZE_VER2`).
#[repr(C)]
#[derive(Default)]
struct CloneArgs {
    flags: u64,
    pidfd: u64,
    child_tid: u64,
    parent_tid: u64,
    exit_signal: u64,
    stack: u64,
    stack_size: u64,
    tls: u64,
    set_tid: u64,
    set_tid_size: u64,
    cgroup: u64,
}

/// `CLONE_INTO_CGROUP` (Linux 5.7): start the child in the cgroup2 directory `cgroup` names.
const CLONE_INTO_CGROUP: u64 = 0x2_0000_0000;

/// clone3(2) with `flags` and `CLONE_INTO_CGROUP`: the child starts in the cgroup2
/// directory `cgroup` (an `O_PATH` descriptor) without any `cgroup.procs` write,
/// then execs `plan` (the tail of [`clone_waiting`], without the wait). Like
/// fork(2), the child gets a copy of the address space.
///
/// # Errors
/// The errno of clone3(2): ENOSYS before Linux 5.3, EINVAL where
/// `CLONE_INTO_CGROUP` is unknown (before 5.7), EBADF for a descriptor of no cgroup2 directory.
pub fn clone3_into_cgroup(
    flags: CloneFlags,
    plan: &ExecPlan<'_>,
    cgroup: BorrowedFd<'_>,
) -> Result<Pid, Errno> {
    let (argv, envp) = (pointers(plan.argv), pointers(plan.envp));
    let tail = Tail::new(plan, &argv, &envp);
    let mut args = CloneArgs {
        flags: flags.bits() as u64 | CLONE_INTO_CGROUP,
        exit_signal: libc::SIGCHLD as u64,
        cgroup: cgroup.as_raw_fd() as u64,
        ..CloneArgs::default()
    };
    // SAFETY: without CLONE_VM the child returns here on its own copy of this stack,
    // as from fork(2); it then makes only async-signal-safe calls on memory prepared
    // before the call, ending in execve or _exit.
    let rc = unsafe {
        libc::syscall(
            libc::SYS_clone3,
            &raw mut args,
            std::mem::size_of::<CloneArgs>(),
        )
    };
    match rc {
        -1 => Err(Errno::last()),
        // SAFETY: in the child; see above.
        0 => unsafe {
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
            tail.exec()
        },
        pid => Ok(Pid::from_raw(pid as i32)),
    }
}

/// Whether clone(2) accepts `flags` here: clones a child that exits at once and reaps it.
///
/// # Errors
/// The errno of clone(2) (EPERM, EINVAL, ENOSPC, ...).
pub fn probe_clone(flags: CloneFlags) -> Result<(), Errno> {
    let mut stack = vec![0u8; 64 * 1024];
    // SAFETY: the child only calls _exit, which is async-signal-safe.
    let pid = unsafe {
        nix::sched::clone(
            Box::new(|| libc::_exit(0)),
            &mut stack,
            flags,
            Some(libc::SIGCHLD),
        )
    }?;
    nix::sys::wait::waitpid(pid, None).map(|_| ())
}

/// Whether the kernel has clone3(2): called with a null argument it answers
/// EINVAL where it exists and ENOSYS where it does not.
pub fn has_clone3() -> bool {
    // SAFETY: clone3 with size 0 is rejected before the argument is read.
    let rc = unsafe { libc::syscall(libc::SYS_clone3, std::ptr::null::<u8>(), 0usize) };
    rc == -1 && Errno::last() != Errno::ENOSYS
}

/// Restores the default action of SIGPIPE, which Rust's runtime ignores, so that
/// `isobench doctor | head` ends quietly like other command-line tools instead of
/// failing on EPIPE.
pub fn default_sigpipe() {
    // SAFETY: installing SIG_DFL has no handler code to be unsafe; called once at start.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

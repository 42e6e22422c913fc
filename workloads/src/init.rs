//! `sandbox-init`: the minimal init that runs as pid 1 of a sandbox.
//!
//! It prepares what only the inside can (private mount propagation, a fresh
//! /proc, the hostname), starts the workload as its only child, forwards
//! SIGTERM, SIGINT and SIGHUP to it, reaps children (orphans are re-parented
//! to pid 1, see pid_namespaces(7)) until the workload ends, and exits with its
//! status; the kernel then kills what is left in the namespace.

use anyhow::{Context, Result};
use nix::errno::Errno;
use nix::mount::{MsFlags, mount};
use nix::sys::signal::{Signal, kill};
use nix::sys::wait::{WaitStatus, waitpid};
use nix::unistd::Pid;
use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
use std::process::Command;

/// What the init prepares before it starts the workload.
#[derive(Debug, Clone, Default)]
pub struct InitPlan {
    /// Make every mount private (`mount --make-rprivate /`); needs a mount namespace.
    pub private_mounts: bool,
    /// Mount a fresh procfs on /proc; needs mount and pid namespaces.
    pub fresh_proc: bool,
    /// Set this hostname; needs a UTS namespace.
    pub hostname: Option<String>,
    /// The workload's arguments to this same binary (`cpu-units --rate ...`).
    pub workload: Vec<String>,
}

/// Prepares the sandbox, runs the workload and returns the exit code to exit with.
///
/// # Errors
/// A failed mount or hostname change (with the path or value), or a workload
/// that could not be started.
pub fn run(plan: &InitPlan) -> Result<i32> {
    let exe = std::env::current_exe().context("finding this binary (/proc/self/exe)")?;
    if plan.private_mounts {
        mount(
            None::<&str>,
            "/",
            None::<&str>,
            MsFlags::MS_REC | MsFlags::MS_PRIVATE,
            None::<&str>,
        )
        .context("making mounts private (mount --make-rprivate /)")?;
    }
    if plan.fresh_proc {
        let flags = MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC;
        mount(Some("proc"), "/proc", Some("proc"), flags, None::<&str>)
            .context("mounting a fresh procfs on /proc")?;
    }
    if let Some(name) = &plan.hostname {
        nix::unistd::sethostname(name).with_context(|| format!("setting hostname {name:?}"))?;
    }
    let child = Command::new(&exe)
        .args(&plan.workload)
        .spawn()
        .with_context(|| format!("starting {} {}", exe.display(), plan.workload.join(" ")))?;
    let child_pid = Pid::from_raw(child.id() as i32);
    forward_signals(child_pid)?;
    reap_until(child_pid)
}

/// Forwards termination signals to `child` from a thread of their own.
fn forward_signals(child: Pid) -> Result<()> {
    let mut signals = signal_hook::iterator::Signals::new([SIGTERM, SIGINT, SIGHUP])
        .context("installing signal handlers")?;
    std::thread::spawn(move || {
        for sig in signals.forever() {
            if let Ok(sig) = Signal::try_from(sig) {
                let _ = kill(child, sig);
            }
        }
    });
    Ok(())
}

/// Reaps children (orphans included) until `main` ends; returns its exit code
/// (128 + the signal for a signal). When this pid 1 then exits, the kernel
/// kills whatever is left in the namespace (pid_namespaces(7)), as a container
/// ends with its main process: a daemon the workload left behind neither keeps
/// the sandbox alive nor outlives it.
fn reap_until(main: Pid) -> Result<i32> {
    loop {
        match waitpid(None::<Pid>, None) {
            Ok(WaitStatus::Exited(pid, status)) if pid == main => return Ok(status),
            Ok(WaitStatus::Signaled(pid, sig, _)) if pid == main => return Ok(128 + sig as i32),
            Ok(_) | Err(Errno::EINTR) => {}
            Err(Errno::ECHILD) => anyhow::bail!("the workload vanished without an exit status"),
            Err(e) => return Err(e).context("waiting for children"),
        }
    }
}

//! Removing cgroups: kill what is inside, wait until empty, rmdir deepest first,
//! retrying EBUSY with backoff (a cgroup stays busy for a moment after its last
//! task exits). Used for every teardown and by `isobench cleanup`.

use super::error::{CgroupError, Result};
use super::files;
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use std::path::Path;
use std::time::{Duration, Instant};

/// How long teardown waits for a cgroup to empty, and for rmdir to stop failing with EBUSY.
pub const PATIENCE: Duration = Duration::from_secs(5);

/// Removes `dir` and every cgroup beneath it, deepest first, after killing their processes.
///
/// Only processes listed in these cgroups are signalled: all of them were started by isobench.
///
/// # Errors
/// [`CgroupError::NotEmpty`] when processes survive SIGKILL for [`PATIENCE`];
/// [`CgroupError::Dir`] when rmdir keeps failing.
pub fn remove_tree(dir: &Path) -> Result<()> {
    // An empty cgroup without children, the common case after a reaped
    // sandbox, goes with one rmdir; EBUSY (tasks or children) takes the full path.
    match std::fs::remove_dir(dir) {
        Ok(()) => return Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(_) => {}
    }
    let children = std::fs::read_dir(dir).map_err(|source| CgroupError::Read {
        path: dir.into(),
        error: source,
    })?;
    for entry in children.flatten() {
        if entry.file_type().is_ok_and(|t| t.is_dir()) {
            remove_tree(&entry.path())?;
        }
    }
    kill_all(dir)?;
    wait_empty(dir)?;
    rmdir_with_backoff(dir)
}

/// Removes every tree in `dirs` (see [`remove_tree`]), going on past failures.
///
/// # Errors
/// The first failure; the other directories were still attempted.
pub fn remove_all(dirs: impl Iterator<Item = std::path::PathBuf>) -> Result<()> {
    let mut first = None;
    for dir in dirs {
        if let Err(e) = remove_tree(&dir) {
            first.get_or_insert(e);
        }
    }
    first.map_or(Ok(()), Err)
}

/// Sends SIGKILL to every process of `dir` (v2 `cgroup.kill` where the kernel has it, ≥ 5.14).
fn kill_all(dir: &Path) -> Result<()> {
    let cgroup_kill = dir.join("cgroup.kill");
    if cgroup_kill.exists() && files::write(&cgroup_kill, "1").is_ok() {
        return Ok(());
    }
    for pid in files::procs(dir)? {
        let _ = kill(Pid::from_raw(pid), Signal::SIGKILL);
    }
    Ok(())
}

fn wait_empty(dir: &Path) -> Result<()> {
    let start = Instant::now();
    let mut pause = Duration::from_micros(200);
    loop {
        let pids = files::procs(dir)?;
        if pids.is_empty() {
            return Ok(());
        }
        if start.elapsed() > PATIENCE {
            return Err(CgroupError::NotEmpty {
                path: dir.into(),
                pids,
                waited_ms: start.elapsed().as_millis() as u64,
            });
        }
        kill_all(dir)?;
        std::thread::sleep(pause);
        pause = (pause * 2).min(Duration::from_millis(50));
    }
}

fn rmdir_with_backoff(dir: &Path) -> Result<()> {
    let start = Instant::now();
    let mut pause = Duration::from_micros(200);
    loop {
        match std::fs::remove_dir(dir) {
            Ok(()) => return Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(e) if e.raw_os_error() == Some(libc::EBUSY) && start.elapsed() < PATIENCE => {
                std::thread::sleep(pause);
                pause = (pause * 2).min(Duration::from_millis(100));
            }
            Err(source) => {
                return Err(CgroupError::Dir {
                    action: "removing",
                    path: dir.into(),
                    error: source,
                });
            }
        }
    }
}

//! `isobench cleanup`: removes the cgroups a killed run left beneath the
//! harness's own cgroup (`isobench-*`), killing their processes first. A cgroup
//! whose owning process (the pid in its name, started before the cgroup last
//! changed) is still alive is left alone.

use crate::cgroup::CgroupHost;
use std::path::{Path, PathBuf};

/// What cleanup did with each leftover.
#[derive(Debug, Default)]
pub struct Cleaned {
    /// Removed, with everything beneath.
    pub removed: Vec<PathBuf>,
    /// Left alone: the run that owns it is alive (pid given).
    pub in_use: Vec<(PathBuf, i32)>,
    /// Could not be removed, with the error.
    pub failed: Vec<(PathBuf, String)>,
    /// Cgroups found frozen (a phased neighbour of a killed run) and thawed before removal.
    pub thawed: Vec<PathBuf>,
}

/// The pid that owns an isobench cgroup name: the first `-`-separated token made
/// only of digits (`isobench-20261129T131500Z-4242`, `isobench-harness-4242`,
/// `isobench-test-4242-0-name`).
pub fn owner_pid(name: &str) -> Option<i32> {
    name.split('-')
        .find(|t| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()))?
        .parse()
        .ok()
}

/// Start time of process `pid`, seconds since the epoch, from field 22 of
/// /proc/<pid>/stat (ticks since boot) and `btime` of /proc/stat (proc(5)).
fn started_at_s(pid: i32) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name, which may hold spaces, start at field 3.
    let after_comm = &stat[stat.rfind(')')? + 1..];
    let start_ticks: f64 = after_comm.split_whitespace().nth(19)?.parse().ok()?;
    let btime: f64 = std::fs::read_to_string("/proc/stat")
        .ok()?
        .lines()
        .find_map(|l| l.strip_prefix("btime ")?.trim().parse().ok())?;
    let ticks = nix::unistd::sysconf(nix::unistd::SysconfVar::CLK_TCK)
        .ok()
        .flatten()? as f64;
    Some(btime + start_ticks / ticks)
}

/// True when `pid` is alive and is the process that made `dir`: it started before
/// the directory last changed (a recycled pid starts later).
pub fn owner_alive(pid: i32, dir: &Path) -> bool {
    let changed = dir.metadata().and_then(|m| m.modified()).ok();
    let changed_s = changed
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map(|d| d.as_secs_f64());
    match (started_at_s(pid), changed_s) {
        // btime has a 1 s resolution.
        (Some(start), Some(changed)) => start <= changed + 1.0,
        (Some(_), None) => true,
        (None, _) => false,
    }
}

/// Pids of other live processes that own an `isobench-*` cgroup beside ours:
/// other runs (or test processes) sharing this host right now.
pub fn other_live_owners(host: &CgroupHost) -> Vec<i32> {
    let me = std::process::id() as i32;
    let mut pids: Vec<i32> = host
        .leftovers()
        .iter()
        .filter_map(|dir| {
            let pid = owner_pid(&dir.file_name()?.to_string_lossy())?;
            (pid != me && owner_alive(pid, dir)).then_some(pid)
        })
        .collect();
    pids.sort_unstable();
    pids.dedup();
    pids
}

/// Removes every leftover whose owner is gone, after thawing all of them in
/// every hierarchy: a task frozen in the v1 freezer hierarchy does not die of
/// the SIGKILL that teardown sends through its cpu hierarchy until thawed.
pub fn cleanup(host: &CgroupHost) -> Cleaned {
    let mut out = Cleaned::default();
    let mut gone = Vec::new();
    for dir in host.leftovers() {
        let name = dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        match owner_pid(&name) {
            Some(pid) if owner_alive(pid, &dir) => out.in_use.push((dir, pid)),
            _ => gone.push(dir),
        }
    }
    for dir in &gone {
        out.thawed.extend(host.thaw_leftover(dir));
    }
    for dir in gone {
        match host.remove_leftover(&dir) {
            Ok(()) => out.removed.push(dir),
            Err(e) => out.failed.push((dir, e.to_string())),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn owner_pid_is_found_in_every_name_shape() {
        assert_eq!(owner_pid("isobench-20261129T131500Z-4242"), Some(4242));
        assert_eq!(owner_pid("isobench-harness-77"), Some(77));
        assert_eq!(owner_pid("isobench-test-12-0-inspect"), Some(12));
        assert_eq!(owner_pid("isobench-manual"), None);
    }

    #[test]
    fn a_pid_started_after_the_directory_changed_is_not_its_owner() {
        let t = tempfile::tempdir().unwrap();
        let me = std::process::id() as i32;
        assert!(
            owner_alive(me, t.path()),
            "this process started before its own tempdir"
        );
        let mut child = std::process::Command::new("sleep")
            .arg("5")
            .spawn()
            .unwrap();
        let old = tempfile::tempdir().unwrap();
        let an_hour_ago = std::time::SystemTime::now() - std::time::Duration::from_secs(3600);
        std::fs::File::open(old.path())
            .unwrap()
            .set_modified(an_hour_ago)
            .unwrap();
        assert!(
            !owner_alive(child.id() as i32, old.path()),
            "a recycled pid is not the owner"
        );
        child.kill().unwrap();
        child.wait().unwrap();
    }
}

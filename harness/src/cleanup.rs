//! `isobench cleanup`: removes the cgroups a killed run left beneath the
//! harness's own cgroup (`isobench-*`), killing their processes first. A cgroup
//! whose owning isobench process is still alive is left alone.

use crate::cgroup::CgroupHost;
use std::path::PathBuf;

/// What cleanup did with each leftover.
#[derive(Debug, Default)]
pub struct Cleaned {
    /// Removed, with everything beneath.
    pub removed: Vec<PathBuf>,
    /// Left alone: the run that owns it is alive (pid given).
    pub in_use: Vec<(PathBuf, i32)>,
    /// Could not be removed, with the error.
    pub failed: Vec<(PathBuf, String)>,
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

fn alive(pid: i32) -> bool {
    std::path::Path::new(&format!("/proc/{pid}")).exists()
}

/// Removes every leftover whose owner is gone.
pub fn cleanup(host: &CgroupHost) -> Cleaned {
    let mut out = Cleaned::default();
    for dir in host.leftovers() {
        let name = dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        match owner_pid(&name) {
            Some(pid) if alive(pid) => out.in_use.push((dir, pid)),
            _ => match host.remove_leftover(&dir) {
                Ok(()) => out.removed.push(dir),
                Err(e) => out.failed.push((dir, e.to_string())),
            },
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
}

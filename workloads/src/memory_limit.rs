//! The memory limit of the cgroup a process runs in, as the process itself
//! reads it, and how close below it a neighbour that presses on its limit
//! keeps its footprint.
//!
//! Files: v2 `memory.max`, `memory.high` and `memory.current`
//! (Documentation/admin-guide/cgroup-v2.rst, "Memory Interface Files"); v1
//! `memory.limit_in_bytes` and `memory.usage_in_bytes`
//! (Documentation/admin-guide/cgroup-v1/memory.rst). The cgroup's directory is
//! found from `/proc/self/cgroup` and `/proc/self/mountinfo`, or given: inside a
//! cgroup namespace whose cgroupfs mount was made outside it, the process
//! cannot name its own directory, so the harness passes it (`--cgroup`).

use std::path::{Path, PathBuf};

/// A MiB, bytes.
const MIB: u64 = 1 << 20;

/// v1 writes "no limit" as the largest page-aligned value (2^63 − 4096 with
/// 4 KiB pages); anything this large is no limit.
const V1_UNLIMITED: u64 = 1 << 62;

/// The lowest memory limit of a cgroup, bytes, and the file it comes from.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct MemoryLimit {
    /// Kernel file: `memory.max`, `memory.high` (v2) or `memory.limit_in_bytes` (v1).
    pub knob: String,
    /// The limit, bytes.
    pub bytes: u64,
}

/// Room left free below a limit of `limit` bytes: 1/16 of it, at least 4 MiB
/// and at most 64 MiB, bytes. It holds the process's own small allocations,
/// page tables and the page cache that presses on the limit.
pub fn headroom(limit: u64) -> u64 {
    (limit / 16).clamp(4 * MIB, 64 * MIB)
}

/// The charge a pressing neighbour grows to, bytes: `bytes`, or its cgroup's
/// limit less [`headroom`] when that is lower.
pub fn press_target(bytes: u64, limit: Option<u64>) -> u64 {
    limit.map_or(bytes, |l| bytes.min(l.saturating_sub(headroom(l))))
}

/// Whether `dir` is a v2 cgroup with the memory controller (it has `memory.current`).
fn is_v2(dir: &Path) -> bool {
    dir.join("memory.current").exists()
}

/// Reads one limit file: `Ok(None)` for "max" (v2) or a v1 value meaning none.
fn read_bytes(path: &Path) -> std::io::Result<Option<u64>> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| std::io::Error::new(e.kind(), format!("{}: {e}", path.display())))?;
    let text = text.trim();
    if text == "max" {
        return Ok(None);
    }
    let v: u64 = text.parse().map_err(|_| {
        std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("{}: {text:?} is not a number of bytes", path.display()),
        )
    })?;
    Ok((v < V1_UNLIMITED).then_some(v))
}

/// The lowest limit of the memory cgroup `dir`: v2 the lower of `memory.max`
/// and `memory.high`; v1 `memory.limit_in_bytes` (memory+swap is never below it,
/// and the soft limit does not bind). `None` where it has none of its own.
///
/// # Errors
/// A file that cannot be read or parsed, with its path.
pub fn read_limit(dir: &Path) -> std::io::Result<Option<MemoryLimit>> {
    let knobs: &[&str] = if is_v2(dir) {
        &["memory.max", "memory.high"]
    } else {
        &["memory.limit_in_bytes"]
    };
    let mut lowest: Option<MemoryLimit> = None;
    for knob in knobs {
        if let Some(bytes) = read_bytes(&dir.join(knob))?
            && lowest.as_ref().is_none_or(|l| bytes < l.bytes)
        {
            lowest = Some(MemoryLimit {
                knob: (*knob).into(),
                bytes,
            });
        }
    }
    Ok(lowest)
}

/// The memory charged to the cgroup `dir` now, bytes (v2 `memory.current`, v1 `memory.usage_in_bytes`).
///
/// # Errors
/// A file that cannot be read or parsed, with its path.
pub fn read_charge(dir: &Path) -> std::io::Result<u64> {
    let file = if is_v2(dir) {
        "memory.current"
    } else {
        "memory.usage_in_bytes"
    };
    read_bytes(&dir.join(file))?.ok_or_else(|| {
        std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("{}: no number", dir.join(file).display()),
        )
    })
}

/// The memory cgroup directory of this process, from `/proc/self/cgroup` and
/// `/proc/self/mountinfo`.
///
/// # Errors
/// Why not, in words (files unreadable, no memory controller, a cgroup
/// namespace that hides the directory).
pub fn own_dir() -> Result<PathBuf, String> {
    let read = |p: &str| std::fs::read_to_string(p).map_err(|e| format!("reading {p}: {e}"));
    let dir = locate(&read("/proc/self/cgroup")?, &read("/proc/self/mountinfo")?)?;
    if dir.join("memory.current").exists() || dir.join("memory.limit_in_bytes").exists() {
        Ok(dir)
    } else {
        Err(format!(
            "{} has no memory controller files (memory.current, memory.limit_in_bytes)",
            dir.display()
        ))
    }
}

/// The directory of the memory cgroup named in `proc_cgroup` (the text of
/// `/proc/self/cgroup`) below the matching mount of `mountinfo`: the v1
/// hierarchy carrying `memory` where there is one (hybrid hosts), else the
/// cgroup2 one.
///
/// # Errors
/// No memory hierarchy, no mount of it, or a mount whose root lies outside this
/// process's cgroup namespace (its root shows as `/..`).
pub fn locate(proc_cgroup: &str, mountinfo: &str) -> Result<PathBuf, String> {
    let lines: Vec<(&str, &str)> = proc_cgroup
        .lines()
        .filter_map(|l| {
            let mut f = l.splitn(3, ':');
            let (_, controllers, path) = (f.next()?, f.next()?, f.next()?);
            Some((controllers, path))
        })
        .collect();
    let v1 = lines
        .iter()
        .find(|(c, _)| c.split(',').any(|c| c == "memory"));
    let (v2, path) = match v1 {
        Some((_, path)) => (false, *path),
        None => match lines.iter().find(|(c, _)| c.is_empty()) {
            Some((_, path)) => (true, *path),
            None => return Err("/proc/self/cgroup names no memory hierarchy".into()),
        },
    };
    let mount = mountinfo.lines().find_map(|l| {
        let (left, right) = l.split_once(" - ")?;
        let f: Vec<&str> = left.split(' ').collect();
        let r: Vec<&str> = right.split(' ').collect();
        let (fstype, opts) = (*r.first()?, *r.get(2).unwrap_or(&""));
        let fits = if v2 {
            fstype == "cgroup2"
        } else {
            fstype == "cgroup" && opts.split(',').any(|o| o == "memory")
        };
        fits.then(|| (f.get(3).copied(), f.get(4).copied()))
    });
    let (Some(root), Some(point)) = mount.unwrap_or((None, None)) else {
        return Err(format!(
            "no {} mount in /proc/self/mountinfo",
            if v2 { "cgroup2" } else { "v1 memory cgroup" }
        ));
    };
    if root.starts_with("/..") {
        return Err(format!(
            "in a cgroup namespace whose cgroupfs mount at {point} lies outside it (mount root {root}): \
             its own directory cannot be named from inside; pass --cgroup"
        ));
    }
    let rel = path
        .strip_prefix(root)
        .ok_or_else(|| format!("cgroup {path} is not below the mount root {root} at {point}"))?;
    Ok(Path::new(point).join(rel.trim_start_matches('/')))
}

#[cfg(test)]
mod tests {
    use super::*;

    const HYBRID_CGROUP: &str = "9:name=systemd:/\n4:memory:/process_api/abc\n1:cpu:/\n0::/\n";
    const HYBRID_MOUNTS: &str = "\
31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
";

    #[test]
    fn a_hybrid_host_uses_the_v1_memory_hierarchy() {
        assert_eq!(
            locate(HYBRID_CGROUP, HYBRID_MOUNTS).unwrap(),
            PathBuf::from("/sys/fs/cgroup/memory/process_api/abc")
        );
    }

    #[test]
    fn a_v2_host_uses_the_unified_tree() {
        let mounts = "25 19 0:22 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw,nsdelegate\n";
        assert_eq!(
            locate("0::/ci.slice/runner.service/leaf\n", mounts).unwrap(),
            PathBuf::from("/sys/fs/cgroup/ci.slice/runner.service/leaf")
        );
        // A container's own cgroupfs mount: the namespace root is the mount root.
        assert_eq!(
            locate("0::/\n", mounts).unwrap(),
            PathBuf::from("/sys/fs/cgroup")
        );
    }

    #[test]
    fn a_cgroup_namespace_with_the_hosts_mount_says_to_pass_the_directory() {
        let mounts = "25 19 0:22 /../../.. /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n";
        let err = locate("0::/\n", mounts).unwrap_err();
        assert!(err.contains("pass --cgroup"), "{err}");
        let err = locate("1:cpu:/\n", "").unwrap_err();
        assert!(err.contains("no memory hierarchy"), "{err}");
    }

    #[test]
    fn the_lowest_limit_binds_and_max_is_none() {
        let t = tempfile::tempdir().unwrap();
        let w = |f: &str, v: &str| std::fs::write(t.path().join(f), v).unwrap();
        w("memory.current", "1048576\n");
        w("memory.max", "max\n");
        w("memory.high", "max\n");
        assert_eq!(read_limit(t.path()).unwrap(), None);
        w("memory.max", "536870912\n");
        w("memory.high", "268435456\n");
        let l = read_limit(t.path()).unwrap().unwrap();
        assert_eq!((l.knob.as_str(), l.bytes), ("memory.high", 256 * MIB));
        assert_eq!(read_charge(t.path()).unwrap(), MIB);
        let v1 = tempfile::tempdir().unwrap();
        let w = |f: &str, v: &str| std::fs::write(v1.path().join(f), v).unwrap();
        w("memory.limit_in_bytes", "9223372036854771712\n");
        w("memory.usage_in_bytes", "4096\n");
        assert_eq!(read_limit(v1.path()).unwrap(), None);
        w("memory.limit_in_bytes", "536870912\n");
        let l = read_limit(v1.path()).unwrap().unwrap();
        assert_eq!(
            (l.knob.as_str(), l.bytes),
            ("memory.limit_in_bytes", 512 * MIB)
        );
        assert_eq!(read_charge(v1.path()).unwrap(), 4096);
    }

    #[test]
    fn the_target_leaves_a_sixteenth_between_4_and_64_mib() {
        assert_eq!(press_target(1920 * MIB, None), 1920 * MIB);
        assert_eq!(press_target(1920 * MIB, Some(512 * MIB)), 480 * MIB);
        assert_eq!(press_target(100 * MIB, Some(512 * MIB)), 100 * MIB);
        assert_eq!(press_target(MIB << 20, Some(4096 * MIB)), 4032 * MIB);
        assert_eq!(press_target(MIB << 20, Some(32 * MIB)), 28 * MIB);
    }
}

//! Which cgroup layout the host mounts, and where the harness's own cgroups are.
//!
//! The layout comes from the filesystem type of `/sys/fs/cgroup` and then of
//! `/sys/fs/cgroup/unified` (cgroup2 magic `0x63677270` vs tmpfs), never from the
//! kernel command line or a build-time default (case C09, netdata #11094).
//! The hierarchies come from /proc/self/mountinfo and the harness's own place in
//! each from /proc/self/cgroup (proc(5), Documentation/admin-guide/cgroup-v2.rst
//! "Processes").

use super::error::{CgroupError, Result};
use std::path::{Path, PathBuf};

/// How the host mounts cgroups.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// Only cgroup2, at /sys/fs/cgroup.
    V2,
    /// Only v1 controller hierarchies under a tmpfs at /sys/fs/cgroup.
    V1,
    /// v1 controller hierarchies plus a cgroup2 tree (usually without
    /// controllers) at /sys/fs/cgroup/unified, used for tracking and PSI.
    Hybrid,
}

impl Layout {
    /// The name used in results and messages: `v2`, `v1`, `hybrid`.
    pub fn as_str(self) -> &'static str {
        match self {
            Layout::V2 => "v2",
            Layout::V1 => "v1",
            Layout::Hybrid => "hybrid",
        }
    }

    /// Detects the layout from the filesystem types under `root` (normally `/sys/fs/cgroup`).
    ///
    /// # Errors
    /// [`CgroupError::Layout`] when `root` cannot be examined or is neither cgroup2 nor tmpfs.
    pub fn detect(root: &Path) -> Result<Layout> {
        let kind = |p: &Path| {
            nix::sys::statfs::statfs(p).map(|s| FsKind::from_magic(s.filesystem_type().0))
        };
        let top = kind(root)
            .map_err(|e| CgroupError::Layout(format!("cannot examine {}: {e}", root.display())))?;
        let unified = kind(&root.join("unified")).ok();
        Layout::from_fs_kinds(top, unified).ok_or_else(|| {
            CgroupError::Layout(format!(
                "{} is neither cgroup2 nor a tmpfs of v1 hierarchies",
                root.display()
            ))
        })
    }

    /// The layout for the filesystem kinds of `/sys/fs/cgroup` and (if it exists) its `unified` child.
    pub fn from_fs_kinds(top: FsKind, unified: Option<FsKind>) -> Option<Layout> {
        match (top, unified) {
            (FsKind::Cgroup2, _) => Some(Layout::V2),
            (FsKind::Tmpfs, Some(FsKind::Cgroup2)) => Some(Layout::Hybrid),
            (FsKind::Tmpfs, _) => Some(Layout::V1),
            _ => None,
        }
    }
}

impl std::fmt::Display for Layout {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Filesystem kinds that matter for layout detection (statfs(2) `f_type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FsKind {
    /// `CGROUP2_SUPER_MAGIC` 0x63677270.
    Cgroup2,
    /// `CGROUP_SUPER_MAGIC` 0x27e0eb (a v1 hierarchy).
    Cgroup1,
    /// `TMPFS_MAGIC` 0x01021994.
    Tmpfs,
    /// Anything else.
    Other,
}

impl FsKind {
    /// Classifies a statfs(2) `f_type`.
    pub fn from_magic(magic: i64) -> FsKind {
        match magic {
            0x6367_7270 => FsKind::Cgroup2,
            0x0027_e0eb => FsKind::Cgroup1,
            0x0102_1994 => FsKind::Tmpfs,
            _ => FsKind::Other,
        }
    }
}

/// v1 controllers the harness uses, in the order it creates them.
pub const V1_CONTROLLERS: [&str; 7] = [
    "cpu", "cpuacct", "cpuset", "memory", "pids", "blkio", "freezer",
];
/// v1 controllers whose hierarchy gets a sandbox cgroup only when the sandbox
/// needs it: `blkio` when its limits write into it (block I/O limits are rare,
/// and every extra directory costs sandbox start-up time), `freezer` for a
/// neighbour with phases ([`crate::cgroup::Arena::freezable_sandbox`]); an
/// arena that cannot be created there only loses those limits or phases.
pub const V1_ON_DEMAND: [&str; 2] = ["blkio", "freezer"];
/// v1 controllers without which no scenario can run.
pub const V1_REQUIRED: [&str; 2] = ["cpu", "cpuacct"];

/// One hierarchy the harness works in, and its own cgroup there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hierarchy {
    /// v1 controllers bound to this hierarchy (e.g. `["cpu", "cpuacct"]`); empty for cgroup2.
    pub controllers: Vec<String>,
    /// True for the cgroup2 hierarchy (all controllers on v2; tracking only on hybrid).
    pub unified: bool,
    /// Where the hierarchy is mounted, e.g. `/sys/fs/cgroup/cpu`.
    pub mount_point: PathBuf,
    /// The harness's own cgroup in it, as a directory, e.g. `/sys/fs/cgroup/memory/process_api/5de4`.
    pub own_dir: PathBuf,
}

impl Hierarchy {
    /// True when the v1 controller `name` is bound to this hierarchy.
    pub fn has(&self, name: &str) -> bool {
        self.controllers.iter().any(|c| c == name)
    }

    /// True for a v1 hierarchy that holds only [`V1_ON_DEMAND`] controllers.
    pub fn on_demand(&self) -> bool {
        !self.unified
            && !self.controllers.is_empty()
            && self
                .controllers
                .iter()
                .all(|c| V1_ON_DEMAND.contains(&c.as_str()))
    }
}

/// A cgroup mount from /proc/self/mountinfo.
#[derive(Debug, Clone, PartialEq, Eq)]
struct CgroupMount {
    root: String,
    mount_point: PathBuf,
    v2: bool,
    controllers: Vec<String>,
    /// The `name=` option of a named v1 hierarchy (`systemd`), which has no controller.
    name: Option<String>,
}

/// Parses the cgroup and cgroup2 mounts out of /proc/self/mountinfo (proc(5)).
fn parse_mountinfo(text: &str) -> Vec<CgroupMount> {
    text.lines()
        .filter_map(|line| {
            let (pre, post) = line.split_once(" - ")?;
            let pre: Vec<&str> = pre.split_whitespace().collect();
            let post: Vec<&str> = post.split_whitespace().collect();
            let (fstype, super_opts) = (*post.first()?, *post.get(2).unwrap_or(&""));
            let v2 = match fstype {
                "cgroup2" => true,
                "cgroup" => false,
                _ => return None,
            };
            Some(CgroupMount {
                root: pre.get(3)?.to_string(),
                mount_point: PathBuf::from(unescape_octal(pre.get(4)?)),
                v2,
                controllers: if v2 {
                    Vec::new()
                } else {
                    super_opts
                        .split(',')
                        .filter(|o| !matches!(*o, "rw" | "ro") && !o.contains('='))
                        .map(String::from)
                        .collect()
                },
                name: super_opts
                    .split(',')
                    .find_map(|o| o.strip_prefix("name="))
                    .map(String::from),
            })
        })
        .collect()
}

/// mountinfo escapes space, tab, newline and backslash as `\ooo`.
fn unescape_octal(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('\\') {
        out.push_str(&rest[..i]);
        match u8::from_str_radix(rest.get(i + 1..i + 4).unwrap_or(""), 8) {
            Ok(b) => {
                out.push(b as char);
                rest = &rest[i + 4..];
            }
            Err(_) => {
                out.push('\\');
                rest = &rest[i + 1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// One line of /proc/self/cgroup: `hierarchy-ID:controller-list:cgroup-path`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Membership {
    controllers: Vec<String>,
    v2: bool,
    path: String,
}

fn parse_self_cgroup(text: &str) -> Vec<Membership> {
    text.lines()
        .filter_map(|line| {
            let mut parts = line.splitn(3, ':');
            let id = parts.next()?;
            let list = parts.next()?;
            let path = parts.next()?.to_string();
            Some(Membership {
                controllers: list
                    .split(',')
                    .filter(|c| !c.is_empty())
                    .map(String::from)
                    .collect(),
                v2: id == "0" && list.is_empty(),
                path,
            })
        })
        .collect()
}

/// Prefix of the leaf a v2 harness moves itself into ([`super::v2`]); when
/// /proc/self/cgroup shows it, the harness's own cgroup is its parent.
pub const HARNESS_LEAF_PREFIX: &str = "isobench-harness-";

/// The directory of cgroup `path` (from /proc/self/cgroup) in a hierarchy mounted
/// at `mount` whose mount root is `root`.
///
/// # Errors
/// [`CgroupError::Layout`] when the mount shows a part of the tree that does not
/// hold `path`: e.g. a container in its own cgroup namespace with the host's
/// cgroupfs mounted (its mount root reads `/..`, see cgroup_namespaces(7)),
/// where cgroups made at the mount point would lie outside the harness's own.
fn own_dir(mount: &CgroupMount, path: &str) -> Result<PathBuf> {
    let root = mount.root.trim_end_matches('/');
    let rel = path
        .strip_prefix(root)
        .filter(|rest| rest.is_empty() || rest.starts_with('/'))
        .ok_or_else(|| {
            CgroupError::Layout(format!(
                "the cgroup mount at {} shows the tree from {:?}, which does not hold the harness's own cgroup {path:?} (from /proc/self/cgroup); \
                 cgroups made there would lie outside the harness's own. In a container, run it in the host's cgroup namespace \
                 (podman run --cgroupns=host) or do not mount the host's cgroupfs over the container's",
                mount.mount_point.display(),
                mount.root
            ))
        })?;
    let mut rel = rel.trim_start_matches('/').to_string();
    let leaf = format!("{HARNESS_LEAF_PREFIX}{}", std::process::id());
    if rel == leaf || rel.ends_with(&format!("/{leaf}")) {
        rel.truncate(rel.len() - leaf.len());
    }
    Ok(match rel.trim_end_matches('/') {
        "" => mount.mount_point.clone(),
        rel => mount.mount_point.join(rel),
    })
}

/// The hierarchies the harness uses on `layout`, from the text of
/// /proc/self/mountinfo and /proc/self/cgroup.
///
/// v2: the cgroup2 mount. v1 and hybrid: one entry per mount that carries a
/// controller of [`V1_CONTROLLERS`], and on hybrid also the cgroup2 tree for tracking.
///
/// # Errors
/// [`CgroupError::Layout`] naming a required controller (or the cgroup2 tree)
/// that is mounted nowhere or that /proc/self/cgroup does not place the harness in.
pub fn hierarchies(layout: Layout, mountinfo: &str, self_cgroup: &str) -> Result<Vec<Hierarchy>> {
    let mounts = parse_mountinfo(mountinfo);
    let members = parse_self_cgroup(self_cgroup);
    let unified = || -> Result<Hierarchy> {
        let mount = mounts.iter().find(|m| m.v2).ok_or_else(|| {
            CgroupError::Layout("no cgroup2 mount in /proc/self/mountinfo".into())
        })?;
        let member = members
            .iter()
            .find(|m| m.v2)
            .ok_or_else(|| CgroupError::Layout("no `0::` line in /proc/self/cgroup".into()))?;
        Ok(Hierarchy {
            controllers: Vec::new(),
            unified: true,
            mount_point: mount.mount_point.clone(),
            own_dir: own_dir(mount, &member.path)?,
        })
    };
    if layout == Layout::V2 {
        return Ok(vec![unified()?]);
    }
    let mut out: Vec<Hierarchy> = Vec::new();
    for name in V1_CONTROLLERS {
        if out.iter().any(|h| h.has(name)) {
            continue;
        }
        let mount = mounts
            .iter()
            .find(|m| !m.v2 && m.controllers.iter().any(|c| c == name));
        let member = members
            .iter()
            .find(|m| m.controllers.iter().any(|c| c == name));
        match (mount, member) {
            (Some(mount), Some(member)) => out.push(Hierarchy {
                controllers: mount.controllers.clone(),
                unified: false,
                mount_point: mount.mount_point.clone(),
                own_dir: own_dir(mount, &member.path)?,
            }),
            _ if V1_REQUIRED.contains(&name) => {
                return Err(CgroupError::Layout(format!(
                    "the v1 controller `{name}` is mounted in no hierarchy (see /proc/self/mountinfo); isobench needs it to measure CPU share"
                )));
            }
            _ => {}
        }
    }
    if layout == Layout::Hybrid {
        out.push(unified()?);
    }
    Ok(out)
}

/// Every cgroup mount of the host, controller or named (`name=systemd`), v1 or
/// cgroup2, as `(mount point, the harness's own directory in it)`: where a
/// program that creates cgroups in every hierarchy it finds (an OCI runtime's
/// cgroupfs driver) must be kept beneath the harness (DESIGN §5).
///
/// # Errors
/// [`CgroupError::Layout`] naming a mount that no line of /proc/self/cgroup
/// places the harness in.
pub fn every_mount_own_dir(mountinfo: &str, self_cgroup: &str) -> Result<Vec<(PathBuf, PathBuf)>> {
    let members = parse_self_cgroup(self_cgroup);
    parse_mountinfo(mountinfo)
        .into_iter()
        .map(|mount| {
            let mut wanted: Vec<String> = mount.controllers.clone();
            wanted.extend(mount.name.iter().map(|n| format!("name={n}")));
            wanted.sort();
            let member = members.iter().find(|m| {
                let mut have = m.controllers.clone();
                have.sort();
                m.v2 == mount.v2 && (m.v2 || have == wanted)
            });
            match member {
                Some(m) => Ok((mount.mount_point.clone(), own_dir(&mount, &m.path)?)),
                None => Err(CgroupError::Layout(format!(
                    "the cgroup mount {} ({}) has no line in /proc/self/cgroup",
                    mount.mount_point.display(),
                    if mount.v2 {
                        "cgroup2".to_string()
                    } else {
                        wanted.join(",")
                    }
                ))),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_mount_has_its_own_dir_named_hierarchies_included() {
        let dirs = every_mount_own_dir(HYBRID_MOUNTINFO, HYBRID_SELF).unwrap();
        let mounts = parse_mountinfo(HYBRID_MOUNTINFO);
        assert_eq!(dirs.len(), mounts.len());
        for (mount, own) in &dirs {
            assert!(
                own.starts_with(mount),
                "{} not under {}",
                own.display(),
                mount.display()
            );
        }
        let v2 = every_mount_own_dir(V2_MOUNTINFO, V2_SELF).unwrap();
        assert_eq!(v2.len(), 1, "{v2:?}");
        let err = every_mount_own_dir(HYBRID_MOUNTINFO, "0::/\n").unwrap_err();
        assert!(
            err.to_string().contains("has no line in /proc/self/cgroup"),
            "{err}"
        );
    }

    #[test]
    fn host_cgroupfs_seen_from_a_private_cgroup_namespace_is_refused() {
        // A container in its own cgroup namespace (it reads itself at `0::/`)
        // with the host's cgroup2 tree mounted over its own: the mount root
        // lies above the namespace's root (cgroup_namespaces(7)).
        let mountinfo = "35 30 0:30 /.. /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw\n";
        let err = hierarchies(Layout::V2, mountinfo, "0::/\n").unwrap_err();
        assert!(
            err.to_string()
                .contains("does not hold the harness's own cgroup \"/\""),
            "{err}"
        );
        // The same mount seen from the host's namespace holds it.
        let ok = "35 30 0:30 / /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw\n";
        let h = hierarchies(Layout::V2, ok, "0::/kubepods/pod1/c1\n").unwrap();
        assert_eq!(
            h[0].own_dir,
            PathBuf::from("/sys/fs/cgroup/kubepods/pod1/c1")
        );
    }

    const HYBRID_MOUNTINFO: &str = include_str!("../../tests/fixtures/hybrid-6.18/proc/mountinfo");
    const HYBRID_SELF: &str = include_str!("../../tests/fixtures/hybrid-6.18/proc/self_cgroup");
    const V2_MOUNTINFO: &str = include_str!("../../tests/fixtures/v2-debian-6.1/proc_mountinfo");
    const V2_SELF: &str =
        include_str!("../../tests/fixtures/v2-debian-6.1/proc_self_cgroup.before");

    #[test]
    fn c09_layout_follows_filesystem_types_only() {
        assert_eq!(
            Layout::from_fs_kinds(FsKind::from_magic(0x6367_7270), None),
            Some(Layout::V2)
        );
        assert_eq!(
            Layout::from_fs_kinds(FsKind::Tmpfs, Some(FsKind::Cgroup2)),
            Some(Layout::Hybrid)
        );
        assert_eq!(Layout::from_fs_kinds(FsKind::Tmpfs, None), Some(Layout::V1));
        assert_eq!(
            Layout::from_fs_kinds(FsKind::Tmpfs, Some(FsKind::Tmpfs)),
            Some(Layout::V1)
        );
        assert_eq!(Layout::from_fs_kinds(FsKind::Other, None), None);
    }

    #[test]
    fn hybrid_host_puts_limits_in_v1_and_tracks_in_cgroup2() {
        let h = hierarchies(Layout::Hybrid, HYBRID_MOUNTINFO, HYBRID_SELF).unwrap();
        let dirs: Vec<_> = h
            .iter()
            .map(|h| h.own_dir.to_str().unwrap().to_string())
            .collect();
        assert_eq!(
            dirs,
            [
                "/sys/fs/cgroup/cpu",
                "/sys/fs/cgroup/cpuacct",
                "/sys/fs/cgroup/cpuset",
                "/sys/fs/cgroup/memory/build/job-1234",
                "/sys/fs/cgroup/pids",
                "/sys/fs/cgroup/blkio",
                "/sys/fs/cgroup/freezer",
                "/sys/fs/cgroup/unified",
            ]
        );
        assert!(h[7].unified && h[7].controllers.is_empty());
        assert_eq!(h[0].controllers, ["cpu"]);
    }

    #[test]
    fn v2_host_has_one_hierarchy_at_the_service_cgroup() {
        let h = hierarchies(Layout::V2, V2_MOUNTINFO, V2_SELF).unwrap();
        assert_eq!(h.len(), 1);
        assert_eq!(
            h[0].own_dir,
            Path::new("/sys/fs/cgroup/ci.slice/runner.service")
        );
    }

    #[test]
    fn own_harness_leaf_is_seen_through() {
        let me = format!(
            "0::/ci.slice/runner.service/{HARNESS_LEAF_PREFIX}{}\n",
            std::process::id()
        );
        let h = hierarchies(Layout::V2, V2_MOUNTINFO, &me).unwrap();
        assert_eq!(
            h[0].own_dir,
            Path::new("/sys/fs/cgroup/ci.slice/runner.service")
        );
    }

    #[test]
    fn combined_cpu_cpuacct_mount_is_used_once() {
        let mountinfo =
            "30 25 0:26 / /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct\n";
        let h = hierarchies(Layout::V1, mountinfo, "3:cpu,cpuacct:/user.slice\n").unwrap();
        assert_eq!(h.len(), 1);
        assert_eq!(
            h[0].own_dir,
            Path::new("/sys/fs/cgroup/cpu,cpuacct/user.slice")
        );
        assert!(h[0].has("cpu") && h[0].has("cpuacct"));
    }

    #[test]
    fn c09_missing_controller_is_named() {
        let mountinfo = "30 25 0:26 / /sys/fs/cgroup/cpu rw - cgroup cgroup rw,cpu\n";
        let err = hierarchies(Layout::V1, mountinfo, "3:cpu:/\n").unwrap_err();
        assert!(err.to_string().contains("`cpuacct`"), "{err}");
    }

    #[test]
    fn cgroup_namespace_root_is_stripped_from_own_path() {
        let mountinfo = "30 25 0:26 /kubepods/pod1 /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n";
        let h = hierarchies(Layout::V2, mountinfo, "0::/kubepods/pod1/ctr\n").unwrap();
        assert_eq!(h[0].own_dir, Path::new("/sys/fs/cgroup/ctr"));
    }

    #[test]
    fn only_blkio_only_hierarchies_are_on_demand() {
        let h = |c: &[&str], unified| Hierarchy {
            controllers: c.iter().map(|s| s.to_string()).collect(),
            unified,
            mount_point: PathBuf::new(),
            own_dir: PathBuf::new(),
        };
        assert!(h(&["blkio"], false).on_demand());
        assert!(h(&["freezer"], false).on_demand());
        assert!(!h(&["cpu", "blkio"], false).on_demand());
        assert!(!h(&[], true).on_demand());
    }
}

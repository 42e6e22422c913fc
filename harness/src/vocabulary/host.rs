//! The facts about the host that mapping limits depends on, read once and
//! handed to [`super::map`], so that the mapping itself does no I/O and tests
//! can describe any host.

use crate::cgroup::{CpuList, DeviceNumber, Layout, Unsupported};
use std::path::Path;

/// What mapping limits needs to know about the host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostFacts {
    /// How the host mounts cgroups: decides which files are written and which knobs exist.
    pub layout: Layout,
    /// CPUs online (/sys/devices/system/cpu/online): a cpuset must stay within them,
    /// Docker's `cpus` must not exceed their count.
    pub online_cpus: CpuList,
    /// Whole-disk block devices (/sys/block), the only devices I/O limits can name.
    pub block_devices: Vec<BlockDevice>,
    /// Knobs of the layout that this kernel lacks (`cpu.max.burst` before Linux
    /// 5.14, `cpu.idle` before 5.15, ...), as seen in the harness's own cgroup
    /// ([`crate::cgroup::CgroupHost::missing_knobs`]); empty where not known.
    pub missing_knobs: Vec<Unsupported>,
}

/// A whole-disk block device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlockDevice {
    /// Its kernel name, e.g. `sda` (`/dev/sda`).
    pub name: String,
    /// Its device number, `MAJ:MIN`.
    pub device: DeviceNumber,
}

impl HostFacts {
    /// Reads the facts of this host for `layout` from /sys (the knobs the
    /// kernel lacks are left to the caller: [`HostFacts::missing_knobs`]).
    ///
    /// # Errors
    /// A read error of /sys/devices/system/cpu/online or /sys/block, with the path.
    pub fn discover(layout: Layout) -> std::io::Result<HostFacts> {
        HostFacts::read(layout, Path::new("/sys"))
    }

    /// Reads the facts from a sysfs tree mounted at `sys` (`/sys` on a real
    /// host): `devices/system/cpu/online` and `block/<name>/dev`.
    ///
    /// # Errors
    /// A read error naming the path.
    pub fn read(layout: Layout, sys: &Path) -> std::io::Result<HostFacts> {
        let with_path = |path: &Path| {
            let path = path.display().to_string();
            move |e: std::io::Error| std::io::Error::new(e.kind(), format!("{path}: {e}"))
        };
        let online = sys.join("devices/system/cpu/online");
        let online_cpus = CpuList::read(&online).map_err(with_path(&online))?;
        let block = sys.join("block");
        let mut block_devices = Vec::new();
        for entry in std::fs::read_dir(&block).map_err(with_path(&block))? {
            let entry = entry.map_err(with_path(&block))?;
            let dev = entry.path().join("dev");
            let Ok(text) = std::fs::read_to_string(&dev) else {
                continue; // not a device directory
            };
            let device = text.trim().parse().map_err(|e: String| {
                std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    format!("{}: {e}", dev.display()),
                )
            })?;
            block_devices.push(BlockDevice {
                name: entry.file_name().to_string_lossy().into_owned(),
                device,
            });
        }
        block_devices.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(HostFacts {
            layout,
            online_cpus,
            block_devices,
            missing_knobs: Vec::new(),
        })
    }

    /// The block device called `name` or `/dev/<name>`.
    pub fn device_named(&self, name: &str) -> Option<&BlockDevice> {
        let name = name.strip_prefix("/dev/").unwrap_or(name);
        self.block_devices.iter().find(|d| d.name == name)
    }

    /// The block device with number `device`.
    pub fn device_numbered(&self, device: DeviceNumber) -> Option<&BlockDevice> {
        self.block_devices.iter().find(|d| d.device == device)
    }

    /// The block devices as `name (MAJ:MIN)`, comma-separated, for messages.
    pub fn devices_listed(&self) -> String {
        if self.block_devices.is_empty() {
            return "none found in /sys/block".into();
        }
        let all: Vec<String> = self
            .block_devices
            .iter()
            .map(|d| format!("/dev/{} ({})", d.name, d.device))
            .collect();
        all.join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn facts_come_from_a_sysfs_tree() {
        let t = tempfile::tempdir().unwrap();
        let cpu = t.path().join("devices/system/cpu");
        std::fs::create_dir_all(&cpu).unwrap();
        std::fs::copy(
            "tests/fixtures/hybrid-6.18/sys/cpu_online",
            cpu.join("online"),
        )
        .unwrap();
        for (name, dev) in [("vda", "254:0\n"), ("loop0", "7:0\n")] {
            let d = t.path().join("block").join(name);
            std::fs::create_dir_all(&d).unwrap();
            std::fs::write(d.join("dev"), dev).unwrap();
        }
        let facts = HostFacts::read(Layout::Hybrid, t.path()).unwrap();
        assert_eq!(facts.online_cpus.to_string(), "0-1");
        assert_eq!(facts.block_devices.len(), 2);
        let vda = facts.device_named("/dev/vda").unwrap();
        assert_eq!(vda.device.to_string(), "254:0");
        assert_eq!(facts.device_numbered(vda.device), Some(vda));
        assert_eq!(facts.devices_listed(), "/dev/loop0 (7:0), /dev/vda (254:0)");
    }

    #[test]
    fn a_missing_sysfs_file_is_named() {
        let t = tempfile::tempdir().unwrap();
        let err = HostFacts::read(Layout::V2, t.path())
            .unwrap_err()
            .to_string();
        assert!(err.contains("devices/system/cpu/online"), "{err}");
    }
}

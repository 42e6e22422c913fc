//! The host fingerprint: kernel, layout, CPUs, SMT, governor, virtualisation and
//! the harness's own cgroup limits, and whether it runs in a container.

use crate::cgroup::CgroupHost;
use isobench_reports::schema::{HostFingerprint, Reading};
use std::path::Path;

fn read_trimmed(path: &str) -> Reading<String> {
    match std::fs::read_to_string(path) {
        Ok(s) => Reading::Value(s.trim().to_string()),
        Err(e) => Reading::Unavailable(format!("{path}: {e}")),
    }
}

/// Number of CPUs in a kernel CPU list such as `0-3,8,10-11` (the format of
/// /sys/devices/system/cpu/online and `cpuset.cpus`, see cpuset(7) "List format").
/// Returns `None` for text that is not such a list.
pub fn parse_cpu_list(text: &str) -> Option<usize> {
    let text = text.trim();
    if text.is_empty() {
        return Some(0);
    }
    text.split(',').try_fold(0usize, |n, part| {
        let (a, b) = part.split_once('-').unwrap_or((part, part));
        let (a, b): (usize, usize) = (a.trim().parse().ok()?, b.trim().parse().ok()?);
        (b >= a).then(|| n + b - a + 1)
    })
}

/// Takes the fingerprint of this host; what cannot be read is marked unavailable.
pub fn fingerprint(host: &CgroupHost) -> HostFingerprint {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let cpu_model = cpuinfo.lines().find_map(|l| {
        l.strip_prefix("model name")?
            .split_once(':')
            .map(|(_, v)| v.trim().to_string())
    });
    let virtualised = cpuinfo
        .lines()
        .any(|l| l.starts_with("flags") && l.split_whitespace().any(|f| f == "hypervisor"));
    let online = std::fs::read_to_string("/sys/devices/system/cpu/online")
        .ok()
        .and_then(|s| parse_cpu_list(&s));
    HostFingerprint {
        kernel: nix::sys::utsname::uname()
            .map(|u| u.release().to_string_lossy().into_owned())
            .unwrap_or_default(),
        layout: host.layout.to_string(),
        cpu_model,
        cpus: online.unwrap_or_else(isobench_workloads::cpu_hog::cpus_allowed),
        cpus_allowed: isobench_workloads::cpu_hog::cpus_allowed(),
        smt: if Path::new("/sys/devices/system/cpu/smt/control").exists() {
            read_trimmed("/sys/devices/system/cpu/smt/control")
        } else {
            Reading::Unavailable(
                "no /sys/devices/system/cpu/smt (kernel without SMT control)".into(),
            )
        },
        governor: read_trimmed("/sys/devices/system/cpu/cpu0/cpufreq/scaling_governor"),
        virtualised,
        harness_cgroup_limits: host.own_limits(),
        environment: Some(super::container::detect()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_lists_are_counted() {
        assert_eq!(parse_cpu_list("0-1\n"), Some(2));
        assert_eq!(parse_cpu_list("0-3,8,10-11"), Some(7));
        assert_eq!(parse_cpu_list(""), Some(0));
        assert_eq!(parse_cpu_list("3-1"), None);
        assert_eq!(parse_cpu_list("zero"), None);
    }
}

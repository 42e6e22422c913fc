//! `inspect`: reports what a process can see of the system around it, so tests
//! and the visibility checks can tell whether each namespace took effect.

use serde::{Deserialize, Serialize};
use std::fs;

/// What the process saw.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct View {
    /// Its own pid, as its pid namespace numbers it.
    pub pid: i32,
    /// Its parent's pid (1 when started by the sandbox init).
    pub ppid: i32,
    /// Every pid listed in /proc.
    pub visible_pids: Vec<i32>,
    /// Network interfaces in /sys/class/net (falls back to /proc/net/dev).
    pub interfaces: Vec<String>,
    /// The hostname.
    pub hostname: String,
    /// /proc/self/cgroup, verbatim.
    pub cgroup: String,
    /// Namespace identities, e.g. `"net": "net:[4026531840]"` (readlink of /proc/self/ns/*).
    pub namespaces: std::collections::BTreeMap<String, String>,
    /// What `kill(host_pid, 0)` answered, when a host pid was given: `ok` or the errno name.
    pub signal_host: Option<String>,
    /// Its real uid, as its user namespace numbers it.
    #[serde(default)]
    pub uid: u32,
    /// /proc/self/uid_map, verbatim: `inside outside count` per line (user_namespaces(7)).
    #[serde(default)]
    pub uid_map: String,
}

/// The namespaces whose identities [`View::namespaces`] lists.
pub const NAMESPACES: [&str; 7] = ["pid", "mnt", "uts", "ipc", "net", "cgroup", "user"];

/// Identities of this process's namespaces (namespaces(7), "/proc/[pid]/ns/").
pub fn namespace_ids() -> std::collections::BTreeMap<String, String> {
    NAMESPACES
        .iter()
        .filter_map(|ns| {
            let target = fs::read_link(format!("/proc/self/ns/{ns}")).ok()?;
            Some((ns.to_string(), target.to_string_lossy().into_owned()))
        })
        .collect()
}

/// Looks around and returns what was seen; unreadable sources read as empty.
/// With `host_pid`, also tries to signal that pid (signal 0: nothing is delivered).
pub fn look(host_pid: Option<i32>) -> View {
    let mut visible_pids: Vec<i32> = fs::read_dir("/proc")
        .map(|dir| {
            dir.filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
                .collect()
        })
        .unwrap_or_default();
    visible_pids.sort_unstable();
    View {
        pid: std::process::id() as i32,
        ppid: nix::unistd::getppid().as_raw(),
        visible_pids,
        interfaces: interfaces(),
        hostname: nix::unistd::gethostname()
            .map(|h| h.to_string_lossy().into_owned())
            .unwrap_or_default(),
        cgroup: fs::read_to_string("/proc/self/cgroup").unwrap_or_default(),
        namespaces: namespace_ids(),
        uid: nix::unistd::getuid().as_raw(),
        uid_map: fs::read_to_string("/proc/self/uid_map").unwrap_or_default(),
        signal_host: host_pid.map(|pid| {
            match nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), None) {
                Ok(()) => "ok".to_string(),
                Err(e) => format!("{e:?}"),
            }
        }),
    }
}

/// Interface names from /proc/net/dev: it follows the reader's network
/// namespace, whereas /sys/class/net follows the namespace sysfs was mounted in.
fn interfaces() -> Vec<String> {
    let text = fs::read_to_string("/proc/self/net/dev").unwrap_or_default();
    text.lines()
        .skip(2)
        .filter_map(|l| Some(l.split_once(':')?.0.trim().to_string()))
        .collect()
}

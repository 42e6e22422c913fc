//! The ways a process is started in scenario `startup-latency` (DESIGN §2
//! "Startup latency"): two plain baselines and sandboxes with a cgroup and a
//! set of namespaces.

use crate::sandbox::NamespaceSet;
use serde::Serialize;

/// How the probe is started.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "method")]
pub enum Method {
    /// `posix_spawn(3)` (Rust's `std::process::Command`), no isolation.
    PosixSpawn,
    /// `fork(2)` + `execve(2)`, no isolation.
    ForkExec,
    /// A cgroup made for it, clone(2) with `namespaces`, attach, exec (isobench's sandbox path).
    Sandbox {
        /// The namespaces of the clone.
        namespaces: NamespaceSet,
    },
}

/// One variant: its name in metrics (`startup.<name>.p50_us`) and how it starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Variant {
    /// Name, e.g. `fork_exec`, `sandbox_pid`, `sandbox_all_net`.
    pub name: &'static str,
    /// How it starts the probe.
    pub method: Method,
}

impl Variant {
    /// True for variants with a new network namespace: measured in a block of
    /// their own after the others, because netns teardown is asynchronous and
    /// slows whatever starts next (FIELD-NOTES, case C07).
    pub fn has_net(&self) -> bool {
        matches!(self.method, Method::Sandbox { namespaces } if namespaces.net)
    }
}

const fn only(
    pid: bool,
    mnt: bool,
    uts: bool,
    ipc: bool,
    net: bool,
    cgroup: bool,
    user: bool,
) -> Method {
    Method::Sandbox {
        namespaces: NamespaceSet {
            pid,
            mnt,
            uts,
            ipc,
            net,
            cgroup,
            user,
        },
    }
}

/// The headline sandbox: every namespace but net and user, plus its cgroup.
pub const SANDBOX: &str = "sandbox_all";
/// The headline sandbox with a new network namespace too.
pub const SANDBOX_NET: &str = "sandbox_all_net";
/// The plain baseline of the overhead ratio.
pub const FORK_EXEC: &str = "fork_exec";

/// Every variant, in the order reported; net variants last.
pub const ALL: [Variant; 12] = [
    Variant {
        name: "posix_spawn",
        method: Method::PosixSpawn,
    },
    Variant {
        name: FORK_EXEC,
        method: Method::ForkExec,
    },
    Variant {
        name: "sandbox_cgroup_only",
        method: only(false, false, false, false, false, false, false),
    },
    Variant {
        name: "sandbox_pid",
        method: only(true, false, false, false, false, false, false),
    },
    Variant {
        name: "sandbox_mnt",
        method: only(false, true, false, false, false, false, false),
    },
    Variant {
        name: "sandbox_uts",
        method: only(false, false, true, false, false, false, false),
    },
    Variant {
        name: "sandbox_ipc",
        method: only(false, false, false, true, false, false, false),
    },
    Variant {
        name: "sandbox_cgroupns",
        method: only(false, false, false, false, false, true, false),
    },
    Variant {
        name: "sandbox_user",
        method: only(false, false, false, false, false, false, true),
    },
    Variant {
        name: SANDBOX,
        method: only(true, true, true, true, false, true, false),
    },
    Variant {
        name: "sandbox_net",
        method: only(false, false, false, false, true, false, false),
    },
    Variant {
        name: SANDBOX_NET,
        method: only(true, true, true, true, true, true, false),
    },
];

/// The variant called `name`.
pub fn by_name(name: &str) -> Option<Variant> {
    ALL.iter().copied().find(|v| v.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn net_variants_come_last_and_names_are_unique() {
        let first_net = ALL.iter().position(Variant::has_net).unwrap();
        assert!(ALL[first_net..].iter().all(Variant::has_net));
        for (i, v) in ALL.iter().enumerate() {
            assert!(
                ALL[..i].iter().all(|w| w.name != v.name),
                "{} twice",
                v.name
            );
        }
        assert!(by_name(SANDBOX).is_some() && by_name(SANDBOX_NET).is_some());
    }
}

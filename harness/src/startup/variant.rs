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
    /// The same, joining a network namespace made once ahead of time (setns(2))
    /// instead of creating one per start: the reuse option for netns-heavy churn (C07).
    JoinNet {
        /// The namespaces of the clone (net is joined, not cloned).
        namespaces: NamespaceSet,
    },
    /// The same, but cloned straight into the cgroup with clone3(2)
    /// `CLONE_INTO_CGROUP` (cgroup v2, Linux 5.7): no `cgroup.procs` write.
    IntoCgroup {
        /// The namespaces of the clone.
        namespaces: NamespaceSet,
    },
    /// An external runtime (`unshare`, `bwrap`, `crun`, …) starts the same probe
    /// ([`super::runtime`]), timed beside isobench's sandbox.
    Runtime {
        /// Which one.
        runtime: super::runtime::Runtime,
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
        matches!(self.method, Method::JoinNet { .. })
            || matches!(self.method, Method::Sandbox { namespaces } | Method::IntoCgroup { namespaces } if namespaces.net)
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
/// The headline sandbox joining a network namespace made ahead of time.
pub const SANDBOX_JOIN_NET: &str = "sandbox_all_reused_net";
/// The headline sandbox cloned into its cgroup with clone3 (v2 only).
pub const SANDBOX_CLONE3: &str = "sandbox_all_clone3";
/// The plain baseline of the overhead ratio.
pub const FORK_EXEC: &str = "fork_exec";
/// The cheapest plain start (vfork + exec): the baseline of the spawn ratio.
pub const POSIX_SPAWN: &str = "posix_spawn";

/// The namespaces of the headline sandbox unless `--namespaces` says otherwise:
/// pid, mnt, uts, ipc and cgroup (net is measured as its own variant).
pub const HEADLINE: NamespaceSet = NamespaceSet {
    net: false,
    ..NamespaceSet::ALL
};

/// Every variant, in the order reported, net variants last; `headline` (its
/// `net` ignored) is the sandbox of [`SANDBOX`], and with net of [`SANDBOX_NET`].
pub fn all(headline: NamespaceSet) -> Vec<Variant> {
    let sandbox = |namespaces| Method::Sandbox { namespaces };
    vec![
        Variant {
            name: POSIX_SPAWN,
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
            method: sandbox(NamespaceSet {
                net: false,
                ..headline
            }),
        },
        Variant {
            name: SANDBOX_CLONE3,
            method: Method::IntoCgroup {
                namespaces: NamespaceSet {
                    net: false,
                    user: false,
                    ..headline
                },
            },
        },
        Variant {
            name: "sandbox_net",
            method: only(false, false, false, false, true, false, false),
        },
        Variant {
            name: SANDBOX_NET,
            method: sandbox(NamespaceSet {
                net: true,
                ..headline
            }),
        },
        Variant {
            name: SANDBOX_JOIN_NET,
            method: Method::JoinNet {
                namespaces: NamespaceSet {
                    net: false,
                    ..headline
                },
            },
        },
    ]
}

/// Parses `--namespaces`: a comma-separated list of pid, mnt, uts, ipc, net, cgroup, user.
///
/// # Errors
/// A message naming the unknown entry and the accepted names.
pub fn parse_namespaces(list: &str) -> Result<NamespaceSet, String> {
    let mut ns = NamespaceSet::default();
    for name in list.split(',').map(str::trim) {
        let slot = match name {
            "pid" => &mut ns.pid,
            "mnt" => &mut ns.mnt,
            "uts" => &mut ns.uts,
            "ipc" => &mut ns.ipc,
            "net" => &mut ns.net,
            "cgroup" => &mut ns.cgroup,
            "user" => &mut ns.user,
            other => {
                return Err(format!(
                    "unknown namespace {other:?}: expected a comma-separated list of pid, mnt, uts, ipc, net, cgroup, user"
                ));
            }
        };
        *slot = true;
    }
    Ok(ns)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn net_variants_come_last_and_names_are_unique() {
        let all = all(HEADLINE);
        let first_net = all.iter().position(Variant::has_net).unwrap();
        assert!(all[first_net..].iter().all(Variant::has_net));
        for (i, v) in all.iter().enumerate() {
            assert!(
                all[..i].iter().all(|w| w.name != v.name),
                "{} twice",
                v.name
            );
        }
        assert!(all.iter().any(|v| v.name == SANDBOX) && all.iter().any(|v| v.name == SANDBOX_NET));
    }

    #[test]
    fn namespace_lists_parse_and_unknown_names_are_named() {
        let ns = parse_namespaces("pid, mnt,net").unwrap();
        assert!(ns.pid && ns.mnt && ns.net && !ns.uts);
        let err = parse_namespaces("pid,time").unwrap_err();
        assert!(err.starts_with("unknown namespace \"time\""), "{err}");
    }
}

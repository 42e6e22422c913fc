//! Errors of the cgroup layer. Every variant names the file or directory it concerns.

use std::path::PathBuf;

/// What went wrong with a cgroup file or directory.
#[derive(Debug, thiserror::Error)]
pub enum CgroupError {
    /// Reading a control file failed.
    #[error("reading {path}: {error}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The kernel's answer.
        error: std::io::Error,
    },
    /// Writing a control file failed; `value` is what was written.
    #[error("writing {value:?} to {path}: {error}")]
    Write {
        /// The file.
        path: PathBuf,
        /// What was written.
        value: String,
        /// The kernel's answer.
        error: std::io::Error,
    },
    /// The kernel refused a limit for a reason isobench can name (a burst above
    /// the quota, case C10; a weight for an idle group, case C16).
    #[error(
        "{file} {value} refused by the kernel: {reason} (writing {value:?} to {path}: {error})"
    )]
    Refused {
        /// The knob's file, e.g. `cpu.cfs_burst_us`.
        file: String,
        /// What was written.
        value: String,
        /// Why, in words, starting with the errno's name.
        reason: String,
        /// The file's path.
        path: PathBuf,
        /// The kernel's answer.
        error: std::io::Error,
    },
    /// Creating or removing a cgroup directory failed.
    #[error("{action} {path}: {error}")]
    Dir {
        /// `creating` or `removing`.
        action: &'static str,
        /// The cgroup directory.
        path: PathBuf,
        /// The kernel's answer.
        error: std::io::Error,
    },
    /// A line of a control file that does not have the expected shape.
    #[error("{path}: cannot parse {line:?}: {expected}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// The offending line.
        line: String,
        /// What the line should have looked like.
        expected: &'static str,
    },
    /// The cgroup layout could not be told, or a needed controller is mounted nowhere (case C09).
    #[error("{0}")]
    Layout(String),
    /// v2 no-internal-processes rule (case C02): controllers cannot be enabled below a
    /// cgroup that holds processes isobench did not start.
    #[error(
        "cannot enable controllers in {path}/cgroup.subtree_control: cgroup v2's no-internal-processes rule \
         forbids it while {path} holds processes other than isobench (pids {pids:?}); run isobench from a \
         cgroup of its own (e.g. `systemd-run --scope -p Delegate=yes isobench ...`) or move those processes \
         into a leaf cgroup first"
    )]
    InternalProcesses {
        /// The harness's own cgroup.
        path: PathBuf,
        /// Processes in it that isobench did not start.
        pids: Vec<i32>,
    },
    /// A v1 cpuset whose cpus or mems could not be filled (case C03).
    #[error(
        "{file} is empty in {path} and its parent has none to copy; a task attached there would fail with ENOSPC"
    )]
    EmptyCpuset {
        /// `cpuset.cpus` or `cpuset.mems`.
        file: &'static str,
        /// The cgroup directory.
        path: PathBuf,
    },
    /// A knob the host's layout, or the host itself, has no file for.
    #[error("{0}")]
    Unsupported(#[from] super::limits::Unsupported),
    /// A cpuset naming CPUs the host does not have online.
    #[error(
        "cpuset.cpus {requested} names CPUs {missing} that this host does not have online \
         (online: {online}, from /sys/devices/system/cpu/online)"
    )]
    CpusNotOnline {
        /// The CPUs asked for.
        requested: super::cpulist::CpuList,
        /// Those of them that are not online.
        missing: super::cpulist::CpuList,
        /// The CPUs that are online.
        online: super::cpulist::CpuList,
    },
    /// Processes stayed in a cgroup after they were killed.
    #[error("{path} still holds processes {pids:?} after {waited_ms} ms; they were sent SIGKILL")]
    NotEmpty {
        /// The cgroup directory.
        path: PathBuf,
        /// Pids still listed in its cgroup.procs.
        pids: Vec<i32>,
        /// How long teardown waited.
        waited_ms: u64,
    },
}

/// Shorthand for results of this layer.
pub type Result<T> = std::result::Result<T, CgroupError>;

//! Starting the probe once, by each [`Method`], with a CLOCK_MONOTONIC stamp at
//! every step: the request, cgroup created, clone returned, attached, released,
//! the probe's first instruction (its own stamp), reaped, cgroup removed.

use super::static_probe::Materialized;
use super::variant::Method;
use crate::cgroup::{Arena, Cgroup, Limits};
use crate::sandbox::{self, Exec, Launch, LaunchStamps, NamespaceSet, Process, monotonic_ns};
use anyhow::{Context, Result, bail};
use std::io::Read;
use std::os::fd::AsFd;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// The probe binary, with its argv and environment prepared once.
pub struct Probe {
    path: PathBuf,
    exec: Exec,
    command: std::process::Command,
    deadline: Duration,
    netns: Option<std::fs::File>,
    /// The memfd holding the embedded probe, open as long as `path` names it.
    _image: Option<Materialized>,
}

impl Probe {
    /// The embedded static probe ([`super::static_probe`]); `inspect` makes it
    /// print its pid and cgroup after its stamp.
    ///
    /// # Errors
    /// When its memfd cannot be made ([`Materialized::new`]).
    pub fn embedded(inspect: bool) -> Result<Probe> {
        let image = Materialized::new()?;
        let mut probe = Probe::program(&image.path(), inspect)?;
        probe._image = Some(image);
        Ok(probe)
    }

    /// Another program in the probe's place (it must write the same 16-byte
    /// stamp first); `inspect` passes it `--inspect`.
    ///
    /// # Errors
    /// When it is not there or not a file, naming the path.
    pub fn program(path: &Path, inspect: bool) -> Result<Probe> {
        let meta = std::fs::metadata(path)
            .with_context(|| format!("the startup probe {}", path.display()))?;
        if !meta.is_file() {
            bail!("the startup probe {} is not a file", path.display());
        }
        let mut argv = vec![path.as_os_str().as_bytes().to_vec()];
        if inspect {
            argv.push(b"--inspect".to_vec());
        }
        let mut command = std::process::Command::new(path);
        command.args(argv.iter().skip(1).map(|a| std::ffi::OsStr::from_bytes(a)));
        command.stdout(std::process::Stdio::piped());
        Ok(Probe {
            exec: Exec::new(path, argv)?,
            path: path.to_path_buf(),
            command,
            deadline: DEADLINE,
            netns: None,
            _image: None,
        })
    }

    /// The same probe, given `deadline` instead of [`DEADLINE`] to finish.
    pub fn with_deadline(mut self, deadline: Duration) -> Probe {
        self.deadline = deadline;
        self
    }
}

/// The phases of a start and its teardown, in order: each ends at one stamp.
pub const PHASES: [&str; 7] = [
    "cgroup_create",
    "clone",
    "attach",
    "release",
    "exec_to_main",
    "reap",
    "cgroup_remove",
];

/// The phases of a start, up to the probe's first instruction.
pub const START_PHASES: &[&str] = PHASES.split_at(5).0;

/// The stamps of one start, CLOCK_MONOTONIC ns; 0 for a step the method does not take.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stamps {
    /// The harness asked for the start.
    pub request: u64,
    /// The sandbox's cgroup exists, with its limits.
    pub created: u64,
    /// The namespaces exist: clone(2) returned in the parent (a child that waits
    /// for its parent), or the child's first instruction (a child that attaches
    /// itself, stamping into the parent's memory). Sandboxes only: a forked or
    /// spawned child runs on at once, so the parent's return is no step of its start.
    pub cloned: u64,
    /// The child is in its cgroup in every hierarchy.
    pub attached: u64,
    /// The child was released to exec by its parent, or, attaching itself, has
    /// done its set-up (cgroup namespace, network, stdout) and calls execve(2).
    pub released: u64,
    /// The probe's first instruction in `main` (its own stamp).
    pub first: u64,
    /// The probe was reaped after it exited.
    pub reaped: u64,
    /// The sandbox's cgroup was removed.
    pub removed: u64,
}

impl Stamps {
    /// Every stamp, request first, in the order the steps happen.
    fn in_order(&self) -> [u64; 8] {
        [
            self.request,
            self.created,
            self.cloned,
            self.attached,
            self.released,
            self.first,
            self.reaped,
            self.removed,
        ]
    }

    /// From the request to the probe's first instruction, µs.
    pub fn start_us(&self) -> f64 {
        us(self.first, self.request)
    }

    /// From the request until everything is gone (reaped, cgroup removed), µs:
    /// what hyperfine's whole-process figure of a runtime covers.
    pub fn exit_us(&self) -> f64 {
        us(self.removed.max(self.reaped), self.request)
    }

    /// From the probe's first instruction until everything is gone (reaped, cgroup removed), µs.
    pub fn teardown_us(&self) -> f64 {
        us(self.removed.max(self.reaped), self.first)
    }

    /// The phases of the start and of the teardown, µs, by name (one of [`PHASES`]),
    /// in that order; only those the method takes.
    pub fn phases(&self) -> Vec<(&'static str, f64)> {
        let mut out = Vec::new();
        let mut last = self.request;
        for (name, at) in PHASES.into_iter().zip(self.in_order().into_iter().skip(1)) {
            if at != 0 {
                out.push((name, us(at, last)));
                last = at;
            }
        }
        out
    }

    /// True when every stamp taken follows the one before (request ≤ clone ≤ attach ≤ exec ≤ first).
    pub fn ordered(&self) -> bool {
        let taken: Vec<u64> = self.in_order().into_iter().filter(|&t| t != 0).collect();
        taken.windows(2).all(|w| w[0] <= w[1])
    }
}

/// When a start begun at `s.request` must be over, `limit` after it.
fn deadline(s: &Stamps, limit: Duration) -> Instant {
    let asked = Duration::from_nanos(monotonic_ns().saturating_sub(s.request));
    Instant::now() + limit.saturating_sub(asked)
}

fn us(later: u64, earlier: u64) -> f64 {
    later.saturating_sub(earlier) as f64 / 1000.0
}

/// One start of the probe, and what it printed after its stamp (with `--inspect`).
pub struct Started {
    /// When each step ended.
    pub stamps: Stamps,
    /// The probe's output after its 16-byte stamp.
    pub output: String,
}

/// How long the probe may take from the request to closing its stdout; past it
/// the start fails and everything it made is killed and removed.
pub const DEADLINE: Duration = Duration::from_secs(10);

/// Reads the probe's stamp and the rest of its output from the pipe `r` until
/// EOF, at most until `deadline`.
pub(crate) fn read_probe_by(r: &mut std::fs::File, deadline: Instant) -> Result<(u64, String)> {
    use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
    let mut all = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            bail!("the probe did not finish by its deadline; it was killed");
        }
        let ms =
            PollTimeout::try_from(left.as_millis().min(60_000) as i32).unwrap_or(PollTimeout::MAX);
        let mut fds = [PollFd::new(r.as_fd(), PollFlags::POLLIN)];
        if poll(&mut fds, ms).context("waiting for the probe's stamp")? == 0 {
            continue;
        }
        let n = r.read(&mut buf).context("reading the probe's stamp")?;
        if n == 0 {
            return read_probe(&all[..]);
        }
        all.extend_from_slice(&buf[..n]);
    }
}

/// Parses the probe's stamp and the rest of its output.
fn read_probe(mut r: impl Read) -> Result<(u64, String)> {
    let mut all = Vec::new();
    r.read_to_end(&mut all)
        .context("reading the probe's stamp")?;
    if all.len() < 16 {
        bail!("the probe wrote {} bytes, not its 16-byte stamp", all.len());
    }
    let sec = i64::from_ne_bytes(all[..8].try_into().expect("8 bytes"));
    let nsec = i64::from_ne_bytes(all[8..16].try_into().expect("8 bytes"));
    if sec < 0 || nsec < 0 {
        bail!("the probe could not read its clock");
    }
    let stamp = sec as u64 * 1_000_000_000 + nsec as u64;
    Ok((stamp, String::from_utf8_lossy(&all[16..]).into_owned()))
}

/// Starts the probe once by `method` (sandboxes get cgroup `name` in `arena`;
/// the baselines need none) and tears it down.
///
/// # Errors
/// A failed start, naming the step; whatever was created is removed. A sandbox
/// without an arena.
pub fn start(
    probe: &mut Probe,
    method: Method,
    arena: Option<&Arena>,
    name: &str,
) -> Result<Started> {
    match method {
        Method::PosixSpawn => posix_spawn(probe),
        Method::ForkExec => fork_exec(probe),
        _ => begin(probe, method, arena, name)?.finish(),
    }
}

/// Starts a sandbox by `method` with cgroup `name` in `arena` up to its
/// probe's stamp, leaving the teardown to [`Begun::finish`], on this thread or
/// another (the churn's reaper).
///
/// # Errors
/// As [`start`]; the baselines, which have no sandbox to tear down apart.
pub fn begin(
    probe: &mut Probe,
    method: Method,
    arena: Option<&Arena>,
    name: &str,
) -> Result<Begun> {
    let arena = arena.context("a sandbox needs an arena for its cgroup")?;
    match method {
        Method::Sandbox { namespaces } => sandbox(probe, namespaces, false, false, arena, name),
        Method::IntoCgroup { namespaces } => sandbox(probe, namespaces, true, false, arena, name),
        Method::JoinNet { namespaces } => {
            if probe.netns.is_none() {
                probe.netns = Some(
                    sandbox::made_netns().context("making a network namespace ahead of time")?,
                );
            }
            sandbox(probe, namespaces, false, true, arena, name)
        }
        Method::PosixSpawn | Method::ForkExec => {
            bail!("{method:?} starts no sandbox: use `start`")
        }
        Method::Runtime { runtime } => bail!(
            "{} is started by startup::runtime::Runtimes::start, which holds its bundle",
            runtime.name()
        ),
    }
}

/// A sandbox whose probe has stamped its first instruction: what is left is
/// to reap it and remove its cgroup.
pub struct Begun {
    stamps: Stamps,
    output: String,
    process: Process,
    cgroup: Cgroup,
    deadline: Duration,
}

impl Begun {
    /// Reaps the probe and removes its cgroup, stamping both.
    ///
    /// # Errors
    /// The probe not exiting by its deadline (it is killed), or the cgroup's
    /// removal failing, with the path.
    pub fn finish(mut self) -> Result<Started> {
        self.process.wait_closely(self.deadline)?;
        self.stamps.reaped = monotonic_ns();
        self.cgroup
            .remove()
            .context("removing the sandbox's cgroup")?;
        self.stamps.removed = monotonic_ns();
        Ok(Started {
            stamps: self.stamps,
            output: self.output,
        })
    }
}

fn posix_spawn(probe: &mut Probe) -> Result<Started> {
    let mut s = Stamps {
        request: monotonic_ns(),
        ..Stamps::default()
    };
    let mut child = probe
        .command
        .spawn()
        .with_context(|| format!("posix_spawn of {}", probe.path.display()))?;
    let mut out = std::fs::File::from(std::os::fd::OwnedFd::from(
        child.stdout.take().context("the probe's stdout")?,
    ));
    let read = read_probe_by(&mut out, deadline(&s, probe.deadline));
    if read.is_err() {
        let _ = child.kill();
    }
    child.wait().context("waiting for the probe")?;
    let (first, output) = read?;
    s.first = first;
    s.reaped = monotonic_ns();
    Ok(Started { stamps: s, output })
}

fn fork_exec(probe: &mut Probe) -> Result<Started> {
    let mut s = Stamps {
        request: monotonic_ns(),
        ..Stamps::default()
    };
    let (rd, wr) = nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC).context("pipe")?;
    let pid = probe.exec.fork_exec(wr.as_fd()).context("fork")?;
    drop(wr);
    let read = read_probe_by(&mut std::fs::File::from(rd), deadline(&s, probe.deadline));
    if read.is_err() {
        let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGKILL);
    }
    let status = nix::sys::wait::waitpid(pid, None).context("waiting for the probe")?;
    s.reaped = monotonic_ns();
    let (first, output) = read.with_context(|| format!("the probe ended with {status:?}"))?;
    s.first = first;
    Ok(Started { stamps: s, output })
}

/// A sandbox start; `into_cgroup`: cloned with clone3 `CLONE_INTO_CGROUP`;
/// `join_net`: joining the probe's network namespace made ahead of time.
fn sandbox(
    probe: &mut Probe,
    ns: NamespaceSet,
    into_cgroup: bool,
    join_net: bool,
    arena: &Arena,
    name: &str,
) -> Result<Begun> {
    let mut s = Stamps {
        request: monotonic_ns(),
        ..Stamps::default()
    };
    let cg = arena
        .sandbox(name, &Limits::default())
        .context("creating the sandbox's cgroup")?;
    s.created = monotonic_ns();
    let (rd, wr) = nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC).context("pipe")?;
    let mut plan = Launch::new(&probe.exec, wr.as_fd());
    if let Some(netns) = probe.netns.as_ref().filter(|_| join_net) {
        plan = plan.joining_netns(netns.as_fd());
    }
    let mut steps = LaunchStamps::default();
    let reader = std::fs::File::from(rd);
    let mut process = if into_cgroup {
        sandbox::launch_into_cgroup(&plan, reader, ns, &cg)?
    } else {
        sandbox::launch(&plan, reader, ns, Some(&cg), None, &mut steps)?
    };
    (s.cloned, s.attached, s.released) = (steps.cloned_ns, steps.attached_ns, steps.released_ns);
    drop(wr);
    let (first, output) = read_probe_by(process.stdout(), deadline(&s, probe.deadline))?;
    s.first = first;
    Ok(Begun {
        stamps: s,
        output,
        process,
        cgroup: cg,
        deadline: probe.deadline,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phases_follow_the_stamps_taken_and_order_is_checked() {
        let s = Stamps {
            request: 1_000,
            created: 3_000,
            cloned: 6_000,
            attached: 7_000,
            released: 7_500,
            first: 10_000,
            reaped: 12_000,
            removed: 15_000,
        };
        assert!(s.ordered());
        assert_eq!(s.start_us(), 9.0);
        assert_eq!(s.teardown_us(), 5.0);
        assert_eq!(s.exit_us(), 14.0);
        let names: Vec<&str> = s.phases().iter().map(|p| p.0).collect();
        assert_eq!(
            names,
            [
                "cgroup_create",
                "clone",
                "attach",
                "release",
                "exec_to_main",
                "reap",
                "cgroup_remove"
            ]
        );
        let fork = Stamps {
            request: 1_000,
            first: 4_000,
            reaped: 5_000,
            ..Stamps::default()
        };
        assert_eq!(fork.phases().len(), 2);
        assert!(!Stamps { first: 500, ..s }.ordered());
    }

    #[test]
    fn a_short_stamp_is_an_error_not_a_zero() {
        assert!(read_probe(&[1u8, 2, 3][..]).is_err());
        let mut bytes = 5i64.to_ne_bytes().to_vec();
        bytes.extend(7i64.to_ne_bytes());
        bytes.extend(b"pid 1\n");
        let (stamp, rest) = read_probe(&bytes[..]).unwrap();
        assert_eq!((stamp, rest.as_str()), (5_000_000_007, "pid 1\n"));
    }
}

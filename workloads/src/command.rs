//! A user's command as isobench starts it: the program found at `suite check`,
//! its argv as written, added variables and a working directory; and stopping
//! it with its process group.

use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, ExitStatus};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// The command line of a user's command, after the applet's own flags.
#[derive(clap::Args, Debug, Clone)]
pub struct CommandArgs {
    /// The program to run, as isobench found it (a path).
    #[arg(long)]
    pub program: PathBuf,
    /// NAME=VALUE added to the environment; repeatable.
    #[arg(long = "env", value_parser = env_pair)]
    pub env: Vec<(String, String)>,
    /// Working directory.
    #[arg(long)]
    pub cwd: Option<PathBuf>,
    /// The command line as written, argv[0] first.
    #[arg(last = true, required = true)]
    pub argv: Vec<String>,
}

/// Parses `NAME=VALUE`.
fn env_pair(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((name, value)) if !name.is_empty() => Ok((name.into(), value.into())),
        _ => Err(format!("{text:?}: expected NAME=VALUE")),
    }
}

/// How long a command has after SIGTERM before SIGKILL.
pub const GRACE: Duration = Duration::from_secs(1);

impl CommandArgs {
    /// The command, ready to spawn or exec: `program` with `argv` (argv[0] as
    /// written), the added variables and the working directory.
    pub fn command(&self) -> std::process::Command {
        let mut c = std::process::Command::new(&self.program);
        if let Some((first, rest)) = self.argv.split_first() {
            c.arg0(first).args(rest);
        }
        c.envs(self.env.iter().map(|(k, v)| (k, v)));
        if let Some(dir) = &self.cwd {
            c.current_dir(dir);
        }
        c
    }

    /// Replaces this process with the command (execve(2)); returns only on failure.
    pub fn exec(&self) -> std::io::Error {
        self.command().exec()
    }

    /// [`CommandArgs::exec`] with the command's stderr on this process's stdout
    /// (dup2(2) before the execve).
    pub fn exec_with_stderr_on_stdout(&self) -> std::io::Error {
        use std::os::fd::AsFd;
        let stdout = match std::io::stdout().as_fd().try_clone_to_owned() {
            Ok(fd) => fd,
            Err(e) => return e,
        };
        self.command()
            .stderr(std::process::Stdio::from(stdout))
            .exec()
    }
}

/// A started command in a process group of its own, whose end a thread waits for.
pub struct Running {
    pid: i32,
    ended: mpsc::Receiver<(Instant, std::io::Result<ExitStatus>)>,
}

/// How a wait for a command ended.
#[derive(Debug)]
pub enum Waited {
    /// It ended at this instant with this status.
    Ended(Instant, ExitStatus),
    /// The deadline came first; it is still running.
    Running,
    /// Waiting for it failed.
    Failed(String),
}

impl Running {
    /// Spawns `command` as the leader of a new process group; a thread waits
    /// for it and stamps its end. Returns it with its stdout, if piped.
    ///
    /// # Errors
    /// The spawn error (program missing, not executable, bad directory).
    pub fn spawn(
        mut command: std::process::Command,
    ) -> std::io::Result<(Running, Option<std::process::ChildStdout>)> {
        let mut child: Child = command.process_group(0).spawn()?;
        let stdout = child.stdout.take();
        let pid = child.id() as i32;
        let (tx, ended) = mpsc::channel();
        std::thread::spawn(move || {
            let status = child.wait();
            let _ = tx.send((Instant::now(), status));
        });
        Ok((Running { pid, ended }, stdout))
    }

    /// Waits until it ends or `deadline` passes.
    pub fn wait_until(&self, deadline: Instant) -> Waited {
        let left = deadline.saturating_duration_since(Instant::now());
        match self.ended.recv_timeout(left) {
            Ok((at, Ok(status))) => Waited::Ended(at, status),
            Ok((_, Err(e))) => Waited::Failed(e.to_string()),
            Err(mpsc::RecvTimeoutError::Timeout) => Waited::Running,
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                Waited::Failed("its waiter is gone".into())
            }
        }
    }

    /// Stops its process group: SIGTERM, up to [`GRACE`], then SIGKILL; waits for
    /// the leader. What left the group (a daemon) dies with the sandbox's cgroup.
    /// Returns how it ended, in words.
    pub fn stop(&self) -> String {
        let group = Pid::from_raw(self.pid);
        let _ = killpg(group, Signal::SIGTERM);
        if let Waited::Ended(_, status) = self.wait_until(Instant::now() + GRACE) {
            let _ = killpg(group, Signal::SIGKILL);
            return format!("stopped by SIGTERM ({})", ended_how(status));
        }
        let _ = killpg(group, Signal::SIGKILL);
        let _ = self.wait_until(Instant::now() + GRACE);
        format!("ignored SIGTERM for {} s; killed", GRACE.as_secs())
    }
}

/// How a process ended, in words: `exited with status 1`, `killed by signal 9 (SIGKILL)`.
pub fn ended_how(status: ExitStatus) -> String {
    use std::os::unix::process::ExitStatusExt;
    match (status.code(), status.signal()) {
        (Some(code), _) => format!("exited with status {code}"),
        (None, Some(sig)) => {
            let name = Signal::try_from(sig).map_or_else(|_| "?".into(), |s| format!("{s:?}"));
            format!("killed by signal {sig} ({name})")
        }
        _ => format!("ended as {status}"),
    }
}

/// The last `max` bytes of `file` from its start, as text (a failed run's stderr).
pub fn tail(file: &mut std::fs::File, max: u64) -> String {
    use std::io::{Read, Seek, SeekFrom};
    let len = file.metadata().map_or(0, |m| m.len());
    let _ = file.seek(SeekFrom::Start(len.saturating_sub(max)));
    let mut buf = Vec::new();
    let _ = file.take(max).read_to_end(&mut buf);
    String::from_utf8_lossy(&buf).trim().to_string()
}

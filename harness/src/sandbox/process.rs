//! A started workload process: waiting with a deadline, stopping, reading its report.

use crate::interrupt;
use nix::sys::signal::{Signal, kill};
use nix::sys::wait::{WaitPidFlag, WaitStatus, waitpid};
use nix::unistd::Pid;
use std::fs::File;
use std::io::{Read, Seek};
use std::time::{Duration, Instant};

/// A child of the harness. Killed (SIGKILL) and reaped on drop if still running.
#[derive(Debug)]
pub struct Process {
    pid: Pid,
    stdout: File,
    status: Option<WaitStatus>,
}

/// Why waiting for a process ended without its exit.
#[derive(Debug, thiserror::Error)]
pub enum WaitError {
    /// It ran past its deadline.
    #[error("pid {pid} still running after {waited:?}")]
    Timeout {
        /// The process.
        pid: i32,
        /// How long the harness waited.
        waited: Duration,
    },
    /// SIGINT or SIGTERM reached the harness.
    #[error("interrupted")]
    Interrupted,
    /// waitpid(2) failed.
    #[error("waiting for pid {pid}: {errno}")]
    Wait {
        /// The process.
        pid: i32,
        /// The kernel's answer.
        errno: nix::errno::Errno,
    },
}

impl Process {
    pub(super) fn new(pid: Pid, stdout: File) -> Process {
        Process {
            pid,
            stdout,
            status: None,
        }
    }

    /// The pid, in the harness's pid namespace.
    pub fn pid(&self) -> i32 {
        self.pid.as_raw()
    }

    /// Reaps the process if it has exited; true when it has.
    ///
    /// # Errors
    /// [`WaitError::Wait`] when waitpid(2) fails.
    pub fn try_reap(&mut self) -> Result<bool, WaitError> {
        if self.status.is_some() {
            return Ok(true);
        }
        match waitpid(self.pid, Some(WaitPidFlag::WNOHANG)) {
            Ok(WaitStatus::StillAlive) => Ok(false),
            Ok(s) => {
                self.status = Some(s);
                Ok(true)
            }
            Err(errno) => Err(WaitError::Wait {
                pid: self.pid(),
                errno,
            }),
        }
    }

    /// How the process ended, once reaped ([`Process::try_reap`], a wait); `None` before.
    pub fn status(&self) -> Option<WaitStatus> {
        self.status
    }

    /// Waits until the process exits, at most `limit`, polling every 5 ms so that
    /// SIGINT/SIGTERM to the harness ([`interrupt`]) end the wait promptly.
    ///
    /// # Errors
    /// [`WaitError::Timeout`], [`WaitError::Interrupted`] or [`WaitError::Wait`]; the process keeps running.
    pub fn wait_for(&mut self, limit: Duration) -> Result<WaitStatus, WaitError> {
        self.wait_polling(limit, Duration::from_millis(5))
    }

    fn wait_polling(&mut self, limit: Duration, every: Duration) -> Result<WaitStatus, WaitError> {
        let start = Instant::now();
        loop {
            if self.try_reap()? {
                return Ok(self.status.expect("reaped"));
            }
            if interrupt::requested() {
                return Err(WaitError::Interrupted);
            }
            if start.elapsed() > limit {
                return Err(WaitError::Timeout {
                    pid: self.pid(),
                    waited: start.elapsed(),
                });
            }
            std::thread::sleep(every);
        }
    }

    /// As [`Process::wait_for`], polling every 20 µs instead of 5 ms: for timing
    /// a short-lived process's end (startup-latency's teardown), at the cost of a
    /// little CPU while it waits.
    ///
    /// # Errors
    /// As [`Process::wait_for`].
    pub fn wait_closely(&mut self, limit: Duration) -> Result<WaitStatus, WaitError> {
        self.wait_polling(limit, Duration::from_micros(20))
    }

    /// Sends SIGTERM (a sandbox init forwards it), waits up to `grace`, then SIGKILL.
    pub fn stop(&mut self, grace: Duration) {
        if self.try_reap().unwrap_or(true) {
            return;
        }
        let _ = kill(self.pid, Signal::SIGTERM);
        let start = Instant::now();
        while start.elapsed() < grace {
            if self.try_reap().unwrap_or(true) {
                return;
            }
            std::thread::sleep(Duration::from_millis(2));
        }
        self.kill_and_reap();
    }

    /// SIGKILL, then a blocking reap.
    pub fn kill_and_reap(&mut self) {
        if self.status.is_none() {
            let _ = kill(self.pid, Signal::SIGKILL);
            self.status = waitpid(self.pid, None).ok();
        }
    }

    /// The reader of the process's stdout (a pipe or the report file).
    pub fn stdout(&mut self) -> &mut File {
        &mut self.stdout
    }

    /// What the process has written to stdout so far, while it may still be running.
    ///
    /// # Errors
    /// I/O errors on the temporary report file.
    pub fn output_so_far(&self) -> std::io::Result<String> {
        use std::os::unix::fs::FileExt;
        let mut buf = vec![0u8; self.stdout.metadata()?.len() as usize];
        let n = self.stdout.read_at(&mut buf, 0)?;
        buf.truncate(n);
        Ok(String::from_utf8_lossy(&buf).into_owned())
    }

    /// The last `max` bytes the process has written to stdout so far (lossily
    /// as text), without reading the rest: the end of a chatty server's log.
    ///
    /// # Errors
    /// I/O errors on the temporary report file.
    pub fn output_tail(&self, max: u64) -> std::io::Result<String> {
        use std::os::unix::fs::FileExt;
        let len = self.stdout.metadata()?.len();
        let from = len.saturating_sub(max);
        let mut buf = vec![0u8; (len - from) as usize];
        let n = self.stdout.read_at(&mut buf, from)?;
        buf.truncate(n);
        Ok(String::from_utf8_lossy(&buf).into_owned())
    }

    /// Everything the process wrote to stdout.
    ///
    /// # Errors
    /// I/O errors on the temporary report file.
    pub fn output(&mut self) -> std::io::Result<String> {
        let mut out = String::new();
        self.stdout.rewind()?;
        self.stdout.read_to_string(&mut out)?;
        Ok(out)
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        self.kill_and_reap();
    }
}

//! OOM kills from the kernel log (`/dev/kmsg`, Documentation/ABI/testing/dev-kmsg).
//!
//! The log is opened at the start of a condition and positioned at its end,
//! so only what the kernel logs afterwards is read. Every OOM kill writes one
//! line `oom-kill:constraint=...,oom_memcg=<path>,task_memcg=<path>,task=<comm>,pid=<pid>,uid=<uid>`
//! (mm/oom_kill.c, `dump_oom_victim`/`dump_oom_summary`): `task_memcg` is the cgroup
//! of the killed task, which is what attribution needs (case C05).

use std::fs::File;
use std::io::Read;
use std::os::fd::AsFd;

/// One OOM kill as the kernel logged it.
#[derive(Debug, Clone, PartialEq)]
pub struct LoggedOomKill {
    /// Pid of the killed process (in the initial pid namespace).
    pub pid: i32,
    /// Its command name (`task=`), as the kernel truncates it (15 bytes).
    pub task: String,
    /// Its memory cgroup (`task_memcg=`), relative to the hierarchy's root, e.g. `/a/b`.
    pub task_memcg: String,
    /// The cgroup whose limit was hit (`oom_memcg=`); `/` for a host-wide OOM.
    pub oom_memcg: String,
    /// When the kernel logged it: CLOCK_MONOTONIC, seconds (the record's µs timestamp).
    pub at_s: f64,
}

/// Parses one `/dev/kmsg` record (`prio,seq,timestamp_us,flags;message`), if
/// its message is an `oom-kill:` line.
pub fn parse_oom_kill(record: &str) -> Option<LoggedOomKill> {
    let (prefix, message) = record.split_once(';')?;
    let at_us: u64 = prefix.split(',').nth(2)?.parse().ok()?;
    let fields = message.lines().next()?.trim().strip_prefix("oom-kill:")?;
    let field = |key: &str| {
        fields
            .split(',')
            .find_map(|f| f.strip_prefix(key)?.strip_prefix('='))
            .map(str::to_string)
    };
    Some(LoggedOomKill {
        pid: field("pid")?.parse().ok()?,
        task: field("task").unwrap_or_default(),
        task_memcg: field("task_memcg")?,
        oom_memcg: field("oom_memcg").unwrap_or_else(|| "/".into()),
        at_s: at_us as f64 / 1e6,
    })
}

/// The kernel log, read from the moment it was opened.
pub struct KernelLog {
    file: File,
}

impl KernelLog {
    /// Opens `/dev/kmsg` non-blocking, positioned after the last record.
    ///
    /// # Errors
    /// A message naming /dev/kmsg and the errno (EACCES without CAP_SYSLOG when
    /// `dmesg_restrict` is set; ENOENT in some containers).
    pub fn open() -> Result<KernelLog, String> {
        use std::os::unix::fs::OpenOptionsExt;
        let file = std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(nix::libc::O_NONBLOCK)
            .open("/dev/kmsg")
            .map_err(|e| format!("opening /dev/kmsg: {e}"))?;
        nix::unistd::lseek(file.as_fd(), 0, nix::unistd::Whence::SeekEnd)
            .map_err(|e| format!("seeking to the end of /dev/kmsg: {e}"))?;
        Ok(KernelLog { file })
    }

    /// The OOM kills logged since the last call (or since [`KernelLog::open`]).
    pub fn oom_kills(&mut self) -> Vec<LoggedOomKill> {
        let mut out = Vec::new();
        let mut buf = vec![0u8; 8192];
        loop {
            // One read returns one record; EAGAIN when there are no more; EPIPE
            // when records were overwritten before being read (then go on).
            match self.file.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => {
                    if let Some(kill) = parse_oom_kill(&String::from_utf8_lossy(&buf[..n])) {
                        out.push(kill);
                    }
                }
                Err(e) if e.raw_os_error() == Some(nix::libc::EPIPE) => continue,
                Err(_) => break,
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn oom_kill_line_of_a_memcg_oom_is_parsed() {
        let line = "6,1234,5250000,-;oom-kill:constraint=CONSTRAINT_MEMCG,nodemask=(null),cpuset=/,mems_allowed=0,\
                    oom_memcg=/process_api/42/isobench-7/r0-isolated,task_memcg=/process_api/42/isobench-7/r0-isolated/aggressor,\
                    task=isobench-worklo,pid=4242,uid=0";
        assert_eq!(
            parse_oom_kill(line),
            Some(LoggedOomKill {
                pid: 4242,
                task: "isobench-worklo".into(),
                task_memcg: "/process_api/42/isobench-7/r0-isolated/aggressor".into(),
                oom_memcg: "/process_api/42/isobench-7/r0-isolated".into(),
                at_s: 5.25,
            })
        );
    }

    #[test]
    fn other_lines_are_not_kills() {
        assert_eq!(
            parse_oom_kill("3,9,100,-;Memory cgroup out of memory: Killed process 1 (x)"),
            None
        );
        assert_eq!(
            parse_oom_kill("6,9,100,-;oom-kill:constraint=CONSTRAINT_NONE"),
            None
        );
        assert_eq!(
            parse_oom_kill("oom-kill:task_memcg=/a,pid=1"),
            None,
            "not a record"
        );
    }
}

//! OOM kills from the kernel log (`/dev/kmsg`, Documentation/ABI/testing/dev-kmsg).
//!
//! The log is opened at the start of a condition and positioned at its end,
//! so only what the kernel logs afterwards is read. An OOM kill logs, in this
//! order (mm/oom_kill.c `oom_kill_process`, mm/memcontrol.c
//! `mem_cgroup_print_oom_group`; the kernel serialises OOM kills, so one kill's
//! lines are not interleaved with another's):
//! - `oom-kill:constraint=...,oom_memcg=<path>,task_memcg=<path>,task=<comm>,pid=<pid>,uid=<uid>`
//!   for the chosen victim (`dump_oom_summary`): `task_memcg` is the cgroup of
//!   the killed task, which attribution needs (case C05). It is rate-limited
//!   with the rest of the OOM report (10 per 5 s), the next line is not;
//! - `Memory cgroup out of memory: Killed process <pid> (<comm>) ...
//!   oom_score_adj:<n>` (`Out of memory:` for a host-wide OOM);
//! - with `memory.oom.group` set (case C11): `Tasks in <path> are going to be
//!   killed due to memory.oom.group set`, then one `Killed process` line for
//!   every other task of that cgroup and its descendants, those with
//!   `oom_score_adj` −1000 spared. The chosen victim, still alive when the group
//!   is scanned, is killed and logged again, and `memory.events` `oom_kill`
//!   counts it twice (seen on Debian's 6.1: five processes, `oom_kill` 6).

use std::fs::File;
use std::io::Read;
use std::os::fd::AsFd;

/// One OOM kill as the kernel logged it.
#[derive(Debug, Clone, PartialEq)]
pub struct LoggedOomKill {
    /// Pid of the killed process (in the initial pid namespace).
    pub pid: i32,
    /// Its command name (`task=`, or the `Killed process` line's), as the kernel truncates it (15 bytes).
    pub task: String,
    /// Its memory cgroup (`task_memcg=`), relative to the hierarchy's root, e.g.
    /// `/a/b`; for a task killed with its group, the group's cgroup (its own is
    /// that cgroup or beneath it); empty where the rate limit dropped the summary line.
    pub task_memcg: String,
    /// The cgroup whose limit was hit (`oom_memcg=`); `/` for a host-wide OOM.
    pub oom_memcg: String,
    /// The cgroup whose `memory.oom.group` killed this task with the rest of
    /// it; `None` for the chosen victim and for kills of one process.
    pub oom_group: Option<String>,
    /// `oom_score_adj` of the task (`Killed process` line), where logged.
    pub oom_score_adj: Option<i32>,
    /// Times the kernel killed it in this OOM kill, each counted in
    /// `memory.events` `oom_kill`: 2 for a group kill's chosen victim killed
    /// again by the group scan, else 1.
    pub times_killed: u32,
    /// When the kernel logged it: CLOCK_MONOTONIC, seconds (the record's µs timestamp).
    pub at_s: f64,
}

/// One `/dev/kmsg` record about an OOM kill.
#[derive(Debug, Clone, PartialEq)]
enum Record {
    /// The `oom-kill:` summary of the chosen victim.
    Summary {
        pid: i32,
        task: String,
        task_memcg: String,
        oom_memcg: String,
    },
    /// A `Killed process` line.
    Killed {
        pid: i32,
        task: String,
        oom_score_adj: Option<i32>,
        at_s: f64,
    },
    /// `Tasks in <path> are going to be killed due to memory.oom.group set`.
    Group(String),
}

/// Parses one `/dev/kmsg` record (`prio,seq,timestamp_us,flags;message`).
fn parse(record: &str) -> Option<Record> {
    let (prefix, message) = record.split_once(';')?;
    let at_us: u64 = prefix.split(',').nth(2)?.parse().ok()?;
    let line = message.lines().next()?.trim();
    if let Some(fields) = line.strip_prefix("oom-kill:") {
        let field = |key: &str| {
            fields
                .split(',')
                .find_map(|f| f.strip_prefix(key)?.strip_prefix('='))
                .map(str::to_string)
        };
        return Some(Record::Summary {
            pid: field("pid")?.parse().ok()?,
            task: field("task").unwrap_or_default(),
            task_memcg: field("task_memcg")?,
            oom_memcg: field("oom_memcg").unwrap_or_else(|| "/".into()),
        });
    }
    if let Some(rest) = line
        .strip_prefix("Tasks in ")
        .and_then(|r| r.strip_suffix(" are going to be killed due to memory.oom.group set"))
    {
        return Some(Record::Group(rest.to_string()));
    }
    let (_, rest) = line.split_once(": Killed process ")?;
    let (pid, rest) = rest.split_once(" (")?;
    let (task, rest) = rest.split_once(") ")?;
    let oom_score_adj = rest
        .rsplit_once("oom_score_adj:")
        .and_then(|(_, n)| n.trim().parse().ok());
    Some(Record::Killed {
        pid: pid.parse().ok()?,
        task: task.to_string(),
        oom_score_adj,
        at_s: at_us as f64 / 1e6,
    })
}

/// Turns the OOM records of the log, in order, into kills: each `Killed
/// process` line is one kill, its cgroups from the summary before it (the
/// chosen victim) or from the group line before it (a group member).
#[derive(Debug, Default)]
pub struct OomLogParser {
    /// The last summary: (pid, task_memcg, oom_memcg).
    summary: Option<(i32, String, String)>,
    /// The group being killed, and the pids already killed in this OOM event.
    group: Option<String>,
    killed: Vec<i32>,
    kills: Vec<LoggedOomKill>,
}

impl OomLogParser {
    /// Takes one `/dev/kmsg` record; records that are not about OOM kills are ignored.
    pub fn feed(&mut self, record: &str) {
        match parse(record) {
            Some(Record::Summary {
                pid,
                task_memcg,
                oom_memcg,
                ..
            }) => {
                self.summary = Some((pid, task_memcg, oom_memcg));
                self.group = None;
                self.killed.clear();
            }
            Some(Record::Group(path)) => self.group = Some(path),
            Some(Record::Killed {
                pid,
                task,
                oom_score_adj,
                at_s,
            }) => {
                if self.killed.contains(&pid) {
                    // The chosen victim, killed again by the group kill.
                    if let Some(k) = self.kills.iter_mut().rev().find(|k| k.pid == pid) {
                        k.times_killed += 1;
                    }
                    return;
                }
                let summary = self.summary.as_ref();
                let chosen = summary.is_some_and(|s| s.0 == pid);
                let oom_memcg = summary.map_or(String::new(), |s| s.2.clone());
                let (task_memcg, oom_group) = match (&self.group, summary) {
                    (Some(g), _) if !chosen => (g.clone(), Some(g.clone())),
                    (_, Some(s)) if chosen => (s.1.clone(), None),
                    _ => {
                        // A kill whose summary the rate limit dropped: a new OOM event.
                        self.summary = None;
                        self.group = None;
                        self.killed.clear();
                        (String::new(), None)
                    }
                };
                self.killed.push(pid);
                self.kills.push(LoggedOomKill {
                    pid,
                    task,
                    task_memcg,
                    oom_memcg,
                    oom_group,
                    oom_score_adj,
                    times_killed: 1,
                    at_s,
                });
            }
            None => {}
        }
    }

    /// The kills assembled since the last call.
    pub fn take(&mut self) -> Vec<LoggedOomKill> {
        std::mem::take(&mut self.kills)
    }
}

/// The kernel log, read from the moment it was opened.
pub struct KernelLog {
    file: File,
    parser: OomLogParser,
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
        Ok(KernelLog {
            file,
            parser: OomLogParser::default(),
        })
    }

    /// The OOM kills logged since the last call (or since [`KernelLog::open`]).
    pub fn oom_kills(&mut self) -> Vec<LoggedOomKill> {
        let mut buf = vec![0u8; 8192];
        loop {
            // One read returns one record; EAGAIN when there are no more; EPIPE
            // when records were overwritten before being read (then go on).
            match self.file.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => self.parser.feed(&String::from_utf8_lossy(&buf[..n])),
                Err(e) if e.raw_os_error() == Some(nix::libc::EPIPE) => continue,
                Err(_) => break,
            }
        }
        self.parser.take()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kills(records: &[&str]) -> Vec<LoggedOomKill> {
        let mut p = OomLogParser::default();
        records.iter().for_each(|r| p.feed(r));
        p.take()
    }

    #[test]
    fn oom_kill_of_a_memcg_is_parsed_from_its_summary_and_kill_lines() {
        let summary = "6,1234,5250000,-;oom-kill:constraint=CONSTRAINT_MEMCG,nodemask=(null),cpuset=/,mems_allowed=0,\
                    oom_memcg=/process_api/42/isobench-7/r0-isolated,task_memcg=/process_api/42/isobench-7/r0-isolated/aggressor,\
                    task=isobench-worklo,pid=4242,uid=0";
        let killed = "3,1235,5250010,-;Memory cgroup out of memory: Killed process 4242 (isobench-worklo) \
                      total-vm:73460kB, anon-rss:65280kB, file-rss:4524kB, shmem-rss:0kB, UID:0 pgtables:180kB oom_score_adj:0";
        assert_eq!(
            kills(&[summary, killed]),
            [LoggedOomKill {
                pid: 4242,
                task: "isobench-worklo".into(),
                task_memcg: "/process_api/42/isobench-7/r0-isolated/aggressor".into(),
                oom_memcg: "/process_api/42/isobench-7/r0-isolated".into(),
                oom_group: None,
                oom_score_adj: Some(0),
                times_killed: 1,
                at_s: 5.25001,
            }]
        );
    }

    /// The lines a kubelet 1.28 pod's group kill logs (kubernetes #117793), in
    /// the kernel's order: the victim is named again by the group kill.
    #[test]
    fn c11_a_group_kill_is_one_kill_per_process_each_with_its_group() {
        let g = "/kubepods.slice/pod1/cri-containerd-46b3.scope";
        let records = [
            "4,10,1000000,-;leaker invoked oom-killer: gfp_mask=0xcc0(GFP_KERNEL), order=0, oom_score_adj=0".to_string(),
            format!("6,11,1000100,-;oom-kill:constraint=CONSTRAINT_MEMCG,nodemask=(null),cpuset=/,mems_allowed=0,oom_memcg={g},task_memcg={g},task=leaker,pid=300,uid=0"),
            "3,12,1000200,-;Memory cgroup out of memory: Killed process 300 (leaker) total-vm:9kB, anon-rss:1kB, file-rss:0kB, shmem-rss:0kB, UID:0 pgtables:1kB oom_score_adj:0".into(),
            format!("6,13,1000300,-;Tasks in {g} are going to be killed due to memory.oom.group set"),
            "3,14,1000400,-;Memory cgroup out of memory: Killed process 300 (leaker) total-vm:9kB, anon-rss:1kB, file-rss:0kB, shmem-rss:0kB, UID:0 pgtables:1kB oom_score_adj:0".into(),
            "3,15,1000500,-;Memory cgroup out of memory: Killed process 301 (worker) total-vm:9kB, anon-rss:1kB, file-rss:0kB, shmem-rss:0kB, UID:0 pgtables:1kB oom_score_adj:-997".into(),
            "6,16,1000600,-;oom_reaper: reaped process 300 (leaker), now anon-rss:0kB, file-rss:0kB, shmem-rss:0kB".into(),
        ];
        let refs: Vec<&str> = records.iter().map(String::as_str).collect();
        let k = kills(&refs);
        let got: Vec<(i32, &str, Option<&str>, Option<i32>)> = k
            .iter()
            .map(|k| {
                (
                    k.pid,
                    k.task_memcg.as_str(),
                    k.oom_group.as_deref(),
                    k.oom_score_adj,
                )
            })
            .collect();
        assert_eq!(
            got,
            [(300, g, None, Some(0)), (301, g, Some(g), Some(-997))]
        );
        assert!(k.iter().all(|k| k.oom_memcg == g));
    }

    /// The log of a real group kill (Debian 6.1 in the v2 VM, case C11): the
    /// leaker chosen, then the group, the leaker again among them.
    #[test]
    fn c11_a_real_group_kill_is_five_processes_and_six_kernel_counts() {
        let dmesg =
            std::fs::read_to_string("tests/fixtures/v2-debian-6.1/dmesg_oom_group").unwrap();
        let records: Vec<String> = dmesg
            .lines()
            .enumerate()
            .map(|(i, l)| {
                let (ts, msg) = l.trim_start_matches('[').split_once("] ").unwrap();
                let us = (ts.trim().parse::<f64>().unwrap() * 1e6).round() as u64;
                format!("6,{i},{us},-;{msg}")
            })
            .collect();
        let refs: Vec<&str> = records.iter().map(String::as_str).collect();
        let k = kills(&refs);
        let group = "/ci.slice/runner.service/test3/isobench-test-612-1-c11/group1";
        let got: Vec<(i32, u32, bool)> = k
            .iter()
            .map(|k| (k.pid, k.times_killed, k.oom_group.is_some()))
            .collect();
        assert_eq!(
            got,
            [
                (629, 2, false),
                (625, 1, true),
                (626, 1, true),
                (627, 1, true),
                (628, 1, true)
            ]
        );
        assert!(
            k.iter()
                .all(|k| k.task_memcg == group && k.oom_memcg == group)
        );
        assert_eq!(
            k.iter().map(|k| k.times_killed).sum::<u32>(),
            6,
            "memory.events oom_kill"
        );
    }

    #[test]
    fn a_kill_whose_summary_was_rate_limited_has_no_cgroup() {
        let k = kills(&[
            "3,1,10,-;Memory cgroup out of memory: Killed process 7 (x) total-vm:1kB, UID:0 pgtables:1kB oom_score_adj:0",
        ]);
        assert_eq!((k[0].pid, k[0].task_memcg.as_str()), (7, ""));
    }

    #[test]
    fn other_lines_are_not_kills() {
        assert!(
            kills(&[
                "6,9,100,-;oom-kill:constraint=CONSTRAINT_NONE",
                "oom-kill:task_memcg=/a,pid=1",
                "6,9,100,-;cgroup: fork rejected by pids controller in /a",
            ])
            .is_empty()
        );
    }
}

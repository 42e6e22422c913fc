//! Attribution of OOM kills (case C05, docker/for-linux #1001): each kill is
//! inside the sandbox that was meant to absorb it (expected), inside another
//! watched sandbox, or outside all of them — the last two are isolation breaches.
//!
//! The kernel log's `task_memcg` names the killed task's cgroup; a task killed
//! with its whole group (`memory.oom.group`, case C11) is named by its own
//! `Killed process` line under the group's cgroup, so every process of a group
//! kill is one kill here. A kill counted in a sandbox's `memory.events`
//! (`oom_kill`) that the log did not show (the log unreadable, its records
//! overwritten, or the summary line rate-limited) is added from the counter;
//! a process the kernel killed twice (a group kill's chosen victim) is counted
//! twice there and is one kill here.

use super::kmsg::LoggedOomKill;
use isobench_reports::schema::OomKill;

/// A sandbox whose OOM kills are attributed to it.
#[derive(Debug, Clone)]
pub struct Watched {
    /// Its name in the results, e.g. `victim`.
    pub name: String,
    /// Its memory cgroup as the kernel names it (see [`crate::cgroup::Cgroup::memory_path`]).
    pub memory_path: Option<String>,
    /// Its `memory.events` `oom_kill` count over the window; `None` where unreadable.
    pub oom_kills: Option<u64>,
}

/// Attributes every kill in `logged` (or why the log could not be read) to one
/// of `watched`, or to `outside`; only kills in `expected` are not breaches.
/// A kill counts when it struck a watched sandbox, when the host as a whole ran
/// out of memory (`oom_memcg=/`), or when the limit hit was `scope`'s (the arena
/// standing for the machine); kills under other cgroups' own limits (another
/// job on the host) are not this run's. `start_s` (CLOCK_MONOTONIC, seconds) is
/// the zero of the kills' `t_s`.
pub fn attribute(
    logged: &Result<Vec<LoggedOomKill>, String>,
    watched: &[Watched],
    scope: Option<&str>,
    expected: &str,
    start_s: f64,
) -> Vec<OomKill> {
    let sandbox_of = |memcg: &str| {
        watched
            .iter()
            .find(|w| w.memory_path.as_deref().is_some_and(|p| memcg.ends_with(p)))
            .map(|w| w.name.clone())
    };
    let ours = |k: &&LoggedOomKill| {
        sandbox_of(&k.task_memcg).is_some()
            || k.oom_memcg == "/"
            || scope.is_some_and(|s| k.oom_memcg.ends_with(s))
    };
    let mut kills: Vec<OomKill> = logged
        .as_ref()
        .map(|l| l.as_slice())
        .unwrap_or_default()
        .iter()
        .filter(ours)
        .map(|k| {
            let to = sandbox_of(&k.task_memcg).unwrap_or_else(|| "outside".into());
            OomKill {
                breach: to != expected,
                attributed_to: to,
                process: Some(format!("{} ({})", k.pid, k.task)),
                cgroup: k.task_memcg.clone(),
                source: "kmsg".into(),
                t_s: Some(k.at_s - start_s),
                oom_group: k.oom_group.clone(),
                oom_score_adj: k.oom_score_adj,
                counted_twice: k.times_killed > 1,
            }
        })
        .collect();
    for w in watched {
        let seen = kills
            .iter()
            .filter(|k| k.attributed_to == w.name)
            .map(|k| if k.counted_twice { 2 } else { 1 })
            .sum::<u64>();
        for _ in seen..w.oom_kills.unwrap_or(0) {
            kills.push(OomKill {
                attributed_to: w.name.clone(),
                breach: w.name != expected,
                process: None,
                t_s: None,
                cgroup: w.memory_path.clone().unwrap_or_else(|| w.name.clone()),
                source: match logged {
                    Ok(_) => "memory.events".into(),
                    Err(why) => format!("memory.events ({why})"),
                },
                oom_group: None,
                oom_score_adj: None,
                counted_twice: false,
            });
        }
    }
    kills
}

#[cfg(test)]
mod tests {
    use super::*;

    fn watched(name: &str, path: &str, kills: u64) -> Watched {
        Watched {
            name: name.into(),
            memory_path: Some(path.into()),
            oom_kills: Some(kills),
        }
    }

    fn logged(pid: i32, memcg: &str) -> LoggedOomKill {
        LoggedOomKill {
            pid,
            task: "isobench-worklo".into(),
            task_memcg: memcg.into(),
            oom_memcg: memcg.into(),
            oom_group: None,
            oom_score_adj: Some(0),
            times_killed: 1,
            at_s: 12.5,
        }
    }

    #[test]
    fn c05_kills_are_attributed_to_aggressor_victim_or_outside() {
        let w = [
            watched("aggressor", "/run/isobench-1/aggressor", 1),
            watched("victim", "/run/isobench-1/victim", 1),
        ];
        let mut global = logged(12, "/system.slice/postgres.service");
        global.oom_memcg = "/".into();
        let log = Ok(vec![
            logged(10, "/run/isobench-1/aggressor"),
            logged(11, "/run/isobench-1/victim"),
            global,
            logged(13, "/other-job/worker"),
        ]);
        let kills = attribute(&log, &w, Some("/run/isobench-1"), "aggressor", 10.0);
        assert_eq!(kills[0].t_s, Some(2.5), "seconds since the start");
        let summary: Vec<(&str, bool)> = kills
            .iter()
            .map(|k| (k.attributed_to.as_str(), k.breach))
            .collect();
        assert_eq!(
            summary,
            [("aggressor", false), ("victim", true), ("outside", true)]
        );
    }

    #[test]
    fn c05_without_the_kernel_log_memory_events_still_count_every_kill() {
        let w = [watched("aggressor", "/a", 2), watched("victim", "/v", 0)];
        let kills = attribute(
            &Err("opening /dev/kmsg: EACCES".into()),
            &w,
            None,
            "aggressor",
            0.0,
        );
        assert_eq!(kills.len(), 2);
        assert!(
            kills
                .iter()
                .all(|k| k.attributed_to == "aggressor" && !k.breach)
        );
        assert!(kills[0].source.contains("EACCES"), "{:?}", kills[0]);
    }

    #[test]
    fn c11_every_process_of_a_group_kill_is_attributed_with_its_group() {
        // memory.events counts the chosen victim twice (killed again with its group).
        let w = [watched("sandbox", "/run/isobench-1/sandbox", 6)];
        let mut log = vec![logged(300, "/run/isobench-1/sandbox")];
        log[0].times_killed = 2;
        for pid in 301..305 {
            let mut k = logged(pid, "/run/isobench-1/sandbox");
            k.oom_group = Some("/run/isobench-1/sandbox".into());
            log.push(k);
        }
        let kills = attribute(&Ok(log), &w, None, "sandbox", 0.0);
        assert_eq!(kills.len(), 5, "one kill per process: {kills:?}");
        assert!(kills[0].counted_twice);
        assert!(
            kills
                .iter()
                .all(|k| k.attributed_to == "sandbox" && k.source == "kmsg")
        );
        assert_eq!(kills.iter().filter(|k| k.oom_group.is_some()).count(), 4);
        assert_eq!(kills[1].process.as_deref(), Some("301 (isobench-worklo)"));
    }

    #[test]
    fn a_kill_in_the_log_is_not_counted_twice() {
        let w = [watched("aggressor", "/a", 1)];
        let kills = attribute(&Ok(vec![logged(10, "/a")]), &w, None, "aggressor", 0.0);
        assert_eq!(kills.len(), 1);
        assert_eq!(kills[0].source, "kmsg");
    }
}

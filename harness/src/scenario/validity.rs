//! Whether a condition measured what it claims (docs/validity.md): a
//! `contended` or `isolated` condition is only worth reading when its
//! neighbour pressed for the whole window and the victim reported. An invalid
//! condition keeps its raw values, with the reason in `ConditionRun.invalid`;
//! the derived metrics leave it out (null for that round, CI over the valid
//! rounds) and a warning names round, condition and reason.

use super::metrics::ConditionSample;
use isobench_reports::schema::Condition;
use nix::sys::wait::WaitStatus;

/// Whether `s` may enter the derived metrics.
pub fn valid(s: &ConditionSample) -> bool {
    s.run.invalid.is_none()
}

/// How a process ended, in words: `exited with status 1`, `killed by SIGKILL`;
/// a status of 128 + a signal's number (129–192), which is how a shell or a
/// sandbox's init reports a child killed by that signal, names the signal:
/// `exited with status 139 (128 + SIGSEGV: its workload was killed by that signal)`.
pub fn ended_how(status: &WaitStatus) -> String {
    match status {
        WaitStatus::Exited(_, code) if (129..=192).contains(code) => {
            match nix::sys::signal::Signal::try_from(code - 128) {
                Ok(signal) => format!(
                    "exited with status {code} (128 + {signal:?}: its workload was killed by that signal)"
                ),
                Err(_) => format!("exited with status {code}"),
            }
        }
        WaitStatus::Exited(_, code) => format!("exited with status {code}"),
        WaitStatus::Signaled(_, signal, _) => format!("killed by {signal:?}"),
        other => format!("ended as {other:?}"),
    }
}

/// The reason for a condition whose victim reported nothing (`fate`: how it ended).
pub fn victim_silent(fate: &str) -> String {
    format!("the victim reported nothing ({fate}), so there is no experience to compare")
}

/// The reason for a condition whose victim ended badly or measured nothing
/// (`why`: how it ended, what it printed, the failure it reported).
pub fn victim_failed(why: &str) -> String {
    format!("the victim measured nothing worth reading: {why}")
}

/// The reason for a condition in which aggressor processes ended before the
/// window's end, each given as `<sandbox> process <i>: <how it ended>`;
/// `None` when none did.
pub fn neighbours_ended(ended: &[String]) -> Option<String> {
    (!ended.is_empty()).then(|| {
        format!(
            "an aggressor ended before the window's end ({}), so the victim ran beside less than the scenario meant",
            ended.join("; ")
        )
    })
}

/// The reason a metric of condition `c` has no value when `c` ran in some round
/// and was invalid in every round it ran: the first round's reason.
pub fn invalid_throughout(rounds: &[Vec<ConditionSample>], c: Condition) -> Option<String> {
    let mut ran = rounds
        .iter()
        .enumerate()
        .filter_map(|(i, r)| Some((i, r.iter().find(|s| s.run.condition == c)?)))
        .peekable();
    let (first, sample) = *ran.peek()?;
    let why = sample.run.invalid.clone()?;
    ran.all(|(_, s)| s.run.invalid.is_some()).then(|| {
        format!("the {c} condition was invalid in every round (round {first}: {why}); see the scenario's warnings")
    })
}

/// One warning naming every invalid condition (0-based round, condition, reason).
pub fn warning(rounds: &[Vec<ConditionSample>]) -> Option<String> {
    let seen: Vec<String> = rounds
        .iter()
        .enumerate()
        .flat_map(|(i, r)| {
            r.iter().filter_map(move |s| {
                let why = s.run.invalid.as_ref()?;
                Some(format!("round {i} {}: {why}", s.run.condition))
            })
        })
        .collect();
    (!seen.is_empty()).then(|| {
        format!(
            "invalid conditions were left out of the metrics, which are over the valid rounds only; their raw values \
             stay in the rounds ({}). See docs/validity.md; give the neighbour a load that fits its limit, or rerun",
            seen.join("; ")
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use nix::sys::signal::Signal;
    use nix::unistd::Pid;

    #[test]
    fn a_status_of_128_plus_a_signal_names_the_signal() {
        let pid = Pid::from_raw(1);
        assert_eq!(
            ended_how(&WaitStatus::Exited(pid, 139)),
            "exited with status 139 (128 + SIGSEGV: its workload was killed by that signal)"
        );
        assert_eq!(
            ended_how(&WaitStatus::Exited(pid, 3)),
            "exited with status 3"
        );
        assert_eq!(
            ended_how(&WaitStatus::Exited(pid, 128)),
            "exited with status 128"
        );
        assert_eq!(
            ended_how(&WaitStatus::Signaled(pid, Signal::SIGKILL, false)),
            "killed by SIGKILL"
        );
    }
}

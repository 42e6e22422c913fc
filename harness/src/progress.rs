//! How `isobench run` shows its progress on stderr: a bar with ETA on a
//! terminal; anywhere else (a CI log, `2>&1 | tee run.log`), where a bar draws
//! nothing until the end, one plain line per scenario and per round:
//!
//! ```text
//! [cpu-share] scenario 2 of 2 — 3 s elapsed, about 36 s left
//! [cpu-share] round 3/10 done (solo, isolated, contended) — 12 s elapsed, about 26 s left
//! ```

use indicatif::{ProgressBar, ProgressStyle};
use isobench_reports::schema::{Condition, ScenarioResult};
use std::io::IsTerminal;
use std::time::{Duration, Instant};

/// The progress display of one run.
pub(crate) enum Meter {
    /// On a terminal: an indicatif bar of steps (a condition of a round, a check) with ETA.
    Bar(ProgressBar),
    /// Elsewhere: a line per scenario and per round.
    Lines(Lines),
}

/// The state the plain lines need: time so far and the scenarios' estimates.
pub(crate) struct Lines {
    started: Instant,
    /// Estimated seconds of each scenario of the suite, in run order.
    estimates_s: Vec<f64>,
    /// Index of the running scenario in `estimates_s`, and its name.
    current: Option<(usize, String)>,
    /// Rounds planned for the running scenario (grows under `--until-decided`).
    planned: usize,
    /// Rounds of it done.
    done: usize,
}

impl Meter {
    /// A bar of `steps` steps when stderr is a terminal, else plain lines that
    /// weigh the scenarios by `estimates_s` (seconds each, in run order) for the
    /// time left.
    pub(crate) fn new(suite: &str, steps: u64, estimates_s: Vec<f64>) -> Meter {
        if !std::io::stderr().is_terminal() {
            return Meter::Lines(Lines {
                started: Instant::now(),
                estimates_s,
                current: None,
                planned: 0,
                done: 0,
            });
        }
        let bar = ProgressBar::new(steps);
        bar.set_style(
            ProgressStyle::with_template(
                "{spinner} {msg:32} [{bar:30}] {pos}/{len} conditions, ETA {eta}",
            )
            .expect("static template")
            .progress_chars("=> "),
        );
        bar.set_message(format!("suite {suite}"));
        bar.enable_steady_tick(Duration::from_millis(200));
        Meter::Bar(bar)
    }

    /// Scenario `index` of the suite, `name`, starts with `rounds` rounds planned.
    pub(crate) fn scenario_started(&mut self, index: usize, name: &str, rounds: usize) {
        let Meter::Lines(lines) = self else {
            return;
        };
        lines.current = Some((index, name.to_owned()));
        lines.planned = rounds;
        lines.done = 0;
        let line = format!(
            "[{name}] scenario {} of {}{}",
            index + 1,
            lines.estimates_s.len(),
            lines.times()
        );
        eprintln!("{line}");
    }

    /// One step (a condition of a round, a check) of `scenario` finished; `what` names it.
    pub(crate) fn step_done(&mut self, scenario: &str, what: &str) {
        if let Meter::Bar(bar) = self {
            bar.set_message(format!("{scenario} {what}"));
            bar.inc(1);
        }
    }

    /// A round of the running scenario finished; `partial` holds its rounds so far.
    pub(crate) fn round_done(&mut self, partial: &ScenarioResult) {
        let Meter::Lines(lines) = self else {
            return;
        };
        lines.done += 1;
        lines.planned = lines.planned.max(lines.done);
        // Scenarios that keep their rounds elsewhere (startup-latency) have no order to say.
        let order = match partial.rounds.last() {
            Some(r) if partial.rounds.len() == lines.done => r.order.as_slice(),
            _ => &[],
        };
        let name = lines.current.as_ref().map_or("", |(_, n)| n.as_str());
        let line = round_line(name, lines.done, lines.planned, order) + &lines.times();
        eprintln!("{line}");
    }

    /// `--until-decided` added a round of `steps` steps to the running scenario.
    pub(crate) fn more_rounds(&mut self, steps: u64) {
        match self {
            Meter::Bar(bar) => bar.inc_length(steps),
            Meter::Lines(lines) => lines.planned += 1,
        }
    }

    /// A part of the run ended (a round of a sweep), `fraction` (0..1) of the
    /// whole: off a terminal, one line saying `what`, the time so far and the
    /// time left at the pace so far.
    pub(crate) fn part_done(&mut self, what: &str, fraction: f64) {
        let Meter::Lines(lines) = self else {
            return;
        };
        let total: f64 = lines.estimates_s.iter().sum();
        let elapsed = lines.started.elapsed();
        let left = time_left(&[total], 0, fraction, elapsed);
        eprintln!(
            "[{what}] — {} elapsed, about {} left",
            duration_text(elapsed),
            duration_text(left)
        );
    }

    /// The run is over: the bar goes away.
    pub(crate) fn finish(&self) {
        if let Meter::Bar(bar) = self {
            bar.finish_and_clear();
        }
    }
}

impl Lines {
    /// ` — 12 s elapsed, about 26 s left`.
    fn times(&self) -> String {
        let elapsed = self.started.elapsed();
        let (index, fraction) = match self.current {
            Some((index, _)) => (index, self.done as f64 / self.planned.max(1) as f64),
            None => (0, 0.0),
        };
        let left = time_left(&self.estimates_s, index, fraction, elapsed);
        format!(
            " — {} elapsed, about {} left",
            duration_text(elapsed),
            duration_text(left)
        )
    }
}

/// `[cpu-share] round 3/10 done (solo, isolated, contended)`; without the
/// parentheses when `order` is empty.
fn round_line(scenario: &str, done: usize, planned: usize, order: &[Condition]) -> String {
    let mut line = format!("[{scenario}] round {done}/{planned} done");
    if !order.is_empty() {
        let order: Vec<&str> = order.iter().map(|c| c.as_str()).collect();
        line.push_str(&format!(" ({})", order.join(", ")));
    }
    line
}

/// Time left after `elapsed`, where scenarios before `index` are done and
/// `fraction` (0..1) of scenario `index`: the estimates of what is left, scaled
/// by how fast the run went so far against its estimates.
fn time_left(estimates_s: &[f64], index: usize, fraction: f64, elapsed: Duration) -> Duration {
    let total: f64 = estimates_s.iter().sum();
    let done: f64 = estimates_s.iter().take(index).sum::<f64>()
        + estimates_s.get(index).copied().unwrap_or(0.0) * fraction;
    let left = if done > 0.0 {
        elapsed.as_secs_f64() / done * (total - done)
    } else {
        total
    };
    Duration::from_secs_f64(left.max(0.0))
}

/// `12 s`, or `2 min 05 s` from a minute on.
fn duration_text(d: Duration) -> String {
    let s = d.as_secs_f64().round() as u64;
    if s < 60 {
        format!("{s} s")
    } else {
        format!("{} min {:02} s", s / 60, s % 60)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_round_line_names_the_scenario_the_round_and_its_order() {
        use Condition::{Contended, Isolated, Solo};
        assert_eq!(
            round_line("cpu-share", 3, 10, &[Solo, Isolated, Contended]),
            "[cpu-share] round 3/10 done (solo, isolated, contended)"
        );
        assert_eq!(
            round_line("startup-latency", 1, 5, &[]),
            "[startup-latency] round 1/5 done"
        );
    }

    #[test]
    fn time_left_follows_the_estimates_at_the_pace_so_far() {
        let estimates = [4.0, 36.0];
        // Nothing done yet: the estimate as it stands.
        assert_eq!(
            time_left(&estimates, 0, 0.0, Duration::ZERO),
            Duration::from_secs(40)
        );
        // The first scenario and half the second took 44 s for 22 s of estimate: twice as slow.
        assert_eq!(
            time_left(&estimates, 1, 0.5, Duration::from_secs(44)),
            Duration::from_secs(36)
        );
        assert_eq!(
            time_left(&estimates, 1, 1.0, Duration::from_secs(50)),
            Duration::ZERO
        );
    }

    #[test]
    fn durations_read_in_seconds_then_minutes() {
        assert_eq!(duration_text(Duration::from_millis(12_400)), "12 s");
        assert_eq!(duration_text(Duration::from_secs(125)), "2 min 05 s");
    }
}

//! The intensity knob of the aggressors, 1–100 %, and the arguments every
//! aggressor of the catalogue shares (`--intensity`, `--duration`).
//!
//! As in iBench (Delimitrou and Kozyrakis, "iBench: Quantifying Interference
//! for Datacenter Applications", IISWC 2013), intensity is a duty cycle: over
//! each period of [`PERIOD`] (10 ms) an aggressor works for `intensity` % of
//! the time and sleeps for the rest; at 100 % it never sleeps. The sleep is
//! sized from the busy time really spent, so a step that overruns its share
//! (a long `fsync`, a preemption) is paid back within the same period and the
//! long-run share holds.
//!
//! Each aggressor works in short steps (well under a millisecond, except where
//! its docs say otherwise) and asks a [`Pacer`] before each one, which also
//! ends the run at its deadline.

use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// Length of one duty cycle.
pub const PERIOD: Duration = Duration::from_millis(10);

/// Share of each [`PERIOD`] an aggressor works, in whole percent, 1 to 100.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct Intensity(u8);

impl Intensity {
    /// Full intensity: never sleeps.
    pub const FULL: Intensity = Intensity(100);

    /// An intensity of `pct` percent; `None` outside 1..=100.
    pub fn new(pct: u8) -> Option<Intensity> {
        (1..=100).contains(&pct).then_some(Intensity(pct))
    }

    /// The intensity in percent, 1 to 100.
    pub fn pct(self) -> u8 {
        self.0
    }

    /// Parses `--intensity`: a whole percentage from 1 to 100.
    ///
    /// # Errors
    /// Anything else, with what was expected (0 is refused: an aggressor that
    /// never runs is not one).
    pub fn parse(text: &str) -> Result<Intensity, String> {
        text.trim_end_matches('%')
            .parse::<u8>()
            .ok()
            .and_then(Intensity::new)
            .ok_or_else(|| "expected a whole percentage from 1 to 100".to_string())
    }
}

/// The arguments every aggressor of the catalogue takes.
#[derive(Debug, Clone, clap::Args)]
pub struct AggressorArgs {
    /// Share of each 10 ms period spent working, percent (1 to 100); the rest is slept.
    #[arg(long, value_parser = Intensity::parse, default_value = "100")]
    pub intensity: Intensity,
    /// Seconds to run; the process ends by itself at the deadline.
    #[arg(long, value_parser = crate::cli::seconds)]
    pub duration: Duration,
    /// Ramp the intensity instead of holding it: `FROM:TO:START_NS:OVER_MS`,
    /// from FROM % to TO % (0 to 100) over OVER_MS ms from CLOCK_MONOTONIC
    /// START_NS (FROM before it, TO after it); replaces --intensity.
    #[arg(long, value_parser = Ramp::parse)]
    pub ramp: Option<Ramp>,
}

/// An intensity that moves linearly from one percentage to another (issue 17,
/// a neighbour whose load grows or shrinks), applied by every [`Pacer`] of the
/// process once [`set_ramp`] has been called.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Ramp {
    /// Intensity before the ramp starts, percent (0 to 100; 0 sleeps through each period).
    pub from_pct: u8,
    /// Intensity once it has ended, percent (0 to 100).
    pub to_pct: u8,
    /// CLOCK_MONOTONIC when it starts, ns.
    pub start_mono_ns: u64,
    /// How long it takes.
    pub over: Duration,
}

impl Ramp {
    /// Parses `FROM:TO:START_NS:OVER_MS`.
    ///
    /// # Errors
    /// Anything else, saying what is expected.
    pub fn parse(text: &str) -> Result<Ramp, String> {
        let bad = || {
            format!(
                "{text:?} is not a ramp: expected FROM:TO:START_NS:OVER_MS, FROM and TO whole percentages from 0 to 100, START_NS a CLOCK_MONOTONIC time, OVER_MS above 0"
            )
        };
        let parts: Vec<&str> = text.split(':').collect();
        let [from, to, start, over] = parts[..] else {
            return Err(bad());
        };
        let pct = |t: &str| t.parse::<u8>().ok().filter(|&p| p <= 100);
        let over_ms = over
            .parse::<f64>()
            .ok()
            .filter(|&v| v.is_finite() && v > 0.0);
        match (pct(from), pct(to), start.parse::<u64>().ok(), over_ms) {
            (Some(from_pct), Some(to_pct), Some(start_mono_ns), Some(ms)) => Ok(Ramp {
                from_pct,
                to_pct,
                start_mono_ns,
                over: Duration::from_secs_f64(ms / 1e3),
            }),
            _ => Err(bad()),
        }
    }

    /// The intensity at CLOCK_MONOTONIC `mono_ns`, percent.
    pub fn pct_at(&self, mono_ns: u64) -> u8 {
        let into = mono_ns.saturating_sub(self.start_mono_ns) as f64;
        let share = (into / self.over.as_nanos().max(1) as f64).clamp(0.0, 1.0);
        let (a, b) = (f64::from(self.from_pct), f64::from(self.to_pct));
        (a + (b - a) * share).round() as u8
    }
}

static RAMP: OnceLock<Ramp> = OnceLock::new();

/// Makes every [`Pacer`] of this process follow `ramp` (once per process: a
/// later call is ignored).
pub fn set_ramp(ramp: Ramp) {
    let _ = RAMP.set(ramp);
}

/// The intensity a pacer holding `intensity` works at now: the ramp's, when one is set.
fn pct_now(intensity: Intensity) -> u8 {
    RAMP.get()
        .map_or(intensity.pct(), |r| r.pct_at(crate::hold::monotonic_ns()))
}

/// Paces one thread's steps to an [`Intensity`] and ends them at a deadline.
#[derive(Debug, Clone)]
pub struct Pacer {
    intensity: Intensity,
    deadline: Instant,
    busy_since: Instant,
}

impl Pacer {
    /// A pacer whose first busy phase starts now.
    pub fn new(intensity: Intensity, deadline: Instant) -> Pacer {
        Pacer {
            intensity,
            deadline,
            busy_since: Instant::now(),
        }
    }

    /// The deadline.
    pub fn deadline(&self) -> Instant {
        self.deadline
    }

    /// Whether another step may run: false once the deadline has passed. When
    /// this period's busy share is spent, first sleeps for the rest of it (at
    /// 0 %, a ramp's start, the whole period).
    pub fn go(&mut self) -> bool {
        let now = Instant::now();
        if now >= self.deadline {
            return false;
        }
        let pct = u32::from(pct_now(self.intensity));
        let spent = now - self.busy_since;
        if pct < 100 && spent >= PERIOD * pct / 100 {
            let rest = if pct == 0 {
                PERIOD
            } else {
                spent * (100 - pct) / pct
            };
            std::thread::sleep(rest.min(self.deadline - now));
            self.busy_since = Instant::now();
            return self.busy_since < self.deadline;
        }
        true
    }

    /// Sleeps until `until` or the deadline, whichever is first (for a rate
    /// limit on top of the duty cycle); the sleep does not count as busy time.
    pub fn sleep_until(&mut self, until: Instant) {
        let now = Instant::now();
        let wake = until.min(self.deadline);
        if wake > now {
            std::thread::sleep(wake - now);
            self.busy_since += wake - now;
        }
    }
}

/// CPU time this thread has used so far (`CLOCK_THREAD_CPUTIME_ID`).
pub fn thread_cpu_time() -> Duration {
    cpu_clock(nix::time::ClockId::CLOCK_THREAD_CPUTIME_ID)
}

/// CPU time this process (all its threads) has used so far (`CLOCK_PROCESS_CPUTIME_ID`).
pub fn process_cpu_time() -> Duration {
    cpu_clock(nix::time::ClockId::CLOCK_PROCESS_CPUTIME_ID)
}

fn cpu_clock(clock: nix::time::ClockId) -> Duration {
    nix::time::clock_gettime(clock).map_or(Duration::ZERO, Duration::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intensity_outside_one_to_a_hundred_is_refused() {
        for bad in ["0", "101", "-5", "50.5", "half", ""] {
            assert!(Intensity::parse(bad).is_err(), "{bad:?}");
        }
        assert_eq!(Intensity::parse("1").unwrap().pct(), 1);
        assert_eq!(Intensity::parse("100%").unwrap(), Intensity::FULL);
    }

    /// CPU time of this thread spinning under a pacer for `wall`.
    fn spin(intensity: u8, wall: Duration) -> Duration {
        let cpu0 = thread_cpu_time();
        let mut pacer = Pacer::new(Intensity::new(intensity).unwrap(), Instant::now() + wall);
        while pacer.go() {
            crate::work::unit(1_000);
        }
        thread_cpu_time() - cpu0
    }

    #[test]
    fn half_intensity_uses_about_half_the_cpu_of_full() {
        let wall = Duration::from_millis(300);
        let full = spin(100, wall);
        let half = spin(50, wall);
        let ratio = half.as_secs_f64() / full.as_secs_f64();
        // 0.5 on an idle host; loose bounds because the host is shared.
        assert!((0.2..0.8).contains(&ratio), "full {full:?} half {half:?}");
    }

    #[test]
    fn a_ramp_moves_linearly_between_its_ends_and_parses_its_flag() {
        let r = Ramp::parse("0:100:1000000000:2000").unwrap();
        assert_eq!(r.pct_at(0), 0);
        assert_eq!(r.pct_at(2_000_000_000), 50);
        assert_eq!(r.pct_at(9_000_000_000), 100);
        for bad in ["0:101:1:1", "0:100:1", "0:100:x:10", "0:100:1:0"] {
            assert!(Ramp::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn pacer_ends_at_its_deadline_even_at_low_intensity() {
        let start = Instant::now();
        let mut pacer = Pacer::new(
            Intensity::new(1).unwrap(),
            start + Duration::from_millis(50),
        );
        let mut steps = 0;
        while pacer.go() {
            steps += 1;
        }
        let took = start.elapsed();
        assert!(steps > 0 && took < Duration::from_millis(150), "{took:?}");
    }
}

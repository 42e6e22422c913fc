//! What a sweep moves (`--over SANDBOX.KNOB`) and its values (`--values`):
//! parsed, checked against the scenario, and applied to one copy of the
//! scenario per value.
//!
//! - `intensity`: an aggressor applet's duty cycle, whole percent 0–100
//!   (`--intensity`, workloads' `intensity` module, as iBench's knob); 0 leaves
//!   the aggressor out of the step (an aggressor that never runs is none).
//! - `cpus`: a CPU quota in CPUs, written as `cpu.max` (v1: `cpu.cfs_quota_us`)
//!   over the sandbox's period (100 ms where it has none); applied in the
//!   isolated condition only, where the scenario's limits are
//!   (Documentation/admin-guide/cgroup-v2.rst, "CPU Interface Files").
//! - `memory`: `memory.max` (v1: `memory.limit_in_bytes`) in bytes, isolated only.
//!
//! SANDBOX is `victim`, `aggressor` (every aggressor of the scenario) or one
//! aggressor's name.

use crate::cgroup::{CpuMax, MemoryKnob, MemorySetting};
use crate::suite::phase::RAMPED;
use crate::suite::{AggressorDef, AggressorWorkload, IsolationDef, LimitsDef};

/// Fewest values a sweep takes: a curve needs two points.
pub const MIN_VALUES: usize = 2;
/// Most values a sweep takes (issue 17): beyond it, bisect instead.
pub const MAX_VALUES: usize = 50;
/// Period of a quota set on a sandbox without one, µs (the kernel's default).
const DEFAULT_PERIOD_US: u64 = 100_000;
/// Smallest `memory.max` a sweep sets: 4 MiB, below which a process barely starts.
const MIN_MEMORY_BYTES: u64 = 4 << 20;
/// Which sandboxes a swept knob belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// The victim.
    Victim,
    /// Every aggressor of the scenario.
    Aggressors,
    /// The aggressor of this name.
    Aggressor(String),
}

/// The knob swept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Knob {
    /// An aggressor's intensity, percent 0–100.
    Intensity,
    /// A CPU quota, CPUs.
    Cpus,
    /// `memory.max`, bytes.
    Memory,
}

impl Knob {
    /// The unit of its values, as results.json writes it.
    pub fn unit(self) -> &'static str {
        match self {
            Knob::Intensity => "%",
            Knob::Cpus => "CPUs",
            Knob::Memory => "bytes",
        }
    }
}

/// `--over`: a sandbox and a knob.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Over {
    /// Whose knob.
    pub target: Target,
    /// Which knob.
    pub knob: Knob,
    /// As written, e.g. `aggressor.intensity`.
    pub text: String,
}

impl Over {
    /// Parses `SANDBOX.KNOB`.
    ///
    /// # Errors
    /// A message for `--over` saying what is accepted.
    pub fn parse(text: &str) -> Result<Over, String> {
        let expected = "expected SANDBOX.KNOB: SANDBOX victim, aggressor (every aggressor) or an aggressor's name, KNOB intensity, cpus or memory (e.g. aggressor.intensity)";
        let (sandbox, knob) = text
            .rsplit_once('.')
            .ok_or_else(|| format!("--over {text:?}: {expected}"))?;
        let knob = match knob {
            "intensity" => Knob::Intensity,
            "cpus" => Knob::Cpus,
            "memory" => Knob::Memory,
            other => {
                return Err(format!(
                    "--over {text:?}: unknown knob {other:?}; {expected}"
                ));
            }
        };
        let target = match sandbox {
            "" => return Err(format!("--over {text:?}: no sandbox; {expected}")),
            "victim" => Target::Victim,
            "aggressor" => Target::Aggressors,
            name => Target::Aggressor(name.to_owned()),
        };
        Ok(Over {
            target,
            knob,
            text: text.to_owned(),
        })
    }

    /// Parses `--values` for this knob: comma-separated (see [`Over::values_of`]).
    ///
    /// # Errors
    /// A message naming `--values`, the bad value and what is accepted.
    pub fn values(&self, text: &str) -> Result<Vec<f64>, String> {
        let parts: Vec<&str> = text.split(',').map(str::trim).collect();
        self.values_of(&parts)
            .map_err(|(_, why)| format!("--values {text:?}: {why}"))
    }

    /// The values for this knob, as written: ascending, each once,
    /// [`MIN_VALUES`] to [`MAX_VALUES`] of them, each in the knob's range
    /// (intensity whole percent 0–100; cpus 0.01–1024; memory a size of at
    /// least 4 MiB such as `256MiB`).
    ///
    /// # Errors
    /// The index of the bad value (`None` for a bad count) and what is wrong
    /// with it, saying what is accepted.
    pub fn values_of(&self, parts: &[&str]) -> Result<Vec<f64>, (Option<usize>, String)> {
        if parts.len() < MIN_VALUES || parts.len() > MAX_VALUES {
            return Err((
                None,
                format!(
                    "{} value(s): a sweep takes {MIN_VALUES} to {MAX_VALUES} (a curve needs two points; for more, sweep a narrower range)",
                    parts.len()
                ),
            ));
        }
        let values = parts
            .iter()
            .enumerate()
            .map(|(i, p)| self.value(p).map_err(|e| (Some(i), e)))
            .collect::<Result<Vec<f64>, _>>()?;
        if let Some(i) = (1..values.len()).find(|&i| values[i] <= values[i - 1]) {
            let what = if values[i] == values[i - 1] {
                "repeats"
            } else {
                "is below"
            };
            return Err((
                Some(i),
                format!(
                    "{} {what} {}: expected values from lowest to highest, each once",
                    self.label(values[i]),
                    self.label(values[i - 1])
                ),
            ));
        }
        Ok(values)
    }

    /// One value.
    fn value(&self, p: &str) -> Result<f64, String> {
        match self.knob {
            Knob::Intensity => p
                .trim_end_matches('%')
                .parse::<u8>()
                .ok()
                .filter(|&v| v <= 100)
                .map(f64::from)
                .ok_or_else(|| {
                    format!("{p:?} is not an intensity: expected whole percentages from 0 to 100")
                }),
            Knob::Cpus => p
                .parse::<f64>()
                .ok()
                .filter(|v| v.is_finite() && (0.01..=1024.0).contains(v))
                .ok_or_else(|| {
                    format!("{p:?} is not a CPU quota: expected CPUs from 0.01 to 1024 (e.g. 0.25)")
                }),
            Knob::Memory => match parse_size::parse_size(p) {
                Ok(b) if b >= MIN_MEMORY_BYTES => Ok(b as f64),
                Ok(b) => Err(format!(
                    "{p:?} ({b} bytes) is below 4 MiB: expected sizes such as 64MiB or 1GiB"
                )),
                Err(e) => Err(format!(
                    "{p:?} is not a size ({e}): expected sizes such as 64MiB or 1GiB"
                )),
            },
        }
    }

    /// A value for people: `25 %`, `0.5 CPUs`, `256 MiB`.
    pub fn label(&self, v: f64) -> String {
        match self.knob {
            Knob::Intensity => format!("{v} %"),
            Knob::Cpus => format!("{v} CPUs"),
            Knob::Memory => crate::scenario::memory_pressure::size(v as u64),
        }
    }

    /// Refuses a knob that the scenario `def` lacks.
    ///
    /// # Errors
    /// What the scenario has instead, to follow "scenario NAME": `has no
    /// aggressor: sweep victim.cpus or victim.memory`.
    pub fn check(&self, def: &IsolationDef) -> Result<(), String> {
        let bad = |why: String| Err(why);
        let names: Vec<&str> = def.aggressors.iter().map(|a| a.name.as_str()).collect();
        match &self.target {
            Target::Victim if self.knob == Knob::Intensity => {
                return bad("has a victim, which has no intensity knob: sweep victim.cpus or victim.memory, or an aggressor's intensity".into());
            }
            Target::Aggressors if def.aggressors.is_empty() => {
                return bad("has no aggressor: sweep victim.cpus or victim.memory".into());
            }
            Target::Aggressor(n) if !names.contains(&n.as_str()) => {
                return bad(format!(
                    "has no aggressor named {n:?}: its aggressors are {}",
                    if names.is_empty() {
                        "none".to_string()
                    } else {
                        names.join(", ")
                    }
                ));
            }
            _ => {}
        }
        if self.knob == Knob::Intensity {
            for a in self.aggressors(def) {
                match &a.workload {
                    AggressorWorkload::Applet { workload, .. }
                        if RAMPED.contains(&workload.as_str()) => {}
                    w => {
                        return bad(format!(
                            "has aggressor {} running {}, which has no intensity knob (those with one: {})",
                            a.name,
                            w.label(),
                            RAMPED.join(", ")
                        ));
                    }
                }
                if a.phase.is_some() {
                    return bad(format!(
                        "has aggressor {} with a phase, which moves its activity already: sweep a steady aggressor",
                        a.name
                    ));
                }
            }
        }
        Ok(())
    }

    /// The aggressors the knob belongs to (none for the victim).
    fn aggressors<'d>(&self, def: &'d IsolationDef) -> Vec<&'d AggressorDef> {
        def.aggressors
            .iter()
            .filter(|a| match &self.target {
                Target::Victim => false,
                Target::Aggressors => true,
                Target::Aggressor(n) => &a.name == n,
            })
            .collect()
    }

    /// `def` with the knob set to `v` (checked by [`Over::check`] and [`Over::values`]).
    pub fn apply(&self, def: &IsolationDef, v: f64) -> IsolationDef {
        let mut def = def.clone();
        let targeted = |a: &AggressorDef| match &self.target {
            Target::Victim => false,
            Target::Aggressors => true,
            Target::Aggressor(n) => &a.name == n,
        };
        if self.knob == Knob::Intensity {
            if v == 0.0 {
                def.aggressors.retain(|a| !targeted(a));
                return def;
            }
            for a in def.aggressors.iter_mut().filter(|a| targeted(a)) {
                if let AggressorWorkload::Applet { args, .. } = &mut a.workload {
                    set_flag(args, "--intensity", &format!("{v}"));
                }
            }
            return def;
        }
        let word = (format!("sweep {}", self.text), self.label(v));
        let set = |limits: &mut LimitsDef| {
            match self.knob {
                Knob::Cpus => {
                    let period = limits
                        .limits
                        .cpu_max
                        .map_or(DEFAULT_PERIOD_US, |m| m.period_us);
                    limits.limits.cpu_max = Some(CpuMax {
                        quota_us: Some((v * period as f64).round().max(1000.0) as u64),
                        period_us: period,
                    });
                }
                Knob::Memory => {
                    limits.limits.memory.retain(|m| m.knob != MemoryKnob::Max);
                    limits.limits.memory.push(MemorySetting {
                        knob: MemoryKnob::Max,
                        bytes: Some(v as u64),
                    });
                }
                Knob::Intensity => {}
            }
            limits.words.push(word.clone());
        };
        match self.target {
            Target::Victim => set(&mut def.victim.limits),
            _ => {
                for a in def.aggressors.iter_mut().filter(|a| targeted(a)) {
                    set(&mut a.limits);
                }
            }
        }
        def
    }
}

/// Sets `--flag value` in `args`, replacing any `--flag V` or `--flag=V` there.
fn set_flag(args: &mut Vec<String>, flag: &str, value: &str) {
    let mut i = 0;
    while i < args.len() {
        if args[i] == flag {
            args.drain(i..(i + 2).min(args.len()));
        } else if args[i].starts_with(&format!("{flag}=")) {
            args.remove(i);
        } else {
            i += 1;
        }
    }
    args.push(flag.to_owned());
    args.push(value.to_owned());
}

#[cfg(test)]
mod tests {
    use super::*;

    fn over(t: &str) -> Over {
        Over::parse(t).unwrap()
    }

    #[test]
    fn over_names_a_sandbox_and_a_knob() {
        assert_eq!(over("aggressor.intensity").target, Target::Aggressors);
        assert_eq!(over("victim.cpus").knob, Knob::Cpus);
        assert_eq!(over("hog.memory").target, Target::Aggressor("hog".into()));
        assert!(
            Over::parse("aggressor.speed")
                .unwrap_err()
                .contains("unknown knob")
        );
        assert!(
            Over::parse("intensity")
                .unwrap_err()
                .contains("SANDBOX.KNOB")
        );
    }

    #[test]
    fn values_must_be_two_to_fifty_ascending_and_in_range() {
        let o = over("aggressor.intensity");
        assert_eq!(
            o.values("0,25,50,75,100").unwrap(),
            vec![0.0, 25.0, 50.0, 75.0, 100.0]
        );
        assert!(o.values("50").unwrap_err().contains("2 to 50"));
        let many: Vec<String> = (0..=50).map(|v| v.to_string()).collect();
        assert!(
            o.values(&many.join(","))
                .unwrap_err()
                .contains(": 51 value(s): a sweep takes 2 to 50")
        );
        assert!(
            o.values("50,25")
                .unwrap_err()
                .contains("25 % is below 50 %")
        );
        assert!(o.values("25,25").unwrap_err().contains("repeats"));
        assert!(o.values("0,101").unwrap_err().contains("0 to 100"));
        assert!(
            over("victim.cpus")
                .values("0,1")
                .unwrap_err()
                .contains("0.01 to 1024")
        );
        assert_eq!(
            over("aggressor.memory").values("64MiB,1GiB").unwrap(),
            vec![(64u64 << 20) as f64, (1u64 << 30) as f64]
        );
        assert!(
            over("aggressor.memory")
                .values("1MiB,2MiB")
                .unwrap_err()
                .contains("below 4 MiB")
        );
    }

    #[test]
    fn set_flag_replaces_both_spellings() {
        let mut a: Vec<String> = ["--threads", "2", "--intensity=40", "--intensity", "10"]
            .map(String::from)
            .to_vec();
        set_flag(&mut a, "--intensity", "75");
        assert_eq!(a, ["--threads", "2", "--intensity", "75"]);
    }
}

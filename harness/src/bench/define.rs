//! A bench's scenarios as a checked [`Suite`] of isolation scenarios, with the
//! checks a suite file gets (names, rate, timing, applets and their
//! arguments, programs, limits in the user's words); every problem of every
//! scenario is reported at once, before anything starts.

use super::{Limits, Neighbour, NeighbourWork, Scenario};
use crate::sandbox::NamespaceSet;
use crate::scenario::{MAX_SECONDS, MIN_WINDOW_S, ROUNDS, Timing};
use crate::suite::{
    AGGRESSORS, AggressorDef, AggressorWorkload, CommandDef, Demand, HostFacts, IsolationDef, Kind,
    LimitsDef, MAX_COUNT, ScenarioDef, Slo, Suite, VictimDef, VictimWorkload, did_you_mean,
    find_with_env, from_words, run_args, sandbox_name,
};
use isobench_reports::schema::Condition;
use std::time::Duration;

/// Highest victim rate, units per second (as a suite's `rate`).
const MAX_RATE: f64 = 1e6;
/// Bounds of `late_after` and `slo_p99`, µs (as a suite's `late_us` and `slo.p99_us`).
const LATENCY_US: std::ops::RangeInclusive<f64> = 1.0..=60e6;

/// Whether `name` may name a scenario or a sandbox: 1 to 64 of `a-z`, `0-9`
/// and `-`, starting with a letter (as in suite files).
fn valid_name(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

/// The suite that runs `scenarios` of bench `bench`, each checked; `host`
/// maps the limits (without it, limits are left unmapped: enough for `cargo
/// test`, which runs the closures only).
///
/// # Errors
/// Every problem found, one sentence each, naming the scenario and neighbour.
pub(super) fn suite(
    bench: &str,
    scenarios: &[&Scenario],
    host: Option<&HostFacts>,
) -> Result<Suite, Vec<String>> {
    let mut problems = Vec::new();
    if scenarios.is_empty() {
        problems.push(
            "no scenario to run: add one with Bench::scenario(Scenario::new(name, closure)…)"
                .to_string(),
        );
    }
    let mut defs = Vec::new();
    for (i, s) in scenarios.iter().enumerate() {
        let mut p = Problems {
            prefix: format!("scenario {:?}", s.name),
            found: Vec::new(),
        };
        if scenarios[..i].iter().any(|o| o.name == s.name) {
            p.add(
                "the name is taken by an earlier scenario: give each scenario its own".to_string(),
            );
        }
        if let Some(def) = scenario(s, host, &mut p)
            && p.found.is_empty()
        {
            defs.push(def);
        }
        problems.append(&mut p.found);
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    Ok(Suite {
        name: bench.to_string(),
        origin: format!("cargo bench: {bench}"),
        timing: Timing {
            rounds: super::DEFAULT_ROUNDS,
            duration_s: super::DEFAULT_WINDOW.as_secs_f64(),
            warmup_s: super::DEFAULT_WARMUP.as_secs_f64(),
        },
        margins: None,
        scenarios: defs,
    })
}

/// Problems of one scenario, each prefixed with what it belongs to.
struct Problems {
    prefix: String,
    found: Vec<String>,
}

impl Problems {
    fn add(&mut self, what: String) {
        self.found.push(format!("{}: {what}", self.prefix));
    }
}

/// One scenario as the suite's isolation scenario; `None` when a problem was found.
fn scenario(s: &Scenario, host: Option<&HostFacts>, p: &mut Problems) -> Option<ScenarioDef> {
    if !valid_name(&s.name) {
        p.add(
            "not a scenario name: expected 1 to 64 of a-z, 0-9 and -, starting with a letter \
             (results and baselines are filed under it)"
                .into(),
        );
    }
    let rate = match s.rate {
        Some(r) if r > 0.0 && r <= MAX_RATE => Some(r),
        Some(r) => {
            p.add(format!(
                "rate {r} units/s: expected above 0 and at most {MAX_RATE}"
            ));
            None
        }
        None => {
            p.add(
                "no rate: give .rate(units per second), below what one thread can serve \
                 (a unit of 20 µs serves at most 50 000/s)"
                    .into(),
            );
            None
        }
    };
    let timing = timing(s, p);
    let late_us = latency_us("late_after", s.late_after, p);
    let slo = latency_us("slo_p99", s.slo_p99, p).map(|p99_us| Slo { p99_us });
    if s.neighbours.is_empty() {
        p.add(
            "no neighbour: add one with .beside(Neighbour::catalogue(\"cpu-hog\")) or \
             .beside(Neighbour::command([...]))"
                .into(),
        );
    }
    let victim_limits = limits("victim", s.limits.as_ref(), host, p);
    let single = s.neighbours.len() == 1;
    let mut aggressors: Vec<AggressorDef> = Vec::new();
    for n in &s.neighbours {
        let Some(a) = aggressor(n, single, host, p) else {
            continue;
        };
        if a.name == "victim" || aggressors.iter().any(|o| o.name == a.name) {
            p.add(format!(
                "neighbour {:?}: the sandbox name is taken by another sandbox of this scenario: \
                 give each neighbour its own with .named(…)",
                a.name
            ));
        }
        aggressors.push(a);
    }
    Some(ScenarioDef {
        name: s.name.clone(),
        timing: timing?,
        kind: Kind::Isolation(Box::new(IsolationDef {
            victim: VictimDef {
                workload: VictimWorkload::Closure {
                    name: s.name.clone(),
                },
                demand: Demand::Rate(rate?),
                limits: victim_limits?,
                late_us,
                slo,
                group: None,
                slice_ms: None,
            },
            aggressors,
            namespaces: NamespaceSet::ALL,
            conditions: Condition::ALL.to_vec(),
            groups: Vec::new(),
            sweep: None,
        })),
    })
}

/// Rounds, window and warm-up, within what suite files allow.
fn timing(s: &Scenario, p: &mut Problems) -> Option<Timing> {
    let mut ok = true;
    if !ROUNDS.contains(&(s.rounds as u64)) {
        ok = false;
        p.add(format!(
            "rounds {}: expected {} to {}",
            s.rounds,
            ROUNDS.start(),
            ROUNDS.end()
        ));
    }
    let (window, warmup) = (s.window.as_secs_f64(), s.warmup.as_secs_f64());
    if !(MIN_WINDOW_S..=MAX_SECONDS).contains(&window) {
        ok = false;
        p.add(format!(
            "window {:?}: expected {MIN_WINDOW_S} s to {MAX_SECONDS} s",
            s.window
        ));
    }
    if warmup > MAX_SECONDS {
        ok = false;
        p.add(format!(
            "warmup {:?}: expected at most {MAX_SECONDS} s",
            s.warmup
        ));
    }
    ok.then_some(Timing {
        rounds: s.rounds,
        duration_s: window,
        warmup_s: warmup,
    })
}

/// A latency bound in µs, checked against [`LATENCY_US`].
fn latency_us(what: &str, d: Option<Duration>, p: &mut Problems) -> Option<f64> {
    let us = d?.as_secs_f64() * 1e6;
    if LATENCY_US.contains(&us) {
        Some(us)
    } else {
        p.add(format!(
            "{what} {:?}: expected 1 µs to 60 s",
            d.unwrap_or_default()
        ));
        None
    }
}

/// The limits of sandbox `whose`, mapped to this host's files; `Some(default)`
/// without limits or without the host's facts, `None` when refused.
fn limits(
    whose: &str,
    l: Option<&Limits>,
    host: Option<&HostFacts>,
    p: &mut Problems,
) -> Option<LimitsDef> {
    let (Some(l), Some(host)) = (l, host) else {
        return Some(LimitsDef::default());
    };
    match from_words(l.vocabulary, &l.words, host) {
        Ok(def) => Some(def),
        Err(errors) => {
            for e in errors {
                p.add(format!("limits of {whose} ({}): {e}", l.vocabulary));
            }
            None
        }
    }
}

/// One neighbour as an aggressor of the scenario; `None` when a problem was found.
fn aggressor(
    n: &Neighbour,
    single: bool,
    host: Option<&HostFacts>,
    p: &mut Problems,
) -> Option<AggressorDef> {
    let label = match &n.what {
        NeighbourWork::Catalogue { applet, .. } => applet.clone(),
        NeighbourWork::Command { argv, .. } => argv.first().cloned().unwrap_or_default(),
    };
    let mut problems = n
        .misuse
        .iter()
        .map(|m| format!("neighbour {label}: {m}"))
        .collect::<Vec<_>>();
    let workload = match &n.what {
        NeighbourWork::Catalogue { applet, args } => catalogue(applet, args, &mut problems),
        NeighbourWork::Command { argv, env, cwd } => {
            command(argv, env, cwd.as_deref(), &mut problems).map(AggressorWorkload::Command)
        }
    };
    if !(1..=MAX_COUNT).contains(&(n.count as u64)) {
        problems.push(format!(
            "neighbour {label}: count {}: expected 1 to {MAX_COUNT}",
            n.count
        ));
    }
    let name = match &n.name {
        Some(name) => {
            if !valid_name(name) {
                problems.push(format!(
                    "neighbour {label}: {name:?} is not a sandbox name: expected 1 to 64 of a-z, \
                     0-9 and -, starting with a letter"
                ));
            }
            name.clone()
        }
        None if single => "aggressor".to_string(),
        None => sandbox_name(&label),
    };
    for what in problems {
        p.add(what);
    }
    let limits = limits(&format!("neighbour {name}"), n.limits.as_ref(), host, p);
    Some(AggressorDef {
        name,
        workload: workload?,
        count: n.count,
        limits: limits?,
        group: None,
        phase: None,
    })
}

/// A catalogue aggressor with its arguments, checked by its own command line.
fn catalogue(
    applet: &str,
    args: &[String],
    problems: &mut Vec<String>,
) -> Option<AggressorWorkload> {
    if !AGGRESSORS.contains(&applet) {
        let hint = did_you_mean(applet, &AGGRESSORS)
            .map(|s| format!("did you mean {s:?}? "))
            .unwrap_or_default();
        problems.push(format!(
            "neighbour {applet:?} is not an aggressor of the catalogue; {hint}expected one of {}, \
             or Neighbour::command for a program of yours",
            AGGRESSORS.join(", ")
        ));
        return None;
    }
    for a in args {
        let flag = a.split('=').next().unwrap_or(a);
        if run_args::aggressor_flags().contains(&flag) {
            problems.push(format!(
                "neighbour {applet}: {flag} is set by isobench from the scenario's window: remove it"
            ));
            return None;
        }
    }
    if let Err(e) = run_args::check(applet, args) {
        problems.push(format!(
            "neighbour {applet} refuses these arguments {args:?}: {e}"
        ));
        return None;
    }
    Some(AggressorWorkload::Applet {
        workload: applet.to_string(),
        args: args.to_vec(),
    })
}

/// A command neighbour, its program found as a suite file's would be.
fn command(
    argv: &[String],
    env: &[(String, String)],
    cwd: Option<&std::path::Path>,
    problems: &mut Vec<String>,
) -> Option<CommandDef> {
    let Some(first) = argv.first() else {
        problems.push(
            "an empty command: expected the program and its arguments, e.g. \
             Neighbour::command([\"stress-ng\", \"--cpu\", \"1\"])"
                .into(),
        );
        return None;
    };
    let mut ok = true;
    if argv.iter().any(|a| a.contains('\0')) {
        ok = false;
        problems.push(format!(
            "neighbour {first}: an argument holds a NUL byte, which no program can receive"
        ));
    }
    for (k, v) in env {
        if k.is_empty() || k.contains(['=', '\0']) || v.contains('\0') {
            ok = false;
            problems.push(format!(
                "neighbour {first}: env {k:?}: expected a name without `=` or NUL and a value without NUL"
            ));
        }
    }
    if let Some(dir) = cwd.filter(|d| !d.is_dir()) {
        ok = false;
        problems.push(format!(
            "neighbour {first}: cwd {}: not a directory: expected an existing directory to run the command in",
            dir.display()
        ));
    }
    let program = match find_with_env(first, cwd, env) {
        Ok(program) => program,
        Err(why) => {
            problems.push(format!("neighbour {first}: {why}"));
            return None;
        }
    };
    ok.then(|| CommandDef {
        argv: argv.to_vec(),
        program,
        env: env.to_vec(),
        cwd: cwd.map(Into::into),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cgroup::{CpuList, Layout};

    fn host() -> HostFacts {
        HostFacts {
            layout: Layout::V2,
            online_cpus: "0-1".parse::<CpuList>().unwrap(),
            block_devices: Vec::new(),
            missing_knobs: Vec::new(),
        }
    }

    fn hash() -> Scenario {
        Scenario::new("hash", || {})
            .rate(1000.0)
            .beside(Neighbour::catalogue("cpu-hog").limits(Limits::docker().set("cpus", 0.5)))
    }

    #[test]
    fn a_closure_beside_a_limited_catalogue_aggressor_becomes_an_isolation_scenario() {
        let s = hash();
        let suite = suite("isolation", &[&s], Some(&host())).unwrap();
        let Kind::Isolation(iso) = &suite.scenarios[0].kind else {
            panic!("not an isolation scenario")
        };
        assert_eq!(
            iso.victim.workload,
            VictimWorkload::Closure {
                name: "hash".into()
            }
        );
        assert_eq!(iso.victim.demand, Demand::Rate(1000.0));
        assert_eq!(iso.aggressors[0].name, "aggressor");
        assert_eq!(
            iso.aggressors[0].limits.vocabulary.as_deref(),
            Some("docker")
        );
        assert_eq!(
            iso.aggressors[0].limits.files,
            [("cpu.max".to_string(), "50000 100000".to_string())]
        );
        assert_eq!(iso.conditions, Condition::ALL);
    }

    #[test]
    fn every_problem_of_every_scenario_is_reported_at_once() {
        let bad = Scenario::new("Bad Name", || {})
            .beside(Neighbour::catalogue("cache-trash"))
            .rounds(0)
            .window(Duration::from_millis(10));
        let limits = Scenario::new("limits", || {}).rate(10.0).beside(
            Neighbour::catalogue("cpu-hog")
                .env("A", "1")
                .limits(Limits::docker().set("cpu", 0.5)),
        );
        let problems = suite("b", &[&bad, &hash(), &hash(), &limits], Some(&host())).unwrap_err();
        let has = |part: &str| {
            assert!(
                problems.iter().any(|p| p.contains(part)),
                "no problem contains {part:?}: {problems:#?}"
            )
        };
        has("scenario \"Bad Name\": not a scenario name");
        has("scenario \"Bad Name\": no rate: give .rate(units per second)");
        has("rounds 0: expected 1 to 1000");
        has("window 10ms: expected 0.1 s to 3600 s");
        has("\"cache-trash\" is not an aggressor of the catalogue; did you mean \"cache-thrash\"?");
        has("scenario \"hash\": the name is taken by an earlier scenario");
        has(
            "scenario \"limits\": neighbour cpu-hog: env(\"A\", …): cpu-hog is an applet of the catalogue",
        );
        has(
            "scenario \"limits\": limits of neighbour aggressor (docker): cpu = 0.5: unknown docker key",
        );
    }

    #[test]
    fn neighbours_need_their_own_sandbox_names_and_accepted_arguments() {
        let s = Scenario::new("two", || {})
            .rate(10.0)
            .beside(Neighbour::catalogue("cpu-hog"))
            .beside(Neighbour::catalogue("cpu-hog").args(["--threads", "x"]))
            .beside(Neighbour::command(["/no/such/program"]));
        let problems = suite("b", &[&s], Some(&host())).unwrap_err();
        assert!(
            problems
                .iter()
                .any(|p| p.contains("neighbour cpu-hog refuses these arguments")),
            "{problems:#?}"
        );
        assert!(
            problems
                .iter()
                .any(|p| p.contains("neighbour /no/such/program: /no/such/program: no such file")),
            "{problems:#?}"
        );
        let twice = Scenario::new("twice", || {})
            .rate(10.0)
            .beside(Neighbour::catalogue("cpu-hog"))
            .beside(Neighbour::catalogue("cpu-hog"));
        let problems = suite("b", &[&twice], None).unwrap_err();
        assert_eq!(
            problems,
            [
                "scenario \"twice\": neighbour \"cpu-hog\": the sandbox name is taken by another sandbox of this scenario: give each neighbour its own with .named(…)"
            ]
        );
        let named = Scenario::new("named", || {})
            .rate(10.0)
            .beside(Neighbour::catalogue("cpu-hog"))
            .beside(Neighbour::catalogue("cpu-hog").named("second"));
        assert!(suite("b", &[&named], None).is_ok());
    }
}

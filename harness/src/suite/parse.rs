//! From the text of a suite file to a checked [`Suite`]: every problem of the
//! file reported at once, each with its line, column and field.

use super::command;
use super::error::{Problems, SuiteErrors};
use super::groups;
use super::limits::{self, HostFacts};
use super::model::*;
use super::reader::{Table, did_you_mean};
use crate::sandbox::NamespaceSet;
use crate::scenario::{self, Timing};
use isobench_reports::schema::Condition;
use toml::de::DeTable;

/// Keys of the top level.
const TOP: [&str; 4] = ["name", "description", "defaults", "scenario"];
/// Keys of `[defaults]`.
const DEFAULTS: [&str; 5] = ["rounds", "duration", "warmup", "arena_memory", "margins"];
/// Keys every `[[scenario]]` has.
const COMMON: [&str; 6] = [
    "name",
    "kind",
    "description",
    "rounds",
    "duration",
    "warmup",
];

/// Parses and checks `text`, read from `origin` (a path or `embedded:<name>`);
/// `fallback_name` names the suite when it has no `name`.
///
/// # Errors
/// Every problem of the file, each with file:line:column and the field.
pub fn parse(
    text: &str,
    origin: &str,
    fallback_name: &str,
    host: &HostFacts,
) -> Result<Suite, SuiteErrors> {
    let mut p = Problems::new(origin, text);
    let (doc, syntax) = DeTable::parse_recoverable(text);
    for e in &syntax {
        let message = e.message().trim();
        // `cpu.max = ...` then `cpu.max.burst = ...`: TOML reads the second as
        // the key `burst` of a table `cpu.max`, which is already a string.
        let hint = if message.contains("dotted key") {
            "; a knob whose name has dots is one key: quote it, e.g. \"cpu.max.burst\" = 50000"
        } else {
            ""
        };
        p.at(
            e.span().unwrap_or(0..0),
            "syntax",
            format!("{message}{hint}"),
        );
    }
    if !syntax.is_empty() {
        return Err(p.into_errors());
    }
    let top = Table::new(doc.get_ref(), "", doc.span());
    top.only(&TOP, &mut p);
    let name = top
        .str("name", &mut p)
        .map_or(fallback_name.to_string(), |(s, _)| s.to_string());
    top.str("description", &mut p);
    let defaults = top.table("defaults", "defaults", &mut p);
    let (timing, arena_bytes, margins) = match defaults {
        Some(d) => read_defaults(d, &mut p),
        None => (DEFAULT_TIMING, None, None),
    };
    let mut scenarios: Vec<ScenarioDef> = Vec::new();
    let mut names = std::collections::HashSet::new();
    let tables = top.tables("scenario", "scenario", &mut p);
    if tables.is_empty() && top.get("scenario").is_none_or(|f| f.value.is_array()) {
        p.at(
            top.span(),
            "scenario",
            "the suite has no scenario: add at least one [[scenario]] table",
        );
    }
    for t in tables {
        if let Some(s) = read_scenario(t, timing, arena_bytes, host, &mut p) {
            if !names.insert(s.name.clone()) {
                p.at(
                    t.get("name").map_or(t.span(), |f| f.span),
                    "scenario.name",
                    format!("{:?} names two scenarios: each needs its own name", s.name),
                );
            }
            scenarios.push(s);
        }
    }
    for (name, span) in margins.iter().flat_map(|m| &m.scenario_keys) {
        if !scenarios.iter().any(|s| &s.name == name) {
            let names: Vec<&str> = scenarios.iter().map(|s| s.name.as_str()).collect();
            p.at(
                span.clone(),
                "defaults.margins.scenarios",
                format!(
                    "{name:?} is no scenario of this suite; its scenarios are {}",
                    names.join(", ")
                ),
            );
        }
    }
    p.finish()?;
    Ok(Suite {
        name,
        origin: origin.to_string(),
        timing,
        margins: margins.map(|m| m.margins),
        scenarios,
    })
}

/// Rounds and durations of a suite without `[defaults]`.
const DEFAULT_TIMING: Timing = Timing {
    rounds: 5,
    duration_s: 2.0,
    warmup_s: 0.5,
};

fn read_defaults(
    d: Table<'_, '_>,
    p: &mut Problems,
) -> (Timing, Option<u64>, Option<super::margins::SuiteMargins>) {
    d.only(&DEFAULTS, p);
    let timing = read_timing(d, DEFAULT_TIMING, p);
    let arena = d.size("arena_memory", p);
    let margins = d
        .table("margins", "defaults.margins", p)
        .map(|m| super::margins::read(m, p));
    (timing, arena, margins)
}

/// `rounds`, `duration` and `warmup` of a table, over `base`.
fn read_timing(t: Table<'_, '_>, base: Timing, p: &mut Problems) -> Timing {
    Timing {
        rounds: t
            .integer("rounds", scenario::ROUNDS, p)
            .map_or(base.rounds, |r| r as usize),
        duration_s: t
            .number(
                "duration",
                scenario::MIN_WINDOW_S..=scenario::MAX_SECONDS,
                "seconds",
                p,
            )
            .unwrap_or(base.duration_s),
        warmup_s: t
            .number("warmup", 0.0..=scenario::MAX_SECONDS, "seconds", p)
            .unwrap_or(base.warmup_s),
    }
}

fn read_scenario(
    t: Table<'_, '_>,
    base: Timing,
    arena: Option<u64>,
    host: &HostFacts,
    p: &mut Problems,
) -> Option<ScenarioDef> {
    let name = t.required_str("name", p, "a name such as \"cpu-share\"");
    if let Some((n, span)) = &name
        && !valid_name(n)
    {
        p.at(
            span.clone(),
            "scenario.name",
            format!("{n:?} is not a scenario name: expected 1 to 64 of a-z, 0-9 and -, starting with a letter"),
        );
    }
    let timing = read_timing(t, base, p);
    t.str("description", p);
    let kind_name = t.required_str("kind", p, &format!("one of {}", KINDS.join(", ")));
    let kind = match kind_name {
        Some((k, span)) if !KINDS.contains(&k) => {
            let hint = did_you_mean(k, &KINDS)
                .map(|s| format!("did you mean `{s}`? "))
                .unwrap_or_default();
            p.at(
                span,
                "scenario.kind",
                format!(
                    "unknown kind {k:?}; {hint}expected one of {}",
                    KINDS.join(", ")
                ),
            );
            None
        }
        Some((k, _)) => Some(read_kind(k, t, arena, host, p)),
        None => None,
    };
    Some(ScenarioDef {
        name: name?.0.to_string(),
        timing,
        kind: kind?,
    })
}

pub(super) fn valid_name(n: &str) -> bool {
    (1..=64).contains(&n.len())
        && n.starts_with(|c: char| c.is_ascii_lowercase())
        && n.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

/// The kind-specific part of a scenario table.
fn read_kind(
    kind: &str,
    t: Table<'_, '_>,
    arena: Option<u64>,
    host: &HostFacts,
    p: &mut Problems,
) -> Kind {
    let keys =
        |own: &[&'static str]| -> Vec<&'static str> { COMMON.iter().chain(own).copied().collect() };
    match kind {
        "isolation" => {
            t.only(
                &keys(&[
                    "victim",
                    "aggressor",
                    "namespaces",
                    "conditions",
                    "group",
                    "sweep",
                ]),
                p,
            );
            Kind::Isolation(Box::new(read_isolation(t, host, p)))
        }
        "memory-pressure" => {
            t.only(
                &keys(&["arena_memory", "working_set", "aggressor_limits"]),
                p,
            );
            let def = MemoryPressureDef {
                arena_bytes: t.size("arena_memory", p).or(arena),
                working_set_bytes: t.size("working_set", p),
                aggressor_limits: t
                    .table("aggressor_limits", "scenario.aggressor_limits", p)
                    .map(|l| limits::read(l, host, p)),
            };
            check_memory_pressure(&def, t, host, p);
            Kind::MemoryPressure(Box::new(def))
        }
        "startup-latency" => {
            t.only(&keys(&["samples", "churn_seconds", "namespaces"]), p);
            Kind::StartupLatency(StartupDef {
                samples: t.integer("samples", 1..=100_000, p).map(|n| n as usize),
                churn_s: t.number(
                    "churn_seconds",
                    scenario::MIN_WINDOW_S..=scenario::MAX_SECONDS,
                    "seconds",
                    p,
                ),
                namespaces: namespaces(t, p),
            })
        }
        "memory-high-stall" => {
            t.only(&COMMON, p);
            Kind::MemoryHighStall
        }
        _ => {
            t.only(&keys(&["cpu_view", "group"]), p);
            Kind::Visibility(Box::new(read_visibility(t, host, p)))
        }
    }
}

/// A `visibility` scenario's `[scenario.cpu_view]` (its sandbox's `limits`
/// and `group`) and the `[[scenario.group]]` tables above it.
fn read_visibility(t: Table<'_, '_>, host: &HostFacts, p: &mut Problems) -> VisibilityDef {
    let Some(cv) = t.table("cpu_view", "scenario.cpu_view", p) else {
        if t.get("group").is_some() {
            p.at(
                t.get("group").map_or(t.span(), |f| f.span.clone()),
                "scenario.group",
                "groups of a visibility scenario hold its cpu-view sandbox: add [scenario.cpu_view] with `group = \"...\"`",
            );
        }
        return VisibilityDef::default();
    };
    cv.only(&["limits", "group"], p);
    let limits = cv
        .table("limits", "scenario.cpu_view.limits", p)
        .map(|l| limits::read(l, host, p))
        .unwrap_or_default();
    let group = cv
        .get("group")
        .and_then(|f| f.value.as_str().map(|g| (g.to_string(), f.span.clone())));
    let member = groups::Member {
        name: "cpu-view".to_string(),
        group: group.clone(),
        limits: &limits,
        at: groups::limits_at(cv),
    };
    let groups = groups::read(t, std::slice::from_ref(&member), host, p);
    drop(member);
    VisibilityDef {
        cpu_view_limits: limits,
        cpu_view_group: group.map(|(g, _)| g),
        groups,
    }
}

/// The memory-pressure checks of `--arena-memory`, `--working-set` and
/// `--aggressor-memory`, on the suite's values.
fn check_memory_pressure(
    def: &MemoryPressureDef,
    t: Table<'_, '_>,
    host: &HostFacts,
    p: &mut Problems,
) {
    let settings = def
        .aggressor_limits
        .as_ref()
        .map(|l| l.limits.memory.clone())
        .unwrap_or_default();
    if let Some(l) = &def.aggressor_limits {
        // Judged by the words written: Kubernetes' memory words imply cpu.shares 2,
        // which memory-pressure does not write.
        if l.words.iter().any(|(key, _)| !key.contains("memory")) {
            p.at(
                t.get("aggressor_limits").map_or(t.span(), |f| f.span),
                "scenario.aggressor_limits",
                "memory-pressure takes memory limits only (memory.max, memory.high, memory.low, memory.min, memory.swap.max or their Docker/Kubernetes words)",
            );
        }
    }
    if let Err(e) = crate::scenario::memory_pressure::check_options(
        def.arena_bytes,
        def.working_set_bytes,
        &settings,
        Some(host.layout),
    ) {
        let at = ["working_set", "arena_memory", "aggressor_limits"]
            .iter()
            .find_map(|k| t.get(k))
            .map_or(t.span(), |f| f.span);
        p.at(at, "scenario", e);
    }
}

fn read_isolation(t: Table<'_, '_>, host: &HostFacts, p: &mut Problems) -> IsolationDef {
    let victim_table = t.table("victim", "scenario.victim", p);
    let victim = match victim_table {
        Some(v) => read_victim(v, host, p),
        None => {
            if t.get("victim").is_none() {
                p.at(
                    t.span(),
                    "scenario.victim",
                    "missing: an isolation scenario needs a [scenario.victim] table",
                );
            }
            None
        }
    };
    let tables = t.tables("aggressor", "scenario.aggressor", p);
    let neighbours = !tables.is_empty() || t.get("aggressor").is_some();
    let single = tables.len() == 1;
    let mut aggressors: Vec<AggressorDef> = Vec::new();
    let mut aggressor_tables = Vec::new();
    for a in tables {
        if let Some(def) = read_aggressor(a, single, host, p) {
            aggressor_tables.push(a);
            if def.name == "victim" || aggressors.iter().any(|o| o.name == def.name) {
                p.at(
                    a.get("name").map_or(a.span(), |f| f.span),
                    "scenario.aggressor.name",
                    format!(
                        "{:?} is taken by another sandbox of this scenario: give each aggressor its own name",
                        def.name
                    ),
                );
            }
            aggressors.push(def);
        }
    }
    let conditions = conditions(t, neighbours, p);
    let member = |name: &str, table: Table<'_, '_>, limits| groups::Member {
        name: name.to_string(),
        group: table
            .get("group")
            .and_then(|f| f.value.as_str().map(|g| (g.to_string(), f.span.clone()))),
        limits,
        at: groups::limits_at(table),
    };
    let members: Vec<groups::Member<'_>> = victim
        .as_ref()
        .zip(victim_table)
        .map(|(v, vt)| member("victim", vt, &v.limits))
        .into_iter()
        .chain(
            aggressors
                .iter()
                .zip(&aggressor_tables)
                .map(|(a, at)| member(&a.name, *at, &a.limits)),
        )
        .collect();
    let groups = groups::read(t, &members, host, p);
    drop(members);
    let mut def = IsolationDef {
        victim: victim.unwrap_or_else(|| VictimDef {
            workload: VictimWorkload::Applet {
                workload: String::new(),
                args: Vec::new(),
            },
            demand: Demand::Rate(1.0),
            limits: LimitsDef::default(),
            late_us: None,
            slo: None,
            group: None,
            slice_ms: None,
        }),
        aggressors,
        namespaces: namespaces(t, p).unwrap_or(NamespaceSet::ALL),
        conditions,
        groups,
        sweep: None,
    };
    def.sweep = t
        .table("sweep", "scenario.sweep", p)
        .and_then(|s| super::sweep::read(s, &def, p));
    def
}

fn read_victim(v: Table<'_, '_>, host: &HostFacts, p: &mut Problems) -> Option<VictimDef> {
    let mut keys = vec![
        "workload", "cpus", "rate", "args", "limits", "late_us", "slo", "group", "slice_ms",
    ];
    keys.extend(command::COMMAND_KEYS);
    keys.extend(command::VICTIM_MODE_KEYS);
    v.only(&keys, p);
    let workload = victim_workload(v, p);
    let cpus = v.number("cpus", 0.01..=1024.0, "CPUs", p);
    let rate = v.number("rate", 0.1..=1_000_000.0, "units per second", p);
    let at = |key: &str| v.get(key).map_or(v.span(), |f| f.span);
    let demand = match (cpus, rate, &workload) {
        (
            _,
            _,
            Some(
                w @ VictimWorkload::Command {
                    mode: CommandMode::Runs | CommandMode::Reports(_),
                    ..
                },
            ),
        ) => {
            for (key, value) in [("cpus", cpus), ("rate", rate)] {
                if value.is_some() {
                    p.at(
                        at(key),
                        &format!("scenario.victim.{key}"),
                        format!("`{key}` sets an open-loop pace; a {} command keeps its own (runs back to back, or reports its own units): remove it", match w { VictimWorkload::Command { mode, .. } => mode.as_str(), _ => "" }),
                    );
                }
            }
            Some(Demand::Own)
        }
        (Some(_), _, Some(w)) if !w.calibrated() => {
            p.at(
                at("cpus"),
                "scenario.victim.cpus",
                format!(
                    "`cpus` is for cpu-units only; give {} a `rate` (units per second)",
                    w.label()
                ),
            );
            None
        }
        (Some(_), Some(_), _) => {
            p.at(
                at("rate"),
                "scenario.victim.rate",
                "give either `cpus` or `rate`, not both",
            );
            None
        }
        (Some(c), None, _) => Some(Demand::Cpus(c)),
        (None, Some(r), _) => Some(Demand::Rate(r)),
        (None, None, workload) => {
            // A command victim whose mode could not be read says so already.
            let unread_mode = workload.is_none() && v.get("command").is_some();
            if v.get("cpus").is_none() && v.get("rate").is_none() && !unread_mode {
                p.at(
                    v.span(),
                    "scenario.victim.rate",
                    "missing: expected `rate` (units, or requests, per second), or `cpus` for cpu-units",
                );
            }
            None
        }
    };
    let limits = v
        .table("limits", "scenario.victim.limits", p)
        .map(|l| limits::read(l, host, p))
        .unwrap_or_default();
    let late_us = v.number("late_us", 1.0..=60e6, "µs", p);
    let slo = v.table("slo", "scenario.victim.slo", p).and_then(|t| {
        t.only(&["p99_us"], p);
        if t.get("p99_us").is_none() {
            p.at(
                t.span(),
                "scenario.victim.slo.p99_us",
                "missing: expected the latency objective as `p99_us` (µs), e.g. slo = { p99_us = 2000 }",
            );
        }
        t.number("p99_us", 1.0..=60e6, "µs", p)
            .map(|p99_us| Slo { p99_us })
    });
    let group = v.str("group", p).map(|(g, _)| g.to_string());
    let slice_ms = v.integer(
        "slice_ms",
        isobench_workloads::slices::MIN_SLICE_MS..=isobench_workloads::slices::MAX_SLICE_MS,
        p,
    );
    if let (Some(_), Some(w)) = (slice_ms, &workload) {
        let sliced = match w {
            VictimWorkload::Applet { workload, .. } => {
                super::phase::SLICED_VICTIMS.contains(&workload.as_str())
            }
            VictimWorkload::Closure { .. } => true,
            VictimWorkload::Command { .. } => false,
        };
        if !sliced {
            p.at(
                at("slice_ms"),
                "scenario.victim.slice_ms",
                format!(
                    "{} does not report its latencies per slice (its units end where the schedule does not see them): slices are recorded by {}; remove slice_ms",
                    w.label(),
                    super::phase::SLICED_VICTIMS.join(", ")
                ),
            );
        }
    }
    Some(VictimDef {
        workload: workload?,
        demand: demand?,
        limits,
        late_us,
        slo,
        group,
        slice_ms,
    })
}

fn read_aggressor(
    a: Table<'_, '_>,
    single: bool,
    host: &HostFacts,
    p: &mut Problems,
) -> Option<AggressorDef> {
    let mut keys = vec![
        "name", "workload", "count", "args", "limits", "group", "phase",
    ];
    keys.extend(command::COMMAND_KEYS);
    a.only(&keys, p);
    let workload = match a.get("command") {
        Some(_) => {
            one_of_workload_or_command(a, "aggressor", p);
            command::read(a, "aggressor", p).map(AggressorWorkload::Command)
        }
        None => {
            let name = applet(a, &AGGRESSORS, "aggressor", p);
            let args = args(a, "aggressor", name, super::run_args::aggressor_flags(), p);
            name.zip(args).map(|(w, args)| AggressorWorkload::Applet {
                workload: w.to_string(),
                args,
            })
        }
    };
    let name = match a.str("name", p) {
        Some((n, span)) => {
            if !valid_name(n) {
                p.at(
                    span,
                    "scenario.aggressor.name",
                    format!("{n:?} is not a sandbox name: expected 1 to 64 of a-z, 0-9 and -, starting with a letter"),
                );
            }
            n.to_string()
        }
        None if single => "aggressor".to_string(),
        None => match &workload {
            Some(AggressorWorkload::Applet { workload, .. }) => workload.clone(),
            Some(AggressorWorkload::Command(c)) => command::sandbox_name(&c.display_name()),
            None => "aggressor".to_string(),
        },
    };
    let count = a.integer("count", 1..=MAX_COUNT, p).unwrap_or(1) as usize;
    let limits = a
        .table("limits", "scenario.aggressor.limits", p)
        .map(|l| limits::read(l, host, p))
        .unwrap_or_default();
    let group = a.str("group", p).map(|(g, _)| g.to_string());
    let phase = super::phase::read(a, p);
    if let (Some(super::phase::Phase::Ramp { .. }), Some(w)) = (&phase, &workload) {
        let at = a.get("phase").map_or(a.span(), |f| f.span);
        match w {
            AggressorWorkload::Applet { workload, args }
                if super::phase::RAMPED.contains(&workload.as_str()) =>
            {
                if args.iter().any(|x| x.starts_with("--intensity")) {
                    p.at(
                        at,
                        "scenario.aggressor.phase.ramp",
                        "a ramp sets the intensity itself: remove --intensity from args",
                    );
                }
            }
            other => p.at(
                at,
                "scenario.aggressor.phase.ramp",
                format!(
                    "{} has no intensity knob for a ramp to pace: ramps are for {}; give it on/off or a step, which freeze its cgroup",
                    other.label(),
                    super::phase::RAMPED.join(", ")
                ),
            ),
        }
    }
    Some(AggressorDef {
        name,
        workload: workload?,
        count,
        limits,
        group,
        phase,
    })
}

/// What a victim table runs: `command` (with its mode) or an applet `workload` with `args`.
fn victim_workload(v: Table<'_, '_>, p: &mut Problems) -> Option<VictimWorkload> {
    if v.get("command").is_none() {
        for key in command::VICTIM_MODE_KEYS.iter().chain(&["env", "cwd"]) {
            if let Some(f) = v.get(key) {
                p.at(
                    f.span,
                    &format!("scenario.victim.{key}"),
                    format!("`{key}` is for a command victim (command = [...]); this victim runs the applet in `workload`"),
                );
            }
        }
        let name = applet(v, &VICTIMS, "victim", p);
        let args = args(v, "victim", name, super::run_args::victim_flags(), p);
        return name.zip(args).map(|(w, args)| VictimWorkload::Applet {
            workload: w.to_string(),
            args,
        });
    }
    one_of_workload_or_command(v, "victim", p);
    let command = command::read(v, "victim", p);
    let mode = command::read_mode(v, p);
    Some(VictimWorkload::Command {
        command: command?,
        mode: mode?,
    })
}

/// A table with `command` has neither `workload` nor `args` (the arguments go in `command`).
fn one_of_workload_or_command(t: Table<'_, '_>, role: &str, p: &mut Problems) {
    for (key, why) in [
        (
            "workload",
            "give either `workload` (an applet) or `command`, not both",
        ),
        ("args", "a command's arguments go in `command` itself"),
    ] {
        if let Some(f) = t.get(key) {
            p.at(f.span, &format!("scenario.{role}.{key}"), why);
        }
    }
}

/// The `workload` of a victim or aggressor table: one of `known`.
fn applet<'a>(
    t: Table<'a, '_>,
    known: &[&'static str],
    role: &str,
    p: &mut Problems,
) -> Option<&'static str> {
    let field = format!("scenario.{role}.workload");
    let (w, span) = t.required_str("workload", p, &format!("one of {}", known.join(", ")))?;
    if let Some(k) = known.iter().find(|k| **k == w) {
        return Some(k);
    }
    let hint = did_you_mean(w, known)
        .map(|s| format!("did you mean `{s}`? "))
        .unwrap_or_default();
    p.at(
        span,
        &field,
        format!(
            "{w:?} is not {} {role} workload; {hint}expected one of {}",
            if role == "aggressor" { "an" } else { "a" },
            known.join(", ")
        ),
    );
    None
}

/// The `args` of a workload: strings, none of the flags the harness sets,
/// and accepted by the applet's own command line.
fn args(
    t: Table<'_, '_>,
    role: &str,
    workload: Option<&str>,
    harness_flags: &[&str],
    p: &mut Problems,
) -> Option<Vec<String>> {
    let field = format!("scenario.{role}.args");
    let items = match (t.get("args"), t.strings("args", p)) {
        (None, _) => Vec::new(),
        (Some(_), Some(items)) => items,
        (Some(_), None) => return None,
    };
    let mut ok = true;
    for (a, span) in &items {
        let flag = a.split('=').next().unwrap_or(a);
        if harness_flags.contains(&flag) {
            ok = false;
            p.at(
                span.clone(),
                &field,
                format!("{flag} is set by isobench from the suite (durations, rate, iterations): remove it"),
            );
        }
    }
    let args: Vec<String> = items.iter().map(|(a, _)| a.to_string()).collect();
    if let (true, Some(w)) = (ok, workload)
        && let Err(e) = super::run_args::check(w, &args)
    {
        ok = false;
        let at = t
            .get("args")
            .or_else(|| t.get("workload"))
            .map_or(t.span(), |f| f.span);
        p.at(at, &field, format!("{w} refuses these arguments: {e}"));
    }
    ok.then_some(args)
}

/// `namespaces = ["pid", "mnt", ...]` (`[]` is none).
fn namespaces(t: Table<'_, '_>, p: &mut Problems) -> Option<NamespaceSet> {
    let items = t.strings("namespaces", p)?;
    let mut valid = Vec::new();
    for (n, span) in items {
        if !n.contains(',') && crate::startup::variant::parse_namespaces(n).is_ok() {
            valid.push(n);
        } else {
            p.at(
                span,
                "scenario.namespaces",
                format!(
                    "unknown namespace {n:?}: expected one of pid, mnt, uts, ipc, net, cgroup, user"
                ),
            );
        }
    }
    if valid.is_empty() {
        return Some(NamespaceSet::default());
    }
    crate::startup::variant::parse_namespaces(&valid.join(",")).ok()
}

/// `conditions = ["solo", "contended", "isolated"]`: known, unique, with solo.
/// A scenario without a neighbour (`neighbours` false) measures what the
/// victim's own limits cost it: solo and isolated, by default and at most
/// (contended would be solo again).
fn conditions(t: Table<'_, '_>, neighbours: bool, p: &mut Problems) -> Vec<Condition> {
    let Some(items) = t.strings("conditions", p) else {
        return if neighbours {
            Condition::ALL.to_vec()
        } else {
            vec![Condition::Solo, Condition::Isolated]
        };
    };
    let names: Vec<&str> = Condition::ALL.iter().map(|c| c.as_str()).collect();
    let mut out = Vec::new();
    for (c, span) in items {
        match Condition::ALL.iter().find(|k| k.as_str() == c) {
            Some(k) if out.contains(k) => {
                p.at(span, "scenario.conditions", format!("{c:?} is given twice"))
            }
            Some(Condition::Contended) if !neighbours => p.at(
                span,
                "scenario.conditions",
                "\"contended\" needs a neighbour: this scenario has no [[scenario.aggressor]], so it runs \
                 solo and isolated (what the victim's own limits cost it); add an aggressor or drop \"contended\"",
            ),
            Some(k) => out.push(*k),
            None => p.at(
                span,
                "scenario.conditions",
                format!(
                    "unknown condition {c:?}: expected some of {}",
                    names.join(", ")
                ),
            ),
        }
    }
    if !out.contains(&Condition::Solo) {
        p.at(
            t.get("conditions").map_or(t.span(), |f| f.span),
            "scenario.conditions",
            "`solo` is missing: the victim's retained throughput and latency impact are relative to it",
        );
    }
    out.sort();
    out
}

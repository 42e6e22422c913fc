//! `isobench suite show` and `suite check`.

use super::{EXIT_ERROR, load_suite};
use crate::cgroup::Layout;
use crate::run::Refused;
use crate::scenario::expected::Expected;
use crate::suite::{IsolationDef, Kind};
use anyhow::{Context, Result};
use std::io::Write;
use std::process::ExitCode;

/// Prints an embedded suite's TOML.
///
/// # Errors
/// An unknown suite name (the embedded ones listed).
pub fn suite_show(name: &str) -> Result<ExitCode> {
    let Some(text) = crate::suite::embedded_text(name) else {
        let names: Vec<&str> = crate::suite::EMBEDDED.iter().map(|(n, _)| *n).collect();
        return Err(Refused(format!(
            "unknown suite {name:?}: the embedded suites are {}",
            names.join(", ")
        ))
        .into());
    };
    std::io::stdout()
        .lock()
        .write_all(text.as_bytes())
        .context("writing the suite to stdout")?;
    Ok(ExitCode::SUCCESS)
}

/// Checks a suite; on success, says what it runs, how long it takes and what
/// each sandbox's limits become on this host.
pub fn suite_check(file: &str) -> Result<ExitCode> {
    let (suite, host) = match load_suite(file) {
        Ok(ok) => ok,
        Err(Refused(e)) => {
            eprintln!("{}", e.trim_start_matches("--suite: "));
            return Ok(ExitCode::from(EXIT_ERROR));
        }
    };
    let cgroup_host = crate::cgroup::CgroupHost::discover().ok();
    let mut out = std::io::stdout().lock();
    let estimate = crate::plan::estimate_s(&suite, Some(host.layout)).round() as u64;
    writeln!(
        out,
        "{}: ok: suite {}, {} scenario{}, about {} min {:02} s on 2 CPUs",
        suite.origin,
        suite.name,
        suite.scenarios.len(),
        if suite.scenarios.len() == 1 { "" } else { "s" },
        estimate / 60,
        estimate % 60
    )?;
    for s in &suite.scenarios {
        let t = s.timing;
        let rounds = match s.kind {
            Kind::Isolation(_) | Kind::MemoryPressure(_) => {
                format!(": {} rounds × {} s", t.rounds, t.duration_s)
            }
            Kind::StartupLatency(_) => format!(": {} rounds", t.rounds),
            Kind::Visibility(_) | Kind::MemoryHighStall => String::new(),
        };
        writeln!(out, "  {} ({}){rounds}", s.name, s.kind.as_str())?;
        for (sandbox, what) in commands_of(&s.kind) {
            writeln!(out, "    {sandbox}: {what}")?;
        }
        if let Kind::Isolation(iso) = &s.kind
            && !iso.groups.is_empty()
        {
            writeln!(
                out,
                "    groups when isolated: {}",
                group_paths(iso).join(", ")
            )?;
            for g in &iso.groups {
                if let Some(k) = &g.kubelet {
                    writeln!(
                        out,
                        "    group {}: kubelet {}: {} shares from {} milliCPU; on cgroup v2 as cpu.weight by the {} formula, {}",
                        g.name,
                        k.level.as_str(),
                        k.cpu_shares,
                        k.cpu_milli,
                        k.weight_formula.as_str(),
                        k.weight_formula_text
                    )?;
                }
            }
        }
        for (sandbox, limits) in crate::suite::limits_of(&s.kind) {
            if let Some(qos) = &limits.qos {
                writeln!(out, "    {sandbox}: Kubernetes QoS class {qos}")?;
            }
            for (file, value) in &limits.files {
                writeln!(out, "    {sandbox}: {file} = {value}")?;
            }
            for (key, reason) in &limits.not_written {
                writeln!(out, "    {sandbox}: {key}: not written ({reason})")?;
            }
        }
        if let Kind::Isolation(iso) = &s.kind {
            phase_lines(&mut out, iso, host.layout)?;
            expected_lines(&mut out, iso, host.layout)?;
            for f in cgroup_host
                .iter()
                .flat_map(|h| crate::scenario::protection::findings(iso, h))
            {
                writeln!(out, "    warning: {f}")?;
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Every group of `iso` as its path from the arena (`kubepods/burstable/pod`).
fn group_paths(iso: &IsolationDef) -> Vec<String> {
    iso.groups
        .iter()
        .map(|g| {
            let mut path = vec![g.name.as_str()];
            let mut at = g.parent.as_deref();
            while let Some(p) = at.filter(|_| path.len() <= iso.groups.len()) {
                path.push(p);
                at = iso
                    .groups
                    .iter()
                    .find(|x| x.name == p)
                    .and_then(|x| x.parent.as_deref());
            }
            path.reverse();
            path.join("/")
        })
        .collect()
}

/// Each phased aggressor of `iso`: its pattern and the file that will apply it
/// on this host's `layout`; the victim's slices.
fn phase_lines(out: &mut impl Write, iso: &IsolationDef, layout: Layout) -> std::io::Result<()> {
    let file = match layout {
        Layout::V2 => crate::cgroup::freezer::CGROUP_FREEZE,
        _ => crate::cgroup::freezer::FREEZER_STATE,
    };
    for a in &iso.aggressors {
        if let Some(p) = &a.phase {
            let by = if p.freezes() { file } else { "its own pacing" };
            writeln!(out, "    {}: phases {}, by {by}", a.name, p.describe())?;
        }
    }
    if let Some(ms) = iso.slice_ms() {
        writeln!(out, "    victim: latency per {ms} ms slice")?;
    }
    Ok(())
}

/// The CPU shares `iso`'s sandboxes and groups should get when isolated on
/// this host: one line of the known ones, one per unknown with its reason.
fn expected_lines(out: &mut impl Write, iso: &IsolationDef, layout: Layout) -> std::io::Result<()> {
    let cpus = isobench_workloads::cpu_hog::cpus_allowed();
    let e = crate::scenario::isolation::expected_shares(iso, cpus, layout);
    let all: Vec<(String, &Expected)> = e
        .groups
        .iter()
        .map(|(n, x)| (format!("group {n}"), x))
        .chain(e.sandboxes.iter().map(|(n, x)| (n.clone(), x)))
        .collect();
    let known: Vec<String> = all
        .iter()
        .filter_map(|(n, x)| Some(format!("{n} {:.3}", x.cpus()?)))
        .collect();
    if !known.is_empty() {
        writeln!(
            out,
            "    expected CPU shares when isolated, of {cpus} CPUs: {}",
            known.join(", ")
        )?;
    }
    for (n, x) in &all {
        if let Some(why) = x.reason() {
            writeln!(out, "    {n}: expected CPU share unknown: {why}")?;
        }
    }
    Ok(())
}

/// Each sandbox of an isolation scenario that runs a command: its name and
/// `runs /usr/bin/gzip -9 -c big.file` (the mode, the program found, its arguments).
fn commands_of(kind: &Kind) -> Vec<(String, String)> {
    use crate::suite::{AggressorWorkload, CommandDef, VictimWorkload};
    let Kind::Isolation(iso) = kind else {
        return Vec::new();
    };
    let line = |c: &CommandDef| {
        std::iter::once(c.program.display().to_string())
            .chain(c.argv.iter().skip(1).map(|a| {
                if a.is_empty() || a.contains(|ch: char| ch.is_whitespace() || ch == '"') {
                    format!("{a:?}")
                } else {
                    a.clone()
                }
            }))
            .collect::<Vec<_>>()
            .join(" ")
    };
    let victim = match &iso.victim.workload {
        VictimWorkload::Command { command, mode } => Some((
            "victim".to_string(),
            format!("{} {}", mode.as_str(), line(command)),
        )),
        _ => None,
    };
    victim
        .into_iter()
        .chain(iso.aggressors.iter().filter_map(|a| match &a.workload {
            AggressorWorkload::Command(c) => Some((a.name.clone(), format!("command {}", line(c)))),
            AggressorWorkload::Applet { .. } => None,
        }))
        .collect()
}

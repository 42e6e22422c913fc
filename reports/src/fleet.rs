//! The fleet document (`fleet.json`) that `isobench merge` writes: many hosts'
//! runs of the same scenarios, grouped by fingerprint class, with each host's
//! verdict and headline figures, the share of hosts protected, the worst hosts
//! and the spread of each figure across hosts.
//!
//! Figures are never pooled across fingerprint classes (kernel, cgroup layout,
//! CPU model, CPU count, virtualised): a class is a population of its own, and
//! one statistic over two populations answers no question. With `pooled`
//! (`isobench merge --pool-classes`) every scenario has one group over all hosts,
//! and the document and both renderings say so.
//!
//! The spread across hosts is the minimum, median and maximum of each host's
//! mean over its own rounds; it is a description of the fleet, not a
//! confidence interval (the hosts are not samples of one distribution).

use crate::metric_names::{
    AGGRESSOR_CPU_SHARE, STARTUP_OVERHEAD_RATIO, STARTUP_SANDBOX_P99, VICTIM_PSI_MEMORY_FULL,
    aggressor_sandboxes,
};
use crate::schema::{
    Condition, EnvironmentKind, HostFingerprint, Results, ScenarioResult, VerdictKind,
};
use crate::units::{Notes, Rule, metric_cells};
use serde::{Deserialize, Serialize};

/// Version of this document's schema.
pub const FLEET_VERSION: u32 = 1;

/// Most hosts listed as the worst of a scenario's group.
pub const WORST_HOSTS: usize = 3;

/// The victim metrics shown as headline figures, in this order, where a
/// scenario has them: the latency impact and retained throughput the isolated
/// victim kept (docs/verdict.md), its memory stalls, and startup latency.
const HEADLINE_METRICS: [(&str, Option<Condition>); 5] = [
    ("victim.latency_impact_p99", Some(Condition::Isolated)),
    ("victim.retained_throughput", Some(Condition::Isolated)),
    (VICTIM_PSI_MEMORY_FULL, Some(Condition::Isolated)),
    (STARTUP_SANDBOX_P99, None),
    (STARTUP_OVERHEAD_RATIO, None),
];

/// One run to merge: where it came from and what it holds.
#[derive(Debug, Clone)]
pub struct FleetRun {
    /// The host's name in the report: the results file's directory name
    /// (`nodes/node-a/results.json` → `node-a`), or its path.
    pub host: String,
    /// The results file, as given.
    pub path: String,
    /// The run, with every verdict derived from its rounds.
    pub results: Results,
}

/// A results file left out of the merge, and why.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Excluded {
    /// The file, as given.
    pub path: String,
    /// Why, in one sentence: unreadable, invalid JSON, another schema version,
    /// a duplicate of a run already merged, or no scenario in common.
    pub reason: String,
}

/// One merged fleet.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Fleet {
    /// [`FLEET_VERSION`].
    pub schema_version: u32,
    /// Figures pooled across fingerprint classes (`--pool-classes`).
    pub pooled: bool,
    /// The fingerprint classes, in order of first appearance.
    pub classes: Vec<FleetClass>,
    /// The runs merged, in the order given.
    pub hosts: Vec<FleetHost>,
    /// The files left out, with the reason.
    pub excluded: Vec<Excluded>,
    /// Every scenario of any merged run, in order of first appearance.
    pub scenarios: Vec<FleetScenario>,
}

/// A fingerprint class: hosts that agree on these fields are comparable.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct FleetClass {
    /// `class-1`, `class-2`, … in order of first appearance.
    pub id: String,
    /// `uname -r`.
    pub kernel: String,
    /// Cgroup layout: `v1`, `v2` or `hybrid`.
    pub layout: String,
    /// CPU model, or null where the host has none.
    pub cpu_model: Option<String>,
    /// Online CPUs.
    pub cpus: usize,
    /// Whether the host is a virtual machine.
    pub virtualised: bool,
    /// Whether isobench ran in a container (`host.environment.kind`): there
    /// the harness's own cgroup and limits are the runtime's, so such runs are
    /// a class of their own. False for results that recorded no environment
    /// (written before isobench looked; a container then went unseen).
    #[serde(default)]
    pub in_container: bool,
}

impl FleetClass {
    /// The class `host` belongs to, with id `id`.
    fn of(host: &HostFingerprint, id: String) -> FleetClass {
        FleetClass {
            id,
            kernel: host.kernel.clone(),
            layout: host.layout.clone(),
            cpu_model: host.cpu_model.clone(),
            cpus: host.cpus,
            virtualised: host.virtualised,
            in_container: host
                .environment
                .as_ref()
                .is_some_and(|e| e.kind == EnvironmentKind::Container),
        }
    }

    /// Whether `host` belongs to this class.
    fn holds(&self, host: &HostFingerprint) -> bool {
        *self == FleetClass::of(host, self.id.clone())
    }

    /// One line, e.g. `kernel 6.1.0-27-amd64 · cgroup v2 · AMD EPYC · 2 CPUs ·
    /// virtualised`, with ` · in a container` where the runs were.
    pub fn describe(&self) -> String {
        format!(
            "kernel {} · cgroup {} · {} · {} CPUs · {}{}",
            self.kernel,
            self.layout,
            self.cpu_model.as_deref().unwrap_or("CPU model unavailable"),
            self.cpus,
            if self.virtualised {
                "virtualised"
            } else {
                "bare metal"
            },
            if self.in_container {
                " · in a container"
            } else {
                ""
            }
        )
    }
}

/// One merged run.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct FleetHost {
    /// The host's name (see [`FleetRun::host`]).
    pub host: String,
    /// The results file.
    pub path: String,
    /// Its run id.
    pub run_id: String,
    /// When it started, RFC 3339.
    pub started_at: String,
    /// Its fingerprint class's id.
    pub class: String,
}

/// One scenario across the fleet.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct FleetScenario {
    /// Scenario name.
    pub name: String,
    /// One group per fingerprint class with a run of the scenario, or one over
    /// all hosts when pooled.
    pub groups: Vec<ScenarioGroup>,
}

/// A scenario's hosts of one class (or of the whole fleet when pooled).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ScenarioGroup {
    /// The class's id, or null when pooled across classes.
    pub class: Option<String>,
    /// Each host's answer, in the order given.
    pub hosts: Vec<HostScenario>,
    /// How many hosts gave each answer.
    pub tally: Tally,
    /// The worst hosts (at most [`WORST_HOSTS`]), worst first, by host name:
    /// not protected before partly protected before no interference before
    /// protected, then by the larger isolated excess of the first victim
    /// measure. Invalid and measured verdicts are never ranked, nor a protected
    /// host without a victim measure (a checks scenario that passed).
    pub worst: Vec<String>,
    /// Each headline figure across the group's hosts that measured it.
    pub spread: Vec<Spread>,
}

/// One host's answer for one scenario.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct HostScenario {
    /// The host's name.
    pub host: String,
    /// Its run id.
    pub run_id: String,
    /// The verdict, or null where none was reached (failed, skipped).
    pub verdict: Option<VerdictKind>,
    /// The verdict line of the single-host report, without the scenario's name.
    pub line: String,
    /// Headline figures, as the single-host report shows them.
    pub figures: Vec<Figure>,
}

/// A headline figure of one host: a metric's mean over the host's rounds and
/// its bootstrap 95 % CI.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Figure {
    /// Metric name, e.g. `victim.latency_impact_p99`, or `checks_passed`.
    pub metric: String,
    /// Condition, or null.
    pub condition: Option<Condition>,
    /// The metric's unit.
    pub unit: String,
    /// The mean; null when unavailable (see `text`).
    pub value: Option<f64>,
    /// Lower bound of its 95 % CI.
    pub lower: Option<f64>,
    /// Upper bound of its 95 % CI.
    pub upper: Option<f64>,
    /// As shown: `+12 % [+8, +16] %`, or `unavailable: <reason>`.
    pub text: String,
}

impl HostScenario {
    /// The verdict and figures in one line: `PARTLY PROTECTED: victim.latency_impact_p99
    /// (isolated) +743 % [+500, +900] %; …`.
    pub fn summary(&self) -> String {
        let verdict = self
            .verdict
            .map_or("NO VERDICT".to_owned(), |v| v.words().to_uppercase());
        let figures: Vec<String> = self
            .figures
            .iter()
            .map(|f| format!("{} {}", f.label(), f.text))
            .collect();
        if figures.is_empty() {
            verdict
        } else {
            format!("{verdict}: {}", figures.join("; "))
        }
    }
}

impl Figure {
    /// The figure's label: metric and condition, e.g. `victim.latency_impact_p99 (isolated)`.
    pub fn label(&self) -> String {
        match self.condition {
            Some(c) => format!("{} ({c})", self.metric),
            None => self.metric.clone(),
        }
    }
}

/// How many of a group's hosts gave each answer.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Tally {
    /// Hosts in the group.
    pub hosts: usize,
    /// PROTECTED.
    pub protected: usize,
    /// PARTLY PROTECTED.
    pub partly_protected: usize,
    /// NOT PROTECTED.
    pub not_protected: usize,
    /// NO INTERFERENCE TO REMOVE.
    pub no_interference: usize,
    /// MEASURED (a cost without an isolation question).
    pub measured: usize,
    /// INVALID: counted apart, never as protected nor in the share's denominator.
    pub invalid: usize,
    /// No verdict (failed or skipped scenario).
    pub no_verdict: usize,
    /// `protected / judged`, where judged are the hosts with a verdict of
    /// protected, partly protected, not protected or no interference; null
    /// when no host was judged.
    pub protected_share: Option<f64>,
}

impl Tally {
    /// Counts `verdicts`.
    fn of<'a>(verdicts: impl Iterator<Item = Option<&'a VerdictKind>>) -> Tally {
        let mut t = Tally::default();
        for v in verdicts {
            t.hosts += 1;
            match v {
                Some(VerdictKind::Protected) => t.protected += 1,
                Some(VerdictKind::PartlyProtected) => t.partly_protected += 1,
                Some(VerdictKind::NotProtected) => t.not_protected += 1,
                Some(VerdictKind::NoInterference) => t.no_interference += 1,
                Some(VerdictKind::Measured) => t.measured += 1,
                Some(VerdictKind::Invalid) => t.invalid += 1,
                None => t.no_verdict += 1,
            }
        }
        let judged = t.protected + t.partly_protected + t.not_protected + t.no_interference;
        t.protected_share = (judged > 0).then(|| t.protected as f64 / judged as f64);
        t
    }

    /// Hosts judged: protected, partly, not protected or no interference.
    pub fn judged(&self) -> usize {
        self.protected + self.partly_protected + self.not_protected + self.no_interference
    }

    /// One line, e.g. `protected on 3 of 4 judged hosts (75 %); 1 invalid, not counted`.
    pub fn summary(&self) -> String {
        let mut parts = vec![match self.protected_share {
            Some(share) => format!(
                "protected on {} of {} judged host(s) ({})",
                self.protected,
                self.judged(),
                Rule::Percent.text(share)
            ),
            None => "no host judged".to_owned(),
        }];
        for (n, words) in [
            (self.partly_protected, "partly protected"),
            (self.not_protected, "not protected"),
            (self.no_interference, "no interference to remove"),
            (self.measured, "measured (no isolation question)"),
            (self.invalid, "invalid, not counted"),
            (self.no_verdict, "without a verdict"),
        ] {
            if n > 0 {
                parts.push(format!("{n} {words}"));
            }
        }
        parts.join("; ")
    }
}

/// One headline figure across a group's hosts.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Spread {
    /// Metric name.
    pub metric: String,
    /// Condition, or null.
    pub condition: Option<Condition>,
    /// Hosts with a value.
    pub hosts: usize,
    /// Hosts whose figure is unavailable (not counted in the spread).
    pub unavailable: usize,
    /// Smallest host mean, and the host.
    pub min: (f64, String),
    /// Median of the host means (the mean of the middle two for an even count).
    pub median: f64,
    /// Largest host mean, and the host.
    pub max: (f64, String),
    /// As shown: `median ×1.05; ×0.98 (node-a) to ×1.40 (node-c)`.
    pub text: String,
}

impl Fleet {
    /// Merges `runs` (already checked: one per run id, one schema version), with
    /// the files left out, into one fleet; `pooled` puts every host of a
    /// scenario into one group instead of one group per fingerprint class.
    pub fn build(runs: &[FleetRun], excluded: Vec<Excluded>, pooled: bool) -> Fleet {
        let mut classes: Vec<FleetClass> = Vec::new();
        let mut hosts = Vec::new();
        for run in runs {
            let class = match classes.iter().find(|c| c.holds(&run.results.host)) {
                Some(c) => c.id.clone(),
                None => {
                    let id = format!("class-{}", classes.len() + 1);
                    classes.push(FleetClass::of(&run.results.host, id.clone()));
                    id
                }
            };
            hosts.push(FleetHost {
                host: run.host.clone(),
                path: run.path.clone(),
                run_id: run.results.run_id.clone(),
                started_at: run.results.started_at.clone(),
                class,
            });
        }
        let mut names: Vec<&str> = Vec::new();
        for s in runs.iter().flat_map(|r| &r.results.scenarios) {
            if !names.contains(&s.name.as_str()) {
                names.push(&s.name);
            }
        }
        let scenarios = names
            .into_iter()
            .map(|name| {
                let group_keys: Vec<Option<&str>> = if pooled {
                    vec![None]
                } else {
                    classes.iter().map(|c| Some(c.id.as_str())).collect()
                };
                let groups = group_keys
                    .into_iter()
                    .filter_map(|class| {
                        let members: Vec<(&FleetRun, &ScenarioResult)> = runs
                            .iter()
                            .zip(&hosts)
                            .filter(|(_, h)| class.is_none_or(|c| h.class == c))
                            .filter_map(|(r, _)| {
                                r.results
                                    .scenarios
                                    .iter()
                                    .find(|s| s.name == name)
                                    .map(|s| (r, s))
                            })
                            .collect();
                        (!members.is_empty())
                            .then(|| ScenarioGroup::of(class.map(str::to_owned), &members))
                    })
                    .collect();
                FleetScenario {
                    name: name.to_owned(),
                    groups,
                }
            })
            .collect();
        Fleet {
            schema_version: FLEET_VERSION,
            pooled,
            classes,
            hosts,
            excluded,
            scenarios,
        }
    }

    /// The worst hosts of `group` with their answers, worst first.
    pub fn worst<'a>(group: &'a ScenarioGroup) -> impl Iterator<Item = &'a HostScenario> + 'a {
        group
            .worst
            .iter()
            .filter_map(|w| group.hosts.iter().find(|h| &h.host == w))
    }

    /// The merged runs of class `id`, in the order given.
    pub fn hosts_of<'a>(&'a self, id: &'a str) -> impl Iterator<Item = &'a FleetHost> + 'a {
        self.hosts.iter().filter(move |h| h.class == id)
    }

    /// The class with id `id`.
    pub fn class(&self, id: &str) -> Option<&FleetClass> {
        self.classes.iter().find(|c| c.id == id)
    }

    /// What a group stands for: `class-1 (kernel … · …)`, or `all hosts,
    /// pooled across 2 classes (--pool-classes)`.
    pub fn group_title(&self, group: &ScenarioGroup) -> String {
        match group.class.as_deref().and_then(|id| self.class(id)) {
            Some(c) => format!("{}: {}", c.id, c.describe()),
            None => format!(
                "all hosts, pooled across {} fingerprint class(es) (--pool-classes)",
                self.classes.len()
            ),
        }
    }
}

impl ScenarioGroup {
    /// The group of `members` (each a run and its result of this scenario).
    fn of(class: Option<String>, members: &[(&FleetRun, &ScenarioResult)]) -> ScenarioGroup {
        let hosts: Vec<HostScenario> = members
            .iter()
            .map(|(run, s)| HostScenario {
                host: run.host.clone(),
                run_id: run.results.run_id.clone(),
                verdict: s.verdict.as_ref().map(|v| v.kind),
                line: scenario_line(s),
                figures: headline_figures(s),
            })
            .collect();
        let tally = Tally::of(hosts.iter().map(|h| h.verdict.as_ref()));
        let mut ranked: Vec<(u8, f64, &str)> = members
            .iter()
            .filter_map(|(run, s)| {
                let v = s.verdict.as_ref()?;
                let rank = match v.kind {
                    VerdictKind::NotProtected => 0,
                    VerdictKind::PartlyProtected => 1,
                    VerdictKind::NoInterference => 2,
                    VerdictKind::Protected => 3,
                    VerdictKind::Invalid | VerdictKind::Measured => return None,
                };
                let excess = v.measures.first().map(|m| m.isolated_excess.value);
                // A protected host with no measure to rank it by is nobody's worst.
                if rank == 3 && excess.is_none() {
                    return None;
                }
                Some((rank, excess.unwrap_or(f64::NEG_INFINITY), run.host.as_str()))
            })
            .collect();
        ranked.sort_by(|a, b| a.0.cmp(&b.0).then(b.1.total_cmp(&a.1)));
        let worst = ranked
            .into_iter()
            .take(WORST_HOSTS)
            .map(|(_, _, h)| h.to_owned())
            .collect();
        let spread = spreads(&hosts);
        ScenarioGroup {
            class,
            hosts,
            tally,
            worst,
            spread,
        }
    }
}

/// The verdict line of the single-host report for `scenario`, without its name.
fn scenario_line(scenario: &ScenarioResult) -> String {
    let line = crate::verdict::scenario_line(scenario);
    line.strip_prefix(&format!("{}: ", scenario.name))
        .map_or(line.clone(), str::to_owned)
}

/// The headline figures of `scenario`: the checks passed (a checks scenario),
/// the victim metrics of [`HEADLINE_METRICS`] it has, and each aggressor
/// sandbox's isolated CPU share; each as the metric tables show it.
pub fn headline_figures(scenario: &ScenarioResult) -> Vec<Figure> {
    let mut figures = Vec::new();
    if !scenario.checks.is_empty() {
        let passed = scenario.checks.iter().filter(|c| c.passed).count();
        figures.push(Figure {
            metric: "checks_passed".into(),
            condition: None,
            unit: "count".into(),
            value: Some(passed as f64),
            lower: None,
            upper: None,
            text: format!("{passed} of {}", scenario.checks.len()),
        });
    }
    let aggressors: Vec<String> = aggressor_sandboxes(scenario)
        .into_iter()
        .map(|s| AGGRESSOR_CPU_SHARE.replacen("aggressor", s, 1))
        .collect();
    let wanted = HEADLINE_METRICS.iter().map(|&(n, c)| (n, c)).chain(
        aggressors
            .iter()
            .map(|n| (n.as_str(), Some(Condition::Isolated))),
    );
    for (name, condition) in wanted {
        let Some(metric) = Results::metric(scenario, name, condition) else {
            continue;
        };
        let mut notes = Notes::default();
        let cells = metric_cells(metric, &mut notes);
        let text = match (metric.value, metric.reason.as_deref()) {
            (None, Some(reason)) => format!("unavailable: {reason}"),
            (None, None) => "unavailable".to_owned(),
            (Some(_), _) if cells.ci == "—" => cells.value,
            (Some(_), _) => format!("{} {}", cells.value, cells.ci),
        };
        figures.push(Figure {
            metric: metric.name.clone(),
            condition: metric.condition,
            unit: metric.unit.clone(),
            value: metric.value,
            lower: metric.lower,
            upper: metric.upper,
            text,
        });
    }
    figures
}

/// Each headline figure's spread over `hosts`, in the order first met.
fn spreads(hosts: &[HostScenario]) -> Vec<Spread> {
    let mut keys: Vec<(&str, Option<Condition>, &str)> = Vec::new();
    for f in hosts.iter().flat_map(|h| &h.figures) {
        if !keys.iter().any(|k| k.0 == f.metric && k.1 == f.condition) {
            keys.push((&f.metric, f.condition, &f.unit));
        }
    }
    keys.into_iter()
        .filter_map(|(metric, condition, unit)| {
            let found: Vec<(&str, Option<f64>)> = hosts
                .iter()
                .filter_map(|h| {
                    h.figures
                        .iter()
                        .find(|f| f.metric == metric && f.condition == condition)
                        .map(|f| (h.host.as_str(), f.value))
                })
                .collect();
            let mut values: Vec<(f64, &str)> = found
                .iter()
                .filter_map(|&(h, v)| v.map(|v| (v, h)))
                .collect();
            values.sort_by(|a, b| a.0.total_cmp(&b.0));
            let (first, last) = (values.first()?, values.last()?);
            let n = values.len();
            let median = if n % 2 == 1 {
                values[n / 2].0
            } else {
                (values[n / 2 - 1].0 + values[n / 2].0) / 2.0
            };
            let rule = Rule::for_metric(metric, unit);
            let text = if n == 1 {
                format!("{} (one host: {})", rule.text(first.0), first.1)
            } else {
                format!(
                    "median {}; {} ({}) to {} ({})",
                    rule.text(median),
                    rule.text(first.0),
                    first.1,
                    rule.text(last.0),
                    last.1
                )
            };
            Some(Spread {
                metric: metric.to_owned(),
                condition,
                hosts: n,
                unavailable: found.len() - n,
                min: (first.0, first.1.to_owned()),
                median,
                max: (last.0, last.1.to_owned()),
                text,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_invalid_verdict_is_counted_apart_never_as_protected() {
        let kinds = [
            Some(VerdictKind::Protected),
            Some(VerdictKind::Invalid),
            Some(VerdictKind::NotProtected),
            None,
        ];
        let t = Tally::of(kinds.iter().map(Option::as_ref));
        assert_eq!(
            (t.hosts, t.protected, t.invalid, t.no_verdict),
            (4, 1, 1, 1)
        );
        assert_eq!(t.judged(), 2);
        assert_eq!(t.protected_share, Some(0.5));
        assert_eq!(
            t.summary(),
            "protected on 1 of 2 judged host(s) (50 %); 1 not protected; 1 invalid, not counted; 1 without a verdict"
        );
    }

    #[test]
    fn a_group_of_invalid_hosts_has_no_share_protected() {
        let t = Tally::of([Some(&VerdictKind::Invalid)].into_iter());
        assert_eq!(t.protected_share, None);
        assert_eq!(t.summary(), "no host judged; 1 invalid, not counted");
    }

    #[test]
    fn a_run_in_a_container_is_a_class_apart_from_one_on_the_host() {
        let results: Results = serde_json::from_str(include_str!(
            "../../harness/tests/fixtures/results/quick-a.json"
        ))
        .unwrap();
        let mut host = results.host.clone();
        let on_host = FleetClass::of(&host, "class-1".into());
        host.environment = Some(crate::schema::Environment {
            kind: EnvironmentKind::Container,
            runtime: Some("podman 4.3.1".into()),
            orchestrator: None,
            evidence: vec!["/run/.containerenv exists".into()],
        });
        assert!(!on_host.holds(&host));
        let inside = FleetClass::of(&host, "class-2".into());
        assert!(
            inside.describe().ends_with(" · in a container"),
            "{}",
            inside.describe()
        );
        assert!(!on_host.describe().contains("container"));
    }
}

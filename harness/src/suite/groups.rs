//! `[[scenario.group]]` of an isolation scenario: named cgroups between the
//! arena and the sandboxes, nested through `parent`, each with limits in one
//! vocabulary or the ones the kubelet writes for its level (`kubelet`).
//!
//! Checked here, each problem at its place in the file: names (unique among
//! groups and sandboxes), parents that exist, no cycle, at most
//! [`MAX_GROUP_DEPTH`] levels, sandboxes naming groups that exist, no group
//! without a sandbox beneath it, and no child asking for more than an
//! ancestor allows (a CPU quota, a cpuset, a memory or pids limit): cgroup v1
//! refuses a child's CPU quota above its parent's with EINVAL
//! (Documentation/scheduler/sched-bwc.rst, "Hierarchical considerations";
//! kernel/sched/core.c `tg_cfs_schedulable_down`), and on v2 such a limit is
//! written but never binds (Documentation/admin-guide/cgroup-v2.rst,
//! "Limits": a child's limit is bounded by its parent's).
//!
//! A `kubelet` group gets what the kubelet writes (pkg/kubelet/cm):
//! `node` is `kubepods`, `cpu.shares` = `MilliCPUToShares(allocatable)`
//! (node_container_manager_linux.go); `burstable` is `kubepods/burstable`,
//! the shares of its pods' summed CPU requests, and `besteffort` 2 shares
//! (qos_container_manager_linux.go); `pod` gets the shares of its containers'
//! summed requests, and their summed CPU quota and memory limit when every
//! container has one (helpers_linux.go `ResourceConfigForPod`). On cgroup v2
//! the shares become `cpu.weight` by the group's `weight_formula`.

use super::error::{Problems, Span};
use super::limits::{self, HostFacts};
use super::model::{GroupDef, KubeletDef, KubeletLevel, LimitsDef, MAX_GROUP_DEPTH};
use super::reader::{Table, did_you_mean};
use crate::cgroup::{CpuMax, CpuWeight, Layout, Limit, Limits, MemoryKnob, MemorySetting};
use crate::cgroup::{FileWrite, SharesFormula};
use crate::vocabulary::{self, ContainerResources};

/// Keys of a `[[scenario.group]]` table.
const KEYS: [&str; 4] = ["name", "parent", "limits", "kubelet"];

/// Keys of a group's `kubelet` table.
const KUBELET_KEYS: [&str; 3] = ["level", "allocatable_cpu", "weight_formula"];

/// A sandbox of the scenario as the groups see it: its name, the group it
/// names (with where), and its limits (with where).
pub(super) struct Member<'d> {
    /// `victim`, or the aggressor's name.
    pub name: String,
    /// `group = "..."`, if given.
    pub group: Option<(String, Span)>,
    /// Its limits.
    pub limits: &'d LimitsDef,
    /// Where its `limits` are, else its table.
    pub at: Span,
}

/// A group as read, before the checks that span groups.
struct Raw {
    name: String,
    name_at: Span,
    parent: Option<(String, Span)>,
    limits: LimitsDef,
    /// Where its `limits` or `kubelet` table is, else its name.
    limits_at: Span,
    kubelet: Option<RawKubelet>,
}

/// Where the limits of a victim, aggressor or group table are: the value of
/// its vocabulary's table (`{` of `limits.docker = { cpus = 1 }`), else its
/// `limits`, else the table itself.
pub(super) fn limits_at(t: Table<'_, '_>) -> Span {
    let Some(f) = t.get("limits") else {
        return t.span();
    };
    let inner = f.value.as_table().and_then(|l| {
        ["cgroup", "docker", "kubernetes"]
            .iter()
            .find_map(|k| l.get(*k))
            .map(|v| v.span())
    });
    inner.unwrap_or(f.span)
}

/// A `kubelet` table as read.
struct RawKubelet {
    level: KubeletLevel,
    /// The node's allocatable CPU as given, then the milliCPU the shares came from.
    cpu_milli: Option<u64>,
    /// The shares derived, once derived.
    cpu_shares: u64,
    formula: SharesFormula,
    /// The words as written, for the results.
    words: Vec<(String, String)>,
}

/// Reads the `[[scenario.group]]` tables of isolation scenario `t` and checks
/// them against its sandboxes `members`; returns the groups, parents first.
pub(super) fn read(
    t: Table<'_, '_>,
    members: &[Member<'_>],
    host: &HostFacts,
    p: &mut Problems,
) -> Vec<GroupDef> {
    let tables = t.tables("group", "scenario.group", p);
    let mut raws: Vec<Raw> = tables
        .iter()
        .filter_map(|g| read_one(*g, host, p))
        .collect();
    check_names(&raws, members, p);
    for m in members {
        if let Some((g, at)) = &m.group
            && !raws.iter().any(|r| &r.name == g)
        {
            unknown(
                g,
                at.clone(),
                &raws,
                &format!("scenario.{}.group", role(m)),
                p,
            );
        }
    }
    let order = ordered(&raws, p);
    derive_kubelet(&mut raws, &order, members, host, p);
    let groups = order
        .iter()
        .map(|&i| {
            let r = &raws[i];
            GroupDef {
                name: r.name.clone(),
                parent: r.parent.as_ref().map(|(n, _)| n.clone()),
                limits: r.limits.clone(),
                kubelet: r.kubelet.as_ref().map(|k| kubelet_def(k, &r.limits)),
            }
        })
        .collect();
    check_within_parents(&raws, members, p);
    check_not_empty(&raws, members, p);
    groups
}

/// `victim`, `aggressor` or `cpu_view`, for field paths.
fn role(m: &Member<'_>) -> &'static str {
    match m.name.as_str() {
        "victim" => "victim",
        "cpu-view" => "cpu_view",
        _ => "aggressor",
    }
}

/// One `[[scenario.group]]` table.
fn read_one(g: Table<'_, '_>, host: &HostFacts, p: &mut Problems) -> Option<Raw> {
    g.only(&KEYS, p);
    let name = g.required_str("name", p, "a group name such as \"kubepods\"");
    if let Some((n, span)) = &name
        && !super::parse::valid_name(n)
    {
        p.at(
            span.clone(),
            "scenario.group.name",
            format!("{n:?} is not a group name: expected 1 to 64 of a-z, 0-9 and -, starting with a letter"),
        );
    }
    let parent = g.str("parent", p).map(|(s, at)| (s.to_string(), at));
    let limits = g
        .table("limits", "scenario.group.limits", p)
        .map(|l| limits::read(l, host, p))
        .unwrap_or_default();
    let kubelet = g
        .table("kubelet", "scenario.group.kubelet", p)
        .and_then(|k| read_kubelet(k, p));
    if let (Some(_), Some(f)) = (g.get("limits"), g.get("kubelet")) {
        p.at(
            f.span,
            "scenario.group.kubelet",
            "a group takes either `limits` or `kubelet` (the limits the kubelet derives), not both",
        );
    }
    let (name, name_at) = name?;
    let limits_at = match g.get("kubelet") {
        Some(f) => f.span,
        None => limits_at(g),
    };
    Some(Raw {
        name: name.to_string(),
        name_at,
        parent,
        limits,
        limits_at,
        kubelet,
    })
}

/// A group's `kubelet = { level = ..., allocatable_cpu = ..., weight_formula = ... }`.
fn read_kubelet(k: Table<'_, '_>, p: &mut Problems) -> Option<RawKubelet> {
    k.only(&KUBELET_KEYS, p);
    let names = KubeletLevel::NAMES.join(", ");
    let level = match k.required_str("level", p, &format!("one of {names}")) {
        Some(("guaranteed", at)) => {
            p.at(
                at,
                "scenario.group.kubelet.level",
                "the kubelet makes no cgroup for the Guaranteed tier: its pods sit directly in \
                 kubepods (a group of level \"node\"); give those pods that group as parent",
            );
            None
        }
        Some((l, at)) => {
            let found = KubeletLevel::from_name(l);
            if found.is_none() {
                let hint = did_you_mean(l, &KubeletLevel::NAMES)
                    .map(|s| format!("did you mean `{s}`? "))
                    .unwrap_or_default();
                p.at(
                    at,
                    "scenario.group.kubelet.level",
                    format!("unknown kubelet level {l:?}; {hint}expected one of {names}"),
                );
            }
            found
        }
        None => None,
    };
    let mut words = vec![];
    if let Some(l) = level {
        words.push(("level".to_string(), l.as_str().to_string()));
    }
    let allocatable_milli = match k.get("allocatable_cpu") {
        None => {
            if level == Some(KubeletLevel::Node) {
                p.at(
                    k.span(),
                    "scenario.group.kubelet.allocatable_cpu",
                    "missing: kubepods gets the shares of the node's allocatable CPU: give it, e.g. allocatable_cpu = \"8\"",
                );
            }
            None
        }
        Some(f) if level.is_some_and(|l| l != KubeletLevel::Node) => {
            p.at(
                f.span,
                "scenario.group.kubelet.allocatable_cpu",
                "only a group of level \"node\" (kubepods) takes the node's allocatable CPU; the other levels sum what sits beneath them",
            );
            None
        }
        Some(f) => {
            let value = limits::plain(f.value);
            let shown = as_written(&value);
            match vocabulary::k8s_milli(&value) {
                Ok(0) => {
                    p.at(
                        f.span,
                        "scenario.group.kubelet.allocatable_cpu",
                        "0 CPU: expected a quantity above 0",
                    );
                    None
                }
                Ok(m) => match u64::try_from(m) {
                    Ok(m) => {
                        words.push(("allocatable_cpu".to_string(), shown));
                        Some(m)
                    }
                    Err(_) => {
                        p.at(
                            f.span,
                            "scenario.group.kubelet.allocatable_cpu",
                            format!("{m}m is too large"),
                        );
                        None
                    }
                },
                Err(e) => {
                    p.at(f.span, "scenario.group.kubelet.allocatable_cpu", e);
                    None
                }
            }
        }
    };
    let formula = match k.str("weight_formula", p) {
        None => SharesFormula::Quadratic,
        Some((f, at)) => match SharesFormula::ALL.iter().find(|x| x.as_str() == f) {
            Some(x) => {
                words.push(("weight_formula".to_string(), f.to_string()));
                *x
            }
            None => {
                p.at(
                    at,
                    "scenario.group.kubelet.weight_formula",
                    format!(
                        "unknown formula {f:?}: expected \"quadratic\" (runc >= 1.3.2: 1024 shares -> weight 100) \
                         or \"linear\" (runc < 1.3.2: 1024 shares -> weight 39)"
                    ),
                );
                SharesFormula::Quadratic
            }
        },
    };
    Some(RawKubelet {
        level: level?,
        cpu_milli: allocatable_milli,
        cpu_shares: MIN_SHARES,
        formula,
        words,
    })
}

/// A TOML value as the user wrote it, without quotes around a string.
fn as_written(v: &toml::Value) -> String {
    match v {
        toml::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Group names unique, and none the name of a sandbox.
fn check_names(raws: &[Raw], members: &[Member<'_>], p: &mut Problems) {
    for (i, r) in raws.iter().enumerate() {
        if raws[..i].iter().any(|o| o.name == r.name) {
            p.at(
                r.name_at.clone(),
                "scenario.group.name",
                format!("{:?} names two groups: each needs its own name", r.name),
            );
        } else if members.iter().any(|m| m.name == r.name) {
            p.at(
                r.name_at.clone(),
                "scenario.group.name",
                format!(
                    "{:?} is the name of a sandbox of this scenario: give the group another name \
                     (groups and sandboxes each name their metrics)",
                    r.name
                ),
            );
        }
    }
}

/// An unknown group name `name` at `at`, with the closest known one.
fn unknown(name: &str, at: Span, raws: &[Raw], field: &str, p: &mut Problems) {
    let known: Vec<&str> = raws.iter().map(|r| r.name.as_str()).collect();
    let hint = did_you_mean(name, &known)
        .map(|s| format!("did you mean `{s}`? "))
        .unwrap_or_default();
    let list = if known.is_empty() {
        "this scenario has no [[scenario.group]]".to_string()
    } else {
        format!("its groups are {}", known.join(", "))
    };
    p.at(at, field, format!("no group {name:?}; {hint}{list}"));
}

/// The groups whose parents all exist, without cycle and within
/// [`MAX_GROUP_DEPTH`], each after its parent; the others are reported.
fn ordered(raws: &[Raw], p: &mut Problems) -> Vec<usize> {
    let index = |name: &str| raws.iter().position(|r| r.name == name);
    let mut bad = vec![false; raws.len()];
    let mut cycle_reported = vec![false; raws.len()];
    for (i, r) in raws.iter().enumerate() {
        let Some((parent, at)) = &r.parent else {
            continue;
        };
        if index(parent).is_none() {
            unknown(parent, at.clone(), raws, "scenario.group.parent", p);
            bad[i] = true;
            continue;
        }
        // Walk up: a cycle returns to a group already seen; depth counts levels.
        let mut chain = vec![i];
        let mut at_group = i;
        while let Some(next) = raws[at_group].parent.as_ref().and_then(|(n, _)| index(n)) {
            if let Some(start) = chain.iter().position(|&c| c == next) {
                bad[i] = true;
                let ring = &chain[start..];
                if ring.contains(&i) && !ring.iter().any(|&c| cycle_reported[c]) {
                    for &c in ring {
                        cycle_reported[c] = true;
                    }
                    let names: Vec<&str> = ring
                        .iter()
                        .chain(std::iter::once(&next))
                        .map(|&c| raws[c].name.as_str())
                        .collect();
                    p.at(
                        at.clone(),
                        "scenario.group.parent",
                        format!(
                            "the groups form a cycle ({}): each group needs a parent above it, \
                             and the top one none (the arena)",
                            names.join(" -> ")
                        ),
                    );
                }
                break;
            }
            chain.push(next);
            at_group = next;
        }
        if bad[i] {
            continue;
        }
        if raws[at_group].parent.is_some() {
            bad[i] = true; // beneath a group whose parent is unknown: reported there
            continue;
        }
        if chain.len() > MAX_GROUP_DEPTH {
            bad[i] = true;
            let path: Vec<&str> = chain.iter().rev().map(|&c| raws[c].name.as_str()).collect();
            p.at(
                at.clone(),
                "scenario.group.parent",
                format!(
                    "group {:?} is {} levels below the arena ({}): at most {MAX_GROUP_DEPTH} levels \
                     of groups are accepted (kubepods, a QoS tier, a pod and one slice above them)",
                    r.name,
                    chain.len(),
                    path.join(" / ")
                ),
            );
        }
    }
    let mut order = Vec::new();
    let depth = |i: usize| {
        let mut d = 0;
        let mut at = i;
        while let Some(next) = raws[at].parent.as_ref().and_then(|(n, _)| index(n)) {
            d += 1;
            at = next;
            if d > raws.len() {
                break;
            }
        }
        d
    };
    for d in 0..=MAX_GROUP_DEPTH {
        order.extend((0..raws.len()).filter(|&i| !bad[i] && depth(i) == d));
    }
    order
}

/// Fills in the limits of `kubelet` groups from what sits beneath them, pods
/// first, then the QoS tiers, then kubepods; reports what the kubelet would
/// not make.
fn derive_kubelet(
    raws: &mut [Raw],
    order: &[usize],
    members: &[Member<'_>],
    host: &HostFacts,
    p: &mut Problems,
) {
    let level = |raws: &[Raw], i: usize| raws[i].kubelet.as_ref().map(|k| k.level);
    let children = |raws: &[Raw], i: usize| -> Vec<usize> {
        order
            .iter()
            .copied()
            .filter(|&c| {
                raws[c]
                    .parent
                    .as_ref()
                    .is_some_and(|(n, _)| *n == raws[i].name)
            })
            .collect()
    };
    let in_group = |name: &str| -> Vec<&Member<'_>> {
        members
            .iter()
            .filter(|m| m.group.as_ref().is_some_and(|(g, _)| g == name))
            .collect()
    };
    // Pods: from their containers.
    let mut pod_request = vec![0u64; raws.len()];
    let mut pod_qos: Vec<Option<&'static str>> = vec![None; raws.len()];
    let at_level = |raws: &[Raw], l: KubeletLevel| -> Vec<usize> {
        order
            .iter()
            .copied()
            .filter(|&i| level(raws, i) == Some(l))
            .collect()
    };
    for i in at_level(raws, KubeletLevel::Pod) {
        for c in children(raws, i) {
            let at = raws[c]
                .parent
                .as_ref()
                .map_or(raws[c].name_at.clone(), |(_, s)| s.clone());
            p.at(
                at,
                "scenario.group.parent",
                format!(
                    "{:?} is a kubelet pod: it holds containers (sandboxes), not groups",
                    raws[i].name
                ),
            );
        }
        let containers = in_group(&raws[i].name);
        let mut resources = Vec::new();
        for m in &containers {
            match m.limits.vocabulary.as_deref() {
                None => resources.push(ContainerResources {
                    cpu_request_milli: None,
                    cpu_limit_milli: None,
                    memory_request_bytes: None,
                    memory_limit_bytes: None,
                }),
                Some("kubernetes") => resources.extend(m.limits.resources),
                Some(other) => p.at(
                    m.at.clone(),
                    &format!("scenario.{}.limits", role(m)),
                    format!(
                        "{} is a container of kubelet pod {:?}: give its limits in kubernetes words \
                         (limits.kubernetes), not {other}, so that the pod's can be derived from them",
                        m.name, raws[i].name
                    ),
                ),
            }
        }
        if containers.is_empty() {
            p.at(
                raws[i].name_at.clone(),
                "scenario.group.name",
                format!(
                    "kubelet pod {:?} has no container: put a sandbox in it (group = {:?})",
                    raws[i].name, raws[i].name
                ),
            );
        }
        let qos = pod_qos_class(&resources);
        let request: u64 = resources.iter().filter_map(|r| r.cpu_request_milli).sum();
        let all = |f: fn(&ContainerResources) -> Option<u64>| -> Option<u64> {
            (!resources.is_empty())
                .then(|| resources.iter().map(f).sum::<Option<u64>>())
                .flatten()
        };
        let (quota_milli, memory) = match qos {
            "BestEffort" => (None, None),
            _ => (all(|r| r.cpu_limit_milli), all(|r| r.memory_limit_bytes)),
        };
        let shares = if qos == "BestEffort" {
            MIN_SHARES
        } else {
            vocabulary::milli_cpu_to_shares(request)
        };
        pod_request[i] = request;
        pod_qos[i] = Some(qos);
        set_kubelet_limits(
            &mut raws[i],
            request,
            shares,
            quota_milli,
            memory,
            Some(qos),
            host.layout,
        );
    }
    // QoS tiers: from their pods.
    for &i in order {
        let tier = match level(raws, i) {
            Some(l @ (KubeletLevel::Burstable | KubeletLevel::BestEffort)) => l,
            _ => continue,
        };
        let class = if tier == KubeletLevel::Burstable {
            "Burstable"
        } else {
            "BestEffort"
        };
        let mut request = 0;
        for c in children(raws, i) {
            if pod_qos[c] == Some(class) {
                request += pod_request[c];
                continue;
            }
            let what = match pod_qos[c] {
                Some(q) => format!("a {q} pod"),
                None => "not a kubelet pod".to_string(),
            };
            let at = raws[c]
                .parent
                .as_ref()
                .map_or(raws[c].name_at.clone(), |(_, s)| s.clone());
            p.at(
                at,
                "scenario.group.parent",
                format!(
                    "{:?} is {what}: the kubelet's {} tier {:?} holds {class} pods only",
                    raws[c].name,
                    tier.as_str(),
                    raws[i].name
                ),
            );
        }
        for m in in_group(&raws[i].name) {
            tier_holds_no_container(m, &raws[i].name, p);
        }
        let shares = if tier == KubeletLevel::Burstable {
            vocabulary::milli_cpu_to_shares(request)
        } else {
            MIN_SHARES
        };
        set_kubelet_limits(&mut raws[i], request, shares, None, None, None, host.layout);
    }
    // kubepods: the node's allocatable CPU.
    for i in at_level(raws, KubeletLevel::Node) {
        for c in children(raws, i) {
            let fits = match level(raws, c) {
                Some(KubeletLevel::Burstable | KubeletLevel::BestEffort) => true,
                Some(KubeletLevel::Pod) => pod_qos[c] == Some("Guaranteed"),
                _ => false,
            };
            if !fits {
                let at = raws[c]
                    .parent
                    .as_ref()
                    .map_or(raws[c].name_at.clone(), |(_, s)| s.clone());
                let what = match pod_qos[c] {
                    Some(q) => format!(
                        "a {q} pod, which the kubelet puts in kubepods/{}",
                        q.to_lowercase()
                    ),
                    None => "not a kubelet QoS tier or pod".to_string(),
                };
                p.at(
                    at,
                    "scenario.group.parent",
                    format!(
                        "{:?} is {what}: kubepods ({:?}) holds the burstable and besteffort tiers and Guaranteed pods",
                        raws[c].name, raws[i].name
                    ),
                );
            }
        }
        for m in in_group(&raws[i].name) {
            tier_holds_no_container(m, &raws[i].name, p);
        }
        let milli = raws[i]
            .kubelet
            .as_ref()
            .and_then(|k| k.cpu_milli)
            .unwrap_or(0);
        let shares = vocabulary::milli_cpu_to_shares(milli);
        set_kubelet_limits(&mut raws[i], milli, shares, None, None, None, host.layout);
    }
}

/// The kubelet's smallest `cpu.shares` (`MinShares`, pkg/kubelet/cm/helpers_linux.go).
const MIN_SHARES: u64 = 2;

/// A sandbox put directly in a kubelet tier or in kubepods.
fn tier_holds_no_container(m: &Member<'_>, group: &str, p: &mut Problems) {
    let at = m.group.as_ref().map_or(m.at.clone(), |(_, s)| s.clone());
    p.at(
        at,
        &format!("scenario.{}.group", role(m)),
        format!(
            "{group:?} is a kubelet tier: containers sit in pods; put {} in a group of level \"pod\" beneath it",
            m.name
        ),
    );
}

/// A pod's QoS class from its containers (pkg/apis/core/helper/qos/qos.go
/// `GetPodQOS`): BestEffort when none has a request or limit, Guaranteed when
/// every one has CPU and memory limits equal to its requests, else Burstable.
fn pod_qos_class(containers: &[ContainerResources]) -> &'static str {
    let none = |r: &ContainerResources| {
        r.cpu_request_milli.is_none()
            && r.cpu_limit_milli.is_none()
            && r.memory_request_bytes.is_none()
            && r.memory_limit_bytes.is_none()
    };
    let guaranteed = |r: &ContainerResources| {
        r.cpu_limit_milli.is_some()
            && r.cpu_request_milli == r.cpu_limit_milli
            && r.memory_limit_bytes.is_some()
            && r.memory_request_bytes == r.memory_limit_bytes
    };
    if containers.iter().all(none) {
        "BestEffort"
    } else if containers.iter().all(guaranteed) {
        "Guaranteed"
    } else {
        "Burstable"
    }
}

/// Writes the limits the kubelet derives into `raw`: `shares` (as `cpu.weight`
/// by the group's formula on v2), a quota of `quota_milli` over Kubernetes'
/// 100 ms period, and a memory limit.
fn set_kubelet_limits(
    raw: &mut Raw,
    milli: u64,
    shares: u64,
    quota_milli: Option<u64>,
    memory_bytes: Option<u64>,
    qos: Option<&str>,
    layout: Layout,
) {
    let Some(k) = raw.kubelet.as_mut() else {
        return;
    };
    k.cpu_milli = Some(milli);
    k.cpu_shares = shares;
    let weight = match layout {
        Layout::V2 => CpuWeight::Weight(k.formula.weight(shares)),
        Layout::V1 | Layout::Hybrid => CpuWeight::Shares(shares),
    };
    let limits = Limits {
        cpu_weight: Some(weight),
        cpu_max: quota_milli.map(|m| CpuMax {
            quota_us: Some(vocabulary::milli_cpu_to_quota(
                m,
                vocabulary::K8S_QUOTA_PERIOD_US,
            )),
            period_us: vocabulary::K8S_QUOTA_PERIOD_US,
        }),
        memory: memory_bytes
            .map(|b| MemorySetting {
                knob: MemoryKnob::Max,
                bytes: Some(b),
            })
            .into_iter()
            .collect(),
        ..Limits::default()
    };
    raw.limits = LimitsDef {
        vocabulary: Some("kubelet".into()),
        words: k.words.clone(),
        qos: qos.map(String::from),
        files: limits
            .files(layout)
            .into_iter()
            .map(|FileWrite { file, value, .. }| (file, value))
            .collect(),
        not_written: Vec::new(),
        resources: None,
        limits,
    };
}

/// The results' record of a kubelet group.
fn kubelet_def(k: &RawKubelet, limits: &LimitsDef) -> KubeletDef {
    KubeletDef {
        level: k.level,
        cpu_milli: k.cpu_milli.unwrap_or(0),
        cpu_shares: k.cpu_shares,
        weight_formula: k.formula,
        weight_formula_text: k.formula.describe(),
        qos: limits.qos.clone(),
    }
}

/// What a group or sandbox asks for above what an ancestor allows, or `None`.
fn above(child: &Limits, parent: &Limits) -> Option<String> {
    let cpus = |l: &Limits| l.cpu_max.and_then(|m| m.cpus());
    if let (Some(c), Some(q)) = (cpus(child), cpus(parent))
        && c > q + 1e-9
    {
        return Some(format!(
            "a CPU quota of {c} CPUs above the group's {q}: cgroup v1 refuses a child's quota above \
             its parent's (EINVAL), and on v2 it never binds; give at most {q} CPUs, or raise the group's"
        ));
    }
    if let (Some(c), Some(s)) = (&child.cpuset_cpus, &parent.cpuset_cpus)
        && let Some(outside) = c.missing_from(s)
    {
        return Some(format!(
            "cpuset {c} has CPUs {outside} outside the group's {s}: cgroup v1 refuses it, v2 \
             confines it to the group's; name CPUs within {s}"
        ));
    }
    let memory = |l: &Limits| {
        l.memory
            .iter()
            .find(|m| matches!(m.knob, MemoryKnob::Max | MemoryKnob::LimitInBytes))
            .and_then(|m| m.bytes)
    };
    if let (Some(c), Some(g)) = (memory(child), memory(parent))
        && c > g
    {
        return Some(format!(
            "a memory limit of {c} bytes above the group's {g}: it never binds, since the group's \
             limit covers everything beneath it; give at most {g} bytes"
        ));
    }
    if let (Some(Limit::Value(c)), Some(Limit::Value(g))) = (child.pids_max, parent.pids_max)
        && c > g
    {
        return Some(format!(
            "pids.max {c} above the group's {g}: it never binds; give at most {g}"
        ));
    }
    None
}

/// No group or sandbox asks for more than any group above it allows.
fn check_within_parents(raws: &[Raw], members: &[Member<'_>], p: &mut Problems) {
    let index = |name: &str| raws.iter().position(|r| r.name == name);
    let ancestors = |start: Option<&str>| -> Vec<usize> {
        let mut out = Vec::new();
        let mut at = start.and_then(index);
        while let Some(i) = at {
            if out.contains(&i) {
                break;
            }
            out.push(i);
            at = raws[i].parent.as_ref().and_then(|(n, _)| index(n));
        }
        out
    };
    let mut check = |who: &str, limits: &Limits, parent: Option<&str>, at: Span, field: String| {
        for g in ancestors(parent) {
            if let Some(why) = above(limits, &raws[g].limits.limits) {
                p.at(
                    at,
                    &field,
                    format!(
                        "{who} asks for more than its group {:?} allows: {why}",
                        raws[g].name
                    ),
                );
                return;
            }
        }
    };
    for r in raws {
        check(
            &format!("group {:?}", r.name),
            &r.limits.limits,
            r.parent.as_ref().map(|(n, _)| n.as_str()),
            r.limits_at.clone(),
            "scenario.group.limits".into(),
        );
    }
    for m in members {
        check(
            &m.name,
            &m.limits.limits,
            m.group.as_ref().map(|(n, _)| n.as_str()),
            m.at.clone(),
            format!("scenario.{}.limits", role(m)),
        );
    }
}

/// Every group holds a sandbox, directly or beneath a child group.
fn check_not_empty(raws: &[Raw], members: &[Member<'_>], p: &mut Problems) {
    let index = |name: &str| raws.iter().position(|r| r.name == name);
    let mut used = vec![false; raws.len()];
    for m in members {
        let mut at = m.group.as_ref().and_then(|(g, _)| index(g));
        let mut steps = 0;
        while let Some(i) = at {
            if used[i] || steps > raws.len() {
                break;
            }
            used[i] = true;
            steps += 1;
            at = raws[i].parent.as_ref().and_then(|(n, _)| index(n));
        }
    }
    for (i, r) in raws.iter().enumerate() {
        let pod = r
            .kubelet
            .as_ref()
            .is_some_and(|k| k.level == KubeletLevel::Pod);
        if !used[i] && !pod {
            p.at(
                r.name_at.clone(),
                "scenario.group.name",
                format!(
                    "group {:?} holds no sandbox: put one in it (group = {:?} on a victim or \
                     aggressor, or on a group beneath it), or remove it",
                    r.name, r.name
                ),
            );
        }
    }
}

/// The sandboxes of `iso` that ask for more than a group above them allows,
/// each as `<sandbox> asks for more than its group "<g>" allows: ...`: for
/// limits changed after the suite was checked (`--aggressor-cpus`).
pub fn beyond_groups(iso: &super::model::IsolationDef) -> Vec<String> {
    let index = |name: &str| iso.groups.iter().position(|g| g.name == name);
    let sandboxes = std::iter::once(("victim", &iso.victim.limits, iso.victim.group.as_deref()))
        .chain(
            iso.aggressors
                .iter()
                .map(|a| (a.name.as_str(), &a.limits, a.group.as_deref())),
        );
    let mut out = Vec::new();
    for (name, limits, group) in sandboxes {
        let mut at = group.and_then(index);
        let mut steps = 0;
        while let Some(i) = at.filter(|_| steps <= iso.groups.len()) {
            let g = &iso.groups[i];
            if let Some(why) = above(&limits.limits, &g.limits.limits) {
                out.push(format!(
                    "{name} asks for more than its group {:?} allows: {why}",
                    g.name
                ));
                break;
            }
            at = g.parent.as_deref().and_then(index);
            steps += 1;
        }
    }
    out
}

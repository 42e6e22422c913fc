//! Limits in the user's words: the kernel's own file names, Docker's `docker
//! run` flags or a Kubernetes container's `resources`, mapped to the files the
//! host's layout gets.
//!
//! [`map`] takes a [`Vocabulary`] and the entries of one limit list as the
//! suite file flattens them (`limits.cpu = "500m"` → key `limits.cpu`), plus
//! the [`HostFacts`] it depends on, and returns a [`Mapped`]: the cgroup
//! layer's [`Limits`] for this host, the user's words as given, the Kubernetes
//! QoS class, what was deliberately not written, and — through
//! [`Mapped::files`] — the exact files and values written on v1, hybrid or v2,
//! for the results. Or it returns every refused entry at once ([`LimitError`]).
//!
//! The mapping is pure: all it knows of the host is in [`HostFacts`]. Every key
//! and where its mapping comes from is in one table, [`TABLE`]; the
//! conversions it relies on (CPU shares ↔ weight, blkio ↔ io weight) are in
//! [`crate::cgroup::weight`].

mod assemble;
mod errors;
mod host;
mod quantity;
mod table;

pub(crate) use assemble::{K8S_QUOTA_PERIOD_US, milli_cpu_to_quota, milli_cpu_to_shares};
pub use errors::LimitError;
pub use host::{BlockDevice, HostFacts};
pub(crate) use quantity::k8s_milli;
pub use table::{Row, TABLE};

use crate::cgroup::{FileWrite, Layout, Limits};

/// Whose words the limits are in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Vocabulary {
    /// The kernel's file names and values (`cpu.max = "50000 100000"`).
    Native,
    /// `docker run` flags in snake_case (`cpus = 1.5`, `memory = "512m"`).
    Docker,
    /// A Kubernetes container's `resources` (`limits.cpu = "500m"`).
    Kubernetes,
}

impl Vocabulary {
    /// Every vocabulary, in the order messages list them.
    pub const ALL: [Vocabulary; 3] = [
        Vocabulary::Native,
        Vocabulary::Docker,
        Vocabulary::Kubernetes,
    ];

    /// The name used in suite files and messages: `native`, `docker`, `kubernetes`.
    pub fn as_str(self) -> &'static str {
        match self {
            Vocabulary::Native => "native",
            Vocabulary::Docker => "docker",
            Vocabulary::Kubernetes => "kubernetes",
        }
    }
}

impl std::fmt::Display for Vocabulary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Vocabulary {
    type Err = String;
    /// `native`, `docker` or `kubernetes` (also `k8s`).
    fn from_str(s: &str) -> Result<Vocabulary, String> {
        match s {
            "k8s" => Ok(Vocabulary::Kubernetes),
            _ => Vocabulary::ALL
                .into_iter()
                .find(|v| v.as_str() == s)
                .ok_or_else(|| {
                    format!("unknown vocabulary {s:?}: expected native, docker or kubernetes")
                }),
        }
    }
}

/// A Kubernetes pod's quality-of-service class, by the kubelet's rules
/// (<https://kubernetes.io/docs/concepts/workloads/pods/pod-qos/>).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum QosClass {
    /// Requests equal limits for both CPU and memory (limits alone imply equal requests).
    Guaranteed,
    /// Some request or limit, but not Guaranteed.
    Burstable,
    /// No request and no limit.
    BestEffort,
}

/// One Kubernetes container's CPU and memory requests and limits, as given
/// (a request defaults to its limit, as the API server defaults it): what the
/// kubelet sums into a pod's cgroup (pkg/kubelet/cm/helpers_linux.go
/// `ResourceConfigForPod`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct ContainerResources {
    /// `requests.cpu` (else `limits.cpu`), milliCPU.
    pub cpu_request_milli: Option<u64>,
    /// `limits.cpu`, milliCPU.
    pub cpu_limit_milli: Option<u64>,
    /// `requests.memory` (else `limits.memory`), bytes.
    pub memory_request_bytes: Option<u64>,
    /// `limits.memory`, bytes.
    pub memory_limit_bytes: Option<u64>,
}

/// An entry the user gave that, by its vocabulary's own rules, writes no file.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct NotWritten {
    /// The key as given.
    pub key: String,
    /// The value as given.
    pub value: String,
    /// Why nothing is written for it.
    pub reason: String,
}

/// One limit list, mapped for a host.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Mapped {
    /// The vocabulary the list was in.
    pub vocabulary: Vocabulary,
    /// The limits written on the host's layout ([`HostFacts::layout`]).
    pub limits: Limits,
    /// The user's words, key and value as given, in order.
    pub words: Vec<(String, String)>,
    /// The QoS class (Kubernetes only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub qos: Option<QosClass>,
    /// Entries that write nothing, with the reason (e.g. Kubernetes `requests.memory`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub not_written: Vec<NotWritten>,
    /// The container's requests and limits (Kubernetes only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resources: Option<ContainerResources>,
    #[serde(skip)]
    v1: Limits,
    #[serde(skip)]
    v2: Limits,
}

impl Mapped {
    /// The exact files and values written for these limits on `layout` (v1 and
    /// hybrid get the same), in the order they are written. For the host's
    /// layout this is what a sandbox gets; for another layout it is what the
    /// same words would give there, leaving out memory knobs that layout lacks.
    pub fn files(&self, layout: Layout) -> Vec<FileWrite> {
        match layout {
            Layout::V2 => self.v2.files(layout),
            Layout::V1 | Layout::Hybrid => self.v1.files(layout),
        }
    }
}

/// Maps one limit list in `vocabulary` for the host `host` describes.
///
/// `entries` are `(dotted key, value)` pairs as the suite file gives them.
///
/// # Errors
/// Every refused entry, each with its key, value and what is accepted: unknown
/// keys (with "did you mean"), a key given twice, wrong types, values out of
/// range (cpu.max quota below 1000 µs or period outside 1000–1000000 µs,
/// cpu.weight outside 1–10000, cpu.shares outside 2–262144, …), sizes and
/// quantities that do not parse, CPUs or devices the host lacks, rules that
/// span entries (Docker's memory_swap without memory, a Kubernetes request
/// above its limit, a CPU burst above its quota or without one, a weight for an
/// idle group), and knobs the host's layout or kernel cannot honour
/// ([`crate::cgroup::Unsupported`], e.g. `memory.high` or `memory.oom.group` on
/// v1, `cpu.idle` before Linux 5.15).
pub fn map(
    vocabulary: Vocabulary,
    entries: &[(String, toml::Value)],
    host: &HostFacts,
) -> Result<Mapped, Vec<LimitError>> {
    let mut errors = Vec::new();
    let mut parsed = Vec::new();
    let words: Vec<(String, String)> = entries
        .iter()
        .map(|(k, v)| (k.clone(), quantity::show(v)))
        .collect();
    for (i, ((key, value), (_, shown))) in entries.iter().zip(&words).enumerate() {
        if entries[..i].iter().any(|(k, _)| k == key) {
            errors.push(LimitError {
                key: key.clone(),
                value: shown.clone(),
                message: "given twice: expected each key once".into(),
            });
            continue;
        }
        let Some(row) = table::row(vocabulary, key) else {
            errors.push(LimitError::unknown_key(vocabulary, key, shown));
            continue;
        };
        match (row.parse)(key, value, host) {
            Ok(p) => parsed.push(assemble::Entry {
                key: key.clone(),
                value: shown.clone(),
                parsed: p,
            }),
            Err(message) => errors.push(LimitError {
                key: key.clone(),
                value: shown.clone(),
                message,
            }),
        }
    }
    let plan = assemble::assemble(vocabulary, &parsed, &mut errors);
    plan.check(host, &parsed, &mut errors);
    if !errors.is_empty() {
        return Err(errors);
    }
    let (v1, v2) = (plan.limits(Layout::V1), plan.limits(Layout::V2));
    Ok(Mapped {
        vocabulary,
        limits: if host.layout == Layout::V2 {
            v2.clone()
        } else {
            v1.clone()
        },
        words,
        qos: plan.qos,
        not_written: plan.not_written,
        resources: plan.resources,
        v1,
        v2,
    })
}

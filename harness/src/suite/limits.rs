//! A sandbox's `limits` table: one vocabulary (`cgroup`, `docker` or
//! `kubernetes`), its entries flattened to dotted keys and mapped to the
//! host's layout by [`crate::vocabulary`]; each problem placed at its entry.

use super::error::{Problems, Span};
use super::model::LimitsDef;
use super::reader::{Table, shown};
use crate::vocabulary::{self, LimitError, Vocabulary};
use toml::de::{DeTable, DeValue};

pub use crate::vocabulary::HostFacts;

/// What this host is, for checking a suite: its cgroup layout, online CPUs,
/// block devices and the knobs its kernel lacks.
///
/// # Errors
/// The layout cannot be told (no cgroup filesystem) or sysfs cannot be read, naming the path.
pub fn discover_host() -> Result<HostFacts, String> {
    let cgroups = crate::cgroup::CgroupHost::discover()
        .map_err(|e| format!("cannot tell the host's cgroup layout: {e}"))?;
    let mut facts = HostFacts::discover(cgroups.layout)
        .map_err(|e| format!("reading the host's CPUs and block devices: {e}"))?;
    facts.missing_knobs = cgroups.missing_knobs();
    Ok(facts)
}

/// The vocabularies, by their key in a `limits` table.
const VOCABULARIES: [(&str, Vocabulary); 3] = [
    ("cgroup", Vocabulary::Native),
    ("docker", Vocabulary::Docker),
    ("kubernetes", Vocabulary::Kubernetes),
];

/// Reads a `limits` table; problems go to `p`, and what could be read is returned.
pub fn read(t: Table<'_, '_>, host: &HostFacts, p: &mut Problems) -> LimitsDef {
    let keys: Vec<&str> = VOCABULARIES.iter().map(|(k, _)| *k).collect();
    t.only(&keys, p);
    let given: Vec<_> = VOCABULARIES
        .iter()
        .filter_map(|(k, v)| Some((*k, *v, t.get(k)?)))
        .collect();
    if given.len() > 1 {
        p.at(
            given[1].2.span.clone(),
            &t.path_of(given[1].0),
            format!(
                "limits in two vocabularies ({} and {}): write them in one, so that each knob is set once",
                given[0].0, given[1].0
            ),
        );
    }
    let Some((key, vocabulary, field)) = given.first().cloned() else {
        return LimitsDef::default();
    };
    let path = t.path_of(key);
    let Some(table) = field.value.as_table() else {
        p.wrong_type(field, &path, "a table of knob = value");
        return LimitsDef::default();
    };
    let mut entries = Vec::new();
    flatten(table, "", &mut entries);
    let values: Vec<(String, toml::Value)> = entries
        .iter()
        .map(|e| (e.key.clone(), e.value.clone()))
        .collect();
    match from_words(vocabulary, &values, host) {
        Ok(limits) => limits,
        Err(errors) => {
            for e in errors {
                let at = entries
                    .iter()
                    .find(|x| x.key == e.key)
                    .map_or(field.span.clone(), |x| x.span.clone());
                p.at(at, &format!("{path}.{}", e.key), e.to_string());
            }
            LimitsDef::default()
        }
    }
}

/// Limits in one vocabulary's words, as a suite's `limits` table holds them
/// flattened (`("cpus", 1.5)`, `("limits.memory", "1Gi")`), mapped to what this
/// host's layout writes: what `limits = { docker = { cpus = 1.5 } }` gives.
///
/// # Errors
/// Every refused entry at once, each with its key, value and what is accepted.
pub fn from_words(
    vocabulary: Vocabulary,
    entries: &[(String, toml::Value)],
    host: &HostFacts,
) -> Result<LimitsDef, Vec<LimitError>> {
    let key = VOCABULARIES
        .iter()
        .find(|(_, v)| *v == vocabulary)
        .map_or("cgroup", |(k, _)| *k);
    let mapped = vocabulary::map(vocabulary, entries, host)?;
    Ok(LimitsDef {
        files: mapped
            .files(host.layout)
            .into_iter()
            .map(|f| (f.file, f.value))
            .collect(),
        vocabulary: Some(key.to_string()),
        words: mapped.words,
        qos: mapped.qos.map(|q| format!("{q:?}")),
        not_written: mapped
            .not_written
            .into_iter()
            .map(|n| (n.key, n.reason))
            .collect(),
        resources: mapped.resources,
        limits: mapped.limits,
    })
}

/// One entry of a vocabulary table.
struct Entry {
    /// Dotted key (`limits.cpu`, `cpu.max`).
    key: String,
    /// Its value.
    value: toml::Value,
    /// Where the value is.
    span: Span,
}

/// Flattens nested tables (`limits.cpu = "500m"` is the table `limits` with key
/// `cpu`) to dotted keys, in document order.
fn flatten(table: &DeTable<'_>, prefix: &str, out: &mut Vec<Entry>) {
    let mut items: Vec<_> = table.iter().collect();
    items.sort_by_key(|(k, _)| k.span().start);
    for (k, v) in items {
        let key = if prefix.is_empty() {
            k.get_ref().to_string()
        } else {
            format!("{prefix}.{}", k.get_ref())
        };
        match v.get_ref() {
            DeValue::Table(inner) => flatten(inner, &key, out),
            other => out.push(Entry {
                key,
                value: plain(other),
                span: v.span(),
            }),
        }
    }
}

/// A spanned value as a plain [`toml::Value`] (numbers that do not fit become strings as written).
pub(super) fn plain(v: &DeValue<'_>) -> toml::Value {
    match v {
        DeValue::String(s) => toml::Value::String(s.to_string()),
        DeValue::Integer(i) => i64::from_str_radix(&i.as_str().replace('_', ""), i.radix())
            .map_or_else(|_| toml::Value::String(shown(v)), toml::Value::Integer),
        DeValue::Float(f) => f
            .as_str()
            .replace('_', "")
            .parse::<f64>()
            .map_or_else(|_| toml::Value::String(shown(v)), toml::Value::Float),
        DeValue::Boolean(b) => toml::Value::Boolean(*b),
        DeValue::Datetime(d) => toml::Value::Datetime(*d),
        DeValue::Array(items) => {
            toml::Value::Array(items.iter().map(|i| plain(i.get_ref())).collect())
        }
        DeValue::Table(t) => {
            let mut flat = Vec::new();
            flatten(t, "", &mut flat);
            toml::Value::Table(flat.into_iter().map(|e| (e.key, e.value)).collect())
        }
    }
}

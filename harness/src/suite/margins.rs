//! `[defaults.margins]` of a suite: the margins file's shape (docs/compare.md),
//! each entry checked where it stands.

use super::error::{Problems, Span};
use super::reader::Table;
use crate::compare::margins::{Margins, check_margin};
use std::collections::BTreeMap;

/// Margins of a suite, and where each scenario table names its scenario (checked
/// against the suite's scenarios once they are read).
pub struct SuiteMargins {
    /// The margins.
    pub margins: Margins,
    /// Scenario names of `[defaults.margins.scenarios.<name>]` and their places.
    pub scenario_keys: Vec<(String, Span)>,
}

/// Reads `[defaults.margins]`: `metrics` (metric → margin) and `scenarios` (scenario → metric → margin).
pub fn read(t: Table<'_, '_>, p: &mut Problems) -> SuiteMargins {
    t.only(&["metrics", "scenarios"], p);
    let mut out = SuiteMargins {
        margins: Margins::default(),
        scenario_keys: Vec::new(),
    };
    if let Some(m) = t.table("metrics", "defaults.margins.metrics", p) {
        out.margins.metrics = entries(m, p);
    }
    if let Some(s) = t.table("scenarios", "defaults.margins.scenarios", p) {
        for (key, field) in s.entries() {
            let name: &str = key.get_ref();
            match field.value.as_table() {
                Some(inner) => {
                    let path = format!("defaults.margins.scenarios.{name}");
                    let table = Table::new(inner, &path, field.span.clone());
                    out.margins
                        .scenarios
                        .insert(name.to_string(), entries(table, p));
                    out.scenario_keys.push((name.to_string(), key.span()));
                }
                None => p.wrong_type(field, &s.path_of(name), "a table of metric = margin"),
            }
        }
    }
    out
}

/// `"metric" = margin` entries, each a number accepted by [`check_margin`].
fn entries(t: Table<'_, '_>, p: &mut Problems) -> BTreeMap<String, f64> {
    let mut out = BTreeMap::new();
    for (key, _) in t.entries() {
        let name: &str = key.get_ref();
        let Some(value) = t.number(name, f64::MIN..=f64::MAX, "(a margin)", p) else {
            continue;
        };
        match check_margin(name, value) {
            Ok(()) => {
                out.insert(name.to_string(), value);
            }
            Err(e) => p.at(key.span(), &t.path_of(name), e),
        }
    }
    out
}

//! `[scenario.sweep]` of an isolation scenario: the knob `isobench sweep`
//! moves and its values when its command line names none, checked when the
//! suite is read, every problem at its file:line:column (docs/suite-format.md,
//! "Sweeps").

use super::error::Problems;
use super::model::{IsolationDef, SweepDef};
use super::reader::{Table, shown};
use crate::sweep::knob::Over;
use toml::de::DeValue;

/// Reads the table `t` (`[scenario.sweep]`) of the scenario `def`.
pub(super) fn read(t: Table<'_, '_>, def: &IsolationDef, p: &mut Problems) -> Option<SweepDef> {
    t.only(&["over", "values"], p);
    let (text, over_at) = t.required_str(
        "over",
        p,
        "SANDBOX.KNOB, e.g. \"aggressor.intensity\", \"victim.cpus\" or \"aggressor.memory\"",
    )?;
    let over = match Over::parse(text) {
        Ok(o) => o,
        Err(e) => {
            p.at(over_at, "scenario.sweep.over", e.replacen("--over ", "", 1));
            return None;
        }
    };
    if let Err(why) = over.check(def) {
        p.at(
            over_at,
            "scenario.sweep.over",
            format!("{text:?}: this scenario {why}"),
        );
        return None;
    }
    let Some(field) = t.get("values") else {
        p.at(
            t.span(),
            "scenario.sweep.values",
            "missing: expected a list of 2 to 50 values, lowest first, e.g. [0, 25, 50, 75, 100]",
        );
        return None;
    };
    let Some(items) = field.value.as_array() else {
        p.wrong_type(field, "scenario.sweep.values", "an array of values");
        return None;
    };
    let texts: Vec<String> = items
        .iter()
        .map(|item| match item.get_ref() {
            DeValue::String(s) => s.to_string(),
            other => shown(other),
        })
        .collect();
    let parts: Vec<&str> = texts.iter().map(String::as_str).collect();
    match over.values_of(&parts) {
        Ok(values) => Some(SweepDef {
            over: over.text,
            values,
        }),
        Err((at, why)) => {
            let span = at.map_or(field.span.clone(), |i| items[i].span());
            p.at(span, "scenario.sweep.values", why);
            None
        }
    }
}

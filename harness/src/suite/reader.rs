//! Reading a TOML document with the place of every value: typed fields, and
//! every problem kept (with its line and column) instead of stopping at the first.

use super::error::{Problems, Span};
use toml::Spanned;
use toml::de::{DeTable, DeValue};

/// One table of the document and its dotted path (`scenario.victim`).
#[derive(Clone, Copy)]
pub struct Table<'a, 'i> {
    table: &'a DeTable<'i>,
    path: &'a str,
    /// Start and end of the table in the document.
    span: (usize, usize),
}

/// A value of the document and its place.
#[derive(Clone)]
pub struct Field<'a, 'i> {
    /// The value.
    pub value: &'a DeValue<'i>,
    /// Byte range of the value in the document.
    pub span: Span,
}

impl<'a, 'i> Table<'a, 'i> {
    /// The table `table` at `path`, spanning `span` of the document.
    pub fn new(table: &'a DeTable<'i>, path: &'a str, span: Span) -> Table<'a, 'i> {
        Table {
            table,
            path,
            span: (span.start, span.end),
        }
    }

    /// Dotted path of `key` in this table.
    pub fn path_of(&self, key: &str) -> String {
        if self.path.is_empty() {
            key.to_string()
        } else {
            format!("{}.{key}", self.path)
        }
    }

    /// Where the table is in the document.
    pub fn span(&self) -> Span {
        self.span.0..self.span.1
    }

    /// Reports every key not in `known`, with the closest known one as a suggestion.
    pub fn only(&self, known: &[&str], p: &mut Problems) {
        for (key, _) in self.table.iter() {
            if known.contains(&key.get_ref().as_ref()) {
                continue;
            }
            let name: &str = key.get_ref();
            let hint = did_you_mean(name, known)
                .map(|k| format!("did you mean `{k}`? "))
                .unwrap_or_default();
            p.at(
                key.span(),
                &self.path_of(name),
                format!("unknown key; {hint}expected one of: {}", known.join(", ")),
            );
        }
    }

    /// Every key and value of the table, in document order of the keys.
    pub fn entries(&self) -> Vec<(&'a Spanned<std::borrow::Cow<'i, str>>, Field<'a, 'i>)> {
        let mut all: Vec<_> = self
            .table
            .iter()
            .map(|(k, v)| {
                (
                    k,
                    Field {
                        value: v.get_ref(),
                        span: v.span(),
                    },
                )
            })
            .collect();
        all.sort_by_key(|(k, _)| k.span().start);
        all
    }

    /// The value of `key`, if present.
    pub fn get(&self, key: &str) -> Option<Field<'a, 'i>> {
        self.table.get(key).map(|v| Field {
            value: v.get_ref(),
            span: v.span(),
        })
    }

    /// A string field; a value of another type is reported.
    pub fn str(&self, key: &str, p: &mut Problems) -> Option<(&'a str, Span)> {
        let f = self.get(key)?;
        match f.value.as_str() {
            Some(s) => Some((s, f.span)),
            None => {
                p.wrong_type(f, &self.path_of(key), "a string");
                None
            }
        }
    }

    /// A required string field; its absence is reported.
    pub fn required_str(&self, key: &str, p: &mut Problems, what: &str) -> Option<(&'a str, Span)> {
        if self.get(key).is_none() {
            p.at(
                self.span(),
                &self.path_of(key),
                format!("missing: expected {what}"),
            );
        }
        self.str(key, p)
    }

    /// A number (integer or float) within `range`, reported with `unit` when outside it.
    pub fn number(
        &self,
        key: &str,
        range: std::ops::RangeInclusive<f64>,
        unit: &str,
        p: &mut Problems,
    ) -> Option<f64> {
        let f = self.get(key)?;
        let v = match f.value {
            DeValue::Integer(i) => i64::from_str_radix(&i.as_str().replace('_', ""), i.radix())
                .ok()
                .map(|n| n as f64),
            DeValue::Float(x) => x.as_str().replace('_', "").parse::<f64>().ok(),
            _ => None,
        };
        let Some(v) = v else {
            p.wrong_type(f, &self.path_of(key), &format!("a number of {unit}"));
            return None;
        };
        if !v.is_finite() || !range.contains(&v) {
            p.at(
                f.span,
                &self.path_of(key),
                format!(
                    "{v} is out of range: expected {} to {} {unit}",
                    range.start(),
                    range.end()
                ),
            );
            return None;
        }
        Some(v)
    }

    /// A whole number within `range`.
    pub fn integer(
        &self,
        key: &str,
        range: std::ops::RangeInclusive<u64>,
        p: &mut Problems,
    ) -> Option<u64> {
        let f = self.get(key)?;
        let parsed = f
            .value
            .as_integer()
            .and_then(|i| i64::from_str_radix(&i.as_str().replace('_', ""), i.radix()).ok());
        let Some(v) = parsed else {
            p.wrong_type(f, &self.path_of(key), "a whole number");
            return None;
        };
        match u64::try_from(v) {
            Ok(v) if range.contains(&v) => Some(v),
            _ => {
                p.at(
                    f.span,
                    &self.path_of(key),
                    format!(
                        "{v} is out of range: expected {} to {}",
                        range.start(),
                        range.end()
                    ),
                );
                None
            }
        }
    }

    /// A size in bytes: an integer, or a string such as `256MiB`, `2G`, `4096`.
    pub fn size(&self, key: &str, p: &mut Problems) -> Option<u64> {
        let f = self.get(key)?;
        let parsed = match f.value {
            DeValue::Integer(_) => return self.integer(key, 1..=u64::MAX, p),
            DeValue::String(s) => parse_size::parse_size(s.trim()).ok().filter(|&b| b > 0),
            _ => None,
        };
        if parsed.is_none() {
            p.at(
                f.span,
                &self.path_of(key),
                format!(
                    "{} is not a size: expected bytes above 0 such as 4096, \"256MiB\", \"2GiB\", \"512K\" or \"2G\"",
                    shown(f.value)
                ),
            );
        }
        parsed
    }

    /// An array of strings (each element's type is checked).
    pub fn strings(&self, key: &str, p: &mut Problems) -> Option<Vec<(&'a str, Span)>> {
        let f = self.get(key)?;
        let Some(items) = f.value.as_array() else {
            p.wrong_type(f, &self.path_of(key), "an array of strings");
            return None;
        };
        let mut out = Vec::new();
        for item in items.iter() {
            match item.get_ref().as_str() {
                Some(s) => out.push((s, item.span())),
                None => p.at(
                    item.span(),
                    &self.path_of(key),
                    format!(
                        "{} is not a string: expected an array of strings",
                        shown(item.get_ref())
                    ),
                ),
            }
        }
        Some(out)
    }

    /// A sub-table; another type is reported.
    pub fn table(&self, key: &str, path: &'a str, p: &mut Problems) -> Option<Table<'a, 'i>> {
        let f = self.get(key)?;
        match f.value.as_table() {
            Some(t) => Some(Table::new(t, path, f.span)),
            None => {
                p.wrong_type(f, &self.path_of(key), "a table");
                None
            }
        }
    }

    /// An array of tables (`[[key]]`); a single table is taken as an array of one.
    pub fn tables(&self, key: &str, path: &'a str, p: &mut Problems) -> Vec<Table<'a, 'i>> {
        let Some(f) = self.get(key) else {
            return Vec::new();
        };
        match f.value {
            DeValue::Table(t) => vec![Table::new(t, path, f.span)],
            DeValue::Array(items) => items
                .iter()
                .filter_map(|item| match item.get_ref().as_table() {
                    Some(t) => Some(Table::new(t, path, item.span())),
                    None => {
                        p.at(
                            item.span(),
                            path,
                            format!(
                                "{} is not a table: expected [[{path}]] tables",
                                shown(item.get_ref())
                            ),
                        );
                        None
                    }
                })
                .collect(),
            _ => {
                p.wrong_type(f, path, &format!("[[{path}]] tables"));
                Vec::new()
            }
        }
    }
}

/// The value as the user wrote it, for messages (strings quoted, tables and arrays by type).
pub fn shown(v: &DeValue<'_>) -> String {
    match v {
        DeValue::String(s) => format!("{s:?}"),
        DeValue::Integer(i) => i.as_str().to_string(),
        DeValue::Float(f) => f.as_str().to_string(),
        DeValue::Boolean(b) => b.to_string(),
        DeValue::Datetime(d) => d.to_string(),
        DeValue::Array(_) => "an array".into(),
        DeValue::Table(_) => "a table".into(),
    }
}

/// The known word closest to `word` when it is close enough to be a typo
/// (Jaro–Winkler similarity ≥ 0.8, as clap suggests subcommands).
pub fn did_you_mean<'k>(word: &str, known: &[&'k str]) -> Option<&'k str> {
    known
        .iter()
        .map(|k| (strsim::jaro_winkler(word, k), *k))
        .filter(|(score, _)| *score >= 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, k)| k)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggestions_are_close_words_only() {
        let known = ["rounds", "duration", "warmup"];
        assert_eq!(did_you_mean("round", &known), Some("rounds"));
        assert_eq!(did_you_mean("warm_up", &known), Some("warmup"));
        assert_eq!(did_you_mean("colour", &known), None);
    }
}

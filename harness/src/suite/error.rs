//! Problems of a suite file, each with its file, line, column and field.

use super::reader::{Field, shown};

/// A byte range of the suite's text.
pub type Span = std::ops::Range<usize>;

/// One problem of a suite file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SuiteError {
    /// The file (or `embedded:<name>`).
    pub origin: String,
    /// Line, from 1.
    pub line: usize,
    /// Column in characters, from 1.
    pub column: usize,
    /// Dotted path of the field (`scenario.aggressor.count`), or `syntax`.
    pub field: String,
    /// What is wrong and what would be accepted.
    pub message: String,
}

impl std::fmt::Display for SuiteError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}:{}:{}: {}: {}",
            self.origin, self.line, self.column, self.field, self.message
        )
    }
}

/// Every problem of a suite file, in the order of their place in it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct SuiteErrors(pub Vec<SuiteError>);

impl std::fmt::Display for SuiteErrors {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let n = self.0.len();
        writeln!(
            f,
            "{n} problem{} in the suite file:",
            if n == 1 { "" } else { "s" }
        )?;
        for (i, e) in self.0.iter().enumerate() {
            if i + 1 < n {
                writeln!(f, "  {e}")?;
            } else {
                write!(f, "  {e}")?;
            }
        }
        Ok(())
    }
}

/// Collects the problems of one document.
pub struct Problems<'t> {
    origin: &'t str,
    text: &'t str,
    list: Vec<(usize, SuiteError)>,
}

impl<'t> Problems<'t> {
    /// An empty collection for `text`, read from `origin`.
    pub fn new(origin: &'t str, text: &'t str) -> Problems<'t> {
        Problems {
            origin,
            text,
            list: Vec::new(),
        }
    }

    /// A problem with `field` at `span`.
    pub fn at(&mut self, span: Span, field: &str, message: impl Into<String>) {
        let (line, column) = line_column(self.text, span.start);
        self.list.push((
            span.start,
            SuiteError {
                origin: self.origin.to_string(),
                line,
                column,
                field: field.to_string(),
                message: message.into(),
            },
        ));
    }

    /// A value of the wrong type; `expected` says which type is accepted.
    pub fn wrong_type(&mut self, f: Field<'_, '_>, field: &str, expected: &str) {
        self.at(
            f.span,
            field,
            format!(
                "{} is {}: expected {expected}",
                shown(f.value),
                f.value.type_str()
            ),
        );
    }

    /// Whether nothing was reported.
    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    /// The problems sorted by place, or `Ok(())` when there are none.
    pub fn finish(self) -> Result<(), SuiteErrors> {
        if self.list.is_empty() {
            return Ok(());
        }
        Err(self.into_errors())
    }

    /// The problems sorted by place.
    pub fn into_errors(mut self) -> SuiteErrors {
        self.list.sort_by_key(|(at, _)| *at);
        SuiteErrors(self.list.into_iter().map(|(_, e)| e).collect())
    }
}

/// Line and column (both from 1, the column in characters) of byte `at` in `text`.
pub fn line_column(text: &str, at: usize) -> (usize, usize) {
    let at = at.min(text.len());
    let before = text.get(..at).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn places_count_lines_and_characters_from_one() {
        let text = "a = 1\nbé = 2\n";
        assert_eq!(line_column(text, 0), (1, 1));
        assert_eq!(line_column(text, 6), (2, 1));
        assert_eq!(line_column(text, text.find('=').unwrap()), (1, 3));
        let second = text.rfind('=').unwrap();
        assert_eq!(line_column(text, second), (2, 4));
    }
}

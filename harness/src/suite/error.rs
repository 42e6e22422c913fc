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

/// Most problems of one file that are placed and listed; beyond them only their number is said.
pub const MAX_LISTED: usize = 100;

/// The problems of a suite file, in the order of their place in it (at most
/// [`MAX_LISTED`]), and how many more there were.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct SuiteErrors(pub Vec<SuiteError>, pub usize);

impl std::fmt::Display for SuiteErrors {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let n = self.0.len() + self.1;
        writeln!(
            f,
            "{n} problem{} in the suite file:",
            if n == 1 { "" } else { "s" }
        )?;
        let lines: Vec<String> = self.0.iter().map(|e| format!("  {e}")).collect();
        write!(f, "{}", lines.join("\n"))?;
        if self.1 > 0 {
            write!(f, "\n  ... and {} more, not listed", self.1)?;
        }
        Ok(())
    }
}

/// Collects the problems of one document.
pub struct Problems<'t> {
    origin: &'t str,
    text: &'t str,
    /// Byte offset where each line starts.
    line_starts: Vec<usize>,
    list: Vec<(usize, SuiteError)>,
    /// Problems beyond [`MAX_LISTED`], counted only.
    more: usize,
}

impl<'t> Problems<'t> {
    /// An empty collection for `text`, read from `origin`.
    pub fn new(origin: &'t str, text: &'t str) -> Problems<'t> {
        let line_starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        Problems {
            origin,
            text,
            line_starts,
            list: Vec::new(),
            more: 0,
        }
    }

    /// A problem with `field` at `span`.
    pub fn at(&mut self, span: Span, field: &str, message: impl Into<String>) {
        if self.list.len() >= MAX_LISTED {
            self.more += 1;
            return;
        }
        let (line, column) = self.line_column(span.start);
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

    /// Line and column (both from 1, the column in characters) of byte `at`.
    fn line_column(&self, at: usize) -> (usize, usize) {
        let at = at.min(self.text.len());
        let line = self.line_starts.partition_point(|&s| s <= at);
        let start = self.line_starts[line - 1];
        let column = self.text.get(start..at).map_or(0, |l| l.chars().count()) + 1;
        (line, column)
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
        SuiteErrors(self.list.into_iter().map(|(_, e)| e).collect(), self.more)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn places_count_lines_and_characters_from_one() {
        let text = "a = 1\nbé = 2\n";
        let p = Problems::new("t", text);
        assert_eq!(p.line_column(0), (1, 1));
        assert_eq!(p.line_column(6), (2, 1));
        assert_eq!(p.line_column(text.find('=').unwrap()), (1, 3));
        let second = text.rfind('=').unwrap();
        assert_eq!(p.line_column(second), (2, 4));
        assert_eq!(p.line_column(text.len()), (3, 1));
    }

    #[test]
    fn only_the_first_hundred_problems_are_placed_the_rest_counted() {
        let text = "x\n".repeat(500);
        let mut p = Problems::new("t", &text);
        for i in 0..500 {
            p.at(2 * i..2 * i + 1, "x", "bad");
        }
        let e = p.finish().unwrap_err();
        assert_eq!((e.0.len(), e.1), (MAX_LISTED, 400));
        assert!(e.to_string().starts_with("500 problems"));
        assert!(e.to_string().ends_with("... and 400 more, not listed"));
    }
}

//! Chart legends drawn below the x axis, outside the plotting area, so that a
//! legend never covers data whatever the data looks like.
//!
//! Entries come in groups (e.g. the conditions, then what the line styles
//! mean); each group starts a row of its own and is laid out in columns of one
//! width (its widest entry's), row after row, centred under the chart. Text widths are estimated (SVG text is measured only by the
//! browser that shows it), generously, so that labels do not run into each other.

use crate::charts::colour;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

/// Font of legend labels, as the charts' tick labels.
const FONT: (&str, u32) = ("sans-serif", 16);
/// Height of one legend row, pixels.
const ROW: u32 = 22;
/// Width of an entry's glyph, pixels.
const GLYPH: u32 = 28;
/// Space between glyph and label, and between columns, pixels.
const GAP: u32 = 8;
const COLUMN_GAP: u32 = 22;
/// Estimated width of one character of `FONT` (drawn at 16 / 1.24 px), pixels.
const CHAR_W: f64 = 7.4;
/// Space above the first row and below the last, pixels.
const PAD: u32 = 6;
/// Stroke width and opacity of a band (see [`Glyph::Band`]), as the charts draw it.
pub(crate) const BAND_WIDTH: u32 = 8;
pub(crate) const BAND_OPACITY: f64 = 0.3;

/// How an entry is drawn: the same mark the chart uses for it.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Glyph {
    /// A line, solid or dashed (8 on, 5 off, as the charts' dashed series).
    Line {
        /// Colour as red, green, blue.
        rgb: (u8, u8, u8),
        /// Dashed rather than solid.
        dashed: bool,
    },
    /// A thick horizontal bar (an expected value).
    Thick((u8, u8, u8)),
    /// A wide pale line (a band drawn under a thin line of the same colour).
    Band((u8, u8, u8)),
    /// A filled square (a bar).
    Swatch((u8, u8, u8)),
    /// A cross (an OOM kill).
    Cross((u8, u8, u8)),
    /// A short vertical tick (a margin).
    Tick((u8, u8, u8)),
    /// A vertical whisker with caps (a confidence interval).
    Whisker((u8, u8, u8)),
}

/// One legend entry: its mark and what it stands for.
#[derive(Debug, Clone)]
pub(crate) struct Entry {
    /// What the mark stands for.
    pub label: String,
    /// The mark.
    pub glyph: Glyph,
}

impl Entry {
    /// An entry of `label` drawn as `glyph`.
    pub(crate) fn new(label: impl Into<String>, glyph: Glyph) -> Entry {
        Entry {
            label: label.into(),
            glyph,
        }
    }
}

/// A legend: groups of entries, each group starting a new row.
pub(crate) type Legend = [Vec<Entry>];

/// Columns, column width and rows of `group` laid out in `width` pixels.
fn layout(width: u32, group: &[Entry]) -> (usize, u32, usize) {
    let column = group
        .iter()
        .map(|e| GLYPH + GAP + (e.label.chars().count() as f64 * CHAR_W).ceil() as u32)
        .max()
        .unwrap_or(0)
        + COLUMN_GAP;
    let columns = ((width.saturating_sub(2 * PAD) / column) as usize).clamp(1, group.len().max(1));
    (columns, column, group.len().div_ceil(columns))
}

/// Height `legend` takes below a chart `width` pixels wide; 0 without entries.
pub(crate) fn height(width: u32, legend: &Legend) -> u32 {
    match legend.iter().map(|g| layout(width, g).2).sum::<usize>() {
        0 => 0,
        rows => rows as u32 * ROW + 2 * PAD,
    }
}

/// Draws `legend` on `area` (as tall as [`height`] says), centred.
///
/// # Errors
/// When plotters fails.
pub(crate) fn draw(
    area: &DrawingArea<SVGBackend<'_>, Shift>,
    legend: &Legend,
) -> Result<(), DrawingAreaErrorKind<std::io::Error>> {
    let width = area.dim_in_pixel().0;
    let text = TextStyle::from(FONT)
        .color(&BLACK)
        .pos(Pos::new(HPos::Left, VPos::Center));
    let mut row = 0;
    for group in legend {
        let (columns, column, rows) = layout(width, group);
        let used = (columns as u32 * column).saturating_sub(COLUMN_GAP);
        let left = width.saturating_sub(used) / 2;
        for (i, entry) in group.iter().enumerate() {
            let x = (left + (i % columns) as u32 * column) as i32;
            let y = (PAD + (row + i / columns) as u32 * ROW + ROW / 2) as i32;
            glyph(area, entry.glyph, x, y)?;
            area.draw(&Text::new(
                entry.label.as_str(),
                (x + (GLYPH + GAP) as i32, y),
                text.clone(),
            ))?;
        }
        row += rows;
    }
    Ok(())
}

/// Draws `glyph` in the `GLYPH`-wide box starting at `x`, centred on `y`.
fn glyph(
    area: &DrawingArea<SVGBackend<'_>, Shift>,
    glyph: Glyph,
    x: i32,
    y: i32,
) -> Result<(), DrawingAreaErrorKind<std::io::Error>> {
    let w = GLYPH as i32;
    match glyph {
        Glyph::Line { rgb, dashed: false } => area.draw(&PathElement::new(
            vec![(x, y), (x + w, y)],
            colour(rgb).stroke_width(2),
        )),
        Glyph::Line { rgb, dashed: true } => {
            for start in [0, 13] {
                area.draw(&PathElement::new(
                    vec![(x + start, y), (x + start + 8, y)],
                    colour(rgb).stroke_width(2),
                ))?;
            }
            area.draw(&PathElement::new(
                vec![(x + 26, y), (x + w, y)],
                colour(rgb).stroke_width(2),
            ))
        }
        Glyph::Thick(rgb) => area.draw(&PathElement::new(
            vec![(x, y), (x + w, y)],
            colour(rgb).stroke_width(4),
        )),
        Glyph::Band(rgb) => area.draw(&PathElement::new(
            vec![(x, y), (x + w, y)],
            colour(rgb).mix(BAND_OPACITY).stroke_width(BAND_WIDTH),
        )),
        Glyph::Swatch(rgb) => area.draw(&Rectangle::new(
            [(x + w / 2 - 7, y - 6), (x + w / 2 + 7, y + 6)],
            colour(rgb).filled(),
        )),
        Glyph::Cross(rgb) => area.draw(&Cross::new((x + w / 2, y), 6, colour(rgb).stroke_width(2))),
        Glyph::Tick(rgb) => area.draw(&PathElement::new(
            vec![(x + w / 2, y - 7), (x + w / 2, y + 7)],
            colour(rgb).stroke_width(2),
        )),
        Glyph::Whisker(rgb) => {
            let (c, s) = (x + w / 2, colour(rgb).stroke_width(2));
            area.draw(&PathElement::new(
                vec![
                    (c - 5, y - 7),
                    (c + 5, y - 7),
                    (c, y - 7),
                    (c, y + 7),
                    (c - 5, y + 7),
                    (c + 5, y + 7),
                ],
                s,
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entries(labels: &[&str]) -> Vec<Entry> {
        labels
            .iter()
            .map(|l| Entry::new(*l, Glyph::Swatch((0, 0, 0))))
            .collect()
    }

    #[test]
    fn short_entries_share_one_row() {
        let e = entries(&["solo", "contended", "isolated"]);
        assert_eq!(layout(640, &e).0, 3);
        assert_eq!(height(640, &[e]), ROW + 2 * PAD);
    }

    #[test]
    fn entries_wrap_into_rows_that_fit_the_width() {
        let e = entries(&["contended aggressor"; 7]);
        let (columns, column, rows) = layout(480, &e);
        assert!(columns as u32 * column <= 480, "{columns} × {column}");
        assert_eq!(rows, 7usize.div_ceil(columns));
        assert_eq!(height(480, &[]), 0);
        assert_eq!(height(480, &[Vec::new()]), 0);
    }

    #[test]
    fn each_group_starts_a_row_and_has_its_own_columns() {
        let conditions = entries(&["solo", "contended", "isolated"]);
        let styles = entries(&["full: all tasks stalled", "some: at least one stalled"]);
        assert_eq!(layout(560, &conditions).2, 1);
        assert_eq!(layout(560, &styles).2, 1);
        assert_eq!(height(560, &[conditions, styles]), 2 * ROW + 2 * PAD);
    }
}

//! Reports for isobench: the results schema and the renderers that read it.
//!
//! The harness writes one results document per run ([`schema::Results`], JSON,
//! schema version [`schema::SCHEMA_VERSION`]). This crate turns that document into
//! what people read:
//!
//! - [`render_html`]: one self-contained HTML page (no network, no JavaScript) with
//!   the verdict, latency CDF and CPU share charts as inline SVG, metric tables and
//!   the host panel;
//! - [`render_markdown`]: a compact summary for a CI job summary page;
//! - [`verdict_lines`]: one plain-text line per scenario, shared by both renderers
//!   and the terminal summary;
//! - [`render_fleet_html`], [`render_fleet_markdown`]: the fleet report of many
//!   hosts' runs ([`fleet::Fleet`], `isobench merge`).
//!
//! Values stay in base units in the results (`_us`, `_bytes`, shares 0..1); only
//! this crate scales them for display, by one rule per metric that every output
//! shares ([`metric_cells`]: µs → ms, share → %, `171 M lines/s`), and the
//! terminal table of the harness uses too.
//!
//! ```
//! use isobench_reports::{render_markdown, schema::Results};
//! # fn demo(text: &str) -> Result<(), isobench_reports::schema::SchemaError> {
//! let results = Results::from_json(text)?;
//! println!("{}", render_markdown(&results));
//! # Ok(()) }
//! ```
#![deny(missing_docs)]
#![deny(unsafe_code)]

mod charts;
mod compared;
pub mod comparison;
pub mod cpu_view;
mod escape;
pub mod fleet;
mod fleet_html;
mod fleet_markdown;
mod format;
mod html;
mod legend;
mod markdown;
mod memory_html;
mod metric_names;
mod palette;
pub mod schema;
pub mod schema_phases;
pub mod schema_sweep;
mod slices_html;
mod startup_html;
mod startup_runtimes;
mod sweep_html;
mod sweep_text;
mod timeline;
mod units;
pub mod verdict;

pub use compared::{
    change_lines, comparison_notes, metric_label, outcome_text, render_comparison_markdown,
    row_text,
};
pub use fleet_html::render_fleet_html;
pub use fleet_markdown::render_fleet_markdown;
pub use html::{render_html, render_html_with_comparison};
pub use markdown::render_markdown;
pub use metric_names::aggressor_sandboxes;
pub use sweep_text::sweep_markdown;
pub use units::{MetricCells, Notes, metric_cells};
pub use verdict::verdict_lines;

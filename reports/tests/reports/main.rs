//! Tests of the reports crate against a realistic results document
//! ([`fixture::results`]) and a real run of the full default suite
//! (tests/fixtures/full-default.json): HTML validity and content, the memory
//! timelines, legends, the comparison section, size and render time, the
//! Markdown summary, verdict lines and schema versioning.

mod change_lines;
mod dom;
mod fixture;
mod full;
mod html;
mod markdown;
mod schema;
mod verdict;

//! Tests of the reports crate against a realistic results document
//! ([`fixture::results`]): HTML validity and content, the Markdown summary,
//! verdict lines and schema versioning.

mod dom;
mod fixture;
mod html;
mod markdown;
mod schema;
mod verdict;

//! Suites as TOML files (`isobench run --suite FILE`): defaults and scenarios,
//! checked completely before anything starts, every problem reported with its
//! file, line, column and field. The embedded `default` and `quick` suites are
//! written in the same format (`harness/suites/*.toml`, shown by
//! `isobench suite show NAME`); docs/suite-format.md describes it.

mod command;
pub mod error;
mod groups;
mod limits;
mod margins;
pub mod model;
mod parse;
pub mod phase;
mod reader;
pub mod run_args;
mod sweep;

pub use command::{find_with_env, sandbox_name};
pub use error::{SuiteError, SuiteErrors};
pub use groups::beyond_groups;
pub use limits::{HostFacts, discover_host, from_words};
pub use model::*;
pub use reader::did_you_mean;

use std::path::Path;

/// The embedded suites: name and text.
pub const EMBEDDED: [(&str, &str); 2] = [
    ("default", include_str!("../../suites/default.toml")),
    ("quick", include_str!("../../suites/quick.toml")),
];

/// The text of embedded suite `name`.
pub fn embedded_text(name: &str) -> Option<&'static str> {
    EMBEDDED.iter().find(|(n, _)| *n == name).map(|(_, t)| *t)
}

/// A suite that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// Neither an embedded suite nor a readable file.
    #[error(
        "unknown suite {path:?}: the embedded suites are {}, and as a file it cannot be read ({error})",
        embedded_names()
    )]
    Read {
        /// The path given.
        path: String,
        /// Why it cannot be read.
        error: std::io::Error,
    },
    /// Larger than any suite needs.
    #[error("suite file {path} is {bytes} bytes: at most {MAX_FILE_BYTES} bytes are accepted")]
    TooLarge {
        /// The path given.
        path: String,
        /// Its size.
        bytes: u64,
    },
    /// Problems in the file.
    #[error("{0}")]
    Invalid(#[from] SuiteErrors),
}

fn embedded_names() -> String {
    EMBEDDED.map(|(n, _)| n).join(", ")
}

/// Largest suite file read, bytes (the default suite is about 5 KB; parsing
/// takes about 40 bytes of memory per byte of text).
pub const MAX_FILE_BYTES: u64 = 1 << 20;

/// Loads `what`: the name of an embedded suite, else the path of a suite file.
///
/// # Errors
/// [`LoadError::Read`] for a file that cannot be read; [`LoadError::Invalid`] with every problem of the file.
pub fn load(what: &str, host: &HostFacts) -> Result<Suite, LoadError> {
    if let Some(text) = embedded_text(what) {
        return Ok(parse::parse(text, &format!("embedded:{what}"), what, host)?);
    }
    let path = Path::new(what);
    let read_error = |error| LoadError::Read {
        path: what.to_string(),
        error,
    };
    let meta = std::fs::metadata(path).map_err(read_error)?;
    if !meta.is_file() {
        return Err(read_error(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "not a regular file (a directory, FIFO or device)",
        )));
    }
    let bytes = meta.len();
    if bytes > MAX_FILE_BYTES {
        return Err(LoadError::TooLarge {
            path: what.to_string(),
            bytes,
        });
    }
    let text = std::fs::read_to_string(path).map_err(|error| LoadError::Read {
        path: what.to_string(),
        error,
    })?;
    let stem = path
        .file_stem()
        .map_or("suite".into(), |s| s.to_string_lossy().into_owned());
    Ok(parse::parse(&text, what, &stem, host)?)
}

/// Parses suite `text` read from `origin` (for messages).
///
/// # Errors
/// Every problem of the text, each with its line, column and field.
pub fn parse_text(text: &str, origin: &str, host: &HostFacts) -> Result<Suite, SuiteErrors> {
    parse::parse(text, origin, "suite", host)
}

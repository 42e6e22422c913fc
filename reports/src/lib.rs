//! tmp
pub mod schema;

use crate::fixture;
use isobench_reports::schema::{Results, SchemaError};

#[test]
fn current_version_is_read_with_every_field() {
    let text = serde_json::to_string_pretty(&fixture::results()).unwrap();
    let read = Results::from_json(&text).unwrap();
    let as_written: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(serde_json::to_value(read).unwrap(), as_written);
}

#[test]
fn other_schema_version_is_rejected_naming_that_version() {
    let mut document = serde_json::to_value(fixture::results()).unwrap();
    document["schema_version"] = 7.into();
    let error = Results::from_json(&document.to_string()).unwrap_err();
    assert!(
        matches!(&error, SchemaError::Version(v) if v == "7"),
        "{error:?}"
    );
    let message = error.to_string();
    assert!(message.contains("schema_version 7"), "{message}");
}

#[test]
fn document_without_version_is_rejected_as_such() {
    let mut document = serde_json::to_value(fixture::results()).unwrap();
    document.as_object_mut().unwrap().remove("schema_version");
    let error = Results::from_json(&document.to_string()).unwrap_err();
    assert!(
        matches!(&error, SchemaError::Version(v) if v == "missing"),
        "{error:?}"
    );
}

//! Snapshots of whole findings, traces included, for one representative
//! fixture per language: the wording, the CWE, the severity/confidence and
//! every step from source to sink are what a user reads, so any change to
//! them shows up in review.
#![allow(clippy::unwrap_used)] // tests

use std::path::Path;

use pipeguard_sast::Engine;
use pipeguard_testkit::snapshots::assert_snapshot_files;
use serde_json::{Value, json};

fn findings(rel: &str) -> Value {
    let engine = Engine::new().unwrap();
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(rel);
    let src = std::fs::read(&path).unwrap();
    let (mut found, _) = engine.scan_file(rel, &src);
    found.sort_by_key(|f| (f.locations[0].line, f.rule_id.clone()));
    Value::Array(
        found
            .iter()
            .filter(|f| !f.flow.is_empty())
            .map(|f| {
                json!({
                    "rule": f.rule_id,
                    "cwe": f.aliases,
                    "severity": f.severity,
                    "confidence": f.confidence,
                    "at": format!("{}:{}", f.locations[0].line.unwrap(), f.locations[0].column.unwrap()),
                    "message": f.message,
                    "flow": f.flow.iter().map(|s| format!(
                        "{}:{} {}",
                        s.location.line.unwrap(),
                        s.location.column.unwrap(),
                        s.message
                    )).collect::<Vec<_>>(),
                })
            })
            .collect(),
    )
}

#[test]
fn python_traces() {
    insta::assert_json_snapshot!(findings("python/sql_injection.py"));
}

#[test]
fn javascript_traces() {
    insta::assert_json_snapshot!(findings("javascript/express.js"));
}

#[test]
fn java_traces() {
    insta::assert_json_snapshot!(findings("java/Servlet.java"));
}

#[test]
fn go_traces() {
    insta::assert_json_snapshot!(findings("go/handlers.go"));
}

/// insta never deletes a snapshot: one left by a removed or renamed test
/// fails here. The list is the test functions above (insta names each
/// snapshot after its function), so adding a test means adding its name.
#[test]
fn snapshots_are_exactly_those_of_the_tests_above() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/snapshots");
    assert_snapshot_files(
        &dir,
        module_path!(),
        [
            "python_traces",
            "javascript_traces",
            "java_traces",
            "go_traces",
        ]
        .map(String::from),
    );
}

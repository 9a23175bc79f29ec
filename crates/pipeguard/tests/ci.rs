//! `pipeguard ci` end to end: real-shaped workflows, exact lines, a malformed
//! file that does not stop the audit, inline suppression, SARIF.

mod common;

use std::path::Path;

use common::*;

const PWN: &str = "name: pr
on:
  pull_request_target:
jobs:
  build:
    runs-on: ubuntu-latest
    permissions:
      contents: read
    steps:
      - uses: actions/checkout@v4
        with:
          ref: ${{ github.event.pull_request.head.sha }}
          persist-credentials: false
      - run: |
          echo \"${{ github.event.pull_request.title }}\"
          npm ci
      - uses: tj-actions/changed-files@v44 # pipeguard: ignore[unpinned-action]
";

#[test]
fn audits_report_exact_lines_and_survive_bad_files() {
    let tmp = tempfile::tempdir().expect("tmp");
    let d = tmp.path();
    write(d, ".github/workflows/pr.yml", PWN);
    write(d, ".github/workflows/broken.yml", "jobs:\n  a: [1, 2\n");
    let out = pipeguard()
        .args(["ci", "-f", "json"])
        .arg(d)
        .assert()
        .code(1);
    let v = json(&out.get_output().stdout);
    let got: Vec<String> = v["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| {
            format!(
                "{}@{}",
                f["rule_id"].as_str().unwrap_or(""),
                f["locations"][0]["line"]
            )
        })
        .collect();
    assert!(
        got.contains(&"untrusted-checkout@12".to_string()),
        "{got:?}"
    );
    assert!(
        got.contains(&"template-injection@15".to_string()),
        "{got:?}"
    );
    // Suppressed inline.
    assert!(
        !got.iter().any(|g| g.starts_with("unpinned-action")),
        "{got:?}"
    );
    // persist-credentials: false is respected.
    assert!(
        !got.iter().any(|g| g.starts_with("persisted-credentials")),
        "{got:?}"
    );
    let problems = serde_json::to_string(&v["problems"]).expect("ser");
    assert!(
        problems.contains("broken.yml") && problems.contains("\"line\":"),
        "{problems}"
    );

    // SARIF is valid against the schema.
    let out = pipeguard()
        .args(["ci", "-f", "sarif"])
        .arg(d)
        .assert()
        .code(1);
    let sarif = json(&out.get_output().stdout);
    let schema: serde_json::Value =
        serde_json::from_str(include_str!("data/sarif-schema-2.1.0.json")).expect("schema");
    let validator = jsonschema::validator_for(&schema).expect("compile");
    let errors: Vec<String> = validator
        .iter_errors(&sarif)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{errors:?}");
}

#[test]
fn suggested_permissions_follow_the_steps() {
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/examples");
    let out = pipeguard()
        .args(["ci", "--suggest-permissions"])
        .arg(&examples)
        .assert()
        .code(0);
    let text = String::from_utf8_lossy(&out.get_output().stdout).into_owned();
    assert!(
        text.contains("job publish\npermissions:\n  attestations: write\n  contents: read\n  id-token: write\n"),
        "{text}"
    );
    assert!(
        text.contains("job github-release\npermissions:\n  contents: write\n"),
        "{text}"
    );
    assert!(
        text.contains(
            "job coverage-comment\npermissions:\n  contents: read\n  pull-requests: write\n"
        ),
        "{text}"
    );
}

#[test]
fn fix_inserts_minimal_permissions_and_literal_secrets_are_found() {
    let tmp = tempfile::tempdir().expect("tmp");
    let d = tmp.path();
    let key = age_key(11);
    let wf = format!(
        "on: push\njobs:\n  test:\n    runs-on: ubuntu-latest\n    env:\n      AGE_IDENTITY: {key}\n    steps:\n      - uses: actions/checkout@v4\n      - run: make test\n"
    );
    write(d, ".github/workflows/t.yml", &wf);
    let out = pipeguard()
        .args(["ci", "-f", "json"])
        .arg(d)
        .assert()
        .code(1);
    let v = json(&out.get_output().stdout);
    let ids: Vec<&str> = v["findings"]
        .as_array()
        .expect("f")
        .iter()
        .filter_map(|f| f["rule_id"].as_str())
        .collect();
    assert!(ids.contains(&"age-secret-key"), "{ids:?}");
    assert!(ids.contains(&"excessive-permissions"), "{ids:?}");
    assert!(!String::from_utf8_lossy(&out.get_output().stdout).contains(&key));

    pipeguard()
        .args(["ci", "--fix", "-f", "json"])
        .arg(d)
        .assert()
        .code(1);
    let fixed = std::fs::read_to_string(d.join(".github/workflows/t.yml")).expect("read");
    assert_eq!(
        fixed,
        wf.replace(
            "  test:\n",
            "  test:\n    permissions:\n      contents: read\n"
        )
    );
    let out = pipeguard()
        .args(["ci", "-f", "json"])
        .arg(d)
        .assert()
        .code(1);
    let v = json(&out.get_output().stdout);
    assert!(
        !v["findings"]
            .as_array()
            .expect("f")
            .iter()
            .any(|f| f["rule_id"] == "excessive-permissions"),
        "{v:#}"
    );
}

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

/// Issue #15: `pipeguard ci FILE` on a workflow outside `.github/workflows/`
/// audited nothing, and only one path was accepted. Files are now read by
/// their content wherever they live, any number of paths is taken, and a
/// file that is no CI file is a reported problem.
#[test]
fn explicit_paths_are_audited_by_their_content() {
    let tmp = tempfile::tempdir().expect("tmp");
    let d = tmp.path();
    write(d, "ci/build.yml", PWN);
    write(
        d,
        "templates/deploy.yml",
        "stages: [deploy]\ndeploy:\n  stage: deploy\n  image: alpine:latest\n  script:\n    - ./deploy.sh\n",
    );
    write(
        d,
        "actions/setup/action.yml",
        "name: setup\nruns:\n  using: composite\n  steps:\n    - run: echo \"${{ inputs.name }}\"\n      shell: bash\n",
    );
    write(d, "repo/.github/workflows/ok.yml", PWN);
    write(d, "notes/config.yml", "name: not ci\nversion: 2\n");
    let out = pipeguard()
        .current_dir(d)
        .args([
            "ci",
            "-f",
            "json",
            "ci/build.yml",
            "templates/deploy.yml",
            "actions/setup",
            "repo",
            "notes/config.yml",
        ])
        .assert()
        .code(1);
    let v = json(&out.get_output().stdout);
    let got: Vec<String> = v["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| {
            format!(
                "{}@{}:{}",
                f["rule_id"].as_str().unwrap_or(""),
                f["locations"][0]["path"].as_str().unwrap_or(""),
                f["locations"][0]["line"]
            )
        })
        .collect();
    for want in [
        "template-injection@ci/build.yml:15",
        "untrusted-checkout@ci/build.yml:12",
        "gitlab-unpinned-image@templates/deploy.yml:4",
        "template-injection@actions/setup/action.yml:5",
        "template-injection@repo/.github/workflows/ok.yml:15",
    ] {
        assert!(got.iter().any(|g| g == want), "{want} not in {got:?}");
    }
    let problems = serde_json::to_string(&v["problems"]).expect("ser");
    assert!(
        problems.contains("notes/config.yml") && problems.contains("not a CI file"),
        "{problems}"
    );
}

const UNKNOWN_RELEASE: &str = "name: release
on:
  push:
    tags: ['v*']
jobs:
  rebase:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - uses: acme/rebase-and-push@v2
        env:
          GITHUB_TOKEN: ${{ secrets.GITHUB_TOKEN }}
";

/// Issue #15: `--fix` wrote `contents: read` into jobs running actions it
/// did not know (which push, or open issues), with "confidence: high".
#[test]
fn fix_leaves_a_job_with_an_unknown_action_byte_identical_until_the_policy_declares_it() {
    let tmp = tempfile::tempdir().expect("tmp");
    let d = tmp.path();
    write(d, ".github/workflows/release.yml", UNKNOWN_RELEASE);
    let out = pipeguard()
        .args(["ci", "--suggest-permissions"])
        .arg(d)
        .assert()
        .code(0);
    let text = String::from_utf8_lossy(&out.get_output().stdout).into_owned();
    assert!(
        text.contains("job rebase\n# permissions unknown: cannot tell what acme/rebase-and-push do with the token"),
        "{text}"
    );
    let out = pipeguard()
        .args(["ci", "--fix", "-f", "json"])
        .arg(d)
        .assert()
        .code(1);
    let after = std::fs::read_to_string(d.join(".github/workflows/release.yml")).expect("read");
    assert_eq!(after, UNKNOWN_RELEASE);
    let v = json(&out.get_output().stdout);
    let default = v["findings"]
        .as_array()
        .expect("f")
        .iter()
        .find(|f| f["rule_id"] == "excessive-permissions")
        .expect("the default token is still reported");
    assert_eq!(default["confidence"], "low", "{default:#}");
    assert!(
        default["message"]
            .as_str()
            .is_some_and(|m| m.contains("`acme/rebase-and-push`")),
        "{default:#}"
    );

    // Declared in the policy, the action is known and the job is fixed.
    write(
        d,
        "pipeguard.toml",
        "[ci.actions.\"acme/rebase-and-push\"]\npermissions = { contents = \"write\", pull-requests = \"read\" }\n",
    );
    pipeguard()
        .args(["ci", "--fix", "-f", "json"])
        .arg(d)
        .assert()
        .code(1);
    let after = std::fs::read_to_string(d.join(".github/workflows/release.yml")).expect("read");
    assert_eq!(
        after,
        UNKNOWN_RELEASE.replace(
            "  rebase:\n",
            "  rebase:\n    permissions:\n      contents: write\n      pull-requests: read\n"
        )
    );

    // A typo in the declaration points at its line.
    write(
        d,
        "pipeguard.toml",
        "fail-on = \"high\"\n\n[ci.actions.\"acme/rebase-and-push\"]\npermissions = { content = \"write\" }\n",
    );
    let out = pipeguard().args(["ci"]).arg(d).assert().code(2);
    let err = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    assert!(
        err.contains("pipeguard.toml:3") && err.contains("unknown permission scope `content`"),
        "{err}"
    );
}

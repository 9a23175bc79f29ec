//! Test data is reported but does not fail the gate (issue #18): findings
//! whose places are all under test/fixture/example directories (or in test
//! files by name) are tagged `test`; the built-in profiles show them but do
//! not count them, except real-looking credentials; `test-findings =
//! "count"` counts them; `[scan] test-dirs` replaces the directory list.

mod common;

use std::path::Path;

use common::*;

fn scan(d: &Path) -> (i32, serde_json::Value) {
    let out = pipeguard()
        .args([
            "scan",
            "--only",
            "secrets,dockerfile",
            "--profile",
            "main",
            "--no-progress",
            "--no-cache",
            "-f",
            "json",
        ])
        .arg(d)
        .env_remove("GITHUB_EVENT_NAME")
        .env_remove("PIPEGUARD_PROFILE")
        .output()
        .expect("run");
    let v = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("no JSON ({e}): {}", String::from_utf8_lossy(&out.stderr)));
    (out.status.code().unwrap_or(-1), v)
}

fn by_path<'a>(v: &'a serde_json::Value, path: &str) -> Vec<&'a serde_json::Value> {
    v["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| {
            f["locations"][0]["path"]
                .as_str()
                .is_some_and(|p| p.starts_with(path))
        })
        .collect()
}

#[test]
fn fixture_findings_are_tagged_and_do_not_fail_but_credentials_do() {
    let t = tempfile::tempdir().expect("tmp");
    let d = t.path();
    // A generic password and a root Dockerfile in fixtures: test data.
    write(
        d,
        "tests/fixtures/app.env",
        format!("db_password = \"{}\"\n", password("fixture")),
    );
    write(
        d,
        "examples/Dockerfile",
        "FROM python:3.12\nCMD [\"python\"]\n",
    );
    write(d, "src/app.py", "print('hello')\n");
    let (code, v) = scan(d);
    assert_eq!(code, 0, "{v}");
    for f in by_path(&v, "tests/")
        .into_iter()
        .chain(by_path(&v, "examples/"))
    {
        assert_eq!(f["tags"], serde_json::json!(["test"]), "{f}");
        assert_eq!(f["blocking"], false, "{f}");
    }
    assert!(
        !by_path(&v, "tests/").is_empty() && !by_path(&v, "examples/").is_empty(),
        "{v}"
    );

    // The same password outside test data fails, and is not tagged.
    write(
        d,
        "config/app.env",
        format!("db_password = \"{}\"\n", password("prod")),
    );
    let (code, v) = scan(d);
    assert_eq!(code, 1, "{v}");
    let prod = by_path(&v, "config/");
    assert!(
        prod[0].get("tags").is_none() && prod[0].get("blocking").is_none(),
        "{v}"
    );
    std::fs::remove_file(d.join("config/app.env")).expect("rm");

    // A real-looking credential (a checksummed GitHub token) counts even in tests.
    write(
        d,
        "tests/fixtures/ci.env",
        format!("GITHUB_TOKEN={}\n", github_token(3)),
    );
    let (code, v) = scan(d);
    assert_eq!(code, 1, "{v}");
    let token = v["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .find(|f| f["rule_id"] == "github-pat-classic")
        .expect("token finding");
    assert_eq!(token["tags"], serde_json::json!(["test"]));
    assert!(token.get("blocking").is_none(), "{token}");
}

#[test]
fn profiles_can_count_test_findings_and_choose_the_directories() {
    let t = tempfile::tempdir().expect("tmp");
    let d = t.path();
    write(
        d,
        "tests/fixtures/app.env",
        format!("db_password = \"{}\"\n", password("fixture")),
    );
    write(
        d,
        "pipeguard.toml",
        "[profile.main]\ntest-findings = \"count\"\n",
    );
    assert_eq!(scan(d).0, 1);
    // Another directory list: `tests/` is no longer test data, `qa/` is.
    write(d, "pipeguard.toml", "[scan]\ntest-dirs = [\"qa\"]\n");
    assert_eq!(scan(d).0, 1);
    std::fs::rename(d.join("tests"), d.join("qa")).expect("mv");
    assert_eq!(scan(d).0, 0);
}

/// Regression (juice-shop, 33518f5): well-formed JWTs in spec files are
/// test fixtures; they were counted as real-looking credentials and failed
/// the gate eleven times.
#[test]
fn a_jwt_in_a_spec_file_is_reported_but_not_counted() {
    use base64::Engine as _;
    let b64 = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
    let jwt = format!(
        "{}.{}.{}",
        b64(r#"{"alg":"HS256","typ":"JWT"}"#),
        b64(r#"{"sub":"1234567890","name":"Test User","iat":1516239022}"#),
        b64(&password("jwt-signature"))
    );
    let t = tempfile::tempdir().expect("tmp");
    let d = t.path();
    write(
        d,
        "frontend/src/app/app.guard.spec.ts",
        format!("localStorage.setItem('token', '{jwt}')\n"),
    );
    let (code, v) = scan(d);
    let f = v["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .find(|f| f["rule_id"] == "jwt")
        .unwrap_or_else(|| panic!("the JWT is reported: {v}"));
    assert_eq!(f["tags"], serde_json::json!(["test"]), "{f}");
    assert_eq!(f["blocking"], false, "{f}");
    assert_eq!(code, 0, "{v}");
}

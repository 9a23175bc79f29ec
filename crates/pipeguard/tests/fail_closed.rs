//! The gate fails closed (issue #17): what could not be checked never
//! passes. Without an advisory database, with one that lacks an ecosystem
//! the lockfiles need, or with one older than the policy allows, `scan`
//! exits 2 and says why, unless the profile says `on-error = "warn"`; the
//! release profile never warns.

mod common;

use std::path::Path;

use common::*;

/// A tree with one npm lockfile (one package, not known vulnerable).
fn tree(d: &Path) {
    write(
        d,
        "package-lock.json",
        r#"{"name":"app","lockfileVersion":3,"packages":{"":{"name":"app","dependencies":{"left-pad":"1.3.0"}},"node_modules/left-pad":{"version":"1.3.0","resolved":"https://registry.npmjs.org/left-pad/-/left-pad-1.3.0.tgz","integrity":"sha512-XI5MPzVNApjAyhQzphX8BkmKsKUxD4LdyK24iZeQhS3VIUHjDzbDh0uvVpFZkLe28ZLdSUJcbjHo5+zYFHzVQw=="}}}"#,
    );
}

fn scan(d: &Path, db: &Path, extra: &[&str]) -> (i32, serde_json::Value, String) {
    let out = pipeguard()
        .args([
            "scan",
            "--only",
            "deps",
            "--no-progress",
            "-f",
            "json",
            "--db",
        ])
        .arg(db)
        .args(extra)
        .arg(d)
        .env_remove("GITHUB_EVENT_NAME")
        .env_remove("PIPEGUARD_PROFILE")
        .output()
        .expect("run");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let v = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("no JSON report ({e}); stderr: {stderr}"));
    (out.status.code().unwrap_or(-1), v, stderr)
}

#[test]
fn no_database_fails_the_gate_with_the_reason() {
    let t = tempfile::tempdir().expect("tmp");
    let d = t.path().join("repo");
    tree(&d);
    let empty = t.path().join("no-db");
    for profile in ["release", "main"] {
        let (code, v, stderr) = scan(&d, &empty, &["--profile", profile]);
        assert_eq!(code, 2, "{profile}: {stderr}");
        assert!(stderr.contains("not checked"), "{stderr}");
        let unchecked = v["unchecked"].as_array().expect("unchecked in the report");
        assert!(
            unchecked
                .iter()
                .any(|u| u.as_str().is_some_and(|s| s.starts_with("deps:"))),
            "{unchecked:?}"
        );
    }
    // The human verdict does not say PASS.
    let out = pipeguard()
        .args([
            "scan",
            "--only",
            "deps",
            "--no-progress",
            "--profile",
            "release",
            "--db",
        ])
        .arg(&empty)
        .arg(&d)
        .output()
        .expect("run");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("INCOMPLETE") && !text.contains("PASS"),
        "{text}"
    );
}

#[test]
fn warn_lists_the_problem_and_exits_by_findings_but_release_never_warns() {
    let t = tempfile::tempdir().expect("tmp");
    let d = t.path().join("repo");
    tree(&d);
    write(
        &d,
        "pipeguard.toml",
        "[profile.main]\non-error = \"warn\"\n",
    );
    let empty = t.path().join("no-db");
    let (code, v, stderr) = scan(&d, &empty, &["--profile", "main"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(v.get("unchecked").is_none(), "{v}");
    assert!(
        v["problems"]
            .to_string()
            .contains("vulnerabilities not checked"),
        "{}",
        v["problems"]
    );
    write(
        &d,
        "pipeguard.toml",
        "[profile.release]\non-error = \"warn\"\n",
    );
    let out = pipeguard()
        .args(["scan", "--profile", "release", "--no-progress"])
        .arg(&d)
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("never passes what it could not check"),
        "{stderr}"
    );
}

#[test]
fn a_database_without_the_lockfiles_ecosystem_is_incomplete() {
    let t = tempfile::tempdir().expect("tmp");
    let d = t.path().join("repo");
    tree(&d);
    // A database of crates.io advisories only: the npm packages go unchecked.
    let db = t.path().join("db");
    let crates = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../pipeguard-deps/tests/fixtures/osv/crates.io");
    pipeguard()
        .args(["db", "update", "--from"])
        .arg(&crates)
        .arg("--db")
        .arg(&db)
        .assert()
        .code(0);
    let (code, v, stderr) = scan(&d, &db, &["--profile", "main"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        v["unchecked"].to_string().contains("no npm advisories"),
        "{v}"
    );
    // With every ecosystem the same tree passes.
    let full = fixture_db(t.path());
    let (code, v, stderr) = scan(&d, &full, &["--profile", "main"]);
    assert_eq!(code, 0, "{stderr} {v}");
    assert!(v.get("unchecked").is_none());
}

#[test]
fn a_stale_database_is_incomplete() {
    let t = tempfile::tempdir().expect("tmp");
    let d = t.path().join("repo");
    tree(&d);
    let db = fixture_db(t.path());
    // Age the import: the database says when each ecosystem was imported.
    let meta = db.join("meta.json");
    let text = std::fs::read_to_string(&meta).expect("meta.json");
    let mut v: serde_json::Value = serde_json::from_str(&text).expect("json");
    for (_, eco) in v["ecosystems"].as_object_mut().expect("ecosystems") {
        eco["imported_at"] = "2020-01-01T00:00:00Z".into();
    }
    std::fs::write(&meta, v.to_string()).expect("write");
    let (code, v, stderr) = scan(&d, &db, &["--profile", "main"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(v["unchecked"].to_string().contains("days old"), "{v}");
}

#[test]
fn lockfiles_whose_findings_are_ignored_whole_are_no_gap() {
    let t = tempfile::tempdir().expect("tmp");
    let d = t.path().join("repo");
    // The npm lockfile is test data: every finding under it is ignored, so
    // a database without npm advisories cannot change the verdict.
    write(
        &d,
        "tests/fixtures/package-lock.json",
        r#"{"name":"app","lockfileVersion":3,"packages":{"":{"name":"app"},"node_modules/left-pad":{"version":"1.3.0","resolved":"https://registry.npmjs.org/left-pad/-/left-pad-1.3.0.tgz","integrity":"sha512-XI5MPzVNApjAyhQzphX8BkmKsKUxD4LdyK24iZeQhS3VIUHjDzbDh0uvVpFZkLe28ZLdSUJcbjHo5+zYFHzVQw=="}}}"#,
    );
    write(
        &d,
        "pipeguard.toml",
        "[[ignore]]\npath = \"tests/fixtures/**\"\nreason = \"test data\"\n",
    );
    let db = t.path().join("db");
    let crates = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../pipeguard-deps/tests/fixtures/osv/crates.io");
    pipeguard()
        .args(["db", "update", "--from"])
        .arg(&crates)
        .arg("--db")
        .arg(&db)
        .assert()
        .code(0);
    let (code, v, stderr) = scan(&d, &db, &["--profile", "main"]);
    assert_eq!(code, 0, "{stderr} {v}");
    // An ignore of one rule there is not enough: other findings still count.
    write(
        &d,
        "pipeguard.toml",
        "[[ignore]]\nrule = \"missing-integrity\"\npath = \"tests/fixtures/**\"\nreason = \"test data\"\n",
    );
    let (code, _, stderr) = scan(&d, &db, &["--profile", "main"]);
    assert_eq!(code, 2, "{stderr}");
}

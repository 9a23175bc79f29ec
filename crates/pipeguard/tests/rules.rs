//! The rule registry, end to end: `pipeguard rules` lists every analyzer's
//! rules with docs and help links, ids are unique, every rule has a fixture,
//! SARIF carries the registry's metadata, and the generated reference
//! (docs/rules.md and the README's table) is fresh.

mod common;

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};

use common::pipeguard;
use serde_json::Value;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn rules_json() -> Vec<Value> {
    let out = pipeguard()
        .args(["rules", "--format", "json"])
        .current_dir(repo())
        .output()
        .expect("run");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice::<Value>(&out.stdout)
        .expect("json")
        .as_array()
        .expect("array")
        .clone()
}

#[test]
fn every_analyzer_lists_documented_rules_with_unique_ids() {
    let rules = rules_json();
    let mut per: BTreeMap<String, usize> = BTreeMap::new();
    let mut ids = HashSet::new();
    for r in &rules {
        let id = r["id"].as_str().expect("id");
        assert!(ids.insert(id.to_string()), "rule id `{id}` is used twice");
        assert!(
            id.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'),
            "`{id}` is not kebab-case"
        );
        let docs = r["docs"].as_str().unwrap_or_default();
        assert!(docs.len() > 40, "`{id}` has no real docs: {docs:?}");
        assert!(
            r["help_uri"]
                .as_str()
                .is_some_and(|u| u.ends_with(&format!("docs/rules.md#{id}"))),
            "`{id}`: {}",
            r["help_uri"]
        );
        assert!(
            !r["fix"].as_str().unwrap_or_default().is_empty(),
            "`{id}` has no fix"
        );
        *per.entry(r["analyzer"].as_str().expect("analyzer").to_string())
            .or_default() += 1;
    }
    for an in ["secrets", "deps", "ci", "dockerfile", "image", "code"] {
        assert!(
            per.get(an).copied().unwrap_or(0) > 0,
            "no {an} rules in {per:?}"
        );
    }
    // The secret rules keep their prefilter keywords (bench/secrets.sh reads them).
    assert!(
        rules
            .iter()
            .filter(|r| r["analyzer"] == "secrets")
            .all(|r| r["keywords"].as_array().is_some_and(|k| !k.is_empty()))
    );
    // --analyzer narrows the list; an unknown one is a usage error.
    let out = pipeguard()
        .args(["rules", "--analyzer", "dockerfile", "--format", "json"])
        .output()
        .expect("run");
    let only: Vec<Value> = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(only.len(), per["dockerfile"]);
    pipeguard()
        .args(["rules", "--analyzer", "nope"])
        .assert()
        .code(2);
}

/// Every text file under `dir`, concatenated (fixtures and tests).
fn corpus(dirs: &[&str]) -> String {
    let mut text = String::new();
    let mut stack: Vec<PathBuf> = dirs.iter().map(|d| repo().join(d)).collect();
    while let Some(p) = stack.pop() {
        if p.is_dir() {
            for e in std::fs::read_dir(&p).expect("read_dir").flatten() {
                stack.push(e.path());
            }
        } else if let Ok(t) = std::fs::read_to_string(&p) {
            text.push_str(&t);
            text.push('\n');
        }
    }
    text
}

#[test]
fn every_rule_has_a_fixture() {
    // Where each analyzer's fixtures and fixture-driven tests live. Secret
    // rules carry their fixtures inline (`examples`, checked by the secrets
    // crate's self-test), so the secrets corpus is the rule files.
    let places: [(&str, &[&str]); 6] = [
        ("secrets", &["crates/pipeguard-secrets/rules"]),
        (
            "deps",
            &[
                "crates/pipeguard-deps",
                "crates/pipeguard-lockfile",
                "crates/pipeguard/tests/deps.rs",
            ],
        ),
        ("ci", &["crates/pipeguard-ci/tests"]),
        ("dockerfile", &["crates/pipeguard-container/tests"]),
        (
            "image",
            &[
                "crates/pipeguard-container/src/image/tests.rs",
                "crates/pipeguard/tests/common",
            ],
        ),
        (
            "code",
            &[
                "crates/pipeguard-sast/tests",
                // Structural rules carry their fixtures inline too
                // (`examples`, proven to fire by the sast crate's tests).
                "crates/pipeguard-sast/rules",
                "crates/pipeguard-sast/examples",
            ],
        ),
    ];
    let rules = rules_json();
    let mut missing = Vec::new();
    for (an, dirs) in places {
        let text = corpus(dirs);
        for r in rules.iter().filter(|r| r["analyzer"] == an) {
            let id = r["id"].as_str().expect("id");
            // Data-flow rules are per language (`python-sql-injection`); their
            // fixtures are named by the rule without the language too.
            if !text.contains(id) {
                missing.push(format!("{an}/{id}"));
            }
        }
    }
    assert!(missing.is_empty(), "rules without a fixture: {missing:?}");
}

#[test]
fn sarif_rules_carry_cwe_tags_help_and_links() {
    let dir = tempfile::tempdir().expect("tmp");
    std::fs::write(
        dir.path().join("app.py"),
        "from flask import request\nimport subprocess\n\ndef run():\n    subprocess.call(request.args['cmd'], shell=True)\n",
    )
    .expect("write");
    std::fs::write(
        dir.path().join("Dockerfile"),
        "FROM python:3.12\nCMD [\"python\"]\n",
    )
    .expect("write");
    for args in [
        vec!["code", "-f", "sarif", "."],
        vec!["dockerfile", "-f", "sarif", "."],
    ] {
        let out = pipeguard()
            .args(&args)
            .current_dir(dir.path())
            .output()
            .expect("run");
        let sarif: Value = serde_json::from_slice(&out.stdout).expect("sarif");
        let rules = sarif["runs"][0]["tool"]["driver"]["rules"]
            .as_array()
            .expect("rules")
            .clone();
        assert!(!rules.is_empty(), "{args:?}: no rules");
        for r in &rules {
            let id = r["id"].as_str().expect("id");
            assert!(
                r["helpUri"]
                    .as_str()
                    .is_some_and(|u| u.ends_with(&format!("#{id}"))),
                "{args:?} {id}: {r}"
            );
            assert!(
                r["help"]["markdown"]
                    .as_str()
                    .is_some_and(|m| m.contains("## Fix"))
            );
            assert!(r["properties"]["security-severity"].is_string());
        }
        if args[0] == "code" {
            let tags: Vec<&str> = rules
                .iter()
                .flat_map(|r| r["properties"]["tags"].as_array().into_iter().flatten())
                .filter_map(Value::as_str)
                .collect();
            assert!(tags.contains(&"external/cwe/cwe-78"), "{tags:?}");
        }
    }
}

/// The README's generated blocks: the summary (one row per analyzer) and
/// the CI and Dockerfile rule tables.
fn readme_block(name: &str, rules: &[Value]) -> String {
    if name == "summary" {
        let mut t = String::from(
            "| analyzer | rules | critical | high | medium | low | info |\n|---|---:|---:|---:|---:|---:|---:|\n",
        );
        for an in ["secrets", "deps", "ci", "dockerfile", "image", "code"] {
            let of: Vec<&Value> = rules.iter().filter(|r| r["analyzer"] == an).collect();
            let n = |s: &str| of.iter().filter(|r| r["severity"] == s).count();
            t.push_str(&format!(
                "| [{an}](docs/rules.md#analyzer-{an}) | {} | {} | {} | {} | {} | {} |\n",
                of.len(),
                n("critical"),
                n("high"),
                n("medium"),
                n("low"),
                n("info")
            ));
        }
        return t;
    }
    let mut t = String::from("| rule | severity | what |\n|---|---|---|\n");
    for r in rules.iter().filter(|r| r["analyzer"] == name) {
        let id = r["id"].as_str().unwrap_or_default();
        t.push_str(&format!(
            "| [`{id}`](docs/rules.md#{id}) | {} | {} |\n",
            r["severity"].as_str().unwrap_or_default(),
            r["name"].as_str().unwrap_or_default()
        ));
    }
    t
}

/// README with every generated block replaced by its fresh content.
fn fresh_readme(readme: &str, rules: &[Value]) -> String {
    let mut out = readme.to_string();
    for name in ["summary", "ci", "dockerfile"] {
        let (begin, end) = (
            format!("<!-- rules:{name}:begin -->\n"),
            format!("<!-- rules:{name}:end -->"),
        );
        let (head, rest) = out
            .split_once(&begin)
            .unwrap_or_else(|| panic!("README lacks {begin}"));
        let (_, tail) = rest.split_once(&end).expect("end marker");
        out = format!("{head}{begin}{}{end}{tail}", readme_block(name, rules));
    }
    out
}

#[test]
fn generated_rule_reference_is_fresh() {
    let out = pipeguard()
        .args(["rules", "--format", "markdown"])
        .current_dir(repo())
        .output()
        .expect("run");
    assert!(out.status.success());
    let md = String::from_utf8(out.stdout).expect("utf8");
    let doc_path = repo().join("docs/rules.md");
    let readme_path = repo().join("README.md");
    let readme = std::fs::read_to_string(&readme_path).expect("README");
    let fresh_readme = fresh_readme(&readme, &rules_json());
    if std::env::var_os("UPDATE_RULE_DOCS").is_some() {
        std::fs::write(&doc_path, &md).expect("write docs/rules.md");
        std::fs::write(&readme_path, &fresh_readme).expect("write README");
        return;
    }
    let committed = std::fs::read_to_string(&doc_path).unwrap_or_default();
    assert!(
        committed == md,
        "docs/rules.md is stale: run `UPDATE_RULE_DOCS=1 cargo test -p pipeguard --test rules`"
    );
    assert!(
        readme == fresh_readme,
        "the README's rule tables are stale: run `UPDATE_RULE_DOCS=1 cargo test -p pipeguard --test rules`"
    );
}

//! End to end: `pipeguard code` on a real tree, through the real binary.
#![allow(clippy::unwrap_used)] // tests

mod common;

use common::pipeguard;
use serde_json::Value;

const APP: &str = r#"from flask import Flask, request
import sqlite3, os

app = Flask(__name__)
db = sqlite3.connect("x.db")


@app.route("/u")
def user():
    uid = request.args.get("id")
    query = "SELECT * FROM users WHERE id = " + uid
    db.execute(query)
    db.execute("SELECT * FROM users WHERE id = ?", (uid,))
    return "ok"


@app.route("/ping")
def ping():
    host = request.args.get("host")
    os.system("ping -c 1 " + host)  # pipeguard: ignore[python-command-injection]
    return "ok"
"#;

const HANDLER: &str = r#"const express = require("express");
const app = express();
app.get("/f", (req, res) => {
  const name = req.query.name;
  res.send("<p>" + name + "</p>");
});
"#;

fn tree() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("app.py"), APP).unwrap();
    std::fs::create_dir(dir.path().join("web")).unwrap();
    std::fs::write(dir.path().join("web/server.js"), HANDLER).unwrap();
    // Broken syntax stops neither the scan nor this file's analysis:
    // tree-sitter recovers around the error.
    std::fs::write(
        dir.path().join("broken.py"),
        "def f(:\n  os.system(request.args['x'])\n",
    )
    .unwrap();
    dir
}

fn json_report(args: &[&str], dir: &std::path::Path) -> (i32, Value) {
    let out = pipeguard()
        .arg("code")
        .args(args)
        .args(["-f", "json", "--no-progress"])
        .arg(dir)
        .output()
        .unwrap();
    let report: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    (out.status.code().unwrap(), report)
}

fn rules(report: &Value) -> Vec<String> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            format!(
                "{}@{}:{}",
                f["rule_id"].as_str().unwrap(),
                f["locations"][0]["path"].as_str().unwrap(),
                f["locations"][0]["line"]
            )
        })
        .collect()
}

#[test]
fn finds_flows_with_traces_and_exits_1() {
    let dir = tree();
    let (code, report) = json_report(&[], dir.path());
    assert_eq!(code, 1);
    let mut got = rules(&report);
    got.sort();
    // The parameterized call and the inline-ignored os.system stay silent.
    assert_eq!(
        got,
        vec![
            "javascript-xss@web/server.js:5",
            "python-command-injection@broken.py:2",
            "python-sql-injection@app.py:12"
        ]
    );
    let sqli = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule_id"] == "python-sql-injection")
        .unwrap();
    assert_eq!(sqli["aliases"][0], "CWE-89");
    let steps: Vec<&str> = sqli["flow"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["message"].as_str().unwrap())
        .collect();
    assert_eq!(
        steps,
        vec![
            "request parameter `id` read here",
            "assigned to `uid`",
            "concatenated into `query`",
            "passed to `db.execute` as argument 1 (SQL query)",
        ]
    );
    assert!(
        sqli["message"]
            .as_str()
            .unwrap()
            .contains("query parameter")
    );
    assert_eq!(report["summary"]["files_scanned"], 3);
    let problems = report["problems"].as_array().unwrap();
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert_eq!(problems[0]["path"], "broken.py");
    assert_eq!(problems[0]["line"], 1);
}

#[test]
fn policy_ignores_and_threshold_apply() {
    let dir = tree();
    std::fs::write(
        dir.path().join("pipeguard.toml"),
        "[[ignore]]\nrule = \"CWE-79\"\nreason = \"the page is an internal tool\"\n",
    )
    .unwrap();
    let (code, report) = json_report(&[], dir.path());
    assert_eq!(code, 1);
    let mut got = rules(&report);
    got.sort();
    assert_eq!(
        got,
        vec![
            "python-command-injection@broken.py:2",
            "python-sql-injection@app.py:12"
        ]
    );
    std::fs::remove_file(dir.path().join("broken.py")).unwrap();
    // SQL injection is high; a critical threshold lets the build pass.
    let (code, _) = json_report(&["--fail-on", "critical"], dir.path());
    assert_eq!(code, 0);
}

#[test]
fn sarif_carries_the_code_flow() {
    let dir = tree();
    let out = pipeguard()
        .args(["code", "-f", "sarif", "--no-progress"])
        .arg(dir.path())
        .output()
        .unwrap();
    let sarif: Value = serde_json::from_slice(&out.stdout).unwrap();
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    let sqli = results
        .iter()
        .find(|r| r["ruleId"] == "python-sql-injection")
        .unwrap();
    let locs = sqli["codeFlows"][0]["threadFlows"][0]["locations"]
        .as_array()
        .unwrap();
    assert_eq!(locs.len(), 4);
    assert_eq!(
        locs[0]["location"]["physicalLocation"]["region"]["startLine"],
        10
    );
}

#[test]
fn missing_path_is_a_usage_error() {
    pipeguard()
        .args(["code", "/nonexistent/pipeguard-code-test"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("no such file or directory"));
}

#[test]
fn lists_rules_with_cwes() {
    let out = pipeguard().args(["code", "--list-rules"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).unwrap();
    for id in [
        "python-sql-injection",
        "go-ssrf",
        "java-xpath-injection",
        "javascript-xss",
    ] {
        assert!(text.contains(id), "{id} not listed");
    }
    assert!(text.contains("CWE-89"));
}

//! Triage at scale (issue #18), with the real binary: `--quiet` prints the
//! verdict alone but keeps the exit code and the written reports, and
//! `--group-by` puts each group under a header with its count.

mod common;

use std::path::Path;

use common::*;

/// Three findings of one rule in two files, and one of another rule.
fn tree(d: &Path) {
    write(
        d,
        "deploy/.env",
        format!(
            "GITHUB_TOKEN={}\nBACKUP_TOKEN={}\n",
            github_token(1),
            github_token(2)
        ),
    );
    write(d, "ci/token.txt", format!("{}\n", github_token(3)));
    write(d, "keys/age.txt", format!("{}\n", age_key(5)));
}

fn stdout(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn quiet_prints_only_the_verdict_and_still_fails_and_writes_the_reports() {
    let dir = tempfile::tempdir().expect("tmp");
    let d = dir.path().join("tree");
    tree(&d);
    let json_file = dir.path().join("report.json");
    let sarif_file = dir.path().join("report.sarif");
    let out = pipeguard()
        .args(["secrets", "-q", "-f", "json", "-o"])
        .arg(&json_file)
        .arg("--report")
        .arg(format!("sarif={}", sarif_file.display()))
        .arg(&d)
        .assert()
        .code(1);
    let text = stdout(out.get_output());
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 1, "{text}");
    assert!(
        lines[0].starts_with("4 finding(s) (4 critical)")
            && lines[0].ends_with("FAIL (findings at or above medium)"),
        "{text}"
    );
    // The full reports, with their summaries.
    let v = json(&std::fs::read(&json_file).expect("the -o report"));
    assert_eq!(findings(&v).len(), 4);
    assert_eq!(v["summary"]["by_analyzer"]["secrets"], 4);
    assert_eq!(v["summary"]["by_rule"]["github-pat-classic"], 3);
    assert_eq!(v["summary"]["top_files"][0]["path"], "deploy/.env");
    assert_eq!(v["summary"]["top_files"][0]["findings"], 2);
    let sarif = json(&std::fs::read(&sarif_file).expect("the --report file"));
    assert_eq!(
        sarif["runs"][0]["results"].as_array().map(Vec::len),
        Some(4)
    );
    assert_eq!(
        sarif["runs"][0]["properties"]["summary"]["by_rule"]["github-pat-classic"],
        3
    );

    // Without -o the report is not printed either, in any format.
    let out = pipeguard()
        .args(["secrets", "--quiet", "-f", "sarif"])
        .arg(&d)
        .assert()
        .code(1);
    let text = stdout(out.get_output());
    assert_eq!(text.lines().count(), 1, "{text}");
    assert!(text.contains("FAIL"), "{text}");

    // Nothing found: the PASS line and exit 0.
    let clean = dir.path().join("clean");
    write(&clean, "README.md", "nothing to see\n");
    let out = pipeguard()
        .args(["secrets", "-q"])
        .arg(&clean)
        .assert()
        .code(0);
    let text = stdout(out.get_output());
    assert_eq!(text.lines().count(), 1, "{text}");
    assert!(
        text.starts_with("0 finding(s) in ") && text.contains("PASS"),
        "{text}"
    );
}

#[test]
fn group_by_puts_each_group_under_a_header_with_its_count() {
    let dir = tempfile::tempdir().expect("tmp");
    let d = dir.path();
    tree(d);
    let by = |group: &str| {
        let out = pipeguard()
            .args(["secrets", "--group-by", group])
            .arg(d)
            .assert()
            .code(1);
        stdout(out.get_output())
    };
    let text = by("file");
    let headers: Vec<&str> = text.lines().filter(|l| l.starts_with("── ")).collect();
    assert_eq!(
        headers,
        [
            "── deploy/.env (2 findings) ──",
            "── ci/token.txt (1 finding) ──",
            "── keys/age.txt (1 finding) ──",
        ],
        "{text}"
    );
    assert!(
        text.trim_end()
            .ends_with("FAIL (findings at or above medium)")
    );
    let text = by("rule");
    let headers: Vec<&str> = text.lines().filter(|l| l.starts_with("── ")).collect();
    assert_eq!(headers.len(), 2, "{text}");
    assert!(
        headers[0].starts_with("── github-pat-classic: ")
            && headers[0].ends_with("(3 findings) ──"),
        "{text}"
    );
    assert!(headers[1].starts_with("── age-secret-key: "), "{text}");
    // No finding here is about a package: one group holds them all.
    let text = by("package");
    let headers: Vec<&str> = text.lines().filter(|l| l.starts_with("── ")).collect();
    assert_eq!(
        headers,
        ["── not about a package (4 findings) ──"],
        "{text}"
    );

    pipeguard()
        .args(["secrets", "--group-by", "severity"])
        .arg(d)
        .assert()
        .code(2)
        .stderr(predicates::str::contains("rule, file, package"));
}

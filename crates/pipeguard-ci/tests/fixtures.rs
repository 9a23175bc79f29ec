//! Every audit fixture under tests/fixtures/<rule-id>/ states its expected
//! findings in `# expect: <rule-id> at line N` comments (`# expect: none` in
//! negative files). This test runs the audits on each file and compares, for
//! the rules the file talks about, the exact set of (rule, line) pairs.

use std::collections::BTreeSet;
use std::path::Path;

use pipeguard_ci::{CiFile, audit_text};

fn expectations(text: &str) -> (BTreeSet<(String, u32)>, BTreeSet<String>) {
    let mut expected = BTreeSet::new();
    let mut rules = BTreeSet::new();
    for line in text.lines() {
        let Some(rest) = line.trim_start().strip_prefix("# expect:") else {
            continue;
        };
        let rest = rest.trim();
        if rest.starts_with("none") {
            continue;
        }
        let mut words = rest.split_whitespace();
        let rule = words.next().unwrap_or("").to_string();
        let line_no = rest
            .split("at line")
            .nth(1)
            .and_then(|t| {
                t.split(|c: char| !c.is_ascii_digit())
                    .find(|s| !s.is_empty())
            })
            .and_then(|n| n.parse::<u32>().ok());
        if let Some(n) = line_no {
            rules.insert(rule.clone());
            expected.insert((rule, n));
        }
    }
    (expected, rules)
}

#[test]
fn every_fixture_gets_exactly_its_expected_findings() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let Ok(dirs) = std::fs::read_dir(&root) else {
        panic!("no fixtures directory at {}", root.display());
    };
    let mut failures = Vec::new();
    let mut checked = 0;
    let mut dirs: Vec<_> = dirs.filter_map(|d| d.ok()).map(|d| d.path()).collect();
    dirs.sort();
    for dir in dirs.into_iter().filter(|d| d.is_dir()) {
        let dir_rule = dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        // Composite actions live one level down (composite/<case>/action.yml).
        let mut files: Vec<_> = Vec::new();
        for p in std::fs::read_dir(&dir)
            .expect("read dir")
            .filter_map(|d| d.ok())
            .map(|d| d.path())
        {
            if p.is_dir() {
                files.extend(
                    std::fs::read_dir(&p)
                        .expect("read dir")
                        .filter_map(|d| d.ok())
                        .map(|d| d.path()),
                );
            } else {
                files.push(p);
            }
        }
        files.sort();
        for file in files {
            let name = file
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let kind = if name.contains("gitlab-ci") {
                CiFile::Gitlab
            } else if name.starts_with("action") || dir_rule == "composite" {
                CiFile::Action
            } else if name.ends_with(".yml") || name.ends_with(".yaml") {
                CiFile::GithubWorkflow
            } else {
                continue;
            };
            let text = std::fs::read_to_string(&file).expect("read fixture");
            let (expected, mut rules) = expectations(&text);
            if dir_rule != "composite" {
                rules.insert(dir_rule.clone());
            }
            let rel = file
                .strip_prefix(&root)
                .map(|p| p.to_string_lossy().into_owned())
                .unwrap_or(name.clone());
            let findings = match audit_text(&rel, kind, &text) {
                Ok(f) => f,
                Err(p) => {
                    failures.push(format!("{rel}: {}", p.message));
                    continue;
                }
            };
            let got: BTreeSet<(String, u32)> = findings
                .iter()
                .filter(|f| rules.contains(&f.rule_id))
                .map(|f| (f.rule_id.clone(), f.locations[0].line.unwrap_or(0)))
                .collect();
            if got != expected {
                failures.push(format!(
                    "{rel}:\n    expected {expected:?}\n    got      {got:?}\n    missing  {:?}\n    extra    {:?}",
                    expected.difference(&got).collect::<Vec<_>>(),
                    got.difference(&expected).collect::<Vec<_>>()
                ));
            }
            checked += 1;
        }
    }
    assert!(checked >= 30, "only {checked} fixtures checked");
    assert!(
        failures.is_empty(),
        "{} fixtures differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

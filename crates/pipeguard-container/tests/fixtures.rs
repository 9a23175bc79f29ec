//! Every fixture under tests/fixtures/<rule-id>/ states its expected
//! findings in `# expect: <rule-id> at line N` comments (`# expect: none` in
//! negative files); this test compares them with what the rules report.

use std::collections::BTreeSet;
use std::path::Path;

fn expectations(text: &str) -> BTreeSet<(String, u32)> {
    text.lines()
        .filter_map(|l| l.trim_start().strip_prefix("# expect:"))
        .filter(|rest| !rest.trim().starts_with("none"))
        .filter_map(|rest| {
            let rule = rest.split_whitespace().next()?.to_string();
            let n = rest
                .split("at line")
                .nth(1)?
                .trim()
                .split(|c: char| !c.is_ascii_digit())
                .next()?
                .parse()
                .ok()?;
            Some((rule, n))
        })
        .collect()
}

#[test]
fn every_fixture_gets_exactly_its_expected_findings() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let mut dirs: Vec<_> = std::fs::read_dir(&root)
        .expect("fixtures")
        .filter_map(|d| d.ok())
        .map(|d| d.path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    let mut failures = Vec::new();
    let mut checked = 0;
    for dir in dirs {
        let rule = dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let mut files: Vec<_> = std::fs::read_dir(&dir)
            .expect("dir")
            .filter_map(|d| d.ok())
            .map(|d| d.path())
            .collect();
        files.sort();
        for file in files
            .into_iter()
            .filter(|f| f.extension().is_some_and(|e| e == "Dockerfile"))
        {
            let rel = file
                .strip_prefix(&root)
                .map(|p| p.to_string_lossy().into_owned())
                .unwrap_or_default();
            let text = std::fs::read_to_string(&file).expect("read");
            let expected = expectations(&text);
            let findings = match pipeguard_container::audit_text(&rel, &text) {
                Ok(f) => f,
                Err(p) => {
                    failures.push(format!("{rel}: {}", p.message));
                    continue;
                }
            };
            let got: BTreeSet<(String, u32)> = findings
                .iter()
                .filter(|f| f.rule_id == rule)
                .map(|f| (f.rule_id.clone(), f.locations[0].line.unwrap_or(0)))
                .collect();
            if got != expected {
                failures.push(format!(
                    "{rel}:\n    missing {:?}\n    extra   {:?}",
                    expected.difference(&got).collect::<Vec<_>>(),
                    got.difference(&expected).collect::<Vec<_>>()
                ));
            }
            checked += 1;
        }
    }
    assert!(checked >= 20, "only {checked} fixtures checked");
    assert!(
        failures.is_empty(),
        "{} fixtures differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

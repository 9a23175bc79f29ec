//! Every fixture under `tests/fixtures/<language>/` marks the lines that must
//! fire (`# expect: rule-id, …` or `// expect: …`); every other line must
//! stay silent. The harness checks exactly that set, so a new false
//! positive fails as loudly as a missed finding.
#![allow(clippy::unwrap_used)] // tests

use std::collections::BTreeSet;
use std::path::Path;

use pipeguard_sast::Engine;

fn expected(src: &str) -> BTreeSet<(u32, String)> {
    let mut out = BTreeSet::new();
    for (i, line) in src.lines().enumerate() {
        if let Some(rest) = line.split("expect: ").nth(1) {
            for id in rest.split(',') {
                out.insert((i as u32 + 1, id.trim().to_string()));
            }
        }
    }
    out
}

fn check_dir(lang: &str) {
    let engine = Engine::new().expect("rules load");
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(lang);
    let mut failures = Vec::new();
    let mut files = 0;
    for entry in std::fs::read_dir(&dir).expect("fixture dir") {
        let path = entry.expect("entry").path();
        let src = std::fs::read_to_string(&path).expect("read fixture");
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        let (findings, problem) = engine.scan_file(&name, src.as_bytes());
        assert!(problem.is_none(), "{name}: {problem:?}");
        files += 1;
        let got: BTreeSet<(u32, String)> = findings
            .iter()
            .map(|f| (f.locations[0].line.unwrap(), f.rule_id.clone()))
            .collect();
        let want = expected(&src);
        for miss in want.difference(&got) {
            failures.push(format!("{name}:{}: missed {}", miss.0, miss.1));
        }
        for extra in got.difference(&want) {
            failures.push(format!("{name}:{}: unexpected {}", extra.0, extra.1));
        }
    }
    assert!(files > 0, "no fixtures for {lang}");
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

#[test]
fn python_fixtures() {
    check_dir("python");
}

#[test]
fn javascript_and_typescript_fixtures() {
    check_dir("javascript");
}

#[test]
fn java_fixtures() {
    check_dir("java");
}

#[test]
fn go_fixtures() {
    check_dir("go");
}

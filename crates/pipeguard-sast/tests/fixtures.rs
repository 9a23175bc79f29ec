//! Every fixture under `tests/fixtures/<language>/` marks the lines that must
//! fire (`# expect: rule-id, …` or `// expect: …`); every other line must
//! stay silent. The harness checks exactly that set, so a new false
//! positive fails as loudly as a missed finding.

use std::path::Path;

use pipeguard_sast::Engine;
use pipeguard_testkit::fixtures::{FixtureSet, Scope};

fn check_dir(lang: &str) {
    let engine = Engine::new().expect("rules load");
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(lang);
    FixtureSet::new(dir)
        .comment_prefixes(&["# expect:", "// expect:"])
        .scope(Scope::AllRules)
        .check(|fx| {
            let (findings, problem) = engine.scan_file(fx.file_name(), fx.text.as_bytes());
            Some(match problem {
                Some(p) => Err(p.message),
                None => Ok(findings),
            })
        });
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

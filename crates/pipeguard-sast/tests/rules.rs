//! The rule set itself: ids unique, every structural rule proven by its own
//! examples (and silent on its negative examples), every taint rule of every
//! language shown firing by a labelled fixture.
#![allow(clippy::unwrap_used)] // tests

use std::collections::{BTreeSet, HashSet};
use std::path::Path;

use pipeguard_sast::Engine;
use pipeguard_sast::lang::Lang;
use pipeguard_sast::rules::RuleSet;

fn lang_of(family: &str, langs: &[String]) -> Lang {
    match (family, langs.first().map(String::as_str)) {
        ("python", _) => Lang::Python,
        ("javascript", Some("typescript")) => Lang::TypeScript,
        ("javascript", _) => Lang::JavaScript,
        ("java", _) => Lang::Java,
        _ => Lang::Go,
    }
}

#[test]
fn structural_rules_fire_on_their_examples_only() {
    let engine = Engine::new().unwrap();
    engine.check().unwrap();
    let rules = RuleSet::builtin().unwrap();
    let mut failures = Vec::new();
    for (family, list) in &rules.structural {
        for r in list {
            assert!(!r.examples.is_empty(), "{} has no examples", r.id);
            assert!(
                r.id.starts_with(family),
                "{} is not prefixed {family}",
                r.id
            );
            let lang = lang_of(family, &r.languages);
            for (code, want) in r
                .examples
                .iter()
                .map(|e| (e, true))
                .chain(r.negative_examples.iter().map(|e| (e, false)))
            {
                let (found, _, _) = engine.scan_source("example", lang, code.as_bytes());
                let fired = found.iter().any(|f| f.rule_id == r.id);
                if fired != want {
                    failures.push(format!(
                        "{}: {} `{code}`",
                        r.id,
                        if want { "missed" } else { "fired on" }
                    ));
                }
            }
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

#[test]
fn rule_ids_are_unique_and_carry_a_cwe() {
    let engine = Engine::new().unwrap();
    let mut seen = HashSet::new();
    for r in engine.rules() {
        assert!(seen.insert(r.id.clone()), "duplicate rule id {}", r.id);
        assert!(r.cwe.starts_with("CWE-"), "{} has no CWE", r.id);
        assert!(
            r.id.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'),
            "{} is not kebab-case",
            r.id
        );
    }
    assert!(seen.len() > 60, "only {} rules", seen.len());
}

/// Each taint rule a language's tables define fires in at least one labelled
/// fixture of that language: no rule ships untested.
#[test]
fn every_taint_rule_has_a_fixture() {
    let engine = Engine::new().unwrap();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let mut expected = BTreeSet::new();
    for entry in walk(&root) {
        let src = std::fs::read_to_string(&entry).unwrap();
        for line in src.lines() {
            if let Some(rest) = line.split("expect: ").nth(1) {
                for id in rest.split(',') {
                    expected.insert(id.trim().to_string());
                }
            }
        }
    }
    let missing: Vec<String> = engine
        .rules()
        .into_iter()
        .filter(|r| r.kind == "taint" && !expected.contains(&r.id))
        .map(|r| r.id)
        .collect();
    assert!(
        missing.is_empty(),
        "taint rules without a fixture: {missing:?}"
    );
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

//! The rule set itself: ids unique, every rule documented, every structural
//! rule proven by its own examples (and silent on its negative examples),
//! every taint rule of every language shown firing by its documented example
//! and by a labelled fixture.
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

#[test]
fn every_rule_has_docs() {
    let rules = RuleSet::builtin().unwrap();
    let mut undocumented = Vec::new();
    for k in &rules.kinds {
        if k.docs.trim().is_empty() {
            undocumented.push(k.rule.clone());
        }
    }
    for list in rules.structural.values() {
        for r in list {
            if r.docs.trim().is_empty() {
                undocumented.push(r.id.clone());
            }
        }
    }
    assert!(
        undocumented.is_empty(),
        "rules without docs: {undocumented:?}"
    );
}

/// The registry's list: one entry per id a finding can carry, each with
/// docs (and its example), a CWE and its anchor in the rule reference.
#[test]
fn registry_lists_every_rule_once_with_docs_and_cwe() {
    let docs = pipeguard_sast::rules();
    let mut seen = HashSet::new();
    for d in &docs {
        assert!(seen.insert(d.id.clone()), "duplicate rule id {}", d.id);
        assert_eq!(
            d.analyzer, "code",
            "code rules are listed under the command name"
        );
        assert!(!d.name.is_empty(), "{} has no name", d.id);
        assert!(!d.docs.trim().is_empty(), "{} has no docs", d.id);
        assert!(
            d.docs.contains("**Example:**"),
            "{} has no example in its docs",
            d.id
        );
        assert!(!d.cwe.is_empty(), "{} has no CWE", d.id);
        assert!(!d.fix.is_empty(), "{} has no fix", d.id);
        assert!(
            d.help_uri.ends_with(&format!("#{}", d.id)),
            "{}",
            d.help_uri
        );
    }
    // Exactly the rules the engine runs, under the same ids.
    let engine: HashSet<String> = Engine::new()
        .unwrap()
        .rules()
        .into_iter()
        .map(|r| r.id)
        .collect();
    assert_eq!(seen, engine);
}

/// A taint rule's documented example is a finding of that rule, under the
/// id the registry lists (Java and Go lines run inside a request handler).
#[test]
fn taint_rule_examples_fire() {
    let engine = Engine::new().unwrap();
    let rules = RuleSet::builtin().unwrap();
    let listed: HashSet<String> = pipeguard_sast::rules().into_iter().map(|d| d.id).collect();
    let mut failures = Vec::new();
    let mut examples = 0;
    for k in &rules.kinds {
        for (family, tables) in &rules.tables {
            let has_sink = tables.sinks.iter().any(|s| s.kind == k.kind);
            let example = k.example_by_language.get(*family);
            let Some(example) = example else {
                if has_sink {
                    failures.push(format!("{family}-{}: no example", k.rule));
                }
                continue;
            };
            examples += 1;
            let (lang, code) = match *family {
                "python" => (Lang::Python, example.clone()),
                "javascript" => (Lang::JavaScript, example.clone()),
                "java" => (
                    Lang::Java,
                    format!(
                        "class Handler {{\n  void handle(HttpServletRequest request, HttpServletResponse response) throws Exception {{\n    {example}\n  }}\n}}\n"
                    ),
                ),
                _ => (
                    Lang::Go,
                    format!(
                        "package main\n\nfunc handler(w http.ResponseWriter, r *http.Request) {{\n\t{example}\n}}\n"
                    ),
                ),
            };
            let id = format!("{family}-{}", k.rule);
            let (found, _, _) = engine.scan_source("example", lang, code.as_bytes());
            if !found.iter().any(|f| f.rule_id == id) {
                failures.push(format!("{id}: example does not fire: `{example}`"));
            }
            if !listed.contains(&id) {
                failures.push(format!("{id}: not in the registry"));
            }
        }
    }
    assert!(examples > 30, "only {examples} examples");
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
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

/// Issue #16: code injection is CWE-94 with CWE-95 (as CodeQL tags it), in
/// the finding's aliases (so `[[ignore]] rule = "CWE-94"` works) and in the
/// registry.
#[test]
fn code_injection_carries_cwe_94_and_95() {
    let engine = Engine::new().unwrap();
    let (found, _) = engine.scan_file(
        "app.py",
        b"from flask import request\n\ndef h():\n    return eval(request.args[\"expr\"])\n",
    );
    let f = found
        .iter()
        .find(|f| f.rule_id == "python-code-injection")
        .expect("eval of a request parameter is found");
    assert_eq!(f.aliases, vec!["CWE-94", "CWE-95"]);
    let docs = pipeguard_sast::rules();
    for fam in ["python", "javascript", "java", "go"] {
        let d = docs
            .iter()
            .find(|d| d.id == format!("{fam}-code-injection"))
            .unwrap();
        assert_eq!(d.cwe, vec![94, 95], "{}", d.id);
    }
}

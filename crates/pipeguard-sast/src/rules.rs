//! Rules as data: TOML files under `rules/`, embedded at build time.
//!
//! `rules/taint.toml` names each taint rule (the hazard a kind of sink
//! stands for: CWE, severity, what to change). `rules/<family>/taint.toml`
//! holds one language family's sources, sinks, sanitizers and guards, and
//! `rules/<family>/structural.toml` its tree-sitter query rules.

use std::collections::HashMap;

use pipeguard_core::{Confidence, RuleDoc, Severity};
use regex::Regex;
use serde::Deserialize;

use crate::lang::Lang;

/// The embedded rule files, by name (the name shows in load errors).
pub const FILES: &[(&str, &str)] = &[
    ("taint.toml", include_str!("../rules/taint.toml")),
    (
        "python/taint.toml",
        include_str!("../rules/python/taint.toml"),
    ),
    (
        "python/structural.toml",
        include_str!("../rules/python/structural.toml"),
    ),
    (
        "javascript/taint.toml",
        include_str!("../rules/javascript/taint.toml"),
    ),
    (
        "javascript/structural.toml",
        include_str!("../rules/javascript/structural.toml"),
    ),
    ("java/taint.toml", include_str!("../rules/java/taint.toml")),
    (
        "java/structural.toml",
        include_str!("../rules/java/structural.toml"),
    ),
    ("go/taint.toml", include_str!("../rules/go/taint.toml")),
    (
        "go/structural.toml",
        include_str!("../rules/go/structural.toml"),
    ),
];

pub const FAMILIES: [&str; 4] = ["python", "javascript", "java", "go"];

/// One taint rule: what reaching a kind of sink means.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TaintKind {
    /// Short name used by the language tables (`sql`, `cmd` …).
    pub kind: String,
    /// Rule id without the language prefix (`sql-injection`).
    pub rule: String,
    pub name: String,
    /// One CWE id, or several separated by commas (`CWE-94, CWE-95`).
    pub cwe: String,
    pub severity: Severity,
    /// What to change, said once for every language.
    pub fix: String,
    /// Per-family replacement of `fix` when the remedy has a local name.
    #[serde(default)]
    pub fix_by_language: HashMap<String, String>,
    /// Markdown: what the rule finds and why that is bad, for every
    /// language; [`RuleSet::docs`] adds the family's example.
    pub docs: String,
    /// Per family, a line that must fire this rule (inside a request
    /// handler for Java and Go, see `tests/rules.rs`): the documented example.
    #[serde(default)]
    pub example_by_language: HashMap<String, String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct KindsFile {
    #[serde(rename = "rule")]
    rules: Vec<TaintKind>,
}

/// A language family's taint tables.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TaintTables {
    #[serde(default, rename = "source")]
    pub sources: Vec<Source>,
    #[serde(default, rename = "sink")]
    pub sinks: Vec<Sink>,
    #[serde(default, rename = "sanitizer")]
    pub sanitizers: Vec<Sanitizer>,
    #[serde(default, rename = "guard")]
    pub guards: Vec<Sanitizer>,
    /// Methods that put their argument into the receiver (`list.append(x)`).
    #[serde(default)]
    pub mutators: Vec<String>,
    /// Methods that store under a key (`map.put("k", v)`), key first.
    #[serde(default)]
    pub keyed_writes: Vec<String>,
    /// Methods that read a key (`map.get("k")`, `d.get("k")`).
    #[serde(default)]
    pub keyed_reads: Vec<String>,
    /// Calls that write what they read into their pointer arguments
    /// (`json.NewDecoder(r.Body).Decode(&v)`, `c.ShouldBindJSON(&v)`).
    #[serde(default)]
    pub out_args: Vec<String>,
    /// Calls after which the code does not go on (`abort(400)`).
    #[serde(default)]
    pub exits: Vec<String>,
    /// Declared types that cannot carry an injection (`int`, `boolean`).
    #[serde(default)]
    pub safe_types: Vec<String>,
    /// Parameter annotations that mark a request value (`@RequestParam`).
    #[serde(default)]
    pub source_annotations: Vec<String>,
    /// Decorators whose function's parameters are request values (FastAPI, Flask routes).
    #[serde(default)]
    pub route_decorators: Option<String>,
    /// Calls (by their last name) that may declare the response's content
    /// type; one whose text matches `non_html` makes the rest of the
    /// function's response writes not HTML (JSON, an event stream, plain
    /// text), so not cross-site scripting.
    #[serde(default)]
    pub non_html_calls: Vec<String>,
    #[serde(default)]
    pub non_html: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Source {
    /// How a finding names it: "request parameter", "environment variable".
    pub what: String,
    pub patterns: Vec<String>,
    /// Sources an attacker reaches less directly (environment, command line,
    /// files): findings from them get lower confidence.
    #[serde(default)]
    pub weak: bool,
    /// The sink kinds this source matters for (empty: all). A command-line
    /// tool opening the files its user names is not path traversal.
    #[serde(default)]
    pub kinds: Vec<String>,
    /// Paths under a pattern that are not input (`sys.argv[0]`, the
    /// program's own name).
    #[serde(default)]
    pub except: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Sink {
    pub kind: String,
    /// What the sink does, for the trace ("SQL query", "shell command").
    pub what: String,
    /// Callee paths (`os.system`, `*.execute`: a leading `*` is any receiver).
    #[serde(default)]
    pub patterns: Vec<String>,
    /// Member assignments that are sinks (`*.innerHTML`).
    #[serde(default)]
    pub assign: Vec<String>,
    /// Dangerous argument positions (0-based); empty means every argument.
    #[serde(default)]
    pub args: Vec<usize>,
    /// Dangerous keyword arguments (Python).
    #[serde(default)]
    pub kwargs: Vec<String>,
    /// Only a sink when this keyword argument has this value (`shell = "True"`).
    #[serde(default)]
    pub requires_kwarg: Option<(String, String)>,
    /// Not a sink when the call's text matches (a safe option given).
    #[serde(default)]
    pub unless: Option<String>,
    /// Only a sink when the call's text matches (`exec.Command("sh", "-c", …)`).
    #[serde(default)]
    pub when: Option<String>,
    /// Sinks whose danger depends on more context than the engine sees.
    #[serde(default)]
    pub confidence: Option<Confidence>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Sanitizer {
    pub patterns: Vec<String>,
    /// Taint kinds it neutralises; `["*"]` for all.
    pub kinds: Vec<String>,
}

/// A structural rule: a tree-sitter query plus regex predicates on captures.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StructuralRule {
    pub id: String,
    pub name: String,
    pub cwe: String,
    pub severity: Severity,
    pub confidence: Confidence,
    pub message: String,
    /// Markdown: what the rule flags and why that is bad; the first of
    /// `examples` is added as the documented example.
    pub docs: String,
    pub query: String,
    /// The capture reported (default `finding`, else the whole match).
    #[serde(default)]
    pub report: Option<String>,
    #[serde(default, rename = "where")]
    pub predicates: Vec<Predicate>,
    /// Restrict to some languages of the family (`["typescript"]`).
    #[serde(default)]
    pub languages: Vec<String>,
    /// Words one of which a file must contain for the rule to fire, when
    /// the query's own predicates name none (files without any skip parsing).
    #[serde(default)]
    pub keywords: Vec<String>,
    /// Captures that must name a package through the file's imports (Go):
    /// `tea.NewCipher` is a cipher only where `tea` is `golang.org/x/crypto/tea`,
    /// not bubbletea imported as `tea`.
    #[serde(default)]
    pub imports: Vec<ImportCheck>,
    /// Lines that must fire and lines that must not, checked by a test.
    #[serde(default)]
    pub examples: Vec<String>,
    #[serde(default)]
    pub negative_examples: Vec<String>,
}

/// A capture whose text must be the local name of one of `paths` in the
/// file's imports (the alias, or the path's package name).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImportCheck {
    pub capture: String,
    pub paths: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Predicate {
    pub capture: String,
    #[serde(default)]
    pub matches: Option<String>,
    #[serde(default)]
    pub not_matches: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct StructuralFile {
    #[serde(default, rename = "rule")]
    rules: Vec<StructuralRule>,
}

/// Everything loaded from the rule files, checked.
pub struct RuleSet {
    pub kinds: Vec<TaintKind>,
    pub tables: HashMap<&'static str, TaintTables>,
    pub structural: HashMap<&'static str, Vec<StructuralRule>>,
}

fn file(name: &str) -> &'static str {
    FILES
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, t)| *t)
        .unwrap_or("")
}

fn parse<T: for<'de> Deserialize<'de>>(name: &str) -> Result<T, String> {
    toml::from_str(file(name)).map_err(|e| format!("rules/{name}: {e}"))
}

impl RuleSet {
    pub fn builtin() -> Result<RuleSet, String> {
        let kinds: KindsFile = parse("taint.toml")?;
        let mut tables = HashMap::new();
        let mut structural = HashMap::new();
        for fam in FAMILIES {
            let t: TaintTables = parse(&format!("{fam}/taint.toml"))?;
            for s in &t.sinks {
                if !kinds.rules.iter().any(|k| k.kind == s.kind) {
                    return Err(format!(
                        "rules/{fam}/taint.toml: sink kind `{}` is not in rules/taint.toml",
                        s.kind
                    ));
                }
                for re in s.unless.iter().chain(&s.when) {
                    Regex::new(re).map_err(|e| format!("rules/{fam}/taint.toml: {e}"))?;
                }
            }
            tables.insert(fam, t);
            let s: StructuralFile = parse(&format!("{fam}/structural.toml"))?;
            structural.insert(fam, s.rules);
        }
        Ok(RuleSet {
            kinds: kinds.rules,
            tables,
            structural,
        })
    }

    pub fn kind_bit(&self, kind: &str) -> u32 {
        if kind == "*" {
            return u32::MAX;
        }
        self.kinds
            .iter()
            .position(|k| k.kind == kind)
            .map(|i| 1u32 << i)
            .unwrap_or(0)
    }

    pub fn rule_id(&self, lang: Lang, kind: &TaintKind) -> String {
        format!("{}-{}", lang.family(), kind.rule)
    }

    /// Every rule as the registry lists it: each taint rule once per
    /// language family whose tables have a sink of its kind (with the id its
    /// findings carry, `python-sql-injection`), then every structural rule.
    pub fn docs(&self) -> Vec<RuleDoc> {
        let mut out = Vec::new();
        for fam in FAMILIES {
            for k in &self.kinds {
                if !self.tables[fam].sinks.iter().any(|s| s.kind == k.kind) {
                    continue;
                }
                let id = format!("{fam}-{}", k.rule);
                out.push(RuleDoc {
                    help_uri: pipeguard_core::rule::help_uri(&id),
                    keywords: Vec::new(),
                    source: None,
                    id,
                    analyzer: REGISTRY_ANALYZER.to_string(),
                    name: k.name.clone(),
                    // Findings from weaker sources (environment, command
                    // line) are one step lower, at medium confidence.
                    severity: k.severity,
                    confidence: Confidence::High,
                    cwe: cwe_numbers(&k.cwe),
                    docs: with_example(&k.docs, k.example_by_language.get(fam)),
                    fix: k.fix_by_language.get(fam).unwrap_or(&k.fix).clone(),
                });
            }
            for r in &self.structural[fam] {
                out.push(RuleDoc {
                    id: r.id.clone(),
                    analyzer: REGISTRY_ANALYZER.to_string(),
                    name: r.name.clone(),
                    severity: r.severity,
                    confidence: r.confidence,
                    cwe: cwe_numbers(&r.cwe),
                    docs: with_example(&r.docs, r.examples.first()),
                    // The message says what to change; it is the whole of
                    // what a finding of the rule tells.
                    fix: r.message.clone(),
                    help_uri: pipeguard_core::rule::help_uri(&r.id),
                    keywords: Vec::new(),
                    source: None,
                });
            }
        }
        out.sort_by(|a, b| a.id.cmp(&b.id));
        out
    }
}

/// `CWE-89` → `[89]`, `CWE-94, CWE-95` → `[94, 95]` (nothing for text
/// that names no CWE).
fn cwe_numbers(cwe: &str) -> Vec<u32> {
    cwe_ids(cwe)
        .filter_map(|c| c.strip_prefix("CWE-").and_then(|n| n.parse().ok()))
        .collect()
}

/// The CWE ids of a rule's `cwe` text: one, or several separated by commas
/// (a class and its more precise child, `CWE-94, CWE-95`).
pub fn cwe_ids(cwe: &str) -> impl Iterator<Item = &str> {
    cwe.split(',').map(str::trim).filter(|c| !c.is_empty())
}

/// The rule's docs with its proven example as inline code.
fn with_example(docs: &str, example: Option<&String>) -> String {
    let docs = docs.trim();
    match example {
        // A JavaScript template literal holds backquotes: a longer fence.
        Some(e) if e.contains('`') => format!("{docs}\n\n**Example:** `` {e} ``"),
        Some(e) => format!("{docs}\n\n**Example:** `{e}`"),
        None => docs.to_string(),
    }
}

/// The analyzer name the registry lists code rules under: the one users
/// select them by (`pipeguard code`, `--only code`, `[profile] analyzers`).
/// Findings keep `sast` as their analyzer for report compatibility.
const REGISTRY_ANALYZER: &str = "code";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cwe_ids_become_numbers() {
        assert_eq!(cwe_numbers("CWE-89"), vec![89]);
        assert_eq!(cwe_numbers("CWE-1333"), vec![1333]);
        assert!(cwe_numbers("none").is_empty());
        assert_eq!(cwe_numbers("CWE-94, CWE-95"), vec![94, 95]);
    }

    #[test]
    fn examples_with_backquotes_stay_one_code_span() {
        let d = with_example("Docs.", Some(&"q(`a ${b}`)".to_string()));
        assert!(d.ends_with("**Example:** `` q(`a ${b}`) ``"), "{d}");
    }
}

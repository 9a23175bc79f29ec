//! Static application security testing: reads Python, JavaScript/TypeScript,
//! Java and Go source without running it and finds injections (SQL, shell,
//! paths, HTML, SSRF, `eval`, deserialization, redirects, LDAP, XPath) by
//! following request data from where it is read to where it is used, plus
//! structural rules for dangerous calls and settings (unsafe YAML loading,
//! disabled TLS verification, weak ciphers and hashes …).
//!
//! Files are parsed once with tree-sitter, in parallel. Rules are data
//! (`rules/`), embedded at build time. Every finding names its CWE in
//! `aliases` and, for data flows, carries the path from source to sink in
//! `flow`.

pub mod lang;
pub mod rules;
pub mod structural;
pub mod taint;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;
use std::sync::OnceLock;

use pipeguard_core::{
    Confidence, Finding, Fingerprint, FlowStep, Location, Problem, Remediation, RuleMeta, Severity,
};
use rayon::prelude::*;

use crate::lang::Lang;
use crate::rules::RuleSet;

pub const ANALYZER: &str = "sast";

/// Files larger than this are generated or vendored bundles, not code
/// anyone reviews line by line; they are skipped with a problem.
pub const DEFAULT_MAX_FILE_SIZE: u64 = 2 * 1024 * 1024;

#[derive(Debug, Clone)]
pub struct Options {
    pub max_file_size: u64,
    /// Also scan what `.gitignore` excludes.
    pub scan_ignored: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            max_file_size: DEFAULT_MAX_FILE_SIZE,
            scan_ignored: false,
        }
    }
}

/// What a scan of a tree found and how much it read: the one outcome type
/// of every analyzer (files, bytes and lines are counted; `note` says how
/// many files of each language were read and how many had syntax errors).
pub use pipeguard_core::Outcome;

/// The rule set compiled for every language; build once, scan many files.
pub struct Engine {
    rules: RuleSet,
    tables: HashMap<&'static str, taint::Tables>,
    /// Compiled on first use: compiling a grammar's queries is most of the
    /// start-up time, and most trees hold one or two languages.
    structural: HashMap<Lang, OnceLock<Result<structural::Compiled, String>>>,
}

/// One rule as `pipeguard rules`-style listings show it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct RuleInfo {
    pub id: String,
    pub name: String,
    pub cwe: String,
    pub severity: Severity,
    pub kind: &'static str,
    pub languages: Vec<String>,
}

impl Engine {
    /// The built-in rules. An error here is a broken rule file in this crate.
    pub fn new() -> Result<Engine, String> {
        let rules = RuleSet::builtin()?;
        let mut tables = HashMap::new();
        for fam in rules::FAMILIES {
            tables.insert(fam, taint::Tables::compile(&rules, &rules.tables[fam])?);
        }
        let structural = Lang::ALL.iter().map(|l| (*l, OnceLock::new())).collect();
        Ok(Engine {
            rules,
            tables,
            structural,
        })
    }

    fn structural(&self, lang: Lang) -> Result<&structural::Compiled, &str> {
        self.structural[&lang]
            .get_or_init(|| structural::Compiled::new(lang, &self.rules.structural[lang.family()]))
            .as_ref()
            .map_err(String::as_str)
    }

    /// Compiles every language's structural rules now (a broken query is
    /// otherwise reported when a file of its language is first scanned).
    pub fn check(&self) -> Result<(), String> {
        for lang in Lang::ALL {
            self.structural(lang)?;
        }
        Ok(())
    }

    pub fn rules(&self) -> Vec<RuleInfo> {
        let mut out = Vec::new();
        for fam in rules::FAMILIES {
            let t = &self.tables[fam];
            let mut seen = HashSet::new();
            for s in &t.sinks {
                if seen.insert(s.kind) {
                    let k = &self.rules.kinds[s.kind];
                    out.push(RuleInfo {
                        id: format!("{fam}-{}", k.rule),
                        name: k.name.clone(),
                        cwe: k.cwe.clone(),
                        severity: k.severity,
                        kind: "taint",
                        languages: vec![fam.to_string()],
                    });
                }
            }
            for r in &self.rules.structural[fam] {
                out.push(RuleInfo {
                    id: r.id.clone(),
                    name: r.name.clone(),
                    cwe: r.cwe.clone(),
                    severity: r.severity,
                    kind: "structural",
                    languages: vec![fam.to_string()],
                });
            }
        }
        out.sort_by(|a, b| a.id.cmp(&b.id));
        out
    }

    /// Scans one file's bytes; `path` is what findings show, and picks the
    /// language by extension (nothing for other files).
    pub fn scan_file(&self, path: &str, bytes: &[u8]) -> (Vec<Finding>, Option<Problem>) {
        let Some(lang) = Lang::from_path(Path::new(path)) else {
            return (Vec::new(), None);
        };
        let (f, p, _) = self.scan_source(path, lang, bytes);
        (f, p)
    }

    /// Scans source of a known language. The bool says the tree had syntax errors.
    pub fn scan_source(
        &self,
        path: &str,
        lang: Lang,
        bytes: &[u8],
    ) -> (Vec<Finding>, Option<Problem>, bool) {
        // Like semgrep's prefilter: a file that reads no input and holds
        // none of the structural rules' words cannot produce a finding, so it
        // is not even parsed.
        let tables = &self.tables[lang.family()];
        let taint_possible = tables.may_have_sources(bytes);
        if !taint_possible && self.structural(lang).is_ok_and(|c| !c.may_match(bytes)) {
            return (Vec::new(), None, false);
        }
        let mut parser = tree_sitter::Parser::new();
        if let Err(e) = parser.set_language(&lang.grammar()) {
            return (
                Vec::new(),
                Some(Problem {
                    path: path.to_string(),
                    line: None,
                    message: format!("cannot load the {} grammar: {e}", lang.name()),
                }),
                false,
            );
        }
        let Some(tree) = parser.parse(bytes, None) else {
            return (
                Vec::new(),
                Some(Problem {
                    path: path.to_string(),
                    line: None,
                    message: "the parser gave up on this file".to_string(),
                }),
                false,
            );
        };
        let root = tree.root_node();
        let text = String::from_utf8_lossy(bytes);
        let lines: Vec<&str> = text.lines().collect();
        let mut out = Vec::new();
        let mut seen = HashSet::new();
        let mut occurrences = HashMap::new();

        let hits = if taint_possible {
            taint::FileAnalysis::run(bytes, lang, tables, root)
        } else {
            Vec::new()
        };
        // One finding per flaw: where a structural rule matches the very call
        // a taint rule reached, for the same weakness, the taint finding
        // (which carries the trace) stands for both. Recorded before inline
        // ignores, so silencing the taint finding does not bring the
        // structural one back.
        let mut taint_sinks: Vec<(taint::Span, &str)> = Vec::new();
        let test_file = is_test_file(path);
        for h in hits {
            let kind = &self.rules.kinds[h.sink];
            // A test's mock response is never served to a browser (issue #16).
            if test_file && kind.kind == "xss" {
                continue;
            }
            taint_sinks.push((h.span.clone(), &kind.cwe));
            let rule_id = self.rules.rule_id(lang, kind);
            if ignored(&lines, h.span.line, &rule_id) {
                continue;
            }
            if !seen.insert((rule_id.clone(), h.span.line, h.span.column)) {
                continue;
            }
            // Two identical flows in one function (the same source into the
            // same call twice) stay two fingerprints, still without lines.
            let key = (
                rule_id.clone(),
                h.function.clone(),
                h.callee.clone(),
                h.steps.first().map(|s| s.message.clone()),
            );
            let nth = occurrences
                .entry(key)
                .and_modify(|n| *n += 1)
                .or_insert(0usize);
            out.push(self.taint_finding(path, &rule_id, kind, &h, *nth));
        }

        let compiled = match self.structural(lang) {
            Ok(c) => c,
            Err(e) => {
                let problem = Problem {
                    path: path.to_string(),
                    line: None,
                    message: format!("structural rules not run: {e}"),
                };
                return (out, Some(problem), root.has_error());
            }
        };
        for m in compiled.run(root, bytes) {
            let r = &compiled.rules()[m.rule];
            let pos = m.node.start_position();
            let line = pos.row as u32 + 1;
            let at = taint::span_of(m.node);
            if taint_sinks
                .iter()
                .any(|(s, cwe)| *s == at && same_weakness(cwe, &r.cwe))
            {
                continue;
            }
            if ignored(&lines, line, &r.id)
                || !seen.insert((r.id.clone(), line, pos.column as u32 + 1))
            {
                continue;
            }
            let end = m.node.end_position();
            let code = std::str::from_utf8(&bytes[m.node.byte_range()]).unwrap_or("");
            let normalized: String = code.split_whitespace().collect::<Vec<_>>().join(" ");
            out.push(finding(
                &r.id,
                &r.name,
                &r.cwe,
                r.severity,
                r.confidence,
                r.message.clone(),
                &r.message,
                Location {
                    end_line: Some(end.row as u32 + 1),
                    end_column: Some(end.column as u32 + 1),
                    ..Location::at(path, line, pos.column as u32 + 1)
                },
                Fingerprint::from_parts(&[
                    ANALYZER.as_bytes(),
                    r.id.as_bytes(),
                    path.as_bytes(),
                    normalized.as_bytes(),
                ]),
                Vec::new(),
            ));
        }
        let problem = root.has_error().then(|| Problem {
            path: path.to_string(),
            line: first_error(root),
            message: format!(
                "{} syntax error; the rest of the file was analyzed around it",
                lang.name()
            ),
        });
        (out, problem, root.has_error())
    }

    fn taint_finding(
        &self,
        path: &str,
        rule_id: &str,
        kind: &rules::TaintKind,
        h: &taint::Hit,
        nth: usize,
    ) -> Finding {
        let fix = kind
            .fix_by_language
            .get(rule_id.split('-').next().unwrap_or(""))
            .unwrap_or(&kind.fix);
        let source = h
            .steps
            .first()
            .map(|s| {
                s.message
                    .trim_end_matches(" read here")
                    .trim_end_matches(" received here")
            })
            .unwrap_or("input");
        let message = format!("{}: {source} reaches `{}`. {fix}", kind.name, h.callee);
        // Weaker sources (environment, command line, files) are reached by
        // fewer attackers: one severity step lower, medium confidence.
        let (severity, confidence) = if h.weak {
            (lower(kind.severity), Confidence::Medium)
        } else {
            (kind.severity, Confidence::High)
        };
        let confidence = h.confidence.map_or(confidence, |c| c.min(confidence));
        let flow = h
            .steps
            .iter()
            .map(|s| FlowStep {
                location: Location {
                    end_line: Some(s.span.end_line),
                    end_column: Some(s.span.end_column),
                    ..Location::at(path, s.span.line, s.span.column)
                },
                message: s.message.clone(),
            })
            .collect();
        finding(
            rule_id,
            &kind.name,
            &kind.cwe,
            severity,
            confidence,
            message,
            fix,
            Location {
                end_line: Some(h.span.end_line),
                end_column: Some(h.span.end_column),
                ..Location::at(path, h.span.line, h.span.column)
            },
            Fingerprint::from_parts(&[
                ANALYZER.as_bytes(),
                rule_id.as_bytes(),
                path.as_bytes(),
                h.function.as_bytes(),
                h.callee.as_bytes(),
                source.as_bytes(),
                nth.to_string().as_bytes(),
            ]),
            flow,
        )
    }

    /// Scans a directory (or one file) in parallel, honouring `.gitignore`.
    pub fn scan_path(&self, root: &Path, opts: &Options) -> Outcome {
        let mut outcome = Outcome::default();
        let mut files = Vec::new();
        if root.is_file() {
            files.push(root.to_path_buf());
        } else {
            // Hidden files are not source code worth analyzing (editor and
            // tool directories); everything else as every analyzer walks.
            let walker = pipeguard_core::walk::builder(root, opts.scan_ignored, &[])
                .hidden(true)
                .build();
            for entry in walker {
                match entry {
                    Ok(e) => {
                        if e.file_type().is_some_and(|t| t.is_file())
                            && Lang::from_path(e.path()).is_some()
                        {
                            files.push(e.into_path());
                        }
                    }
                    Err(e) => outcome.problems.push(Problem {
                        path: pipeguard_core::relative_path(root, root),
                        line: None,
                        message: format!("cannot walk: {e}"),
                    }),
                }
            }
        }
        files.sort();
        struct One {
            lang: Lang,
            bytes: u64,
            lines: u64,
            findings: Vec<Finding>,
            problem: Option<Problem>,
            syntax_error: bool,
            scanned: bool,
        }
        let results: Vec<One> = files
            .par_iter()
            .filter_map(|p| {
                let lang = Lang::from_path(p)?;
                let shown = pipeguard_core::relative_path(root, p);
                let problem = |message: String| One {
                    lang,
                    bytes: 0,
                    lines: 0,
                    findings: Vec::new(),
                    problem: Some(Problem {
                        path: shown.clone(),
                        line: None,
                        message,
                    }),
                    syntax_error: false,
                    scanned: false,
                };
                match std::fs::metadata(p) {
                    Ok(m) if m.len() > opts.max_file_size => {
                        return Some(problem(format!(
                            "skipped: {} bytes is over the {}-byte limit for source files",
                            m.len(),
                            opts.max_file_size
                        )));
                    }
                    Err(e) => return Some(problem(format!("cannot read: {e}"))),
                    _ => {}
                }
                let data = match std::fs::read(p) {
                    Ok(d) => d,
                    Err(e) => return Some(problem(format!("cannot read: {e}"))),
                };
                let (findings, problem, syntax_error) = self.scan_source(&shown, lang, &data);
                Some(One {
                    lang,
                    bytes: data.len() as u64,
                    lines: memchr_count(&data),
                    findings,
                    problem,
                    syntax_error,
                    scanned: true,
                })
            })
            .collect();
        let mut by_language: BTreeMap<&str, u64> = BTreeMap::new();
        let mut syntax_errors = 0u64;
        for r in results {
            if r.scanned {
                outcome.files += 1;
                outcome.bytes += r.bytes;
                outcome.lines += r.lines;
                *by_language.entry(r.lang.name()).or_default() += 1;
                syntax_errors += u64::from(r.syntax_error);
            }
            outcome.findings.extend(r.findings);
            outcome.problems.extend(r.problem);
        }
        let langs: Vec<String> = by_language
            .iter()
            .map(|(l, n)| format!("{l} {n}"))
            .collect();
        outcome.note = format!("{} lines ({})", outcome.lines, langs.join(", "));
        if syntax_errors > 0 {
            outcome
                .note
                .push_str(&format!(", {syntax_errors} with syntax errors"));
        }
        outcome
    }
}

/// The core builder gives the finding its shape (and any fields added to it
/// later); the rule's own facts replace the placeholder's.
static SHAPE: RuleMeta = RuleMeta {
    id: "sast",
    name: "sast",
    severity: Severity::Medium,
    confidence: Confidence::Medium,
    fix: "",
    cwe: &[],
    docs: "",
};

#[allow(clippy::too_many_arguments)]
fn finding(
    id: &str,
    name: &str,
    cwe: &str,
    severity: Severity,
    confidence: Confidence,
    message: String,
    fix: &str,
    location: Location,
    fingerprint: Fingerprint,
    flow: Vec<FlowStep>,
) -> Finding {
    let mut f = SHAPE.finding(ANALYZER, location, id, String::new(), None);
    f.rule_id = id.to_string();
    f.rule_name = name.to_string();
    f.aliases = rules::cwe_ids(cwe).map(str::to_string).collect();
    f.severity = severity;
    f.confidence = confidence;
    f.message = message;
    f.fingerprint = fingerprint;
    f.remediation = Some(Remediation {
        description: fix.to_string(),
        replacement: None,
    });
    f.flow = flow;
    f
}

/// The line of the first syntax error (an `ERROR` or missing node).
/// A test source by its name (`test_x.py`, `x_test.go`, `x.test.js`,
/// `x.spec.ts`, `conftest.py`) or directory (`__tests__`, `__mocks__`,
/// Maven's `src/test/`).
fn is_test_file(path: &str) -> bool {
    let path = path.replace('\\', "/");
    let name = path.rsplit('/').next().unwrap_or(&path);
    let stem = name.split('.').next().unwrap_or(name);
    name == "conftest.py"
        || (name.ends_with(".py") && (stem.starts_with("test_") || stem.ends_with("_test")))
        || name.ends_with("_test.go")
        || name.contains(".test.")
        || name.contains(".spec.")
        || path.contains("__tests__/")
        || path.contains("__mocks__/")
        || path.contains("src/test/")
}

/// Two rules name the same weakness when their CWE lists share an id.
fn same_weakness(a: &str, b: &str) -> bool {
    rules::cwe_ids(a).any(|x| rules::cwe_ids(b).any(|y| x == y))
}

fn first_error(root: tree_sitter::Node) -> Option<u32> {
    let mut cursor = root.walk();
    loop {
        let n = cursor.node();
        if n.is_error() || n.is_missing() {
            return Some(n.start_position().row as u32 + 1);
        }
        // Descend only into subtrees that hold an error.
        if n.has_error() && cursor.goto_first_child() {
            continue;
        }
        while !cursor.goto_next_sibling() {
            if !cursor.goto_parent() {
                return None;
            }
        }
    }
}

fn memchr_count(data: &[u8]) -> u64 {
    data.iter().filter(|&&b| b == b'\n').count() as u64
}

fn lower(s: Severity) -> Severity {
    match s {
        Severity::Critical => Severity::High,
        Severity::High => Severity::Medium,
        Severity::Medium => Severity::Low,
        _ => Severity::Info,
    }
}

/// `pipeguard: ignore[rule-id]` on the line or the line above.
fn ignored(lines: &[&str], line: u32, id: &str) -> bool {
    let i = line as usize;
    [i.checked_sub(1), i.checked_sub(2)]
        .into_iter()
        .flatten()
        .filter_map(|i| lines.get(i))
        .any(|l| pipeguard_core::rule::ignores(l, id))
}

/// Every rule of this analyzer as the registry lists it (`pipeguard rules`,
/// SARIF rule descriptors, `docs/rules.md`): each taint rule once per
/// language family, with the id its findings carry, and every structural rule.
pub fn rules() -> Vec<pipeguard_core::RuleDoc> {
    // The rule files are embedded and loaded by every test, so a load error
    // is a broken build of this crate, never a user's input; an empty list
    // (which `tests/rules.rs` rejects) is the answer rather than a panic.
    RuleSet::builtin()
        .map(|rules| rules.docs())
        .unwrap_or_default()
}

/// Scans a tree with the built-in rules.
pub fn scan_path(root: &Path, opts: &Options) -> Result<Outcome, String> {
    Ok(Engine::new()?.scan_path(root, opts))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Regression: generated code with thousands of nested operators must
    /// not overflow the stack (that would abort the whole scan).
    #[test]
    fn test_files_are_known_by_name() {
        for p in [
            "tests/test_app.py",
            "app_test.go",
            "src/w.test.js",
            "a/b.spec.ts",
            "src/test/java/A.java",
            "web/__mocks__/res.js",
        ] {
            assert!(is_test_file(p), "{p}");
        }
        for p in [
            "app.py",
            "latest.py",
            "src/main/java/Test.java",
            "contest.js",
        ] {
            assert!(!is_test_file(p), "{p}");
        }
    }

    #[test]
    fn deeply_nested_code_does_not_overflow() {
        let engine = Engine::new().expect("rules");
        let mut py = String::from("from flask import request\nq = request.args['x']");
        for _ in 0..20_000 {
            py.push_str(" + 'a'");
        }
        py.push_str("\nimport os\nos.system(q)\n");
        let js = format!("const a = {}1{};\n", "(".repeat(5000), ")".repeat(5000));
        // Run on a small stack, like a worker thread's.
        let handle = std::thread::Builder::new()
            .stack_size(2 * 1024 * 1024)
            .spawn(move || {
                let (py_findings, _) = engine.scan_file("gen.py", py.as_bytes());
                let (js_findings, _) = engine.scan_file("gen.js", js.as_bytes());
                (py_findings.len(), js_findings.len())
            })
            .expect("thread");
        let (py, js) = handle.join().expect("no overflow");
        assert_eq!(js, 0);
        // Past the depth limit the flow is lost, not invented.
        assert!(py <= 1);
    }
}

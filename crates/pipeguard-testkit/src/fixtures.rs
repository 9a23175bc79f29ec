//! The `# expect:` fixture harness. A fixture is a real input file whose
//! comments state the findings it must produce:
//!
//! ```text
//! subprocess.call(cmd, shell=True)  # expect: python-command-injection
//! # expect: unpinned-action at line 12
//! # expect: none
//! ```
//!
//! A comment naming rules (`expect: a, b`) expects them on its own line; one
//! with `at line N` expects the rule on line N (for formats where a trailing
//! comment would change the meaning of the line, like YAML block scalars);
//! `none` marks a negative file. The harness compares the exact set of
//! (rule, line) pairs, so a new false positive fails as loudly as a missed
//! finding, and it collects every difference of every file before failing.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use pipeguard_core::Finding;

/// One fixture file, read.
#[derive(Debug, Clone)]
pub struct Fixture {
    pub path: PathBuf,
    /// The path below the set's root, with `/` separators
    /// (`unpinned-action/positive.yml`): what the analyzer is told and
    /// what failure messages and snapshots show, so neither depends on
    /// where the checkout lives.
    pub rel: String,
    pub text: String,
}

impl Fixture {
    pub fn file_name(&self) -> &str {
        self.rel.rsplit('/').next().unwrap_or(&self.rel)
    }

    /// The directory right below the root the file is in. Sets laid out one
    /// directory per rule name the directory after the rule.
    pub fn top_dir(&self) -> Option<&str> {
        self.rel.split_once('/').map(|(dir, _)| dir)
    }

    /// The name of this fixture's snapshot: `rel` with `/` spelled `__`,
    /// which is what insta would make of it anyway. Spelling it here lets
    /// [`crate::snapshots`] predict the file name exactly.
    pub fn snapshot_name(&self) -> String {
        self.rel.replace('/', "__")
    }
}

/// Which findings a fixture's comments must account for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Every finding: one that no comment expects fails. For sets whose
    /// files are written against the whole rule set (SAST).
    AllRules,
    /// Only findings of the rules the file's comments name, and of the rule
    /// its top directory is named after. For sets laid out one directory
    /// per rule, where a fixture written for one rule legitimately trips
    /// others (a workflow written for `excessive-permissions` also has
    /// unpinned actions) and listing those would make every fixture restate
    /// every rule.
    RulesNamedInFile,
}

/// What the analyzer made of one file: `None` when the file is not a
/// fixture of this set (a README), `Some(Err(message))` when it could not
/// analyze it (always a failure).
pub type Analysis = Option<Result<Vec<Finding>, String>>;

/// A directory of fixtures and how their comments are written.
#[derive(Debug, Clone)]
pub struct FixtureSet {
    root: PathBuf,
    prefixes: Vec<String>,
    scope: Scope,
    at_least: usize,
}

impl FixtureSet {
    /// The fixtures below `root` (recursively), with `# expect:` comments,
    /// [`Scope::RulesNamedInFile`], and at least one fixture required.
    pub fn new(root: impl Into<PathBuf>) -> Self {
        FixtureSet {
            root: root.into(),
            prefixes: vec!["# expect:".to_string()],
            scope: Scope::RulesNamedInFile,
            at_least: 1,
        }
    }

    /// The comment openings that introduce an expectation, e.g.
    /// `["# expect:", "// expect:"]` for a set mixing Python and JavaScript.
    pub fn comment_prefixes(mut self, prefixes: &[&str]) -> Self {
        self.prefixes = prefixes.iter().map(|p| p.to_string()).collect();
        self
    }

    pub fn scope(mut self, scope: Scope) -> Self {
        self.scope = scope;
        self
    }

    /// Fails when fewer files than `n` were checked: a moved directory or a
    /// too-strict file filter must not turn the test into a no-op.
    pub fn at_least(mut self, n: usize) -> Self {
        self.at_least = n;
        self
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Every file below the root, sorted by relative path.
    pub fn fixtures(&self) -> Vec<Fixture> {
        let mut paths = Vec::new();
        let mut stack = vec![self.root.clone()];
        while let Some(dir) = stack.pop() {
            let entries = std::fs::read_dir(&dir)
                .unwrap_or_else(|e| panic!("no fixtures directory at {}: {e}", dir.display()));
            for entry in entries {
                let path = entry.expect("directory entry").path();
                if path.is_dir() {
                    stack.push(path);
                } else {
                    paths.push(path);
                }
            }
        }
        let mut fixtures: Vec<Fixture> = paths
            .into_iter()
            .map(|path| {
                let rel = path
                    .strip_prefix(&self.root)
                    .expect("below the root")
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy())
                    .collect::<Vec<_>>()
                    .join("/");
                let text = std::fs::read_to_string(&path)
                    .unwrap_or_else(|e| panic!("read fixture {}: {e}", path.display()));
                Fixture { path, rel, text }
            })
            .collect();
        fixtures.sort_by(|a, b| a.rel.cmp(&b.rel));
        fixtures
    }

    /// The (rule, line) pairs `text` expects, or what is malformed.
    pub fn expectations(&self, text: &str) -> Result<BTreeSet<(String, u32)>, String> {
        parse_expectations(text, &self.prefixes)
    }

    /// Runs `analyze` on every fixture and fails, listing every difference,
    /// unless each one produced exactly the findings its comments expect.
    pub fn check(&self, mut analyze: impl FnMut(&Fixture) -> Analysis) {
        let mut failures = Vec::new();
        let mut checked = 0;
        for fx in self.fixtures() {
            let Some(result) = analyze(&fx) else {
                continue;
            };
            checked += 1;
            let findings = match result {
                Ok(findings) => findings,
                Err(message) => {
                    failures.push(format!("{}: {message}", fx.rel));
                    continue;
                }
            };
            let want = match self.expectations(&fx.text) {
                Ok(want) => want,
                Err(e) => {
                    failures.push(format!("{}: {e}", fx.rel));
                    continue;
                }
            };
            let named: BTreeSet<&str> = want
                .iter()
                .map(|(rule, _)| rule.as_str())
                .chain(fx.top_dir())
                .collect();
            let got: BTreeSet<(String, u32)> = findings
                .iter()
                .filter(|f| self.scope == Scope::AllRules || named.contains(f.rule_id.as_str()))
                .map(|f| {
                    let line = f.locations.first().and_then(|l| l.line).unwrap_or(0);
                    (f.rule_id.clone(), line)
                })
                .collect();
            for (rule, line) in want.difference(&got) {
                failures.push(format!("{}:{line}: missed {rule}", fx.rel));
            }
            for (rule, line) in got.difference(&want) {
                failures.push(format!("{}:{line}: unexpected {rule}", fx.rel));
            }
        }
        assert!(
            checked >= self.at_least,
            "only {checked} fixtures checked under {} (at least {} expected)",
            self.root.display(),
            self.at_least
        );
        assert!(
            failures.is_empty(),
            "{} difference(s) in the fixtures under {}:\n{}",
            failures.len(),
            self.root.display(),
            failures.join("\n")
        );
    }
}

/// Parses the expectation comments of `text`. A malformed one is an error
/// rather than ignored, because an expectation that silently says nothing
/// is a test that silently checks nothing.
pub fn parse_expectations(
    text: &str,
    prefixes: &[String],
) -> Result<BTreeSet<(String, u32)>, String> {
    let mut out = BTreeSet::new();
    for (i, line) in text.lines().enumerate() {
        let n = u32::try_from(i + 1).map_err(|_| "too many lines".to_string())?;
        let Some(rest) = prefixes
            .iter()
            .filter_map(|p| line.find(p.as_str()).map(|at| (at, &line[at + p.len()..])))
            .min_by_key(|(at, _)| *at)
            .map(|(_, rest)| rest.trim())
        else {
            continue;
        };
        let malformed = || format!("line {n}: malformed expectation `{}`", line.trim());
        if rest.starts_with("none") {
            continue;
        }
        if let Some((rule, at)) = rest.split_once(" at line ") {
            let rule = rule.trim();
            let digits: String = at
                .trim_start()
                .chars()
                .take_while(char::is_ascii_digit)
                .collect();
            let target = digits.parse::<u32>().map_err(|_| malformed())?;
            if rule.is_empty() || rule.contains(char::is_whitespace) {
                return Err(malformed());
            }
            out.insert((rule.to_string(), target));
        } else {
            for rule in rest.split(',').map(str::trim) {
                if rule.is_empty() || rule.contains(char::is_whitespace) {
                    return Err(malformed());
                }
                out.insert((rule.to_string(), n));
            }
        }
    }
    Ok(out)
}

/// What `pipeguard COMMAND` prints for one fixture alone: the human report
/// of its findings, no colour, no timing, paths as the findings give them.
/// The per-fixture snapshots of the rule crates are this text.
pub fn human_report(command: &str, fx: &Fixture, findings: Vec<pipeguard_core::Finding>) -> String {
    let mut report = pipeguard_core::Report::new(command, ".", pipeguard_core::Severity::default());
    report.findings = findings;
    report.summary.files_scanned = 1;
    report.summary.bytes_scanned = fx.text.len() as u64;
    report.finish();
    let mut out = Vec::new();
    pipeguard_report::render(&report, pipeguard_report::Format::Human, false, &mut out)
        .expect("rendering into memory cannot fail");
    String::from_utf8(out).expect("the human report is UTF-8")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<BTreeSet<(String, u32)>, String> {
        parse_expectations(text, &["# expect:".to_string(), "// expect:".to_string()])
    }

    fn set(pairs: &[(&str, u32)]) -> BTreeSet<(String, u32)> {
        pairs.iter().map(|(r, n)| (r.to_string(), *n)).collect()
    }

    #[test]
    fn trailing_comments_expect_their_own_line() {
        let text = "a = 1\nrun(x)  # expect: cmd-injection, shell-built\nf(y); // expect: xss\n";
        assert_eq!(
            parse(text),
            Ok(set(&[("cmd-injection", 2), ("shell-built", 2), ("xss", 3)]))
        );
    }

    #[test]
    fn at_line_names_another_line_and_none_expects_nothing() {
        let text = "# expect: unpinned-action at line 7\n# expect: none\non: push\n";
        assert_eq!(parse(text), Ok(set(&[("unpinned-action", 7)])));
        assert_eq!(parse("# expect: none\n"), Ok(BTreeSet::new()));
    }

    #[test]
    fn malformed_expectations_are_errors() {
        for text in [
            "# expect: rule at line seven\n",
            "# expect: two words at line 3\n",
            "x # expect:\n",
            "x # expect: a,, b\n",
        ] {
            assert!(parse(text).is_err(), "{text:?} was accepted");
        }
    }
}

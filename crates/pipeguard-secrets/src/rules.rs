//! Rules are data: TOML files embedded at build time (`rules/*.toml`) plus the
//! user's own files named in the policy. See `rules/README.md` for the format.

use std::path::Path;
use std::sync::OnceLock;

use pipeguard_core::{Confidence, Severity};
use regex::bytes::{Regex, RegexBuilder};
use serde::Deserialize;
use toml::Spanned;

use crate::validate::Validator;

include!(concat!(env!("OUT_DIR"), "/builtin_rules.rs"));

/// How far past a keyword hit a multi-line rule may match (PEM keys, JSON
/// service-account files). Single-line rules stop at the end of the line.
pub const MULTILINE_WINDOW: usize = 16 * 1024;

#[derive(Debug)]
pub struct Rule {
    pub id: String,
    pub name: String,
    pub keywords: Vec<String>,
    pub pattern: String,
    /// Compiled on first use: most rules never see a keyword hit in a given
    /// scan, and compiling hundreds of regexes up front costs more than a
    /// small scan.
    regex: OnceLock<(Regex, usize)>,
    pub severity: Severity,
    pub confidence: Confidence,
    pub min_entropy: Option<f64>,
    pub validate: Option<Validator>,
    pub generic: bool,
    pub multiline: bool,
    /// A pairing rule finds a secret by its neighbour (an AWS secret key a
    /// few lines after its access key id), not by its own shape: where a
    /// rule that recognises the secret itself claims the same text, that
    /// rule's finding is kept.
    pub pairing: bool,
    /// When set, the rule runs only on files whose name or path matches.
    pub paths: Option<globset::GlobSet>,
    pub remediation: Option<String>,
    pub references: Vec<String>,
    pub examples: Vec<String>,
    pub negative_examples: Vec<String>,
    /// File the rule came from (`cloud.toml`, or the user's path).
    pub source: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleFile {
    #[serde(default)]
    rule: Vec<Spanned<RawRule>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawRule {
    id: String,
    name: String,
    keywords: Vec<String>,
    regex: String,
    severity: Severity,
    confidence: Confidence,
    min_entropy: Option<f64>,
    validate: Option<String>,
    #[serde(default)]
    generic: bool,
    #[serde(default)]
    multiline: bool,
    #[serde(default)]
    pairing: bool,
    #[serde(default)]
    paths: Vec<String>,
    remediation: Option<String>,
    #[serde(default)]
    references: Vec<String>,
    #[serde(default)]
    examples: Vec<String>,
    #[serde(default)]
    negative_examples: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
#[error("{file}:{line}: {message}")]
pub struct RuleError {
    pub file: String,
    pub line: usize,
    pub message: String,
}

fn line_of(src: &str, offset: usize) -> usize {
    src.as_bytes()[..offset.min(src.len())]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

fn compile(pattern: &str) -> Result<(Regex, usize), regex::Error> {
    let regex = RegexBuilder::new(pattern)
        .size_limit(32 * 1024 * 1024)
        .dfa_size_limit(32 * 1024 * 1024)
        .build()?;
    let group = regex
        .capture_names()
        .position(|n| n == Some("secret"))
        .unwrap_or(if regex.captures_len() > 1 { 1 } else { 0 });
    Ok((regex, group))
}

impl Rule {
    /// The compiled regex and the index of the group holding the secret.
    /// Whether the rule applies to a file at `path` (relative, `/`-separated).
    pub fn applies_to(&self, path: &str) -> bool {
        match &self.paths {
            None => true,
            Some(set) => {
                let name = path.rsplit('/').next().unwrap_or(path);
                set.is_match(name) || set.is_match(path)
            }
        }
    }

    /// Built-in rules are compiled lazily (their tests prove they compile);
    /// should one still fail, it matches nothing rather than abort a scan.
    pub fn regex(&self) -> Option<&(Regex, usize)> {
        if let Some(r) = self.regex.get() {
            return Some(r);
        }
        match compile(&self.pattern) {
            Ok(r) => Some(self.regex.get_or_init(|| r)),
            Err(_) => None,
        }
    }
}

/// Parses one rule file. `file` is only used to name errors. `eager`
/// compiles every regex now, so that a user's bad pattern is an error with a
/// line number instead of a silent non-match.
pub fn parse_rules(src: &str, file: &str, eager: bool) -> Result<Vec<Rule>, RuleError> {
    let parsed: RuleFile = toml::from_str(src).map_err(|e| RuleError {
        file: file.to_string(),
        line: e.span().map(|s| line_of(src, s.start)).unwrap_or(0),
        message: e.message().to_string(),
    })?;
    let mut rules = Vec::with_capacity(parsed.rule.len());
    for spanned in parsed.rule {
        let line = line_of(src, spanned.span().start);
        let raw = spanned.into_inner();
        let err = |message: String| RuleError {
            file: file.to_string(),
            line,
            message: format!("rule `{}`: {message}", raw.id),
        };
        if raw.id.is_empty()
            || !raw
                .id
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        {
            return Err(err("id must be kebab-case".into()));
        }
        if raw.keywords.is_empty() || raw.keywords.iter().any(|k| k.len() < 2) {
            return Err(err("needs at least one keyword of 2+ characters".into()));
        }
        let regex = OnceLock::new();
        if eager {
            let _ = regex.set(compile(&raw.regex).map_err(|e| err(format!("bad regex: {e}")))?);
        }
        let validate = raw
            .validate
            .as_deref()
            .map(|v| v.parse::<Validator>().map_err(&err))
            .transpose()?;
        let paths = if raw.paths.is_empty() {
            None
        } else {
            let mut b = globset::GlobSetBuilder::new();
            for p in &raw.paths {
                b.add(globset::Glob::new(p).map_err(|e| err(format!("bad path glob `{p}`: {e}")))?);
            }
            Some(b.build().map_err(|e| err(format!("bad path globs: {e}")))?)
        };
        let multiline = raw.multiline || raw.regex.contains("\\n") || raw.regex.contains("(?s");
        rules.push(Rule {
            keywords: raw
                .keywords
                .iter()
                .map(|k| k.to_ascii_lowercase())
                .collect(),
            id: raw.id,
            name: raw.name,
            pattern: raw.regex,
            regex,
            severity: raw.severity,
            confidence: raw.confidence,
            min_entropy: raw.min_entropy,
            validate,
            generic: raw.generic,
            multiline,
            pairing: raw.pairing,
            paths,
            remediation: raw.remediation,
            references: raw.references,
            examples: raw.examples,
            negative_examples: raw.negative_examples,
            source: file.to_string(),
        });
    }
    Ok(rules)
}

/// Every built-in rule.
pub fn builtin() -> Result<Vec<Rule>, RuleError> {
    let mut all = Vec::new();
    for (name, src) in BUILTIN {
        all.extend(parse_rules(src, name, false)?);
    }
    Ok(all)
}

/// Loads a user rule file named in the policy.
pub fn load_file(path: &Path) -> Result<Vec<Rule>, RuleError> {
    let src = std::fs::read_to_string(path).map_err(|e| RuleError {
        file: path.display().to_string(),
        line: 0,
        message: format!("cannot read rule file: {e}"),
    })?;
    parse_rules(&src, &path.display().to_string(), true)
}

/// What to do about a leaked credential of this rule: the rule's own
/// remediation, else the same advice for every credential.
pub fn fix_of(rule: &Rule) -> String {
    rule.remediation.clone().unwrap_or_else(|| {
        format!(
            "Revoke or rotate this {}, remove it from the code (and from git history if it was committed), and inject it at run time from your CI secret store.",
            rule.name
        )
    })
}

/// The secret rules as registry entries (`pipeguard rules`, SARIF,
/// docs/rules.md). The docs are built from the rule's data; its examples are
/// left out on purpose, so the generated docs hold no credential-shaped text.
pub fn rule_docs(rules: &[Rule]) -> Vec<pipeguard_core::RuleDoc> {
    rules
        .iter()
        .map(|r| {
            let mut docs = format!("## What it does\nFinds {}", r.name);
            if r.generic {
                docs.push_str(
                    " (a generic rule: a secret-looking value under a secret-looking name; placeholders, variables and low-entropy values are filtered out)",
                );
            }
            if r.validate.is_some() {
                docs.push_str(" and checks its structure (checksum, encoding) offline before reporting it");
            }
            docs.push_str(&format!(
                ".\n\nThe prefilter looks for: {}.\n\n## Why is this bad\nA credential in a repository is readable by everyone who can read the repository, in every clone, fork and CI log, and stays in git history after it is deleted from the tree.",
                r.keywords
                    .iter()
                    .map(|k| format!("`{k}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
            if !r.references.is_empty() {
                docs.push_str("\n\n## References\n");
                for u in &r.references {
                    docs.push_str(&format!("- <{u}>\n"));
                }
            }
            pipeguard_core::RuleDoc {
                id: r.id.clone(),
                analyzer: "secrets".to_string(),
                name: r.name.clone(),
                severity: r.severity,
                confidence: r.confidence,
                cwe: vec![798],
                docs: docs.trim_end().to_string(),
                fix: fix_of(r),
                help_uri: pipeguard_core::rule::help_uri(&r.id),
                keywords: r.keywords.clone(),
                source: Some(r.source.clone()),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;
    use crate::engine::Engine;

    fn engine() -> Engine {
        Engine::new(builtin().expect("built-in rules parse"), &[]).expect("engine")
    }

    #[test]
    fn ids_are_unique_and_documented() {
        let rules = builtin().expect("rules");
        let mut seen = HashSet::new();
        for r in &rules {
            assert!(
                r.regex().is_some(),
                "{} ({}): regex does not compile",
                r.id,
                r.source
            );
            assert!(seen.insert(r.id.clone()), "duplicate rule id {}", r.id);
            assert!(!r.name.is_empty(), "{} has no name", r.id);
            assert!(
                !r.examples.is_empty(),
                "{} ({}) has no examples",
                r.id,
                r.source
            );
            assert!(
                !r.negative_examples.is_empty(),
                "{} ({}) has no negative examples",
                r.id,
                r.source
            );
        }
    }

    #[test]
    fn at_least_300_rules() {
        let n = builtin().expect("rules").len();
        assert!(n >= 300, "only {n} rules");
    }

    /// A file name the rule applies to, for running its examples.
    fn example_name(r: &Rule) -> String {
        ["example.txt", "config.yml", ".env", "run.sh", "Dockerfile"]
            .iter()
            .find(|n| r.applies_to(n))
            .map(|n| n.to_string())
            .unwrap_or_else(|| panic!("{}: no sample file name matches its paths", r.id))
    }

    /// Every rule finds each of its own examples, through the whole pipeline
    /// (prefilter, regex, filters, validators), and none of its negatives.
    #[test]
    fn every_rule_matches_its_examples() {
        let engine = engine();
        let mut failures = Vec::new();
        for (i, r) in engine.rules().iter().enumerate() {
            let name = example_name(r);
            for ex in &r.examples {
                let hits: Vec<_> = engine
                    .scan(ex.as_bytes(), &name)
                    .into_iter()
                    .filter(|m| m.rule == i)
                    .collect();
                if hits.len() != 1 {
                    failures.push(format!(
                        "{} ({}): example matched {} times: {ex}",
                        r.id,
                        r.source,
                        hits.len()
                    ));
                }
            }
            for ex in &r.negative_examples {
                if engine
                    .scan(ex.as_bytes(), &name)
                    .iter()
                    .any(|m| m.rule == i)
                {
                    failures.push(format!(
                        "{} ({}): negative example matched: {ex}",
                        r.id, r.source
                    ));
                }
            }
        }
        assert!(
            failures.is_empty(),
            "{} failures:\n{}",
            failures.len(),
            failures.join("\n")
        );
    }

    #[test]
    fn user_rule_errors_name_file_and_line() {
        let src = "[[rule]]\nid = \"ok-rule\"\nname = \"x\"\nkeywords = [\"ab\"]\nregex = 'ab'\nseverity = \"high\"\nconfidence = \"high\"\n\n[[rule]]\nid = \"bad\"\nname = \"x\"\nkeywords = [\"ab\"]\nregex = '(ab'\nseverity = \"high\"\nconfidence = \"high\"\n";
        let err = parse_rules(src, "mine.toml", true).expect_err("bad regex");
        assert!(
            err.to_string()
                .starts_with("mine.toml:9: rule `bad`: bad regex"),
            "{err}"
        );
    }
}

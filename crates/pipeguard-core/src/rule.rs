//! Rules as one registry. Every analyzer describes each of its rules once:
//! rules that are code with a [`RuleMeta`] built by [`rule_meta!`] (its docs
//! are its doc comment, as in ruff and zizmor), rules that are data (secret
//! patterns, taint tables) with a [`RuleDoc`] built from their files. From
//! that one source come `pipeguard rules`, SARIF's `tool.driver.rules`,
//! `docs/rules.md` and the README tables, so none of them can drift.

use serde::Serialize;

use crate::{Confidence, Finding, Fingerprint, Location, Remediation, Severity};

/// Static facts about a rule whose logic is code (CI audits, Dockerfile and
/// image rules, dependency checks). Build it with [`rule_meta!`] so that its
/// docs are the doc comment above it.
#[derive(Debug)]
pub struct RuleMeta {
    /// Kebab-case id, unique across analyzers.
    pub id: &'static str,
    pub name: &'static str,
    pub severity: Severity,
    pub confidence: Confidence,
    /// What to do about it; appended to every message and used as remediation.
    pub fix: &'static str,
    /// CWE ids this rule is an instance of (empty when none fits).
    pub cwe: &'static [u32],
    /// The doc comment, as `rule_meta!` captured it (one leading space per line).
    pub docs: &'static str,
}

/// Declares a `static NAME: RuleMeta` whose `docs` are the doc comment written
/// above it:
///
/// ```
/// use pipeguard_core::{rule_meta, Confidence, Severity};
/// rule_meta! {
///     /// What it does: …
///     static EXAMPLE = {
///         id: "example-rule",
///         name: "An example",
///         severity: Severity::Low,
///         confidence: Confidence::High,
///         fix: "Do the right thing.",
///         cwe: &[],
///     };
/// }
/// assert_eq!(EXAMPLE.doc_text(), "What it does: …");
/// ```
#[macro_export]
macro_rules! rule_meta {
    ($(#[doc = $doc:literal])* $vis:vis static $name:ident = { $($field:ident : $value:expr),* $(,)? };) => {
        $(#[doc = $doc])*
        $vis static $name: $crate::RuleMeta = $crate::RuleMeta {
            docs: concat!($($doc, "\n"),*),
            $($field: $value),*
        };
    };
}

impl RuleMeta {
    /// The doc comment as markdown: rustdoc's one leading space removed.
    pub fn doc_text(&self) -> String {
        dedent(self.docs)
    }

    /// This rule as the registry lists it.
    pub fn doc(&self, analyzer: &str) -> RuleDoc {
        RuleDoc {
            id: self.id.to_string(),
            analyzer: analyzer.to_string(),
            name: self.name.to_string(),
            severity: self.severity,
            confidence: self.confidence,
            cwe: self.cwe.to_vec(),
            docs: self.doc_text(),
            fix: self.fix.to_string(),
            help_uri: help_uri(self.id),
            keywords: Vec::new(),
            source: None,
        }
    }

    /// A finding of this rule at `location`. `key` is what makes it distinct
    /// within the file (a job, an image, an instruction's text): the
    /// fingerprint comes from it and never from the line.
    pub fn finding(
        &'static self,
        analyzer: &str,
        location: Location,
        key: &str,
        message: String,
        replacement: Option<String>,
    ) -> Finding {
        Finding::builder(self.id, self.name, analyzer)
            .severity(self.severity)
            .confidence(self.confidence)
            .message(format!("{message} {}", self.fix))
            .fingerprint(Fingerprint::from_parts(&[
                analyzer.as_bytes(),
                self.id.as_bytes(),
                location.path.as_bytes(),
                key.as_bytes(),
            ]))
            .location(location)
            .remediation(Remediation {
                description: self.fix.to_string(),
                replacement,
            })
            .build()
    }
}

/// One rule as `pipeguard rules`, SARIF and the generated docs show it.
/// Owned, because data-driven rules (secret patterns, taint tables) build it
/// at run time from their files.
#[derive(Debug, Clone, Serialize)]
pub struct RuleDoc {
    pub id: String,
    pub analyzer: String,
    /// One-line summary.
    pub name: String,
    pub severity: Severity,
    pub confidence: Confidence,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub cwe: Vec<u32>,
    /// Markdown: what it does, why it is bad, examples.
    pub docs: String,
    /// What to do about a finding.
    pub fix: String,
    /// Stable anchor of the rule in `docs/rules.md`.
    pub help_uri: String,
    /// Secret rules: the words the prefilter looks for before the regex runs.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub keywords: Vec<String>,
    /// Where a data-driven rule was defined (`cloud.toml`, a policy rule file).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
}

/// Where a rule's documentation lives: its anchor in the generated
/// `docs/rules.md` of the repository.
pub fn help_uri(id: &str) -> String {
    format!("{RULES_DOC}#{id}")
}

/// The generated rule reference, as a link users can follow.
pub const RULES_DOC: &str = concat!(env!("CARGO_PKG_REPOSITORY"), "/blob/main/docs/rules.md");

/// GitHub code scanning's `security-severity` (a CVSS-like score that it
/// maps back to critical/high/medium/low).
pub fn security_severity(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical => "9.5",
        Severity::High => "8.0",
        Severity::Medium => "5.5",
        Severity::Low => "3.0",
        Severity::Info => "0.0",
    }
}

/// Removes the one space rustdoc keeps after `///` and trims the ends.
fn dedent(raw: &str) -> String {
    raw.lines()
        .map(|l| l.strip_prefix(' ').unwrap_or(l))
        .collect::<Vec<_>>()
        .join("\n")
        .trim()
        .to_string()
}

/// Collects one file's findings for the rules that are code (CI audits,
/// Dockerfile rules): it holds the file's lines for snippets and inline
/// suppressions, and builds every finding through [`RuleMeta::finding`], so
/// both analyzers report the same shape. Each analyzer turns its own node
/// type (a YAML node, a Dockerfile instruction) into a [`Location`].
pub struct Sink<'t> {
    analyzer: &'static str,
    pub path: String,
    lines: Vec<&'t str>,
    /// Whether `# pipeguard: ignore[id]` on the reported line itself counts
    /// (YAML allows a trailing comment; a Dockerfile instruction does not,
    /// so there only the line above counts).
    same_line: bool,
    pub findings: Vec<Finding>,
}

impl<'t> Sink<'t> {
    pub fn new(analyzer: &'static str, path: &str, text: &'t str, same_line: bool) -> Self {
        Sink {
            analyzer,
            path: path.to_string(),
            lines: text.lines().collect(),
            same_line,
            findings: Vec::new(),
        }
    }

    /// The text of a 1-based line of the file.
    pub fn line_text(&self, line: u32) -> Option<&'t str> {
        self.lines.get((line as usize).checked_sub(1)?).copied()
    }

    /// `# pipeguard: ignore[id]` on the line above (or on the line itself).
    pub fn suppressed(&self, line: u32, id: &str) -> bool {
        let here = self.same_line.then(|| self.line_text(line)).flatten();
        let above = line.checked_sub(1).and_then(|l| self.line_text(l));
        here.into_iter().chain(above).any(|text| ignores(text, id))
    }

    /// The trimmed line as a snippet, at most 200 characters.
    pub fn snippet(&self, line: u32) -> Option<String> {
        self.line_text(line)
            .map(|l| l.trim().chars().take(200).collect())
    }

    /// Reports `meta` at `location` unless suppressed there. `key` makes the
    /// finding distinct within the file; the fingerprint comes from it.
    pub fn push(
        &mut self,
        meta: &'static RuleMeta,
        location: Location,
        key: &str,
        message: String,
        replacement: Option<String>,
    ) {
        if location.line.is_some_and(|l| self.suppressed(l, meta.id)) {
            return;
        }
        self.findings
            .push(meta.finding(self.analyzer, location, key, message, replacement));
    }
}

/// Whether `text` (one line) carries `pipeguard: ignore[…]` naming `id`
/// (ids comma-separated; `pipeguard:ignore[` accepted too). The same inline
/// suppression syntax for every analyzer whose rules are code.
pub fn ignores(text: &str, id: &str) -> bool {
    text.split("pipeguard: ignore[")
        .skip(1)
        .chain(text.split("pipeguard:ignore[").skip(1))
        .any(|rest| {
            rest.split(']')
                .next()
                .is_some_and(|ids| ids.split(',').any(|x| x.trim() == id))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    rule_meta! {
        /// ## What it does
        /// Flags things.
        ///
        ///     indented example
        static DOCUMENTED = {
            id: "documented",
            name: "Documented rule",
            severity: Severity::High,
            confidence: Confidence::Medium,
            fix: "Fix it.",
            cwe: &[798],
        };
    }

    #[test]
    fn docs_come_from_the_doc_comment() {
        assert_eq!(
            DOCUMENTED.doc_text(),
            "## What it does\nFlags things.\n\n    indented example"
        );
        let doc = DOCUMENTED.doc("ci");
        assert_eq!(doc.cwe, vec![798]);
        assert!(
            doc.help_uri
                .ends_with("/blob/main/docs/rules.md#documented")
        );
        // SARIF requires an absolute URI: the crate must know its repository.
        assert!(doc.help_uri.starts_with("https://"), "{}", doc.help_uri);
    }

    #[test]
    fn inline_ignores() {
        assert!(ignores("x: 1 # pipeguard: ignore[a, b]", "b"));
        assert!(ignores("# pipeguard:ignore[a]", "a"));
        assert!(!ignores("# pipeguard: ignore[ab]", "a"));
        assert!(!ignores("# ignore[a]", "a"));
    }
}

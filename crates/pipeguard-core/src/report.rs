//! The report: what every output format renders.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::finding::{Finding, Severity};

/// Version of the JSON report format (docs/json-report.md). Bump on any
/// incompatible change.
pub const JSON_SCHEMA_VERSION: &str = "1";

/// An input that could not be analyzed (unreadable, too large, malformed).
/// The scan goes on; the problem is reported beside the findings.
#[derive(Debug, Clone, Serialize)]
pub struct Problem {
    pub path: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<u32>,
    pub message: String,
}

/// What one analyzer produced, before ignores, baselines and rendering:
/// the one result type every analyzer returns, so the binary folds any of
/// them into a report the same way.
#[derive(Debug, Default)]
pub struct Outcome {
    pub findings: Vec<Finding>,
    pub problems: Vec<Problem>,
    /// Files (or lockfiles, images' files) read.
    pub files: u64,
    pub bytes: u64,
    /// Source lines analyzed (the SAST engine counts them).
    pub lines: u64,
    pub packages: Option<u64>,
    pub commits: Option<u64>,
    pub blobs: Option<u64>,
    /// Files skipped because the content cache knew them clean.
    pub cached: u64,
    /// A short note on what was read, for `--timings` (changed files, cache
    /// hits, history depth).
    pub note: String,
    /// Why this analyzer's result cannot be trusted as complete (no advisory
    /// database, one older than the policy allows, an ecosystem it lacks).
    /// A gate that fails closed does not pass on such a result.
    pub incomplete: Vec<String>,
}

impl Outcome {
    /// Adds the counts to a report summary.
    pub fn count_into(&self, summary: &mut Summary) {
        summary.files_scanned += self.files;
        summary.bytes_scanned += self.bytes;
        add(&mut summary.packages_scanned, self.packages);
        add(&mut summary.commits_scanned, self.commits);
        add(&mut summary.blobs_scanned, self.blobs);
    }

    /// Takes in another outcome of the same analyzer (another image, the
    /// history pass after the tree pass).
    pub fn absorb(&mut self, other: Outcome) {
        self.findings.extend(other.findings);
        self.problems.extend(other.problems);
        self.files += other.files;
        self.bytes += other.bytes;
        self.lines += other.lines;
        add(&mut self.packages, other.packages);
        add(&mut self.commits, other.commits);
        add(&mut self.blobs, other.blobs);
        self.cached += other.cached;
        self.incomplete.extend(other.incomplete);
    }
}

/// Adds an optional count to an optional total (absent stays absent).
pub fn add(total: &mut Option<u64>, part: Option<u64>) {
    if let Some(p) = part {
        *total = Some(total.unwrap_or(0) + p);
    }
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Summary {
    pub files_scanned: u64,
    pub bytes_scanned: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub blobs_scanned: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub commits_scanned: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub packages_scanned: Option<u64>,
    pub findings_by_severity: BTreeMap<String, usize>,
    /// Findings per analyzer (`secrets`, `deps` …).
    pub by_analyzer: BTreeMap<String, usize>,
    /// Findings per rule id (an advisory id for a dependency finding).
    pub by_rule: BTreeMap<String, usize>,
    /// The files holding the most findings, most first, at most
    /// [`TOP_FILES`]. A finding counts for the file of its first location,
    /// the one every format shows it at, so the counts here add up to at
    /// most the number of findings.
    pub top_files: Vec<FileCount>,
    pub suppressed_by_baseline: usize,
    pub duration_ms: u64,
}

/// How many files [`Summary::top_files`] names. Ten is what a reader takes
/// in at a glance; the full list is the findings themselves.
pub const TOP_FILES: usize = 10;

/// One entry of [`Summary::top_files`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FileCount {
    pub path: String,
    pub findings: usize,
}

impl Summary {
    /// Recounts the finding counts (by severity, analyzer, rule and file)
    /// from `findings`; the scan counts are left alone.
    pub fn count_findings(&mut self, findings: &[Finding]) {
        self.findings_by_severity.clear();
        self.by_analyzer.clear();
        self.by_rule.clear();
        let mut by_file: BTreeMap<&str, usize> = BTreeMap::new();
        for f in findings {
            *self
                .findings_by_severity
                .entry(f.severity.to_string())
                .or_default() += 1;
            *self.by_analyzer.entry(f.analyzer.clone()).or_default() += 1;
            *self.by_rule.entry(f.rule_id.clone()).or_default() += 1;
            if let Some(path) = f.primary_path() {
                *by_file.entry(path).or_default() += 1;
            }
        }
        let mut files: Vec<FileCount> = by_file
            .into_iter()
            .map(|(path, findings)| FileCount {
                path: path.to_string(),
                findings,
            })
            .collect();
        // Most findings first; the BTreeMap already ordered ties by path,
        // and the sort is stable, so equal counts stay in path order.
        files.sort_by_key(|f| std::cmp::Reverse(f.findings));
        files.truncate(TOP_FILES);
        self.top_files = files;
    }

    /// `by_rule` with the most frequent rule first (ties by rule id): the
    /// order a reader triages in.
    pub fn rules_by_count(&self) -> Vec<(&str, usize)> {
        most_first(&self.by_rule)
    }

    /// `by_analyzer`, the analyzer with the most findings first.
    pub fn analyzers_by_count(&self) -> Vec<(&str, usize)> {
        most_first(&self.by_analyzer)
    }
}

/// The counts of `map`, largest first; the sort is stable, so ties keep the
/// map's order (by name).
fn most_first(map: &BTreeMap<String, usize>) -> Vec<(&str, usize)> {
    let mut v: Vec<(&str, usize)> = map.iter().map(|(k, n)| (k.as_str(), *n)).collect();
    v.sort_by_key(|(_, n)| std::cmp::Reverse(*n));
    v
}

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub schema_version: &'static str,
    pub tool: Tool,
    pub command: String,
    pub root: String,
    pub fail_on: Severity,
    /// The commit the scanned tree is at, when it is a git checkout.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub commit: Option<String>,
    pub summary: Summary,
    pub findings: Vec<Finding>,
    pub problems: Vec<Problem>,
    /// What could not be checked, when the profile fails closed (the
    /// default): the report then cannot pass, whatever it found.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub unchecked: Vec<String>,
    /// The registry entries of the rules the findings name, for formats that
    /// describe their rules (SARIF). Not part of the JSON report: a rule's
    /// docs are `pipeguard rules`'s business.
    #[serde(skip)]
    pub rules: Vec<crate::RuleDoc>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Tool {
    pub name: &'static str,
    pub version: &'static str,
}

impl Report {
    pub fn new(command: &str, root: &str, fail_on: Severity) -> Self {
        Report {
            schema_version: JSON_SCHEMA_VERSION,
            tool: Tool {
                name: "pipeguard",
                version: env!("CARGO_PKG_VERSION"),
            },
            command: command.to_string(),
            root: root.to_string(),
            fail_on,
            commit: None,
            summary: Summary::default(),
            findings: Vec::new(),
            problems: Vec::new(),
            rules: Vec::new(),
            unchecked: Vec::new(),
        }
    }

    /// Sorts findings (most severe first, then by place) and fills the counts.
    pub fn finish(&mut self) {
        self.findings.sort_by(|a, b| {
            b.severity
                .cmp(&a.severity)
                .then_with(|| a.primary_path().cmp(&b.primary_path()))
                .then_with(|| {
                    let la = a.locations.first().and_then(|l| l.line);
                    let lb = b.locations.first().and_then(|l| l.line);
                    la.cmp(&lb)
                })
                .then_with(|| a.rule_id.cmp(&b.rule_id))
        });
        self.summary.count_findings(&self.findings);
        self.problems
            .sort_by(|a, b| a.path.cmp(&b.path).then(a.line.cmp(&b.line)));
    }

    /// Whether anything reaches the threshold, i.e. exit code 1.
    pub fn fails(&self) -> bool {
        self.findings
            .iter()
            .any(|f| f.blocking && f.severity >= self.fail_on)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Fingerprint, Location};

    fn finding(rule: &str, analyzer: &str, path: &str) -> Finding {
        Finding::builder(rule, rule, analyzer)
            .message("m")
            .fingerprint(Fingerprint::from_parts(&[rule.as_bytes(), path.as_bytes()]))
            .location(Location::file(path))
            .build()
    }

    #[test]
    fn finish_counts_by_analyzer_rule_and_top_files() {
        let mut r = Report::new("scan", ".", Severity::High);
        for i in 0..12 {
            r.findings
                .push(finding("a-rule", "ci", &format!("f{i:02}")));
        }
        r.findings.push(finding("b-rule", "secrets", "f05"));
        r.findings.push(finding("b-rule", "secrets", "f07"));
        r.findings.push(finding("c-rule", "secrets", "f07"));
        r.finish();
        let s = &r.summary;
        assert_eq!(s.by_analyzer["ci"], 12);
        assert_eq!(s.by_analyzer["secrets"], 3);
        assert_eq!(s.by_rule["b-rule"], 2);
        assert_eq!(
            s.rules_by_count(),
            vec![("a-rule", 12), ("b-rule", 2), ("c-rule", 1)]
        );
        // Most findings first, ties in path order, at most TOP_FILES.
        let top: Vec<(&str, usize)> = s
            .top_files
            .iter()
            .map(|f| (f.path.as_str(), f.findings))
            .collect();
        assert_eq!(top.len(), TOP_FILES);
        assert_eq!(&top[..4], &[("f07", 3), ("f05", 2), ("f00", 1), ("f01", 1)]);
        // Finishing again (the binary finishes once, tests may twice) recounts.
        r.findings.truncate(1);
        r.finish();
        assert_eq!(r.summary.by_rule.len(), 1);
        assert_eq!(r.summary.top_files.len(), 1);
    }
}

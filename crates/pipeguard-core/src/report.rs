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
    pub suppressed_by_baseline: usize,
    pub duration_ms: u64,
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
        self.summary.findings_by_severity.clear();
        for f in &self.findings {
            *self
                .summary
                .findings_by_severity
                .entry(f.severity.to_string())
                .or_default() += 1;
        }
        self.problems
            .sort_by(|a, b| a.path.cmp(&b.path).then(a.line.cmp(&b.line)));
    }

    /// Whether anything reaches the threshold, i.e. exit code 1.
    pub fn fails(&self) -> bool {
        self.findings.iter().any(|f| f.severity >= self.fail_on)
    }
}

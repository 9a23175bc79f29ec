//! The one finding shape every analyzer produces.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::{Fingerprint, Redacted};

/// How bad a finding is. Ordered so that `Critical > High > … > Info`.
#[derive(
    Debug,
    Clone,
    Copy,
    Default,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Low,
    /// The default threshold: generic secret assignments block, notes do not.
    #[default]
    Medium,
    High,
    Critical,
}

impl Severity {
    pub const ALL: [Severity; 5] = [
        Severity::Critical,
        Severity::High,
        Severity::Medium,
        Severity::Low,
        Severity::Info,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Severity {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "info" => Ok(Severity::Info),
            "low" => Ok(Severity::Low),
            "medium" => Ok(Severity::Medium),
            "high" => Ok(Severity::High),
            "critical" => Ok(Severity::Critical),
            other => Err(format!(
                "unknown severity `{other}` (expected critical, high, medium, low or info)"
            )),
        }
    }
}

/// How sure the analyzer is that the finding is real.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Confidence {
    Low,
    Medium,
    High,
}

impl fmt::Display for Confidence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Confidence::Low => "low",
            Confidence::Medium => "medium",
            Confidence::High => "high",
        })
    }
}

/// Where a git-history finding came from: the commit that introduced the blob.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GitOrigin {
    pub commit: String,
    pub author: String,
    pub date: String,
}

/// One place a finding was seen. Paths are relative to the scanned root and use `/`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Location {
    pub path: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub column: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end_line: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end_column: Option<u32>,
    /// The source line with any secret already redacted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub snippet: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub git: Option<GitOrigin>,
}

impl Location {
    pub fn file(path: impl Into<String>) -> Self {
        Location {
            path: path.into(),
            line: None,
            column: None,
            end_line: None,
            end_column: None,
            snippet: None,
            git: None,
        }
    }

    pub fn at(path: impl Into<String>, line: u32, column: u32) -> Self {
        Location {
            line: Some(line),
            column: Some(column),
            ..Location::file(path)
        }
    }
}

/// What to do about a finding, when the analyzer can say it precisely.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Remediation {
    pub description: String,
    /// A replacement text for the reported region, when one is safe to offer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub replacement: Option<String>,
}

/// One problem found by one analyzer; the same secret seen in several places is
/// one finding with several locations.
#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    /// Kebab-case rule id, unique across analyzers (`github-pat-classic`).
    pub rule_id: String,
    pub rule_name: String,
    /// Other names of the same problem (CVE, GHSA, PYSEC … for an advisory);
    /// `[[ignore]] rule` matches any of them.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub aliases: Vec<String>,
    /// The analyzer that produced it (`secrets`, `deps`, `policy` …).
    pub analyzer: String,
    pub severity: Severity,
    pub confidence: Confidence,
    /// Says what is wrong and what to do about it.
    pub message: String,
    pub locations: Vec<Location>,
    pub fingerprint: Fingerprint,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret: Option<Redacted>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub remediation: Option<Remediation>,
    /// For data-flow findings: the steps from the source to the sink, in
    /// order (SARIF `codeFlows`). Empty for everything else.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub flow: Vec<FlowStep>,
    /// For dependency findings: the package it is about (GitLab's
    /// dependency-scanning report and SBOM-aware consumers need it).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub package: Option<PackageRef>,
    /// What kind of place it is in: `test` when every place is test or
    /// fixture data (see `testpath`).
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub tags: Vec<String>,
    /// Whether it can fail the scan. `false` for test-data findings the
    /// profile reports but does not count; shown only then.
    #[serde(skip_serializing_if = "is_true")]
    pub blocking: bool,
}

fn is_true(b: &bool) -> bool {
    *b
}

/// A package at a version, as a dependency finding names it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PackageRef {
    pub ecosystem: String,
    pub name: String,
    pub version: String,
    /// Smallest version that fixes every advisory of the finding, if known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fixed: Option<String>,
    /// Whether the project depends on it directly.
    pub direct: bool,
}

/// One step of a data flow: where the value went and what happened to it
/// ("request parameter `id` read here", "concatenated into `query`").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FlowStep {
    pub location: Location,
    pub message: String,
}

impl Finding {
    pub fn primary_path(&self) -> Option<&str> {
        self.locations.first().map(|l| l.path.as_str())
    }

    /// The one way analyzers build a finding: required parts here, the rest
    /// by name, so a new field is added in one place rather than in every
    /// struct literal.
    pub fn builder(rule_id: &str, rule_name: &str, analyzer: &str) -> FindingBuilder {
        FindingBuilder(Finding {
            rule_id: rule_id.to_string(),
            rule_name: rule_name.to_string(),
            aliases: Vec::new(),
            analyzer: analyzer.to_string(),
            severity: Severity::default(),
            confidence: Confidence::High,
            message: String::new(),
            locations: Vec::new(),
            fingerprint: Fingerprint::from_parts(&[analyzer.as_bytes(), rule_id.as_bytes()]),
            secret: None,
            remediation: None,
            flow: Vec::new(),
            package: None,
            tags: Vec::new(),
            blocking: true,
        })
    }
}

/// Builds a [`Finding`]; see [`Finding::builder`]. The fingerprint defaults
/// to analyzer + rule and should almost always be set from the content.
#[must_use]
pub struct FindingBuilder(Finding);

impl FindingBuilder {
    pub fn severity(mut self, severity: Severity) -> Self {
        self.0.severity = severity;
        self
    }
    pub fn confidence(mut self, confidence: Confidence) -> Self {
        self.0.confidence = confidence;
        self
    }
    pub fn message(mut self, message: impl Into<String>) -> Self {
        self.0.message = message.into();
        self
    }
    pub fn fingerprint(mut self, fingerprint: Fingerprint) -> Self {
        self.0.fingerprint = fingerprint;
        self
    }
    pub fn location(mut self, location: Location) -> Self {
        // Most findings have one location; a first push would otherwise
        // reserve room for four (Vec's minimum), which for the thousands of
        // findings of a dependency scan is megabytes of peak memory.
        if self.0.locations.is_empty() {
            self.0.locations.reserve_exact(1);
        }
        self.0.locations.push(location);
        self
    }
    pub fn locations(mut self, locations: Vec<Location>) -> Self {
        self.0.locations.extend(locations);
        self
    }
    pub fn aliases(mut self, aliases: Vec<String>) -> Self {
        self.0.aliases = aliases;
        self
    }
    pub fn secret(mut self, secret: Redacted) -> Self {
        self.0.secret = Some(secret);
        self
    }
    pub fn remediation(mut self, remediation: Remediation) -> Self {
        self.0.remediation = Some(remediation);
        self
    }
    /// A remediation with no replacement text.
    pub fn fix(mut self, description: impl Into<String>) -> Self {
        self.0.remediation = Some(Remediation {
            description: description.into(),
            replacement: None,
        });
        self
    }
    pub fn flow(mut self, flow: Vec<FlowStep>) -> Self {
        self.0.flow = flow;
        self
    }
    pub fn package(mut self, package: PackageRef) -> Self {
        self.0.package = Some(package);
        self
    }
    pub fn build(self) -> Finding {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn severity_orders_and_parses() {
        assert!(Severity::Critical > Severity::High);
        assert!(Severity::Low > Severity::Info);
        assert_eq!("HIGH".parse::<Severity>(), Ok(Severity::High));
        assert!("severe".parse::<Severity>().is_err());
    }
}

//! GitLab security reports (schema 15.2.1): `secret_detection`,
//! `dependency_scanning` and `sast` artifacts that GitLab shows in merge
//! requests and the vulnerability report.
//!
//! Each report carries only the findings of its type, so GitLab's
//! deduplication and approval policies look in the right drawer: secrets
//! (anything with a redacted value), dependency advisories (anything naming
//! a package), and the rest (source, workflow and Dockerfile rules) as SAST.
//! GitLab's vulnerability has exactly one location, so a finding seen in
//! several places becomes one vulnerability per place.

use std::io::{self, Write};

use pipeguard_core::{Finding, Location, Report, Severity};
use serde_json::{Value, json};

/// The schema version the reports declare and the tests validate against.
pub const SCHEMA_VERSION: &str = "15.2.1";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    SecretDetection,
    DependencyScanning,
    Sast,
}

impl Kind {
    fn scan_type(self) -> &'static str {
        match self {
            Kind::SecretDetection => "secret_detection",
            Kind::DependencyScanning => "dependency_scanning",
            Kind::Sast => "sast",
        }
    }

    fn schema_file(self) -> &'static str {
        match self {
            Kind::SecretDetection => "secret-detection-report-format.json",
            Kind::DependencyScanning => "dependency-scanning-report-format.json",
            Kind::Sast => "sast-report-format.json",
        }
    }

    /// Which report a finding belongs in.
    pub fn of(f: &Finding) -> Kind {
        if f.secret.is_some() || f.analyzer == "secrets" {
            Kind::SecretDetection
        } else if f.package.is_some() {
            Kind::DependencyScanning
        } else {
            Kind::Sast
        }
    }
}

fn severity(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "Critical",
        Severity::High => "High",
        Severity::Medium => "Medium",
        Severity::Low => "Low",
        Severity::Info => "Info",
    }
}

/// Identifiers GitLab correlates on: CVE, GHSA and CWE ids by their own
/// type, everything else as a pipeguard rule.
fn identifiers(f: &Finding) -> Vec<Value> {
    let mut ids = Vec::new();
    for id in std::iter::once(&f.rule_id).chain(f.aliases.iter()) {
        let v = if let Some(n) = id.strip_prefix("CWE-") {
            json!({ "type": "cwe", "name": id, "value": n,
                    "url": format!("https://cwe.mitre.org/data/definitions/{n}.html") })
        } else if id.starts_with("CVE-") {
            json!({ "type": "cve", "name": id, "value": id,
                    "url": format!("https://nvd.nist.gov/vuln/detail/{id}") })
        } else if id.starts_with("GHSA-") {
            json!({ "type": "ghsa", "name": id, "value": id,
                    "url": format!("https://github.com/advisories/{id}") })
        } else if f.package.is_some() {
            json!({ "type": "osv", "name": id, "value": id,
                    "url": format!("https://osv.dev/vulnerability/{id}") })
        } else {
            json!({ "type": "pipeguard_rule_id", "name": f.rule_name, "value": id })
        };
        ids.push(v);
    }
    ids
}

fn truncate(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_string();
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s[..end].to_string()
}

fn location(kind: Kind, f: &Finding, l: &Location, commit: &str) -> Value {
    let mut loc = json!({ "file": l.path });
    if let Some(line) = l.line {
        loc["start_line"] = json!(line);
        loc["end_line"] = json!(l.end_line.unwrap_or(line));
    }
    match kind {
        Kind::SecretDetection => {
            let sha = l.git.as_ref().map_or(commit, |g| g.commit.as_str());
            let mut c = json!({ "sha": sha });
            if let Some(g) = &l.git {
                c["author"] = json!(g.author);
                c["date"] = json!(g.date);
            }
            loc["commit"] = c;
        }
        Kind::DependencyScanning => {
            if let Some(p) = &f.package {
                loc["dependency"] = json!({
                    "package": { "name": p.name },
                    "version": p.version,
                    "direct": p.direct,
                });
            }
        }
        Kind::Sast => {}
    }
    loc
}

/// Renders the report of `kind`. `commit` is the scanned revision, which a
/// secret found in the working tree is attributed to (the schema requires one).
pub fn render(report: &Report, kind: Kind, out: &mut dyn Write) -> io::Result<()> {
    let commit = report
        .commit
        .clone()
        .unwrap_or_else(|| "0000000000000000000000000000000000000000".into());
    let mut vulns = Vec::new();
    for f in report.findings.iter().filter(|f| Kind::of(f) == kind) {
        for (i, l) in f.locations.iter().enumerate() {
            let id = if f.locations.len() == 1 {
                f.fingerprint.as_str().to_string()
            } else {
                format!("{}-{i}", f.fingerprint.as_str())
            };
            let mut v = json!({
                "id": id,
                "name": truncate(&f.rule_name, 255),
                "description": truncate(&match &f.secret {
                    Some(s) => format!("{} [{s}]", f.message),
                    None => f.message.clone(),
                }, 1_048_576),
                "severity": severity(f.severity),
                "identifiers": identifiers(f),
                "location": location(kind, f, l, &commit),
            });
            if let Some(r) = &f.remediation {
                v["solution"] = json!(truncate(&r.description, 7000));
            }
            vulns.push(v);
        }
    }
    let (start, end) = times(report.summary.duration_ms);
    let tool = json!({
        "id": "pipeguard",
        "name": "pipeguard",
        "version": report.tool.version,
        "vendor": { "name": "pipeguard" },
    });
    let messages: Vec<Value> = report
        .problems
        .iter()
        .map(|p| {
            let at = p.line.map(|l| format!(":{l}")).unwrap_or_default();
            json!({ "level": "warn", "value": format!("{}{at}: {}", p.path, p.message) })
        })
        .collect();
    let doc = json!({
        "version": SCHEMA_VERSION,
        "schema": format!(
            "https://gitlab.com/gitlab-org/security-products/security-report-schemas/-/raw/v{SCHEMA_VERSION}/dist/{}",
            kind.schema_file()
        ),
        "scan": {
            "analyzer": tool.clone(),
            "scanner": tool,
            "type": kind.scan_type(),
            "start_time": start,
            "end_time": end,
            "status": "success",
            "messages": messages,
        },
        "vulnerabilities": vulns,
    });
    serde_json::to_writer_pretty(&mut *out, &doc)?;
    writeln!(out)
}

/// (start, end) in GitLab's `yyyy-mm-ddThh:mm:ss` UTC form, the end being now.
fn times(duration_ms: u64) -> (String, String) {
    let end = jiff::Timestamp::now();
    let start = end
        .checked_sub(jiff::SignedDuration::from_millis(duration_ms as i64))
        .unwrap_or(end);
    (stamp(start), stamp(end))
}

fn stamp(t: jiff::Timestamp) -> String {
    t.strftime("%Y-%m-%dT%H:%M:%S").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stamps_are_utc_civil_dates() {
        let at = |secs| stamp(jiff::Timestamp::from_second(secs).expect("in range"));
        assert_eq!(at(0), "1970-01-01T00:00:00");
        assert_eq!(at(951_782_400), "2000-02-29T00:00:00");
        assert_eq!(at(1_795_654_861), "2026-11-26T01:01:01");
    }
}

//! SARIF 2.1.0, as GitHub code scanning ingests it. One result per finding:
//! the first location is the primary one, the others are `relatedLocations`
//! (the same secret seen elsewhere). Fingerprints go to `partialFingerprints`
//! so that alerts keep their identity across commits.

use std::collections::{BTreeMap, HashMap};
use std::io::{self, Write};

use pipeguard_core::rule::security_severity;
use pipeguard_core::{Finding, Location, Report, RuleDoc, Severity};
use serde_json::{Value, json};

fn level(s: Severity) -> &'static str {
    match s {
        Severity::Critical | Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low | Severity::Info => "note",
    }
}

/// GitHub sorts and filters security alerts by this CVSS-like number.
/// Percent-encodes a relative path into a URI reference.
pub fn uri_ref(path: &str) -> String {
    let mut s = String::with_capacity(path.len());
    for b in path.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'/' => {
                s.push(b as char)
            }
            _ => s.push_str(&format!("%{b:02X}")),
        }
    }
    s
}

fn location(l: &Location, id: Option<usize>) -> Value {
    let mut region = serde_json::Map::new();
    if let Some(line) = l.line {
        region.insert("startLine".into(), json!(line));
        if let Some(c) = l.column {
            region.insert("startColumn".into(), json!(c));
        }
        if let Some(e) = l.end_line {
            region.insert("endLine".into(), json!(e));
        }
        if let Some(e) = l.end_column {
            region.insert("endColumn".into(), json!(e));
        }
        if let Some(snip) = &l.snippet {
            region.insert("snippet".into(), json!({ "text": snip }));
        }
    }
    let mut physical = json!({
        "artifactLocation": { "uri": uri_ref(&l.path), "uriBaseId": "%SRCROOT%" },
    });
    if !region.is_empty() {
        physical["region"] = Value::Object(region);
    }
    let mut loc = json!({ "physicalLocation": physical });
    if let Some(id) = id {
        loc["id"] = json!(id);
    }
    if let Some(g) = &l.git {
        loc["properties"] = json!({ "commit": g.commit, "author": g.author, "date": g.date });
    }
    loc
}

/// CWE numbers of a finding: its rule's, and any `CWE-N` among its aliases
/// (data-flow findings carry theirs there).
fn cwes(f: &Finding, doc: Option<&RuleDoc>) -> Vec<u32> {
    let mut v: Vec<u32> = doc.map(|d| d.cwe.clone()).unwrap_or_default();
    for a in &f.aliases {
        if let Some(n) = a.strip_prefix("CWE-").and_then(|n| n.parse().ok())
            && !v.contains(&n)
        {
            v.push(n);
        }
    }
    v
}

/// A `reportingDescriptor` from the rule registry when the rule is in it
/// (docs as markdown help, help link, CWE tags as GitHub code scanning reads
/// them), else from the finding itself (advisories are not rules of ours).
fn rule_descriptor(f: &Finding, doc: Option<&RuleDoc>) -> Value {
    let fix = f
        .remediation
        .as_ref()
        .map(|r| r.description.clone())
        .unwrap_or_else(|| f.message.clone());
    let mut tags = vec![json!("security"), json!(f.analyzer)];
    for c in cwes(f, doc) {
        tags.push(json!(format!("external/cwe/cwe-{c}")));
    }
    let mut d = json!({
        "id": f.rule_id,
        "name": f.rule_id,
        "shortDescription": { "text": f.rule_name },
        "fullDescription": { "text": f.rule_name },
        "help": { "text": fix },
        "defaultConfiguration": { "level": level(f.severity) },
        "properties": {
            "security-severity": security_severity(f.severity),
            "tags": tags,
        }
    });
    if let Some(doc) = doc {
        let fix = if doc.fix.is_empty() {
            fix
        } else {
            doc.fix.clone()
        };
        d["fullDescription"] = json!({ "text": doc.name });
        d["help"] = json!({
            "text": format!("{}\n\nFix: {fix}", doc.docs),
            "markdown": format!("{}\n\n## Fix\n{fix}", doc.docs),
        });
        d["helpUri"] = json!(doc.help_uri);
    }
    d
}

pub fn to_value(report: &Report) -> Value {
    let docs: HashMap<&str, &RuleDoc> = report.rules.iter().map(|r| (r.id.as_str(), r)).collect();
    let mut rules: BTreeMap<&str, (usize, Value)> = BTreeMap::new();
    for f in &report.findings {
        if !rules.contains_key(f.rule_id.as_str()) {
            let n = rules.len();
            let doc = docs.get(f.rule_id.as_str()).copied();
            rules.insert(&f.rule_id, (n, rule_descriptor(f, doc)));
        }
    }
    let mut ordered: Vec<&(usize, Value)> = rules.values().collect();
    ordered.sort_by_key(|(i, _)| *i);
    let results: Vec<Value> = report
        .findings
        .iter()
        .map(|f| {
            let mut r = json!({
                "ruleId": f.rule_id,
                "ruleIndex": rules[f.rule_id.as_str()].0,
                "level": level(f.severity),
                "message": { "text": match &f.secret {
                    Some(s) => format!("{} [{s}]", f.message),
                    None => f.message.clone(),
                }},
                "partialFingerprints": { "pipeguard/v1": f.fingerprint.as_str() },
                "properties": {
                    "severity": f.severity.as_str(),
                    "confidence": f.confidence.to_string(),
                    "analyzer": f.analyzer,
                },
            });
            if let Some(first) = f.locations.first() {
                r["locations"] = json!([location(first, None)]);
            }
            // A data-flow finding carries its trace as one thread flow, source
            // first, which code-scanning UIs render step by step.
            if !f.flow.is_empty() {
                let steps: Vec<Value> = f
                    .flow
                    .iter()
                    .map(|st| {
                        let mut loc = location(&st.location, None);
                        loc["message"] = json!({ "text": st.message });
                        json!({ "location": loc })
                    })
                    .collect();
                r["codeFlows"] = json!([{ "threadFlows": [{ "locations": steps }] }]);
            }
            if f.locations.len() > 1 {
                r["relatedLocations"] = Value::Array(
                    f.locations[1..]
                        .iter()
                        .enumerate()
                        .map(|(i, l)| location(l, Some(i + 1)))
                        .collect(),
                );
            }
            r
        })
        .collect();
    let notifications: Vec<Value> = report
        .problems
        .iter()
        .map(|p| {
            let mut n = json!({
                "level": "warning",
                "message": { "text": p.message },
                "locations": [location(&Location { line: p.line, ..Location::file(p.path.clone()) }, None)],
            });
            if p.line.is_none() {
                n["locations"][0]["physicalLocation"]
                    .as_object_mut()
                    .map(|o| o.remove("region"));
            }
            n
        })
        .collect();
    let root_uri = {
        let mut r = uri_ref(&report.root);
        if !r.ends_with('/') {
            r.push('/');
        }
        if r.starts_with('/') {
            format!("file://{r}")
        } else {
            r
        }
    };
    json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": { "driver": {
                "name": "pipeguard",
                "version": report.tool.version,
                "semanticVersion": report.tool.version,
                "informationUri": "https://github.com/pipeguard/pipeguard",
                "rules": ordered.iter().map(|(_, v)| v.clone()).collect::<Vec<_>>(),
            }},
            "originalUriBaseIds": { "%SRCROOT%": { "uri": root_uri } },
            "invocations": [{
                "executionSuccessful": true,
                "toolExecutionNotifications": notifications,
            }],
            "results": results,
            "properties": { "summary": summary(report) },
        }]
    })
}

/// The JSON report's finding counts, in the run's property bag (SARIF
/// §3.8): viewers ignore it, scripts reading the SARIF need not recount.
/// The scan's size and duration stay out, so that the same findings give
/// the same SARIF.
fn summary(report: &Report) -> Value {
    let s = &report.summary;
    json!({
        "findings": report.findings.len(),
        "findings_by_severity": s.findings_by_severity,
        "by_analyzer": s.by_analyzer,
        "by_rule": s.by_rule,
        "top_files": s.top_files,
        "suppressed_by_baseline": s.suppressed_by_baseline,
    })
}

pub fn render(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, &to_value(report))?;
    writeln!(out)
}

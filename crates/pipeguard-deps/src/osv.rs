//! OSV records (ossf.github.io/osv-schema), reduced to what matching needs.
//! We keep our own serde structs rather than a schema crate: the subset is
//! small, and unknown or future fields must never make an import fail.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Deserialize)]
pub struct RawRecord {
    pub id: String,
    #[serde(default)]
    pub modified: String,
    #[serde(default)]
    pub published: Option<String>,
    #[serde(default)]
    pub withdrawn: Option<String>,
    #[serde(default)]
    pub aliases: Vec<String>,
    #[serde(default)]
    pub upstream: Vec<String>,
    #[serde(default)]
    pub summary: Option<String>,
    #[serde(default)]
    pub details: Option<String>,
    #[serde(default)]
    pub severity: Vec<RawSeverity>,
    #[serde(default)]
    pub affected: Vec<RawAffected>,
    #[serde(default)]
    pub references: Vec<RawReference>,
    #[serde(default)]
    pub database_specific: Option<serde_json::Value>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct RawSeverity {
    #[serde(rename = "type")]
    pub kind: String,
    pub score: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct RawAffected {
    #[serde(default)]
    pub package: Option<RawPackage>,
    #[serde(default)]
    pub ranges: Vec<RawRange>,
    #[serde(default)]
    pub versions: Vec<String>,
    #[serde(default)]
    pub severity: Vec<RawSeverity>,
    #[serde(default)]
    pub database_specific: Option<serde_json::Value>,
    #[serde(default)]
    pub ecosystem_specific: Option<serde_json::Value>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct RawPackage {
    pub ecosystem: String,
    pub name: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct RawRange {
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub events: Vec<serde_json::Map<String, serde_json::Value>>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct RawReference {
    #[serde(rename = "type", default)]
    pub kind: String,
    pub url: String,
}

/// One range event, in the order the record lists them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Event {
    Introduced(String),
    Fixed(String),
    LastAffected(String),
    Limit(String),
}

/// What the index keeps of an affected package entry.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Affected {
    /// Normalized package name.
    pub name: String,
    /// The ecosystem suffix (`11` of `Debian:11`, `v3.11` of `Alpine:v3.11`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub release: Option<String>,
    /// ECOSYSTEM and SEMVER ranges (GIT ranges cannot be evaluated on versions).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ranges: Vec<Vec<Event>>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub versions: Vec<String>,
    /// Go only (`ecosystem_specific.imports`): the packages of the module
    /// that hold the vulnerable code, with its symbols, for reachability.
    /// Empty when the record does not say, which means "any use".
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub imports: Vec<GoImport>,
}

/// One package (import path) of a Go module that an advisory affects.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GoImport {
    pub path: String,
    /// Vulnerable functions (`Dial`) and methods (`Client.Dial`); empty when
    /// the whole package is affected.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub symbols: Vec<String>,
}

/// What the index keeps of an advisory.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Advisory {
    pub id: String,
    pub modified: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub aliases: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    /// CVSS base score computed from the record's vector, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cvss_score: Option<f64>,
    /// The database's own severity word (GHSA `HIGH`, `MODERATE` …), as fallback.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub db_severity: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    pub affected: Vec<Affected>,
}

/// Computes the base score of a CVSS v3.x or v4.0 vector.
pub fn cvss_base_score(vector: &str) -> Option<f64> {
    if vector.starts_with("CVSS:4.0/") {
        let v: cvss::v4::Vector = vector.parse().ok()?;
        Some(v.score().value())
    } else if vector.starts_with("CVSS:3.") {
        let v: cvss::v3::Vector = vector.parse().ok()?;
        Some(v.score().value())
    } else {
        None
    }
}

fn db_severity_word(v: &Option<serde_json::Value>) -> Option<String> {
    let v = v.as_ref()?;
    v.get("severity")
        .and_then(|s| s.as_str())
        .map(|s| s.to_ascii_uppercase())
        .or_else(|| {
            // victims/rubysec conversions keep a numeric CVSS score.
            v.get("cvss_v3")
                .or_else(|| v.get("cvss_v2"))
                .and_then(|s| s.as_f64())
                .map(|f| format!("{f}"))
        })
}

/// `ecosystem_specific.imports` of a Go record: `[{path, symbols}]`.
/// Anything malformed is dropped, which only makes a finding reachable.
fn go_imports(v: &Option<serde_json::Value>) -> Vec<GoImport> {
    let Some(list) = v
        .as_ref()
        .and_then(|v| v.get("imports"))
        .and_then(|i| i.as_array())
    else {
        return Vec::new();
    };
    list.iter()
        .filter_map(|i| {
            let path = i.get("path")?.as_str()?.to_string();
            let symbols = i
                .get("symbols")
                .and_then(|s| s.as_array())
                .map(|s| {
                    s.iter()
                        .filter_map(|x| x.as_str().map(str::to_string))
                        .collect()
                })
                .unwrap_or_default();
            Some(GoImport { path, symbols })
        })
        .collect()
}

impl RawRecord {
    /// Reduces a record to the index form, keeping only the affected entries
    /// of `ecosystem` (an OSV ecosystem base name such as `PyPI`).
    pub fn reduce(&self, ecosystem: &str, normalize: impl Fn(&str) -> String) -> Option<Advisory> {
        if self.withdrawn.is_some() {
            return None;
        }
        let mut affected = Vec::new();
        for a in &self.affected {
            let Some(pkg) = &a.package else { continue };
            let mut parts = pkg.ecosystem.splitn(2, ':');
            if parts.next() != Some(ecosystem) {
                continue;
            }
            let release = parts.next().map(str::to_string);
            let ranges: Vec<Vec<Event>> = a
                .ranges
                .iter()
                .filter(|r| r.kind == "ECOSYSTEM" || r.kind == "SEMVER")
                .map(|r| {
                    r.events
                        .iter()
                        .filter_map(|e| {
                            let (k, v) = e.iter().next()?;
                            let v = v.as_str()?.to_string();
                            Some(match k.as_str() {
                                "introduced" => Event::Introduced(v),
                                "fixed" => Event::Fixed(v),
                                "last_affected" => Event::LastAffected(v),
                                "limit" => Event::Limit(v),
                                _ => return None,
                            })
                        })
                        .collect()
                })
                .filter(|r: &Vec<Event>| !r.is_empty())
                .collect();
            if ranges.is_empty() && a.versions.is_empty() {
                continue;
            }
            affected.push(Affected {
                name: normalize(&pkg.name),
                release,
                ranges,
                versions: a.versions.clone(),
                imports: go_imports(&a.ecosystem_specific),
            });
        }
        if affected.is_empty() {
            return None;
        }
        let vectors = self
            .severity
            .iter()
            .chain(self.affected.iter().flat_map(|a| a.severity.iter()));
        let cvss_score = vectors
            .filter(|s| s.kind.starts_with("CVSS_V3") || s.kind == "CVSS_V4")
            .filter_map(|s| cvss_base_score(&s.score))
            .fold(None, |acc: Option<f64>, s| {
                Some(acc.map_or(s, |a| a.max(s)))
            });
        let db_severity = db_severity_word(&self.database_specific).or_else(|| {
            self.affected.iter().find_map(|a| {
                db_severity_word(&a.database_specific).or(db_severity_word(&a.ecosystem_specific))
            })
        });
        let mut aliases: Vec<String> = self.aliases.clone();
        for u in &self.upstream {
            if !aliases.contains(u) {
                aliases.push(u.clone());
            }
        }
        let url = self
            .references
            .iter()
            .find(|r| r.kind == "ADVISORY")
            .or_else(|| self.references.first())
            .map(|r| r.url.clone());
        Some(Advisory {
            id: self.id.clone(),
            modified: self.modified.clone(),
            aliases,
            summary: self.summary.clone().or_else(|| {
                self.details
                    .as_ref()
                    .map(|d| d.lines().next().unwrap_or("").chars().take(200).collect())
            }),
            cvss_score,
            db_severity,
            url,
            affected,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cvss_scores() {
        let s = cvss_base_score("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H").expect("v3");
        assert!((s - 9.8).abs() < 1e-9, "{s}");
        let s4 = cvss_base_score("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N")
            .expect("v4");
        assert!((s4 - 9.3).abs() < 1e-9, "{s4}");
        assert_eq!(cvss_base_score("AV:N/AC:L/Au:N/C:P/I:P/A:P"), None);
    }

    #[test]
    fn withdrawn_and_foreign_records_are_dropped() {
        let r: RawRecord = serde_json::from_str(
            r#"{"id":"X-1","modified":"2024-01-01T00:00:00Z","withdrawn":"2024-02-01T00:00:00Z",
                "affected":[{"package":{"ecosystem":"PyPI","name":"a"},"versions":["1.0"]}]}"#,
        )
        .expect("parse");
        assert!(r.reduce("PyPI", |s| s.to_string()).is_none());
        let r: RawRecord = serde_json::from_str(
            r#"{"id":"X-2","modified":"2024-01-01T00:00:00Z",
                "affected":[{"package":{"ecosystem":"npm","name":"a"},"versions":["1.0"]}]}"#,
        )
        .expect("parse");
        assert!(r.reduce("PyPI", |s| s.to_string()).is_none());
    }
}

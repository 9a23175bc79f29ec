//! `[profile.NAME]` and `[scan]`: what `pipeguard scan` runs, how deep, and
//! where it blocks. Three profiles are built in (`pr`, `main`, `release`);
//! a `[profile.pr]` table overrides the built-in one field by field, and any
//! other name defines a new profile on top of `main`.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::Deserialize;

use crate::Severity;

/// An analyzer `pipeguard scan` can run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Analyzer {
    /// Hard-coded credentials in the working tree (and history, see `history`).
    Secrets,
    /// Vulnerable and untrusted dependencies in lockfiles.
    Deps,
    /// CI workflow audits (GitHub Actions, GitLab CI).
    Ci,
    /// Dockerfile rules.
    Dockerfile,
    /// Static analysis of source code (data-flow and structural rules).
    Code,
    /// Built images listed in the profile's `images`.
    Image,
}

impl Analyzer {
    pub const ALL: [Analyzer; 6] = [
        Analyzer::Secrets,
        Analyzer::Deps,
        Analyzer::Ci,
        Analyzer::Dockerfile,
        Analyzer::Code,
        Analyzer::Image,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Analyzer::Secrets => "secrets",
            Analyzer::Deps => "deps",
            Analyzer::Ci => "ci",
            Analyzer::Dockerfile => "dockerfile",
            Analyzer::Code => "code",
            Analyzer::Image => "image",
        }
    }

    pub fn parse(s: &str) -> Option<Analyzer> {
        Analyzer::ALL.into_iter().find(|a| a.as_str() == s)
    }
}

/// How much git history the secrets analyzer reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum History {
    /// The working tree only.
    None,
    /// The commits of the change (after the diff base); the working tree
    /// when there is no base.
    Diff,
    /// Every commit of every ref.
    Full,
}

/// What `pipeguard scan` does when an analyzer cannot run or cannot vouch
/// for its result (no advisory database, a stale one, an image it cannot
/// read).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum OnError {
    /// Fail closed: exit 2 with the reasons, whatever was found (default;
    /// `release` always).
    #[default]
    Fail,
    /// List the reasons as problems and exit by findings.
    Warn,
}

/// Whether findings in test data (tagged `test`) can fail the scan.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum TestFindings {
    /// Reported, tagged `test`, but never failing — except real-looking
    /// (high-confidence) credentials, which count wherever they are.
    #[default]
    Report,
    /// Counted like any other finding.
    Count,
}

/// `[profile.NAME]`: one way of running `pipeguard scan`. Every field is
/// optional; what is left out comes from the built-in profile of the same
/// name, or from `main` for a new name.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct ProfileConfig {
    /// Analyzers to run (`secrets`, `deps`, `ci`, `dockerfile`, `code`, `image`).
    pub analyzers: Option<Vec<Analyzer>>,
    /// Git history depth for secrets: `none`, `diff` or `full`.
    pub history: Option<History>,
    /// Report only what the change introduces, when a diff base is known
    /// (`--diff-base`, or the CI's pull/merge request variables).
    pub diff: Option<bool>,
    /// Report vulnerabilities of transitive dependencies too (false: direct only).
    pub transitive: Option<bool>,
    /// Images the `image` analyzer checks: `oci:DIR[:TAG]`, `docker-archive:FILE`,
    /// or a registry reference (needs the `registry` feature).
    pub images: Option<Vec<String>>,
    /// Threshold of this profile: findings at or above it fail the scan.
    pub fail_on: Option<Severity>,
    /// `fail` (default): an analyzer that cannot run makes the scan exit 2;
    /// `warn`: it is only listed as a problem. Not allowed for `release`.
    pub on_error: Option<OnError>,
    /// `report` (default): findings in test data are shown, tagged `test`,
    /// but fail the scan only when they are real-looking credentials;
    /// `count`: they count like any other.
    pub test_findings: Option<TestFindings>,
}

/// `[scan]`: settings of `pipeguard scan` shared by every profile.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct ScanConfig {
    /// Remember files that scanned clean (by size, modification time and
    /// inode) so that the next scan skips them. Default true.
    #[serde(default = "yes")]
    pub cache: bool,
    /// Profile used when neither `--profile` nor the CI environment picks one.
    pub default_profile: Option<String>,
    /// Directory names whose findings are test data (tagged `test`);
    /// replaces the built-in list (`test`, `tests`, `testdata`, `fixtures`,
    /// `examples`, `spec`, `__tests__`, `e2e`, `mocks` …).
    pub test_dirs: Option<Vec<String>>,
}

fn yes() -> bool {
    true
}

impl Default for ScanConfig {
    fn default() -> Self {
        ScanConfig {
            cache: true,
            default_profile: None,
            test_dirs: None,
        }
    }
}

/// A resolved profile: every field decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Profile {
    pub name: String,
    pub analyzers: Vec<Analyzer>,
    pub history: History,
    pub diff: bool,
    pub transitive: bool,
    pub images: Vec<String>,
    pub fail_on: Severity,
    pub on_error: OnError,
    pub test_findings: TestFindings,
}

/// The built-in profiles: `pr` is light and diff-aware, `main` scans the
/// whole tree and its history, `release` adds images and blocks lower.
pub fn builtin(name: &str, fail_on: Severity) -> Option<Profile> {
    let files = vec![
        Analyzer::Secrets,
        Analyzer::Deps,
        Analyzer::Ci,
        Analyzer::Dockerfile,
        Analyzer::Code,
    ];
    Some(match name {
        "pr" => Profile {
            name: name.into(),
            analyzers: files,
            history: History::Diff,
            diff: true,
            transitive: true,
            images: Vec::new(),
            fail_on,
            on_error: OnError::Fail,
            test_findings: TestFindings::Report,
        },
        "main" => Profile {
            name: name.into(),
            analyzers: files,
            history: History::Full,
            diff: false,
            transitive: true,
            images: Vec::new(),
            fail_on,
            on_error: OnError::Fail,
            test_findings: TestFindings::Report,
        },
        "release" => Profile {
            name: name.into(),
            analyzers: Analyzer::ALL.to_vec(),
            history: History::Full,
            diff: false,
            transitive: true,
            images: Vec::new(),
            fail_on: fail_on.min(Severity::Low),
            on_error: OnError::Fail,
            test_findings: TestFindings::Report,
        },
        _ => return None,
    })
}

/// Resolves `name` against the policy's profile tables and the built-ins.
pub fn resolve(
    name: &str,
    tables: &BTreeMap<String, ProfileConfig>,
    fail_on: Severity,
) -> Result<Profile, String> {
    let table = tables.get(name);
    let mut p = match (builtin(name, fail_on), table) {
        (Some(p), _) => p,
        (None, Some(_)) => Profile {
            name: name.into(),
            ..builtin("main", fail_on).expect("main is built in")
        },
        (None, None) => {
            let mut known: Vec<&str> = vec!["pr", "main", "release"];
            known.extend(
                tables
                    .keys()
                    .map(String::as_str)
                    .filter(|k| builtin(k, fail_on).is_none()),
            );
            return Err(format!(
                "unknown profile `{name}` (known: {})",
                known.join(", ")
            ));
        }
    };
    if let Some(t) = table {
        if let Some(a) = &t.analyzers {
            let mut a = a.clone();
            a.sort();
            a.dedup();
            p.analyzers = a;
        }
        if let Some(h) = t.history {
            p.history = h;
        }
        if let Some(d) = t.diff {
            p.diff = d;
        }
        if let Some(t) = t.transitive {
            p.transitive = t;
        }
        if let Some(i) = &t.images {
            p.images = i.clone();
        }
        if let Some(f) = t.fail_on {
            p.fail_on = f;
        }
        if let Some(e) = t.on_error {
            if e == OnError::Warn && name == "release" {
                return Err(
                    "[profile.release] on-error = \"warn\": the release gate never passes what it could not check; remove it, or define another profile".into(),
                );
            }
            p.on_error = e;
        }
        if let Some(t) = t.test_findings {
            p.test_findings = t;
        }
    }
    Ok(p)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_override_builtins_field_by_field_and_define_new_profiles() {
        let mut tables = BTreeMap::new();
        tables.insert(
            "pr".to_string(),
            ProfileConfig {
                fail_on: Some(Severity::High),
                ..Default::default()
            },
        );
        tables.insert(
            "nightly".to_string(),
            ProfileConfig {
                analyzers: Some(vec![Analyzer::Deps, Analyzer::Secrets, Analyzer::Deps]),
                ..Default::default()
            },
        );
        let pr = resolve("pr", &tables, Severity::Medium).unwrap();
        assert_eq!(pr.fail_on, Severity::High);
        assert_eq!(
            pr.history,
            History::Diff,
            "unset fields keep the built-in value"
        );
        assert!(pr.diff);
        let nightly = resolve("nightly", &tables, Severity::Medium).unwrap();
        assert_eq!(nightly.analyzers, vec![Analyzer::Secrets, Analyzer::Deps]);
        assert_eq!(
            nightly.history,
            History::Full,
            "new profiles start from main"
        );
        let release = resolve("release", &tables, Severity::High).unwrap();
        assert_eq!(
            release.fail_on,
            Severity::Low,
            "release blocks lower than the policy"
        );
        assert!(release.analyzers.contains(&Analyzer::Image));
        let err = resolve("nope", &tables, Severity::Medium).unwrap_err();
        assert!(err.contains("nightly") && err.contains("pr"), "{err}");
    }
}

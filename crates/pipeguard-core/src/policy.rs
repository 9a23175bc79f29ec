//! `pipeguard.toml`: one policy file drives every analyzer.
//!
//! Unknown keys are errors (a typo in a security policy must not silently
//! weaken it), and every error names the file and the line.

use std::path::{Path, PathBuf};

use globset::{Glob, GlobMatcher};
use serde::Deserialize;
use toml::Spanned;

use crate::finding::{Confidence, Finding, Location, Severity};
use crate::fingerprint::Fingerprint;

pub const FILE_NAME: &str = "pipeguard.toml";

/// The `GITHUB_TOKEN` scopes a workflow's `permissions:` accepts.
pub const TOKEN_SCOPES: &[&str] = &[
    "actions",
    "attestations",
    "checks",
    "contents",
    "deployments",
    "discussions",
    "id-token",
    "issues",
    "models",
    "packages",
    "pages",
    "pull-requests",
    "repository-projects",
    "security-events",
    "statuses",
];

#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    #[error("{path}: cannot read policy file: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    /// A TOML syntax or shape error; `message` already names line and column.
    #[error("{path}: {message}")]
    Parse { path: String, message: String },
    #[error("{path}:{line}: {message}")]
    Invalid {
        path: String,
        line: usize,
        message: String,
    },
}

/// The parsed policy. Sections belong to analyzers; shapes live here so that
/// one parse validates the whole file.
///
/// This struct is also the source of the committed JSON schema of
/// `pipeguard.toml` (`docs/pipeguard.schema.json`), so its doc comments are
/// what editors show.
#[derive(Debug, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
#[schemars(
    title = "pipeguard.toml",
    description = "The pipeguard policy file: one file drives every analyzer."
)]
pub struct RawPolicy {
    /// Findings at or above this severity fail the scan (exit 1):
    /// critical, high, medium (default), low or info.
    #[serde(default)]
    #[schemars(with = "Option<Severity>")]
    fail_on: Option<Spanned<String>>,
    /// `[[ignore]]`: accepted findings, each with a reason and optionally an expiry date.
    #[serde(default)]
    #[schemars(with = "Vec<RawIgnore>")]
    ignore: Vec<Spanned<RawIgnore>>,
    /// `[secrets]`: settings of the secrets analyzer.
    #[serde(default)]
    secrets: SecretsConfig,
    /// `[deps]`: settings of the dependency analyzer.
    #[serde(default)]
    deps: DepsConfig,
    /// `[run]`: secrets that `pipeguard run` injects.
    #[serde(default)]
    run: crate::run::RunConfig,
    /// `[scan]`: settings of `pipeguard scan`.
    #[serde(default)]
    scan: crate::profile::ScanConfig,
    /// `[ci]`: settings of the CI workflow audits.
    #[serde(default)]
    ci: RawCi,
    /// `[profile.NAME]`: the profiles of `pipeguard scan` (`pr`, `main`,
    /// `release` are built in; a table here overrides them field by field).
    #[serde(default)]
    profile: std::collections::BTreeMap<String, crate::profile::ProfileConfig>,
}

/// One accepted finding or class of findings. At least one of `rule`,
/// `path` and `fingerprint` is required.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawIgnore {
    /// Rule id or alias (CVE, GHSA …), glob allowed.
    rule: Option<String>,
    /// Path glob; without a `/` it also matches the file name anywhere.
    path: Option<String>,
    /// The fingerprint of one finding, as printed in reports.
    fingerprint: Option<String>,
    /// Why this is accepted; required and non-empty.
    reason: String,
    /// Date (2026-12-31) after which the ignore stops applying and is reported.
    #[schemars(with = "Option<String>", regex(pattern = r"^\d{4}-\d{2}-\d{2}$"))]
    expires: Option<toml::Value>,
}

/// `[ci]`: settings of the CI workflow audits.
#[derive(Debug, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawCi {
    /// `[ci.actions."owner/name"]`: the `GITHUB_TOKEN` permissions an action
    /// needs, for actions the built-in knowledge base does not know (an
    /// internal action, a fork). A declared action is known: jobs using it
    /// get least-privilege advice instead of "unknown". Replaces the built-in
    /// entry when both exist.
    #[serde(default)]
    #[schemars(with = "std::collections::BTreeMap<String, RawCiAction>")]
    actions: std::collections::BTreeMap<String, Spanned<RawCiAction>>,
}

/// What one action needs.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawCiAction {
    /// Scope → access, as in a workflow's `permissions:` block
    /// (`{ contents = "write", pull-requests = "read" }`); `{}` needs none.
    permissions: std::collections::BTreeMap<String, TokenAccess>,
}

/// Access to one `GITHUB_TOKEN` scope.
#[derive(Debug, Clone, Copy, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
enum TokenAccess {
    Read,
    Write,
    None,
}

/// `[ci]`, validated.
#[derive(Debug, Default, Clone)]
pub struct CiConfig {
    /// Lowercase `owner/name[/path]` (no `@ref`) → scope → `read`, `write` or `none`.
    pub actions: std::collections::BTreeMap<String, std::collections::BTreeMap<String, String>>,
}

/// `[secrets]`: settings of the secrets analyzer.
#[derive(Debug, Default, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct SecretsConfig {
    /// Files larger than this many bytes are skipped with a warning.
    pub max_file_size: Option<u64>,
    /// Path globs that are never scanned.
    #[serde(default)]
    pub exclude: Vec<String>,
    /// Extra rule files (TOML, same format as the built-in rules), relative to the policy.
    #[serde(default)]
    pub rule_files: Vec<PathBuf>,
    /// Rule ids that are turned off.
    #[serde(default)]
    pub disable_rules: Vec<String>,
    /// Regexes: a secret value matching one of them is an accepted, known value.
    #[serde(default)]
    pub allow_values: Vec<String>,
    /// Also scan files that .gitignore excludes (CI workspaces often hold the
    /// leaked `.env` there). Off by default, like a developer's `git status`.
    #[serde(default)]
    pub scan_ignored: bool,
}

/// `[deps]`: settings of the dependency analyzer.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct DepsConfig {
    /// Advisory database directory (default: `$PIPEGUARD_DB`, else the
    /// platform cache directory).
    pub db: Option<PathBuf>,
    /// Where `pipeguard db update` and the automatic first download fetch
    /// OSV's `<Ecosystem>/all.zip` dumps: a mirror (default:
    /// `$PIPEGUARD_OSV_URL`, else OSV's public bucket).
    pub db_url: Option<String>,
    /// Never download advisories: without a database, scans fail closed and
    /// say how to import one (`--offline` and `PIPEGUARD_OFFLINE=1` too).
    #[serde(default)]
    pub offline: bool,
    /// Warn when the database was imported longer ago than this.
    #[serde(default = "default_max_db_age")]
    pub max_db_age_days: u64,
    /// A manifest (package.json, Cargo.toml of an application, pyproject.toml,
    /// Gemfile, composer.json, Pipfile) without a lockfile is a finding.
    #[serde(default = "yes")]
    pub require_lockfile: bool,
    /// Registries besides each ecosystem's default one that packages may come
    /// from (URL prefixes). Any other registry is a finding.
    #[serde(default)]
    pub allowed_registries: Vec<String>,
    /// Require `--hash` on every pinned requirement in requirements files.
    #[serde(default)]
    pub require_hashes: bool,
    /// Packages that must not be used: `name` or `name@version`.
    #[serde(default)]
    pub deny: Vec<String>,
    /// When not empty, the only packages that may be used (`name` or
    /// `name@version`); anything else is a finding.
    #[serde(default)]
    pub allow: Vec<String>,
    /// Whether a vulnerable dependency whose affected packages the project's
    /// own code never imports still fails the scan. Reachability is a
    /// textual check of the project's sources (Go imports and symbols,
    /// Python imports), not of its dependencies', so the default is true;
    /// false reports such findings at `info` severity.
    #[serde(default = "yes")]
    pub fail_on_unreachable: bool,
}

fn default_max_db_age() -> u64 {
    7
}

fn yes() -> bool {
    true
}

impl Default for DepsConfig {
    fn default() -> Self {
        DepsConfig {
            db: None,
            db_url: None,
            offline: false,
            max_db_age_days: default_max_db_age(),
            require_lockfile: true,
            allowed_registries: Vec::new(),
            require_hashes: false,
            deny: Vec::new(),
            allow: Vec::new(),
            fail_on_unreachable: true,
        }
    }
}

/// One `[[ignore]]` entry, validated.
#[derive(Debug)]
pub struct IgnoreEntry {
    pub rule: Option<GlobMatcher>,
    pub path: Option<(GlobMatcher, bool)>,
    pub fingerprint: Option<Fingerprint>,
    pub reason: String,
    pub expires: Option<jiff::civil::Date>,
    /// 1-based line of the entry in the policy file.
    pub line: usize,
    description: String,
}

impl IgnoreEntry {
    fn matches_finding(&self, f: &Finding) -> bool {
        self.rule
            .as_ref()
            .is_none_or(|r| r.is_match(&f.rule_id) || f.aliases.iter().any(|a| r.is_match(a)))
            && self
                .fingerprint
                .as_ref()
                .is_none_or(|fp| *fp == f.fingerprint)
    }

    fn matches_path(&self, path: &str) -> bool {
        match &self.path {
            None => true,
            Some((glob, basename_only)) => {
                if *basename_only {
                    let name = path.rsplit('/').next().unwrap_or(path);
                    glob.is_match(name) || glob.is_match(path)
                } else {
                    glob.is_match(path)
                }
            }
        }
    }
}

/// [`Policy::ignores_everything_at`] over a list of ignores (analyzers get
/// the list, not the whole policy).
pub fn ignores_everything_at(
    ignores: &[IgnoreEntry],
    path: &str,
    today: jiff::civil::Date,
) -> bool {
    ignores.iter().any(|i| {
        i.path.is_some()
            && i.rule.is_none()
            && i.fingerprint.is_none()
            && i.expires.is_none_or(|d| d >= today)
            && i.matches_path(path)
    })
}

#[derive(Debug, Default)]
pub struct Policy {
    /// Where it was read from; `None` for the built-in default.
    pub path: Option<PathBuf>,
    pub fail_on: Severity,
    pub ignores: Vec<IgnoreEntry>,
    pub secrets: SecretsConfig,
    pub deps: DepsConfig,
    /// `[run]`: secrets that `pipeguard run` injects.
    pub run: crate::run::RunConfig,
    /// `[scan]`: settings of `pipeguard scan`.
    pub scan: crate::profile::ScanConfig,
    /// `[profile.NAME]` tables, as written.
    pub profiles: std::collections::BTreeMap<String, crate::profile::ProfileConfig>,
    /// `[ci]`: actions declared with their token permissions.
    pub ci: CiConfig,
}

fn line_of(src: &str, offset: usize) -> usize {
    src.as_bytes()[..offset.min(src.len())]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

impl Policy {
    /// Finds `pipeguard.toml` at `root` (a directory) or returns the default policy.
    pub fn discover(root: &Path) -> Result<Policy, PolicyError> {
        let candidate = if root.is_dir() {
            root.join(FILE_NAME)
        } else {
            return Ok(Policy::default());
        };
        if candidate.is_file() {
            Policy::load(&candidate)
        } else {
            Ok(Policy::default())
        }
    }

    pub fn load(path: &Path) -> Result<Policy, PolicyError> {
        let src = std::fs::read_to_string(path).map_err(|source| PolicyError::Read {
            path: path.display().to_string(),
            source,
        })?;
        let mut p = Policy::parse(&src, &path.display().to_string())?;
        p.path = Some(path.to_path_buf());
        Ok(p)
    }

    pub fn parse(src: &str, path: &str) -> Result<Policy, PolicyError> {
        // toml's own rendering quotes the offending line, and serde quotes
        // the offending value; either may be a credential (`allow-values`,
        // a registry URL with a password). Report the position and a
        // message whose long quoted values are redacted instead.
        let raw: RawPolicy = toml::from_str(src).map_err(|e| {
            let at = e
                .span()
                .map(|sp| {
                    let line = line_of(src, sp.start);
                    let col = src[..sp.start.min(src.len())]
                        .rfind('\n')
                        .map_or(sp.start, |nl| sp.start - nl - 1)
                        + 1;
                    format!("line {line}, column {col}: ")
                })
                .unwrap_or_default();
            PolicyError::Parse {
                path: path.to_string(),
                message: format!("{at}{}", redact_quoted(e.message().trim_end())),
            }
        })?;
        let invalid = |offset: usize, message: String| PolicyError::Invalid {
            path: path.to_string(),
            line: line_of(src, offset),
            message,
        };
        let fail_on = match &raw.fail_on {
            None => Severity::default(),
            Some(s) => s.get_ref().parse().map_err(|m: String| {
                invalid(s.span().start, format!("fail-on: {}", redact_quoted(&m)))
            })?,
        };
        let mut ignores = Vec::new();
        for entry in &raw.ignore {
            let at = entry.span().start;
            let e = entry.get_ref();
            if e.rule.is_none() && e.path.is_none() && e.fingerprint.is_none() {
                return Err(invalid(
                    at,
                    "[[ignore]] needs at least one of `rule`, `path` or `fingerprint`".into(),
                ));
            }
            if e.reason.trim().is_empty() {
                return Err(invalid(at, "[[ignore]] `reason` must not be empty".into()));
            }
            let glob = |pat: &str, what: &str| {
                Glob::new(pat).map(|g| g.compile_matcher()).map_err(|err| {
                    invalid(at, format!("[[ignore]] bad {what} glob `{pat}`: {err}"))
                })
            };
            let rule = e.rule.as_deref().map(|r| glob(r, "rule")).transpose()?;
            let path_m = match e.path.as_deref() {
                Some(p) => Some((glob(p, "path")?, !p.contains('/'))),
                None => None,
            };
            let expires = match &e.expires {
                None => None,
                Some(v) => Some(parse_date(v).ok_or_else(|| {
                    invalid(
                        at,
                        format!("[[ignore]] `expires` must be a date like 2026-12-31, got {v}"),
                    )
                })?),
            };
            let mut description = Vec::new();
            if let Some(r) = &e.rule {
                description.push(format!("rule = \"{r}\""));
            }
            if let Some(p) = &e.path {
                description.push(format!("path = \"{p}\""));
            }
            if let Some(f) = &e.fingerprint {
                description.push(format!("fingerprint = \"{f}\""));
            }
            ignores.push(IgnoreEntry {
                rule,
                path: path_m,
                fingerprint: e.fingerprint.as_deref().map(Fingerprint::parse),
                reason: e.reason.clone(),
                expires,
                line: line_of(src, at),
                description: description.join(", "),
            });
        }
        let mut ci = CiConfig::default();
        for (name, entry) in &raw.ci.actions {
            let at = entry.span().start;
            let uses = name.split('@').next().unwrap_or(name).trim();
            if uses.split('/').filter(|p| !p.is_empty()).count() < 2 {
                return Err(invalid(
                    at,
                    format!(
                        "[ci.actions] `{}` is not an `owner/name[/path]` action",
                        redact_quoted(name)
                    ),
                ));
            }
            let mut needs = std::collections::BTreeMap::new();
            for (scope, access) in &entry.get_ref().permissions {
                if !TOKEN_SCOPES.contains(&scope.as_str()) {
                    return Err(invalid(
                        at,
                        format!(
                            "[ci.actions.\"{uses}\"] unknown permission scope `{}` (one of: {})",
                            redact_quoted(scope),
                            TOKEN_SCOPES.join(", ")
                        ),
                    ));
                }
                let access = match access {
                    TokenAccess::Read => "read",
                    TokenAccess::Write => "write",
                    TokenAccess::None => "none",
                };
                needs.insert(scope.clone(), access.to_string());
            }
            ci.actions.insert(uses.to_ascii_lowercase(), needs);
        }
        Ok(Policy {
            path: None,
            ci,
            fail_on,
            ignores,
            secrets: raw.secrets,
            deps: raw.deps,
            run: raw.run,
            scan: raw.scan,
            profiles: raw.profile,
        })
    }

    /// The profile `name`, resolved against `[profile.*]` and the built-ins.
    pub fn profile(&self, name: &str) -> Result<crate::profile::Profile, String> {
        crate::profile::resolve(name, &self.profiles, self.fail_on)
    }

    fn display_path(&self) -> String {
        self.path
            .as_ref()
            .map(|p| p.display().to_string())
            .unwrap_or_else(|| FILE_NAME.to_string())
    }

    /// Applies `[[ignore]]` entries: removes the locations they cover (and the
    /// findings left with none), and adds a finding for every ignore that has
    /// expired or was never used, so that stale allowances get cleaned up.
    /// Whether an active ignore with a path and neither rule nor fingerprint
    /// covers `path`: no finding there can count, so what was not checked
    /// there cannot change the verdict either (fixture lockfiles, say).
    pub fn ignores_everything_at(&self, path: &str, today: jiff::civil::Date) -> bool {
        ignores_everything_at(&self.ignores, path, today)
    }

    pub fn apply_ignores(&self, findings: Vec<Finding>, today: jiff::civil::Date) -> Vec<Finding> {
        let mut used = vec![false; self.ignores.len()];
        let active: Vec<bool> = self
            .ignores
            .iter()
            .map(|i| i.expires.is_none_or(|d| d >= today))
            .collect();
        let mut kept = Vec::with_capacity(findings.len());
        for mut f in findings {
            let mut locations = std::mem::take(&mut f.locations);
            for (i, ig) in self.ignores.iter().enumerate() {
                if !ig.matches_finding(&f) {
                    continue;
                }
                let before = locations.len();
                if active[i] {
                    locations.retain(|l| !ig.matches_path(&l.path));
                    if locations.len() != before {
                        used[i] = true;
                    }
                } else if locations.iter().any(|l| ig.matches_path(&l.path)) {
                    used[i] = true;
                }
            }
            if !locations.is_empty() {
                f.locations = locations;
                kept.push(f);
            }
        }
        let policy_path = self.display_path();
        for (i, ig) in self.ignores.iter().enumerate() {
            let loc = Location::at(policy_path.clone(), ig.line as u32, 1);
            if !active[i] {
                let date = ig.expires.map(|d| d.to_string()).unwrap_or_default();
                kept.push(meta_finding(
                    "policy-ignore-expired",
                    "Expired ignore",
                    Severity::Low,
                    format!(
                        "The ignore ({}) expired on {date} and no longer suppresses anything; \
                         fix what it covered, or renew it with a new reason and date (reason was: {}).",
                        ig.description, ig.reason
                    ),
                    loc,
                    &ig.description,
                ));
            } else if !used[i] {
                kept.push(meta_finding(
                    "policy-ignore-unused",
                    "Unused ignore",
                    Severity::Info,
                    format!(
                        "The ignore ({}) matched nothing in this scan; remove it if what it covered is gone.",
                        ig.description
                    ),
                    loc,
                    &ig.description,
                ));
            }
        }
        kept
    }
}

fn meta_finding(
    id: &str,
    name: &str,
    severity: Severity,
    message: String,
    location: Location,
    key: &str,
) -> Finding {
    Finding {
        rule_id: id.to_string(),
        rule_name: name.to_string(),
        aliases: Vec::new(),
        analyzer: "policy".to_string(),
        severity,
        confidence: Confidence::High,
        message,
        locations: vec![location],
        fingerprint: Fingerprint::from_parts(&[id.as_bytes(), key.as_bytes()]),
        secret: None,
        remediation: None,
        flow: Vec::new(),
        package: None,
        tags: Vec::new(),
        blocking: true,
    }
}

/// Redacts long values quoted with backticks or double quotes in an error
/// message (keys, enum names and short typos stay readable).
fn redact_quoted(msg: &str) -> String {
    let mut out = String::with_capacity(msg.len());
    let mut rest = msg;
    while let Some(i) = rest.find(['`', '"']) {
        let q = rest[i..].chars().next().unwrap_or('"');
        out.push_str(&rest[..=i]);
        let after = &rest[i + 1..];
        match after.find(q) {
            Some(j) => {
                let inner = &after[..j];
                if inner.chars().count() > 12 {
                    out.push_str(&crate::Redacted::new(inner).to_string());
                } else {
                    out.push_str(inner);
                }
                out.push(q);
                rest = &after[j + 1..];
            }
            None => {
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

fn parse_date(v: &toml::Value) -> Option<jiff::civil::Date> {
    let text = match v {
        toml::Value::String(s) => s.clone(),
        toml::Value::Datetime(d) => {
            let date = d.date?;
            if d.time.is_some() {
                return None;
            }
            format!("{:04}-{:02}-{:02}", date.year, date.month, date.day)
        }
        _ => return None,
    };
    text.trim().parse().ok()
}

/// The JSON schema of `pipeguard.toml` (draft 2020-12), generated from the
/// types that parse it.
pub fn json_schema() -> serde_json::Value {
    serde_json::to_value(schemars::schema_for!(RawPolicy)).unwrap_or_default()
}

/// Today's date in UTC, the reference for ignore expiry.
pub fn today() -> jiff::civil::Date {
    jiff::Timestamp::now()
        .to_zoned_datetime(jiff::tz::TimeZone::UTC)
        .date()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Fingerprint;

    fn finding(rule: &str, paths: &[&str]) -> Finding {
        Finding {
            rule_id: rule.into(),
            rule_name: rule.into(),
            aliases: Vec::new(),
            analyzer: "secrets".into(),
            severity: Severity::High,
            confidence: Confidence::High,
            message: String::new(),
            locations: paths.iter().map(|p| Location::at(*p, 1, 1)).collect(),
            fingerprint: Fingerprint::from_parts(&[rule.as_bytes()]),
            secret: None,
            remediation: None,
            flow: Vec::new(),
            package: None,
            tags: Vec::new(),
            blocking: true,
        }
    }

    fn date(s: &str) -> jiff::civil::Date {
        s.parse().expect("date")
    }

    #[test]
    fn parse_errors_name_the_line_but_never_quote_a_long_value() {
        let key = "wJalrXUtnFEMIK7MDENGbPxRfiCYzEXAMPLEKEYq"; // pipeguard:allow (synthetic)
        let text = format!("fail-on = \"high\"\n[secrets]\nallow-values = [\"{key}\"\n");
        let e = Policy::parse(&text, "p.toml").unwrap_err().to_string();
        assert!(e.starts_with("p.toml: line 3"), "{e}");
        assert!(!e.contains(key), "{e}");
        let e = Policy::parse(&format!("fail-on = \"{key}\"\n"), "p.toml")
            .unwrap_err()
            .to_string();
        assert!(e.contains("p.toml:1: fail-on") && !e.contains(key), "{e}");
        // Short values (typos) stay readable.
        let e = Policy::parse("[profile.pr]\nhistory = \"fulll\"\n", "p.toml")
            .unwrap_err()
            .to_string();
        assert!(e.contains("`fulll`") && e.contains("line 2"), "{e}");
    }

    #[test]
    fn unknown_key_names_line_and_key() {
        let err = Policy::parse(
            "fail-on = \"high\"\n\n[secrets]\nmax-fil-size = 3\n",
            "p.toml",
        )
        .expect_err("must fail");
        let msg = err.to_string();
        assert!(msg.starts_with("p.toml: "), "{msg}");
        assert!(msg.contains("line 4"), "{msg}");
        assert!(msg.contains("max-fil-size"), "{msg}");
    }

    #[test]
    fn bad_severity_names_line() {
        let err = Policy::parse("\nfail-on = \"severe\"\n", "p.toml").expect_err("must fail");
        assert_eq!(
            err.to_string(),
            "p.toml:2: fail-on: unknown severity `severe` (expected critical, high, medium, low or info)"
        );
    }

    #[test]
    fn ci_actions_are_declared_with_validated_scopes() {
        let p = Policy::parse(
            "[ci.actions.\"Acme/Release@v2\"]\npermissions = { contents = \"write\", pull-requests = \"read\", issues = \"none\" }\n",
            "pipeguard.toml",
        )
        .expect("valid");
        let needs =
            p.ci.actions
                .get("acme/release")
                .expect("lowercase, without the ref");
        assert_eq!(needs.get("contents").map(String::as_str), Some("write"));
        assert_eq!(needs.get("issues").map(String::as_str), Some("none"));
        let err = Policy::parse(
            "\n[ci.actions.\"acme/release\"]\npermissions = { content = \"write\" }\n",
            "pipeguard.toml",
        )
        .expect_err("unknown scope")
        .to_string();
        assert!(
            err.starts_with("pipeguard.toml:2:") && err.contains("`content`"),
            "{err}"
        );
        let err = Policy::parse(
            "[ci.actions.\"acme/release\"]\npermissions = { contents = \"admin\" }\n",
            "pipeguard.toml",
        )
        .expect_err("bad access")
        .to_string();
        assert!(err.contains("line 2"), "{err}");
        assert!(
            Policy::parse("[ci.actions.release]\npermissions = {}\n", "pipeguard.toml").is_err()
        );
    }

    #[test]
    fn ignore_requires_reason() {
        let err = Policy::parse("[[ignore]]\nrule = \"x\"\n", "p.toml").expect_err("must fail");
        assert!(err.to_string().contains("reason"), "{err}");
    }

    #[test]
    fn ignores_suppress_expire_and_report_unused() {
        let src = r#"
[[ignore]]
rule = "aws-*"
path = "docs/**"
reason = "documentation examples"

[[ignore]]
rule = "slack-webhook"
reason = "rotated"
expires = 2020-01-01

[[ignore]]
fingerprint = "00000000000000000000000000000000"
reason = "gone"
"#;
        let p = Policy::parse(src, "pipeguard.toml").expect("parse");
        let out = p.apply_ignores(
            vec![
                finding("aws-access-key-id", &["docs/a.md", "src/main.rs"]),
                finding("slack-webhook", &["x.yml"]),
            ],
            date("2026-11-25"),
        );
        let aws = out
            .iter()
            .find(|f| f.rule_id == "aws-access-key-id")
            .expect("aws kept");
        assert_eq!(aws.locations.len(), 1);
        assert_eq!(aws.locations[0].path, "src/main.rs");
        assert!(
            out.iter().any(|f| f.rule_id == "slack-webhook"),
            "expired ignore must not suppress"
        );
        let expired = out
            .iter()
            .find(|f| f.rule_id == "policy-ignore-expired")
            .expect("expired");
        assert_eq!(expired.locations[0].line, Some(7));
        let unused = out
            .iter()
            .find(|f| f.rule_id == "policy-ignore-unused")
            .expect("unused");
        assert_eq!(unused.locations[0].line, Some(12));
        assert_eq!(unused.severity, Severity::Info);
    }

    #[test]
    fn path_without_slash_matches_basename() {
        let p = Policy::parse(
            "[[ignore]]\npath = \"*.lock\"\nreason = \"hashes\"\n",
            "pipeguard.toml",
        )
        .expect("parse");
        let out = p.apply_ignores(vec![finding("x", &["a/b/Cargo.lock"])], date("2026-01-01"));
        assert!(out.is_empty(), "{out:?}");
    }
}

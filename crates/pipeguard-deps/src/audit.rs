//! Supply-chain hygiene of the lockfiles themselves, beside known
//! vulnerabilities: manifests without a lockfile, packages from git, URLs,
//! plain-HTTP or unapproved registries, missing integrity hashes, and packages
//! the policy bans. Each check is one rule id.

use std::path::Path;

use pipeguard_core::policy::DepsConfig;
use pipeguard_core::{Confidence, Finding, Fingerprint, Location, Remediation, Severity};

use crate::lockfile::{Kind, Source};
use crate::scan::Found;

/// Every rule of this module: (id, name, severity, what to do).
pub const RULES: &[(&str, &str, Severity, &str)] = &[
    (
        "missing-lockfile",
        "Manifest without a lockfile",
        Severity::Medium,
        "Commit the lockfile so every build installs the same, reviewed versions (npm install / cargo generate-lockfile / poetry lock / bundle lock / composer update --lock).",
    ),
    (
        "dependency-from-git",
        "Dependency from a git repository",
        Severity::Low,
        "Publish the package to your registry or pin the git dependency to a full commit SHA; git sources bypass registry integrity checks and advisories.",
    ),
    (
        "dependency-from-url",
        "Dependency from a direct URL",
        Severity::Medium,
        "Install the package from a registry; a direct URL has no advisory coverage and can change under the same name.",
    ),
    (
        "insecure-registry",
        "Package fetched over plain HTTP",
        Severity::High,
        "Use an https:// registry URL: over plain HTTP anyone on the path can swap the package.",
    ),
    (
        "unapproved-registry",
        "Package from a registry the policy does not allow",
        Severity::Medium,
        "Fetch it from an approved registry, or add the registry to [deps] allowed-registries in pipeguard.toml.",
    ),
    (
        "missing-integrity",
        "Locked package without an integrity hash",
        Severity::Medium,
        "Regenerate the lockfile with a current package manager so that it records integrity hashes, and verify them on install.",
    ),
    (
        "missing-hash",
        "Pinned requirement without --hash",
        Severity::Medium,
        "Add --hash=sha256:… for every requirement (pip-compile --generate-hashes) and install with --require-hashes.",
    ),
    (
        "dependency-from-path",
        "Dependency from a local path outside the registry",
        Severity::Low,
        "Publish the package to your registry, or vendor it where it is reviewed; a path dependency has no version, integrity or advisory coverage.",
    ),
    (
        "unapproved-package",
        "Package not on the policy's allow list",
        Severity::Medium,
        "Get the package approved (add it to [deps] allow in pipeguard.toml) or replace it with an approved one.",
    ),
    (
        "denied-package",
        "Package denied by the policy",
        Severity::High,
        "Remove the package or replace it; the policy's [deps] deny list forbids it.",
    ),
];

fn rule(id: &str) -> (&'static str, &'static str, Severity, &'static str) {
    RULES
        .iter()
        .find(|r| r.0 == id)
        .copied()
        // Every id passed in this module is in RULES (see the test below).
        .unwrap_or(("unknown", "unknown", Severity::Info, ""))
}

fn finding(id: &str, detail: String, location: Location, key: &[&[u8]]) -> Finding {
    let (rid, name, severity, fix) = rule(id);
    let mut parts: Vec<&[u8]> = vec![b"deps", rid.as_bytes()];
    parts.extend_from_slice(key);
    Finding {
        rule_id: rid.to_string(),
        rule_name: name.to_string(),
        aliases: Vec::new(),
        analyzer: "deps".into(),
        severity,
        confidence: Confidence::High,
        message: format!("{detail} {fix}"),
        locations: vec![location],
        fingerprint: Fingerprint::from_parts(&parts),
        secret: None,
        remediation: Some(Remediation {
            description: fix.to_string(),
            replacement: None,
        }),
        flow: Vec::new(),
        package: None,
    }
}

/// Whether a URL belongs to the ecosystem's default registry.
fn is_default_registry(url: &str) -> bool {
    const DEFAULTS: &[&str] = &[
        "https://registry.npmjs.org",
        "https://registry.yarnpkg.com",
        "https://pypi.org",
        "https://files.pythonhosted.org",
        "https://rubygems.org",
        "https://index.crates.io",
        "https://github.com/rust-lang/crates.io-index",
        "https://repo.packagist.org",
        "https://api.nuget.org",
        "https://repo.maven.apache.org",
        "https://repo1.maven.org",
        "https://proxy.golang.org",
    ];
    let u = url
        .trim_start_matches("registry+")
        .trim_start_matches("sparse+");
    DEFAULTS.iter().any(|d| u.starts_with(d))
}

/// Source, integrity and deny-list checks on parsed lockfiles.
pub fn audit_lockfiles(found: &[Found], cfg: &DepsConfig) -> Vec<Finding> {
    let mut out = Vec::new();
    for f in found {
        for p in &f.lockfile.packages {
            let loc = Location {
                line: (p.line > 0).then_some(p.line),
                ..Location::file(f.path.clone())
            };
            let key: [&[u8]; 3] = [f.path.as_bytes(), p.name.as_bytes(), p.version.as_bytes()];
            let label = format!("{} {}", p.name, p.version);
            match &p.source {
                Source::Git { url, rev } => {
                    let pinned = rev
                        .as_ref()
                        .is_some_and(|r| r.len() >= 40 && r.chars().all(|c| c.is_ascii_hexdigit()));
                    if !pinned {
                        out.push(finding(
                            "dependency-from-git",
                            format!("{label} comes from git ({url}) without a pinned commit."),
                            loc.clone(),
                            &key,
                        ));
                    }
                    if url.starts_with("http://") || url.starts_with("git://") {
                        out.push(finding(
                            "insecure-registry",
                            format!("{label} is fetched from {url}, without TLS."),
                            loc.clone(),
                            &key,
                        ));
                    }
                }
                Source::Url(url) => {
                    out.push(finding(
                        "dependency-from-url",
                        format!("{label} is downloaded from {url}."),
                        loc.clone(),
                        &key,
                    ));
                    if url.starts_with("http://") {
                        out.push(finding(
                            "insecure-registry",
                            format!("{label} is downloaded from {url}, without TLS."),
                            loc.clone(),
                            &key,
                        ));
                    }
                }
                Source::OtherRegistry(url) => {
                    if url.starts_with("http://") {
                        out.push(finding(
                            "insecure-registry",
                            format!("{label} comes from the registry {url}, without TLS."),
                            loc.clone(),
                            &key,
                        ));
                    } else if !is_default_registry(url)
                        && !cfg
                            .allowed_registries
                            .iter()
                            .any(|a| url.starts_with(a.as_str()))
                    {
                        out.push(finding(
                            "unapproved-registry",
                            format!("{label} comes from the registry {url}."),
                            loc.clone(),
                            &key,
                        ));
                    }
                }
                Source::Path(p) => out.push(finding(
                    "dependency-from-path",
                    format!("{label} comes from the local path {p}."),
                    loc.clone(),
                    &key,
                )),
                Source::Registry => {}
            }
            let registry = matches!(p.source, Source::Registry | Source::OtherRegistry(_));
            let records_integrity = matches!(
                f.lockfile.kind,
                Kind::PackageLock
                    | Kind::YarnLock
                    | Kind::PnpmLock
                    | Kind::CargoLock
                    | Kind::NugetLock
            );
            if registry && records_integrity && p.integrity.is_none() {
                out.push(finding(
                    "missing-integrity",
                    format!("{label} has no integrity hash in {}.", f.path),
                    loc.clone(),
                    &key,
                ));
            }
            if cfg.require_hashes && f.lockfile.kind == Kind::Requirements && p.integrity.is_none()
            {
                out.push(finding(
                    "missing-hash",
                    format!("{label} is pinned without a hash."),
                    loc.clone(),
                    &key,
                ));
            }
            let matches_entry = |entry: &str| {
                let (name, version) = match entry.rsplit_once('@').filter(|(n, _)| !n.is_empty()) {
                    Some((n, v)) => (n, Some(v)),
                    None => (entry, None),
                };
                let eco = p.ecosystem;
                eco.normalize_name(name) == eco.normalize_name(&p.name)
                    && version.is_none_or(|v| v == p.version)
            };
            if !cfg.allow.is_empty() && !cfg.allow.iter().any(|a| matches_entry(a)) {
                out.push(finding(
                    "unapproved-package",
                    format!("{label} is not on the allow list."),
                    loc.clone(),
                    &key,
                ));
            }
            for d in &cfg.deny {
                if matches_entry(d) {
                    out.push(finding(
                        "denied-package",
                        format!("{label} matches the deny entry `{d}`."),
                        loc.clone(),
                        &key,
                    ));
                }
            }
        }
    }
    out
}

/// Manifests whose directory (or an ancestor up to `root`, for workspaces)
/// holds no lockfile.
pub fn missing_lockfiles(root: &Path) -> Vec<Finding> {
    let mut out = Vec::new();
    let walker = ignore::WalkBuilder::new(root)
        .hidden(false)
        .require_git(false)
        .filter_entry(|e| {
            !(e.file_type().is_some_and(|t| t.is_dir())
                && crate::scan::SKIP_DIRS.iter().any(|d| e.file_name() == *d))
        })
        .build();
    for entry in walker.flatten() {
        if !entry.file_type().is_some_and(|t| t.is_file()) {
            continue;
        }
        let name = entry.file_name().to_string_lossy().into_owned();
        let locks: &[&str] = match name.as_str() {
            "package.json" => &[
                "package-lock.json",
                "npm-shrinkwrap.json",
                "yarn.lock",
                "pnpm-lock.yaml",
                "bun.lockb",
                "bun.lock",
            ],
            "Gemfile" => &["Gemfile.lock"],
            "composer.json" => &["composer.lock"],
            "Pipfile" => &["Pipfile.lock"],
            "pyproject.toml" => &["poetry.lock", "uv.lock", "pdm.lock", "Pipfile.lock"],
            "Cargo.toml" => &["Cargo.lock"],
            _ => continue,
        };
        let path = entry.path();
        let Some(dir) = path.parent() else { continue };
        let text = std::fs::read_to_string(path).unwrap_or_default();
        // Libraries and bare metadata need no lockfile: a pyproject without
        // dependencies, a package.json without dependencies, a Cargo library.
        let needs = match name.as_str() {
            "package.json" => {
                text.contains("\"dependencies\"") || text.contains("\"devDependencies\"")
            }
            "pyproject.toml" => {
                text.contains("[tool.poetry")
                    || text.contains("[tool.uv")
                    || text.contains("dependencies = [")
            }
            "Cargo.toml" => {
                dir.join("src/main.rs").exists()
                    || text.contains("[[bin]]")
                    || text.contains("[workspace]")
            }
            _ => true,
        };
        if !needs {
            continue;
        }
        let has_lock = dir
            .ancestors()
            .take_while(|a| a.starts_with(root))
            .any(|a| locks.iter().any(|l| a.join(l).exists()));
        if has_lock {
            continue;
        }
        let shown = pipeguard_core::relative_path(root, path);
        out.push(finding(
            "missing-lockfile",
            format!(
                "{shown} declares dependencies but no lockfile ({}) is committed beside it.",
                locks.join(", ")
            ),
            Location::file(shown.clone()),
            &[shown.as_bytes()],
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every rule id this module reports is documented in RULES.
    #[test]
    fn reported_ids_are_documented() {
        let src = include_str!("audit.rs");
        for id in src
            .split("finding(\n")
            .skip(1)
            .filter_map(|rest| rest.split('"').nth(1))
        {
            assert!(
                RULES.iter().any(|r| r.0 == id),
                "{id} is reported but not in RULES"
            );
        }
        assert!(RULES.iter().any(|r| r.0 == "missing-lockfile"));
    }
}

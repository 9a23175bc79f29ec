//! Supply-chain hygiene of the lockfiles themselves, beside known
//! vulnerabilities: manifests without a lockfile, packages from git, URLs,
//! plain-HTTP or unapproved registries, missing integrity hashes, and packages
//! the policy bans. Each check is one [`Code`].

use std::path::Path;

use pipeguard_core::policy::DepsConfig;
use pipeguard_core::{Finding, Location, Problem};
use pipeguard_lockfile::{Found, Kind, Source};

use crate::code::Code;
use crate::discover::walk;

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
        let format = f.lockfile.kind.format();
        for p in &f.lockfile.packages {
            let loc = Location {
                line: (p.line > 0).then_some(p.line),
                ..Location::file(f.path.clone())
            };
            let key: [&[u8]; 3] = [f.path.as_bytes(), p.name.as_bytes(), p.version.as_bytes()];
            // A git or path dependency may have no version to show.
            let label = if p.version.is_empty() {
                p.name.clone()
            } else {
                format!("{} {}", p.name, p.version)
            };
            match &p.source {
                Source::Git { url, rev } => {
                    let pinned = rev
                        .as_ref()
                        .is_some_and(|r| r.len() >= 40 && r.chars().all(|c| c.is_ascii_hexdigit()));
                    if !pinned {
                        out.push(Code::DependencyFromGit.finding(
                            &format!("{label} comes from git ({url}) without a pinned commit."),
                            loc.clone(),
                            &key,
                        ));
                    }
                    if url.starts_with("http://") || url.starts_with("git://") {
                        out.push(Code::InsecureRegistry.finding(
                            &format!("{label} is fetched from {url}, without TLS."),
                            loc.clone(),
                            &key,
                        ));
                    }
                }
                Source::Url(url) => {
                    out.push(Code::DependencyFromUrl.finding(
                        &format!("{label} is downloaded from {url}."),
                        loc.clone(),
                        &key,
                    ));
                    if url.starts_with("http://") {
                        out.push(Code::InsecureRegistry.finding(
                            &format!("{label} is downloaded from {url}, without TLS."),
                            loc.clone(),
                            &key,
                        ));
                    }
                }
                Source::OtherRegistry(url) => {
                    if url.starts_with("http://") {
                        out.push(Code::InsecureRegistry.finding(
                            &format!("{label} comes from the registry {url}, without TLS."),
                            loc.clone(),
                            &key,
                        ));
                    } else if !is_default_registry(url)
                        && !cfg
                            .allowed_registries
                            .iter()
                            .any(|a| url.starts_with(a.as_str()))
                    {
                        out.push(Code::UnapprovedRegistry.finding(
                            &format!("{label} comes from the registry {url}."),
                            loc.clone(),
                            &key,
                        ));
                    }
                }
                Source::Path(p) => out.push(Code::DependencyFromPath.finding(
                    &format!("{label} comes from the local path {p}."),
                    loc.clone(),
                    &key,
                )),
                Source::Registry => {}
            }
            let registry = matches!(p.source, Source::Registry | Source::OtherRegistry(_));
            if registry && format.records_integrity && p.integrity.is_none() {
                out.push(Code::MissingIntegrity.finding(
                    &format!("{label} has no integrity hash in {}.", f.path),
                    loc.clone(),
                    &key,
                ));
            }
            if cfg.require_hashes && format.kind == Kind::Requirements && p.integrity.is_none() {
                out.push(Code::MissingHash.finding(
                    &format!("{label} is pinned without a hash."),
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
                out.push(Code::UnapprovedPackage.finding(
                    &format!("{label} is not on the allow list."),
                    loc.clone(),
                    &key,
                ));
            }
            for d in &cfg.deny {
                if matches_entry(d) {
                    out.push(Code::DeniedPackage.finding(
                        &format!("{label} matches the deny entry `{d}`."),
                        loc.clone(),
                        &key,
                    ));
                }
            }
        }
    }
    out
}

/// What only the text of a requirements file says, for the requirements
/// files among `found` (paths relative to `root`): lines that pin no version
/// are findings; `==${VAR}` versions, which pip takes from the environment,
/// are problems (the package was not checked).
pub fn requirements_texts(
    root: &Path,
    found: &[Found],
    problems: &mut Vec<Problem>,
) -> Vec<Finding> {
    let mut out = Vec::new();
    for f in found {
        if f.lockfile.kind != Kind::Requirements {
            continue;
        }
        let Ok(text) = std::fs::read_to_string(root.join(&f.path)) else {
            continue;
        };
        for (line, name) in pipeguard_lockfile::requirements::unpinned(&text) {
            let loc = Location {
                line: Some(line),
                ..Location::file(f.path.clone())
            };
            out.push(Code::UnpinnedRequirement.finding(
                &format!("{name} in {} is not pinned to one version.", f.path),
                loc,
                &[f.path.as_bytes(), name.as_bytes()],
            ));
        }
        for (line, name, version) in pipeguard_lockfile::requirements::unresolved(&text) {
            problems.push(Problem {
                path: f.path.clone(),
                line: Some(line),
                message: format!(
                    "{name}=={version}: the version comes from an environment variable at install time; {name} was not checked against advisories"
                ),
            });
        }
    }
    out
}

/// Manifests whose directory (or an ancestor up to `root`, for workspaces)
/// holds no lockfile.
pub fn missing_lockfiles(root: &Path) -> Vec<Finding> {
    let mut out = Vec::new();
    for entry in walk(root).flatten() {
        if !entry.file_type().is_some_and(|t| t.is_file()) {
            continue;
        }
        let name = entry.file_name().to_string_lossy().into_owned();
        if !pipeguard_lockfile::is_manifest(&name) {
            continue;
        }
        let locks = pipeguard_lockfile::lockfiles_for(&name);
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
        out.push(Code::MissingLockfile.finding(
            &format!(
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
    use pipeguard_lockfile::{Ecosystem, Lockfile, Package};

    use super::*;

    fn package(name: &str, source: Source, integrity: Option<&str>) -> Package {
        Package {
            ecosystem: Ecosystem::Npm,
            name: name.into(),
            version: "1.0.0".into(),
            line: 3,
            source,
            integrity: integrity.map(str::to_string),
            direct: true,
            dev: false,
            dependencies: Vec::new(),
        }
    }

    /// Each kind of source gets its code, and only the codes it should.
    #[test]
    fn sources_get_their_codes() {
        let found = [Found {
            path: "web/package-lock.json".into(),
            lockfile: Lockfile {
                kind: Kind::PackageLock,
                packages: vec![
                    package("ok", Source::Registry, Some("sha512-x")),
                    package("bare", Source::Registry, None),
                    package(
                        "git",
                        Source::Git {
                            url: "git://github.com/o/r.git".into(),
                            rev: Some("main".into()),
                        },
                        None,
                    ),
                    package("tarball", Source::Url("http://x.test/t.tgz".into()), None),
                    package(
                        "corp",
                        Source::OtherRegistry("https://npm.corp.test".into()),
                        Some("sha512-y"),
                    ),
                    package("local", Source::Path("../local".into()), None),
                    package("banned", Source::Registry, Some("sha512-z")),
                ],
                has_graph: false,
            },
            release: None,
        }];
        let cfg = DepsConfig {
            deny: vec!["banned@1.0.0".into()],
            ..DepsConfig::default()
        };
        let mut got: Vec<(String, String)> = audit_lockfiles(&found, &cfg)
            .into_iter()
            .map(|f| {
                let who = f.message.split(' ').next().unwrap_or("").to_string();
                (who, f.rule_id)
            })
            .collect();
        got.sort();
        let want = [
            ("banned", Code::DeniedPackage),
            ("bare", Code::MissingIntegrity),
            ("corp", Code::UnapprovedRegistry),
            ("git", Code::DependencyFromGit),
            ("git", Code::InsecureRegistry),
            ("local", Code::DependencyFromPath),
            ("tarball", Code::DependencyFromUrl),
            ("tarball", Code::InsecureRegistry),
        ];
        let want: Vec<(String, String)> = want
            .iter()
            .map(|(w, c)| (w.to_string(), c.id().to_string()))
            .collect();
        assert_eq!(got, want);
    }

    /// The policy's checks: hashes on requirements, the allow list.
    #[test]
    fn policy_codes() {
        let mut pinned = package("requests", Source::Registry, None);
        pinned.ecosystem = Ecosystem::PyPI;
        let mut hashed = package("Flask", Source::Registry, Some("sha256:abc"));
        hashed.ecosystem = Ecosystem::PyPI;
        let found = [Found {
            path: "requirements.txt".into(),
            lockfile: Lockfile {
                kind: Kind::Requirements,
                packages: vec![pinned, hashed],
                has_graph: false,
            },
            release: None,
        }];
        let cfg = DepsConfig {
            require_hashes: true,
            allow: vec!["flask".into()],
            ..DepsConfig::default()
        };
        let mut got: Vec<(String, String)> = audit_lockfiles(&found, &cfg)
            .into_iter()
            .map(|f| {
                (
                    f.message.split(' ').next().unwrap_or("").to_string(),
                    f.rule_id,
                )
            })
            .collect();
        got.sort();
        assert_eq!(
            got,
            [
                ("requests".to_string(), Code::MissingHash.id().to_string()),
                (
                    "requests".to_string(),
                    Code::UnapprovedPackage.id().to_string()
                ),
            ]
        );
    }

    #[test]
    fn manifests_without_lockfiles() {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path();
        let write = |rel: &str, text: &str| {
            let p = root.join(rel);
            std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
            std::fs::write(p, text).expect("write");
        };
        write(
            "web/package.json",
            r#"{"dependencies": {"left-pad": "^1"}}"#,
        );
        write(
            "locked/package.json",
            r#"{"dependencies": {"left-pad": "^1"}}"#,
        );
        write("locked/bun.lock", "");
        write("lib/package.json", r#"{"name": "no-deps"}"#);
        write("ruby/Gemfile", "gem 'rails'\n");
        let mut got: Vec<(String, String)> = missing_lockfiles(root)
            .into_iter()
            .map(|f| (f.locations[0].path.clone(), f.message))
            .collect();
        got.sort();
        assert_eq!(got.len(), 2, "{got:?}");
        assert_eq!(got[0].0, "ruby/Gemfile");
        assert_eq!(got[1].0, "web/package.json");
        assert!(
            got[1].1.starts_with("web/package.json declares dependencies but no lockfile (package-lock.json, npm-shrinkwrap.json, yarn.lock, pnpm-lock.yaml, bun.lockb, bun.lock) is committed beside it. Commit the lockfile"),
            "{}",
            got[1].1
        );
    }
}

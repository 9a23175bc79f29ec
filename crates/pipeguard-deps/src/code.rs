//! Every diagnostic of the dependency analyzer other than an advisory, as one
//! kebab-case [`Code`] (as cargo-deny's diagnostics are), each described once
//! by a [`rule_meta!`] static whose doc comment is its documentation. Known
//! vulnerabilities are one finding per vulnerable package version, rule
//! [`VULNERABLE_DEPENDENCY`], with the advisories' ids as aliases.

use std::fmt;

use pipeguard_core::finding::FindingBuilder;
use pipeguard_core::{
    Confidence, Finding, Fingerprint, Location, RuleDoc, RuleMeta, Severity, rule_meta,
};

/// The analyzer name findings and registry entries carry.
pub const ANALYZER: &str = "deps";

/// A supply-chain diagnostic of `pipeguard deps`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Code {
    MissingLockfile,
    DependencyFromGit,
    DependencyFromUrl,
    InsecureRegistry,
    UnapprovedRegistry,
    MissingIntegrity,
    MissingHash,
    DependencyFromPath,
    UnapprovedPackage,
    DeniedPackage,
    LockfileDrift,
    UnpinnedRequirement,
}

impl Code {
    /// Every code, in the order of the enum.
    pub const ALL: [Code; 12] = [
        Code::MissingLockfile,
        Code::DependencyFromGit,
        Code::DependencyFromUrl,
        Code::InsecureRegistry,
        Code::UnapprovedRegistry,
        Code::MissingIntegrity,
        Code::MissingHash,
        Code::DependencyFromPath,
        Code::UnapprovedPackage,
        Code::DeniedPackage,
        Code::LockfileDrift,
        Code::UnpinnedRequirement,
    ];

    pub fn meta(self) -> &'static RuleMeta {
        match self {
            Code::MissingLockfile => &MISSING_LOCKFILE,
            Code::DependencyFromGit => &DEPENDENCY_FROM_GIT,
            Code::DependencyFromUrl => &DEPENDENCY_FROM_URL,
            Code::InsecureRegistry => &INSECURE_REGISTRY,
            Code::UnapprovedRegistry => &UNAPPROVED_REGISTRY,
            Code::MissingIntegrity => &MISSING_INTEGRITY,
            Code::MissingHash => &MISSING_HASH,
            Code::DependencyFromPath => &DEPENDENCY_FROM_PATH,
            Code::UnapprovedPackage => &UNAPPROVED_PACKAGE,
            Code::DeniedPackage => &DENIED_PACKAGE,
            Code::LockfileDrift => &LOCKFILE_DRIFT,
            Code::UnpinnedRequirement => &UNPINNED_REQUIREMENT,
        }
    }

    /// The rule id findings carry (`missing-lockfile`).
    pub fn id(self) -> &'static str {
        self.meta().id
    }

    /// A finding of this code with its id, name, severity and confidence.
    /// `key` is what makes it distinct (file, package, version): the
    /// fingerprint comes from it, never from the line, so baselines survive
    /// edits.
    pub(crate) fn builder(self, key: &[&[u8]]) -> FindingBuilder {
        let meta = self.meta();
        let mut parts: Vec<&[u8]> = vec![ANALYZER.as_bytes(), meta.id.as_bytes()];
        parts.extend_from_slice(key);
        Finding::builder(meta.id, meta.name, ANALYZER)
            .severity(meta.severity)
            .confidence(meta.confidence)
            .fingerprint(Fingerprint::from_parts(&parts))
    }

    /// A finding whose message is `detail` followed by the code's fix.
    pub(crate) fn finding(self, detail: &str, location: Location, key: &[&[u8]]) -> Finding {
        let fix = self.meta().fix;
        self.builder(key)
            .message(format!("{detail} {fix}"))
            .location(location)
            .fix(fix)
            .build()
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

/// Every rule of the analyzer as the registry lists it: the codes, then the
/// class of advisory findings.
pub fn rules() -> Vec<RuleDoc> {
    Code::ALL
        .iter()
        .map(|c| c.meta())
        .chain(std::iter::once(&VULNERABLE_DEPENDENCY))
        .map(|m| m.doc(ANALYZER))
        .collect()
}

rule_meta! {
    /// ## What it does
    /// Flags a manifest that declares dependencies (`package.json`,
    /// `Cargo.toml` of an application or workspace, `pyproject.toml` with
    /// Poetry, uv or PEP 621 dependencies, `Gemfile`, `composer.json`,
    /// `Pipfile`) with no lockfile beside it or in a directory above it.
    ///
    /// ## Why is this bad?
    /// Without a lockfile every install resolves the version ranges afresh:
    /// two builds of the same commit can ship different code, a compromised
    /// release is picked up the moment it is published, and nothing can be
    /// checked against advisories because no version is fixed.
    ///
    /// ## Example
    /// A `package.json` with `"dependencies": {"left-pad": "^1.3.0"}` and no
    /// `package-lock.json`, `yarn.lock` or `pnpm-lock.yaml`. Libraries (a
    /// Cargo crate without a binary, a manifest without dependencies) are not
    /// flagged. The check runs when the policy's `[deps] require-lockfile` is on.
    pub static MISSING_LOCKFILE = {
        id: "missing-lockfile",
        name: "Manifest without a lockfile",
        severity: Severity::Medium,
        confidence: Confidence::High,
        fix: "Commit the lockfile so every build installs the same, reviewed versions (npm install / cargo generate-lockfile / poetry lock / bundle lock / composer update --lock).",
        cwe: &[1357],
    };
}

rule_meta! {
    /// ## What it does
    /// Flags a locked package that comes from a git repository without a
    /// full commit SHA recorded for it.
    ///
    /// ## Why is this bad?
    /// A branch or tag can be moved: the same lockfile then installs other
    /// code. Git sources also bypass the registry's integrity hashes and are
    /// not covered by advisories.
    ///
    /// ## Example
    /// In `Cargo.lock`:
    ///
    /// ```toml
    /// source = "git+https://github.com/org/lib?branch=main"
    /// ```
    ///
    /// A source ending in `#<40-hex commit>` is pinned and not flagged.
    pub static DEPENDENCY_FROM_GIT = {
        id: "dependency-from-git",
        name: "Dependency from a git repository",
        severity: Severity::Low,
        confidence: Confidence::High,
        fix: "Publish the package to your registry or pin the git dependency to a full commit SHA; git sources bypass registry integrity checks and advisories.",
        cwe: &[829],
    };
}

rule_meta! {
    /// ## What it does
    /// Flags a locked package downloaded from a direct URL (a tarball or
    /// wheel link) rather than from a registry.
    ///
    /// ## Why is this bad?
    /// Whatever is served at the URL is installed; it can change under the
    /// same name and version, and advisories, which name registry packages,
    /// do not cover it.
    ///
    /// ## Example
    /// In `requirements.txt`:
    ///
    /// ```text
    /// mylib @ https://example.com/mylib-1.0.tar.gz
    /// ```
    pub static DEPENDENCY_FROM_URL = {
        id: "dependency-from-url",
        name: "Dependency from a direct URL",
        severity: Severity::Medium,
        confidence: Confidence::High,
        fix: "Install the package from a registry; a direct URL has no advisory coverage and can change under the same name.",
        cwe: &[829],
    };
}

rule_meta! {
    /// ## What it does
    /// Flags a package fetched over plain HTTP: from an `http://` registry or
    /// URL, or from an `http://` or `git://` repository.
    ///
    /// ## Why is this bad?
    /// Without TLS anyone on the network path (a proxy, a compromised Wi-Fi,
    /// a CI provider's neighbour) can replace the package with their own code.
    ///
    /// ## Example
    /// In `yarn.lock`:
    ///
    /// ```text
    /// resolved "http://npm.corp.net/left-pad/-/left-pad-1.3.0.tgz"
    /// ```
    pub static INSECURE_REGISTRY = {
        id: "insecure-registry",
        name: "Package fetched over plain HTTP",
        severity: Severity::High,
        confidence: Confidence::High,
        fix: "Use an https:// registry URL: over plain HTTP anyone on the path can swap the package.",
        cwe: &[319, 494],
    };
}

rule_meta! {
    /// ## What it does
    /// Flags a package from a registry that is neither the ecosystem's
    /// default (registry.npmjs.org, PyPI, crates.io …) nor listed in the
    /// policy's `[deps] allowed-registries`.
    ///
    /// ## Why is this bad?
    /// An unknown registry is a supply-chain dependency nobody reviewed;
    /// a package name that exists on both a private and a public registry is
    /// how dependency-confusion attacks get in.
    ///
    /// ## Example
    /// In `package-lock.json`:
    ///
    /// ```json
    /// "resolved": "https://npm.example.net/left-pad/-/left-pad-1.3.0.tgz"
    /// ```
    pub static UNAPPROVED_REGISTRY = {
        id: "unapproved-registry",
        name: "Package from a registry the policy does not allow",
        severity: Severity::Medium,
        confidence: Confidence::High,
        fix: "Fetch it from an approved registry, or add the registry to [deps] allowed-registries in pipeguard.toml.",
        cwe: &[829],
    };
}

rule_meta! {
    /// ## What it does
    /// Flags a registry package without an integrity hash, in the lockfile
    /// formats that record one for every registry package
    /// (`package-lock.json`, `yarn.lock`, `pnpm-lock.yaml`, `Cargo.lock`,
    /// `packages.lock.json`).
    ///
    /// ## Why is this bad?
    /// The hash is what makes an install refuse a tampered tarball. An entry
    /// without one was edited by hand or written by an old or broken tool,
    /// and installs whatever the registry serves.
    ///
    /// ## Example
    /// A `package-lock.json` entry with `"resolved"` but no `"integrity"`.
    pub static MISSING_INTEGRITY = {
        id: "missing-integrity",
        name: "Locked package without an integrity hash",
        severity: Severity::Medium,
        confidence: Confidence::High,
        fix: "Regenerate the lockfile with a current package manager so that it records integrity hashes, and verify them on install.",
        cwe: &[494],
    };
}

rule_meta! {
    /// ## What it does
    /// Flags a pinned requirement without `--hash`, when the policy's
    /// `[deps] require-hashes` is on.
    ///
    /// ## Why is this bad?
    /// A pin names a version, not the file: without hashes pip installs
    /// whatever the index serves for it, and `--require-hashes` cannot be
    /// used.
    ///
    /// ## Example
    /// In `requirements.txt`:
    ///
    /// ```text
    /// requests==2.31.0
    /// ```
    ///
    /// instead of `requests==2.31.0 --hash=sha256:…`.
    pub static MISSING_HASH = {
        id: "missing-hash",
        name: "Pinned requirement without --hash",
        severity: Severity::Medium,
        confidence: Confidence::High,
        fix: "Add --hash=sha256:… for every requirement (pip-compile --generate-hashes) and install with --require-hashes.",
        cwe: &[494],
    };
}

rule_meta! {
    /// ## What it does
    /// Flags a locked package that comes from a local path (a `file:`
    /// dependency, a path dependency outside the workspace).
    ///
    /// ## Why is this bad?
    /// A path dependency has no version, no integrity hash and no advisory
    /// coverage: what is built is whatever sits at the path on the build
    /// machine.
    ///
    /// ## Example
    /// In `package-lock.json`:
    ///
    /// ```json
    /// "resolved": "file:../shared/utils"
    /// ```
    pub static DEPENDENCY_FROM_PATH = {
        id: "dependency-from-path",
        name: "Dependency from a local path outside the registry",
        severity: Severity::Low,
        confidence: Confidence::High,
        fix: "Publish the package to your registry, or vendor it where it is reviewed; a path dependency has no version, integrity or advisory coverage.",
        cwe: &[],
    };
}

rule_meta! {
    /// ## What it does
    /// When the policy's `[deps] allow` list is not empty, flags every locked
    /// package that no entry (`name` or `name@version`) matches.
    ///
    /// ## Why is this bad?
    /// An allow list is how a project keeps every third-party package
    /// reviewed; a package outside it entered without review.
    ///
    /// ## Example
    /// With `allow = ["requests", "urllib3@2.2.1"]`, a locked `idna 3.7`.
    pub static UNAPPROVED_PACKAGE = {
        id: "unapproved-package",
        name: "Package not on the policy's allow list",
        severity: Severity::Medium,
        confidence: Confidence::High,
        fix: "Get the package approved (add it to [deps] allow in pipeguard.toml) or replace it with an approved one.",
        cwe: &[1357],
    };
}

rule_meta! {
    /// ## What it does
    /// Flags every locked package that an entry (`name` or `name@version`) of
    /// the policy's `[deps] deny` list matches.
    ///
    /// ## Why is this bad?
    /// The deny list names packages the organisation has decided not to ship:
    /// compromised releases, abandoned or unlicensable packages.
    ///
    /// ## Example
    /// With `deny = ["event-stream@3.3.6"]`, a `package-lock.json` locking
    /// `event-stream` 3.3.6.
    pub static DENIED_PACKAGE = {
        id: "denied-package",
        name: "Package denied by the policy",
        severity: Severity::High,
        confidence: Confidence::High,
        fix: "Remove the package or replace it; the policy's [deps] deny list forbids it.",
        cwe: &[1357],
    };
}

rule_meta! {
    /// ## What it does
    /// Flags a dependency that a manifest declares but its lockfile does not
    /// lock: `package.json` against `package-lock.json`, `Cargo.toml` (and
    /// workspace members) against `Cargo.lock`, Poetry's `pyproject.toml`
    /// against `poetry.lock`.
    ///
    /// ## Why is this bad?
    /// The lockfile is stale. An install from it (`npm ci`, `cargo build
    /// --locked`) fails, or, worse, the package manager resolves the missing
    /// package afresh, at a version nobody reviewed.
    ///
    /// ## Example
    /// `"axios": "^1.6.0"` added to `package.json` without running
    /// `npm install`, so `package-lock.json` has no `node_modules/axios`.
    pub static LOCKFILE_DRIFT = {
        id: "lockfile-drift",
        name: "Dependency missing from the lockfile",
        severity: Severity::Medium,
        confidence: Confidence::High,
        fix: "Update the lockfile with the package manager (npm install, cargo update -w, poetry lock) and commit it.",
        cwe: &[],
    };
}

rule_meta! {
    /// ## What it does
    /// Flags a line of a requirements file that does not pin one version:
    /// a bare name (`flask`), a range (`gunicorn>=21.2`, `boto3~=1.34`) or a
    /// wildcard (`numpy==1.26.*`).
    ///
    /// ## Why is this bad?
    /// A requirements file is often the only lockfile a Python project has.
    /// An unpinned line installs whatever is newest at build time, so two
    /// builds of one commit can ship different code, and nothing can be
    /// checked against advisories because no version is known.
    ///
    /// ## Example
    /// In `requirements.txt`:
    ///
    /// ```text
    /// flask
    /// gunicorn>=21.2
    /// ```
    ///
    /// instead of `flask==3.0.2` (from `pip-compile` or `pip freeze`).
    pub static UNPINNED_REQUIREMENT = {
        id: "unpinned-requirement",
        name: "Requirement without a pinned version",
        severity: Severity::Low,
        confidence: Confidence::High,
        fix: "Pin the exact version (name==1.2.3), ideally with hashes, e.g. generated by pip-compile --generate-hashes from a requirements.in.",
        cwe: &[1357],
    };
}

rule_meta! {
    /// ## What it does
    /// Reports a locked package version that advisories of the local OSV
    /// database affect: one finding per package version, whatever the number
    /// of advisories, with a location in every lockfile that locks it, the
    /// dependency path that brings it in, and the smallest upgrade that
    /// fixes all of them (`package.fixed`).
    ///
    /// The rule id is always `vulnerable-dependency`; every id of every
    /// advisory (CVE, GHSA, `GO-…`, `PYSEC-…`, `RUSTSEC-…`, `DSA-…`) is one of
    /// the finding's `aliases`. An `[[ignore]] rule` naming one of them
    /// suppresses that advisory only: the advisories an ignore names are
    /// reported apart (a finding each), so the package version's other
    /// advisories still show. The severity is the highest among the advisories, each
    /// rated by the highest CVSS base score among its record and the records
    /// of the database that share an id or alias with it (a Go record has no
    /// score, its GHSA alias usually does), else the database's own rating,
    /// else medium; the message names the record it comes from ("high (CVSS
    /// 8.1 from GHSA-…)"). The fingerprint comes from the package, version
    /// and the set of vulnerabilities: a new advisory makes a baselined
    /// finding new again.
    ///
    /// For a direct dependency of a Go module or a Python project, the
    /// project's own sources are checked for imports of the affected
    /// packages (the Go record's `ecosystem_specific.imports` paths and
    /// function symbols; the distribution's top-level modules). When none is
    /// imported the finding says so and has low confidence; it still counts
    /// unless the policy sets `[deps] fail-on-unreachable = false`, which
    /// reports it at info severity. Packages from a local path (a go.mod
    /// `replace … => ../x`, an npm `file:` dependency) are not matched.
    ///
    /// ## Why is this bad?
    /// The vulnerability is public, and so is how to exploit many of them;
    /// the version that ships is the version in the lockfile.
    ///
    /// ## Example
    /// `requests 2.19.0` in `requirements.txt` is affected by CVE-2018-18074
    /// (also GHSA-x84v-xcm2-53pg, PYSEC-2018-28): upgrade to 2.20.0.
    pub static VULNERABLE_DEPENDENCY = {
        id: "vulnerable-dependency",
        name: "Dependency with a known vulnerability",
        severity: Severity::Medium,
        confidence: Confidence::High,
        fix: "Upgrade the package to the fixed version (or the direct dependency that brings it in to a release that requires it); if no fix exists, remove or replace it, or ignore the advisory with a reason.",
        cwe: &[1395],
    };
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn codes_are_listed_in_order() {
        for (i, c) in Code::ALL.iter().enumerate() {
            assert_eq!(*c as usize, i, "{c}");
        }
        assert_eq!(Code::ALL.len(), Code::UnpinnedRequirement as usize + 1);
    }

    /// cargo-deny's rule: codes are unique, kebab-case and documented.
    #[test]
    fn codes_are_unique_kebab_case_and_documented() {
        let rules = rules();
        let mut seen = HashSet::new();
        for r in &rules {
            assert!(seen.insert(r.id.clone()), "{} twice", r.id);
            assert!(
                !r.id.is_empty()
                    && r.id
                        .split('-')
                        .all(|w| !w.is_empty() && w.bytes().all(|b| b.is_ascii_lowercase())),
                "{} is not kebab-case",
                r.id
            );
            assert_eq!(r.analyzer, ANALYZER);
            assert!(!r.name.is_empty() && !r.fix.is_empty(), "{}", r.id);
            for heading in ["## What it does", "## Why is this bad?", "## Example"] {
                assert!(r.docs.contains(heading), "{}: no `{heading}`", r.id);
            }
        }
        assert_eq!(rules.len(), Code::ALL.len() + 1);
    }

    #[test]
    fn findings_carry_the_code() {
        let f = Code::DeniedPackage.finding(
            "left-pad 1.3.0 matches the deny entry `left-pad`.",
            Location::file("package-lock.json"),
            &[b"package-lock.json", b"left-pad", b"1.3.0"],
        );
        assert_eq!(f.rule_id, "denied-package");
        assert_eq!(f.severity, Severity::High);
        assert!(f.message.ends_with(DENIED_PACKAGE.fix));
        assert_eq!(
            f.fingerprint,
            Fingerprint::from_parts(&[
                b"deps",
                b"denied-package",
                b"package-lock.json",
                b"left-pad",
                b"1.3.0"
            ])
        );
    }
}

//! Lockfile and manifest parsers, for every crate that needs to know what a
//! project or an image locks without matching it against advisories: the
//! dependency scanner, SBOM generation, the secrets filter that skips
//! lockfiles' hashes, `pipeguard init`'s survey. Every parser turns one file
//! into a [`Lockfile`]: its packages, each with the 1-based line where it is
//! declared, where it comes from, and, where the format records the graph,
//! the packages it depends on, so that a vulnerable transitive package can be
//! reported with the chain that brings it in.
//!
//! What pipeguard knows about each format (file names, ecosystem, paired
//! manifests, parser) is one row of [`FORMATS`]; adding a format is a parser
//! module, a row and fixtures.

pub mod cargo_lock;
pub mod composer_lock;
pub mod ecosystem;
mod format;
pub mod gemfile_lock;
pub mod go_mod;
pub mod gradle_lockfile;
pub mod manifest;
pub mod nuget_lock;
pub mod package_lock;
pub mod pipfile_lock;
pub mod pnpm_lock;
pub mod poetry_lock;
pub mod pom_xml;
pub mod requirements;
pub mod sbom;
pub mod uv_lock;
pub mod yarn_lock;

pub use ecosystem::Ecosystem;
pub use format::{Drift, FORMATS, Format, UNREAD_LOCKFILES, detect, is_manifest, lockfiles_for};

/// Where a locked package comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// The ecosystem's default registry (crates.io, registry.npmjs.org, PyPI…).
    Registry,
    /// Another registry, by URL.
    OtherRegistry(String),
    /// A git repository, with the revision if the lockfile records it.
    Git { url: String, rev: Option<String> },
    /// A path on disk (workspace member, `file:` dependency).
    Path(String),
    /// A direct URL to an archive.
    Url(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Package {
    pub ecosystem: Ecosystem,
    pub name: String,
    pub version: String,
    /// 1-based line of the package's entry in the file; 0 when unknown.
    pub line: u32,
    pub source: Source,
    /// Integrity hash or checksum as recorded (`sha512-…`, a Cargo checksum).
    pub integrity: Option<String>,
    /// A direct dependency of the project (declared in its manifest).
    pub direct: bool,
    /// Only needed for development (npm `dev`, poetry `category = "dev"`).
    pub dev: bool,
    /// Indices into [`Lockfile::packages`] of the packages this one depends on.
    pub dependencies: Vec<usize>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    CargoLock,
    PackageLock,
    YarnLock,
    PnpmLock,
    Requirements,
    PoetryLock,
    PipfileLock,
    UvLock,
    GoMod,
    GemfileLock,
    ComposerLock,
    GradleLockfile,
    PomXml,
    NugetLock,
    /// A Debian/Ubuntu dpkg database inside an image (read by the image analyzer).
    DpkgStatus,
    /// An Alpine apk database inside an image (read by the image analyzer).
    ApkInstalled,
    /// A CycloneDX or SPDX JSON SBOM, as scan input.
    Sbom,
}

#[derive(Debug, Clone)]
pub struct Lockfile {
    pub kind: Kind,
    pub packages: Vec<Package>,
    /// Whether the format records which package depends on which.
    pub has_graph: bool,
}

/// A parse failure, with the 1-based line where it was detected (0: unknown).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct ParseError {
    pub line: u32,
    pub message: String,
}

/// A file of a known format that does not parse: "malformed Cargo.lock: …".
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("malformed {}: {}", .kind.name(), .error.message)]
pub struct Malformed {
    pub kind: Kind,
    pub error: ParseError,
}

impl Kind {
    /// This kind's row of [`FORMATS`].
    pub fn format(self) -> &'static Format {
        // Rows are in the order of the enum (a test checks it), so the row is
        // an index away rather than a search.
        &FORMATS[self as usize]
    }

    /// Recognizes a lockfile or manifest by its file name.
    pub fn detect(file_name: &str) -> Option<Kind> {
        detect(file_name).map(|f| f.kind)
    }

    /// The ecosystem of every package of this kind; `None` for SBOMs, which mix them.
    pub fn ecosystem(self) -> Option<Ecosystem> {
        self.format().ecosystem
    }

    /// How messages name the format (`Cargo.lock`, `requirements file`).
    pub fn name(self) -> &'static str {
        self.format().name
    }

    /// Parses the file's text; see [`Format::parse`].
    pub fn parse(self, text: &str) -> Result<Lockfile, ParseError> {
        self.format().parse(text)
    }
}

/// A parsed lockfile and where it was found: a project's lockfile, an SBOM,
/// or an image's package database.
#[derive(Debug)]
pub struct Found {
    /// As reported: relative to the scanned root, `/`-separated (for an
    /// image, `image//path/in/image`).
    pub path: String,
    pub lockfile: Lockfile,
    /// The distribution release of OS packages (`11` for Debian 11,
    /// `v3.19` for Alpine): distro advisories are per release.
    pub release: Option<String>,
}

impl Found {
    /// Parses one file given the path to report and its content; `None` when
    /// the file name is not a format pipeguard reads.
    pub fn parse(shown: &str, content: &[u8]) -> Option<Result<Found, Malformed>> {
        let name = shown.rsplit('/').next().unwrap_or(shown);
        Some(Found::parse_as(detect(name)?, shown, content))
    }

    /// Parses one file of a known format. Bytes that are not UTF-8 are
    /// replaced rather than refused, so that one stray byte does not hide a
    /// whole lockfile.
    pub fn parse_as(format: &Format, shown: &str, content: &[u8]) -> Result<Found, Malformed> {
        let text = String::from_utf8_lossy(content);
        match format.parse(&text) {
            Ok(lockfile) => Ok(Found {
                path: shown.to_string(),
                lockfile,
                release: None,
            }),
            Err(error) => Err(Malformed {
                kind: format.kind,
                error,
            }),
        }
    }
}

/// A URL without the credentials a lockfile may record in it
/// (`https://ci:TOKEN@npm.corp.net/…`, `git+https://TOKEN@github.com/…`):
/// they must not reach a finding, an SBOM or a log, and no check needs them.
/// The user part of `ssh://git@host` style URLs, which is no secret, stays.
pub fn strip_credentials(url: &str) -> std::borrow::Cow<'_, str> {
    let Some(i) = url.find("://") else {
        return url.into();
    };
    let (scheme, rest) = (&url[..i], &url[i + 3..]);
    let authority = &rest[..rest.find(['/', '?', '#']).unwrap_or(rest.len())];
    let Some(at) = authority.rfind('@') else {
        return url.into();
    };
    let userinfo = &authority[..at];
    let web = scheme.ends_with("http") || scheme.ends_with("https");
    if !web && !userinfo.contains(':') {
        return url.into();
    }
    format!("{scheme}://{}", &rest[at + 1..]).into()
}

/// Lookups shared by the parsers' tests.
#[cfg(test)]
pub(crate) mod test_util {
    use super::{Lockfile, Package};

    /// The package `name` at `version`, with its index.
    pub fn find_version<'a>(lock: &'a Lockfile, name: &str, version: &str) -> (usize, &'a Package) {
        lock.packages
            .iter()
            .enumerate()
            .find(|(_, p)| p.name == name && p.version == version)
            .unwrap_or_else(|| panic!("{name} {version} not found"))
    }

    /// The first package called `name`.
    pub fn find<'a>(lock: &'a Lockfile, name: &str) -> &'a Package {
        lock.packages
            .iter()
            .find(|p| p.name == name)
            .unwrap_or_else(|| panic!("{name} not found"))
    }

    /// Names of the packages `name` depends on.
    pub fn dep_names<'a>(lock: &'a Lockfile, name: &str) -> Vec<&'a str> {
        find(lock, name)
            .dependencies
            .iter()
            .map(|&i| lock.packages[i].name.as_str())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_are_stripped_from_urls() {
        let pw = format!("Pw{}", "7hQ2kLm9Xz4Rt8Vb");
        assert_eq!(
            strip_credentials(&format!("https://ci:{pw}@npm.corp.net/a/-/a-1.tgz")),
            "https://npm.corp.net/a/-/a-1.tgz"
        );
        assert_eq!(
            strip_credentials(&format!("git+https://{pw}@github.com/o/r.git")),
            "git+https://github.com/o/r.git"
        );
        assert_eq!(
            strip_credentials("git+ssh://git@github.com/o/r.git"),
            "git+ssh://git@github.com/o/r.git"
        );
        assert_eq!(
            strip_credentials(&format!("ssh://deploy:{pw}@host/r")),
            "ssh://host/r"
        );
        // An `@` after the host is a path or a version, not user information.
        assert_eq!(
            strip_credentials("https://registry.npmjs.org/@scope/pkg/-/pkg-1.0.0.tgz"),
            "https://registry.npmjs.org/@scope/pkg/-/pkg-1.0.0.tgz"
        );
        assert_eq!(strip_credentials("no scheme@here"), "no scheme@here");
    }

    /// Regression (issue #9, canary test): `unapproved-registry` findings and
    /// SBOMs showed `https://ci:PASSWORD@…` registry URLs from lockfiles.
    #[test]
    fn parsed_sources_carry_no_credentials() {
        let pw = format!("Pw{}", "7hQ2kLm9Xz4Rt8Vb");
        let yarn = format!(
            "# yarn lockfile v1\n\n\nleft-pad@^1.3.0:\n  version \"1.3.0\"\n  resolved \"https://ci:{pw}@npm.corp.net/left-pad/-/left-pad-1.3.0.tgz#abc\"\n"
        );
        let reqs = format!("--index-url https://ci:{pw}@pypi.corp.net/simple\nrequests==2.19.0\n");
        for (kind, text) in [(Kind::YarnLock, yarn), (Kind::Requirements, reqs)] {
            let lock = kind.parse(&text).expect("parses");
            assert!(!lock.packages.is_empty(), "{kind:?}");
            let shown = format!("{:?}", lock.packages);
            assert!(!shown.contains(&pw), "{kind:?}: {shown}");
            assert!(shown.contains("corp.net"), "{kind:?}: {shown}");
        }
    }
}

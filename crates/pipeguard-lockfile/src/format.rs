//! The one table of lockfile formats. Everything pipeguard knows about a
//! format, beside its parser, is a field of its row: the names that
//! recognize it, its ecosystem, the manifests it locks, how messages name it,
//! whether the secrets scanner should skip its hashes, which audits apply.
//! Every list elsewhere (discovery, `missing-lockfile`, drift, the secrets
//! filter, `pipeguard init`, the fuzz target) is read from here, so a new
//! format is a parser module, one row and fixtures.

use crate::{Ecosystem, Kind, Lockfile, ParseError, Source, manifest, strip_credentials};

/// One lockfile (or manifest, or SBOM) format.
#[derive(Debug)]
pub struct Format {
    pub kind: Kind,
    /// How messages name the format ("malformed poetry.lock: …").
    pub name: &'static str,
    /// File names of the format, the usual one first. Empty for the package
    /// databases of images, which are found by path inside the image.
    pub file_names: &'static [&'static str],
    /// Further file names of the format, by pattern (`requirements-dev.txt`,
    /// `app.cdx.json`).
    pub matches: Option<fn(&str) -> bool>,
    /// The ecosystem of every package; `None` for SBOMs, which mix them.
    pub ecosystem: Option<Ecosystem>,
    /// Manifests whose dependencies a file of this format locks: a manifest
    /// with none of its lockfiles beside it (or above it, for workspaces) is
    /// a `missing-lockfile` finding.
    pub manifests: &'static [&'static str],
    /// Full of hashes that look random: the secrets scanner runs no generic
    /// rule on it, or every integrity hash would be a "high-entropy secret".
    pub hash_file: bool,
    /// The format records an integrity hash for every registry package, so a
    /// package without one was added by hand or by a broken tool
    /// (`missing-integrity`). Formats that never record one are not flagged.
    pub records_integrity: bool,
    /// How to check [`Format::manifests`] for dependencies the lockfile does
    /// not lock (`lockfile-drift`); `None` where pipeguard does not.
    pub drift: Option<Drift>,
    /// The format's parser. Call [`Format::parse`], which also drops
    /// credentials from URLs.
    pub parser: fn(&str) -> Result<Lockfile, ParseError>,
}

/// How a format's manifests are checked against it.
#[derive(Debug)]
pub struct Drift {
    /// The dependencies a manifest declares.
    pub declared: fn(&str) -> Option<manifest::Declared>,
    /// Manifests in subdirectories whose nearest lockfile this is are locked
    /// by it too (Cargo workspace members).
    pub workspace_members: bool,
    /// What to do about it, after "To fix, ".
    pub fix: &'static str,
}

impl Format {
    /// Parses the file's text. Credentials in the sources' URLs are dropped
    /// here, once for every format (see [`strip_credentials`]).
    pub fn parse(&self, text: &str) -> Result<Lockfile, ParseError> {
        let mut lock = (self.parser)(text)?;
        for p in &mut lock.packages {
            match &mut p.source {
                Source::OtherRegistry(url) | Source::Url(url) | Source::Git { url, .. } => {
                    if let std::borrow::Cow::Owned(clean) = strip_credentials(url) {
                        *url = clean;
                    }
                }
                Source::Registry | Source::Path(_) => {}
            }
        }
        Ok(lock)
    }

    /// Whether `file_name` (a base name) is a file of this format.
    pub fn is_named(&self, file_name: &str) -> bool {
        self.file_names.contains(&file_name) || self.matches.is_some_and(|m| m(file_name))
    }
}

/// Every format, in the order of [`Kind`]'s variants.
pub static FORMATS: &[Format] = &[
    Format {
        kind: Kind::CargoLock,
        name: "Cargo.lock",
        file_names: &["Cargo.lock"],
        matches: None,
        ecosystem: Some(Ecosystem::CratesIo),
        manifests: &["Cargo.toml"],
        hash_file: true,
        records_integrity: true,
        drift: Some(Drift {
            declared: manifest::cargo,
            workspace_members: true,
            fix: "run `cargo update -w` (or any cargo build) and commit Cargo.lock",
        }),
        parser: crate::cargo_lock::parse,
    },
    Format {
        kind: Kind::PackageLock,
        name: "package-lock.json",
        file_names: &["package-lock.json", "npm-shrinkwrap.json"],
        matches: None,
        ecosystem: Some(Ecosystem::Npm),
        manifests: &["package.json"],
        hash_file: true,
        records_integrity: true,
        drift: Some(Drift {
            declared: manifest::npm,
            workspace_members: false,
            fix: "run `npm install` and commit package-lock.json",
        }),
        parser: crate::package_lock::parse,
    },
    Format {
        kind: Kind::YarnLock,
        name: "yarn.lock",
        file_names: &["yarn.lock"],
        matches: None,
        ecosystem: Some(Ecosystem::Npm),
        manifests: &["package.json"],
        hash_file: true,
        records_integrity: true,
        drift: None,
        parser: crate::yarn_lock::parse,
    },
    Format {
        kind: Kind::PnpmLock,
        name: "pnpm-lock.yaml",
        file_names: &["pnpm-lock.yaml"],
        matches: None,
        ecosystem: Some(Ecosystem::Npm),
        manifests: &["package.json"],
        hash_file: true,
        records_integrity: true,
        drift: None,
        parser: crate::pnpm_lock::parse,
    },
    Format {
        kind: Kind::Requirements,
        name: "requirements file",
        file_names: &["requirements.txt"],
        matches: Some(|n| n.starts_with("requirements") && n.ends_with(".txt")),
        ecosystem: Some(Ecosystem::PyPI),
        manifests: &[],
        hash_file: false,
        records_integrity: false,
        drift: None,
        parser: crate::requirements::parse,
    },
    Format {
        kind: Kind::PoetryLock,
        name: "poetry.lock",
        file_names: &["poetry.lock"],
        matches: None,
        ecosystem: Some(Ecosystem::PyPI),
        manifests: &["pyproject.toml"],
        hash_file: true,
        records_integrity: false,
        drift: Some(Drift {
            declared: manifest::poetry,
            workspace_members: false,
            fix: "run `poetry lock` and commit poetry.lock",
        }),
        parser: crate::poetry_lock::parse,
    },
    Format {
        kind: Kind::PipfileLock,
        name: "Pipfile.lock",
        file_names: &["Pipfile.lock"],
        matches: None,
        ecosystem: Some(Ecosystem::PyPI),
        manifests: &["Pipfile", "pyproject.toml"],
        hash_file: true,
        records_integrity: false,
        drift: None,
        parser: crate::pipfile_lock::parse,
    },
    Format {
        kind: Kind::UvLock,
        name: "uv.lock",
        file_names: &["uv.lock"],
        matches: None,
        ecosystem: Some(Ecosystem::PyPI),
        manifests: &["pyproject.toml"],
        hash_file: true,
        records_integrity: false,
        drift: None,
        parser: crate::uv_lock::parse,
    },
    Format {
        kind: Kind::GoMod,
        name: "go.mod",
        file_names: &["go.mod"],
        matches: None,
        ecosystem: Some(Ecosystem::Go),
        manifests: &[],
        hash_file: false,
        records_integrity: false,
        drift: None,
        parser: crate::go_mod::parse,
    },
    Format {
        kind: Kind::GemfileLock,
        name: "Gemfile.lock",
        file_names: &["Gemfile.lock", "gems.locked"],
        matches: None,
        ecosystem: Some(Ecosystem::RubyGems),
        manifests: &["Gemfile"],
        hash_file: true,
        records_integrity: false,
        drift: None,
        parser: crate::gemfile_lock::parse,
    },
    Format {
        kind: Kind::ComposerLock,
        name: "composer.lock",
        file_names: &["composer.lock"],
        matches: None,
        ecosystem: Some(Ecosystem::Packagist),
        manifests: &["composer.json"],
        hash_file: true,
        records_integrity: false,
        drift: None,
        parser: crate::composer_lock::parse,
    },
    Format {
        kind: Kind::GradleLockfile,
        name: "gradle.lockfile",
        file_names: &["gradle.lockfile"],
        matches: None,
        ecosystem: Some(Ecosystem::Maven),
        manifests: &[],
        hash_file: true,
        records_integrity: false,
        drift: None,
        parser: crate::gradle_lockfile::parse,
    },
    Format {
        kind: Kind::PomXml,
        name: "pom.xml",
        file_names: &["pom.xml"],
        matches: None,
        ecosystem: Some(Ecosystem::Maven),
        manifests: &[],
        hash_file: false,
        records_integrity: false,
        drift: None,
        parser: crate::pom_xml::parse,
    },
    Format {
        kind: Kind::NugetLock,
        name: "packages.lock.json",
        file_names: &["packages.lock.json"],
        matches: None,
        ecosystem: Some(Ecosystem::NuGet),
        manifests: &[],
        hash_file: true,
        records_integrity: true,
        drift: None,
        parser: crate::nuget_lock::parse,
    },
    Format {
        kind: Kind::DpkgStatus,
        name: "dpkg status",
        file_names: &[],
        matches: None,
        ecosystem: Some(Ecosystem::Debian),
        manifests: &[],
        hash_file: false,
        records_integrity: false,
        drift: None,
        parser: os_database,
    },
    Format {
        kind: Kind::ApkInstalled,
        name: "apk database",
        file_names: &[],
        matches: None,
        ecosystem: Some(Ecosystem::Alpine),
        manifests: &[],
        hash_file: false,
        records_integrity: false,
        drift: None,
        parser: os_database,
    },
    Format {
        kind: Kind::Sbom,
        name: "SBOM",
        file_names: &["bom.json"],
        matches: Some(|n| n.ends_with(".cdx.json") || n.ends_with(".spdx.json")),
        ecosystem: None,
        manifests: &[],
        hash_file: false,
        records_integrity: false,
        drift: None,
        parser: crate::sbom::parse,
    },
];

/// OS package databases come out of image layers and are parsed there, with
/// the image's release; as a file of a tree they are nothing pipeguard reads.
fn os_database(_: &str) -> Result<Lockfile, ParseError> {
    Err(ParseError {
        line: 0,
        message: "OS package databases are read by `pipeguard image`".into(),
    })
}

/// Lockfiles of package managers pipeguard does not parse, by the manifest
/// they lock: they still mean the manifest is locked.
pub const UNREAD_LOCKFILES: &[(&str, &str)] = &[
    ("package.json", "bun.lockb"),
    ("package.json", "bun.lock"),
    ("pyproject.toml", "pdm.lock"),
];

/// The format of a file, by its base name.
pub fn detect(file_name: &str) -> Option<&'static Format> {
    FORMATS.iter().find(|f| f.is_named(file_name))
}

/// Whether a file (by base name) is a manifest that some lockfile locks.
pub fn is_manifest(file_name: &str) -> bool {
    FORMATS.iter().any(|f| f.manifests.contains(&file_name))
        || UNREAD_LOCKFILES.iter().any(|(m, _)| *m == file_name)
}

/// The lockfile names that lock `manifest`, in the order of [`FORMATS`], then
/// those pipeguard does not read.
pub fn lockfiles_for(manifest: &str) -> Vec<&'static str> {
    FORMATS
        .iter()
        .filter(|f| f.manifests.contains(&manifest))
        .flat_map(|f| f.file_names.iter().copied())
        .chain(
            UNREAD_LOCKFILES
                .iter()
                .filter(|(m, _)| *m == manifest)
                .map(|(_, l)| *l),
        )
        .collect()
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    /// Real files of every format (under `tests/fixtures/`), each with the
    /// name it is detected by.
    const FIXTURES: &[(&str, &str)] = &[
        ("cargo/v1/Cargo.lock", "Cargo.lock"),
        ("cargo/v3/Cargo.lock", "Cargo.lock"),
        ("cargo/v4/Cargo.lock", "Cargo.lock"),
        ("npm/v1/npm-shrinkwrap.json", "npm-shrinkwrap.json"),
        ("npm/v3/package-lock.json", "package-lock.json"),
        ("yarn/classic/yarn.lock", "yarn.lock"),
        ("yarn/berry/yarn.lock", "yarn.lock"),
        ("pnpm/v5/pnpm-lock.yaml", "pnpm-lock.yaml"),
        ("pnpm/v6/pnpm-lock.yaml", "pnpm-lock.yaml"),
        ("pnpm/v9/pnpm-lock.yaml", "pnpm-lock.yaml"),
        ("requirements/requirements.txt", "requirements.txt"),
        (
            "requirements/requirements-edge.txt",
            "requirements-edge.txt",
        ),
        ("poetry/poetry-1.1.lock", "poetry.lock"),
        ("poetry/poetry-2.lock", "poetry.lock"),
        ("pipenv/Pipfile.lock", "Pipfile.lock"),
        ("uv/uv.lock", "uv.lock"),
        ("go/go.mod", "go.mod"),
        ("bundler/Gemfile.lock", "Gemfile.lock"),
        ("bundler/Gemfile-checksums.lock", "gems.locked"),
        ("composer/composer.lock", "composer.lock"),
        ("gradle/gradle.lockfile", "gradle.lockfile"),
        ("maven/pom.xml", "pom.xml"),
        ("nuget/packages.lock.json", "packages.lock.json"),
        ("sbom/bom.cdx.json", "bom.cdx.json"),
        ("sbom/bom.spdx.json", "bom.spdx.json"),
    ];

    #[test]
    fn rows_follow_the_kinds() {
        for (i, f) in FORMATS.iter().enumerate() {
            assert_eq!(f.kind as usize, i, "{} is out of order", f.name);
            assert!(std::ptr::eq(f.kind.format(), f));
        }
        assert_eq!(FORMATS.len(), Kind::Sbom as usize + 1);
    }

    /// Every format found by name has a fixture, detected as that format,
    /// that parses into packages of the row's ecosystem.
    #[test]
    fn every_format_parses_its_fixtures() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
        for format in FORMATS.iter().filter(|f| !f.file_names.is_empty()) {
            let mut seen = 0;
            for (rel, name) in FIXTURES.iter().filter(|(_, n)| format.is_named(n)) {
                assert_eq!(detect(name).map(|f| f.kind), Some(format.kind), "{name}");
                let text = std::fs::read_to_string(dir.join(rel)).expect(rel);
                let lock = format.parse(&text).unwrap_or_else(|e| panic!("{rel}: {e}"));
                assert_eq!(lock.kind, format.kind, "{rel}");
                assert!(!lock.packages.is_empty(), "{rel}: no packages");
                if let Some(eco) = format.ecosystem {
                    assert!(lock.packages.iter().all(|p| p.ecosystem == eco), "{rel}");
                }
                seen += 1;
            }
            assert!(seen > 0, "{} has no fixture", format.name);
        }
    }

    #[test]
    fn names_are_detected() {
        for (name, kind) in [
            ("requirements-dev.txt", Some(Kind::Requirements)),
            ("app.cdx.json", Some(Kind::Sbom)),
            ("gems.locked", Some(Kind::GemfileLock)),
            ("requirements.in", None),
            ("status", None),
            ("package.json", None),
        ] {
            assert_eq!(detect(name).map(|f| f.kind), kind, "{name}");
        }
    }

    #[test]
    fn manifests_pair_with_their_lockfiles() {
        assert_eq!(
            lockfiles_for("package.json"),
            [
                "package-lock.json",
                "npm-shrinkwrap.json",
                "yarn.lock",
                "pnpm-lock.yaml",
                "bun.lockb",
                "bun.lock"
            ]
        );
        assert_eq!(lockfiles_for("Cargo.toml"), ["Cargo.lock"]);
        assert_eq!(
            lockfiles_for("pyproject.toml"),
            ["poetry.lock", "Pipfile.lock", "uv.lock", "pdm.lock"]
        );
        for m in [
            "package.json",
            "Cargo.toml",
            "pyproject.toml",
            "Gemfile",
            "composer.json",
            "Pipfile",
        ] {
            assert!(is_manifest(m), "{m}");
        }
        assert!(!is_manifest("go.mod"));
        // Every manifest checked for drift is one the format locks.
        for f in FORMATS.iter().filter(|f| f.drift.is_some()) {
            assert!(!f.manifests.is_empty(), "{}", f.name);
        }
    }
}

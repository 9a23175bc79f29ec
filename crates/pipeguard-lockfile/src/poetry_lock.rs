//! poetry.lock, lock formats 1.x (`category`, hashes under `[metadata.files]`)
//! and 2.x (`groups`, hashes in each package's `files`).
//!
//! The lock does not say which packages the project declares (that is in
//! pyproject.toml), so no package is marked direct; the graph is recorded.

use std::collections::{BTreeMap, HashMap};

use serde::Deserialize;

use crate::Ecosystem;
use crate::{Kind, Lockfile, Package, ParseError, Source};

#[derive(Deserialize)]
struct RawLock {
    #[serde(default)]
    package: Vec<RawPackage>,
    #[serde(default)]
    metadata: RawMetadata,
}

#[derive(Deserialize, Default)]
struct RawMetadata {
    /// Lock format 1.x keeps the hashes here, by package name.
    #[serde(default)]
    files: BTreeMap<String, Vec<RawFile>>,
}

#[derive(Deserialize)]
struct RawPackage {
    name: Option<String>,
    version: Option<String>,
    category: Option<String>,
    groups: Option<Vec<String>>,
    #[serde(default)]
    files: Vec<RawFile>,
    /// Values vary (a constraint, a table, a list of tables by marker): only
    /// the keys matter for the graph.
    #[serde(default)]
    dependencies: BTreeMap<String, toml::Value>,
    source: Option<RawSource>,
}

#[derive(Deserialize)]
struct RawFile {
    hash: Option<String>,
}

#[derive(Deserialize)]
struct RawSource {
    #[serde(rename = "type")]
    kind: Option<String>,
    url: Option<String>,
    reference: Option<String>,
    resolved_reference: Option<String>,
}

pub fn parse(text: &str) -> Result<Lockfile, ParseError> {
    let raw: RawLock = toml::from_str(text).map_err(|e| toml_error(text, &e))?;
    let lines = header_lines(text, "[[package]]", raw.package.len());
    // 1.x hashes, by normalized name.
    let metadata_files: HashMap<String, &Vec<RawFile>> = raw
        .metadata
        .files
        .iter()
        .map(|(name, files)| (Ecosystem::PyPI.normalize_name(name), files))
        .collect();

    let mut packages = Vec::new();
    let mut dependency_names = Vec::new();
    for (raw, line) in raw.package.iter().zip(lines) {
        // An entry without a name or version cannot be audited: skip it.
        let (Some(name), Some(version)) = (&raw.name, &raw.version) else {
            continue;
        };
        let dev = match (&raw.groups, &raw.category) {
            // 2.x: a package outside the main group is only there for the
            // optional groups (dev, test, docs…).
            (Some(groups), _) => !groups.iter().any(|g| g == "main"),
            (None, Some(category)) => category == "dev",
            (None, None) => false,
        };
        let normalized = Ecosystem::PyPI.normalize_name(name);
        let legacy_files = metadata_files
            .get(&normalized)
            .map(|f| f.as_slice())
            .unwrap_or_default();
        let integrity = raw
            .files
            .iter()
            .chain(legacy_files)
            .find_map(|f| f.hash.clone());
        packages.push(Package {
            ecosystem: Ecosystem::PyPI,
            name: name.clone(),
            version: version.clone(),
            line,
            source: source(raw.source.as_ref()),
            integrity,
            direct: false,
            dev,
            dependencies: Vec::new(),
        });
        dependency_names.push(raw.dependencies.keys().collect::<Vec<_>>());
    }

    // Poetry may lock several versions of one name (for different markers):
    // a dependency on the name is an edge to each of them.
    let mut by_name: HashMap<String, Vec<usize>> = HashMap::new();
    for (i, p) in packages.iter().enumerate() {
        by_name
            .entry(Ecosystem::PyPI.normalize_name(&p.name))
            .or_default()
            .push(i);
    }
    for (i, (package, names)) in packages.iter_mut().zip(dependency_names).enumerate() {
        let mut deps: Vec<usize> = names
            .iter()
            .filter_map(|n| by_name.get(&Ecosystem::PyPI.normalize_name(n)))
            .flatten()
            .copied()
            .filter(|&d| d != i)
            .collect();
        deps.sort_unstable();
        deps.dedup();
        package.dependencies = deps;
    }

    Ok(Lockfile {
        kind: Kind::PoetryLock,
        packages,
        has_graph: true,
    })
}

fn source(raw: Option<&RawSource>) -> Source {
    let Some(raw) = raw else {
        return Source::Registry;
    };
    let url = raw.url.clone().unwrap_or_default();
    match raw.kind.as_deref() {
        Some("git") => Source::Git {
            url,
            rev: raw
                .resolved_reference
                .clone()
                .or_else(|| raw.reference.clone()),
        },
        Some("url") => Source::Url(url),
        Some("file" | "directory") => Source::Path(url),
        // `legacy` is any other package index (supplemental, explicit…).
        _ if url.is_empty() || is_pypi(&url) => Source::Registry,
        _ => Source::OtherRegistry(url),
    }
}

/// Whether an index URL is PyPI itself.
pub(super) fn is_pypi(url: &str) -> bool {
    let host = url
        .split_once("://")
        .map_or(url, |(_, rest)| rest)
        .split(['/', '?', '#'])
        .next()
        .unwrap_or_default();
    let host = host.rsplit('@').next().unwrap_or(host).to_ascii_lowercase();
    matches!(
        host.as_str(),
        "pypi.org" | "pypi.python.org" | "files.pythonhosted.org"
    )
}

/// The 1-based lines of the array-of-tables headers (`[[package]]`), in order.
/// The TOML parser has already accepted the file, so a header line is a header
/// (lock files hold no multi-line strings that could contain one); if the count
/// does not match the parsed entries, lines are unknown (0) rather than wrong.
pub(super) fn header_lines(text: &str, header: &str, expected: usize) -> Vec<u32> {
    let lines: Vec<u32> = text
        .lines()
        .enumerate()
        .filter(|(_, l)| {
            let l = l.trim();
            let l = l.split_once('#').map_or(l, |(h, _)| h).trim_end();
            l.chars().filter(|c| !c.is_whitespace()).eq(header.chars())
        })
        .map(|(i, _)| u32::try_from(i + 1).unwrap_or(u32::MAX))
        .collect();
    if lines.len() == expected {
        lines
    } else {
        vec![0; expected]
    }
}

/// The 1-based line of a byte offset.
pub(super) fn line_at(text: &str, offset: usize) -> u32 {
    let before = text.get(..offset).unwrap_or(text);
    u32::try_from(before.matches('\n').count() + 1).unwrap_or(u32::MAX)
}

pub(super) fn toml_error(text: &str, e: &toml::de::Error) -> ParseError {
    ParseError {
        line: e.span().map_or(0, |span| line_at(text, span.start)),
        message: e.message().to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_util::{dep_names, find};

    #[test]
    fn lock_format_1_1() {
        let lock = parse(include_str!("../tests/fixtures/poetry/poetry-1.1.lock")).unwrap();
        assert_eq!(lock.kind, Kind::PoetryLock);
        assert!(lock.has_graph);
        let got: Vec<_> = lock
            .packages
            .iter()
            .map(|p| (p.name.as_str(), p.version.as_str(), p.line, p.dev))
            .collect();
        assert_eq!(
            got,
            [
                ("certifi", "2023.7.22", 1, false),
                ("charset-normalizer", "3.2.0", 9, false),
                ("iniconfig", "2.0.0", 17, true),
                ("pytest", "7.4.0", 25, true),
                ("requests", "2.31.0", 40, false),
            ]
        );
        // `[metadata.files]`: the first hash; an empty list gives none.
        assert_eq!(
            find(&lock, "certifi").integrity.as_deref(),
            Some("sha256:92d6037539857d8206b8f6ae472e8b77db8058fec5937a1ef3f54304089edbb9")
        );
        assert_eq!(find(&lock, "pytest").integrity, None);
        assert_eq!(
            dep_names(&lock, "requests"),
            ["certifi", "charset-normalizer"]
        );
        // colorama is not in the lock (Windows only): no edge.
        assert_eq!(dep_names(&lock, "pytest"), ["iniconfig"]);
        assert!(
            lock.packages
                .iter()
                .all(|p| !p.direct && p.source == Source::Registry)
        );
    }

    #[test]
    fn lock_format_2() {
        let lock = parse(include_str!("../tests/fixtures/poetry/poetry-2.lock")).unwrap();
        // The entry without a version is skipped.
        assert_eq!(lock.packages.len(), 10);
        assert!(lock.packages.iter().all(|p| p.name != "broken"));
        let anyio = find(&lock, "anyio");
        assert_eq!(
            (anyio.version.as_str(), anyio.line, anyio.dev),
            ("4.8.0", 3, false)
        );
        assert_eq!(
            anyio.integrity.as_deref(),
            Some("sha256:b5011f270ab5eb0abf13385f851315585cc37ef330dd88e27ec3d34d651fd47a")
        );
        // Dependencies by normalized name: `typing_extensions` is `typing-extensions`.
        assert_eq!(
            dep_names(&lock, "anyio"),
            ["idna", "sniffio", "typing-extensions"]
        );
        // `Django = ">=4.2"` finds `Django`.
        assert_eq!(dep_names(&lock, "internal-auth"), ["Django"]);

        assert!(
            !find(&lock, "colorama").dev,
            "main and dev: needed at runtime"
        );
        assert!(find(&lock, "pytest").dev);
        assert_eq!(find(&lock, "pytest").line, 99);

        assert_eq!(
            find(&lock, "Django").source,
            Source::Git {
                url: "https://github.com/django/django.git".into(),
                rev: Some("2a2e0a9e1f8a4c7b4e2d0c3b8f6a1e9d7c5b3a10".into())
            }
        );
        assert_eq!(
            find(&lock, "internal-auth").source,
            Source::OtherRegistry("https://pypi.example.com/simple".into())
        );
        assert_eq!(
            find(&lock, "localpkg").source,
            Source::Path("libs/localpkg".into())
        );
        assert_eq!(
            find(&lock, "tarball").source,
            Source::Url("https://example.com/downloads/tarball-2.0.0.tar.gz".into())
        );
        assert_eq!(find(&lock, "idna").source, Source::Registry);
        assert_eq!(find(&lock, "Django").integrity, None);
    }

    #[test]
    fn malformed_toml_reports_its_line() {
        let err = parse("[[package]]\nname = \"a\"\nversion = \n").unwrap_err();
        assert_eq!(err.line, 3);
        let err = parse("[[package]]\nname = 3\nversion = \"1\"\n").unwrap_err();
        assert_eq!(err.line, 2);
        assert!(parse("").unwrap().packages.is_empty());
    }
}

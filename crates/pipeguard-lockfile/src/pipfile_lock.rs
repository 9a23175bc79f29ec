//! Pipfile.lock (pipenv)
//!
//! `default` and `develop` list every locked package flat, direct and
//! transitive alike, without the graph: which ones the Pipfile declares is not
//! in the lock, so every package is `direct: false` (unknown), and
//! `has_graph` is false. Packages under `develop` are dev.

use std::collections::{BTreeMap, HashMap};

use serde::Deserialize;

use crate::Ecosystem;
use crate::{Kind, Lockfile, Package, ParseError, Source};

#[derive(Deserialize)]
struct RawLock {
    #[serde(default, rename = "_meta")]
    meta: RawMeta,
    #[serde(default)]
    default: BTreeMap<String, RawPackage>,
    #[serde(default)]
    develop: BTreeMap<String, RawPackage>,
}

#[derive(Deserialize, Default)]
struct RawMeta {
    #[serde(default)]
    sources: Vec<RawIndex>,
}

#[derive(Deserialize)]
struct RawIndex {
    name: Option<String>,
    url: Option<String>,
}

#[derive(Deserialize)]
struct RawPackage {
    version: Option<String>,
    #[serde(default)]
    hashes: Vec<String>,
    index: Option<String>,
    git: Option<String>,
    #[serde(rename = "ref")]
    git_ref: Option<String>,
    file: Option<String>,
    path: Option<String>,
}

pub fn parse(text: &str) -> Result<Lockfile, ParseError> {
    let raw: RawLock = serde_json::from_str(text).map_err(|e| ParseError {
        line: u32::try_from(e.line()).unwrap_or(0),
        message: e.to_string(),
    })?;
    let lines = package_lines(text);
    let indexes: HashMap<&str, &str> = raw
        .meta
        .sources
        .iter()
        .filter_map(|s| Some((s.name.as_deref()?, s.url.as_deref()?)))
        .collect();
    // Without `index`, pipenv installs from the first source.
    let default_index = raw.meta.sources.first().and_then(|s| s.url.as_deref());

    let mut packages = Vec::new();
    for (section, entries, dev) in [
        ("default", &raw.default, false),
        ("develop", &raw.develop, true),
    ] {
        for (name, entry) in entries {
            let source = if let Some(url) = &entry.git {
                Source::Git {
                    url: url.clone(),
                    rev: entry.git_ref.clone(),
                }
            } else if let Some(url) = &entry.file {
                Source::Url(url.clone())
            } else if let Some(path) = &entry.path {
                Source::Path(path.clone())
            } else {
                let url = match &entry.index {
                    Some(index) => indexes.get(index.as_str()).copied(),
                    None => default_index,
                };
                match url {
                    Some(url) if !crate::poetry_lock::is_pypi(url) => {
                        Source::OtherRegistry(url.to_string())
                    }
                    _ => Source::Registry,
                }
            };
            let version = match &entry.version {
                Some(v) => v.trim_start_matches('=').trim().to_string(),
                // A VCS or URL package records no version, but is still a
                // dependency to report; a path one is usually the project.
                None if entry.git.is_some() || entry.file.is_some() => String::new(),
                None => continue,
            };
            packages.push(Package {
                ecosystem: Ecosystem::PyPI,
                name: name.clone(),
                version,
                line: lines.get(&(section, name.as_str())).copied().unwrap_or(0),
                source,
                integrity: (!entry.hashes.is_empty()).then(|| entry.hashes.join(" ")),
                direct: false,
                dev,
                dependencies: Vec::new(),
            });
        }
    }
    packages.sort_by_key(|p| p.line);
    Ok(Lockfile {
        kind: Kind::PipfileLock,
        packages,
        has_graph: false,
    })
}

/// The line of each `"name": {` key inside `default` and `develop`, found by
/// a scan of the JSON structure (serde_json keeps no positions). Runs after
/// serde_json has accepted the text, so the structure is well-formed.
fn package_lines(text: &str) -> HashMap<(&'static str, &str), u32> {
    let mut lines = HashMap::new();
    let mut depth = 0usize;
    let mut line = 1u32;
    let mut section: Option<&'static str> = None;
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        match c {
            '\n' => line += 1,
            '{' | '[' => depth += 1,
            '}' | ']' => depth = depth.saturating_sub(1),
            '"' => {
                let start = i + 1;
                let mut end = start;
                let mut escaped = false;
                for (j, c) in chars.by_ref() {
                    match c {
                        _ if escaped => escaped = false,
                        '\\' => escaped = true,
                        '"' => {
                            end = j;
                            break;
                        }
                        // JSON strings hold no raw newlines.
                        _ => {}
                    }
                }
                let Some(s) = text.get(start..end) else {
                    continue;
                };
                let rest = text.get(end + 1..).unwrap_or_default();
                if !rest.trim_start().starts_with(':') {
                    continue;
                }
                match depth {
                    1 => {
                        section = match s {
                            "default" => Some("default"),
                            "develop" => Some("develop"),
                            _ => None,
                        }
                    }
                    2 => {
                        if let Some(section) = section {
                            lines.insert((section, s), line);
                        }
                    }
                    _ => {}
                }
            }
            _ => {}
        }
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_and_develop() {
        let lock = parse(include_str!("../tests/fixtures/pipenv/Pipfile.lock")).unwrap();
        assert_eq!(lock.kind, Kind::PipfileLock);
        assert!(!lock.has_graph);
        let got: Vec<_> = lock
            .packages
            .iter()
            .map(|p| (p.name.as_str(), p.version.as_str(), p.line, p.dev))
            .collect();
        // `localpkg` (editable path, no version) is the project: skipped.
        assert_eq!(
            got,
            [
                ("certifi", "2024.2.2", 24),
                ("company-sdk", "3.2.1", 33),
                ("django", "", 40),
                ("requests", "2.31.0", 48),
                ("pytest", "8.3.4", 62),
                ("pytest-cov", "5.0.0", 70),
            ]
            .map(|(n, v, l)| (n, v, l, l > 60))
        );
        let by_name = |n: &str| lock.packages.iter().find(|p| p.name == n).unwrap();
        assert_eq!(
            by_name("certifi").integrity.as_deref(),
            Some(
                "sha256:0569859f95fc761b18b45ef421b1290a0f65f147e92a1e5eb3e635f9a5e4e66f \
                 sha256:dc383c07b76109f368f6106eee2b593b04a011ea4d55f652c6ca24a754d1cdd1"
            )
        );
        assert_eq!(by_name("pytest-cov").integrity, None);
        assert_eq!(by_name("certifi").source, Source::Registry);
        assert_eq!(
            by_name("company-sdk").source,
            Source::OtherRegistry("https://pypi.internal.example.com/simple".into())
        );
        assert_eq!(
            by_name("django").source,
            Source::Git {
                url: "https://github.com/django/django.git".into(),
                rev: Some("5a0b3f6c9e2d8a7b4c1f0e9d8c7b6a5f4e3d2c1b".into())
            }
        );
        assert!(
            lock.packages
                .iter()
                .all(|p| !p.direct && p.dependencies.is_empty())
        );
    }

    #[test]
    fn default_index_is_the_first_source() {
        let text = r#"{"_meta": {"sources": [{"name": "corp", "url": "https://corp.example/simple"}]},
"default": {"six": {"version": "==1.16.0"}}, "develop": {}}"#;
        let lock = parse(text).unwrap();
        assert_eq!(
            lock.packages[0].source,
            Source::OtherRegistry("https://corp.example/simple".into())
        );
        assert_eq!(lock.packages[0].line, 2);
    }

    #[test]
    fn malformed_json_reports_its_line() {
        let err =
            parse("{\n  \"default\": {\n    \"six\": {\"version\": \"==1\",}\n  }\n}").unwrap_err();
        assert_eq!(err.line, 3);
        let err = parse("{\"default\": {\"six\": {\"hashes\": \"not a list\"}}}").unwrap_err();
        assert_eq!(err.line, 1);
    }
}

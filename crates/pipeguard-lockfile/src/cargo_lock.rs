//! Cargo.lock (format versions 1 to 4).
//!
//! Values come from the `toml` crate; the line of each package is found by
//! counting `[[package]]` headers, which Cargo writes one per package in the
//! same order as the array.

use std::collections::HashMap;

use serde::Deserialize;

use crate::Ecosystem;
use crate::{Kind, Lockfile, Package, ParseError, Source};

const CRATES_IO_GIT: &str = "https://github.com/rust-lang/crates.io-index";
const CRATES_IO_SPARSE: &str = "https://index.crates.io/";

#[derive(Deserialize)]
struct RawLock {
    #[serde(default)]
    package: Vec<RawPackage>,
    /// Format 1 keeps checksums here, keyed `"checksum name version (source)"`.
    #[serde(default)]
    metadata: toml::Table,
}

#[derive(Deserialize)]
struct RawPackage {
    name: Option<String>,
    version: Option<String>,
    source: Option<String>,
    checksum: Option<String>,
    #[serde(default)]
    dependencies: Vec<String>,
}

pub fn parse(text: &str) -> Result<Lockfile, ParseError> {
    // Editors on Windows may add a byte-order mark; it is not part of the data.
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let raw: RawLock = toml::from_str(text).map_err(|e| ParseError {
        line: e.span().map_or(0, |span| line_of_offset(text, span.start)),
        message: e.message().to_string(),
    })?;
    let header_lines = package_header_lines(text);

    // Every `[[package]]`, local crates included, so that dependency strings
    // resolve against the same list Cargo wrote; `out_index` maps each to its
    // index in the output, `None` for local crates and entries without a version.
    let mut by_name: HashMap<&str, Vec<usize>> = HashMap::new();
    for (i, p) in raw.package.iter().enumerate() {
        if let Some(name) = &p.name {
            by_name.entry(name.as_str()).or_default().push(i);
        }
    }
    let mut packages = Vec::new();
    let mut out_index = vec![None; raw.package.len()];
    for (i, p) in raw.package.iter().enumerate() {
        let (Some(name), Some(version), Some(source)) = (&p.name, &p.version, &p.source) else {
            continue;
        };
        let integrity = p.checksum.clone().or_else(|| {
            let key = format!("checksum {name} {version} ({source})");
            raw.metadata
                .get(&key)
                .and_then(toml::Value::as_str)
                .filter(|c| *c != "<none>")
                .map(str::to_string)
        });
        out_index[i] = Some(packages.len());
        packages.push(Package {
            ecosystem: Ecosystem::CratesIo,
            name: name.clone(),
            version: version.clone(),
            line: header_lines.get(i).copied().unwrap_or(0),
            source: cargo_source(source),
            integrity,
            direct: false,
            dev: false,
            dependencies: Vec::new(),
        });
    }

    for (i, p) in raw.package.iter().enumerate() {
        let targets: Vec<usize> = p
            .dependencies
            .iter()
            .filter_map(|dep| resolve(dep, &raw.package, &by_name))
            .filter_map(|t| out_index.get(t).copied().flatten())
            .collect();
        match out_index.get(i).copied().flatten() {
            Some(from) => {
                if let Some(pkg) = packages.get_mut(from) {
                    pkg.dependencies = targets;
                }
            }
            // A local crate (workspace member or path dependency): what it
            // depends on is declared in the project's own manifests.
            None if p.source.is_none() => {
                for t in targets {
                    if let Some(pkg) = packages.get_mut(t) {
                        pkg.direct = true;
                    }
                }
            }
            None => {}
        }
    }

    Ok(Lockfile {
        kind: Kind::CargoLock,
        packages,
        has_graph: true,
    })
}

/// Resolves a `dependencies` entry: `name`, `name version` or
/// `name version (source)`, Cargo writing only as much as needed to be
/// unambiguous (format 1 always writes all three).
fn resolve(dep: &str, all: &[RawPackage], by_name: &HashMap<&str, Vec<usize>>) -> Option<usize> {
    let mut parts = dep.splitn(3, ' ');
    let name = parts.next()?;
    let version = parts.next();
    let source = parts
        .next()
        .map(|s| s.trim_start_matches('(').trim_end_matches(')'));
    by_name.get(name)?.iter().copied().find(|&i| {
        all.get(i).is_some_and(|p| {
            version.is_none_or(|v| p.version.as_deref() == Some(v))
                && source.is_none_or(|s| p.source.as_deref() == Some(s))
        })
    })
}

fn cargo_source(source: &str) -> Source {
    if let Some(url) = source.strip_prefix("registry+") {
        if url == CRATES_IO_GIT {
            Source::Registry
        } else {
            Source::OtherRegistry(url.to_string())
        }
    } else if let Some(url) = source.strip_prefix("sparse+") {
        if url == CRATES_IO_SPARSE {
            Source::Registry
        } else {
            Source::OtherRegistry(url.to_string())
        }
    } else if let Some(rest) = source.strip_prefix("git+") {
        // `git+https://host/repo?branch=main#<commit>`: the query only says
        // which reference was asked for; the fragment is the locked commit.
        let (url, rev) = match rest.split_once('#') {
            Some((url, rev)) => (url, Some(rev.to_string())),
            None => (rest, None),
        };
        let url = url.split_once('?').map_or(url, |(u, _)| u);
        Source::Git {
            url: url.to_string(),
            rev,
        }
    } else if let Some(path) = source.strip_prefix("path+") {
        Source::Path(path.strip_prefix("file://").unwrap_or(path).to_string())
    } else {
        Source::OtherRegistry(source.to_string())
    }
}

/// The 1-based line of every `[[package]]` header, in order.
fn package_header_lines(text: &str) -> Vec<u32> {
    text.lines()
        .enumerate()
        .filter(|(_, l)| {
            let l = l.trim();
            l.starts_with("[[")
                && l.split('#')
                    .next()
                    .is_some_and(|h| h.split_whitespace().collect::<String>() == "[[package]]")
        })
        .map(|(i, _)| u32::try_from(i + 1).unwrap_or(u32::MAX))
        .collect()
}

fn line_of_offset(text: &str, offset: usize) -> u32 {
    let before = text.get(..offset).unwrap_or(text);
    u32::try_from(before.matches('\n').count() + 1).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_util::find_version;

    #[test]
    fn v3_workspace_duplicates_git_and_graph() {
        let lock = parse(include_str!("../tests/fixtures/cargo/v3/Cargo.lock")).unwrap();
        assert!(lock.has_graph);
        assert_eq!(lock.kind, Kind::CargoLock);
        // The two workspace members are not packages.
        assert!(!lock.packages.iter().any(|p| p.name.starts_with("app")));
        let names: Vec<_> = lock
            .packages
            .iter()
            .map(|p| format!("{}@{}", p.name, p.version))
            .collect();
        assert_eq!(
            names,
            [
                "bitflags@1.3.2",
                "bitflags@2.4.1",
                "cfg-if@1.0.0",
                "my-fork@0.3.0",
                "private-crate@1.0.0",
                "serde@1.0.193",
                "serde_derive@1.0.193",
                "syn@2.0.39",
            ]
        );

        let (b1, bitflags1) = find_version(&lock, "bitflags", "1.3.2");
        let (_, bitflags2) = find_version(&lock, "bitflags", "2.4.1");
        assert_eq!(bitflags1.line, 22);
        assert_eq!(bitflags2.line, 28);
        assert_eq!(bitflags1.source, Source::Registry);
        assert_eq!(
            bitflags2.integrity.as_deref(),
            Some("327762f6e5a765692301e5bb513e0d9fef63be86bbc14528052b1cd3e6f03e07")
        );

        let (_, fork) = find_version(&lock, "my-fork", "0.3.0");
        assert_eq!(
            fork.source,
            Source::Git {
                url: "https://github.com/example/my-fork".into(),
                rev: Some("2f3b8c9d0e1a4b5c6d7e8f9a0b1c2d3e4f5a6b7c".into()),
            }
        );
        assert_eq!(fork.integrity, None);
        // "name version" disambiguates the duplicated bitflags.
        let (cfg_if, _) = find_version(&lock, "cfg-if", "1.0.0");
        assert_eq!(fork.dependencies, vec![b1, cfg_if]);

        let (_, private) = find_version(&lock, "private-crate", "1.0.0");
        assert_eq!(
            private.source,
            Source::OtherRegistry("https://my-registry.example.com/index/".into())
        );

        // Direct: what the members depend on; not what the crates.io crates pull in.
        let (_, serde) = find_version(&lock, "serde", "1.0.193");
        assert!(serde.direct && fork.direct && bitflags2.direct && private.direct);
        assert!(!bitflags1.direct);
        let (derive_i, derive) = find_version(&lock, "serde_derive", "1.0.193");
        assert!(!derive.direct);
        let (syn_i, _) = find_version(&lock, "syn", "2.0.39");
        // Chain serde -> serde_derive -> syn.
        assert_eq!(serde.dependencies, vec![derive_i]);
        assert_eq!(derive.dependencies, vec![syn_i]);
    }

    #[test]
    fn v4_sparse_and_fully_qualified_dependencies() {
        let lock = parse(include_str!("../tests/fixtures/cargo/v4/Cargo.lock")).unwrap();
        assert_eq!(lock.packages.len(), 5);
        let syns: Vec<_> = lock
            .packages
            .iter()
            .enumerate()
            .filter(|(_, p)| p.name == "syn")
            .collect();
        assert_eq!(syns.len(), 2);
        let (s1, syn1) = syns[0];
        let (s2, syn2) = syns[1];
        assert_eq!((syn1.version.as_str(), syn1.line), ("1.0.109", 28));
        assert_eq!((syn2.version.as_str(), syn2.line), ("1.0.109", 37));
        assert_eq!(syn1.source, Source::Registry);
        assert_eq!(
            syn2.source,
            Source::OtherRegistry("https://mirror.example.com/index/".into())
        );
        // Same name and version from two sources: "name version (source)".
        let (_, user) = find_version(&lock, "uses-both", "0.1.0");
        assert_eq!(user.dependencies, vec![s1, s2]);
        assert!(user.direct);
        assert_eq!(user.source, Source::Registry);
        let (quote_i, quote) = find_version(&lock, "quote", "1.0.33");
        assert!(quote.direct);
        let (macro_i, proc_macro) = find_version(&lock, "proc-macro2", "1.0.70");
        assert!(!proc_macro.direct && !syn1.direct);
        assert_eq!(quote.dependencies, vec![macro_i]);
        assert_eq!(quote_i, 1);
    }

    #[test]
    fn v1_metadata_checksums() {
        let lock = parse(include_str!("../tests/fixtures/cargo/v1/Cargo.lock")).unwrap();
        let (libc_i, libc) = find_version(&lock, "libc", "0.2.40");
        assert_eq!(
            libc.integrity.as_deref(),
            Some("6fd41f331ac7c5b8ac259b8bf82c75c0fb2e469bbf37d2becbba9a6a2221965b")
        );
        assert_eq!(libc.line, 8);
        let (_, rand) = find_version(&lock, "rand", "0.4.2");
        assert_eq!(rand.dependencies, vec![libc_i]);
        assert!(rand.direct && !libc.direct);
    }

    #[test]
    fn missing_version_is_skipped_and_errors_have_lines() {
        let lock = parse(
            "version = 3\n\n[[package]]\nname = \"a\"\nsource = \"registry+https://github.com/rust-lang/crates.io-index\"\n\n[[package]]\nname = \"b\"\nversion = \"1.0.0\"\nsource = \"registry+https://github.com/rust-lang/crates.io-index\"\n",
        )
        .unwrap();
        assert_eq!(lock.packages.len(), 1);
        assert_eq!(lock.packages[0].name, "b");
        assert_eq!(lock.packages[0].line, 7);

        let err = parse("version = 3\n\n[[package]]\nname = \"a\nversion = \"1\"\n").unwrap_err();
        assert_eq!(err.line, 4);
        assert!(parse("[[package]]\nname = 3\n").is_err());
        assert!(parse("").unwrap().packages.is_empty());
    }
}

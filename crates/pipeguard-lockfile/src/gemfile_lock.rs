//! Gemfile.lock (Bundler)
//!
//! Source sections (`GEM`, `GIT`, `PATH`, `PLUGIN SOURCE`) list their gems
//! under `specs:` at four spaces, each followed by its dependencies at six;
//! `DEPENDENCIES` names what the Gemfile declares (direct), and `CHECKSUMS`
//! (Bundler 2.5+) gives hashes. The lock records no groups, so no gem is dev.

use std::collections::{HashMap, HashSet};

use crate::Ecosystem;
use crate::{Kind, Lockfile, Package, ParseError, Source};

#[derive(Clone, Copy, PartialEq)]
enum Section {
    Gem,
    Git,
    Path,
    Plugin,
    Dependencies,
    Checksums,
    Other,
}

/// The `key: value` attributes of a source section seen so far.
#[derive(Default)]
struct SourceAttrs {
    remote: Option<String>,
    revision: Option<String>,
}

pub fn parse(text: &str) -> Result<Lockfile, ParseError> {
    let mut packages: Vec<Package> = Vec::new();
    let mut dependency_names: Vec<Vec<String>> = Vec::new();
    // (name, version as written, platform included) of each package, for
    // CHECKSUMS, and the package it was merged into.
    let mut written: HashMap<(String, String), usize> = HashMap::new();
    let mut direct: HashSet<String> = HashSet::new();

    let mut section = Section::Other;
    let mut attrs = SourceAttrs::default();
    let mut in_specs = false;
    // The package the six-space dependency lines belong to.
    let mut current: Option<usize> = None;
    // Platform variants of one gem (`nokogiri (1.16.0)`, `(1.16.0-x86_64-linux)`)
    // are one package: (section start line, name, version) → index.
    let mut variants: HashMap<(u32, String, String), usize> = HashMap::new();
    let mut section_line = 0;

    for (i, raw) in text.lines().enumerate() {
        let line = u32::try_from(i + 1).unwrap_or(u32::MAX);
        if raw.trim().is_empty() {
            continue;
        }
        let indent = raw.len() - raw.trim_start_matches(' ').len();
        let content = raw.trim();
        if raw
            .get(indent..)
            .is_some_and(|rest| rest.starts_with(char::is_whitespace))
        {
            // Bundler indents with spaces only; a tab makes the nesting unknowable.
            return Err(ParseError {
                line,
                message: "indentation with a tab".to_string(),
            });
        }
        if indent == 0 {
            section = match content {
                "GEM" => Section::Gem,
                "GIT" => Section::Git,
                "PATH" => Section::Path,
                "PLUGIN SOURCE" => Section::Plugin,
                "DEPENDENCIES" => Section::Dependencies,
                "CHECKSUMS" => Section::Checksums,
                // PLATFORMS, RUBY VERSION, BUNDLED WITH and anything newer.
                _ => Section::Other,
            };
            attrs = SourceAttrs::default();
            in_specs = false;
            current = None;
            section_line = line;
            continue;
        }
        match section {
            Section::Gem | Section::Git | Section::Path | Section::Plugin => match indent {
                2 => {
                    in_specs = content == "specs:";
                    if let Some((key, value)) = content.split_once(": ") {
                        match key {
                            "remote" => attrs.remote = Some(value.trim().to_string()),
                            "revision" => attrs.revision = Some(value.trim().to_string()),
                            _ => {}
                        }
                    }
                }
                4 if in_specs => {
                    let (name, written_version) =
                        name_and_version(content).ok_or_else(|| ParseError {
                            line,
                            message: format!(
                                "expected `name (version)` in specs, found `{content}`"
                            ),
                        })?;
                    let version = strip_platform(written_version).to_string();
                    let key = (section_line, name.to_string(), version.clone());
                    let index = match variants.get(&key) {
                        Some(&index) => index,
                        None => {
                            variants.insert(key, packages.len());
                            packages.push(Package {
                                ecosystem: Ecosystem::RubyGems,
                                name: name.to_string(),
                                version,
                                line,
                                source: source(section, &attrs),
                                integrity: None,
                                direct: false,
                                dev: false,
                                dependencies: Vec::new(),
                            });
                            dependency_names.push(Vec::new());
                            packages.len() - 1
                        }
                    };
                    written.insert((name.to_string(), written_version.to_string()), index);
                    current = Some(index);
                }
                6 if in_specs => {
                    let names = current
                        .and_then(|c| dependency_names.get_mut(c))
                        .ok_or_else(|| ParseError {
                            line,
                            message: "dependency line before any gem in specs".to_string(),
                        })?;
                    names.push(dependency_name(content).to_string());
                }
                _ => {
                    return Err(ParseError {
                        line,
                        message: format!("unexpected indentation in source section: `{raw}`"),
                    });
                }
            },
            Section::Dependencies => {
                // `name`, `name!` (from a git/path/other source), `name (~> 1.0)`.
                direct.insert(dependency_name(content).trim_end_matches('!').to_string());
            }
            Section::Checksums => {
                let Some((spec, checksum)) = content.rsplit_once(' ') else {
                    // A gem with no checksum is listed bare.
                    continue;
                };
                let Some((name, version)) = name_and_version(spec) else {
                    continue;
                };
                let index = written.get(&(name.to_string(), version.to_string()));
                if let Some(package) = index.and_then(|&i| packages.get_mut(i)) {
                    package
                        .integrity
                        .get_or_insert_with(|| checksum.to_string());
                }
            }
            Section::Other => {}
        }
    }

    let mut by_name: HashMap<&str, Vec<usize>> = HashMap::new();
    for (i, p) in packages.iter().enumerate() {
        by_name.entry(p.name.as_str()).or_default().push(i);
    }
    let edges: Vec<Vec<usize>> = dependency_names
        .iter()
        .enumerate()
        .map(|(i, names)| {
            let mut deps: Vec<usize> = names
                .iter()
                .filter_map(|n| by_name.get(n.as_str()))
                .flatten()
                .copied()
                .filter(|&d| d != i)
                .collect();
            deps.sort_unstable();
            deps.dedup();
            deps
        })
        .collect();
    for (package, deps) in packages.iter_mut().zip(edges) {
        package.dependencies = deps;
        package.direct = direct.contains(&package.name);
    }

    Ok(Lockfile {
        kind: Kind::GemfileLock,
        packages,
        has_graph: true,
    })
}

/// `name (version)` → (name, version).
fn name_and_version(spec: &str) -> Option<(&str, &str)> {
    let (name, rest) = spec.split_once(" (")?;
    let version = rest.strip_suffix(')')?.trim();
    (!name.is_empty() && !version.is_empty()).then_some((name, version))
}

/// The name of a dependency line, without its requirement.
fn dependency_name(line: &str) -> &str {
    line.split_once(" (").map_or(line, |(name, _)| name).trim()
}

/// CPU names that start a platform (`x86_64-linux`, `arm64-darwin`…) and
/// platforms without a CPU, so that `1.16.0-x86_64-linux` is version
/// `1.16.0`, while a prerelease written with a hyphen (`1.0.0-rc1`) stays.
const PLATFORM_CPUS: [&str; 20] = [
    "x86",
    "x86_64",
    "x64",
    "i386",
    "i486",
    "i586",
    "i686",
    "universal",
    "arm",
    "arm64",
    "aarch64",
    "armv6",
    "armv7",
    "powerpc",
    "ppc",
    "ppc64",
    "ppc64le",
    "s390x",
    "sparc",
    "riscv64",
];
const PLATFORM_OSES: [&str; 8] = [
    "java", "jruby", "mswin32", "mswin64", "mingw32", "dalvik", "dotnet", "ruby",
];

fn strip_platform(version: &str) -> &str {
    let Some((base, platform)) = version.split_once('-') else {
        return version;
    };
    let cpu = platform.split('-').next().unwrap_or(platform);
    if PLATFORM_CPUS.contains(&cpu) || PLATFORM_OSES.contains(&platform) {
        base
    } else {
        version
    }
}

fn source(section: Section, attrs: &SourceAttrs) -> Source {
    let remote = attrs.remote.clone().unwrap_or_default();
    match section {
        Section::Git => Source::Git {
            url: remote,
            rev: attrs.revision.clone(),
        },
        Section::Path => Source::Path(remote),
        _ if is_rubygems(&remote) => Source::Registry,
        _ => Source::OtherRegistry(remote),
    }
}

fn is_rubygems(remote: &str) -> bool {
    let host = remote
        .split_once("://")
        .map_or(remote, |(_, rest)| rest)
        .split('/')
        .next()
        .unwrap_or_default();
    remote.is_empty()
        || matches!(
            host,
            "rubygems.org" | "www.rubygems.org" | "index.rubygems.org"
        )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_util::{dep_names, find};

    #[test]
    fn sources_platforms_and_graph() {
        let lock = parse(include_str!("../tests/fixtures/bundler/Gemfile.lock")).unwrap();
        assert_eq!(lock.kind, Kind::GemfileLock);
        assert!(lock.has_graph);
        let got: Vec<_> = lock
            .packages
            .iter()
            .map(|p| (p.name.as_str(), p.version.as_str(), p.line, p.direct))
            .collect();
        assert_eq!(
            got,
            [
                ("activesupport", "7.1.3.4", 6, true),
                ("billing", "0.1.0", 14, true),
                ("concurrent-ruby", "1.2.3", 20, false),
                ("i18n", "1.14.1", 21, false),
                ("mini_portile2", "2.8.5", 23, false),
                // Three platform variants, one package.
                ("nokogiri", "1.16.0", 24, true),
                ("racc", "1.7.3", 31, false),
                ("rspec", "3.13.0", 32, true),
                ("rspec-core", "3.13.0", 34, false),
                ("tzinfo", "2.0.6", 35, false),
                ("acme-client-sdk", "2.4.1", 41, true),
            ]
        );
        assert_eq!(
            find(&lock, "activesupport").source,
            Source::Git {
                url: "https://github.com/rails/rails.git".into(),
                rev: Some("5a0b3f6c9e2d8a7b4c1f0e9d8c7b6a5f4e3d2c1b".into())
            }
        );
        assert_eq!(
            find(&lock, "billing").source,
            Source::Path("engines/billing".into())
        );
        assert_eq!(find(&lock, "racc").source, Source::Registry);
        assert_eq!(
            find(&lock, "acme-client-sdk").source,
            Source::OtherRegistry("https://gems.example.com/private/".into())
        );
        assert_eq!(
            dep_names(&lock, "activesupport"),
            ["concurrent-ruby", "i18n", "tzinfo"]
        );
        assert_eq!(dep_names(&lock, "nokogiri"), ["mini_portile2", "racc"]);
        assert_eq!(dep_names(&lock, "billing"), ["activesupport"]);
        assert_eq!(dep_names(&lock, "acme-client-sdk"), ["concurrent-ruby"]);
        assert!(
            lock.packages
                .iter()
                .all(|p| !p.dev && p.integrity.is_none())
        );
    }

    #[test]
    fn checksums_section() {
        let lock = parse(include_str!(
            "../tests/fixtures/bundler/Gemfile-checksums.lock"
        ))
        .unwrap();
        let got: Vec<_> = lock
            .packages
            .iter()
            .map(|p| (p.name.as_str(), p.version.as_str(), p.line, p.direct))
            .collect();
        assert_eq!(
            got,
            [("rack", "3.0.9.1", 4, true), ("sqlite3", "1.7.2", 5, true)]
        );
        assert_eq!(
            find(&lock, "sqlite3").integrity.as_deref(),
            Some("sha256=0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0")
        );
        assert!(find(&lock, "rack").integrity.is_some());
    }

    #[test]
    fn platforms_and_prereleases() {
        assert_eq!(strip_platform("1.16.0-x86_64-linux"), "1.16.0");
        assert_eq!(strip_platform("1.16.0-arm64-darwin"), "1.16.0");
        assert_eq!(strip_platform("9.4.3.0-java"), "9.4.3.0");
        assert_eq!(strip_platform("1.15.5-x64-mingw-ucrt"), "1.15.5");
        assert_eq!(strip_platform("1.0.0-rc1"), "1.0.0-rc1");
        assert_eq!(strip_platform("7.1.3"), "7.1.3");
    }

    #[test]
    fn malformed_specs_report_their_line() {
        let err =
            parse("GEM\n  remote: https://rubygems.org/\n  specs:\n    rack 3.0\n").unwrap_err();
        assert_eq!(err.line, 4);
        let err = parse("GEM\n  specs:\n      orphan (>= 1)\n").unwrap_err();
        assert_eq!(err.line, 3);
        let err = parse("GEM\n  specs:\n    rack (3.0)\n\tbad\n").unwrap_err();
        assert_eq!(err.line, 4);
        assert!(parse("").unwrap().packages.is_empty());
    }
}

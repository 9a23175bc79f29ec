//! yarn.lock: classic (v1) and berry (v2+, recognized by its `__metadata` entry).
//!
//! Both are read by one indentation-based reader rather than a YAML parser:
//! classic is not YAML (`version "1.0.0"`), and berry only uses the subset
//! yarn writes: entries at column 0, fields at 2, dependency maps at 4.

use std::collections::HashMap;

use crate::Ecosystem;
use crate::package_lock::{npm_source, split_descriptor};
use crate::{Kind, Lockfile, Package, ParseError, Source};

#[derive(Default)]
struct Entry {
    line: u32,
    descriptors: Vec<String>,
    fields: HashMap<String, String>,
    /// `dependencies` and `optionalDependencies`, as name and range.
    dependencies: Vec<(String, String)>,
}

pub fn parse(text: &str) -> Result<Lockfile, ParseError> {
    // Editors on Windows may add a byte-order mark; it is not part of the data.
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let berry = text.lines().any(|l| l.trim_end() == "__metadata:");
    let entries = read_entries(text)?;

    let mut by_descriptor: HashMap<&str, usize> = HashMap::new();
    for (i, e) in entries.iter().enumerate() {
        for d in &e.descriptors {
            by_descriptor.insert(d.as_str(), i);
        }
    }

    let mut packages = Vec::new();
    let mut out_index = vec![None; entries.len()];
    let mut workspace = vec![false; entries.len()];
    for (i, e) in entries.iter().enumerate() {
        let info = if berry {
            berry_package(e)
        } else {
            classic_package(e)
        };
        match info {
            Some(Info::Workspace) => {
                if let Some(w) = workspace.get_mut(i) {
                    *w = true;
                }
            }
            Some(Info::Package { name, source }) => {
                let Some(version) = e.fields.get("version") else {
                    continue;
                };
                let integrity = e.fields.get(if berry { "checksum" } else { "integrity" });
                out_index[i] = Some(packages.len());
                packages.push(Package {
                    ecosystem: Ecosystem::Npm,
                    name,
                    version: version.clone(),
                    line: e.line,
                    source,
                    integrity: integrity.cloned(),
                    // Classic lockfiles cannot tell without package.json;
                    // berry's workspace entries say it below.
                    direct: false,
                    dev: false,
                    dependencies: Vec::new(),
                });
            }
            None => {}
        }
    }

    for (i, e) in entries.iter().enumerate() {
        let targets: Vec<usize> = e
            .dependencies
            .iter()
            .filter_map(|(name, range)| {
                by_descriptor
                    .get(format!("{name}@{range}").as_str())
                    // Berry writes plain semver ranges in `dependencies` but
                    // keys entries with the `npm:` protocol.
                    .or_else(|| by_descriptor.get(format!("{name}@npm:{range}").as_str()))
            })
            .filter_map(|&t| out_index.get(t).copied().flatten())
            .collect();
        if workspace.get(i).copied().unwrap_or(false) {
            for t in targets {
                if let Some(p) = packages.get_mut(t) {
                    p.direct = true;
                }
            }
        } else if let Some(p) = out_index
            .get(i)
            .copied()
            .flatten()
            .and_then(|o| packages.get_mut(o))
        {
            p.dependencies = targets;
        }
    }

    Ok(Lockfile {
        kind: Kind::YarnLock,
        packages,
        has_graph: true,
    })
}

enum Info {
    Package {
        name: String,
        source: Source,
    },
    /// A berry workspace (`name@workspace:path`): the project itself.
    Workspace,
}

fn classic_package(e: &Entry) -> Option<Info> {
    let (name, range) = split_descriptor(e.descriptors.first()?)?;
    // An alias, `foo@npm:bar@^1.0.0`, installs bar.
    let name = range
        .strip_prefix("npm:")
        .and_then(split_descriptor)
        .map_or(name, |(real, _)| real);
    let source = match e.fields.get("resolved") {
        Some(resolved) => npm_source(name, resolved),
        // Local folders have no `resolved`: the range says where they are.
        None => match range
            .strip_prefix("file:")
            .or_else(|| range.strip_prefix("link:"))
        {
            Some(path) => Source::Path(path.to_string()),
            None => Source::Registry,
        },
    };
    Some(Info::Package {
        name: name.to_string(),
        source,
    })
}

fn berry_package(e: &Entry) -> Option<Info> {
    let resolution = e
        .fields
        .get("resolution")
        .or_else(|| e.descriptors.first())?;
    let (name, reference) = split_descriptor(resolution)?;
    if reference.starts_with("workspace:") {
        return Some(Info::Workspace);
    }
    Some(Info::Package {
        name: name.to_string(),
        source: berry_source(name, reference),
    })
}

/// The source of a berry locator's reference (`npm:1.0.0`, `patch:…`, …).
fn berry_source(name: &str, reference: &str) -> Source {
    if reference.starts_with("npm:") {
        return Source::Registry;
    }
    // `patch:lodash@npm%3A4.17.21#./patches/x.patch::version=…`: the patched
    // package comes from wherever the inner locator does.
    if let Some(inner) = reference.strip_prefix("patch:") {
        let inner = inner.split('#').next().unwrap_or(inner);
        let inner = percent_decode(inner);
        return match split_descriptor(&inner) {
            Some((n, r)) if !r.starts_with("patch:") => berry_source(n, r),
            _ => Source::Url(reference.to_string()),
        };
    }
    for protocol in ["file:", "link:", "portal:"] {
        if let Some(path) = reference.strip_prefix(protocol) {
            // `file:../x#../x::hash=…&locator=…`: the part before `#`/`::` is the path.
            let path = path.split("::").next().unwrap_or(path);
            let path = path.split('#').next().unwrap_or(path);
            return Source::Path(path.to_string());
        }
    }
    npm_source(name, reference)
}

fn percent_decode(s: &str) -> String {
    let mut out = Vec::with_capacity(s.len());
    let bytes = s.as_bytes();
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (b, hex) {
            (b'%', Some(v)) => {
                out.push(v);
                i += 3;
            }
            _ => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn read_entries(text: &str) -> Result<Vec<Entry>, ParseError> {
    let mut entries: Vec<Entry> = Vec::new();
    // Inside `__metadata`, whose fields are not a package's.
    let mut in_metadata = false;
    let mut section: Option<String> = None;
    for (n, raw) in text.lines().enumerate() {
        let line_no = u32::try_from(n + 1).unwrap_or(u32::MAX);
        let error = |message: String| ParseError {
            line: line_no,
            message,
        };
        let line = raw.trim_end();
        let content = line.trim_start_matches(' ');
        if content.is_empty() || content.starts_with('#') {
            continue;
        }
        let indent = line.len() - content.len();
        if content.starts_with('\t') {
            return Err(error("tabs are not valid indentation in yarn.lock".into()));
        }
        match indent {
            0 => {
                let Some(header) = content.strip_suffix(':') else {
                    return Err(error(format!(
                        "expected an entry header ending in `:`, found `{content}`"
                    )));
                };
                section = None;
                in_metadata = header == "__metadata";
                if in_metadata {
                    continue;
                }
                let descriptors = header
                    .split(',')
                    .map(|d| d.trim().trim_matches('"').to_string())
                    .filter(|d| !d.is_empty())
                    .collect();
                entries.push(Entry {
                    line: line_no,
                    descriptors,
                    ..Entry::default()
                });
            }
            2 => {
                if in_metadata {
                    continue;
                }
                let (key, value) = key_value(content).map_err(error)?;
                let Some(entry) = entries.last_mut() else {
                    return Err(error("field outside of any entry".into()));
                };
                if value.is_empty() {
                    section = Some(key);
                } else {
                    section = None;
                    entry.fields.insert(key, value);
                }
            }
            _ if indent >= 4 => {
                if in_metadata {
                    continue;
                }
                if matches!(
                    section.as_deref(),
                    Some("dependencies" | "optionalDependencies")
                ) {
                    let (name, range) = key_value(content).map_err(error)?;
                    if let Some(entry) = entries.last_mut() {
                        entry.dependencies.push((name, range));
                    }
                }
            }
            _ => return Err(error(format!("unexpected indentation of {indent} spaces"))),
        }
    }
    Ok(entries)
}

/// Splits `key value` (classic), `key: value` (berry) or `key:` (a section,
/// empty value); either side may be double-quoted.
fn key_value(s: &str) -> Result<(String, String), String> {
    let (key, rest) = token(s)?;
    let rest = rest.trim_start();
    let rest = rest.strip_prefix(':').unwrap_or(rest).trim();
    let value = if rest.starts_with('"') {
        token(rest)?.0
    } else {
        rest.to_string()
    };
    Ok((key, value))
}

/// A quoted string (unescaped), or a bare word ending at whitespace or at a
/// `:` that is followed by whitespace or the end of the line.
fn token(s: &str) -> Result<(String, &str), String> {
    if let Some(body) = s.strip_prefix('"') {
        let mut out = String::new();
        let mut chars = body.char_indices();
        while let Some((i, c)) = chars.next() {
            match c {
                '\\' => {
                    if let Some((_, escaped)) = chars.next() {
                        out.push(escaped);
                    }
                }
                '"' => return Ok((out, body.get(i + 1..).unwrap_or(""))),
                _ => out.push(c),
            }
        }
        return Err(format!("unterminated string in `{s}`"));
    }
    let bytes = s.as_bytes();
    let end = bytes
        .iter()
        .enumerate()
        .position(|(i, &b)| b == b' ' || (b == b':' && bytes.get(i + 1).is_none_or(|n| *n == b' ')))
        .unwrap_or(s.len());
    Ok((
        s.get(..end).unwrap_or(s).to_string(),
        s.get(end..).unwrap_or(""),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_util::find_version;

    #[test]
    fn classic() {
        let lock = parse(include_str!("../tests/fixtures/yarn/classic/yarn.lock")).unwrap();
        assert!(lock.has_graph);
        let names: Vec<_> = lock
            .packages
            .iter()
            .map(|p| format!("{}@{}", p.name, p.version))
            .collect();
        assert_eq!(
            names,
            [
                "@babel/code-frame@7.23.5",
                "@babel/highlight@7.23.4",
                "debug@2.6.9",
                "debug@4.3.4",
                "left-pad@1.3.0",
                "local-utils@0.2.0",
                "ms@2.0.0",
                "ms@2.1.2",
                "my-lib@1.0.0",
                "string-width@4.2.3",
            ]
        );
        assert!(lock.packages.iter().all(|p| !p.direct && !p.dev));
        let (_, frame) = find_version(&lock, "@babel/code-frame", "7.23.5");
        assert_eq!(frame.line, 5);
        assert_eq!(frame.source, Source::Registry);
        assert!(
            frame
                .integrity
                .as_deref()
                .is_some_and(|i| i.starts_with("sha512-v3iCN"))
        );
        let (hl_i, _) = find_version(&lock, "@babel/highlight", "7.23.4");
        assert_eq!(frame.dependencies, vec![hl_i]);

        // Two descriptors on one header resolve to the same entry.
        let (d2_i, debug2) = find_version(&lock, "debug", "2.6.9");
        let (d4_i, debug4) = find_version(&lock, "debug", "4.3.4");
        let (ms0_i, _) = find_version(&lock, "ms", "2.0.0");
        let (ms2_i, _) = find_version(&lock, "ms", "2.1.2");
        assert_eq!(debug2.line, 20);
        assert_eq!(debug2.dependencies, vec![ms0_i]);
        assert_eq!(debug4.dependencies, vec![ms2_i]);
        let (_, local) = find_version(&lock, "local-utils", "0.2.0");
        assert_eq!(local.source, Source::Path("../local-utils".into()));
        assert_eq!(local.dependencies, vec![d2_i]);

        let (_, left_pad) = find_version(&lock, "left-pad", "1.3.0");
        assert_eq!(
            left_pad.source,
            Source::Git {
                url: "https://github.com/stevemao/left-pad".into(),
                rev: Some("5a4a7a8f8dd9b3f5b2cd9ff1a8e3b6c1d6f8a0b2".into()),
            }
        );
        let (_, lib) = find_version(&lock, "my-lib", "1.0.0");
        assert_eq!(
            lib.source,
            Source::OtherRegistry("https://npm.internal.example.com/".into())
        );
        assert_eq!(lib.dependencies, vec![d4_i]);
        // The alias `string-width-cjs@npm:string-width@^4.2.0` is string-width.
        let (_, alias) = find_version(&lock, "string-width", "4.2.3");
        assert_eq!(alias.line, 60);
    }

    #[test]
    fn berry() {
        let lock = parse(include_str!("../tests/fixtures/yarn/berry/yarn.lock")).unwrap();
        assert!(lock.has_graph);
        let names: Vec<_> = lock
            .packages
            .iter()
            .map(|p| format!("{}@{}", p.name, p.version))
            .collect();
        assert_eq!(
            names,
            [
                "@babel/code-frame@7.23.5",
                "@babel/highlight@7.23.4",
                "debug@4.3.4",
                "left-pad@1.3.0",
                "ms@2.1.2",
                "resolve@1.22.8",
                "resolve@1.22.8",
                "string-width@4.2.3",
            ]
        );
        // The workspaces are not packages.
        assert!(
            !lock
                .packages
                .iter()
                .any(|p| p.name == "acme" || p.name == "@acme/ui")
        );

        let (_, frame) = find_version(&lock, "@babel/code-frame", "7.23.5");
        assert_eq!(frame.line, 16);
        assert!(frame.direct);
        assert_eq!(frame.source, Source::Registry);
        assert_eq!(
            frame.integrity.as_deref(),
            Some(
                "d90981fdf56a2824a9b14d19a4c0e8db93633fd488c772624b4e83e0ceac6039a27cd298a247c3214faa952bf803ba23696172ae7e7235f3b97f43ba278c569a"
            )
        );
        let (hl_i, hl) = find_version(&lock, "@babel/highlight", "7.23.4");
        assert_eq!(frame.dependencies, vec![hl_i]);
        assert!(!hl.direct);

        let (_, debug) = find_version(&lock, "debug", "4.3.4");
        let (ms_i, _) = find_version(&lock, "ms", "2.1.2");
        // "ms: 2.1.2" resolves through the `ms@npm:2.1.2` descriptor.
        assert_eq!(debug.dependencies, vec![ms_i]);
        assert!(debug.direct);

        let patched: Vec<_> = lock
            .packages
            .iter()
            .filter(|p| p.name == "resolve")
            .collect();
        assert_eq!(patched[0].source, Source::Registry);
        assert_eq!(patched[1].source, Source::Registry);
        assert_eq!(patched[1].line, 87);
        assert!(patched[1].direct && !patched[0].direct);

        let (_, left_pad) = find_version(&lock, "left-pad", "1.3.0");
        assert_eq!(
            left_pad.source,
            Source::Git {
                url: "https://github.com/stevemao/left-pad.git".into(),
                rev: Some("5a4a7a8f8dd9b3f5b2cd9ff1a8e3b6c1d6f8a0b2".into()),
            }
        );
        // The alias resolves to the real package through its resolution.
        let (_, alias) = find_version(&lock, "string-width", "4.2.3");
        assert!(alias.direct);
    }

    #[test]
    fn malformed() {
        let err = parse("# yarn lockfile v1\n\n  version \"1.0.0\"\n").unwrap_err();
        assert_eq!(err.line, 3);
        let err = parse("a@^1:\n  version \"1.0.0\n").unwrap_err();
        assert_eq!(err.line, 2);
        let err = parse("{\"not\": \"yarn\"}\n").unwrap_err();
        assert_eq!(err.line, 1);
        // An entry without a version is skipped, not fatal.
        let lock = parse("a@^1:\n  resolved \"https://registry.yarnpkg.com/a/-/a-1.0.0.tgz\"\n\nb@^1:\n  version \"1.0.0\"\n").unwrap();
        assert_eq!(lock.packages.len(), 1);
        assert_eq!(lock.packages[0].line, 4);
    }
}

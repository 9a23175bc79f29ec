//! pnpm-lock.yaml, lockfile versions 5.x, 6.0 and 9.0.
//!
//! The three differ in how a package is keyed (`/name/1.0.0_peer@1`,
//! `/name@1.0.0(peer@1)`, `name@1.0.0(peer@1)`) and in where its
//! dependencies are (version 9 moved them from `packages` to `snapshots`).
//! Variants of one package that differ only by resolved peers are reported
//! once, at the first variant's line, with the union of their dependencies.

use std::borrow::Cow;
use std::collections::HashMap;

use saphyr::{LoadableYamlNode, MarkedYaml, Scalar, YamlData};

use crate::Ecosystem;
use crate::package_lock::{npm_source, split_descriptor};
use crate::{Kind, Lockfile, Package, ParseError, Source};

#[derive(Clone, Copy, PartialEq, Eq)]
enum Style {
    /// 5.x: `/name/version_peers`.
    V5,
    /// 6.x: `/name@version(peers)`.
    V6,
    /// 9.x: `name@version(peers)`, dependencies under `snapshots`.
    V9,
}

struct Group {
    package: Package,
    /// Unresolved `dependencies` and `optionalDependencies`: name and reference.
    deps: Vec<(String, String)>,
    /// Whether every variant says `dev: true` (versions 5 and 6).
    dev_field: bool,
}

pub fn parse(text: &str) -> Result<Lockfile, ParseError> {
    // Editors on Windows may add a byte-order mark; it is not part of the data.
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let docs = MarkedYaml::load_from_str(text).map_err(|e| ParseError {
        line: to_u32(e.marker().line()),
        message: e.info().to_string(),
    })?;
    let mut lock = Lockfile {
        kind: Kind::PnpmLock,
        packages: Vec::new(),
        has_graph: true,
    };
    let Some(doc) = docs.first() else {
        return Ok(lock);
    };
    if !doc.data.is_mapping() {
        return Err(ParseError {
            line: to_u32(doc.span.start.line()),
            message: "expected a mapping at the top of pnpm-lock.yaml".into(),
        });
    }
    let major = get(doc, "lockfileVersion")
        .and_then(text_of)
        .and_then(|v| v.split('.').next().and_then(|m| m.parse::<u32>().ok()));
    let style = match major {
        Some(..=5) => Style::V5,
        Some(6..=8) => Style::V6,
        Some(_) => Style::V9,
        None if get(doc, "snapshots").is_some() => Style::V9,
        None => Style::V6,
    };

    let mut groups: Vec<Group> = Vec::new();
    let mut by_key: HashMap<String, usize> = HashMap::new();
    for (key, line, value) in entries(get(doc, "packages")) {
        let base = strip_peers(style, &key).to_string();
        let dev_field = get(value, "dev").and_then(|d| d.data.as_bool()) == Some(true);
        let deps = dependency_refs(value);
        if let Some(&g) = by_key.get(&base) {
            if let Some(group) = groups.get_mut(g) {
                group.dev_field &= dev_field;
                group.deps.extend(deps);
            }
            continue;
        }
        let Some(package) = package_of(style, &base, line, value) else {
            continue;
        };
        by_key.insert(base, groups.len());
        groups.push(Group {
            package,
            deps,
            dev_field,
        });
    }
    // Version 9 keeps the graph apart from the package metadata.
    for (key, _, value) in entries(get(doc, "snapshots")) {
        if let Some(group) = by_key
            .get(strip_peers(style, &key))
            .and_then(|&g| groups.get_mut(g))
        {
            group.deps.extend(dependency_refs(value));
        }
    }

    let resolve = |name: &str, reference: &str| -> Option<usize> {
        by_key.get(&ref_key(style, name, reference)?).copied()
    };
    let edges: Vec<Vec<usize>> = groups
        .iter()
        .map(|g| {
            let mut targets: Vec<usize> =
                g.deps.iter().filter_map(|(n, r)| resolve(n, r)).collect();
            targets.sort_unstable();
            targets.dedup();
            targets
        })
        .collect();

    // The project's own declarations: each importer (workspace folder), or
    // for a single project without `importers`, the top level.
    let mut prod_roots = Vec::new();
    let mut dev_roots = Vec::new();
    let importers: Vec<&MarkedYaml> = match get(doc, "importers") {
        Some(imp) => entries(Some(imp)).map(|(_, _, v)| v).collect(),
        None => vec![doc],
    };
    for importer in importers {
        for (field, dev) in [
            ("dependencies", false),
            ("optionalDependencies", false),
            ("devDependencies", true),
        ] {
            for (name, _, value) in entries(get(importer, field)) {
                // 5.x writes the version; 6.0 and 9.0 `{specifier, version}`.
                let reference = get(value, "version")
                    .and_then(text_of)
                    .or_else(|| text_of(value));
                if let Some(t) = reference.and_then(|r| resolve(&name, &r)) {
                    if dev {
                        dev_roots.push(t);
                    } else {
                        prod_roots.push(t);
                    }
                }
            }
        }
    }

    let reach = |roots: &[usize]| {
        let mut seen = vec![false; groups.len()];
        let mut stack = roots.to_vec();
        while let Some(i) = stack.pop() {
            if let Some(s) = seen.get_mut(i).filter(|s| !**s) {
                *s = true;
                stack.extend(edges.get(i).into_iter().flatten());
            }
        }
        seen
    };
    let mut direct = vec![false; groups.len()];
    for &i in prod_roots.iter().chain(&dev_roots) {
        if let Some(d) = direct.get_mut(i) {
            *d = true;
        }
    }
    let prod = reach(&prod_roots);
    let dev_reachable = reach(&dev_roots);
    for (i, (group, targets)) in groups.into_iter().zip(edges).enumerate() {
        let mut p = group.package;
        p.dependencies = targets;
        p.direct = direct.get(i).copied().unwrap_or(false);
        p.dev = match style {
            Style::V5 | Style::V6 => group.dev_field,
            // Version 9 dropped the `dev` field: dev-only is what only the
            // importers' devDependencies lead to.
            Style::V9 => {
                dev_reachable.get(i).copied().unwrap_or(false)
                    && !prod.get(i).copied().unwrap_or(false)
            }
        };
        lock.packages.push(p);
    }
    Ok(lock)
}

fn package_of(style: Style, base: &str, line: u32, value: &MarkedYaml) -> Option<Package> {
    let from_key = match style {
        Style::V5 => base.strip_prefix('/').unwrap_or(base).rsplit_once('/'),
        Style::V6 => split_descriptor(base.strip_prefix('/').unwrap_or(base)),
        Style::V9 => split_descriptor(base),
    };
    // Git, tarball and local packages are keyed by where they come from
    // (`file:../x` has no name in it); their entry records `name` and `version`.
    let name = get(value, "name")
        .and_then(text_of)
        .or_else(|| from_key.map(|(n, _)| Cow::Borrowed(n)))?;
    let version = get(value, "version")
        .and_then(text_of)
        .or_else(|| from_key.map(|(_, v)| Cow::Borrowed(v)))?;
    if version.is_empty() {
        return None;
    }
    let resolution = get(value, "resolution");
    let field = |f: &str| resolution.and_then(|r| get(r, f)).and_then(text_of);
    let source = if let (Some(repo), Some("git")) = (field("repo"), field("type").as_deref()) {
        Source::Git {
            url: repo.into_owned(),
            rev: field("commit").map(Cow::into_owned),
        }
    } else if let Some(tarball) = field("tarball") {
        npm_source(&name, &tarball)
    } else if let Some(dir) = field("directory") {
        Source::Path(dir.into_owned())
    } else if style != Style::V9 && !base.starts_with('/') {
        // 5.x and 6.0 prefix a package from another registry with its host.
        match base.split_once('/') {
            Some((host, _)) => Source::OtherRegistry(format!("https://{host}/")),
            None => Source::Registry,
        }
    } else {
        Source::Registry
    };
    Some(Package {
        ecosystem: Ecosystem::Npm,
        name: name.into_owned(),
        version: version.into_owned(),
        line,
        source,
        integrity: field("integrity").map(Cow::into_owned),
        direct: false,
        dev: false,
        dependencies: Vec::new(),
    })
}

fn dependency_refs(value: &MarkedYaml) -> Vec<(String, String)> {
    ["dependencies", "optionalDependencies"]
        .into_iter()
        .flat_map(|f| entries(get(value, f)))
        .filter_map(|(name, _, v)| Some((name, text_of(v)?.into_owned())))
        .collect()
}

/// The peer-less key a dependency reference points at: a reference is a
/// version (`1.0.0`, with peers), a whole key (aliases, git), or a `link:`
/// to a workspace folder, which is no package.
fn ref_key(style: Style, name: &str, reference: &str) -> Option<String> {
    if reference.starts_with("link:") {
        return None;
    }
    let reference = strip_peers(style, reference);
    Some(match style {
        Style::V5 if reference.contains('/') => reference.to_string(),
        Style::V5 => format!("/{name}/{reference}"),
        Style::V6 if reference.contains('/') || reference.contains(':') => reference.to_string(),
        Style::V6 => format!("/{name}@{reference}"),
        Style::V9 if !reference.contains(':') && reference.contains('@') => reference.to_string(),
        Style::V9 => format!("{name}@{reference}"),
    })
}

fn strip_peers(style: Style, key: &str) -> &str {
    match style {
        // `/react-dom/18.2.0_react@18.2.0`: peers follow `_` in the last
        // segment (scoped peers write `+` for `/`).
        Style::V5 => {
            let start = key.rfind('/').map_or(0, |i| i + 1);
            match key.get(start..).and_then(|last| last.find('_')) {
                Some(i) => key.get(..start + i).unwrap_or(key),
                None => key,
            }
        }
        Style::V6 | Style::V9 => key.split('(').next().unwrap_or(key),
    }
}

fn get<'a, 'i>(node: &'a MarkedYaml<'i>, key: &str) -> Option<&'a MarkedYaml<'i>> {
    node.data.as_mapping_get(key)
}

/// A mapping's entries as text key, key line and value; nothing for a non-mapping.
fn entries<'a, 'i>(
    node: Option<&'a MarkedYaml<'i>>,
) -> impl Iterator<Item = (String, u32, &'a MarkedYaml<'i>)> {
    node.and_then(|n| n.data.as_mapping())
        .into_iter()
        .flatten()
        .filter_map(|(k, v)| Some((text_of(k)?.into_owned(), to_u32(k.span.start.line()), v)))
}

/// A scalar as text: pnpm's versions and keys may load as numbers (`5.4`).
fn text_of<'a>(node: &'a MarkedYaml<'_>) -> Option<Cow<'a, str>> {
    match &node.data {
        YamlData::Value(Scalar::String(s)) => Some(Cow::Borrowed(s.as_ref())),
        YamlData::Value(Scalar::Integer(i)) => Some(Cow::Owned(i.to_string())),
        YamlData::Value(Scalar::FloatingPoint(f)) => Some(Cow::Owned(f.to_string())),
        YamlData::Value(Scalar::Boolean(b)) => Some(Cow::Owned(b.to_string())),
        YamlData::Representation(s, _, _) => Some(Cow::Borrowed(s.as_ref())),
        _ => None,
    }
}

fn to_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_util::find_version;

    fn names(lock: &Lockfile) -> Vec<String> {
        lock.packages
            .iter()
            .map(|p| format!("{}@{}", p.name, p.version))
            .collect()
    }

    #[test]
    fn v9_packages_and_snapshots() {
        let lock = parse(include_str!("../tests/fixtures/pnpm/v9/pnpm-lock.yaml")).unwrap();
        assert!(lock.has_graph);
        assert_eq!(
            names(&lock),
            [
                "@babel/code-frame@7.23.5",
                "@babel/highlight@7.23.4",
                "bar@1.0.0",
                "js-tokens@4.0.0",
                "left-pad@1.3.0",
                "loose-envify@1.4.0",
                "ms@2.1.2",
                "react-dom@18.2.0",
                "react@18.2.0",
                "typescript@5.3.3",
            ]
        );
        let (_, frame) = find_version(&lock, "@babel/code-frame", "7.23.5");
        assert_eq!(frame.line, 36);
        assert!(frame.direct && !frame.dev);
        assert_eq!(frame.source, Source::Registry);
        assert!(
            frame
                .integrity
                .as_deref()
                .is_some_and(|i| i.starts_with("sha512-v3iCN"))
        );
        let (hl_i, hl) = find_version(&lock, "@babel/highlight", "7.23.4");
        let (tokens_i, _) = find_version(&lock, "js-tokens", "4.0.0");
        assert_eq!(frame.dependencies, vec![hl_i]);
        assert_eq!(hl.dependencies, vec![tokens_i]);
        // Peer variants are one package; the dependency graph comes from snapshots.
        let (react_i, react) = find_version(&lock, "react", "18.2.0");
        let (envify_i, _) = find_version(&lock, "loose-envify", "1.4.0");
        let (_, dom) = find_version(&lock, "react-dom", "18.2.0");
        assert_eq!(dom.dependencies, vec![envify_i, react_i]);
        assert_eq!(react.dependencies, vec![envify_i]);
        assert_eq!(
            lock.packages
                .iter()
                .filter(|p| p.name == "react-dom")
                .count(),
            1
        );
        // An alias `foo: bar@1.0.0` points at bar.
        let (_, bar) = find_version(&lock, "bar", "1.0.0");
        assert!(bar.direct);
        // typescript is only a dev dependency; ms comes through the alias.
        let (_, ts) = find_version(&lock, "typescript", "5.3.3");
        assert!(ts.dev && ts.direct);
        let (_, ms) = find_version(&lock, "ms", "2.1.2");
        assert!(!ms.dev && !ms.direct);
        assert_eq!(
            ms.source,
            Source::OtherRegistry("https://npm.internal.example.com/".into())
        );
        let (_, left_pad) = find_version(&lock, "left-pad", "1.3.0");
        assert_eq!(
            left_pad.source,
            Source::Git {
                url: "https://github.com/stevemao/left-pad".into(),
                rev: Some("5a4a7a8f8dd9b3f5b2cd9ff1a8e3b6c1d6f8a0b2".into()),
            }
        );
        assert!(left_pad.direct);
    }

    #[test]
    fn v6() {
        let lock = parse(include_str!("../tests/fixtures/pnpm/v6/pnpm-lock.yaml")).unwrap();
        assert_eq!(
            names(&lock),
            [
                "@babel/code-frame@7.23.5",
                "@babel/highlight@7.23.4",
                "js-tokens@4.0.0",
                "loose-envify@1.4.0",
                "react-dom@18.2.0",
                "react@18.2.0",
                "typescript@5.3.3",
                "local-utils@0.2.0",
            ]
        );
        let (_, frame) = find_version(&lock, "@babel/code-frame", "7.23.5");
        assert_eq!(frame.line, 25);
        assert!(frame.direct);
        let (_, ts) = find_version(&lock, "typescript", "5.3.3");
        assert!(ts.dev && ts.direct);
        let (react_i, _) = find_version(&lock, "react", "18.2.0");
        let (envify_i, envify) = find_version(&lock, "loose-envify", "1.4.0");
        let (_, dom) = find_version(&lock, "react-dom", "18.2.0");
        assert_eq!(dom.dependencies, vec![envify_i, react_i]);
        assert!(dom.direct && !envify.direct && !envify.dev);
        // A `file:` dependency is keyed by its path and names itself.
        let (_, local) = find_version(&lock, "local-utils", "0.2.0");
        assert_eq!(local.source, Source::Path("../local-utils".into()));
        assert_eq!(local.line, 74);
        assert!(local.direct);
        let (tokens_i, _) = find_version(&lock, "js-tokens", "4.0.0");
        assert_eq!(local.dependencies, vec![tokens_i]);
    }

    #[test]
    fn v5_with_importers() {
        let lock = parse(include_str!("../tests/fixtures/pnpm/v5/pnpm-lock.yaml")).unwrap();
        assert_eq!(
            names(&lock),
            [
                "@babel/code-frame@7.23.5",
                "@babel/highlight@7.23.4",
                "js-tokens@4.0.0",
                "loose-envify@1.4.0",
                "react-dom@18.2.0",
                "react@18.2.0",
                "typescript@5.3.3",
            ]
        );
        let (_, frame) = find_version(&lock, "@babel/code-frame", "7.23.5");
        assert_eq!(frame.line, 26);
        assert!(frame.direct && !frame.dev);
        let (_, ts) = find_version(&lock, "typescript", "5.3.3");
        assert!(ts.dev && ts.direct);
        let (react_i, _) = find_version(&lock, "react", "18.2.0");
        let (envify_i, _) = find_version(&lock, "loose-envify", "1.4.0");
        let (_, dom) = find_version(&lock, "react-dom", "18.2.0");
        assert_eq!(dom.line, 52);
        assert_eq!(dom.dependencies, vec![envify_i, react_i]);
        // The `web` importer names it with its peer suffix.
        assert!(dom.direct && !dom.dev);
        // `ui: link:../ui` is a workspace folder, not a package.
        assert!(!lock.packages.iter().any(|p| p.name == "ui"));
    }

    #[test]
    fn malformed() {
        let err =
            parse("lockfileVersion: '9.0'\npackages:\n  a@1.0.0:\n    resolution: {integrity: x\n")
                .unwrap_err();
        assert_eq!(err.line, 5);
        assert!(parse("- 1\n- 2\n").is_err());
        assert!(parse("").unwrap().packages.is_empty());
        // An entry without a version is skipped.
        let lock = parse("lockfileVersion: '9.0'\npackages:\n  a@:\n    resolution: {integrity: x}\n  b@1.0.0:\n    resolution: {integrity: y}\n").unwrap();
        assert_eq!(names(&lock), ["b@1.0.0"]);
        assert_eq!(lock.packages[0].line, 5);
    }
}

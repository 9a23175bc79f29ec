//! package-lock.json / npm-shrinkwrap.json, lockfile versions 1, 2 and 3.
//!
//! Versions 2 and 3 list every installed folder under `packages`, keyed by
//! its path (`node_modules/a/node_modules/b`); version 1 nests the same tree
//! in `dependencies`. Both are flattened to installed paths so that one
//! resolver walks `node_modules` the way Node does.
//!
//! This file also holds the helpers the other JSON lockfiles and yarn share:
//! line lookup for JSON values and npm source classification.

use std::collections::{HashMap, HashSet};

use serde_json::{Map, Value};

use crate::Ecosystem;
use crate::{Kind, Lockfile, Package, ParseError, Source};

pub fn parse(text: &str) -> Result<Lockfile, ParseError> {
    // Editors on Windows may add a byte-order mark; it is not part of the data.
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let root: Value = serde_json::from_str(text).map_err(json_error)?;
    let Some(obj) = root.as_object() else {
        return Err(ParseError {
            line: 1,
            message: "expected a JSON object".into(),
        });
    };
    // Version 2 carries both layouts for older npm; `packages` is the full one.
    let entries = match obj.get("packages").and_then(Value::as_object) {
        Some(packages) => flatten_packages(text, packages),
        None => flatten_v1(text, obj),
    };
    Ok(build(entries))
}

#[derive(Debug, PartialEq, Eq, Clone, Copy)]
enum Role {
    /// The project itself (`packages[""]`).
    Root,
    /// A workspace folder of the project: not a package, but what it
    /// declares is direct.
    Workspace,
    /// Something installed in a `node_modules` folder.
    Installed,
    /// A folder outside `node_modules` reached through a `file:` link.
    PathDependency,
    /// `node_modules/x` pointing at a folder (`"link": true`).
    Link,
}

struct Entry<'a> {
    /// Installed path, `node_modules/a/node_modules/b` (built from the
    /// nesting for version 1).
    loc: String,
    line: u32,
    role: Role,
    value: &'a Map<String, Value>,
    /// The real package name: for an alias (`"node_modules/foo": {"name": "bar"}`,
    /// version 1 `"version": "npm:bar@1.0.0"`) the aliased package.
    name: String,
    version: Option<String>,
    /// Names this entry needs resolved.
    requires: Vec<String>,
    /// Version 1 has no root entry: its top level is what the project uses.
    top_level_v1: bool,
}

fn flatten_packages<'a>(text: &str, packages: &'a Map<String, Value>) -> Vec<Entry<'a>> {
    let mut order = Vec::new();
    visit_entry_lines(text, 2, |path, line| {
        if let [Seg::Key(top), Seg::Key(key)] = path
            && top == "packages"
        {
            order.push((key.clone(), line));
        }
    });
    let workspaces = packages
        .get("")
        .and_then(Value::as_object)
        .map(workspace_patterns)
        .unwrap_or_default();
    // Names by which links refer to folders, for folders without `name`.
    let mut link_names: HashMap<&str, &str> = HashMap::new();
    for (key, value) in packages {
        if let Some(target) = value
            .get("link")
            .and_then(Value::as_bool)
            .filter(|l| *l)
            .and_then(|_| value.get("resolved"))
            .and_then(Value::as_str)
        {
            link_names.insert(target, name_from_loc(key));
        }
    }

    let mut seen = HashSet::new();
    let mut entries = Vec::new();
    for (key, line) in order {
        if !seen.insert(key.clone()) {
            continue;
        }
        let Some(value) = packages.get(&key).and_then(Value::as_object) else {
            continue;
        };
        let role = if key.is_empty() {
            Role::Root
        } else if value.get("link").and_then(Value::as_bool) == Some(true) {
            Role::Link
        } else if key.starts_with("node_modules/") || key.contains("/node_modules/") {
            Role::Installed
        } else if workspaces.iter().any(|w| glob_match(w, &key)) {
            Role::Workspace
        } else {
            Role::PathDependency
        };
        let declared_name = value.get("name").and_then(Value::as_str);
        let name = match role {
            Role::Installed | Role::Link => declared_name.unwrap_or(name_from_loc(&key)),
            _ => declared_name
                .or_else(|| link_names.get(key.as_str()).copied())
                .unwrap_or_else(|| key.rsplit('/').next().unwrap_or(&key)),
        }
        .to_string();
        let mut fields = vec!["dependencies", "optionalDependencies", "peerDependencies"];
        if matches!(role, Role::Root | Role::Workspace) {
            // Only the project's own manifests have their dev dependencies installed.
            fields.push("devDependencies");
        }
        let requires = fields
            .iter()
            .filter_map(|f| value.get(*f).and_then(Value::as_object))
            .flat_map(|m| m.keys().cloned())
            .collect();
        entries.push(Entry {
            loc: key.clone(),
            line,
            role,
            value,
            name,
            version: value
                .get("version")
                .and_then(Value::as_str)
                .map(str::to_string),
            requires,
            top_level_v1: false,
        });
    }
    entries
}

fn flatten_v1<'a>(text: &str, root: &'a Map<String, Value>) -> Vec<Entry<'a>> {
    // Lines of `"dependencies": {"a": {"dependencies": {"b": …`, by installed path.
    let mut lines = HashMap::new();
    visit_entry_lines(text, usize::MAX, |path, line| {
        if path.len() % 2 != 0 {
            return;
        }
        let mut loc = String::new();
        for pair in path.chunks(2) {
            let [Seg::Key(deps), Seg::Key(name)] = pair else {
                return;
            };
            if deps != "dependencies" {
                return;
            }
            if !loc.is_empty() {
                loc.push('/');
            }
            loc.push_str("node_modules/");
            loc.push_str(name);
        }
        lines.insert(loc, line);
    });
    let mut entries = Vec::new();
    if let Some(deps) = root.get("dependencies").and_then(Value::as_object) {
        flatten_v1_level(deps, "", &lines, &mut entries);
    }
    // serde_json's map is sorted by key; present packages in file order.
    entries.sort_by_key(|e| e.line);
    entries
}

fn flatten_v1_level<'a>(
    deps: &'a Map<String, Value>,
    parent: &str,
    lines: &HashMap<String, u32>,
    out: &mut Vec<Entry<'a>>,
) {
    for (key, value) in deps {
        let Some(value) = value.as_object() else {
            continue;
        };
        let loc = if parent.is_empty() {
            format!("node_modules/{key}")
        } else {
            format!("{parent}/node_modules/{key}")
        };
        let mut name = key.clone();
        let mut version = value
            .get("version")
            .and_then(Value::as_str)
            .map(str::to_string);
        // An alias records the package it stands for in its version.
        if let Some((real, v)) = version
            .as_deref()
            .and_then(|v| v.strip_prefix("npm:"))
            .and_then(split_descriptor)
        {
            name = real.to_string();
            version = Some(v.to_string());
        }
        let requires = value
            .get("requires")
            .and_then(Value::as_object)
            .map(|m| m.keys().cloned().collect())
            .unwrap_or_default();
        out.push(Entry {
            line: lines.get(&loc).copied().unwrap_or(0),
            loc: loc.clone(),
            role: Role::Installed,
            value,
            name,
            version,
            requires,
            top_level_v1: parent.is_empty(),
        });
        if let Some(nested) = value.get("dependencies").and_then(Value::as_object) {
            flatten_v1_level(nested, &loc, lines, out);
        }
    }
}

fn build(entries: Vec<Entry<'_>>) -> Lockfile {
    let by_loc: HashMap<&str, usize> = entries
        .iter()
        .enumerate()
        .map(|(i, e)| (e.loc.as_str(), i))
        .collect();
    let mut out_index = vec![None; entries.len()];
    let mut packages = Vec::new();
    for (i, e) in entries.iter().enumerate() {
        if !matches!(e.role, Role::Installed | Role::PathDependency) {
            continue;
        }
        let Some(version) = &e.version else {
            continue;
        };
        let str_field = |f: &str| e.value.get(f).and_then(Value::as_str);
        let flag = |f: &str| e.value.get(f).and_then(Value::as_bool) == Some(true);
        // Version 1 writes local and git dependencies' specs (`file:../x`,
        // `git+https://…#sha`, `github:u/r#sha`) where the version goes: the
        // spec is the source, and the version is unknown (issue #17: it was
        // reported as the version).
        let spec_source = version
            .strip_prefix("file:")
            .map(|spec| Source::Path(spec.to_string()))
            .or_else(|| git_source(version));
        let version = if spec_source.is_some() {
            String::new()
        } else {
            version.clone()
        };
        let source = if e.role == Role::PathDependency {
            Source::Path(e.loc.clone())
        } else if let Some(resolved) = str_field("resolved") {
            // v1 records the git URL (with the commit) as `resolved` too;
            // only a spec-less entry is a registry or URL download.
            spec_source
                .clone()
                .unwrap_or_else(|| npm_source(&e.name, resolved))
        } else if let Some(spec) = spec_source {
            spec
        } else {
            // Bundled dependencies record no `resolved`: they come inside
            // their parent's tarball.
            Source::Registry
        };
        out_index[i] = Some(packages.len());
        packages.push(Package {
            ecosystem: Ecosystem::Npm,
            name: e.name.clone(),
            version,
            line: e.line,
            source,
            integrity: str_field("integrity").map(str::to_string),
            direct: e.top_level_v1,
            dev: flag("dev") || flag("devOptional"),
            dependencies: Vec::new(),
        });
    }

    for (i, e) in entries.iter().enumerate() {
        let targets: Vec<usize> = e
            .requires
            .iter()
            .filter_map(|dep| resolve(&e.loc, dep, &entries, &by_loc))
            .filter_map(|t| out_index.get(t).copied().flatten())
            .collect();
        if matches!(e.role, Role::Root | Role::Workspace) {
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
    Lockfile {
        kind: Kind::PackageLock,
        packages,
        has_graph: true,
    }
}

/// Node's lookup: `<from>/node_modules/<name>`, then the same in each
/// enclosing `node_modules` folder up to the project root. A link is
/// followed to the folder it points at.
fn resolve(
    from: &str,
    name: &str,
    entries: &[Entry<'_>],
    by_loc: &HashMap<&str, usize>,
) -> Option<usize> {
    let mut base = from;
    loop {
        let candidate = if base.is_empty() {
            format!("node_modules/{name}")
        } else {
            format!("{base}/node_modules/{name}")
        };
        if let Some(&i) = by_loc.get(candidate.as_str()) {
            let entry = entries.get(i)?;
            if entry.role != Role::Link {
                return Some(i);
            }
            let target = entry.value.get("resolved").and_then(Value::as_str)?;
            return by_loc.get(target).copied();
        }
        if base.is_empty() {
            return None;
        }
        base = base
            .rfind("/node_modules/")
            .map_or("", |i| base.get(..i).unwrap_or(""));
    }
}

/// The package name a `node_modules` path installs: what follows the last
/// `node_modules/` (two segments for a scoped package).
fn name_from_loc(loc: &str) -> &str {
    match loc.rfind("node_modules/") {
        Some(i) => loc.get(i + "node_modules/".len()..).unwrap_or(loc),
        None => loc,
    }
}

/// The root's `workspaces`, either a list of globs or `{"packages": [...]}`.
fn workspace_patterns(root: &Map<String, Value>) -> Vec<String> {
    let list = match root.get("workspaces") {
        Some(Value::Array(list)) => Some(list),
        Some(Value::Object(o)) => o.get("packages").and_then(Value::as_array),
        _ => None,
    };
    list.into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(|p| p.trim_start_matches("./").trim_end_matches('/').to_string())
        .collect()
}

/// Path globs as workspaces use them: `*` matches one path segment, `**` any number.
fn glob_match(pattern: &str, path: &str) -> bool {
    fn segments(p: &[&str], s: &[&str]) -> bool {
        match (p.split_first(), s.split_first()) {
            (None, None) => true,
            (Some((&"**", rest)), _) => {
                segments(rest, s) || s.split_first().is_some_and(|(_, tail)| segments(p, tail))
            }
            (Some((pat, prest)), Some((seg, srest))) => {
                segment_match(pat, seg) && segments(prest, srest)
            }
            _ => false,
        }
    }
    fn segment_match(pat: &str, seg: &str) -> bool {
        match pat.split_once('*') {
            None => pat == seg,
            Some((prefix, suffix)) => {
                seg.len() >= prefix.len() + suffix.len()
                    && seg.starts_with(prefix)
                    && seg.ends_with(suffix)
            }
        }
    }
    let p: Vec<&str> = pattern.split('/').collect();
    let s: Vec<&str> = path.split('/').collect();
    segments(&p, &s)
}

/// Splits `name@range` (the name may be scoped: `@scope/name@range`).
pub(super) fn split_descriptor(descriptor: &str) -> Option<(&str, &str)> {
    let at = descriptor.get(1..)?.find('@')? + 1;
    Some((descriptor.get(..at)?, descriptor.get(at + 1..)?))
}

/// Where an npm package was fetched from, given the `resolved` URL or spec.
pub(super) fn npm_source(name: &str, resolved: &str) -> Source {
    if let Some(path) = resolved
        .strip_prefix("file:")
        .or_else(|| resolved.strip_prefix("link:"))
    {
        return Source::Path(path.to_string());
    }
    if let Some(git) = git_source(resolved) {
        return git;
    }
    if resolved.starts_with("https://registry.npmjs.org/")
        || resolved.starts_with("https://registry.yarnpkg.com/")
    {
        return Source::Registry;
    }
    // Kept verbatim: a plain-http download is for the audit to flag.
    if resolved.starts_with("http://") {
        return Source::Url(resolved.to_string());
    }
    // A registry tarball is `<registry>/<name>/-/<file>.tgz`; some registries
    // escape the scope's slash.
    let escaped = [
        name.to_string(),
        name.replace('/', "%2f"),
        name.replace('/', "%2F"),
    ];
    for n in &escaped {
        if let Some(pos) = resolved.find(&format!("/{n}/-/")) {
            return Source::OtherRegistry(resolved.get(..=pos).unwrap_or(resolved).to_string());
        }
    }
    Source::Url(resolved.to_string())
}

/// Recognizes git specs: `git+ssh://…#sha`, `git://…`, `github:user/repo#sha`
/// (and the `gitlab:`/`bitbucket:` shorthands), yarn's
/// `https://github.com/u/r.git#commit=sha` and GitHub tarballs
/// (`https://codeload.github.com/u/r/tar.gz/sha`).
pub(super) fn git_source(spec: &str) -> Option<Source> {
    let (url, fragment) = match spec.split_once('#') {
        Some((u, f)) => (u, Some(f)),
        None => (spec, None),
    };
    let rev_of = |fragment: Option<&str>| {
        let f = fragment?;
        let rev = if f.contains('=') {
            f.split('&').find_map(|kv| kv.strip_prefix("commit="))?
        } else {
            f
        };
        (!rev.is_empty()).then(|| rev.to_string())
    };
    if let Some(rest) = url
        .strip_prefix("codeload.github.com/")
        .or_else(|| url.strip_prefix("https://codeload.github.com/"))
    {
        let mut parts = rest.split('/');
        let (user, repo, _, rev) = (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
        return Some(Source::Git {
            url: format!("https://github.com/{user}/{repo}"),
            rev: Some(rev.to_string()),
        });
    }
    for (short, host) in [
        ("github:", "https://github.com/"),
        ("gitlab:", "https://gitlab.com/"),
        ("bitbucket:", "https://bitbucket.org/"),
    ] {
        if let Some(repo) = url.strip_prefix(short) {
            return Some(Source::Git {
                url: format!("{host}{repo}"),
                rev: rev_of(fragment),
            });
        }
    }
    let url = if let Some(rest) = url.strip_prefix("git+") {
        rest
    } else if url.starts_with("git://")
        || url.starts_with("git@")
        || (url.contains("://") && url.ends_with(".git"))
    {
        url
    } else {
        return None;
    };
    Some(Source::Git {
        url: url.to_string(),
        rev: rev_of(fragment),
    })
}

/// A step in the path from the document root to a JSON value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Seg {
    Key(String),
    Index(usize),
}

/// Calls `visit(path, line)` for every value at most `max_depth` deep, in
/// document order, with the 1-based line where its entry starts: the line of
/// its key in an object, of the value itself in an array.
///
/// serde_json keeps no positions, so this is a single linear pass over text
/// that `serde_json` has already accepted; on anything unexpected it stops.
pub(super) fn visit_entry_lines(text: &str, max_depth: usize, mut visit: impl FnMut(&[Seg], u32)) {
    struct Frame {
        object: bool,
        next_index: usize,
        key: Option<(String, u32)>,
        /// Whether opening this container pushed a segment on `path`.
        pushed: bool,
    }
    let bytes = text.as_bytes();
    let mut stack: Vec<Frame> = Vec::new();
    let mut path: Vec<Seg> = Vec::new();
    let mut line: u32 = 1;
    let mut i = 0;

    // Pushes the segment of a value starting now; returns whether it did.
    let mut start_value = |stack: &mut Vec<Frame>, path: &mut Vec<Seg>, line: u32| -> bool {
        let Some(top) = stack.last_mut() else {
            return false;
        };
        let (seg, at) = if top.object {
            match top.key.take() {
                Some((k, l)) => (Seg::Key(k), l),
                None => return false,
            }
        } else {
            top.next_index += 1;
            (Seg::Index(top.next_index - 1), line)
        };
        path.push(seg);
        if path.len() <= max_depth {
            visit(path, at);
        }
        true
    };

    while let Some(&b) = bytes.get(i) {
        match b {
            b'\n' => line = line.saturating_add(1),
            b'"' => {
                let start = i;
                i += 1;
                while let Some(&c) = bytes.get(i) {
                    match c {
                        b'\\' => i += 2,
                        b'"' => break,
                        _ => i += 1,
                    }
                }
                let Some(raw) = text.get(start..=i) else {
                    return;
                };
                let is_key = stack.last().is_some_and(|f| f.object && f.key.is_none());
                if is_key {
                    let key = if raw.contains('\\') {
                        serde_json::from_str::<String>(raw).unwrap_or_default()
                    } else {
                        raw.get(1..raw.len() - 1).unwrap_or_default().to_string()
                    };
                    if let Some(top) = stack.last_mut() {
                        top.key = Some((key, line));
                    }
                } else if start_value(&mut stack, &mut path, line) {
                    path.pop();
                }
            }
            b'{' | b'[' => {
                let pushed = start_value(&mut stack, &mut path, line);
                stack.push(Frame {
                    object: b == b'{',
                    next_index: 0,
                    key: None,
                    pushed,
                });
            }
            b'}' | b']' => {
                if stack.pop().is_some_and(|f| f.pushed) {
                    path.pop();
                }
            }
            b',' | b':' | b' ' | b'\t' | b'\r' => {}
            _ => {
                // A number or literal: runs to the next delimiter.
                if start_value(&mut stack, &mut path, line) {
                    path.pop();
                }
                while let Some(&c) = bytes.get(i + 1) {
                    if matches!(c, b',' | b'}' | b']' | b' ' | b'\t' | b'\r' | b'\n') {
                        break;
                    }
                    i += 1;
                }
            }
        }
        i += 1;
    }
}

pub(super) fn json_error(e: serde_json::Error) -> ParseError {
    ParseError {
        line: u32::try_from(e.line()).unwrap_or(u32::MAX),
        message: e.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_util::find_version;

    #[test]
    fn entry_lines_follow_keys_and_array_elements() {
        let text = "{\n \"a\": {\n  \"b\\u0031\": 1,\n  \"c\": [\n   {\"d\": true},\n   2\n  ]\n },\n \"e\": \"x\"\n}";
        let mut seen = Vec::new();
        visit_entry_lines(text, 3, |path, line| seen.push((path.to_vec(), line)));
        let k = |s: &str| Seg::Key(s.into());
        assert_eq!(
            seen,
            vec![
                (vec![k("a")], 2),
                (vec![k("a"), k("b1")], 3),
                (vec![k("a"), k("c")], 4),
                (vec![k("a"), k("c"), Seg::Index(0)], 5),
                (vec![k("a"), k("c"), Seg::Index(1)], 6),
                (vec![k("e")], 9),
            ]
        );
    }

    #[test]
    fn v3_workspaces_aliases_nesting_and_sources() {
        let lock = parse(include_str!("../tests/fixtures/npm/v3/package-lock.json")).unwrap();
        assert!(lock.has_graph);
        let names: Vec<_> = lock
            .packages
            .iter()
            .map(|p| format!("{}@{}", p.name, p.version))
            .collect();
        assert_eq!(
            names,
            [
                "local-utils@0.2.0",
                "@babel/code-frame@7.23.5",
                "@babel/highlight@7.23.4",
                "debug@2.6.9",
                "express@4.18.2",
                "debug@4.3.4",
                "ms@2.1.2",
                "left-pad@1.3.0",
                "ms@2.0.0",
                "my-lib@1.0.0",
                "string-width@4.2.3",
                "typescript@5.3.3",
            ]
        );
        // Workspace folders and their links are not packages.
        assert!(
            !lock
                .packages
                .iter()
                .any(|p| p.name == "@acme/ui" || p.name == "app")
        );

        let (_, frame) = find_version(&lock, "@babel/code-frame", "7.23.5");
        assert_eq!(frame.line, 32);
        assert!(frame.direct && !frame.dev);
        assert_eq!(frame.source, Source::Registry);
        assert!(
            frame
                .integrity
                .as_deref()
                .is_some_and(|i| i.starts_with("sha512-v3iCN"))
        );
        let (highlight_i, highlight) = find_version(&lock, "@babel/highlight", "7.23.4");
        assert_eq!(frame.dependencies, vec![highlight_i]);
        assert!(!highlight.direct);

        // debug 2.6.9 at the top for express, debug 4.3.4 nested under express's sibling.
        let (express_i, express) = find_version(&lock, "express", "4.18.2");
        let (debug2_i, debug2) = find_version(&lock, "debug", "2.6.9");
        let (debug4_i, debug4) = find_version(&lock, "debug", "4.3.4");
        let (ms0_i, _) = find_version(&lock, "ms", "2.0.0");
        let (ms1_i, ms1) = find_version(&lock, "ms", "2.1.2");
        assert_eq!(express.dependencies, vec![debug4_i]);
        assert_eq!(debug4.line, 75);
        assert_eq!(debug2.dependencies, vec![ms0_i]);
        // The nested debug finds the nested ms first.
        assert_eq!(debug4.dependencies, vec![ms1_i]);
        assert_eq!(ms1.line, 86);
        assert!(express.direct && !debug2.direct);
        // The chain root → express → debug → ms.
        assert!(lock.packages[express_i].dependencies.contains(&debug4_i));

        // An alias: installed as `string-width-cjs`, the package is string-width.
        let (_, alias) = find_version(&lock, "string-width", "4.2.3");
        assert_eq!(alias.line, 110);
        assert!(alias.direct);

        let (_, left_pad) = find_version(&lock, "left-pad", "1.3.0");
        assert_eq!(
            left_pad.source,
            Source::Git {
                url: "ssh://git@github.com/stevemao/left-pad.git".into(),
                rev: Some("5a4a7a8f8dd9b3f5b2cd9ff1a8e3b6c1d6f8a0b2".into()),
            }
        );
        let (_, local) = find_version(&lock, "local-utils", "0.2.0");
        assert_eq!(local.source, Source::Path("../local-utils".into()));
        assert!(local.direct);
        let (_, lib) = find_version(&lock, "my-lib", "1.0.0");
        assert_eq!(
            lib.source,
            Source::OtherRegistry("https://npm.pkg.github.com/".into())
        );
        // The workspace's own dependency is direct; its dev dependency too.
        let (_, ts) = find_version(&lock, "typescript", "5.3.3");
        assert!(ts.direct && ts.dev);
        assert!(lib.direct && !lib.dev);
        // The path dependency's own dependency resolves to the hoisted debug.
        assert_eq!(local.dependencies, vec![debug2_i]);
        assert_eq!(local.line, 21);
    }

    #[test]
    fn v1_nested_requires() {
        let lock = parse(include_str!("../tests/fixtures/npm/v1/npm-shrinkwrap.json")).unwrap();
        let names: Vec<_> = lock
            .packages
            .iter()
            .map(|p| format!("{}@{}", p.name, p.version))
            .collect();
        assert_eq!(
            names,
            [
                "@types/node@20.10.0",
                "debug@2.6.9",
                "ms@2.0.0",
                // Issue #17: a git dependency's spec is its source, not its version.
                "left-pad@",
                "ms@2.1.3",
                "react@18.2.0",
            ]
        );
        let (_, types) = find_version(&lock, "@types/node", "20.10.0");
        assert_eq!(types.line, 7);
        assert!(types.dev && types.direct);
        let (_, debug) = find_version(&lock, "debug", "2.6.9");
        let (nested_ms, ms0) = find_version(&lock, "ms", "2.0.0");
        assert_eq!(ms0.line, 24);
        assert!(!ms0.direct);
        assert_eq!(debug.dependencies, vec![nested_ms]);
        let (_, react) = find_version(&lock, "react", "18.2.0");
        assert_eq!(react.line, 40);
        // An alias: `preact-compat` is really react.
        assert!(react.direct);
        let left_pad = lock.packages.iter().find(|p| p.name == "left-pad").unwrap();
        assert_eq!(
            left_pad.source,
            Source::Git {
                url: "https://github.com/stevemao/left-pad.git".into(),
                rev: Some("5a4a7a8f8dd9b3f5b2cd9ff1a8e3b6c1d6f8a0b2".into()),
            }
        );
        // A plain-http URL is kept for the audit to flag.
        assert_eq!(
            react.source,
            Source::Url("http://registry.npmjs.org/react/-/react-18.2.0.tgz".into())
        );
    }

    /// Issue #17: git and `file:` dependencies of a v1 lockfile are git and
    /// path sources with no version, not packages versioned by a URL.
    #[test]
    fn v1_git_and_file_specs_are_sources() {
        let lock = parse(include_str!(
            "../tests/fixtures/npm/v1-issue17/package-lock.json"
        ))
        .unwrap();
        let got: Vec<_> = lock
            .packages
            .iter()
            .map(|p| (p.name.as_str(), p.version.as_str(), p.source.clone()))
            .collect();
        assert_eq!(
            got,
            [
                (
                    "is-number",
                    "",
                    Source::Git {
                        url: "https://github.com/jonschlinkert/is-number".into(),
                        rev: Some("98e8ff1da1a89f93d1397a24d7413ed15421c139".into()),
                    }
                ),
                (
                    "left-pad",
                    "",
                    Source::Git {
                        url: "https://github.com/stevemao/left-pad.git".into(),
                        rev: Some("5a4a7a8f8dd9b3f5b2cd9ff1a8e3b6c1d6f8a0b2".into()),
                    }
                ),
                ("local-utils", "", Source::Path("../local-utils".into())),
                ("lodash", "4.17.4", Source::Registry),
            ]
        );
    }

    #[test]
    fn sources() {
        assert_eq!(
            npm_source("x", "https://registry.npmjs.org/x/-/x-1.0.0.tgz"),
            Source::Registry
        );
        assert_eq!(
            npm_source("@s/x", "https://r.example.com/npm/@s%2fx/-/x-1.0.0.tgz"),
            Source::OtherRegistry("https://r.example.com/npm/".into())
        );
        assert_eq!(
            npm_source("x", "https://cdn.example.com/x.tgz"),
            Source::Url("https://cdn.example.com/x.tgz".into())
        );
        assert_eq!(
            npm_source("x", "github:user/x#abc"),
            Source::Git {
                url: "https://github.com/user/x".into(),
                rev: Some("abc".into())
            }
        );
        assert_eq!(split_descriptor("@s/x@^1"), Some(("@s/x", "^1")));
        assert_eq!(split_descriptor("x"), None);
        assert!(glob_match("packages/*", "packages/ui"));
        assert!(!glob_match("packages/*", "packages/ui/sub"));
        assert!(glob_match("apps/**", "apps/a/b"));
    }

    #[test]
    fn malformed() {
        let err = parse("{\n  \"lockfileVersion\": 3,\n  \"packages\": {\n    \"node_modules/a\": {\n      \"version\": \"1.0.0\",\n    }\n  }\n}\n").unwrap_err();
        assert_eq!(err.line, 6);
        assert!(parse("[]").is_err());
        assert!(parse("").is_err());
        // An entry without a version is skipped; the others are kept.
        let lock = parse(
            r#"{"lockfileVersion": 3, "packages": {"": {"dependencies": {"a": "1", "b": "1"}},
            "node_modules/a": {"resolved": "https://registry.npmjs.org/a/-/a-1.0.0.tgz"},
            "node_modules/b": {"version": "1.0.0", "dependencies": {"a": "1"}},
            "node_modules/c": 3}}"#,
        )
        .unwrap();
        assert_eq!(lock.packages.len(), 1);
        assert_eq!(lock.packages[0].line, 3);
        assert!(lock.packages[0].dependencies.is_empty());
    }
}

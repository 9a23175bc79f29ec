//! uv.lock
//!
//! The project itself (and each workspace member) is locked as a package with
//! an `editable` or `virtual` source: those are not dependencies and are left
//! out, but what they depend on is direct. Packages reachable only through the
//! roots' `dev-dependencies` are dev.

use std::collections::{BTreeMap, HashMap, VecDeque};

use serde::Deserialize;

use crate::Ecosystem;
use crate::poetry_lock::{header_lines, is_pypi, toml_error};
use crate::{Kind, Lockfile, Package, ParseError, Source};

#[derive(Deserialize)]
struct RawLock {
    #[serde(default)]
    package: Vec<RawPackage>,
}

#[derive(Deserialize)]
struct RawPackage {
    name: Option<String>,
    version: Option<String>,
    source: Option<RawSource>,
    #[serde(default)]
    dependencies: Vec<RawDependency>,
    #[serde(default, rename = "optional-dependencies")]
    optional_dependencies: BTreeMap<String, Vec<RawDependency>>,
    #[serde(default, rename = "dev-dependencies")]
    dev_dependencies: BTreeMap<String, Vec<RawDependency>>,
    sdist: Option<RawArtifact>,
    #[serde(default)]
    wheels: Vec<RawArtifact>,
}

#[derive(Deserialize, Default)]
struct RawSource {
    registry: Option<String>,
    git: Option<String>,
    url: Option<String>,
    path: Option<String>,
    directory: Option<String>,
    editable: Option<String>,
    #[serde(rename = "virtual")]
    virtual_: Option<String>,
}

#[derive(Deserialize)]
struct RawDependency {
    name: String,
    /// Present when the lock holds several versions of the name.
    version: Option<String>,
}

#[derive(Deserialize)]
struct RawArtifact {
    hash: Option<String>,
}

pub fn parse(text: &str) -> Result<Lockfile, ParseError> {
    let raw: RawLock = toml::from_str(text).map_err(|e| toml_error(text, &e))?;
    let lines = header_lines(text, "[[package]]", raw.package.len());

    // Index in `packages` of each raw entry kept; roots and unversioned
    // entries have none.
    let mut kept: Vec<Option<usize>> = Vec::with_capacity(raw.package.len());
    let mut packages = Vec::new();
    let mut roots = Vec::new();
    for (i, (raw, line)) in raw.package.iter().zip(lines).enumerate() {
        let src = raw.source.as_ref();
        if src.is_some_and(|s| s.editable.is_some() || s.virtual_.is_some()) {
            roots.push(i);
            kept.push(None);
            continue;
        }
        let (Some(name), Some(version)) = (&raw.name, &raw.version) else {
            kept.push(None);
            continue;
        };
        let integrity = raw
            .sdist
            .iter()
            .chain(&raw.wheels)
            .find_map(|a| a.hash.clone());
        kept.push(Some(packages.len()));
        packages.push(Package {
            ecosystem: Ecosystem::PyPI,
            name: name.clone(),
            version: version.clone(),
            line,
            source: source(src),
            integrity,
            direct: false,
            dev: false,
            dependencies: Vec::new(),
        });
    }

    let mut by_name: HashMap<String, Vec<usize>> = HashMap::new();
    for (i, raw) in raw.package.iter().enumerate() {
        if let Some(name) = &raw.name {
            by_name
                .entry(Ecosystem::PyPI.normalize_name(name))
                .or_default()
                .push(i);
        }
    }
    // Raw entries a dependency list points to, by name and, when given, version.
    let entries = &raw.package;
    let resolve = |deps: &[RawDependency]| -> Vec<usize> {
        deps.iter()
            .flat_map(|d| {
                let candidates = by_name.get(&Ecosystem::PyPI.normalize_name(&d.name));
                candidates.into_iter().flatten().copied().filter(move |&c| {
                    d.version.is_none()
                        || entries.get(c).and_then(|p| p.version.as_ref()) == d.version.as_ref()
                })
            })
            .collect()
    };
    let kept_of = |raw_indices: Vec<usize>| -> Vec<usize> {
        let mut out: Vec<usize> = raw_indices
            .into_iter()
            .filter_map(|r| kept.get(r).copied().flatten())
            .collect();
        out.sort_unstable();
        out.dedup();
        out
    };

    for (raw, index) in raw.package.iter().zip(&kept) {
        let Some(package) = index.and_then(|i| packages.get_mut(i)) else {
            continue;
        };
        let all = raw
            .optional_dependencies
            .values()
            .chain(raw.dev_dependencies.values())
            .flat_map(|deps| resolve(deps))
            .chain(resolve(&raw.dependencies))
            .collect();
        package.dependencies = kept_of(all);
    }

    let mut main_roots = Vec::new();
    let mut dev_roots = Vec::new();
    for root in roots.iter().filter_map(|&r| raw.package.get(r)) {
        main_roots.extend(resolve(&root.dependencies));
        main_roots.extend(root.optional_dependencies.values().flat_map(|d| resolve(d)));
        dev_roots.extend(root.dev_dependencies.values().flat_map(|d| resolve(d)));
    }
    let (main_roots, dev_roots) = (kept_of(main_roots), kept_of(dev_roots));
    let main = reachable(&packages, &main_roots);
    let dev = reachable(&packages, &dev_roots);
    for (i, package) in packages.iter_mut().enumerate() {
        package.direct = main_roots.contains(&i) || dev_roots.contains(&i);
        package.dev =
            dev.get(i).copied().unwrap_or(false) && !main.get(i).copied().unwrap_or(false);
    }

    Ok(Lockfile {
        kind: Kind::UvLock,
        packages,
        has_graph: true,
    })
}

fn reachable(packages: &[Package], from: &[usize]) -> Vec<bool> {
    let mut seen = vec![false; packages.len()];
    let mut queue: VecDeque<usize> = from.iter().copied().collect();
    while let Some(i) = queue.pop_front() {
        match seen.get_mut(i) {
            Some(s) if !*s => *s = true,
            _ => continue,
        }
        if let Some(p) = packages.get(i) {
            queue.extend(&p.dependencies);
        }
    }
    seen
}

fn source(raw: Option<&RawSource>) -> Source {
    let Some(raw) = raw else {
        return Source::Registry;
    };
    if let Some(git) = &raw.git {
        // `https://github.com/o/r?rev=v1#<commit>`: the fragment is the
        // resolved commit; the query only says what was asked for.
        let (base, commit) = match git.split_once('#') {
            Some((base, commit)) => (base, Some(commit.to_string())),
            None => (git.as_str(), None),
        };
        let (url, query) = base.split_once('?').unwrap_or((base, ""));
        let asked = query
            .split('&')
            .find_map(|kv| {
                kv.split_once('=')
                    .filter(|(k, _)| matches!(*k, "rev" | "tag" | "branch"))
            })
            .map(|(_, v)| v.to_string());
        return Source::Git {
            url: url.to_string(),
            rev: commit.or(asked),
        };
    }
    if let Some(url) = &raw.url {
        return Source::Url(url.clone());
    }
    if let Some(path) = raw.path.as_ref().or(raw.directory.as_ref()) {
        return Source::Path(path.clone());
    }
    match &raw.registry {
        Some(url) if !is_pypi(url) => Source::OtherRegistry(url.clone()),
        _ => Source::Registry,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_util::{dep_names, find};

    #[test]
    fn project_lock() {
        let lock = parse(include_str!("../tests/fixtures/uv/uv.lock")).unwrap();
        assert_eq!(lock.kind, Kind::UvLock);
        assert!(lock.has_graph);
        let got: Vec<_> = lock
            .packages
            .iter()
            .map(|p| (p.name.as_str(), p.version.as_str(), p.line, p.direct, p.dev))
            .collect();
        // The editable project `demo` is not a package.
        assert_eq!(
            got,
            [
                ("anyio", "4.8.0", 5, true, false),
                ("httpx", "0.27.2", 48, true, false),
                ("idna", "3.10", 58, false, false),
                ("iniconfig", "2.0.0", 67, false, true),
                ("pytest", "8.3.4", 75, true, true),
                // Reached from dev (pytest) and main (anyio): not dev.
                ("sniffio", "1.3.1", 85, false, false),
                // An optional dependency of the project is a direct one.
                ("socksio", "1.0.0", 91, true, false),
            ]
        );
        assert_eq!(
            find(&lock, "anyio").integrity.as_deref(),
            Some("sha256:1d9fe889df5212298c0c0723fa20479d1b94883a2df44bd3897aa91083316f7a")
        );
        // Only wheels: the wheel's hash.
        assert_eq!(
            find(&lock, "iniconfig").integrity.as_deref(),
            Some("sha256:b6a85871a79d2e3b22d2d1b94ac2824226a63c6b741c88f7ae975f18b6778374")
        );
        assert_eq!(find(&lock, "httpx").integrity, None);
        assert_eq!(
            find(&lock, "httpx").source,
            Source::Git {
                url: "https://github.com/encode/httpx".into(),
                rev: Some("6f6fb7b6f8a9a6a5ee3c3d0a5b4a0e1f6a4c1a2b".into())
            }
        );
        assert_eq!(
            find(&lock, "socksio").source,
            Source::OtherRegistry("https://pypi.internal.example.com/simple".into())
        );
        assert_eq!(find(&lock, "idna").source, Source::Registry);
        assert_eq!(dep_names(&lock, "httpx"), ["anyio", "idna", "sniffio"]);
        assert_eq!(dep_names(&lock, "pytest"), ["iniconfig", "sniffio"]);
        assert!(find(&lock, "idna").dependencies.is_empty());
    }

    #[test]
    fn virtual_workspace_and_versioned_dependencies() {
        let text = r#"version = 1
requires-python = ">=3.10"

[manifest]
members = ["app", "lib"]

[[package]]
name = "app"
version = "0.1.0"
source = { virtual = "." }
dependencies = [
    { name = "lib" },
    { name = "numpy", version = "2.2.1", source = { registry = "https://pypi.org/simple" }, marker = "python_full_version >= '3.11'" },
]

[[package]]
name = "lib"
version = "0.2.0"
source = { editable = "packages/lib" }
dependencies = [{ name = "six" }]

[[package]]
name = "numpy"
version = "2.1.3"
source = { registry = "https://pypi.org/simple" }

[[package]]
name = "numpy"
version = "2.2.1"
source = { registry = "https://pypi.org/simple" }

[[package]]
name = "six"
version = "1.17.0"
source = { registry = "https://pypi.org/simple" }

[[package]]
name = "local"
version = "1.0"
source = { directory = "vendor/local" }
"#;
        let lock = parse(text).unwrap();
        let got: Vec<_> = lock
            .packages
            .iter()
            .map(|p| (p.version.as_str(), p.line, p.direct))
            .collect();
        // The version on the dependency picks one numpy; a member's
        // dependencies are direct too.
        assert_eq!(
            got,
            [
                ("2.1.3", 22, false),
                ("2.2.1", 27, true),
                ("1.17.0", 32, true),
                ("1.0", 37, false)
            ]
        );
        assert_eq!(lock.packages[3].source, Source::Path("vendor/local".into()));
    }

    #[test]
    fn malformed_lock_reports_its_line() {
        let err = parse("version = 1\n\n[[package]]\nname = \"a\"\nsource = { registry = }\n")
            .unwrap_err();
        assert_eq!(err.line, 5);
        let err = parse(
            "[[package]]\nname = \"a\"\nversion = \"1\"\ndependencies = [{ version = \"1\" }]\n",
        )
        .unwrap_err();
        assert_eq!(err.line, 4);
    }
}

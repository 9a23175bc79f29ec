//! composer.lock: `packages` and `packages-dev`.
//!
//! A package's line is that of the `{` opening its object in the array.
//! The lockfile does not say which packages composer.json requires, so none
//! is marked direct.

use std::collections::HashMap;

use serde_json::{Map, Value};

use crate::Ecosystem;
use crate::package_lock::{Seg, json_error, visit_entry_lines};
use crate::{Kind, Lockfile, Package, ParseError, Source};

/// Hosts Packagist points `dist` at for packages it serves.
const PACKAGIST_DIST_HOSTS: [&str; 5] = [
    "https://api.github.com/",
    "https://codeload.github.com/",
    "https://github.com/",
    "https://repo.packagist.org/",
    "https://packagist.org/",
];

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
    let mut lines: HashMap<(bool, usize), u32> = HashMap::new();
    visit_entry_lines(text, 2, |path, line| {
        if let [Seg::Key(section), Seg::Index(i)] = path {
            match section.as_str() {
                "packages" => lines.insert((false, *i), line),
                "packages-dev" => lines.insert((true, *i), line),
                _ => None,
            };
        }
    });

    // Objects kept alongside the packages, to resolve `require` afterwards.
    let mut raw: Vec<&Map<String, Value>> = Vec::new();
    let mut packages = Vec::new();
    for (dev, section) in [(false, "packages"), (true, "packages-dev")] {
        let list = obj.get(section).and_then(Value::as_array);
        for (i, value) in list.into_iter().flatten().enumerate() {
            let Some(p) = value.as_object() else {
                continue;
            };
            let str_field = |f: &str| p.get(f).and_then(Value::as_str);
            let (Some(name), Some(version)) = (str_field("name"), str_field("version")) else {
                continue;
            };
            let dist = p.get("dist").and_then(Value::as_object);
            let integrity = dist
                .and_then(|d| d.get("shasum"))
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
                .map(str::to_string);
            raw.push(p);
            packages.push(Package {
                ecosystem: Ecosystem::Packagist,
                name: name.to_string(),
                version: version.to_string(),
                line: lines.get(&(dev, i)).copied().unwrap_or(0),
                source: source_of(p),
                integrity,
                direct: false,
                dev,
                dependencies: Vec::new(),
            });
        }
    }

    // Names are case-insensitive in Composer; a requirement may also be met
    // by a package that `provide`s or `replace`s it (`psr/log-implementation`).
    let mut by_name: HashMap<String, usize> = HashMap::new();
    for (i, p) in raw.iter().enumerate() {
        for field in ["provide", "replace"] {
            for name in p
                .get(field)
                .and_then(Value::as_object)
                .into_iter()
                .flat_map(|m| m.keys())
            {
                by_name.entry(name.to_lowercase()).or_insert(i);
            }
        }
    }
    for (i, p) in packages.iter().enumerate() {
        by_name.insert(p.name.to_lowercase(), i);
    }
    for (i, p) in raw.iter().enumerate() {
        // Platform requirements (`php`, `ext-json`) match no package.
        let targets: Vec<usize> = p
            .get("require")
            .and_then(Value::as_object)
            .into_iter()
            .flat_map(|m| m.keys())
            .filter_map(|name| by_name.get(&name.to_lowercase()).copied())
            .filter(|&t| t != i)
            .collect();
        if let Some(pkg) = packages.get_mut(i) {
            pkg.dependencies = targets;
        }
    }
    Ok(Lockfile {
        kind: Kind::ComposerLock,
        packages,
        has_graph: true,
    })
}

fn source_of(p: &Map<String, Value>) -> Source {
    let field = |obj: &str, f: &str| {
        p.get(obj)
            .and_then(|o| o.get(f))
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
    };
    if field("dist", "type") == Some("path") {
        return Source::Path(field("dist", "url").unwrap_or_default().to_string());
    }
    let from_packagist = p
        .get("notification-url")
        .and_then(Value::as_str)
        .is_some_and(|u| u.starts_with("https://packagist.org/"));
    match field("dist", "url") {
        // Kept verbatim: a plain-http download is for the audit to flag.
        Some(url) if url.starts_with("http://") => Source::Url(url.to_string()),
        Some(url) if from_packagist || PACKAGIST_DIST_HOSTS.iter().any(|h| url.starts_with(h)) => {
            Source::Registry
        }
        // Served by another Composer repository (Private Packagist, Satis…).
        Some(url) => Source::OtherRegistry(origin(url).to_string()),
        None if field("source", "type") == Some("git") => Source::Git {
            url: field("source", "url").unwrap_or_default().to_string(),
            rev: field("source", "reference").map(str::to_string),
        },
        None => Source::Registry,
    }
}

/// `https://host/path` → `https://host/`.
fn origin(url: &str) -> &str {
    let after_scheme = url.find("://").map_or(0, |i| i + 3);
    match url.get(after_scheme..).and_then(|rest| rest.find('/')) {
        Some(i) => url.get(..=after_scheme + i).unwrap_or(url),
        None => url,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packages_and_dev_packages() {
        let lock = parse(include_str!("../tests/fixtures/composer/composer.lock")).unwrap();
        assert!(lock.has_graph);
        let summary: Vec<_> = lock
            .packages
            .iter()
            .map(|p| (p.name.as_str(), p.version.as_str(), p.line, p.dev))
            .collect();
        assert_eq!(
            summary,
            [
                ("acme/internal-sdk", "1.4.0", 9, false),
                ("acme/local-module", "dev-main", 29, false),
                ("acme/patched-lib", "dev-fix-xss", 42, false),
                ("monolog/monolog", "2.9.2", 57, false),
                ("psr/log", "3.0.0", 92, false),
                ("phpunit/php-timer", "6.0.0", 128, true),
            ]
        );
        assert!(lock.packages.iter().all(|p| !p.direct));
        let by_name = |n: &str| {
            lock.packages
                .iter()
                .position(|p| p.name == n)
                .unwrap_or_else(|| panic!("{n}"))
        };
        let monolog = &lock.packages[by_name("monolog/monolog")];
        assert_eq!(monolog.source, Source::Registry);
        assert_eq!(monolog.integrity, None);
        // monolog → psr/log; `php` and `ext-json` are not packages.
        assert_eq!(monolog.dependencies, vec![by_name("psr/log")]);
        // The SDK needs a PSR-3 implementation, which monolog provides.
        let sdk = &lock.packages[by_name("acme/internal-sdk")];
        assert_eq!(sdk.dependencies, vec![by_name("monolog/monolog")]);
        assert_eq!(
            sdk.source,
            Source::OtherRegistry("https://repo.acme-corp.example/".into())
        );
        assert_eq!(
            sdk.integrity.as_deref(),
            Some("d4e6b1f0b5c2a6e3f8d9c7b1a2e4f6d8c0b2a4e6")
        );
        assert_eq!(
            lock.packages[by_name("acme/local-module")].source,
            Source::Path("../modules/local-module".into())
        );
        assert_eq!(
            lock.packages[by_name("acme/patched-lib")].source,
            Source::Git {
                url: "https://git.acme-corp.example/php/patched-lib.git".into(),
                rev: Some("9a3f2e1d0c4b5a6978877665544332211a0b0c0d".into()),
            }
        );
        assert_eq!(
            lock.packages[by_name("phpunit/php-timer")].source,
            Source::Url("http://mirror.example.org/phpunit/php-timer/6.0.0.zip".into())
        );
    }

    #[test]
    fn malformed() {
        let err = parse("{\n  \"packages\": [\n    {\"name\": \"a/b\",}\n  ]\n}").unwrap_err();
        assert_eq!(err.line, 3);
        assert!(parse("\"x\"").is_err());
        let lock = parse(
            "{\"packages\": [{\"name\": \"a/b\"}, 3, {\"name\": \"c/d\", \"version\": \"1.0.0\"}]}",
        )
        .unwrap();
        assert_eq!(lock.packages.len(), 1);
        assert_eq!(lock.packages[0].name, "c/d");
        assert_eq!(lock.packages[0].line, 1);
    }
}

//! packages.lock.json (NuGet), versions 1 and 2.
//!
//! Packages are listed once per target framework (and runtime); one package
//! version is reported once, at its first entry's line (the line of its key),
//! direct if any framework lists it as `Direct`. Dependencies are resolved
//! by name within the framework that lists them, as NuGet does.

use std::collections::HashMap;

use serde_json::Value;

use crate::Ecosystem;
use crate::package_lock::{Seg, json_error, visit_entry_lines};
use crate::{Kind, Lockfile, Package, ParseError, Source};

pub fn parse(text: &str) -> Result<Lockfile, ParseError> {
    // Editors on Windows may add a byte-order mark; it is not part of the data.
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let root: Value = serde_json::from_str(text).map_err(json_error)?;
    let Some(frameworks) = root.as_object() else {
        return Err(ParseError {
            line: 1,
            message: "expected a JSON object".into(),
        });
    };
    let frameworks = frameworks.get("dependencies").and_then(Value::as_object);

    // (framework, package key) in file order, with the key's line.
    let mut order: Vec<(String, String, u32)> = Vec::new();
    visit_entry_lines(text, 3, |path, line| {
        if let [Seg::Key(top), Seg::Key(framework), Seg::Key(name)] = path
            && top == "dependencies"
        {
            order.push((framework.clone(), name.clone(), line));
        }
    });

    let mut packages: Vec<Package> = Vec::new();
    let mut by_version: HashMap<(String, String), usize> = HashMap::new();
    // Per framework: lower-cased name → package index, and what each entry requires.
    let mut by_framework: HashMap<&str, HashMap<String, usize>> = HashMap::new();
    let mut requires: Vec<(String, usize, Vec<String>)> = Vec::new();
    for (framework, key, line) in &order {
        let Some(entry) = frameworks
            .and_then(|f| f.get(framework))
            .and_then(|f| f.get(key))
            .and_then(Value::as_object)
        else {
            continue;
        };
        let str_field = |f: &str| entry.get(f).and_then(Value::as_str);
        // `Project` entries are other projects of the solution, not packages.
        let (Some(kind), Some(version)) = (str_field("type"), str_field("resolved")) else {
            continue;
        };
        if kind == "Project" {
            continue;
        }
        let id = (key.to_lowercase(), version.to_string());
        let index = *by_version.entry(id).or_insert_with(|| {
            packages.push(Package {
                ecosystem: Ecosystem::NuGet,
                name: key.clone(),
                version: version.to_string(),
                line: *line,
                // The lockfile does not record the feed; nuget.org is the default.
                source: Source::Registry,
                integrity: str_field("contentHash").map(str::to_string),
                direct: false,
                dev: false,
                dependencies: Vec::new(),
            });
            packages.len() - 1
        });
        if let Some(p) = packages.get_mut(index) {
            p.direct |= kind == "Direct";
        }
        by_framework
            .entry(framework.as_str())
            .or_default()
            .insert(key.to_lowercase(), index);
        let deps = entry
            .get("dependencies")
            .and_then(Value::as_object)
            .map(|d| d.keys().cloned().collect())
            .unwrap_or_default();
        requires.push((framework.clone(), index, deps));
    }

    for (framework, from, deps) in requires {
        let Some(names) = by_framework.get(framework.as_str()) else {
            continue;
        };
        let Some(p) = packages.get_mut(from) else {
            continue;
        };
        for dep in deps {
            if let Some(&t) = names.get(&dep.to_lowercase())
                && !p.dependencies.contains(&t)
            {
                p.dependencies.push(t);
            }
        }
    }
    Ok(Lockfile {
        kind: Kind::NugetLock,
        packages,
        has_graph: true,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn direct_transitive_and_frameworks() {
        let lock = parse(include_str!("../tests/fixtures/nuget/packages.lock.json")).unwrap();
        assert!(lock.has_graph);
        let summary: Vec<_> = lock
            .packages
            .iter()
            .map(|p| (p.name.as_str(), p.version.as_str(), p.line, p.direct))
            .collect();
        assert_eq!(
            summary,
            [
                ("Microsoft.Extensions.Logging", "8.0.0", 5, true),
                ("Newtonsoft.Json", "13.0.3", 17, true),
                (
                    "Microsoft.Extensions.DependencyInjection.Abstractions",
                    "8.0.0",
                    23,
                    false
                ),
                (
                    "Microsoft.Extensions.Logging.Abstractions",
                    "8.0.0",
                    28,
                    false
                ),
                ("System.Text.Json", "8.0.4", 36, false),
                ("Newtonsoft.Json", "12.0.1", 58, true),
            ]
        );
        let logging = &lock.packages[0];
        assert_eq!(logging.source, Source::Registry);
        assert_eq!(
            logging.integrity.as_deref(),
            Some(
                "tvRkov9tAJ3xP51LCv3FJ2zINmv1P8Hi8lhhtcKGqM+ImiTCC84uOPEI4z8Cdq2C3o9e+Aa0Gw0rmrsJD77W+w=="
            )
        );
        // Logging → Logging.Abstractions → DependencyInjection.Abstractions.
        assert_eq!(logging.dependencies, vec![2, 3]);
        assert_eq!(lock.packages[3].dependencies, vec![2]);
        // The same versions under net6.0 and the runtime section are merged;
        // Newtonsoft.Json 12.0.1 of net6.0 is another package.
        assert_eq!(lock.packages.len(), 6);
        // The project reference is not a package.
        assert!(!lock.packages.iter().any(|p| p.name == "acme.core"));
    }

    #[test]
    fn malformed() {
        let err = parse("{\n  \"version\": 1,\n  \"dependencies\": {\n    \"net8.0\": {\n      \"A\": {\"type\": \"Direct\",, }\n").unwrap_err();
        assert_eq!(err.line, 5);
        assert!(parse("[1]").is_err());
        let lock = parse(
            "{\"version\": 1, \"dependencies\": {\"net8.0\": {\n\"A\": {\"type\": \"Direct\"},\n\"B\": {\"type\": \"Transitive\", \"resolved\": \"1.0.0\"}}}}",
        )
        .unwrap();
        assert_eq!(lock.packages.len(), 1);
        assert_eq!(lock.packages[0].name, "B");
        assert_eq!(lock.packages[0].line, 3);
        // A byte-order mark is tolerated.
        let lock = parse("\u{feff}{\"version\": 1, \"dependencies\": {\"net8.0\": {\n\"B\": {\"type\": \"Direct\", \"resolved\": \"1.0.0\"}}}}").unwrap();
        assert_eq!(lock.packages[0].line, 2);
        assert!(lock.packages[0].direct);
    }
}

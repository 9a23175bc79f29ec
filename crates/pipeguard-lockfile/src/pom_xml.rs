//! pom.xml (Maven), read as a manifest: the dependencies it declares, with
//! versions as far as this file alone can pin them.
//!
//! `<dependencyManagement>` entries are not packages, but fill in the version
//! and scope of declared dependencies that omit them, as Maven does. Versions
//! go through `${…}` interpolation from `<properties>` and the project's own
//! coordinates; a version that stays unresolved (a property of the parent or
//! an imported BOM) or is a range is skipped: guessing would report the wrong
//! version. Dependencies of `<profiles>` are included (a profile may be active
//! in CI); those of build plugins are not, being tools rather than the
//! project's own code.

use std::collections::{HashMap, HashSet};

use roxmltree::{Document, Node};

use crate::Ecosystem;
use crate::{Kind, Lockfile, Package, ParseError, Source};

pub fn parse(text: &str) -> Result<Lockfile, ParseError> {
    let doc = Document::parse(text).map_err(|e| ParseError {
        line: e.pos().row,
        message: e.to_string(),
    })?;
    let project = doc.root_element();
    if project.tag_name().name() != "project" {
        return Err(ParseError {
            line: doc.text_pos_at(project.range().start).row,
            message: format!(
                "expected a <project> root element, found <{}>",
                project.tag_name().name()
            ),
        });
    }
    let props = Properties::of(project);

    // groupId:artifactId → (version, scope) from <dependencyManagement>.
    let mut managed: HashMap<String, (Option<String>, Option<String>)> = HashMap::new();
    for dep in dependencies(child(project, "dependencyManagement")) {
        let Some(name) = coordinates(dep, &props) else {
            continue;
        };
        managed
            .entry(name)
            .or_insert((child_text(dep, "version"), child_text(dep, "scope")));
    }

    let profiles = child(project, "profiles")
        .into_iter()
        .flat_map(|p| p.children().filter(|c| c.has_tag_name_local("profile")));
    let declared = dependencies(Some(project)).chain(profiles.flat_map(|p| dependencies(Some(p))));

    let mut packages = Vec::new();
    for dep in declared {
        let Some(name) = coordinates(dep, &props) else {
            continue;
        };
        let managed = managed.get(&name);
        let version = child_text(dep, "version").or_else(|| managed.and_then(|m| m.0.clone()));
        let Some(version) = version.and_then(|v| props.interpolate(&v)) else {
            continue;
        };
        if !is_pinned(&version) {
            continue;
        }
        let scope = child_text(dep, "scope").or_else(|| managed.and_then(|m| m.1.clone()));
        packages.push(Package {
            ecosystem: Ecosystem::Maven,
            name,
            version,
            line: doc.text_pos_at(dep.range().start).row,
            source: Source::Registry,
            integrity: None,
            direct: true,
            dev: scope.as_deref() == Some("test"),
            dependencies: Vec::new(),
        });
    }

    Ok(Lockfile {
        kind: Kind::PomXml,
        packages,
        has_graph: false,
    })
}

/// Matching by local name, so that poms with and without the Maven namespace
/// read the same.
trait LocalName {
    fn has_tag_name_local(&self, name: &str) -> bool;
}

impl LocalName for Node<'_, '_> {
    fn has_tag_name_local(&self, name: &str) -> bool {
        self.is_element() && self.tag_name().name() == name
    }
}

fn child<'a, 'input>(node: Node<'a, 'input>, name: &str) -> Option<Node<'a, 'input>> {
    node.children().find(|c| c.has_tag_name_local(name))
}

fn child_text(node: Node, name: &str) -> Option<String> {
    child(node, name)
        .and_then(|c| c.text())
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_string)
}

/// The `<dependency>` elements of `<dependencies>` under `node`.
fn dependencies<'a, 'input>(
    node: Option<Node<'a, 'input>>,
) -> impl Iterator<Item = Node<'a, 'input>> {
    node.and_then(|n| child(n, "dependencies"))
        .into_iter()
        .flat_map(|deps| {
            deps.children()
                .filter(|c| c.has_tag_name_local("dependency"))
        })
}

/// `groupId:artifactId`, interpolated; `None` when either is missing or
/// unresolved.
fn coordinates(dep: Node, props: &Properties) -> Option<String> {
    let group = props.interpolate(&child_text(dep, "groupId")?)?;
    let artifact = props.interpolate(&child_text(dep, "artifactId")?)?;
    Some(format!("{group}:{artifact}"))
}

/// A single version, not a range (`[1.0,2.0)`, `(,1.0]`, `[1.5]`) nor a
/// metaversion that Maven resolves at build time.
fn is_pinned(version: &str) -> bool {
    !version.starts_with(['[', '('])
        && !version.contains(',')
        && !matches!(version, "LATEST" | "RELEASE")
}

struct Properties {
    values: HashMap<String, String>,
}

impl Properties {
    fn of(project: Node) -> Properties {
        let mut values = HashMap::new();
        if let Some(props) = child(project, "properties") {
            for prop in props.children().filter(Node::is_element) {
                let value = prop.text().map(str::trim).unwrap_or_default();
                values.insert(prop.tag_name().name().to_string(), value.to_string());
            }
        }
        let parent = child(project, "parent");
        let parent_group = parent.and_then(|p| child_text(p, "groupId"));
        let parent_version = parent.and_then(|p| child_text(p, "version"));
        // A project inherits groupId and version from its parent when it
        // does not set them.
        let group = child_text(project, "groupId").or_else(|| parent_group.clone());
        let version = child_text(project, "version").or_else(|| parent_version.clone());
        let builtins = [
            ("project.groupId", group.clone()),
            ("pom.groupId", group),
            ("project.artifactId", child_text(project, "artifactId")),
            ("project.version", version.clone()),
            ("pom.version", version.clone()),
            ("version", version),
            ("project.parent.groupId", parent_group),
            ("project.parent.version", parent_version),
        ];
        for (key, value) in builtins {
            if let Some(value) = value {
                // A property of the same name in <properties> wins only for
                // the bare legacy `version`; project.* always mean the model.
                if key == "version" {
                    values.entry(key.to_string()).or_insert(value);
                } else {
                    values.insert(key.to_string(), value);
                }
            }
        }
        Properties { values }
    }

    /// Replaces every `${name}`; `None` if one cannot be resolved, including
    /// properties that refer to each other in a cycle.
    fn interpolate(&self, text: &str) -> Option<String> {
        self.expand(text, &mut HashSet::new())
    }

    fn expand(&self, text: &str, visiting: &mut HashSet<String>) -> Option<String> {
        let mut out = String::with_capacity(text.len());
        let mut rest = text;
        while let Some(start) = rest.find("${") {
            let (before, after) = rest.split_at(start);
            out.push_str(before);
            let after = after.get(2..)?;
            let end = after.find('}')?;
            let (name, tail) = after.split_at(end);
            if !visiting.insert(name.to_string()) {
                return None;
            }
            let raw = self.values.get(name)?;
            let value = self.expand(raw, visiting)?;
            visiting.remove(name);
            out.push_str(&value);
            rest = tail.get(1..).unwrap_or_default();
        }
        out.push_str(rest);
        Some(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn declared_dependencies_with_interpolation() {
        let lock = parse(include_str!("../tests/fixtures/maven/pom.xml")).unwrap();
        assert_eq!(lock.kind, Kind::PomXml);
        assert!(!lock.has_graph);
        let got: Vec<_> = lock
            .packages
            .iter()
            .map(|p| (p.name.as_str(), p.version.as_str(), p.line, p.dev))
            .collect();
        assert_eq!(
            got,
            [
                // A property that refers to another property.
                (
                    "com.fasterxml.jackson.core:jackson-databind",
                    "2.17.0",
                    51,
                    false
                ),
                // Version from <dependencyManagement>.
                ("org.apache.logging.log4j:log4j-core", "2.14.1", 56, false),
                // groupId inherited from the parent, version the project's.
                ("com.example:example-common", "1.4.0-SNAPSHOT", 60, false),
                ("com.example:example-bom-aligned", "3.2.0", 65, false),
                ("org.junit.jupiter:junit-jupiter", "5.10.2", 71, true),
                // Scope from <dependencyManagement> too.
                ("org.mockito:mockito-core", "5.11.0", 77, true),
                // A profile's dependency; the plugin's `asm` is not one.
                ("org.postgresql:postgresql", "42.7.3", 124, false),
            ]
        );
        // Not a declared dependency, only managed.
        assert!(
            lock.packages
                .iter()
                .all(|p| p.name != "org.junit:junit-bom")
        );
        assert!(
            lock.packages
                .iter()
                .all(|p| p.direct && p.source == Source::Registry)
        );
    }

    #[test]
    fn interpolation_is_recursive_and_cycle_safe() {
        let mut values = HashMap::new();
        for (k, v) in [
            ("a", "${b}.${c}"),
            ("b", "1"),
            ("c", "${d}"),
            ("d", "2"),
            ("x", "${y}"),
            ("y", "${x}"),
            ("s", "${s}"),
        ] {
            values.insert(k.to_string(), v.to_string());
        }
        let props = Properties { values };
        assert_eq!(
            props.interpolate("v${a}-final").as_deref(),
            Some("v1.2-final")
        );
        assert_eq!(props.interpolate("${x}"), None);
        assert_eq!(props.interpolate("${s}"), None);
        assert_eq!(props.interpolate("${unclosed"), None);
        assert_eq!(props.interpolate("${b}${b}").as_deref(), Some("11"));
        assert_eq!(props.interpolate("plain").as_deref(), Some("plain"));
    }

    #[test]
    fn no_namespace_and_ranges() {
        let text = "<project>\n<groupId>g</groupId><version>2</version>\n<dependencies>\n<dependency><groupId>a</groupId><artifactId>b</artifactId><version>(,1.0]</version></dependency>\n<dependency><groupId>a</groupId><artifactId>c</artifactId><version>${project.version}</version></dependency>\n<dependency><artifactId>no-group</artifactId><version>1</version></dependency>\n</dependencies>\n</project>\n";
        let lock = parse(text).unwrap();
        let got: Vec<_> = lock
            .packages
            .iter()
            .map(|p| (p.name.as_str(), p.version.as_str(), p.line))
            .collect();
        assert_eq!(got, [("a:c", "2", 5)]);
    }

    #[test]
    fn malformed_xml_reports_its_line() {
        let err = parse("<project>\n<dependencies>\n<dependency>\n</dependencies>\n</project>\n")
            .unwrap_err();
        assert_eq!(err.line, 4);
        let err = parse("<?xml version=\"1.0\"?>\n<settings/>\n").unwrap_err();
        assert_eq!(err.line, 2);
    }
}

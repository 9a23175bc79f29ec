//! gradle.lockfile (Gradle dependency locking)
//!
//! One `group:artifact:version=configuration,…` line per resolved module; the
//! `empty=` line lists configurations that resolved to nothing. The file holds
//! no graph and does not say which modules the build declares, so every
//! package is `direct: false`. A module only in test configurations
//! (`testCompileClasspath`, `testRuntimeClasspath`, …) is dev.

use crate::Ecosystem;
use crate::{Kind, Lockfile, Package, ParseError, Source};

pub fn parse(text: &str) -> Result<Lockfile, ParseError> {
    let mut packages = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = u32::try_from(i + 1).unwrap_or(u32::MAX);
        let content = raw.trim();
        if content.is_empty() || content.starts_with('#') {
            continue;
        }
        let (coordinates, configurations) = content.split_once('=').ok_or_else(|| ParseError {
            line,
            message: format!("expected `group:artifact:version=configurations`, found `{content}`"),
        })?;
        if coordinates == "empty" {
            continue;
        }
        let parts: Vec<&str> = coordinates.split(':').collect();
        let [group, artifact, version] = parts.as_slice() else {
            return Err(ParseError {
                line,
                message: format!("expected `group:artifact:version`, found `{coordinates}`"),
            });
        };
        if [group, artifact, version].iter().any(|p| p.is_empty()) {
            return Err(ParseError {
                line,
                message: format!("empty part in `{coordinates}`"),
            });
        }
        let configurations: Vec<&str> = configurations
            .split(',')
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .collect();
        let dev =
            !configurations.is_empty() && configurations.iter().all(|c| c.starts_with("test"));
        packages.push(Package {
            ecosystem: Ecosystem::Maven,
            name: format!("{group}:{artifact}"),
            version: (*version).to_string(),
            line,
            source: Source::Registry,
            integrity: None,
            direct: false,
            dev,
            dependencies: Vec::new(),
        });
    }
    Ok(Lockfile {
        kind: Kind::GradleLockfile,
        packages,
        has_graph: false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modules_and_configurations() {
        let lock = parse(include_str!("../tests/fixtures/gradle/gradle.lockfile")).unwrap();
        assert_eq!(lock.kind, Kind::GradleLockfile);
        assert!(!lock.has_graph);
        let got: Vec<_> = lock
            .packages
            .iter()
            .map(|p| (p.name.as_str(), p.version.as_str(), p.line, p.dev))
            .collect();
        assert_eq!(
            got,
            [
                (
                    "com.fasterxml.jackson.core:jackson-annotations",
                    "2.17.0",
                    4,
                    false
                ),
                (
                    "com.fasterxml.jackson.core:jackson-core",
                    "2.17.0",
                    5,
                    false
                ),
                (
                    "com.fasterxml.jackson.core:jackson-databind",
                    "2.17.0",
                    6,
                    false
                ),
                (
                    "com.google.errorprone:error_prone_annotations",
                    "2.26.1",
                    7,
                    false
                ),
                ("junit:junit", "4.13.2", 8, true),
                ("org.apache.logging.log4j:log4j-core", "2.14.1", 9, false),
                ("org.hamcrest:hamcrest-core", "1.3", 10, true),
                ("org.junit.jupiter:junit-jupiter-api", "5.10.2", 11, true),
            ]
        );
        assert!(lock.packages.iter().all(|p| p.ecosystem == Ecosystem::Maven
            && p.source == Source::Registry
            && !p.direct
            && p.dependencies.is_empty()));
    }

    #[test]
    fn malformed_lines_report_their_line() {
        assert_eq!(parse("# c\njunit:junit:4.13.2\n").unwrap_err().line, 2);
        assert_eq!(
            parse("junit:4.13.2=compileClasspath\n").unwrap_err().line,
            1
        );
        assert_eq!(parse("a:b:c:d=x\n").unwrap_err().line, 1);
        assert_eq!(parse("a::1=x\n").unwrap_err().line, 1);
        assert!(parse("empty=\n").unwrap().packages.is_empty());
    }
}

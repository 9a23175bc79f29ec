//! Lockfile drift: a dependency the manifest declares that the lockfile does
//! not lock. CI installs from the lockfile (`npm ci`, `cargo build --locked`,
//! `poetry install`) either fails or, worse, resolves the missing package
//! afresh, unreviewed. Checked for npm, Cargo and Poetry.

use std::collections::HashSet;
use std::path::Path;

use pipeguard_core::{Confidence, Finding, Fingerprint, Location, Remediation, Severity};

use crate::Ecosystem;
use crate::lockfile::Kind;
use crate::scan::Found;

const RULE: &str = "lockfile-drift";

/// A declared dependency: name, 1-based line in the manifest.
type Declared = Vec<(String, u32)>;

fn line_of(text: &str, needle: &str) -> u32 {
    text.lines()
        .position(|l| l.contains(needle))
        .map_or(0, |i| i as u32 + 1)
}

/// package.json: dependencies, devDependencies, optionalDependencies, minus
/// workspace and local links, which are not locked as packages.
fn npm_declared(text: &str) -> Option<Declared> {
    let v: serde_json::Value = serde_json::from_str(text).ok()?;
    let mut out = Vec::new();
    for section in ["dependencies", "devDependencies", "optionalDependencies"] {
        let Some(map) = v.get(section).and_then(|m| m.as_object()) else {
            continue;
        };
        for (name, spec) in map {
            let spec = spec.as_str().unwrap_or("");
            if ["file:", "link:", "workspace:", "portal:"]
                .iter()
                .any(|p| spec.starts_with(p))
            {
                continue;
            }
            out.push((name.clone(), line_of(text, &format!("\"{name}\""))));
        }
    }
    Some(out)
}

fn toml_table_deps(t: &toml::Table, text: &str, out: &mut Declared, skip: &[&str]) {
    for (key, spec) in t {
        if skip.contains(&key.as_str()) {
            continue;
        }
        // Path and workspace-inherited dependencies are not registry packages
        // in the lockfile model; a `package = "…"` rename locks the real name.
        let (name, local) = match spec {
            toml::Value::Table(s) => (
                s.get("package")
                    .and_then(|p| p.as_str())
                    .unwrap_or(key)
                    .to_string(),
                s.contains_key("path") || s.contains_key("workspace"),
            ),
            _ => (key.clone(), false),
        };
        if !local {
            out.push((name, line_of(text, &format!("{key} ="))));
        }
    }
}

fn cargo_declared(text: &str) -> Option<Declared> {
    let doc: toml::Table = toml::from_str(text).ok()?;
    let mut out = Vec::new();
    for section in ["dependencies", "dev-dependencies", "build-dependencies"] {
        if let Some(t) = doc.get(section).and_then(|t| t.as_table()) {
            toml_table_deps(t, text, &mut out, &[]);
        }
    }
    if let Some(targets) = doc.get("target").and_then(|t| t.as_table()) {
        for cfg in targets.values().filter_map(|v| v.as_table()) {
            for section in ["dependencies", "dev-dependencies", "build-dependencies"] {
                if let Some(t) = cfg.get(section).and_then(|t| t.as_table()) {
                    toml_table_deps(t, text, &mut out, &[]);
                }
            }
        }
    }
    Some(out)
}

fn poetry_declared(text: &str) -> Option<Declared> {
    let doc: toml::Table = toml::from_str(text).ok()?;
    let poetry = doc.get("tool")?.get("poetry")?.as_table()?;
    let mut out = Vec::new();
    if let Some(t) = poetry.get("dependencies").and_then(|t| t.as_table()) {
        toml_table_deps(t, text, &mut out, &["python"]);
    }
    if let Some(t) = poetry.get("dev-dependencies").and_then(|t| t.as_table()) {
        toml_table_deps(t, text, &mut out, &["python"]);
    }
    if let Some(groups) = poetry.get("group").and_then(|g| g.as_table()) {
        for g in groups.values() {
            if let Some(t) = g.get("dependencies").and_then(|t| t.as_table()) {
                toml_table_deps(t, text, &mut out, &["python"]);
            }
        }
    }
    Some(out)
}

/// Manifests a lockfile covers: for Cargo, every Cargo.toml below the lock's
/// directory whose nearest Cargo.lock is this one (workspace members).
fn manifests(root: &Path, found: &Found) -> Vec<(String, Kind)> {
    let lock_dir = Path::new(&found.path).parent().unwrap_or(Path::new(""));
    let rel = |p: &Path| p.to_string_lossy().replace('\\', "/");
    match found.lockfile.kind {
        Kind::PackageLock => vec![(rel(&lock_dir.join("package.json")), Kind::PackageLock)],
        Kind::PoetryLock => vec![(rel(&lock_dir.join("pyproject.toml")), Kind::PoetryLock)],
        Kind::CargoLock => {
            let mut out = Vec::new();
            let base = root.join(lock_dir);
            let walker = ignore::WalkBuilder::new(&base)
                .require_git(false)
                .filter_entry(|e| e.file_name() != "target" && e.file_name() != ".git")
                .build();
            for e in walker.flatten() {
                if e.file_name() != "Cargo.toml" {
                    continue;
                }
                let dir = e.path().parent().unwrap_or(&base);
                let nearest = dir
                    .ancestors()
                    .find(|a| a.join("Cargo.lock").exists())
                    .map(Path::to_path_buf);
                if nearest.as_deref() == Some(base.as_path())
                    && let Ok(r) = e.path().strip_prefix(root)
                {
                    out.push((rel(r), Kind::CargoLock));
                }
            }
            out
        }
        _ => Vec::new(),
    }
}

/// Dependencies declared in manifests but absent from their lockfile.
pub fn check(root: &Path, found: &[Found]) -> Vec<Finding> {
    let mut out = Vec::new();
    for f in found {
        let Some(eco) = f.lockfile.kind.ecosystem() else {
            continue;
        };
        let locked: HashSet<String> = f
            .lockfile
            .packages
            .iter()
            .map(|p| eco.normalize_name(&p.name))
            .collect();
        for (manifest, kind) in manifests(root, f) {
            let Ok(text) = std::fs::read_to_string(root.join(&manifest)) else {
                continue;
            };
            let declared = match kind {
                Kind::PackageLock => npm_declared(&text),
                Kind::CargoLock => cargo_declared(&text),
                Kind::PoetryLock => poetry_declared(&text),
                _ => None,
            };
            for (name, line) in declared.unwrap_or_default() {
                if locked.contains(&eco.normalize_name(&name)) {
                    continue;
                }
                out.push(drift_finding(eco, &manifest, &f.path, &name, line));
            }
        }
    }
    out
}

fn drift_finding(eco: Ecosystem, manifest: &str, lock: &str, name: &str, line: u32) -> Finding {
    let fix = match eco {
        Ecosystem::Npm => "run `npm install` and commit package-lock.json",
        Ecosystem::CratesIo => "run `cargo update -w` (or any cargo build) and commit Cargo.lock",
        _ => "run `poetry lock` and commit poetry.lock",
    };
    Finding {
        rule_id: RULE.into(),
        rule_name: "Dependency missing from the lockfile".into(),
        aliases: Vec::new(),
        analyzer: "deps".into(),
        severity: Severity::Medium,
        confidence: Confidence::High,
        message: format!(
            "{manifest} declares {name}, but {lock} does not lock it: installs from the lockfile will fail or resolve it unreviewed. To fix, {fix}."
        ),
        locations: vec![Location {
            line: (line > 0).then_some(line),
            ..Location::file(manifest.to_string())
        }],
        fingerprint: Fingerprint::from_parts(&[
            b"deps",
            RULE.as_bytes(),
            manifest.as_bytes(),
            name.as_bytes(),
        ]),
        secret: None,
        remediation: Some(Remediation {
            description: format!("To fix, {fix}."),
            replacement: None,
        }),
        flow: Vec::new(),
        package: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn poetry_groups_and_python_are_read() {
        let text = "[tool.poetry]\nname = \"x\"\n\n[tool.poetry.dependencies]\npython = \"^3.11\"\nrequests = \"^2.31\"\n\n[tool.poetry.group.dev.dependencies]\npytest = \"^8\"\n";
        let d = poetry_declared(text).expect("parse");
        assert_eq!(
            d,
            vec![("requests".to_string(), 6), ("pytest".to_string(), 9)]
        );
    }

    #[test]
    fn cargo_renames_lock_the_real_name() {
        let text = "[dependencies]\nrand_core = { package = \"rand-core-fork\", version = \"1\" }\n\n[target.'cfg(unix)'.dependencies]\nlibc = \"0.2\"\n";
        let d = cargo_declared(text).expect("parse");
        assert_eq!(
            d,
            vec![("rand-core-fork".to_string(), 2), ("libc".to_string(), 5)]
        );
    }
}

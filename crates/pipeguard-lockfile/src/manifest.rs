//! Manifests, read for the dependencies they declare (name and line), so
//! that a declared dependency the lockfile does not lock can be reported
//! (`lockfile-drift`). Only what that check needs: names, not version
//! requirements.

/// A declared dependency: name, 1-based line in the manifest (0: unknown).
pub type Declared = Vec<(String, u32)>;

fn line_of(text: &str, needle: &str) -> u32 {
    text.lines()
        .position(|l| l.contains(needle))
        .map_or(0, |i| i as u32 + 1)
}

/// package.json: dependencies, devDependencies, optionalDependencies, minus
/// workspace and local links, which are not locked as packages.
pub fn npm(text: &str) -> Option<Declared> {
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

/// Cargo.toml: normal, dev and build dependencies, also per target.
pub fn cargo(text: &str) -> Option<Declared> {
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

/// pyproject.toml's `[tool.poetry]`: dependencies, dev-dependencies and
/// every group's, without `python` (the interpreter, not a package).
pub fn poetry(text: &str) -> Option<Declared> {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn poetry_groups_and_python_are_read() {
        let text = "[tool.poetry]\nname = \"x\"\n\n[tool.poetry.dependencies]\npython = \"^3.11\"\nrequests = \"^2.31\"\n\n[tool.poetry.group.dev.dependencies]\npytest = \"^8\"\n";
        let d = poetry(text).expect("parse");
        assert_eq!(
            d,
            vec![("requests".to_string(), 6), ("pytest".to_string(), 9)]
        );
    }

    #[test]
    fn cargo_renames_lock_the_real_name() {
        let text = "[dependencies]\nrand_core = { package = \"rand-core-fork\", version = \"1\" }\n\n[target.'cfg(unix)'.dependencies]\nlibc = \"0.2\"\n";
        let d = cargo(text).expect("parse");
        assert_eq!(
            d,
            vec![("rand-core-fork".to_string(), 2), ("libc".to_string(), 5)]
        );
    }
}

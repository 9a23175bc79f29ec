//! Artifact hardening for pipeguard: a Dockerfile parser that keeps lines
//! and the rules that run on it (root user, single-stage builds, unpinned
//! and fat bases, secrets and credential files baked into layers, unverified
//! downloads, package-manager hygiene).

pub mod dockerfile;
pub mod image;
pub mod image_rules;
pub mod rules;

pub use image_rules::rules as image_rules;
pub use rules::rules as dockerfile_rules;

use std::path::Path;

use pipeguard_core::{Finding, Problem};

pub use pipeguard_core::Outcome;

/// Whether a file name is a Dockerfile.
pub fn is_dockerfile(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    lower == "dockerfile"
        || lower == "containerfile"
        || (lower.starts_with("dockerfile.") && !is_source_extension(&lower))
        || lower.ends_with(".dockerfile")
        || lower.ends_with(".containerfile")
}

/// `dockerfile.rs`, `dockerfile.sh`: code about Dockerfiles, not a
/// `Dockerfile.<variant>` (`Dockerfile.dev`, `Dockerfile.alpine`).
fn is_source_extension(lower: &str) -> bool {
    const EXT: &[&str] = &[
        "rs", "sh", "py", "go", "js", "ts", "java", "rb", "md", "txt", "json", "yml", "yaml",
        "toml", "lock", "bak", "orig", "swp",
    ];
    lower
        .rsplit_once('.')
        .is_some_and(|(_, ext)| EXT.contains(&ext))
}

/// Audits one Dockerfile's text.
pub fn audit_text(rel: &str, text: &str) -> Result<Vec<Finding>, Problem> {
    let df = dockerfile::parse(text).map_err(|e| Problem {
        path: rel.to_string(),
        line: Some(e.line),
        message: format!("malformed Dockerfile: {}", e.message),
    })?;
    let mut sink = rules::sink(rel, text);
    rules::run(&df, &mut sink);
    Ok(sink.findings)
}

/// Every Dockerfile under `root` (or `root` itself): (path, path as reported).
pub fn files(root: &Path) -> Vec<(std::path::PathBuf, String)> {
    let walker = pipeguard_core::walk::builder(root, false, &["node_modules"]).build();
    let mut out = Vec::new();
    for e in walker.flatten() {
        if !e.file_type().is_some_and(|t| t.is_file())
            || !is_dockerfile(&e.file_name().to_string_lossy())
        {
            continue;
        }
        let rel = pipeguard_core::relative_path(root, e.path());
        out.push((e.path().to_path_buf(), rel));
    }
    out.sort_by(|a, b| a.1.cmp(&b.1));
    out
}

/// Audits every Dockerfile under `root`.
pub fn scan(root: &Path) -> Outcome {
    scan_files(&files(root))
}

/// Audits the given Dockerfiles: (path on disk, path as reported).
pub fn scan_files(files: &[(std::path::PathBuf, String)]) -> Outcome {
    let mut out = Outcome::default();
    for (path, rel) in files {
        let rel = rel.clone();
        let text = match std::fs::read(path) {
            Ok(b) => String::from_utf8_lossy(&b).into_owned(),
            Err(e) => {
                out.problems.push(Problem {
                    path: rel,
                    line: None,
                    message: format!("cannot read: {e}"),
                });
                continue;
            }
        };
        out.files += 1;
        out.bytes += text.len() as u64;
        match audit_text(&rel, &text) {
            Ok(f) => out.findings.extend(f),
            Err(p) => out.problems.push(p),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dockerfile_variants_but_not_code_about_dockerfiles() {
        for yes in [
            "Dockerfile",
            "Dockerfile.dev",
            "dockerfile.alpine",
            "api.Dockerfile",
            "Containerfile",
        ] {
            assert!(is_dockerfile(yes), "{yes}");
        }
        for no in [
            "dockerfile.rs",
            "dockerfile.sh",
            "Dockerfile.md",
            "dockerfiles",
        ] {
            assert!(!is_dockerfile(no), "{no}");
        }
    }
}

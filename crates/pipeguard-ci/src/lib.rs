//! CI workflow audits for pipeguard: least privilege, OIDC instead of
//! long-lived keys, segregation of untrusted code from secrets, injection,
//! and pinning, for GitHub Actions workflows, composite actions and GitLab CI.
//! Every finding points at the exact line of the offending YAML node.

pub mod audits;

pub use audits::rules;
pub mod fix;
pub mod model;
pub mod permissions;
pub mod yaml;

use std::path::Path;

use pipeguard_core::{Finding, Problem};

pub use pipeguard_core::Outcome;

/// Which CI files a path is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CiFile {
    GithubWorkflow,
    Action,
    Gitlab,
}

pub fn classify(rel: &str) -> Option<CiFile> {
    let name = rel.rsplit('/').next().unwrap_or(rel);
    let yaml = name.ends_with(".yml") || name.ends_with(".yaml");
    if yaml && (rel.contains(".github/workflows/") || rel.starts_with(".github/workflows")) {
        Some(CiFile::GithubWorkflow)
    } else if name == "action.yml" || name == "action.yaml" {
        Some(CiFile::Action)
    } else if name == ".gitlab-ci.yml" || name.ends_with(".gitlab-ci.yml") {
        Some(CiFile::Gitlab)
    } else {
        None
    }
}

/// Audits one file's text.
pub fn audit_text(rel: &str, kind: CiFile, text: &str) -> Result<Vec<Finding>, Problem> {
    let docs = yaml::load(text).map_err(|e| Problem {
        path: rel.to_string(),
        line: Some(e.line.max(1)),
        message: format!("malformed YAML: {}", e.message),
    })?;
    let mut sink = audits::sink(rel, text);
    for doc in &docs {
        match kind {
            CiFile::Gitlab => audits::audit_gitlab(doc, &mut sink),
            CiFile::GithubWorkflow | CiFile::Action => {
                if let Some(wf) = model::Workflow::from_node(rel, doc) {
                    audits::run(&wf, &mut sink);
                } else if kind == CiFile::GithubWorkflow && doc.get("jobs").is_none() {
                    return Err(Problem {
                        path: rel.to_string(),
                        line: Some(doc.line.max(1)),
                        message: "not a workflow: no `jobs:` mapping".into(),
                    });
                }
            }
        }
    }
    Ok(sink.findings)
}

/// The minimal `permissions:` block of every job of every GitHub workflow
/// under `root`: (file, job id, block as YAML).
pub fn suggest_permissions(root: &Path) -> Vec<(String, String, String)> {
    let mut out = Vec::new();
    for (path, rel, kind) in ci_files(root) {
        if kind != CiFile::GithubWorkflow {
            continue;
        }
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue;
        };
        let Ok(docs) = yaml::load(&text) else {
            continue;
        };
        for doc in &docs {
            let Some(wf) = model::Workflow::from_node(&rel, doc) else {
                continue;
            };
            for job in wf.jobs.iter().filter(|j| j.uses.is_none()) {
                let perms = permissions::minimal(job);
                let mut block = String::from("permissions:");
                if perms.is_empty() {
                    block.push_str(" {}");
                }
                for (k, v) in perms {
                    block.push_str(&format!("\n  {k}: {v}"));
                }
                out.push((rel.clone(), job.id.clone(), block));
            }
        }
    }
    out
}

fn ci_files(root: &Path) -> Vec<(std::path::PathBuf, String, CiFile)> {
    let walker = pipeguard_core::walk::builder(root, false, &["node_modules"]).build();
    let mut files = Vec::new();
    for e in walker.flatten() {
        if !e.file_type().is_some_and(|t| t.is_file()) {
            continue;
        }
        let rel = pipeguard_core::relative_path(root, e.path());
        if let Some(kind) = classify(&rel) {
            files.push((e.path().to_path_buf(), rel, kind));
        }
    }
    files.sort_by(|a, b| a.1.cmp(&b.1));
    files
}

/// Every CI file under `root`: (path on disk, path as reported).
pub fn files(root: &Path) -> Vec<(std::path::PathBuf, String)> {
    ci_files(root).into_iter().map(|(p, r, _)| (p, r)).collect()
}

/// Applies the safe fixes to every workflow under `root`; returns the files changed.
pub fn fix(root: &Path) -> std::io::Result<Vec<String>> {
    let mut changed = Vec::new();
    for (path, rel, kind) in ci_files(root) {
        if kind != CiFile::GithubWorkflow {
            continue;
        }
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue;
        };
        if let Some(fixed) = fix::fix_text(&rel, &text) {
            std::fs::write(&path, fixed)?;
            changed.push(rel);
        }
    }
    Ok(changed)
}

/// Audits every CI file under `root` (or `root` itself).
pub fn scan(root: &Path) -> Outcome {
    scan_files(&files(root))
}

/// Audits the given files: (path on disk, path as reported). Files that are
/// not CI files (by their reported path) are skipped.
pub fn scan_files(files: &[(std::path::PathBuf, String)]) -> Outcome {
    let mut out = Outcome::default();
    for (path, rel) in files {
        let Some(kind) = classify(rel) else {
            continue;
        };
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
        match audit_text(&rel, kind, &text) {
            Ok(f) => out.findings.extend(f),
            Err(p) => out.problems.push(p),
        }
    }
    out
}

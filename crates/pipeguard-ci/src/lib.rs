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

pub use model::Settings;

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

/// What a YAML file is by its content, wherever it lives: a GitHub workflow
/// has `on:` and `jobs:`, a composite action `runs: using: composite`, a
/// GitLab pipeline `stages:` or top-level jobs with a `script:`.
pub fn classify_text(text: &str) -> Option<CiFile> {
    let docs = yaml::load(text).ok()?;
    docs.iter().find_map(|doc| {
        if doc
            .get("runs")
            .and_then(|r| r.get("using"))
            .and_then(yaml::Node::str)
            == Some("composite")
        {
            Some(CiFile::Action)
        } else if doc.get("on").is_some() && doc.get("jobs").is_some() {
            Some(CiFile::GithubWorkflow)
        } else if doc.get("stages").is_some()
            || doc.entries().iter().any(|(_, v)| v.get("script").is_some())
        {
            Some(CiFile::Gitlab)
        } else {
            None
        }
    })
}

/// The audit settings for a policy and a repository root.
pub fn settings(policy: &pipeguard_core::Policy, root: Option<&Path>) -> Settings {
    Settings {
        actions: policy.ci.actions.clone(),
        root: root.map(Path::to_path_buf),
    }
}

/// The repository a path belongs to: the path itself when it is a
/// directory, else the nearest parent holding `.github` or `.git`.
pub fn repo_root(path: &Path) -> Option<std::path::PathBuf> {
    if path.is_dir() {
        return Some(path.to_path_buf());
    }
    let abs = std::fs::canonicalize(path).ok()?;
    abs.ancestors()
        .skip(1)
        .find(|d| d.join(".github").is_dir() || d.join(".git").exists())
        .map(Path::to_path_buf)
}

/// Audits one file's text.
pub fn audit_text(rel: &str, kind: CiFile, text: &str) -> Result<Vec<Finding>, Problem> {
    audit_text_with(rel, kind, text, &model::NO_SETTINGS)
}

/// Audits one file's text with the policy's declared actions and the
/// repository root (for local actions).
pub fn audit_text_with(
    rel: &str,
    kind: CiFile,
    text: &str,
    settings: &Settings,
) -> Result<Vec<Finding>, Problem> {
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
                    audits::run(&wf.with_settings(settings), &mut sink);
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
/// at `path` (a directory, or one file of any name): (file, job id, block
/// as YAML). A job whose needs are unknown gets a comment naming what is
/// unknown instead of a block.
pub fn suggest_permissions(path: &Path, settings: &Settings) -> Vec<(String, String, String)> {
    let mut out = Vec::new();
    for (path, rel, kind) in ci_files(path) {
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
            let wf = wf.with_settings(settings);
            for job in &wf.jobs {
                let needs = permissions::job_needs(&wf, job);
                let block = needs.block().unwrap_or_else(|| {
                    format!(
                        "# permissions unknown: cannot tell what {} do with the token (declare actions under [ci.actions] in pipeguard.toml)",
                        needs.unknown.join(", ")
                    )
                });
                out.push((rel.clone(), job.id.clone(), block));
            }
        }
    }
    out
}

/// The CI files at `path`: under it when it is a directory (by their
/// place: `.github/workflows/`, `action.yml`, `.gitlab-ci.yml`), or the file
/// itself, by its name or else its content, reported as given.
fn ci_files(path: &Path) -> Vec<(std::path::PathBuf, String, CiFile)> {
    if path.is_file() {
        let rel = path.to_string_lossy().replace('\\', "/");
        let kind = classify(&rel).or_else(|| {
            let text = std::fs::read_to_string(path).ok()?;
            classify_text(&text)
        });
        return kind
            .map(|k| vec![(path.to_path_buf(), rel, k)])
            .unwrap_or_default();
    }
    let root = path;
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

/// Every CI file at `path` (see [`ci_files`]): (path on disk, path as reported).
pub fn files(root: &Path) -> Vec<(std::path::PathBuf, String)> {
    ci_files(root).into_iter().map(|(p, r, _)| (p, r)).collect()
}

/// Applies the safe fixes to every workflow at `path`; returns the files changed.
pub fn fix(path: &Path, settings: &Settings) -> std::io::Result<Vec<String>> {
    let mut changed = Vec::new();
    for (path, rel, kind) in ci_files(path) {
        if kind != CiFile::GithubWorkflow {
            continue;
        }
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue;
        };
        if let Some(fixed) = fix::fix_text_with(&rel, &text, settings) {
            std::fs::write(&path, fixed)?;
            changed.push(rel);
        }
    }
    Ok(changed)
}

/// Audits every CI file under `root` (or `root` itself).
pub fn scan(root: &Path) -> Outcome {
    let settings = Settings {
        root: repo_root(root),
        ..Settings::default()
    };
    scan_files(&files(root), &settings)
}

/// Audits the given files: (path on disk, path as reported). A file is
/// classified by its reported path, else by its content; files that are
/// neither are skipped.
pub fn scan_files(files: &[(std::path::PathBuf, String)], settings: &Settings) -> Outcome {
    let mut out = Outcome::default();
    for (path, rel) in files {
        let by_name = classify(rel);
        let rel = rel.clone();
        let text = match std::fs::read(path) {
            Ok(b) => String::from_utf8_lossy(&b).into_owned(),
            Err(e) => {
                if by_name.is_some() {
                    out.problems.push(Problem {
                        path: rel,
                        line: None,
                        message: format!("cannot read: {e}"),
                    });
                }
                continue;
            }
        };
        let Some(kind) = by_name.or_else(|| classify_text(&text)) else {
            continue;
        };
        out.files += 1;
        out.bytes += text.len() as u64;
        match audit_text_with(&rel, kind, &text, settings) {
            Ok(f) => out.findings.extend(f),
            Err(p) => out.problems.push(p),
        }
    }
    out
}

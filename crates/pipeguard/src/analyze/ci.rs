//! The CI workflow audits (GitHub Actions, composite actions, GitLab CI).

use std::path::{Path, PathBuf};

use pipeguard_core::{Outcome, Problem};

use super::{Scope, audited, changed_files};

/// The tree at `scope.root` (or what the change touched).
pub(crate) fn analyze(scope: &Scope) -> anyhow::Result<Outcome> {
    let files = match scope.diff {
        Some(_) => changed_files(scope, |p| pipeguard_ci::classify(p).is_some()),
        None => pipeguard_ci::files(scope.root),
    };
    let settings =
        pipeguard_ci::settings(scope.policy, pipeguard_ci::repo_root(scope.root).as_deref());
    let o = pipeguard_ci::scan_files(&files, &settings);
    Ok(audited(
        scope, &files, o.findings, o.problems, o.files, o.bytes,
    ))
}

/// `pipeguard ci PATH…`: each directory is walked like a repository; each
/// file is audited by its content wherever it lives (a workflow outside
/// `.github/workflows/` used to be skipped without a word), and a file that
/// is no CI file at all is a reported problem.
pub(crate) fn analyze_paths(scope: &Scope, paths: &[PathBuf]) -> anyhow::Result<Outcome> {
    let mut files: Vec<(PathBuf, String)> = Vec::new();
    let mut problems: Vec<Problem> = Vec::new();
    let mut findings = Vec::new();
    let (mut n, mut bytes) = (0, 0);
    for path in paths {
        // Paths under a directory are shown under it as given, so that
        // two directories' `.github/workflows/ci.yml` stay apart.
        let found: Vec<(PathBuf, String)> = pipeguard_ci::files(path)
            .into_iter()
            .map(|(p, rel)| {
                let shown = if path.is_dir() {
                    shown_under(path, &rel)
                } else {
                    rel
                };
                (p, shown)
            })
            .collect();
        if found.is_empty() && path.is_file() {
            problems.push(Problem {
                path: path.display().to_string(),
                line: None,
                message: "not a CI file: no GitHub workflow (`on:` and `jobs:`), composite action (`runs: using: composite`) or GitLab pipeline (`stages:` or jobs with `script:`)".into(),
            });
            continue;
        }
        let settings =
            pipeguard_ci::settings(scope.policy, pipeguard_ci::repo_root(path).as_deref());
        let o = pipeguard_ci::scan_files(&found, &settings);
        findings.extend(o.findings);
        problems.extend(o.problems);
        n += o.files;
        bytes += o.bytes;
        files.extend(found);
    }
    Ok(audited(scope, &files, findings, problems, n, bytes))
}

/// `rel` (a path found under `dir`) as the user would write it.
pub(crate) fn shown_under(dir: &Path, rel: &str) -> String {
    let d = dir.to_string_lossy().replace('\\', "/");
    match d.trim_end_matches('/') {
        "" | "." => rel.to_string(),
        d => format!("{d}/{rel}"),
    }
}

/// Whether `paths` is the single-directory case the tree walk covers.
pub(crate) fn single_dir(paths: &[PathBuf]) -> Option<&Path> {
    match paths {
        [p] if p.is_dir() => Some(p),
        _ => None,
    }
}

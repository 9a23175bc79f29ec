//! The secrets analyzer over a tree: the working tree (through the content
//! cache), plus history as the profile says; in pull-request mode the changed
//! files' added lines and every commit of the change.

use pipeguard_core::profile::History;
use pipeguard_secrets::GitScope;

use pipeguard_core::{Outcome, Problem};

use super::{Scope, changed_files, only_touched};
use crate::common::usage;

pub(crate) fn analyze(scope: &Scope) -> anyhow::Result<Outcome> {
    let scanner = &scope.scanner;
    let mut part = Outcome::default();
    let repo = crate::diff::is_repo(scope.root);
    match scope.diff {
        Some(d) => {
            // The changed files as they are now, on added lines only...
            let files = changed_files(scope, |p| !scanner.excludes(p));
            let o = scanner.scan_files(&files);
            part.files = o.files;
            part.bytes = o.bytes;
            part.findings = o.findings;
            part.problems = o.problems;
            part.findings = only_touched(std::mem::take(&mut part.findings), Some(d));
            // ...and every commit of the change, so a secret added and then
            // removed inside the pull request is still reported.
            // A failure here is a problem, as in a full scan: the working
            // tree part above still stands.
            if scope.history != History::None {
                match scanner.scan_git(scope.root, &GitScope::Since(d.merge_base.clone()), &|_| {})
                {
                    Ok(h) => {
                        part.commits = h.commits;
                        part.blobs = h.blobs;
                        part.findings.extend(h.findings);
                        part.problems.extend(h.problems);
                    }
                    Err(e) => part.problems.push(Problem {
                        path: scope.root.display().to_string(),
                        line: None,
                        message: format!("git history not scanned: {e:#}"),
                    }),
                }
            }
            part.note = format!("{} changed files", files.len());
        }
        None => {
            let o = scanner.scan_path(scope.root, &|_| {});
            part.files = o.files;
            part.bytes = o.bytes;
            part.findings = o.findings;
            part.problems = o.problems;
            if o.cached > 0 {
                part.note = format!("{} cached", o.cached);
            }
            if scope.history == History::Full && repo {
                let h = scanner
                    .scan_git(scope.root, &GitScope::All, &|_| {})
                    .map_err(|e| usage(format!("{e:#}")))?;
                part.commits = h.commits;
                part.blobs = h.blobs;
                part.findings.extend(h.findings);
                part.problems.extend(h.problems);
                let sep = if part.note.is_empty() { "" } else { ", " };
                part.note = format!(
                    "{}{sep}history: {} commits",
                    part.note,
                    h.commits.unwrap_or(0)
                );
            }
        }
    }
    Ok(part)
}

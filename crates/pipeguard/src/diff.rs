//! Pull-request mode: what changed since the diff base, line by line.
//!
//! The base comes from `--diff-base` or from the CI's environment; the diff
//! is taken from the merge base to the working tree (so uncommitted edits
//! count locally, and in CI the working tree is the PR head), plus untracked
//! files that are not ignored.
//!
//! What counts as new is decided twice: by line (a finding on a line the
//! change did not add is not reported) and by fingerprint (a finding the
//! merge base already had, in the files involved, is not reported however
//! the change moved it). The second needs the base versions of those files,
//! which [`Diff::base_tree`] writes to a scratch directory so that every
//! analyzer can read them exactly as it reads a tree.

use std::collections::HashMap;
use std::path::{Component, Path};
use std::process::Command;

use anyhow::{Context, bail};
use pipeguard_core::Problem;

/// Which lines of a file the change added.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lines {
    /// A new, untracked or binary file: all of it.
    Whole,
    /// Added line ranges, 1-based and inclusive.
    Ranges(Vec<(u32, u32)>),
}

#[derive(Debug)]
pub struct Diff {
    /// The merge base the change is measured from (a commit id).
    pub merge_base: String,
    /// What the user or CI named as base.
    pub base: String,
    /// Changed files that still exist, by path relative to the scanned root.
    pub files: HashMap<String, Lines>,
    /// What could not be worked out exactly (an unreadable object): PR mode
    /// goes on, reporting these beside its findings as a full scan does.
    pub problems: Vec<Problem>,
}

/// The diff base the CI names for this pipeline, if it is a pull/merge request.
pub fn ci_base() -> Option<String> {
    let var = |k: &str| std::env::var(k).ok().filter(|v| !v.trim().is_empty());
    // GitHub Actions: the base branch of a pull request. actions/checkout
    // must fetch it (`fetch-depth: 0`); the error below says so otherwise.
    if matches!(
        var("GITHUB_EVENT_NAME").as_deref(),
        Some("pull_request" | "pull_request_target")
    ) && let Some(b) = var("GITHUB_BASE_REF")
    {
        return Some(format!("origin/{b}"));
    }
    // GitLab merge request pipelines name the exact base commit.
    if let Some(sha) = var("CI_MERGE_REQUEST_DIFF_BASE_SHA") {
        return Some(sha);
    }
    var("CI_MERGE_REQUEST_TARGET_BRANCH_NAME").map(|b| format!("origin/{b}"))
}

/// Runs git in `root`; a failure carries git's own message.
pub(crate) fn git(root: &Path, args: &[&str]) -> anyhow::Result<Vec<u8>> {
    let out = Command::new("git")
        .arg("-C")
        .arg(root)
        .args(["-c", "core.quotePath=false"])
        .args(args)
        .output()
        .context("cannot run git (is it installed?)")?;
    if !out.status.success() {
        bail!(
            "git {}: {}",
            args.first().copied().unwrap_or_default(),
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(out.stdout)
}

/// Is `root` inside a git work tree?
pub fn is_repo(root: &Path) -> bool {
    git(root, &["rev-parse", "--is-inside-work-tree"]).is_ok_and(|o| o.starts_with(b"true"))
}

impl Diff {
    pub fn compute(root: &Path, base: &str) -> anyhow::Result<Diff> {
        if let Err(e) = git(root, &["rev-parse", "--is-inside-work-tree"]) {
            bail!(
                "{}: --diff-base needs a git repository ({e:#})",
                root.display()
            );
        }
        let merge_base = git(root, &["merge-base", base, "HEAD"]).map_err(|e| {
            anyhow::anyhow!(
                "cannot find the merge base of `{base}` and HEAD ({e}); in GitHub Actions, check out with `fetch-depth: 0` so the base branch is present"
            )
        })?;
        let merge_base = String::from_utf8_lossy(&merge_base).trim().to_string();
        // The two walks of the work tree (tracked changes, untracked files)
        // run side by side: each is mostly waiting on stat calls.
        let (patch, untracked) = std::thread::scope(|s| {
            let patch = s.spawn(|| {
                git(
                    root,
                    &[
                        "diff",
                        "--relative",
                        "-U0",
                        "--no-color",
                        "--no-ext-diff",
                        "--no-renames",
                        &merge_base,
                        "--",
                    ],
                )
            });
            let untracked = git(root, &["ls-files", "--others", "--exclude-standard", "-z"]);
            (
                patch
                    .join()
                    .unwrap_or_else(|_| Err(anyhow::anyhow!("git diff failed"))),
                untracked,
            )
        });
        let mut problems = Vec::new();
        let mut files = match patch {
            Ok(p) => parse_patch(&String::from_utf8_lossy(&p)),
            Err(e) => {
                // The patch needs every changed blob; one corrupt object
                // fails it. The list of changed files needs only the trees,
                // so the scan goes on with those files read whole.
                problems.push(Problem {
                    path: root.display().to_string(),
                    line: None,
                    message: format!(
                        "cannot diff against the merge base, changed files are checked whole: {e:#}"
                    ),
                });
                match changed_names(root, &merge_base) {
                    Ok(names) => names.into_iter().map(|n| (n, Lines::Whole)).collect(),
                    Err(e) => {
                        problems.push(Problem {
                            path: root.display().to_string(),
                            line: None,
                            message: format!("cannot list the changed files: {e:#}"),
                        });
                        HashMap::new()
                    }
                }
            }
        };
        match untracked {
            Ok(u) => {
                for p in u.split(|&b| b == 0).filter(|p| !p.is_empty()) {
                    files.insert(String::from_utf8_lossy(p).into_owned(), Lines::Whole);
                }
            }
            Err(e) => problems.push(Problem {
                path: root.display().to_string(),
                line: None,
                message: format!("cannot list untracked files: {e:#}"),
            }),
        }
        Ok(Diff {
            merge_base,
            base: base.to_string(),
            files,
            problems,
        })
    }

    /// Did the change add this line (or, without a line, touch this file)?
    pub fn touches(&self, path: &str, line: Option<u32>) -> bool {
        match (self.files.get(path), line) {
            (None, _) => false,
            (Some(Lines::Whole), _) | (Some(_), None) => true,
            (Some(Lines::Ranges(r)), Some(l)) => r.iter().any(|&(a, b)| a <= l && l <= b),
        }
    }

    /// The file as it was at the merge base (`None` if it did not exist).
    pub fn base_content(&self, root: &Path, path: &str) -> Option<Vec<u8>> {
        git(root, &["show", &format!("{}:./{path}", self.merge_base)]).ok()
    }

    /// Writes these files (paths relative to `root`) as they were at the
    /// merge base into a scratch directory, at the same relative paths, so
    /// an analyzer can read the base like a tree; files that did not exist
    /// there are left out. One `git cat-file` reads them all.
    pub fn base_tree(
        &self,
        root: &Path,
        paths: &[String],
    ) -> anyhow::Result<(tempfile::TempDir, Vec<Problem>)> {
        let dir = tempfile::Builder::new()
            .prefix("pipeguard-base-")
            .tempdir()
            .context("cannot create a scratch directory for the merge base")?;
        // Paths come from git and from findings; none may leave the scratch
        // directory.
        let safe = |p: &str| {
            !p.is_empty()
                && Path::new(p)
                    .components()
                    .all(|c| matches!(c, Component::Normal(_)))
        };
        let paths: Vec<String> = paths.iter().filter(|p| safe(p)).cloned().collect();
        let mut problems = Vec::new();
        let mut written = Ok(());
        pipeguard_secrets::git::read_files_at(
            root,
            &self.merge_base,
            &paths,
            u64::MAX,
            |rel, content| match content {
                Ok(Some(data)) => {
                    let to = dir.path().join(rel);
                    let w = to
                        .parent()
                        .map_or(Ok(()), std::fs::create_dir_all)
                        .and_then(|()| std::fs::write(&to, data));
                    if let Err(e) = w
                        && written.is_ok()
                    {
                        written = Err(e);
                    }
                }
                Ok(None) => {}
                Err(e) => problems.push(pipeguard_secrets::base_problem(rel, &self.merge_base, &e)),
            },
        )?;
        written.context("cannot write the merge base's files to a scratch directory")?;
        Ok((dir, problems))
    }
}

/// The changed files (not deleted ones) from the trees alone, without
/// reading any blob: the fallback when the patch cannot be made.
fn changed_names(root: &Path, merge_base: &str) -> anyhow::Result<Vec<String>> {
    let raw = git(
        root,
        &[
            "diff",
            "--relative",
            "--raw",
            "-z",
            "--no-renames",
            "--no-abbrev",
            merge_base,
            "--",
        ],
    )?;
    let mut names = Vec::new();
    let mut tokens = raw.split(|&b| b == 0);
    while let Some(meta) = tokens.next() {
        let Some(path) = tokens.next() else { break };
        let meta = String::from_utf8_lossy(meta);
        if !meta.trim_end().ends_with('D') {
            names.push(String::from_utf8_lossy(path).into_owned());
        }
    }
    Ok(names)
}

/// Added line ranges per file from a `git diff -U0` patch; deleted files
/// are left out.
pub fn parse_patch(patch: &str) -> HashMap<String, Lines> {
    let mut files: HashMap<String, Lines> = HashMap::new();
    let mut current: Option<String> = None;
    for line in patch.lines() {
        if line.starts_with("diff --git ") {
            current = None;
        } else if let Some(p) = line.strip_prefix("+++ ") {
            current = p.strip_prefix("b/").map(str::to_string);
            if let Some(c) = &current {
                files
                    .entry(c.clone())
                    .or_insert_with(|| Lines::Ranges(Vec::new()));
            }
        } else if let Some(rest) = line.strip_prefix("Binary files ") {
            // "Binary files a/x and b/x differ" / "/dev/null and b/x differ"
            if let Some(p) = rest
                .strip_suffix(" differ")
                .and_then(|r| r.rsplit_once(" and b/"))
                .map(|(_, p)| p.to_string())
            {
                files.insert(p, Lines::Whole);
            }
        } else if let (Some(c), Some(h)) = (&current, line.strip_prefix("@@ ")) {
            // @@ -a[,b] +c[,d] @@
            let Some(plus) = h.split(' ').find(|t| t.starts_with('+')) else {
                continue;
            };
            let mut it = plus[1..].splitn(2, ',');
            let start: u32 = it.next().and_then(|s| s.parse().ok()).unwrap_or(0);
            let count: u32 = it.next().and_then(|s| s.parse().ok()).unwrap_or(1);
            if count == 0 {
                continue;
            }
            if let Some(Lines::Ranges(r)) = files.get_mut(c) {
                r.push((start, start + count - 1));
            }
        }
    }
    files
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn added_ranges_new_deleted_and_binary_files() {
        let patch = "\
diff --git a/app.py b/app.py
index 1..2 100644
--- a/app.py
+++ b/app.py
@@ -3 +3 @@ def f():
-    x = 1
+    x = 2
@@ -10,0 +11,3 @@ def g():
+a
+b
+c
@@ -20,2 +23,0 @@
diff --git a/gone.txt b/gone.txt
deleted file mode 100644
--- a/gone.txt
+++ /dev/null
@@ -1 +0,0 @@
-bye
diff --git a/logo.png b/logo.png
new file mode 100644
Binary files /dev/null and b/logo.png differ
diff --git a/new.txt b/new.txt
new file mode 100644
--- /dev/null
+++ b/new.txt
@@ -0,0 +1,2 @@
+one
+two
";
        let d = parse_patch(patch);
        assert_eq!(
            d.get("app.py"),
            Some(&Lines::Ranges(vec![(3, 3), (11, 13)]))
        );
        assert_eq!(d.get("new.txt"), Some(&Lines::Ranges(vec![(1, 2)])));
        assert_eq!(d.get("logo.png"), Some(&Lines::Whole));
        assert!(!d.contains_key("gone.txt"));
        let diff = Diff {
            merge_base: String::new(),
            base: String::new(),
            files: d,
            problems: Vec::new(),
        };
        assert!(diff.touches("app.py", Some(12)));
        assert!(!diff.touches("app.py", Some(5)), "an unchanged line");
        assert!(!diff.touches("other.py", Some(1)));
        assert!(diff.touches("logo.png", Some(99)));
    }
}

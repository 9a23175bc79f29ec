//! Real git repositories in temp directories, built with the `git` CLI.
//!
//! Every command runs with a fixed identity, no system or user
//! configuration (`HOME` is the repository itself), no signing, and a fake
//! clock: the first command happens at [`EPOCH`] and each later one a
//! second after the previous. Commit ids are then the same on every run and
//! machine, and `git log`'s date order is the order the test made the
//! commits in, which it would not be at wall-clock time (commits made within
//! the same second tie).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU64, Ordering};

/// Who makes every commit. Tests that check git attribution compare
/// against `"{AUTHOR_NAME} <{AUTHOR_EMAIL}>"`.
pub const AUTHOR_NAME: &str = "Dana Dev";
pub const AUTHOR_EMAIL: &str = "dana@corp.net";

/// 2024-01-01T00:00:00Z, the time of a repository's first git command.
pub const EPOCH: u64 = 1_704_067_200;

/// A git repository in a directory the test owns (usually inside a
/// `tempfile::TempDir`, which removes it).
#[derive(Debug)]
pub struct GitRepo {
    dir: PathBuf,
    clock: AtomicU64,
}

impl GitRepo {
    /// `git init` in `dir` (created if missing), on branch `main`.
    pub fn init(dir: impl Into<PathBuf>) -> GitRepo {
        let dir = dir.into();
        std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("mkdir {}: {e}", dir.display()));
        let repo = GitRepo {
            dir,
            clock: AtomicU64::new(EPOCH),
        };
        repo.git(&["init", "-q", "-b", "main"]);
        repo.git(&["config", "commit.gpgsign", "false"]);
        repo.git(&["config", "tag.gpgsign", "false"]);
        repo
    }

    pub fn path(&self) -> &Path {
        &self.dir
    }

    /// Runs `git ARGS` in the repository and returns its trimmed standard
    /// output; fails the test with git's message if git fails.
    pub fn git(&self, args: &[&str]) -> String {
        let now = self.clock.fetch_add(1, Ordering::Relaxed);
        let date = format!("@{now} +0000");
        let out = Command::new("git")
            .arg("-C")
            .arg(&self.dir)
            .args(args)
            .env("GIT_AUTHOR_NAME", AUTHOR_NAME)
            .env("GIT_AUTHOR_EMAIL", AUTHOR_EMAIL)
            .env("GIT_COMMITTER_NAME", AUTHOR_NAME)
            .env("GIT_COMMITTER_EMAIL", AUTHOR_EMAIL)
            .env("GIT_AUTHOR_DATE", &date)
            .env("GIT_COMMITTER_DATE", &date)
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("HOME", &self.dir)
            .output()
            .expect("run git");
        assert!(
            out.status.success(),
            "git {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    /// Writes a file in the work tree (not staged).
    pub fn write(&self, path: &str, content: impl AsRef<[u8]>) -> &Self {
        crate::write(&self.dir, path, content);
        self
    }

    /// Stages everything and commits it; returns the new commit's id.
    pub fn commit_all(&self, message: &str) -> String {
        self.git(&["add", "-A"]);
        self.git(&["commit", "-q", "-m", message]);
        self.head()
    }

    /// Writes one file, stages only it and commits; returns the commit id.
    pub fn commit_file(&self, path: &str, content: impl AsRef<[u8]>, message: &str) -> String {
        self.write(path, content);
        self.git(&["add", path]);
        self.git(&["commit", "-q", "-m", message]);
        self.head()
    }

    /// Creates `name` at HEAD and checks it out.
    pub fn branch(&self, name: &str) {
        self.git(&["checkout", "-q", "-b", name]);
    }

    pub fn checkout(&self, rev: &str) {
        self.git(&["checkout", "-q", rev]);
    }

    /// Merges `branch` into the current branch with a merge commit (even
    /// when a fast-forward would do, so the history has one); returns it.
    pub fn merge(&self, branch: &str, message: &str) -> String {
        self.git(&["merge", "-q", "--no-ff", "-m", message, branch]);
        self.head()
    }

    /// An annotated tag at HEAD.
    pub fn tag(&self, name: &str) {
        self.git(&["tag", "-a", "-m", name, name]);
    }

    pub fn rev_parse(&self, rev: &str) -> String {
        self.git(&["rev-parse", rev])
    }

    pub fn head(&self) -> String {
        self.rev_parse("HEAD")
    }
}

impl AsRef<Path> for GitRepo {
    fn as_ref(&self) -> &Path {
        &self.dir
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Same commands, same ids: the identity and the clock are fixed, and
    /// date order is the order the commits were made in.
    #[test]
    fn histories_are_reproducible_and_ordered() {
        let build = |dir: &Path| {
            let repo = GitRepo::init(dir);
            repo.commit_file("README.md", "hello\n", "init");
            repo.branch("feature");
            repo.commit_file("src/app.py", "print(1)\n", "feature");
            repo.checkout("main");
            repo.write("CHANGELOG", "1.0\n").commit_all("changelog");
            let merge = repo.merge("feature", "merge feature");
            repo.tag("v1.0");
            assert_eq!(merge, repo.rev_parse("v1.0^{commit}"));
            (
                merge,
                repo.git(&["log", "--date-order", "--format=%an <%ae> %aI %s"]),
            )
        };
        let (a, b) = (
            tempfile::tempdir().expect("tmp"),
            tempfile::tempdir().expect("tmp"),
        );
        let first = build(a.path());
        assert_eq!(first, build(b.path()));
        let log: Vec<&str> = first.1.lines().collect();
        assert_eq!(log.len(), 4, "{log:?}");
        for (line, subject) in log
            .iter()
            .zip(["merge feature", "changelog", "feature", "init"])
        {
            assert!(
                line.starts_with("Dana Dev <dana@corp.net> 2024-01-01T00:00:"),
                "{line}"
            );
            assert!(line.ends_with(subject), "{log:?}");
        }
    }
}

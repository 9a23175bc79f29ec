//! The one way analyzers walk a tree, so that every analyzer agrees on what
//! a tree holds: hidden files are read (`.github/`, `.env` and `.npmrc` are
//! what we look for), `.gitignore` and `.ignore` are honoured unless the
//! policy says `scan-ignored`, no git repository is required, and `.git` is
//! never entered (history is read through git, not as files).

use std::path::Path;

use ignore::WalkBuilder;

/// A walker over `root`. `skip_dirs` are directory names this analyzer never
/// enters (`node_modules` for the CI and Dockerfile audits, vendored trees
/// for lockfiles); the caller may refine the builder further (threads,
/// symlinks, hidden files).
pub fn builder(root: &Path, scan_ignored: bool, skip_dirs: &'static [&'static str]) -> WalkBuilder {
    let mut b = WalkBuilder::new(root);
    b.hidden(false)
        .git_ignore(!scan_ignored)
        .git_exclude(!scan_ignored)
        .ignore(!scan_ignored)
        .parents(!scan_ignored)
        .require_git(false)
        .filter_entry(move |e| {
            let name = e.file_name();
            let skipped_dir =
                e.file_type().is_some_and(|t| t.is_dir()) && skip_dirs.iter().any(|d| name == *d);
            name != ".git" && !skipped_dir
        });
    b
}

#[cfg(test)]
mod tests {
    use super::builder;

    #[test]
    fn reads_hidden_files_skips_git_and_named_dirs_and_honours_gitignore() {
        let t = tempfile::tempdir().expect("tmp");
        let p = t.path();
        for f in [
            ".github/workflows/ci.yml",
            ".git/config",
            "node_modules/x/a.txt",
            "src/a.txt",
            "out/b.txt",
        ] {
            std::fs::create_dir_all(p.join(f).parent().expect("parent")).expect("mkdir");
            std::fs::write(p.join(f), "x").expect("write");
        }
        std::fs::write(p.join(".gitignore"), "out/\n").expect("write");
        let files = |scan_ignored| {
            let mut v: Vec<String> = builder(p, scan_ignored, &["node_modules"])
                .build()
                .flatten()
                .filter(|e| e.file_type().is_some_and(|t| t.is_file()))
                .map(|e| crate::relative_path(p, e.path()))
                .collect();
            v.sort();
            v
        };
        assert_eq!(
            files(false),
            [".github/workflows/ci.yml", ".gitignore", "src/a.txt"]
        );
        assert_eq!(
            files(true),
            [
                ".github/workflows/ci.yml",
                ".gitignore",
                "out/b.txt",
                "src/a.txt"
            ]
        );
    }
}

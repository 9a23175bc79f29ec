//! `pipeguard secrets`: the secrets engine on a tree, one file, standard
//! input, the staged index or git history.

use std::io::Read;
use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context;
use clap::Args;
use pipeguard_core::Report;
use pipeguard_secrets::{GitScope, Scanner};

use crate::common::{
    CommonArgs, STDIN_COMMAND, load_policy, load_repo_policy, policy_base, shown_root, usage,
};
use crate::output;

#[derive(Args)]
pub struct SecretsArgs {
    /// Directory or file to scan; `-` reads standard input.
    #[arg(default_value = ".")]
    path: PathBuf,
    /// Scan the full history of every ref instead of the working tree.
    #[arg(long, conflicts_with = "staged")]
    git: bool,
    /// Scan only commits after REV (reachable from HEAD, not from REV; a merge is
    /// compared with the merge base, and a secret the merge base already had in
    /// the same file is not reported); implies --git.
    #[arg(long, value_name = "REV", conflicts_with = "staged")]
    since: Option<String>,
    /// Scan only what is staged in the index (for pre-commit hooks).
    #[arg(long)]
    staged: bool,
    /// Skip files larger than this many bytes (default 64 MiB, or the policy's max-file-size).
    #[arg(long, value_name = "BYTES")]
    max_file_size: Option<u64>,
    /// Follow symbolic links (loops are detected and reported).
    #[arg(long)]
    follow: bool,
    /// Also scan files excluded by .gitignore.
    #[arg(long)]
    scan_ignored: bool,
    #[command(flatten)]
    common: CommonArgs,
}

pub fn run(a: SecretsArgs) -> anyhow::Result<i32> {
    let started = Instant::now();
    let stdin = a.path.as_os_str() == "-";
    if !stdin && !a.path.exists() {
        return Err(usage(format!(
            "{}: no such file or directory",
            a.path.display()
        )));
    }
    let root = if stdin {
        PathBuf::from(".")
    } else {
        a.path.clone()
    };
    let policy = if stdin {
        load_policy(a.common.config.as_deref(), &root)?
    } else {
        load_repo_policy(a.common.config.as_deref(), &root)?
    };
    let mut cfg = policy.secrets.clone();
    if a.scan_ignored {
        cfg.scan_ignored = true;
    }
    let mut scanner = Scanner::new(&cfg, &policy_base(&policy, &root))
        .map_err(|e| usage(format!("{e:#}")))?
        .follow_links(a.follow);
    if let Some(m) = a.max_file_size {
        scanner = scanner.max_file_size(m);
    }
    let progress = output::Progress::new(a.common.no_progress);
    let scope = if a.staged {
        Some(GitScope::Staged)
    } else if let Some(rev) = &a.since {
        Some(GitScope::Since(rev.clone()))
    } else if a.git {
        Some(GitScope::All)
    } else {
        None
    };
    let (outcome, command) = if stdin {
        let mut data = Vec::new();
        std::io::stdin()
            .read_to_end(&mut data)
            .context("cannot read standard input")?;
        (scanner.scan_bytes("<stdin>", &data), STDIN_COMMAND)
    } else if let Some(scope) = &scope {
        if !root.is_dir() {
            return Err(usage(format!(
                "{}: git history scanning needs a directory inside a repository",
                root.display()
            )));
        }
        let out = scanner
            .scan_git(&root, scope, &|n| progress.inc(n))
            .map_err(|e| usage(format!("{e:#}")))?;
        (out, "secrets --git")
    } else {
        (scanner.scan_path(&root, &|n| progress.inc(n)), "secrets")
    };
    progress.finish();

    let fail_on = a.common.fail_on.unwrap_or(policy.fail_on);
    let mut report = Report::new(command, &shown_root(&root), fail_on);
    report.summary.files_scanned = outcome.files;
    report.summary.bytes_scanned = outcome.bytes;
    report.summary.blobs_scanned = outcome.blobs;
    report.summary.commits_scanned = outcome.commits;
    report.problems = outcome.problems;
    output::finish(report, outcome.findings, &policy, &a.common, started)
}

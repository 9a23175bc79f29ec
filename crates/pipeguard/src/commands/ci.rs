//! `pipeguard ci`: audit CI workflows, or print (`--suggest-permissions`)
//! and apply (`--fix`) the minimal permissions.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Context;
use clap::Args;
use pipeguard_core::exit;

use crate::analyze::{self, Scope};
use crate::common::{CommonArgs, db_dir, load_policy, require_path, shown_root};
use crate::output;

#[derive(Args)]
pub struct CiArgs {
    /// Repository roots (finds .github/workflows/*.yml, action.yml, .gitlab-ci.yml) and files;
    /// a file is audited by its content wherever it lives.
    #[arg(default_value = ".", num_args = 1..)]
    paths: Vec<PathBuf>,
    /// Print the minimal `permissions:` block of every job, computed from what its steps do, instead of auditing.
    #[arg(long)]
    suggest_permissions: bool,
    /// Apply the safe fixes (minimal permissions blocks, persist-credentials: false) in place, then audit.
    #[arg(long)]
    fix: bool,
    #[command(flatten)]
    common: CommonArgs,
}

pub fn run(a: CiArgs) -> anyhow::Result<i32> {
    let started = Instant::now();
    for p in &a.paths {
        require_path(p)?;
    }
    // One directory is the repository (its policy, its root in reports);
    // anything else is read from the current directory's point of view.
    let root: &Path = match a.paths.as_slice() {
        [p] if p.is_dir() => p,
        _ => Path::new("."),
    };
    let policy = load_policy(a.common.config.as_deref(), root)?;
    if a.suggest_permissions {
        let mut out = String::new();
        for path in &a.paths {
            let settings =
                pipeguard_ci::settings(&policy, pipeguard_ci::repo_root(path).as_deref());
            for (file, job, block) in pipeguard_ci::suggest_permissions(path, &settings) {
                let file = match a.paths.len() {
                    1 => file,
                    _ if path.is_dir() => analyze::ci::shown_under(path, &file),
                    _ => file,
                };
                out.push_str(&format!("# {file}: job {job}\n{block}\n\n"));
            }
        }
        output::write_stdout(out.as_bytes())?;
        return Ok(exit::CLEAN);
    }
    if a.fix {
        for path in &a.paths {
            let settings =
                pipeguard_ci::settings(&policy, pipeguard_ci::repo_root(path).as_deref());
            for f in pipeguard_ci::fix(path, &settings).context("cannot write a fixed workflow")? {
                let f = if path.is_dir() && a.paths.len() > 1 {
                    analyze::ci::shown_under(path, &f)
                } else {
                    f
                };
                eprintln!("pipeguard: fixed {f}");
            }
        }
    }
    let scope = Scope::tree(root, &policy, db_dir(None, &policy, root))?;
    let part = match analyze::ci::single_dir(&a.paths) {
        Some(_) => analyze::ci::analyze(&scope)?,
        None => analyze::ci::analyze_paths(&scope, &a.paths)?,
    };
    output::report("ci", &shown_root(root), part, &policy, &a.common, started)
}

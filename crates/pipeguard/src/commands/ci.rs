//! `pipeguard ci`: audit CI workflows, or print (`--suggest-permissions`)
//! and apply (`--fix`) the minimal permissions.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context;
use clap::Args;
use pipeguard_core::exit;

use crate::analyze::{self, Scope};
use crate::common::{CommonArgs, db_dir, load_policy, require_path, shown_root};
use crate::output;

#[derive(Args)]
pub struct CiArgs {
    /// Repository root (finds .github/workflows/*.yml, action.yml, .gitlab-ci.yml) or one file.
    #[arg(default_value = ".")]
    path: PathBuf,
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
    require_path(&a.path)?;
    if a.suggest_permissions {
        let mut out = String::new();
        for (file, job, block) in pipeguard_ci::suggest_permissions(&a.path) {
            out.push_str(&format!("# {file}: job {job}\n{block}\n\n"));
        }
        output::write_stdout(out.as_bytes())?;
        return Ok(exit::CLEAN);
    }
    if a.fix {
        for f in pipeguard_ci::fix(&a.path).context("cannot write a fixed workflow")? {
            eprintln!("pipeguard: fixed {f}");
        }
    }
    let policy = load_policy(a.common.config.as_deref(), &a.path)?;
    let scope = Scope::tree(&a.path, &policy, db_dir(None, &policy, &a.path))?;
    let part = analyze::ci::analyze(&scope)?;
    output::report(
        "ci",
        &shown_root(&a.path),
        part,
        &policy,
        &a.common,
        started,
    )
}

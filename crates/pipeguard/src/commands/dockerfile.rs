//! `pipeguard dockerfile`: the Dockerfile rules, plus literal secrets in
//! the Dockerfiles.

use std::path::PathBuf;
use std::time::Instant;

use clap::Args;

use crate::analyze::{self, Scope};
use crate::common::{CommonArgs, db_dir, load_policy, require_path, shown_root};
use crate::output;

#[derive(Args)]
pub struct DockerfileArgs {
    /// A Dockerfile, or a directory to search (Dockerfile, Dockerfile.*, *.dockerfile, Containerfile).
    #[arg(default_value = ".")]
    path: PathBuf,
    #[command(flatten)]
    common: CommonArgs,
}

pub fn run(a: DockerfileArgs) -> anyhow::Result<i32> {
    let started = Instant::now();
    require_path(&a.path)?;
    let policy = load_policy(a.common.config.as_deref(), &a.path)?;
    let scope = Scope::tree(&a.path, &policy, db_dir(None, &policy, &a.path))?;
    let part = analyze::dockerfile::analyze(&scope)?;
    output::report(
        "dockerfile",
        &shown_root(&a.path),
        part,
        &policy,
        &a.common,
        started,
    )
}

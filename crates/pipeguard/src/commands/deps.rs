//! `pipeguard deps`: lockfiles against the advisory database, plus the
//! supply-chain audits (sources, integrity, denied packages).

use std::path::PathBuf;
use std::time::Instant;

use clap::Args;

use crate::analyze::{self, Scope};
use crate::common::{CommonArgs, db_dir, load_policy, require_path, shown_root};
use crate::output;

#[derive(Args)]
pub struct DepsArgs {
    /// Directory (or one lockfile) to scan.
    #[arg(default_value = ".")]
    path: PathBuf,
    /// Advisory database directory (default: the policy's [deps] db, else $PIPEGUARD_DB, else the platform cache).
    #[arg(long, value_name = "DIR")]
    db: Option<PathBuf>,
    /// Never download the advisory database (as [deps] offline = true): without one, exit 2 with how to import it.
    #[arg(long)]
    offline: bool,
    #[command(flatten)]
    common: CommonArgs,
}

pub fn run(a: DepsArgs) -> anyhow::Result<i32> {
    let started = Instant::now();
    require_path(&a.path)?;
    let mut policy = load_policy(a.common.config.as_deref(), &a.path)?;
    policy.deps.offline |= a.offline;
    let db = db_dir(a.db.as_deref(), &policy, &a.path);
    let scope = Scope::tree(&a.path, &policy, db)?;
    let part = analyze::deps::analyze(&scope)?;
    output::report(
        "deps",
        &shown_root(&a.path),
        part,
        &policy,
        &a.common,
        started,
    )
}

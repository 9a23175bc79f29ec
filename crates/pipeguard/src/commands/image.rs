//! `pipeguard image REF`: analyze one built image.

use std::path::{Path, PathBuf};
use std::time::Instant;

use clap::Args;

use crate::analyze;
use crate::common::{CommonArgs, db_dir, load_policy};
use crate::output;

#[derive(Args)]
pub struct ImageArgs {
    /// `oci:DIR[:TAG]`, `docker-archive:FILE`, or a path (a directory is an OCI layout, a file a `docker save` tarball).
    reference: String,
    /// Platform to pick from a multi-arch index.
    #[arg(long, default_value = "linux/amd64")]
    platform: String,
    /// Talk to the registry over plain HTTP (only for a registry you run locally).
    #[arg(long)]
    plain_http: bool,
    /// Advisory database directory for OS packages (default: the policy's [deps] db, else $PIPEGUARD_DB, else the platform cache).
    #[arg(long, value_name = "DIR")]
    db: Option<PathBuf>,
    #[command(flatten)]
    common: CommonArgs,
}

pub fn run(a: ImageArgs) -> anyhow::Result<i32> {
    let started = Instant::now();
    let here = Path::new(".");
    let policy = load_policy(a.common.config.as_deref(), here)?;
    let db = db_dir(a.db.as_deref(), &policy, here);
    let scanner = analyze::scanner(&policy, here)?;
    let part = analyze::image::one(&a.reference, &a.platform, a.plain_http, &db, &scanner)?;
    output::report("image", &a.reference, part, &policy, &a.common, started)
}

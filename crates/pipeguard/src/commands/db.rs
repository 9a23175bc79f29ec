//! `pipeguard db`: import and inspect the local OSV advisory database.

use std::path::PathBuf;
use std::time::Instant;

use clap::{Args, Subcommand};
use pipeguard_core::exit;

use crate::common::usage;
use crate::output;

#[derive(Subcommand)]
pub enum DbCommand {
    /// Import OSV advisories: from OSV's per-ecosystem all.zip files (--from), or download them.
    Update(DbUpdateArgs),
    /// Show the ecosystems, record counts and age of the database.
    Status(DbStatusArgs),
}

#[derive(Args)]
pub struct DbUpdateArgs {
    /// A directory of `<Ecosystem>/all.zip` files, one zip, or OSV JSON records.
    #[arg(long, value_name = "DIR-OR-ZIP")]
    from: Option<PathBuf>,
    /// Ecosystems to download when --from is not given (default: all supported).
    #[arg(long, value_delimiter = ',')]
    ecosystems: Vec<String>,
    /// Database directory.
    #[arg(long, value_name = "DIR", env = "PIPEGUARD_DB")]
    db: Option<PathBuf>,
}

#[derive(Args)]
pub struct DbStatusArgs {
    /// Database directory.
    #[arg(long, value_name = "DIR", env = "PIPEGUARD_DB")]
    db: Option<PathBuf>,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

fn db_dir(flag: Option<PathBuf>) -> PathBuf {
    flag.unwrap_or_else(pipeguard_deps::db::default_dir)
}

pub fn update(a: DbUpdateArgs) -> anyhow::Result<i32> {
    let dir = db_dir(a.db);
    let started = Instant::now();
    let tmp;
    let (from, source) = match &a.from {
        Some(f) => {
            if !f.exists() {
                return Err(usage(format!(
                    "--from {}: no such file or directory",
                    f.display()
                )));
            }
            (f.clone(), f.display().to_string())
        }
        None => {
            let ecos: Vec<pipeguard_deps::Ecosystem> = if a.ecosystems.is_empty() {
                pipeguard_deps::Ecosystem::ALL.to_vec()
            } else {
                a.ecosystems
                    .iter()
                    .map(|e| {
                        pipeguard_deps::Ecosystem::from_osv(e)
                            .ok_or_else(|| usage(format!("unknown ecosystem `{e}`")))
                    })
                    .collect::<anyhow::Result<_>>()?
            };
            tmp = std::env::temp_dir().join(format!("pipeguard-osv-{}", std::process::id()));
            let failed = pipeguard_deps::db::download(&tmp, &ecos)?;
            for (eco, why) in &failed {
                eprintln!("pipeguard: warning: {eco}: download failed: {why}");
            }
            if failed.len() == ecos.len() {
                let _ = std::fs::remove_dir_all(&tmp);
                anyhow::bail!(
                    "could not download any advisories (offline?); import local OSV dumps with `pipeguard db update --from DIR`"
                );
            }
            (tmp.clone(), pipeguard_deps::db::OSV_BUCKET.to_string())
        }
    };
    let stats =
        pipeguard_deps::db::import(&dir, &from, &source).map_err(|e| usage(format!("{e:#}")))?;
    if a.from.is_none() {
        let _ = std::fs::remove_dir_all(&from);
    }
    let mut out = String::new();
    for (eco, (added, updated, unchanged)) in &stats.per_ecosystem {
        out.push_str(&format!(
            "{eco:<10} {added:>6} added {updated:>6} updated {unchanged:>6} unchanged\n"
        ));
    }
    for s in stats.skipped.iter().take(20) {
        eprintln!("pipeguard: warning: skipped {s}");
    }
    out.push_str(&format!(
        "database: {} ({} ms)\n",
        dir.display(),
        started.elapsed().as_millis()
    ));
    output::write_stdout(out.as_bytes())?;
    Ok(exit::CLEAN)
}

pub fn status(a: DbStatusArgs) -> anyhow::Result<i32> {
    let dir = db_dir(a.db);
    let meta = pipeguard_deps::db::read_meta(&dir)
        .map_err(|e| usage(format!("{e:#}")))?
        .ok_or_else(|| {
            usage(format!(
                "no advisory database at {}; create it with `pipeguard db update`",
                dir.display()
            ))
        })?;
    let out = if a.json {
        let mut s = serde_json::to_string_pretty(&meta)?;
        s.push('\n');
        s
    } else {
        let now = jiff::Timestamp::now().as_second();
        let mut s = format!("database: {}\n", dir.display());
        for (eco, m) in &meta.ecosystems {
            let age = m
                .imported_at
                .parse::<jiff::Timestamp>()
                .map(|t| format!("{} days", (now - t.as_second()) / 86_400))
                .unwrap_or_else(|_| "unknown".into());
            s.push_str(&format!(
                "{eco:<10} {:>6} records  imported {} ago  newest record {}\n",
                m.records, age, m.newest_modified
            ));
        }
        s
    };
    output::write_stdout(out.as_bytes())?;
    Ok(exit::CLEAN)
}

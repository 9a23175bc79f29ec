//! `pipeguard db`: import and inspect the local OSV advisory database.

use std::path::{Path, PathBuf};
use std::time::Instant;

use clap::{Args, Subcommand};
use pipeguard_core::exit;

use pipeguard_deps::fetch;

use crate::advisories::download;
use crate::common::usage;
use crate::output;

#[derive(Subcommand)]
pub enum DbCommand {
    /// Import OSV advisories: download OSV's per-ecosystem all.zip files (from --url, [deps] db-url, $PIPEGUARD_OSV_URL or OSV), or import local ones (--from).
    Update(DbUpdateArgs),
    /// Show the ecosystems, record counts and age of the database.
    Status(DbStatusArgs),
}

#[derive(Args)]
pub struct DbUpdateArgs {
    /// A directory of `<Ecosystem>/all.zip` files, one zip, or OSV JSON records.
    #[arg(long, value_name = "DIR-OR-ZIP")]
    from: Option<PathBuf>,
    /// Where to download `<Ecosystem>/all.zip` from: a mirror of OSV's bucket (default: the policy's [deps] db-url, else $PIPEGUARD_OSV_URL, else OSV).
    #[arg(long, value_name = "URL", conflicts_with = "from")]
    url: Option<String>,
    /// Ecosystems to download when --from is not given (default: every one OSV lists; those pipeguard cannot match are reported as skipped).
    #[arg(long, value_delimiter = ',')]
    ecosystems: Vec<String>,
    /// Policy file whose [deps] db-url to use (default: pipeguard.toml in the current directory).
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
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
    let mut out = String::new();
    let mut failed = std::collections::BTreeMap::new();
    let mut skipped = std::collections::BTreeMap::new();
    let stats = match &a.from {
        Some(f) => {
            if !f.exists() {
                return Err(usage(format!(
                    "--from {}: no such file or directory",
                    f.display()
                )));
            }
            let stats = pipeguard_deps::db::import(&dir, f, &f.display().to_string())
                .map_err(|e| usage(format!("{e:#}")))?;
            for eco in &stats.unsupported {
                skipped.insert(eco.clone(), fetch::unsupported_reason(eco));
            }
            if !skipped.is_empty() {
                let mut all = pipeguard_deps::db::read_meta(&dir)
                    .ok()
                    .flatten()
                    .map(|m| m.skipped)
                    .unwrap_or_default();
                all.extend(skipped.clone());
                pipeguard_deps::db::set_skipped(&dir, &all)?;
            }
            stats
        }
        None => {
            let policy_url = match &a.url {
                Some(_) => None,
                None => {
                    let policy = crate::common::load_policy(a.config.as_deref(), Path::new("."))?;
                    policy.deps.db_url
                }
            };
            let base = fetch::base_url(a.url.as_deref(), policy_url.as_deref());
            let report = download(&dir, &base, &a.ecosystems, true).map_err(|e| {
                usage(format!(
                    "{e:#}; without network, import OSV's all.zip files with `pipeguard db update --from DIR` or name a reachable mirror with `--url MIRROR`"
                ))
            })?;
            failed = report.failed;
            skipped = report.skipped;
            report.imported
        }
    };
    for (eco, (added, updated, unchanged)) in &stats.per_ecosystem {
        out.push_str(&format!(
            "{eco:<10} {added:>6} added {updated:>6} updated {unchanged:>6} unchanged\n"
        ));
    }
    for (eco, why) in &skipped {
        out.push_str(&format!("{eco:<10} skipped: {why}\n"));
    }
    for (eco, why) in &failed {
        out.push_str(&format!(
            "{eco:<10} FAILED: {why} (its previous advisories, if any, are kept)\n"
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
    if !failed.is_empty() {
        eprintln!(
            "pipeguard: error: {} of the ecosystems could not be updated: {}",
            failed.len(),
            failed.keys().cloned().collect::<Vec<_>>().join(", ")
        );
        return Ok(exit::USAGE);
    }
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
        for (eco, why) in &meta.skipped {
            s.push_str(&format!("{eco:<10} skipped: {why}\n"));
        }
        s
    };
    output::write_stdout(out.as_bytes())?;
    Ok(exit::CLEAN)
}

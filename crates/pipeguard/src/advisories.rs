//! Getting the advisory database: the download with its progress bar
//! (`pipeguard db update`), and the first-run fetch that `scan` and `deps`
//! do when there is no database at all. Here rather than in `commands/db.rs`
//! so that the deps analyzer can call it without depending on a command.

use std::io::IsTerminal;
use std::path::Path;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use pipeguard_deps::fetch;

/// Downloads and imports OSV's dumps from `base`, with a progress bar when
/// `bar` and on an interactive terminal (none in CI logs), and each retry
/// said on stderr.
pub(crate) fn download(
    dir: &Path,
    base: &str,
    only: &[String],
    bar: bool,
) -> anyhow::Result<fetch::Report> {
    let pb = (bar && std::io::stderr().is_terminal()).then(|| {
        let pb = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
        pb.set_style(
            ProgressStyle::with_template("{spinner} {msg} {bytes} ({bytes_per_sec}) {elapsed}")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        pb.enable_steady_tick(std::time::Duration::from_millis(120));
        pb
    });
    let mut current = String::new();
    let mut on_event = |e: fetch::Event| match e {
        fetch::Event::Downloading { eco, bytes } => {
            if let Some(pb) = &pb {
                // One ecosystem at a time: its own size, rate and time.
                if current != eco {
                    current = eco.to_string();
                    pb.reset();
                    pb.set_message(format!("downloading {eco}"));
                }
                pb.set_position(bytes);
            }
        }
        fetch::Event::Retrying { eco, why } => {
            let line = format!("pipeguard: {eco}: {why}; retrying");
            match &pb {
                Some(pb) => pb.println(line),
                None => eprintln!("{line}"),
            }
        }
        fetch::Event::Importing => {
            if let Some(pb) = &pb {
                pb.set_message("importing");
            }
        }
    };
    let result = fetch::update(dir, base, only, &mut on_event);
    if let Some(pb) = &pb {
        pb.finish_and_clear();
    }
    result
}

/// Before a scan: when there is no database at all and the policy allows
/// network, downloads one (what Trivy and OSV-Scanner users expect of a
/// first run). When it may not or cannot, the error says how to proceed;
/// the caller fails closed with it.
pub(crate) fn ensure(dir: &Path, policy: &pipeguard_core::policy::Policy) -> anyhow::Result<()> {
    if !matches!(pipeguard_deps::db::read_meta(dir), Ok(None)) {
        // A database, or a broken one whose error opening it reports.
        return Ok(());
    }
    let how = "create it with `pipeguard db update --from DIR` (a directory of OSV <Ecosystem>/all.zip files) or `pipeguard db update --url MIRROR`";
    if policy.deps.offline || fetch::offline_env() {
        anyhow::bail!(
            "no advisory database at {} and downloading is forbidden (--offline, [deps] offline or PIPEGUARD_OFFLINE); {how}",
            dir.display()
        );
    }
    let base = fetch::base_url(None, policy.deps.db_url.as_deref());
    eprintln!(
        "pipeguard: no advisory database at {}; downloading OSV advisories from {base} (once; `pipeguard db update` refreshes it; use --offline to forbid)",
        dir.display()
    );
    // No bar of its own: inside `scan` it would fight the scan's spinner.
    let report = download(dir, &base, &[], false).map_err(|e| {
        anyhow::anyhow!(
            "no advisory database at {}, and downloading it failed: {e:#}; {how}",
            dir.display()
        )
    })?;
    for (eco, why) in &report.failed {
        eprintln!("pipeguard: warning: {eco}: {why}");
    }
    let records: usize = pipeguard_deps::db::read_meta(dir)
        .ok()
        .flatten()
        .map(|m| m.ecosystems.values().map(|e| e.records).sum())
        .unwrap_or(0);
    eprintln!(
        "pipeguard: advisory database ready: {} ecosystems, {records} records ({} skipped: `pipeguard db status` says why)",
        report.imported.per_ecosystem.len(),
        report.skipped.len()
    );
    Ok(())
}

//! Where reports go: standard output or a file, with progress on standard error.

use std::collections::HashSet;
use std::io::{IsTerminal, Write};
use std::path::Path;

use anyhow::Context;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use pipeguard_core::{Finding, Fingerprint, Report, Summary};

use crate::cli::{CommonArgs, UsageError};

pub struct Progress(Option<ProgressBar>);

impl Progress {
    /// Shown only on an interactive terminal: CI logs get no spinner noise.
    pub fn new(disabled: bool) -> Progress {
        if disabled || !std::io::stderr().is_terminal() {
            return Progress(None);
        }
        let pb = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
        pb.set_style(
            ProgressStyle::with_template("{spinner} scanned {bytes} ({bytes_per_sec}) {elapsed}")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        pb.enable_steady_tick(std::time::Duration::from_millis(120));
        Progress(Some(pb))
    }

    pub fn inc(&self, n: u64) {
        if let Some(pb) = &self.0 {
            pb.inc(n);
        }
    }

    pub fn finish(&self) {
        if let Some(pb) = &self.0 {
            pb.finish_and_clear();
        }
    }
}

/// Drops findings whose fingerprint is in a previous JSON report.
pub fn apply_baseline(
    findings: Vec<Finding>,
    baseline: Option<&Path>,
    summary: &mut Summary,
) -> anyhow::Result<Vec<Finding>> {
    let Some(path) = baseline else {
        return Ok(findings);
    };
    let text = std::fs::read_to_string(path).map_err(|e| {
        anyhow::Error::new(UsageError(format!(
            "{}: cannot read baseline: {e}",
            path.display()
        )))
    })?;
    let value: serde_json::Value = serde_json::from_str(&text).map_err(|e| {
        anyhow::Error::new(UsageError(format!(
            "{}:{}: baseline is not a pipeguard JSON report: {e}",
            path.display(),
            e.line()
        )))
    })?;
    let known: HashSet<Fingerprint> = value
        .get("findings")
        .and_then(|f| f.as_array())
        .ok_or_else(|| {
            anyhow::Error::new(UsageError(format!(
                "{}: baseline has no `findings` array (expected a report written with --format json)",
                path.display()
            )))
        })?
        .iter()
        .filter_map(|f| f.get("fingerprint").and_then(|x| x.as_str()))
        .map(Fingerprint::parse)
        .collect();
    let before = findings.len();
    let kept: Vec<Finding> = findings
        .into_iter()
        .filter(|f| !known.contains(&f.fingerprint))
        .collect();
    summary.suppressed_by_baseline = before - kept.len();
    Ok(kept)
}

pub fn write_stdout(bytes: &[u8]) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    match out.write_all(bytes).and_then(|_| out.flush()) {
        // A closed pipe (`| head`) is not an error worth a non-zero exit.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => other.context("cannot write to standard output"),
    }
}

pub fn emit(report: &Report, args: &CommonArgs) -> anyhow::Result<()> {
    for (format, path) in args.extra_reports() {
        let mut buf = Vec::new();
        pipeguard_report::render(report, *format, false, &mut buf)?;
        std::fs::write(path, &buf)
            .with_context(|| format!("cannot write report to {}", path.display()))?;
    }
    let mut buf = Vec::new();
    let to_tty = args.output().is_none() && std::io::stdout().is_terminal();
    pipeguard_report::render(report, args.format(), args.color(to_tty), &mut buf)?;
    match args.output() {
        Some(path) => std::fs::write(path, &buf)
            .with_context(|| format!("cannot write report to {}", path.display())),
        None => write_stdout(&buf),
    }
}

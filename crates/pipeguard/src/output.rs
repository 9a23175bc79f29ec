//! The tail every reporting command shares: ignores, baseline, rendering to
//! standard output or files, and the exit code; plus progress on standard
//! error.

use std::collections::HashSet;
use std::io::{IsTerminal, Write};
use std::path::Path;
use std::time::Instant;

use anyhow::Context;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use pipeguard_core::{Finding, Fingerprint, Outcome, Policy, Report, Summary, exit};
use pipeguard_report::Options;

use crate::common::{CommonArgs, STDIN_COMMAND, UsageError, scanned_commit};

/// The report of one analyzer's command: the part's counts and problems,
/// then [`finish`].
pub fn report(
    command: &str,
    shown_root: &str,
    part: Outcome,
    policy: &Policy,
    common: &CommonArgs,
    started: Instant,
) -> anyhow::Result<i32> {
    let fail_on = common.fail_on.unwrap_or(policy.fail_on);
    let mut report = Report::new(command, shown_root, fail_on);
    part.count_into(&mut report.summary);
    report.problems = part.problems;
    // A single analyzer's command always fails closed.
    report.unchecked = part.incomplete;
    finish(report, part.findings, policy, common, started)
}

/// Ignores, the scanned commit, the baseline, rendering, and the exit code:
/// the same for every command, so a policy ignore or a baseline works alike
/// everywhere.
pub fn finish(
    mut report: Report,
    findings: Vec<Finding>,
    policy: &Policy,
    common: &CommonArgs,
    started: Instant,
) -> anyhow::Result<i32> {
    let mut findings = policy.apply_ignores(findings, pipeguard_core::policy::today());
    tag_tests(&mut findings, policy);
    if report.commit.is_none() && report.command != STDIN_COMMAND {
        report.commit = scanned_commit(Path::new(&report.root));
    }
    report.findings = apply_baseline(findings, common.baseline.as_deref(), &mut report.summary)?;
    report.summary.duration_ms = started.elapsed().as_millis() as u64;
    report.finish();
    let formats =
        std::iter::once(common.format()).chain(common.extra_reports().iter().map(|r| r.0));
    if formats
        .into_iter()
        .any(|f| f == pipeguard_report::Format::Sarif)
    {
        report.rules = crate::registry::used_by(&report.findings, policy)?;
    }
    emit(&report, common)?;
    if !report.unchecked.is_empty() {
        // Fail closed, after the report is out: its findings still help.
        for why in &report.unchecked {
            eprintln!("pipeguard: error: not checked: {why}");
        }
        eprintln!(
            "pipeguard: error: the scan is incomplete, so it cannot pass (exit 2); fix the above, or set `on-error = \"warn\"` in the profile to only list them"
        );
        return Ok(exit::USAGE);
    }
    Ok(if report.fails() {
        exit::FINDINGS
    } else {
        exit::CLEAN
    })
}

/// Tags `test` every finding whose places are all test or fixture data
/// (`[scan] test-dirs`, else the built-in list). Idempotent.
pub fn tag_tests(findings: &mut [Finding], policy: &Policy) {
    let dirs = policy
        .scan
        .test_dirs
        .clone()
        .unwrap_or_else(pipeguard_core::testpath::default_dirs);
    for f in findings {
        let in_tests = !f.locations.is_empty()
            && f.locations
                .iter()
                .all(|l| pipeguard_core::testpath::is_test_path(&l.path, &dirs));
        if in_tests && !f.tags.iter().any(|t| t == "test") {
            f.tags.push("test".to_string());
        }
    }
}

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
    let files = Options {
        color: false,
        ..args.render_options(false)
    };
    for (format, path) in args.extra_reports() {
        let mut buf = Vec::new();
        pipeguard_report::render_with(report, *format, &files, &mut buf)?;
        std::fs::write(path, &buf)
            .with_context(|| format!("cannot write report to {}", path.display()))?;
    }
    let to_tty = args.output().is_none() && std::io::stdout().is_terminal();
    let main_report = || -> anyhow::Result<Vec<u8>> {
        let mut buf = Vec::new();
        pipeguard_report::render_with(
            report,
            args.format(),
            &args.render_options(to_tty),
            &mut buf,
        )?;
        Ok(buf)
    };
    match args.output() {
        Some(path) => std::fs::write(path, main_report()?)
            .with_context(|| format!("cannot write report to {}", path.display()))?,
        None if !args.quiet() => return write_stdout(&main_report()?),
        None => {}
    }
    if args.quiet() {
        // The verdict whatever the format: quiet is for people (and logs)
        // who only need to know whether the gate held, while the full
        // report goes to `--output` or `--report`.
        let mut line = Vec::new();
        let color = args.color(std::io::stdout().is_terminal());
        pipeguard_report::human::render_quiet(report, color, &mut line)?;
        write_stdout(&line)?;
    }
    Ok(())
}

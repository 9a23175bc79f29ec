//! What every command shares: the common options, policy loading, where the
//! advisory database is, and the usage-error type that maps to exit 2.
//! Nothing here renders or scans; `output` renders, `analyze` scans.

use std::path::{Path, PathBuf};

use clap::{Args, ValueEnum};
use pipeguard_core::{Policy, Severity};
use pipeguard_report::{Format, GroupBy, Options};

#[derive(Clone, Copy, ValueEnum)]
pub(crate) enum ColorChoice {
    Auto,
    Always,
    Never,
}

/// Options every scanning command shares.
#[derive(Args)]
pub struct CommonArgs {
    /// Policy file (default: pipeguard.toml at the scanned root, if any).
    #[arg(long, short = 'c', value_name = "FILE", env = "PIPEGUARD_CONFIG")]
    pub(crate) config: Option<PathBuf>,
    /// Output format.
    #[arg(long, short = 'f', default_value = "human", value_parser = pipeguard_report::Format::NAMES)]
    pub(crate) format: String,
    /// Write the report to FILE instead of standard output.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub(crate) output: Option<PathBuf>,
    /// Also write the report in another format to a file, from the same scan
    /// (repeatable): `--report sarif=pipeguard.sarif --report markdown=summary.md`.
    #[arg(long, value_name = "FORMAT=FILE", value_parser = parse_report_spec)]
    pub(crate) report: Vec<(Format, PathBuf)>,
    /// Report only findings whose fingerprint is not in this earlier JSON report.
    #[arg(long, value_name = "FILE")]
    pub(crate) baseline: Option<PathBuf>,
    /// Fail (exit 1) on findings at or above this severity; overrides the policy's `fail-on`.
    #[arg(long, value_name = "SEVERITY", value_parser = parse_severity)]
    pub(crate) fail_on: Option<Severity>,
    /// When to colour the human report.
    #[arg(long, value_enum, default_value = "auto")]
    pub(crate) color: ColorChoice,
    /// Never draw a progress line on standard error.
    #[arg(long)]
    pub(crate) no_progress: bool,
    /// Print only the verdict line (and how many inputs could not be
    /// scanned, if any); the exit code is unchanged, and `--output` and
    /// `--report` files are still written in full.
    #[arg(long, short = 'q')]
    pub(crate) quiet: bool,
    /// Group the human report's findings by rule, file or package, each
    /// group under a header with its count (default: most severe first).
    #[arg(long, value_name = "GROUP", value_parser = parse_group_by)]
    pub(crate) group_by: Option<GroupBy>,
}

fn parse_group_by(s: &str) -> Result<GroupBy, String> {
    s.parse()
}

fn parse_report_spec(s: &str) -> Result<(Format, PathBuf), String> {
    let (f, file) = s
        .split_once('=')
        .ok_or_else(|| format!("`{s}`: expected FORMAT=FILE, e.g. sarif=pipeguard.sarif"))?;
    if file.is_empty() {
        return Err(format!("`{s}`: no file name after `=`"));
    }
    Ok((f.parse()?, PathBuf::from(file)))
}

fn parse_severity(s: &str) -> Result<Severity, String> {
    s.parse()
}

/// The command name of a standard-input secrets scan: it has no commit.
pub(crate) const STDIN_COMMAND: &str = "secrets -";

/// Errors that are the user's to fix (exit 2), as opposed to internal ones.
#[derive(Debug)]
pub struct UsageError(pub String);

impl std::fmt::Display for UsageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UsageError {}

pub(crate) fn usage(msg: impl Into<String>) -> anyhow::Error {
    anyhow::Error::new(UsageError(msg.into()))
}

/// The policy: `--config`, else `pipeguard.toml` at the root, else defaults.
pub(crate) fn load_policy(config: Option<&Path>, root: &Path) -> anyhow::Result<Policy> {
    match config {
        Some(p) => Policy::load(p),
        None => Policy::discover(root),
    }
    .map_err(policy_error)
}

/// A policy error's own message already ends with its cause (the I/O error
/// of an unreadable file); printed as a chain it would say "No such file or
/// directory" twice. The user fixes it either way: exit 2.
fn policy_error(e: pipeguard_core::PolicyError) -> anyhow::Error {
    usage(e.to_string())
}

/// As [`load_policy`], and when the root has no policy file but sits below
/// the top of a git work tree, the policy at the top: scanning `repo/sub`
/// is scanning part of `repo`, under `repo`'s rules. Which file that was is
/// said on standard error, since it is not where the user pointed.
pub(crate) fn load_repo_policy(config: Option<&Path>, root: &Path) -> anyhow::Result<Policy> {
    let policy = load_policy(config, root)?;
    if config.is_some() || policy.path.is_some() || !root.is_dir() {
        return Ok(policy);
    }
    let Some(top) = crate::diff::git(root, &["rev-parse", "--show-toplevel"])
        .ok()
        .map(|o| PathBuf::from(String::from_utf8_lossy(&o).trim()))
        .filter(|t| !t.as_os_str().is_empty())
    else {
        return Ok(policy);
    };
    let candidate = top.join(pipeguard_core::policy::FILE_NAME);
    let same = |a: &Path, b: &Path| match (std::fs::canonicalize(a), std::fs::canonicalize(b)) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    };
    if same(&top, root) || !candidate.is_file() {
        return Ok(policy);
    }
    let policy = Policy::load(&candidate).map_err(policy_error)?;
    eprintln!("pipeguard: policy: {}", candidate.display());
    Ok(policy)
}

pub(crate) fn policy_base(policy: &Policy, root: &Path) -> PathBuf {
    policy
        .path
        .as_ref()
        .and_then(|p| p.parent().map(Path::to_path_buf))
        .unwrap_or_else(|| {
            if root.is_dir() {
                root.to_path_buf()
            } else {
                PathBuf::from(".")
            }
        })
}

/// The commit being scanned: the CI's own variable, else `git rev-parse HEAD`.
pub(crate) fn scanned_commit(root: &Path) -> Option<String> {
    for var in ["CI_COMMIT_SHA", "GITHUB_SHA"] {
        if let Ok(v) = std::env::var(var)
            && !v.trim().is_empty()
        {
            return Some(v.trim().to_string());
        }
    }
    let dir = if root.is_dir() { root } else { Path::new(".") };
    let out = crate::diff::git(dir, &["rev-parse", "--verify", "-q", "HEAD"]).ok()?;
    let sha = String::from_utf8_lossy(&out).trim().to_string();
    (!sha.is_empty()).then_some(sha)
}

/// The scanned root as reports show it: absolute when it exists.
pub(crate) fn shown_root(path: &Path) -> String {
    std::fs::canonicalize(path)
        .unwrap_or_else(|_| path.to_path_buf())
        .display()
        .to_string()
}

pub(crate) fn require_path(path: &Path) -> anyhow::Result<()> {
    if path.exists() {
        Ok(())
    } else {
        Err(usage(format!(
            "{}: no such file or directory",
            path.display()
        )))
    }
}

impl CommonArgs {
    pub fn format(&self) -> Format {
        self.format.parse().unwrap_or(Format::Human)
    }

    pub fn output(&self) -> Option<&Path> {
        self.output.as_deref()
    }

    pub fn extra_reports(&self) -> &[(Format, PathBuf)] {
        &self.report
    }

    pub fn quiet(&self) -> bool {
        self.quiet
    }

    /// The rendering options of the report on standard output or `--output`
    /// (the `--report` files never have colour).
    pub fn render_options(&self, is_tty: bool) -> Options {
        Options {
            color: self.color(is_tty),
            group_by: self.group_by,
        }
    }

    pub fn color(&self, is_tty: bool) -> bool {
        match self.color {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => is_tty && std::env::var_os("NO_COLOR").is_none(),
        }
    }
}

/// The advisory database: the flag, else the policy's `[deps] db` (relative
/// to the policy file), else `$PIPEGUARD_DB`, else the platform cache. One
/// resolution for every command that matches packages.
pub(crate) fn db_dir(flag: Option<&Path>, policy: &Policy, root: &Path) -> PathBuf {
    flag.map(Path::to_path_buf)
        .or_else(|| {
            policy
                .deps
                .db
                .as_ref()
                .map(|d| policy_base(policy, root).join(d))
        })
        .unwrap_or_else(pipeguard_deps::db::default_dir)
}

//! The shared vocabulary of pipeguard: every analyzer reports [`Finding`]s of one
//! shape, keeps secret values inside [`Redacted`], and is gated by one [`Policy`]
//! read from `pipeguard.toml`. Nothing here scans anything; this crate exists so
//! that reports, baselines, ignores and thresholds work the same for every
//! analyzer.

pub mod finding;
pub mod fingerprint;
pub mod policy;
pub mod profile;
pub mod redact;
pub mod report;
pub mod rule;
pub mod run;
pub mod testpath;
pub mod walk;

pub use finding::{
    Confidence, Finding, FindingBuilder, FlowStep, GitOrigin, Location, PackageRef, Remediation,
    Severity,
};
pub use fingerprint::Fingerprint;
pub use policy::{IgnoreEntry, Policy, PolicyError};
pub use redact::Redacted;
pub use report::{Outcome, Problem, Report, Summary};
pub use rule::{RuleDoc, RuleMeta, Sink};

/// A path as findings show it: relative to the scanned root, `/`-separated;
/// when the root is the file itself, the path as given.
pub fn relative_path(root: &std::path::Path, path: &std::path::Path) -> String {
    path.strip_prefix(root)
        .ok()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(path)
        .to_string_lossy()
        .replace('\\', "/")
}

/// Exit codes shared by every command (see README "Exit codes").
pub mod exit {
    /// Nothing at or above the threshold.
    pub const CLEAN: i32 = 0;
    /// Findings at or above the threshold.
    pub const FINDINGS: i32 = 1;
    /// Bad usage or bad configuration.
    pub const USAGE: i32 = 2;
    /// Internal error.
    pub const INTERNAL: i32 = 3;
}

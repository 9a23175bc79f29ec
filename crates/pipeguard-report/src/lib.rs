//! Output formats. Each module turns a finished [`Report`] into bytes; none of
//! them sees a secret value, because findings only carry `Redacted` values and
//! redacted snippets.

use std::io::{self, Write};
use std::str::FromStr;

use pipeguard_core::Report;

pub mod github;
pub mod gitlab;
pub mod human;
pub mod json;
pub mod junit;
pub mod markdown;
pub mod sarif;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Human,
    Json,
    Sarif,
    Junit,
    /// GitHub Actions workflow commands (annotations).
    Github,
    Markdown,
    /// GitLab security reports (schema 15.2.1), one per report type.
    GitlabSecretDetection,
    GitlabDependencyScanning,
    GitlabSast,
}

impl Format {
    /// Every format name `--format` accepts.
    pub const NAMES: [&'static str; 9] = [
        "human",
        "json",
        "sarif",
        "junit",
        "github",
        "markdown",
        "gitlab-secret-detection",
        "gitlab-dependency-scanning",
        "gitlab-sast",
    ];
}

impl FromStr for Format {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "human" | "text" => Ok(Format::Human),
            "json" => Ok(Format::Json),
            "sarif" => Ok(Format::Sarif),
            "junit" => Ok(Format::Junit),
            "github" => Ok(Format::Github),
            "markdown" | "md" => Ok(Format::Markdown),
            "gitlab-secret-detection" => Ok(Format::GitlabSecretDetection),
            "gitlab-dependency-scanning" => Ok(Format::GitlabDependencyScanning),
            "gitlab-sast" => Ok(Format::GitlabSast),
            other => Err(format!(
                "unknown format `{other}` (expected one of {})",
                Format::NAMES.join(", ")
            )),
        }
    }
}

/// Renders `report` in `format`. `color` only affects the human format.
pub fn render(report: &Report, format: Format, color: bool, out: &mut dyn Write) -> io::Result<()> {
    match format {
        Format::Human => human::render(report, color, out),
        Format::Json => json::render(report, out),
        Format::Sarif => sarif::render(report, out),
        Format::Junit => junit::render(report, out),
        Format::Github => github::render(report, out),
        Format::Markdown => markdown::render(report, out),
        Format::GitlabSecretDetection => gitlab::render(report, gitlab::Kind::SecretDetection, out),
        Format::GitlabDependencyScanning => {
            gitlab::render(report, gitlab::Kind::DependencyScanning, out)
        }
        Format::GitlabSast => gitlab::render(report, gitlab::Kind::Sast, out),
    }
}

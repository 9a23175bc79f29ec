//! Output formats. Each module turns a finished [`Report`] into bytes; none of
//! them sees a secret value, because findings only carry `Redacted` values and
//! redacted snippets.

use std::io::{self, Write};
use std::str::FromStr;

use pipeguard_core::Report;

pub mod github;
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
            other => Err(format!(
                "unknown format `{other}` (expected human, json, sarif, junit, github or markdown)"
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
    }
}

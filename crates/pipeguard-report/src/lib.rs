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

pub use human::GroupBy;

/// Declares [`Format`] and its lists from one table, so that a format added
/// later is in [`Format::ALL`] and [`Format::NAMES`] by construction: tests
/// that iterate `ALL` (the canary test renders every format) cannot skip it,
/// and `--format` accepts it. A hand-kept list beside the enum would compile
/// fine without the new variant.
macro_rules! formats {
    ($($(#[$doc:meta])* $variant:ident => $name:literal,)*) => {
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum Format {
            $($(#[$doc])* $variant,)*
        }

        impl Format {
            /// Every format, in the order `--help` lists them.
            pub const ALL: [Format; [$($name),*].len()] = [$(Format::$variant),*];

            /// Every format name `--format` accepts (besides the aliases
            /// `text` and `md`), in the order of [`Format::ALL`].
            pub const NAMES: [&'static str; [$($name),*].len()] = [$($name),*];

            /// The name `--format` and `--report` know this format by.
            pub const fn name(self) -> &'static str {
                match self {
                    $(Format::$variant => $name,)*
                }
            }
        }
    };
}

formats! {
    Human => "human",
    Json => "json",
    Sarif => "sarif",
    Junit => "junit",
    /// GitHub Actions workflow commands (annotations).
    Github => "github",
    Markdown => "markdown",
    /// GitLab security reports (schema 15.2.1), one per report type.
    GitlabSecretDetection => "gitlab-secret-detection",
    GitlabDependencyScanning => "gitlab-dependency-scanning",
    GitlabSast => "gitlab-sast",
}

impl FromStr for Format {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "text" => Ok(Format::Human),
            "md" => Ok(Format::Markdown),
            _ => Format::ALL
                .into_iter()
                .find(|f| f.name() == s)
                .ok_or_else(|| {
                    format!(
                        "unknown format `{s}` (expected one of {})",
                        Format::NAMES.join(", ")
                    )
                }),
        }
    }
}

/// How to render, beyond the format. Both only affect the human format:
/// the other formats are read by programs or rendered by a web page.
#[derive(Debug, Clone, Copy, Default)]
pub struct Options {
    pub color: bool,
    pub group_by: Option<GroupBy>,
}

/// Renders `report` in `format`. `color` only affects the human format.
pub fn render(report: &Report, format: Format, color: bool, out: &mut dyn Write) -> io::Result<()> {
    render_with(
        report,
        format,
        &Options {
            color,
            ..Options::default()
        },
        out,
    )
}

/// Renders `report` in `format` with `opts`.
pub fn render_with(
    report: &Report,
    format: Format,
    opts: &Options,
    out: &mut dyn Write,
) -> io::Result<()> {
    match format {
        Format::Human => human::render(report, opts, out),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_name_and_alias_parses_to_its_format() {
        for f in Format::ALL {
            assert_eq!(f.name().parse::<Format>(), Ok(f));
        }
        assert_eq!(Format::NAMES, Format::ALL.map(Format::name));
        assert_eq!("text".parse::<Format>(), Ok(Format::Human));
        assert_eq!("md".parse::<Format>(), Ok(Format::Markdown));
        let err = "yaml".parse::<Format>().expect_err("no such format");
        assert!(
            err.contains("unknown format `yaml`") && err.contains("gitlab-sast"),
            "{err}"
        );
    }
}

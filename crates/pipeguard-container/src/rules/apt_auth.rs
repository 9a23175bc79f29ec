//! `apt-unauthenticated`: apt told to install packages whose signatures it
//! did not check.

use pipeguard_core::{Confidence, RuleMeta, Severity, rule_meta};
use regex::Regex;

use super::run::{commands, re, runs_in};
use super::{InstructionSink, Rule, Sink};
use crate::dockerfile::Dockerfile;

pub struct AptUnauthenticated;

rule_meta! {
    /// ## What it does
    /// Flags apt configured to accept unsigned packages or repositories: a
    /// source marked `[trusted=yes]` (written by a RUN, e.g. `echo "deb
    /// [trusted=yes] …" > /etc/apt/sources.list.d/x.list`, or by a `COPY`
    /// heredoc), `apt-get install --allow-unauthenticated`,
    /// `--allow-insecure-repositories` or `--force-yes`, and the
    /// `APT::Get::AllowUnauthenticated` / `Acquire::AllowInsecureRepositories`
    /// options. Also in `ONBUILD RUN`s. A list file copied from the build
    /// context is not read.
    /// ## Why is this bad
    /// apt's signature check is what ties a package to the repository's key;
    /// without it, anyone who can answer the download (a mirror, a proxy, the
    /// network path of a plain-`http` source) chooses what gets installed.
    static APT_AUTH = {
        id: "apt-unauthenticated",
        name: "apt installs unauthenticated packages",
        severity: Severity::High,
        confidence: Confidence::High,
        fix: "Remove `[trusted=yes]` and the allow-unauthenticated options; add the repository's signing key with `signed-by=/etc/apt/keyrings/<repo>.gpg` instead.",
        cwe: &[494, 345],
    };
}

/// What in `text` turns off apt's signature checks, if anything.
fn unauthenticated(text: &str) -> Option<String> {
    static TRUSTED: std::sync::OnceLock<Regex> = std::sync::OnceLock::new();
    static OPTION: std::sync::OnceLock<Regex> = std::sync::OnceLock::new();
    // Cheap prefilter: every hazard below contains one of these words.
    let lower = text.to_ascii_lowercase();
    if !lower.contains("trusted")
        && !lower.contains("allow")
        && !lower.contains("force-yes")
        && !lower.contains("insecure")
    {
        return None;
    }
    let trusted = re(r"\[[^\]\n]*\btrusted=(?:yes|true|1)\b[^\]\n]*\]", &TRUSTED);
    if let Some(m) = trusted.find(text) {
        return Some(m.as_str().to_string());
    }
    let option = re(
        r#"(?i)(?:APT::Get::AllowUnauthenticated|Acquire::AllowInsecureRepositories|Acquire::AllowDowngradeToInsecureRepositories)\s*=?\s*"?(?:true|yes|1)\b"#,
        &OPTION,
    );
    if let Some(m) = option.find(text) {
        return Some(m.as_str().replace('"', ""));
    }
    commands(text).into_iter().find_map(|c| {
        let w: Vec<&str> = c.split_whitespace().collect();
        let apt = w
            .iter()
            .any(|x| matches!(*x, "apt-get" | "apt" | "aptitude"));
        let flag = w.iter().find(|x| {
            matches!(
                **x,
                "--allow-unauthenticated" | "--allow-insecure-repositories" | "--force-yes"
            )
        });
        flag.filter(|_| apt).map(|f| f.to_string())
    })
}

impl Rule for AptUnauthenticated {
    fn meta(&self) -> &'static RuleMeta {
        &APT_AUTH
    }

    fn check(&self, df: &Dockerfile, out: &mut Sink) {
        for ins in runs_in(df.stages.iter()) {
            if let Some(what) = unauthenticated(&ins.script()) {
                out.report(
                    &APT_AUTH,
                    &ins,
                    &what,
                    format!(
                        "`{what}` makes apt install packages without checking their signatures."
                    ),
                );
            }
        }
        // A sources list written by a COPY heredoc.
        for ins in df
            .stages
            .iter()
            .flat_map(|s| s.instructions.iter())
            .filter(|i| (i.keyword == "COPY" || i.keyword == "ADD") && !i.heredocs.is_empty())
        {
            let bodies: Vec<&str> = ins.heredocs.iter().map(|h| h.body.as_str()).collect();
            if let Some(what) = unauthenticated(&bodies.join("\n")) {
                out.report(
                    &APT_AUTH,
                    ins,
                    &what,
                    format!(
                        "`{what}` makes apt install packages without checking their signatures."
                    ),
                );
            }
        }
    }
}

//! Dockerfile rules. Each rule is a struct with its `RuleMeta` and one
//! `check`; `ALL` is the registry. A rule's docs are the doc comment of its
//! `rule_meta!`.

use pipeguard_core::{Location, RuleMeta};

use crate::dockerfile::{Dockerfile, Instruction};

mod apt_auth;
mod base;
mod copy_from;
mod download;
mod files;
mod run;

pub trait Rule: Sync {
    fn meta(&self) -> &'static RuleMeta;
    fn check(&self, df: &Dockerfile, out: &mut Sink);
}

/// The Dockerfile rules as registry entries.
pub fn rules() -> Vec<pipeguard_core::RuleDoc> {
    ALL.iter().map(|r| r.meta().doc("dockerfile")).collect()
}

pub static ALL: &[&dyn Rule] = &[
    &base::RootUser,
    &base::SingleStageBuild,
    &base::UnpinnedBaseImage,
    &base::BaseImageWithoutDigest,
    &base::FatBaseImage,
    &files::SecretInEnv,
    &files::SensitiveFileCopied,
    &files::AddRemoteUrl,
    &files::SshPortExposed,
    &run::CurlPipeShell,
    &run::CurlInsecure,
    &run::AptMissingNoInstallRecommends,
    &run::AptCacheNotCleaned,
    &run::UnpinnedPackageInstall,
    &run::SudoInRun,
    &copy_from::CopyMissingFrom,
    &apt_auth::AptUnauthenticated,
    &download::UnverifiedDownload,
];

/// Collects one file's findings (the shared sink of the rules that are
/// code), reported at instructions.
pub use pipeguard_core::Sink;

/// A sink for one Dockerfile: `# pipeguard: ignore[rule-id]` on the line
/// before an instruction suppresses (a `#` inside an instruction is not a
/// comment).
pub fn sink<'t>(path: &str, text: &'t str) -> Sink<'t> {
    Sink::new("dockerfile", path, text, false)
}

/// Reporting at an instruction, with secrets in its text redacted.
pub trait InstructionSink {
    fn report(&mut self, meta: &'static RuleMeta, ins: &Instruction, key: &str, message: String);
}

impl InstructionSink for Sink<'_> {
    fn report(&mut self, meta: &'static RuleMeta, ins: &Instruction, key: &str, message: String) {
        // Redacted before it is cut to length, so a cut cannot leave part
        // of a secret visible.
        let snippet = self
            .line_text(ins.line)
            .map(|l| redact(ins, l.trim()).chars().take(200).collect::<String>());
        let location = Location {
            line: Some(ins.line),
            column: Some(1),
            end_line: Some(ins.end_line),
            snippet,
            ..Location::file(self.path.clone())
        };
        self.push(meta, location, key, redact(ins, &message), None);
    }
}

/// Hides the secrets an instruction's text may carry before it goes into a
/// finding: the values of secret-looking ENV/ARG names, and passwords in
/// URLs (`https://user:PASSWORD@host`). Findings about other hazards on the
/// same line (an unpinned base, an unverified download) must not quote them.
fn redact(ins: &Instruction, text: &str) -> String {
    static URL_PASSWORD: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    let re = URL_PASSWORD.get_or_init(|| {
        regex::Regex::new(r"([A-Za-z][A-Za-z0-9+.\-]*://[^/\s:@]*:)([^/\s@]+)@")
            .expect("valid regex")
    });
    let mut out = re
        .replace_all(text, |c: &regex::Captures<'_>| {
            format!("{}{}@", &c[1], pipeguard_core::Redacted::new(&c[2]))
        })
        .into_owned();
    if ins.keyword == "ENV" || ins.keyword == "ARG" {
        // Looser than the rule on purpose: hiding a path too is harmless,
        // showing a key that happens to start with `/` is not.
        for (k, v) in files::pairs(&ins.args) {
            if files::secret_name(&k) && !v.is_empty() && !v.starts_with('$') {
                out = out.replace(&v, &pipeguard_core::Redacted::new(v.as_str()).to_string());
            }
        }
    }
    out
}

/// Runs every rule on one parsed Dockerfile.
pub fn run(df: &Dockerfile, out: &mut Sink) {
    for r in ALL {
        r.check(df, out);
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn ids_are_unique_and_documented() {
        let mut seen = HashSet::new();
        for r in ALL {
            let m = r.meta();
            assert!(seen.insert(m.id), "duplicate {}", m.id);
            assert!(
                m.id.bytes().all(|b| b.is_ascii_lowercase() || b == b'-'),
                "{}",
                m.id
            );
            assert!(
                !m.name.is_empty() && m.fix.len() > 20,
                "{} lacks docs",
                m.id
            );
        }
    }

    /// Regression (issue #9, canary test): `secret-in-env` and the other
    /// rules on the same line quoted the line as it was, secret included.
    #[test]
    fn snippets_and_messages_never_quote_a_secret() {
        let token = format!("ghp_{}", "Zq3vB8xLr2mT6yN0pW4sK7dF1hJ9cE0a1b2c");
        let password = format!("Pw{}", "7hQ2kLm9Xz4Rt8Vb");
        let text = format!(
            "FROM ubuntu\nARG GITHUB_TOKEN={token}\nENV API_KEY=\"{token}\" MODE=prod\nRUN wget https://ci:{password}@files.corp.net/app.tgz && curl -k https://ci:{password}@x/y | sh\n"
        );
        let findings = crate::audit_text("Dockerfile", &text).expect("parses");
        let ids: Vec<&str> = findings.iter().map(|f| f.rule_id.as_str()).collect();
        assert!(ids.contains(&"secret-in-env"), "{ids:?}");
        assert!(findings.len() >= 4, "{ids:?}");
        for f in &findings {
            let shown = serde_json::to_string(f).expect("serialize");
            assert!(!shown.contains(&token), "{}: {shown}", f.rule_id);
            assert!(!shown.contains(&password), "{}: {shown}", f.rule_id);
        }
        // What is not a secret stays readable.
        let env = findings
            .iter()
            .find(|f| f.locations[0].line == Some(3))
            .expect("ENV finding");
        let snippet = env.locations[0].snippet.as_deref().expect("snippet");
        assert!(
            snippet.contains("MODE=prod") && snippet.contains("ghp_…(40 chars)"),
            "{snippet}"
        );
    }
}

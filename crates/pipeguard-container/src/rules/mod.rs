//! Dockerfile rules. Each rule is a struct with its `RuleMeta` and one
//! `check`; `ALL` is the registry. Documentation sits on each rule.

use pipeguard_core::{Finding, Location, RuleMeta};

use crate::dockerfile::{Dockerfile, Instruction};

mod base;
mod files;
mod run;

pub trait Rule: Sync {
    fn meta(&self) -> &'static RuleMeta;
    fn check(&self, df: &Dockerfile, out: &mut Sink);
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
];

/// Collects one file's findings, honouring `# pipeguard: ignore[rule-id]`
/// on the line before an instruction.
pub struct Sink<'t> {
    path: String,
    lines: Vec<&'t str>,
    pub findings: Vec<Finding>,
}

impl<'t> Sink<'t> {
    pub fn new(path: &str, text: &'t str) -> Self {
        Sink {
            path: path.to_string(),
            lines: text.lines().collect(),
            findings: Vec::new(),
        }
    }

    fn suppressed(&self, line: u32, id: &str) -> bool {
        (line as usize)
            .checked_sub(2)
            .and_then(|i| self.lines.get(i))
            .is_some_and(|prev| pipeguard_core::rule::ignores(prev, id))
    }

    pub fn report(
        &mut self,
        meta: &'static RuleMeta,
        ins: &Instruction,
        key: &str,
        message: String,
    ) {
        if self.suppressed(ins.line, meta.id) {
            return;
        }
        let snippet = self
            .lines
            .get(ins.line as usize - 1)
            .map(|l| l.trim().chars().take(200).collect::<String>());
        let location = Location {
            line: Some(ins.line),
            column: Some(1),
            end_line: Some(ins.end_line),
            snippet,
            ..Location::file(self.path.clone())
        };
        self.findings
            .push(meta.finding("dockerfile", location, key, message, None));
    }
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
}

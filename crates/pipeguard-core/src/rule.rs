//! Static facts about a rule, shared by the analyzers whose rules are code
//! (CI audits, Dockerfile rules): one place builds their findings, so every
//! analyzer's findings have the same shape and fingerprint scheme.

use crate::{Confidence, Finding, Fingerprint, Location, Remediation, Severity};

#[derive(Debug)]
pub struct RuleMeta {
    /// Kebab-case id, unique across analyzers.
    pub id: &'static str,
    pub name: &'static str,
    pub severity: Severity,
    pub confidence: Confidence,
    /// What to do about it; appended to every message and used as remediation.
    pub fix: &'static str,
}

impl RuleMeta {
    /// A finding of this rule at `location`. `key` is what makes it distinct
    /// within the file (a job, an image, an instruction's text): the
    /// fingerprint comes from it and never from the line.
    pub fn finding(
        &'static self,
        analyzer: &str,
        location: Location,
        key: &str,
        message: String,
        replacement: Option<String>,
    ) -> Finding {
        Finding {
            rule_id: self.id.to_string(),
            rule_name: self.name.to_string(),
            aliases: Vec::new(),
            analyzer: analyzer.to_string(),
            severity: self.severity,
            confidence: self.confidence,
            message: format!("{message} {}", self.fix),
            fingerprint: Fingerprint::from_parts(&[
                analyzer.as_bytes(),
                self.id.as_bytes(),
                location.path.as_bytes(),
                key.as_bytes(),
            ]),
            locations: vec![location],
            secret: None,
            remediation: Some(Remediation {
                description: self.fix.to_string(),
                replacement,
            }),
            flow: Vec::new(),
            package: None,
        }
    }
}

/// Whether `text` (one line) carries `pipeguard: ignore[…]` naming `id`
/// (ids comma-separated; `pipeguard:ignore[` accepted too). The same inline
/// suppression syntax for every analyzer whose rules are code.
pub fn ignores(text: &str, id: &str) -> bool {
    text.split("pipeguard: ignore[")
        .skip(1)
        .chain(text.split("pipeguard:ignore[").skip(1))
        .any(|rest| {
            rest.split(']')
                .next()
                .is_some_and(|ids| ids.split(',').any(|x| x.trim() == id))
        })
}

#[cfg(test)]
mod tests {
    use super::ignores;

    #[test]
    fn inline_ignores() {
        assert!(ignores("x: 1 # pipeguard: ignore[a, b]", "b"));
        assert!(ignores("# pipeguard:ignore[a]", "a"));
        assert!(!ignores("# pipeguard: ignore[ab]", "a"));
        assert!(!ignores("# ignore[a]", "a"));
    }
}

//! Secret values live in [`Redacted`]: its `Display`, `Debug` and `Serialize`
//! never show the value, so a secret cannot reach a report, a log line or a
//! panic message by accident.

use std::fmt;

use serde::{Serialize, Serializer};

#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Redacted(String);

impl Redacted {
    pub fn new(value: impl Into<String>) -> Self {
        Redacted(value.into())
    }

    /// The real value, for matching and hashing only. Never format it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn char_len(&self) -> usize {
        self.0.chars().count()
    }

    /// How many leading characters may be shown: a vendor prefix such as
    /// `ghp_` helps triage, but for short values even a few characters would
    /// give away too much, so they show nothing.
    fn visible_prefix(&self) -> &str {
        let n = self.char_len();
        let keep = if n >= 20 {
            4
        } else if n >= 12 {
            2
        } else {
            0
        };
        match self.0.char_indices().nth(keep) {
            Some((i, _)) => &self.0[..i],
            None => "",
        }
    }

    /// Replaces every occurrence of the secret in `text` with its redacted form.
    pub fn redact_in(&self, text: &str) -> String {
        if self.0.is_empty() {
            return text.to_string();
        }
        text.replace(&self.0, &self.to_string())
    }
}

impl fmt::Display for Redacted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}…({} chars)", self.visible_prefix(), self.char_len())
    }
}

impl fmt::Debug for Redacted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Redacted({self})")
    }
}

impl Serialize for Redacted {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_shows_the_value() {
        let secret = "ghp_R2d2C3poLukeLeiaHanSolo0123456789ab";
        let r = Redacted::new(secret);
        for shown in [
            r.to_string(),
            format!("{r:?}"),
            serde_json::to_string(&r).expect("serialize"),
        ] {
            assert!(!shown.contains(secret), "{shown}");
            assert!(!shown.contains("R2d2"), "{shown}");
        }
        assert!(r.to_string().starts_with("ghp_…"));
    }

    #[test]
    fn short_values_show_no_prefix() {
        let r = Redacted::new("hunter2");
        assert_eq!(r.to_string(), "…(7 chars)");
    }

    #[test]
    fn redacts_inside_a_line() {
        let r = Redacted::new("s3cr3t-Value-1234567890");
        let line = r.redact_in("password = \"s3cr3t-Value-1234567890\"");
        assert!(!line.contains("s3cr3t-Value-1234567890"));
        assert!(line.starts_with("password = \"s3cr…"));
    }
}

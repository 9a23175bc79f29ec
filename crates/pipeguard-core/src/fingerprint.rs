//! Stable fingerprints: from the rule and normalized content, never from line
//! numbers, so that baselines and ignores survive unrelated edits.

use std::fmt;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Fingerprint(String);

impl Fingerprint {
    /// Hashes the parts with a separator that cannot occur inside them ambiguously.
    ///
    /// Only 128 bits of the digest are kept: enough to be unique, and short
    /// enough to paste into a policy file.
    pub fn from_parts(parts: &[&[u8]]) -> Self {
        let mut h = Sha256::new();
        for p in parts {
            h.update((p.len() as u64).to_le_bytes());
            h.update(p);
        }
        let digest = h.finalize();
        let mut s = String::with_capacity(32);
        for b in &digest[..16] {
            s.push_str(&format!("{b:02x}"));
        }
        Fingerprint(s)
    }

    pub fn parse(s: &str) -> Self {
        Fingerprint(s.trim().to_ascii_lowercase())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_are_length_delimited() {
        let a = Fingerprint::from_parts(&[b"ab", b"c"]);
        let b = Fingerprint::from_parts(&[b"a", b"bc"]);
        assert_ne!(a, b);
        assert_eq!(a.as_str().len(), 32);
        assert_eq!(a, Fingerprint::from_parts(&[b"ab", b"c"]));
    }
}

//! Canary secrets (issue #9: no secret ever leaks). They are unique per run
//! and shaped so that real rules match them; a test plants them in an input
//! and then checks that no byte pipeguard writes holds one in full.

use std::sync::OnceLock;

use sha2::{Digest, Sha256};

/// The canary values. They are assembled at run time from a per-run seed so
/// that no source file holds them and no earlier report can contain them.
#[derive(Debug)]
pub struct Canaries {
    pub github_pat: String,
    pub aws_key_id: String,
    pub aws_secret: String,
    pub url_password: String,
}

impl Canaries {
    /// Every canary with what it is, for failure messages.
    pub fn all(&self) -> [(&'static str, &str); 4] {
        [
            ("GitHub PAT", &self.github_pat),
            ("AWS access key id", &self.aws_key_id),
            ("AWS secret key", &self.aws_secret),
            ("URL password", &self.url_password),
        ]
    }

    /// A `.env` file holding every canary.
    pub fn env_file(&self) -> String {
        format!(
            "GITHUB_TOKEN={}\nAWS_ACCESS_KEY_ID={}\nAWS_SECRET_ACCESS_KEY={}\nDATABASE_URL=postgres://app:{}@db.corp.net:5432/app\n",
            self.github_pat, self.aws_key_id, self.aws_secret, self.url_password
        )
    }
}

/// This run's canaries (the same for every test of one test binary).
pub fn canaries() -> &'static Canaries {
    static C: OnceLock<Canaries> = OnceLock::new();
    C.get_or_init(|| {
        let seed = format!("{}-{:?}", std::process::id(), std::time::SystemTime::now());
        // One hash per character: uniform, high-entropy values that no
        // placeholder or low-entropy filter throws away.
        let pick = |alphabet: &[u8], n: usize, salt: u8| -> String {
            (0..n)
                .map(|i| {
                    let h = Sha256::digest(format!("{seed}/{salt}/{i}").as_bytes());
                    alphabet[h[0] as usize % alphabet.len()] as char
                })
                .collect()
        };
        const ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
        const B32: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
        const B64: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let random = pick(ALNUM, 30, 1);
        Canaries {
            github_pat: format!(
                "ghp_{random}{}",
                pipeguard_secrets::validate::checksum_suffix(&random)
            ),
            aws_key_id: format!("AKIA{}", pick(B32, 16, 2)),
            aws_secret: pick(B64, 40, 3),
            url_password: format!("Pw{}", pick(ALNUM, 22, 4)),
        }
    })
}

/// Fails if `bytes` holds any canary in full. The failure message shows
/// where, with the canary itself replaced, so a failing run does not print
/// it either. `case` and `stream` say which run and which output.
pub fn assert_no_canary(case: &str, stream: &str, bytes: &[u8]) {
    let text = String::from_utf8_lossy(bytes);
    for (what, value) in canaries().all() {
        if let Some(i) = text.find(value) {
            let start = text[..i].char_indices().rev().nth(80).map_or(0, |(j, _)| j);
            let mut end = (i + value.len() + 80).min(text.len());
            while !text.is_char_boundary(end) {
                end -= 1;
            }
            let context = text[start..end].replace(value, "[CANARY]");
            panic!("{case}: the {what} canary appears in full in {stream}: …{context}…");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_canary_in_full_fails_and_is_not_printed() {
        let c = canaries();
        assert_no_canary("clean", "stdout", b"ghp_\xe2\x80\xa6(40 chars)");
        let leaked = format!("token: {}\n", c.aws_secret);
        let panic =
            std::panic::catch_unwind(|| assert_no_canary("leak", "stdout", leaked.as_bytes()))
                .expect_err("a leak fails");
        let message = panic.downcast_ref::<String>().expect("formatted message");
        assert!(message.contains("AWS secret key canary"), "{message}");
        assert!(
            !message.contains(&c.aws_secret),
            "the failure repeats the canary"
        );
    }

    #[test]
    fn canaries_are_stable_within_a_run() {
        assert_eq!(canaries().github_pat, canaries().github_pat);
        assert!(canaries().github_pat.starts_with("ghp_"));
        assert_eq!(canaries().github_pat.len(), 40);
    }
}

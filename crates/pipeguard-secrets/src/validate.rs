//! Offline validation of token formats that carry their own structure: a
//! checksum (GitHub, npm), base64 that must decode to credentials, JWT headers.
//! A checksum raises confidence; a structural check that fails drops the match.

use std::str::FromStr;

use base64::Engine as _;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Validator {
    /// `ghp_` + 30 random chars + base62(CRC32(random)), zero-padded to 6.
    GithubChecksum,
    /// npm's `npm_` tokens use the same scheme as GitHub's.
    NpmChecksum,
    /// Base64 that decodes to `user:password` (docker `auth`, HTTP basic).
    Base64Credentials,
    /// Base64 that decodes to printable text (Kubernetes Secret `data:`).
    Base64Printable,
    /// A JWT whose header decodes to JSON with an `alg`.
    Jwt,
    /// Base64 whose text starts with a PEM private key header (a key put in
    /// an environment variable or a Helm value as one line).
    Base64PrivateKey,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// The structure checks out: raise confidence.
    Valid,
    /// A checksum did not match: keep, with low confidence.
    Doubtful,
    /// Not the thing the rule looks for at all: drop.
    Invalid,
}

impl FromStr for Validator {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Ok(match s {
            "github-checksum" => Validator::GithubChecksum,
            "npm-checksum" => Validator::NpmChecksum,
            "base64-credentials" => Validator::Base64Credentials,
            "base64-printable" => Validator::Base64Printable,
            "jwt" => Validator::Jwt,
            "base64-private-key" => Validator::Base64PrivateKey,
            other => return Err(format!("unknown validator `{other}`")),
        })
    }
}

const BASE62: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

fn base62_6(mut n: u32) -> [u8; 6] {
    let mut out = [b'0'; 6];
    for slot in out.iter_mut().rev() {
        *slot = BASE62[(n % 62) as usize];
        n /= 62;
    }
    out
}

/// Checks `prefix_` + 30 random + 6 checksum tokens (GitHub, npm).
/// The 6-character checksum GitHub and npm append to a token's random
/// part: base62 of its CRC32, zero-padded. Tests build valid tokens with it.
pub fn checksum_suffix(random: &str) -> String {
    String::from_utf8_lossy(&base62_6(crc32fast::hash(random.as_bytes()))).into_owned()
}

fn crc_token(token: &str) -> Verdict {
    let Some(underscore) = token.find('_') else {
        return Verdict::Doubtful;
    };
    let body = &token.as_bytes()[underscore + 1..];
    if body.len() != 36 {
        return Verdict::Doubtful;
    }
    let (random, check) = body.split_at(30);
    if base62_6(crc32fast::hash(random)) == check {
        Verdict::Valid
    } else {
        Verdict::Doubtful
    }
}

fn decode_b64(s: &str) -> Option<Vec<u8>> {
    let s = s.trim();
    let engines = [
        &base64::engine::general_purpose::STANDARD,
        &base64::engine::general_purpose::STANDARD_NO_PAD,
        &base64::engine::general_purpose::URL_SAFE,
        &base64::engine::general_purpose::URL_SAFE_NO_PAD,
    ];
    engines.iter().find_map(|e| e.decode(s).ok())
}

fn printable(b: &[u8]) -> bool {
    std::str::from_utf8(b).is_ok_and(|s| {
        s.chars()
            .all(|c| !c.is_control() || c == '\n' || c == '\r' || c == '\t')
    })
}

impl Validator {
    pub fn check(self, secret: &str) -> Verdict {
        match self {
            Validator::GithubChecksum | Validator::NpmChecksum => crc_token(secret),
            Validator::Base64Credentials => match decode_b64(secret) {
                Some(d) if printable(&d) && d.contains(&b':') && d.len() >= 3 => Verdict::Valid,
                _ => Verdict::Invalid,
            },
            Validator::Base64Printable => match decode_b64(secret) {
                Some(d) if printable(&d) && d.len() >= 4 => Verdict::Valid,
                _ => Verdict::Invalid,
            },
            Validator::Base64PrivateKey => {
                // Only the head: the header fits in 80 characters, and a long
                // key may be cut by the matching window.
                let head = &secret[..secret.len().min(80) / 4 * 4];
                match decode_b64(head) {
                    Some(d)
                        if d.starts_with(b"-----BEGIN ")
                            && memchr::memmem::find(&d, b"PRIVATE KEY").is_some() =>
                    {
                        Verdict::Valid
                    }
                    _ => Verdict::Invalid,
                }
            }
            Validator::Jwt => {
                let header = secret.split('.').next().unwrap_or("");
                match decode_b64(header) {
                    Some(h) if printable(&h) && String::from_utf8_lossy(&h).contains("\"alg\"") => {
                        Verdict::Valid
                    }
                    _ => Verdict::Invalid,
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn make(prefix: &str, random: &str) -> String {
        let c = base62_6(crc32fast::hash(random.as_bytes()));
        format!(
            "{prefix}{random}{}",
            std::str::from_utf8(&c).expect("ascii")
        )
    }

    #[test]
    fn github_checksum_accepts_valid_and_doubts_tampered() {
        let t = make("ghp_", "Zq3vB8xLr2mT6yN0pW4sK7dF1hJ9cE");
        assert_eq!(Validator::GithubChecksum.check(&t), Verdict::Valid);
        let mut tampered = t.clone();
        tampered.replace_range(4..5, "Y");
        assert_eq!(
            Validator::GithubChecksum.check(&tampered),
            Verdict::Doubtful
        );
    }

    #[test]
    fn base64_credentials() {
        assert_eq!(
            Validator::Base64Credentials.check("ZGVwbG95OlMzY3JldFBhc3M="),
            Verdict::Valid
        );
        assert_eq!(
            Validator::Base64Credentials.check("bm9jb2xvbmhlcmU="),
            Verdict::Invalid
        );
    }

    #[test]
    fn jwt_header() {
        assert_eq!(
            Validator::Jwt.check("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.abc"),
            Verdict::Valid
        );
        assert_eq!(
            Validator::Jwt.check("eyJub3BlIjoxfQ.e30.abc"),
            Verdict::Invalid
        );
    }
}

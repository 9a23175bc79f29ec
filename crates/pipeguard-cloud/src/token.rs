//! Getting the CI's OIDC token: GitHub Actions' token request endpoint,
//! GitLab's `id_tokens` (an environment variable), or a token file
//! (`AWS_WEB_IDENTITY_TOKEN_FILE`, as on EKS and in many runners).

use std::path::PathBuf;

use crate::CloudError;
use crate::encode::uri_encode;
use crate::http::{agent, display_url, read, transport};

/// An OIDC token. It is a credential: `Debug` shows where it came from, never
/// the token.
pub struct OidcToken {
    value: String,
    /// Where it came from, for messages: `GitHub Actions token endpoint`, `$PIPEGUARD_ID_TOKEN`, …
    pub source: String,
}

impl OidcToken {
    pub fn new(value: String, source: impl Into<String>) -> Self {
        OidcToken {
            value,
            source: source.into(),
        }
    }

    /// The JWT itself, to send to the one service that asked for it.
    pub fn expose(&self) -> &str {
        &self.value
    }
}

impl std::fmt::Debug for OidcToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "OidcToken(from {}, {} chars)",
            self.source,
            self.value.len()
        )
    }
}

/// Where to look, in this order: an explicit variable, an explicit file, then
/// GitHub's endpoint, `PIPEGUARD_ID_TOKEN`, `AWS_ID_TOKEN` and
/// `AWS_WEB_IDENTITY_TOKEN_FILE`.
#[derive(Debug, Clone, Default)]
pub struct TokenSource {
    /// Audience to ask GitHub for (GitLab and files carry the audience they were configured with).
    pub audience: String,
    /// Name of the variable holding the token (GitLab `id_tokens:`).
    pub env_var: Option<String>,
    pub file: Option<PathBuf>,
}

/// Variables a GitLab `id_tokens:` entry is conventionally given.
pub const DEFAULT_TOKEN_VARS: [&str; 2] = ["PIPEGUARD_ID_TOKEN", "AWS_ID_TOKEN"];

impl TokenSource {
    /// Finds and fetches the token. `env` looks up environment variables (a
    /// parameter so tests need not touch the process environment).
    pub fn obtain(&self, env: &dyn Fn(&str) -> Option<String>) -> Result<OidcToken, CloudError> {
        if let Some(var) = &self.env_var {
            return match env(var) {
                Some(v) if !v.trim().is_empty() => checked(v, format!("${var}")),
                _ => Err(CloudError::Token(format!(
                    "${var} is not set (in GitLab CI, declare it under the job's `id_tokens:` with `aud: {}`)",
                    self.audience
                ))),
            };
        }
        if let Some(file) = &self.file {
            return from_file(file);
        }
        if let (Some(url), Some(bearer)) = (
            env("ACTIONS_ID_TOKEN_REQUEST_URL"),
            env("ACTIONS_ID_TOKEN_REQUEST_TOKEN"),
        ) {
            return github(&url, &bearer, &self.audience);
        }
        for var in DEFAULT_TOKEN_VARS {
            if let Some(v) = env(var).filter(|v| !v.trim().is_empty()) {
                return checked(v, format!("${var}"));
            }
        }
        if let Some(path) = env("AWS_WEB_IDENTITY_TOKEN_FILE").filter(|p| !p.is_empty()) {
            return from_file(&PathBuf::from(path));
        }
        Err(CloudError::Token(
            "no OIDC token found. In GitHub Actions give the job `permissions: id-token: write` \
             (ACTIONS_ID_TOKEN_REQUEST_URL is unset); in GitLab CI declare `id_tokens: PIPEGUARD_ID_TOKEN: aud: …`; \
             elsewhere set AWS_WEB_IDENTITY_TOKEN_FILE"
                .into(),
        ))
    }
}

/// A JWT has three dot-separated base64url parts; anything else would only
/// fail later at STS with a less helpful message.
fn checked(value: String, source: String) -> Result<OidcToken, CloudError> {
    let value = value.trim().to_string();
    let parts = value.split('.').count();
    if parts != 3
        || !value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'='))
    {
        return Err(CloudError::Token(format!(
            "{source} does not hold a JWT (expected three base64url parts separated by dots, {} chars seen)",
            value.len()
        )));
    }
    Ok(OidcToken::new(value, source))
}

fn from_file(path: &std::path::Path) -> Result<OidcToken, CloudError> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        CloudError::Token(format!("{}: cannot read token file: {e}", path.display()))
    })?;
    checked(text, path.display().to_string())
}

/// GitHub Actions: GET `$ACTIONS_ID_TOKEN_REQUEST_URL&audience=…` with the
/// request token as bearer; the answer is `{"value": "<jwt>"}`.
fn github(url: &str, bearer: &str, audience: &str) -> Result<OidcToken, CloudError> {
    let sep = if url.contains('?') { '&' } else { '?' };
    let full = format!("{url}{sep}audience={}", uri_encode(audience, false));
    let resp = agent()
        .get(&full)
        .header("Authorization", &format!("bearer {bearer}"))
        .header("Accept", "application/json; api-version=2.0")
        .call()
        .map_err(|e| transport(&full, e))?;
    let (status, body) = read(&full, resp)?;
    let shown = display_url(url);
    if !(200..300).contains(&status) {
        return Err(CloudError::Token(format!(
            "GitHub Actions token endpoint {shown} answered HTTP {status} (does the job have `permissions: id-token: write`?)"
        )));
    }
    let value = serde_json::from_str::<serde_json::Value>(&body)
        .ok()
        .and_then(|v| v.get("value").and_then(|v| v.as_str()).map(str::to_string))
        .ok_or_else(|| {
            CloudError::Token(format!(
                "GitHub Actions token endpoint {shown}: the answer has no `value`"
            ))
        })?;
    checked(value, "GitHub Actions token endpoint".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    const JWT: &str = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln";

    fn env_of(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |k| {
            pairs
                .iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.to_string())
        }
    }

    #[test]
    fn explicit_variable_wins_and_a_missing_one_says_how_to_declare_it() {
        let src = TokenSource {
            audience: "sts.amazonaws.com".into(),
            env_var: Some("MY_TOKEN".into()),
            file: None,
        };
        let t = src
            .obtain(&env_of(&[
                ("MY_TOKEN", JWT),
                ("PIPEGUARD_ID_TOKEN", "a.b.c"),
            ]))
            .expect("token");
        assert_eq!((t.expose(), t.source.as_str()), (JWT, "$MY_TOKEN"));
        let e = src.obtain(&env_of(&[])).expect_err("missing");
        assert!(e.to_string().contains("id_tokens"), "{e}");
    }

    #[test]
    fn default_variables_then_file_and_a_clear_error_when_none() {
        let src = TokenSource::default();
        let t = src
            .obtain(&env_of(&[("AWS_ID_TOKEN", JWT)]))
            .expect("token");
        assert_eq!(t.source, "$AWS_ID_TOKEN");
        let e = src.obtain(&env_of(&[])).expect_err("none");
        assert!(e.to_string().contains("id-token: write"), "{e}");
        let e = src
            .obtain(&env_of(&[("PIPEGUARD_ID_TOKEN", "not a jwt at all")]))
            .expect_err("bad");
        assert!(e.to_string().contains("does not hold a JWT"), "{e}");
        assert!(!e.to_string().contains("not a jwt at all"), "{e}");
    }

    #[test]
    fn token_file_from_the_aws_variable_and_its_errors_name_the_file() {
        let dir = std::env::temp_dir().join(format!("pipeguard-token-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let file = dir.join("token");
        std::fs::write(&file, format!("{JWT}\n")).expect("write");
        let path: &'static str = Box::leak(file.display().to_string().into_boxed_str());
        let pairs: &'static [(&'static str, &'static str)] =
            Box::leak(vec![("AWS_WEB_IDENTITY_TOKEN_FILE", path)].into_boxed_slice());
        let t = TokenSource::default()
            .obtain(&env_of(pairs))
            .expect("token");
        assert_eq!((t.expose(), t.source.as_str()), (JWT, path));
        std::fs::remove_dir_all(&dir).expect("cleanup");
        let e = TokenSource::default()
            .obtain(&env_of(pairs))
            .expect_err("gone");
        assert!(
            e.to_string().contains(path) && e.to_string().contains("cannot read token file"),
            "{e}"
        );
    }

    #[test]
    fn debug_never_shows_the_token() {
        let t = OidcToken::new(JWT.into(), "x");
        assert!(!format!("{t:?}").contains("eyJ"));
    }
}

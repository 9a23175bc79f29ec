//! Identity-based cloud credentials for CI jobs (issue #7).
//!
//! A job should not carry long-lived cloud keys: it asks its CI for a
//! short-lived OIDC token ([`token`]), trades it at AWS STS for temporary
//! credentials ([`sts`]), and uses those, signed with SigV4 ([`sigv4`]), to
//! read the secrets it needs from Secrets Manager ([`secretsmanager`]).
//! [`aws`] strings those steps together for `pipeguard run`.
//!
//! [`jwt`] is the other side of the trust: it verifies a CI token against its
//! issuer's published keys and checks its claims, which is what a cloud trust
//! policy does, so that a policy can be written and tested before it is
//! relied on (`pipeguard oidc check`).
//!
//! Nothing here ever formats a token, a secret key or a secret value: they
//! live in types whose `Debug` is redacted, and error messages that quote a
//! server's answer are scrubbed of the token that was sent.

pub mod aws;
mod encode;
mod http;
pub mod jwt;
pub mod secretsmanager;
pub mod sigv4;
pub mod sts;
pub mod token;

pub use aws::{AwsSettings, SecretSpec, SecretValue};
pub use sigv4::Credentials;

/// What can go wrong between a CI job and its cloud.
#[derive(Debug, thiserror::Error)]
pub enum CloudError {
    /// No OIDC token could be had from the CI (or it was malformed).
    #[error("OIDC token: {0}")]
    Token(String),
    /// AWS answered with an error (STS or Secrets Manager).
    #[error("{service} {operation} failed: {code}: {message}")]
    Aws {
        service: &'static str,
        operation: &'static str,
        code: String,
        message: String,
    },
    /// The request never got an answer (DNS, connection, TLS, timeout).
    #[error("{url}: {message}")]
    Transport { url: String, message: String },
    /// An answer that does not have the documented shape.
    #[error("{0}")]
    Malformed(String),
    /// Settings that cannot work (no region, no role ARN, bad endpoint URL).
    #[error("{0}")]
    Config(String),
}

impl CloudError {
    /// The AWS error code, for callers that branch on it (`AccessDeniedException`, …).
    pub fn aws_code(&self) -> Option<&str> {
        match self {
            CloudError::Aws { code, .. } => Some(code),
            _ => None,
        }
    }
}

/// Replaces every occurrence of `secret` in `text`: servers sometimes quote
/// what they were sent, and what they were sent may be a credential.
pub(crate) fn scrub(text: &str, secret: &str) -> String {
    if secret.len() < 8 {
        return text.to_string();
    }
    text.replace(secret, "<redacted>")
}

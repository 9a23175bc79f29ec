//! From settings to a secret value: token → STS → Secrets Manager → JSON key.

use std::path::PathBuf;

use crate::sts::{AssumedRole, WebIdentityRequest, assume_role_with_web_identity};
use crate::token::TokenSource;
use crate::{CloudError, Credentials, secretsmanager};

/// The audience AWS expects in a token for `AssumeRoleWithWebIdentity`.
pub const DEFAULT_AUDIENCE: &str = "sts.amazonaws.com";

/// Settings as the user wrote them (`[run.aws]`); unset fields fall back to
/// the standard AWS environment variables in [`AwsSettings::resolve`].
#[derive(Debug, Clone, Default)]
pub struct AwsSettings {
    pub region: Option<String>,
    pub role_arn: Option<String>,
    /// Secrets Manager endpoint (LocalStack, moto, a VPC endpoint).
    pub endpoint_url: Option<String>,
    pub sts_endpoint_url: Option<String>,
    pub audience: Option<String>,
    pub session_duration: Option<u32>,
    pub session_name: Option<String>,
    /// Variable holding the OIDC token (GitLab `id_tokens:`).
    pub token_env: Option<String>,
    pub token_file: Option<PathBuf>,
}

/// Settings with every default filled in.
#[derive(Debug, Clone)]
pub struct Resolved {
    pub region: String,
    pub role_arn: String,
    pub secrets_endpoint: String,
    pub sts_endpoint: String,
    pub session_name: String,
    pub session_duration: Option<u32>,
    pub token: TokenSource,
}

impl AwsSettings {
    pub fn resolve(&self, env: &dyn Fn(&str) -> Option<String>) -> Result<Resolved, CloudError> {
        let region = self
            .region
            .clone()
            .or_else(|| env("AWS_REGION"))
            .or_else(|| env("AWS_DEFAULT_REGION"))
            .filter(|r| !r.is_empty())
            .ok_or_else(|| {
                CloudError::Config("no AWS region: set `region` in [run.aws] or AWS_REGION".into())
            })?;
        if !region
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        {
            return Err(CloudError::Config(format!(
                "`{region}` is not an AWS region name (like eu-west-1)"
            )));
        }
        let role_arn = self
            .role_arn
            .clone()
            .or_else(|| env("AWS_ROLE_ARN"))
            .filter(|r| !r.is_empty())
            .ok_or_else(|| {
                CloudError::Config(
                    "no role to assume: set `role-arn` in [run.aws] or AWS_ROLE_ARN".into(),
                )
            })?;
        if !role_arn.starts_with("arn:") || !role_arn.contains(":role/") {
            return Err(CloudError::Config(format!(
                "`{role_arn}` is not a role ARN (arn:aws:iam::ACCOUNT:role/NAME)"
            )));
        }
        // China regions live under their own domain.
        let domain = if region.starts_with("cn-") {
            "amazonaws.com.cn"
        } else {
            "amazonaws.com"
        };
        let session_name = self
            .session_name
            .clone()
            .or_else(|| env("AWS_ROLE_SESSION_NAME"))
            .unwrap_or_else(|| default_session_name(env));
        if let Some(d) = self.session_duration
            && !(900..=43_200).contains(&d)
        {
            return Err(CloudError::Config(format!(
                "session-duration {d}: STS accepts 900 to 43200 seconds"
            )));
        }
        Ok(Resolved {
            secrets_endpoint: self
                .endpoint_url
                .clone()
                .unwrap_or_else(|| format!("https://secretsmanager.{region}.{domain}")),
            sts_endpoint: self
                .sts_endpoint_url
                .clone()
                .unwrap_or_else(|| format!("https://sts.{region}.{domain}")),
            session_name,
            session_duration: self.session_duration,
            token: TokenSource {
                audience: self
                    .audience
                    .clone()
                    .unwrap_or_else(|| DEFAULT_AUDIENCE.to_string()),
                env_var: self.token_env.clone(),
                file: self.token_file.clone(),
            },
            region,
            role_arn,
        })
    }
}

/// `pipeguard-<CI job id>`, so CloudTrail names the job that read a secret.
/// STS allows `[\w+=,.@-]{2,64}`.
fn default_session_name(env: &dyn Fn(&str) -> Option<String>) -> String {
    let id = env("GITHUB_RUN_ID")
        .map(|r| match env("GITHUB_RUN_ATTEMPT") {
            Some(a) => format!("gh-{r}-{a}"),
            None => format!("gh-{r}"),
        })
        .or_else(|| env("CI_JOB_ID").map(|j| format!("gl-{j}")))
        .unwrap_or_else(|| format!("pid-{}", std::process::id()));
    let name: String = format!("pipeguard-{id}")
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || "+=,.@-_".contains(*c))
        .take(64)
        .collect();
    name
}

impl Resolved {
    /// Fetches the CI's token and trades it for temporary credentials.
    pub fn assume_role(
        &self,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<AssumedRole, CloudError> {
        let token = self.token.obtain(env)?;
        assume_role_with_web_identity(&WebIdentityRequest {
            endpoint: &self.sts_endpoint,
            role_arn: &self.role_arn,
            session_name: &self.session_name,
            token: token.expose(),
            duration_seconds: self.session_duration,
        })
        .map_err(|e| match e {
            // Say which token was refused: the fix is usually in the CI file
            // (audience, permissions) or in the role's trust policy.
            CloudError::Aws {
                service,
                operation,
                code,
                message,
            } => CloudError::Aws {
                service,
                operation,
                message: format!(
                    "{message} (role {}, token from {}; `pipeguard oidc check` shows the token's claims)",
                    self.role_arn, token.source
                ),
                code,
            },
            other => other,
        })
    }

    /// Reads one secret with `creds` and applies the spec's JSON key.
    pub fn secret(
        &self,
        creds: &Credentials,
        spec: &SecretSpec,
    ) -> Result<SecretValue, CloudError> {
        let value = secretsmanager::get_secret_value(
            &self.secrets_endpoint,
            &self.region,
            creds,
            &spec.name,
        )?;
        match &spec.json_key {
            None => Ok(value),
            Some(key) => value.json_key(&spec.name, key),
        }
    }
}

/// `aws-sm:NAME[#json-key]`, the part after `aws-sm:`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretSpec {
    /// Secret name or ARN.
    pub name: String,
    pub json_key: Option<String>,
}

impl SecretSpec {
    /// Parses `NAME[#key]` (with or without the `aws-sm:` prefix). Secret
    /// names cannot contain `#`, so the split is unambiguous.
    pub fn parse(spec: &str) -> Result<SecretSpec, CloudError> {
        let rest = spec.strip_prefix("aws-sm:").unwrap_or(spec);
        let (name, key) = match rest.split_once('#') {
            Some((n, k)) => (n, Some(k)),
            None => (rest, None),
        };
        if name.is_empty() {
            return Err(CloudError::Config(format!(
                "`{spec}`: no secret name (expected aws-sm:NAME or aws-sm:NAME#json-key)"
            )));
        }
        if key == Some("") {
            return Err(CloudError::Config(format!(
                "`{spec}`: empty JSON key after `#`"
            )));
        }
        Ok(SecretSpec {
            name: name.to_string(),
            json_key: key.map(str::to_string),
        })
    }
}

/// A secret's value. `Debug` shows its kind and length only.
#[derive(Clone)]
pub struct SecretValue {
    bytes: Vec<u8>,
    binary: bool,
}

impl SecretValue {
    pub fn string(s: String) -> Self {
        SecretValue {
            bytes: s.into_bytes(),
            binary: false,
        }
    }

    pub fn binary(bytes: Vec<u8>) -> Self {
        SecretValue {
            bytes,
            binary: true,
        }
    }

    /// True for `SecretBinary`.
    pub fn is_binary(&self) -> bool {
        self.binary
    }

    /// The value, to hand to the one process that needs it. Never format it.
    pub fn expose(&self) -> &[u8] {
        &self.bytes
    }

    pub fn into_bytes(self) -> Vec<u8> {
        self.bytes
    }

    /// The value of `key` in a JSON-object secret: strings as they are,
    /// other values as JSON text.
    pub fn json_key(&self, name: &str, key: &str) -> Result<SecretValue, CloudError> {
        let json: serde_json::Value = serde_json::from_slice(&self.bytes).map_err(|_| {
            CloudError::Config(format!(
                "secret `{name}` is not a JSON object, so `#{key}` cannot pick a key from it"
            ))
        })?;
        let obj = json.as_object().ok_or_else(|| {
            CloudError::Config(format!(
                "secret `{name}` is JSON but not an object, so `#{key}` cannot pick a key from it"
            ))
        })?;
        match obj.get(key) {
            Some(serde_json::Value::String(s)) => Ok(SecretValue::string(s.clone())),
            Some(other) => Ok(SecretValue::string(other.to_string())),
            None => {
                // Key names are not secret; listing them makes the typo obvious.
                let keys: Vec<&str> = obj.keys().map(String::as_str).collect();
                Err(CloudError::Config(format!(
                    "secret `{name}` has no key `{key}` (its keys: {})",
                    keys.join(", ")
                )))
            }
        }
    }
}

impl std::fmt::Debug for SecretValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kind = if self.binary { "binary" } else { "string" };
        write!(f, "SecretValue({kind}, {} bytes)", self.bytes.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env_of(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |k| {
            pairs
                .iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.to_string())
        }
    }

    #[test]
    fn specs_with_and_without_a_json_key() {
        assert_eq!(
            SecretSpec::parse("aws-sm:prod/db#password").expect("spec"),
            SecretSpec {
                name: "prod/db".into(),
                json_key: Some("password".into())
            }
        );
        let arn = "aws-sm:arn:aws:secretsmanager:eu-west-1:123456789012:secret:prod/db-AbCdEf";
        assert_eq!(SecretSpec::parse(arn).expect("arn").name, &arn[7..]);
        assert!(SecretSpec::parse("aws-sm:").is_err());
        assert!(SecretSpec::parse("aws-sm:x#").is_err());
    }

    #[test]
    fn json_keys_pick_strings_and_render_other_values() {
        let v =
            SecretValue::string(r#"{"user":"app","password":"s3cr3t-value","port":5432}"#.into());
        assert_eq!(
            v.json_key("db", "password").expect("key").expose(),
            b"s3cr3t-value"
        );
        assert_eq!(v.json_key("db", "port").expect("key").expose(), b"5432");
        let e = v.json_key("db", "pasword").expect_err("typo");
        assert_eq!(
            e.to_string(),
            "secret `db` has no key `pasword` (its keys: password, port, user)"
        );
        assert!(!e.to_string().contains("s3cr3t"));
        let e = SecretValue::string("plain-secret".into())
            .json_key("x", "k")
            .expect_err("plain");
        assert!(
            e.to_string().contains("not a JSON object") && !e.to_string().contains("plain-secret")
        );
        assert_eq!(format!("{v:?}"), "SecretValue(string, 52 bytes)");
    }

    #[test]
    fn settings_fall_back_to_the_aws_environment() {
        let r = AwsSettings::default()
            .resolve(&env_of(&[
                ("AWS_REGION", "eu-west-1"),
                ("AWS_ROLE_ARN", "arn:aws:iam::123456789012:role/ci"),
                ("GITHUB_RUN_ID", "42"),
                ("GITHUB_RUN_ATTEMPT", "2"),
            ]))
            .expect("resolved");
        assert_eq!(r.sts_endpoint, "https://sts.eu-west-1.amazonaws.com");
        assert_eq!(
            r.secrets_endpoint,
            "https://secretsmanager.eu-west-1.amazonaws.com"
        );
        assert_eq!(r.session_name, "pipeguard-gh-42-2");
        assert_eq!(r.token.audience, DEFAULT_AUDIENCE);
        let e = AwsSettings::default()
            .resolve(&env_of(&[]))
            .expect_err("no region");
        assert!(e.to_string().contains("AWS_REGION"), "{e}");
        let e = AwsSettings {
            region: Some("eu-west-1".into()),
            role_arn: Some("ci".into()),
            ..Default::default()
        }
        .resolve(&env_of(&[]))
        .expect_err("bad arn");
        assert!(e.to_string().contains("not a role ARN"), "{e}");
        let e = AwsSettings {
            region: Some("cn-north-1".into()),
            role_arn: Some("arn:aws-cn:iam::1:role/ci".into()),
            session_duration: Some(60),
            ..Default::default()
        }
        .resolve(&env_of(&[]))
        .expect_err("short");
        assert!(e.to_string().contains("900"), "{e}");
    }
}

//! `[run]`: the secrets `pipeguard run` resolves and hands to the command it
//! starts (issue #7). The shape lives here so one parse validates the whole
//! policy file.

use schemars::JsonSchema;
use serde::{Deserialize, Deserializer};

/// Schemes a secret's `from` may use. Checked while the policy is parsed so a
/// typo is an error that names the line, not a surprise at run time.
pub const SOURCE_SCHEMES: &[&str] = &["env:", "age:", "aws-sm:"];

/// Values shorter than this are not masked unless the policy says otherwise:
/// masking `a` or `true` would destroy the log and hide nothing.
pub const DEFAULT_MIN_LENGTH: usize = 6;

/// `[run]`: settings of `pipeguard run` and `pipeguard mask`.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RunConfig {
    /// `[[run.secret]]`: the secrets `pipeguard run` resolves and gives to the
    /// command it starts; their values (and common encodings of them) are
    /// masked in its output. `pipeguard mask` masks them too.
    #[serde(default)]
    pub secret: Vec<RunSecret>,
    /// Names of environment variables whose values are masked as well (for
    /// secrets the CI injects itself), by `run` and `mask`.
    #[serde(default)]
    pub mask_env: Vec<String>,
    /// What replaces a masked value (default `***`).
    pub marker: Option<String>,
    /// Values shorter than this many bytes are refused for masking with a
    /// warning (default 6): masking a short common string would destroy the
    /// log while hiding nothing.
    pub min_length: Option<usize>,
    /// Also mask what the built-in secret rules detect (a token shape such as
    /// `ghp_…`), even when the value is not a known secret (default true).
    #[serde(default = "yes")]
    pub mask_rules: bool,
    /// `[run.aws]`: how `aws-sm:` secrets are read. The CI's OIDC token is
    /// exchanged at AWS STS for short-lived credentials, which read Secrets
    /// Manager; no long-lived AWS key is involved. Needs a pipeguard built
    /// with the `cloud` feature.
    pub aws: Option<AwsConfig>,
}

fn yes() -> bool {
    true
}

// By hand: a policy without `[run]` must mean the same as an empty one,
// and `mask-rules` defaults to on.
impl Default for RunConfig {
    fn default() -> Self {
        RunConfig {
            secret: Vec::new(),
            mask_env: Vec::new(),
            marker: None,
            min_length: None,
            mask_rules: true,
            aws: None,
        }
    }
}

/// `[run.aws]`. Every key is optional: unset ones fall back to the standard
/// AWS variables (`AWS_REGION`, `AWS_ROLE_ARN`, …) at run time.
#[derive(Debug, Default, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct AwsConfig {
    /// Region of the secrets and of STS (default: $AWS_REGION, then
    /// $AWS_DEFAULT_REGION).
    pub region: Option<String>,
    /// ARN of the IAM role to assume; its trust policy must admit this CI's
    /// token (default: $AWS_ROLE_ARN).
    #[serde(default, deserialize_with = "role_arn")]
    pub role_arn: Option<String>,
    /// Secrets Manager endpoint: a VPC endpoint, LocalStack or moto (default:
    /// https://secretsmanager.REGION.amazonaws.com).
    pub endpoint_url: Option<String>,
    /// STS endpoint (default: the regional https://sts.REGION.amazonaws.com).
    pub sts_endpoint_url: Option<String>,
    /// Audience of the OIDC token (default `sts.amazonaws.com`): requested
    /// from GitHub Actions; GitLab's `id_tokens:` must declare the same `aud`.
    pub audience: Option<String>,
    /// Lifetime of the temporary credentials in seconds, 900 to 43200
    /// (default: STS's, one hour).
    #[serde(default, deserialize_with = "session_duration")]
    pub session_duration: Option<u32>,
    /// Role session name, shown in CloudTrail (default:
    /// `pipeguard-gh-RUN-ATTEMPT` on GitHub, `pipeguard-gl-JOB` on GitLab).
    pub session_name: Option<String>,
    /// Environment variable that holds the OIDC token (a GitLab `id_tokens:`
    /// name). Default: GitHub's token endpoint, then PIPEGUARD_ID_TOKEN,
    /// AWS_ID_TOKEN, then the file in $AWS_WEB_IDENTITY_TOKEN_FILE.
    pub token_env: Option<String>,
    /// File that holds the OIDC token.
    pub token_file: Option<std::path::PathBuf>,
}

fn role_arn<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    let s = String::deserialize(d)?;
    if s.starts_with("arn:") && s.contains(":role/") {
        Ok(Some(s))
    } else {
        Err(serde::de::Error::custom(format!(
            "`{s}` is not an IAM role ARN (arn:aws:iam::ACCOUNT:role/NAME)"
        )))
    }
}

fn session_duration<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u32>, D::Error> {
    let n = u32::deserialize(d)?;
    if (900..=43_200).contains(&n) {
        Ok(Some(n))
    } else {
        Err(serde::de::Error::custom(format!(
            "session-duration {n}: STS accepts 900 to 43200 seconds"
        )))
    }
}

/// One `[[run.secret]]` entry.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RunSecret {
    /// The environment variable the command receives (`DB_PASSWORD`).
    #[serde(deserialize_with = "env_name")]
    pub name: String,
    /// Where the value comes from: `env:VAR` (a variable the CI injected),
    /// `age:FILE#KEY` (a key of a dotenv or YAML file encrypted with age,
    /// relative to the policy file), or `aws-sm:SECRET-ID[#JSON-KEY]` (AWS
    /// Secrets Manager; needs a pipeguard built with the `cloud` feature).
    #[serde(deserialize_with = "source_spec")]
    pub from: String,
    /// Hand the value over as a file (mode 0600, in a private directory that
    /// is removed afterwards) whose path is in the variable, instead of the
    /// value itself.
    #[serde(default)]
    pub file: bool,
}

impl RunConfig {
    pub fn marker(&self) -> &str {
        self.marker.as_deref().unwrap_or("***")
    }

    pub fn min_length(&self) -> usize {
        self.min_length.unwrap_or(DEFAULT_MIN_LENGTH)
    }
}

/// Whether `name` can be an environment variable a shell can read.
pub fn is_env_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Checks a secret's `from`: a known scheme followed by something.
pub fn check_source_spec(spec: &str) -> Result<(), String> {
    match SOURCE_SCHEMES.iter().find(|s| spec.starts_with(*s)) {
        Some(s) if spec.len() > s.len() => Ok(()),
        Some(s) => Err(format!("`{s}` needs a name after it")),
        None => Err(format!(
            "`{spec}` is not a secret source; use env:VAR, age:FILE#KEY or aws-sm:SECRET-ID"
        )),
    }
}

fn env_name<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    let s = String::deserialize(d)?;
    if is_env_name(&s) {
        Ok(s)
    } else {
        Err(serde::de::Error::custom(format!(
            "`{s}` is not an environment variable name (letters, digits and `_`, not starting with a digit)"
        )))
    }
}

fn source_spec<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    let s = String::deserialize(d)?;
    check_source_spec(&s).map_err(serde::de::Error::custom)?;
    Ok(s)
}

#[cfg(test)]
mod tests {
    use crate::Policy;

    #[test]
    fn run_section_parses_secrets_and_defaults() {
        let p = Policy::parse(
            "[run]\nmask-env = [\"NPM_TOKEN\"]\n\n[[run.secret]]\nname = \"DB_PASSWORD\"\nfrom = \"age:secrets.env.age#DB_PASSWORD\"\n\n[[run.secret]]\nname = \"KUBECONFIG\"\nfrom = \"env:CI_KUBECONFIG\"\nfile = true\n",
            "pipeguard.toml",
        )
        .expect("valid policy");
        assert_eq!(p.run.secret.len(), 2);
        assert_eq!(p.run.secret[0].name, "DB_PASSWORD");
        assert!(!p.run.secret[0].file);
        assert!(p.run.secret[1].file);
        assert_eq!(p.run.mask_env, ["NPM_TOKEN"]);
        assert_eq!(p.run.marker(), "***");
        assert_eq!(p.run.min_length(), 6);
        assert!(p.run.mask_rules);
    }

    #[test]
    fn no_run_section_means_the_defaults() {
        let p = Policy::parse("fail-on = \"high\"\n", "pipeguard.toml").expect("valid");
        assert!(p.run.mask_rules, "rules are masked unless turned off");
        assert!(p.run.secret.is_empty());
    }

    #[test]
    fn run_aws_section_parses_and_checks_its_values_on_their_line() {
        let p = Policy::parse(
            "[run.aws]\nregion = \"eu-west-1\"\nrole-arn = \"arn:aws:iam::123456789012:role/deploy\"\nsession-duration = 900\n",
            "pipeguard.toml",
        )
        .expect("valid policy");
        let aws = p.run.aws.expect("[run.aws]");
        assert_eq!(aws.region.as_deref(), Some("eu-west-1"));
        assert_eq!(aws.session_duration, Some(900));
        for (bad, line, what) in [
            (
                "[run.aws]\n\nrole-arn = \"deploy\"\n",
                "line 3",
                "not an IAM role ARN",
            ),
            (
                "[run.aws]\nsession-duration = 60\n",
                "line 2",
                "900 to 43200",
            ),
            ("[run.aws]\nrole = \"x\"\n", "line 2", "role"),
        ] {
            let msg = Policy::parse(bad, "pipeguard.toml")
                .expect_err(bad)
                .to_string();
            assert!(msg.contains(line) && msg.contains(what), "{bad}: {msg}");
        }
    }

    #[test]
    fn unknown_scheme_is_an_error_on_its_line() {
        let err = Policy::parse(
            "[run]\n\n[[run.secret]]\nname = \"X_TOKEN\"\nfrom = \"vault:secret/x\"\n",
            "pipeguard.toml",
        )
        .expect_err("bad scheme");
        let msg = err.to_string();
        assert!(msg.contains("pipeguard.toml"), "{msg}");
        assert!(msg.contains("line 5"), "{msg}");
        assert!(msg.contains("not a secret source"), "{msg}");
    }

    #[test]
    fn bad_name_and_unknown_key_are_errors() {
        let err = Policy::parse(
            "[[run.secret]]\nname = \"1BAD\"\nfrom = \"env:X\"\n",
            "pipeguard.toml",
        )
        .expect_err("bad name");
        assert!(err.to_string().contains("not an environment variable name"));
        let err = Policy::parse(
            "[[run.secret]]\nname = \"A\"\nfrom = \"env:X\"\nfiel = true\n",
            "pipeguard.toml",
        )
        .expect_err("typo");
        assert!(err.to_string().contains("fiel"), "{err}");
    }
}

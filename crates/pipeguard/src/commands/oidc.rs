//! `pipeguard oidc check` (does this CI token satisfy a cloud trust policy?)
//! and the `aws-sm:` secret source of `pipeguard run`, both over
//! `pipeguard-cloud`. Only built with the `cloud` feature.

use std::io::Read;
use std::path::Path;

use clap::{Args, Subcommand};
use pipeguard_cloud::jwt::{self, Expectations, JwkSet};
use pipeguard_core::exit;

use crate::common::UsageError;
use crate::output;

#[derive(Subcommand)]
pub enum OidcCommand {
    /// Verify a CI OIDC token (signature against the issuer's JWKS, iss, aud,
    /// exp/nbf/iat, and pinned claims) and show its claims: exit 0 when every
    /// check passes, 1 when one fails, 2 on usage errors.
    Check(CheckArgs),
    /// Resolve an `aws-sm:NAME[#json-key]` secret the way `pipeguard run`
    /// does (CI token, STS web identity, Secrets Manager) and report what
    /// came back (kind and length, never the value): a dry run of a role's
    /// trust and permission policies.
    AwsSecret(AwsSecretArgs),
}

#[derive(Args)]
pub struct AwsSecretArgs {
    /// `aws-sm:NAME[#json-key]` (or just NAME[#json-key]).
    spec: String,
    /// Policy whose `[run.aws]` supplies the settings (default: pipeguard.toml
    /// in the current directory, if any); the options below override it.
    #[arg(long, short = 'c', value_name = "FILE", env = "PIPEGUARD_CONFIG")]
    config: Option<std::path::PathBuf>,
    /// AWS region (default: $AWS_REGION, $AWS_DEFAULT_REGION).
    #[arg(long)]
    region: Option<String>,
    /// Role to assume (default: $AWS_ROLE_ARN).
    #[arg(long, value_name = "ARN")]
    role_arn: Option<String>,
    /// Secrets Manager endpoint (LocalStack, moto, a VPC endpoint).
    #[arg(long, value_name = "URL")]
    endpoint_url: Option<String>,
    /// STS endpoint (default: the regional one).
    #[arg(long, value_name = "URL")]
    sts_endpoint_url: Option<String>,
    /// Audience to request the token for (default sts.amazonaws.com).
    #[arg(long)]
    audience: Option<String>,
    /// Variable holding the OIDC token (GitLab `id_tokens:`).
    #[arg(long, value_name = "VAR")]
    token_env: Option<String>,
}

#[derive(Args)]
pub struct CheckArgs {
    /// The token, a file holding it, or `-` to read it from standard input
    /// (prefer a file or stdin: a command line is visible to other users).
    token: String,
    /// Issuer the token must come from; its keys are found through
    /// ISSUER/.well-known/openid-configuration unless --jwks is given.
    #[arg(long, value_name = "URL")]
    issuer: String,
    /// Audience the token must be for (e.g. sts.amazonaws.com).
    #[arg(long, value_name = "AUD")]
    audience: Option<String>,
    /// A claim the token must carry, as NAME=VALUE; `*` in VALUE matches any
    /// run of characters. Repeatable: --claim repository=owner/repo --claim ref=refs/heads/main.
    #[arg(long = "claim", value_name = "NAME=VALUE", value_parser = parse_claim)]
    claims: Vec<(String, String)>,
    /// The issuer's JWK set, as a file or an http(s) URL, instead of discovery.
    #[arg(long, value_name = "FILE-OR-URL")]
    jwks: Option<String>,
    /// Seconds of clock skew tolerated on exp, nbf and iat.
    #[arg(long, default_value_t = 60, value_name = "SECONDS")]
    leeway: i64,
    /// Also print an AWS IAM trust-policy `Condition` block that admits
    /// exactly this token's subject and audience.
    #[arg(long)]
    trust_policy: bool,
    /// Print the verdict as JSON (checks, claims, suggested condition) instead of a table.
    #[arg(long)]
    json: bool,
}

fn parse_claim(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((k, v)) if !k.is_empty() => Ok((k.to_string(), v.to_string())),
        _ => Err(format!("`{s}`: expected NAME=VALUE")),
    }
}

fn usage(msg: impl Into<String>) -> anyhow::Error {
    anyhow::Error::new(UsageError(msg.into()))
}

pub fn run(cmd: OidcCommand) -> anyhow::Result<i32> {
    match cmd {
        OidcCommand::Check(a) => check(a),
        OidcCommand::AwsSecret(a) => aws_secret_dry_run(a),
    }
}

/// The token from the argument: `-`, a file, or the token itself. Messages
/// never quote it.
fn read_token(arg: &str) -> anyhow::Result<(String, String)> {
    if arg == "-" {
        let mut s = String::new();
        std::io::stdin()
            .read_to_string(&mut s)
            .map_err(|e| usage(format!("cannot read the token from standard input: {e}")))?;
        return Ok((s.trim().to_string(), "standard input".into()));
    }
    let path = Path::new(arg);
    if path.is_file() {
        let s = std::fs::read_to_string(path)
            .map_err(|e| usage(format!("{arg}: cannot read the token: {e}")))?;
        return Ok((s.trim().to_string(), arg.to_string()));
    }
    if arg.matches('.').count() == 2 && !arg.contains('/') {
        return Ok((arg.trim().to_string(), "the command line".into()));
    }
    Err(usage(format!(
        "{arg}: no such file, and not a JWT (pass the token, a file holding it, or `-`)"
    )))
}

fn load_jwks(a: &CheckArgs) -> anyhow::Result<(JwkSet, String)> {
    let cloud =
        |e: pipeguard_cloud::CloudError| usage(format!("cannot get the issuer's keys: {e}"));
    match &a.jwks {
        None => jwt::discover_jwks(&a.issuer).map_err(cloud),
        Some(src) if src.starts_with("http://") || src.starts_with("https://") => {
            Ok((jwt::fetch_jwks(src).map_err(cloud)?, src.clone()))
        }
        Some(file) => {
            let text = std::fs::read_to_string(file)
                .map_err(|e| usage(format!("{file}: cannot read the JWK set: {e}")))?;
            Ok((JwkSet::parse(&text, file).map_err(cloud)?, file.clone()))
        }
    }
}

fn check(a: CheckArgs) -> anyhow::Result<i32> {
    let (token, from) = read_token(&a.token)?;
    let token = jwt::decode(&token).map_err(|e| usage(format!("token from {from}: {e}")))?;
    let (jwks, jwks_from) = load_jwks(&a)?;
    let now = jiff::Timestamp::now().as_second();
    let expect = Expectations {
        issuer: a.issuer.clone(),
        audience: a.audience.clone(),
        claims: a.claims.clone(),
        leeway: a.leeway,
    };
    let rows = jwt::check(&token, &jwks, &expect, now);

    let failed = rows.iter().filter(|r| !r.pass).count();
    let code = if failed == 0 {
        exit::CLEAN
    } else {
        exit::FINDINGS
    };
    let aud = a
        .audience
        .clone()
        .or_else(|| token.claim_str("aud").map(str::to_string))
        .unwrap_or_else(|| pipeguard_cloud::aws::DEFAULT_AUDIENCE.into());
    let condition = token
        .claim_str("sub")
        .map(|sub| jwt::aws_trust_condition(&a.issuer, &aud, sub));
    if a.json {
        let doc = serde_json::json!({
            "passed": failed == 0,
            "token": {"from": from, "alg": token.header.alg, "kid": token.header.kid},
            "jwks": {"from": jwks_from, "keys": jwks.keys.len()},
            "checks": rows.iter().map(|r| serde_json::json!({
                "name": r.name, "pass": r.pass, "expected": r.expected, "actual": r.actual,
            })).collect::<Vec<_>>(),
            "claims": jwt::RELEVANT_CLAIMS
                .iter()
                .filter_map(|c| token.claims.get(*c).map(|v| (c.to_string(), v.clone())))
                .collect::<serde_json::Map<String, serde_json::Value>>(),
            "aws_trust_condition": condition.map(|c| c["Condition"].clone()),
        });
        let mut text = serde_json::to_string_pretty(&doc)?;
        text.push('\n');
        output::write_stdout(text.as_bytes())?;
        return Ok(code);
    }

    let mut out = format!(
        "token from {from}: alg {}, kid {}; keys from {jwks_from} ({} key(s))\n\n",
        token.header.alg,
        token.header.kid.as_deref().unwrap_or("(none)"),
        jwks.keys.len()
    );
    let w_name = rows.iter().map(|r| r.name.len()).max().unwrap_or(5).max(5);
    let w_exp = rows
        .iter()
        .map(|r| r.expected.chars().count())
        .max()
        .unwrap_or(8)
        .clamp(8, 50);
    out.push_str(&format!(
        "{:<w_name$}  {:<6}  {:<w_exp$}  ACTUAL\n",
        "CHECK", "RESULT", "EXPECTED"
    ));
    for r in &rows {
        out.push_str(&format!(
            "{:<w_name$}  {:<6}  {:<w_exp$}  {}\n",
            r.name,
            if r.pass { "pass" } else { "FAIL" },
            r.expected,
            r.actual
        ));
    }
    let claims = jwt::relevant_claims(&token);
    if !claims.is_empty() {
        out.push_str("\nclaims:\n");
        let w = claims.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
        for (k, v) in &claims {
            out.push_str(&format!("  {k:<w$}  {v}\n"));
        }
    }
    if a.trust_policy {
        match &condition {
            Some(cond) => out.push_str(&format!(
                "\nAWS trust-policy condition for this subject:\n{}\n",
                serde_json::to_string_pretty(cond)?
            )),
            None => out.push_str("\n(no `sub` claim: no trust-policy condition to suggest)\n"),
        }
    }
    out.push_str(&format!(
        "\n{} of {} checks passed\n",
        rows.len() - failed,
        rows.len()
    ));
    output::write_stdout(out.as_bytes())?;
    Ok(code)
}

/// `oidc aws-secret`: every step of `aws-sm:` resolution, reporting only
/// what is safe to print.
fn aws_secret_dry_run(a: AwsSecretArgs) -> anyhow::Result<i32> {
    let policy = match &a.config {
        Some(p) => pipeguard_core::Policy::load(p)?,
        None => pipeguard_core::Policy::discover(Path::new("."))?,
    };
    let mut aws = policy.run.aws.clone().unwrap_or_default();
    let set = |field: &mut Option<String>, flag: Option<String>| {
        if flag.is_some() {
            *field = flag;
        }
    };
    set(&mut aws.region, a.region);
    set(&mut aws.role_arn, a.role_arn);
    set(&mut aws.endpoint_url, a.endpoint_url);
    set(&mut aws.sts_endpoint_url, a.sts_endpoint_url);
    set(&mut aws.audience, a.audience);
    set(&mut aws.token_env, a.token_env);
    let (value, session) = fetch(&a.spec, &settings_of(&aws))?;
    let kind = if value.is_binary() {
        "SecretBinary"
    } else {
        "SecretString"
    };
    let out = format!(
        "{}: ok ({kind}, {} bytes) as {}; credentials expire {}\n",
        a.spec,
        value.expose().len(),
        session.arn,
        session.expires
    );
    output::write_stdout(out.as_bytes())?;
    Ok(exit::CLEAN)
}

/// `aws-sm:` for `pipeguard run` and `pipeguard mask`: `spec` is what
/// follows `aws-sm:` (`NAME[#json-key]`), settings from `[run.aws]`. Returns
/// the value's bytes; errors never hold the value, the token or credentials.
pub fn aws_secret(spec: &str, cfg: &pipeguard_core::run::RunConfig) -> anyhow::Result<Vec<u8>> {
    let settings = cfg.aws.as_ref().map(settings_of).unwrap_or_default();
    let (value, _) = fetch(&format!("aws-sm:{spec}"), &settings)?;
    Ok(value.into_bytes())
}

/// `[run.aws]` as the cloud client wants it.
fn settings_of(aws: &pipeguard_core::run::AwsConfig) -> pipeguard_cloud::AwsSettings {
    pipeguard_cloud::AwsSettings {
        region: aws.region.clone(),
        role_arn: aws.role_arn.clone(),
        endpoint_url: aws.endpoint_url.clone(),
        sts_endpoint_url: aws.sts_endpoint_url.clone(),
        audience: aws.audience.clone(),
        session_duration: aws.session_duration,
        session_name: aws.session_name.clone(),
        token_env: aws.token_env.clone(),
        token_file: aws.token_file.clone(),
    }
}

/// Who the credentials belong to, for messages.
#[derive(Clone)]
struct Session {
    key: String,
    credentials: pipeguard_cloud::Credentials,
    arn: String,
    expires: String,
}

/// One exchange per process and settings: a job with five `aws-sm:` secrets
/// presents its token to STS once, not five times.
static SESSION: std::sync::Mutex<Option<Session>> = std::sync::Mutex::new(None);

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

/// Resolves one `aws-sm:` spec. AWS and token errors are the user's to fix
/// (trust policy, permissions, missing secret), so they are usage errors.
fn fetch(
    spec: &str,
    settings: &pipeguard_cloud::AwsSettings,
) -> anyhow::Result<(pipeguard_cloud::SecretValue, Session)> {
    let user = |e: pipeguard_cloud::CloudError| match e {
        pipeguard_cloud::CloudError::Transport { .. }
        | pipeguard_cloud::CloudError::Malformed(_) => {
            anyhow::anyhow!("{spec}: {e}")
        }
        _ => usage(format!("{spec}: {e}")),
    };
    let parsed = pipeguard_cloud::SecretSpec::parse(spec).map_err(user)?;
    let resolved = settings.resolve(&env).map_err(user)?;
    let key = format!("{resolved:?}");
    let cached = SESSION
        .lock()
        .ok()
        .and_then(|s| s.clone())
        .filter(|s| s.key == key)
        .filter(|s| {
            // Reuse only while comfortably valid.
            s.credentials
                .expiration
                .is_none_or(|t| t.as_second() > jiff::Timestamp::now().as_second() + 60)
        });
    let session = match cached {
        Some(s) => s,
        None => {
            let role = resolved.assume_role(&env).map_err(user)?;
            let s = Session {
                key,
                arn: role
                    .arn
                    .clone()
                    .unwrap_or_else(|| resolved.role_arn.clone()),
                expires: role
                    .credentials
                    .expiration
                    .map(|t| t.to_string())
                    .unwrap_or_else(|| "(not said)".into()),
                credentials: role.credentials,
            };
            if let Ok(mut slot) = SESSION.lock() {
                *slot = Some(s.clone());
            }
            s
        }
    };
    let value = resolved
        .secret(&session.credentials, &parsed)
        .map_err(user)?;
    Ok((value, session))
}

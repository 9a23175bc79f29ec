//! Verifying a CI's OIDC token the way a cloud trust policy does: signature
//! against the issuer's JWKS, `iss`, `aud`, the time claims, and any claim
//! the policy pins (`repository`, `ref`, `environment`, …).
//!
//! Signatures are checked with `ring` directly (RS256/384/512, PS256/384/512,
//! ES256, ES384, EdDSA) rather than through `jsonwebtoken`: ring is already
//! in the graph through rustls, while jsonwebtoken ≥ 10 would add a second
//! crypto provider and panics at run time when feature unification leaves it
//! with zero or two (CRATES.md §7). `alg: none` and the HMAC algorithms are
//! refused outright: an OIDC issuer signs with a public key, and accepting a
//! shared-secret algorithm is the classic key-confusion hole.

use base64::Engine;
use ring::signature::{self, UnparsedPublicKey};
use serde::Deserialize;
use serde_json::{Map, Value};

use crate::CloudError;
use crate::http::{agent, read, transport};

/// A decoded, not yet verified, JWT.
pub struct Jwt {
    pub header: Header,
    pub claims: Map<String, Value>,
    signing_input: String,
    signature: Vec<u8>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Header {
    pub alg: String,
    pub kid: Option<String>,
    pub typ: Option<String>,
}

fn b64(part: &str, what: &str) -> Result<Vec<u8>, String> {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(part.trim_end_matches('='))
        .map_err(|e| format!("the token's {what} is not base64url: {e}"))
}

/// Splits and decodes a compact JWS. Errors never quote the token.
pub fn decode(token: &str) -> Result<Jwt, String> {
    let token = token.trim();
    let parts: Vec<&str> = token.split('.').collect();
    if parts.len() != 3 {
        return Err(format!(
            "not a JWT: expected 3 dot-separated parts, found {}",
            parts.len()
        ));
    }
    let header: Header = serde_json::from_slice(&b64(parts[0], "header")?)
        .map_err(|e| format!("the token's header is not a JOSE header: {e}"))?;
    let claims: Map<String, Value> = serde_json::from_slice(&b64(parts[1], "payload")?)
        .map_err(|e| format!("the token's payload is not a JSON object: {e}"))?;
    Ok(Jwt {
        header,
        claims,
        signing_input: format!("{}.{}", parts[0], parts[1]),
        signature: b64(parts[2], "signature")?,
    })
}

impl Jwt {
    pub fn claim_str(&self, name: &str) -> Option<&str> {
        self.claims.get(name).and_then(Value::as_str)
    }

    fn claim_i64(&self, name: &str) -> Option<i64> {
        self.claims
            .get(name)
            .and_then(|v| v.as_i64().or_else(|| v.as_f64().map(|f| f as i64)))
    }
}

/// One key of a JWKS (only the members verification needs).
#[derive(Debug, Clone, Deserialize)]
pub struct Jwk {
    pub kty: String,
    pub kid: Option<String>,
    pub alg: Option<String>,
    #[serde(rename = "use")]
    pub use_: Option<String>,
    pub crv: Option<String>,
    n: Option<String>,
    e: Option<String>,
    x: Option<String>,
    y: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct JwkSet {
    pub keys: Vec<Jwk>,
}

impl JwkSet {
    pub fn parse(text: &str, origin: &str) -> Result<JwkSet, CloudError> {
        serde_json::from_str(text).map_err(|e| {
            CloudError::Malformed(format!(
                "{origin}: not a JWK set (expected {{\"keys\": [...]}}): {e}"
            ))
        })
    }
}

enum Family {
    Rsa(&'static signature::RsaParameters),
    Ec(
        &'static signature::EcdsaVerificationAlgorithm,
        &'static str,
        usize,
    ),
    Ed,
}

fn family(alg: &str) -> Result<Family, String> {
    use signature::*;
    Ok(match alg {
        "RS256" => Family::Rsa(&RSA_PKCS1_2048_8192_SHA256),
        "RS384" => Family::Rsa(&RSA_PKCS1_2048_8192_SHA384),
        "RS512" => Family::Rsa(&RSA_PKCS1_2048_8192_SHA512),
        "PS256" => Family::Rsa(&RSA_PSS_2048_8192_SHA256),
        "PS384" => Family::Rsa(&RSA_PSS_2048_8192_SHA384),
        "PS512" => Family::Rsa(&RSA_PSS_2048_8192_SHA512),
        "ES256" => Family::Ec(&ECDSA_P256_SHA256_FIXED, "P-256", 32),
        "ES384" => Family::Ec(&ECDSA_P384_SHA384_FIXED, "P-384", 48),
        "EdDSA" => Family::Ed,
        a if a.eq_ignore_ascii_case("none") => {
            return Err("alg `none`: the token is unsigned; unsigned tokens are refused".into());
        }
        a if a.starts_with("HS") => {
            return Err(format!(
                "alg `{a}`: shared-secret (HMAC) tokens are refused; an OIDC issuer signs with a public key"
            ));
        }
        a => {
            return Err(format!(
                "alg `{a}` is not supported (RS*, PS*, ES256, ES384, EdDSA are)"
            ));
        }
    })
}

fn member(k: &Option<String>, name: &str, kid: &str) -> Result<Vec<u8>, String> {
    let v = k
        .as_deref()
        .ok_or_else(|| format!("key `{kid}` has no `{name}`"))?;
    b64(v, &format!("key `{kid}` member `{name}`"))
}

/// Verifies with one key; `Err` says why not.
fn verify_with(jwt: &Jwt, key: &Jwk) -> Result<(), String> {
    let alg = jwt.header.alg.as_str();
    let kid = key.kid.as_deref().unwrap_or("(no kid)");
    if let Some(kalg) = &key.alg
        && kalg != alg
    {
        return Err(format!(
            "key `{kid}` is for {kalg}, but the token says {alg}"
        ));
    }
    if key.use_.as_deref().is_some_and(|u| u != "sig") {
        return Err(format!("key `{kid}` is not a signing key"));
    }
    let msg = jwt.signing_input.as_bytes();
    let bad = || {
        format!(
            "signature does not verify with key `{kid}` ({alg}): the token was altered or signed by someone else"
        )
    };
    match family(alg)? {
        Family::Rsa(params) => {
            if key.kty != "RSA" {
                return Err(format!(
                    "key `{kid}` is {}, but {alg} needs an RSA key",
                    key.kty
                ));
            }
            let n = member(&key.n, "n", kid)?;
            let e = member(&key.e, "e", kid)?;
            signature::RsaPublicKeyComponents { n: &n, e: &e }
                .verify(params, msg, &jwt.signature)
                .map_err(|_| bad())
        }
        Family::Ec(params, crv, len) => {
            if key.kty != "EC" || key.crv.as_deref() != Some(crv) {
                return Err(format!(
                    "key `{kid}` is not an EC {crv} key, which {alg} needs"
                ));
            }
            let x = member(&key.x, "x", kid)?;
            let y = member(&key.y, "y", kid)?;
            if x.len() != len || y.len() != len {
                return Err(format!("key `{kid}`: x/y are not {len} bytes"));
            }
            let mut point = Vec::with_capacity(1 + 2 * len);
            point.push(4);
            point.extend_from_slice(&x);
            point.extend_from_slice(&y);
            UnparsedPublicKey::new(params, &point)
                .verify(msg, &jwt.signature)
                .map_err(|_| bad())
        }
        Family::Ed => {
            if key.kty != "OKP" || key.crv.as_deref() != Some("Ed25519") {
                return Err(format!(
                    "key `{kid}` is not an Ed25519 key, which EdDSA needs"
                ));
            }
            let x = member(&key.x, "x", kid)?;
            UnparsedPublicKey::new(&signature::ED25519, &x)
                .verify(msg, &jwt.signature)
                .map_err(|_| bad())
        }
    }
}

/// Checks the signature with the key the token names. `Ok` is the kid used.
pub fn verify_signature(jwt: &Jwt, jwks: &JwkSet) -> Result<String, String> {
    // Refuse `none`/HS* before looking at keys, whatever the JWKS holds.
    family(&jwt.header.alg)?;
    match &jwt.header.kid {
        Some(kid) => {
            let key = jwks
                .keys
                .iter()
                .find(|k| k.kid.as_deref() == Some(kid))
                .ok_or_else(|| {
                    let known: Vec<&str> =
                        jwks.keys.iter().filter_map(|k| k.kid.as_deref()).collect();
                    format!(
                        "no key with kid `{kid}` in the issuer's JWKS (it has: {})",
                        if known.is_empty() {
                            "no kids".to_string()
                        } else {
                            known.join(", ")
                        }
                    )
                })?;
            verify_with(jwt, key).map(|()| kid.clone())
        }
        // Without a kid, any key of the set may have signed it.
        None => {
            let mut last = "the issuer's JWKS has no keys".to_string();
            for key in &jwks.keys {
                match verify_with(jwt, key) {
                    Ok(()) => return Ok(key.kid.clone().unwrap_or_else(|| "(no kid)".into())),
                    Err(e) => last = e,
                }
            }
            Err(format!(
                "the token has no kid and no key verifies it ({last})"
            ))
        }
    }
}

/// What a token must satisfy.
#[derive(Debug, Clone)]
pub struct Expectations {
    pub issuer: String,
    pub audience: Option<String>,
    /// `name=value` pairs; `*` in a value matches any run of characters.
    pub claims: Vec<(String, String)>,
    /// Seconds of clock skew allowed on exp/nbf/iat.
    pub leeway: i64,
}

/// One row of the verdict.
#[derive(Debug, Clone)]
pub struct Check {
    pub name: String,
    pub expected: String,
    pub actual: String,
    pub pass: bool,
}

fn row(name: &str, expected: impl Into<String>, actual: impl Into<String>, pass: bool) -> Check {
    Check {
        name: name.into(),
        expected: expected.into(),
        actual: actual.into(),
        pass,
    }
}

fn show(v: Option<&Value>) -> String {
    match v {
        None => "(absent)".into(),
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    }
}

fn when(secs: i64, now: i64) -> String {
    let at = jiff::Timestamp::from_second(secs)
        .map(|t| t.to_string())
        .unwrap_or_else(|_| secs.to_string());
    let d = secs - now;
    if d >= 0 {
        format!("{at} (in {d}s)")
    } else {
        format!("{at} ({}s ago)", -d)
    }
}

/// `*` matches any run of characters; everything else literally.
pub fn glob_match(pattern: &str, value: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == value;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !value.starts_with(first) || value.len() < first.len() + last.len() || !value.ends_with(last)
    {
        return false;
    }
    let mut rest = &value[first.len()..value.len() - last.len()];
    for mid in &parts[1..parts.len() - 1] {
        match rest.find(mid) {
            Some(i) => rest = &rest[i + mid.len()..],
            None => return false,
        }
    }
    true
}

fn matches(v: Option<&Value>, pattern: &str) -> bool {
    match v {
        None => false,
        Some(Value::String(s)) => glob_match(pattern, s),
        Some(Value::Array(items)) => items.iter().any(|i| matches(Some(i), pattern)),
        Some(other) => glob_match(pattern, &other.to_string()),
    }
}

/// Every check, in the order a reader wants them: signature, iss, aud, times, claims.
pub fn check(jwt: &Jwt, jwks: &JwkSet, expect: &Expectations, now: i64) -> Vec<Check> {
    let mut out = Vec::new();
    let alg = &jwt.header.alg;
    match verify_signature(jwt, jwks) {
        Ok(kid) => out.push(row(
            "signature",
            format!("{alg} by the issuer's key"),
            format!("verified with key `{kid}`"),
            true,
        )),
        Err(why) => out.push(row("signature", "signed by the issuer's key", why, false)),
    }
    let iss = jwt.claims.get("iss");
    let norm = |s: &str| s.trim_end_matches('/').to_string();
    out.push(row(
        "iss",
        expect.issuer.clone(),
        show(iss),
        iss.and_then(Value::as_str).map(norm) == Some(norm(&expect.issuer)),
    ));
    if let Some(aud) = &expect.audience {
        let got = jwt.claims.get("aud");
        let pass = match got {
            Some(Value::String(s)) => s == aud,
            Some(Value::Array(a)) => a.iter().any(|v| v.as_str() == Some(aud)),
            _ => false,
        };
        out.push(row("aud", aud.clone(), show(got), pass));
    }
    let l = expect.leeway;
    match jwt.claim_i64("exp") {
        Some(exp) => out.push(row("exp", "in the future", when(exp, now), exp + l > now)),
        None => out.push(row(
            "exp",
            "in the future",
            "(absent: a token must expire)",
            false,
        )),
    }
    if let Some(nbf) = jwt.claim_i64("nbf") {
        out.push(row("nbf", "in the past", when(nbf, now), nbf - l <= now));
    }
    if let Some(iat) = jwt.claim_i64("iat") {
        out.push(row("iat", "in the past", when(iat, now), iat - l <= now));
    }
    for (name, want) in &expect.claims {
        let got = jwt.claims.get(name);
        out.push(row(name, want.clone(), show(got), matches(got, want)));
    }
    out
}

/// The claims that trust policies are written against, in a useful order,
/// for the ones the token has.
pub const RELEVANT_CLAIMS: &[&str] = &[
    "sub",
    "iss",
    "aud",
    // GitHub Actions
    "repository",
    "repository_owner",
    "repository_visibility",
    "ref",
    "ref_type",
    "ref_protected",
    "environment",
    "event_name",
    "workflow",
    "workflow_ref",
    "job_workflow_ref",
    "actor",
    "run_id",
    "sha",
    "runner_environment",
    // GitLab CI
    "project_path",
    "namespace_path",
    "pipeline_source",
    "user_login",
    "ci_config_ref_uri",
    "deployment_tier",
];

pub fn relevant_claims(jwt: &Jwt) -> Vec<(String, String)> {
    RELEVANT_CLAIMS
        .iter()
        .filter_map(|c| jwt.claims.get(*c).map(|v| (c.to_string(), show(Some(v)))))
        .collect()
}

/// The `Condition` block of an AWS IAM trust policy that admits exactly
/// this token's subject and audience from this issuer.
pub fn aws_trust_condition(issuer: &str, audience: &str, sub: &str) -> Value {
    let host = issuer
        .trim_start_matches("https://")
        .trim_start_matches("http://")
        .trim_end_matches('/');
    serde_json::json!({
        "Condition": {
            "StringEquals": {
                format!("{host}:aud"): audience,
                format!("{host}:sub"): sub,
            }
        }
    })
}

fn get(url: &str) -> Result<String, CloudError> {
    let resp = agent()
        .get(url)
        .header("Accept", "application/json")
        .call()
        .map_err(|e| transport(url, e))?;
    let (status, body) = read(url, resp)?;
    if !(200..300).contains(&status) {
        return Err(CloudError::Transport {
            url: url.into(),
            message: format!("HTTP {status}"),
        });
    }
    Ok(body)
}

/// The issuer's keys through OIDC discovery:
/// `ISSUER/.well-known/openid-configuration` → `jwks_uri`. The discovery
/// document must name the same issuer; the URL comes from the caller, never
/// from the token, so a forged `iss` cannot point us at the forger's keys.
pub fn discover_jwks(issuer: &str) -> Result<(JwkSet, String), CloudError> {
    let base = issuer.trim_end_matches('/');
    let url = format!("{base}/.well-known/openid-configuration");
    let doc: Value = serde_json::from_str(&get(&url)?)
        .map_err(|e| CloudError::Malformed(format!("{url}: not a JSON discovery document: {e}")))?;
    let said = doc.get("issuer").and_then(Value::as_str).unwrap_or("");
    if said.trim_end_matches('/') != base {
        return Err(CloudError::Malformed(format!(
            "{url}: the discovery document names issuer `{said}`, not `{issuer}`"
        )));
    }
    let jwks_uri = doc
        .get("jwks_uri")
        .and_then(Value::as_str)
        .ok_or_else(|| CloudError::Malformed(format!("{url}: no `jwks_uri`")))?
        .to_string();
    Ok((fetch_jwks(&jwks_uri)?, jwks_uri))
}

pub fn fetch_jwks(url: &str) -> Result<JwkSet, CloudError> {
    JwkSet::parse(&get(url)?, url)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ring::rand::SystemRandom;
    use ring::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, Ed25519KeyPair, KeyPair};

    fn enc(b: &[u8]) -> String {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b)
    }

    fn es256(claims: &Value, kid: &str) -> (String, JwkSet) {
        let rng = SystemRandom::new();
        let pkcs8 =
            EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).expect("key");
        let kp = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref(), &rng)
            .expect("kp");
        let input = format!(
            "{}.{}",
            enc(serde_json::json!({"alg": "ES256", "kid": kid})
                .to_string()
                .as_bytes()),
            enc(claims.to_string().as_bytes())
        );
        let sig = kp.sign(&rng, input.as_bytes()).expect("sign");
        let p = kp.public_key().as_ref();
        let jwks = JwkSet::parse(
            &serde_json::json!({"keys": [{"kty": "EC", "crv": "P-256", "kid": kid, "x": enc(&p[1..33]), "y": enc(&p[33..])}]})
                .to_string(),
            "t",
        )
        .expect("jwks");
        (format!("{input}.{}", enc(sig.as_ref())), jwks)
    }

    fn expect() -> Expectations {
        Expectations {
            issuer: "https://issuer.example".into(),
            audience: Some("sts.amazonaws.com".into()),
            claims: vec![("repository".into(), "octo/*".into())],
            leeway: 60,
        }
    }

    #[test]
    fn es256_token_passes_every_check_and_fails_each_broken_one() {
        let now = 1_800_000_000;
        let claims = serde_json::json!({"iss": "https://issuer.example/", "aud": ["sts.amazonaws.com"], "exp": now + 300, "iat": now - 5, "nbf": now - 5, "repository": "octo/app", "sub": "repo:octo/app:ref:refs/heads/main"});
        let (tok, jwks) = es256(&claims, "k1");
        let jwt = decode(&tok).expect("decode");
        let rows = check(&jwt, &jwks, &expect(), now);
        assert!(rows.iter().all(|r| r.pass), "{rows:?}");
        assert_eq!(rows.len(), 7);

        // A token that expired 2 minutes ago fails exp (60 s leeway), and only exp.
        let rows = check(&jwt, &jwks, &expect(), now + 420);
        let failed: Vec<&str> = rows
            .iter()
            .filter(|r| !r.pass)
            .map(|r| r.name.as_str())
            .collect();
        assert_eq!(failed, ["exp"]);

        // Another key with the same kid: the signature no longer verifies.
        let (_, other) = es256(&claims, "k1");
        let rows = check(&jwt, &other, &expect(), now);
        assert!(
            !rows[0].pass && rows[0].actual.contains("does not verify"),
            "{rows:?}"
        );
    }

    #[test]
    fn none_and_hmac_are_refused_before_any_key_is_tried() {
        let (_, jwks) = es256(&serde_json::json!({}), "k1");
        for (alg, want) in [("none", "unsigned"), ("HS256", "shared-secret")] {
            let tok = format!(
                "{}.{}.",
                enc(serde_json::json!({"alg": alg, "kid": "k1"})
                    .to_string()
                    .as_bytes()),
                enc(b"{}")
            );
            let err = verify_signature(&decode(&tok).expect("decode"), &jwks).expect_err(alg);
            assert!(err.contains(want), "{alg}: {err}");
        }
    }

    #[test]
    fn eddsa_and_key_type_confusion() {
        let rng = SystemRandom::new();
        let pkcs8 = Ed25519KeyPair::generate_pkcs8(&rng).expect("key");
        let kp = Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()).expect("kp");
        let input = format!("{}.{}", enc(br#"{"alg":"EdDSA","kid":"ed"}"#), enc(b"{}"));
        let tok = format!("{input}.{}", enc(kp.sign(input.as_bytes()).as_ref()));
        let jwks = JwkSet::parse(
            &serde_json::json!({"keys": [{"kty": "OKP", "crv": "Ed25519", "kid": "ed", "x": enc(kp.public_key().as_ref())}]}).to_string(),
            "t",
        )
        .expect("jwks");
        assert_eq!(
            verify_signature(&decode(&tok).expect("d"), &jwks).as_deref(),
            Ok("ed")
        );
        // The same key announced for RS256 must not verify an RS256-labelled token.
        let input = format!("{}.{}", enc(br#"{"alg":"RS256","kid":"ed"}"#), enc(b"{}"));
        let err = verify_signature(&decode(&format!("{input}.AAAA")).expect("d"), &jwks)
            .expect_err("confusion");
        assert!(err.contains("needs an RSA key"), "{err}");
    }

    #[test]
    fn globs_and_trust_condition() {
        assert!(glob_match(
            "repo:octo/app:*",
            "repo:octo/app:ref:refs/heads/main"
        ));
        assert!(glob_match("a*c*e", "abcde"));
        assert!(!glob_match("a*c*e", "abde"));
        assert!(!glob_match("refs/heads/main", "refs/heads/main2"));
        let c = aws_trust_condition(
            "https://token.actions.githubusercontent.com",
            "sts.amazonaws.com",
            "repo:o/r:ref:refs/heads/main",
        );
        assert_eq!(
            c["Condition"]["StringEquals"]["token.actions.githubusercontent.com:sub"],
            "repo:o/r:ref:refs/heads/main"
        );
    }

    #[test]
    fn malformed_tokens_say_what_is_wrong() {
        assert!(
            decode("abc")
                .err()
                .is_some_and(|e| e.contains("3 dot-separated"))
        );
        assert!(
            decode("!!.e30.")
                .err()
                .is_some_and(|e| e.contains("header is not base64url"))
        );
        assert!(
            decode(&format!("{}.e30.", enc(b"[]")))
                .err()
                .is_some_and(|e| e.contains("JOSE header"))
        );
    }
}

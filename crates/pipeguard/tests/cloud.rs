#![cfg(feature = "cloud")]
//! End-to-end tests of the `cloud` feature, against real servers on
//! 127.0.0.1: an OIDC issuer (discovery document + JWKS) and a GitHub-style
//! token request endpoint served by this file, and moto's server mode
//! standing in for AWS STS and Secrets Manager (install it with
//! `tools/moto.sh`). Keys and tokens are made here: EC keys with ring, RSA
//! keys with the `openssl` CLI.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine;
use ring::rand::SystemRandom;
use ring::signature::{self, EcdsaKeyPair, KeyPair, RsaKeyPair};
use serde_json::{Value, json};

use common::pipeguard;

// ---------------------------------------------------------------- HTTP --

/// One request as a test server saw it.
#[derive(Clone, Debug)]
struct Seen {
    method: String,
    target: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Seen {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

type Handler = dyn Fn(&Seen) -> (u16, String) + Send + Sync;

/// A tiny HTTP/1.1 server on a free loopback port: one request per
/// connection, every request recorded.
struct Server {
    port: u16,
    seen: Arc<Mutex<Vec<Seen>>>,
}

fn read_request(stream: &mut TcpStream) -> Option<Seen> {
    let mut reader = BufReader::new(stream.try_clone().ok()?);
    let mut line = String::new();
    reader.read_line(&mut line).ok()?;
    let mut parts = line.split_whitespace();
    let method = parts.next()?.to_string();
    let target = parts.next()?.to_string();
    let mut headers = Vec::new();
    loop {
        let mut h = String::new();
        reader.read_line(&mut h).ok()?;
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        let (k, v) = h.split_once(':')?;
        headers.push((k.trim().to_string(), v.trim().to_string()));
    }
    let len = headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0usize);
    let mut body = vec![0; len];
    reader.read_exact(&mut body).ok()?;
    Some(Seen {
        method,
        target,
        headers,
        body,
    })
}

impl Server {
    fn start(handler: Box<Handler>) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = seen.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let Some(req) = read_request(&mut stream) else {
                    continue;
                };
                let (status, body) = handler(&req);
                log.lock().expect("log").push(req);
                let _ = write!(
                    stream,
                    "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
            }
        });
        Server { port, seen }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().expect("log").clone()
    }
}

// ----------------------------------------------------- keys and tokens --

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

enum Key {
    Ec(EcdsaKeyPair),
    Rsa(RsaKeyPair),
}

struct Signer {
    kid: String,
    key: Key,
}

impl Signer {
    fn es256(kid: &str) -> Signer {
        let rng = SystemRandom::new();
        let alg = &signature::ECDSA_P256_SHA256_FIXED_SIGNING;
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(alg, &rng).expect("ec key");
        Signer {
            kid: kid.into(),
            key: Key::Ec(EcdsaKeyPair::from_pkcs8(alg, pkcs8.as_ref(), &rng).expect("ec key")),
        }
    }

    /// ring cannot generate RSA keys; the openssl CLI can.
    fn rs256(kid: &str) -> Signer {
        let out = Command::new("openssl")
            .args([
                "genpkey",
                "-algorithm",
                "RSA",
                "-pkeyopt",
                "rsa_keygen_bits:2048",
                "-outform",
                "DER",
            ])
            .output()
            .expect("the RSA tests need the openssl CLI (apt-get install openssl)");
        assert!(out.status.success(), "openssl genpkey failed");
        Signer {
            kid: kid.into(),
            // OpenSSL 3.0 writes PKCS#1 for `-outform DER`, later versions PKCS#8.
            key: Key::Rsa(
                RsaKeyPair::from_der(&out.stdout)
                    .or_else(|_| RsaKeyPair::from_pkcs8(&out.stdout))
                    .expect("rsa key"),
            ),
        }
    }

    fn alg(&self) -> &'static str {
        match self.key {
            Key::Ec(_) => "ES256",
            Key::Rsa(_) => "RS256",
        }
    }

    fn jwk(&self) -> Value {
        match &self.key {
            Key::Ec(k) => {
                let p = k.public_key().as_ref();
                json!({"kty": "EC", "crv": "P-256", "kid": self.kid, "use": "sig", "alg": "ES256",
                       "x": b64(&p[1..33]), "y": b64(&p[33..])})
            }
            Key::Rsa(k) => {
                let c = signature::RsaPublicKeyComponents::<Vec<u8>>::from(k.public());
                json!({"kty": "RSA", "kid": self.kid, "use": "sig", "alg": "RS256",
                       "n": b64(&c.n), "e": b64(&c.e)})
            }
        }
    }

    fn token_with_header(&self, header: &Value, claims: &Value) -> String {
        let input = format!(
            "{}.{}",
            b64(header.to_string().as_bytes()),
            b64(claims.to_string().as_bytes())
        );
        let rng = SystemRandom::new();
        let sig = match &self.key {
            Key::Ec(k) => k
                .sign(&rng, input.as_bytes())
                .expect("sign")
                .as_ref()
                .to_vec(),
            Key::Rsa(k) => {
                let mut sig = vec![0; k.public().modulus_len()];
                k.sign(
                    &signature::RSA_PKCS1_SHA256,
                    &rng,
                    input.as_bytes(),
                    &mut sig,
                )
                .expect("sign");
                sig
            }
        };
        format!("{input}.{}", b64(&sig))
    }

    fn token(&self, claims: &Value) -> String {
        self.token_with_header(
            &json!({"alg": self.alg(), "kid": self.kid, "typ": "JWT"}),
            claims,
        )
    }
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs() as i64
}

/// Claims shaped like a GitHub Actions token for `octo/app` on main.
fn github_claims(issuer: &str, audience: &str) -> Value {
    let t = now();
    json!({
        "iss": issuer,
        "aud": audience,
        "sub": "repo:octo/app:ref:refs/heads/main",
        "repository": "octo/app",
        "repository_owner": "octo",
        "ref": "refs/heads/main",
        "ref_type": "branch",
        "workflow": "deploy",
        "job_workflow_ref": "octo/app/.github/workflows/deploy.yml@refs/heads/main",
        "environment": "production",
        "event_name": "push",
        "iat": t - 10,
        "nbf": t - 10,
        "exp": t + 300,
    })
}

/// An OIDC issuer: discovery document and JWKS on a loopback port.
fn issuer(keys: Vec<Value>) -> Server {
    let port = Arc::new(Mutex::new(0u16));
    let p = port.clone();
    let server = Server::start(Box::new(move |req: &Seen| {
        let base = format!("http://127.0.0.1:{}", p.lock().expect("port"));
        match req.target.as_str() {
            "/.well-known/openid-configuration" => (
                200,
                json!({"issuer": base, "jwks_uri": format!("{base}/keys")}).to_string(),
            ),
            "/keys" => (200, json!({"keys": keys}).to_string()),
            _ => (404, "{}".into()),
        }
    }));
    *port.lock().expect("port") = server.port;
    server
}

fn write_token(dir: &tempfile::TempDir, token: &str) -> PathBuf {
    let path = dir.path().join("token.jwt");
    std::fs::write(&path, token).expect("write token");
    path
}

// ------------------------------------------------------- oidc check --

#[test]
fn oidc_check_passes_a_valid_token_verified_through_discovery() {
    let rsa = Signer::rs256("rsa-1");
    let ec = Signer::es256("ec-1");
    let iss = issuer(vec![rsa.jwk(), ec.jwk()]);
    let dir = tempfile::tempdir().expect("tmp");
    for signer in [&rsa, &ec] {
        let token = signer.token(&github_claims(&iss.url(), "sts.amazonaws.com"));
        let file = write_token(&dir, &token);
        let out = pipeguard()
            .args(["oidc", "check"])
            .arg(&file)
            .args(["--issuer", &iss.url(), "--audience", "sts.amazonaws.com"])
            .args([
                "--claim",
                "repository=octo/app",
                "--claim",
                "ref=refs/heads/main",
            ])
            .args(["--claim", "sub=repo:octo/app:*", "--trust-policy"])
            .output()
            .expect("run");
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{stdout}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            stdout.contains(&format!(
                "signature   pass    {} by the issuer's key",
                signer.alg()
            )) && stdout.contains(&format!("verified with key `{}`", signer.kid)),
            "{stdout}"
        );
        assert!(stdout.contains("9 of 9 checks passed"), "{stdout}");
        assert!(!stdout.contains("FAIL"), "{stdout}");
        // The claims a trust policy is written against, and a condition for this subject.
        assert!(
            stdout.contains(
                "job_workflow_ref  octo/app/.github/workflows/deploy.yml@refs/heads/main"
            ),
            "{stdout}"
        );
        assert!(stdout.contains("environment       production"), "{stdout}");
        assert!(stdout.contains("\"127.0.0.1:"), "{stdout}");
        assert!(
            stdout.contains(":sub\": \"repo:octo/app:ref:refs/heads/main\""),
            "{stdout}"
        );
        // The token itself is a credential: never echoed.
        assert!(!stdout.contains(&token[..40]), "{stdout}");
    }
    let seen = iss.seen();
    assert!(
        seen.iter()
            .any(|r| r.target == "/.well-known/openid-configuration")
    );
    assert!(seen.iter().any(|r| r.target == "/keys"));
}

/// Runs `oidc check` on `token` and returns (exit code, stdout, stderr).
fn check(iss: &Server, token: &str, extra: &[&str]) -> (Option<i32>, String, String) {
    let dir = tempfile::tempdir().expect("tmp");
    let file = write_token(&dir, token);
    let out = pipeguard()
        .args(["oidc", "check"])
        .arg(&file)
        .args(["--issuer", &iss.url(), "--audience", "sts.amazonaws.com"])
        .args(["--claim", "repository=octo/app"])
        .args(extra)
        .output()
        .expect("run");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The one FAIL row of a verdict, as `name  FAIL  expected  actual`.
fn failures(stdout: &str) -> Vec<String> {
    stdout
        .lines()
        .filter(|l| l.split_whitespace().nth(1) == Some("FAIL"))
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect()
}

#[test]
fn oidc_check_fails_each_broken_token_with_the_reason() {
    let signer = Signer::es256("ec-1");
    let stranger = Signer::es256("ec-1"); // same kid, different key
    let iss = issuer(vec![signer.jwk()]);
    let good = github_claims(&iss.url(), "sts.amazonaws.com");

    let mut wrong_aud = good.clone();
    wrong_aud["aud"] = json!("https://github.com/octo");
    let (code, out, _) = check(&iss, &signer.token(&wrong_aud), &[]);
    assert_eq!(code, Some(1), "{out}");
    assert_eq!(
        failures(&out),
        ["aud FAIL sts.amazonaws.com https://github.com/octo"],
        "{out}"
    );

    let mut fork = good.clone();
    fork["repository"] = json!("mallory/app");
    let (code, out, _) = check(&iss, &signer.token(&fork), &[]);
    assert_eq!(code, Some(1), "{out}");
    assert_eq!(
        failures(&out),
        ["repository FAIL octo/app mallory/app"],
        "{out}"
    );

    let mut expired = good.clone();
    expired["exp"] = json!(now() - 600);
    let (code, out, _) = check(&iss, &signer.token(&expired), &[]);
    assert_eq!(code, Some(1), "{out}");
    let f = failures(&out);
    assert!(
        f.len() == 1 && f[0].starts_with("exp FAIL in the future") && f[0].ends_with("ago)"),
        "{out}"
    );

    // Claims edited after signing: the signature no longer covers them.
    let token = signer.token(&good);
    let mut parts: Vec<String> = token.split('.').map(str::to_string).collect();
    let mut edited = good.clone();
    edited["ref"] = json!("refs/heads/evil");
    parts[1] = b64(edited.to_string().as_bytes());
    let (code, out, _) = check(&iss, &parts.join("."), &[]);
    assert_eq!(code, Some(1), "{out}");
    let f = failures(&out);
    assert!(
        f.len() == 1 && f[0].contains("signature does not verify with key `ec-1`"),
        "{out}"
    );

    let (code, out, _) = check(&iss, &stranger.token(&good), &[]);
    assert_eq!(code, Some(1), "{out}");
    assert!(failures(&out)[0].contains("does not verify"), "{out}");

    let (code, out, _) = check(
        &iss,
        &signer.token_with_header(&json!({"alg": "ES256", "kid": "rotated-away"}), &good),
        &[],
    );
    assert_eq!(code, Some(1), "{out}");
    assert!(
        failures(&out)[0]
            .contains("no key with kid `rotated-away` in the issuer's JWKS (it has: ec-1)"),
        "{out}"
    );

    let unsigned = format!(
        "{}.{}.",
        b64(json!({"alg": "none", "kid": "ec-1"}).to_string().as_bytes()),
        b64(good.to_string().as_bytes())
    );
    let (code, out, _) = check(&iss, &unsigned, &[]);
    assert_eq!(code, Some(1), "{out}");
    assert!(
        failures(&out)[0]
            .contains("alg `none`: the token is unsigned; unsigned tokens are refused"),
        "{out}"
    );

    // An HS256 token "signed" with the public key as HMAC secret: key confusion.
    let hs = format!(
        "{}.{}.{}",
        b64(json!({"alg": "HS256", "kid": "ec-1"})
            .to_string()
            .as_bytes()),
        b64(good.to_string().as_bytes()),
        b64(b"whatever")
    );
    let (code, out, _) = check(&iss, &hs, &[]);
    assert_eq!(code, Some(1), "{out}");
    assert!(
        failures(&out)[0].contains("shared-secret (HMAC) tokens are refused"),
        "{out}"
    );
}

#[test]
fn oidc_check_usage_errors_exit_2_without_echoing_the_token() {
    let signer = Signer::es256("ec-1");
    let iss = issuer(vec![signer.jwk()]);
    let (code, _, err) = check(&iss, "not-a-token", &[]);
    assert_eq!(code, Some(2));
    assert!(
        err.contains("not a JWT: expected 3 dot-separated parts, found 1"),
        "{err}"
    );
    assert!(!err.contains("not-a-token"), "{err}");

    // The issuer's discovery document names another issuer: refuse its keys.
    let token = signer.token(&github_claims(&iss.url(), "sts.amazonaws.com"));
    let dir = tempfile::tempdir().expect("tmp");
    let file = write_token(&dir, &token);
    let out = pipeguard()
        .args(["oidc", "check"])
        .arg(&file)
        .args(["--issuer", &format!("{}/other", iss.url())])
        .output()
        .expect("run");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("cannot get the issuer's keys"), "{err}");

    // --jwks from a file works without discovery.
    let jwks = dir.path().join("jwks.json");
    std::fs::write(&jwks, json!({"keys": [signer.jwk()]}).to_string()).expect("write");
    let out = pipeguard()
        .args(["oidc", "check", "-", "--issuer", &iss.url(), "--jwks"])
        .arg(&jwks)
        .write_stdin(token.clone())
        .output()
        .expect("run");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(stdout.contains("token from standard input"), "{stdout}");
    assert!(
        !stdout.contains(&token[..40])
            && !String::from_utf8_lossy(&out.stderr).contains(&token[..40])
    );

    // --json: the same verdict for scripts; a wrong audience fails it.
    let out = pipeguard()
        .args(["oidc", "check"])
        .arg(&file)
        .args([
            "--issuer",
            &iss.url(),
            "--audience",
            "other",
            "--json",
            "--jwks",
        ])
        .arg(&jwks)
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(1));
    let doc: Value = serde_json::from_slice(&out.stdout).expect("JSON verdict");
    assert_eq!(doc["passed"], false);
    let failed: Vec<&str> = doc["checks"]
        .as_array()
        .expect("checks")
        .iter()
        .filter(|c| c["pass"] == false)
        .map(|c| c["name"].as_str().expect("name"))
        .collect();
    assert_eq!(failed, ["aud"]);
    assert_eq!(doc["claims"]["repository"], "octo/app");
    assert_eq!(
        doc["aws_trust_condition"]["StringEquals"][format!("127.0.0.1:{}:sub", iss.port)],
        "repo:octo/app:ref:refs/heads/main"
    );
}

// ------------------------------------------------------------ moto --

/// moto's server (a local AWS), killed when dropped.
struct Moto {
    child: Child,
    port: u16,
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn moto_binary() -> PathBuf {
    if let Some(p) = std::env::var_os("MOTO_SERVER") {
        return PathBuf::from(p);
    }
    let venv = std::env::var_os("MOTO_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/moto-venv")
        });
    let bin = venv.join("bin/moto_server");
    assert!(
        bin.is_file(),
        "moto's server is not installed: run tools/moto.sh (or set MOTO_SERVER to a moto_server binary); looked for {}",
        bin.display()
    );
    bin
}

/// A raw HTTP exchange with a loopback server: (status, body).
fn http(
    port: u16,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> (u16, Vec<u8>) {
    let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(30)))
        .expect("timeout");
    let mut req = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    s.write_all(req.as_bytes()).expect("send");
    s.write_all(body).expect("send body");
    let mut resp = Vec::new();
    let _ = s.read_to_end(&mut resp);
    let split = resp
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("response head");
    let head = String::from_utf8_lossy(&resp[..split]).into_owned();
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    (status, resp[split + 4..].to_vec())
}

impl Moto {
    fn start() -> Moto {
        let bin = moto_binary();
        let port = TcpListener::bind("127.0.0.1:0")
            .expect("bind")
            .local_addr()
            .expect("addr")
            .port();
        let child = Command::new(&bin)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e} (run tools/moto.sh)", bin.display()));
        let moto = Moto { child, port };
        let started = Instant::now();
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "moto_server did not start on port {port}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        moto
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// From now on moto checks SigV4 signatures and IAM policies, except for
    /// the next request: the unsigned AssumeRoleWithWebIdentity call.
    fn enforce_auth_after_one_request(&self) {
        let (status, body) = http(
            self.port,
            "POST",
            "/moto-api/reset-auth",
            &[("Content-Type", "text/plain")],
            b"1",
        );
        assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    }
}

const ROLE: &str = "arn:aws:iam::123456789012:role/ci";

/// A role that may read secrets, one that may not, and three secrets.
const SETUP: &str = r#"
import boto3, json, os
kw = dict(endpoint_url=os.environ["MOTO_URL"], region_name="us-east-1")
iam = boto3.client("iam", **kw)
sm = boto3.client("secretsmanager", **kw)
iam.create_role(RoleName="ci", AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Federated": "token.actions.githubusercontent.com"}, "Action": "sts:AssumeRoleWithWebIdentity"}]}))
iam.put_role_policy(RoleName="ci", PolicyName="read-app", PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "secretsmanager:GetSecretValue", "Resource": "*"}]}))
iam.create_role(RoleName="ci-no-secrets", AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Federated": "token.actions.githubusercontent.com"}, "Action": "sts:AssumeRoleWithWebIdentity"}]}))
iam.put_role_policy(RoleName="ci-no-secrets", PolicyName="nothing", PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:ListAllMyBuckets", "Resource": "*"}]}))
sm.create_secret(Name="app/db", SecretString=json.dumps({"user": "app", "password": os.environ.get("DB_PASSWORD", "")}))
sm.create_secret(Name="app/blob", SecretBinary=bytes([0, 1, 2, 254, 255]) * 8)
sm.create_secret(Name="other/secret", SecretString="not-for-this-role-1234")
"#;

/// Everything `aws-sm:` needs: moto with a role and secrets, a STS proxy that
/// records what reaches STS, and a GitHub-style token endpoint.
struct Aws {
    moto: Moto,
    sts: Server,
    github: Server,
    jwt: String,
    request_token: String,
    db_password: String,
}

fn aws() -> Aws {
    let moto = Moto::start();
    let db_password = common::password("AwsSm");
    let python = moto_binary().with_file_name("python");
    let out = Command::new(&python)
        .arg("-c")
        .arg(SETUP)
        .env("MOTO_URL", moto.url())
        .env("DB_PASSWORD", &db_password)
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .output()
        .expect("run boto3");
    assert!(
        out.status.success(),
        "boto3 setup failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );

    // STS goes through a recording proxy so the test sees what was sent.
    let moto_port = moto.port;
    let sts = Server::start(Box::new(move |req: &Seen| {
        let ctype = req.header("content-type").unwrap_or("").to_string();
        let (status, body) = http(
            moto_port,
            &req.method,
            &req.target,
            &[("Content-Type", &ctype)],
            &req.body,
        );
        (status, String::from_utf8_lossy(&body).into_owned())
    }));

    let signer = Signer::es256("gh-1");
    let jwt = signer.token(&github_claims(
        "https://token.actions.githubusercontent.com",
        "sts.amazonaws.com",
    ));
    let request_token = format!("ghs_{}", "R3qT0kEnForOidcOnly".repeat(2));
    let (expect_bearer, value) = (format!("bearer {request_token}"), jwt.clone());
    let github = Server::start(Box::new(move |req: &Seen| {
        if req.header("authorization") != Some(expect_bearer.as_str()) {
            return (401, r#"{"message":"bad credentials"}"#.into());
        }
        if !req.target.contains("&audience=sts.amazonaws.com") {
            return (400, r#"{"message":"audience"}"#.into());
        }
        (200, json!({"count": 1, "value": value}).to_string())
    }));
    Aws {
        moto,
        sts,
        github,
        jwt,
        request_token,
        db_password,
    }
}

impl Aws {
    /// `pipeguard` with the CI environment of a GitHub Actions job that has
    /// `id-token: write`, and AWS settings pointing at moto.
    fn cmd(&self, args: &[&str]) -> std::process::Output {
        self.moto.enforce_auth_after_one_request();
        pipeguard()
            .args(args)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("NO_COLOR", "1")
            .env(
                "ACTIONS_ID_TOKEN_REQUEST_URL",
                format!("{}/token?api-version=2.0", self.github.url()),
            )
            .env("ACTIONS_ID_TOKEN_REQUEST_TOKEN", &self.request_token)
            .env("GITHUB_RUN_ID", "4242")
            .env("AWS_REGION", "us-east-1")
            .env("AWS_ROLE_ARN", ROLE)
            .output()
            .expect("run pipeguard")
    }

    /// A pipeguard.toml whose `[run.aws]` points at moto, plus `extra`.
    fn policy(&self, dir: &tempfile::TempDir, extra: &str) -> PathBuf {
        let path = dir.path().join("pipeguard.toml");
        let text = format!(
            "[run.aws]\nregion = \"us-east-1\"\nrole-arn = \"{ROLE}\"\nendpoint-url = \"{}\"\nsts-endpoint-url = \"{}\"\nsession-duration = 900\n{extra}",
            self.moto.url(),
            self.sts.url()
        );
        std::fs::write(&path, text).expect("write policy");
        path
    }

    fn endpoints(&self) -> [String; 4] {
        [
            "--endpoint-url".into(),
            self.moto.url(),
            "--sts-endpoint-url".into(),
            self.sts.url(),
        ]
    }

    /// Nothing that is a credential shows in what pipeguard printed.
    fn assert_no_credentials(&self, out: &std::process::Output) {
        for stream in [&out.stdout, &out.stderr] {
            let text = String::from_utf8_lossy(stream);
            assert!(
                !text.contains(&self.jwt[..30]),
                "the OIDC token leaked: {text}"
            );
            assert!(
                !text.contains(&self.request_token),
                "the request token leaked: {text}"
            );
            assert!(
                !text.contains(&self.db_password),
                "the secret leaked: {text}"
            );
            assert!(
                !text.contains("FQoGZXIvYXdz"),
                "a session token leaked: {text}"
            );
        }
    }
}

#[test]
fn aws_secret_through_github_oidc_sts_and_secrets_manager() {
    let aws = aws();
    let ep = aws.endpoints();
    let ep: Vec<&str> = ep.iter().map(String::as_str).collect();

    // String secret with a JSON key: the whole chain, with moto checking the
    // SigV4 signature and the role's policy on GetSecretValue.
    let out = aws.cmd(&[&["oidc", "aws-secret", "aws-sm:app/db#password"][..], &ep].concat());
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.starts_with(&format!(
            "aws-sm:app/db#password: ok (SecretString, {} bytes) as arn:aws:sts::123456789012:assumed-role/ci/pipeguard-gh-4242",
            aws.db_password.len()
        )),
        "{stdout}"
    );
    aws.assert_no_credentials(&out);

    // The token endpoint got the bearer and the audience; STS got the token.
    let gh = aws.github.seen();
    assert_eq!(gh.len(), 1);
    assert!(
        gh[0]
            .target
            .starts_with("/token?api-version=2.0&audience=sts.amazonaws.com"),
        "{:?}",
        gh[0].target
    );
    let sts = aws.sts.seen();
    assert_eq!(sts.len(), 1, "one exchange per run");
    let form = String::from_utf8_lossy(&sts[0].body);
    assert!(form.contains("Action=AssumeRoleWithWebIdentity"), "{form}");
    assert!(
        form.contains(&format!("WebIdentityToken={}", aws.jwt)),
        "{form}"
    );
    assert!(
        form.contains("RoleArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2Fci"),
        "{form}"
    );
    assert_eq!(
        sts[0].header("authorization"),
        None,
        "the exchange is unsigned"
    );

    // A binary secret, with the settings from the policy's [run.aws].
    let dir = tempfile::tempdir().expect("tmp");
    let policy = aws.policy(&dir, "");
    let out = aws.cmd(&[
        "oidc",
        "aws-secret",
        "aws-sm:app/blob",
        "-c",
        policy.to_str().expect("utf-8"),
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("ok (SecretBinary, 40 bytes)"), "{stdout}");

    // GitLab CI: the token is in the variable an `id_tokens:` entry named.
    aws.moto.enforce_auth_after_one_request();
    let out = pipeguard()
        .args(
            [
                &[
                    "oidc",
                    "aws-secret",
                    "aws-sm:app/db",
                    "--token-env",
                    "DEPLOY_ID_TOKEN",
                ][..],
                &ep,
            ]
            .concat(),
        )
        .env_clear()
        .env("DEPLOY_ID_TOKEN", &aws.jwt)
        .env("CI_JOB_ID", "77")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ROLE_ARN", ROLE)
        .output()
        .expect("run");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("as arn:aws:sts::123456789012:assumed-role/ci/pipeguard-gl-77;"),
        "{stdout}"
    );
    aws.assert_no_credentials(&out);
    let sts = aws.sts.seen();
    assert_eq!(sts.len(), 3);
    assert!(
        String::from_utf8_lossy(&sts[2].body).contains(&format!("WebIdentityToken={}", aws.jwt))
    );
    assert_eq!(
        aws.github.seen().len(),
        2,
        "GitLab mode does not call GitHub's endpoint"
    );
}

#[test]
fn aws_secret_errors_name_the_cause_and_leak_nothing() {
    let aws = aws();
    let ep = aws.endpoints();
    let ep: Vec<&str> = ep.iter().map(String::as_str).collect();
    let run = |spec: &str| {
        let out = aws.cmd(&[&["oidc", "aws-secret", spec][..], &ep].concat());
        aws.assert_no_credentials(&out);
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };

    // A role whose policy does not grant GetSecretValue.
    let out = aws.cmd(
        &[
            &["oidc", "aws-secret", "aws-sm:other/secret"][..],
            &ep,
            &["--role-arn", "arn:aws:iam::123456789012:role/ci-no-secrets"],
        ]
        .concat(),
    );
    aws.assert_no_credentials(&out);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("Secrets Manager GetSecretValue failed: AccessDenied: User: arn:aws:sts::123456789012:assumed-role/ci-no-secrets/pipeguard-gh-4242 is not authorized"),
        "{err}"
    );
    assert!(!err.contains("not-for-this-role"), "{err}");

    let (code, err) = run("aws-sm:app/missing");
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains("ResourceNotFoundException") && err.contains("secret `app/missing`"),
        "{err}"
    );

    let (code, err) = run("aws-sm:app/db#pasword");
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains("secret `app/db` has no key `pasword` (its keys: password, user)"),
        "{err}"
    );

    // The token endpoint refuses a wrong request token.
    let out = pipeguard()
        .args([&["oidc", "aws-secret", "aws-sm:app/db"][..], &ep].concat())
        .env_clear()
        .env(
            "ACTIONS_ID_TOKEN_REQUEST_URL",
            format!("{}/token?api-version=2.0", aws.github.url()),
        )
        .env("ACTIONS_ID_TOKEN_REQUEST_TOKEN", "wrong-request-token")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ROLE_ARN", ROLE)
        .output()
        .expect("run");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("answered HTTP 401 (does the job have `permissions: id-token: write`?)"),
        "{err}"
    );
    assert!(!err.contains("wrong-request-token"), "{err}");

    // No CI token at all.
    let out = pipeguard()
        .args([&["oidc", "aws-secret", "aws-sm:app/db"][..], &ep].concat())
        .env_clear()
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ROLE_ARN", ROLE)
        .output()
        .expect("run");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("no OIDC token found"), "{err}");
}

#[test]
fn run_hands_aws_secrets_to_the_command_and_masks_them() {
    let aws = aws();
    let dir = tempfile::tempdir().expect("tmp");
    let policy = aws.policy(
        &dir,
        "\n[[run.secret]]\nname = \"DB_PASSWORD\"\nfrom = \"aws-sm:app/db#password\"\n\n[[run.secret]]\nname = \"BLOB_FILE\"\nfrom = \"aws-sm:app/blob\"\nfile = true\n",
    );
    let d = dir.path().display();
    let script = format!(
        "printf %s \"$DB_PASSWORD\" > '{d}/pw'; cp \"$BLOB_FILE\" '{d}/blob'; echo \"password is $DB_PASSWORD\""
    );
    let out = aws.cmd(&[
        "run",
        "-c",
        policy.to_str().expect("utf-8"),
        "--",
        "sh",
        "-c",
        &script,
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The child got the values: the string from a JSON key, the binary as a file.
    assert_eq!(
        std::fs::read_to_string(dir.path().join("pw")).expect("pw"),
        aws.db_password
    );
    assert_eq!(
        std::fs::read(dir.path().join("blob")).expect("blob"),
        [0u8, 1, 2, 254, 255].repeat(8)
    );
    // What it printed is masked, and nothing else leaked.
    assert!(stdout.contains("password is ***"), "{stdout}");
    aws.assert_no_credentials(&out);
    // Two aws-sm: secrets, one token exchange.
    let sts = aws.sts.seen();
    assert_eq!(sts.len(), 1, "one STS exchange per run");
    assert!(
        String::from_utf8_lossy(&sts[0].body).contains(&format!("WebIdentityToken={}", aws.jwt))
    );
    assert_eq!(aws.github.seen().len(), 1);
}

//! Rules about what goes into the image: secrets in ENV/ARG, sensitive
//! files, remote ADDs, exposed SSH.

use pipeguard_core::{Confidence, RuleMeta, Severity, rule_meta};

use super::{InstructionSink, Rule, Sink};
use crate::dockerfile::Dockerfile;

pub struct SecretInEnv;

rule_meta! {
    /// ## What it does
    /// Flags `ENV`/`ARG` with a secret-looking name and a literal value.
    /// ## Why is this bad
    /// ENV values are stored in the image config and ARG values in its history:
    /// anyone who can pull the image can read them.
    static SECRET_ENV = {
        id: "secret-in-env",
        name: "Secret baked into ENV or ARG",
        severity: Severity::High,
        confidence: Confidence::Medium,
        fix: "Remove the value: use `RUN --mount=type=secret,id=…` for build-time secrets and inject runtime secrets from the orchestrator.",
        cwe: &[798, 538],
    };
}

const SECRET_NAMES: &[&str] = &[
    "PASSWORD",
    "PASSWD",
    "SECRET",
    "TOKEN",
    "API_KEY",
    "APIKEY",
    "ACCESS_KEY",
    "PRIVATE_KEY",
    "CREDENTIALS",
];

/// A literal value under a secret-looking name (`API_TOKEN=abc…`), not a
/// reference (`$TOKEN`), a URL or a path.
pub(crate) fn secret_assignment(key: &str, value: &str) -> bool {
    let literal = !value.is_empty()
        && !value.starts_with('$')
        && !value.contains("://")
        && !looks_like_path(value);
    secret_name(key) && literal
}

/// A name that says its value is a secret (`DB_PASSWORD`, `API_TOKEN`), not
/// where one is (`*_FILE`, `*_URL`, `*_PATH`).
pub(crate) fn secret_name(key: &str) -> bool {
    let upper = key.to_ascii_uppercase();
    SECRET_NAMES.iter().any(|s| upper.contains(s))
        && !upper.ends_with("_FILE")
        && !upper.ends_with("_URL")
        && !upper.ends_with("_PATH")
}

/// `/run/secrets/db`, `/etc/app/key.pem`: a path names where a secret is.
/// A base64 key may start with `/` too (1 in 64 AWS secret keys do); its
/// segments are long and random, or it holds a `+`.
fn looks_like_path(value: &str) -> bool {
    value.starts_with('/')
        && !value.contains('+')
        && value.split('/').skip(1).all(|seg| {
            seg.len() <= 20
                && seg
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
        })
}

/// `K=V K2="v 2"` or the legacy `K V` form.
pub(crate) fn pairs(args: &str) -> Vec<(String, String)> {
    let args = args.trim();
    let first = args.split_whitespace().next().unwrap_or("");
    if !first.contains('=') {
        let (k, v) = args.split_once(char::is_whitespace).unwrap_or((args, ""));
        return vec![(k.to_string(), v.trim().trim_matches('"').to_string())];
    }
    let mut out = Vec::new();
    let mut rest = args;
    while let Some((k, after)) = rest.split_once('=') {
        let k = k.trim();
        let (v, next) = if let Some(q) = after.strip_prefix('"') {
            match q.find('"') {
                Some(e) => (&q[..e], &q[e + 1..]),
                None => (q, ""),
            }
        } else {
            let e = after.find(char::is_whitespace).unwrap_or(after.len());
            (&after[..e], &after[e..])
        };
        out.push((k.to_string(), v.to_string()));
        rest = next.trim_start();
        if rest.is_empty() {
            break;
        }
    }
    out
}

impl Rule for SecretInEnv {
    fn meta(&self) -> &'static RuleMeta {
        &SECRET_ENV
    }

    fn check(&self, df: &Dockerfile, out: &mut Sink) {
        for stage in &df.stages {
            for ins in stage
                .instructions
                .iter()
                .filter(|i| i.keyword == "ENV" || i.keyword == "ARG")
            {
                for (k, v) in pairs(&ins.args) {
                    if secret_assignment(&k, &v) {
                        out.report(&SECRET_ENV, ins, &k, format!("`{} {k}` sets a literal value that every puller of the image can read.", ins.keyword));
                    }
                }
            }
        }
    }
}

pub struct SensitiveFileCopied;

rule_meta! {
    /// ## What it does
    /// Flags `COPY`/`ADD` of credential files: `.env`, SSH and TLS private keys,
    /// `.npmrc`, `.pypirc`, `.netrc`, `.git-credentials`, cloud and Docker
    /// credentials, kubeconfigs.
    /// ## Why is this bad
    /// Deleting the file in a later layer does not remove it from the image;
    /// every layer ships.
    static SENSITIVE = {
        id: "sensitive-file-copied",
        name: "Credential file copied into the image",
        severity: Severity::High,
        confidence: Confidence::High,
        fix: "Do not copy credential files; use `RUN --mount=type=secret` for build-time access and list them in .dockerignore.",
        cwe: &[538],
    };
}

fn sensitive(path: &str) -> bool {
    let name = path
        .trim_end_matches('/')
        .rsplit('/')
        .next()
        .unwrap_or(path)
        .to_ascii_lowercase();
    if name.ends_with(".example") || name.ends_with(".sample") || name.ends_with(".template") {
        return false;
    }
    matches!(
        name.as_str(),
        ".env"
            | "id_rsa"
            | "id_dsa"
            | "id_ecdsa"
            | "id_ed25519"
            | ".npmrc"
            | ".pypirc"
            | ".netrc"
            | ".git-credentials"
            | "credentials.json"
            | "kubeconfig"
            | ".htpasswd"
    ) || name.starts_with(".env.")
        || name.ends_with(".pem")
        || name.ends_with(".key")
        || name.ends_with(".p12")
        || name.ends_with(".pfx")
        || path.contains(".aws/credentials")
        || path.contains(".docker/config.json")
        || path.contains(".kube/config")
}

impl Rule for SensitiveFileCopied {
    fn meta(&self) -> &'static RuleMeta {
        &SENSITIVE
    }

    fn check(&self, df: &Dockerfile, out: &mut Sink) {
        for stage in &df.stages {
            for ins in stage
                .instructions
                .iter()
                .filter(|i| i.keyword == "COPY" || i.keyword == "ADD")
            {
                if !ins.heredocs.is_empty() {
                    continue;
                }
                let parts: Vec<String> = match &ins.json {
                    Some(v) => v.clone(),
                    None => ins.args.split_whitespace().map(str::to_string).collect(),
                };
                let sources = &parts[..parts.len().saturating_sub(1)];
                if let Some(src) = sources.iter().find(|s| sensitive(s)) {
                    out.report(
                        &SENSITIVE,
                        ins,
                        src,
                        format!(
                            "`{} {src}` puts a credential file into an image layer.",
                            ins.keyword
                        ),
                    );
                }
            }
        }
    }
}

pub struct AddRemoteUrl;

rule_meta! {
    /// ## What it does
    /// Flags `ADD` of a remote URL without `--checksum`.
    /// ## Why is this bad
    /// The build trusts whatever the server returns at build time.
    static ADD_URL = {
        id: "add-remote-url",
        name: "ADD of a remote URL without a checksum",
        severity: Severity::Medium,
        confidence: Confidence::High,
        fix: "Add `--checksum=sha256:<hash>` to the ADD, or download with curl and verify the checksum before use.",
        cwe: &[494, 829],
    };
}

impl Rule for AddRemoteUrl {
    fn meta(&self) -> &'static RuleMeta {
        &ADD_URL
    }

    fn check(&self, df: &Dockerfile, out: &mut Sink) {
        for stage in &df.stages {
            for ins in stage
                .instructions
                .iter()
                .filter(|i| i.keyword == "ADD" && i.flag("checksum").is_none())
            {
                let parts: Vec<String> = match &ins.json {
                    Some(v) => v.clone(),
                    None => ins.args.split_whitespace().map(str::to_string).collect(),
                };
                if let Some(url) = parts
                    .iter()
                    .find(|a| a.starts_with("http://") || a.starts_with("https://"))
                {
                    out.report(
                        &ADD_URL,
                        ins,
                        url,
                        format!("`ADD {url}` downloads without verifying what it gets."),
                    );
                }
            }
        }
    }
}

pub struct SshPortExposed;

rule_meta! {
    /// ## What it does
    /// Flags `EXPOSE 22`.
    /// ## Why is this bad
    /// An SSH server in a container is a second, long-lived way in; use
    /// `kubectl exec`/`docker exec` for debugging.
    static SSH = {
        id: "ssh-port-exposed",
        name: "SSH port exposed",
        severity: Severity::Medium,
        confidence: Confidence::High,
        fix: "Remove the SSH server and `EXPOSE 22`; use the orchestrator's exec for debugging.",
        cwe: &[],
    };
}

impl Rule for SshPortExposed {
    fn meta(&self) -> &'static RuleMeta {
        &SSH
    }

    fn check(&self, df: &Dockerfile, out: &mut Sink) {
        for stage in &df.stages {
            for ins in stage.instructions.iter().filter(|i| i.keyword == "EXPOSE") {
                if ins
                    .args
                    .split_whitespace()
                    .any(|p| p.split('/').next() == Some("22"))
                {
                    out.report(&SSH, ins, "22", "`EXPOSE 22` publishes an SSH port.".into());
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Regression: 1 in 64 AWS secret keys starts with `/`; such a key was
    /// taken for a path, so neither flagged nor redacted in other findings'
    /// snippets (a canary test caught it in full in the human report).
    #[test]
    fn a_key_starting_with_a_slash_is_a_secret_and_is_redacted() {
        let key: String = ["/IN4XU5VuPTeNh319vH", "+V0X/ZRS/HhY/iJbyOdsz"].concat();
        let long: String = ["/uezHUrhsdETyZq/", "0sr1Aq6upqUyYcf0CDjyaioe"].concat();
        assert!(secret_assignment("AWS_SECRET_ACCESS_KEY", &key));
        assert!(secret_assignment("AWS_SECRET_ACCESS_KEY", &long));
        assert!(!secret_assignment(
            "DB_PASSWORD",
            "/run/secrets/db_password"
        ));
        assert!(!secret_assignment("TLS_KEY", "/etc/ssl/private/server.key"));
        let text = format!(
            "FROM alpine:3.19\nENV AWS_ACCESS_KEY_ID=x AWS_SECRET_ACCESS_KEY={key}\nUSER 1000\n"
        );
        let findings = crate::audit_text("Dockerfile", &text).expect("parses");
        let shown = serde_json::to_string(&findings).expect("json");
        assert!(!shown.contains(&key), "{shown}");
        assert!(findings.iter().any(|f| f.rule_id == "secret-in-env"));
    }
}

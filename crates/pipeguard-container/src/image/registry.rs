//! Pulling an image over the OCI distribution API into a local OCI layout,
//! which the layout reader then analyzes like any other. Anonymous, basic
//! and bearer-token authentication (the `WWW-Authenticate` challenge), image
//! indexes resolved by platform, every blob verified against its digest.
//! Plain HTTP only when the caller asks (a local registry).

use std::io::{Read, Write};
use std::path::Path;

use base64::Engine as _;
use sha2::{Digest, Sha256};

use super::ImageError;

const ACCEPT: &str = "application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.list.v2+json, application/vnd.docker.distribution.manifest.v2+json";

/// How to reach the registry.
#[derive(Debug, Clone, Default)]
pub struct PullOptions {
    /// Use `http://` instead of `https://` (only for a registry you run).
    pub plain_http: bool,
    /// Basic credentials (also used to obtain a bearer token).
    pub username: Option<String>,
    pub password: Option<String>,
}

/// `registry/repo[:tag|@digest]` split into its parts, Docker Hub defaults applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reference {
    pub registry: String,
    pub repository: String,
    /// A tag or a `sha256:` digest.
    pub reference: String,
}

impl Reference {
    pub fn parse(s: &str) -> Reference {
        let (name, reference) = match s.split_once('@') {
            Some((n, d)) => (n, d.to_string()),
            None => {
                let last_slash = s.rfind('/').map_or(0, |i| i + 1);
                match s[last_slash..].rfind(':') {
                    Some(i) => (&s[..last_slash + i], s[last_slash + i + 1..].to_string()),
                    None => (s, "latest".to_string()),
                }
            }
        };
        let (registry, repository) = match name.split_once('/') {
            Some((first, rest))
                if first.contains('.') || first.contains(':') || first == "localhost" =>
            {
                (first.to_string(), rest.to_string())
            }
            _ => (
                "registry-1.docker.io".to_string(),
                if name.contains('/') {
                    name.to_string()
                } else {
                    format!("library/{name}")
                },
            ),
        };
        Reference {
            registry: if registry == "docker.io" {
                "registry-1.docker.io".into()
            } else {
                registry
            },
            repository,
            reference,
        }
    }
}

struct Client {
    agent: ureq::Agent,
    base: String,
    repository: String,
    opts: PullOptions,
    token: Option<String>,
}

fn err(what: &str, e: impl std::fmt::Display) -> ImageError {
    ImageError::Malformed(format!("{what}: {e}"))
}

/// `Bearer realm="…",service="…",scope="…"` → its parameters.
fn challenge_params(h: &str) -> Vec<(String, String)> {
    let rest = h.split_once(' ').map_or("", |(_, r)| r);
    rest.split(',')
        .filter_map(|kv| {
            let (k, v) = kv.trim().split_once('=')?;
            Some((k.trim().to_string(), v.trim().trim_matches('"').to_string()))
        })
        .collect()
}

impl Client {
    fn basic(&self) -> Option<String> {
        let user = self.opts.username.as_ref()?;
        let pass = self.opts.password.clone().unwrap_or_default();
        Some(format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(format!("{user}:{pass}"))
        ))
    }

    /// GET with the registry's auth dance: on 401, answer a Basic challenge
    /// with the credentials, or fetch a Bearer token from the realm.
    fn get(
        &mut self,
        path: &str,
        accept: &str,
    ) -> Result<ureq::http::Response<ureq::Body>, ImageError> {
        let url = format!("{}{path}", self.base);
        for attempt in 0..2 {
            let mut req = self.agent.get(&url).header("Accept", accept);
            if let Some(t) = &self.token {
                req = req.header("Authorization", t);
            }
            let resp = req.call().map_err(|e| err(&url, e))?;
            if resp.status() != 401 || attempt == 1 {
                if !resp.status().is_success() {
                    return Err(ImageError::NotFound(format!(
                        "{url}: HTTP {}",
                        resp.status()
                    )));
                }
                return Ok(resp);
            }
            let challenge = resp
                .headers()
                .get("www-authenticate")
                .and_then(|h| h.to_str().ok())
                .unwrap_or("")
                .to_string();
            if challenge.to_ascii_lowercase().starts_with("basic") {
                self.token = Some(self.basic().ok_or_else(|| {
                    ImageError::Malformed(format!("{url}: the registry wants credentials (PIPEGUARD_REGISTRY_USERNAME / _PASSWORD)"))
                })?);
            } else if challenge.to_ascii_lowercase().starts_with("bearer") {
                let params = challenge_params(&challenge);
                let get = |k: &str| params.iter().find(|(p, _)| p == k).map(|(_, v)| v.clone());
                let realm =
                    get("realm").ok_or_else(|| err(&url, "bearer challenge without realm"))?;
                let mut token_url =
                    format!("{realm}?service={}", get("service").unwrap_or_default());
                let scope =
                    get("scope").unwrap_or_else(|| format!("repository:{}:pull", self.repository));
                token_url.push_str(&format!("&scope={scope}"));
                let mut treq = self.agent.get(&token_url);
                if let Some(b) = self.basic() {
                    treq = treq.header("Authorization", &b);
                }
                let mut tresp = treq.call().map_err(|e| err(&token_url, e))?;
                if !tresp.status().is_success() {
                    return Err(ImageError::Malformed(format!(
                        "{token_url}: token request failed with HTTP {}",
                        tresp.status()
                    )));
                }
                let body: serde_json::Value = serde_json::from_reader(tresp.body_mut().as_reader())
                    .map_err(|e| err(&token_url, e))?;
                let token = body["token"]
                    .as_str()
                    .or(body["access_token"].as_str())
                    .ok_or_else(|| err(&token_url, "no token in the answer"))?;
                self.token = Some(format!("Bearer {token}"));
            } else {
                return Err(ImageError::Malformed(format!(
                    "{url}: HTTP 401 with an unknown challenge `{challenge}`"
                )));
            }
        }
        Err(ImageError::Malformed(format!(
            "{url}: authentication failed"
        )))
    }

    /// Fetches a blob (or manifest) into `blobs/sha256/<hex>`, verifying it.
    fn fetch(
        &mut self,
        dest: &Path,
        kind: &str,
        digest: &str,
        accept: &str,
    ) -> Result<Vec<u8>, ImageError> {
        let hex = digest
            .strip_prefix("sha256:")
            .ok_or_else(|| ImageError::Malformed(format!("unsupported digest {digest}")))?;
        let path = dest.join("blobs/sha256").join(hex);
        let resp = self.get(&format!("/v2/{}/{kind}/{digest}", self.repository), accept)?;
        let mut reader = resp.into_body().into_reader();
        let mut file = std::fs::File::create(&path).map_err(|e| ImageError::Io {
            path: path.display().to_string(),
            source: e,
        })?;
        let mut hasher = Sha256::new();
        let mut small = Vec::new();
        let mut buf = vec![0u8; 1 << 16];
        loop {
            let n = reader.read(&mut buf).map_err(|e| err(digest, e))?;
            if n == 0 {
                break;
            }
            hasher.update(&buf[..n]);
            file.write_all(&buf[..n]).map_err(|e| ImageError::Io {
                path: path.display().to_string(),
                source: e,
            })?;
            if kind == "manifests" || small.len() < 4 * 1024 * 1024 {
                small.extend_from_slice(&buf[..n]);
            }
        }
        let actual: String = hasher
            .finalize()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        if actual != hex {
            return Err(ImageError::DigestMismatch {
                what: digest.to_string(),
                actual: format!("sha256:{actual}"),
            });
        }
        Ok(small)
    }
}

/// Pulls `reference` into a fresh OCI layout at `dest`, tagged `pulled`:
/// the index (if any) resolved to `platform`, the manifest, config and layers.
pub fn pull(
    reference: &str,
    platform: &str,
    dest: &Path,
    opts: &PullOptions,
) -> Result<(), ImageError> {
    let r = Reference::parse(reference);
    let scheme = if opts.plain_http { "http" } else { "https" };
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let mut c = Client {
        agent,
        base: format!("{scheme}://{}", r.registry),
        repository: r.repository.clone(),
        opts: opts.clone(),
        token: None,
    };
    std::fs::create_dir_all(dest.join("blobs/sha256")).map_err(|e| ImageError::Io {
        path: dest.display().to_string(),
        source: e,
    })?;
    // The top manifest, by tag or digest; then down through an index.
    let mut resp = c.get(
        &format!("/v2/{}/manifests/{}", r.repository, r.reference),
        ACCEPT,
    )?;
    let top = resp
        .body_mut()
        .read_to_vec()
        .map_err(|e| err(reference, e))?;
    let mut manifest: serde_json::Value =
        serde_json::from_slice(&top).map_err(|e| err(reference, e))?;
    let mut digest = format!(
        "sha256:{}",
        Sha256::digest(&top)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    );
    let mut size = top.len();
    std::fs::write(dest.join("blobs/sha256").join(&digest[7..]), &top).map_err(|e| {
        ImageError::Io {
            path: dest.display().to_string(),
            source: e,
        }
    })?;
    let (os, rest) = platform.split_once('/').unwrap_or(("linux", "amd64"));
    let (arch, variant) = rest
        .split_once('/')
        .map_or((rest, None), |(a, v)| (a, Some(v)));
    for _ in 0..4 {
        let Some(list) = manifest["manifests"].as_array() else {
            break;
        };
        let chosen = list
            .iter()
            .find(|m| {
                let p = &m["platform"];
                p["os"] == os
                    && p["architecture"] == arch
                    && variant.is_none_or(|v| p["variant"] == v)
            })
            .ok_or_else(|| {
                ImageError::NotFound(format!("{reference}: no manifest for {platform}"))
            })?;
        digest = chosen["digest"].as_str().unwrap_or("").to_string();
        let bytes = c.fetch(dest, "manifests", &digest, ACCEPT)?;
        size = bytes.len();
        manifest = serde_json::from_slice(&bytes).map_err(|e| err(&digest, e))?;
    }
    let config = manifest["config"]["digest"]
        .as_str()
        .unwrap_or("")
        .to_string();
    c.fetch(dest, "blobs", &config, "*/*")?;
    for layer in manifest["layers"].as_array().into_iter().flatten() {
        let d = layer["digest"].as_str().unwrap_or("").to_string();
        c.fetch(dest, "blobs", &d, "*/*")?;
    }
    let media_type = manifest["mediaType"]
        .as_str()
        .unwrap_or("application/vnd.oci.image.manifest.v1+json");
    let index = serde_json::json!({
        "schemaVersion": 2,
        "manifests": [{
            "mediaType": media_type,
            "digest": digest,
            "size": size,
            "annotations": { "org.opencontainers.image.ref.name": "pulled" },
            "platform": { "os": os, "architecture": arch },
        }]
    });
    let write = |name: &str, v: String| {
        std::fs::write(dest.join(name), v).map_err(|e| ImageError::Io {
            path: dest.join(name).display().to_string(),
            source: e,
        })
    };
    write("index.json", index.to_string())?;
    write(
        "oci-layout",
        r#"{"imageLayoutVersion":"1.0.0"}"#.to_string(),
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_get_docker_hub_defaults() {
        assert_eq!(
            Reference::parse("alpine"),
            Reference {
                registry: "registry-1.docker.io".into(),
                repository: "library/alpine".into(),
                reference: "latest".into()
            }
        );
        assert_eq!(
            Reference::parse("127.0.0.1:5000/app:v2").registry,
            "127.0.0.1:5000"
        );
        assert_eq!(Reference::parse("127.0.0.1:5000/app:v2").reference, "v2");
        let d = Reference::parse("ghcr.io/org/app@sha256:abcd");
        assert_eq!(
            (d.repository.as_str(), d.reference.as_str()),
            ("org/app", "sha256:abcd")
        );
        assert_eq!(Reference::parse("org/app:1").repository, "org/app");
    }

    #[test]
    fn bearer_challenge_parameters() {
        let p = challenge_params(
            r#"Bearer realm="https://auth.example/token",service="registry.example",scope="repository:a/b:pull""#,
        );
        assert_eq!(
            p[0],
            (
                "realm".to_string(),
                "https://auth.example/token".to_string()
            )
        );
        assert_eq!(p[2].1, "repository:a/b:pull");
    }
}

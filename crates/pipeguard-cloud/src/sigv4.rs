//! AWS Signature Version 4, for the JSON and Query APIs pipeguard calls.
//!
//! Written here rather than taken from the AWS SDK: the SDK would bring its
//! own async runtime and HTTP stack for two calls, while the algorithm is a
//! page of code checked against AWS's published test-suite vectors below.

use ring::{digest, hmac};

use crate::encode::{hex, percent_decode, uri_encode};

/// Temporary (or long-lived) AWS credentials. `Debug` shows only the
/// access key id, which AWS itself treats as an identifier, not a secret.
#[derive(Clone)]
pub struct Credentials {
    pub access_key_id: String,
    secret_access_key: String,
    session_token: Option<String>,
    /// When STS said these expire.
    pub expiration: Option<jiff::Timestamp>,
}

impl Credentials {
    pub fn new(
        access_key_id: impl Into<String>,
        secret_access_key: impl Into<String>,
        session_token: Option<String>,
    ) -> Self {
        Credentials {
            access_key_id: access_key_id.into(),
            secret_access_key: secret_access_key.into(),
            session_token,
            expiration: None,
        }
    }

    /// The session token, to send as `X-Amz-Security-Token`. Never format it.
    pub fn session_token(&self) -> Option<&str> {
        self.session_token.as_deref()
    }
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &"<redacted>")
            .field(
                "session_token",
                &self.session_token.as_ref().map(|_| "<redacted>"),
            )
            .field("expiration", &self.expiration)
            .finish()
    }
}

/// What is signed: the request as it will go on the wire.
pub struct Request<'a> {
    pub method: &'a str,
    /// `host` or `host:port`, exactly as the Host header will carry it.
    pub host: &'a str,
    /// Path as sent (already percent-encoded), e.g. `/`.
    pub path: &'a str,
    /// Query string as sent, without `?`.
    pub query: &'a str,
    /// Headers to sign besides host, x-amz-date and x-amz-security-token.
    pub headers: &'a [(&'a str, &'a str)],
    pub body: &'a [u8],
}

/// Signs `req` and returns every header to send with it: `host`,
/// `x-amz-date`, `x-amz-security-token` (with session credentials), the
/// caller's headers, and `authorization`.
pub fn sign(
    req: &Request<'_>,
    creds: &Credentials,
    region: &str,
    service: &str,
    now: jiff::Timestamp,
) -> Vec<(String, String)> {
    let amz_date = now.strftime("%Y%m%dT%H%M%SZ").to_string();
    let date = &amz_date[..8];
    let mut headers: Vec<(String, String)> = vec![
        ("host".into(), req.host.to_string()),
        ("x-amz-date".into(), amz_date.clone()),
    ];
    if let Some(t) = &creds.session_token {
        headers.push(("x-amz-security-token".into(), t.clone()));
    }
    for (k, v) in req.headers {
        headers.push((k.to_ascii_lowercase(), v.to_string()));
    }
    let (canonical, signed_headers) = canonical_request(req, &headers);
    let scope = format!("{date}/{region}/{service}/aws4_request");
    let string_to_sign = format!(
        "AWS4-HMAC-SHA256\n{amz_date}\n{scope}\n{}",
        hex(digest::digest(&digest::SHA256, canonical.as_bytes()).as_ref())
    );
    let key = signing_key(&creds.secret_access_key, date, region, service);
    let signature = hex(hmac::sign(&key, string_to_sign.as_bytes()).as_ref());
    headers.push((
        "authorization".into(),
        format!(
            "AWS4-HMAC-SHA256 Credential={}/{scope}, SignedHeaders={signed_headers}, Signature={signature}",
            creds.access_key_id
        ),
    ));
    headers
}

fn signing_key(secret: &str, date: &str, region: &str, service: &str) -> hmac::Key {
    let mut k = hmac::Key::new(hmac::HMAC_SHA256, format!("AWS4{secret}").as_bytes());
    for part in [date, region, service, "aws4_request"] {
        let tag = hmac::sign(&k, part.as_bytes());
        k = hmac::Key::new(hmac::HMAC_SHA256, tag.as_ref());
    }
    k
}

/// The canonical request and the `SignedHeaders` list.
fn canonical_request(req: &Request<'_>, headers: &[(String, String)]) -> (String, String) {
    let path = if req.path.is_empty() {
        "/".to_string()
    } else {
        // Non-S3 services want each segment encoded once, from its decoded form.
        req.path
            .split('/')
            .map(|seg| uri_encode(&percent_decode(seg, false), false))
            .collect::<Vec<_>>()
            .join("/")
    };
    let mut query: Vec<(String, String)> = req
        .query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (
                uri_encode(&percent_decode(k, true), false),
                uri_encode(&percent_decode(v, true), false),
            )
        })
        .collect();
    query.sort();
    let query = query
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&");

    let mut names: Vec<&str> = headers.iter().map(|(k, _)| k.as_str()).collect();
    names.sort_unstable();
    names.dedup();
    let mut canonical_headers = String::new();
    for name in &names {
        let values: Vec<String> = headers
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.split_whitespace().collect::<Vec<_>>().join(" "))
            .collect();
        canonical_headers.push_str(&format!("{name}:{}\n", values.join(",")));
    }
    let signed = names.join(";");
    let payload = hex(digest::digest(&digest::SHA256, req.body).as_ref());
    (
        format!(
            "{}\n{path}\n{query}\n{canonical_headers}\n{signed}\n{payload}",
            req.method
        ),
        signed,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    // AWS's SigV4 test suite (docs.aws.amazon.com/general/latest/gr/signature-v4-test-suite.html):
    // the documented example key pair, not a credential.
    const AKID: &str = "AKIDEXAMPLE"; // pipeguard:allow
    const SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"; // pipeguard:allow

    fn suite(
        method: &str,
        path: &str,
        query: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> String {
        let creds = Credentials::new(AKID, SECRET, None);
        let now: jiff::Timestamp = "2015-08-30T12:36:00Z".parse().expect("date");
        let req = Request {
            method,
            host: "example.amazonaws.com",
            path,
            query,
            headers,
            body,
        };
        let out = sign(&req, &creds, "us-east-1", "service", now);
        assert_eq!(out[1], ("x-amz-date".into(), "20150830T123600Z".into()));
        out.last().expect("authorization").1.clone()
    }

    #[test]
    fn get_vanilla() {
        assert_eq!(
            suite("GET", "/", "", &[], b""),
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"
        );
    }

    #[test]
    fn get_vanilla_query_order_key_case() {
        assert!(
            suite("GET", "/", "Param2=value2&Param1=value1", &[], b"").ends_with(
                "Signature=b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500"
            )
        );
    }

    #[test]
    fn get_utf8() {
        assert!(suite("GET", "/%E1%88%B4", "", &[], b"").ends_with(
            "Signature=8318018e0b0f223aa2bbf98705b62bb787dc9c0e678f255a891fd03141be5d85"
        ));
    }

    #[test]
    fn post_vanilla() {
        assert!(suite("POST", "/", "", &[], b"").ends_with(
            "Signature=5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b"
        ));
    }

    #[test]
    fn post_x_www_form_urlencoded() {
        assert_eq!(
            suite(
                "POST",
                "/",
                "",
                &[("Content-Type", "application/x-www-form-urlencoded")],
                b"Param1=value1"
            ),
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=content-type;host;x-amz-date, Signature=ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a"
        );
    }

    #[test]
    fn session_token_is_signed_and_never_debug_printed() {
        let creds = Credentials::new(AKID, SECRET, Some("session-token-value".into()));
        let req = Request {
            method: "POST",
            host: "example.amazonaws.com",
            path: "/",
            query: "",
            headers: &[],
            body: b"",
        };
        let now: jiff::Timestamp = "2015-08-30T12:36:00Z".parse().expect("date");
        let out = sign(&req, &creds, "us-east-1", "service", now);
        assert!(out.contains(&("x-amz-security-token".into(), "session-token-value".into())));
        assert!(
            out.last()
                .expect("auth")
                .1
                .contains("SignedHeaders=host;x-amz-date;x-amz-security-token,")
        );
        let dbg = format!("{creds:?}");
        assert!(
            !dbg.contains("session-token-value") && !dbg.contains(SECRET),
            "{dbg}"
        );
    }
}

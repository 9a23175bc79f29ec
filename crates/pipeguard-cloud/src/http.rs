//! One HTTP agent for every call, and the small pieces of URL handling the
//! signer needs.

use std::time::Duration;

use crate::CloudError;

/// Answers larger than this are not what any of these APIs send.
const MAX_BODY: u64 = 4 * 1024 * 1024;

/// A blocking agent that hands back 4xx/5xx answers (their bodies carry
/// AWS's error codes) and gives up instead of hanging a CI job.
pub(crate) fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(30)))
        .build()
        .into()
}

/// An endpoint split the way SigV4 needs it.
pub(crate) struct Endpoint {
    pub url: String,
    /// What goes in the Host header: the port only when it is not the default.
    pub host: String,
    pub path: String,
}

impl Endpoint {
    pub(crate) fn parse(url: &str) -> Result<Endpoint, CloudError> {
        let uri: ureq::http::Uri = url
            .parse()
            .map_err(|e| CloudError::Config(format!("{url}: not a URL: {e}")))?;
        let scheme = uri.scheme_str().unwrap_or("");
        if scheme != "https" && scheme != "http" {
            return Err(CloudError::Config(format!(
                "{url}: an endpoint URL starts with https:// (or http:// for a local test server)"
            )));
        }
        let authority = uri
            .authority()
            .ok_or_else(|| CloudError::Config(format!("{url}: no host in the URL")))?;
        let default_port = if scheme == "https" { 443 } else { 80 };
        let host = match authority.port_u16() {
            Some(p) if p != default_port => format!("{}:{p}", authority.host()),
            _ => authority.host().to_string(),
        };
        let path = match uri.path() {
            "" => "/".to_string(),
            p => p.to_string(),
        };
        Ok(Endpoint {
            url: format!("{scheme}://{host}{path}"),
            host,
            path,
        })
    }
}

/// `scheme://host/path` of a URL, without its query: safe to print even when
/// the query carries something it should not.
pub(crate) fn display_url(url: &str) -> String {
    url.split(['?', '#']).next().unwrap_or(url).to_string()
}

pub(crate) fn transport(url: &str, e: ureq::Error) -> CloudError {
    CloudError::Transport {
        url: display_url(url),
        message: e.to_string(),
    }
}

/// Status and body (capped) of an answer.
pub(crate) fn read(
    url: &str,
    resp: ureq::http::Response<ureq::Body>,
) -> Result<(u16, String), CloudError> {
    let status = resp.status().as_u16();
    let body = resp
        .into_body()
        .with_config()
        .limit(MAX_BODY)
        .read_to_string()
        .map_err(|e| transport(url, e))?;
    Ok((status, body))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_header_keeps_only_non_default_ports() {
        let e = Endpoint::parse("http://127.0.0.1:5000").expect("url");
        assert_eq!((e.host.as_str(), e.path.as_str()), ("127.0.0.1:5000", "/"));
        let e = Endpoint::parse("https://sts.eu-west-1.amazonaws.com:443/").expect("url");
        assert_eq!(e.host, "sts.eu-west-1.amazonaws.com");
        assert!(Endpoint::parse("ftp://x").is_err());
        assert_eq!(display_url("https://h/p?token=abc"), "https://h/p");
    }
}

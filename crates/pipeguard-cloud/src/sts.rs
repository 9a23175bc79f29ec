//! STS `AssumeRoleWithWebIdentity`: an OIDC token in, temporary credentials out.
//!
//! The call is unsigned (the token is the proof), sent as a Query API form
//! POST; the answer is XML.

use crate::encode::form;
use crate::http::{Endpoint, agent, read, transport};
use crate::{CloudError, Credentials, scrub};

/// Everything STS needs for the exchange.
pub struct WebIdentityRequest<'a> {
    /// STS endpoint, e.g. `https://sts.eu-west-1.amazonaws.com`.
    pub endpoint: &'a str,
    pub role_arn: &'a str,
    pub session_name: &'a str,
    /// The OIDC token (a JWT). Sent once, never printed.
    pub token: &'a str,
    /// Seconds the credentials live (STS allows 900 up to the role's maximum).
    pub duration_seconds: Option<u32>,
}

/// Who STS says we became.
#[derive(Debug, Clone)]
pub struct AssumedRole {
    pub credentials: Credentials,
    /// `arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION`.
    pub arn: Option<String>,
    /// The token's `sub`, as STS read it.
    pub subject: Option<String>,
}

pub fn assume_role_with_web_identity(
    req: &WebIdentityRequest<'_>,
) -> Result<AssumedRole, CloudError> {
    let ep = Endpoint::parse(req.endpoint)?;
    let duration = req.duration_seconds.map(|d| d.to_string());
    let mut pairs = vec![
        ("Action", "AssumeRoleWithWebIdentity"),
        ("Version", "2011-06-15"),
        ("RoleArn", req.role_arn),
        ("RoleSessionName", req.session_name),
        ("WebIdentityToken", req.token),
    ];
    if let Some(d) = &duration {
        pairs.push(("DurationSeconds", d));
    }
    let resp = agent()
        .post(&ep.url)
        .header("Host", &ep.host)
        .header(
            "Content-Type",
            "application/x-www-form-urlencoded; charset=utf-8",
        )
        .header("Accept", "application/xml")
        .send(form(&pairs))
        .map_err(|e| transport(&ep.url, e))?;
    let (status, body) = read(&ep.url, resp)?;
    let body = scrub(&body, req.token);
    parse_response(status, &body, &ep.url)
}

fn parse_response(status: u16, body: &str, url: &str) -> Result<AssumedRole, CloudError> {
    let doc = roxmltree::Document::parse(body).map_err(|e| {
        CloudError::Malformed(format!(
            "{url}: STS answered HTTP {status} with something that is not XML ({e})"
        ))
    })?;
    let text = |name: &str| {
        doc.descendants()
            .find(|n| n.is_element() && n.tag_name().name() == name)
            .and_then(|n| n.text())
            .map(|t| t.trim().to_string())
    };
    if !(200..300).contains(&status) || doc.root_element().tag_name().name() == "ErrorResponse" {
        return Err(CloudError::Aws {
            service: "STS",
            operation: "AssumeRoleWithWebIdentity",
            code: text("Code").unwrap_or_else(|| format!("HTTP {status}")),
            message: text("Message").unwrap_or_else(|| "(no message)".into()),
        });
    }
    let need = |name: &str| {
        text(name)
            .ok_or_else(|| CloudError::Malformed(format!("{url}: STS answer has no <{name}>")))
    };
    let mut credentials = Credentials::new(
        need("AccessKeyId")?,
        need("SecretAccessKey")?,
        Some(need("SessionToken")?),
    );
    credentials.expiration = text("Expiration").and_then(|e| e.parse().ok());
    Ok(AssumedRole {
        credentials,
        arn: text("Arn"),
        subject: text("SubjectFromWebIdentityToken"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    // The documented example answer (docs.aws.amazon.com STS API reference);
    // the key material in it is AWS's published example, not a credential.
    const OK: &str = r#"<AssumeRoleWithWebIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <AssumeRoleWithWebIdentityResult>
    <SubjectFromWebIdentityToken>repo:octo/app:ref:refs/heads/main</SubjectFromWebIdentityToken>
    <Audience>sts.amazonaws.com</Audience>
    <AssumedRoleUser>
      <Arn>arn:aws:sts::123456789012:assumed-role/deploy/ci</Arn>
      <AssumedRoleId>AROACLKWSDQRAOEXAMPLE:ci</AssumedRoleId>
    </AssumedRoleUser>
    <Credentials>
      <SessionToken>AQoDYXdzEE0a8ANXXXXXXXXNO1ewxE5TijQyp+IEXAMPLE</SessionToken> <!-- pipeguard:allow -->
      <SecretAccessKey>wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY</SecretAccessKey> <!-- pipeguard:allow -->
      <Expiration>2014-10-24T23:00:23Z</Expiration>
      <AccessKeyId>ASgeIAIOSFODNN7EXAMPLE</AccessKeyId> <!-- pipeguard:allow -->
    </Credentials>
    <Provider>token.actions.githubusercontent.com</Provider>
  </AssumeRoleWithWebIdentityResult>
</AssumeRoleWithWebIdentityResponse>"#;

    #[test]
    fn reads_credentials_and_identity() {
        let r = parse_response(200, OK, "u").expect("parsed");
        assert_eq!(r.credentials.access_key_id, "ASgeIAIOSFODNN7EXAMPLE");
        assert!(
            r.credentials
                .session_token()
                .is_some_and(|t| t.starts_with("AQoD"))
        );
        assert_eq!(
            r.arn.as_deref(),
            Some("arn:aws:sts::123456789012:assumed-role/deploy/ci")
        );
        assert_eq!(
            r.subject.as_deref(),
            Some("repo:octo/app:ref:refs/heads/main")
        );
        assert_eq!(
            r.credentials.expiration.map(|t| t.to_string()).as_deref(),
            Some("2014-10-24T23:00:23Z")
        );
    }

    #[test]
    fn error_answers_keep_aws_code_and_message() {
        let body = r#"<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <Error><Type>Sender</Type><Code>InvalidIdentityToken</Code>
  <Message>Incorrect token audience</Message></Error>
  <RequestId>c6104cbe-af31-11e0-8154-cbc7ccf896c7</RequestId></ErrorResponse>"#;
        let e = parse_response(400, body, "u").expect_err("error");
        assert_eq!(e.aws_code(), Some("InvalidIdentityToken"));
        assert_eq!(
            e.to_string(),
            "STS AssumeRoleWithWebIdentity failed: InvalidIdentityToken: Incorrect token audience"
        );
        let e = parse_response(502, "<html>bad gateway</html>", "u").expect_err("error");
        assert!(e.to_string().contains("HTTP 502"), "{e}");
        let e = parse_response(200, "not xml", "https://sts").expect_err("error");
        assert!(e.to_string().contains("not XML"), "{e}");
    }
}

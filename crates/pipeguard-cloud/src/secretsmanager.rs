//! Secrets Manager `GetSecretValue` over the JSON 1.1 protocol, SigV4-signed.

use base64::Engine;

use crate::CloudError;
use crate::aws::SecretValue;
use crate::http::{Endpoint, agent, read, transport};
use crate::sigv4::{self, Credentials};

/// Reads the current version of secret `id` (a name or an ARN).
pub fn get_secret_value(
    endpoint: &str,
    region: &str,
    creds: &Credentials,
    id: &str,
) -> Result<SecretValue, CloudError> {
    let ep = Endpoint::parse(endpoint)?;
    let body = serde_json::json!({ "SecretId": id }).to_string();
    let headers = [
        ("Content-Type", "application/x-amz-json-1.1"),
        ("X-Amz-Target", "secretsmanager.GetSecretValue"),
    ];
    let signed = sigv4::sign(
        &sigv4::Request {
            method: "POST",
            host: &ep.host,
            path: &ep.path,
            query: "",
            headers: &headers,
            body: body.as_bytes(),
        },
        creds,
        region,
        "secretsmanager",
        jiff::Timestamp::now(),
    );
    let mut req = agent().post(&ep.url);
    for (k, v) in &signed {
        req = req.header(k, v);
    }
    let resp = req.send(body).map_err(|e| transport(&ep.url, e))?;
    let (status, text) = read(&ep.url, resp)?;
    parse_response(status, &text, id)
}

fn parse_response(status: u16, text: &str, id: &str) -> Result<SecretValue, CloudError> {
    let json: serde_json::Value = serde_json::from_str(text).unwrap_or(serde_json::Value::Null);
    if !(200..300).contains(&status) {
        // `__type` may carry a namespace: `com.amazonaws…#ResourceNotFoundException`.
        let (xml_code, xml_message) = xml_error(text);
        let code = json
            .get("__type")
            .and_then(|t| t.as_str())
            .map(|t| t.rsplit('#').next().unwrap_or(t).to_string())
            .or(xml_code)
            .unwrap_or_else(|| format!("HTTP {status}"));
        let message = json
            .get("message")
            .or_else(|| json.get("Message"))
            .and_then(|m| m.as_str())
            .map(str::to_string)
            .or(xml_message)
            .unwrap_or_else(|| "(no message)".into());
        return Err(CloudError::Aws {
            service: "Secrets Manager",
            operation: "GetSecretValue",
            code,
            message: format!("{message} (secret `{id}`)"),
        });
    }
    if let Some(s) = json.get("SecretString").and_then(|s| s.as_str()) {
        return Ok(SecretValue::string(s.to_string()));
    }
    if let Some(b) = json.get("SecretBinary").and_then(|s| s.as_str()) {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(b)
            .map_err(|e| {
                CloudError::Malformed(format!("secret `{id}`: SecretBinary is not base64: {e}"))
            })?;
        return Ok(SecretValue::binary(bytes));
    }
    Err(CloudError::Malformed(format!(
        "secret `{id}`: the answer has neither SecretString nor SecretBinary"
    )))
}

/// Authorization failures can come back as a Query-style XML error even
/// from a JSON service (IAM's layer, proxies, moto): take Code and Message
/// from it when the body is not JSON.
fn xml_error(text: &str) -> (Option<String>, Option<String>) {
    let Ok(doc) = roxmltree::Document::parse(text) else {
        return (None, None);
    };
    let get = |name: &str| {
        doc.descendants()
            .find(|n| n.is_element() && n.tag_name().name() == name)
            .and_then(|n| n.text())
            .map(|t| t.trim().to_string())
    };
    (get("Code"), get("Message"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn string_binary_and_error_answers() {
        let v = parse_response(
            200,
            r#"{"Name":"db","SecretString":"hunter2-hunter2"}"#,
            "db",
        )
        .expect("string");
        assert_eq!(v.expose(), b"hunter2-hunter2");
        assert!(!v.is_binary());
        let v =
            parse_response(200, r#"{"Name":"k","SecretBinary":"AAEC/w=="}"#, "k").expect("binary");
        assert_eq!(v.expose(), &[0, 1, 2, 255]);
        assert!(v.is_binary());
        let e = parse_response(
            400,
            r#"{"__type":"com.amazonaws.secretsmanager#ResourceNotFoundException","message":"Secrets Manager can't find the specified secret."}"#,
            "nope",
        )
        .expect_err("missing");
        assert_eq!(e.aws_code(), Some("ResourceNotFoundException"));
        assert!(e.to_string().contains("secret `nope`"), "{e}");
        let e = parse_response(
            403,
            "<ErrorResponse><Errors><Error><Code>AccessDenied</Code><Message>not authorized</Message></Error></Errors></ErrorResponse>",
            "db",
        )
        .expect_err("denied");
        assert_eq!(
            e.to_string(),
            "Secrets Manager GetSecretValue failed: AccessDenied: not authorized (secret `db`)"
        );
        let e = parse_response(503, "", "x").expect_err("unavailable");
        assert_eq!(e.aws_code(), Some("HTTP 503"));
    }
}

//! dotenv files: `KEY=VALUE` lines, `#` comments, an optional `export `,
//! single quotes (literal), double quotes (with `\n`, `\t`, `\"`, `\\`, `\$`
//! escapes; may span lines, as PEM keys do) and unquoted values (up to a
//! ` #` comment, trimmed).
//!
//! Written here rather than taken from `dotenvy` because that crate expands
//! `$VAR` inside values from the process environment: a password such as
//! `pa$$word` would be silently changed, and a secrets file could pull other
//! variables into the child's environment. Like docker's `--env-file`, no
//! expansion happens here.

use std::collections::HashMap;

use zeroize::Zeroizing;

use crate::source::Secret;

/// Parses a dotenv file. Errors name the line, never a value.
pub fn parse(text: &str) -> Result<HashMap<String, Secret>, String> {
    let mut out = HashMap::new();
    let lines: Vec<&str> = text.split('\n').collect();
    let mut i = 0;
    while i < lines.len() {
        let lineno = i + 1;
        let line = lines[i].trim_end_matches('\r').trim_start();
        i += 1;
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let line = line.strip_prefix("export ").map_or(line, str::trim_start);
        let Some((key, rest)) = line.split_once('=') else {
            return Err(format!("line {lineno}: expected KEY=VALUE"));
        };
        let key = key.trim_end();
        if !pipeguard_core::run::is_env_name(key) {
            // Not echoed: a malformed line may be a value.
            return Err(format!(
                "line {lineno}: not a valid variable name before `=`"
            ));
        }
        let rest = rest.trim_start();
        let mut value = Zeroizing::new(String::new());
        let trailer = match rest.chars().next() {
            Some(q @ ('\'' | '"')) => {
                // The value may continue on the following lines.
                let mut buf = Zeroizing::new(rest[1..].to_string());
                let close = loop {
                    if let Some(end) = closing(&buf, q) {
                        break end;
                    }
                    if i >= lines.len() {
                        return Err(format!("line {lineno}: `{key}`: unterminated {q} quote"));
                    }
                    buf.push('\n');
                    buf.push_str(lines[i].trim_end_matches('\r'));
                    i += 1;
                };
                if q == '"' {
                    unescape(&buf[..close], &mut value);
                } else {
                    value.push_str(&buf[..close]);
                }
                buf[close + 1..].trim().to_string()
            }
            _ => {
                let end = comment_start(rest).unwrap_or(rest.len());
                value.push_str(rest[..end].trim_end());
                String::new()
            }
        };
        if !trailer.is_empty() && !trailer.starts_with('#') {
            return Err(format!(
                "line {lineno}: `{key}`: unexpected text after the closing quote"
            ));
        }
        out.insert(key.to_string(), Zeroizing::new(value.as_bytes().to_vec()));
    }
    Ok(out)
}

/// Byte offset of the closing quote `q` in `s` (backslash escapes count in
/// double quotes only).
fn closing(s: &str, q: char) -> Option<usize> {
    let mut escaped = false;
    for (i, c) in s.char_indices() {
        if escaped {
            escaped = false;
        } else if c == '\\' && q == '"' {
            escaped = true;
        } else if c == q {
            return Some(i);
        }
    }
    None
}

/// Where an unquoted value's comment starts: a `#` after whitespace.
fn comment_start(s: &str) -> Option<usize> {
    let b = s.as_bytes();
    (0..b.len()).find(|&i| b[i] == b'#' && (i == 0 || b[i - 1].is_ascii_whitespace()))
}

fn unescape(s: &str, out: &mut String) {
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            Some('t') => out.push('\t'),
            Some(c @ ('"' | '\\' | '$' | '`')) => out.push(c),
            Some(c) => {
                out.push('\\');
                out.push(c);
            }
            None => out.push('\\'),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn get<'a>(m: &'a HashMap<String, Secret>, k: &str) -> &'a str {
        std::str::from_utf8(&m[k]).expect("utf8")
    }

    #[test]
    fn quotes_comments_and_export() {
        let text = "# a comment\n\nexport A=plain value # trailing\nB='single $x # not a comment'\nC=\"dq \\\"x\\\" \\$HOME\\n\" # c\nD=pa$$word\nE=\nF=a#b\r\n";
        let m = parse(text).expect("parse");
        assert_eq!(get(&m, "A"), "plain value");
        assert_eq!(get(&m, "B"), "single $x # not a comment");
        assert_eq!(get(&m, "C"), "dq \"x\" $HOME\n");
        assert_eq!(get(&m, "D"), "pa$$word", "no expansion");
        assert_eq!(get(&m, "E"), "");
        assert_eq!(get(&m, "F"), "a#b");
    }

    #[test]
    fn multi_line_double_quoted_value() {
        let text = "KEY=\"-----BEGIN X-----\nabc\n-----END X-----\"\nNEXT=1\n";
        let m = parse(text).expect("parse");
        assert_eq!(get(&m, "KEY"), "-----BEGIN X-----\nabc\n-----END X-----");
        assert_eq!(get(&m, "NEXT"), "1");
    }

    #[test]
    fn errors_name_the_line_not_the_value() {
        let err = parse("A=1\nthis is not an assignment\n").expect_err("bad");
        assert_eq!(err, "line 2: expected KEY=VALUE");
        let err = parse("A=1\nB='s3cr3t-value\n").expect_err("unterminated");
        assert!(err.starts_with("line 2: `B`: unterminated"), "{err}");
        assert!(!err.contains("s3cr3t"));
        let err = parse("A=\"s3cr3t\" junk\n").expect_err("trailer");
        assert!(!err.contains("s3cr3t") && err.contains("line 1"), "{err}");
    }
}

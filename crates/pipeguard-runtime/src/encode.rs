//! The forms a secret takes in a log besides its raw bytes. Each function
//! returns what a tool would print; `variants` gathers them for the masker.
//!
//! Base64 is the subtle one: a secret inside a longer base64 stream (a
//! memory dump piped through `base64`, a config file encoded whole) encodes
//! differently depending on its offset modulo 3, and the characters at its
//! edges mix in bits of its neighbours. What is stable is, for each of the
//! three offsets, the run of characters whose 6 bits all come from the
//! secret; those inner runs are what we look for.

use base64::Engine;
use base64::engine::GeneralPurpose;
use base64::engine::general_purpose::{STANDARD_NO_PAD, URL_SAFE_NO_PAD};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC};

/// What an encoded form is called, for tests and debugging (never shown with
/// the value).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Raw,
    /// One line of a multi-line value (CI systems mask those line by line).
    RawLine,
    Base64 {
        offset: u8,
    },
    Base64Url {
        offset: u8,
    },
    /// Base64 of the base64: the inner run at `inner` of the first encoding,
    /// encoded again at `outer` (the tj-actions exfiltration of 2025).
    DoubleBase64 {
        inner: u8,
        outer: u8,
    },
    HexLower,
    HexUpper,
    Url,
    Json,
    Shell,
}

/// The inner run of `value`'s base64 when it starts `offset` (0, 1 or 2)
/// bytes after a 3-byte group boundary of the surrounding stream.
pub fn base64_inner(value: &[u8], engine: &GeneralPurpose, offset: usize) -> Vec<u8> {
    let mut padded = vec![0u8; offset];
    padded.extend_from_slice(value);
    let encoded = engine.encode(&padded);
    // Character i carries bits [6i, 6i+6) of the padded input; the value
    // owns bits [8·offset, 8·(offset+len)).
    let first = (8 * offset).div_ceil(6);
    let end = (8 * (offset + value.len())) / 6;
    if first >= end {
        return Vec::new();
    }
    encoded.as_bytes()[first..end].to_vec()
}

pub fn hex_lower(value: &[u8]) -> Vec<u8> {
    hex(value, b"0123456789abcdef")
}

pub fn hex_upper(value: &[u8]) -> Vec<u8> {
    hex(value, b"0123456789ABCDEF")
}

fn hex(value: &[u8], digits: &[u8; 16]) -> Vec<u8> {
    let mut out = Vec::with_capacity(value.len() * 2);
    for b in value {
        out.push(digits[usize::from(b >> 4)]);
        out.push(digits[usize::from(b & 15)]);
    }
    out
}

/// RFC 3986 unreserved characters stay; everything else is escaped
/// (Python's `quote(s, safe='')`, most HTTP clients).
const URL_STRICT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');
/// Python's `urllib.parse.quote(s)`: `/` is safe by default.
const URL_PATH: &AsciiSet = &URL_STRICT.remove(b'/');
/// JavaScript's `encodeURIComponent`: also leaves `!'()*`.
const URL_JS: &AsciiSet = &URL_STRICT
    .remove(b'!')
    .remove(b'\'')
    .remove(b'(')
    .remove(b')')
    .remove(b'*');

/// URL-encoded forms as common encoders write them: strict, path-safe,
/// JavaScript's, form encoding (`+` for space) and lower-case escapes.
pub fn url_encodings(value: &[u8]) -> Vec<Vec<u8>> {
    let enc = |set: &'static AsciiSet| {
        percent_encoding::percent_encode(value, set)
            .to_string()
            .into_bytes()
    };
    let strict = enc(URL_STRICT);
    let mut out = vec![enc(URL_PATH), enc(URL_JS)];
    // `quote_plus` / application/x-www-form-urlencoded.
    out.push(
        String::from_utf8_lossy(&strict)
            .replace("%20", "+")
            .into_bytes(),
    );
    out.push(lower_escapes(&strict));
    out.push(strict);
    out
}

/// `%2F` → `%2f`, as some encoders (and hand-rolled ones) write them.
fn lower_escapes(encoded: &[u8]) -> Vec<u8> {
    let mut out = encoded.to_vec();
    let mut i = 0;
    while i + 2 < out.len() {
        if out[i] == b'%' {
            out[i + 1] = out[i + 1].to_ascii_lowercase();
            out[i + 2] = out[i + 2].to_ascii_lowercase();
            i += 3;
        } else {
            i += 1;
        }
    }
    out
}

/// The contents of a JSON string holding `value`: as serde_json and
/// `JSON.stringify` write it, and as Python's `json.dumps` does by default
/// (non-ASCII as `\uXXXX`), plus `\/` for `/` (PHP). Not UTF-8: none.
pub fn json_escapes(value: &[u8]) -> Vec<Vec<u8>> {
    let Ok(text) = std::str::from_utf8(value) else {
        return Vec::new();
    };
    let quoted = serde_json::Value::String(text.to_string()).to_string();
    let plain = quoted[1..quoted.len() - 1].to_string();
    let mut ascii = String::with_capacity(plain.len());
    for c in plain.chars() {
        if c.is_ascii() {
            ascii.push(c);
        } else {
            let mut units = [0u16; 2];
            for u in c.encode_utf16(&mut units) {
                ascii.push_str(&format!("\\u{u:04x}"));
            }
        }
    }
    let slashed = plain.replace('/', "\\/");
    vec![plain.into_bytes(), ascii.into_bytes(), slashed.into_bytes()]
}

/// Shell-quoted forms, without the outer quotes that only appear at the
/// edges: bash's `printf %q` (backslashes), POSIX single quotes (`'\''`),
/// Python's `shlex.quote` (`'"'"'`) and double quotes.
pub fn shell_escapes(value: &[u8]) -> Vec<Vec<u8>> {
    let mut backslashed = Vec::with_capacity(value.len() + 8);
    for (i, &b) in value.iter().enumerate() {
        let special = matches!(
            b,
            b' ' | b'\t'
                | b'\''
                | b'"'
                | b'\\'
                | b'|'
                | b'&'
                | b';'
                | b'('
                | b')'
                | b'<'
                | b'>'
                | b'!'
                | b'{'
                | b'}'
                | b'*'
                | b'['
                | b']'
                | b'?'
                | b'^'
                | b'$'
                | b'`'
                | b','
        ) || (i == 0 && matches!(b, b'~' | b'#'));
        if special {
            backslashed.push(b'\\');
        }
        backslashed.push(b);
    }
    let replace = |from: u8, to: &[u8], escape: &[u8]| {
        let mut out = Vec::with_capacity(value.len() + 8);
        for &b in value {
            if b == from || escape.contains(&b) {
                if b == from {
                    out.extend_from_slice(to);
                } else {
                    out.push(b'\\');
                    out.push(b);
                }
            } else {
                out.push(b);
            }
        }
        out
    };
    vec![
        backslashed,
        replace(b'\'', b"'\\''", b""),
        replace(b'\'', b"'\"'\"'", b""),
        replace(b'"', b"\\\"", b"\\$`"),
    ]
}

/// Every form of `value` worth looking for, paired with its kind. Forms may
/// repeat (an alphanumeric value is its own URL encoding); the masker
/// deduplicates. A multi-line value also contributes each of its lines, since
/// logs are read line by line.
pub fn variants(value: &[u8]) -> Vec<(Kind, Vec<u8>)> {
    let mut out = vec![(Kind::Raw, value.to_vec())];
    if value.contains(&b'\n') {
        for line in value.split(|&b| b == b'\n') {
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            out.push((Kind::RawLine, line.to_vec()));
        }
    }
    for offset in 0..3u8 {
        let o = usize::from(offset);
        out.push((
            Kind::Base64 { offset },
            base64_inner(value, &STANDARD_NO_PAD, o),
        ));
        out.push((
            Kind::Base64Url { offset },
            base64_inner(value, &URL_SAFE_NO_PAD, o),
        ));
        let first = base64_inner(value, &STANDARD_NO_PAD, o);
        for outer in 0..3u8 {
            out.push((
                Kind::DoubleBase64 {
                    inner: offset,
                    outer,
                },
                base64_inner(&first, &STANDARD_NO_PAD, usize::from(outer)),
            ));
        }
    }
    out.push((Kind::HexLower, hex_lower(value)));
    out.push((Kind::HexUpper, hex_upper(value)));
    out.extend(url_encodings(value).into_iter().map(|v| (Kind::Url, v)));
    out.extend(json_escapes(value).into_iter().map(|v| (Kind::Json, v)));
    out.extend(shell_escapes(value).into_iter().map(|v| (Kind::Shell, v)));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[u8]) -> &str {
        std::str::from_utf8(v).expect("ascii")
    }

    // Vectors from Python 3: base64.b64encode(b'\0' * k + b'hunter2-Secret!').
    // k=0: aHVudGVyMi1TZWNyZXQh, k=1: AGh1bnRlcjItU2VjcmV0IQ==,
    // k=2: AABodW50ZXIyLVNlY3JldCE=
    #[test]
    fn base64_inner_runs_match_python_at_each_offset() {
        let v = b"hunter2-Secret!";
        assert_eq!(
            s(&base64_inner(v, &STANDARD_NO_PAD, 0)),
            "aHVudGVyMi1TZWNyZXQh"
        );
        // Offset 1: the first two characters mix in the preceding byte, the
        // last two the following one.
        assert_eq!(
            s(&base64_inner(v, &STANDARD_NO_PAD, 1)),
            "h1bnRlcjItU2VjcmV0I"
        );
        assert_eq!(
            s(&base64_inner(v, &STANDARD_NO_PAD, 2)),
            "odW50ZXIyLVNlY3JldC"
        );
    }

    #[test]
    fn inner_runs_appear_in_any_surrounding_stream() {
        let v = b"s3cr3t-v4lue/with+bits?";
        for pre in 0..7 {
            for post in 0..4 {
                let mut stream = vec![b'x'; pre];
                stream.extend_from_slice(v);
                stream.extend(std::iter::repeat_n(b'y', post));
                let enc = STANDARD_NO_PAD.encode(&stream);
                let inner = base64_inner(v, &STANDARD_NO_PAD, pre % 3);
                assert!(
                    enc.contains(s(&inner)),
                    "prefix {pre} suffix {post}: {enc} lacks {}",
                    s(&inner)
                );
            }
        }
    }

    // Python: base64.urlsafe_b64encode(b'\xfb\xff\xfe secret>>??') =
    // b'-__-IHNlY3JldD4-Pz8=' (the final `8` holds 2 bits of the value and 4
    // of whatever follows it, so it is not part of the inner run).
    #[test]
    fn url_safe_alphabet() {
        let v = b"\xfb\xff\xfe secret>>??";
        assert_eq!(
            s(&base64_inner(v, &URL_SAFE_NO_PAD, 0)),
            "-__-IHNlY3JldD4-Pz"
        );
        assert_eq!(
            s(&base64_inner(v, &STANDARD_NO_PAD, 0)),
            "+//+IHNlY3JldD4+Pz"
        );
    }

    // Python: base64.b64encode(base64.b64encode(b'hunter2-Secret!')) =
    // b'YUhWdWRHVnlNaTFUWldOeVpYUWg=' (the last `g` mixes in what follows).
    #[test]
    fn double_base64_matches_python() {
        let all = variants(b"hunter2-Secret!");
        let found = all.iter().any(|(k, v)| {
            *k == Kind::DoubleBase64 { inner: 0, outer: 0 } && s(v) == "YUhWdWRHVnlNaTFUWldOeVpYUW"
        });
        assert!(found);
    }

    // Python: b'p@ss'.hex() = '70407373'
    #[test]
    fn hex_both_cases() {
        assert_eq!(s(&hex_lower(b"p@ss\xff")), "70407373ff");
        assert_eq!(s(&hex_upper(b"p@ss\xff")), "70407373FF");
    }

    // Python (v = "p@ss w0rd/'\"$x+y~é"):
    //   quote(v)            p%40ss%20w0rd/%27%22%24x%2By~%C3%A9
    //   quote(v, safe='')   p%40ss%20w0rd%2F%27%22%24x%2By~%C3%A9
    //   quote_plus(v)       p%40ss+w0rd%2F%27%22%24x%2By~%C3%A9
    // node: encodeURIComponent(v) p%40ss%20w0rd%2F'%22%24x%2By~%C3%A9
    #[test]
    fn url_encodings_match_python_and_node() {
        let v = "p@ss w0rd/'\"$x+y~é".as_bytes();
        let got: Vec<String> = url_encodings(v).iter().map(|e| s(e).to_string()).collect();
        for want in [
            "p%40ss%20w0rd/%27%22%24x%2By~%C3%A9",
            "p%40ss%20w0rd%2F%27%22%24x%2By~%C3%A9",
            "p%40ss+w0rd%2F%27%22%24x%2By~%C3%A9",
            "p%40ss%20w0rd%2F'%22%24x%2By~%C3%A9",
            "p%40ss%20w0rd%2f%27%22%24x%2by~%c3%a9",
        ] {
            assert!(got.iter().any(|g| g == want), "{want} not in {got:?}");
        }
    }

    // Python: json.dumps(v) = "p@ss w0rd/'\"$x+y~\u00e9" and with
    // ensure_ascii=False "p@ss w0rd/'\"$x+y~é"; a newline is \n.
    #[test]
    fn json_escapes_match_python() {
        let v = "p@ss w0rd/'\"$x+y~é\n".as_bytes();
        let got: Vec<String> = json_escapes(v)
            .iter()
            .map(|e| String::from_utf8(e.clone()).expect("utf8"))
            .collect();
        assert!(
            got.contains(&"p@ss w0rd/'\\\"$x+y~\\u00e9\\n".to_string()),
            "{got:?}"
        );
        assert!(
            got.contains(&"p@ss w0rd/'\\\"$x+y~é\\n".to_string()),
            "{got:?}"
        );
        assert!(
            got.contains(&"p@ss w0rd\\/'\\\"$x+y~é\\n".to_string()),
            "{got:?}"
        );
        assert!(json_escapes(b"\xff\xfe").is_empty());
    }

    // bash 5.2: printf %q 'a b|c&d;e(f)g<h>i!j{k}l*m[n?o]p^q$r`s,t"u\v=w:x@y%z+-./_~#'
    //   a\ b\|c\&d\;e\(f\)g\<h\>i\!j\{k\}l\*m\[n\?o\]p\^q\$r\`s\,t\"u\\v=w:x@y%z+-./_~#
    // Python: shlex.quote("it's") = 'it'"'"'s'
    #[test]
    fn shell_escapes_match_bash_and_python() {
        let got = shell_escapes(b"a b|c&d;e(f)g<h>i!j{k}l*m[n?o]p^q$r`s,t\"u\\v=w:x@y%z+-./_~#");
        assert_eq!(
            s(&got[0]),
            "a\\ b\\|c\\&d\\;e\\(f\\)g\\<h\\>i\\!j\\{k\\}l\\*m\\[n\\?o\\]p\\^q\\$r\\`s\\,t\\\"u\\\\v=w:x@y%z+-./_~#"
        );
        let got = shell_escapes(b"it's");
        assert_eq!(s(&got[1]), "it'\\''s");
        assert_eq!(s(&got[2]), "it'\"'\"'s");
        // bash: printf %q '~x' = \~x
        assert_eq!(s(&shell_escapes(b"~x#")[0]), "\\~x#");
        assert_eq!(s(&shell_escapes(b"a\"$`\\b")[3]), "a\\\"\\$\\`\\\\b");
    }

    #[test]
    fn multi_line_values_contribute_their_lines() {
        let all = variants(b"line-one\r\nline-two");
        let lines: Vec<&str> = all
            .iter()
            .filter(|(k, _)| *k == Kind::RawLine)
            .map(|(_, v)| s(v))
            .collect();
        assert_eq!(lines, ["line-one", "line-two"]);
    }
}

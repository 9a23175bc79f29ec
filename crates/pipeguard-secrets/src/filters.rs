//! Precision: what a rule's regex matched is dropped when it is a placeholder,
//! a reference to a secret kept elsewhere, or (for generic rules) something
//! that is not random enough to be a credential. These filters apply to every
//! rule so that each rule file need not repeat them.

/// Words that mark documentation values. Checked case-insensitively.
const PLACEHOLDER_WORDS: &[&str] = &[
    "example",
    "xxxx",
    "placeholder",
    "changeme",
    "change_me",
    "change-me",
    "redacted",
    "dummy",
    "sample",
    "your_",
    "your-",
    "yourkey",
    "yourtoken",
    "yoursecret",
    "<your",
    "insert_",
    "insert-",
    "replace_me",
    "replaceme",
    "fake",
    "****",
    "…",
    "...",
];

/// Values that a generic assignment often holds in docs and tests.
const GENERIC_PLACEHOLDERS: &[&str] = &[
    "password",
    "passwd",
    "pass",
    "pwd",
    "secret",
    "token",
    "apikey",
    "api_key",
    "key",
    "user",
    "username",
    "test",
    "testing",
    "foo",
    "bar",
    "foobar",
    "admin",
    "root",
    "none",
    "null",
    "true",
    "false",
    "undefined",
    "string",
    "value",
    "default",
    "required",
    "optional",
];

/// Text that only refers to a secret stored elsewhere.
const REFERENCE_MARKERS: &[&str] = &[
    "${",
    "{{",
    "$(",
    "<%",
    "#{",
    "}}",
    "process.env",
    "os.environ",
    "getenv",
    "secrets.",
    "env(",
    "vault:",
    "ssm:",
    "arn:aws:secretsmanager",
];

/// Shannon entropy in bits per byte.
pub fn entropy(s: &[u8]) -> f64 {
    if s.is_empty() {
        return 0.0;
    }
    let mut counts = [0u32; 256];
    for &b in s {
        counts[b as usize] += 1;
    }
    let n = s.len() as f64;
    counts
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| {
            let p = c as f64 / n;
            -p * p.log2()
        })
        .sum()
}

/// Longest run of one repeated character, not counting white space (a PEM
/// block indented in source code is full of runs of spaces).
fn longest_run(s: &[u8]) -> usize {
    let mut best = 0;
    let mut run = 0;
    let mut prev = None;
    for &b in s {
        if b.is_ascii_whitespace() {
            prev = None;
            run = 0;
        } else if Some(b) == prev {
            run += 1;
        } else {
            run = 1;
            prev = Some(b);
        }
        best = best.max(run);
    }
    best
}

fn is_uuid(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 36
        && b.iter().enumerate().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => *c == b'-',
            _ => c.is_ascii_hexdigit(),
        })
}

/// Why a candidate was dropped; `None` keeps it.
///
/// `generic` rules (an assignment to something called password or token) get
/// every filter; rules with a `min-entropy` (a vendor name near a bare key)
/// also get the identifier filters, because what follows `elasticache:` or
/// `datadog_` in real code is far more often a name than a key.
pub fn reject(secret: &str, generic: bool, min_entropy: Option<f64>) -> Option<&'static str> {
    let lower = secret.to_ascii_lowercase();
    if PLACEHOLDER_WORDS.iter().any(|w| lower.contains(w)) {
        return Some("placeholder");
    }
    if secret.starts_with('$') || secret.starts_with('%') {
        return Some("reference");
    }
    if REFERENCE_MARKERS.iter().any(|m| lower.contains(m)) {
        return Some("reference");
    }
    // `{api_key}`, `%(password)s`: a format string, filled in elsewhere.
    if (secret.contains('{') && secret.contains('}')) || secret.contains("%s") {
        return Some("reference");
    }
    if lower.starts_with('<') && lower.ends_with('>') {
        return Some("placeholder");
    }
    let bytes = secret.as_bytes();
    if bytes.len() >= 8 {
        // `xxxxxxxx`, `sk_live_00000000…`: placeholders. Long values (key
        // blocks, DER with runs of `A`) may legitimately hold such runs.
        let run = longest_run(bytes);
        if (run >= 8 && bytes.len() < 64) || run * 2 > bytes.len() {
            return Some("repeated characters");
        }
    }
    let min = min_entropy.or(if generic { Some(3.0) } else { None });
    if min.is_some_and(|min| entropy(bytes) < min) {
        return Some("low entropy");
    }
    if (generic || min_entropy.is_some()) && looks_like_identifier(bytes, generic) {
        return Some("identifier");
    }
    if generic {
        let trimmed = lower.trim_matches(|c: char| !c.is_ascii_alphanumeric());
        if GENERIC_PLACEHOLDERS.contains(&trimmed) {
            return Some("placeholder");
        }
        if is_uuid(secret) {
            return Some("uuid");
        }
        if matches!(bytes.len(), 32 | 40 | 64 | 128) && bytes.iter().all(u8::is_ascii_hexdigit) {
            return Some("hash");
        }
        if lower.contains("12345678") || lower.contains("abcdefgh") {
            return Some("placeholder");
        }
        // Code, not a value: `password = get_password(user)`, `Optional[str]`.
        if secret.contains(['(', ' ', '[']) || secret.ends_with([',', ';']) {
            return Some("expression");
        }
        // A URL, path or ARN names where a secret is, it is not one.
        if ["arn:", "http://", "https://", "file://", "/", "./", "~/"]
            .iter()
            .any(|p| lower.starts_with(p))
        {
            return Some("locator");
        }
        // `2016-09-01T12:00:00Z`: a timestamp.
        if bytes.len() >= 10
            && bytes[..4].iter().all(u8::is_ascii_digit)
            && bytes[4] == b'-'
            && bytes[7] == b'-'
        {
            return Some("date");
        }
    }
    None
}

/// Whether single-case letters read as (concatenated) words: at least a
/// quarter vowels and no more than three consonants in a row.
fn reads_as_words(b: &[u8]) -> bool {
    let vowel = |c: &u8| b"aeiouAEIOU".contains(c);
    let vowels = b.iter().filter(|c| vowel(c)).count();
    let longest_cluster = b.split(vowel).map(<[u8]>::len).max().unwrap_or(0);
    vowels * 4 >= b.len() && longest_cluster <= 3
}

/// `self.secret_value`, `prod-database-credentials-v2`: names, not values.
/// Random tokens have no word separators, or far more digits.
fn looks_like_identifier(b: &[u8], generic: bool) -> bool {
    // Letters only: a name if it reads as words, a random key or password
    // if it does not (they were all dropped here once for holding no digit,
    // losing 1 in 28 real AWS key ids and 1 in 50 random passwords).
    if b.iter().all(u8::is_ascii_alphabetic) {
        // Short letters-only values are words, names or placeholders
        // (`smith`, `mynewpassword`, an encoded prefix constant of 17
        // letters); generated secrets of letters only are longer. Under a
        // generic name (`password = …`) the bar is higher, since those rules
        // are the noisy ones.
        if b.len() < if generic { 20 } else { 12 } {
            return true;
        }
        let upper = b.iter().any(u8::is_ascii_uppercase);
        let lower = b.iter().any(u8::is_ascii_lowercase);
        if upper && lower {
            // `SecretsConfig`, `ModifyReplicationGroup`: camel case, whose
            // lowercase runs are word tails (`ecrets`, `odify`); a random
            // mixed-case value has one or two letters between capitals.
            let runs: Vec<usize> = b
                .split(|c| c.is_ascii_uppercase())
                .map(<[u8]>::len)
                .filter(|n| *n > 0)
                .collect();
            let letters: usize = runs.iter().sum();
            return letters >= runs.len() * 3;
        }
        // `SECRETACCESSKEY`, `databasepassword`: words have vowels every few
        // letters; a random key id has long consonant clusters.
        return reads_as_words(b);
    }
    // `FORCE_CHANGE_PASSWORD`, `AWS_WEB_IDENTITY_TOKEN_FILE`: a constant's name.
    let digits = b.iter().filter(|c| c.is_ascii_digit()).count();
    if b.iter()
        .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || *c == b'_')
        && b.contains(&b'_')
        && digits * 4 < b.len()
    {
        return true;
    }
    // `tokenize.ERRORTOKEN`, `DistributionList.NextMarker`: a dotted path.
    if b.contains(&b'.')
        && b.split(|c| *c == b'.').all(|seg| {
            seg.first().is_some_and(u8::is_ascii_alphabetic)
                && (2..=40).contains(&seg.len())
                && seg.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'_')
                && seg.iter().filter(|c| c.is_ascii_digit()).count() * 6 < seg.len()
        })
    {
        return true;
    }
    let allowed = |c: &u8| c.is_ascii_lowercase() || c.is_ascii_digit() || b"_.-".contains(c);
    if !b.iter().all(allowed) || !b.first().is_some_and(u8::is_ascii_lowercase) {
        return false;
    }
    // `prod-database-credentials-v2`: short words joined, few digits.
    let separated = b.iter().any(|c| b"_.-".contains(c));
    let short_words = b.split(|c| b"_.-".contains(c)).all(|w| w.len() <= 20);
    separated && short_words && digits * 4 < b.len()
}

/// Lockfiles and checksum files are full of hashes that look random; generic
/// rules are not run there. The lockfiles pipeguard parses say so in their
/// row of `pipeguard_lockfile::FORMATS`; the rest are listed here.
pub fn is_hash_file(path: &str) -> bool {
    /// Lockfiles of formats pipeguard does not parse.
    const OTHER_LOCKFILES: &[&str] = &[
        "go.sum",
        "flake.lock",
        "mix.lock",
        "pubspec.lock",
        "Package.resolved",
    ];
    let name = path.rsplit('/').next().unwrap_or(path);
    pipeguard_lockfile::detect(name).is_some_and(|f| f.hash_file)
        || OTHER_LOCKFILES.contains(&name)
        || name.ends_with(".sha256")
        || name.ends_with(".sum")
        || name.ends_with(".min.js")
        || name.ends_with(".map")
}

/// An inline comment that deliberately allows a line.
pub fn line_allows(line: &[u8]) -> bool {
    memchr::memmem::find(line, b"pipeguard:allow").is_some()
        || memchr::memmem::find(line, b"pipeguard: allow").is_some()
        || memchr::memmem::find(line, b"gitleaks:allow").is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mixed_case_random_passwords_are_not_identifiers() {
        // Letters only, no digit: random, not words (a flaky canary test
        // found these dropped as identifiers about once in 50 values).
        for pw in [
            "PwKiaEdFrRgSnRFsTHsDDDXh",
            "PwqBRlEaZUZrwpPtuEFBNOfQ",
            "PwtWsjFMKvXmafechRSXMnHy",
        ] {
            assert_eq!(reject(pw, false, Some(3.0)), None, "{pw}");
            assert_eq!(reject(pw, true, None), None, "{pw}");
        }
        // Shorter letters-only values under a generic name are names or
        // constants (an encoded prefix in a real botocore-style module).
        for v in ["mynewpassword", "FQoGZXIvYXdzEBYaD"] {
            assert_eq!(reject(v, true, None), Some("identifier"), "{v}");
        }
        for name in [
            "ModifyReplicationGroup",
            "SecretsConfig",
            "getPasswordHash",
            "DistributionListMarker",
        ] {
            assert_eq!(reject(name, true, None), Some("identifier"), "{name}");
        }
        // Single-case names read as words (a vendor rule with a min-entropy
        // low enough to let them through still drops them as names).
        for name in [
            "SECRETACCESSKEY",
            "databasepassword",
            "CLIENTSECRETVALUE",
            "smith",
        ] {
            assert_eq!(reject(name, false, Some(1.0)), Some("identifier"), "{name}");
        }
        // Random AWS key ids without a digit (about 1 in 28 real ones) under
        // the rule's min-entropy: kept. Assembled here so that this file
        // holds no key-id-shaped literal.
        for tail in ["TITFZCHMPFKZIKFT", "SMFNYPOVOFVTNNZA", "JMWOXVJCTRLKDARU"] {
            let id = format!("AKIA{tail}");
            assert_eq!(reject(&id, false, Some(3.0)), None, "{id}");
        }
    }

    #[test]
    fn placeholders_and_references_are_rejected() {
        for s in [
            "AKIAIOSFODNN7EXAMPLE",
            "xxxxxxxxxxxxxxxxxxxx",
            "${GITHUB_TOKEN}",
            "${{ secrets.NPM_TOKEN }}",
            "<your-token>",
            "changeme",
            "process.env.API_KEY",
        ] {
            assert!(reject(s, false, None).is_some(), "{s} should be rejected");
        }
    }

    #[test]
    fn generic_rejects_hashes_uuids_and_code() {
        assert_eq!(
            reject("3f2a1b9c-4d5e-4f60-8a7b-9c0d1e2f3a4b", true, None),
            Some("uuid")
        );
        assert_eq!(
            reject("da39a3ee5e6b4b0d3255bfef95601890afd80709", true, None),
            Some("hash")
        );
        assert_eq!(reject("get_password(user)", true, None), Some("expression"));
        assert_eq!(reject("self.secret_value", true, None), Some("identifier"));
        assert_eq!(reject("Tr0ub4dor&3-horse!Battery", true, None), None);
    }

    #[test]
    fn entropy_is_bits_per_byte() {
        assert_eq!(entropy(b"aaaa"), 0.0);
        assert!((entropy(b"abcd") - 2.0).abs() < 1e-9);
    }

    #[test]
    fn lockfiles_are_hash_files() {
        for p in [
            "Cargo.lock",
            "web/package-lock.json",
            "npm-shrinkwrap.json",
            "poetry.lock",
            "go.sum",
            "dist/app.min.js",
        ] {
            assert!(is_hash_file(p), "{p}");
        }
        // Parsed by pipeguard, but pinned versions rather than hashes.
        for p in [
            "requirements.txt",
            "go.mod",
            "pom.xml",
            "bom.cdx.json",
            "src/main.rs",
        ] {
            assert!(!is_hash_file(p), "{p}");
        }
    }
}

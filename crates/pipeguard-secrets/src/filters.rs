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
    // `abcdef.0123456789abcdef`: the kubeadm documentation's token.
    "0123456789abcdef",
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
    if (secret.starts_with('$') && !is_crypt_hash(secret)) || secret.starts_with('%') {
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
    // The NT hash of the empty password: every disabled account in a dump.
    if lower == "31d6cfe0d16ae931b73c59d7e0c089c0" {
        return Some("empty password");
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
    if (generic || min_entropy.is_some()) && looks_like_identifier(bytes) {
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
        if matches!(bytes.len(), 32 | 40 | 56 | 64 | 96 | 128)
            && bytes.iter().all(u8::is_ascii_hexdigit)
        {
            return Some("hash");
        }
        // `"lodash": "sha512-…"`: a Subresource Integrity digest of a package.
        if is_sri_digest(secret) {
            return Some("hash");
        }
        // `0x` + 40 hex is an Ethereum address, public by design; a private
        // key is 64 hex digits and stays.
        if bytes.len() == 42
            && lower.starts_with("0x")
            && bytes[2..].iter().all(u8::is_ascii_hexdigit)
        {
            return Some("address");
        }
        // `パスワードを忘れた`, `VIS_KODEORD_RÅD`: a word of a translation file.
        // Generated secrets are ASCII; a value with a letter outside ASCII
        // is text written for people.
        if secret.chars().any(|c| !c.is_ascii() && c.is_alphabetic()) {
            return Some("natural language");
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

/// `$2b$12$…`, `$6$salt$…`, `$krb5asrep$…`: a crypt(3)-style hash, whose
/// leading `$` names the scheme rather than a shell variable.
fn is_crypt_hash(s: &str) -> bool {
    let b = s.as_bytes();
    let Some(id_len) = b[1..].iter().position(|c| *c == b'$') else {
        return false;
    };
    b.len() >= 20
        && (1..=10).contains(&id_len)
        && b[1..=id_len]
            .iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
}

/// `sha512-` + base64: the `integrity` of a package in a lockfile or a
/// `package-hashes.json`.
fn is_sri_digest(s: &str) -> bool {
    let Some((alg, digest)) = s.split_once('-') else {
        return false;
    };
    let len = match alg {
        "sha256" => 44,
        "sha384" => 64,
        "sha512" => 88,
        _ => return false,
    };
    digest.len() == len
        && digest
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || b"+/=".contains(&c))
}

/// Whether the value at `at..at + len` is one of several hex digests of the
/// same length nearby (`{"lodash": "9f2c…", "react": "03ab…"}`, pretty or
/// minified, a `package-hashes.json`): a map of names to checksums, not of
/// names to secrets. Three such digests within eight lines either side are
/// enough.
pub fn in_digest_map(data: &[u8], at: usize, len: usize) -> bool {
    let value = &data[at..(at + len).min(data.len())];
    if len < 16 || !value.iter().all(u8::is_ascii_hexdigit) {
        return false;
    }
    const REACH: usize = 8;
    let mut from = at;
    for _ in 0..=REACH {
        match memchr::memrchr(b'\n', &data[..from]) {
            Some(i) => from = i,
            None => {
                from = 0;
                break;
            }
        }
    }
    let mut to = at;
    for _ in 0..=REACH {
        match memchr::memchr(b'\n', &data[to..]) {
            Some(i) => to += i + 1,
            None => {
                to = data.len();
                break;
            }
        }
    }
    // Bounded, so that one minified line of megabytes costs little.
    let (from, to) = (
        from.max(at.saturating_sub(32 * 1024)),
        to.min(at + 32 * 1024),
    );
    let digests = data[from..to]
        .split(|c| !c.is_ascii_alphanumeric())
        .filter(|w| w.len() == len && w.iter().all(u8::is_ascii_hexdigit))
        .count();
    digests >= 3
}

/// Translation catalogues (`locales/ja.json`, `messages.po`, `i18n/…`) map
/// keys such as `FORGOT_PASSWORD` to text for people: generic rules, which
/// fire on the key's name, are not run there.
pub fn is_translation_file(path: &str) -> bool {
    let lower = path.to_ascii_lowercase();
    let name = lower.rsplit('/').next().unwrap_or(&lower);
    let ext = name.rsplit_once('.').map_or("", |(_, e)| e);
    if matches!(
        ext,
        "po" | "pot" | "xlf" | "xliff" | "arb" | "resx" | "strings"
    ) {
        return true;
    }
    let dirs: Vec<&str> = lower.split('/').collect();
    let in_catalogue_dir = dirs[..dirs.len().saturating_sub(1)].iter().any(|d| {
        matches!(
            *d,
            "locales" | "locale" | "i18n" | "l10n" | "lang" | "langs" | "translations"
        )
    });
    in_catalogue_dir
        && matches!(
            ext,
            "json" | "yml" | "yaml" | "properties" | "js" | "ts" | "toml" | "ini"
        )
}

/// Whether single-case letters read as (concatenated) words: at least a
/// quarter vowels and no more than three consonants in a row.
fn reads_as_words(b: &[u8]) -> bool {
    // `y` counts: `mynewpassword`, `MYKEY` read as words.
    let vowel = |c: &u8| b"aeiouyAEIOUY".contains(c);
    let vowels = b.iter().filter(|c| vowel(c)).count();
    let longest_cluster = b.split(vowel).map(<[u8]>::len).max().unwrap_or(0);
    vowels * 4 >= b.len() && longest_cluster <= 3
}

/// `self.secret_value`, `prod-database-credentials-v2`: names, not values.
/// Random tokens have no word separators, or far more digits.
fn looks_like_identifier(b: &[u8]) -> bool {
    // Letters only: a name if it reads as words, a random key or password
    // if it does not (they were all dropped here once for holding no digit,
    // losing 1 in 28 real AWS key ids and 1 in 50 random passwords).
    if b.iter().all(u8::is_ascii_alphabetic) {
        // Short letters-only values are words, names or placeholders
        // (`smith`, `changeme`): generated secrets of letters only are
        // longer.
        if b.len() < 12 {
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
        || is_checksum_list(name)
}

/// `package-hashes.json`, `checksums.txt`, `SHA256SUMS`: lists of digests.
fn is_checksum_list(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    let stem = lower.split('.').next().unwrap_or(&lower);
    [
        "hashes",
        "checksums",
        "digests",
        "sha256sums",
        "sha512sums",
        "md5sums",
    ]
    .iter()
    .any(|w| stem.ends_with(w))
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
        // Letters-only values that read as words stay names.
        for v in ["mynewpassword", "passwordreset"] {
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

    /// Regression (issue #14): a generic rule fired on the words of a
    /// translation, on package digests and on Ethereum addresses.
    #[test]
    fn text_digests_and_addresses_are_not_generic_secrets() {
        for text in ["パスワードを忘れた", "VIS_KODEORD_RÅD", "Passwörter"] {
            assert_eq!(reject(text, true, None), Some("natural language"), "{text}");
        }
        use base64::Engine as _;
        let digest: Vec<u8> = (0u8..64).map(|i| i.wrapping_mul(37) ^ 0x5c).collect();
        let sri = format!(
            "sha512-{}",
            base64::engine::general_purpose::STANDARD.encode(digest)
        );
        assert_eq!(reject(&sri[7..], true, None), None, "random base64 alone");
        assert_eq!(reject(&sri, true, None), Some("hash"));
        let address = format!("0x{}", "5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed");
        assert_eq!(reject(&address, true, None), Some("address"));
        // An Ethereum private key is 64 hex digits: still a secret.
        let key = format!(
            "0x{}",
            "4c0883a69102937d6231471b5dbb6204fe512961708279f2e3e8a5d4b8e3e5a1"
        );
        assert_eq!(reject(&key, true, None), None);
    }

    #[test]
    fn translation_catalogues_are_recognised() {
        for p in [
            "locales/ja.json",
            "client/src/i18n/nb.json",
            "app/lang/de.yml",
            "po/fr.po",
            "Resources/Strings.resx",
        ] {
            assert!(is_translation_file(p), "{p}");
        }
        for p in ["config/settings.json", "locales.rs", "src/lang.ts"] {
            assert!(!is_translation_file(p), "{p}");
        }
        assert!(is_hash_file("dist/package-hashes.json"));
        assert!(is_hash_file("SHA256SUMS"));
    }

    #[test]
    fn crypt_hashes_are_not_shell_variables() {
        let bcrypt = format!(
            "$2b$12${}",
            "R9h/cIPz0gi.URNNX3kh2OPST9/PgBkqquzi.Ss7KIUgO2t0jWMU"
        );
        assert_eq!(reject(&bcrypt, false, None), None);
        assert_eq!(
            reject("$DB_PASSWORD_FROM_THE_ENVIRONMENT", false, None),
            Some("reference")
        );
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

//! Packagist versions, as Composer orders them: each version is first
//! normalized by `VersionParser::normalize` (optional `v`, four numeric
//! parts, stability suffixes spelled out: `1.0RC1` → `1.0.0.0-RC1`, `2.x-dev`
//! → `2.9999999.9999999.9999999-dev`), and normalized versions are then
//! compared with PHP's `version_compare`, whose special forms order
//! `dev` < `alpha` = `a` < `beta` = `b` < `RC` = `rc` < (number) < `patch` =
//! `pl` = `p`.
//!
//! Named branches (`dev-master`, `dev-feature/x`) are valid Composer
//! versions but Composer never orders them against anything, so they do not
//! parse here.

use std::cmp::Ordering;

use super::cmp_digits;

#[derive(Debug, Clone)]
pub struct ComposerVersion {
    /// The Composer-normalized form, e.g. `1.0.0.0-beta2`.
    normalized: String,
}

impl Ord for ComposerVersion {
    fn cmp(&self, other: &Self) -> Ordering {
        php_version_compare(&self.normalized, &other.normalized)
    }
}

impl PartialOrd for ComposerVersion {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for ComposerVersion {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for ComposerVersion {}

pub fn parse(s: &str) -> Option<ComposerVersion> {
    normalize(s).map(|normalized| ComposerVersion { normalized })
}

/// Composer's `VersionParser::normalize`; None for invalid versions and for
/// named (non-numeric) branches.
fn normalize(version: &str) -> Option<String> {
    let mut version = version.trim();

    // Strip an alias: `1.0.x-dev as 1.0.0`.
    let words: Vec<&str> = version.split_whitespace().collect();
    if let [first, "as", _] = words.as_slice() {
        if first.contains(',') {
            return None;
        }
        version = first;
    }

    // Strip a stability flag: `1.0.0@beta`.
    if let Some((base, flag)) = version.rsplit_once('@')
        && ["stable", "rc", "beta", "alpha", "dev"].contains(&flag.to_ascii_lowercase().as_str())
    {
        version = base;
    }

    // Bare branch names and `dev-*` are named branches: never ordered.
    if ["master", "trunk", "default"].contains(&version)
        || version
            .get(..4)
            .is_some_and(|p| p.eq_ignore_ascii_case("dev-"))
    {
        return None;
    }

    // Strip build metadata: `1.0.0+foo`.
    if let Some((base, meta)) = version.split_once('+')
        && !base.is_empty()
        && !base.contains(|c: char| c == ',' || c.is_whitespace())
        && !meta.is_empty()
        && !meta.contains(char::is_whitespace)
    {
        version = base;
    }

    let unprefixed = version.strip_prefix(['v', 'V']).unwrap_or(version);

    // Classical versioning: up to four numbers and a modifier.
    if let Some((numbers, rest)) = classical_numbers(unprefixed)
        && let Some(modifier) = Modifier::parse(rest)
    {
        let mut out = numbers.join("");
        for _ in numbers.len()..4 {
            out.push_str(".0");
        }
        return Some(modifier.apply(out));
    }

    // Date-based versioning: `20100102`, `2010-01-02.5`, `20100102-203040`.
    if let Some((date, modifier)) = date_version(unprefixed) {
        let dotted: String = date
            .chars()
            .map(|c| if c.is_ascii_digit() { c } else { '.' })
            .collect();
        return Some(modifier.apply(dotted));
    }

    // Numeric branches: `1.x-dev`, `2.0.*-dev`.
    if version.len() >= 3 && version[version.len() - 3..].eq_ignore_ascii_case("dev") {
        let name = &version[..version.len() - 3];
        let name = name.strip_suffix(['.', '-']).unwrap_or(name);
        return normalize_branch(name);
    }
    None
}

/// `^(\d{1,5}+)(\.\d++)?(\.\d++)?(\.\d++)?`: the numbers (the first bare,
/// the others with their dot) and what follows them.
fn classical_numbers(s: &str) -> Option<(Vec<&str>, &str)> {
    let first_len = leading_digits(s);
    // Possessive `\d{1,5}+`: a sixth digit can match nothing after it.
    if first_len == 0 || first_len > 5 {
        return None;
    }
    let mut numbers = vec![&s[..first_len]];
    let mut rest = &s[first_len..];
    while numbers.len() < 4 {
        let Some(after_dot) = rest.strip_prefix('.') else {
            break;
        };
        let len = leading_digits(after_dot);
        if len == 0 {
            break;
        }
        numbers.push(&rest[..len + 1]);
        rest = &after_dot[len..];
    }
    Some((numbers, rest))
}

fn leading_digits(s: &str) -> usize {
    s.bytes().take_while(u8::is_ascii_digit).count()
}

/// The date pattern `^(\d{4}(?:[.:-]?\d{2}){1,6}(?:[.:-]?\d{1,3}){0,2})`
/// followed by a modifier; the longest date that leaves a valid modifier wins.
fn date_version(s: &str) -> Option<(&str, Modifier<'_>)> {
    let date_len = s
        .bytes()
        .take_while(|b| b.is_ascii_digit() || matches!(b, b'.' | b':' | b'-'))
        .count();
    (4..=date_len).rev().find_map(|len| {
        let (date, rest) = s.split_at(len);
        let bytes = date.as_bytes();
        if !bytes[..4].iter().all(u8::is_ascii_digit) || !date_tail(&bytes[4..], 0, 0) {
            return None;
        }
        Modifier::parse(rest).map(|m| (date, m))
    })
}

/// Matches `(?:[.:-]?\d{2}){1,6}(?:[.:-]?\d{1,3}){0,2}` against all of `s`,
/// having already matched `pairs` two-digit groups and `shorts` short ones.
fn date_tail(s: &[u8], pairs: usize, shorts: usize) -> bool {
    if s.is_empty() {
        return pairs >= 1;
    }
    let body = match s[0] {
        b'.' | b':' | b'-' => &s[1..],
        _ => s,
    };
    let digits = body.iter().take_while(|b| b.is_ascii_digit()).count();
    if shorts == 0 && pairs < 6 && digits >= 2 && date_tail(&body[2..], pairs + 1, 0) {
        return true;
    }
    pairs >= 1
        && shorts < 2
        && (1..=digits.min(3)).any(|len| date_tail(&body[len..], pairs, shorts + 1))
}

/// Composer's `normalizeBranch` for names before `-dev`: numeric branches
/// only, where `x`, `X` and `*` become 9999999.
fn normalize_branch(name: &str) -> Option<String> {
    let name = name.trim();
    let name = name.strip_prefix(['v', 'V']).unwrap_or(name);
    let mut parts = name.split('.');
    let first = parts.next()?;
    if first.is_empty() || !first.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let mut out = first.to_string();
    let mut count = 1;
    for part in parts {
        count += 1;
        let wildcard = matches!(part, "x" | "X" | "*");
        let number = !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit());
        if count > 4 || !(wildcard || number) {
            return None;
        }
        out.push('.');
        out.push_str(if wildcard { "9999999" } else { part });
    }
    for _ in count..4 {
        out.push_str(".9999999");
    }
    out.push_str("-dev");
    Some(out)
}

/// Composer's modifier, `[._-]?(?:(stable|beta|b|RC|alpha|a|patch|pl|p)((?:[.-]?\d+)*+)?)?([.-]?dev)?$`
/// (case-insensitive).
struct Modifier<'a> {
    /// The stability as written, and the numbers after it.
    stability: Option<(&'a str, &'a str)>,
    dev: bool,
}

impl<'a> Modifier<'a> {
    const STABILITIES: [&'static str; 9] = [
        "stable", "beta", "b", "RC", "alpha", "a", "patch", "pl", "p",
    ];

    fn parse(s: &'a str) -> Option<Modifier<'a>> {
        let s = s.strip_prefix(['.', '_', '-']).unwrap_or(s);
        // The alternatives are tried in order, as the regex does.
        for word in Self::STABILITIES {
            let Some(head) = s.get(..word.len()) else {
                continue;
            };
            if !head.eq_ignore_ascii_case(word) {
                continue;
            }
            let after = &s[word.len()..];
            let numbers_len = stability_numbers_len(after);
            let (numbers, rest) = after.split_at(numbers_len);
            if let Some(dev) = dev_suffix(rest) {
                return Some(Modifier {
                    stability: Some((head, numbers)),
                    dev,
                });
            }
        }
        dev_suffix(s).map(|dev| Modifier {
            stability: None,
            dev,
        })
    }

    /// Appends the modifier to the normalized numbers, as `normalize` does.
    fn apply(&self, mut version: String) -> String {
        if let Some((word, numbers)) = self.stability {
            // Composer compares the matched text to `stable` case-sensitively.
            if word == "stable" {
                return version;
            }
            version.push('-');
            version.push_str(&expand_stability(word));
            version.push_str(numbers.trim_start_matches(['.', '-']));
        }
        if self.dev {
            version.push_str("-dev");
        }
        version
    }
}

/// `((?:[.-]?\d+)*+)`: possessive, so it takes every group it can.
fn stability_numbers_len(s: &str) -> usize {
    let bytes = s.as_bytes();
    let mut end = 0;
    loop {
        let mut i = end;
        if matches!(bytes.get(i), Some(b'.' | b'-')) {
            i += 1;
        }
        let digits = bytes[i.min(bytes.len())..]
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .count();
        if digits == 0 {
            return end;
        }
        end = i + digits;
    }
}

/// `([.-]?dev)?$`: Some(whether `dev` is there) if that is all that is left.
fn dev_suffix(s: &str) -> Option<bool> {
    if s.is_empty() {
        return Some(false);
    }
    let s = s.strip_prefix(['.', '-']).unwrap_or(s);
    s.eq_ignore_ascii_case("dev").then_some(true)
}

/// Composer's `expandStability`.
fn expand_stability(word: &str) -> String {
    let lower = word.to_ascii_lowercase();
    match lower.as_str() {
        "a" => "alpha".to_string(),
        "b" => "beta".to_string(),
        "p" | "pl" => "patch".to_string(),
        "rc" => "RC".to_string(),
        _ => lower,
    }
}

/// PHP's `php_canonicalize_version`: `-`, `_`, `+` and other non-alphanumerics
/// become `.`, and a `.` goes between digits and non-digits.
fn php_canonicalize(version: &str) -> Vec<u8> {
    let is_dig = |c: u8| c.is_ascii_digit();
    let is_ndig = |c: u8| !c.is_ascii_digit() && c != b'.';
    let bytes = version.as_bytes();
    let Some((&first, rest)) = bytes.split_first() else {
        return Vec::new();
    };
    let mut out = vec![first];
    let mut prev = first;
    for &c in rest {
        let last_is_dot = out.last() == Some(&b'.');
        // The order of the tests matters: a symbol after a digit is a
        // transition, and is kept.
        if matches!(c, b'-' | b'_' | b'+') {
            if !last_is_dot {
                out.push(b'.');
            }
        } else if (is_ndig(prev) && is_dig(c)) || (is_dig(prev) && is_ndig(c)) {
            if !last_is_dot {
                out.push(b'.');
            }
            out.push(c);
        } else if !c.is_ascii_alphanumeric() {
            if !last_is_dot {
                out.push(b'.');
            }
        } else {
            out.push(c);
        }
        prev = c;
    }
    out
}

/// PHP's `compare_special_version_forms`: forms are matched by prefix, and
/// anything unknown sorts before `dev`.
fn special_form_order(form: &[u8]) -> i8 {
    const FORMS: [(&[u8], i8); 10] = [
        (b"dev", 0),
        (b"alpha", 1),
        (b"a", 1),
        (b"beta", 2),
        (b"b", 2),
        (b"RC", 3),
        (b"rc", 3),
        (b"#", 4),
        (b"pl", 5),
        (b"p", 5),
    ];
    FORMS
        .iter()
        .find(|(name, _)| form.starts_with(name))
        .map_or(-1, |(_, order)| *order)
}

/// What PHP uses for "a number" when comparing it with a special form.
const NUMBER: &[u8] = b"#N#";

fn starts_with_digit(s: &[u8]) -> bool {
    s.first().is_some_and(u8::is_ascii_digit)
}

fn cmp_part(a: &[u8], b: &[u8]) -> Ordering {
    match (starts_with_digit(a), starts_with_digit(b)) {
        // `strtol` reads the leading digits.
        (true, true) => {
            let digits = |s: &[u8]| -> String {
                s.iter()
                    .take_while(|c| c.is_ascii_digit())
                    .map(|&c| char::from(c))
                    .collect()
            };
            cmp_digits(&digits(a), &digits(b))
        }
        (false, false) => special_form_order(a).cmp(&special_form_order(b)),
        (true, false) => special_form_order(NUMBER).cmp(&special_form_order(b)),
        (false, true) => special_form_order(a).cmp(&special_form_order(NUMBER)),
    }
}

/// PHP's `php_version_compare`.
fn php_version_compare(a: &str, b: &str) -> Ordering {
    php_compare_bytes(a.as_bytes(), b.as_bytes())
}

fn php_compare_bytes(a: &[u8], b: &[u8]) -> Ordering {
    if a.is_empty() || b.is_empty() {
        return (!a.is_empty()).cmp(&!b.is_empty());
    }
    let canonical = |s: &[u8]| -> Vec<u8> {
        if s.first() == Some(&b'#') {
            s.to_vec()
        } else {
            php_canonicalize(&String::from_utf8_lossy(s))
        }
    };
    let (v1, v2) = (canonical(a), canonical(b));
    let (mut p1, mut p2): (&[u8], &[u8]) = (&v1, &v2);
    let (mut more1, mut more2) = (true, true);
    let mut result = Ordering::Equal;
    while !p1.is_empty() && !p2.is_empty() && more1 && more2 {
        let (part1, rest1) = split_dot(p1);
        let (part2, rest2) = split_dot(p2);
        more1 = rest1.is_some();
        more2 = rest2.is_some();
        result = cmp_part(part1, part2);
        if result.is_ne() {
            break;
        }
        if let Some(rest) = rest1 {
            p1 = rest;
        }
        if let Some(rest) = rest2 {
            p2 = rest;
        }
    }
    if result.is_eq() {
        // One side has parts left: a number makes it greater; anything else
        // compares as a special form against "a number".
        if more1 {
            result = if starts_with_digit(p1) {
                Ordering::Greater
            } else {
                php_compare_bytes(p1, NUMBER)
            };
        } else if more2 {
            result = if starts_with_digit(p2) {
                Ordering::Less
            } else {
                php_compare_bytes(NUMBER, p2)
            };
        }
    }
    result
}

fn split_dot(s: &[u8]) -> (&[u8], Option<&[u8]>) {
    match s.iter().position(|&c| c == b'.') {
        Some(i) => (&s[..i], Some(&s[i + 1..])),
        None => (s, None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Ecosystem::Packagist;
    use crate::version::test_util::*;

    #[test]
    fn composer_normalization_vectors() {
        // VersionParserTest::successfulNormalizedVersions (orderable ones).
        for (input, expected) in [
            ("1.0.0", "1.0.0.0"),
            ("1.2.3.4", "1.2.3.4"),
            ("1.0.0RC1dev", "1.0.0.0-RC1-dev"),
            ("1.0.0-rC15-dev", "1.0.0.0-RC15-dev"),
            ("1.0.0.RC.15-dev", "1.0.0.0-RC15-dev"),
            ("1.0.0-rc1", "1.0.0.0-RC1"),
            ("1.0.0.pl3-dev", "1.0.0.0-patch3-dev"),
            ("1.0-dev", "1.0.0.0-dev"),
            ("0", "0.0.0.0"),
            ("10.4.13-beta", "10.4.13.0-beta"),
            ("10.4.13beta2", "10.4.13.0-beta2"),
            ("10.4.13beta.2", "10.4.13.0-beta2"),
            ("v1.13.11-beta.0", "1.13.11.0-beta0"),
            ("1.13.11.0-beta0", "1.13.11.0-beta0"),
            ("10.4.13-b", "10.4.13.0-beta"),
            ("10.4.13-b5", "10.4.13.0-beta5"),
            ("v1.0.0", "1.0.0.0"),
            ("2010.01", "2010.01.0.0"),
            ("2010.01.02", "2010.01.02.0"),
            ("2010.1.555", "2010.1.555.0"),
            ("2010.10.200", "2010.10.200.0"),
            ("v20100102", "20100102"),
            ("2010-01-02", "2010.01.02"),
            ("2012.06.07", "2012.06.07.0"),
            ("2010-01-02.5", "2010.01.02.5"),
            ("20100102-203040", "20100102.203040"),
            ("20100102203040-10", "20100102203040.10"),
            ("20100102-203040-p1", "20100102.203040-patch1"),
            ("201903.0", "201903.0"),
            ("201903.x-dev", "201903.9999999.9999999.9999999-dev"),
            ("201903.0-p2", "201903.0-patch2"),
            ("1.x-dev", "1.9999999.9999999.9999999-dev"),
            ("1.0.0+foo@dev", "1.0.0.0"),
            ("1.0.0-beta.5+foo", "1.0.0.0-beta5"),
            ("1.0.0+foo", "1.0.0.0"),
            ("1.0.0-alpha.3.1+foo", "1.0.0.0-alpha3.1"),
            ("1.0.0-alpha2.1+foo", "1.0.0.0-alpha2.1"),
            ("1.0.0-alpha-2.1-3+foo", "1.0.0.0-alpha2.1-3"),
            ("1.0.0+foo as 2.0", "1.0.0.0"),
            ("00.01.03.04", "00.01.03.04"),
            ("000.001.003.004", "000.001.003.004"),
            ("0.000.103.204", "0.000.103.204"),
            ("0700", "0700.0.0.0"),
            ("041.x-dev", "041.9999999.9999999.9999999-dev"),
            (" 1.0.0", "1.0.0.0"),
            ("1.0.0 ", "1.0.0.0"),
            ("1.0.0-stable", "1.0.0.0"),
            ("1.0.x-dev", "1.0.9999999.9999999-dev"),
            ("2.0.*-dev", "2.0.9999999.9999999-dev"),
        ] {
            assert_eq!(
                normalize(input).as_deref(),
                Some(expected),
                "normalize({input:?})"
            );
        }
    }

    #[test]
    fn invalid_and_branch_versions() {
        // VersionParserTest::failingNormalizedVersions, and named branches.
        for s in [
            "a",
            "1.0.0-meh",
            "1.0.0.0.0",
            "feature-foo",
            "1.0.0+foo bar",
            "1.0.1-SNAPSHOT",
            "1.0.0<1.0.5-dev",
            "1.0.0-dev<1.0.5-dev",
            "foo bar-dev",
            "1.0 .2",
            " as ",
            " as 1.2",
            "^",
            "~1",
            "^1",
            "1.*",
            "20100102.0.3.4",
            "1 .0",
            "dev-master",
            "master",
            "dev-feature/foo",
            "DEV-FOOBAR",
            "dev-master as 1.0.0",
        ] {
            invalid(Packagist, s);
        }
    }

    #[test]
    fn stability_order() {
        ascending(
            Packagist,
            &[
                "1.0.0-dev",
                "1.0.0-alpha",
                "1.0.0-alpha1",
                "1.0.0-alpha2",
                "1.0.0-beta1-dev",
                "1.0.0-beta1",
                "1.0.0-beta2",
                "1.0.0-beta10",
                "1.0.0-RC1",
                "1.0.0-RC2",
                "1.0.0",
                "1.0.0-patch1",
                "1.0.0-p2",
                "1.0.1-dev",
                "1.0.1",
            ],
        );
    }

    #[test]
    fn normalization_equivalences() {
        eq(Packagist, "1.0", "1.0.0");
        eq(Packagist, "1", "1.0.0.0");
        eq(Packagist, "v1.0.0", "1.0.0");
        eq(Packagist, "V2.3", "2.3.0.0");
        eq(Packagist, "1.0.0-b2", "1.0.0-beta2");
        eq(Packagist, "1.0.0-beta.2", "1.0.0-beta2");
        eq(Packagist, "1.0.0-a1", "1.0.0-alpha1");
        eq(Packagist, "1.0.0-rc1", "1.0.0-RC1");
        eq(Packagist, "1.0.0RC1", "1.0.0-RC1");
        eq(Packagist, "1.0.0-p1", "1.0.0-pl1");
        eq(Packagist, "1.0.0-pl1", "1.0.0-patch1");
        eq(Packagist, "1.0.0+build", "1.0.0");
        eq(Packagist, "01.2.3", "1.2.3");
    }

    #[test]
    fn numeric_order() {
        ascending(
            Packagist,
            &[
                "0", "0.9", "1.0.0", "1.0.1", "1.2", "1.10", "1.10.0.1", "2.0",
            ],
        );
        lt(Packagist, "1.2.3", "1.2.3.4");
        lt(Packagist, "1.999.0", "1.x-dev");
        lt(Packagist, "1.x-dev", "2.0.0-dev");
        lt(Packagist, "2.0.x-dev", "2.1.0");
    }

    #[test]
    fn real_world_versions() {
        // symfony/http-kernel, laravel/framework, guzzlehttp/guzzle as OSV lists them.
        ascending(
            Packagist,
            &[
                "2.0.0",
                "4.4.49",
                "5.0.0-BETA1",
                "5.0.0-RC1",
                "5.0.0",
                "5.4.20",
                "6.0.0",
                "6.2.6",
            ],
        );
        lt(Packagist, "v8.83.27", "v9.0.0");
        lt(Packagist, "7.4.4", "7.4.5");
        lt(Packagist, "6.5.7", "6.5.8");
    }

    #[test]
    fn php_version_compare_vectors() {
        // From PHP's version_compare tests, on already canonical input.
        let cases = [
            ("1.0.0", "1.0", Ordering::Greater),
            ("1.0rc1", "1.0", Ordering::Less),
            ("1.0", "1.0-dev", Ordering::Greater),
            ("1.0a", "1.0b", Ordering::Less),
            ("1.0pl1", "1.0", Ordering::Greater),
            ("1.0-dev", "1.0a1", Ordering::Less),
            ("1.0.0-dev", "1.0.0alpha", Ordering::Less),
            ("1.0b1", "1.0RC1", Ordering::Less),
            ("1.0RC1", "1.0rc1", Ordering::Equal),
            ("1.0", "1.0.1", Ordering::Less),
            ("1.10", "1.9", Ordering::Greater),
            ("1.0-foo", "1.0-dev", Ordering::Less),
            ("5.2.0", "5.2.0-RC1", Ordering::Greater),
        ];
        for (a, b, expected) in cases {
            assert_eq!(
                php_version_compare(a, b),
                expected,
                "version_compare({a}, {b})"
            );
            assert_eq!(
                php_version_compare(b, a),
                expected.reverse(),
                "version_compare({b}, {a})"
            );
        }
        assert_eq!(php_canonicalize("1.0-dev_x+1"), b"1.0.dev.x.1");
        assert_eq!(php_canonicalize("1.0rc1"), b"1.0.rc.1");
    }
}

//! Alpine versions, as apk-tools (`src/version.c`) orders them:
//! `digit{.digit}...{letter}{_suffix{digit}}...{~hash}{-rN}`.
//!
//! Tokens are compared pairwise while they are of the same kind: numbers
//! numerically (except that a part after a `.` with a leading zero compares
//! as a string, as in Gentoo: `1.02` < `1.1`), letters and suffixes by
//! their rank (`_alpha` < `_beta` < `_pre` < `_rc` < release < `_cvs` <
//! `_svn` < `_git` < `_hg` < `_p`). At the first difference in kind, a
//! pre-release suffix makes its version the smaller; otherwise the version
//! whose next token comes earlier in the grammar is the larger, so
//! `1.2` < `1.2a` < `1.2_p1` and `1.2.3_p1` > `1.2.3-r1` > `1.2.3` >
//! `1.2.3_rc1`.

use std::cmp::Ordering;

use super::cmp_digits;

#[derive(Debug, Clone)]
pub struct ApkVersion {
    /// Every token, without the final `End`.
    tokens: Vec<Token>,
}

/// Token kinds, in apk's order: the order decides comparisons between
/// versions that differ in structure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    InitialDigit,
    Digit,
    Letter,
    Suffix,
    SuffixNo,
    CommitHash,
    RevisionNo,
    End,
}

/// Suffix ranks, in apk's order; `NONE` (5) is the plain release.
const SUFFIXES: [(&str, u8); 9] = [
    ("alpha", 1),
    ("beta", 2),
    ("pre", 3),
    ("rc", 4),
    ("cvs", 6),
    ("svn", 7),
    ("git", 8),
    ("hg", 9),
    ("p", 10),
];
const SUFFIX_NONE: u8 = 5;

#[derive(Debug, Clone)]
struct Token {
    kind: Kind,
    /// The token's text: digits, a letter, a suffix name or a hash.
    text: String,
    /// The suffix rank, for `Suffix` tokens.
    suffix: u8,
}

impl Token {
    fn new(kind: Kind, text: &str) -> Token {
        Token {
            kind,
            text: text.to_string(),
            suffix: 0,
        }
    }
}

/// apk's `token_cmp`, for two tokens of the same kind.
fn cmp_token(a: &Token, b: &Token) -> Ordering {
    match a.kind {
        // A leading zero after a dot means "compare as strings".
        Kind::Digit if a.text.starts_with('0') || b.text.starts_with('0') => {
            a.text.as_bytes().cmp(b.text.as_bytes())
        }
        Kind::InitialDigit | Kind::Digit | Kind::SuffixNo | Kind::RevisionNo => {
            cmp_digits(&a.text, &b.text)
        }
        Kind::Suffix => a.suffix.cmp(&b.suffix),
        Kind::Letter | Kind::CommitHash | Kind::End => a.text.as_bytes().cmp(b.text.as_bytes()),
    }
}

impl Ord for ApkVersion {
    /// apk's `apk_version_compare`.
    fn cmp(&self, other: &Self) -> Ordering {
        let end = Token::new(Kind::End, "");
        let mut i = 0;
        loop {
            let a = self.tokens.get(i).unwrap_or(&end);
            let b = other.tokens.get(i).unwrap_or(&end);
            if a.kind != b.kind {
                // A pre-release suffix sorts before anything else; otherwise
                // the token that comes earlier in the grammar is the larger.
                let pre = |t: &Token| t.kind == Kind::Suffix && t.suffix < SUFFIX_NONE;
                if pre(a) {
                    return Ordering::Less;
                }
                if pre(b) {
                    return Ordering::Greater;
                }
                return b.kind.cmp(&a.kind);
            }
            if a.kind == Kind::End {
                return Ordering::Equal;
            }
            let o = cmp_token(a, b);
            if o.is_ne() {
                return o;
            }
            i += 1;
        }
    }
}

impl PartialOrd for ApkVersion {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for ApkVersion {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for ApkVersion {}

fn take_while(s: &str, pred: impl Fn(u8) -> bool) -> (&str, &str) {
    let n = s.bytes().take_while(|&b| pred(b)).count();
    s.split_at(n)
}

/// Tokenizes a version as apk's `token_first`/`token_next`; None where apk
/// would reach `TOKEN_INVALID`.
pub fn parse(s: &str) -> Option<ApkVersion> {
    let (digits, mut rest) = take_while(s, |b| b.is_ascii_digit());
    if digits.is_empty() {
        return None;
    }
    let mut tokens = vec![Token::new(Kind::InitialDigit, digits)];
    let mut last = Kind::InitialDigit;

    while let Some(c) = rest.bytes().next() {
        let token = match c {
            b'a'..=b'z' if last <= Kind::Digit => {
                let (letter, after) = rest.split_at(1);
                rest = after;
                Token::new(Kind::Letter, letter)
            }
            b'.' if last <= Kind::Digit => {
                let (digits, after) = take_while(&rest[1..], |b| b.is_ascii_digit());
                if digits.is_empty() {
                    return None;
                }
                rest = after;
                Token::new(Kind::Digit, digits)
            }
            b'0'..=b'9' if last == Kind::Suffix => {
                let (digits, after) = take_while(rest, |b| b.is_ascii_digit());
                rest = after;
                Token::new(Kind::SuffixNo, digits)
            }
            b'_' if last <= Kind::SuffixNo => {
                let (name, after) = take_while(&rest[1..], |b| b.is_ascii_lowercase());
                let &(_, rank) = SUFFIXES.iter().find(|(n, _)| *n == name)?;
                rest = after;
                Token {
                    suffix: rank,
                    ..Token::new(Kind::Suffix, name)
                }
            }
            b'~' if last < Kind::CommitHash => {
                let (hash, after) = take_while(&rest[1..], |b| {
                    b.is_ascii_digit() || (b'a'..=b'f').contains(&b)
                });
                if hash.is_empty() {
                    return None;
                }
                rest = after;
                Token::new(Kind::CommitHash, hash)
            }
            b'-' if last < Kind::RevisionNo => {
                let (digits, after) = take_while(rest.strip_prefix("-r")?, |b| b.is_ascii_digit());
                if digits.is_empty() {
                    return None;
                }
                rest = after;
                Token::new(Kind::RevisionNo, digits)
            }
            _ => return None,
        };
        last = token.kind;
        tokens.push(token);
    }
    Some(ApkVersion { tokens })
}

#[cfg(test)]
mod tests {
    use crate::Ecosystem::Alpine;
    use crate::version::test_util::*;

    /// Lines of apk-tools' `test/version.data` (a selection).
    const VERSION_DATA: &str = "\
2.34 > 0.1.0_alpha
0.1.0_alpha = 0.1.0_alpha
0.1.0_alpha < 0.1.3_alpha
0.1.0_alpha2 > 0.1.0_alpha
0.1.0_alpha < 2.2.39-r1
2.2.39-r1 > 1.0.4-r3
1.0.4-r3 < 1.0.4-r4
1.0.4-r4 < 1.6
1.1 > 1.1_alpha1
1.2.1 > 1.2
1.3_alpha2 < 1.3_alpha3
0.8_beta1 < 0.8_beta2
3.10.18-r1 > 2.3.0b-r1
2.3.0b-r1 < 2.3.0b-r2
0.12.3 > 0.12
0.12 < 0.13_beta1
1.2.11 < 1.2.12.1
1.2.12.1 < 1.2.13
0.2.0-r1 < 3.1_p16
3.1_p16 < 3.1_p17
3.1_p17 > 1.06-r6
1.06-r6 < 006
006 > 1.0.0
1.2.2-r1 > 1.2.2
2.59 < 20050718-r1
3.9.8-r5 > 2.01.01_alpha10
2.01.01_alpha10 > 0.94
1.0 > 0.99.3.20040818
1.39 > 1.00_beta2
1.03-r1 < 1.12.12-r2
4.2.52_p2-r1 < 4.2.52_p4-r2
4.2.52_p4-r2 > 1.02.07
1.02.07 < 1.02.10-r1
2.18.3-r10 > 1.05-r18
3.0.20060720 < 20060720
2.1.9.200602141850 > 1.6
2.5.1-r8 < 2.5.1a-r1
20040401 > 2.0.0_rc3-r1
2.6.15.20060110 < 2.6.16.20060323
3.0.0-r2 < 021109-r3
3.9_pre20060124 > 0.01
0.01 < 0.06
1.1.7 < 6b-r7
0.10.0-r1 > 0.10.0
0.10.0 < 0.10.1_rc1
2.0.2 > 1.1a
1.1a < 1.3a
1.0-r1 > 0.15.1b
0.15.1b-r2 > 0.15.1b
22.7-r1 < 22.7.3-r1
22.7 > 2.1_pre20
2.1_pre20 < 2.1_pre26
2.10.1 > 02.08.01b
1.6d > 1.2.07.8
1.2.07.8 < 1.2.12.04
1.2.12.04 < 1.2.12.05
1.07-r1 < 1.07.5
1.07.5 > 1.07
0.1_pre20060810 < 0.1_pre20060817
0.59s-r11 < 0.65
4.01 < 4.20
4.20 > 0.20070118
0.20070118 < 0.20070207_rc1
0.20070207_rc1 < 1.0
4.5_p1-r1 > 4.5_p1
0.9.8c-r1 < 0.9.8d
013 < 014-r1
1.7 < 1.7b
1.8.5 < 1.8.5_p2
2.9.11_pre20051101-r3 > 2.9.11_pre20051101
2.6.1.3-r1 > 2.6.1.3
1.6.8_p12-r1 > 1.6.8_p9-r2
0.9.28.1 < 087-r1
104-r11 > 104-r9
2.12r-r4 < 2.12r-r5
7.0.17 < 7.0.174
1.3-r0 < 1.3.1-r0
1.3_pre1-r1 < 1.3.2
1.0_p10-r0 > 1.0_p9-r0
0.1.0_alpha_pre2 < 0.1.0_alpha
1.0.0_pre20191002222144-r0 < 1.0.0_pre20210530193627-r0
6.0_pre1 < 6.0
6.1_pre1 < 6.1
6.0_p1 > 6.0
6.1_p1 > 6.1
";

    #[test]
    fn apk_tools_version_data() {
        for line in VERSION_DATA.lines() {
            let parts: Vec<&str> = line.split_whitespace().collect();
            let [a, op, b] = parts.as_slice() else {
                panic!("bad line {line:?}");
            };
            match *op {
                "<" => lt(Alpine, a, b),
                ">" => lt(Alpine, b, a),
                "=" => eq(Alpine, a, b),
                _ => panic!("bad operator in {line:?}"),
            }
        }
    }

    #[test]
    fn suffix_and_revision_order() {
        ascending(
            Alpine,
            &[
                "1.2.3_alpha",
                "1.2.3_alpha1",
                "1.2.3_beta",
                "1.2.3_pre1",
                "1.2.3_rc1",
                "1.2.3",
                "1.2.3-r1",
                "1.2.3-r2",
                "1.2.3_cvs",
                "1.2.3_svn",
                "1.2.3_git20240101",
                "1.2.3_hg",
                "1.2.3_p1",
                "1.2.3_p1-r1",
                "1.2.3a",
                "1.2.3.1",
                "1.2.4",
            ],
        );
        eq(Alpine, "1.2.3-r0", "1.2.3-r0");
        lt(Alpine, "1.2.3", "1.2.3-r0");
    }

    #[test]
    fn leading_zeros_compare_as_strings() {
        lt(Alpine, "1.02", "1.1");
        lt(Alpine, "1.001", "1.01");
        lt(Alpine, "1.0", "1.00");
        // Not for the first number.
        eq(Alpine, "01.0", "1.0");
        lt(Alpine, "1", "1.0");
    }

    #[test]
    fn commit_hashes() {
        lt(Alpine, "1.0_git20240101~abc123", "1.0_git20240101~abd");
        lt(Alpine, "1.0~abc-r1", "1.0~abc-r2");
        // A hash comes before the revision in the grammar, so it is larger.
        lt(Alpine, "1.0-r0", "1.0~abc");
    }

    #[test]
    fn real_world_versions() {
        // openssl, busybox, musl as Alpine's secdb and OSV list them.
        ascending(
            Alpine,
            &[
                "0",
                "1.1.1t-r0",
                "1.1.1t-r2",
                "1.1.1u-r0",
                "3.0.8-r0",
                "3.0.8-r3",
                "3.1.4-r0",
            ],
        );
        lt(Alpine, "1.36.1-r5", "1.36.1-r15");
        lt(Alpine, "1.2.3_git20230717-r4", "1.2.4-r0");
        // A post-release suffix outranks any revision of the bare version.
        lt(Alpine, "1.2.4-r9", "1.2.4_git20230717-r0");
    }

    #[test]
    fn validity() {
        for s in [
            "1",
            "1.2.3",
            "1.2.3a",
            "1.2.3_rc1",
            "1.2.3_p1-r1",
            "1.0_alpha_pre2",
            "1.0~abc123-r0",
        ] {
            valid(Alpine, s);
        }
        for s in [
            "1.0bc",
            "23_foo",
            "v1.0",
            "a1",
            "1.",
            "1..2",
            "1a2",
            "1a.2",
            "1.0-r",
            "1.0-1",
            "1.0-r1-r2",
            "1.0-r1_p1",
            "1.0_",
            "1.0_pl1",
            "1.0A",
            "1.0~",
            "1.0~xyz",
            "1.0-r1~abc",
            "1.0_rc1a",
        ] {
            invalid(Alpine, s);
        }
    }
}

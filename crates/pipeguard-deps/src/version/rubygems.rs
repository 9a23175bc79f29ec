//! RubyGems versions, as `Gem::Version` orders them.
//!
//! A version is split into numeric and alphabetic segments (`1.0.b1` →
//! `1, 0, "b", 1`; a `-` stands for `.pre.`). Any letter makes it a
//! pre-release, and a letter segment sorts before a number, so `1.0.a` <
//! `1.0`. Trailing zeros are dropped from the numeric part and from the
//! pre-release part alike (`canonical_segments`), so `1.0` == `1` and
//! `1.0.a.0` == `1.a`; a missing segment then counts as 0.

use std::cmp::Ordering;

use super::cmp_digits;

#[derive(Debug, Clone)]
pub struct GemVersion {
    /// `canonical_segments`.
    segments: Vec<Segment>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    /// Digits (compared by value).
    Number(String),
    /// Letters (compared bytewise, case-sensitively, as Ruby strings are).
    Text(String),
}

impl Segment {
    fn is_zero(&self) -> bool {
        matches!(self, Segment::Number(n) if n.bytes().all(|b| b == b'0'))
    }
}

fn cmp_segment(a: &Segment, b: &Segment) -> Ordering {
    match (a, b) {
        (Segment::Number(x), Segment::Number(y)) => cmp_digits(x, y),
        (Segment::Text(x), Segment::Text(y)) => x.cmp(y),
        (Segment::Text(_), Segment::Number(_)) => Ordering::Less,
        (Segment::Number(_), Segment::Text(_)) => Ordering::Greater,
    }
}

impl Ord for GemVersion {
    fn cmp(&self, other: &Self) -> Ordering {
        let zero = Segment::Number("0".to_string());
        let len = self.segments.len().max(other.segments.len());
        for i in 0..len {
            let a = self.segments.get(i).unwrap_or(&zero);
            let b = other.segments.get(i).unwrap_or(&zero);
            let o = cmp_segment(a, b);
            if o.is_ne() {
                return o;
            }
        }
        Ordering::Equal
    }
}

impl PartialOrd for GemVersion {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for GemVersion {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for GemVersion {}

/// `Gem::Version.correct?`: `[0-9]+(\.[0-9a-zA-Z]+)*(-[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?`
fn is_correct(s: &str) -> bool {
    let (release, pre) = match s.split_once('-') {
        Some((release, pre)) => (release, Some(pre)),
        None => (s, None),
    };
    let mut parts = release.split('.');
    let first_is_number = parts
        .next()
        .is_some_and(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
    let rest_alnum = parts.all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_alphanumeric()));
    let pre_ok = pre.is_none_or(|pre| {
        pre.split('.')
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'))
    });
    first_is_number && rest_alnum && pre_ok
}

pub fn parse(s: &str) -> Option<GemVersion> {
    if !is_correct(s) {
        return None;
    }
    // `@version.gsub("-", ".pre.")`, then `scan(/[0-9]+|[a-z]+/i)`.
    let expanded = s.replace('-', ".pre.");
    let mut segments = Vec::new();
    let bytes = expanded.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let digit = bytes[i].is_ascii_digit();
        let alpha = bytes[i].is_ascii_alphabetic();
        if !digit && !alpha {
            i += 1;
            continue;
        }
        let start = i;
        while i < bytes.len()
            && (if digit {
                bytes[i].is_ascii_digit()
            } else {
                bytes[i].is_ascii_alphabetic()
            })
        {
            i += 1;
        }
        let run = expanded[start..i].to_string();
        segments.push(if digit {
            Segment::Number(run)
        } else {
            Segment::Text(run)
        });
    }

    // `canonical_segments`: trailing zeros go from the release part and from
    // the pre-release part (everything from the first letter segment on).
    let split = segments
        .iter()
        .position(|s| matches!(s, Segment::Text(_)))
        .unwrap_or(segments.len());
    let mut pre = segments.split_off(split);
    for part in [&mut segments, &mut pre] {
        while part.last().is_some_and(Segment::is_zero) {
            part.pop();
        }
    }
    segments.append(&mut pre);
    Some(GemVersion { segments })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Ecosystem::RubyGems;
    use crate::version::test_util::*;

    fn canonical(s: &str) -> Vec<String> {
        parse(s)
            .map(|v| {
                v.segments
                    .into_iter()
                    .map(|s| match s {
                        Segment::Number(n) | Segment::Text(n) => n,
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    #[test]
    fn spaceship_from_rubygems_tests() {
        // test_gem_version.rb, test_spaceship.
        eq(RubyGems, "1.0", "1.0.0");
        lt(RubyGems, "1.0.a", "1.0");
        lt(RubyGems, "0.0.0", "1.8.2");
        lt(RubyGems, "1.8.2.a", "1.8.2");
        lt(RubyGems, "1.8.2.a", "1.8.2.b");
        lt(RubyGems, "1.8.2.a9", "1.8.2.a10");
        eq(RubyGems, "0.beta.1", "0.0.beta.1");
        lt(RubyGems, "0.0.beta", "0.0.beta.1");
        lt(RubyGems, "0.0.beta", "0.beta.1");
        lt(RubyGems, "5.a", "5.0.0.rc2");
        lt(RubyGems, "5.0.0.rc2", "5.x");
    }

    #[test]
    fn trailing_zeros_are_ignored() {
        eq(RubyGems, "1", "1.0");
        eq(RubyGems, "1.0.0.0", "1");
        eq(RubyGems, "1.0.a", "1.a");
        eq(RubyGems, "1.a.0", "1.a");
        eq(RubyGems, "1.01", "1.1");
        lt(RubyGems, "1.0", "1.0.1");
    }

    #[test]
    fn canonical_segments() {
        // test_canonical_segments.
        assert_eq!(canonical("1.0.0"), ["1"]);
        assert_eq!(canonical("1.0.0.a.1.0"), ["1", "a", "1"]);
        assert_eq!(canonical("1.2.3-1"), ["1", "2", "3", "pre", "1"]);
    }

    #[test]
    fn prereleases_sort_before_release() {
        ascending(
            RubyGems,
            &[
                "1.0.0.a",
                "1.0.0.alpha",
                "1.0.0.alpha.1",
                "1.0.0.alpha.2",
                "1.0.0.b1",
                "1.0.0.beta",
                "1.0.0.beta.2",
                "1.0.0.pre",
                "1.0.0.rc1",
                "1.0.0.rc2",
                "1.0.0",
                "1.0.1.pre",
                "1.0.1",
            ],
        );
        // Letters glued to digits split into segments.
        eq(RubyGems, "1.0.b1", "1.0.b.1");
        eq(RubyGems, "1.0.0.beta2", "1.0.0.beta.2");
        eq(RubyGems, "2.0.0rc1", "2.0.0.rc.1");
    }

    #[test]
    fn hyphen_means_pre() {
        eq(RubyGems, "1.0.0-rc1", "1.0.0.pre.rc1");
        lt(RubyGems, "1-1", "1");
        lt(RubyGems, "1-a", "1");
        // `-rc1` is `.pre.rc1`, which sorts before `.rc1`.
        lt(RubyGems, "1.0.0-rc1", "1.0.0.rc1");
    }

    #[test]
    fn letters_compare_bytewise() {
        lt(RubyGems, "1.A", "1.a");
        lt(RubyGems, "1.a", "1.b");
        lt(RubyGems, "1.B", "1.a");
    }

    #[test]
    fn real_world_versions() {
        // rails, nokogiri, rack as OSV lists them.
        ascending(
            RubyGems,
            &[
                "0",
                "5.2.8",
                "5.2.8.1",
                "6.0.0.beta1",
                "6.0.0.rc1",
                "6.0.0",
                "6.1.7.3",
                "7.0.4.3",
                "7.0.10",
            ],
        );
        lt(RubyGems, "1.13.10", "1.14.0.rc1");
        lt(RubyGems, "1.14.0.rc1", "1.14.0");
        lt(RubyGems, "2.2.6.3", "2.2.6.4");
        lt(RubyGems, "3.0.0.beta1", "3.0.0");
    }

    #[test]
    fn validity() {
        // test_initialize and test_initialize_invalid.
        for s in [
            "1.0",
            "1.0 ",
            " 1.0 ",
            "1.0\n",
            "\n1.0\n",
            "1.0.0.pre",
            "1-1",
            "1.0--x",
            "1.A",
        ] {
            valid(RubyGems, s);
        }
        for s in [
            "junk", "1.0\n2.0", "1..2", "1.2 3.4", "1.", ".1", "a1", "1.0-", "-1", "1.0_1",
            "1.0-a..b",
        ] {
            invalid(RubyGems, s);
        }
        invalid(
            RubyGems,
            "2.3422222.222.222222222.22222.ads0as.dasd0.ddd2222.2.qd3e.",
        );
    }

    #[test]
    fn big_numbers_do_not_overflow() {
        lt(
            RubyGems,
            "1.99999999999999999999",
            "1.100000000000000000000",
        );
    }
}

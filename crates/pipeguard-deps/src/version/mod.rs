//! Version ordering per ecosystem, as OSV range evaluation needs it.
//!
//! Every ecosystem orders versions its own way: SemVer for crates.io, npm,
//! Hex and Pub; Go's SemVer dialect; PEP 440 for PyPI; Maven's
//! `ComparableVersion`; RubyGems' `Gem::Version`; NuGet's four-part SemVer;
//! Composer's normalization plus PHP's `version_compare`; dpkg for Debian and
//! apk for Alpine. [`parse`] reads a version once under its ecosystem's rules
//! and [`compare`] orders two of them.
//!
//! Every parser accepts the bare `0` that OSV uses as the "introduced"
//! event for "since the first version". It parses as the ecosystem's own
//! zero version, which is not always the least one: Go's `v0.0.0-…`
//! pseudo-versions, SemVer's `0.0.0-alpha` and PEP 440's `0.dev0` sort below
//! it. Range evaluation must therefore treat `introduced: "0"` as unbounded,
//! as the OSV schema says, rather than compare against it.

mod apk;
mod composer;
mod dpkg;
mod go;
mod maven;
mod nuget;
mod pep440;
mod rubygems;
mod semver;

use std::cmp::Ordering;
use std::fmt;

use crate::Ecosystem;

/// A version parsed once for repeated comparisons.
///
/// Versions of different ecosystems are never meaningfully ordered; so that
/// `Ord` stays total, they sort by ecosystem first.
#[derive(Debug, Clone)]
pub struct Version {
    ecosystem: Ecosystem,
    raw: String,
    repr: Repr,
}

/// The parsed form, one per ordering family. Each inner type implements
/// `Ord` with the ecosystem's own rules.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Repr {
    /// crates.io, npm, Hex and Go: build metadata does not take part.
    SemVer(semver::SemVer),
    /// Pub: like SemVer, but pub_semver orders build metadata too.
    SemVerWithBuild(semver::SemVerWithBuild),
    Pep440(pep440::Pep440),
    Maven(maven::MavenVersion),
    RubyGems(rubygems::GemVersion),
    NuGet(nuget::NuGetVersion),
    Composer(composer::ComposerVersion),
    Dpkg(dpkg::DpkgVersion),
    Apk(apk::ApkVersion),
}

impl Version {
    /// The ecosystem whose rules parsed this version.
    pub fn ecosystem(&self) -> Ecosystem {
        self.ecosystem
    }

    /// The version as it was given (trimmed of surrounding whitespace).
    pub fn as_str(&self) -> &str {
        &self.raw
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.raw)
    }
}

impl PartialEq for Version {
    fn eq(&self, other: &Self) -> bool {
        compare(self, other) == Ordering::Equal
    }
}

impl Eq for Version {}

impl PartialOrd for Version {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Version {
    fn cmp(&self, other: &Self) -> Ordering {
        compare(self, other)
    }
}

/// Parses `s` under the ecosystem's rules; None if it is not a valid version there.
pub fn parse(eco: Ecosystem, s: &str) -> Option<Version> {
    let raw = s.trim();
    if raw.is_empty() {
        return None;
    }
    let repr = match eco {
        Ecosystem::CratesIo | Ecosystem::Hex => Repr::SemVer(semver::parse(raw, false)?),
        Ecosystem::Npm => Repr::SemVer(semver::parse(raw, true)?),
        Ecosystem::Pub => Repr::SemVerWithBuild(semver::parse_pub(raw)?),
        Ecosystem::Go => Repr::SemVer(go::parse(raw)?),
        Ecosystem::PyPI => Repr::Pep440(pep440::parse(raw)?),
        Ecosystem::Maven => Repr::Maven(maven::parse(raw)?),
        Ecosystem::RubyGems => Repr::RubyGems(rubygems::parse(raw)?),
        Ecosystem::NuGet => Repr::NuGet(nuget::parse(raw)?),
        Ecosystem::Packagist => Repr::Composer(composer::parse(raw)?),
        Ecosystem::Debian => Repr::Dpkg(dpkg::parse(raw)?),
        Ecosystem::Alpine => Repr::Apk(apk::parse(raw)?),
    };
    Some(Version {
        ecosystem: eco,
        raw: raw.to_string(),
        repr,
    })
}

/// Whether `s` is a valid version under the ecosystem's rules.
pub fn is_valid(eco: Ecosystem, s: &str) -> bool {
    parse(eco, s).is_some()
}

/// Orders two versions of the same ecosystem (both from `parse` with that ecosystem).
///
/// Versions of different ecosystems are ordered by ecosystem, which keeps the
/// order total but means nothing.
pub fn compare(a: &Version, b: &Version) -> Ordering {
    a.ecosystem
        .cmp(&b.ecosystem)
        .then_with(|| a.repr.cmp(&b.repr))
}

/// Convenience: parse both and compare; None if either does not parse.
pub fn compare_str(eco: Ecosystem, a: &str, b: &str) -> Option<Ordering> {
    Some(compare(&parse(eco, a)?, &parse(eco, b)?))
}

/// Compares two runs of ASCII digits by numeric value, whatever their length
/// (leading zeros do not count), so that no number overflows.
pub(crate) fn cmp_digits(a: &str, b: &str) -> Ordering {
    let a = a.trim_start_matches('0');
    let b = b.trim_start_matches('0');
    a.len().cmp(&b.len()).then_with(|| a.cmp(b))
}

/// Shared helpers for the tests of every submodule.
#[cfg(test)]
pub(crate) mod test_util {
    use super::*;

    /// Asserts `a < b` (and `b > a`) under `eco`.
    #[track_caller]
    pub fn lt(eco: Ecosystem, a: &str, b: &str) {
        assert_eq!(
            compare_str(eco, a, b),
            Some(Ordering::Less),
            "{eco}: expected {a} < {b}"
        );
        assert_eq!(
            compare_str(eco, b, a),
            Some(Ordering::Greater),
            "{eco}: expected {b} > {a}"
        );
    }

    /// Asserts `a == b` (both ways) under `eco`.
    #[track_caller]
    pub fn eq(eco: Ecosystem, a: &str, b: &str) {
        assert_eq!(
            compare_str(eco, a, b),
            Some(Ordering::Equal),
            "{eco}: expected {a} == {b}"
        );
        assert_eq!(
            compare_str(eco, b, a),
            Some(Ordering::Equal),
            "{eco}: expected {b} == {a}"
        );
    }

    /// Asserts that each version is less than every later one.
    #[track_caller]
    pub fn ascending(eco: Ecosystem, versions: &[&str]) {
        for (i, a) in versions.iter().enumerate() {
            for b in &versions[i + 1..] {
                lt(eco, a, b);
            }
        }
    }

    #[track_caller]
    pub fn valid(eco: Ecosystem, s: &str) {
        assert!(is_valid(eco, s), "{eco}: expected {s:?} to be valid");
    }

    #[track_caller]
    pub fn invalid(eco: Ecosystem, s: &str) {
        assert!(!is_valid(eco, s), "{eco}: expected {s:?} to be invalid");
    }
}

#[cfg(test)]
mod tests {
    use super::test_util::*;
    use super::*;

    #[test]
    fn every_ecosystem_accepts_osv_zero() {
        for eco in Ecosystem::ALL {
            valid(eco, "0");
        }
    }

    #[test]
    fn every_ecosystem_rejects_empty() {
        for eco in Ecosystem::ALL {
            invalid(eco, "");
            invalid(eco, "   ");
        }
    }

    #[test]
    fn zero_is_below_ordinary_versions() {
        for eco in Ecosystem::ALL {
            lt(eco, "0", "1.2.3");
        }
    }

    #[test]
    fn ord_matches_compare_and_sorts() {
        let mut v: Vec<Version> = ["1.10.0", "1.2.0", "1.2.0-rc.1", "0.9.9"]
            .iter()
            .filter_map(|s| parse(Ecosystem::CratesIo, s))
            .collect();
        v.sort();
        let sorted: Vec<&str> = v.iter().map(Version::as_str).collect();
        assert_eq!(sorted, ["0.9.9", "1.2.0-rc.1", "1.2.0", "1.10.0"]);
        assert_eq!(
            parse(Ecosystem::CratesIo, "1.0.0+a"),
            parse(Ecosystem::CratesIo, "1.0.0+b")
        );
    }

    #[test]
    fn different_ecosystems_order_by_ecosystem() {
        let a = parse(Ecosystem::CratesIo, "9.0.0");
        let b = parse(Ecosystem::Npm, "1.0.0");
        assert!(a.is_some() && b.is_some());
        assert!(a < b);
        assert_ne!(
            parse(Ecosystem::Npm, "1.0.0"),
            parse(Ecosystem::CratesIo, "1.0.0")
        );
    }

    #[test]
    fn version_keeps_raw_text_and_ecosystem() {
        let v = parse(Ecosystem::PyPI, "  1.0RC1 ");
        assert_eq!(v.as_ref().map(Version::as_str), Some("1.0RC1"));
        assert_eq!(v.as_ref().map(Version::ecosystem), Some(Ecosystem::PyPI));
        assert_eq!(v.map(|v| v.to_string()), Some("1.0RC1".to_string()));
    }

    #[test]
    fn compare_str_needs_both_valid() {
        assert_eq!(compare_str(Ecosystem::CratesIo, "1.0.0", "nope"), None);
        assert_eq!(compare_str(Ecosystem::CratesIo, "nope", "1.0.0"), None);
    }

    /// Versions of every shape each parser accepts, to check that `compare`
    /// is a total order (antisymmetric and transitive) on them.
    fn samples(eco: Ecosystem) -> &'static [&'static str] {
        match eco {
            Ecosystem::CratesIo | Ecosystem::Hex | Ecosystem::Pub => &[
                "0",
                "1",
                "1.0.0",
                "1.0.0+b",
                "1.0.0-alpha",
                "1.0.0-alpha.1",
                "1.0.0-1",
                "1.0.0-a-b",
                "1.2",
                "v1.2.0",
                "2.0.0-rc.1+x",
                "10.0.0",
            ],
            Ecosystem::Npm => &[
                "0",
                "1.0.0",
                "=1.0.0",
                "01.0.0",
                "1.0.0beta",
                "1.0.0-beta.01",
                "1.0.0-beta.1",
                "1.0.0-beta.x",
                "1.0.0+meta",
                "2",
                "2.0.0-0",
            ],
            Ecosystem::Go => &[
                "0",
                "v0.0.0-20191109021931-daa7c04131f5",
                "v1",
                "v1.0.0",
                "v1.2",
                "v1.2.4-0.20191109021931-daa7c04131f5",
                "v1.2.4-pre",
                "v1.2.4",
                "v2.0.0+incompatible",
            ],
            Ecosystem::PyPI => &[
                "0",
                "0.dev0",
                "1.0.dev1",
                "1.0a1",
                "1.0rc1",
                "1.0",
                "1.0.0",
                "1.0+local.1",
                "1.0+1",
                "1.0.post1",
                "1!0.1",
                "v1.0-post1",
            ],
            Ecosystem::Maven => &[
                "0",
                "1",
                "1.0",
                "1-0",
                "1-ga",
                "1.release",
                "1-sp",
                "1-sp1",
                "1-1",
                "1.1",
                "1-alpha",
                "1-a1",
                "1.0.0.alpha2",
                "1-0.alpha",
                "1-0.beta",
                "1-rc-1",
                "1-abc",
                "1-SNAPSHOT",
                "6.1.0rc3",
                "6.1H.5-beta",
                "1-ga-1",
                "1-ga1",
                "1-0-1",
                "1.0.x",
                "2.0.a",
                "2-1",
                "2.1b",
                "2.1-c",
                "1.0.final-redhat",
                "1.0-sp-1-redhat",
            ],
            Ecosystem::RubyGems => &[
                "0",
                "1",
                "1.0",
                "1.0.a",
                "1.a",
                "1.0.b1",
                "1-1",
                "1.0.0.pre.1",
                "1.A",
                "1.0.1",
                "5.x",
                "5.0.0.rc2",
            ],
            Ecosystem::NuGet => &[
                "0",
                "1",
                "1.0.0.0",
                "1.0.0-a",
                "1.0.0-A",
                "1.0.0-1",
                "1.0.0-a.1",
                "1.0.0-rc10",
                "1.0.0-rc2",
                "1.0.0.1",
                "1.0.0+m",
            ],
            Ecosystem::Packagist => &[
                "0",
                "1",
                "1.0.0",
                "v1.0.0.0",
                "1.0.0-dev",
                "1.0.0-alpha",
                "1.0.0-b1",
                "1.0.0-beta1-dev",
                "1.0.0-RC1",
                "1.0.0-patch1",
                "1.x-dev",
                "2010.01.02",
                "20100102-203040",
            ],
            Ecosystem::Debian => &[
                "0",
                "1.0",
                "1.0-0",
                "1:0.1",
                "1.0~rc1",
                "1.0~~",
                "1.0a",
                "1.0+b1",
                "1.0.1",
                "1.0-1",
                "1.0-1.1",
                "1.0-1+deb1",
                "01.0",
            ],
            Ecosystem::Alpine => &[
                "0",
                "1.0",
                "1.00",
                "1.01",
                "1.0a",
                "1.0_alpha",
                "1.0_alpha_pre2",
                "1.0_p1",
                "1.0-r1",
                "1.0~ab",
                "1.0_git1~ab-r1",
                "01.0",
                "1.0.1",
            ],
        }
    }

    #[test]
    fn compare_is_a_total_order() {
        for eco in Ecosystem::ALL {
            let versions: Vec<Version> = samples(eco)
                .iter()
                .map(|s| parse(eco, s).unwrap_or_else(|| panic!("{eco}: {s} should parse")))
                .collect();
            for a in &versions {
                assert_eq!(compare(a, a), Ordering::Equal, "{eco}: {a} == itself");
                for b in &versions {
                    let ab = compare(a, b);
                    assert_eq!(
                        ab,
                        compare(b, a).reverse(),
                        "{eco}: antisymmetry of {a}, {b}"
                    );
                    for c in &versions {
                        if ab.is_le() && compare(b, c).is_le() {
                            assert!(compare(a, c).is_le(), "{eco}: {a} <= {b} <= {c}");
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn digits_compare_by_value() {
        assert_eq!(cmp_digits("007", "7"), Ordering::Equal);
        assert_eq!(cmp_digits("10", "9"), Ordering::Greater);
        assert_eq!(cmp_digits("0", ""), Ordering::Equal);
        assert_eq!(
            cmp_digits(
                "123456789012345678901234567890",
                "123456789012345678901234567891"
            ),
            Ordering::Less
        );
    }
}

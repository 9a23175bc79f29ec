//! SemVer 2.0 ordering for crates.io, npm, Hex and Pub (and, through
//! `go.rs`, Go).
//!
//! Parsing is the `semver` crate's strict grammar first. When that fails, a
//! loose fallback accepts what OSV records and npm tolerates: a leading `v`,
//! missing minor or patch numbers (`0`, `1.2` → `1.2.0`), and for npm also
//! node-semver's loose forms (`=1.2.3`, leading zeros `01.02.03`, a
//! pre-release without its hyphen `1.2.3beta`).

use std::cmp::Ordering;

use ::semver::{BuildMetadata, Prerelease, Version};

/// A SemVer version ordered by precedence: build metadata is ignored, as the
/// SemVer spec, Cargo, npm, Hex and Go all do.
#[derive(Debug, Clone)]
pub struct SemVer(pub Version);

impl Ord for SemVer {
    fn cmp(&self, other: &Self) -> Ordering {
        self.0.cmp_precedence(&other.0)
    }
}

impl PartialOrd for SemVer {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for SemVer {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for SemVer {}

/// A SemVer version ordered as Dart's pub_semver orders them: as SemVer,
/// then a version without build metadata before one with it, then the build
/// identifiers like pre-release identifiers (`1.0.0 < 1.0.0+1 < 1.0.0+2`).
/// The `semver` crate's own `Ord` does exactly that.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct SemVerWithBuild(pub Version);

/// Parses a SemVer version; `npm` enables node-semver's loose forms.
pub fn parse(s: &str, npm: bool) -> Option<SemVer> {
    parse_version(s, npm).map(SemVer)
}

/// Parses a Pub version (SemVer; build metadata takes part in ordering).
pub fn parse_pub(s: &str) -> Option<SemVerWithBuild> {
    parse_version(s, false).map(SemVerWithBuild)
}

fn parse_version(s: &str, npm: bool) -> Option<Version> {
    let s = if npm {
        // node-semver's loose grammar allows any run of `v`, `=` and spaces
        // before the version (`=v1.2.3`, `v 1.2.3`).
        s.trim_start_matches(['v', 'V', '=', ' '])
    } else {
        s.strip_prefix(['v', 'V']).unwrap_or(s)
    };
    if let Ok(v) = Version::parse(s) {
        return Some(v);
    }
    parse_loose(s, npm)
}

/// The fallback grammar: 1 to 3 numeric parts (missing ones are 0), then an
/// optional `-pre-release` and `+build`.
fn parse_loose(s: &str, npm: bool) -> Option<Version> {
    let (rest, build) = match s.split_once('+') {
        Some((rest, build)) => (rest, Some(build)),
        None => (s, None),
    };
    let core_end = rest
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(rest.len());
    let (core, tail) = rest.split_at(core_end);
    let pre = if tail.is_empty() {
        None
    } else if let Some(pre) = tail.strip_prefix('-') {
        Some(pre)
    } else if npm {
        // node-semver loose: `1.2.3beta` is `1.2.3-beta`.
        Some(tail)
    } else {
        return None;
    };

    let mut numbers = [0u64; 3];
    let mut parts = core.split('.');
    for slot in &mut numbers {
        let Some(part) = parts.next() else { break };
        if part.is_empty() || !part.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        if !npm && part.len() > 1 && part.starts_with('0') {
            return None;
        }
        *slot = part.parse().ok()?;
    }
    if parts.next().is_some() {
        return None;
    }

    // `Prerelease::new("")` is the empty pre-release, but `1.2.3-` and
    // `1.2.3+` are malformed.
    if pre == Some("") || build == Some("") {
        return None;
    }
    let pre = match pre {
        None => Prerelease::EMPTY,
        Some(pre) if npm => Prerelease::new(&strip_numeric_zeros(pre)).ok()?,
        Some(pre) => Prerelease::new(pre).ok()?,
    };
    let build = match build {
        None => BuildMetadata::EMPTY,
        Some(build) => BuildMetadata::new(build).ok()?,
    };
    let [major, minor, patch] = numbers;
    Some(Version {
        major,
        minor,
        patch,
        pre,
        build,
    })
}

/// node-semver loose mode compares numeric pre-release identifiers by value
/// even with leading zeros (`beta.01` == `beta.1`); the `semver` crate
/// rejects such identifiers, so they are rewritten without the zeros.
fn strip_numeric_zeros(pre: &str) -> String {
    pre.split('.')
        .map(|id| {
            if id.len() > 1 && id.bytes().all(|b| b.is_ascii_digit()) {
                let trimmed = id.trim_start_matches('0');
                if trimmed.is_empty() { "0" } else { trimmed }
            } else {
                id
            }
        })
        .collect::<Vec<_>>()
        .join(".")
}

#[cfg(test)]
mod tests {
    use crate::Ecosystem::{self, CratesIo, Hex, Npm, Pub};
    use crate::version::test_util::*;

    const SEMVER_ECOSYSTEMS: [Ecosystem; 4] = [CratesIo, Npm, Hex, Pub];

    #[test]
    fn semver_spec_precedence_example() {
        // The example chain from semver.org, item 11.
        for eco in SEMVER_ECOSYSTEMS {
            ascending(
                eco,
                &[
                    "1.0.0-alpha",
                    "1.0.0-alpha.1",
                    "1.0.0-alpha.beta",
                    "1.0.0-beta",
                    "1.0.0-beta.2",
                    "1.0.0-beta.11",
                    "1.0.0-rc.1",
                    "1.0.0",
                ],
            );
        }
    }

    #[test]
    fn semver_spec_core_ordering() {
        for eco in SEMVER_ECOSYSTEMS {
            ascending(eco, &["1.0.0", "2.0.0", "2.1.0", "2.1.1"]);
            lt(eco, "1.9.0", "1.10.0");
            lt(eco, "1.10.0", "1.11.0");
            lt(eco, "0.0.9", "0.1.0");
        }
    }

    #[test]
    fn numeric_identifiers_sort_before_alphanumeric() {
        for eco in SEMVER_ECOSYSTEMS {
            lt(eco, "1.0.0-1", "1.0.0-a");
            lt(eco, "1.0.0-2", "1.0.0-10");
            lt(eco, "1.0.0-a10", "1.0.0-a9"); // lexical inside an identifier
            lt(eco, "1.0.0-Z", "1.0.0-a"); // ASCII order: uppercase first
            // One identifier `alpha-1` against two: `alpha` is a prefix of it.
            lt(eco, "1.0.0-alpha.1", "1.0.0-alpha-1");
        }
    }

    #[test]
    fn build_metadata_is_ignored_except_for_pub() {
        for eco in [CratesIo, Npm, Hex] {
            eq(eco, "1.0.0+build.1", "1.0.0+build.2");
            eq(eco, "1.0.0", "1.0.0+20130313144700");
            eq(eco, "1.0.0-beta+exp.sha.5114f85", "1.0.0-beta");
            lt(eco, "1.0.0-rc.1+build.1", "1.0.0");
        }
        // pub_semver: no build < build, and builds compare like pre-releases.
        ascending(Pub, &["1.0.0", "1.0.0+1", "1.0.0+2", "1.0.0+10", "1.0.0+a"]);
        lt(Pub, "1.0.0-dev+1", "1.0.0");
    }

    #[test]
    fn leading_v_is_tolerated() {
        for eco in SEMVER_ECOSYSTEMS {
            eq(eco, "v1.2.3", "1.2.3");
            eq(eco, "V1.2.3", "1.2.3");
        }
    }

    #[test]
    fn missing_parts_are_zero() {
        for eco in SEMVER_ECOSYSTEMS {
            eq(eco, "0", "0.0.0");
            eq(eco, "1", "1.0.0");
            eq(eco, "1.2", "1.2.0");
            eq(eco, "1.2-beta", "1.2.0-beta");
            lt(eco, "1.2-beta", "1.2");
        }
    }

    #[test]
    fn strict_ecosystems_reject_garbage() {
        for eco in [CratesIo, Hex, Pub] {
            invalid(eco, "1.2.3.4");
            invalid(eco, "01.2.3");
            invalid(eco, "1.02.3");
            invalid(eco, "1.2.3beta");
            invalid(eco, "1.2.3-");
            invalid(eco, "1.2.3-01"); // leading zero in a numeric identifier
            invalid(eco, "1.2.3+");
            invalid(eco, "1..3");
            invalid(eco, "latest");
            invalid(eco, "^1.2.3");
            invalid(eco, "1.2.x");
            invalid(eco, "=1.2.3");
        }
    }

    #[test]
    fn npm_loose_forms() {
        eq(Npm, "=1.2.3", "1.2.3");
        eq(Npm, "=v1.2.3", "1.2.3");
        eq(Npm, "v 1.2.3", "1.2.3");
        eq(Npm, "01.02.03", "1.2.3");
        eq(Npm, "1.2.3beta", "1.2.3-beta");
        eq(Npm, "1.2.3-beta.01", "1.2.3-beta.1");
        lt(Npm, "1.2.3-beta.02", "1.2.3-beta.10");
        invalid(Npm, "1.2.3.4");
        invalid(Npm, "latest");
        invalid(Npm, "^1.2.3");
        invalid(Npm, "1.x");
    }

    #[test]
    fn npm_lockfile_versions() {
        ascending(
            Npm,
            &[
                "4.17.20",
                "4.17.21",
                "5.0.0-alpha.0",
                "5.0.0-alpha.1",
                "5.0.0-beta.0",
                "5.0.0-rc.0",
                "5.0.0",
            ],
        );
        // Prefix identifiers: a longer set wins when the shared part is equal.
        lt(Npm, "1.0.0-alpha", "1.0.0-alpha.0");
    }

    #[test]
    fn crates_io_versions() {
        ascending(
            CratesIo,
            &[
                "0.1.0",
                "0.1.1",
                "0.2.0-alpha.1",
                "0.2.0",
                "0.10.0",
                "1.0.0-rc.1",
                "1.0.0",
            ],
        );
        // Numbers larger than u32.
        lt(CratesIo, "1.0.4294967296", "1.0.4294967297");
        valid(CratesIo, "18446744073709551615.0.0");
        invalid(CratesIo, "18446744073709551616.0.0");
    }

    #[test]
    fn hex_versions() {
        // Examples from Elixir's Version docs.
        lt(Hex, "2.0.1-alpha1", "2.0.1");
        lt(Hex, "1.0.0-alpha.1", "1.0.0-alpha.beta");
        eq(Hex, "1.0.0+build", "1.0.0");
    }
}

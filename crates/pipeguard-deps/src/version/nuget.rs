//! NuGet versions, as NuGet.Versioning's `NuGetVersion` and its default
//! `VersionComparer` order them.
//!
//! Up to four numbers (a missing one is 0, so `1.0.0.0` == `1.0.0` == `1`),
//! then optional SemVer 2 release labels and build metadata. Labels compare
//! like SemVer pre-release identifiers, except that alphanumeric ones
//! compare case-insensitively (`BETA` == `beta`), and metadata never counts.

use std::cmp::Ordering;

#[derive(Debug, Clone)]
pub struct NuGetVersion {
    /// Major, minor, patch, revision.
    numbers: [u32; 4],
    /// Release labels; empty for a release.
    labels: Vec<String>,
}

impl Ord for NuGetVersion {
    fn cmp(&self, other: &Self) -> Ordering {
        self.numbers.cmp(&other.numbers).then_with(|| {
            match (self.labels.is_empty(), other.labels.is_empty()) {
                (true, true) => Ordering::Equal,
                // A release sorts after its pre-releases.
                (true, false) => Ordering::Greater,
                (false, true) => Ordering::Less,
                (false, false) => cmp_labels(&self.labels, &other.labels),
            }
        })
    }
}

impl PartialOrd for NuGetVersion {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for NuGetVersion {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for NuGetVersion {}

/// `VersionComparer.CompareReleaseLabels`: label by label; when one list
/// is a prefix of the other, the shorter one is less.
fn cmp_labels(a: &[String], b: &[String]) -> Ordering {
    for (x, y) in a.iter().zip(b) {
        let o = cmp_label(x, y);
        if o.is_ne() {
            return o;
        }
    }
    a.len().cmp(&b.len())
}

/// `VersionComparer.CompareRelease`: labels that parse as an `Int32` compare
/// numerically and before any other; the rest compare ordinally ignoring case.
fn cmp_label(a: &str, b: &str) -> Ordering {
    match (as_int32(a), as_int32(b)) {
        (Some(x), Some(y)) => x.cmp(&y),
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (None, None) => a
            .bytes()
            .map(|c| c.to_ascii_uppercase())
            .cmp(b.bytes().map(|c| c.to_ascii_uppercase())),
    }
}

fn as_int32(s: &str) -> Option<i32> {
    if s.bytes().all(|b| b.is_ascii_digit()) {
        s.parse().ok()
    } else {
        None
    }
}

/// A label or metadata part: `[0-9A-Za-z-]+`; release labels may not be
/// numbers with leading zeros (`01`), metadata parts may.
fn is_valid_part(part: &str, allow_leading_zeros: bool) -> bool {
    let chars_ok = !part.is_empty() && part.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
    let leading_zero_number =
        part.len() > 1 && part.starts_with('0') && part.bytes().all(|b| b.is_ascii_digit());
    chars_ok && (allow_leading_zeros || !leading_zero_number)
}

pub fn parse(s: &str) -> Option<NuGetVersion> {
    // `ParseSections`: the version up to the first `-` or `+`, the labels up
    // to the first `+`, then the metadata.
    let (rest, metadata) = match s.split_once('+') {
        Some((rest, metadata)) => (rest, Some(metadata)),
        None => (s, None),
    };
    let (version, labels) = match rest.split_once('-') {
        Some((version, labels)) => (version, Some(labels)),
        None => (rest, None),
    };

    // `System.Version`: 2 to 4 non-negative Int32 parts; NuGet appends `.0`
    // to a single number.
    let mut numbers = [0u32; 4];
    let mut parts = version.split('.');
    for slot in &mut numbers {
        let Some(part) = parts.next() else { break };
        if part.is_empty() || !part.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        *slot = part.parse::<i32>().ok()?.try_into().ok()?;
    }
    if parts.next().is_some() {
        return None;
    }

    let labels: Vec<String> = match labels {
        None => Vec::new(),
        Some(labels) => {
            let labels: Vec<String> = labels.split('.').map(str::to_string).collect();
            if !labels.iter().all(|l| is_valid_part(l, false)) {
                return None;
            }
            labels
        }
    };
    if let Some(metadata) = metadata
        && !metadata.split('.').all(|m| is_valid_part(m, true))
    {
        return None;
    }
    Some(NuGetVersion { numbers, labels })
}

#[cfg(test)]
mod tests {
    use crate::Ecosystem::NuGet;
    use crate::version::test_util::*;

    #[test]
    fn four_part_versions_pad_with_zero() {
        eq(NuGet, "1.0.0.0", "1.0.0");
        eq(NuGet, "1.0", "1.0.0");
        eq(NuGet, "1", "1.0.0.0");
        eq(NuGet, "01.002.0003", "1.2.3");
        ascending(
            NuGet,
            &["1.0.0", "1.0.0.1", "1.0.0.10", "1.0.1", "1.1", "2.0.0.0"],
        );
    }

    #[test]
    fn labels_are_case_insensitive() {
        eq(NuGet, "1.0.0-BETA", "1.0.0-beta");
        eq(NuGet, "1.0.0-Beta.X", "1.0.0-beta.x");
        eq(NuGet, "1.0.0-beta+abc", "1.0.0-BETA+def");
    }

    #[test]
    fn metadata_is_ignored() {
        eq(NuGet, "1.0.0+meta", "1.0.0");
        eq(NuGet, "1.0.0+1", "1.0.0+2");
        eq(NuGet, "1.0.0.0+build.01", "1.0.0");
    }

    #[test]
    fn semver2_label_ordering() {
        ascending(
            NuGet,
            &[
                "1.0.0-alpha",
                "1.0.0-alpha.1",
                "1.0.0-alpha.beta",
                "1.0.0-beta",
                "1.0.0-beta.2",
                "1.0.0-beta.11",
                "1.0.0-rc.1",
                "1.0.0",
                "1.0.0.1-alpha",
                "1.0.0.1",
            ],
        );
        lt(NuGet, "1.0.0-1", "1.0.0-a");
        lt(NuGet, "1.0.0-2", "1.0.0-10");
        lt(NuGet, "1.0.0-2147483647", "1.0.0-a");
    }

    #[test]
    fn semver1_labels_compare_as_strings() {
        // `rc10` is one alphanumeric label, compared ordinally.
        lt(NuGet, "1.0.0-rc10", "1.0.0-rc2");
        lt(NuGet, "1.0.0-beta-final", "1.0.0-beta2");
        lt(NuGet, "1.0.0-a", "1.0.0-B");
    }

    #[test]
    fn real_world_versions() {
        // Newtonsoft.Json, System.Text.Json as OSV lists them.
        ascending(
            NuGet,
            &["0", "12.0.3", "13.0.1", "13.0.2-beta1", "13.0.2", "13.0.3"],
        );
        ascending(
            NuGet,
            &[
                "8.0.0-preview.1.23110.8",
                "8.0.0-rc.2.23479.6",
                "8.0.0",
                "8.0.4",
                "8.0.5",
            ],
        );
    }

    #[test]
    fn invalid_versions() {
        for s in [
            "1.0.0.0.0",
            "1.0.0-",
            "1.0.0+",
            "1.0.0-beta..1",
            "1.0.0-beta_1",
            "1.0.0-beta.01",
            "a.b.c",
            "1..0",
            "1.0.",
            ".1",
            "-1.0",
            "1.2147483648",
            "v1.0.0",
            "[1.0,2.0)",
            "1.0.0+meta..x",
        ] {
            invalid(NuGet, s);
        }
        valid(NuGet, "1.0.0-beta.0");
        valid(NuGet, "1.0.0-0a");
        valid(NuGet, "1.0.0+01");
        valid(NuGet, "1.0.0-beta-1+sha.abc-1");
    }
}

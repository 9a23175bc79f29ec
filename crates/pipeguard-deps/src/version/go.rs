//! Go module versions, as `golang.org/x/mod/semver` orders them.
//!
//! Go versions are SemVer with a leading `v`; OSV records them without it, so
//! both forms are accepted. `vMAJOR` and `vMAJOR.MINOR` are shorthands for
//! `vMAJOR.0.0` and `vMAJOR.MINOR.0` (but not with a pre-release or build).
//! Build metadata, in practice only `+incompatible`, does not take part in
//! ordering. Pseudo-versions need no special code: they are pre-releases by
//! construction, so SemVer precedence already puts them where Go does:
//!
//! - `v0.0.0-20191109021931-daa7c04131f5`: before any release of v0;
//! - `v1.2.4-0.20191109021931-daa7c04131f5`: after v1.2.3, before v1.2.4;
//! - `v1.2.4-pre.0.20191109021931-daa7c04131f5`: after v1.2.4-pre.

use ::semver::Version;

use super::semver::SemVer;

pub fn parse(s: &str) -> Option<SemVer> {
    let v = s.strip_prefix('v').unwrap_or(s);
    if let Ok(version) = Version::parse(v) {
        return Some(SemVer(version));
    }
    // Shorthands: one or two numeric parts, nothing else.
    let mut numbers = [0u64; 2];
    let mut parts = v.split('.');
    for slot in &mut numbers {
        let Some(part) = parts.next() else { break };
        let plain_number = !part.is_empty()
            && part.bytes().all(|b| b.is_ascii_digit())
            && (part == "0" || !part.starts_with('0'));
        if !plain_number {
            return None;
        }
        *slot = part.parse().ok()?;
    }
    if parts.next().is_some() {
        return None;
    }
    let [major, minor] = numbers;
    Some(SemVer(Version::new(major, minor, 0)))
}

#[cfg(test)]
mod tests {
    use crate::Ecosystem::Go;
    use crate::version::test_util::*;

    #[test]
    fn leading_v_is_optional() {
        eq(Go, "v1.2.3", "1.2.3");
        eq(Go, "v0.0.0", "0");
        invalid(Go, "V1.2.3");
        invalid(Go, "vv1.2.3");
    }

    #[test]
    fn shorthands_pad_with_zero() {
        eq(Go, "v1", "v1.0.0");
        eq(Go, "v1.2", "v1.2.0");
        lt(Go, "v1.2", "v1.2.1");
        invalid(Go, "v1.2-pre");
        invalid(Go, "v1-pre");
        invalid(Go, "v1.2+meta");
    }

    #[test]
    fn invalid_versions() {
        // From x/mod/semver's tests.
        for s in [
            "bad",
            "v1-alpha.beta.gamma",
            "v1-pre",
            "v1+meta",
            "v1-pre+meta",
            "v1.2-pre",
            "v1.2+meta",
            "v1.2-pre+meta",
            "v1.0.0-alpha!",
            "v1.0.0-alpha..1",
            "v1.0.0-01",
            "v1.0.0-alpha.01",
            "v01.2.3",
            "v1.02.3",
            "v1.2.03",
            "v1.2.3.4",
            "v1.2.3-",
            "v1.2.3+",
            "master",
            "latest",
        ] {
            invalid(Go, s);
        }
    }

    #[test]
    fn x_mod_semver_test_order() {
        // The ascending list from x/mod/semver's TestCompare, with its
        // shorthands and equal neighbours kept apart.
        ascending(
            Go,
            &[
                "v0.0.0",
                "v0.0.1",
                "v0.1.0",
                "v1.0.0-alpha",
                "v1.0.0-alpha.1",
                "v1.0.0-alpha.beta",
                "v1.0.0-beta",
                "v1.0.0-beta.2",
                "v1.0.0-beta.11",
                "v1.0.0-rc.1",
                "v1.0.0",
                "v1.2.0",
                "v1.2.3-456",
                "v1.2.3-456.789",
                "v1.2.3-456-789",
                "v1.2.3-456a",
                "v1.2.3-pre",
                "v1.2.3-pre.1",
                "v1.2.3",
                "v1.2.4",
                "v2.0.0",
            ],
        );
        eq(Go, "v1.0.0+meta", "v1.0.0");
        eq(Go, "v1.2.3-pre+meta", "v1.2.3-pre");
        eq(Go, "v1.2.3-pre.1+meta", "v1.2.3-pre.1");
    }

    #[test]
    fn pseudo_versions_order_as_pre_releases() {
        // vX.0.0-timestamp-hash: no earlier tagged version with that major.
        ascending(
            Go,
            &[
                "v0.0.0-20191109021931-daa7c04131f5",
                "v0.0.0-20200114174110-1b43a0e3b0a6",
                "v0.0.1",
            ],
        );
        // vX.Y.(Z+1)-0.timestamp-hash: derived from the release vX.Y.Z.
        ascending(
            Go,
            &[
                "v1.2.3",
                "v1.2.4-0.20191109021931-daa7c04131f5",
                "v1.2.4-0.20200114174110-1b43a0e3b0a6",
                "v1.2.4",
            ],
        );
        // vX.Y.Z-pre.0.timestamp-hash: derived from the pre-release vX.Y.Z-pre.
        ascending(
            Go,
            &[
                "v1.2.4-pre",
                "v1.2.4-pre.0.20191109021931-daa7c04131f5",
                "v1.2.4-pre.1",
                "v1.2.4",
            ],
        );
        // OSV writes them without the `v`.
        lt(
            Go,
            "0.0.0-20191109021931-daa7c04131f5",
            "0.0.0-20200114174110-1b43a0e3b0a6",
        );
        lt(Go, "0.0.0-20220315160706-3147a52a75dd", "0.1.0");
    }

    #[test]
    fn incompatible_suffix_is_ignored() {
        eq(Go, "v2.0.0+incompatible", "v2.0.0");
        eq(Go, "2.0.0+incompatible", "v2.0.0");
        lt(Go, "v2.0.0+incompatible", "v2.0.1+incompatible");
        lt(
            Go,
            "v2.3.4-0.20190101000000-abcdefabcdef+incompatible",
            "v2.3.4+incompatible",
        );
        lt(Go, "v1.9.9", "v2.0.0+incompatible");
    }

    #[test]
    fn real_module_versions() {
        // golang.org/x/net and friends as OSV lists them.
        ascending(
            Go,
            &[
                "0.0.0-20220906165146-f3363e06e74c",
                "0.7.0",
                "0.17.0",
                "0.23.0",
            ],
        );
        // OSV's `introduced: "0"` parses as v0.0.0, which is *above* the
        // v0.0.0 pseudo-versions: range evaluation must treat that event as
        // unbounded rather than compare against it.
        lt(Go, "0.0.0-20220906165146-f3363e06e74c", "0");
        lt(Go, "1.20.0-rc.1", "1.20.0");
        lt(Go, "1.19.9", "1.20.0");
        lt(Go, "1.20.9", "1.20.10");
    }
}

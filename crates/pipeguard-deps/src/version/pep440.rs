//! PyPI versions: PEP 440 (the "Version specifiers" packaging spec), through
//! `pep440_rs`, which parses the spec's lenient forms (`1.0RC1`, `1.0-post1`,
//! `v1.0`, `1.0.0-a.1`) into their normal form and orders them:
//! epoch, release (zero-padded), then dev < pre < final < post, then local.

use std::cmp::Ordering;
use std::str::FromStr;

/// A PEP 440 version. A newtype so that every `Version` variant is ours.
#[derive(Debug, Clone)]
pub struct Pep440(pep440_rs::Version);

impl Ord for Pep440 {
    fn cmp(&self, other: &Self) -> Ordering {
        self.0.cmp(&other.0)
    }
}

impl PartialOrd for Pep440 {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for Pep440 {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Pep440 {}

pub fn parse(s: &str) -> Option<Pep440> {
    pep440_rs::Version::from_str(s).ok().map(Pep440)
}

#[cfg(test)]
mod tests {
    use crate::Ecosystem::PyPI;
    use crate::version::test_util::*;

    #[test]
    fn spec_summary_ordering() {
        // The ordering example of the PEP 440 "summary of permitted suffixes
        // and relative ordering" section.
        ascending(
            PyPI,
            &[
                "1.dev0",
                "1.0.dev456",
                "1.0a1",
                "1.0a2.dev456",
                "1.0a12.dev456",
                "1.0a12",
                "1.0b1.dev456",
                "1.0b2",
                "1.0b2.post345.dev456",
                "1.0b2.post345",
                "1.0rc1.dev456",
                "1.0rc1",
                "1.0",
                "1.0+abc.5",
                "1.0+abc.7",
                "1.0+5",
                "1.0.post456.dev34",
                "1.0.post456",
                "1.0.15",
                "1.1.dev1",
            ],
        );
    }

    #[test]
    fn epochs_dominate() {
        lt(PyPI, "2013.10", "1!1.0");
        lt(PyPI, "1!1.0", "1!1.1");
        lt(PyPI, "1!2.0", "2!1.0");
        eq(PyPI, "0!1.0", "1.0");
    }

    #[test]
    fn release_is_zero_padded() {
        eq(PyPI, "1.0", "1.0.0");
        eq(PyPI, "1", "1.0.0.0");
        lt(PyPI, "1.0", "1.0.1");
        lt(PyPI, "1.9", "1.10");
    }

    #[test]
    fn normalization_equivalences() {
        // Examples of the spec's "Normalization" section.
        eq(PyPI, "1.0RC1", "1.0rc1");
        eq(PyPI, "1.1RC1", "1.1rc1");
        eq(PyPI, "1.0a", "1.0a0");
        eq(PyPI, "1.0alpha1", "1.0a1");
        eq(PyPI, "1.0beta2", "1.0b2");
        eq(PyPI, "1.0c1", "1.0rc1");
        eq(PyPI, "1.0pre1", "1.0rc1");
        eq(PyPI, "1.0preview1", "1.0rc1");
        eq(PyPI, "1.1.a1", "1.1a1");
        eq(PyPI, "1.1-a1", "1.1a1");
        eq(PyPI, "1.1_a1", "1.1a1");
        eq(PyPI, "1.0-post1", "1.0.post1");
        eq(PyPI, "1.0post1", "1.0.post1");
        eq(PyPI, "1.0-1", "1.0.post1");
        eq(PyPI, "1.0.rev1", "1.0.post1");
        eq(PyPI, "1.0.r1", "1.0.post1");
        eq(PyPI, "1.0.post", "1.0.post0");
        eq(PyPI, "1.0-dev2", "1.0.dev2");
        eq(PyPI, "1.0dev", "1.0.dev0");
        eq(PyPI, "1.0+ubuntu-1", "1.0+ubuntu.1");
        eq(PyPI, "1.0+UBUNTU_1", "1.0+ubuntu.1");
        eq(PyPI, "v1.0", "1.0");
        eq(PyPI, "V1.0", "1.0");
        eq(PyPI, "01.02", "1.2");
        eq(PyPI, "1.0.0-alpha.1", "1.0.0a1");
    }

    #[test]
    fn pre_post_dev_combinations() {
        ascending(
            PyPI,
            &[
                "1.0.dev1",
                "1.0a1.dev1",
                "1.0a1",
                "1.0a1.post1.dev1",
                "1.0a1.post1",
                "1.0b1",
                "1.0rc1",
                "1.0",
                "1.0.post1.dev1",
                "1.0.post1",
                "1.0.post2",
                "1.0.1.dev0",
            ],
        );
    }

    #[test]
    fn local_versions() {
        // A local version sorts after the same public version; numeric
        // segments sort after alphanumeric ones and compare as numbers.
        ascending(
            PyPI,
            &[
                "1.0",
                "1.0+abc",
                "1.0+abc.1",
                "1.0+abc.2",
                "1.0+abc.10",
                "1.0+1",
                "1.0+2",
            ],
        );
        lt(PyPI, "1.0+zzz", "1.0.post1");
        lt(PyPI, "1.0+local", "1.0.1");
    }

    #[test]
    fn real_world_versions() {
        // Django, requests, cryptography as OSV lists them.
        ascending(
            PyPI,
            &[
                "0", "3.2", "3.2.19", "3.2.20", "4.0a1", "4.0rc1", "4.0", "4.2.1",
            ],
        );
        lt(PyPI, "2.31.0", "2.32.0");
        lt(PyPI, "41.0.1", "41.0.2");
        lt(PyPI, "2020.4.5.1", "2020.4.5.2");
    }

    #[test]
    fn invalid_versions() {
        for s in [
            "french toast",
            "1.0+",
            "1.0+.",
            "1.0-",
            "1.0 beta",
            "==1.0",
            ">=1.0",
            "1.*",
            "1.2.3!",
            "dev",
        ] {
            invalid(PyPI, s);
        }
        // Surrounding whitespace is allowed by the spec.
        valid(PyPI, " 1.0 ");
    }
}

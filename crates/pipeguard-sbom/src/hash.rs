//! Lockfile integrity values as SBOM hashes. Lockfiles record digests in
//! several notations (npm's SRI `sha512-<base64>`, pip's `sha256:<hex>`,
//! Bundler's `sha256=<hex>`, Cargo's bare hex, NuGet's bare base64); both
//! SBOM formats want an algorithm name and lowercase hex.

use pipeguard_lockfile::{Ecosystem, Package};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Algorithm {
    Md5,
    Sha1,
    Sha256,
    Sha384,
    Sha512,
}

impl Algorithm {
    /// The name in CycloneDX's `hash-alg` enumeration.
    pub fn cyclonedx_name(self) -> &'static str {
        match self {
            Algorithm::Md5 => "MD5",
            Algorithm::Sha1 => "SHA-1",
            Algorithm::Sha256 => "SHA-256",
            Algorithm::Sha384 => "SHA-384",
            Algorithm::Sha512 => "SHA-512",
        }
    }

    /// The name in SPDX 2.3's checksum algorithm enumeration.
    pub fn spdx_name(self) -> &'static str {
        match self {
            Algorithm::Md5 => "MD5",
            Algorithm::Sha1 => "SHA1",
            Algorithm::Sha256 => "SHA256",
            Algorithm::Sha384 => "SHA384",
            Algorithm::Sha512 => "SHA512",
        }
    }

    fn digest_len(self) -> usize {
        match self {
            Algorithm::Md5 => 16,
            Algorithm::Sha1 => 20,
            Algorithm::Sha256 => 32,
            Algorithm::Sha384 => 48,
            Algorithm::Sha512 => 64,
        }
    }

    fn from_prefix(s: &str) -> Option<Algorithm> {
        Some(match s.to_ascii_lowercase().as_str() {
            "md5" => Algorithm::Md5,
            "sha1" => Algorithm::Sha1,
            "sha256" => Algorithm::Sha256,
            "sha384" => Algorithm::Sha384,
            "sha512" => Algorithm::Sha512,
            _ => return None,
        })
    }
}

/// A digest in lowercase hex.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hash {
    pub algorithm: Algorithm,
    pub hex: String,
}

/// The hashes a package's recorded integrity can be mapped to. Values that
/// cannot be decoded, or whose length does not fit the algorithm, are
/// dropped rather than guessed: a wrong hash in an SBOM is worse than none.
pub fn hashes(pkg: &Package) -> Vec<Hash> {
    let Some(integrity) = &pkg.integrity else {
        return Vec::new();
    };
    let mut out: Vec<Hash> = Vec::new();
    for token in integrity.split_whitespace() {
        if let Some(h) = parse_token(pkg.ecosystem, token)
            && !out.contains(&h)
        {
            out.push(h);
        }
    }
    out
}

fn parse_token(eco: Ecosystem, token: &str) -> Option<Hash> {
    // `sha256:<hex>` (pip, Poetry, uv, Pipfile.lock), `sha256=<hex>` (Bundler).
    if let Some((alg, value)) = token.split_once([':', '='])
        && let Some(algorithm) = Algorithm::from_prefix(alg)
    {
        return from_hex(algorithm, value);
    }
    // Subresource Integrity, `sha512-<base64>` (npm, Yarn, pnpm); SRI options
    // after `?` are not part of the digest.
    if let Some((alg, value)) = token.split_once('-')
        && let Some(algorithm) = Algorithm::from_prefix(alg)
    {
        let value = value.split('?').next().unwrap_or(value);
        return from_bytes(algorithm, &base64_decode(value)?);
    }
    // Bare values: only where the format fixes the algorithm.
    match eco {
        Ecosystem::CratesIo => from_hex(Algorithm::Sha256, token),
        // composer.lock's `dist.shasum` is the SHA-1 of the dist archive.
        Ecosystem::Packagist => from_hex(Algorithm::Sha1, token),
        // packages.lock.json's `contentHash` is the base64 SHA-512 of the nupkg.
        Ecosystem::NuGet => from_bytes(Algorithm::Sha512, &base64_decode(token)?),
        _ => None,
    }
}

fn from_hex(algorithm: Algorithm, value: &str) -> Option<Hash> {
    (value.len() == algorithm.digest_len() * 2 && value.bytes().all(|b| b.is_ascii_hexdigit()))
        .then(|| Hash {
            algorithm,
            hex: value.to_ascii_lowercase(),
        })
}

fn from_bytes(algorithm: Algorithm, bytes: &[u8]) -> Option<Hash> {
    (bytes.len() == algorithm.digest_len()).then(|| Hash {
        algorithm,
        hex: bytes.iter().map(|b| format!("{b:02x}")).collect(),
    })
}

/// Standard base64 (RFC 4648 §4), padding optional; `None` on anything else.
fn base64_decode(s: &str) -> Option<Vec<u8>> {
    use base64::Engine as _;
    use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
    const LENIENT: GeneralPurpose = GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        GeneralPurposeConfig::new()
            .with_decode_padding_mode(DecodePaddingMode::Indifferent)
            .with_decode_allow_trailing_bits(true),
    );
    LENIENT.decode(s).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use pipeguard_lockfile::Source;

    fn pkg(ecosystem: Ecosystem, integrity: &str) -> Package {
        Package {
            ecosystem,
            name: "x".into(),
            version: "1".into(),
            line: 0,
            source: Source::Registry,
            integrity: Some(integrity.into()),
            direct: false,
            dev: false,
            dependencies: Vec::new(),
        }
    }

    fn one(e: Ecosystem, integrity: &str) -> Option<(&'static str, String)> {
        let h = hashes(&pkg(e, integrity));
        assert!(h.len() <= 1, "{h:?}");
        h.into_iter()
            .next()
            .map(|h| (h.algorithm.cyclonedx_name(), h.hex))
    }

    #[test]
    fn base64_matches_known_vectors() {
        assert_eq!(base64_decode("").unwrap(), b"");
        assert_eq!(base64_decode("Zg==").unwrap(), b"f");
        assert_eq!(base64_decode("Zm8=").unwrap(), b"fo");
        assert_eq!(base64_decode("Zm9v").unwrap(), b"foo");
        assert_eq!(base64_decode("Zm9vYmFy").unwrap(), b"foobar");
        assert_eq!(base64_decode("Z"), None);
        assert_eq!(base64_decode("Zm9v!"), None);
    }

    #[test]
    fn npm_sri_sha512_to_hex() {
        // sha512 of the empty string, as SRI and as hex.
        assert_eq!(
            one(
                Ecosystem::Npm,
                "sha512-z4PhNX7vuL3xVChQ1m2AB9Yg5AULVxXcg/SpIdNs6c5H0NE8XYXysP+DGNKHfuwvY7kxvUdBeoGlODJ6+SfaPg=="
            ),
            Some((
                "SHA-512",
                "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e".into()
            ))
        );
        // npm v1 lockfiles: sha1 SRI.
        assert_eq!(
            one(Ecosystem::Npm, "sha1-2jmj7l5rSw0yVb/vlWAYkK/YBwk="),
            Some(("SHA-1", "da39a3ee5e6b4b0d3255bfef95601890afd80709".into()))
        );
    }

    #[test]
    fn cargo_checksum_is_sha256() {
        assert_eq!(
            one(
                Ecosystem::CratesIo,
                "327762F6E5A765692301E5BB513E0D9FEF63BE86BBC14528052B1CD3E6F03E07"
            ),
            Some((
                "SHA-256",
                "327762f6e5a765692301e5bb513e0d9fef63be86bbc14528052b1cd3e6f03e07".into()
            ))
        );
        assert_eq!(one(Ecosystem::CratesIo, "abc"), None);
    }

    #[test]
    fn prefixed_hex_forms() {
        let hex = "0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0";
        assert_eq!(
            one(Ecosystem::RubyGems, &format!("sha256={hex}")),
            Some(("SHA-256", hex.into()))
        );
        assert_eq!(
            one(Ecosystem::PyPI, &format!("sha256:{hex}")),
            Some(("SHA-256", hex.into()))
        );
        // A bare value in a format that does not say what it is: dropped.
        assert_eq!(one(Ecosystem::PyPI, hex), None);
    }

    #[test]
    fn composer_and_nuget_bare_values() {
        assert_eq!(
            one(
                Ecosystem::Packagist,
                "d4e6b1f0b5c2a6e3f8d9c7b1a2e4f6d8c0b2a4e6"
            ),
            Some(("SHA-1", "d4e6b1f0b5c2a6e3f8d9c7b1a2e4f6d8c0b2a4e6".into()))
        );
        let h = one(
            Ecosystem::NuGet,
            "tvRkov9tAJ3xP51LCv3FJ2zINmv1P8Hi8lhhtcKGqM+ImiTCC84uOPEI4z8Cdq2C3o9e+Aa0Gw0rmrsJD77W+w==",
        );
        assert_eq!(h.as_ref().map(|h| h.0), Some("SHA-512"));
        assert!(h.is_some_and(|h| h.1.starts_with("b6f464a2ff6d009df13f9d4b0a")));
    }

    #[test]
    fn wrong_lengths_are_dropped() {
        assert_eq!(one(Ecosystem::Npm, "sha512-Zm9v"), None);
        assert_eq!(one(Ecosystem::PyPI, "sha256:abcd"), None);
        assert_eq!(one(Ecosystem::Npm, "md4-Zm9v"), None);
    }
}

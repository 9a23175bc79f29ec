//! Package URLs (<https://github.com/package-url/purl-spec>): the identifier
//! both SBOM formats use to name a package across tools and databases.

use pipeguard_lockfile::{Ecosystem, Package, Source};

/// The package URL of a locked package, with a `vcs_url`, `repository_url`
/// or `download_url` qualifier when it does not come from the ecosystem's
/// default registry: the same name and version from a fork or a private
/// registry is a different package, and consumers must not confuse the two.
pub fn purl(pkg: &Package) -> String {
    let mut out = format!("pkg:{}/", pkg.ecosystem.purl_type());
    let (namespace, name) = split_name(pkg.ecosystem, &pkg.name);
    if let Some(ns) = namespace {
        // Go module paths are namespaces of several segments; each segment is
        // encoded on its own and the slashes between them stay separators.
        for (i, segment) in ns.split('/').enumerate() {
            if i > 0 {
                out.push('/');
            }
            out.push_str(&encode(segment, false));
        }
        out.push('/');
    }
    out.push_str(&encode(&name, false));
    if !pkg.version.is_empty() {
        out.push('@');
        out.push_str(&encode(&pkg.version, false));
    }
    if let Some((key, value)) = qualifier(&pkg.source) {
        out.push('?');
        out.push_str(key);
        out.push('=');
        out.push_str(&encode(&value, true));
    }
    out
}

/// Splits a package name into the purl namespace and name, normalized the
/// way the purl type requires.
fn split_name(eco: Ecosystem, name: &str) -> (Option<String>, String) {
    match eco {
        Ecosystem::Npm => match name.strip_prefix('@').and_then(|n| n.split_once('/')) {
            Some((scope, n)) => (Some(format!("@{}", scope.to_lowercase())), n.to_lowercase()),
            None => (None, name.to_lowercase()),
        },
        Ecosystem::PyPI => (None, eco.normalize_name(name)),
        Ecosystem::Go => match name.rsplit_once('/') {
            Some((ns, n)) => (Some(ns.to_string()), n.to_string()),
            None => (None, name.to_string()),
        },
        Ecosystem::Maven => match name.split_once(':') {
            Some((group, artifact)) => (Some(group.to_string()), artifact.to_string()),
            None => (None, name.to_string()),
        },
        Ecosystem::Packagist => match name.split_once('/') {
            Some((vendor, n)) => (Some(vendor.to_lowercase()), n.to_lowercase()),
            None => (None, name.to_lowercase()),
        },
        Ecosystem::Hex | Ecosystem::Pub => (None, name.to_lowercase()),
        Ecosystem::Debian => (Some("debian".to_string()), name.to_string()),
        Ecosystem::Alpine => (Some("alpine".to_string()), name.to_string()),
        Ecosystem::CratesIo | Ecosystem::RubyGems | Ecosystem::NuGet => (None, name.to_string()),
    }
}

fn qualifier(source: &Source) -> Option<(&'static str, String)> {
    match source {
        Source::Registry | Source::Path(_) => None,
        Source::OtherRegistry(url) => Some(("repository_url", url.clone())),
        Source::Git { .. } => git_locator(source).map(|l| ("vcs_url", l)),
        Source::Url(url) => Some(("download_url", url.clone())),
    }
}

/// A git source as `git+<url>[@<rev>]`, the form both purl's `vcs_url` and
/// SPDX's `downloadLocation` use.
pub(crate) fn git_locator(source: &Source) -> Option<String> {
    let Source::Git { url, rev } = source else {
        return None;
    };
    let mut s = if url.starts_with("git+") {
        url.clone()
    } else {
        format!("git+{url}")
    };
    if let Some(rev) = rev {
        s.push('@');
        s.push_str(rev);
    }
    Some(s)
}

/// Percent-encodes everything but unreserved characters and `:` (which the
/// purl spec says must never be encoded). In qualifier values `/` stays too,
/// as the reference implementations leave URLs readable; `+` and `@` are
/// always encoded so that `git+https` and `@rev` survive a round trip.
fn encode(s: &str, keep_slash: bool) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric()
            || matches!(b, b'.' | b'-' | b'_' | b'~' | b':')
            || (keep_slash && b == b'/')
        {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pkg(ecosystem: Ecosystem, name: &str, version: &str) -> Package {
        Package {
            ecosystem,
            name: name.into(),
            version: version.into(),
            line: 0,
            source: Source::Registry,
            integrity: None,
            direct: false,
            dev: false,
            dependencies: Vec::new(),
        }
    }

    fn p(e: Ecosystem, name: &str, version: &str) -> String {
        purl(&pkg(e, name, version))
    }

    #[test]
    fn cargo() {
        assert_eq!(
            p(Ecosystem::CratesIo, "serde", "1.0.1"),
            "pkg:cargo/serde@1.0.1"
        );
        assert_eq!(
            p(Ecosystem::CratesIo, "proc-macro2", "1.0.0-rc.1+build.5"),
            "pkg:cargo/proc-macro2@1.0.0-rc.1%2Bbuild.5"
        );
    }

    #[test]
    fn npm_plain_and_scoped() {
        assert_eq!(
            p(Ecosystem::Npm, "lodash", "4.17.21"),
            "pkg:npm/lodash@4.17.21"
        );
        assert_eq!(
            p(Ecosystem::Npm, "@scope/name", "1.0.0"),
            "pkg:npm/%40scope/name@1.0.0"
        );
        assert_eq!(
            p(Ecosystem::Npm, "@babel/core", "7.24.0"),
            "pkg:npm/%40babel/core@7.24.0"
        );
    }

    #[test]
    fn pypi_names_are_pep503_normalized() {
        assert_eq!(
            p(Ecosystem::PyPI, "requests", "2.31.0"),
            "pkg:pypi/requests@2.31.0"
        );
        assert_eq!(
            p(Ecosystem::PyPI, "Django_REST.framework", "3.15.1"),
            "pkg:pypi/django-rest-framework@3.15.1"
        );
        assert_eq!(
            p(Ecosystem::PyPI, "typing__extensions", "4.9.0"),
            "pkg:pypi/typing-extensions@4.9.0"
        );
    }

    #[test]
    fn golang_module_path_is_namespace() {
        assert_eq!(
            p(Ecosystem::Go, "github.com/x/y", "v1.2.3"),
            "pkg:golang/github.com/x/y@v1.2.3"
        );
        assert_eq!(
            p(
                Ecosystem::Go,
                "golang.org/x/net",
                "v0.0.0-20220722155237-a158d28d115b"
            ),
            "pkg:golang/golang.org/x/net@v0.0.0-20220722155237-a158d28d115b"
        );
    }

    #[test]
    fn maven_group_is_namespace() {
        assert_eq!(
            p(
                Ecosystem::Maven,
                "org.apache.logging.log4j:log4j-core",
                "2.14.1"
            ),
            "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1"
        );
        assert_eq!(
            p(Ecosystem::Maven, "group:artifact", "1.0"),
            "pkg:maven/group/artifact@1.0"
        );
    }

    #[test]
    fn gem_composer_nuget() {
        assert_eq!(
            p(Ecosystem::RubyGems, "rack", "2.2.8"),
            "pkg:gem/rack@2.2.8"
        );
        assert_eq!(
            p(Ecosystem::Packagist, "Vendor/Name", "1.0"),
            "pkg:composer/vendor/name@1.0"
        );
        assert_eq!(
            p(Ecosystem::NuGet, "Newtonsoft.Json", "13.0.1"),
            "pkg:nuget/Newtonsoft.Json@13.0.1"
        );
    }

    #[test]
    fn os_packages_have_a_distro_namespace() {
        assert_eq!(
            p(Ecosystem::Debian, "openssl", "1:3.0.11-1~deb12u2"),
            "pkg:deb/debian/openssl@1:3.0.11-1~deb12u2"
        );
        assert_eq!(
            p(Ecosystem::Alpine, "musl", "1.2.4-r2"),
            "pkg:apk/alpine/musl@1.2.4-r2"
        );
    }

    #[test]
    fn hex_and_pub() {
        assert_eq!(
            p(Ecosystem::Hex, "Phoenix", "1.7.0"),
            "pkg:hex/phoenix@1.7.0"
        );
        assert_eq!(p(Ecosystem::Pub, "http", "1.2.0"), "pkg:pub/http@1.2.0");
    }

    #[test]
    fn missing_version_is_omitted() {
        assert_eq!(p(Ecosystem::PyPI, "six", ""), "pkg:pypi/six");
    }

    #[test]
    fn sources_become_qualifiers() {
        let mut git = pkg(Ecosystem::CratesIo, "my-fork", "0.1.0");
        git.source = Source::Git {
            url: "https://github.com/x/my-fork".into(),
            rev: Some("abc123".into()),
        };
        assert_eq!(
            purl(&git),
            "pkg:cargo/my-fork@0.1.0?vcs_url=git%2Bhttps://github.com/x/my-fork%40abc123"
        );
        let mut reg = pkg(Ecosystem::Npm, "@acme/lib", "2.0.0");
        reg.source = Source::OtherRegistry("https://npm.pkg.github.com/".into());
        assert_eq!(
            purl(&reg),
            "pkg:npm/%40acme/lib@2.0.0?repository_url=https://npm.pkg.github.com/"
        );
        let mut url = pkg(Ecosystem::Npm, "x", "1.0.0");
        url.source = Source::Url("https://cdn.example.com/x.tgz?a=b&c".into());
        assert_eq!(
            purl(&url),
            "pkg:npm/x@1.0.0?download_url=https://cdn.example.com/x.tgz%3Fa%3Db%26c"
        );
        let mut path = pkg(Ecosystem::Npm, "local", "1.0.0");
        path.source = Source::Path("../local".into());
        assert_eq!(purl(&path), "pkg:npm/local@1.0.0");
    }

    #[test]
    fn unsafe_characters_are_encoded() {
        assert_eq!(
            p(Ecosystem::NuGet, "a b#c?d", "1.0"),
            "pkg:nuget/a%20b%23c%3Fd@1.0"
        );
    }
}

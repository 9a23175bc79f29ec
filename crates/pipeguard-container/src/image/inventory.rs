//! What an image has installed, read from its final filesystem: OS packages
//! (dpkg, including distroless `status.d`, and apk), Python distributions
//! (`*.dist-info/METADATA`) and npm modules (`node_modules/*/package.json`),
//! as lockfile-like inputs for advisory matching and SBOMs. Distro
//! advisories name source packages, so OS packages are matched by source.

use pipeguard_lockfile::{Ecosystem, Found, Kind, Lockfile, Package, Source};

use super::{FsView, OsPackage, parse_apk_installed, parse_dpkg_status, parse_os_release};

/// The versions of stashed files that are in the final image.
pub fn final_versions(
    view: &FsView,
    stash: Vec<(String, usize, Vec<u8>)>,
) -> Vec<(String, Vec<u8>)> {
    stash
        .into_iter()
        .filter(|(p, layer, _)| !view.is_deleted_later(p, *layer))
        .map(|(p, _, c)| (p, c))
        .collect()
}

/// Whether a file of an image is one of the package databases or os-release.
pub fn is_package_db(path: &str) -> bool {
    path == "etc/os-release"
        || path == "usr/lib/os-release"
        || path == "var/lib/dpkg/status"
        || path.starts_with("var/lib/dpkg/status.d/")
        || path == "lib/apk/db/installed"
        || is_language_manifest(path)
}

/// Installed Python distributions (`…/x.dist-info/METADATA`) and npm
/// packages (`…/node_modules/[@scope/]name/package.json`).
pub fn is_language_manifest(path: &str) -> bool {
    if path.ends_with(".dist-info/METADATA") {
        return true;
    }
    let Some(rest) = path.strip_suffix("/package.json") else {
        return false;
    };
    let Some((_, after)) = rest.rsplit_once("node_modules/") else {
        return false;
    };
    // `name` or `@scope/name` directly under node_modules, not a file deeper inside.
    let parts: Vec<&str> = after.split('/').collect();
    matches!(parts.as_slice(), [n] if !n.is_empty())
        || matches!(parts.as_slice(), [s, n] if s.starts_with('@') && !n.is_empty())
}

/// Language packages installed in an image, as lockfile-like inputs.
pub fn language_packages(name: &str, stash: &[(String, Vec<u8>)]) -> Vec<Found> {
    let pkg = |eco, name: String, version: String| Package {
        ecosystem: eco,
        name,
        version,
        line: 0,
        source: Source::Registry,
        integrity: None,
        direct: true,
        dev: false,
        dependencies: Vec::new(),
    };
    let mut python = Vec::new();
    let mut npm = Vec::new();
    for (path, content) in stash {
        let text = String::from_utf8_lossy(content);
        if path.ends_with(".dist-info/METADATA") {
            // RFC 822-style headers, up to the first blank line.
            let field = |k: &str| {
                text.lines()
                    .take_while(|l| !l.is_empty())
                    .find_map(|l| l.strip_prefix(k).map(|v| v.trim().to_string()))
            };
            if let (Some(n), Some(v)) = (field("Name:"), field("Version:")) {
                python.push(pkg(Ecosystem::PyPI, n, v));
            }
        } else if is_language_manifest(path)
            && let Ok(v) = serde_json::from_str::<serde_json::Value>(&text)
            && let (Some(n), Some(ver)) = (v["name"].as_str(), v["version"].as_str())
        {
            npm.push(pkg(Ecosystem::Npm, n.to_string(), ver.to_string()));
        }
    }
    let mut found = Vec::new();
    for (kind, packages, what) in [
        (Kind::Requirements, python, "python packages"),
        (Kind::PackageLock, npm, "node_modules"),
    ] {
        if !packages.is_empty() {
            found.push(Found {
                path: format!("{name}//({what})"),
                lockfile: Lockfile {
                    kind,
                    packages,
                    has_graph: false,
                },
                release: None,
            });
        }
    }
    found
}

/// The OS packages of an image, from its package database files (read out
/// of the final layers), and the same as lockfile-like inputs for matching
/// and SBOMs: source packages, as distro advisories name them.
pub fn os_packages(name: &str, stash: &[(String, Vec<u8>)]) -> (Vec<OsPackage>, Vec<Found>) {
    let text_of = |p: &str| {
        stash
            .iter()
            .find(|(path, _)| path == p)
            .map(|(_, c)| String::from_utf8_lossy(c).into_owned())
    };
    let release = text_of("etc/os-release")
        .or_else(|| text_of("usr/lib/os-release"))
        .map(|t| parse_os_release(&t));
    let rel = release.as_ref().map(|r| r.release()).unwrap_or_default();
    let dpkg_eco = if release.as_ref().is_some_and(|r| r.id == "ubuntu") {
        "Ubuntu"
    } else {
        "Debian"
    };
    let mut packages: Vec<OsPackage> = Vec::new();
    for (path, content) in stash {
        let text = String::from_utf8_lossy(content);
        if path == "var/lib/dpkg/status" || path.starts_with("var/lib/dpkg/status.d/") {
            packages.extend(parse_dpkg_status(&text, dpkg_eco, &rel));
        } else if path == "lib/apk/db/installed" {
            packages.extend(parse_apk_installed(&text, &rel));
        }
    }
    let mut found = Vec::new();
    for (eco, kind, db_path) in [
        (Ecosystem::Debian, Kind::DpkgStatus, "var/lib/dpkg/status"),
        (
            Ecosystem::Alpine,
            Kind::ApkInstalled,
            "lib/apk/db/installed",
        ),
    ] {
        let pkgs: Vec<Package> = packages
            .iter()
            .filter(|p| Ecosystem::from_osv(&p.ecosystem) == Some(eco))
            .map(|p| Package {
                ecosystem: eco,
                name: p.source_name.clone(),
                version: p.source_version.clone(),
                line: 0,
                source: Source::Registry,
                integrity: None,
                direct: true,
                dev: false,
                dependencies: Vec::new(),
            })
            .collect();
        if !pkgs.is_empty() {
            found.push(Found {
                path: format!("{name}//{db_path}"),
                lockfile: Lockfile {
                    kind,
                    packages: pkgs,
                    has_graph: false,
                },
                release: Some(rel.clone()),
            });
        }
    }
    found.extend(language_packages(name, stash));
    (packages, found)
}

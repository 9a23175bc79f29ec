//! OS package databases: dpkg (Debian, Ubuntu, distroless) and apk
//! (Alpine), with the release from os-release, so installed packages can be
//! matched against advisories.

use super::view::{FileKind, read_files};
use super::{FsView, Image, ImageError, Limits};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OsPackage {
    /// "Debian", "Ubuntu" or "Alpine".
    pub ecosystem: String,
    /// VERSION_ID of os-release (VERSION_CODENAME when there is none, as
    /// on Debian testing), empty when unknown.
    pub release: String,
    pub name: String,
    pub version: String,
    /// Advisories name source packages: `Source:` in dpkg, `o:` in apk.
    pub source_name: String,
    pub source_version: String,
    pub architecture: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OsRelease {
    pub id: String,
    pub version_id: Option<String>,
    pub version_codename: Option<String>,
    pub pretty_name: Option<String>,
}

impl OsRelease {
    /// The release name advisories use.
    pub fn release(&self) -> String {
        self.version_id
            .clone()
            .or_else(|| self.version_codename.clone())
            .unwrap_or_default()
    }
}

/// Parses `/etc/os-release`: `KEY=value`, values optionally quoted.
pub fn parse_os_release(text: &str) -> OsRelease {
    let mut r = OsRelease::default();
    for line in text.lines() {
        let line = line.trim();
        if line.starts_with('#') {
            continue;
        }
        let Some((k, v)) = line.split_once('=') else {
            continue;
        };
        let v = v.trim();
        let v = v
            .strip_prefix('"')
            .and_then(|v| v.strip_suffix('"'))
            .or_else(|| v.strip_prefix('\'').and_then(|v| v.strip_suffix('\'')))
            .unwrap_or(v)
            .replace("\\\"", "\"");
        let some = |v: String| (!v.is_empty()).then_some(v);
        match k.trim() {
            "ID" => r.id = v,
            "VERSION_ID" => r.version_id = some(v),
            "VERSION_CODENAME" => r.version_codename = some(v),
            "PRETTY_NAME" => r.pretty_name = some(v),
            _ => {}
        }
    }
    r
}

/// Paragraphs of `Key: value` fields, continuation lines folded away (they
/// are only descriptions and file lists, which are not needed).
fn stanzas(text: &str) -> Vec<Vec<(&str, &str)>> {
    let mut out = Vec::new();
    let mut cur = Vec::new();
    for line in text.lines() {
        if line.trim().is_empty() {
            if !cur.is_empty() {
                out.push(std::mem::take(&mut cur));
            }
            continue;
        }
        if line.starts_with([' ', '\t']) {
            continue;
        }
        if let Some((k, v)) = line.split_once(':') {
            cur.push((k.trim(), v.trim()));
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// Parses a dpkg status file (or a distroless `status.d` file): only
/// packages whose status is installed; a stanza without `Status` counts as
/// installed, as distroless writes none.
pub fn parse_dpkg_status(text: &str, ecosystem: &str, release: &str) -> Vec<OsPackage> {
    let mut out = Vec::new();
    for s in stanzas(text) {
        let get = |key: &str| s.iter().find(|(k, _)| *k == key).map(|(_, v)| *v);
        let (Some(name), Some(version)) = (get("Package"), get("Version")) else {
            continue;
        };
        if let Some(status) = get("Status")
            && status.split_whitespace().last() != Some("installed")
        {
            continue;
        }
        let (source_name, source_version) = match get("Source") {
            Some(src) => match src.split_once('(') {
                Some((n, v)) => (n.trim(), v.trim_end_matches(')').trim()),
                None => (src, version),
            },
            None => (name, version),
        };
        out.push(OsPackage {
            ecosystem: ecosystem.to_string(),
            release: release.to_string(),
            name: name.to_string(),
            version: version.to_string(),
            source_name: source_name.to_string(),
            source_version: source_version.to_string(),
            architecture: get("Architecture").map(str::to_string),
        });
    }
    out
}

/// Parses Alpine's `/lib/apk/db/installed`.
pub fn parse_apk_installed(text: &str, release: &str) -> Vec<OsPackage> {
    let mut out = Vec::new();
    for block in text.split("\n\n") {
        let (mut name, mut version, mut origin, mut arch) = (None, None, None, None);
        for line in block.lines() {
            match line.split_once(':') {
                Some(("P", v)) => name = Some(v),
                Some(("V", v)) => version = Some(v),
                Some(("o", v)) => origin = Some(v),
                Some(("A", v)) => arch = Some(v),
                _ => {}
            }
        }
        let (Some(name), Some(version)) = (name, version) else {
            continue;
        };
        out.push(OsPackage {
            ecosystem: "Alpine".into(),
            release: release.to_string(),
            name: name.to_string(),
            version: version.to_string(),
            source_name: origin.unwrap_or(name).to_string(),
            source_version: version.to_string(),
            architecture: arch.map(str::to_string),
        });
    }
    out
}

const OS_RELEASE: [&str; 2] = ["etc/os-release", "usr/lib/os-release"];
const DPKG_STATUS: &str = "var/lib/dpkg/status";
const DPKG_STATUS_D: &str = "var/lib/dpkg/status.d/";
const APK_INSTALLED: &str = "lib/apk/db/installed";

pub(crate) fn collect(
    image: &Image,
    view: &FsView,
    limits: &Limits,
) -> (Option<OsRelease>, Vec<OsPackage>, Vec<ImageError>) {
    let mut wanted: Vec<&str> = vec![OS_RELEASE[0], OS_RELEASE[1], DPKG_STATUS, APK_INSTALLED];
    // Distroless writes one file per package, plus checksum lists.
    let status_d: Vec<&str> = view
        .files
        .iter()
        .filter(|(p, e)| {
            p.starts_with(DPKG_STATUS_D)
                && e.kind == FileKind::File
                && !p.ends_with(".md5sums")
                && !p[DPKG_STATUS_D.len()..].contains('/')
        })
        .map(|(p, _)| p.as_str())
        .collect();
    wanted.extend(&status_d);
    let (files, errors) = read_files(image, view, &wanted, limits);
    let text = |p: &str| {
        files
            .iter()
            .find(|(k, _)| k == p)
            .map(|(_, b)| String::from_utf8_lossy(b).into_owned())
    };
    let release = text(OS_RELEASE[0])
        .or_else(|| text(OS_RELEASE[1]))
        .map(|t| parse_os_release(&t));
    let rel = release.as_ref().map(OsRelease::release).unwrap_or_default();
    let dpkg_ecosystem = match release.as_ref().map(|r| r.id.as_str()) {
        Some("ubuntu") => "Ubuntu",
        _ => "Debian",
    };
    let mut packages = Vec::new();
    if let Some(t) = text(DPKG_STATUS) {
        packages.extend(parse_dpkg_status(&t, dpkg_ecosystem, &rel));
    }
    for p in &status_d {
        if let Some(t) = text(p) {
            packages.extend(parse_dpkg_status(&t, dpkg_ecosystem, &rel));
        }
    }
    if let Some(t) = text(APK_INSTALLED) {
        packages.extend(parse_apk_installed(&t, &rel));
    }
    packages.sort_by(|a, b| (&a.name, &a.version).cmp(&(&b.name, &b.version)));
    packages.dedup();
    (release, packages, errors)
}

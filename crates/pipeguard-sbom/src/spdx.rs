//! SPDX 2.3 JSON (<https://spdx.github.io/spdx-spec/v2.3/>).

use std::collections::{BTreeMap, BTreeSet};

use pipeguard_lockfile::{Found, Source};
use serde_json::{Value, json};

use crate::purl::git_locator;
use crate::{Component, Inventory, Subject, TOOL_VERSION, content_uuid, now, rfc3339};

const NOASSERTION: &str = "NOASSERTION";

/// An SPDX 2.3 document for the subject and the lockfiles found in it,
/// created now (or at `SOURCE_DATE_EPOCH`).
pub fn spdx(subject: &Subject, found: &[Found]) -> Value {
    spdx_at(subject, found, now())
}

/// [`spdx`] with an explicit creation time.
pub fn spdx_at(subject: &Subject, found: &[Found], created: jiff::Timestamp) -> Value {
    let inv = Inventory::build(found);
    let mut ids = Ids::default();
    let subject_id = ids.assign(&format!("SPDXRef-Subject-{}", sanitize(&subject.name)));
    // Components in purl order, so the suffixes that keep ids unique are
    // assigned deterministically.
    let component_ids: BTreeMap<&str, String> = inv
        .components
        .values()
        .map(|c| {
            let base = if c.version.is_empty() {
                format!("{}-{}", c.ecosystem.purl_type(), c.name)
            } else {
                format!("{}-{}-{}", c.ecosystem.purl_type(), c.name, c.version)
            };
            let id = ids.assign(&format!("SPDXRef-Package-{}", sanitize(&base)));
            (c.purl.as_str(), id)
        })
        .collect();

    let mut subject_pkg = json!({
        "SPDXID": subject_id,
        "name": subject.name,
        "downloadLocation": NOASSERTION,
        "filesAnalyzed": false,
        "licenseConcluded": NOASSERTION,
        "licenseDeclared": NOASSERTION,
        "copyrightText": NOASSERTION,
        "primaryPackagePurpose": "APPLICATION",
    });
    if let Some(v) = &subject.version {
        subject_pkg["versionInfo"] = json!(v);
    }
    let mut packages = vec![subject_pkg];
    packages.extend(
        inv.components
            .values()
            .filter_map(|c| component_ids.get(c.purl.as_str()).map(|id| package(c, id))),
    );

    let mut relationships = vec![relationship("SPDXRef-DOCUMENT", "DESCRIBES", &subject_id)];
    for purl in &inv.direct {
        let (Some(id), Some(c)) = (component_ids.get(purl.as_str()), inv.components.get(purl))
        else {
            continue;
        };
        relationships.push(if c.dev {
            relationship(id, "DEV_DEPENDENCY_OF", &subject_id)
        } else {
            relationship(&subject_id, "DEPENDS_ON", id)
        });
    }
    for c in inv.components.values() {
        let Some(from) = component_ids.get(c.purl.as_str()) else {
            continue;
        };
        for dep in c.depends_on.iter().flatten() {
            if let Some(to) = component_ids.get(dep.as_str()) {
                relationships.push(relationship(from, "DEPENDS_ON", to));
            }
        }
    }

    let mut doc = json!({
        "spdxVersion": "SPDX-2.3",
        "dataLicense": "CC0-1.0",
        "SPDXID": "SPDXRef-DOCUMENT",
        "name": subject.name,
        "creationInfo": {
            "creators": [format!("Tool: pipeguard-{TOOL_VERSION}")],
        },
        "packages": packages,
        "relationships": relationships,
    });
    // The namespace must be unique per document content (SPDX 2.3 §6.5);
    // hashing the content without the time makes it so, reproducibly.
    let uuid = content_uuid("spdx", &doc);
    doc["documentNamespace"] = json!(format!(
        "https://pipeguard.invalid/spdx/{}-{uuid}",
        url_segment(&subject.name)
    ));
    doc["creationInfo"]["created"] = json!(rfc3339(created));
    doc
}

fn package(c: &Component, id: &str) -> Value {
    let mut v = json!({
        "SPDXID": id,
        "name": c.name,
        "downloadLocation": download_location(&c.source),
        "filesAnalyzed": false,
        "licenseConcluded": NOASSERTION,
        "licenseDeclared": NOASSERTION,
        "copyrightText": NOASSERTION,
        "primaryPackagePurpose": "LIBRARY",
        "externalRefs": [{
            "referenceCategory": "PACKAGE-MANAGER",
            "referenceType": "purl",
            "referenceLocator": c.purl,
        }],
    });
    if !c.version.is_empty() {
        v["versionInfo"] = json!(c.version);
    }
    if !c.hashes.is_empty() {
        v["checksums"] = c
            .hashes
            .iter()
            .map(|h| json!({ "algorithm": h.algorithm.spdx_name(), "checksumValue": h.hex }))
            .collect();
    }
    let mut comment = String::from("Locked in: ");
    comment.push_str(&c.lockfiles.iter().cloned().collect::<Vec<_>>().join(", "));
    v["comment"] = json!(comment);
    v
}

/// Where the package can be fetched, when the lockfile says so directly; a
/// registry download URL would be a guess at the registry's layout.
fn download_location(source: &Source) -> String {
    match source {
        Source::Git { .. } => git_locator(source).unwrap_or_else(|| NOASSERTION.into()),
        Source::Url(url) => url.clone(),
        Source::Registry | Source::OtherRegistry(_) | Source::Path(_) => NOASSERTION.into(),
    }
}

fn relationship(from: &str, kind: &str, to: &str) -> Value {
    json!({
        "spdxElementId": from,
        "relationshipType": kind,
        "relatedSpdxElement": to,
    })
}

/// SPDX ids allow letters, digits, `.` and `-` only.
fn sanitize(s: &str) -> String {
    let out: String = s
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                c
            } else {
                '-'
            }
        })
        .collect();
    if out.is_empty() {
        "unnamed".into()
    } else {
        out
    }
}

/// The subject's name as one URL path segment.
fn url_segment(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Hands out SPDX ids, suffixing `-2`, `-3`… when sanitizing made two equal
/// (`@a/b` and `a-b` both become `-a-b`).
#[derive(Default)]
struct Ids(BTreeSet<String>);

impl Ids {
    fn assign(&mut self, base: &str) -> String {
        let mut id = base.to_string();
        let mut n = 2;
        while !self.0.insert(id.clone()) {
            id = format!("{base}-{n}");
            n += 1;
        }
        id
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_sanitized_and_unique() {
        let mut ids = Ids::default();
        let a = ids.assign(&format!("SPDXRef-Package-{}", sanitize("npm-@a/b-1.0")));
        let b = ids.assign(&format!("SPDXRef-Package-{}", sanitize("npm--a-b-1.0")));
        assert_eq!(a, "SPDXRef-Package-npm--a-b-1.0");
        assert_eq!(b, "SPDXRef-Package-npm--a-b-1.0-2");
        assert_eq!(sanitize(""), "unnamed");
        assert_eq!(sanitize("a_b:c+d"), "a-b-c-d");
    }

    #[test]
    fn git_sources_are_spdx_vcs_locations() {
        let git = Source::Git {
            url: "https://github.com/x/y".into(),
            rev: Some("abc".into()),
        };
        assert_eq!(download_location(&git), "git+https://github.com/x/y@abc");
        assert_eq!(download_location(&Source::Registry), NOASSERTION);
    }
}

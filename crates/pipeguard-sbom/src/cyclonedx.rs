//! CycloneDX 1.6 JSON (<https://cyclonedx.org/docs/1.6/json/>).

use pipeguard_lockfile::Found;
use serde_json::{Value, json};

use crate::{Component, Inventory, Subject, TOOL_VERSION, content_uuid, now, rfc3339};

/// A CycloneDX 1.6 document for the subject and the lockfiles found in it,
/// timestamped now (or at `SOURCE_DATE_EPOCH`).
pub fn cyclonedx(subject: &Subject, found: &[Found]) -> Value {
    cyclonedx_at(subject, found, now())
}

/// [`cyclonedx`] with an explicit creation time.
pub fn cyclonedx_at(subject: &Subject, found: &[Found], created: jiff::Timestamp) -> Value {
    let inv = Inventory::build(found);
    let subject_ref = subject_ref(subject);

    let mut subject_component = json!({
        "type": "application",
        "bom-ref": subject_ref,
        "name": subject.name,
    });
    if let Some(v) = &subject.version {
        subject_component["version"] = json!(v);
    }

    let components: Vec<Value> = inv.components.values().map(component).collect();

    // The subject first, then every component whose graph is known. A
    // component without an entry has unknown dependencies, which the spec
    // distinguishes from an entry with an empty `dependsOn`.
    let mut dependencies = vec![json!({
        "ref": subject_ref,
        "dependsOn": inv.direct.iter().collect::<Vec<_>>(),
    })];
    dependencies.extend(inv.components.values().filter_map(|c| {
        c.depends_on.as_ref().map(|deps| {
            json!({
                "ref": c.purl,
                "dependsOn": deps.iter().collect::<Vec<_>>(),
            })
        })
    }));

    let mut doc = json!({
        "bomFormat": "CycloneDX",
        "specVersion": "1.6",
        "version": 1,
        "metadata": {
            // Lockfiles describe what will be installed, before any build.
            "lifecycles": [{ "phase": "pre-build" }],
            "tools": {
                "components": [{
                    "type": "application",
                    "name": "pipeguard",
                    "version": TOOL_VERSION,
                }]
            },
            "component": subject_component,
        },
        "components": components,
        "dependencies": dependencies,
    });
    // The serial number hashes everything but the time, so regenerating the
    // SBOM of unchanged lockfiles keeps its identity.
    doc["serialNumber"] = json!(format!("urn:uuid:{}", content_uuid("cyclonedx", &doc)));
    doc["metadata"]["timestamp"] = json!(rfc3339(created));
    doc
}

/// The subject's bom-ref. Component refs are purls (`pkg:…`), so a prefix
/// that is not `pkg:` keeps the two from ever colliding.
fn subject_ref(subject: &Subject) -> String {
    match &subject.version {
        Some(v) => format!("subject:{}@{v}", subject.name),
        None => format!("subject:{}", subject.name),
    }
}

fn component(c: &Component) -> Value {
    let mut v = json!({
        "type": "library",
        "bom-ref": c.purl,
        "name": c.name,
        "purl": c.purl,
    });
    if !c.version.is_empty() {
        v["version"] = json!(c.version);
    }
    if c.dev {
        // Needed to develop or test the project, not to run it.
        v["scope"] = json!("optional");
    }
    if !c.hashes.is_empty() {
        v["hashes"] = c
            .hashes
            .iter()
            .map(|h| json!({ "alg": h.algorithm.cyclonedx_name(), "content": h.hex }))
            .collect();
    }
    let mut properties: Vec<Value> = vec![json!({
        "name": "pipeguard:ecosystem",
        "value": c.ecosystem.osv_name(),
    })];
    properties.extend(
        c.lockfiles
            .iter()
            .map(|p| json!({ "name": "pipeguard:lockfile", "value": p })),
    );
    v["properties"] = Value::Array(properties);
    v
}

//! SBOMs generated from the lockfile fixtures of pipeguard-lockfile, validated
//! against the published CycloneDX 1.6 and SPDX 2.3 JSON schemas (copied into
//! tests/data so the tests need no network), plus the facts the schemas
//! cannot check: purls, graph edges, scopes and converted hashes.

use std::collections::{BTreeSet, HashSet};
use std::path::{Path, PathBuf};

use jsonschema::{Retrieve, Uri, Validator};
use pipeguard_lockfile::Found;
use pipeguard_sbom::{Subject, cyclonedx_at, spdx_at};
use serde_json::{Value, json};

fn data(name: &str) -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name);
    let text = std::fs::read_to_string(&path).expect("read schema");
    serde_json::from_str(&text).expect("parse schema")
}

/// Serves the two files the CycloneDX schema references, from tests/data,
/// and refuses everything else so nothing is silently left unresolved.
struct LocalSchemas;

impl Retrieve for LocalSchemas {
    fn retrieve(
        &self,
        uri: &Uri<String>,
    ) -> Result<Value, Box<dyn std::error::Error + Send + Sync>> {
        match uri.as_str() {
            "http://cyclonedx.org/schema/cyclonedx-spdx.schema.json" => {
                Ok(data("cyclonedx-spdx.schema.json"))
            }
            "http://cyclonedx.org/schema/cyclonedx-jsf-0.82.schema.json" => {
                Ok(data("cyclonedx-jsf-0.82.schema.json"))
            }
            other => Err(format!("no local copy of {other}").into()),
        }
    }
}

fn cyclonedx_validator() -> Validator {
    jsonschema::options()
        .with_retriever(LocalSchemas)
        .should_validate_formats(true)
        .build(&data("cyclonedx-bom-1.6.schema.json"))
        .expect("compile CycloneDX schema")
}

fn spdx_validator() -> Validator {
    jsonschema::options()
        .with_retriever(LocalSchemas)
        .should_validate_formats(true)
        .build(&data("spdx-2.3.schema.json"))
        .expect("compile SPDX schema")
}

fn errors(v: &Validator, doc: &Value) -> Vec<String> {
    v.iter_errors(doc)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect()
}

fn fixture(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../pipeguard-lockfile/tests/fixtures")
        .join(rel)
}

/// A project holding one of every lockfile format pipeguard parses, parsed
/// as `pipeguard deps` would: each under the path it is reported by, in
/// the order discovery finds them.
fn project() -> Vec<Found> {
    let mut files = [
        ("cargo/v3/Cargo.lock", "rust/Cargo.lock"),
        ("cargo/v1/Cargo.lock", "rust-old/Cargo.lock"),
        ("npm/v3/package-lock.json", "web/package-lock.json"),
        ("npm/v1/npm-shrinkwrap.json", "web-old/npm-shrinkwrap.json"),
        ("yarn/classic/yarn.lock", "yarn-classic/yarn.lock"),
        ("yarn/berry/yarn.lock", "yarn-berry/yarn.lock"),
        ("pnpm/v9/pnpm-lock.yaml", "pnpm/pnpm-lock.yaml"),
        ("requirements/requirements.txt", "py/requirements.txt"),
        (
            "requirements/requirements-edge.txt",
            "py-edge/requirements.txt",
        ),
        ("poetry/poetry-2.lock", "poetry/poetry.lock"),
        ("pipenv/Pipfile.lock", "pipenv/Pipfile.lock"),
        ("uv/uv.lock", "uv/uv.lock"),
        ("go/go.mod", "go/go.mod"),
        ("bundler/Gemfile.lock", "ruby/Gemfile.lock"),
        ("composer/composer.lock", "php/composer.lock"),
        ("gradle/gradle.lockfile", "gradle/gradle.lockfile"),
        ("maven/pom.xml", "maven/pom.xml"),
        ("nuget/packages.lock.json", "dotnet/packages.lock.json"),
    ];
    files.sort_by(|a, b| Path::new(a.1).cmp(Path::new(b.1)));
    let found: Vec<Found> = files
        .iter()
        .map(|(from, to)| {
            let bytes = std::fs::read(fixture(from)).unwrap_or_else(|e| panic!("{from}: {e}"));
            Found::parse(to, &bytes)
                .unwrap_or_else(|| panic!("{to} is not detected as a lockfile"))
                .unwrap_or_else(|e| panic!("{from} should parse: {e}"))
        })
        .collect();
    assert_eq!(found.len(), files.len());
    found
}

fn subject() -> Subject {
    Subject {
        name: "fixture-project".into(),
        version: Some("1.0.0".into()),
    }
}

fn when() -> jiff::Timestamp {
    "2026-01-02T03:04:05Z".parse().expect("timestamp")
}

fn component<'a>(bom: &'a Value, purl: &str) -> &'a Value {
    bom["components"]
        .as_array()
        .expect("components")
        .iter()
        .find(|c| c["purl"] == purl)
        .unwrap_or_else(|| panic!("no component {purl}"))
}

fn depends_on<'a>(bom: &'a Value, r: &str) -> Vec<&'a str> {
    bom["dependencies"]
        .as_array()
        .expect("dependencies")
        .iter()
        .find(|d| d["ref"] == r)
        .unwrap_or_else(|| panic!("no dependency entry for {r}"))["dependsOn"]
        .as_array()
        .expect("dependsOn")
        .iter()
        .filter_map(Value::as_str)
        .collect()
}

#[test]
fn cyclonedx_is_valid_against_the_1_6_schema() {
    let found = project();
    let bom = cyclonedx_at(&subject(), &found, when());
    let errs = errors(&cyclonedx_validator(), &bom);
    assert!(
        errs.is_empty(),
        "CycloneDX schema errors:\n{}",
        errs.join("\n")
    );
    assert!(
        bom["components"].as_array().expect("components").len() > 50,
        "every fixture contributes components"
    );
}

#[test]
fn cyclonedx_validator_rejects_broken_documents() {
    let found = project();
    let v = cyclonedx_validator();
    let good = cyclonedx_at(&subject(), &found, when());

    let mut no_format = good.clone();
    no_format
        .as_object_mut()
        .expect("object")
        .remove("bomFormat");
    assert!(!errors(&v, &no_format).is_empty());

    let mut bad_hash = good.clone();
    bad_hash["components"][0]["hashes"] = json!([{ "alg": "SHA-256", "content": "xyz" }]);
    assert!(!errors(&v, &bad_hash).is_empty());

    let mut bad_serial = good.clone();
    bad_serial["serialNumber"] = json!("not-a-urn");
    assert!(!errors(&v, &bad_serial).is_empty());

    // Only rejected if the $ref to the local SPDX license list resolved.
    let mut bad_license = good.clone();
    bad_license["components"][0]["licenses"] = json!([{ "license": { "id": "NOT-A-LICENSE" } }]);
    assert!(!errors(&v, &bad_license).is_empty());
    let mut good_license = good;
    good_license["components"][0]["licenses"] = json!([{ "license": { "id": "MIT" } }]);
    assert!(errors(&v, &good_license).is_empty());
}

#[test]
fn cyclonedx_header_and_identity() {
    let found = project();
    let bom = cyclonedx_at(&subject(), &found, when());
    assert_eq!(bom["bomFormat"], "CycloneDX");
    assert_eq!(bom["specVersion"], "1.6");
    assert_eq!(bom["version"], 1);
    assert_eq!(bom["metadata"]["timestamp"], "2026-01-02T03:04:05Z");
    let tool = &bom["metadata"]["tools"]["components"][0];
    assert_eq!(tool["name"], "pipeguard");
    assert_eq!(tool["type"], "application");
    assert_eq!(tool["version"], env!("CARGO_PKG_VERSION"));
    let meta = &bom["metadata"]["component"];
    assert_eq!(meta["type"], "application");
    assert_eq!(meta["name"], "fixture-project");
    assert_eq!(meta["version"], "1.0.0");

    // Same content, another time: the same serial number; other content: not.
    let serial = bom["serialNumber"].as_str().expect("serial");
    assert!(serial.starts_with("urn:uuid:"));
    assert_eq!(serial.as_bytes()[23], b'5', "version 5 UUID: {serial}");
    let later = cyclonedx_at(
        &subject(),
        &found,
        "2027-01-01T00:00:00Z".parse().expect("ts"),
    );
    assert_eq!(later["serialNumber"], serial);
    let other = cyclonedx_at(&subject(), &found[..1], when());
    assert_ne!(other["serialNumber"], serial);
}

#[test]
fn cyclonedx_components_are_sorted_unique_and_referenced() {
    let found = project();
    let bom = cyclonedx_at(&subject(), &found, when());
    let comps = bom["components"].as_array().expect("components");
    let purls: Vec<&str> = comps
        .iter()
        .map(|c| c["purl"].as_str().expect("purl"))
        .collect();
    let mut sorted = purls.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(purls, sorted, "sorted by purl, no duplicates");
    for c in comps {
        assert_eq!(c["bom-ref"], c["purl"]);
        assert_eq!(c["type"], "library");
    }
    let mut refs: HashSet<&str> = purls.iter().copied().collect();
    let subject_ref = bom["metadata"]["component"]["bom-ref"]
        .as_str()
        .expect("subject ref");
    refs.insert(subject_ref);
    for d in bom["dependencies"].as_array().expect("dependencies") {
        let r = d["ref"].as_str().expect("ref");
        assert!(refs.contains(r), "dangling ref {r}");
        for t in d["dependsOn"].as_array().expect("dependsOn") {
            assert!(
                refs.contains(t.as_str().expect("str")),
                "dangling dependsOn {t}"
            );
        }
    }
}

#[test]
fn cyclonedx_facts_from_the_fixtures() {
    let found = project();
    let bom = cyclonedx_at(&subject(), &found, when());

    // Cargo: purl, checksum as SHA-256, the lockfile path, a graph edge.
    let serde = component(&bom, "pkg:cargo/serde@1.0.193");
    assert_eq!(serde["name"], "serde");
    assert_eq!(serde["version"], "1.0.193");
    assert_eq!(
        serde["hashes"],
        json!([{
            "alg": "SHA-256",
            "content": "25dd9975e68d0cb5aa1120c288333fc98731bd1dd12f561e468ea4728c042b89"
        }])
    );
    assert!(
        serde["properties"]
            .as_array()
            .expect("properties")
            .contains(&json!({ "name": "pipeguard:lockfile", "value": "rust/Cargo.lock" }))
    );
    assert_eq!(
        depends_on(&bom, "pkg:cargo/serde@1.0.193"),
        ["pkg:cargo/serde_derive@1.0.193"]
    );
    // A git dependency keeps its origin in the purl.
    component(
        &bom,
        "pkg:cargo/my-fork@0.3.0?vcs_url=git%2Bhttps://github.com/example/my-fork%402f3b8c9d0e1a4b5c6d7e8f9a0b1c2d3e4f5a6b7c",
    );

    // npm: SRI sha512 base64 converted to hex.
    let express = component(&bom, "pkg:npm/express@4.18.2");
    assert_eq!(
        express["hashes"],
        json!([{
            "alg": "SHA-512",
            "content": "e7f3ec2fa8863dd7d0fe528cd54ba27a5620bf7054a097f3d5a53053dbc767e27b832bf07505c510120421ac5e19fd0621cade013372044c6d6a58ac0dbb8ca9"
        }])
    );
    assert!(express.get("scope").is_none());
    // The nested copy of debug is the one express resolves to.
    assert!(depends_on(&bom, "pkg:npm/express@4.18.2").contains(&"pkg:npm/debug@4.3.4"));
    // A dev-only package is optional at runtime.
    assert_eq!(
        component(&bom, "pkg:npm/typescript@5.3.3")["scope"],
        "optional"
    );
    component(&bom, "pkg:npm/%40babel/code-frame@7.23.5");

    // PyPI from requirements.txt (no graph): the project depends on it, and
    // it has no dependency entry of its own (its graph is unknown).
    component(&bom, "pkg:pypi/certifi@2024.2.2");
    let subject_ref = bom["metadata"]["component"]["bom-ref"]
        .as_str()
        .expect("subject ref");
    let direct = depends_on(&bom, subject_ref);
    assert!(direct.contains(&"pkg:pypi/certifi@2024.2.2"));
    assert!(direct.contains(&"pkg:npm/express@4.18.2"));
    assert!(direct.contains(&"pkg:cargo/serde@1.0.193"));
    // serde_derive is only a transitive dependency.
    assert!(!direct.contains(&"pkg:cargo/serde_derive@1.0.193"));

    // The other ecosystems are there too.
    let types: BTreeSet<&str> = bom["components"]
        .as_array()
        .expect("components")
        .iter()
        .filter_map(|c| c["purl"].as_str())
        .filter_map(|p| p.strip_prefix("pkg:")?.split('/').next())
        .collect();
    for t in [
        "cargo", "npm", "pypi", "golang", "gem", "composer", "maven", "nuget",
    ] {
        assert!(types.contains(t), "no {t} component in {types:?}");
    }
}

#[test]
fn spdx_is_valid_against_the_2_3_schema() {
    let found = project();
    let doc = spdx_at(&subject(), &found, when());
    let errs = errors(&spdx_validator(), &doc);
    assert!(errs.is_empty(), "SPDX schema errors:\n{}", errs.join("\n"));
}

#[test]
fn spdx_validator_rejects_broken_documents() {
    let found = project();
    let v = spdx_validator();
    let good = spdx_at(&subject(), &found, when());

    let mut no_version = good.clone();
    no_version
        .as_object_mut()
        .expect("object")
        .remove("spdxVersion");
    assert!(!errors(&v, &no_version).is_empty());

    let mut bad_relationship = good.clone();
    bad_relationship["relationships"][0]["relationshipType"] = json!("LIKES");
    assert!(!errors(&v, &bad_relationship).is_empty());

    let mut bad_checksum = good;
    bad_checksum["packages"][1]["checksums"] =
        json!([{ "algorithm": "SHA-256", "checksumValue": "00" }]);
    assert!(!errors(&v, &bad_checksum).is_empty());
}

#[test]
fn spdx_facts_from_the_fixtures() {
    let found = project();
    let doc = spdx_at(&subject(), &found, when());
    assert_eq!(doc["spdxVersion"], "SPDX-2.3");
    assert_eq!(doc["dataLicense"], "CC0-1.0");
    assert_eq!(doc["SPDXID"], "SPDXRef-DOCUMENT");
    assert_eq!(doc["name"], "fixture-project");
    assert_eq!(doc["creationInfo"]["created"], "2026-01-02T03:04:05Z");
    assert_eq!(
        doc["creationInfo"]["creators"],
        json!([format!("Tool: pipeguard-{}", env!("CARGO_PKG_VERSION"))])
    );
    let ns = doc["documentNamespace"].as_str().expect("namespace");
    assert!(
        ns.starts_with("https://pipeguard.invalid/spdx/fixture-project-"),
        "{ns}"
    );
    let later = spdx_at(
        &subject(),
        &found,
        "2027-01-01T00:00:00Z".parse().expect("ts"),
    );
    assert_eq!(later["documentNamespace"], ns, "namespace ignores the time");

    let packages = doc["packages"].as_array().expect("packages");
    let ids: Vec<&str> = packages
        .iter()
        .map(|p| p["SPDXID"].as_str().expect("SPDXID"))
        .collect();
    let unique: HashSet<&str> = ids.iter().copied().collect();
    assert_eq!(unique.len(), ids.len(), "SPDXIDs are unique");
    for id in &ids {
        let rest = id.strip_prefix("SPDXRef-").expect("SPDXRef- prefix");
        assert!(
            !rest.is_empty()
                && rest
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-'),
            "bad SPDXID {id}"
        );
    }
    for p in packages {
        assert_eq!(p["filesAnalyzed"], false);
        assert_eq!(p["licenseConcluded"], "NOASSERTION");
        assert_eq!(p["copyrightText"], "NOASSERTION");
        assert!(p["downloadLocation"].is_string());
    }

    let by_purl = |purl: &str| -> &Value {
        packages
            .iter()
            .find(|p| p["externalRefs"][0]["referenceLocator"] == purl)
            .unwrap_or_else(|| panic!("no package {purl}"))
    };
    let id_of = |purl: &str| by_purl(purl)["SPDXID"].as_str().expect("id").to_string();

    let express = by_purl("pkg:npm/express@4.18.2");
    assert_eq!(
        express["externalRefs"][0]["referenceCategory"],
        "PACKAGE-MANAGER"
    );
    assert_eq!(express["externalRefs"][0]["referenceType"], "purl");
    assert_eq!(express["versionInfo"], "4.18.2");
    assert_eq!(
        express["checksums"],
        json!([{
            "algorithm": "SHA512",
            "checksumValue": "e7f3ec2fa8863dd7d0fe528cd54ba27a5620bf7054a097f3d5a53053dbc767e27b832bf07505c510120421ac5e19fd0621cade013372044c6d6a58ac0dbb8ca9"
        }])
    );
    assert_eq!(
        id_of("pkg:cargo/serde@1.0.193"),
        "SPDXRef-Package-cargo-serde-1.0.193"
    );
    let fork = by_purl(
        "pkg:cargo/my-fork@0.3.0?vcs_url=git%2Bhttps://github.com/example/my-fork%402f3b8c9d0e1a4b5c6d7e8f9a0b1c2d3e4f5a6b7c",
    );
    assert_eq!(
        fork["downloadLocation"],
        "git+https://github.com/example/my-fork@2f3b8c9d0e1a4b5c6d7e8f9a0b1c2d3e4f5a6b7c"
    );

    let rels: HashSet<(String, String, String)> = doc["relationships"]
        .as_array()
        .expect("relationships")
        .iter()
        .map(|r| {
            (
                r["spdxElementId"].as_str().expect("from").to_string(),
                r["relationshipType"].as_str().expect("type").to_string(),
                r["relatedSpdxElement"].as_str().expect("to").to_string(),
            )
        })
        .collect();
    let subject_id = ids[0].to_string();
    let has =
        |a: &str, t: &str, b: &str| rels.contains(&(a.to_string(), t.to_string(), b.to_string()));
    assert!(has("SPDXRef-DOCUMENT", "DESCRIBES", &subject_id));
    assert!(has(
        &subject_id,
        "DEPENDS_ON",
        &id_of("pkg:npm/express@4.18.2")
    ));
    assert!(has(
        &subject_id,
        "DEPENDS_ON",
        &id_of("pkg:pypi/certifi@2024.2.2")
    ));
    assert!(has(
        &id_of("pkg:cargo/serde@1.0.193"),
        "DEPENDS_ON",
        &id_of("pkg:cargo/serde_derive@1.0.193")
    ));
    assert!(has(
        &id_of("pkg:npm/typescript@5.3.3"),
        "DEV_DEPENDENCY_OF",
        &subject_id
    ));
    // Every relationship names declared elements.
    let mut declared: HashSet<&str> = unique;
    declared.insert("SPDXRef-DOCUMENT");
    for (a, _, b) in &rels {
        assert!(
            declared.contains(a.as_str()) && declared.contains(b.as_str()),
            "{a} -> {b}"
        );
    }
}

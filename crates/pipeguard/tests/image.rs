//! `pipeguard image` on an OCI image built by a real tool (umoci), with a
//! secret added in one layer and deleted in the next, a dpkg database that
//! locks a vulnerable openssl, shells, network tools and a setuid binary.

mod common;

use common::*;

#[test]
fn image_built_with_umoci_is_analyzed_layer_by_layer() {
    if !have("umoci") {
        eprintln!("umoci is not installed; .ci/run installs it");
        return;
    }
    let tmp = tempfile::tempdir().expect("tmp");
    let (layout_s, key) = build_umoci_image(tmp.path());
    let db = fixture_db(tmp.path());
    let name = format!("oci:{layout_s}:v2");
    let out = pipeguard()
        .args(["image", &name, "-f", "json", "--db"])
        .arg(&db)
        .assert()
        .code(1);
    let v = json(&out.get_output().stdout);
    assert_image_findings(
        &v,
        &String::from_utf8_lossy(&out.get_output().stdout),
        &key,
        &name,
    );

    // The image's SBOM lists its OS packages by source package.
    let out = pipeguard()
        .args(["sbom", &name, "-f", "cyclonedx"])
        .assert()
        .code(0);
    let bom = json(&out.get_output().stdout);
    let purls: Vec<&str> = bom["components"]
        .as_array()
        .expect("components")
        .iter()
        .filter_map(|c| c["purl"].as_str())
        .collect();
    assert!(
        purls
            .iter()
            .any(|p| p.starts_with("pkg:deb/debian/openssl@1.1.1k-1")),
        "{purls:?}"
    );
    assert!(
        purls.iter().any(|p| p.starts_with("pkg:deb/debian/curl@")),
        "{purls:?}"
    );
}

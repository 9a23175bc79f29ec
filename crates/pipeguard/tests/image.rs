//! `pipeguard image` on an OCI image built by a real tool (umoci), with a
//! secret added in one layer and deleted in the next, a dpkg database that
//! locks a vulnerable openssl, shells, network tools and a setuid binary.

mod common;

use std::path::Path;
use std::process::Command;

use common::*;

fn umoci(args: &[&str]) {
    let out = Command::new("umoci")
        .args(args)
        .output()
        .expect("run umoci");
    assert!(
        out.status.success(),
        "umoci {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

const DPKG_STATUS: &str = "Package: libssl1.1
Status: install ok installed
Priority: optional
Section: libs
Architecture: amd64
Source: openssl
Version: 1.1.1k-1
Description: Secure Sockets Layer toolkit - shared libraries

Package: curl
Status: install ok installed
Architecture: amd64
Version: 7.74.0-1.3+deb11u7
Description: command line tool for transferring data with URL syntax

Package: oldpkg
Status: deinstall ok config-files
Architecture: amd64
Version: 1.0-1
Description: removed, configuration left
";

#[test]
fn image_built_with_umoci_is_analyzed_layer_by_layer() {
    if Command::new("umoci").arg("--version").output().is_err() {
        eprintln!("umoci is not installed; .ci/run installs it");
        return;
    }
    let tmp = tempfile::tempdir().expect("tmp");
    let t = tmp.path();
    let layout = t.join("layout");
    let layout_s = layout.to_string_lossy().into_owned();
    umoci(&["init", "--layout", &layout_s]);
    umoci(&["new", "--image", &format!("{layout_s}:base")]);
    let b1 = t.join("b1");
    umoci(&[
        "unpack",
        "--image",
        &format!("{layout_s}:base"),
        &b1.to_string_lossy(),
    ]);
    let root = b1.join("rootfs");
    let key = age_key(21);
    write(
        &root,
        "etc/os-release",
        "ID=debian\nVERSION_ID=\"11\"\nVERSION_CODENAME=bullseye\n",
    );
    write(&root, "var/lib/dpkg/status", DPKG_STATUS);
    write(&root, "bin/sh", "#!fake shell\n");
    write(&root, "usr/bin/curl", "fake curl\n");
    write(&root, "usr/bin/passwd", "fake passwd\n");
    write(&root, "app/.env", format!("AGE_IDENTITY={key}\n"));
    let status = Command::new("chmod")
        .arg("4755")
        .arg(root.join("usr/bin/passwd"))
        .status()
        .expect("chmod");
    assert!(status.success());
    umoci(&[
        "repack",
        "--image",
        &format!("{layout_s}:v1"),
        &b1.to_string_lossy(),
    ]);
    // A second layer deletes the secret: it stays in the first layer.
    let b2 = t.join("b2");
    umoci(&[
        "unpack",
        "--image",
        &format!("{layout_s}:v1"),
        &b2.to_string_lossy(),
    ]);
    std::fs::remove_file(b2.join("rootfs/app/.env")).expect("rm");
    umoci(&[
        "repack",
        "--image",
        &format!("{layout_s}:v2"),
        &b2.to_string_lossy(),
    ]);

    let db = t.join("db");
    let fixtures =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../pipeguard-deps/tests/fixtures/osv");
    pipeguard()
        .args(["db", "update", "--from"])
        .arg(&fixtures)
        .arg("--db")
        .arg(&db)
        .assert()
        .code(0);

    let out = pipeguard()
        .args(["image", &format!("oci:{layout_s}:v2"), "-f", "json", "--db"])
        .arg(&db)
        .assert()
        .code(1);
    let v = json(&out.get_output().stdout);
    let text = String::from_utf8_lossy(&out.get_output().stdout).into_owned();
    assert!(!text.contains(&key), "the secret leaked into the report");
    let by_id = |id: &str| {
        v["findings"]
            .as_array()
            .expect("findings")
            .iter()
            .find(|f| f["rule_id"] == id)
            .cloned()
            .unwrap_or_else(|| panic!("no {id} in {v:#}"))
    };
    by_id("image-runs-as-root");
    assert_eq!(
        by_id("image-shell-present")["locations"][0]["path"],
        format!("oci:{layout_s}:v2//bin/sh")
    );
    by_id("image-network-tool-present");
    by_id("image-setuid-binary");
    let secret = by_id("age-secret-key");
    let path = secret["locations"][0]["path"].as_str().expect("path");
    assert!(
        path.ends_with("app/.env (layer 0, deleted later)"),
        "{path}"
    );
    // openssl 1.1.1k-1 (source of libssl1.1) is before DSA-4963-1's fix 1.1.1k-1+deb11u1.
    let ssl = by_id("CVE-2021-3711");
    assert_eq!(
        ssl["remediation"]["replacement"]
            .as_str()
            .map(|s| s.starts_with("1.1.1")),
        Some(true)
    );
    assert_eq!(
        v["summary"]["packages_scanned"], 2,
        "the deinstalled package is not counted"
    );
}

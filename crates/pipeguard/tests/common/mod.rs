//! Helpers for end-to-end tests of the real binary. Git repositories,
//! synthetic secrets and canaries come from `pipeguard-testkit`, shared
//! with the other crates' tests.
#![allow(dead_code, unused_imports)]

use std::path::Path;
use std::process::Command;

pub use pipeguard_testkit::git::GitRepo;
pub use pipeguard_testkit::secrets::{age_key, github_token, password};
pub use pipeguard_testkit::write;

pub fn pipeguard() -> assert_cmd::Command {
    let mut c = assert_cmd::Command::cargo_bin("pipeguard").expect("binary");
    // Tests never reach the internet: without a database a scan fails
    // closed instead of downloading one (tests/db_fetch.rs lifts this and
    // serves the fixture dumps on 127.0.0.1).
    c.env_remove("PIPEGUARD_CONFIG")
        .env_remove("PIPEGUARD_OSV_URL")
        .env("PIPEGUARD_OFFLINE", "1")
        .env("NO_COLOR", "1");
    c
}

pub fn json(out: &[u8]) -> serde_json::Value {
    serde_json::from_slice(out).expect("valid JSON report")
}

pub fn findings(v: &serde_json::Value) -> Vec<serde_json::Value> {
    v["findings"].as_array().cloned().unwrap_or_default()
}

/// Runs umoci, failing the test with its message.
pub fn umoci(args: &[&str]) {
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

pub fn have(tool: &str) -> bool {
    Command::new(tool).arg("--version").output().is_ok()
}

/// A dpkg database with a vulnerable openssl (source of libssl1.1), curl,
/// and a removed package that must not count.
pub const DPKG_STATUS: &str = "Package: libssl1.1
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

/// Builds a real two-layer OCI image with umoci in `t/layout`: Debian 11
/// files, a shell, curl, a setuid binary, and a secret added in layer 0 and
/// deleted in layer 1. Returns the layout path and the secret.
pub fn build_umoci_image(t: &Path) -> (String, String) {
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
    // A real Debian package, unpacked, with its genuine control record.
    let deb = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/debs/zlib1g_1.2.13.dfsg-1_amd64.deb");
    let x = Command::new("dpkg-deb")
        .arg("-x")
        .arg(&deb)
        .arg(&root)
        .status()
        .expect("dpkg-deb -x");
    assert!(x.success());
    let control = Command::new("dpkg-deb")
        .arg("-f")
        .arg(&deb)
        .output()
        .expect("dpkg-deb -f");
    let control = String::from_utf8_lossy(&control.stdout).replacen(
        '\n',
        "\nStatus: install ok installed\n",
        1,
    );
    write(
        &root,
        "var/lib/dpkg/status",
        format!("{DPKG_STATUS}\n{control}"),
    );
    write(&root, "bin/sh", "#!fake shell\n");
    write(&root, "usr/bin/curl", "fake curl\n");
    write(&root, "usr/bin/apt-get", "fake apt-get\n");
    write(&root, "usr/bin/passwd", "fake passwd\n");
    write(&root, "app/.env", format!("AGE_IDENTITY={key}\n"));
    // Language packages installed in the image: a Python distribution and an npm module.
    write(
        &root,
        "usr/lib/python3/dist-packages/requests-2.19.0.dist-info/METADATA",
        "Metadata-Version: 2.1\nName: requests\nVersion: 2.19.0\nSummary: Python HTTP for Humans.\n\nLong description with Version: 9.9\n",
    );
    write(
        &root,
        "app/node_modules/lodash/package.json",
        "{\"name\": \"lodash\", \"version\": \"4.17.4\"}\n",
    );
    write(
        &root,
        "app/node_modules/lodash/fp/package.json",
        "{\"name\": \"not-a-package\", \"version\": \"0.0.1\"}\n",
    );
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
    // A credential baked into the image config's environment.
    umoci(&[
        "config",
        "--image",
        &format!("{layout_s}:v2"),
        &format!("--config.env=DB_PASSWORD={}", &key[20..44]),
    ]);
    (layout_s, key)
}

/// The advisory fixtures imported into a fresh database under `t/db`.
pub fn fixture_db(t: &Path) -> std::path::PathBuf {
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
    db
}

/// Checks the findings `pipeguard image` must report for `build_umoci_image`.
pub fn assert_image_findings(v: &serde_json::Value, text: &str, key: &str, name: &str) {
    assert!(!text.contains(key), "the secret leaked into the report");
    // A vulnerable package's advisory ids are its finding's aliases.
    let by_id = |id: &str| {
        v["findings"]
            .as_array()
            .expect("findings")
            .iter()
            .find(|f| {
                f["rule_id"] == id
                    || f["aliases"]
                        .as_array()
                        .is_some_and(|a| a.iter().any(|x| x == id))
            })
            .cloned()
            .unwrap_or_else(|| panic!("no {id} in {v:#}"))
    };
    by_id("image-runs-as-root");
    assert_eq!(
        by_id("image-shell-present")["locations"][0]["path"],
        format!("{name}//bin/sh")
    );
    by_id("image-network-tool-present");
    by_id("image-package-manager-present");
    by_id("image-setuid-binary");
    let env = by_id("image-sensitive-env");
    assert!(
        env["message"]
            .as_str()
            .is_some_and(|m| m.contains("DB_PASSWORD")),
        "{env}"
    );
    assert!(
        !text.contains(&key[20..44]),
        "the config's secret leaked into the report"
    );
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
    // The real zlib1g 1:1.2.13 is newer than every Debian 11 zlib fix: not reported.
    assert!(
        !v["findings"]
            .as_array()
            .expect("f")
            .iter()
            .any(|f| f["message"]
                .as_str()
                .is_some_and(|m| m.starts_with("zlib "))),
        "{v:#}"
    );
    // Installed language packages are matched too.
    assert_eq!(
        by_id("CVE-2018-18074")["locations"][0]["path"],
        format!("{name}//(python packages)")
    );
    assert_eq!(
        by_id("CVE-2018-16487")["locations"][0]["path"],
        format!("{name}//(node_modules)")
    );
    assert_eq!(
        v["summary"]["packages_scanned"], 5,
        "three dpkg packages (not the deinstalled one), requests and lodash (not the nested package.json)"
    );
}

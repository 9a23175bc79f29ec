//! `pipeguard image REGISTRY/REPO:TAG`: the umoci-built image pushed with
//! skopeo to a real registry server (Debian's docker-registry) on 127.0.0.1,
//! pulled over the OCI distribution API and analyzed like the local layout.
#![cfg(feature = "registry")]

mod common;

use std::process::{Child, Command, Stdio};

use common::*;
use predicates::prelude::PredicateBooleanExt;

/// The registry process, stopped when the test ends however it ends.
struct Registry(Child);

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts docker-registry on a free loopback port with `extra` config.
fn start_registry(t: &std::path::Path, tag: &str, extra: &str) -> (Registry, u16) {
    let port = free_port();
    let config = t.join(format!("registry-{tag}.yml"));
    write(
        t,
        &format!("registry-{tag}.yml"),
        format!(
            "version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: {}\nhttp:\n  addr: 127.0.0.1:{port}\n{extra}",
            t.join(format!("data-{tag}")).display()
        ),
    );
    let child = Command::new("docker-registry")
        .arg("serve")
        .arg(&config)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start docker-registry");
    let registry = Registry(child);
    let up = (0..100).any(|_| {
        std::thread::sleep(std::time::Duration::from_millis(50));
        std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
    });
    assert!(up, "docker-registry did not start on port {port}");
    (registry, port)
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

#[test]
fn image_pulled_from_a_real_registry() {
    if !have("umoci")
        || !have("skopeo")
        || Command::new("docker-registry")
            .arg("--version")
            .output()
            .is_err()
    {
        eprintln!("umoci, skopeo or docker-registry missing; .ci/run installs them");
        return;
    }
    let tmp = tempfile::tempdir().expect("tmp");
    let t = tmp.path();
    let (layout_s, key) = build_umoci_image(t);
    let (_registry, port) = start_registry(t, "open", "");
    let target = format!("127.0.0.1:{port}/team/app:v2");
    let push = Command::new("skopeo")
        .args([
            "copy",
            "--dest-tls-verify=false",
            &format!("oci:{layout_s}:v2"),
            &format!("docker://{target}"),
        ])
        .output()
        .expect("run skopeo");
    assert!(
        push.status.success(),
        "skopeo: {}",
        String::from_utf8_lossy(&push.stderr)
    );

    let db = fixture_db(t);
    let out = pipeguard()
        .args(["image", &target, "--plain-http", "-f", "json", "--db"])
        .arg(&db)
        .assert()
        .code(1);
    let v = json(&out.get_output().stdout);
    assert_image_findings(
        &v,
        &String::from_utf8_lossy(&out.get_output().stdout),
        &key,
        &target,
    );

    // A tag that does not exist is a clear error naming it.
    pipeguard()
        .args([
            "image",
            &format!("127.0.0.1:{port}/team/app:nope"),
            "--plain-http",
        ])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("app:nope").or(predicates::str::contains("404")));

    // Basic authentication: a registry with an htpasswd file (bcrypt, made
    // with Python's crypt module), pushed to and pulled from with credentials.
    let hash = Command::new("python3")
        .args([
            "-W",
            "ignore",
            "-c",
            "import crypt; print(crypt.crypt('s3cret-pw', crypt.mksalt(crypt.METHOD_BLOWFISH)))",
        ])
        .output()
        .expect("python3");
    let hash = String::from_utf8_lossy(&hash.stdout).trim().to_string();
    assert!(hash.starts_with("$2"), "no bcrypt hash: {hash}");
    write(t, "htpasswd", format!("ci:{hash}\n"));
    let (_secured, port2) = start_registry(
        t,
        "auth",
        &format!(
            "auth:\n  htpasswd:\n    realm: pipeguard-test\n    path: {}\n",
            t.join("htpasswd").display()
        ),
    );
    let target2 = format!("127.0.0.1:{port2}/team/app:v2");
    let push = Command::new("skopeo")
        .args([
            "copy",
            "--dest-tls-verify=false",
            "--dest-creds",
            "ci:s3cret-pw",
            &format!("oci:{layout_s}:v2"),
            &format!("docker://{target2}"),
        ])
        .output()
        .expect("run skopeo");
    assert!(
        push.status.success(),
        "skopeo: {}",
        String::from_utf8_lossy(&push.stderr)
    );
    // Without credentials: a clear error that says which variables to set.
    pipeguard()
        .args(["image", &target2, "--plain-http"])
        .env_remove("PIPEGUARD_REGISTRY_USERNAME")
        .assert()
        .code(2)
        .stderr(predicates::str::contains("PIPEGUARD_REGISTRY_USERNAME"));
    let out = pipeguard()
        .args(["image", &target2, "--plain-http", "-f", "json", "--db"])
        .arg(&db)
        .env("PIPEGUARD_REGISTRY_USERNAME", "ci")
        .env("PIPEGUARD_REGISTRY_PASSWORD", "s3cret-pw")
        .assert()
        .code(1);
    let v = json(&out.get_output().stdout);
    let text = String::from_utf8_lossy(&out.get_output().stdout).into_owned();
    assert!(!text.contains("s3cret-pw"), "the registry password leaked");
    assert_image_findings(&v, &text, &key, &target2);
}

//! The advisory database arrives by itself (issue #17): `db update`
//! downloads OSV's per-ecosystem dumps, resumes a cut transfer, refuses a
//! corrupt zip without harming the database, says which ecosystems it
//! skipped and why; a first `scan` on a fresh machine downloads the
//! database, and with network forbidden fails closed with the how-to.
//!
//! A local mirror on 127.0.0.1 (tests/data/osv-server/serve.py, with Range
//! support) serves the fixture dumps; no other traffic.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use common::*;

/// The fixture dumps plus OSV's list of ecosystems, some of them ones
/// pipeguard cannot match (CRAN, GHC, Hackage).
const LISTED: &[&str] = &[
    "CRAN",
    "Debian",
    "GHC",
    "Go",
    "Hackage",
    "Maven",
    "Packagist",
    "PyPI",
    "RubyGems",
    "crates.io",
    "npm",
];

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../pipeguard-deps/tests/fixtures/osv")
}

struct Mirror {
    child: Child,
    url: String,
    root: PathBuf,
    log: PathBuf,
}

impl Drop for Mirror {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Mirror {
    /// Serves a copy of the fixture dumps from `t/srv`; `cut` names a path
    /// whose first transfer stops halfway.
    fn start(t: &Path, cut: Option<&str>) -> Mirror {
        let root = t.join("srv");
        for eco in LISTED {
            let zip = fixtures().join(eco).join("all.zip");
            if zip.exists() {
                std::fs::create_dir_all(root.join(eco)).expect("mkdir");
                std::fs::copy(&zip, root.join(eco).join("all.zip")).expect("copy");
            }
        }
        std::fs::write(root.join("ecosystems.txt"), LISTED.join("\n") + "\n").expect("write");
        let log = t.join("requests.log");
        let port_file = t.join("port");
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/osv-server/serve.py");
        let mut cmd = Command::new("python3");
        cmd.arg(&script).arg(&root).arg(&log).arg(&port_file);
        if let Some(c) = cut {
            cmd.arg(c);
        }
        let child = cmd
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("python3 runs the test mirror");
        let mut mirror = Mirror {
            child,
            url: String::new(),
            root,
            log,
        };
        // Bounded: 10 s for Python to bind a port.
        for _ in 0..200 {
            if let Ok(p) = std::fs::read_to_string(&port_file) {
                mirror.url = format!("http://127.0.0.1:{}", p.trim());
                return mirror;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("the test mirror did not start");
    }

    fn requests(&self) -> Vec<String> {
        std::fs::read_to_string(&self.log)
            .unwrap_or_default()
            .lines()
            .map(str::to_string)
            .collect()
    }
}

/// The binary with network allowed (the shared helper forbids it).
fn online() -> assert_cmd::Command {
    let mut c = pipeguard();
    c.env_remove("PIPEGUARD_OFFLINE");
    c
}

fn status(db: &Path) -> serde_json::Value {
    let out = pipeguard()
        .args(["db", "status", "--json", "--db"])
        .arg(db)
        .assert()
        .code(0);
    json(&out.get_output().stdout)
}

fn records(v: &serde_json::Value, eco: &str) -> u64 {
    v["ecosystems"][eco]["records"]
        .as_u64()
        .unwrap_or_else(|| panic!("no {eco} in {v:#}"))
}

#[test]
fn update_downloads_every_listed_ecosystem_and_says_which_it_skipped() {
    let t = tempfile::tempdir().expect("tmp");
    let mirror = Mirror::start(t.path(), None);
    let db = t.path().join("db");
    let out = online()
        .args(["db", "update", "--url", &mirror.url, "--db"])
        .arg(&db)
        .output()
        .expect("run");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stdout}{stderr}");
    for eco in ["CRAN", "GHC", "Hackage"] {
        assert!(
            stdout.contains(&format!(
                "{eco:<10} skipped: pipeguard has no version ordering for {eco}"
            )),
            "{stdout}"
        );
    }
    // The same records as an import of the same zips from disk.
    let local = fixture_db(&t.path().join("local"));
    let (got, want) = (status(&db), status(&local));
    for eco in ["npm", "PyPI", "crates.io", "Go", "Debian"] {
        assert_eq!(records(&got, eco), records(&want, eco), "{eco}");
    }
    assert_eq!(got["ecosystems"]["npm"]["source"], mirror.url.as_str());
    // `db status` says why CRAN is absent.
    let text = pipeguard()
        .args(["db", "status", "--db"])
        .arg(&db)
        .output()
        .expect("run");
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(
        text.contains("CRAN       skipped: pipeguard has no version ordering for CRAN"),
        "{text}"
    );
    // Nothing left behind but the database.
    assert!(!db.join(".download").exists());
    // `--ecosystems` narrows; PIPEGUARD_OSV_URL names the mirror.
    let db2 = t.path().join("db2");
    online()
        .env("PIPEGUARD_OSV_URL", &mirror.url)
        .args(["db", "update", "--ecosystems", "npm", "--db"])
        .arg(&db2)
        .assert()
        .code(0);
    let v = status(&db2);
    assert_eq!(
        v["ecosystems"].as_object().map(|o| o.len()),
        Some(1),
        "{v:#}"
    );
    assert!(records(&v, "npm") > 0);
}

#[test]
fn a_cut_download_resumes_with_a_range_request() {
    let t = tempfile::tempdir().expect("tmp");
    let mirror = Mirror::start(t.path(), Some("PyPI/all.zip"));
    let db = t.path().join("db");
    let out = online()
        .args([
            "db",
            "update",
            "--ecosystems",
            "PyPI,npm",
            "--url",
            &mirror.url,
            "--db",
        ])
        .arg(&db)
        .output()
        .expect("run");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let size = std::fs::metadata(mirror.root.join("PyPI/all.zip"))
        .expect("zip")
        .len();
    let requests = mirror.requests();
    let pypi: Vec<&String> = requests
        .iter()
        .filter(|r| r.starts_with("GET /PyPI/all.zip"))
        .collect();
    assert_eq!(pypi.len(), 2, "{requests:?}");
    // The second request asks only for the missing half.
    assert!(
        pypi[1].contains(&format!("bytes={}-", size / 2)),
        "{requests:?}"
    );
    let local = fixture_db(&t.path().join("local"));
    assert_eq!(
        records(&status(&db), "PyPI"),
        records(&status(&local), "PyPI")
    );
}

#[test]
fn a_corrupt_zip_is_reported_and_the_old_database_stays() {
    let t = tempfile::tempdir().expect("tmp");
    let mirror = Mirror::start(t.path(), None);
    let db = fixture_db(t.path());
    let before = status(&db);
    // A truncated npm dump: it never opens as a zip.
    let zip = mirror.root.join("npm/all.zip");
    let bytes = std::fs::read(&zip).expect("read");
    std::fs::write(&zip, &bytes[..bytes.len() / 2]).expect("write");
    let out = online()
        .args(["db", "update", "--url", &mirror.url, "--db"])
        .arg(&db)
        .output()
        .expect("run");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stdout}{stderr}");
    assert!(
        stdout.contains("npm")
            && stdout.contains("FAILED")
            && stdout.contains("not a complete zip"),
        "{stdout}"
    );
    assert!(stderr.contains("could not be updated: npm"), "{stderr}");
    // Downloaded twice (once more after the bad zip), then reported.
    let npm = mirror
        .requests()
        .iter()
        .filter(|r| r.starts_with("GET /npm/all.zip"))
        .count();
    assert_eq!(npm, 2);
    // The npm advisories of the old database are still there and usable.
    let after = status(&db);
    assert_eq!(records(&after, "npm"), records(&before, "npm"));
    assert_eq!(
        after["ecosystems"]["npm"]["imported_at"],
        before["ecosystems"]["npm"]["imported_at"]
    );
    let d = t.path().join("repo");
    write(&d, "package-lock.json", LODASH_LOCK);
    let out = pipeguard()
        .args(["deps", "-f", "json", "--db"])
        .arg(&db)
        .arg(&d)
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).contains("CVE-2018-16487"));
}

/// lodash 4.17.4 (CVE-2018-16487 in the npm fixture).
const LODASH_LOCK: &str = r#"{"name":"app","lockfileVersion":3,"packages":{"":{"name":"app","dependencies":{"lodash":"4.17.4"}},"node_modules/lodash":{"version":"4.17.4","resolved":"https://registry.npmjs.org/lodash/-/lodash-4.17.4.tgz","integrity":"sha512-6X37Sq9KCpLSXEh8uM12AKYlviHPNNk4RxiGBn4cmKGJinbXBneWIV7iE/nXkM928O7ytHcHb6+X6Svl0f4hXg=="}}}"#;

fn scan_fresh(t: &Path, extra: &[&str], mirror: Option<&Mirror>) -> (i32, String, String) {
    let d = t.join("repo");
    write(&d, "requirements.txt", "requests==2.19.0\n");
    let db = t.join("fresh-db");
    std::fs::create_dir_all(&db).expect("mkdir");
    let mut c = online();
    c.env("PIPEGUARD_DB", &db)
        .env_remove("GITHUB_EVENT_NAME")
        .env_remove("PIPEGUARD_PROFILE")
        .args(["scan", "--only", "deps", "--no-progress", "-f", "json"])
        .args(extra)
        .arg(&d);
    if let Some(m) = mirror {
        c.env("PIPEGUARD_OSV_URL", &m.url);
    }
    let out = c.output().expect("run");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn a_first_scan_downloads_the_database_itself() {
    let t = tempfile::tempdir().expect("tmp");
    let mirror = Mirror::start(t.path(), None);
    let (code, stdout, stderr) = scan_fresh(t.path(), &[], Some(&mirror));
    assert!(
        stderr.contains("no advisory database at")
            && stderr.contains("downloading OSV advisories")
            && stderr.contains("--offline"),
        "{stderr}"
    );
    assert_eq!(code, 1, "{stderr}");
    let v: serde_json::Value = serde_json::from_str(&stdout).expect("json");
    assert!(v.get("unchecked").is_none(), "{v:#}");
    assert!(stdout.contains("CVE-2018-18074"), "{stdout}");
    // The second scan uses it: no new download.
    let n = mirror.requests().len();
    let (code, _, stderr) = scan_fresh(t.path(), &[], Some(&mirror));
    assert_eq!(code, 1, "{stderr}");
    assert!(!stderr.contains("downloading"), "{stderr}");
    assert_eq!(mirror.requests().len(), n);
}

#[test]
fn offline_on_a_fresh_machine_fails_closed_with_the_how_to() {
    let t = tempfile::tempdir().expect("tmp");
    let mirror = Mirror::start(t.path(), None);
    let how = |stderr: &str| {
        assert!(
            stderr.contains("pipeguard db update --from DIR")
                && stderr.contains("pipeguard db update --url MIRROR")
                && stderr.contains("forbidden"),
            "{stderr}"
        );
    };
    let (code, _, stderr) = scan_fresh(t.path(), &["--offline"], Some(&mirror));
    assert_eq!(code, 2, "{stderr}");
    how(&stderr);
    // `[deps] offline = true` in the policy forbids it the same way.
    write(
        &t.path().join("repo"),
        "pipeguard.toml",
        "[deps]\noffline = true\n",
    );
    let (code, _, stderr) = scan_fresh(t.path(), &[], Some(&mirror));
    assert_eq!(code, 2, "{stderr}");
    how(&stderr);
    assert!(mirror.requests().is_empty(), "{:?}", mirror.requests());
    // With network but nothing answering, the message says what to do too.
    std::fs::remove_file(t.path().join("repo/pipeguard.toml")).expect("rm");
    let dead = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = dead.local_addr().expect("addr").port();
    drop(dead);
    let d = t.path().join("repo");
    let out = online()
        .env("PIPEGUARD_DB", t.path().join("fresh-db"))
        .env("PIPEGUARD_OSV_URL", format!("http://127.0.0.1:{port}"))
        .args(["deps", "-f", "json"])
        .arg(&d)
        .output()
        .expect("run");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("downloading it failed")
            && stderr.contains("pipeguard db update --from DIR")
            && stderr.contains("--url MIRROR"),
        "{stderr}"
    );
}

#[test]
fn asking_only_for_an_unsupported_ecosystem_says_why_and_imports_nothing() {
    let t = tempfile::tempdir().expect("tmp");
    let mirror = Mirror::start(t.path(), None);
    let db = t.path().join("db");
    let out = online()
        .args([
            "db",
            "update",
            "--ecosystems",
            "CRAN",
            "--url",
            &mirror.url,
            "--db",
        ])
        .arg(&db)
        .output()
        .expect("run");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(
        stdout.contains("CRAN       skipped: pipeguard has no version ordering for CRAN"),
        "{stdout}"
    );
    assert!(
        !mirror.requests().iter().any(|r| r.contains("all.zip")),
        "{:?}",
        mirror.requests()
    );
}

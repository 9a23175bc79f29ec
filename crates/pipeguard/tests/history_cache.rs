//! History in the content cache (issue #18): a blob that scanned clean with
//! the same rules is not read again, so a second full scan of an unchanged
//! repository reads almost no history; what it finds does not change, and a
//! new commit is read.

mod common;

use common::*;

fn scan(repo: &GitRepo, cache: &std::path::Path) -> serde_json::Value {
    let out = pipeguard()
        .args([
            "scan",
            "--only",
            "secrets",
            "--profile",
            "main",
            "--no-progress",
            "-f",
            "json",
            "--cache-dir",
        ])
        .arg(cache)
        .arg(repo.path())
        .env_remove("GITHUB_EVENT_NAME")
        .env_remove("PIPEGUARD_PROFILE")
        .output()
        .expect("run");
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("no JSON ({e}): {}", String::from_utf8_lossy(&out.stderr)))
}

fn fingerprints(v: &serde_json::Value) -> Vec<String> {
    let mut f: Vec<String> = v["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| f["fingerprint"].as_str().unwrap_or_default().to_string())
        .collect();
    f.sort();
    f
}

#[test]
fn a_second_full_scan_reads_no_clean_blob_again() {
    let t = tempfile::tempdir().expect("tmp");
    let repo = GitRepo::init(t.path().join("repo"));
    for i in 0..40 {
        repo.commit_file(
            &format!("src/m{i}.py"),
            format!("def f{i}():\n    return {i}\n"),
            &format!("m{i}"),
        );
    }
    // A secret committed and later removed: found in history only.
    repo.commit_file(
        "config/app.env",
        format!("db_password = \"{}\"\n", password("hist")),
        "config",
    );
    repo.commit_file(
        "config/app.env",
        "db_password = \"${DB_PASSWORD}\"\n",
        "use env",
    );
    let cache = t.path().join("cache");
    let first = scan(&repo, &cache);
    let second = scan(&repo, &cache);
    let blobs = |v: &serde_json::Value| v["summary"]["blobs_scanned"].as_u64().expect("blobs");
    assert!(blobs(&first) >= 42, "{}", first["summary"]);
    // Only the blob that holds the secret is read again (it is never
    // recorded as clean); the 41 clean ones are not.
    assert!(blobs(&second) <= 1, "{}", second["summary"]);
    assert_eq!(fingerprints(&first), fingerprints(&second));
    assert_eq!(fingerprints(&first).len(), 1, "{first}");
    // A new commit is read.
    repo.commit_file("src/new.py", "x = 1\n", "new");
    let third = scan(&repo, &cache);
    assert_eq!(blobs(&third), 2, "{}", third["summary"]);
}

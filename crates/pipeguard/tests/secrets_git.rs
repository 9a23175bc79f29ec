//! `pipeguard secrets --git / --since / --staged` on real repositories.

mod common;

use common::*;

#[test]
fn committed_then_removed_secret_is_found_only_in_history() {
    let dir = tempfile::tempdir().expect("tmp");
    let d = dir.path();
    let repo = GitRepo::init(d);
    repo.commit_file("README.md", "# app\n", "init");
    let secret = age_key(1);
    let leak = repo.commit_file(
        "deploy/key.txt",
        format!("# identity\n{secret}\n"),
        "add key",
    );
    repo.git(&["rm", "-q", "deploy/key.txt"]);
    repo.git(&["commit", "-q", "-m", "remove key"]);

    // The working tree no longer has it.
    pipeguard()
        .args(["secrets", "--format", "json"])
        .arg(d)
        .assert()
        .code(0);

    // History does, with the commit that introduced it.
    let out = pipeguard()
        .args(["secrets", "--git", "--format", "json"])
        .arg(d)
        .assert()
        .code(1);
    let v = json(&out.get_output().stdout);
    let f = findings(&v);
    assert_eq!(f.len(), 1, "{v:#}");
    assert_eq!(f[0]["rule_id"], "age-secret-key");
    let loc = &f[0]["locations"][0];
    assert_eq!(loc["path"], "deploy/key.txt");
    assert_eq!(loc["line"], 2);
    assert_eq!(loc["git"]["commit"], leak.as_str());
    assert_eq!(loc["git"]["author"], "Dana Dev <dana@corp.net>");
    assert!(loc["git"]["date"].as_str().is_some_and(|d| d.len() >= 20));
    assert_eq!(v["summary"]["commits_scanned"], 3);
    assert!(!String::from_utf8_lossy(&out.get_output().stdout).contains(&secret));
}

#[test]
fn a_blob_shared_by_many_commits_is_reported_once_with_its_first_commit() {
    let dir = tempfile::tempdir().expect("tmp");
    let d = dir.path();
    let repo = GitRepo::init(d);
    let secret = format!("password = \"{}\"\n", password("a1"));
    let first = repo.commit_file("app/settings.py", &secret, "settings");
    // Same content at a second path, and on another branch.
    repo.commit_file("app/copy.py", &secret, "copy");
    repo.branch("feature");
    repo.commit_file("app/other.txt", "unrelated\n", "feature work");
    repo.checkout("main");

    let out = pipeguard()
        .args(["secrets", "--git", "--format", "json"])
        .arg(d)
        .assert()
        .code(1);
    let v = json(&out.get_output().stdout);
    let f = findings(&v);
    assert_eq!(f.len(), 1, "one secret, one finding: {v:#}");
    let locs = f[0]["locations"].as_array().expect("locations");
    assert_eq!(locs.len(), 2, "{v:#}");
    assert_eq!(locs[0]["path"], "app/settings.py");
    assert_eq!(locs[0]["git"]["commit"], first.as_str());
    assert_eq!(locs[1]["path"], "app/copy.py");
    // The blob is read once even though three commits contain it.
    assert_eq!(v["summary"]["blobs_scanned"], 2);
}

#[test]
fn since_reports_only_commits_after_the_base() {
    let dir = tempfile::tempdir().expect("tmp");
    let d = dir.path();
    let repo = GitRepo::init(d);
    let old = password("old");
    let new = password("new");
    repo.commit_file("a.py", format!("db_password = \"{old}\"\n"), "old secret");
    let base = repo.head();
    // Editing the file keeps the old secret: that is not a new leak.
    repo.commit_file(
        "a.py",
        format!("db_password = \"{old}\"\nother = 1\n"),
        "edit",
    );
    let intro = repo.commit_file(
        "b.py",
        format!("admin_password = \"{new}\"\n"),
        "new secret",
    );

    let out = pipeguard()
        .args(["secrets", "--since", &base, "--format", "json"])
        .arg(d)
        .assert()
        .code(1);
    let v = json(&out.get_output().stdout);
    let f = findings(&v);
    assert_eq!(f.len(), 1, "{v:#}");
    assert_eq!(f[0]["locations"][0]["path"], "b.py");
    assert_eq!(f[0]["locations"][0]["git"]["commit"], intro.as_str());
    assert_eq!(v["summary"]["commits_scanned"], 2);

    // Nothing after HEAD: clean.
    pipeguard()
        .args(["secrets", "--since", "HEAD"])
        .arg(d)
        .assert()
        .code(0);
    // A base that does not exist is a usage error naming it.
    pipeguard()
        .args(["secrets", "--since", "no-such-rev"])
        .arg(d)
        .assert()
        .code(2)
        .stderr(predicates::str::contains("no-such-rev"));
}

#[test]
fn staged_sees_only_the_index() {
    let dir = tempfile::tempdir().expect("tmp");
    let d = dir.path();
    let repo = GitRepo::init(d);
    let committed = password("c0");
    repo.commit_file("a.py", format!("db_password = \"{committed}\"\n"), "c");
    // Staged: a new secret in a modified file that still holds the old one.
    let staged = password("s1");
    std::fs::write(
        d.join("a.py"),
        format!("db_password = \"{committed}\"\nroot_password = \"{staged}\"\n"),
    )
    .expect("write");
    repo.git(&["add", "a.py"]);
    // Unstaged: a third secret only in the working tree.
    std::fs::write(
        d.join("wip.py"),
        format!("x_password = \"{}\"\n", password("w2")),
    )
    .expect("write");

    let out = pipeguard()
        .args(["secrets", "--staged", "--format", "json"])
        .arg(d)
        .assert()
        .code(1);
    let v = json(&out.get_output().stdout);
    let f = findings(&v);
    assert_eq!(f.len(), 1, "{v:#}");
    assert_eq!(f[0]["locations"][0]["path"], "a.py");
    assert_eq!(f[0]["locations"][0]["line"], 2);
    assert!(f[0]["locations"][0].get("git").is_none());
}

#[test]
fn git_outside_a_repository_is_a_clear_usage_error() {
    let dir = tempfile::tempdir().expect("tmp");
    pipeguard()
        .args(["secrets", "--git"])
        .arg(dir.path())
        .assert()
        .code(2)
        .stderr(predicates::str::contains("is not a git repository"));
}

#[test]
fn a_corrupt_object_is_reported_and_the_rest_is_scanned() {
    let dir = tempfile::tempdir().expect("tmp");
    let d = dir.path();
    let repo = GitRepo::init(d);
    let good = age_key(2);
    repo.commit_file("good.txt", format!("{good}\n"), "good");
    repo.commit_file("bad.txt", "this blob will be corrupted\n", "bad");
    let bad = repo.git(&["rev-parse", "HEAD:bad.txt"]);
    let obj = d.join(".git/objects").join(&bad[..2]).join(&bad[2..]);
    let mut perms = std::fs::metadata(&obj).expect("obj").permissions();
    #[allow(clippy::permissions_set_readonly_false)]
    perms.set_readonly(false);
    std::fs::set_permissions(&obj, perms).expect("chmod");
    std::fs::write(&obj, b"\x78\x9cgarbage that is not zlib").expect("corrupt");

    let out = pipeguard()
        .args(["secrets", "--git", "--format", "json"])
        .arg(d)
        .assert()
        .code(1);
    let v = json(&out.get_output().stdout);
    assert_eq!(findings(&v).len(), 1, "{v:#}");
    let problems = v["problems"].as_array().expect("problems");
    assert!(
        problems
            .iter()
            .any(|p| p["path"].as_str().is_some_and(|s| s.contains("bad.txt"))),
        "{v:#}"
    );
}

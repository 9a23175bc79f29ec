//! Pull-request mode as reviewers mean it (issue #18): only what the change
//! itself introduced is reported, by `scan --diff-base` and by
//! `secrets --since` alike; it degrades like a full scan; and a scan of a
//! directory inside a repository stays inside that directory.

mod common;

use std::path::Path;

use common::*;

// The repository helpers these tests were written with: free functions on a
// path (the test kit's `GitRepo` would do too; these keep real commit times,
// which the history pass's ordering does not depend on).
fn git(dir: &Path, args: &[&str]) -> String {
    let out = std::process::Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .env("GIT_AUTHOR_NAME", "Dana Dev")
        .env("GIT_AUTHOR_EMAIL", "dana@corp.net")
        .env("GIT_COMMITTER_NAME", "Dana Dev")
        .env("GIT_COMMITTER_EMAIL", "dana@corp.net")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("HOME", dir)
        .output()
        .expect("run git");
    assert!(
        out.status.success(),
        "git {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

fn init_repo(dir: &Path) {
    git(dir, &["init", "-q", "-b", "main"]);
    git(dir, &["config", "commit.gpgsign", "false"]);
}

fn commit_file(dir: &Path, path: &str, content: &str, msg: &str) -> String {
    let p = dir.join(path);
    if let Some(parent) = p.parent() {
        std::fs::create_dir_all(parent).expect("mkdir");
    }
    std::fs::write(&p, content).expect("write");
    git(dir, &["add", path]);
    git(dir, &["commit", "-q", "-m", msg]);
    git(dir, &["rev-parse", "HEAD"])
}

/// Runs the binary with the CI's diff variables removed; returns the exit
/// code, the JSON report and standard error.
fn run(d: &Path, args: &[&str]) -> (i32, serde_json::Value, String) {
    let out = pipeguard()
        .args(args)
        .arg(d)
        .args(["-f", "json", "--no-progress"])
        .env_remove("GITHUB_EVENT_NAME")
        .env_remove("GITHUB_BASE_REF")
        .env_remove("CI_MERGE_REQUEST_DIFF_BASE_SHA")
        .env_remove("CI_MERGE_REQUEST_TARGET_BRANCH_NAME")
        .env_remove("PIPEGUARD_PROFILE")
        .output()
        .expect("run");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let v = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("no JSON report ({e}); stderr: {stderr}"));
    (out.status.code().unwrap_or(-1), v, stderr)
}

fn scan(d: &Path, db: &Path, extra: &[&str]) -> (i32, serde_json::Value, String) {
    let mut args = vec!["scan", "--no-cache", "--db"];
    let db = db.to_str().expect("utf-8 temp path");
    args.push(db);
    args.extend_from_slice(extra);
    run(d, &args)
}

fn problems(v: &serde_json::Value) -> Vec<serde_json::Value> {
    v["problems"].as_array().cloned().unwrap_or_default()
}

/// (analyzer, path) of every location of every finding.
fn places(v: &serde_json::Value) -> Vec<(String, String)> {
    let mut p: Vec<(String, String)> = findings(v)
        .iter()
        .flat_map(|f| {
            let an = f["analyzer"].as_str().unwrap_or_default().to_string();
            f["locations"]
                .as_array()
                .cloned()
                .unwrap_or_default()
                .into_iter()
                .map(move |l| (an.clone(), l["path"].as_str().unwrap_or_default().into()))
        })
        .collect();
    p.sort();
    p.dedup();
    p
}

/// The user's recipe: `feature` branches off `main`, `main` then gets a
/// secret, `feature` merges `main` and changes an unrelated file.
fn merged_main_into_feature(d: &Path) {
    init_repo(d);
    commit_file(d, "README.md", "# app\n", "init");
    git(d, &["checkout", "-q", "-b", "feature"]);
    commit_file(d, "app/one.txt", "one\n", "feature work");
    git(d, &["checkout", "-q", "main"]);
    commit_file(
        d,
        "config/settings.py",
        &format!("db_password = \"{}\"\n", password("main")),
        "a secret on main",
    );
    git(d, &["checkout", "-q", "feature"]);
    git(d, &["merge", "-q", "--no-edit", "-m", "merge main", "main"]);
    commit_file(d, "app/two.txt", "two\n", "more feature work");
}

/// Regression (issue #18): a merge of the base branch was diffed against
/// its first parent, so main's secret was blamed on the pull request.
#[test]
fn merging_the_base_branch_does_not_blame_the_pull_request_for_its_secrets() {
    let t = tempfile::tempdir().expect("tmp");
    let db = t.path().join("no-db");
    let d = t.path().join("repo");
    std::fs::create_dir(&d).expect("mkdir");
    merged_main_into_feature(&d);

    let (code, v, err) = scan(&d, &db, &["--diff-base", "main"]);
    assert_eq!(
        findings(&v),
        Vec::<serde_json::Value>::new(),
        "{v:#}\n{err}"
    );
    assert_eq!(code, 0, "{err}");
    let (code, v, err) = run(&d, &["secrets", "--since", "main"]);
    assert_eq!(
        findings(&v),
        Vec::<serde_json::Value>::new(),
        "{v:#}\n{err}"
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        v["summary"]["commits_scanned"], 3,
        "feature work, merge, more work"
    );

    // Control: a secret committed on the feature branch itself is the
    // change's doing, in the tree and in history.
    let secret = format!("def f():\n    password = \"{}\"\n", password("feat"));
    let added = commit_file(&d, "app/db.py", &secret, "a secret on feature");
    commit_file(&d, "app/three.txt", "three\n", "after the secret");
    let (code, v, err) = scan(&d, &db, &["--diff-base", "main"]);
    assert_eq!(code, 1, "{err}");
    assert_eq!(
        places(&v),
        vec![("secrets".to_string(), "app/db.py".to_string())],
        "{v:#}"
    );
    let (code, v, err) = run(&d, &["secrets", "--since", "main"]);
    assert_eq!(code, 1, "{err}");
    assert_eq!(
        places(&v),
        vec![("secrets".to_string(), "app/db.py".to_string())],
        "{v:#}"
    );
    assert_eq!(
        findings(&v)[0]["locations"][0]["git"]["commit"],
        added.as_str()
    );
}

/// Regression (issue #18): `--diff-base HEAD~30` reported findings that
/// were already at the base, unchanged, because the range moved them
/// around. Three analyzers' pre-existing findings, one new one.
#[test]
fn a_long_range_reports_only_findings_the_base_did_not_have() {
    let t = tempfile::tempdir().expect("tmp");
    let db = fixture_db(t.path());
    let d = t.path().join("repo");
    std::fs::create_dir(&d).expect("mkdir");
    init_repo(&d);
    let old = format!("db_password = \"{}\"\n", password("old"));
    // Five commits up to the base, with a password, a vulnerable package
    // and an over-privileged workflow.
    commit_file(&d, "README.md", "# app\n", "init");
    commit_file(
        &d,
        "config/settings.py",
        &format!("{old}debug = False\n"),
        "settings",
    );
    commit_file(
        &d,
        "requirements.txt",
        "requests==2.19.0\nsix==1.16.0\n",
        "deps",
    );
    commit_file(
        &d,
        ".github/workflows/ci.yml",
        "name: ci\non: push\npermissions: write-all\njobs:\n  test:\n    runs-on: ubuntu-latest\n    steps:\n      - run: make test\n",
        "ci",
    );
    commit_file(&d, "notes/0.txt", "0\n", "notes");
    // Before anything else, the base's own findings, for the comparison.
    let (_, at_base, _) = scan(&d, &db, &["--profile", "main"]);
    let analyzers: std::collections::BTreeSet<String> =
        places(&at_base).into_iter().map(|(a, _)| a).collect();
    for a in ["ci", "deps", "secrets"] {
        assert!(
            analyzers.contains(a),
            "the base has a {a} finding: {at_base:#}"
        );
    }

    // Thirty commits: the findings move to other lines, the secret leaves
    // and comes back, and one new secret arrives.
    for i in 1..=30 {
        match i {
            3 => commit_file(
                &d,
                "config/settings.py",
                &format!("debug = False\n{old}"),
                "reorder",
            ),
            7 => commit_file(
                &d,
                "requirements.txt",
                "six==1.16.0\nrequests==2.19.0\n",
                "sort",
            ),
            9 => commit_file(
                &d,
                ".github/workflows/ci.yml",
                "permissions: write-all\n# the build\nname: ci\non: push\njobs:\n  test:\n    runs-on: ubuntu-latest\n    steps:\n      - run: make test\n",
                "ci order",
            ),
            12 => commit_file(
                &d,
                "config/settings.py",
                "debug = False\n",
                "drop the password",
            ),
            15 => commit_file(
                &d,
                "config/settings.py",
                &format!("debug = True\n\n{old}"),
                "restore it",
            ),
            20 => commit_file(
                &d,
                "app/db.py",
                &format!("def connect():\n    password = \"{}\"\n", password("new")),
                "the one new finding",
            ),
            _ => commit_file(&d, &format!("notes/{i}.txt"), &format!("{i}\n"), "notes"),
        };
    }
    assert_eq!(git(&d, &["rev-list", "--count", "HEAD"]), "35");

    let (code, v, err) = scan(&d, &db, &["--diff-base", "HEAD~30"]);
    assert_eq!(
        places(&v),
        vec![("secrets".to_string(), "app/db.py".to_string())],
        "only the new secret: {v:#}\n{err}"
    );
    assert_eq!(code, 1, "{err}");
    let (code, v, err) = run(&d, &["secrets", "--since", "HEAD~30"]);
    assert_eq!(
        places(&v),
        vec![("secrets".to_string(), "app/db.py".to_string())],
        "only the new secret: {v:#}\n{err}"
    );
    assert_eq!(code, 1, "{err}");
}

/// Overwrites a loose object with bytes that do not inflate.
fn corrupt(d: &Path, id: &str) {
    let p = d.join(".git/objects").join(&id[..2]).join(&id[2..]);
    let mut perm = std::fs::metadata(&p).expect("loose object").permissions();
    #[allow(clippy::permissions_set_readonly_false)]
    perm.set_readonly(false);
    std::fs::set_permissions(&p, perm).expect("chmod");
    std::fs::write(&p, b"not a zlib stream").expect("corrupt");
}

/// Regression (issue #18): one unreadable object aborted `--diff-base`
/// with exit 2, the usage-error code, where a full scan reports a problem.
#[test]
fn an_unreadable_object_is_a_problem_and_the_exit_code_comes_from_findings() {
    let t = tempfile::tempdir().expect("tmp");
    let db = t.path().join("no-db");
    let d = t.path().join("repo");
    std::fs::create_dir(&d).expect("mkdir");
    init_repo(&d);
    commit_file(&d, "data.txt", "the base version\n", "base");
    let base_blob = git(&d, &["rev-parse", "HEAD:data.txt"]);
    git(&d, &["checkout", "-q", "-b", "feature"]);
    commit_file(&d, "data.txt", "the changed version\n", "change");
    corrupt(&d, &base_blob);

    // Nothing found: the problems are listed, and exit 0 says so.
    let (code, v, err) = scan(&d, &db, &["--diff-base", "main"]);
    assert_eq!(code, 0, "{err}");
    let listed = problems(&v);
    assert!(!listed.is_empty(), "{v:#}");
    assert!(
        listed.iter().any(|p| p["message"]
            .as_str()
            .is_some_and(|m| m.contains("cannot diff against the merge base"))),
        "{v:#}"
    );
    let messages: Vec<String> = listed
        .iter()
        .map(|p| format!("{}: {}", p["path"], p["message"]))
        .collect();
    let mut unique = messages.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(
        unique.len(),
        messages.len(),
        "each problem once: {messages:#?}"
    );

    // A new secret still fails the pull request, beside the problem.
    commit_file(
        &d,
        "app/db.py",
        &format!("password = \"{}\"\n", password("new")),
        "a secret",
    );
    let (code, v, err) = scan(&d, &db, &["--diff-base", "main"]);
    assert_eq!(code, 1, "{err}");
    assert_eq!(
        places(&v),
        vec![("secrets".to_string(), "app/db.py".to_string())],
        "{v:#}"
    );
    assert!(!problems(&v).is_empty(), "{v:#}");

    // An unreadable blob inside the change's history: one problem naming
    // its file, and the history pass goes on.
    commit_file(&d, "notes.txt", "first draft\n", "draft");
    let draft = git(&d, &["rev-parse", "HEAD:notes.txt"]);
    commit_file(&d, "notes.txt", "final\n", "final");
    corrupt(&d, &draft);
    let (code, v, err) = scan(&d, &db, &["--diff-base", "main"]);
    assert_eq!(code, 1, "{err}");
    assert_eq!(
        places(&v),
        vec![("secrets".to_string(), "app/db.py".to_string())],
        "{v:#}"
    );
    let on_notes = problems(&v)
        .iter()
        .filter(|p| {
            p["path"]
                .as_str()
                .is_some_and(|p| p.starts_with("notes.txt"))
        })
        .count();
    assert_eq!(on_notes, 1, "{v:#}");
    let (code, v, err) = run(&d, &["secrets", "--since", "main"]);
    assert_eq!(code, 1, "{err}");
    assert!(!problems(&v).is_empty(), "{v:#}");

    // A base that does not exist is still the user's to fix.
    let out = pipeguard()
        .args(["scan", "--no-progress", "--diff-base", "no-such-branch"])
        .arg(&d)
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
}

/// Regression (issue #18): `scan repo/sub` reported history from outside
/// `sub` and ignored the repository's `pipeguard.toml`.
#[test]
fn a_subdirectory_scan_uses_the_root_policy_and_only_its_own_history() {
    let t = tempfile::tempdir().expect("tmp");
    let db = t.path().join("no-db");
    let d = t.path().join("repo");
    std::fs::create_dir(&d).expect("mkdir");
    init_repo(&d);
    commit_file(
        &d,
        "pipeguard.toml",
        "[scan]\ndefault-profile = \"release\"\n",
        "policy",
    );
    commit_file(
        &d,
        "outside/key.py",
        &format!("password = \"{}\"\n", password("out")),
        "a secret outside sub",
    );
    commit_file(
        &d,
        "sub/old.py",
        &format!("password = \"{}\"\n", password("in")),
        "a secret inside sub",
    );
    git(&d, &["rm", "-q", "-r", "outside", "sub/old.py"]);
    git(&d, &["commit", "-q", "-m", "remove both"]);
    commit_file(&d, "sub/app.txt", "app\n", "sub work");
    let sub = d.join("sub");

    let (code, v, err) = scan(&sub, &db, &["--only", "secrets"]);
    assert_eq!(code, 1, "{err}");
    assert_eq!(v["command"], "scan --profile release", "{v:#}");
    let policy = d.join("pipeguard.toml");
    assert!(
        err.contains(&format!("pipeguard: policy: {}", policy.display())),
        "{err}"
    );
    assert_eq!(
        places(&v),
        vec![("secrets".to_string(), "old.py".to_string())],
        "history inside sub only, relative to sub: {v:#}"
    );

    let (code, v, err) = run(&sub, &["secrets", "--git"]);
    assert_eq!(code, 1, "{err}");
    assert_eq!(
        places(&v),
        vec![("secrets".to_string(), "old.py".to_string())],
        "{v:#}"
    );

    // In PR mode too, only what the change did inside `sub` counts.
    git(&d, &["checkout", "-q", "-b", "feature"]);
    commit_file(
        &d,
        "outside/new.py",
        &format!("password = \"{}\"\n", password("out2")),
        "a new secret outside sub",
    );
    commit_file(
        &d,
        "sub/new.py",
        &format!("password = \"{}\"\n", password("in2")),
        "a new secret inside sub",
    );
    for args in [
        &[
            "scan",
            "--no-cache",
            "--diff-base",
            "main",
            "--only",
            "secrets",
        ][..],
        &["secrets", "--since", "main"][..],
    ] {
        let (code, v, err) = run(&sub, args);
        assert_eq!(code, 1, "{args:?}: {err}");
        assert_eq!(
            places(&v),
            vec![("secrets".to_string(), "new.py".to_string())],
            "{args:?}: {v:#}"
        );
    }
}

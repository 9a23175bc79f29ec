//! `pipeguard scan`: one gate over every analyzer, profiles, pull-request
//! (diff) mode on real git repositories, the content cache, and `init`.

mod common;

use std::path::Path;

use common::*;

/// A repository with one finding of each kind on `main`: a vulnerable
/// package, a committed password, an over-privileged workflow and a
/// Dockerfile that runs as root.
fn repo_with_history(d: &Path) -> GitRepo {
    let repo = GitRepo::init(d);
    write(d, "requirements.txt", "requests==2.19.0\n");
    write(
        d,
        "config/settings.py",
        format!("db_password = \"{}\"\n", password("old")),
    );
    write(
        d,
        ".github/workflows/ci.yml",
        "name: ci\non: push\npermissions: write-all\njobs:\n  test:\n    runs-on: ubuntu-latest\n    steps:\n      - run: make test\n",
    );
    write(d, "Dockerfile", "FROM debian:12\nRUN make\n");
    repo.commit_all("base");
    repo
}

/// The pull request: a new vulnerable package, a new password, and an
/// innocent edit to the Dockerfile.
fn open_pull_request(repo: &GitRepo) {
    let d = repo.path();
    repo.branch("feature");
    write(d, "requirements.txt", "requests==2.19.0\nurllib3==1.24.1\n");
    write(
        d,
        "app/db.py",
        format!("def connect():\n    password = \"{}\"\n", password("new")),
    );
    write(
        d,
        "Dockerfile",
        "FROM debian:12\nRUN make\nRUN make check\n",
    );
    repo.commit_all("feature");
}

fn scan_json(
    d: &Path,
    db: &Path,
    extra: &[&str],
    envs: &[(&str, &str)],
) -> (i32, serde_json::Value) {
    let mut cmd = pipeguard();
    cmd.arg("scan")
        .arg(d)
        .args(["--db"])
        .arg(db)
        .args(["-f", "json", "--no-progress", "--no-cache"])
        .args(extra)
        .env_remove("GITHUB_EVENT_NAME")
        .env_remove("GITHUB_BASE_REF")
        .env_remove("CI_MERGE_REQUEST_DIFF_BASE_SHA")
        .env_remove("CI_MERGE_REQUEST_TARGET_BRANCH_NAME")
        .env_remove("PIPEGUARD_PROFILE");
    for (k, v) in envs {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("run");
    assert!(
        out.status.code() != Some(2) && out.status.code() != Some(3),
        "scan failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code().unwrap_or(-1), json(&out.stdout))
}

/// (analyzer, path, line) of every finding's first location.
fn places(v: &serde_json::Value) -> Vec<(String, String, u64)> {
    let mut p: Vec<(String, String, u64)> = findings(v)
        .iter()
        .map(|f| {
            (
                f["analyzer"].as_str().unwrap_or_default().to_string(),
                f["locations"][0]["path"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
                f["locations"][0]["line"].as_u64().unwrap_or(0),
            )
        })
        .collect();
    p.sort();
    p.dedup();
    p
}

#[test]
fn pull_request_mode_reports_only_what_the_change_introduced() {
    let t = tempfile::tempdir().unwrap();
    let db = fixture_db(t.path());
    let d = t.path().join("repo");
    std::fs::create_dir(&d).unwrap();
    let repo = repo_with_history(&d);
    open_pull_request(&repo);

    let (code, v) = scan_json(&d, &db, &["--diff-base", "main"], &[]);
    assert_eq!(code, 1, "the new high-severity findings fail the PR");
    assert_eq!(
        places(&v),
        vec![
            ("deps".to_string(), "requirements.txt".to_string(), 2),
            ("secrets".to_string(), "app/db.py".to_string(), 2),
        ],
        "exactly the added package and the added secret: {v:#}"
    );
    assert!(
        findings(&v)
            .iter()
            .filter(|f| f["analyzer"] == "deps")
            .all(|f| f["message"]
                .as_str()
                .unwrap_or_default()
                .contains("urllib3")),
        "every dependency finding is about urllib3"
    );
    let secret: Vec<_> = findings(&v)
        .into_iter()
        .filter(|f| f["analyzer"] == "secrets")
        .collect();
    assert_eq!(
        secret.len(),
        1,
        "the secret seen in the tree and in the new commit is one finding"
    );
    assert!(
        !v.to_string().contains(&password("new")),
        "the secret is never printed in full"
    );
    assert_eq!(v["command"], "scan --profile pr --diff-base main");

    // The full scan of the same tree reports what was there before too.
    let (code, full) = scan_json(&d, &db, &["--profile", "main"], &[]);
    assert_eq!(code, 1);
    let p = places(&full);
    for want in [
        ("deps", "requirements.txt", 1),
        ("deps", "requirements.txt", 2),
        ("secrets", "app/db.py", 2),
        ("secrets", "config/settings.py", 1),
    ] {
        assert!(
            p.contains(&(want.0.to_string(), want.1.to_string(), want.2)),
            "full scan misses {want:?}: {p:?}"
        );
    }
    assert!(
        p.iter()
            .any(|(a, f, _)| a == "ci" && f == ".github/workflows/ci.yml")
    );
    assert!(
        p.iter()
            .any(|(a, f, _)| a == "dockerfile" && f == "Dockerfile")
    );
}

#[test]
fn the_diff_base_comes_from_github_actions_and_gitlab_variables() {
    let t = tempfile::tempdir().unwrap();
    let db = fixture_db(t.path());
    let d = t.path().join("repo");
    std::fs::create_dir(&d).unwrap();
    let repo = repo_with_history(&d);
    let base = repo.head();
    repo.git(&["update-ref", "refs/remotes/origin/main", "main"]);
    open_pull_request(&repo);

    let (_, gh) = scan_json(
        &d,
        &db,
        &[],
        &[
            ("GITHUB_EVENT_NAME", "pull_request"),
            ("GITHUB_BASE_REF", "main"),
        ],
    );
    assert_eq!(gh["command"], "scan --profile pr --diff-base origin/main");
    assert_eq!(places(&gh).len(), 2, "{gh:#}");

    let (_, gl) = scan_json(&d, &db, &[], &[("CI_MERGE_REQUEST_DIFF_BASE_SHA", &base)]);
    assert_eq!(places(&gl).len(), 2, "{gl:#}");

    // A push to a branch is not a pull request: the default profile scans everything.
    let (_, push) = scan_json(
        &d,
        &db,
        &[],
        &[("GITHUB_EVENT_NAME", "push"), ("GITHUB_BASE_REF", "")],
    );
    assert_eq!(push["command"], "scan --profile main");
    assert!(places(&push).len() > 2);

    // --no-diff overrides what the CI says.
    let (_, forced) = scan_json(
        &d,
        &db,
        &["--no-diff", "--profile", "pr"],
        &[
            ("GITHUB_EVENT_NAME", "pull_request"),
            ("GITHUB_BASE_REF", "main"),
        ],
    );
    assert!(places(&forced).len() > 2);
}

#[test]
fn a_secret_added_and_removed_inside_the_pull_request_is_still_reported() {
    let t = tempfile::tempdir().unwrap();
    let db = fixture_db(t.path());
    let d = t.path().join("repo");
    std::fs::create_dir(&d).unwrap();
    let repo = repo_with_history(&d);
    repo.branch("feature");
    let key = password("gone");
    repo.commit_file("deploy.sh", format!("export password=\"{key}\"\n"), "oops");
    repo.commit_file("deploy.sh", "export password=\"$DEPLOY_PASSWORD\"\n", "fix");
    let (code, v) = scan_json(&d, &db, &["--diff-base", "main"], &[]);
    assert_eq!(code, 1);
    let f = findings(&v);
    assert_eq!(f.len(), 1, "{v:#}");
    assert_eq!(f[0]["locations"][0]["path"], "deploy.sh");
    assert!(
        f[0]["locations"][0]["git"]["commit"].is_string(),
        "found in the change's history"
    );
    assert!(!v.to_string().contains(&key));
}

#[test]
fn a_secret_seen_by_two_analyzers_is_one_finding() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    let key = password("wf");
    write(
        d,
        ".github/workflows/deploy.yml",
        format!(
            "name: deploy\non: push\npermissions: {{}}\njobs:\n  d:\n    runs-on: ubuntu-latest\n    steps:\n      - run: ./deploy\n        env:\n          password: \"{key}\"\n"
        ),
    );
    let out = pipeguard()
        .args([
            "scan",
            "--no-cache",
            "--no-progress",
            "-f",
            "json",
            "--only",
            "secrets,ci",
        ])
        .arg(d)
        .output()
        .unwrap();
    let v = json(&out.stdout);
    let secrets: Vec<_> = findings(&v)
        .into_iter()
        .filter(|f| f["secret"].is_string())
        .collect();
    assert_eq!(
        secrets.len(),
        1,
        "secrets and ci both saw it; reported once: {v:#}"
    );
    assert_eq!(secrets[0]["locations"].as_array().unwrap().len(), 1);
}

#[test]
fn profiles_choose_analyzers_and_threshold() {
    let t = tempfile::tempdir().unwrap();
    let db = fixture_db(t.path());
    let d = t.path().join("repo");
    std::fs::create_dir(&d).unwrap();
    repo_with_history(&d);
    write(
        &d,
        "pipeguard.toml",
        "[profile.deps-only]\nanalyzers = [\"deps\"]\nfail-on = \"critical\"\n\n[profile.pr]\nanalyzers = [\"secrets\"]\n",
    );
    let (code, v) = scan_json(&d, &db, &["--profile", "deps-only"], &[]);
    assert!(findings(&v).iter().all(|f| f["analyzer"] == "deps"));
    assert!(!findings(&v).is_empty());
    assert_eq!(
        code, 0,
        "nothing critical: the profile's threshold passes it"
    );
    assert_eq!(v["fail_on"], "critical");

    let (_, v) = scan_json(&d, &db, &["--profile", "pr"], &[]);
    assert!(
        findings(&v).iter().all(|f| f["analyzer"] == "secrets"),
        "{v:#}"
    );

    let out = pipeguard()
        .args(["scan", "--profile", "nightly", "--no-progress"])
        .arg(&d)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("unknown profile `nightly`") && err.contains("deps-only"),
        "{err}"
    );

    write(
        &d,
        "pipeguard.toml",
        "[profile.pr]\nanalyzers = [\"secret\"]\n",
    );
    let out = pipeguard()
        .args(["scan", "--no-progress"])
        .arg(&d)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("pipeguard.toml") && err.contains("line 2"),
        "{err}"
    );
}

#[test]
fn the_cache_skips_unchanged_files_and_rescans_changed_ones() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path().join("tree");
    let cache = t.path().join("cache");
    for i in 0..50 {
        write(
            &d,
            &format!("src/m{i}.py"),
            format!("def f{i}():\n    return {i}\n"),
        );
    }
    // Files changed within two seconds of a scan are not cached (same-tick writes).
    std::thread::sleep(std::time::Duration::from_millis(2100));
    let scan = || {
        let out = pipeguard()
            .args([
                "scan",
                "--only",
                "secrets",
                "--timings",
                "--no-progress",
                "-f",
                "json",
            ])
            .arg("--cache-dir")
            .arg(&cache)
            .arg(&d)
            .output()
            .unwrap();
        (
            json(&out.stdout),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (v, err) = scan();
    assert_eq!(v["summary"]["files_scanned"], 50);
    assert!(err.contains("cache: 0 files known clean"), "{err}");
    let (v, err) = scan();
    assert_eq!(
        v["summary"]["files_scanned"], 0,
        "every file came from the cache"
    );
    assert!(err.contains("cache: 50 files known clean"), "{err}");

    // A changed file is read again, and its new secret is found.
    write(
        &d,
        "src/m7.py",
        format!("password = \"{}\"\n", password("c")),
    );
    let (v, _) = scan();
    assert_eq!(v["summary"]["files_scanned"], 1);
    assert_eq!(findings(&v).len(), 1);
    assert_eq!(findings(&v)[0]["locations"][0]["path"], "src/m7.py");

    // --no-cache reads everything.
    let out = pipeguard()
        .args([
            "scan",
            "--only",
            "secrets",
            "--no-cache",
            "--no-progress",
            "-f",
            "json",
        ])
        .arg(&d)
        .output()
        .unwrap();
    assert_eq!(json(&out.stdout)["summary"]["files_scanned"], 50);
}

#[test]
fn init_writes_a_policy_suited_to_the_tree_that_policy_check_accepts() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path().join("repo");
    std::fs::create_dir(&d).unwrap();
    repo_with_history(&d);
    write(&d, "tests/fixtures/fake.env", "x=1\n");
    write(&d, "app/main.py", "print(1)\n");
    pipeguard().arg("init").arg(&d).assert().code(0);
    let text = std::fs::read_to_string(d.join("pipeguard.toml")).unwrap();
    assert!(text.contains("lockfiles: PyPI (1)"), "{text}");
    assert!(
        text.contains("analyzers = [\"secrets\", \"deps\", \"ci\", \"dockerfile\", \"code\"]"),
        "{text}"
    );
    assert!(
        text.contains("\"tests/fixtures/**\""),
        "fixture dirs are suggested: {text}"
    );
    // Test data is an active entry, not a suggestion.
    assert!(
        text.lines()
            .any(|l| l.starts_with("test-dirs = [") && l.contains("\"fixtures\"")),
        "{text}"
    );
    assert!(text.contains("history = \"full\""));
    pipeguard()
        .args(["policy", "check"])
        .arg(d.join("pipeguard.toml"))
        .assert()
        .code(0);
    // `policy schema` prints the committed schema editors validate with.
    let out = pipeguard().args(["policy", "schema"]).output().unwrap();
    let committed = std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/pipeguard.schema.json"),
    )
    .unwrap();
    assert_eq!(out.stdout, committed);
    // It never overwrites a policy silently.
    let out = pipeguard().arg("init").arg(&d).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--force"));
    // A tree with no lockfile gets no [deps] section, and no git history depth.
    let bare = t.path().join("bare");
    write(&bare, "README.md", "hi\n");
    let out = pipeguard()
        .args(["init", "--stdout"])
        .arg(&bare)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        !text.contains("[deps]") && text.contains("history = \"none\""),
        "{text}"
    );
}

#[test]
fn source_code_flows_reach_sarif_code_flows_and_pr_mode_keeps_only_touched_sinks() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path().join("repo");
    std::fs::create_dir(&d).unwrap();
    let repo = GitRepo::init(&d);
    write(
        &d,
        "app/views.py",
        "from flask import request\nimport subprocess\n\ndef old():\n    host = request.args.get(\"host\")\n    subprocess.call(\"ping \" + host, shell=True)\n",
    );
    repo.commit_all("base");
    repo.branch("feature");
    let mut text = std::fs::read_to_string(d.join("app/views.py")).unwrap();
    text.push_str("\ndef new(db):\n    uid = request.args.get(\"id\")\n    db.execute(\"SELECT * FROM users WHERE id = \" + uid)\n");
    write(&d, "app/views.py", text);
    repo.git(&["commit", "-q", "-am", "feature"]);

    let sarif = |extra: &[&str]| {
        let out = pipeguard()
            .args([
                "scan",
                "--only",
                "code",
                "--no-cache",
                "--no-progress",
                "-f",
                "sarif",
            ])
            .args(extra)
            .arg(&d)
            .output()
            .unwrap();
        json(&out.stdout)
    };
    let full = sarif(&["--profile", "main"]);
    let schema: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/sarif-schema-2.1.0.json"),
        )
        .unwrap(),
    )
    .unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let errors: Vec<String> = validator
        .iter_errors(&full)
        .map(|e| e.to_string())
        .collect();
    assert!(errors.is_empty(), "{errors:?}");
    let flows = |v: &serde_json::Value| -> Vec<serde_json::Value> {
        v["runs"][0]["results"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["codeFlows"].is_array())
            .cloned()
            .collect()
    };
    let results = flows(&full);
    assert_eq!(results.len(), 2, "{full:#}");
    for r in &results {
        let steps = r["codeFlows"][0]["threadFlows"][0]["locations"]
            .as_array()
            .expect("a data-flow finding carries its trace");
        assert!(steps.len() >= 2, "source and sink at least: {r:#}");
        let first = steps[0]["location"]["physicalLocation"]["region"]["startLine"].as_u64();
        let last =
            steps.last().unwrap()["location"]["physicalLocation"]["region"]["startLine"].as_u64();
        assert!(first < last, "the trace runs from source to sink");
    }
    let pr = sarif(&["--diff-base", "main"]);
    let results = flows(&pr);
    assert_eq!(results.len(), 1, "only the new flow: {pr:#}");
    assert!(
        pr["runs"][0]["results"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["locations"][0]["physicalLocation"]["region"]["startLine"] != 6),
        "nothing on the untouched line 6"
    );
    assert_eq!(
        results[0]["locations"][0]["physicalLocation"]["region"]["startLine"],
        10
    );
}

fn gitlab_schema(name: &str) -> jsonschema::Validator {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/gitlab")
        .join(name);
    let schema: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).expect("schema file"))
            .expect("schema JSON");
    jsonschema::validator_for(&schema).expect("schema compiles")
}

#[test]
fn gitlab_reports_split_findings_by_type_and_match_their_schemas() {
    let t = tempfile::tempdir().unwrap();
    let db = fixture_db(t.path());
    let d = t.path().join("repo");
    std::fs::create_dir(&d).unwrap();
    let head = repo_with_history(&d).head();
    let render = |format: &str| {
        let out = pipeguard()
            .args([
                "scan",
                "--profile",
                "main",
                "--no-cache",
                "--no-progress",
                "-f",
                format,
            ])
            .arg("--db")
            .arg(&db)
            .arg(&d)
            .env_remove("CI_COMMIT_SHA")
            .env_remove("GITHUB_SHA")
            .env_remove("GITHUB_EVENT_NAME")
            .output()
            .unwrap();
        assert_eq!(
            out.status.code(),
            Some(1),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(
            !text.contains(&password("old")),
            "no secret in a {format} report"
        );
        json(&out.stdout)
    };
    let cases = [
        (
            "gitlab-secret-detection",
            "secret-detection-report-format.json",
            "secret_detection",
        ),
        (
            "gitlab-dependency-scanning",
            "dependency-scanning-report-format.json",
            "dependency_scanning",
        ),
        ("gitlab-sast", "sast-report-format.json", "sast"),
    ];
    let mut total = 0;
    for (format, schema, scan_type) in cases {
        let v = render(format);
        let errors: Vec<String> = gitlab_schema(schema)
            .iter_errors(&v)
            .map(|e| format!("{e} at {}", e.instance_path()))
            .collect();
        assert!(
            errors.is_empty(),
            "{format}: GitLab would refuse it: {errors:?}\n{v:#}"
        );
        assert_eq!(v["scan"]["type"], scan_type);
        let vulns = v["vulnerabilities"].as_array().unwrap();
        assert!(!vulns.is_empty(), "{format} is empty");
        total += vulns.len();
        match scan_type {
            "secret_detection" => {
                // Working-tree secrets are attributed to the scanned commit.
                assert!(vulns.iter().all(|x| {
                    x["location"]["commit"]["sha"]
                        .as_str()
                        .is_some_and(|s| s.len() == 40)
                }));
                assert!(
                    vulns
                        .iter()
                        .any(|x| x["location"]["commit"]["sha"] == head.as_str())
                );
                assert!(
                    vulns
                        .iter()
                        .any(|x| x["location"]["file"] == "config/settings.py")
                );
            }
            "dependency_scanning" => {
                assert!(
                    vulns
                        .iter()
                        .all(|x| x["location"]["dependency"]["package"]["name"] == "requests")
                );
                assert!(
                    vulns
                        .iter()
                        .all(|x| x["location"]["dependency"]["version"] == "2.19.0")
                );
                assert!(vulns.iter().any(|x| {
                    x["identifiers"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .any(|i| i["type"] == "cve")
                }));
            }
            _ => {
                let files: Vec<&str> = vulns
                    .iter()
                    .filter_map(|x| x["location"]["file"].as_str())
                    .collect();
                assert!(
                    files.contains(&".github/workflows/ci.yml") && files.contains(&"Dockerfile"),
                    "{files:?}"
                );
                assert!(
                    !files.contains(&"config/settings.py") && !files.contains(&"requirements.txt"),
                    "secrets and advisories stay in their own reports: {files:?}"
                );
            }
        }
    }
    // Together the three reports carry every finding of the scan (one
    // vulnerability per place).
    let all = {
        let out = pipeguard()
            .args([
                "scan",
                "--profile",
                "main",
                "--no-cache",
                "--no-progress",
                "-f",
                "json",
            ])
            .arg("--db")
            .arg(&db)
            .arg(&d)
            .env_remove("GITHUB_EVENT_NAME")
            .output()
            .unwrap();
        json(&out.stdout)
    };
    let places: usize = findings(&all)
        .iter()
        .map(|f| f["locations"].as_array().unwrap().len())
        .sum();
    assert_eq!(total, places);
}

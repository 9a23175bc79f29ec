//! The CI integrations shipped in the repository: the GitHub Action's scan
//! script, the GitLab CI template and the pre-commit hooks are run for real
//! against repositories made in the test, and audited by pipeguard itself.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;
use saphyr::{LoadableYamlNode, Yaml};

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// A mapping's value by key (`None` when absent, where indexing would panic).
fn get<'a>(y: &'a Yaml<'static>, key: &str) -> Option<&'a Yaml<'static>> {
    y.as_mapping()?
        .iter()
        .find(|(k, _)| k.as_str() == Some(key))
        .map(|(_, v)| v)
}

fn load(path: &str) -> Yaml<'static> {
    let text = std::fs::read_to_string(repo_root().join(path)).expect("integration file");
    let text: &'static str = Box::leak(text.into_boxed_str());
    Yaml::load_from_str(text).expect("valid YAML").remove(0)
}

/// A directory holding only the freshly built `pipeguard`, for PATH.
fn bin_dir() -> PathBuf {
    let exe = assert_cmd::cargo::cargo_bin("pipeguard");
    exe.parent().expect("bin dir").to_path_buf()
}

fn path_env() -> String {
    format!(
        "{}:{}",
        bin_dir().display(),
        std::env::var("PATH").unwrap_or_default()
    )
}

fn repo_with_a_pr(d: &Path) -> GitRepo {
    let repo = GitRepo::init(d);
    repo.write("README.md", "hello\n").commit_all("base");
    repo.git(&["update-ref", "refs/remotes/origin/main", "main"]);
    repo.branch("feature");
    repo.write("app.py", format!("password = \"{}\"\n", password("act")))
        .commit_all("feature");
    repo
}

#[test]
fn pipeguard_audits_its_own_integrations_clean() {
    for file in ["action.yml", "ci/pipeguard.gitlab-ci.yml"] {
        pipeguard()
            .args(["ci", "--no-progress"])
            .arg(repo_root().join(file))
            .assert()
            .code(0);
    }
}

#[test]
fn the_github_action_scan_step_writes_sarif_summary_and_exit_code() {
    let action = load("action.yml");
    let steps = action["runs"]["steps"].as_vec().unwrap();
    let scan = steps
        .iter()
        .find(|s| get(s, "id").and_then(|v| v.as_str()) == Some("scan"))
        .expect("a step with id scan");
    let script = scan["run"].as_str().unwrap();
    let t = tempfile::tempdir().unwrap();
    let d = t.path().join("repo");
    std::fs::create_dir(&d).unwrap();
    repo_with_a_pr(&d);
    let out_file = t.path().join("github_output");
    let summary = t.path().join("summary.md");
    std::fs::write(&summary, "").unwrap();
    let out = Command::new("bash")
        .arg("-c")
        .arg(script)
        .current_dir(&d)
        .env("PATH", path_env())
        .env("PG_PATH", ".")
        .env("PG_PROFILE", "")
        .env("PG_FAIL_ON", "")
        .env("PG_ARGS", "--no-cache --only secrets")
        .env("PG_SARIF", "pipeguard.sarif")
        .env("GITHUB_OUTPUT", &out_file)
        .env("GITHUB_STEP_SUMMARY", &summary)
        .env("RUNNER_TEMP", t.path())
        .env("GITHUB_EVENT_NAME", "pull_request")
        .env("GITHUB_BASE_REF", "main")
        .env("HOME", t.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "the step itself succeeds; the exit code is an output"
    );
    assert!(
        stdout.contains("::error file=app.py,line=1"),
        "annotations on the PR's line: {stdout}"
    );
    assert!(!stdout.contains(&password("act")));
    assert_eq!(
        std::fs::read_to_string(&out_file).unwrap().trim(),
        "exit-code=1"
    );
    let sarif = json(&std::fs::read(d.join("pipeguard.sarif")).unwrap());
    assert_eq!(sarif["runs"][0]["results"].as_array().unwrap().len(), 1);
    let md = std::fs::read_to_string(&summary).unwrap();
    assert!(md.contains("app.py"), "{md}");
}

#[test]
fn the_gitlab_template_script_produces_all_four_reports() {
    let tpl = load("ci/pipeguard.gitlab-ci.yml");
    let job = &tpl["pipeguard"];
    let script: Vec<&str> = job["script"]
        .as_vec()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap())
        .collect();
    let reports = job["artifacts"]["reports"].as_mapping().unwrap();
    let t = tempfile::tempdir().unwrap();
    let d = t.path().join("repo");
    std::fs::create_dir(&d).unwrap();
    let base = repo_with_a_pr(&d).rev_parse("main");
    for line in script {
        let out = Command::new("sh")
            .arg("-c")
            .arg(line)
            .current_dir(&d)
            .env("PATH", path_env())
            .env("PIPEGUARD_ARGS", "--no-cache")
            .env("CI_MERGE_REQUEST_DIFF_BASE_SHA", &base)
            .env("HOME", t.path())
            .output()
            .unwrap();
        assert_eq!(
            out.status.code(),
            Some(1),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    for (kind, file) in reports {
        let file = d.join(file.as_str().unwrap());
        assert!(file.is_file(), "{:?} report missing", kind.as_str());
    }
    let secrets = json(&std::fs::read(d.join("gl-secret-detection-report.json")).unwrap());
    let v = secrets["vulnerabilities"].as_array().unwrap();
    assert_eq!(v.len(), 1, "only the merge request's secret");
    assert_eq!(v[0]["location"]["file"], "app.py");
}

#[test]
fn the_pre_commit_hooks_block_a_staged_secret() {
    let hooks = load(".pre-commit-hooks.yaml");
    let hooks = hooks.as_vec().unwrap();
    let entry = |id: &str| {
        hooks
            .iter()
            .find(|h| get(h, "id").and_then(|v| v.as_str()) == Some(id))
            .and_then(|h| h["entry"].as_str())
            .unwrap_or_else(|| panic!("hook {id}"))
            .to_string()
    };
    let t = tempfile::tempdir().unwrap();
    let d = t.path().join("repo");
    std::fs::create_dir(&d).unwrap();
    let repo = GitRepo::init(&d);
    repo.write("README.md", "hello\n").commit_all("base");
    let run = |e: &str| {
        Command::new("sh")
            .arg("-c")
            .arg(e)
            .current_dir(&d)
            .env("PATH", path_env())
            .env("HOME", t.path())
            .output()
            .unwrap()
            .status
            .code()
    };
    assert_eq!(run(&entry("pipeguard-secrets")), Some(0), "nothing staged");
    assert_eq!(run(&entry("pipeguard-scan")), Some(0));
    write(
        &d,
        "deploy.sh",
        format!("password=\"{}\"\n", password("hook")),
    );
    repo.git(&["add", "deploy.sh"]);
    assert_eq!(
        run(&entry("pipeguard-secrets")),
        Some(1),
        "the staged secret blocks the commit"
    );
    assert_eq!(run(&entry("pipeguard-scan")), Some(1));
}

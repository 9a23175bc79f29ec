//! The permission calculator end to end (issue #15): suggested blocks for
//! the actions users hit, unknown jobs left alone, `--fix` round trips, the
//! policy's `[ci.actions]`, local composite actions, and files audited by
//! their content wherever they live.

use std::collections::BTreeMap;
use std::path::Path;

use pipeguard_ci::{CiFile, Settings, classify_text, fix, model, permissions, yaml};

/// `--suggest-permissions` for one workflow text, as `job → block`.
fn suggest(text: &str, settings: &Settings) -> BTreeMap<String, String> {
    let tmp = tempfile::tempdir().expect("tmp");
    // Deliberately outside `.github/workflows/`: explicit files are read
    // by their content.
    let file = tmp.path().join("release.yml");
    std::fs::write(&file, text).expect("write");
    pipeguard_ci::suggest_permissions(&file, settings)
        .into_iter()
        .map(|(_, job, block)| (job, block))
        .collect()
}

fn workflow(on: &str, env: &str, steps: &str) -> String {
    format!(
        "name: t\non: {on}\n{env}jobs:\n  job:\n    runs-on: ubuntu-latest\n    steps:\n{steps}"
    )
}

/// One case per action the issue names or the knowledge base gained for
/// it, in the shape its README shows: the exact block suggested.
#[test]
fn suggested_blocks_for_the_actions_of_issue_15() {
    let cases: &[(&str, &str, &str, &str)] = &[
        (
            "dessant/lock-threads (regression: `permissions: {}`)",
            "schedule",
            "      - uses: dessant/lock-threads@v5\n        with:\n          issue-inactive-days: '30'\n",
            "permissions:\n  discussions: write\n  issues: write\n  pull-requests: write",
        ),
        (
            "cirrus-actions/rebase (regression: --fix wrote contents: read)",
            "issue_comment",
            "      - uses: actions/checkout@v4\n        with:\n          fetch-depth: 0\n      - uses: cirrus-actions/rebase@1.8\n        env:\n          GITHUB_TOKEN: ${{ secrets.GITHUB_TOKEN }}\n",
            "permissions:\n  contents: write\n  pull-requests: read",
        ),
        (
            "zaproxy/action-baseline (regression: --fix wrote contents: read)",
            "schedule",
            "      - uses: zaproxy/action-baseline@v0.14.0\n        with:\n          target: 'https://www.zaproxy.org'\n",
            "permissions:\n  issues: write",
        ),
        (
            "zaproxy/action-full-scan without issue writing",
            "schedule",
            "      - uses: zaproxy/action-full-scan@v0.12.0\n        with:\n          target: 'https://example.com'\n          allow_issue_writing: false\n",
            "permissions: {}",
        ),
        (
            "ossf/scorecard-action (README workflow)",
            "push",
            "      - uses: actions/checkout@v4\n        with:\n          persist-credentials: false\n      - uses: ossf/scorecard-action@v2.4.0\n        with:\n          results_file: results.sarif\n          results_format: sarif\n          publish_results: true\n      - uses: actions/upload-artifact@v4\n        with:\n          name: SARIF file\n          path: results.sarif\n      - uses: github/codeql-action/upload-sarif@v3\n        with:\n          sarif_file: results.sarif\n",
            "permissions:\n  actions: read\n  contents: read\n  id-token: write\n  security-events: write",
        ),
        (
            "zizmorcore/zizmor-action uploading SARIF (default)",
            "push",
            "      - uses: actions/checkout@v4\n        with:\n          persist-credentials: false\n      - uses: zizmorcore/zizmor-action@v0.1.1\n",
            "permissions:\n  actions: read\n  contents: read\n  security-events: write",
        ),
        (
            "zizmorcore/zizmor-action without advanced security",
            "push",
            "      - uses: zizmorcore/zizmor-action@v0.1.1\n        with:\n          advanced-security: false\n",
            "permissions:\n  actions: read\n  contents: read",
        ),
        (
            "rust-lang/crates-io-auth-action",
            "push",
            "      - uses: actions/checkout@v4\n      - uses: rust-lang/crates-io-auth-action@v1\n        id: auth\n      - run: cargo publish\n        env:\n          CARGO_REGISTRY_TOKEN: ${{ steps.auth.outputs.token }}\n",
            "permissions:\n  contents: read\n  id-token: write",
        ),
        (
            "DataDog/dd-octo-sts-action",
            "push",
            "      - uses: DataDog/dd-octo-sts-action@v1\n        with:\n          scope: DataDog/repo\n          policy: self.release\n",
            "permissions:\n  id-token: write",
        ),
        (
            "pypa/gh-action-pypi-publish (trusted publishing)",
            "release",
            "      - uses: actions/download-artifact@v4\n        with:\n          name: dist\n          path: dist/\n      - uses: pypa/gh-action-pypi-publish@release/v1\n",
            "permissions:\n  id-token: write",
        ),
        (
            "uv publish --trusted-publishing",
            "release",
            "      - uses: actions/checkout@v4\n      - uses: astral-sh/setup-uv@v6\n      - run: uv build\n      - run: uv publish --trusted-publishing always\n",
            "permissions:\n  contents: read\n  id-token: write",
        ),
        (
            "uv publish",
            "release",
            "      - uses: actions/checkout@v4\n      - uses: astral-sh/setup-uv@v6\n      - run: |\n          uv build\n          uv publish\n",
            "permissions:\n  contents: read\n  id-token: write",
        ),
        (
            "docker/login-action to ghcr.io through env, build-push-action push: true",
            "push",
            "      - uses: actions/checkout@v4\n      - uses: docker/login-action@v3\n        with:\n          registry: ${{ env.REGISTRY }}\n          username: ${{ github.actor }}\n          password: ${{ secrets.GITHUB_TOKEN }}\n      - uses: docker/build-push-action@v6\n        with:\n          push: true\n          tags: ${{ env.REGISTRY }}/${{ github.repository }}:latest\n",
            "permissions:\n  contents: read\n  packages: write",
        ),
        (
            "docker/login-action to ghcr.io without a push (pull a private image)",
            "push",
            "      - uses: docker/login-action@v3\n        with:\n          registry: ghcr.io\n          username: ${{ github.actor }}\n          password: ${{ secrets.GITHUB_TOKEN }}\n      - run: docker pull ghcr.io/acme/base:1\n",
            "permissions:\n  packages: read",
        ),
        (
            "docker/login-action to ghcr.io, then `docker buildx build --push` of an env image",
            "push",
            "      - uses: docker/login-action@v3\n        with:\n          registry: ghcr.io\n          username: ${{ github.actor }}\n          password: ${{ github.token }}\n      - run: docker buildx build --push -t \"$IMAGE\" .\n        env:\n          IMAGE: ghcr.io/${{ github.repository }}:edge\n",
            "permissions:\n  packages: write",
        ),
        (
            "docker/build-push-action to Docker Hub",
            "push",
            "      - uses: docker/login-action@v3\n        with:\n          username: ${{ secrets.DOCKERHUB_USERNAME }}\n          password: ${{ secrets.DOCKERHUB_TOKEN }}\n      - uses: docker/build-push-action@v6\n        with:\n          push: true\n          tags: acme/app:latest\n",
            "permissions: {}",
        ),
        (
            "goreleaser/goreleaser-action",
            "push",
            "      - uses: actions/checkout@v4\n        with:\n          fetch-depth: 0\n      - uses: actions/setup-go@v5\n      - uses: goreleaser/goreleaser-action@v6\n        with:\n          args: release --clean\n        env:\n          GITHUB_TOKEN: ${{ secrets.GITHUB_TOKEN }}\n",
            "permissions:\n  contents: write",
        ),
        (
            "softprops/action-gh-release",
            "push",
            "      - uses: actions/checkout@v4\n      - uses: softprops/action-gh-release@v2\n        with:\n          files: dist/*\n",
            "permissions:\n  contents: write",
        ),
        (
            "peter-evans/create-pull-request",
            "schedule",
            "      - uses: actions/checkout@v4\n      - run: ./update.sh\n      - uses: peter-evans/create-pull-request@v7\n",
            "permissions:\n  contents: write\n  pull-requests: write",
        ),
        (
            "stefanzweifel/git-auto-commit-action",
            "push",
            "      - uses: actions/checkout@v4\n      - run: npm run format\n      - uses: stefanzweifel/git-auto-commit-action@v5\n",
            "permissions:\n  contents: write",
        ),
        (
            "googleapis/release-please-action",
            "push",
            "      - uses: googleapis/release-please-action@v4\n        with:\n          release-type: node\n",
            "permissions:\n  contents: write\n  pull-requests: write",
        ),
        (
            "changesets/action",
            "push",
            "      - uses: actions/checkout@v4\n      - uses: changesets/action@v1\n        env:\n          GITHUB_TOKEN: ${{ secrets.GITHUB_TOKEN }}\n",
            "permissions:\n  contents: write\n  pull-requests: write",
        ),
        (
            "actions/stale",
            "schedule",
            "      - uses: actions/stale@v9\n        with:\n          days-before-stale: 30\n",
            "permissions:\n  issues: write\n  pull-requests: write",
        ),
        (
            "actions/labeler",
            "pull_request_target",
            "      - uses: actions/labeler@v5\n",
            "permissions:\n  contents: read\n  pull-requests: write",
        ),
        (
            "amannn/action-semantic-pull-request",
            "pull_request_target",
            "      - uses: amannn/action-semantic-pull-request@v5\n        env:\n          GITHUB_TOKEN: ${{ secrets.GITHUB_TOKEN }}\n",
            "permissions:\n  pull-requests: read",
        ),
        (
            "marocchino/sticky-pull-request-comment",
            "pull_request",
            "      - uses: marocchino/sticky-pull-request-comment@v2\n        with:\n          message: hi\n",
            "permissions:\n  pull-requests: write",
        ),
        (
            "github/codeql-action/init + analyze",
            "push",
            "      - uses: actions/checkout@v4\n      - uses: github/codeql-action/init@v3\n        with:\n          languages: go\n      - uses: github/codeql-action/analyze@v3\n",
            "permissions:\n  actions: read\n  contents: read\n  security-events: write",
        ),
    ];
    let mut failures = Vec::new();
    for (what, on, steps, want) in cases {
        let got = suggest(&workflow(on, "", steps), &Settings::default());
        let got = got.get("job").map(String::as_str).unwrap_or("(no job)");
        if got != *want {
            failures.push(format!("{what}:\n  want {want:?}\n  got  {got:?}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Every action of the knowledge base, used alone with no inputs, is known
/// (the data loads and the matcher finds each entry), except
/// `actions/github-script`, whose script decides.
#[test]
fn every_knowledge_base_action_is_known() {
    let text = include_str!("../data/actions.toml");
    let uses: Vec<&str> = text
        .lines()
        .filter_map(|l| l.strip_prefix("uses = \""))
        .filter_map(|l| l.strip_suffix('"'))
        .filter(|u| *u != "actions/github-script")
        .collect();
    assert!(uses.len() >= 250, "{}", uses.len());
    let mut steps = String::new();
    for u in &uses {
        steps.push_str(&format!("      - uses: {u}@v1\n"));
    }
    let got = suggest(&workflow("push", "", &steps), &Settings::default());
    assert!(
        got.get("job")
            .is_some_and(|b| b.starts_with("permissions:")),
        "{got:?}"
    );
}

const UNKNOWN: &str = "name: release
on:
  push:
    tags: ['v*']
jobs:
  release:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - uses: acme/publish-everything@v2
        with:
          token: ${{ secrets.GITHUB_TOKEN }}
  local:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - uses: ./.github/actions/missing
  docker:
    runs-on: ubuntu-latest
    steps:
      - uses: docker://ghcr.io/acme/tool:1
  script:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/github-script@v7
        with:
          script: 'await github.rest.issues.lock({ ...context.repo, issue_number: 1 })'
  api:
    runs-on: ubuntu-latest
    steps:
      - run: gh api -X PUT repos/${{ github.repository }}/topics -f names[]=x
";

#[test]
fn unknown_jobs_get_no_block_and_fix_leaves_them_byte_identical() {
    let got = suggest(UNKNOWN, &Settings::default());
    for (job, unknown) in [
        ("release", "acme/publish-everything"),
        ("local", "./.github/actions/missing"),
        ("docker", "docker://ghcr.io/acme/tool:1"),
        ("script", "actions/github-script"),
        ("api", "gh api"),
    ] {
        let block = got.get(job).map(String::as_str).unwrap_or("");
        assert!(
            block.starts_with("# permissions unknown:") && block.contains(unknown),
            "{job}: {block}"
        );
        assert!(!block.contains("permissions:\n"), "{job}: {block}");
    }
    // `--fix` changes nothing in a file whose every job is unknown …
    assert_eq!(fix::fix_text("release.yml", UNKNOWN), None);
    // … and no line of an unknown job when a known job is fixed beside it.
    let mixed = format!(
        "{UNKNOWN}  known:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: actions/checkout@v4\n"
    );
    let fixed = fix::fix_text("release.yml", &mixed).expect("the known job is fixed");
    assert_eq!(
        fixed,
        mixed.replace(
            "  known:\n",
            "  known:\n    permissions:\n      contents: read\n"
        )
    );
    // The audit does not call a scope unused where it cannot see.
    let declared = UNKNOWN.replace(
        "  release:\n",
        "  release:\n    permissions:\n      contents: write\n      packages: write\n",
    );
    let findings =
        pipeguard_ci::audit_text("release.yml", CiFile::GithubWorkflow, &declared).expect("ok");
    assert!(
        !findings
            .iter()
            .any(|f| f.rule_id == "excessive-permissions" && f.message.contains("`release`")),
        "{:?}",
        findings.iter().map(|f| &f.message).collect::<Vec<_>>()
    );
}

#[test]
fn a_declared_action_is_known() {
    let mut settings = Settings::default();
    settings.actions.insert(
        "acme/publish-everything".into(),
        BTreeMap::from([
            ("contents".to_string(), "write".to_string()),
            ("packages".to_string(), "write".to_string()),
        ]),
    );
    let got = suggest(UNKNOWN, &settings);
    assert_eq!(
        got.get("release").map(String::as_str),
        Some("permissions:\n  contents: write\n  packages: write")
    );
}

#[test]
fn a_local_composite_action_is_read_from_the_repository() {
    let tmp = tempfile::tempdir().expect("tmp");
    let root = tmp.path();
    std::fs::create_dir_all(root.join(".github/actions/comment")).expect("mkdir");
    std::fs::create_dir_all(root.join(".github/actions/node")).expect("mkdir");
    std::fs::create_dir_all(root.join(".github/workflows")).expect("mkdir");
    std::fs::write(
        root.join(".github/actions/comment/action.yml"),
        "name: comment\nruns:\n  using: composite\n  steps:\n    - run: gh pr comment \"$PR\" --body done\n      shell: bash\n",
    )
    .expect("write");
    std::fs::write(
        root.join(".github/actions/node/action.yml"),
        "name: js\nruns:\n  using: node20\n  main: index.js\n",
    )
    .expect("write");
    std::fs::write(
        root.join(".github/workflows/ci.yml"),
        "on: pull_request\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: actions/checkout@v4\n      - uses: ./.github/actions/comment\n  b:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: actions/checkout@v4\n      - uses: ./.github/actions/node\n",
    )
    .expect("write");
    std::fs::write(
        root.join(".github/workflows/release.yml"),
        "on: workflow_call\njobs:\n  publish:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: softprops/action-gh-release@v2\n",
    )
    .expect("write");
    std::fs::write(
        root.join(".github/workflows/caller.yml"),
        "on: push\njobs:\n  local:\n    uses: ./.github/workflows/release.yml\n  remote:\n    uses: acme/workflows/.github/workflows/release.yml@v1\n",
    )
    .expect("write");
    let settings = Settings {
        root: Some(root.to_path_buf()),
        ..Settings::default()
    };
    let got: BTreeMap<String, String> = pipeguard_ci::suggest_permissions(root, &settings)
        .into_iter()
        .map(|(_, j, b)| (j, b))
        .collect();
    assert_eq!(
        got.get("a").map(String::as_str),
        Some("permissions:\n  contents: read\n  pull-requests: write")
    );
    assert!(
        got.get("b")
            .is_some_and(|b| b.contains("unknown") && b.contains("./.github/actions/node")),
        "{got:?}"
    );
    // Reusable workflows: the repository's own is read, another is unknown.
    assert_eq!(
        got.get("local").map(String::as_str),
        Some("permissions:\n  contents: write")
    );
    assert!(
        got.get("remote")
            .is_some_and(|b| b.contains("unknown") && b.contains("acme/workflows")),
        "{got:?}"
    );
}

/// The `--fix` round trip over every workflow fixture: every rewritten file
/// still parses, and every job that got a block keeps every scope its
/// steps need according to the knowledge base.
#[test]
fn fix_round_trip_over_all_workflow_fixtures_keeps_needed_permissions() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let mut files = Vec::new();
    for dir in std::fs::read_dir(&root).expect("fixtures") {
        let dir = dir.expect("entry").path();
        for f in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let p = f.path();
            let name = p.to_string_lossy().into_owned();
            if name.ends_with(".yml") && !name.contains("gitlab-ci") && p.is_file() {
                files.push(p);
            }
        }
    }
    files.sort();
    let mut fixed_files = 0;
    for file in &files {
        let text = std::fs::read_to_string(file).expect("read");
        let rel = file.to_string_lossy().into_owned();
        let Some(fixed) = fix::fix_text(&rel, &text) else {
            continue;
        };
        fixed_files += 1;
        let before = yaml::load(&text).expect("the fixture parses");
        let after = yaml::load(&fixed).unwrap_or_else(|e| panic!("{rel}: {e:?}\n{fixed}"));
        for (b, a) in before.iter().zip(&after) {
            let (Some(wb), Some(wa)) = (
                model::Workflow::from_node(&rel, b),
                model::Workflow::from_node(&rel, a),
            ) else {
                continue;
            };
            for (jb, ja) in wb.jobs.iter().zip(&wa.jobs) {
                assert_eq!(jb.id, ja.id);
                let needs = permissions::job_needs(&wb, jb);
                if jb.permissions.is_some() || ja.permissions.is_none() {
                    continue;
                }
                assert!(
                    needs.known(),
                    "{rel}: job {} was fixed though unknown",
                    jb.id
                );
                let granted = ja.permissions.expect("a block");
                for (scope, access) in &needs.scopes {
                    let g = granted.get(scope).and_then(|v| v.str());
                    assert!(
                        g == Some("write") || g == Some(access.as_str()),
                        "{rel}: job {} needs {scope}: {access}, got {g:?}",
                        jb.id
                    );
                }
                // And recomputing on the fixed file gives the same needs.
                assert_eq!(needs, permissions::job_needs(&wa, ja), "{rel}: {}", jb.id);
            }
        }
    }
    assert!(fixed_files >= 5, "only {fixed_files} fixtures were fixed");
}

#[test]
fn files_are_classified_by_content() {
    assert_eq!(
        classify_text("on: push\njobs:\n  a:\n    runs-on: x\n    steps: []\n"),
        Some(CiFile::GithubWorkflow)
    );
    assert_eq!(
        classify_text("name: x\nruns:\n  using: composite\n  steps: []\n"),
        Some(CiFile::Action)
    );
    assert_eq!(
        classify_text("stages: [test]\ntest:\n  script: make\n"),
        Some(CiFile::Gitlab)
    );
    assert_eq!(
        classify_text("build:\n  image: rust\n  script:\n    - cargo build\n"),
        Some(CiFile::Gitlab)
    );
    assert_eq!(classify_text("name: x\nversion: 2\n"), None);
    assert_eq!(
        classify_text("name: js\nruns:\n  using: node20\n  main: x.js\n"),
        None
    );
}

//! What the `GITHUB_TOKEN` of a job needs, from what its steps do: the
//! documented needs of well-known actions and the `gh`/`git` commands in its
//! scripts. Used to compute the minimal `permissions:` block and to spot
//! write scopes nobody uses.

use std::collections::BTreeMap;

use crate::model::{Job, Step};

/// (action prefix, scope, access). Prefixes match `owner/repo[/path]`.
const ACTIONS: &[(&str, &str, &str)] = &[
    ("actions/checkout", "contents", "read"),
    ("actions/deploy-pages", "pages", "write"),
    ("actions/deploy-pages", "id-token", "write"),
    ("actions/attest-build-provenance", "attestations", "write"),
    ("actions/attest-build-provenance", "id-token", "write"),
    ("actions/attest-sbom", "attestations", "write"),
    ("actions/attest-sbom", "id-token", "write"),
    ("actions/attest", "attestations", "write"),
    ("actions/attest", "id-token", "write"),
    ("actions/labeler", "pull-requests", "write"),
    ("actions/labeler", "contents", "read"),
    ("actions/stale", "issues", "write"),
    ("actions/stale", "pull-requests", "write"),
    ("actions/dependency-review-action", "contents", "read"),
    ("github/codeql-action/init", "security-events", "write"),
    ("github/codeql-action/analyze", "security-events", "write"),
    (
        "github/codeql-action/upload-sarif",
        "security-events",
        "write",
    ),
    ("softprops/action-gh-release", "contents", "write"),
    ("ncipollo/release-action", "contents", "write"),
    ("release-drafter/release-drafter", "contents", "write"),
    ("release-drafter/release-drafter", "pull-requests", "write"),
    ("googleapis/release-please-action", "contents", "write"),
    ("googleapis/release-please-action", "pull-requests", "write"),
    ("stefanzweifel/git-auto-commit-action", "contents", "write"),
    ("EndBug/add-and-commit", "contents", "write"),
    ("peaceiris/actions-gh-pages", "contents", "write"),
    ("JamesIves/github-pages-deploy-action", "contents", "write"),
    ("peter-evans/create-pull-request", "contents", "write"),
    ("peter-evans/create-pull-request", "pull-requests", "write"),
    ("peter-evans/create-or-update-comment", "issues", "write"),
    (
        "peter-evans/create-or-update-comment",
        "pull-requests",
        "write",
    ),
    (
        "marocchino/sticky-pull-request-comment",
        "pull-requests",
        "write",
    ),
    (
        "thollander/actions-comment-pull-request",
        "pull-requests",
        "write",
    ),
    (
        "amannn/action-semantic-pull-request",
        "pull-requests",
        "read",
    ),
    ("dorny/test-reporter", "checks", "write"),
    (
        "EnricoMi/publish-unit-test-result-action",
        "checks",
        "write",
    ),
    ("goreleaser/goreleaser-action", "contents", "write"),
    ("pypa/gh-action-pypi-publish", "id-token", "write"),
    ("aws-actions/configure-aws-credentials", "id-token", "write"),
    ("google-github-actions/auth", "id-token", "write"),
    ("azure/login", "id-token", "write"),
    ("Azure/login", "id-token", "write"),
    ("dependabot/fetch-metadata", "pull-requests", "read"),
];

/// (substring of a `run:` script, scope, access).
const COMMANDS: &[(&str, &str, &str)] = &[
    ("git push", "contents", "write"),
    ("gh release create", "contents", "write"),
    ("gh release upload", "contents", "write"),
    ("gh release edit", "contents", "write"),
    ("gh pr create", "pull-requests", "write"),
    ("gh pr comment", "pull-requests", "write"),
    ("gh pr edit", "pull-requests", "write"),
    ("gh pr review", "pull-requests", "write"),
    ("gh pr merge", "contents", "write"),
    ("gh pr merge", "pull-requests", "write"),
    ("gh issue create", "issues", "write"),
    ("gh issue comment", "issues", "write"),
    ("gh issue edit", "issues", "write"),
    ("gh issue close", "issues", "write"),
    ("gh label", "issues", "write"),
    ("gh workflow run", "actions", "write"),
    ("gh run rerun", "actions", "write"),
    ("gh run cancel", "actions", "write"),
    ("gh api", "contents", "read"),
    ("npm publish --provenance", "id-token", "write"),
    ("cosign sign", "id-token", "write"),
    ("cosign attest", "id-token", "write"),
    ("ACTIONS_ID_TOKEN_REQUEST_URL", "id-token", "write"),
    ("docker push ghcr.io", "packages", "write"),
];

fn action_matches(action: &str, prefix: &str) -> bool {
    action == prefix || action.starts_with(&format!("{prefix}/"))
}

fn step_needs(step: &Step, out: &mut BTreeMap<String, String>) {
    let mut need = |scope: &str, access: &str| {
        let e = out
            .entry(scope.to_string())
            .or_insert_with(|| access.to_string());
        if access == "write" {
            *e = "write".into();
        }
    };
    if let Some(a) = step.action() {
        for (prefix, scope, access) in ACTIONS {
            if action_matches(a, prefix) {
                // Keys passed explicitly replace OIDC: no id-token needed.
                if *scope == "id-token" && !oidc_consumer(step) {
                    continue;
                }
                need(scope, access);
            }
        }
        if a.starts_with("docker/login-action")
            && step
                .input("registry")
                .and_then(|r| r.str())
                .is_some_and(|r| r.contains("ghcr.io"))
        {
            need("packages", "write");
        }
        if a.starts_with("docker/build-push-action")
            && step
                .input("tags")
                .and_then(|r| r.str())
                .is_some_and(|r| r.contains("ghcr.io"))
        {
            need("packages", "write");
        }
    }
    if let Some(run) = step.run.and_then(|r| r.str()) {
        for (pat, scope, access) in COMMANDS {
            if run.contains(pat) {
                need(scope, access);
            }
        }
    }
}

/// The smallest permissions the job's steps need, sorted by scope.
pub fn minimal(job: &Job) -> Vec<(String, String)> {
    let mut out = BTreeMap::new();
    for s in &job.steps {
        step_needs(s, &mut out);
    }
    out.into_iter().collect()
}

/// A step that exchanges the job's OIDC token for credentials.
pub fn oidc_consumer(step: &Step) -> bool {
    let has = |k: &str| step.input(k).is_some();
    match step.action() {
        Some(a) if a.starts_with("aws-actions/configure-aws-credentials") => {
            has("role-to-assume") && !has("aws-access-key-id")
        }
        Some(a) if a.starts_with("google-github-actions/auth") => has("workload_identity_provider"),
        Some(a) if a.eq_ignore_ascii_case("azure/login") => has("client-id") && !has("creds"),
        Some(a) if a.starts_with("pypa/gh-action-pypi-publish") => !has("password"),
        Some(a)
            if a.starts_with("actions/attest")
                || a.starts_with("actions/deploy-pages")
                || a.starts_with("hashicorp/vault-action")
                || a.starts_with("octo-sts/")
                || a.starts_with("chainguard-dev/actions/setup-chainctl")
                || a.starts_with("sigstore/gh-action-sigstore-python") =>
        {
            true
        }
        _ => step.run.and_then(|r| r.str()).is_some_and(|r| {
            [
                "cosign sign",
                "cosign attest",
                "npm publish --provenance",
                "ACTIONS_ID_TOKEN_REQUEST",
                "--provenance",
            ]
            .iter()
            .any(|p| r.contains(p))
        }),
    }
}

/// A job with a step whose token use we cannot see: `actions/github-script`,
/// or an action handed the token explicitly that we do not know.
pub fn opaque(job: &Job) -> bool {
    job.steps.iter().any(|s| {
        let Some(a) = s.action() else { return false };
        if a.starts_with("actions/github-script") {
            return true;
        }
        let known = ACTIONS.iter().any(|(p, _, _)| action_matches(a, p));
        let given_token = s.with.is_some_and(|w| {
            w.scalars().iter().any(|n| {
                n.str()
                    .is_some_and(|t| t.contains("GITHUB_TOKEN") || t.contains("github.token"))
            })
        });
        !known && given_token
    })
}

//! What the `GITHUB_TOKEN` of a job needs, from what its steps do: the
//! documented needs of well-known actions and the `gh`/`git` commands in its
//! scripts. Used to compute the minimal `permissions:` block and to spot
//! write scopes nobody uses.

use std::collections::BTreeMap;

use crate::model::{Job, Step};

/// The knowledge base, `data/actions.toml`: what the token needs for
/// well-known actions and shell commands. Data, so that adding an action is
/// one entry, reviewed with its source.
#[derive(Debug, serde::Deserialize)]
struct Knowledge {
    #[serde(default)]
    action: Vec<ActionEntry>,
    #[serde(default)]
    command: Vec<CommandEntry>,
}

#[derive(Debug, serde::Deserialize)]
struct ActionEntry {
    uses: String,
    #[serde(default)]
    needs: BTreeMap<String, String>,
    /// A condition in plain words; only unconditional entries are applied,
    /// the conditional ones (ghcr pushes, OIDC modes) are handled in code.
    #[serde(default)]
    when: String,
}

#[derive(Debug, serde::Deserialize)]
struct CommandEntry {
    pattern: String,
    #[serde(default)]
    needs: BTreeMap<String, String>,
    #[serde(default)]
    skip: bool,
}

fn knowledge() -> &'static Knowledge {
    static K: std::sync::OnceLock<Knowledge> = std::sync::OnceLock::new();
    K.get_or_init(|| {
        toml::from_str(include_str!("../data/actions.toml")).unwrap_or(Knowledge {
            action: Vec::new(),
            command: Vec::new(),
        })
    })
}

/// The best (longest) command entry for one simple command of a script.
fn command_entry(segment: &str) -> Option<&'static CommandEntry> {
    let words: Vec<&str> = segment.split_whitespace().collect();
    knowledge()
        .command
        .iter()
        .filter(|c| {
            let p: Vec<&str> = c.pattern.split_whitespace().collect();
            !p.is_empty() && words.len() >= p.len() && words[..p.len()] == p[..]
        })
        .max_by_key(|c| c.pattern.split_whitespace().count())
}

/// Simple commands of a script: split on `|`, `&&`, `||`, `;`, `$(` and lines.
fn segments(script: &str) -> impl Iterator<Item = &str> {
    script
        .split(['\n', '|', '&', ';'])
        .flat_map(|s| s.split("$("))
        .map(|s| s.trim().trim_start_matches(['(', '{', '!']).trim())
        .filter(|s| !s.is_empty())
}

fn action_matches(action: &str, prefix: &str) -> bool {
    action.eq_ignore_ascii_case(prefix)
        || (action.len() > prefix.len()
            && action[..prefix.len()].eq_ignore_ascii_case(prefix)
            && action.as_bytes()[prefix.len()] == b'/')
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
        for e in knowledge()
            .action
            .iter()
            .filter(|e| e.when.is_empty() && action_matches(a, &e.uses))
        {
            for (scope, access) in &e.needs {
                need(scope, access);
            }
        }
        // OIDC is conditional on the inputs (keys passed explicitly replace it).
        if oidc_consumer(step) {
            need("id-token", "write");
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
        for seg in segments(run) {
            if let Some(c) = command_entry(seg).filter(|c| !c.skip) {
                for (scope, access) in &c.needs {
                    need(scope, access);
                }
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
/// a command such as `gh api` whose needs depend on its arguments, or an
/// action handed the token explicitly that we do not know.
pub fn opaque(job: &Job) -> bool {
    let skipped_command = job.steps.iter().any(|s| {
        s.run
            .and_then(|r| r.str())
            .is_some_and(|r| segments(r).any(|seg| command_entry(seg).is_some_and(|c| c.skip)))
    });
    skipped_command
        || job.steps.iter().any(|s| {
            let Some(a) = s.action() else { return false };
            if a.starts_with("actions/github-script") {
                return true;
            }
            let known = knowledge()
                .action
                .iter()
                .any(|e| action_matches(a, &e.uses));
            let given_token = s.with.is_some_and(|w| {
                w.scalars().iter().any(|n| {
                    n.str()
                        .is_some_and(|t| t.contains("GITHUB_TOKEN") || t.contains("github.token"))
                })
            });
            !known && given_token
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn knowledge_base_loads_and_longest_command_wins() {
        assert!(
            knowledge().action.len() >= 80,
            "{}",
            knowledge().action.len()
        );
        assert!(
            command_entry("gh pr comment 12 --body hi").is_some_and(|c| c
                .needs
                .get("pull-requests")
                .map(String::as_str)
                == Some("write"))
        );
        let list = command_entry("gh label list").map(|c| c.pattern.as_str());
        let create = command_entry("gh label create bug").map(|c| c.pattern.as_str());
        assert_ne!(list, create);
        assert!(command_entry("gh api repos/x/y").is_some_and(|c| c.skip));
    }
}

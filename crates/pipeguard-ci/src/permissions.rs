//! What the `GITHUB_TOKEN` of a job needs, from what its steps do: the
//! documented needs of well-known actions and the `gh`/`git` commands in its
//! scripts. Used to compute the minimal `permissions:` block and to spot
//! write scopes nobody uses.
//!
//! The computation is safe by construction: a step whose needs it cannot
//! derive (an action missing from the knowledge base and from the policy's
//! `[ci.actions]`, a Docker or unresolvable local action, `actions/github-script`,
//! `gh api`) makes the job's needs *unknown* ([`Needs::unknown`]). Callers
//! then give no least-privilege advice for the job: a wrong "you need
//! nothing" applied by `--fix` breaks a release, while silence costs nothing.

use std::collections::BTreeMap;

use crate::model::{Job, Step, Workflow};

/// The knowledge base, `data/actions.toml`: what the token needs for
/// well-known actions and shell commands. Data, so that adding an action is
/// one entry, reviewed with its source.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Knowledge {
    #[serde(default)]
    action: Vec<ActionEntry>,
    #[serde(default)]
    command: Vec<CommandEntry>,
}

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct ActionEntry {
    uses: String,
    #[serde(default)]
    needs: BTreeMap<String, String>,
    /// The condition in plain words, for the reader. An entry with `when`
    /// but no machine-readable `if` depends on something the workflow does
    /// not show (a config file): it counts as holding, because granting a
    /// scope too many is safe where one too few breaks the job.
    #[allow(dead_code)] // the reader's form of `cond`
    #[serde(default)]
    when: String,
    #[serde(default, rename = "if")]
    cond: Option<Cond>,
    #[serde(default)]
    oidc: bool,
    #[allow(dead_code)] // read by people reviewing the entry, and by the tests
    #[serde(default)]
    note: String,
}

/// A condition on a step, evaluated from the workflow. Every field given
/// must hold. Input values are read after `${{ env.X }}` resolution; a value
/// still holding an expression could be anything, so it satisfies `value`
/// and `contains` (again: a scope too many, never one too few).
#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Cond {
    /// The input is set (and not to `false`)…
    input: Option<String>,
    /// …to one of these values (case-insensitive)…
    #[serde(default)]
    value: Vec<String>,
    /// …or to a value containing this.
    contains: Option<String>,
    /// An unset `input` counts as holding (its default satisfies `value`).
    #[serde(default)]
    unset: bool,
    /// This input is not set.
    without: Option<String>,
    /// The workflow runs on one of these events.
    #[serde(default)]
    event: Vec<String>,
    /// Evaluated in code: `ghcr-login` (this step logs in to GHCR with the
    /// job's token) or `ghcr-push` (the job logs in to GHCR so, or this step
    /// tags `ghcr.io`, and this step pushes; for a login or goreleaser step:
    /// the job pushes an image).
    check: Option<String>,
}

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct CommandEntry {
    pattern: String,
    #[serde(default)]
    needs: BTreeMap<String, String>,
    #[serde(default)]
    skip: bool,
    #[allow(dead_code)] // documentation of the entry
    #[serde(default)]
    when: String,
    /// Documentation: a command's OIDC use depends on flags the entry's
    /// `when` describes, so [`oidc_consumer`] decides from the script.
    #[allow(dead_code)]
    #[serde(default)]
    oidc: bool,
    #[allow(dead_code)] // documentation of the entry
    #[serde(default)]
    note: String,
}

fn knowledge() -> &'static Knowledge {
    static K: std::sync::OnceLock<Knowledge> = std::sync::OnceLock::new();
    K.get_or_init(|| {
        // A broken knowledge base makes every action unknown, which is safe
        // (no advice at all); the unit test below keeps it from shipping.
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
            && action.is_char_boundary(prefix.len())
            && action[..prefix.len()].eq_ignore_ascii_case(prefix)
            && action.as_bytes()[prefix.len()] == b'/')
}

/// What a job's token needs.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Needs {
    /// Scope → `read` or `write`.
    pub scopes: BTreeMap<String, String>,
    /// What the computation could not see into (`owner/name` of an action
    /// missing from the knowledge base, `./local-action`, `gh api` …),
    /// sorted. When not empty, `scopes` is only a lower bound.
    pub unknown: Vec<String>,
}

impl Needs {
    /// Whether `scopes` is the whole answer.
    pub fn known(&self) -> bool {
        self.unknown.is_empty()
    }

    /// The scopes, sorted by name.
    pub fn scopes(&self) -> Vec<(String, String)> {
        self.scopes
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }

    /// The minimal `permissions:` block as YAML, or `None` when unknown.
    pub fn block(&self) -> Option<String> {
        if !self.known() {
            return None;
        }
        if self.scopes.is_empty() {
            return Some("permissions: {}".into());
        }
        let mut s = String::from("permissions:");
        for (k, v) in &self.scopes {
            s.push_str(&format!("\n  {k}: {v}"));
        }
        Some(s)
    }

    /// The unknown parts as a list for messages: "`a`, `b`".
    pub fn unknown_list(&self) -> String {
        self.unknown
            .iter()
            .map(|u| format!("`{u}`"))
            .collect::<Vec<_>>()
            .join(", ")
    }

    fn need(&mut self, scope: &str, access: &str) {
        if access == "none" {
            return;
        }
        let e = self
            .scopes
            .entry(scope.to_string())
            .or_insert_with(|| access.to_string());
        if access == "write" {
            *e = "write".into();
        }
    }

    fn unknown(&mut self, what: &str) {
        if !self.unknown.iter().any(|u| u == what) {
            self.unknown.push(what.to_string());
            self.unknown.sort();
        }
    }
}

/// A string still holding an expression after resolution: could be anything.
fn opaque_value(v: &str) -> bool {
    v.contains("${{")
}

fn mentions_job_token(v: &str) -> bool {
    v.contains("GITHUB_TOKEN") || v.contains("github.token")
}

/// A step input after `${{ env.X }}` resolution.
fn input_value(wf: &Workflow, job: &Job, step: &Step, name: &str) -> Option<String> {
    let n = step.input(name)?;
    let raw = match n.str() {
        Some(s) => s.to_string(),
        // `push: true` is a YAML boolean; its scalar text is "true".
        None => n
            .scalars()
            .iter()
            .filter_map(|s| s.str())
            .collect::<Vec<_>>()
            .join("\n"),
    };
    Some(wf.resolve(job, step, &raw).into_owned())
}

fn truthy(v: &str) -> bool {
    let v = v.trim();
    opaque_value(v) || !(v.is_empty() || v.eq_ignore_ascii_case("false"))
}

/// A `docker/login-action` step that logs in to GHCR with the job's token
/// (a registry still holding an expression may be GHCR).
fn ghcr_login(wf: &Workflow, job: &Job, step: &Step) -> bool {
    step.action()
        .is_some_and(|a| action_matches(a, "docker/login-action"))
        && input_value(wf, job, step, "registry")
            .is_some_and(|r| r.contains("ghcr.io") || opaque_value(&r))
        && input_value(wf, job, step, "password")
            .is_some_and(|p| mentions_job_token(&p) || p.contains("${{ env."))
}

/// What the job pushes to an image registry, if anything:
/// `docker/build-push-action` or `docker/bake-action` with `push: true`,
/// goreleaser, or a push command in a script.
pub fn pushes_image(wf: &Workflow, job: &Job) -> Option<String> {
    job.steps.iter().find_map(|s| {
        if let Some(a) = s.action() {
            for push_action in ["docker/build-push-action", "docker/bake-action"] {
                if action_matches(a, push_action)
                    && input_value(wf, job, s, "push").is_some_and(|v| truthy(&v))
                {
                    return Some(format!("{push_action} with push: true"));
                }
            }
            if action_matches(a, "goreleaser/goreleaser-action")
                && input_value(wf, job, s, "args").is_none_or(|v| {
                    !v.contains("--snapshot")
                        && !v.contains("--skip=publish")
                        && !v.contains("build")
                })
            {
                return Some("goreleaser/goreleaser-action".into());
            }
            if action_matches(a, "ko-build/setup-ko") {
                return None;
            }
        }
        let run = s.run.and_then(|r| r.str())?;
        segments(run).find_map(|seg| {
            if seg.contains("--dry-run") || seg.contains("localhost:") {
                return None;
            }
            let words: Vec<&str> = seg.split_whitespace().collect();
            let push = match words.as_slice() {
                ["docker" | "podman" | "buildah", "push", ..]
                | ["docker", "image", "push", ..]
                | ["helm", "push", ..]
                | ["crane", "push", ..]
                | ["oras", "push", ..]
                | ["ko", "publish" | "build" | "resolve" | "apply", ..] => {
                    !["--push=false", "--local", "-L"]
                        .iter()
                        .any(|f| words.contains(f))
                }
                ["docker", "buildx", "build" | "bake", ..] => {
                    words.contains(&"--push") || seg.contains("type=registry")
                }
                ["goreleaser", "release", ..] | ["goreleaser"] => {
                    !words.contains(&"--snapshot") && !seg.contains("--skip=publish")
                }
                _ => false,
            };
            push.then(|| words.iter().take(3).copied().collect::<Vec<_>>().join(" "))
        })
    })
}

/// Whether an entry's condition holds for this step.
fn holds(e: &ActionEntry, wf: &Workflow, job: &Job, step: &Step) -> bool {
    let Some(c) = &e.cond else {
        // Unconditional, or a condition the workflow cannot show: see `when`.
        return true;
    };
    if let Some(name) = &c.input {
        match input_value(wf, job, step, name) {
            None if !c.unset => return false,
            None => {}
            Some(v) => {
                let matches_value = c.value.is_empty()
                    || opaque_value(&v)
                    || c.value.iter().any(|x| x.eq_ignore_ascii_case(v.trim()));
                let matches_contains = c.contains.as_ref().is_none_or(|x| {
                    opaque_value(&v) || v.to_ascii_lowercase().contains(&x.to_ascii_lowercase())
                });
                if !truthy(&v) || !matches_value || !matches_contains {
                    return false;
                }
            }
        }
    }
    if let Some(name) = &c.without
        && step.input(name).is_some()
    {
        return false;
    }
    if !c.event.is_empty() && !c.event.iter().any(|ev| wf.triggered_by(ev)) {
        return false;
    }
    match c.check.as_deref() {
        None => true,
        Some("ghcr-login") => ghcr_login(wf, job, step),
        Some("ghcr-push") => {
            let logged_in = job.steps.iter().any(|s| ghcr_login(wf, job, s));
            let tagged = ["tags", "targets", "set"]
                .iter()
                .any(|k| input_value(wf, job, step, k).is_some_and(|t| t.contains("ghcr.io")));
            // The push step itself must push (`push: true`), or, for
            // goreleaser, the job's push detection must say so.
            let pushing = match step.action() {
                // A login pushes nothing itself; whatever pushes after it
                // in the job uses its credentials.
                Some(a)
                    if action_matches(a, "goreleaser/goreleaser-action")
                        || action_matches(a, "docker/login-action") =>
                {
                    pushes_image(wf, job).is_some()
                }
                _ => input_value(wf, job, step, "push").is_some_and(|v| truthy(&v)),
            };
            pushing && (logged_in || tagged)
        }
        // An unknown check in the data: hold, as for plain-words conditions.
        Some(_) => true,
    }
}

/// Reads the composite action at `./path` (relative to the repository
/// root) and adds its steps' needs; anything else there is unknown.
fn local_action(wf: &Workflow, path: &str, out: &mut Needs, depth: usize) {
    let resolved = wf.settings.root.as_ref().and_then(|root| {
        let dir = root.join(path.trim_start_matches("./"));
        ["action.yml", "action.yaml"]
            .iter()
            .find_map(|n| std::fs::read_to_string(dir.join(n)).ok())
    });
    let docs = resolved.and_then(|t| crate::yaml::load(&t).ok());
    let Some(docs) = docs else {
        out.unknown(path);
        return;
    };
    let mut composite = false;
    for doc in &docs {
        if let Some(action) = crate::model::Workflow::from_node(path, doc) {
            let action = action.with_settings(wf.settings);
            for j in &action.jobs {
                for s in &j.steps {
                    step_needs(&action, j, s, out, depth + 1);
                }
            }
            composite = true;
        }
    }
    if !composite {
        // A JavaScript or Docker action: its code decides.
        out.unknown(path);
    }
}

fn step_needs(wf: &Workflow, job: &Job, step: &Step, out: &mut Needs, depth: usize) {
    if let Some(uses) = step.uses.and_then(|u| u.str()) {
        if uses.starts_with("./") {
            if depth < 4 {
                local_action(wf, uses, out, depth);
            } else {
                out.unknown(uses);
            }
        } else if uses.starts_with("docker://") {
            out.unknown(uses);
        }
    }
    if let Some(a) = step
        .action()
        .filter(|a| !a.starts_with("./") && !a.starts_with("docker://"))
    {
        // The policy's declaration replaces the knowledge base's entry: the
        // user knows their fork or their internal action best.
        let declared = wf
            .settings
            .actions
            .iter()
            .filter(|(k, _)| action_matches(a, k))
            .max_by_key(|(k, _)| k.len());
        if let Some((_, needs)) = declared {
            for (scope, access) in needs {
                out.need(scope, access);
            }
        } else {
            let mut known = false;
            for e in knowledge()
                .action
                .iter()
                .filter(|e| action_matches(a, &e.uses))
            {
                known = true;
                if holds(e, wf, job, step) {
                    for (scope, access) in &e.needs {
                        out.need(scope, access);
                    }
                }
            }
            if !known {
                out.unknown(a);
            }
            if action_matches(a, "actions/github-script") {
                // Its script can call any API.
                out.unknown("actions/github-script");
            }
        }
        // OIDC is conditional on the inputs (keys passed explicitly replace it).
        if oidc_consumer(step) {
            out.need("id-token", "write");
        }
    }
    if let Some(run) = step.run.and_then(|r| r.str()) {
        for seg in segments(run) {
            match command_entry(seg) {
                Some(c) if c.skip => out.unknown(&c.pattern),
                Some(c) => {
                    for (scope, access) in &c.needs {
                        out.need(scope, access);
                    }
                }
                None => {}
            }
        }
    }
}

/// What the job's token needs. A reusable-workflow call needs what the
/// callee's jobs need together when the callee is in the repository
/// (`./.github/workflows/x.yml`); any other callee is unknown.
pub fn job_needs(wf: &Workflow, job: &Job) -> Needs {
    let mut out = Needs::default();
    job_needs_into(wf, job, &mut out, 0);
    out
}

fn job_needs_into(wf: &Workflow, job: &Job, out: &mut Needs, depth: usize) {
    if let Some(u) = job.uses {
        let callee = u.str().unwrap_or("reusable workflow");
        if callee.starts_with("./") && depth < 4 {
            reusable_workflow(wf, callee, out, depth);
        } else {
            out.unknown(callee);
        }
        return;
    }
    for s in &job.steps {
        step_needs(wf, job, s, out, depth);
    }
}

fn reusable_workflow(wf: &Workflow, callee: &str, out: &mut Needs, depth: usize) {
    let path = callee.split('@').next().unwrap_or(callee);
    let text =
        wf.settings.root.as_ref().and_then(|root| {
            std::fs::read_to_string(root.join(path.trim_start_matches("./"))).ok()
        });
    let docs = text.and_then(|t| crate::yaml::load(&t).ok());
    let mut found = false;
    for doc in docs.iter().flatten() {
        if let Some(called) = crate::model::Workflow::from_node(path, doc) {
            let called = called.with_settings(wf.settings);
            for j in &called.jobs {
                job_needs_into(&called, j, out, depth + 1);
            }
            found = true;
        }
    }
    if !found {
        out.unknown(callee);
    }
}

/// Whether `action` (`owner/name[/path]`) is in the knowledge base.
pub fn in_knowledge_base(action: &str) -> bool {
    knowledge()
        .action
        .iter()
        .any(|e| action_matches(action, &e.uses))
}

/// A step that exchanges the job's OIDC token: [`oidc_consumer`], or an
/// action whose knowledge-base entry says so under the step's inputs
/// (`oidc = true` and its condition holds).
pub fn exchanges_oidc(wf: &Workflow, job: &Job, step: &Step) -> bool {
    oidc_consumer(step)
        || step.action().is_some_and(|a| {
            knowledge()
                .action
                .iter()
                .filter(|e| e.oidc && action_matches(a, &e.uses))
                .any(|e| holds(e, wf, job, step))
        })
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
                || a.starts_with("sigstore/gh-action-sigstore-python")
                || a.eq_ignore_ascii_case("rust-lang/crates-io-auth-action")
                || a.eq_ignore_ascii_case("DataDog/dd-octo-sts-action") =>
        {
            true
        }
        Some(a) if a.starts_with("ossf/scorecard-action") => step
            .input("publish_results")
            .and_then(|v| v.str())
            .is_some_and(|v| v != "false"),
        Some(a) if a.starts_with("codecov/codecov-action") => step
            .input("use_oidc")
            .and_then(|v| v.str())
            .is_some_and(|v| v != "false"),
        _ => step.run.and_then(|r| r.str()).is_some_and(|r| {
            [
                "cosign sign",
                "cosign attest",
                "npm publish --provenance",
                "ACTIONS_ID_TOKEN_REQUEST",
                "--provenance",
                "--trusted-publishing",
            ]
            .iter()
            .any(|p| r.contains(p))
                // `uv publish` without a token uses trusted publishing on
                // GitHub Actions (its `--trusted-publishing` defaults to automatic).
                || segments(r).any(|seg| {
                    seg.starts_with("uv publish")
                        && !seg.contains("--token")
                        && !seg.contains("--password")
                })
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn knowledge_base_loads_and_longest_command_wins() {
        let k: Knowledge =
            toml::from_str(include_str!("../data/actions.toml")).expect("actions.toml parses");
        assert!(k.action.len() >= 250, "{}", k.action.len());
        for e in &k.action {
            assert!(!e.note.trim().is_empty(), "{} has no source note", e.uses);
            for (scope, access) in &e.needs {
                assert!(
                    pipeguard_core::policy::TOKEN_SCOPES.contains(&scope.as_str()),
                    "{}: scope {scope}",
                    e.uses
                );
                assert!(["read", "write"].contains(&access.as_str()), "{}", e.uses);
            }
            if let Some(c) = &e.cond {
                assert!(
                    c.check
                        .as_deref()
                        .is_none_or(|x| x == "ghcr-login" || x == "ghcr-push"),
                    "{}: unknown check",
                    e.uses
                );
            }
        }
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

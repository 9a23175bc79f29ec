//! GitLab CI audits over `.gitlab-ci.yml`.
//!
//! - `gitlab-unpinned-image`: an `image:` (job, default or service) without a
//!   digest; `latest` or no tag at all is called out in the message.
//! - `gitlab-unprotected-deploy-vars`: a job that uses deployment or cloud
//!   credentials (`$PROD_*`, `$AWS_SECRET_ACCESS_KEY`, `$KUBE_CONFIG`,
//!   `*_DEPLOY_TOKEN` …) without `rules:`/`only:` that restrict it to
//!   protected or default-branch pipelines, so a merge-request pipeline can
//!   reach them.
//! - `gitlab-job-token-overuse`: `CI_JOB_TOKEN` used to push (git push,
//!   registry or package uploads) from jobs that also run for merge requests.

use pipeguard_core::{Confidence, Severity, rule_meta};

use super::{Meta, NodeSink, Sink};
use crate::yaml::Node;

rule_meta! {
    /// ## What it does
    /// Flags an `image:` (job, `default:` or service) without a `@sha256:` digest; `latest` or no tag at all is called out in the message.
    /// ## Why is this bad
    /// A tag moves: whoever controls the upstream repository (or steals its credentials) changes what your pipeline runs, with your CI variables in reach.
    /// ## Example
    /// `image: node:20` in a job that deploys.
    static IMAGE = {
        id: "gitlab-unpinned-image",
        name: "GitLab CI image not pinned by digest",
        severity: Severity::Medium,
        confidence: Confidence::High,
        fix: "Pin the image by digest (`image: node:20@sha256:<digest>`); a tag can be repointed upstream.",
        cwe: &[829, 1357],
    };
}

rule_meta! {
    /// ## What it does
    /// Flags a job that uses deployment or cloud credentials (`$PROD_*`, `$AWS_SECRET_ACCESS_KEY`, `$KUBE_CONFIG`, `*_DEPLOY_TOKEN` …) without `rules:`/`only:` that restrict it to protected or default-branch pipelines.
    /// ## Why is this bad
    /// Without the restriction, a merge-request pipeline (code written by the requester) can reach the credentials.
    /// ## Example
    /// A `deploy` job with `script: kubectl --kubeconfig "$KUBE_CONFIG" apply …` and no `rules:`.
    static DEPLOY_VARS = {
        id: "gitlab-unprotected-deploy-vars",
        name: "Deployment credentials reachable from unprotected pipelines",
        severity: Severity::High,
        confidence: Confidence::Medium,
        fix: "Mark the variables Protected in the project settings and restrict the job with `rules: - if: $CI_COMMIT_REF_PROTECTED == \"true\"` (or the default branch).",
        cwe: &[668],
    };
}

rule_meta! {
    /// ## What it does
    /// Flags `CI_JOB_TOKEN` used to push (git push, registry or package uploads) from jobs that also run for merge requests.
    /// ## Why is this bad
    /// The job token carries the permissions of the user who triggered the pipeline; a merge request's code running with a push-capable token can publish or tamper with artifacts.
    /// ## Example
    /// `docker login -u gitlab-ci-token -p $CI_JOB_TOKEN … && docker push …` in a job with no `rules:`.
    static JOB_TOKEN = {
        id: "gitlab-job-token-overuse",
        name: "CI_JOB_TOKEN used to push from merge-request pipelines",
        severity: Severity::Medium,
        confidence: Confidence::Medium,
        fix: "Push only from protected-branch jobs, with a narrowly scoped deploy token or project access token, and limit the job token's allowlist.",
        cwe: &[250],
    };
}

/// The GitLab audits' metadata, for documentation and the id test.
pub static META: [&Meta; 3] = [&IMAGE, &DEPLOY_VARS, &JOB_TOKEN];

const RESERVED: &[&str] = &[
    "stages",
    "variables",
    "default",
    "include",
    "workflow",
    "image",
    "services",
    "before_script",
    "after_script",
    "cache",
    "spec",
];

fn check_image(node: &Node, key: &str, out: &mut Sink) {
    let n = node.get("name").unwrap_or(node);
    let Some(image) = n.str() else { return };
    if image.contains("@sha256:") || image.starts_with('$') {
        return;
    }
    let last = image.rsplit('/').next().unwrap_or(image);
    let detail = match last.split_once(':') {
        None => " (no tag: whatever `latest` is today)".to_string(),
        Some((_, "latest")) => " (`latest`)".to_string(),
        Some(_) => String::new(),
    };
    out.report(
        &IMAGE,
        n,
        key,
        format!("Image `{image}`{detail} is not pinned by digest."),
    );
}

fn scripts(job: &Node) -> String {
    ["before_script", "script", "after_script"]
        .iter()
        .filter_map(|k| job.get(k))
        .flat_map(|n| n.scalars())
        .filter_map(|n| n.str())
        .collect::<Vec<_>>()
        .join("\n")
}

fn sensitive_var(script: &str) -> Option<String> {
    let re = sensitive_regex();
    re.find(script).map(|m| {
        m.as_str()
            .trim_start_matches(|c: char| c != '$')
            .to_string()
    })
}

fn sensitive_regex() -> &'static regex::Regex {
    static RE: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    RE.get_or_init(|| {
        regex::Regex::new(r"(?:^|[^\\$])\$\{?(?:PROD_[A-Z0-9_]+|[A-Z0-9_]*DEPLOY_(?:TOKEN|KEY|PASSWORD)[A-Z0-9_]*|AWS_SECRET_ACCESS_KEY|KUBE_?CONFIG|GCP_SA_KEY|GOOGLE_APPLICATION_CREDENTIALS|AZURE_CLIENT_SECRET|[A-Z0-9_]*PRODUCTION[A-Z0-9_]*)\}?")
            .expect("valid regex")
    })
}

/// Whether the job's `rules:`/`only:` keep it to protected or default-branch
/// pipelines (or tags, which are protected by convention).
fn restricted(job: &Node) -> bool {
    let text: Vec<&str> = ["rules", "only"]
        .iter()
        .filter_map(|k| job.get(k))
        .flat_map(|n| n.scalars())
        .filter_map(|n| n.str())
        .collect();
    text.iter().any(|t| {
        t.contains("CI_COMMIT_REF_PROTECTED")
            || t.contains("CI_DEFAULT_BRANCH")
            || t.contains("CI_COMMIT_TAG")
            || *t == "main"
            || *t == "master"
            || *t == "tags"
            || t.contains("== \"main\"")
            || t.contains("== \"master\"")
    })
}

fn runs_for_merge_requests(job: &Node) -> bool {
    let rules = job.get("rules").or(job.get("only"));
    match rules {
        None => true,
        Some(r) => r
            .scalars()
            .iter()
            .filter_map(|n| n.str())
            .any(|t| t.contains("merge_request") || t.contains("CI_MERGE_REQUEST")),
    }
}

/// The job with the keys of its `extends:` templates it does not set itself.
fn with_extends(doc: &Node, job: &Node) -> Node {
    let Some(ext) = job.get("extends") else {
        return job.clone();
    };
    let names: Vec<&str> = match ext.str() {
        Some(one) => vec![one],
        None => ext.items().iter().filter_map(|n| n.str()).collect(),
    };
    let mut merged = job.clone();
    if let crate::yaml::Kind::Map(entries) = &mut merged.kind {
        for n in names {
            for (k, v) in doc.get(n).map(|t| t.entries()).unwrap_or(&[]) {
                if !entries.iter().any(|(e, _)| e == k) {
                    entries.push((k.clone(), v.clone()));
                }
            }
        }
    }
    merged
}

fn pushes(t: &str) -> bool {
    [
        "git push",
        "docker push",
        "--upload-file",
        "twine upload",
        "npm publish",
    ]
    .iter()
    .any(|p| t.contains(p))
}

pub fn audit_gitlab(doc: &Node, out: &mut Sink) {
    if let Some(img) = doc.get("image") {
        check_image(img, "top:image", out);
    }
    if let Some(img) = doc.get("default").and_then(|d| d.get("image")) {
        check_image(img, "default:image", out);
    }
    for (name, raw_job) in doc.entries() {
        if RESERVED.contains(&name.as_str())
            || name.starts_with('.')
            || raw_job.get("script").is_none()
                && raw_job.get("trigger").is_none()
                && raw_job.get("extends").is_none()
        {
            continue;
        }
        if let Some(img) = raw_job.get("image") {
            check_image(img, &format!("{name}:image"), out);
        }
        for svc in raw_job.get("services").map(|s| s.items()).unwrap_or(&[]) {
            check_image(svc, &format!("{name}:service"), out);
        }
        let job = &with_extends(doc, raw_job);
        let script = scripts(job);
        let vars: String = job
            .get("variables")
            .map(|v| {
                v.scalars()
                    .iter()
                    .filter_map(|n| n.str())
                    .collect::<Vec<_>>()
                    .join("\n")
            })
            .unwrap_or_default();
        if let Some(var) = sensitive_var(&format!("{script}\n{vars}"))
            && !restricted(job)
        {
            out.report(
                &DEPLOY_VARS,
                &raw_job.at_key(),
                &format!("{name}:{var}"),
                format!("Job `{name}` uses `{var}` but nothing restricts it to protected or default-branch pipelines."),
            );
        }
        if script.contains("CI_JOB_TOKEN") && runs_for_merge_requests(job) {
            let items: Vec<&Node> = ["before_script", "script", "after_script"]
                .iter()
                .filter_map(|k| job.get(k))
                .flat_map(|n| n.scalars())
                .collect();
            // The line that pushes with the token itself, or any push after
            // a `docker login` with it.
            let logged_in = items.iter().any(|n| {
                n.str()
                    .is_some_and(|t| t.contains("CI_JOB_TOKEN") && t.contains("login"))
            });
            // Point at the line that uses the token: the push itself, or the
            // `docker login` that a later push relies on.
            let job_pushes = items.iter().any(|n| n.str().is_some_and(pushes));
            let at = items.iter().find(|n| {
                n.str().is_some_and(|t| {
                    t.contains("CI_JOB_TOKEN")
                        && (pushes(t) || (logged_in && t.contains("login") && job_pushes))
                })
            });
            if let Some(at) = at {
                out.report(
                    &JOB_TOKEN,
                    at,
                    name,
                    format!("Job `{name}` pushes with CI_JOB_TOKEN and also runs for merge-request pipelines."),
                );
            }
        }
    }
}

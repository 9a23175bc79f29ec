//! The `deploy-without-environment` audit: the docs are the doc comment of the `rule_meta!` below.

use pipeguard_core::{Confidence, Severity, rule_meta};
use regex::Regex;

use super::{Audit, Meta, NodeSink, Sink};
use crate::model::{Job, Workflow};

pub struct DeployWithoutEnvironment;

rule_meta! {
    /// ## What it does
    /// Flags jobs that deploy or publish without an `environment:`.
    ///
    /// ## Why is this bad
    /// Environments are where GitHub enforces required reviewers, branch
    /// restrictions and environment-scoped secrets. A deploy job without one can
    /// be run from any branch with repository-wide secrets.
    static META = {
        id: "deploy-without-environment",
        name: "Deployment job without a protected environment",
        severity: Severity::Medium,
        confidence: Confidence::Medium,
        fix: "Add `environment: <name>` to the job, protect that environment (required reviewers, deployment branches) and keep the deploy secrets in it.",
        cwe: &[284],
    };
}

const DEPLOY_ACTIONS: &[&str] = &[
    "azure/webapps-deploy",
    "azure/k8s-deploy",
    "aws-actions/amazon-ecs-deploy-task-definition",
    "google-github-actions/deploy-cloudrun",
    "google-github-actions/deploy-appengine",
    "pypa/gh-action-pypi-publish",
    "JamesIves/github-pages-deploy-action",
    "peaceiris/actions-gh-pages",
    "actions/deploy-pages",
    "cloudflare/wrangler-action",
    "amondnet/vercel-action",
    "superfly/flyctl-actions",
];

fn deploy_regex() -> &'static Regex {
    static RE: std::sync::OnceLock<Regex> = std::sync::OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(r"(?m)\b(kubectl\s+(apply|rollout|set\s+image|create)|helm\s+(upgrade|install)|terraform\s+apply|pulumi\s+up|aws\s+(ecs\s+update-service|lambda\s+update-function-code|s3\s+sync|cloudformation\s+deploy)|gcloud\s+(run|app|functions)\s+deploy|az\s+webapp\s+deploy|npm\s+publish|twine\s+upload|cargo\s+publish|gem\s+push|flyctl\s+deploy|vercel\s+(deploy\s+)?--prod|serverless\s+deploy|sls\s+deploy)\b")
            .expect("the deploy pattern is a valid regex")
    })
}

/// What a job deploys or publishes, if anything: a known deploy action, or
/// a deploy command in a script (dry runs and local registries excluded).
pub fn deploys(job: &Job) -> Option<String> {
    job.steps.iter().find_map(|s| {
        if let Some(a) = s.action()
            && let Some(d) = DEPLOY_ACTIONS.iter().find(|d| a.eq_ignore_ascii_case(d))
        {
            return Some(d.to_string());
        }
        let run = s.run.and_then(|r| r.str())?;
        // A dry run or a push to a throwaway local registry deploys nothing.
        run.lines()
            .filter(|l| !l.contains("--dry-run") && !l.contains("localhost:"))
            .find_map(|l| deploy_regex().find(l))
            .map(|m| m.as_str().split_whitespace().collect::<Vec<_>>().join(" "))
    })
}

impl Audit for DeployWithoutEnvironment {
    fn meta(&self) -> &'static Meta {
        &META
    }

    fn job(&self, _wf: &Workflow, job: &Job, out: &mut Sink) {
        if job.environment.is_some() || job.uses.is_some() {
            return;
        }
        let what = deploys(job);
        if let Some(what) = what {
            let at = job.node.at_key();
            out.report(
                &META,
                &at,
                &job.id,
                format!(
                    "Job `{}` deploys (`{what}`) without an `environment:`.",
                    job.id
                ),
            );
        }
    }
}

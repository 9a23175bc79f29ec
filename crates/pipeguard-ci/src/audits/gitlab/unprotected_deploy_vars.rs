//! The `gitlab-unprotected-deploy-vars` audit.

use pipeguard_core::{Confidence, Severity, rule_meta};

use super::{GitlabAudit, restricted, scripts, sensitive_var};
use crate::audits::{Meta, NodeSink, Sink};
use crate::yaml::Node;

pub struct UnprotectedDeployVars;

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

impl GitlabAudit for UnprotectedDeployVars {
    fn meta(&self) -> &'static Meta {
        &DEPLOY_VARS
    }

    fn job(&self, _doc: &Node, name: &str, raw_job: &Node, job: &Node, out: &mut Sink) {
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
    }
}

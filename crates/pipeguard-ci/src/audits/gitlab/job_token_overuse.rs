//! The `gitlab-job-token-overuse` audit.

use pipeguard_core::{Confidence, Severity, rule_meta};

use super::{GitlabAudit, pushes, runs_for_merge_requests, scripts};
use crate::audits::{Meta, NodeSink, Sink};
use crate::yaml::Node;

pub struct JobTokenOveruse;

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

impl GitlabAudit for JobTokenOveruse {
    fn meta(&self) -> &'static Meta {
        &JOB_TOKEN
    }

    fn job(&self, _doc: &Node, name: &str, _raw: &Node, job: &Node, out: &mut Sink) {
        let script = scripts(job);
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

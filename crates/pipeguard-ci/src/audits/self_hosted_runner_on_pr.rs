//! The `self-hosted-runner-on-pr` audit: the docs are the doc comment of the `rule_meta!` below.

use pipeguard_core::{Confidence, Severity, rule_meta};

use super::{Audit, Meta, NodeSink, Sink};
use crate::model::{Job, Workflow};
use crate::yaml::Node;

pub struct SelfHostedRunnerOnPr;

rule_meta! {
    /// ## What it does
    /// Flags self-hosted runners in workflows that pull requests trigger.
    ///
    /// ## Why is this bad
    /// A fork's pull request then runs arbitrary code on your machine, which
    /// persists between jobs and sits inside your network.
    static META = {
        id: "self-hosted-runner-on-pr",
        name: "Self-hosted runner reachable from pull requests",
        severity: Severity::High,
        confidence: Confidence::Medium,
        fix: "Run pull-request jobs on GitHub-hosted or ephemeral isolated runners; restrict self-hosted runners to trusted triggers.",
        cwe: &[829],
    };
}

impl Audit for SelfHostedRunnerOnPr {
    fn meta(&self) -> &'static Meta {
        &META
    }

    fn job(&self, wf: &Workflow, job: &Job, out: &mut Sink) {
        let Some(trigger) = ["pull_request", "pull_request_target"]
            .into_iter()
            .find(|t| wf.triggered_by(t))
        else {
            return;
        };
        let Some(runs_on) = job.runs_on else { return };
        // `runs-on: ${{ matrix.runner }}` is self-hosted if any matrix value is.
        let mut labels: Vec<&Node> = runs_on.scalars();
        if let Some(t) = runs_on.str() {
            labels.extend(job.matrix_values(t).into_iter().flat_map(|n| n.scalars()));
        }
        let self_hosted = labels
            .iter()
            .any(|n| n.str().is_some_and(|s| s == "self-hosted"));
        if self_hosted {
            out.report(
                &META,
                &runs_on.at_key(),
                &job.id,
                format!(
                    "Job `{}` runs on a self-hosted runner in a workflow triggered by `{trigger}`.",
                    job.id
                ),
            );
        }
    }
}

//! The `untrusted-checkout` audit: the docs are the doc comment of the `rule_meta!` below.

use pipeguard_core::{Confidence, Severity, rule_meta};

use super::{Audit, Meta, NodeSink, Sink};
use crate::model::{Job, Workflow};

pub struct UntrustedCheckout;

rule_meta! {
    /// ## What it does
    /// Flags `pull_request_target` and `workflow_run` jobs that check out the
    /// pull request's code.
    ///
    /// ## Why is this bad
    /// These triggers run with the base repository's secrets and a write token.
    /// Checking out the fork's head and building it runs the attacker's code
    /// (a `postinstall` script, a Makefile, a test) with those secrets: the
    /// "pwn request".
    static META = {
        id: "untrusted-checkout",
        name: "Privileged workflow checks out untrusted code",
        severity: Severity::Critical,
        confidence: Confidence::High,
        fix: "Run untrusted pull-request code only under `pull_request` (no secrets, read-only token); a privileged `pull_request_target`/`workflow_run` job must not check out or execute the head.",
        cwe: &[829],
    };
}

const HEAD_REFS: &[&str] = &[
    "github.event.pull_request.head.sha",
    "github.event.pull_request.head.ref",
    "github.head_ref",
    "github.event.workflow_run.head_sha",
    "github.event.workflow_run.head_branch",
    "refs/pull/",
    "github.event.pull_request.merge_commit_sha",
    "github.event.number",
];

impl Audit for UntrustedCheckout {
    fn meta(&self) -> &'static Meta {
        &META
    }

    fn job(&self, wf: &Workflow, job: &Job, out: &mut Sink) {
        let trigger = ["pull_request_target", "workflow_run"]
            .into_iter()
            .find(|t| wf.triggered_by(t));
        let Some(trigger) = trigger else { return };
        for (i, step) in job.steps.iter().enumerate() {
            if !step
                .action()
                .is_some_and(|a| a.starts_with("actions/checkout"))
            {
                continue;
            }
            let Some(r) = step.input("ref").or(step.input("repository")) else {
                continue;
            };
            let text = r.str().unwrap_or("");
            let head = HEAD_REFS.iter().any(|h| text.contains(h))
                || text.contains("github.event.pull_request.head.repo.full_name");
            let runs_code = job.steps[i + 1..]
                .iter()
                .any(|s| s.run.is_some() || s.uses.is_some());
            if head && runs_code {
                out.report(
                    &META,
                    r,
                    &format!("{}:{text}", job.id),
                    format!(
                        "Job `{}` runs on `{trigger}` (with secrets and a write token) and checks out the pull request head (`{text}`), then runs further steps on it.",
                        job.id
                    ),
                );
            }
        }
    }
}

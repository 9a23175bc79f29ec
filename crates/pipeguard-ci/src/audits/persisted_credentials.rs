//! The `persisted-credentials` audit: the docs are the doc comment of the `rule_meta!` below.

use pipeguard_core::{Confidence, Severity, rule_meta};

use super::{Audit, Meta, NodeSink, Sink};
use crate::model::{Job, Workflow};

pub struct PersistedCredentials;

rule_meta! {
    /// ## What it does
    /// Flags `actions/checkout` without `persist-credentials: false` in jobs that
    /// later upload the workspace as an artifact, or that run in a privileged
    /// workflow an outsider can trigger.
    ///
    /// ## Why is this bad
    /// Checkout writes the job's token into `.git/config`. Uploading the
    /// workspace publishes it ("ArtiPACKED"); untrusted code in the job can read
    /// it and push.
    static META = {
        id: "persisted-credentials",
        name: "Checkout leaves the token in the workspace",
        severity: Severity::Medium,
        confidence: Confidence::Medium,
        fix: "Add `persist-credentials: false` to actions/checkout and give a token only to the step that needs to push.",
        cwe: &[522],
    };
}

fn uploads_workspace(job: &Job) -> bool {
    job.steps.iter().any(|s| {
        s.action()
            .is_some_and(|a| a.starts_with("actions/upload-artifact"))
            && s.input("path").and_then(|p| p.str()).is_some_and(|p| {
                p.lines().any(|l| {
                    let l = l.trim();
                    l == "." || l == "./" || l == "*" || l.contains("github.workspace") || l == "**"
                })
            })
    })
}

impl Audit for PersistedCredentials {
    fn meta(&self) -> &'static Meta {
        &META
    }

    fn job(&self, wf: &Workflow, job: &Job, out: &mut Sink) {
        let privileged = wf.privileged_untrusted_trigger();
        let uploads = uploads_workspace(job);
        if privileged.is_none() && !uploads {
            return;
        }
        for step in &job.steps {
            if !step
                .action()
                .is_some_and(|a| a.starts_with("actions/checkout"))
            {
                continue;
            }
            let persisted =
                step.input("persist-credentials").and_then(|v| v.str()) != Some("false");
            if persisted && let Some(uses) = step.uses {
                let why = if uploads {
                    "the job uploads the workspace as an artifact".to_string()
                } else {
                    format!("the workflow runs on `{}`", privileged.unwrap_or(""))
                };
                out.report(
                    &META,
                    uses,
                    &job.id,
                    format!(
                        "Checkout in job `{}` persists the token in .git/config and {why}.",
                        job.id
                    ),
                );
            }
        }
    }
}

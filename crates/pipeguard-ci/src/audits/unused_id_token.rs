//! The `unused-id-token` audit: the docs are the doc comment of the `rule_meta!` below.

use pipeguard_core::{Confidence, Severity, rule_meta};

use super::{Audit, Meta, NodeSink, Sink};
use crate::model::{Job, Workflow};
use crate::permissions;

pub struct UnusedIdToken;

rule_meta! {
    /// ## What it does
    /// Flags `id-token: write` granted at workflow level, or to a job with no
    /// step that exchanges an OIDC token.
    ///
    /// ## Why is this bad
    /// An OIDC token is a credential: any step of the job can request one and
    /// assume whatever cloud role trusts the repository.
    static META = {
        id: "unused-id-token",
        name: "OIDC token permission where nothing uses it",
        severity: Severity::Medium,
        confidence: Confidence::High,
        fix: "Remove `id-token: write`, or move it to the one job that exchanges the OIDC token for cloud credentials.",
        cwe: &[250],
    };
}

impl Audit for UnusedIdToken {
    fn meta(&self) -> &'static Meta {
        &META
    }

    fn workflow(&self, wf: &Workflow, out: &mut Sink) {
        if let Some(v) = wf.permissions.and_then(|p| p.get("id-token"))
            && v.str() == Some("write")
            && wf.jobs.len() > 1
        {
            out.report(
                &META,
                v,
                "workflow",
                "`id-token: write` at workflow level lets every job mint OIDC tokens.".into(),
            );
        }
    }

    fn job(&self, wf: &Workflow, job: &Job, out: &mut Sink) {
        if job.uses.is_some() {
            return;
        }
        let Some(v) = job.permissions.and_then(|p| p.get("id-token")) else {
            return;
        };
        if v.str() == Some("write")
            && !job
                .steps
                .iter()
                .any(|s| permissions::exchanges_oidc(wf, job, s))
        {
            out.report(
                &META,
                v,
                &job.id,
                format!(
                    "Job `{}` may mint OIDC tokens but none of its steps exchanges one.",
                    job.id
                ),
            );
        }
    }
}

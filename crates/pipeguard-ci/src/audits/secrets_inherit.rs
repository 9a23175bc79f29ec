//! The `secrets-inherit` audit: the docs are the doc comment of the `rule_meta!` below.

use pipeguard_core::{Confidence, Severity, rule_meta};

use super::{Audit, Meta, NodeSink, Sink};
use crate::model::{Job, Workflow};

pub struct SecretsInherit;

rule_meta! {
    /// ## What it does
    /// Flags reusable-workflow calls with `secrets: inherit`.
    ///
    /// ## Why is this bad
    /// The called workflow receives every secret of the caller, including ones
    /// it has no use for; one compromised or careless callee leaks them all.
    static META = {
        id: "secrets-inherit",
        name: "Reusable workflow inherits every secret",
        severity: Severity::Medium,
        confidence: Confidence::High,
        fix: "Replace `secrets: inherit` with the explicit secrets the called workflow declares.",
        cwe: &[668],
    };
}

impl Audit for SecretsInherit {
    fn meta(&self) -> &'static Meta {
        &META
    }

    fn job(&self, _wf: &Workflow, job: &Job, out: &mut Sink) {
        if let Some(s) = job.secrets
            && s.str() == Some("inherit")
        {
            let callee = job
                .uses
                .and_then(|u| u.str())
                .unwrap_or("a reusable workflow");
            out.report(
                &META,
                s,
                &job.id,
                format!("Job `{}` passes every secret to `{callee}`.", job.id),
            );
        }
    }
}

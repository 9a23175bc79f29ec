//! ## What it does
//! Flags shell tracing (`set -x`, `bash -x`) in steps that have secrets in
//! their environment, and `echo` of secrets.
//!
//! ## Why is this bad
//! GitHub masks only the exact secret values it knows; tracing prints
//! expanded commands, derived values and encodings that escape masking.
//!
//! ## Fix
//! Remove tracing from steps that handle secrets; never echo them.

use pipeguard_core::{Confidence, Severity};

use super::{Audit, Meta, Sink, mentions_secrets};
use crate::model::{Job, Step, Workflow};

pub struct SecretsInLogs;

static META: Meta = Meta {
    id: "secrets-in-logs",
    name: "Secrets can reach the build log",
    severity: Severity::Medium,
    confidence: Confidence::Medium,
    fix: "Do not trace (`set -x`) or echo in steps that handle secrets; pass secrets to commands through the environment or stdin.",
};

impl Audit for SecretsInLogs {
    fn meta(&self) -> &'static Meta {
        &META
    }

    fn step(&self, wf: &Workflow, job: &Job, step: &Step, out: &mut Sink) {
        let Some(run) = step.run else { return };
        let Some(text) = run.str() else { return };
        let secret_env =
            mentions_secrets(step.env) || mentions_secrets(job.env) || mentions_secrets(wf.env);
        let traced = text.lines().any(|l| {
            let l = l.trim();
            l.starts_with("set -x")
                || l.starts_with("set -o xtrace")
                || l.starts_with("bash -x")
                || l.starts_with("sh -x")
                || (l.starts_with("set -")
                    && l.split_whitespace()
                        .next()
                        .is_some_and(|f| f.starts_with('-') && f.contains('x')))
        });
        if traced && (secret_env || text.contains("secrets.")) {
            out.report(
                &META,
                run,
                &format!("{}:trace:{}", job.id, step.node.line),
                format!(
                    "A step of job `{}` traces its commands while secrets are in reach.",
                    job.id
                ),
            );
        }
        let echoes = text.lines().any(|l| {
            let l = l.trim_start();
            (l.starts_with("echo") || l.starts_with("printf"))
                && l.contains("secrets.")
                && !l.contains("::add-mask::")
                && !l.contains(">>")
        });
        if echoes {
            out.report(
                &META,
                run,
                &format!("{}:echo:{}", job.id, step.node.line),
                format!("A step of job `{}` prints a secret.", job.id),
            );
        }
    }
}

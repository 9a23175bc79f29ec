//! The `secrets-in-logs` audit: the docs are the doc comment of the `rule_meta!` below.

use pipeguard_core::{Confidence, Severity, rule_meta};

use super::{Audit, Meta, NodeSink, Sink, mentions_secrets};
use crate::model::{Job, Step, Workflow};

pub struct SecretsInLogs;

rule_meta! {
    /// ## What it does
    /// Flags shell tracing (`set -x`, `bash -x`) in steps that have secrets in
    /// their environment, and `echo` of secrets.
    ///
    /// ## Why is this bad
    /// GitHub masks only the exact secret values it knows; tracing prints
    /// expanded commands, derived values and encodings that escape masking.
    static META = {
        id: "secrets-in-logs",
        name: "Secrets can reach the build log",
        severity: Severity::Medium,
        confidence: Confidence::Medium,
        fix: "Do not trace (`set -x`) or echo in steps that handle secrets; pass secrets to commands through the environment or stdin.",
        cwe: &[532],
    };
}

impl Audit for SecretsInLogs {
    fn meta(&self) -> &'static Meta {
        &META
    }

    fn step(&self, wf: &Workflow, job: &Job, step: &Step, out: &mut Sink) {
        let Some(run) = step.run else { return };
        let Some(text) = run.str() else { return };
        let envs = [step.env, job.env, wf.env];
        let secret_env = envs.iter().any(|e| mentions_secrets(*e));
        // Variables holding secrets, to catch `echo "$TOKEN"`.
        let secret_vars: Vec<&str> = envs
            .into_iter()
            .flatten()
            .flat_map(|e| e.entries())
            .filter(|(_, v)| v.str().is_some_and(|s| s.contains("secrets.")))
            .map(|(k, _)| k.as_str())
            .collect();
        let traced = text.lines().any(|l| {
            let mut words = l.split_whitespace();
            match (words.next(), words.next()) {
                (Some("set"), Some("-o")) => l.contains("xtrace"),
                (Some("set"), Some(flag)) => flag.starts_with('-') && flag.contains('x'),
                (Some("bash" | "sh"), Some(flag)) => {
                    flag.starts_with('-') && !flag.starts_with("--") && flag.contains('x')
                }
                _ => false,
            }
        });
        if traced && (secret_env || text.contains("secrets.")) {
            out.report(
                &META,
                &run.at_key(),
                &format!("{}:trace:{}", job.id, step.node.line),
                format!(
                    "A step of job `{}` traces its commands while secrets are in reach.",
                    job.id
                ),
            );
            return;
        }
        let echoes = text.lines().any(|l| {
            let l = l.trim_start();
            let printing = (l.starts_with("echo") || l.starts_with("printf"))
                && !l.contains("::add-mask::")
                && !l.contains(">>")
                // `printf '%s' "$TOKEN" | docker login --password-stdin` feeds a
                // command, not the log.
                && !l.contains('|');
            printing
                && (l.contains("secrets.")
                    || secret_vars
                        .iter()
                        .any(|v| l.contains(&format!("${v}")) || l.contains(&format!("${{{v}}}"))))
        });
        if echoes {
            out.report(
                &META,
                &run.at_key(),
                &format!("{}:echo:{}", job.id, step.node.line),
                format!("A step of job `{}` prints a secret.", job.id),
            );
        }
    }
}

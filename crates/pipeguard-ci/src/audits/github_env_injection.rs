//! The `github-env-injection` audit: the docs are the doc comment of the `rule_meta!` below.

use pipeguard_core::{Confidence, Severity, rule_meta};

use super::template_injection::untrusted_regex;
use super::{Audit, Meta, NodeSink, Sink};
use crate::model::{Job, Step, Workflow};

pub struct GithubEnvInjection;

rule_meta! {
    /// ## What it does
    /// Flags untrusted input written to `$GITHUB_ENV` or `$GITHUB_PATH` in
    /// workflows that an outsider can trigger with privileges.
    ///
    /// ## Why is this bad
    /// Every later step reads `GITHUB_ENV`: a value with a newline can set
    /// `LD_PRELOAD`, `NODE_OPTIONS` or `BASH_ENV` and run code in the next step.
    static META = {
        id: "github-env-injection",
        name: "Untrusted input written to GITHUB_ENV or GITHUB_PATH",
        severity: Severity::High,
        confidence: Confidence::Medium,
        fix: "Do not write untrusted values to $GITHUB_ENV/$GITHUB_PATH; validate them against a strict pattern, or pass them as step outputs instead.",
        cwe: &[94],
    };
}

impl Audit for GithubEnvInjection {
    fn meta(&self) -> &'static Meta {
        &META
    }

    fn step(&self, wf: &Workflow, job: &Job, step: &Step, out: &mut Sink) {
        let Some(trigger) = wf.privileged_untrusted_trigger() else {
            return;
        };
        let Some(run) = step.run else { return };
        let Some(text) = run.str() else { return };
        if !(text.contains("GITHUB_ENV") || text.contains("GITHUB_PATH")) {
            return;
        }
        // Variables that carry untrusted values into this step.
        let tainted: Vec<&str> = [step.env, job.env, wf.env]
            .into_iter()
            .flatten()
            .flat_map(|e| e.entries())
            .filter(|(_, v)| v.str().is_some_and(|s| untrusted_regex().is_match(s)))
            .map(|(k, _)| k.as_str())
            .collect();
        // The whole script counts: a heredoc (`{ echo "X<<EOF"; echo "$V"; } >> "$GITHUB_ENV"`)
        // writes untrusted text without it being on the redirect's line.
        let direct = untrusted_regex().find(text).map(|m| m.as_str().to_string());
        let via = tainted
            .iter()
            .find(|v| text.contains(&format!("${v}")) || text.contains(&format!("${{{v}}}")))
            .map(|v| format!("${v}"));
        if let Some(what) = direct.or(via) {
            out.report(
                &META,
                &run.at_key(),
                &format!("{}:{what}", job.id),
                format!(
                    "Job `{}` writes `{what}` to the environment file in a workflow triggered by `{trigger}`.",
                    job.id
                ),
            );
        }
    }
}

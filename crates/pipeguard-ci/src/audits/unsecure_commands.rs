//! The `unsecure-commands` audit: the docs are the doc comment of the `rule_meta!` below.

use pipeguard_core::{Confidence, Severity, rule_meta};

use super::{Audit, Meta, NodeSink, Sink};
use crate::model::{Job, Step, Workflow};
use crate::yaml::Node;

pub struct UnsecureCommands;

rule_meta! {
    /// ## What it does
    /// Flags `ACTIONS_ALLOW_UNSECURE_COMMANDS: true`.
    ///
    /// ## Why is this bad
    /// It re-enables the deprecated `::set-env` and `::add-path` workflow
    /// commands, which any process printing to the log (a test, a dependency)
    /// can use to inject environment variables into later steps.
    static META = {
        id: "unsecure-commands",
        name: "Deprecated unsecure workflow commands enabled",
        severity: Severity::High,
        confidence: Confidence::High,
        fix: "Remove ACTIONS_ALLOW_UNSECURE_COMMANDS and use $GITHUB_ENV / $GITHUB_PATH files.",
        cwe: &[94],
    };
}

fn check(env: Option<&Node>, key: &str, out: &mut Sink) {
    if let Some(v) = env.and_then(|e| e.get("ACTIONS_ALLOW_UNSECURE_COMMANDS"))
        && v.str().is_some_and(|s| s.eq_ignore_ascii_case("true"))
    {
        out.report(
            &META,
            v,
            key,
            "`ACTIONS_ALLOW_UNSECURE_COMMANDS` is enabled.".into(),
        );
    }
}

impl Audit for UnsecureCommands {
    fn meta(&self) -> &'static Meta {
        &META
    }

    fn workflow(&self, wf: &Workflow, out: &mut Sink) {
        check(wf.env, "workflow", out);
    }

    fn job(&self, _wf: &Workflow, job: &Job, out: &mut Sink) {
        check(job.env, &job.id, out);
    }

    fn step(&self, _wf: &Workflow, job: &Job, step: &Step, out: &mut Sink) {
        check(
            step.env,
            &format!("{}:step:{}", job.id, step.node.line),
            out,
        );
    }
}

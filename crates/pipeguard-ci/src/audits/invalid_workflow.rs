//! The `invalid-workflow` audit: the docs are the doc comment of the `rule_meta!` below.

use pipeguard_core::{Confidence, Severity, rule_meta};

use super::{Audit, Meta, NodeSink, Sink};
use crate::model::{FileKind, Job, Workflow};

pub struct InvalidWorkflow;

rule_meta! {
    /// ## What it does
    /// Reports workflow files that GitHub would reject or silently misread: no
    /// `on:`, unknown top-level keys, jobs with neither `runs-on` nor `uses`,
    /// steps with neither `uses` nor `run` (or both), unknown job keys.
    ///
    /// ## Why is this bad
    /// A workflow GitHub cannot load does not run its checks at all, and a
    /// misspelled key (`permission:`) silently drops the protection it meant to
    /// add.
    static META = {
        id: "invalid-workflow",
        name: "Workflow does not follow the GitHub Actions schema",
        severity: Severity::Low,
        confidence: Confidence::High,
        fix: "Fix the structure at this line; see the workflow syntax reference for the allowed keys.",
        cwe: &[],
    };
}

const TOP: &[&str] = &[
    "name",
    "run-name",
    "on",
    "permissions",
    "env",
    "defaults",
    "concurrency",
    "jobs",
];
const JOB: &[&str] = &[
    "name",
    "permissions",
    "needs",
    "if",
    "runs-on",
    "environment",
    "concurrency",
    "outputs",
    "env",
    "defaults",
    "steps",
    "timeout-minutes",
    "strategy",
    "continue-on-error",
    "container",
    "services",
    "uses",
    "with",
    "secrets",
];
const STEP: &[&str] = &[
    "id",
    "if",
    "name",
    "uses",
    "run",
    "shell",
    "with",
    "env",
    "continue-on-error",
    "timeout-minutes",
    "working-directory",
];

impl Audit for InvalidWorkflow {
    fn meta(&self) -> &'static Meta {
        &META
    }

    fn workflow(&self, wf: &Workflow, out: &mut Sink) {
        if wf.kind != FileKind::Workflow {
            return;
        }
        if wf.root.get("on").is_none() {
            out.report(
                &META,
                wf.root,
                "no-on",
                "The workflow has no `on:` trigger, so it never runs.".into(),
            );
        }
        for (k, v) in wf.root.entries() {
            if !TOP.contains(&k.as_str()) {
                out.report(
                    &META,
                    &v.at_key(),
                    &format!("top:{k}"),
                    format!("Unknown top-level key `{k}`."),
                );
            }
        }
    }

    fn job(&self, wf: &Workflow, job: &Job, out: &mut Sink) {
        if wf.kind != FileKind::Workflow {
            return;
        }
        if job.runs_on.is_none() && job.uses.is_none() {
            out.report(
                &META,
                &job.node.at_key(),
                &format!("job:{}", job.id),
                format!("Job `{}` has neither `runs-on` nor `uses`.", job.id),
            );
        }
        for (k, v) in job.node.entries() {
            if !JOB.contains(&k.as_str()) {
                out.report(
                    &META,
                    &v.at_key(),
                    &format!("job:{}:{k}", job.id),
                    format!("Unknown key `{k}` in job `{}`.", job.id),
                );
            }
        }
        for (i, step) in job.steps.iter().enumerate() {
            if step.uses.is_some() == step.run.is_some() {
                out.report(
                    &META,
                    step.node,
                    &format!("step:{}:{i}", job.id),
                    format!(
                        "Step {} of job `{}` must have exactly one of `uses` and `run`.",
                        i + 1,
                        job.id
                    ),
                );
            }
            for (k, v) in step.node.entries() {
                if !STEP.contains(&k.as_str()) {
                    out.report(
                        &META,
                        &v.at_key(),
                        &format!("step:{}:{i}:{k}", job.id),
                        format!("Unknown key `{k}` in a step of job `{}`.", job.id),
                    );
                }
            }
        }
    }
}

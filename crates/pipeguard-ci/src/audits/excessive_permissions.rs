//! The `excessive-permissions` audit: the docs are the doc comment of the `rule_meta!` below.

use pipeguard_core::{Confidence, Severity, rule_meta};

use super::{Audit, Meta, NodeSink, Sink};
use crate::model::{FileKind, Job, Workflow};
use crate::permissions;
use crate::yaml::Node;

pub struct ExcessivePermissions;

rule_meta! {
    /// ## What it does
    /// Flags workflows whose jobs get the repository's default token permissions
    /// (no `permissions:` anywhere), `permissions: write-all`, and write scopes
    /// that no step of the job needs. What a job needs comes from the knowledge
    /// base of actions and commands (`data/actions.toml`) and the policy's
    /// `[ci.actions]`; when a step is unknown there (or is a Docker, local or
    /// `github-script` step), no scope is called unused and no replacement is
    /// offered.
    ///
    /// ## Why is this bad
    /// Every step, including third-party actions and build scripts, can use the
    /// job's `GITHUB_TOKEN`. A test job that can push to the repository or
    /// publish packages turns any compromised dependency into a supply-chain
    /// attack.
    static META = {
        id: "excessive-permissions",
        name: "Token permissions broader than the job needs",
        severity: Severity::Medium,
        confidence: Confidence::High,
        fix: "Declare a minimal `permissions:` block per job (the replacement is computed from what the job's steps do) and `permissions: {}` at the top of the workflow.",
        cwe: &[250],
    };
}

impl Audit for ExcessivePermissions {
    fn meta(&self) -> &'static Meta {
        &META
    }

    fn workflow(&self, wf: &Workflow, out: &mut Sink) {
        if wf.kind != FileKind::Workflow {
            return;
        }
        if let Some(p) = wf.permissions
            && p.str() == Some("write-all")
        {
            out.report(
                &META,
                p,
                "workflow:write-all",
                "The workflow grants `permissions: write-all` to every job.".into(),
            );
        }
        if wf.permissions.is_none() {
            for job in wf
                .jobs
                .iter()
                .filter(|j| j.permissions.is_none() && j.uses.is_none())
            {
                let at = job.node.at_key();
                let needs = permissions::job_needs(wf, job);
                let before = out.findings.len();
                match needs.block() {
                    Some(block) => out.report_with(
                        &META,
                        &at,
                        &format!("default:{}", job.id),
                        format!(
                            "Job `{}` declares no `permissions:` and neither does the workflow, so its token gets the repository default (read-write on many repositories). It needs: {}.",
                            job.id,
                            block.replace('\n', " ")
                        ),
                        Some(block),
                    ),
                    None => {
                        // The default token is too broad whatever the job
                        // does, but what it needs instead is unknown: no
                        // replacement, and the computed part is incomplete.
                        out.report(
                            &META,
                            &at,
                            &format!("default:{}", job.id),
                            format!(
                                "Job `{}` declares no `permissions:` and neither does the workflow, so its token gets the repository default (read-write on many repositories). What it needs is unknown: pipeguard cannot tell what {} do with the token (declare actions under [ci.actions] in pipeguard.toml).",
                                job.id,
                                needs.unknown_list()
                            ),
                        );
                        if let Some(f) = out.findings.get_mut(before) {
                            f.confidence = Confidence::Low;
                        }
                    }
                }
            }
        }
    }

    fn job(&self, wf: &Workflow, job: &Job, out: &mut Sink) {
        if job.uses.is_some() {
            // A reusable workflow's needs are in the callee.
            return;
        }
        let (perms, scope): (Option<&Node>, &str) = match job.permissions {
            Some(p) => (Some(p), "job"),
            None => (wf.permissions, "workflow"),
        };
        let Some(perms) = perms else { return };
        let needs = permissions::job_needs(wf, job);
        if perms.str() == Some("write-all") {
            if scope == "job" {
                out.report_with(
                    &META,
                    perms,
                    &format!("write-all:{}", job.id),
                    format!("Job `{}` grants `permissions: write-all`.", job.id),
                    needs.block(),
                );
            }
            return;
        }
        if !needs.known() {
            // A step we cannot see into (an action missing from the
            // knowledge base, github-script, `gh api`) may need any scope:
            // do not claim one is unused.
            return;
        }
        for (scope_name, value) in perms.entries() {
            if value.str() != Some("write") || scope_name == "id-token" {
                continue;
            }
            let used = needs
                .scopes
                .get(scope_name.as_str())
                .is_some_and(|v| v == "write");
            if !used {
                out.report_with(
                    &META,
                    value,
                    &format!("unused:{}:{scope_name}", job.id),
                    format!(
                        "Job `{}` has `{scope_name}: write`{}, but none of its steps writes {scope_name}.",
                        job.id,
                        if scope == "workflow" { " from the workflow's permissions" } else { "" }
                    ),
                    needs.block(),
                );
            }
        }
    }
}

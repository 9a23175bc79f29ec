//! The audits. Each is one file with one `Audit` implementation and its
//! documentation; `ALL` is the registry. An audit overrides only the level it
//! cares about (workflow, job or step).

use pipeguard_core::Location;

use crate::model::{Job, Step, Workflow};
use crate::yaml::Node;

mod deploy_secrets_in_test_job;
mod deploy_without_environment;
mod excessive_permissions;
mod github_env_injection;
mod gitlab;
mod invalid_workflow;
mod persisted_credentials;
mod secrets_in_logs;
mod secrets_inherit;
mod self_hosted_runner_on_pr;
mod static_cloud_credentials;
mod template_injection;
mod unpinned;
mod unsecure_commands;
mod untrusted_checkout;
mod unused_id_token;

pub use gitlab::audit_gitlab;

/// Static facts about an audit: id, name, severity and documentation.
pub use pipeguard_core::RuleMeta as Meta;

pub trait Audit: Sync {
    fn meta(&self) -> &'static Meta;

    fn workflow(&self, _wf: &Workflow, _out: &mut Sink) {}

    fn job(&self, _wf: &Workflow, _job: &Job, _out: &mut Sink) {}

    fn step(&self, _wf: &Workflow, _job: &Job, _step: &Step, _out: &mut Sink) {}
}

/// Every GitHub Actions audit, in report order.
pub static ALL: &[&dyn Audit] = &[
    &invalid_workflow::InvalidWorkflow,
    &excessive_permissions::ExcessivePermissions,
    &unused_id_token::UnusedIdToken,
    &static_cloud_credentials::StaticCloudCredentials,
    &untrusted_checkout::UntrustedCheckout,
    &secrets_inherit::SecretsInherit,
    &deploy_without_environment::DeployWithoutEnvironment,
    &deploy_secrets_in_test_job::DeploySecretsInTestJob,
    &template_injection::TemplateInjection,
    &github_env_injection::GithubEnvInjection,
    &unsecure_commands::UnsecureCommands,
    &unpinned::UnpinnedAction,
    &unpinned::UnpinnedDockerImage,
    &unpinned::UnpinnedReusableWorkflow,
    &persisted_credentials::PersistedCredentials,
    &secrets_in_logs::SecretsInLogs,
    &self_hosted_runner_on_pr::SelfHostedRunnerOnPr,
];

/// Every audit's metadata, GitLab ones included: the CI part of the rule
/// registry (`pipeguard rules`, SARIF, docs/rules.md).
pub fn all_meta() -> Vec<&'static Meta> {
    let mut v: Vec<&'static Meta> = ALL.iter().map(|a| a.meta()).collect();
    v.extend(gitlab::ALL.iter().map(|a| a.meta()));
    v
}

/// The CI audits as registry entries.
pub fn rules() -> Vec<pipeguard_core::RuleDoc> {
    all_meta().into_iter().map(|m| m.doc("ci")).collect()
}

/// Collects one file's findings (the shared sink of the rules that are
/// code), reported at YAML nodes.
pub use pipeguard_core::Sink;

/// Reporting at a YAML node: the node's line and column, the line as snippet.
pub trait NodeSink {
    fn report(&mut self, meta: &'static Meta, node: &Node, key: &str, message: String);
    fn report_with(
        &mut self,
        meta: &'static Meta,
        node: &Node,
        key: &str,
        message: String,
        replacement: Option<String>,
    );
}

impl NodeSink for Sink<'_> {
    /// Reports at `node`. `key` is what makes this finding distinct within
    /// the file (the job, the action, the expression): the fingerprint comes
    /// from it, not from the line.
    fn report(&mut self, meta: &'static Meta, node: &Node, key: &str, message: String) {
        self.report_with(meta, node, key, message, None);
    }

    fn report_with(
        &mut self,
        meta: &'static Meta,
        node: &Node,
        key: &str,
        message: String,
        replacement: Option<String>,
    ) {
        let location = Location {
            line: Some(node.line),
            column: Some(node.col),
            snippet: self.snippet(node.line),
            ..Location::file(self.path.clone())
        };
        self.push(meta, location, key, message, replacement);
    }
}

/// A sink for one CI file: suppressions on the line or the line above.
pub fn sink<'t>(path: &str, text: &'t str) -> Sink<'t> {
    Sink::new("ci", path, text, true)
}

/// Runs every audit over one workflow.
pub fn run(wf: &Workflow, out: &mut Sink) {
    for a in ALL {
        a.workflow(wf, out);
        for job in &wf.jobs {
            a.job(wf, job, out);
            for step in &job.steps {
                a.step(wf, job, step, out);
            }
        }
    }
}

/// `${{ secrets.X }}` anywhere in a node's scalars.
pub fn mentions_secrets(node: Option<&Node>) -> bool {
    node.is_some_and(|n| {
        n.scalars()
            .iter()
            .any(|s| s.str().is_some_and(|t| t.contains("secrets.")))
    })
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn ids_are_unique_kebab_case_and_documented() {
        let mut seen = HashSet::new();
        for m in all_meta() {
            assert!(seen.insert(m.id), "duplicate audit id {}", m.id);
            assert!(
                m.id.bytes().all(|b| b.is_ascii_lowercase() || b == b'-'),
                "{}",
                m.id
            );
            assert!(
                !m.name.is_empty() && m.fix.len() > 20,
                "{} lacks a fix",
                m.id
            );
            let docs = m.doc_text();
            assert!(
                docs.contains("## What it does") && docs.contains("## Why is this bad"),
                "{} lacks docs",
                m.id
            );
            assert!(!docs.contains("## Fix"), "{}: the fix lives in `fix`", m.id);
        }
    }
}

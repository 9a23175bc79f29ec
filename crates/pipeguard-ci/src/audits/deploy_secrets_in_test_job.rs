//! The `deploy-secrets-in-test-job` audit: the docs are the doc comment of the `rule_meta!` below.

use pipeguard_core::{Confidence, Severity, rule_meta};
use regex::Regex;

use super::deploy_without_environment::deploys;
use super::{Audit, Meta, NodeSink, Sink};
use crate::model::{Job, Workflow};
use crate::yaml::Node;

pub struct DeploySecretsInTestJob;

rule_meta! {
    /// ## What it does
    /// Flags deployment or publishing secrets (`secrets.PROD_*`,
    /// `secrets.*DEPLOY*`, `secrets.NPM_TOKEN`, `secrets.PYPI_*`, cloud keys …)
    /// handed to a job that only builds or tests. A job that deploys, or pushes
    /// an image or chart (`docker/build-push-action` with `push: true`,
    /// `docker push`, goreleaser, `ko publish`, `helm push`), publishes and is
    /// not reported.
    ///
    /// ## Why is this bad
    /// Duties should be segregated: a test job runs the most untrusted code in
    /// the pipeline (every dependency's install scripts and tests). If it holds
    /// the deploy credentials, compromising a test compromises production.
    static META = {
        id: "deploy-secrets-in-test-job",
        name: "Deployment secret in a job that only builds or tests",
        severity: Severity::High,
        confidence: Confidence::Medium,
        fix: "Give deployment secrets only to the deploying job (behind a protected `environment:`); build and test jobs should hold no deploy credentials.",
        cwe: &[668],
    };
}

fn deploy_secret() -> &'static Regex {
    static RE: std::sync::OnceLock<Regex> = std::sync::OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(r"secrets\.([A-Za-z0-9_]*(?:PROD|DEPLOY|RELEASE|PUBLISH|NPM_TOKEN|PYPI|CARGO_REGISTRY_TOKEN|DOCKERHUB|KUBE|AWS_SECRET|GCP_SA|AZURE_CREDENTIALS|SSH_PRIVATE_KEY)[A-Za-z0-9_]*)")
            .expect("valid regex")
    })
}

fn secret_in(node: Option<&Node>) -> Option<(&Node, String)> {
    node?.scalars().into_iter().find_map(|n| {
        let t = n.str()?;
        deploy_secret()
            .captures(t)
            .and_then(|c| c.get(1))
            .map(|m| (n, m.as_str().to_string()))
    })
}

impl Audit for DeploySecretsInTestJob {
    fn meta(&self) -> &'static Meta {
        &META
    }

    fn job(&self, wf: &Workflow, job: &Job, out: &mut Sink) {
        // Pushing an image is publishing: the registry credentials belong
        // in that job (regression: 5 of 7 findings on image-pushing jobs
        // said they "deploy nothing").
        if job.uses.is_some()
            || job.environment.is_some()
            || deploys(job).is_some()
            || crate::permissions::pushes_image(wf, job).is_some()
        {
            return;
        }
        let found = secret_in(job.env).or_else(|| {
            job.steps
                .iter()
                .find_map(|s| secret_in(s.env).or_else(|| secret_in(s.with)))
        });
        if let Some((node, name)) = found {
            out.report(
                &META,
                node,
                &format!("{}:{name}", job.id),
                format!(
                    "Job `{}` gets `secrets.{name}` but deploys nothing.",
                    job.id
                ),
            );
        }
    }
}

//! The `static-cloud-credentials` audit: the docs are the doc comment of the `rule_meta!` below.

use pipeguard_core::{Confidence, Severity, rule_meta};

use super::{Audit, Meta, NodeSink, Sink};
use crate::model::{Job, Step, Workflow};
use crate::yaml::Node;

pub struct StaticCloudCredentials;

rule_meta! {
    /// ## What it does
    /// Flags long-lived cloud credentials handed to a job: AWS access keys as
    /// action inputs or environment, GCP service-account JSON keys, Azure
    /// credentials JSON.
    ///
    /// ## Why is this bad
    /// A static key works from anywhere until someone rotates it; a job that
    /// leaks it leaks lasting access. OIDC gives each run a short-lived token.
    static META = {
        id: "static-cloud-credentials",
        name: "Long-lived cloud credentials instead of OIDC",
        severity: Severity::High,
        confidence: Confidence::High,
        fix: "Replace the static key with OIDC: give the job `permissions: id-token: write` and let the cloud trust this repository (see the replacement).",
        cwe: &[798],
    };
}

const AWS_FIX: &str = "permissions:\n  id-token: write\n  contents: read\n…\n- uses: aws-actions/configure-aws-credentials@<sha>\n  with:\n    role-to-assume: arn:aws:iam::<ACCOUNT_ID>:role/<ROLE>\n    aws-region: <REGION>";
const GCP_FIX: &str = "- uses: google-github-actions/auth@<sha>\n  with:\n    workload_identity_provider: projects/<NUMBER>/locations/global/workloadIdentityPools/<POOL>/providers/<PROVIDER>\n    service_account: <SA>@<PROJECT>.iam.gserviceaccount.com";
const AZURE_FIX: &str = "- uses: azure/login@<sha>\n  with:\n    client-id: ${{ vars.AZURE_CLIENT_ID }}\n    tenant-id: ${{ vars.AZURE_TENANT_ID }}\n    subscription-id: ${{ vars.AZURE_SUBSCRIPTION_ID }}";

fn env_keys(env: Option<&Node>, out: &mut Sink, where_: &str) {
    let Some(env) = env else { return };
    for (k, v) in env.entries() {
        let from_secret = v.str().is_some_and(|s| s.contains("secrets."));
        // One finding per block, on the secret half of the key pair.
        if from_secret && k == "AWS_SECRET_ACCESS_KEY" {
            out.report_with(
                &META,
                v,
                &format!("env:{where_}:{k}"),
                format!("`{k}` is set from a stored secret in {where_}: a long-lived AWS key."),
                Some(AWS_FIX.into()),
            );
        }
        if from_secret
            && (k == "GOOGLE_APPLICATION_CREDENTIALS_JSON"
                || k == "GCP_SA_KEY"
                || k == "AZURE_CREDENTIALS")
        {
            out.report(
                &META,
                v,
                &format!("env:{where_}:{k}"),
                format!("`{k}` is set from a stored secret in {where_}: a long-lived cloud key."),
            );
        }
    }
}

impl Audit for StaticCloudCredentials {
    fn meta(&self) -> &'static Meta {
        &META
    }

    fn workflow(&self, wf: &Workflow, out: &mut Sink) {
        env_keys(wf.env, out, "the workflow env");
    }

    fn job(&self, _wf: &Workflow, job: &Job, out: &mut Sink) {
        env_keys(job.env, out, &format!("job `{}`", job.id));
    }

    fn step(&self, _wf: &Workflow, job: &Job, step: &Step, out: &mut Sink) {
        env_keys(step.env, out, &format!("a step of job `{}`", job.id));
        let Some(action) = step.action() else { return };
        if action.starts_with("aws-actions/configure-aws-credentials")
            && let Some(k) = step
                .input("aws-secret-access-key")
                .or(step.input("aws-access-key-id"))
        {
            out.report_with(
                &META,
                k,
                &format!("aws:{}", job.id),
                format!("Job `{}` configures AWS with a static access key.", job.id),
                Some(AWS_FIX.into()),
            );
        }
        if action.starts_with("google-github-actions/auth")
            && let Some(k) = step.input("credentials_json")
        {
            out.report_with(
                &META,
                k,
                &format!("gcp:{}", job.id),
                format!(
                    "Job `{}` authenticates to GCP with a service-account JSON key.",
                    job.id
                ),
                Some(GCP_FIX.into()),
            );
        }
        if action.eq_ignore_ascii_case("azure/login")
            && let Some(k) = step.input("creds")
        {
            out.report_with(
                &META,
                k,
                &format!("azure:{}", job.id),
                format!(
                    "Job `{}` logs in to Azure with a credentials JSON (client secret).",
                    job.id
                ),
                Some(AZURE_FIX.into()),
            );
        }
    }
}

//! GitLab CI audits over `.gitlab-ci.yml`: each audit is one file with one
//! [`GitlabAudit`] implementation (its docs are its `rule_meta!`), and
//! [`ALL`] is the registry. An audit overrides the level it cares about:
//! the whole pipeline (top-level and `default:` keys) or each job.

use super::{Meta, Sink};
use crate::yaml::Node;

mod job_token_overuse;
mod unpinned_image;
mod unprotected_deploy_vars;

pub trait GitlabAudit: Sync {
    fn meta(&self) -> &'static Meta;

    /// The whole pipeline file.
    fn pipeline(&self, _doc: &Node, _out: &mut Sink) {}

    /// One job: `raw` as written, `job` with its `extends:` templates merged
    /// in (what it will run with).
    fn job(&self, _doc: &Node, _name: &str, _raw: &Node, _job: &Node, _out: &mut Sink) {}
}

/// Every GitLab CI audit, in report order.
pub static ALL: &[&dyn GitlabAudit] = &[
    &unpinned_image::UnpinnedImage,
    &unprotected_deploy_vars::UnprotectedDeployVars,
    &job_token_overuse::JobTokenOveruse,
];

const RESERVED: &[&str] = &[
    "stages",
    "variables",
    "default",
    "include",
    "workflow",
    "image",
    "services",
    "before_script",
    "after_script",
    "cache",
    "spec",
];

/// Runs every GitLab audit over one pipeline file.
pub fn audit_gitlab(doc: &Node, out: &mut Sink) {
    for a in ALL {
        a.pipeline(doc, out);
    }
    for (name, raw) in doc.entries() {
        if RESERVED.contains(&name.as_str())
            || name.starts_with('.')
            || raw.get("script").is_none()
                && raw.get("trigger").is_none()
                && raw.get("extends").is_none()
        {
            continue;
        }
        let job = with_extends(doc, raw);
        for a in ALL {
            a.job(doc, name, raw, &job, out);
        }
    }
}

pub(super) fn scripts(job: &Node) -> String {
    ["before_script", "script", "after_script"]
        .iter()
        .filter_map(|k| job.get(k))
        .flat_map(|n| n.scalars())
        .filter_map(|n| n.str())
        .collect::<Vec<_>>()
        .join("\n")
}

pub(super) fn sensitive_var(script: &str) -> Option<String> {
    let re = sensitive_regex();
    re.find(script).map(|m| {
        m.as_str()
            .trim_start_matches(|c: char| c != '$')
            .to_string()
    })
}

pub(super) fn sensitive_regex() -> &'static regex::Regex {
    static RE: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    RE.get_or_init(|| {
        regex::Regex::new(r"(?:^|[^\\$])\$\{?(?:PROD_[A-Z0-9_]+|[A-Z0-9_]*DEPLOY_(?:TOKEN|KEY|PASSWORD)[A-Z0-9_]*|AWS_SECRET_ACCESS_KEY|KUBE_?CONFIG|GCP_SA_KEY|GOOGLE_APPLICATION_CREDENTIALS|AZURE_CLIENT_SECRET|[A-Z0-9_]*PRODUCTION[A-Z0-9_]*)\}?")
            .expect("valid regex")
    })
}

/// Whether the job's `rules:`/`only:` keep it to protected or default-branch
/// pipelines (or tags, which are protected by convention).
pub(super) fn restricted(job: &Node) -> bool {
    let text: Vec<&str> = ["rules", "only"]
        .iter()
        .filter_map(|k| job.get(k))
        .flat_map(|n| n.scalars())
        .filter_map(|n| n.str())
        .collect();
    text.iter().any(|t| {
        t.contains("CI_COMMIT_REF_PROTECTED")
            || t.contains("CI_DEFAULT_BRANCH")
            || t.contains("CI_COMMIT_TAG")
            || *t == "main"
            || *t == "master"
            || *t == "tags"
            || t.contains("== \"main\"")
            || t.contains("== \"master\"")
    })
}

pub(super) fn runs_for_merge_requests(job: &Node) -> bool {
    let rules = job.get("rules").or(job.get("only"));
    match rules {
        None => true,
        Some(r) => r
            .scalars()
            .iter()
            .filter_map(|n| n.str())
            .any(|t| t.contains("merge_request") || t.contains("CI_MERGE_REQUEST")),
    }
}

/// The job with the keys of its `extends:` templates it does not set itself.
pub(super) fn with_extends(doc: &Node, job: &Node) -> Node {
    let Some(ext) = job.get("extends") else {
        return job.clone();
    };
    let names: Vec<&str> = match ext.str() {
        Some(one) => vec![one],
        None => ext.items().iter().filter_map(|n| n.str()).collect(),
    };
    let mut merged = job.clone();
    if let crate::yaml::Kind::Map(entries) = &mut merged.kind {
        for n in names {
            for (k, v) in doc.get(n).map(|t| t.entries()).unwrap_or(&[]) {
                if !entries.iter().any(|(e, _)| e == k) {
                    entries.push((k.clone(), v.clone()));
                }
            }
        }
    }
    merged
}

pub(super) fn pushes(t: &str) -> bool {
    [
        "git push",
        "docker push",
        "--upload-file",
        "twine upload",
        "npm publish",
    ]
    .iter()
    .any(|p| t.contains(p))
}

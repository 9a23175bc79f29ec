//! The `unpinned-action`, `unpinned-docker-image`, `unpinned-reusable-workflow` audits: the docs are the doc comments of the `rule_meta!` below.

use pipeguard_core::{Confidence, Severity, rule_meta};

use super::{Audit, Meta, NodeSink, Sink};
use crate::model::{Job, Step, Workflow};
use crate::yaml::Node;

pub struct UnpinnedAction;
pub struct UnpinnedDockerImage;
pub struct UnpinnedReusableWorkflow;

rule_meta! {
    /// ## What it does
    /// `unpinned-action`: a third-party action used by tag or branch instead of
    /// a full commit SHA. `unpinned-docker-image`: a `docker://` action, job
    /// container or service image without a digest. `unpinned-reusable-workflow`:
    /// a reusable workflow called on a branch or tag.
    ///
    /// ## Why is this bad
    /// Tags and branches move. Whoever controls the upstream repository (or
    /// steals its credentials, as in the 2025 tj-actions compromise) changes
    /// what your pipeline runs, with your secrets.
    static ACTION = {
        id: "unpinned-action",
        name: "Third-party action not pinned to a commit SHA",
        severity: Severity::Medium,
        confidence: Confidence::High,
        fix: "Pin the action to a full commit SHA (`uses: owner/repo@<40-hex-sha> # vX.Y.Z`) and update it with Dependabot or Renovate.",
        cwe: &[829, 1357],
    };
}

rule_meta! {
    /// ## What it does
    /// `unpinned-action`: a third-party action used by tag or branch instead of
    /// a full commit SHA. `unpinned-docker-image`: a `docker://` action, job
    /// container or service image without a digest. `unpinned-reusable-workflow`:
    /// a reusable workflow called on a branch or tag.
    ///
    /// ## Why is this bad
    /// Tags and branches move. Whoever controls the upstream repository (or
    /// steals its credentials, as in the 2025 tj-actions compromise) changes
    /// what your pipeline runs, with your secrets.
    static IMAGE = {
        id: "unpinned-docker-image",
        name: "Container image not pinned by digest",
        severity: Severity::Medium,
        confidence: Confidence::High,
        fix: "Pin the image by digest (`image@sha256:<digest>`), keeping the tag in a comment.",
        cwe: &[829, 1357],
    };
}

rule_meta! {
    /// ## What it does
    /// `unpinned-action`: a third-party action used by tag or branch instead of
    /// a full commit SHA. `unpinned-docker-image`: a `docker://` action, job
    /// container or service image without a digest. `unpinned-reusable-workflow`:
    /// a reusable workflow called on a branch or tag.
    ///
    /// ## Why is this bad
    /// Tags and branches move. Whoever controls the upstream repository (or
    /// steals its credentials, as in the 2025 tj-actions compromise) changes
    /// what your pipeline runs, with your secrets.
    static REUSABLE = {
        id: "unpinned-reusable-workflow",
        name: "Reusable workflow not pinned to a commit SHA",
        severity: Severity::Medium,
        confidence: Confidence::High,
        fix: "Call the reusable workflow at a full commit SHA (`…/workflow.yml@<40-hex-sha>`).",
        cwe: &[829, 1357],
    };
}

fn is_sha(r: &str) -> bool {
    r.len() == 40 && r.bytes().all(|b| b.is_ascii_hexdigit())
}

fn first_party(target: &str) -> bool {
    target.starts_with("actions/") || target.starts_with("github/")
}

fn check_image(job: &Job, node: &Node, key: &str, out: &mut Sink, what: &str) {
    let Some(image) = node.str() else { return };
    if image.contains("${{") {
        // `image: ${{ matrix.image }}`: unpinned if any matrix value is.
        let unpinned: Vec<&str> = job
            .matrix_values(image)
            .into_iter()
            .filter_map(|n| n.str())
            .filter(|v| !v.contains("@sha256:"))
            .collect();
        if !unpinned.is_empty() {
            out.report(
                &IMAGE,
                node,
                key,
                format!(
                    "{what} `{image}` takes values not pinned by digest ({}).",
                    unpinned.join(", ")
                ),
            );
        }
        return;
    }
    if image.contains("@sha256:") || image.is_empty() {
        return;
    }
    out.report(
        &IMAGE,
        node,
        key,
        format!("{what} `{image}` is not pinned by digest."),
    );
}

impl Audit for UnpinnedAction {
    fn meta(&self) -> &'static Meta {
        &ACTION
    }

    fn step(&self, _wf: &Workflow, job: &Job, step: &Step, out: &mut Sink) {
        let Some(uses) = step.uses else { return };
        let Some(u) = uses.str() else { return };
        if u.starts_with("./") || u.starts_with("docker://") {
            return;
        }
        let (target, r) = u.split_once('@').unwrap_or((u, ""));
        if first_party(target) || is_sha(r) {
            return;
        }
        let how = if r.is_empty() {
            "without any ref".to_string()
        } else {
            format!("at `{r}`")
        };
        out.report(
            &ACTION,
            uses,
            &format!("{}:{u}", job.id),
            format!("`{target}` is used {how}, which its owner can move."),
        );
    }
}

impl Audit for UnpinnedDockerImage {
    fn meta(&self) -> &'static Meta {
        &IMAGE
    }

    fn job(&self, _wf: &Workflow, job: &Job, out: &mut Sink) {
        if let Some(c) = job.container {
            let image = c.get("image").unwrap_or(c);
            check_image(
                job,
                image,
                &format!("{}:container", job.id),
                out,
                "The job container image",
            );
        }
        if let Some(services) = job.services {
            for (name, svc) in services.entries() {
                if let Some(image) = svc.get("image") {
                    check_image(
                        job,
                        image,
                        &format!("{}:service:{name}", job.id),
                        out,
                        &format!("Service `{name}` image"),
                    );
                }
            }
        }
    }

    fn step(&self, _wf: &Workflow, job: &Job, step: &Step, out: &mut Sink) {
        if let Some(uses) = step.uses
            && let Some(image) = uses.str().and_then(|u| u.strip_prefix("docker://"))
            && !image.contains("@sha256:")
        {
            out.report(
                &IMAGE,
                uses,
                &format!("{}:{image}", job.id),
                format!("The docker action `{image}` is not pinned by digest."),
            );
        }
    }
}

impl Audit for UnpinnedReusableWorkflow {
    fn meta(&self) -> &'static Meta {
        &REUSABLE
    }

    fn job(&self, _wf: &Workflow, job: &Job, out: &mut Sink) {
        let Some(uses) = job.uses else { return };
        let Some(u) = uses.str() else { return };
        if u.starts_with("./") {
            return;
        }
        let (target, r) = u.split_once('@').unwrap_or((u, ""));
        if !is_sha(r) {
            out.report(
                &REUSABLE,
                uses,
                &format!("{}:{u}", job.id),
                format!(
                    "Job `{}` calls `{target}` at `{r}`, which its owner can move.",
                    job.id
                ),
            );
        }
    }
}

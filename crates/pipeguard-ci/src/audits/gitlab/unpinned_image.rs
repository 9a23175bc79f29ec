//! The `gitlab-unpinned-image` audit.

use pipeguard_core::{Confidence, Severity, rule_meta};

use super::GitlabAudit;
use crate::audits::{Meta, NodeSink, Sink};
use crate::yaml::Node;

pub struct UnpinnedImage;

rule_meta! {
    /// ## What it does
    /// Flags an `image:` (job, `default:` or service) without a `@sha256:` digest; `latest` or no tag at all is called out in the message.
    /// ## Why is this bad
    /// A tag moves: whoever controls the upstream repository (or steals its credentials) changes what your pipeline runs, with your CI variables in reach.
    /// ## Example
    /// `image: node:20` in a job that deploys.
    static IMAGE = {
        id: "gitlab-unpinned-image",
        name: "GitLab CI image not pinned by digest",
        severity: Severity::Medium,
        confidence: Confidence::High,
        fix: "Pin the image by digest (`image: node:20@sha256:<digest>`); a tag can be repointed upstream.",
        cwe: &[829, 1357],
    };
}

impl GitlabAudit for UnpinnedImage {
    fn meta(&self) -> &'static Meta {
        &IMAGE
    }

    fn pipeline(&self, doc: &Node, out: &mut Sink) {
        if let Some(img) = doc.get("image") {
            check_image(img, "top:image", out);
        }
        if let Some(img) = doc.get("default").and_then(|d| d.get("image")) {
            check_image(img, "default:image", out);
        }
    }

    fn job(&self, _doc: &Node, name: &str, raw: &Node, _job: &Node, out: &mut Sink) {
        if let Some(img) = raw.get("image") {
            check_image(img, &format!("{name}:image"), out);
        }
        for svc in raw.get("services").map(|s| s.items()).unwrap_or(&[]) {
            check_image(svc, &format!("{name}:service"), out);
        }
    }
}

fn check_image(node: &Node, key: &str, out: &mut Sink) {
    let n = node.get("name").unwrap_or(node);
    let Some(image) = n.str() else { return };
    if image.contains("@sha256:") || image.starts_with('$') {
        return;
    }
    let last = image.rsplit('/').next().unwrap_or(image);
    let detail = match last.split_once(':') {
        None => " (no tag: whatever `latest` is today)".to_string(),
        Some((_, "latest")) => " (`latest`)".to_string(),
        Some(_) => String::new(),
    };
    out.report(
        &IMAGE,
        n,
        key,
        format!("Image `{image}`{detail} is not pinned by digest."),
    );
}

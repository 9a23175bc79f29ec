//! Findings about a built image: its config and its final filesystem. The
//! secrets in its layers (deleted files included) and its vulnerable OS
//! packages come from the secrets and deps analyzers, run by the binary.

use pipeguard_core::{Confidence, Finding, Location, RuleMeta, Severity};

use crate::image::{
    FsView, Image, ToolKind, present_tools, runs_as_root, sensitive_env, setuid_files,
};

static ROOT: RuleMeta = RuleMeta {
    id: "image-runs-as-root",
    name: "Image runs as root",
    severity: Severity::High,
    confidence: Confidence::High,
    fix: "Set a non-root `USER` in the final stage (or `--user` in the runtime spec) and make the application's files readable by it.",
    cwe: &[],
    docs: "",
};

static SHELL: RuleMeta = RuleMeta {
    id: "image-shell-present",
    name: "Shell in the final image",
    severity: Severity::Low,
    confidence: Confidence::High,
    fix: "Ship the application on a distroless or scratch base so an attacker who gets code execution has no shell to use.",
    cwe: &[],
    docs: "",
};

static PKG: RuleMeta = RuleMeta {
    id: "image-package-manager-present",
    name: "Package manager in the final image",
    severity: Severity::Low,
    confidence: Confidence::High,
    fix: "Install packages in a build stage and copy only the results; a package manager in production lets an intruder install tools.",
    cwe: &[],
    docs: "",
};

static NET: RuleMeta = RuleMeta {
    id: "image-network-tool-present",
    name: "Network tools in the final image",
    severity: Severity::Low,
    confidence: Confidence::High,
    fix: "Remove curl/wget/nc and similar tools from the final image; they are an intruder's download and exfiltration kit.",
    cwe: &[],
    docs: "",
};

static SETUID: RuleMeta = RuleMeta {
    id: "image-setuid-binary",
    name: "setuid/setgid binaries in the image",
    severity: Severity::Medium,
    confidence: Confidence::High,
    fix: "Remove the setuid/setgid bits (`chmod a-s`) or the binaries; run with `no-new-privileges`.",
    cwe: &[],
    docs: "",
};

static ENV: RuleMeta = RuleMeta {
    id: "image-sensitive-env",
    name: "Secret-looking value in the image config's environment",
    severity: Severity::High,
    confidence: Confidence::Medium,
    fix: "Remove the value from the image; inject it at run time from the orchestrator's secret store.",
    cwe: &[],
    docs: "",
};

/// Every image rule, for documentation.
pub static META: [&RuleMeta; 6] = [&ROOT, &SHELL, &PKG, &NET, &SETUID, &ENV];

fn at(image_name: &str, path: &str) -> Location {
    Location::file(format!("{image_name}//{path}"))
}

/// Config and filesystem findings for `image`, reported under `image_name`.
pub fn findings(image_name: &str, image: &Image, view: &FsView) -> Vec<Finding> {
    let mut out = Vec::new();
    let cfg = &image.config;
    if runs_as_root(cfg) {
        let user = cfg
            .user
            .clone()
            .filter(|u| !u.is_empty())
            .unwrap_or_else(|| "(unset)".into());
        out.push(ROOT.finding(
            "image",
            at(image_name, "config"),
            "user",
            format!("The image's config user is `{user}`."),
            None,
        ));
    }
    let tools = present_tools(view);
    for (meta, kind) in [
        (&SHELL, ToolKind::Shell),
        (&PKG, ToolKind::PackageManager),
        (&NET, ToolKind::Network),
    ] {
        let paths: Vec<String> = tools
            .iter()
            .filter(|(_, k)| *k == kind)
            .map(|(p, _)| format!("/{p}"))
            .collect();
        if let Some(first) = paths.first() {
            let mut f = meta.finding(
                "image",
                at(image_name, first.trim_start_matches('/')),
                meta.id,
                format!("Present: {}.", paths.join(", ")),
                None,
            );
            for p in &paths[1..] {
                f.locations.push(at(image_name, p.trim_start_matches('/')));
            }
            out.push(f);
        }
    }
    let suid = setuid_files(view);
    if let Some((first, _)) = suid.first() {
        let names: Vec<String> = suid.iter().map(|(p, _)| format!("/{p}")).collect();
        let mut f = SETUID.finding(
            "image",
            at(image_name, first),
            "setuid",
            format!("setuid/setgid: {}.", names.join(", ")),
            None,
        );
        for (p, _) in &suid[1..] {
            f.locations.push(at(image_name, p));
        }
        out.push(f);
    }
    for name in sensitive_env(cfg) {
        out.push(ENV.finding(
            "image",
            at(image_name, "config"),
            &name,
            format!(
                "The image config sets `{name}` to a literal value that every puller can read."
            ),
            None,
        ));
    }
    out
}

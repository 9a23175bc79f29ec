//! Findings about a built image: its config and its final filesystem. The
//! secrets in its layers (deleted files included) and its vulnerable OS
//! packages come from the secrets and deps analyzers, run by the binary.

use pipeguard_core::{Confidence, Finding, Location, RuleMeta, Severity, rule_meta};

use crate::image::{
    FsView, Image, ToolKind, present_tools, runs_as_root, sensitive_env, setuid_files,
};

rule_meta! {
    /// ## What it does
    /// Flags an image whose config runs the entrypoint as root: no `User`, or `User` set to `root`/`0`.
    /// ## Why is this bad
    /// Whatever runs in the container owns its whole filesystem as root and is one kernel or runtime bug away from the node. Admission policies (Pod Security `restricted`) refuse such images.
    /// ## Example
    /// An image built `FROM python:3.12` with no `USER` instruction.
    static ROOT = {
        id: "image-runs-as-root",
        name: "Image runs as root",
        severity: Severity::High,
        confidence: Confidence::High,
        fix: "Set a non-root `USER` in the final stage (or `--user` in the runtime spec) and make the application's files readable by it.",
        cwe: &[250],
    };
}

rule_meta! {
    /// ## What it does
    /// Flags a shell (`sh`, `bash`, `busybox` …) in the final filesystem.
    /// ## Why is this bad
    /// An attacker who gets code execution in the application uses the shell to explore, download tools and pivot; distroless images ship none.
    /// ## Example
    /// `/bin/sh` in an image built on `debian:12-slim`.
    static SHELL = {
        id: "image-shell-present",
        name: "Shell in the final image",
        severity: Severity::Low,
        confidence: Confidence::High,
        fix: "Ship the application on a distroless or scratch base so an attacker who gets code execution has no shell to use.",
        cwe: &[],
    };
}

rule_meta! {
    /// ## What it does
    /// Flags a package manager (`apt`, `apk`, `pip`, `npm` …) in the final filesystem.
    /// ## Why is this bad
    /// It lets an intruder install whatever tools they need, and it usually brings a larger attack surface of its own.
    /// ## Example
    /// `/usr/bin/apt-get` in the runtime image of a Go service.
    static PKG = {
        id: "image-package-manager-present",
        name: "Package manager in the final image",
        severity: Severity::Low,
        confidence: Confidence::High,
        fix: "Install packages in a build stage and copy only the results; a package manager in production lets an intruder install tools.",
        cwe: &[],
    };
}

rule_meta! {
    /// ## What it does
    /// Flags network tools (`curl`, `wget`, `nc`, `ssh` …) in the final filesystem.
    /// ## Why is this bad
    /// They are an intruder's download and exfiltration kit; a service rarely needs them at run time.
    /// ## Example
    /// `curl` left in the final image after being used to fetch a build dependency.
    static NET = {
        id: "image-network-tool-present",
        name: "Network tools in the final image",
        severity: Severity::Low,
        confidence: Confidence::High,
        fix: "Remove curl/wget/nc and similar tools from the final image; they are an intruder's download and exfiltration kit.",
        cwe: &[],
    };
}

rule_meta! {
    /// ## What it does
    /// Lists files with the setuid or setgid bit in the final filesystem.
    /// ## Why is this bad
    /// A setuid binary runs with its owner's privileges; a bug in one is a privilege escalation inside the container, even for a non-root user.
    /// ## Example
    /// `/usr/bin/passwd` (setuid root) in a base distribution image.
    static SETUID = {
        id: "image-setuid-binary",
        name: "setuid/setgid binaries in the image",
        severity: Severity::Medium,
        confidence: Confidence::High,
        fix: "Remove the setuid/setgid bits (`chmod a-s`) or the binaries; run with `no-new-privileges`.",
        cwe: &[250],
    };
}

rule_meta! {
    /// ## What it does
    /// Flags environment variables in the image config whose names or values look like credentials (`*_PASSWORD`, `*_TOKEN`, `AWS_SECRET_ACCESS_KEY` …).
    /// ## Why is this bad
    /// The config is readable by anyone who can pull the image (`docker inspect`), and it is copied into every registry and cache.
    /// ## Example
    /// `ENV DB_PASSWORD=…` baked in at build time.
    static ENV = {
        id: "image-sensitive-env",
        name: "Secret-looking value in the image config's environment",
        severity: Severity::High,
        confidence: Confidence::Medium,
        fix: "Remove the value from the image; inject it at run time from the orchestrator's secret store.",
        cwe: &[798, 538],
    };
}

/// Every image rule: the image part of the rule registry.
pub static META: [&RuleMeta; 6] = [&ROOT, &SHELL, &PKG, &NET, &SETUID, &ENV];

/// The image rules as registry entries.
pub fn rules() -> Vec<pipeguard_core::RuleDoc> {
    META.iter().map(|m| m.doc("image")).collect()
}

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

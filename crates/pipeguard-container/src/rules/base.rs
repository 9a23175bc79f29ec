//! Rules about base images and the final stage.

use pipeguard_core::{Confidence, RuleMeta, Severity, rule_meta};

use super::{InstructionSink, Rule, Sink};
use crate::dockerfile::{Dockerfile, Stage};

/// Splits `registry/name:tag@digest` into (name without registry, tag, digest).
pub fn image_parts(image: &str) -> (&str, Option<&str>, Option<&str>) {
    let (rest, digest) = match image.split_once('@') {
        Some((r, d)) => (r, Some(d)),
        None => (image, None),
    };
    // A `:` after the last `/` is a tag; before it, a registry port.
    let last = rest.rfind('/').map_or(0, |i| i + 1);
    let (name, tag) = match rest[last..].split_once(':') {
        Some((n, t)) => (&rest[..last + n.len()], Some(t)),
        None => (rest, None),
    };
    (name, tag, digest)
}

/// `FROM scratch`, or `FROM <an earlier stage>`: nothing to pin.
fn is_scratch_or_stage(df: &Dockerfile, index: usize, stage: &Stage) -> bool {
    stage.image.eq_ignore_ascii_case("scratch")
        || df.stages[..index].iter().any(|s| {
            s.alias
                .as_deref()
                .is_some_and(|a| a.eq_ignore_ascii_case(&stage.image))
        })
}

pub struct RootUser;

rule_meta! {
    /// ## What it does
    /// Flags a final stage that runs as root: no `USER`, or `USER root`/`0`.
    /// A final stage built `FROM` an earlier stage inherits that stage's
    /// last `USER` (or its base image's root), so the chain is followed: a
    /// non-root USER in the parent stage is not flagged, a `USER root` there
    /// (or no USER anywhere on a root base) is.
    /// ## Why is this bad
    /// A process running as root inside the container owns the whole container
    /// filesystem and is one kernel or runtime bug away from the host.
    static ROOT_USER = {
        id: "root-user",
        name: "Final stage runs as root",
        severity: Severity::High,
        confidence: Confidence::High,
        fix: "Add `USER <uid>` (a non-zero, unprivileged user) to the final stage, or build on a `:nonroot` base image.",
        cwe: &[250],
    };
}

/// The earlier stage `df.stages[index]` is built `FROM` (`FROM build`,
/// `FROM 0`), if any.
fn parent_stage(df: &Dockerfile, index: usize) -> Option<usize> {
    let image = &df.stages[index].image;
    df.stages[..index]
        .iter()
        .rposition(|s| {
            s.alias
                .as_deref()
                .is_some_and(|a| a.eq_ignore_ascii_case(image))
        })
        .or_else(|| image.parse::<usize>().ok().filter(|i| *i < index))
}

fn is_root(user: &str) -> bool {
    let name = user.split(':').next().unwrap_or("");
    name == "root" || name == "0"
}

impl Rule for RootUser {
    fn meta(&self) -> &'static RuleMeta {
        &ROOT_USER
    }

    fn check(&self, df: &Dockerfile, out: &mut Sink) {
        let Some(final_index) = df.stages.len().checked_sub(1) else {
            return;
        };
        let stage = &df.stages[final_index];
        // The user a stage runs as is its own last USER, or else the one it
        // inherits: from the stage it is built FROM (which may inherit in
        // turn), or from the base image at the end of that chain.
        let mut index = final_index;
        let mut hops = 0;
        loop {
            let current = &df.stages[index];
            let last_user = current
                .instructions
                .iter()
                .rev()
                .find(|i| i.keyword == "USER");
            if let Some(u) = last_user {
                let user = u.args.split_whitespace().next().unwrap_or("");
                if !is_root(user) {
                    return;
                }
                if index == final_index {
                    out.report(
                        &ROOT_USER,
                        u,
                        "user",
                        format!("The final stage switches to `{user}`."),
                    );
                } else {
                    let name = current.alias.as_deref().unwrap_or(&current.image);
                    out.report(
                        &ROOT_USER,
                        &stage.from,
                        "inherited-user",
                        format!(
                            "The final stage has no `USER` and inherits `{user}` from stage `{name}` (line {}).",
                            u.line
                        ),
                    );
                }
                return;
            }
            hops += 1;
            match parent_stage(df, index) {
                Some(parent) if hops <= df.stages.len() => index = parent,
                _ => break,
            }
        }
        let root = &df.stages[index];
        let nonroot_base =
            root.image.contains("nonroot") || root.image.starts_with("cgr.dev/chainguard/");
        if nonroot_base {
            return;
        }
        let message = if index == final_index {
            format!(
                "The final stage (`{}`) has no `USER`, so it runs as root.",
                stage.image
            )
        } else {
            format!(
                "The final stage (`FROM {}`) and the stages it is built from have no `USER`, so it runs as root (base `{}`).",
                stage.image, root.image
            )
        };
        out.report(&ROOT_USER, &stage.from, "no-user", message);
    }
}

pub struct SingleStageBuild;

rule_meta! {
    /// ## What it does
    /// Flags single-stage builds of compiled applications and build toolchains
    /// left in the final image.
    /// ## Why is this bad
    /// Compilers, package managers and headers in the shipped image are tools
    /// for an attacker and hundreds of megabytes of unneeded, vulnerable
    /// packages.
    static SINGLE_STAGE = {
        id: "single-stage-build",
        name: "Build toolchain in the final image",
        severity: Severity::Medium,
        confidence: Confidence::Medium,
        fix: "Use a multi-stage build: compile in a builder stage and copy only the artifact into a slim or distroless final stage.",
        cwe: &[],
    };
}

const TOOLCHAIN_IMAGES: &[&str] = &[
    "golang",
    "rust",
    "maven",
    "gradle",
    "gcc",
    "mcr.microsoft.com/dotnet/sdk",
    "openjdk",
    "eclipse-temurin",
    "node",
];
const TOOLCHAIN_PACKAGES: &[&str] = &[
    "build-essential",
    "gcc",
    "g++",
    "make",
    "cmake",
    "golang",
    "cargo",
    "rustc",
    "maven",
    "gradle",
    "clang",
    "build-base",
];

fn installs_toolchain(script: &str) -> Option<String> {
    for line in script.split(['\n', ';', '&']) {
        let words: Vec<&str> = line.split_whitespace().collect();
        let installing = words.windows(2).any(|w| {
            matches!(
                (w[0], w[1]),
                ("apt-get" | "apt" | "yum" | "dnf" | "microdnf", "install") | ("apk", "add")
            )
        });
        if !installing {
            continue;
        }
        if let Some(p) = words.iter().find(|w| {
            let name = w.split('=').next().unwrap_or(w);
            TOOLCHAIN_PACKAGES.contains(&name) || (name.ends_with("-dev") && !name.starts_with('-'))
        }) {
            return Some(p.to_string());
        }
    }
    None
}

impl Rule for SingleStageBuild {
    fn meta(&self) -> &'static RuleMeta {
        &SINGLE_STAGE
    }

    fn check(&self, df: &Dockerfile, out: &mut Sink) {
        let Some(stage) = df.final_stage() else {
            return;
        };
        let (name, tag, _) = image_parts(&stage.image);
        let base = name.rsplit('/').next().unwrap_or(name);
        let toolchain_image = TOOLCHAIN_IMAGES.iter().any(|t| {
            let t_base = t.rsplit('/').next().unwrap_or(t);
            (base == t_base || name == *t)
                && !(t_base == "eclipse-temurin" && tag.is_some_and(|t| t.contains("jre")))
        });
        let builds = stage.instructions.iter().any(|i| {
            i.keyword == "RUN" && {
                let s = i.script();
                [
                    "go build",
                    "cargo build",
                    "mvn ",
                    "gradle ",
                    "npm run build",
                    "yarn build",
                    "dotnet publish",
                    "dotnet build",
                    "make",
                    "gcc ",
                ]
                .iter()
                .any(|p| s.contains(p))
            }
        });
        if df.stages.len() == 1 && toolchain_image && (builds || base != "node") {
            out.report(
                &SINGLE_STAGE,
                &stage.from,
                "image",
                format!(
                    "The only stage builds on the toolchain image `{}` and ships it.",
                    stage.image
                ),
            );
            return;
        }
        for i in stage.instructions.iter().filter(|i| i.keyword == "RUN") {
            if let Some(p) = installs_toolchain(&i.script()) {
                out.report(
                    &SINGLE_STAGE,
                    &stage.from,
                    &format!("pkg:{p}"),
                    format!(
                        "The final stage installs the build toolchain package `{p}` (line {}).",
                        i.line
                    ),
                );
                return;
            }
        }
    }
}

pub struct UnpinnedBaseImage;
pub struct BaseImageWithoutDigest;

rule_meta! {
    /// ## What it does
    /// `unpinned-base-image`: `FROM` without a tag or with `latest`.
    /// `base-image-without-digest`: a tag but no `@sha256:` digest.
    /// ## Why is this bad
    /// `latest` changes under you: builds stop being reproducible and a
    /// compromised or broken upstream image flows straight in. Tags can be
    /// repointed too; only a digest names exact bytes.
    static UNPINNED = {
        id: "unpinned-base-image",
        name: "Base image without a tag, or `latest`",
        severity: Severity::Medium,
        confidence: Confidence::High,
        fix: "Pin the base image to a version tag and digest: `FROM image:1.2.3@sha256:<digest>`.",
        cwe: &[829, 1357],
    };
}

rule_meta! {
    /// ## What it does
    /// `unpinned-base-image`: `FROM` without a tag or with `latest`.
    /// `base-image-without-digest`: a tag but no `@sha256:` digest.
    /// ## Why is this bad
    /// `latest` changes under you: builds stop being reproducible and a
    /// compromised or broken upstream image flows straight in. Tags can be
    /// repointed too; only a digest names exact bytes.
    static NO_DIGEST = {
        id: "base-image-without-digest",
        name: "Base image not pinned by digest",
        severity: Severity::Low,
        confidence: Confidence::High,
        fix: "Add the digest to the tag (`FROM image:1.2.3@sha256:<digest>`) and let Renovate or Dependabot update it.",
        cwe: &[829, 1357],
    };
}

impl Rule for UnpinnedBaseImage {
    fn meta(&self) -> &'static RuleMeta {
        &UNPINNED
    }

    fn check(&self, df: &Dockerfile, out: &mut Sink) {
        for (i, stage) in df.stages.iter().enumerate() {
            if is_scratch_or_stage(df, i, stage) || stage.image.is_empty() {
                continue;
            }
            let (_, tag, digest) = image_parts(&stage.image);
            if digest.is_some() {
                continue;
            }
            match tag {
                None => out.report(
                    &UNPINNED,
                    &stage.from,
                    &stage.image,
                    format!(
                        "`FROM {}` has no tag: whatever `latest` is at build time.",
                        stage.image
                    ),
                ),
                Some("latest") => out.report(
                    &UNPINNED,
                    &stage.from,
                    &stage.image,
                    format!("`FROM {}` follows `latest`.", stage.image),
                ),
                Some(_) => {}
            }
        }
    }
}

impl Rule for BaseImageWithoutDigest {
    fn meta(&self) -> &'static RuleMeta {
        &NO_DIGEST
    }

    fn check(&self, df: &Dockerfile, out: &mut Sink) {
        for (i, stage) in df.stages.iter().enumerate() {
            if is_scratch_or_stage(df, i, stage) {
                continue;
            }
            let (_, tag, digest) = image_parts(&stage.image);
            if digest.is_none() && tag.is_some_and(|t| t != "latest") {
                out.report(
                    &NO_DIGEST,
                    &stage.from,
                    &stage.image,
                    format!("`FROM {}` is pinned by tag only.", stage.image),
                );
            }
        }
    }
}

pub struct FatBaseImage;

rule_meta! {
    /// ## What it does
    /// Flags a final stage built on a full distribution image where a slim,
    /// distroless or scratch base would do.
    /// ## Why is this bad
    /// Every extra package is attack surface and scanner noise: a full
    /// `python:3.12` image carries compilers, shells and hundreds of libraries
    /// the application never loads.
    static FAT = {
        id: "fat-base-image",
        name: "Full-distribution base image for the final stage",
        severity: Severity::Low,
        confidence: Confidence::Medium,
        fix: "Use a minimal base for the final stage (see the suggestion), copying only what the application needs.",
        cwe: &[],
    };
}

fn slimmer(base: &str, tag: Option<&str>) -> Option<String> {
    let tag = tag.unwrap_or("");
    let slim = tag.contains("slim")
        || tag.contains("alpine")
        || tag.contains("distroless")
        || tag.contains("minimal")
        || tag.contains("jre");
    let suggestion = match base {
        "ubuntu" | "debian" | "centos" | "fedora" | "amazonlinux" | "rockylinux" | "almalinux" => {
            "debian:stable-slim, or gcr.io/distroless/base-debian12 for a compiled binary"
        }
        "python" if !slim => "python:<version>-slim, or gcr.io/distroless/python3-debian12",
        "node" if !slim => "node:<version>-slim, or gcr.io/distroless/nodejs20-debian12",
        "ruby" if !slim => "ruby:<version>-slim",
        "openjdk" | "eclipse-temurin" | "amazoncorretto" if !slim => {
            "eclipse-temurin:<version>-jre, or gcr.io/distroless/java21-debian12"
        }
        "golang" => {
            "gcr.io/distroless/static-debian12 or scratch, with the binary copied from a builder stage"
        }
        _ => return None,
    };
    if base == "debian" && slim {
        return None;
    }
    Some(suggestion.to_string())
}

impl Rule for FatBaseImage {
    fn meta(&self) -> &'static RuleMeta {
        &FAT
    }

    fn check(&self, df: &Dockerfile, out: &mut Sink) {
        let Some(stage) = df.final_stage() else {
            return;
        };
        let (name, tag, _) = image_parts(&stage.image);
        let base = name.rsplit('/').next().unwrap_or(name).to_ascii_lowercase();
        if let Some(s) = slimmer(&base, tag) {
            out.report(
                &FAT,
                &stage.from,
                &stage.image,
                format!(
                    "The final stage is based on the full image `{}`; consider {s}.",
                    stage.image
                ),
            );
        }
    }
}

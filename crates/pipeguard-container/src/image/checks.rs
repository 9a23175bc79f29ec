//! Pure checks over an image's config and final filesystem; the caller turns
//! them into findings.

use std::collections::HashSet;

use super::view::{FileEntry, FileKind};
use super::{FsView, ImageConfig};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ToolKind {
    Shell,
    PackageManager,
    Network,
}

const TOOLS: &[(&str, ToolKind)] = &[
    ("sh", ToolKind::Shell),
    ("bash", ToolKind::Shell),
    ("dash", ToolKind::Shell),
    ("ash", ToolKind::Shell),
    ("zsh", ToolKind::Shell),
    ("ksh", ToolKind::Shell),
    ("busybox", ToolKind::Shell),
    ("apt", ToolKind::PackageManager),
    ("apt-get", ToolKind::PackageManager),
    ("dpkg", ToolKind::PackageManager),
    ("apk", ToolKind::PackageManager),
    ("yum", ToolKind::PackageManager),
    ("dnf", ToolKind::PackageManager),
    ("microdnf", ToolKind::PackageManager),
    ("rpm", ToolKind::PackageManager),
    ("pip", ToolKind::PackageManager),
    ("pip3", ToolKind::PackageManager),
    ("npm", ToolKind::PackageManager),
    ("curl", ToolKind::Network),
    ("wget", ToolKind::Network),
    ("nc", ToolKind::Network),
    ("ncat", ToolKind::Network),
    ("netcat", ToolKind::Network),
    ("socat", ToolKind::Network),
    ("ssh", ToolKind::Network),
    ("scp", ToolKind::Network),
    ("telnet", ToolKind::Network),
];

const BIN_DIRS: &[&str] = &["bin", "usr/bin", "sbin", "usr/sbin", "usr/local/bin"];

/// Whether the container's process runs as root: no user, or user root or
/// uid 0 whatever the group.
pub fn runs_as_root(config: &ImageConfig) -> bool {
    let user = config.user.as_deref().unwrap_or_default().trim();
    let name = user.split(':').next().unwrap_or_default();
    matches!(name, "" | "root" | "0")
}

/// Shells, package managers and network tools on the usual `PATH`, as
/// (path without leading `/`, kind). A symlink counts only when its target
/// exists inside the image; a tool reachable through several paths (merged
/// `/usr`) is listed once.
pub fn present_tools(view: &FsView) -> Vec<(String, ToolKind)> {
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    for dir in BIN_DIRS {
        for (name, kind) in TOOLS {
            let path = format!("{dir}/{name}");
            let Some(target) = view.resolve(&path) else {
                continue;
            };
            let runnable = view
                .files
                .get(&target)
                .is_some_and(|e| matches!(e.kind, FileKind::File | FileKind::Hardlink(_)));
            if runnable && seen.insert((*name, target)) {
                out.push((path, *kind));
            }
        }
    }
    out
}

/// Regular files with the setuid or setgid bit.
pub fn setuid_files(view: &FsView) -> Vec<(String, FileEntry)> {
    view.files
        .iter()
        .filter(|(_, e)| e.setuid || e.setgid)
        .map(|(p, e)| (p.clone(), e.clone()))
        .collect()
}

const SECRET_WORDS: &[&str] = &[
    "PASSWORD",
    "PASSWD",
    "SECRET",
    "TOKEN",
    "API_KEY",
    "APIKEY",
    "ACCESS_KEY",
    "PRIVATE_KEY",
    "CREDENTIALS",
];

/// Names of environment variables baked into the config whose name looks
/// secret and whose value is not empty. Names that point at a file
/// (`*_FILE`, `*_PATH`, `*_DIR`) are the safe pattern and are left out.
pub fn sensitive_env(config: &ImageConfig) -> Vec<String> {
    config
        .env
        .iter()
        .filter_map(|kv| {
            let (k, v) = kv.split_once('=')?;
            let upper = k.to_ascii_uppercase();
            let secret = SECRET_WORDS.iter().any(|w| upper.contains(w))
                && !["_FILE", "_PATH", "_DIR"]
                    .iter()
                    .any(|s| upper.ends_with(s));
            (secret && !v.trim().is_empty()).then(|| k.to_string())
        })
        .collect()
}

//! Lockfile drift: a dependency the manifest declares that the lockfile does
//! not lock. CI installs from the lockfile (`npm ci`, `cargo build --locked`,
//! `poetry install`) either fails or, worse, resolves the missing package
//! afresh, unreviewed. Checked for the formats whose row of
//! [`pipeguard_lockfile::FORMATS`] says how (npm, Cargo and Poetry today).

use std::collections::HashSet;
use std::path::Path;

use pipeguard_core::{Finding, Location};
use pipeguard_lockfile::{Drift, Format, Found};

use crate::code::Code;

/// Manifests a lockfile covers: the format's manifests beside it and, for
/// formats with workspaces (Cargo), every one below the lock's directory
/// whose nearest lockfile is this one.
fn manifests(root: &Path, found: &Found, format: &Format, drift: &Drift) -> Vec<String> {
    let lock_path = Path::new(&found.path);
    let lock_dir = lock_path.parent().unwrap_or(Path::new(""));
    let rel = |p: &Path| p.to_string_lossy().replace('\\', "/");
    if !drift.workspace_members {
        return format
            .manifests
            .iter()
            .map(|m| rel(&lock_dir.join(m)))
            .collect();
    }
    let Some(lock_name) = lock_path.file_name() else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let base = root.join(lock_dir);
    // Manifests are never hidden files: skip those as the walk always did.
    let walker = pipeguard_core::walk::builder(&base, false, &["target"])
        .hidden(true)
        .build();
    for e in walker.flatten() {
        if !format
            .manifests
            .iter()
            .any(|m| e.file_name() == std::ffi::OsStr::new(m))
        {
            continue;
        }
        let dir = e.path().parent().unwrap_or(&base);
        let nearest = dir
            .ancestors()
            .find(|a| a.join(lock_name).exists())
            .map(Path::to_path_buf);
        if nearest.as_deref() == Some(base.as_path())
            && let Ok(r) = e.path().strip_prefix(root)
        {
            out.push(rel(r));
        }
    }
    out
}

/// Dependencies declared in manifests but absent from their lockfile.
pub fn check(root: &Path, found: &[Found]) -> Vec<Finding> {
    let mut out = Vec::new();
    for f in found {
        let format = f.lockfile.kind.format();
        let (Some(eco), Some(drift)) = (format.ecosystem, &format.drift) else {
            continue;
        };
        let locked: HashSet<String> = f
            .lockfile
            .packages
            .iter()
            .map(|p| eco.normalize_name(&p.name))
            .collect();
        for manifest in manifests(root, f, format, drift) {
            let Ok(text) = std::fs::read_to_string(root.join(&manifest)) else {
                continue;
            };
            for (name, line) in (drift.declared)(&text).unwrap_or_default() {
                if locked.contains(&eco.normalize_name(&name)) {
                    continue;
                }
                out.push(drift_finding(drift, &manifest, &f.path, &name, line));
            }
        }
    }
    out
}

fn drift_finding(drift: &Drift, manifest: &str, lock: &str, name: &str, line: u32) -> Finding {
    let fix = drift.fix;
    Code::LockfileDrift
        .builder(&[manifest.as_bytes(), name.as_bytes()])
        .message(format!(
            "{manifest} declares {name}, but {lock} does not lock it: installs from the lockfile will fail or resolve it unreviewed. To fix, {fix}."
        ))
        .location(Location {
            line: (line > 0).then_some(line),
            ..Location::file(manifest.to_string())
        })
        .fix(format!("To fix, {fix}."))
        .build()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A Cargo workspace: members' manifests are checked against the root
    /// lock, a nested project with its own lock is not.
    #[test]
    fn cargo_workspace_members_are_checked() {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path();
        let write = |rel: &str, text: &str| {
            let p = root.join(rel);
            std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
            std::fs::write(p, text).expect("write");
        };
        let lock = "version = 3\n\n[[package]]\nname = \"serde\"\nversion = \"1.0.0\"\nsource = \"registry+https://github.com/rust-lang/crates.io-index\"\n";
        write("Cargo.lock", lock);
        write("Cargo.toml", "[workspace]\nmembers = [\"a\"]\n");
        write(
            "a/Cargo.toml",
            "[dependencies]\nserde = \"1\"\nrand = \"0.8\"\n",
        );
        write("other/Cargo.lock", lock);
        write("other/Cargo.toml", "[dependencies]\nlibc = \"0.2\"\n");
        let mut problems = Vec::new();
        let found: Vec<Found> = crate::discover::discover(root, &mut problems, &mut 0)
            .into_iter()
            .filter(|f| f.path == "Cargo.lock")
            .collect();
        assert!(problems.is_empty(), "{problems:?}");
        let findings = check(root, &found);
        assert_eq!(findings.len(), 1, "{findings:?}");
        let f = &findings[0];
        assert_eq!(f.rule_id, "lockfile-drift");
        assert_eq!(f.locations[0].path, "a/Cargo.toml");
        assert_eq!(f.locations[0].line, Some(3));
        assert!(f.message.ends_with(
            "To fix, run `cargo update -w` (or any cargo build) and commit Cargo.lock."
        ));
    }
}

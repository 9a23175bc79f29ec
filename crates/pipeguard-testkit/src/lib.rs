//! Test support shared by pipeguard's crates, used only as a dev-dependency.
//!
//! Before this crate the `# expect:` fixture harness existed once per
//! analyzer crate, and the git repository builders and canary secrets were
//! copied between the binary's test files; each copy drifted a little (one
//! harness checked every rule, another only the fixture's own). Here each
//! exists once:
//!
//! - [`fixtures`]: the `# expect:` harness, generic over the analyzer;
//! - [`git`]: real git repositories in temp dirs, with a fixed identity and
//!   clock so commits are reproducible;
//! - [`canary`]: per-run canary secrets and the "no output holds one" check;
//! - [`secrets`]: deterministic synthetic secrets that real rules match;
//! - [`snapshots`]: the check that no snapshot file outlives its test.
//!
//! Everything here panics on failure: that is how a test reports one.

pub mod canary;
pub mod fixtures;
pub mod git;
pub mod secrets;
pub mod snapshots;

use std::path::Path;

/// Writes `content` to `path` below `dir`, creating parent directories.
pub fn write(dir: &Path, path: &str, content: impl AsRef<[u8]>) {
    let p = dir.join(path);
    if let Some(parent) = p.parent() {
        std::fs::create_dir_all(parent)
            .unwrap_or_else(|e| panic!("mkdir {}: {e}", parent.display()));
    }
    std::fs::write(&p, content).unwrap_or_else(|e| panic!("write {}: {e}", p.display()));
}

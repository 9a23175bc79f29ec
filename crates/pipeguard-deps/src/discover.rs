//! Finding the lockfiles of a tree and parsing them into [`Found`]s, which
//! the advisory matching (`scan`), the supply-chain audits (`audit`) and the
//! drift check (`drift`) all start from. Its own module so that those three
//! depend on it and not on each other.

use std::path::Path;

use pipeguard_core::Problem;
use pipeguard_lockfile::{Found, Malformed};
use rayon::prelude::*;

/// Directories that hold other projects' files, not this project's lockfiles.
pub const SKIP_DIRS: &[&str] = &[
    ".git",
    "node_modules",
    "target",
    "vendor",
    ".venv",
    "venv",
    "__pycache__",
];

/// A walker over `root` that does not descend into [`SKIP_DIRS`].
pub(crate) fn walk(root: &Path) -> ignore::Walk {
    pipeguard_core::walk::builder(root, false, SKIP_DIRS).build()
}

/// Finds and parses every lockfile under `root` (or `root` itself if it is
/// one). A malformed file becomes a problem naming file and line.
pub fn discover(root: &Path, problems: &mut Vec<Problem>, bytes: &mut u64) -> Vec<Found> {
    let mut paths = Vec::new();
    for entry in walk(root) {
        let Ok(entry) = entry else { continue };
        if !entry.file_type().is_some_and(|t| t.is_file()) {
            continue;
        }
        let name = entry.file_name().to_string_lossy();
        if let Some(format) = pipeguard_lockfile::detect(&name) {
            paths.push((entry.path().to_path_buf(), format));
        }
    }
    paths.sort_by(|a, b| a.0.cmp(&b.0));
    // Read and parse in parallel; results keep the sorted order.
    let parsed: Vec<(Result<Found, Problem>, u64)> = paths
        .par_iter()
        .map(|(path, format)| {
            let shown = pipeguard_core::relative_path(root, path);
            match std::fs::read(path) {
                Err(e) => (
                    Err(Problem {
                        path: shown,
                        line: None,
                        message: format!("cannot read: {e}"),
                    }),
                    0,
                ),
                Ok(b) => {
                    let r = Found::parse_as(format, &shown, &b).map_err(|m| problem(&shown, m));
                    (r, b.len() as u64)
                }
            }
        })
        .collect();
    let mut found = Vec::new();
    for (result, n) in parsed {
        *bytes += n;
        match result {
            Ok(f) => found.push(f),
            Err(p) => problems.push(p),
        }
    }
    found
}

/// Parses one lockfile given its reported path and content; `None` when the
/// file name is not a lockfile pipeguard reads.
pub fn parse_one(shown: &str, content: &[u8]) -> Option<Result<Found, Problem>> {
    Some(Found::parse(shown, content)?.map_err(|m| problem(shown, m)))
}

fn problem(shown: &str, m: Malformed) -> Problem {
    Problem {
        path: shown.to_string(),
        line: (m.error.line > 0).then_some(m.error.line),
        message: m.to_string(),
    }
}

//! The Dockerfile rules.

use pipeguard_core::Outcome;

use super::{Scope, audited, changed_files};

pub(crate) fn analyze(scope: &Scope) -> anyhow::Result<Outcome> {
    let files = match scope.diff {
        Some(_) => changed_files(scope, |p| {
            pipeguard_container::is_dockerfile(p.rsplit('/').next().unwrap_or(p))
        }),
        None => pipeguard_container::files(scope.root),
    };
    let o = pipeguard_container::scan_files(&files);
    Ok(audited(
        scope, &files, o.findings, o.problems, o.files, o.bytes,
    ))
}

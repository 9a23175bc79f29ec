//! The CI workflow audits (GitHub Actions, composite actions, GitLab CI).

use pipeguard_core::Outcome;

use super::{Scope, audited, changed_files};

pub(crate) fn analyze(scope: &Scope) -> anyhow::Result<Outcome> {
    let files = match scope.diff {
        Some(_) => changed_files(scope, |p| pipeguard_ci::classify(p).is_some()),
        None => pipeguard_ci::files(scope.root),
    };
    let o = pipeguard_ci::scan_files(&files);
    Ok(audited(
        scope, &files, o.findings, o.problems, o.files, o.bytes,
    ))
}

//! Static analysis of application source (the `pipeguard-sast` engine); in
//! pull-request mode a flow is the change's doing when its sink line was
//! touched.

use std::path::Path;

use pipeguard_core::{Finding, Outcome, Problem};
use rayon::prelude::*;

use super::{Scope, changed_files, only_touched};

/// The options `scan` uses: the defaults, and the policy's `scan-ignored`.
pub(crate) fn options(scope: &Scope) -> pipeguard_sast::Options {
    pipeguard_sast::Options {
        scan_ignored: scope.policy.secrets.scan_ignored,
        ..pipeguard_sast::Options::default()
    }
}

pub(crate) fn analyze(
    scope: &Scope,
    engine: &pipeguard_sast::Engine,
    opts: &pipeguard_sast::Options,
) -> anyhow::Result<Outcome> {
    let mut part = Outcome::default();
    match scope.diff {
        None => part = engine.scan_path(scope.root, opts),
        Some(d) => {
            let files = changed_files(scope, |p| {
                pipeguard_sast::lang::Lang::from_path(Path::new(p)).is_some()
            });
            let outs: Vec<(u64, Vec<Finding>, Option<Problem>)> = files
                .par_iter()
                .filter_map(|(path, rel)| {
                    let data = std::fs::read(path).ok()?;
                    let (f, p) = engine.scan_file(rel, &data);
                    Some((data.len() as u64, f, p))
                })
                .collect();
            for (n, f, p) in outs {
                part.bytes += n;
                part.files += 1;
                part.findings.extend(f);
                part.problems.extend(p);
            }
            // A flow is the change's doing when its sink line was touched.
            part.findings = only_touched(std::mem::take(&mut part.findings), Some(d));
        }
    }
    Ok(part)
}

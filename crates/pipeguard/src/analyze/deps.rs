//! The dependency analyzer: lockfiles against the advisory database plus
//! the supply-chain audits; in pull-request mode only packages that are new
//! or at a new version compared with the lockfile at the merge base.

use std::collections::HashMap;

use pipeguard_core::{Outcome, Problem};
use pipeguard_deps::filter::{self, BaseSet};

use super::{Scope, changed_files};
use crate::common::usage;

pub(crate) fn analyze(scope: &Scope) -> anyhow::Result<Outcome> {
    let cfg = &scope.policy.deps;
    let mut part = Outcome::default();
    let (found, base_sets) = match scope.diff {
        None => {
            let found =
                pipeguard_deps::scan::discover(scope.root, &mut part.problems, &mut part.bytes);
            (found, None)
        }
        Some(d) => {
            // Only the lockfiles the change touched, each compared with its
            // version at the merge base: a package that was already there at
            // the same version is not the change's doing.
            let mut found = Vec::new();
            let mut bases: HashMap<String, BaseSet> = HashMap::new();
            for (path, rel) in changed_files(scope, |p| {
                pipeguard_deps::lockfile::Kind::detect(p.rsplit('/').next().unwrap_or(p)).is_some()
            }) {
                let Ok(now) = std::fs::read(&path) else {
                    continue;
                };
                part.bytes += now.len() as u64;
                match pipeguard_deps::scan::parse_one(&rel, &now) {
                    Some(Ok(f)) => found.push(f),
                    Some(Err(p)) => part.problems.push(p),
                    None => continue,
                }
                let before = d
                    .base_content(scope.root, &rel)
                    .map(|b| filter::base_set(&rel, &b))
                    .unwrap_or_default();
                bases.insert(rel, before);
            }
            (found, Some(bases))
        }
    };
    part.files = found.len() as u64;
    part.packages = Some(found.iter().map(|f| f.lockfile.packages.len() as u64).sum());
    // The `deps` command needs its database even for a tree without
    // lockfiles (a missing database is a setup error to fix first).
    if !found.is_empty() || scope.strict_db {
        let opts = pipeguard_deps::scan::MatchOptions {
            root: Some(scope.root),
            ignores: &scope.policy.ignores,
            ..Default::default()
        };
        // A first run downloads the database itself unless the policy
        // forbids network; what cannot be fetched fails closed below.
        let matched = crate::advisories::ensure(&scope.db, scope.policy)
            .and_then(|()| pipeguard_deps::scan::scan_found_with(&found, &scope.db, cfg, &opts));
        match matched {
            Ok(out) => {
                part.findings = out.findings;
                part.problems.extend(out.problems);
                part.incomplete.extend(out.incomplete);
            }
            Err(e) if scope.strict_db => return Err(usage(format!("{e:#}"))),
            Err(e) => {
                // Without advisories the supply-chain audits still run, but
                // the result cannot vouch for the packages.
                let why = format!("vulnerabilities not checked: {e:#}");
                part.problems.push(Problem {
                    path: scope.db.display().to_string(),
                    line: None,
                    message: why.clone(),
                });
                part.incomplete.push(why);
                part.findings = pipeguard_deps::audit::audit_lockfiles(&found, cfg);
            }
        }
    }
    let manifests_changed = scope.diff.is_none_or(|d| {
        d.files
            .keys()
            .any(|p| pipeguard_deps::lockfile::is_manifest(p.rsplit('/').next().unwrap_or(p)))
    });
    if cfg.require_lockfile && manifests_changed {
        part.findings
            .extend(pipeguard_deps::audit::missing_lockfiles(scope.root));
    }
    let keep = filter::Keep {
        bases: base_sets.as_ref(),
        transitive: scope.transitive,
    };
    let kept = keep.apply(std::mem::take(&mut part.findings), &found, |f| {
        scope
            .diff
            .is_none_or(|d| f.locations.iter().any(|l| d.touches(&l.path, l.line)))
    });
    part.findings = kept;
    Ok(part)
}

/// The dependency findings of a tree that need no advisory database: the
/// supply-chain audits and missing lockfiles. PR mode reads the merge base
/// with this rather than with [`analyze`]: a vulnerable package that the
/// base already had at the same version is dropped above by name and
/// version, which fixes its fingerprint, and loading the database a second
/// time would add a third to PR mode's time for nothing.
pub(crate) fn without_advisories(scope: &Scope) -> anyhow::Result<Outcome> {
    let cfg = &scope.policy.deps;
    let mut part = Outcome::default();
    let found = pipeguard_deps::scan::discover(scope.root, &mut part.problems, &mut part.bytes);
    part.findings = pipeguard_deps::audit::audit_lockfiles(&found, cfg);
    if cfg.require_lockfile {
        part.findings
            .extend(pipeguard_deps::audit::missing_lockfiles(scope.root));
    }
    Ok(part)
}

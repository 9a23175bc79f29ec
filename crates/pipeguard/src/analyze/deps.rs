//! The dependency analyzer: lockfiles against the advisory database plus
//! the supply-chain audits; in pull-request mode only packages that are new
//! or at a new version compared with the lockfile at the merge base.

use std::collections::{HashMap, HashSet};

use pipeguard_core::{Finding, Outcome, Problem};

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
            let mut bases: HashMap<String, HashSet<(String, String)>> = HashMap::new();
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
                let before: HashSet<(String, String)> = d
                    .base_content(scope.root, &rel)
                    .and_then(|b| pipeguard_deps::scan::parse_one(&rel, &b))
                    .and_then(Result::ok)
                    .map(|f| {
                        f.lockfile
                            .packages
                            .into_iter()
                            .map(|p| (p.name, p.version))
                            .collect()
                    })
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
        match pipeguard_deps::scan::scan_found_with(&found, &scope.db, cfg, &opts) {
            Ok(out) => {
                part.findings = out.findings;
                part.problems.extend(out.problems);
            }
            Err(e) if scope.strict_db => return Err(usage(format!("{e:#}"))),
            Err(e) => {
                // Without advisories the supply-chain audits still run.
                part.problems.push(Problem {
                    path: scope.db.display().to_string(),
                    line: None,
                    message: format!("vulnerabilities not checked: {e:#}"),
                });
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
    // Which package each finding is about: its lockfile line.
    let mut at: HashMap<(&str, u32), &pipeguard_deps::lockfile::Package> = HashMap::new();
    let mut graph: HashMap<&str, bool> = HashMap::new();
    for f in &found {
        graph.insert(f.path.as_str(), f.lockfile.has_graph);
        for p in &f.lockfile.packages {
            if p.line > 0 {
                at.insert((f.path.as_str(), p.line), p);
            }
        }
    }
    let package_of = |f: &Finding| {
        let l = f.locations.first()?;
        at.get(&(l.path.as_str(), l.line?)).copied()
    };
    let transitive = scope.transitive;
    let kept: Vec<Finding> = std::mem::take(&mut part.findings)
        .into_iter()
        .filter(|f| match package_of(f) {
            Some(p) => {
                let path = f.locations[0].path.as_str();
                let new = base_sets.as_ref().is_none_or(|b| {
                    b.get(path)
                        .is_none_or(|set| !set.contains(&(p.name.clone(), p.version.clone())))
                });
                let depth_ok = transitive || p.direct || !graph.get(path).copied().unwrap_or(false);
                new && depth_ok
            }
            None => scope
                .diff
                .is_none_or(|d| f.locations.iter().any(|l| d.touches(&l.path, l.line))),
        })
        .collect();
    part.findings = kept;
    Ok(part)
}

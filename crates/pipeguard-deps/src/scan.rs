//! `pipeguard deps`: find lockfiles, parse them, match every locked package
//! against the local OSV index, and report one finding per vulnerability and
//! package, with the dependency chain and the upgrade that fixes it.

use std::collections::{BTreeMap, HashSet, VecDeque};
use std::path::Path;

use anyhow::Context;
use pipeguard_core::policy::DepsConfig;
use pipeguard_core::{Finding, Fingerprint, Location, PackageRef, Problem, Remediation, Severity};
use pipeguard_lockfile::{Ecosystem, Lockfile, Package};
use rayon::prelude::*;

use crate::code::VULNERABLE_DEPENDENCY;
use crate::db::Index;
use crate::matcher;
use crate::osv::Advisory;

#[derive(Debug, Default)]
pub struct Outcome {
    pub findings: Vec<Finding>,
    pub problems: Vec<Problem>,
    pub lockfiles: u64,
    pub packages: u64,
    pub bytes: u64,
}

// Where the lockfiles come from is `discover`'s; re-exported here for the
// callers that found them through this module.
pub use crate::discover::{SKIP_DIRS, discover, parse_one};
pub use pipeguard_lockfile::Found;

pub fn severity_of(a: &Advisory) -> Severity {
    if let Some(s) = a.cvss_score {
        return score_severity(s);
    }
    match a.db_severity.as_deref() {
        Some("CRITICAL") => Severity::Critical,
        Some("HIGH") => Severity::High,
        Some("MODERATE") | Some("MEDIUM") => Severity::Medium,
        Some("LOW") => Severity::Low,
        Some(other) => other
            .parse::<f64>()
            .map(score_severity)
            .unwrap_or(Severity::Medium),
        // No score at all: most unscored advisories (Debian DSAs, older
        // databases) are real, patch-worthy issues; medium blocks by default.
        None => Severity::Medium,
    }
}

fn score_severity(s: f64) -> Severity {
    if s >= 9.0 {
        Severity::Critical
    } else if s >= 7.0 {
        Severity::High
    } else if s >= 4.0 {
        Severity::Medium
    } else if s > 0.0 {
        Severity::Low
    } else {
        Severity::Info
    }
}

/// The id users know best: a CVE, then a GHSA, then the record's own id.
fn preferred_id(ids: &[String]) -> String {
    ids.iter()
        .find(|i| i.starts_with("CVE-"))
        .or_else(|| ids.iter().find(|i| i.starts_with("GHSA-")))
        .or_else(|| ids.first())
        .cloned()
        .unwrap_or_default()
}

/// Whether an advisory's release (`Debian:11` → `11`, `Alpine:v3.11` →
/// `v3.11`) is the image's (`11`, or `3.11.6` for Alpine).
fn release_matches(image: &str, advisory: &str) -> bool {
    let a = advisory.trim_start_matches('v');
    let i = image.trim_start_matches('v');
    i == a || i.starts_with(&format!("{a}."))
}

/// Groups advisories that name each other (by id or alias) into one
/// vulnerability each: union-find over the ids, linear in their number.
fn alias_clusters(hits: &[(&Advisory, Option<String>)]) -> Vec<(Vec<String>, Vec<usize>)> {
    fn find(parent: &mut [usize], mut i: usize) -> usize {
        while parent[i] != i {
            parent[i] = parent[parent[i]];
            i = parent[i];
        }
        i
    }
    let mut parent: Vec<usize> = (0..hits.len()).collect();
    let mut owner: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
    for (i, (a, _)) in hits.iter().enumerate() {
        for id in std::iter::once(&a.id).chain(a.aliases.iter()) {
            match owner.get(id.as_str()) {
                Some(&j) => {
                    let (ri, rj) = (find(&mut parent, i), find(&mut parent, j));
                    parent[ri] = rj;
                }
                None => {
                    owner.insert(id, i);
                }
            }
        }
    }
    let mut clusters: BTreeMap<usize, (Vec<String>, Vec<usize>)> = BTreeMap::new();
    for (i, (a, _)) in hits.iter().enumerate() {
        let root = find(&mut parent, i);
        let c = clusters.entry(root).or_default();
        c.1.push(i);
        for id in std::iter::once(&a.id).chain(a.aliases.iter()) {
            if !c.0.contains(id) {
                c.0.push(id.clone());
            }
        }
    }
    clusters.into_values().collect()
}

/// Shortest chain from a direct dependency (or a root nobody depends on) down
/// to package `target`, as indices.
fn chain_to(lock: &Lockfile, target: usize) -> Vec<usize> {
    let n = lock.packages.len();
    let mut parents: Vec<Vec<usize>> = vec![Vec::new(); n];
    for (i, p) in lock.packages.iter().enumerate() {
        for &d in &p.dependencies {
            if d < n {
                parents[d].push(i);
            }
        }
    }
    let is_top = |i: usize| lock.packages[i].direct || parents[i].is_empty();
    let mut prev: Vec<Option<usize>> = vec![None; n];
    let mut seen = vec![false; n];
    let mut q = VecDeque::from([target]);
    seen[target] = true;
    while let Some(i) = q.pop_front() {
        if is_top(i) {
            let mut chain = vec![i];
            let mut cur = i;
            while let Some(next) = prev[cur] {
                chain.push(next);
                cur = next;
            }
            return chain;
        }
        for &p in &parents[i] {
            if !seen[p] {
                seen[p] = true;
                prev[p] = Some(i);
                q.push_back(p);
            }
        }
    }
    vec![target]
}

fn pkg_label(p: &Package) -> String {
    format!("{} {}", p.name, p.version)
}

/// Matches every package of every lockfile against the index.
/// (ecosystem, name, version, first record id): one vulnerability of one
/// package version, wherever it is locked.
type Key = (Ecosystem, String, String, String);

/// Matches every package of every lockfile against the index. Lockfiles are
/// matched in parallel; the same vulnerable package in several lockfiles is
/// one finding with a location in each.
pub fn match_all(found: &[Found], index: &Index, problems: &mut Vec<Problem>) -> Vec<Finding> {
    let mut warned: HashSet<Ecosystem> = HashSet::new();
    for f in found {
        for pkg in &f.lockfile.packages {
            let eco = pkg.ecosystem;
            if !index.has(eco) && warned.insert(eco) {
                problems.push(Problem {
                    path: f.path.clone(),
                    line: None,
                    message: format!(
                        "the advisory database has no {eco} records; {eco} packages were not checked (import them with `pipeguard db update`)"
                    ),
                });
            }
        }
    }
    let per_file: Vec<Vec<(Key, Finding)>> =
        found.par_iter().map(|f| match_lockfile(f, index)).collect();
    let mut groups: BTreeMap<Key, Finding> = BTreeMap::new();
    for (key, finding) in per_file.into_iter().flatten() {
        match groups.get_mut(&key) {
            Some(existing) => {
                for l in finding.locations {
                    if !existing.locations.iter().any(|x| x.path == l.path) {
                        existing.locations.push(l);
                    }
                }
            }
            None => {
                groups.insert(key, finding);
            }
        }
    }
    groups.into_values().collect()
}

fn match_lockfile(f: &Found, index: &Index) -> Vec<(Key, Finding)> {
    let mut out = Vec::new();
    {
        let lock = &f.lockfile;
        for (pi, pkg) in lock.packages.iter().enumerate() {
            let eco = pkg.ecosystem;
            if !index.has(eco) {
                continue;
            }
            let name = eco.normalize_name(&pkg.name);
            let hits: Vec<(&Advisory, Option<String>)> = index
                .lookup(eco, &name)
                .filter_map(|a| {
                    let mut affected = false;
                    let mut fixes = Vec::new();
                    let release_ok = |r: &Option<String>| match (&f.release, r) {
                        (Some(want), Some(have)) => release_matches(want, have),
                        _ => true,
                    };
                    for aff in a
                        .affected
                        .iter()
                        .filter(|x| x.name == name && release_ok(&x.release))
                    {
                        if matcher::is_affected(eco, aff, &pkg.version) {
                            affected = true;
                            if let Some(fx) = matcher::nearest_fix(eco, aff, &pkg.version) {
                                fixes.push(fx);
                            }
                        }
                    }
                    affected.then(|| (a, matcher::max_version(eco, &fixes)))
                })
                .collect();
            if hits.is_empty() {
                continue;
            }
            let clusters = alias_clusters(&hits);
            let all_fixes: Vec<String> = hits.iter().filter_map(|(_, f)| f.clone()).collect();
            let fixes_all = matcher::max_version(eco, &all_fixes);
            let chain = if lock.has_graph {
                chain_to(lock, pi)
            } else {
                vec![pi]
            };
            for (ids, members) in clusters {
                let advisories: Vec<&Advisory> = members.iter().map(|&m| hits[m].0).collect();
                let mut record_ids: Vec<String> = advisories.iter().map(|a| a.id.clone()).collect();
                record_ids.sort();
                let mut all_ids: Vec<String> = ids.into_iter().collect();
                all_ids.sort();
                let primary = preferred_id(&all_ids);
                let severity = advisories
                    .iter()
                    .map(|a| severity_of(a))
                    .max()
                    .unwrap_or(Severity::Medium);
                let fix = matcher::max_version(
                    eco,
                    &members
                        .iter()
                        .filter_map(|&m| hits[m].1.clone())
                        .collect::<Vec<_>>(),
                );
                let summary = advisories
                    .iter()
                    .find_map(|a| a.summary.clone())
                    .unwrap_or_else(|| "known vulnerability".into());
                let key = (
                    eco,
                    pkg.name.clone(),
                    pkg.version.clone(),
                    record_ids[0].clone(),
                );
                let location = Location {
                    path: f.path.clone(),
                    line: (pkg.line > 0).then_some(pkg.line),
                    ..Location::file(f.path.clone())
                };
                let via = if chain.len() > 1 {
                    let labels: Vec<String> = chain
                        .iter()
                        .map(|&i| pkg_label(&lock.packages[i]))
                        .collect();
                    format!(" Dependency path: {}.", labels.join(" → "))
                } else {
                    String::new()
                };
                let direct_name = (chain.len() > 1).then(|| lock.packages[chain[0]].name.clone());
                let remediation = match (&fix, &direct_name) {
                    (Some(v), None) => format!(
                        "Upgrade {} to {v} or later{}.",
                        pkg.name,
                        fixes_all
                            .as_ref()
                            .filter(|all| *all != v)
                            .map(|all| format!(" ({all} fixes every advisory on it)"))
                            .unwrap_or_default()
                    ),
                    (Some(v), Some(d)) => format!(
                        "{} is a transitive dependency brought in by {d}: upgrade {d} to a release that requires {} >= {v}, or pin {} to {v} or later (override/resolution).",
                        pkg.name, pkg.name, pkg.name
                    ),
                    (None, _) => format!(
                        "No fixed version is known for {}; remove it or replace it, or ignore this advisory with a reason if the vulnerable code is not reachable.",
                        pkg.name
                    ),
                };
                let others: Vec<&String> = all_ids.iter().filter(|i| **i != primary).collect();
                let also = if others.is_empty() {
                    String::new()
                } else {
                    format!(
                        " (also {})",
                        others
                            .iter()
                            .map(|s| s.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    )
                };
                let url = advisories.iter().find_map(|a| a.url.clone());
                let message = format!(
                    "{} {} is affected by {primary}{also}: {summary}.{via} {remediation}{}",
                    pkg.name,
                    pkg.version,
                    url.map(|u| format!(" See {u}")).unwrap_or_default()
                );
                let fingerprint = Fingerprint::from_parts(&[
                    b"deps",
                    eco.osv_name().as_bytes(),
                    pkg.name.as_bytes(),
                    pkg.version.as_bytes(),
                    record_ids[0].as_bytes(),
                ]);
                // One finding per advisory: its rule id is the advisory's
                // (see `vulnerable-dependency` in `code`), so that ignores,
                // baselines and SARIF name the advisory itself.
                let finding = Finding::builder(&primary, &summary, "deps")
                    .aliases(all_ids.iter().filter(|i| **i != primary).cloned().collect())
                    .severity(severity)
                    .confidence(VULNERABLE_DEPENDENCY.confidence)
                    .message(message)
                    .location(location)
                    .fingerprint(fingerprint)
                    .remediation(Remediation {
                        description: remediation,
                        replacement: fix.clone(),
                    })
                    .package(PackageRef {
                        ecosystem: eco.osv_name().to_string(),
                        name: pkg.name.clone(),
                        version: pkg.version.clone(),
                        fixed: fix.clone(),
                        direct: pkg.direct,
                    })
                    .build();
                out.push((key, finding));
            }
        }
    }
    out
}

/// Scans `root` against the database at `db_dir`, with the policy's
/// supply-chain checks.
pub fn scan(root: &Path, db_dir: &Path, cfg: &DepsConfig) -> anyhow::Result<Outcome> {
    let mut problems = Vec::new();
    let mut bytes = 0;
    let found = discover(root, &mut problems, &mut bytes);
    let mut out = scan_found(&found, db_dir, cfg)?;
    out.problems.splice(0..0, problems);
    out.bytes = bytes;
    if cfg.require_lockfile {
        out.findings.extend(crate::audit::missing_lockfiles(root));
    }
    Ok(out)
}

/// Matches and audits lockfiles already parsed (`pipeguard scan` parses only
/// the changed ones in a pull request). The missing-lockfile check, which
/// needs the whole tree, is the caller's.
pub fn scan_found(found: &[Found], db_dir: &Path, cfg: &DepsConfig) -> anyhow::Result<Outcome> {
    let mut out = Outcome::default();
    let mut index = Index::open(db_dir)?;
    let max_age = cfg.max_db_age_days as i64 * 86_400;
    for (eco, m) in &index.meta.ecosystems {
        if let Ok(t) = m.imported_at.parse::<jiff::Timestamp>() {
            let age = jiff::Timestamp::now().as_second() - t.as_second();
            if age > max_age {
                out.problems.push(Problem {
                    path: db_dir.display().to_string(),
                    line: None,
                    message: format!(
                        "the {eco} advisories were imported {} days ago (policy limit: {} days); run `pipeguard db update`",
                        age / 86_400,
                        cfg.max_db_age_days
                    ),
                });
            }
        }
    }
    let needed: HashSet<Ecosystem> = found
        .iter()
        .flat_map(|f| f.lockfile.packages.iter().map(|p| p.ecosystem))
        .collect();
    let needed: Vec<Ecosystem> = needed.into_iter().filter(|e| index.has(*e)).collect();
    index
        .load_all(db_dir, &needed)
        .context("loading advisories")?;
    out.lockfiles = found.len() as u64;
    out.packages = found.iter().map(|f| f.lockfile.packages.len() as u64).sum();
    out.findings = match_all(found, &index, &mut out.problems);
    out.findings
        .extend(crate::audit::audit_lockfiles(found, cfg));
    Ok(out)
}

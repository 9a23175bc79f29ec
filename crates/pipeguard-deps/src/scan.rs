//! `pipeguard deps`: find lockfiles, parse them, match every locked package
//! against the local OSV index, and report one finding per vulnerable package
//! version (all its advisories), with the dependency chain, the upgrade that
//! fixes them all, and whether the project's code imports the vulnerable part.

use std::collections::{BTreeMap, HashSet, VecDeque};
use std::path::Path;

use anyhow::Context;
use pipeguard_core::policy::{DepsConfig, IgnoreEntry};
use pipeguard_core::{
    Confidence, Finding, Fingerprint, Location, PackageRef, Problem, Remediation, Severity,
};
use pipeguard_lockfile::{Ecosystem, Kind, Lockfile, Package, Source};
use rayon::prelude::*;

use crate::code::VULNERABLE_DEPENDENCY;
use crate::db::Index;
use crate::matcher;
use crate::osv::Advisory;

/// What a dependency scan found (the one outcome type of every analyzer:
/// `files` counts lockfiles, `packages` their packages).
pub use pipeguard_core::Outcome;

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

/// (ecosystem, name, version): one vulnerable package version, wherever it
/// is locked.
type Key = (Ecosystem, String, String);

/// How matching goes beyond the index.
#[derive(Debug, Clone, Copy)]
pub struct MatchOptions<'a> {
    /// The policy's `[[ignore]]` entries. An advisory that one of them names
    /// by id is reported as a finding of its own (same package, rule and
    /// locations), so that the ignore suppresses exactly that advisory and
    /// not the package version's others, and is counted as used.
    pub ignores: &'a [IgnoreEntry],
    /// The directory the lockfiles' paths are relative to. Reachability reads
    /// the project's sources from there; `None` skips it (every finding is
    /// then of unknown reachability, i.e. counted).
    pub root: Option<&'a Path>,
    /// `[deps] fail-on-unreachable`: when false, a finding whose vulnerable
    /// code the project does not import is reported at `info` severity, below
    /// any `fail-on` threshold, with its real severity in the message.
    pub fail_on_unreachable: bool,
}

impl Default for MatchOptions<'_> {
    fn default() -> Self {
        MatchOptions {
            ignores: &[],
            root: None,
            fail_on_unreachable: true,
        }
    }
}

/// A severity with where it came from: the advisory itself or one of its
/// aliases (a Go record has no score; its GHSA alias usually does).
#[derive(Debug, Clone, PartialEq)]
pub struct Rated {
    pub severity: Severity,
    /// The CVSS base score, when the rating comes from a vector.
    pub score: Option<f64>,
    /// The record the rating is taken from; `None` when no record of the
    /// cluster has any (then the severity is the default, medium).
    pub source: Option<String>,
}

impl Rated {
    fn rank(&self) -> (Severity, u32) {
        // Tenths of a point: scores have one decimal.
        (self.severity, self.score.map_or(0, |s| (s * 10.0) as u32))
    }

    /// `high (CVSS 8.1 from GHSA-…)`.
    pub fn describe(&self) -> String {
        match (&self.source, self.score) {
            (Some(src), Some(score)) => format!("{} (CVSS {score:.1} from {src})", self.severity),
            (Some(src), None) => format!("{} (as rated by {src})", self.severity),
            (None, _) => format!("{} (no severity published)", self.severity),
        }
    }
}

/// The highest rating among `advisories` (one vulnerability, several
/// records) and every scored record of the database that names one of
/// `ids`, in the package's ecosystem.
pub fn rate_cluster(
    index: &Index,
    eco: Ecosystem,
    advisories: &[&Advisory],
    ids: &[String],
) -> Rated {
    let scored = |a: &Advisory| {
        (a.cvss_score.is_some() || a.db_severity.is_some()).then(|| Rated {
            severity: severity_of(a),
            score: a.cvss_score,
            source: Some(a.id.clone()),
        })
    };
    advisories
        .iter()
        .copied()
        .chain(ids.iter().flat_map(|id| index.scored_with_id(eco, id)))
        .filter_map(scored)
        .max_by(|a, b| {
            a.rank()
                .cmp(&b.rank())
                // Equal ratings: the lexically first source, for stable output.
                .then_with(|| b.source.cmp(&a.source))
        })
        .unwrap_or(Rated {
            severity: Severity::Medium,
            score: None,
            source: None,
        })
}

/// One vulnerability (advisories that name each other) of a package version.
#[derive(Debug, Clone)]
struct Vuln {
    /// Every id of the vulnerability, sorted.
    ids: Vec<String>,
    /// The id users know best (CVE, GHSA, record id).
    primary: String,
    summary: String,
    url: Option<String>,
    rated: Rated,
    fix: Option<String>,
    /// `Some(false)` when the project's code does not import the affected
    /// packages; `None` when unknown.
    reachable: Option<bool>,
}

/// Every vulnerability of one package version in one lockfile.
#[derive(Debug, Clone)]
struct PkgHit {
    eco: Ecosystem,
    name: String,
    version: String,
    direct: bool,
    vulns: Vec<Vuln>,
    /// Labels of the chain from the direct dependency down to the package.
    chain: Vec<String>,
    locations: Vec<Location>,
}

impl PkgHit {
    fn clone_without_vulns(&self) -> PkgHit {
        PkgHit {
            eco: self.eco,
            name: self.name.clone(),
            version: self.version.clone(),
            direct: self.direct,
            vulns: Vec::new(),
            chain: self.chain.clone(),
            locations: self.locations.clone(),
        }
    }

    /// Unreachable only when every vulnerability is known unreachable.
    fn reachable(&self) -> Option<bool> {
        if self.vulns.iter().all(|v| v.reachable == Some(false)) {
            Some(false)
        } else if self.vulns.iter().any(|v| v.reachable == Some(true)) {
            Some(true)
        } else {
            None
        }
    }
}

/// Matches every package of every lockfile against the index, without
/// reachability (image contents, SBOMs).
pub fn match_all(found: &[Found], index: &Index, problems: &mut Vec<Problem>) -> Vec<Finding> {
    match_all_with(found, index, &MatchOptions::default(), problems)
}

/// Matches every package of every lockfile against the index. Lockfiles are
/// matched in parallel. The result is one finding per vulnerable package
/// version: all its advisories together, with a location in every lockfile
/// that locks it.
pub fn match_all_with(
    found: &[Found],
    index: &Index,
    opts: &MatchOptions<'_>,
    problems: &mut Vec<Problem>,
) -> Vec<Finding> {
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
    let per_file: Vec<Vec<PkgHit>> = found
        .par_iter()
        .map(|f| match_lockfile(f, index, opts))
        .collect();
    let mut groups: BTreeMap<Key, PkgHit> = BTreeMap::new();
    for hit in per_file.into_iter().flatten() {
        // `Pillow` in one file and `pillow` in another are one package.
        let key = (
            hit.eco,
            hit.eco.normalize_name(&hit.name),
            hit.version.clone(),
        );
        match groups.get_mut(&key) {
            Some(existing) => {
                for l in hit.locations {
                    if !existing.locations.iter().any(|x| x.path == l.path) {
                        existing.locations.push(l);
                    }
                }
                // Reachable from any project that locks it is reachable.
                for v in hit.vulns {
                    if let Some(e) = existing.vulns.iter_mut().find(|e| e.ids == v.ids) {
                        e.reachable = match (e.reachable, v.reachable) {
                            (Some(false), Some(false)) => Some(false),
                            (Some(true), _) | (_, Some(true)) => Some(true),
                            _ => None,
                        };
                    }
                }
                existing.direct |= hit.direct;
            }
            None => {
                groups.insert(key, hit);
            }
        }
    }
    let mut out = Vec::with_capacity(groups.len());
    for mut h in groups.into_values() {
        let named = |v: &Vuln| {
            opts.ignores.iter().any(|ig| {
                ig.rule
                    .as_ref()
                    .is_some_and(|r| v.ids.iter().any(|id| r.is_match(id)))
            })
        };
        if !opts.ignores.is_empty() && h.vulns.iter().any(named) {
            let vulns = std::mem::take(&mut h.vulns);
            let (apart, rest): (Vec<Vuln>, Vec<Vuln>) = vulns.into_iter().partition(named);
            for v in apart {
                out.push(build_finding(
                    PkgHit {
                        vulns: vec![v],
                        ..h.clone_without_vulns()
                    },
                    opts,
                ));
            }
            h.vulns = rest;
            if h.vulns.is_empty() {
                continue;
            }
        }
        out.push(build_finding(h, opts));
    }
    out
}

/// What a lockfile's own project imports, read once per lockfile and only
/// when a direct dependency of it is vulnerable.
#[derive(Default)]
struct Sources {
    go: Option<Option<crate::reach::GoUsage>>,
    py: Option<Option<crate::reach::PyUsage>>,
}

fn match_lockfile(f: &Found, index: &Index, opts: &MatchOptions<'_>) -> Vec<PkgHit> {
    let mut out = Vec::new();
    let lock = &f.lockfile;
    let project_dir = opts
        .root
        .map(|r| r.join(&f.path))
        .and_then(|p| p.parent().map(Path::to_path_buf));
    let mut sources = Sources::default();
    for (pi, pkg) in lock.packages.iter().enumerate() {
        let eco = pkg.ecosystem;
        if !index.has(eco) || pkg.version.is_empty() {
            continue;
        }
        // Local code (a `replace … => ../x`, an npm `file:` dependency) is
        // not the registry release of that name and version.
        if matches!(pkg.source, Source::Path(_)) {
            continue;
        }
        let name = eco.normalize_name(&pkg.name);
        let release_ok = |r: &Option<String>| match (&f.release, r) {
            (Some(want), Some(have)) => release_matches(want, have),
            _ => true,
        };
        let hits: Vec<(&Advisory, Option<String>)> = index
            .lookup(eco, &name)
            .filter_map(|a| {
                let mut affected = false;
                let mut fixes = Vec::new();
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
        let chain = if lock.has_graph {
            chain_to(lock, pi)
        } else {
            vec![pi]
        };
        // Reachability is judged for direct dependencies only: another
        // dependency may import an indirect one, and we do not read theirs.
        let judge = pkg.direct && project_dir.is_some();
        let mut vulns = Vec::new();
        for (ids, members) in alias_clusters(&hits) {
            let advisories: Vec<&Advisory> = members.iter().map(|&m| hits[m].0).collect();
            let mut all_ids = ids;
            all_ids.sort();
            let rated = rate_cluster(index, eco, &advisories, &all_ids);
            let fix = matcher::max_version(
                eco,
                &members
                    .iter()
                    .filter_map(|&m| hits[m].1.clone())
                    .collect::<Vec<_>>(),
            );
            let reachable = if !judge {
                None
            } else {
                match (eco, lock.kind, &project_dir) {
                    (Ecosystem::Go, Kind::GoMod, Some(dir)) => {
                        let usage = sources
                            .go
                            .get_or_insert_with(|| crate::reach::GoUsage::read(dir));
                        usage.as_ref().map(|u| {
                            advisories.iter().any(|a| {
                                let imports: Vec<_> = a
                                    .affected
                                    .iter()
                                    .filter(|x| x.name == name)
                                    .flat_map(|x| x.imports.iter().cloned())
                                    .collect();
                                u.reaches(&imports)
                            })
                        })
                    }
                    (
                        Ecosystem::PyPI,
                        Kind::Requirements | Kind::PoetryLock | Kind::PipfileLock | Kind::UvLock,
                        Some(dir),
                    ) => {
                        let usage = sources
                            .py
                            .get_or_insert_with(|| crate::reach::PyUsage::read(dir));
                        usage.as_ref().map(|u| u.imports_package(&pkg.name))
                    }
                    _ => None,
                }
            };
            vulns.push(Vuln {
                primary: preferred_id(&all_ids),
                ids: all_ids,
                summary: advisories
                    .iter()
                    .find_map(|a| a.summary.clone())
                    .unwrap_or_else(|| "known vulnerability".into()),
                url: advisories.iter().find_map(|a| a.url.clone()),
                rated,
                fix,
                reachable,
            });
        }
        // Worst first, then by id: the order of the message and of the ids.
        vulns.sort_by(|a, b| {
            b.rated
                .rank()
                .cmp(&a.rated.rank())
                .then_with(|| a.primary.cmp(&b.primary))
        });
        out.push(PkgHit {
            eco,
            name: pkg.name.clone(),
            version: pkg.version.clone(),
            direct: pkg.direct,
            vulns,
            chain: chain
                .iter()
                .map(|&i| pkg_label(&lock.packages[i]))
                .collect(),
            locations: vec![Location {
                path: f.path.clone(),
                line: (pkg.line > 0).then_some(pkg.line),
                ..Location::file(f.path.clone())
            }],
        });
    }
    out
}

/// The finding of one vulnerable package version.
///
/// Its rule id is `vulnerable-dependency` and every id of every advisory is
/// an alias, so `[[ignore]] rule = "CVE-…"` matches it and SARIF and JSON
/// keep all the ids. Its fingerprint comes from the ecosystem, package,
/// version and the set of vulnerabilities (each by its preferred id, which
/// stays put when the database adds an alias record): a baseline accepts the
/// advisories it saw, so a new advisory for a baselined package version makes
/// the finding new again rather than slipping in unseen, while a new lockfile
/// line or another lockfile locking the same version does not.
fn build_finding(h: PkgHit, opts: &MatchOptions<'_>) -> Finding {
    let eco = h.eco;
    let fixes: Vec<String> = h.vulns.iter().filter_map(|v| v.fix.clone()).collect();
    // The smallest version that fixes all of them: the highest of the fixes.
    let fix = matcher::max_version(eco, &fixes);
    let unfixed: Vec<&str> = h
        .vulns
        .iter()
        .filter(|v| v.fix.is_none())
        .map(|v| v.primary.as_str())
        .collect();
    let top = h.vulns.first().map(|v| v.rated.clone()).unwrap_or(Rated {
        severity: Severity::Medium,
        score: None,
        source: None,
    });
    let reachable = h.reachable();
    let name = &h.name;
    let direct_name =
        (h.chain.len() > 1).then(|| h.chain[0].split(' ').next().unwrap_or("").to_string());
    let via = if h.chain.len() > 1 {
        format!(" Dependency path: {}.", h.chain.join(" → "))
    } else {
        String::new()
    };
    let mut remediation = match (&fix, &direct_name) {
        (Some(v), None) => format!("Upgrade {name} to {v} or later."),
        (Some(v), Some(d)) => format!(
            "{name} is a transitive dependency brought in by {d}: upgrade {d} to a release that requires {name} >= {v}, or pin {name} to {v} or later (override/resolution)."
        ),
        (None, _) => format!(
            "No fixed version is known for {name}; remove it or replace it, or ignore this advisory with a reason if the vulnerable code is not reachable."
        ),
    };
    if fix.is_some() && !unfixed.is_empty() {
        remediation.push_str(&format!(" No release fixes {} yet.", unfixed.join(", ")));
    }
    let describe = |v: &Vuln| {
        let others: Vec<&str> = v
            .ids
            .iter()
            .filter(|i| **i != v.primary)
            .map(String::as_str)
            .collect();
        let also = if others.is_empty() {
            String::new()
        } else {
            format!(" (also {})", others.join(", "))
        };
        format!("{}{also}: {}", v.primary, v.summary.trim_end_matches('.'))
    };
    let what = match h.vulns.as_slice() {
        [one] => format!("is affected by {}", describe(one)),
        many => format!(
            "is affected by {} vulnerabilities: {}",
            many.len(),
            many.iter()
                .map(|v| format!("{} [{}]", describe(v), v.rated.severity))
                .collect::<Vec<_>>()
                .join("; ")
        ),
    };
    let unreached: Vec<&str> = h
        .vulns
        .iter()
        .filter(|v| v.reachable == Some(false))
        .map(|v| v.primary.as_str())
        .collect();
    let reach_note = match reachable {
        Some(false) => " The project's code does not import the affected packages (a textual check of its own sources, not its dependencies'), so the vulnerable code is likely unreachable.".to_string(),
        _ if !unreached.is_empty() => format!(
            " The project's code does not import the packages affected by {}.",
            unreached.join(", ")
        ),
        _ => String::new(),
    };
    // With `fail-on-unreachable = false` only the vulnerabilities the code
    // may reach set the severity; none at all makes it info.
    let counted = h
        .vulns
        .iter()
        .filter(|v| opts.fail_on_unreachable || v.reachable != Some(false))
        .map(|v| v.rated.severity)
        .max();
    let demoted = counted != Some(top.severity);
    let severity = counted.unwrap_or(Severity::Info);
    let url = h.vulns.iter().find_map(|v| v.url.clone());
    let message = format!(
        "{name} {} {what}. Severity: {}{}.{reach_note}{via} {remediation}{}",
        h.version,
        top.describe(),
        if demoted {
            format!(", reported as {severity} because `[deps] fail-on-unreachable = false`")
        } else {
            String::new()
        },
        url.map(|u| format!(" See {u}")).unwrap_or_default()
    );
    let mut aliases: Vec<String> = h.vulns.iter().flat_map(|v| v.ids.clone()).collect();
    aliases.extend(h.vulns.iter().filter_map(|v| v.rated.source.clone()));
    aliases.sort();
    aliases.dedup();
    let mut primaries: Vec<&str> = h.vulns.iter().map(|v| v.primary.as_str()).collect();
    primaries.sort_unstable();
    let set = primaries.join(",");
    let normalized = eco.normalize_name(&h.name);
    let fingerprint = Fingerprint::from_parts(&[
        b"deps",
        VULNERABLE_DEPENDENCY.id.as_bytes(),
        eco.osv_name().as_bytes(),
        normalized.as_bytes(),
        h.version.as_bytes(),
        set.as_bytes(),
    ]);
    let rule_name = match h.vulns.as_slice() {
        [one] => one.summary.clone(),
        many => format!(
            "{} known vulnerabilities in {name} {}",
            many.len(),
            h.version
        ),
    };
    let confidence = if reachable == Some(false) {
        Confidence::Low
    } else {
        VULNERABLE_DEPENDENCY.confidence
    };
    Finding::builder(VULNERABLE_DEPENDENCY.id, &rule_name, "deps")
        .aliases(aliases)
        .severity(severity)
        .confidence(confidence)
        .message(message)
        .locations(h.locations)
        .fingerprint(fingerprint)
        .remediation(Remediation {
            description: remediation,
            replacement: fix.clone(),
        })
        .package(PackageRef {
            ecosystem: eco.osv_name().to_string(),
            name: h.name.clone(),
            version: h.version.clone(),
            fixed: fix,
            direct: h.direct,
        })
        .build()
}

/// Scans `root` against the database at `db_dir`, with the policy's
/// supply-chain checks.
pub fn scan(root: &Path, db_dir: &Path, cfg: &DepsConfig) -> anyhow::Result<Outcome> {
    let mut problems = Vec::new();
    let mut bytes = 0;
    let found = discover(root, &mut problems, &mut bytes);
    let opts = MatchOptions {
        root: Some(root),
        ..MatchOptions::default()
    };
    let mut out = scan_found_with(&found, db_dir, cfg, &opts)?;
    out.problems.splice(0..0, problems);
    out.bytes = bytes;
    if cfg.require_lockfile {
        out.findings.extend(crate::audit::missing_lockfiles(root));
    }
    Ok(out)
}

/// Matches and audits lockfiles already parsed (`pipeguard scan` parses only
/// the changed ones in a pull request). The missing-lockfile check, which
/// needs the whole tree, is the caller's. Without the tree's root there is no
/// reachability and no check of requirements files' text:
/// [`scan_found_with`] has them.
pub fn scan_found(found: &[Found], db_dir: &Path, cfg: &DepsConfig) -> anyhow::Result<Outcome> {
    scan_found_with(found, db_dir, cfg, &MatchOptions::default())
}

/// [`scan_found`] with the tree's root (the lockfiles' paths are relative to
/// it; the project sources beside them are read for reachability, see
/// [`crate::reach`]) and the policy's ignores. `fail_on_unreachable` comes
/// from `cfg`.
pub fn scan_found_with(
    found: &[Found],
    db_dir: &Path,
    cfg: &DepsConfig,
    opts: &MatchOptions<'_>,
) -> anyhow::Result<Outcome> {
    let root = opts.root;
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
    out.incomplete = coverage_gaps(found, &index, cfg, opts.ignores);
    let needed: HashSet<Ecosystem> = found
        .iter()
        .flat_map(|f| f.lockfile.packages.iter().map(|p| p.ecosystem))
        .collect();
    let needed: Vec<Ecosystem> = needed.into_iter().filter(|e| index.has(*e)).collect();
    index
        .load_all(db_dir, &needed)
        .context("loading advisories")?;
    out.files = found.len() as u64;
    out.packages = Some(found.iter().map(|f| f.lockfile.packages.len() as u64).sum());
    let opts = MatchOptions {
        fail_on_unreachable: cfg.fail_on_unreachable,
        ..*opts
    };
    out.findings = match_all_with(found, &index, &opts, &mut out.problems);
    if let Some(root) = root {
        let texts = crate::audit::requirements_texts(root, found, &mut out.problems);
        out.findings.extend(texts);
    }
    out.findings
        .extend(crate::audit::audit_lockfiles(found, cfg));
    Ok(out)
}

/// What the database cannot vouch for, so that a gate fails closed on it
/// (`Outcome::incomplete`): an ecosystem the lockfiles need that it does not
/// hold (their packages are not checked at all), or holds from longer ago
/// than `max-db-age-days`. Lockfiles whose findings an ignore drops whole
/// (test fixtures) cannot change a verdict, so they are no gap.
fn coverage_gaps(
    found: &[Found],
    index: &Index,
    cfg: &DepsConfig,
    ignores: &[pipeguard_core::IgnoreEntry],
) -> Vec<String> {
    let today = pipeguard_core::policy::today();
    let needed: std::collections::BTreeSet<&str> = found
        .iter()
        .filter(|f| !pipeguard_core::policy::ignores_everything_at(ignores, &f.path, today))
        .flat_map(|f| f.lockfile.packages.iter().map(|p| p.ecosystem.osv_name()))
        .collect();
    let now = jiff::Timestamp::now().as_second();
    let mut gaps = Vec::new();
    for eco in needed {
        match index.meta.ecosystems.get(eco) {
            None => gaps.push(format!(
                "the advisory database has no {eco} advisories, so {eco} packages were not checked (`pipeguard db update`)"
            )),
            Some(m) => {
                let age_days = m
                    .imported_at
                    .parse::<jiff::Timestamp>()
                    .map(|t| (now - t.as_second()) / 86_400)
                    .unwrap_or(i64::MAX);
                if age_days > cfg.max_db_age_days as i64 {
                    gaps.push(format!(
                        "the {eco} advisories are {age_days} days old (policy limit: {} days; `pipeguard db update`)",
                        cfg.max_db_age_days
                    ));
                }
            }
        }
    }
    gaps
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;
    use crate::osv::RawRecord;

    fn fixture_db(dir: &Path, ecosystem: &str) -> Index {
        let zip = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/osv")
            .join(ecosystem)
            .join("all.zip");
        crate::db::import(dir, &zip, "test").expect("import");
        let mut index = Index::open(dir).expect("open");
        let eco = Ecosystem::from_osv(ecosystem).expect("ecosystem");
        index.load(dir, eco).expect("load");
        index
    }

    fn found(path: &str, text: &str) -> Found {
        Found::parse(path, text.as_bytes())
            .expect("a lockfile name")
            .expect("parses")
    }

    fn write(root: &Path, rel: &str, text: &str) {
        let p = root.join(rel);
        std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
        std::fs::write(p, text).expect("write");
    }

    fn record(json: &str, eco: &str) -> Advisory {
        let raw: RawRecord = serde_json::from_str(json).expect("record");
        raw.reduce(eco, |n| n.to_string()).expect("reduces")
    }

    /// Issue #17: a Go record carries no severity; the GHSA record that
    /// shares its CVE id does. The GO record is real (GO-2023-2402, Terrapin);
    /// the GHSA record is made up for the test, with a 9.8 vector, so that
    /// the rating visibly comes from it (the real one scores 5.9).
    #[test]
    fn severity_comes_from_the_alias_cluster() {
        let go = record(
            r#"{"id":"GO-2023-2402","modified":"2024-01-01T00:00:00Z",
                "aliases":["CVE-2023-48795","GHSA-45x7-px36-x8w8"],
                "summary":"Man-in-the-middle attacker can compromise integrity of secure channel in golang.org/x/crypto",
                "affected":[{"package":{"ecosystem":"Go","name":"golang.org/x/crypto"},
                  "ranges":[{"type":"SEMVER","events":[{"introduced":"0"},{"fixed":"0.17.0"}]}]}]}"#,
            "Go",
        );
        assert_eq!((go.cvss_score, go.db_severity.as_deref()), (None, None));
        let ghsa = record(
            r#"{"id":"GHSA-45x7-px36-x8w8","modified":"2024-01-01T00:00:00Z",
                "aliases":["CVE-2023-48795"],
                "severity":[{"type":"CVSS_V3","score":"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}],
                "affected":[{"package":{"ecosystem":"Go","name":"github.com/other/ssh-fork"},
                  "ranges":[{"type":"SEMVER","events":[{"introduced":"0"},{"fixed":"1.0.0"}]}]}]}"#,
            "Go",
        );
        let index = Index::from_advisories(Ecosystem::Go, vec![go, ghsa]);
        let f = found(
            "go.mod",
            "module example.com/app\n\ngo 1.21\n\nrequire golang.org/x/crypto v0.16.0\n",
        );
        let findings = match_all(&[f], &index, &mut Vec::new());
        assert_eq!(findings.len(), 1, "{findings:#?}");
        let f = &findings[0];
        assert_eq!(f.rule_id, "vulnerable-dependency");
        assert_eq!(f.severity, Severity::Critical);
        assert!(
            f.message
                .contains("Severity: critical (CVSS 9.8 from GHSA-45x7-px36-x8w8)"),
            "{}",
            f.message
        );
        assert!(f.aliases.iter().any(|a| a == "GHSA-45x7-px36-x8w8"));
        // Without the alias record the Go record alone is the default, medium.
        let alone = Index::from_advisories(
            Ecosystem::Go,
            vec![record(
                r#"{"id":"GO-2023-2402","modified":"2024-01-01T00:00:00Z","aliases":["CVE-2023-48795"],
                    "affected":[{"package":{"ecosystem":"Go","name":"golang.org/x/crypto"},
                      "ranges":[{"type":"SEMVER","events":[{"introduced":"0"},{"fixed":"0.17.0"}]}]}]}"#,
                "Go",
            )],
        );
        let f = found(
            "go.mod",
            "module example.com/app\n\nrequire golang.org/x/crypto v0.16.0\n",
        );
        let findings = match_all(&[f], &alone, &mut Vec::new());
        assert_eq!(findings[0].severity, Severity::Medium);
        assert!(
            findings[0]
                .message
                .contains("medium (no severity published)")
        );
    }

    /// Issue #17: pillow with many advisories is one finding that lists
    /// every id, at the worst severity, with the smallest version that fixes
    /// all of them, and a fingerprint of the package version and its set of
    /// vulnerabilities.
    #[test]
    fn one_finding_per_package_version() {
        let dir = tempfile::tempdir().expect("tmp");
        let index = fixture_db(dir.path(), "PyPI");
        let lock = found("requirements.txt", "pillow==9.0.0\nrequests==2.19.0\n");
        let findings = match_all(std::slice::from_ref(&lock), &index, &mut Vec::new());
        assert_eq!(findings.len(), 2, "{findings:#?}");
        let pillow = findings
            .iter()
            .find(|f| f.package.as_ref().is_some_and(|p| p.name == "pillow"))
            .expect("pillow finding");
        // Every matching record, by hand: each is named in the aliases.
        let name = "pillow";
        let mut want_ids = Vec::new();
        let mut fixes = Vec::new();
        for a in index.lookup(Ecosystem::PyPI, name) {
            for aff in a.affected.iter().filter(|x| x.name == name) {
                if matcher::is_affected(Ecosystem::PyPI, aff, "9.0.0") {
                    want_ids.push(a.id.clone());
                    fixes.extend(matcher::nearest_fix(Ecosystem::PyPI, aff, "9.0.0"));
                }
            }
        }
        assert!(want_ids.len() > 3, "{want_ids:?}");
        for id in &want_ids {
            assert!(
                pillow.aliases.contains(id),
                "{id} not in {:?}",
                pillow.aliases
            );
        }
        let fixed = pillow.package.as_ref().and_then(|p| p.fixed.clone());
        assert_eq!(fixed, matcher::max_version(Ecosystem::PyPI, &fixes));
        assert_eq!(fixed.as_deref(), Some("12.3.0"));
        assert_eq!(
            pillow
                .remediation
                .as_ref()
                .and_then(|r| r.replacement.clone()),
            fixed
        );
        assert!(
            pillow.message.contains("vulnerabilities:"),
            "{}",
            pillow.message
        );
        // The same package version in another lockfile is the same finding.
        let again = found("sub/requirements.txt", "Pillow==9.0.0\n");
        let both = match_all(&[lock, again], &index, &mut Vec::new());
        let merged: Vec<_> = both
            .iter()
            .filter(|f| {
                f.package
                    .as_ref()
                    .is_some_and(|p| p.name.eq_ignore_ascii_case("pillow"))
            })
            .collect();
        assert_eq!(merged.len(), 1);
        assert_eq!(merged[0].locations.len(), 2);
        assert_eq!(merged[0].fingerprint, pillow.fingerprint);
        // Another version is another finding.
        let older = found("requirements.txt", "pillow==8.0.0\n");
        let other = match_all(&[older], &index, &mut Vec::new());
        assert_ne!(other[0].fingerprint, pillow.fingerprint);
    }

    /// Issue #17: a module that imports golang.org/x/crypto/ssh but not
    /// openpgp, against the real Go records: the ssh advisories are
    /// reachable, the openpgp one (GO-2026-5932) is not; a module that
    /// imports neither is unreachable as a whole, low confidence, and info
    /// with `fail-on-unreachable = false`.
    #[test]
    fn go_reachability_from_imports() {
        let db = tempfile::tempdir().expect("tmp");
        let index = fixture_db(db.path(), "Go");
        let src = tempfile::tempdir().expect("tmp");
        let root = src.path();
        let go_mod = "module example.com/app\n\ngo 1.22\n\nrequire golang.org/x/crypto v0.30.0\n";
        write(root, "ssh/go.mod", go_mod);
        write(
            root,
            "ssh/main.go",
            "package main\n\nimport (\n\t\"fmt\"\n\n\t\"golang.org/x/crypto/ssh\"\n)\n\nfunc main() {\n\tfmt.Println(ssh.ClientConfig{})\n}\n",
        );
        // A test file may import anything; it is not the shipped code.
        write(
            root,
            "ssh/main_test.go",
            "package main\n\nimport \"golang.org/x/crypto/openpgp\"\n\nvar _ = openpgp.ReadKeyRing\n",
        );
        write(root, "none/go.mod", go_mod);
        write(
            root,
            "none/main.go",
            "package main\n\nimport \"golang.org/x/crypto/bcrypt\"\n\nfunc main() { _, _ = bcrypt.GenerateFromPassword(nil, 10) }\n",
        );
        let run = |rel: &str, fail_on_unreachable: bool| {
            let f = found(rel, go_mod);
            let opts = MatchOptions {
                root: Some(root),
                fail_on_unreachable,
                ..MatchOptions::default()
            };
            let mut findings = match_all_with(&[f], &index, &opts, &mut Vec::new());
            assert_eq!(findings.len(), 1, "{findings:#?}");
            findings.remove(0)
        };

        let ssh = run("ssh/go.mod", true);
        assert_eq!(ssh.confidence, Confidence::High);
        // The openpgp record and the ssh/agent ones are not reached; the
        // ssh advisory on a function the code does not call is not either.
        let note = ssh
            .message
            .split("does not import the packages affected by ")
            .nth(1)
            .unwrap_or_else(|| panic!("{}", ssh.message));
        assert!(note.contains("GO-2026-5932"), "{note}");
        assert!(note.contains("CVE-2025-47914"), "{note}");
        // CVE-2024-45337 names a method (ServerConfig.PublicKeyCallback
        // misuse): reached through the import.
        assert!(!note.contains("CVE-2024-45337"), "{note}");
        assert!(ssh.aliases.iter().any(|a| a == "CVE-2024-45337"));

        let none = run("none/go.mod", true);
        assert_eq!(none.confidence, Confidence::Low);
        assert!(
            none.message.contains("likely unreachable"),
            "{}",
            none.message
        );
        assert_eq!(none.severity, ssh.severity, "still counted by default");
        let demoted = run("none/go.mod", false);
        assert_eq!(demoted.severity, Severity::Info);
        assert!(
            demoted.message.contains("fail-on-unreachable = false"),
            "{}",
            demoted.message
        );
        // Without the sources (no root) nothing is judged.
        let f = found("none/go.mod", go_mod);
        let blind = match_all(&[f], &index, &mut Vec::new());
        assert_eq!(blind[0].confidence, Confidence::High);
        assert!(!blind[0].message.contains("import"), "{}", blind[0].message);
    }

    /// Python: a direct requirement whose modules the project never imports.
    #[test]
    fn python_reachability_from_imports() {
        let db = tempfile::tempdir().expect("tmp");
        let index = fixture_db(db.path(), "PyPI");
        let src = tempfile::tempdir().expect("tmp");
        let root = src.path();
        let req = "pillow==9.0.0\npyyaml==5.3\n";
        write(root, "requirements.txt", req);
        write(
            root,
            "app/main.py",
            "import yaml\n\nprint(yaml.safe_load('a: 1'))\n",
        );
        let opts = MatchOptions {
            root: Some(root),
            ..MatchOptions::default()
        };
        let findings = match_all_with(
            &[found("requirements.txt", req)],
            &index,
            &opts,
            &mut Vec::new(),
        );
        let by = |n: &str| {
            findings
                .iter()
                .find(|f| f.package.as_ref().is_some_and(|p| p.name == n))
                .expect("finding")
        };
        assert_eq!(by("pyyaml").confidence, Confidence::High);
        assert_eq!(by("pillow").confidence, Confidence::Low);
    }

    /// Issue #17: a `replace … => ../x` module is local code, and stdlib is
    /// matched from the toolchain directive.
    #[test]
    fn local_replacements_are_not_matched() {
        let db = tempfile::tempdir().expect("tmp");
        let index = fixture_db(db.path(), "Go");
        let replaced = found(
            "go.mod",
            "module example.com/app\n\nrequire golang.org/x/crypto v0.30.0\n\nreplace golang.org/x/crypto => ../crypto\n",
        );
        assert!(match_all(&[replaced], &index, &mut Vec::new()).is_empty());
    }

    /// Issue #17: the text-only checks of requirements files.
    #[test]
    fn unpinned_requirements_and_environment_versions() {
        let src = tempfile::tempdir().expect("tmp");
        let text = "flask\nrequests==2.31.0\nmylib==${MYLIB_VERSION}\n";
        write(src.path(), "requirements.txt", text);
        let f = found("requirements.txt", text);
        assert_eq!(f.lockfile.packages.len(), 1);
        let mut problems = Vec::new();
        let findings = crate::audit::requirements_texts(src.path(), &[f], &mut problems);
        assert_eq!(findings.len(), 1);
        assert_eq!(findings[0].rule_id, "unpinned-requirement");
        assert_eq!(findings[0].locations[0].line, Some(1));
        assert_eq!(problems.len(), 1);
        assert_eq!(problems[0].line, Some(3));
        assert!(problems[0].message.contains("environment variable"));
    }
}

//! One entry point per analyzer, called by the analyzer's own command and
//! by `pipeguard scan` alike, so the two can never disagree about what an
//! analyzer reads or reports. A [`Scope`] says what to look at (the tree, or
//! only what a change touched); an [`Outcome`] is what came back, before
//! ignores, baselines and rendering (`output::finish` does those).

pub(crate) mod ci;
pub(crate) mod code;
pub(crate) mod deps;
pub(crate) mod dockerfile;
pub(crate) mod image;
pub(crate) mod secrets;

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use pipeguard_core::profile::History;
use pipeguard_core::{Finding, Outcome, Policy, Problem};
use pipeguard_secrets::Scanner;

use crate::common::{policy_base, usage};
use crate::diff::Diff;

/// What to analyze and under which settings.
pub(crate) struct Scope<'a> {
    pub root: &'a Path,
    pub policy: &'a Policy,
    /// Pull-request mode: only what the change touched.
    pub diff: Option<&'a Diff>,
    /// The advisory database.
    pub db: PathBuf,
    /// One secrets engine for every analyzer (building it is the costly
    /// part), shared with the run over the merge base in PR mode.
    pub scanner: Arc<Scanner>,
    pub history: History,
    /// Report vulnerable transitive packages, not only direct ones.
    pub transitive: bool,
    /// Missing advisory data is an error (the `deps` command) rather than a
    /// problem listed beside the other analyzers' findings (`scan`).
    pub strict_db: bool,
}

impl<'a> Scope<'a> {
    /// The whole tree at `root`, as a single-analyzer command sees it.
    pub fn tree(root: &'a Path, policy: &'a Policy, db: PathBuf) -> anyhow::Result<Self> {
        Ok(Scope {
            root,
            policy,
            diff: None,
            db,
            scanner: Arc::new(scanner(policy, root)?),
            history: History::None,
            transitive: true,
            strict_db: true,
        })
    }
}

/// The secrets engine as the policy configures it; a bad rule file or
/// pattern in the policy is the user's to fix (exit 2).
pub(crate) fn scanner(policy: &Policy, root: &Path) -> anyhow::Result<Scanner> {
    Scanner::new(&policy.secrets, &policy_base(policy, root)).map_err(|e| usage(format!("{e:#}")))
}

/// The changed files that still exist: (path on disk, path as reported).
pub(crate) fn changed_files(scope: &Scope, keep: impl Fn(&str) -> bool) -> Vec<(PathBuf, String)> {
    let Some(d) = scope.diff else {
        return Vec::new();
    };
    let mut v: Vec<(PathBuf, String)> = d
        .files
        .keys()
        .filter(|p| keep(p))
        .map(|p| (scope.root.join(p), p.clone()))
        .filter(|(p, _)| p.is_file())
        .collect();
    v.sort_by(|a, b| a.1.cmp(&b.1));
    v
}

/// In diff mode, keeps the locations the change added (history locations
/// come from the change's own commits and always stay).
pub(crate) fn only_touched(findings: Vec<Finding>, diff: Option<&Diff>) -> Vec<Finding> {
    let Some(d) = diff else {
        return findings;
    };
    findings
        .into_iter()
        .filter_map(|mut f| {
            f.locations
                .retain(|l| l.git.is_some() || d.touches(&l.path, l.line));
            (!f.locations.is_empty()).then_some(f)
        })
        .collect()
}

/// Literal secrets in files another analyzer audits (CI files, Dockerfiles):
/// they are the secrets analyzer's findings, so `pipeguard ci` and
/// `pipeguard dockerfile` alone catch them too (`scan` folds them into the
/// secrets analyzer's finding by fingerprint when both ran).
pub(crate) fn audited(
    scope: &Scope,
    files: &[(PathBuf, String)],
    mut findings: Vec<Finding>,
    problems: Vec<Problem>,
    n: u64,
    bytes: u64,
) -> Outcome {
    findings.extend(scope.scanner.scan_files(files).findings);
    Outcome {
        findings: only_touched(findings, scope.diff),
        problems,
        files: n,
        bytes,
        ..Outcome::default()
    }
}

/// In pull-request mode, drops the findings the merge base already had: the
/// same analyzer (`run`) reads the base versions of the files the findings
/// are in, and a finding whose fingerprint comes back there is not the
/// change's doing, whatever lines or commits the change moved it through.
/// Only those files are read, so this costs little however large the tree.
pub(crate) fn drop_preexisting(
    scope: &Scope,
    mut part: Outcome,
    run: impl Fn(&Scope) -> anyhow::Result<Outcome>,
) -> Outcome {
    let Some(d) = scope.diff else {
        return part;
    };
    if part.findings.is_empty() {
        return part;
    }
    let mut paths: Vec<String> = part
        .findings
        .iter()
        .flat_map(|f| f.locations.iter().map(|l| l.path.clone()))
        .collect();
    paths.sort();
    paths.dedup();
    let (dir, problems) = match d.base_tree(scope.root, &paths) {
        Ok(t) => t,
        Err(e) => {
            part.problems.push(Problem {
                path: scope.root.display().to_string(),
                line: None,
                message: format!(
                    "cannot compare with the merge base, every finding counts as new: {e:#}"
                ),
            });
            return part;
        }
    };
    part.problems.extend(problems);
    let base = Scope {
        root: dir.path(),
        policy: scope.policy,
        diff: None,
        db: scope.db.clone(),
        scanner: scope.scanner.clone(),
        history: History::None,
        transitive: scope.transitive,
        strict_db: false,
    };
    // What the base run could not do (no advisory data, say) was already
    // said by the run on the change; only its fingerprints matter here.
    let known: HashSet<_> = match run(&base) {
        Ok(o) => o.findings.into_iter().map(|f| f.fingerprint).collect(),
        Err(_) => HashSet::new(),
    };
    part.findings.retain(|f| !known.contains(&f.fingerprint));
    part
}

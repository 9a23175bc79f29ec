//! `pipeguard scan`: one gate. Finds what the tree holds, runs every
//! analyzer the profile names in parallel, merges what two analyzers both
//! saw, and applies one threshold.
//!
//! In pull-request mode (a diff base from `--diff-base` or the CI) only the
//! changed files are read and only what the change introduced is reported:
//! secrets in the new commits and on added lines, packages added or changed
//! in lockfiles, workflow, Dockerfile and source lines the change touched.
//! Whatever an analyzer finds there is then checked against the merge base
//! by fingerprint: a finding the base already had in those files is not the
//! change's doing, however the change moved it (`analyze::drop_preexisting`).

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Args;
use pipeguard_core::profile::{Analyzer, OnError, Profile, TestFindings};
use pipeguard_core::{Confidence, Finding, Outcome, Problem, Report, Severity, Summary};

use crate::analyze::{self, Scope};
use crate::cache::Cache;
use crate::common::{
    CommonArgs, db_dir, load_repo_policy, policy_base, require_path, shown_root, usage,
};
use crate::diff::Diff;
use crate::output;

#[derive(Args)]
pub struct ScanArgs {
    /// Repository or directory to scan.
    #[arg(default_value = ".")]
    path: PathBuf,
    /// Profile: `pr`, `main`, `release` or one defined in the policy (default: `pr`
    /// when a diff base is known, else the policy's default-profile, else `main`).
    #[arg(long, short = 'p', env = "PIPEGUARD_PROFILE")]
    profile: Option<String>,
    /// Report only what changed since REV (its merge base with HEAD). Detected in
    /// GitHub Actions pull requests and GitLab merge request pipelines.
    #[arg(long, value_name = "REV")]
    diff_base: Option<String>,
    /// Scan the whole tree even when the CI names a diff base.
    #[arg(long, conflicts_with = "diff_base")]
    no_diff: bool,
    /// Run only these analyzers (comma-separated), whatever the profile says.
    #[arg(long, value_delimiter = ',', value_name = "LIST")]
    only: Vec<String>,
    /// Do not read or write the content cache.
    #[arg(long)]
    no_cache: bool,
    /// Cache directory (default: $PIPEGUARD_CACHE_DIR, else ~/.cache/pipeguard).
    #[arg(long, value_name = "DIR")]
    cache_dir: Option<PathBuf>,
    /// Advisory database directory (default: the policy's [deps] db, else $PIPEGUARD_DB, else the platform cache).
    #[arg(long, value_name = "DIR")]
    db: Option<PathBuf>,
    /// Never download the advisory database (as [deps] offline = true): without one, the scan fails closed and says how to import it.
    #[arg(long)]
    offline: bool,
    /// Print how long each analyzer took, on standard error.
    #[arg(long)]
    timings: bool,
    #[command(flatten)]
    common: CommonArgs,
}

pub fn run(a: ScanArgs) -> anyhow::Result<i32> {
    let started = Instant::now();
    require_path(&a.path)?;
    if !a.path.is_dir() {
        return Err(usage(format!(
            "{}: `pipeguard scan` takes a directory; use `pipeguard secrets|deps|ci|dockerfile FILE` for one file",
            a.path.display()
        )));
    }
    let root = a.path.as_path();
    let mut policy = load_repo_policy(a.common.config.as_deref(), root)?;
    policy.deps.offline |= a.offline;
    let ci_base = if a.no_diff {
        None
    } else {
        crate::diff::ci_base()
    };
    let base = a.diff_base.clone().or(ci_base);
    let name = a
        .profile
        .clone()
        .or_else(|| base.as_ref().map(|_| "pr".to_string()))
        .or_else(|| policy.scan.default_profile.clone())
        .unwrap_or_else(|| "main".to_string());
    let mut profile = policy.profile(&name).map_err(usage)?;
    if !a.only.is_empty() {
        let mut only = Vec::new();
        for o in &a.only {
            only.push(Analyzer::parse(o.trim()).ok_or_else(|| {
                usage(format!(
                    "--only: unknown analyzer `{o}` (secrets, deps, ci, dockerfile, code, image)"
                ))
            })?);
        }
        profile.analyzers = only;
    }
    if let Some(f) = a.common.fail_on {
        profile.fail_on = f;
    }
    let diff = match (&base, profile.diff) {
        (Some(b), true) => Some(Diff::compute(root, b).map_err(|e| usage(format!("{e:#}")))?),
        _ => None,
    };
    let db = db_dir(a.db.as_deref(), &policy, root);
    // The cache serves full-tree walks; a diff scan reads only changed files.
    let cache = (policy.scan.cache && !a.no_cache && diff.is_none()).then(|| {
        let dir = a
            .cache_dir
            .clone()
            .unwrap_or_else(crate::cache::default_dir);
        let mut inputs: Vec<Vec<u8>> = vec![format!("{:?}", policy.secrets).into_bytes()];
        for f in &policy.secrets.rule_files {
            inputs.push(std::fs::read(policy_base(&policy, root).join(f)).unwrap_or_default());
        }
        let refs: Vec<&[u8]> = inputs.iter().map(Vec::as_slice).collect();
        Arc::new(Cache::open(&dir, root, &refs))
    });
    let mut scanner = analyze::scanner(&policy, root)?;
    if let Some(c) = &cache {
        scanner = scanner.cache(c.clone());
    }
    let scope = Scope {
        root,
        policy: &policy,
        diff: diff.as_ref(),
        db,
        scanner: Arc::new(scanner),
        history: profile.history,
        transitive: profile.transitive,
        strict_db: false,
    };

    // Every analyzer on its own thread; each also parallelises inside.
    let parts: Vec<(Analyzer, Duration, anyhow::Result<Outcome>)> = std::thread::scope(|s| {
        let handles: Vec<_> = profile
            .analyzers
            .iter()
            .map(|&an| {
                let (scope, profile) = (&scope, &profile);
                (
                    an,
                    s.spawn(move || {
                        let t = Instant::now();
                        // In PR mode, what the merge base already had is
                        // dropped by fingerprint, for every analyzer alike.
                        let r = run_analyzer(an, scope, profile).map(|part| match an {
                            Analyzer::Image => part,
                            Analyzer::Deps => analyze::drop_preexisting(
                                scope,
                                part,
                                analyze::deps::without_advisories,
                            ),
                            _ => analyze::drop_preexisting(scope, part, |base| {
                                run_analyzer(an, base, profile)
                            }),
                        });
                        (t.elapsed(), r)
                    }),
                )
            })
            .collect();
        handles
            .into_iter()
            .map(|(an, h)| {
                let (took, r) = h.join().unwrap_or_else(|_| {
                    (
                        Duration::ZERO,
                        Err(anyhow::anyhow!(
                            "the {} analyzer failed internally",
                            an.as_str()
                        )),
                    )
                });
                (an, took, r)
            })
            .collect()
    });
    if let Some(c) = &cache
        && let Err(e) = c.save()
    {
        eprintln!("pipeguard: warning: cannot write the scan cache: {e}");
    }

    let mut summary = Summary::default();
    let mut findings = Vec::new();
    let mut problems = diff
        .as_ref()
        .map(|d| d.problems.clone())
        .unwrap_or_default();
    let mut timings = Vec::new();
    let mut unchecked = Vec::new();
    for (an, took, part) in parts {
        let part = match part {
            Ok(p) => p,
            Err(e) => {
                // One analyzer failing (no advisory database, unreadable
                // image) must not hide what the others found; but the gate
                // cannot pass on what it did not check.
                problems.push(Problem {
                    path: an.as_str().to_string(),
                    line: None,
                    message: format!("{e:#}"),
                });
                unchecked.push(format!("{}: {e:#}", an.as_str()));
                continue;
            }
        };
        unchecked.extend(
            part.incomplete
                .iter()
                .map(|w| format!("{}: {w}", an.as_str())),
        );
        part.count_into(&mut summary);
        timings.push((an, took, part.findings.len(), part.files, part.note));
        findings.extend(part.findings);
        problems.extend(part.problems);
    }
    let mut findings = merge(findings);
    // Test data is reported but, by default, cannot fail the gate; a
    // real-looking credential counts wherever it sits.
    if profile.test_findings == TestFindings::Report {
        output::tag_tests(&mut findings, &policy);
        for f in &mut findings {
            // Real-looking: a high-confidence match of a rule for a key or
            // token of real value (high or critical: cloud keys, private
            // keys, checksummed tokens). A well-formed JWT or a generic
            // password in a spec file is a fixture (juice-shop's tests hold
            // eleven such JWTs).
            let credential = f.analyzer == "secrets"
                && f.confidence == Confidence::High
                && f.severity >= Severity::High;
            if f.tags.iter().any(|t| t == "test") && !credential {
                f.blocking = false;
            }
        }
    }
    // Two analyzers reading the same unreadable object say so in the same
    // words; the report says it once.
    let mut seen = std::collections::HashSet::new();
    problems.retain(|p| seen.insert((p.path.clone(), p.line, p.message.clone())));
    if a.timings {
        print_timings(&profile, diff.as_ref(), &timings, cache.as_deref(), started);
    }
    let command = match &diff {
        Some(d) => format!("scan --profile {} --diff-base {}", profile.name, d.base),
        None => format!("scan --profile {}", profile.name),
    };
    let mut report = Report::new(&command, &shown_root(root), profile.fail_on);
    report.summary = summary;
    report.problems = problems;
    // Fail closed: what could not be checked never passes silently (the
    // report says what, and the exit code is 2), unless the profile says
    // `on-error = "warn"`, in which case it stays a listed problem.
    if profile.on_error == OnError::Fail {
        report.unchecked = unchecked;
    }
    output::finish(report, findings, &policy, &a.common, started)
}

fn print_timings(
    profile: &Profile,
    diff: Option<&Diff>,
    timings: &[(Analyzer, Duration, usize, u64, String)],
    cache: Option<&Cache>,
    started: Instant,
) {
    let mode = match diff {
        Some(d) => format!(
            "diff against {} (merge base {}, {} changed files)",
            d.base,
            &d.merge_base[..d.merge_base.len().min(12)],
            d.files.len()
        ),
        None => "full tree".to_string(),
    };
    eprintln!("pipeguard: timings (profile {}, {mode})", profile.name);
    for (an, took, n, files, note) in timings {
        eprintln!(
            "  {:<11}{:>9.3} s  {:>6} files  {:>5} findings{}",
            an.as_str(),
            took.as_secs_f64(),
            files,
            n,
            if note.is_empty() {
                String::new()
            } else {
                format!("  ({note})")
            }
        );
    }
    if let Some(c) = cache {
        eprintln!("  cache: {} files known clean, not read", c.hits());
    }
    eprintln!("  total{:>14.3} s", started.elapsed().as_secs_f64());
}

fn run_analyzer(an: Analyzer, scope: &Scope, profile: &Profile) -> anyhow::Result<Outcome> {
    match an {
        Analyzer::Secrets => analyze::secrets::analyze(scope),
        Analyzer::Deps => analyze::deps::analyze(scope),
        Analyzer::Ci => analyze::ci::analyze(scope),
        Analyzer::Dockerfile => analyze::dockerfile::analyze(scope),
        Analyzer::Code => {
            let engine = pipeguard_sast::Engine::new().map_err(|e| anyhow::anyhow!(e))?;
            analyze::code::analyze(scope, &engine, &analyze::code::options(scope))
        }
        Analyzer::Image => analyze::image::analyze(scope, &profile.images),
    }
}

/// One finding per fingerprint: a secret in a workflow is seen by the
/// secrets analyzer and by the CI audit, in the tree and in history; the
/// report shows it once, with every place it was seen.
fn merge(findings: Vec<Finding>) -> Vec<Finding> {
    let mut index: HashMap<pipeguard_core::Fingerprint, usize> = HashMap::new();
    let mut out: Vec<Finding> = Vec::with_capacity(findings.len());
    for f in findings {
        match index.get(&f.fingerprint) {
            Some(&i) => {
                let kept = &mut out[i];
                if f.severity > kept.severity {
                    kept.severity = f.severity;
                }
                for l in f.locations {
                    // The same place seen in the tree and in the commit that
                    // added it is one place; keep the one that names the commit.
                    match kept
                        .locations
                        .iter_mut()
                        .find(|k| k.path == l.path && k.line == l.line && k.column == l.column)
                    {
                        Some(k) if k.git.is_none() && l.git.is_some() => *k = l,
                        Some(k) if k.git == l.git || l.git.is_none() => {}
                        _ => kept.locations.push(l),
                    }
                }
            }
            None => {
                index.insert(f.fingerprint.clone(), out.len());
                out.push(f);
            }
        }
    }
    out
}

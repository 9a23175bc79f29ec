//! `pipeguard scan`: one gate. Finds what the tree holds, runs every
//! analyzer the profile names in parallel, merges what two analyzers both
//! saw, and applies one threshold.
//!
//! In pull-request mode (a diff base from `--diff-base` or the CI) only the
//! changed files are read and only what the change introduced is reported:
//! secrets in the new commits and on added lines, packages added or changed
//! in lockfiles, workflow, Dockerfile and source lines the change touched.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Args;
use pipeguard_core::profile::{Analyzer, History, Profile};
use pipeguard_core::{Finding, Policy, Problem, Report, Summary};
use pipeguard_secrets::{GitScope, Scanner};
use rayon::prelude::*;

use crate::cache::Cache;
use crate::cli::{
    CommonArgs, analyze_image, finish_report, load_policy, policy_base, require_path, shown_root,
    usage,
};
use crate::diff::Diff;

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
    /// Print how long each analyzer took, on standard error.
    #[arg(long)]
    timings: bool,
    #[command(flatten)]
    common: CommonArgs,
}

/// What one analyzer produced.
#[derive(Default)]
struct Part {
    findings: Vec<Finding>,
    problems: Vec<Problem>,
    files: u64,
    bytes: u64,
    packages: Option<u64>,
    commits: Option<u64>,
    blobs: Option<u64>,
    note: String,
    took: Duration,
}

struct Ctx<'a> {
    root: &'a Path,
    policy: &'a Policy,
    profile: &'a Profile,
    diff: Option<&'a Diff>,
    db: PathBuf,
    /// One secrets engine for every analyzer (building it is the costly part).
    scanner: Scanner,
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
    let policy = load_policy(a.common.config.as_deref(), root)?;
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
    let db =
        a.db.clone()
            .or_else(|| {
                policy
                    .deps
                    .db
                    .as_ref()
                    .map(|d| policy_base(&policy, root).join(d))
            })
            .unwrap_or_else(pipeguard_deps::db::default_dir);
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
    let mut scanner = Scanner::new(&policy.secrets, &policy_base(&policy, root))
        .map_err(|e| usage(format!("{e:#}")))?;
    if let Some(c) = &cache {
        scanner = scanner.cache(c.clone());
    }
    let ctx = Ctx {
        root,
        policy: &policy,
        profile: &profile,
        diff: diff.as_ref(),
        db,
        scanner,
    };

    // Every analyzer on its own thread; each also parallelises inside.
    let parts: Vec<(Analyzer, anyhow::Result<Part>)> = std::thread::scope(|s| {
        let handles: Vec<_> = profile
            .analyzers
            .iter()
            .map(|&an| {
                let ctx = &ctx;
                (
                    an,
                    s.spawn(move || {
                        let t = Instant::now();
                        let mut r = run_analyzer(an, ctx);
                        if let Ok(p) = &mut r {
                            p.took = t.elapsed();
                        }
                        r
                    }),
                )
            })
            .collect();
        handles
            .into_iter()
            .map(|(an, h)| {
                (
                    an,
                    h.join().unwrap_or_else(|_| {
                        Err(anyhow::anyhow!(
                            "the {} analyzer failed internally",
                            an.as_str()
                        ))
                    }),
                )
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
    let mut problems = Vec::new();
    let mut timings = Vec::new();
    for (an, part) in parts {
        let part = match part {
            Ok(p) => p,
            Err(e) => {
                // One analyzer failing (no advisory database, unreadable
                // image) must not hide what the others found.
                problems.push(Problem {
                    path: an.as_str().to_string(),
                    line: None,
                    message: format!("{e:#}"),
                });
                continue;
            }
        };
        summary.files_scanned += part.files;
        summary.bytes_scanned += part.bytes;
        add(&mut summary.packages_scanned, part.packages);
        add(&mut summary.commits_scanned, part.commits);
        add(&mut summary.blobs_scanned, part.blobs);
        timings.push((an, part.took, part.findings.len(), part.files, part.note));
        findings.extend(part.findings);
        problems.extend(part.problems);
    }
    let findings = merge(findings);
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
    finish_report(report, findings, &policy, &a.common, started)
}

fn add(total: &mut Option<u64>, part: Option<u64>) {
    if let Some(p) = part {
        *total = Some(total.unwrap_or(0) + p);
    }
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

fn run_analyzer(an: Analyzer, ctx: &Ctx) -> anyhow::Result<Part> {
    match an {
        Analyzer::Secrets => secrets(ctx),
        Analyzer::Deps => deps(ctx),
        Analyzer::Ci => ci(ctx),
        Analyzer::Dockerfile => dockerfile(ctx),
        Analyzer::Code => code(ctx),
        Analyzer::Image => images(ctx),
    }
}

/// The changed files that still exist: (path on disk, path as reported).
fn changed_files(ctx: &Ctx, keep: impl Fn(&str) -> bool) -> Vec<(PathBuf, String)> {
    let Some(d) = ctx.diff else {
        return Vec::new();
    };
    let mut v: Vec<(PathBuf, String)> = d
        .files
        .keys()
        .filter(|p| keep(p))
        .map(|p| (ctx.root.join(p), p.clone()))
        .filter(|(p, _)| p.is_file())
        .collect();
    v.sort_by(|a, b| a.1.cmp(&b.1));
    v
}

/// In diff mode, keeps the locations the change added (history locations
/// come from the change's own commits and always stay).
fn only_touched(findings: Vec<Finding>, diff: Option<&Diff>) -> Vec<Finding> {
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

fn secrets(ctx: &Ctx) -> anyhow::Result<Part> {
    let scanner = &ctx.scanner;
    let mut part = Part::default();
    let repo = crate::diff::is_repo(ctx.root);
    match ctx.diff {
        Some(d) => {
            // The changed files as they are now, on added lines only...
            let files = changed_files(ctx, |p| !scanner.excludes(p));
            let o = scanner.scan_files(&files);
            part.files = o.files;
            part.bytes = o.bytes;
            part.findings = o.findings;
            part.problems = o.problems;
            part.findings = only_touched(std::mem::take(&mut part.findings), Some(d));
            // ...and every commit of the change, so a secret added and then
            // removed inside the pull request is still reported.
            if ctx.profile.history != History::None {
                let h = scanner
                    .scan_git(ctx.root, &GitScope::Since(d.merge_base.clone()), &|_| {})
                    .map_err(|e| usage(format!("{e:#}")))?;
                part.commits = h.commits;
                part.blobs = h.blobs;
                part.findings.extend(h.findings);
                part.problems.extend(h.problems);
            }
            part.note = format!("{} changed files", files.len());
        }
        None => {
            let o = scanner.scan_path(ctx.root, &|_| {});
            part.files = o.files;
            part.bytes = o.bytes;
            part.findings = o.findings;
            part.problems = o.problems;
            if o.cached > 0 {
                part.note = format!("{} cached", o.cached);
            }
            if ctx.profile.history == History::Full && repo {
                let h = scanner
                    .scan_git(ctx.root, &GitScope::All, &|_| {})
                    .map_err(|e| usage(format!("{e:#}")))?;
                part.commits = h.commits;
                part.blobs = h.blobs;
                part.findings.extend(h.findings);
                part.problems.extend(h.problems);
                let sep = if part.note.is_empty() { "" } else { ", " };
                part.note = format!(
                    "{}{sep}history: {} commits",
                    part.note,
                    h.commits.unwrap_or(0)
                );
            }
        }
    }
    Ok(part)
}

fn deps(ctx: &Ctx) -> anyhow::Result<Part> {
    let cfg = &ctx.policy.deps;
    let mut part = Part::default();
    let (found, base_sets) = match ctx.diff {
        None => {
            let found =
                pipeguard_deps::scan::discover(ctx.root, &mut part.problems, &mut part.bytes);
            (found, None)
        }
        Some(d) => {
            // Only the lockfiles the change touched, each compared with its
            // version at the merge base: a package that was already there at
            // the same version is not the change's doing.
            let mut found = Vec::new();
            let mut bases: HashMap<String, HashSet<(String, String)>> = HashMap::new();
            for (path, rel) in changed_files(ctx, |p| {
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
                    .base_content(ctx.root, &rel)
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
    if !found.is_empty() {
        match pipeguard_deps::scan::scan_found(&found, &ctx.db, cfg) {
            Ok(out) => {
                part.findings = out.findings;
                part.problems.extend(out.problems);
            }
            Err(e) => {
                // Without advisories the supply-chain audits still run.
                part.problems.push(Problem {
                    path: ctx.db.display().to_string(),
                    line: None,
                    message: format!("vulnerabilities not checked: {e:#}"),
                });
                part.findings = pipeguard_deps::audit::audit_lockfiles(&found, cfg);
            }
        }
    }
    let manifests_changed = ctx.diff.is_none_or(|d| {
        d.files
            .keys()
            .any(|p| pipeguard_deps::lockfile::is_manifest(p.rsplit('/').next().unwrap_or(p)))
    });
    if cfg.require_lockfile && manifests_changed {
        part.findings
            .extend(pipeguard_deps::audit::missing_lockfiles(ctx.root));
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
    let transitive = ctx.profile.transitive;
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
            None => ctx
                .diff
                .is_none_or(|d| f.locations.iter().any(|l| d.touches(&l.path, l.line))),
        })
        .collect();
    part.findings = kept;
    Ok(part)
}

fn ci(ctx: &Ctx) -> anyhow::Result<Part> {
    let files = match ctx.diff {
        Some(_) => changed_files(ctx, |p| pipeguard_ci::classify(p).is_some()),
        None => pipeguard_ci::files(ctx.root),
    };
    let o = pipeguard_ci::scan_files(&files);
    Ok(audited(
        ctx, &files, o.findings, o.problems, o.files, o.bytes,
    ))
}

fn dockerfile(ctx: &Ctx) -> anyhow::Result<Part> {
    let files = match ctx.diff {
        Some(_) => changed_files(ctx, |p| {
            pipeguard_container::is_dockerfile(p.rsplit('/').next().unwrap_or(p))
        }),
        None => pipeguard_container::files(ctx.root),
    };
    let o = pipeguard_container::scan_files(&files);
    Ok(audited(
        ctx, &files, o.findings, o.problems, o.files, o.bytes,
    ))
}

/// The tail shared by the file audits (CI, Dockerfile): literal secrets in
/// the same files, as `pipeguard ci` and `pipeguard dockerfile` report them
/// (`merge` folds them into the secrets analyzer's finding when both ran),
/// then only what the change touched.
fn audited(
    ctx: &Ctx,
    files: &[(PathBuf, String)],
    mut findings: Vec<Finding>,
    problems: Vec<Problem>,
    n: u64,
    bytes: u64,
) -> Part {
    findings.extend(ctx.scanner.scan_files(files).findings);
    Part {
        findings: only_touched(findings, ctx.diff),
        problems,
        files: n,
        bytes,
        ..Part::default()
    }
}

fn code(ctx: &Ctx) -> anyhow::Result<Part> {
    let engine = pipeguard_sast::Engine::new().map_err(|e| anyhow::anyhow!(e))?;
    let mut part = Part::default();
    match ctx.diff {
        None => {
            let opts = pipeguard_sast::Options {
                scan_ignored: ctx.policy.secrets.scan_ignored,
                ..pipeguard_sast::Options::default()
            };
            let o = engine.scan_path(ctx.root, &opts);
            part.files = o.stats.files;
            part.bytes = o.stats.bytes;
            part.findings = o.findings;
            part.problems = o.problems;
            part.note = format!("{} lines", o.stats.lines);
        }
        Some(d) => {
            let files = changed_files(ctx, |p| {
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

fn images(ctx: &Ctx) -> anyhow::Result<Part> {
    let mut part = Part::default();
    if ctx.profile.images.is_empty() {
        part.note = "no images in the profile".into();
        return Ok(part);
    }
    let base = policy_base(ctx.policy, ctx.root);
    for r in &ctx.profile.images {
        // Layout paths in the policy are relative to the policy file.
        let reference = match r.split_once(':') {
            Some((scheme @ ("oci" | "docker-archive"), rest)) if !Path::new(rest).is_absolute() => {
                format!("{scheme}:{}", base.join(rest).display())
            }
            _ => r.clone(),
        };
        match analyze_image(
            &reference,
            "linux/amd64",
            false,
            Some(ctx.db.clone()),
            ctx.policy,
        ) {
            Ok(o) => {
                part.files += o.files;
                part.bytes += o.bytes;
                add(&mut part.packages, Some(o.packages));
                part.findings.extend(o.findings);
                part.problems.extend(o.problems);
            }
            Err(e) => part.problems.push(Problem {
                path: r.clone(),
                line: None,
                message: format!("image not scanned: {e:#}"),
            }),
        }
    }
    part.note = format!("{} images", ctx.profile.images.len());
    Ok(part)
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

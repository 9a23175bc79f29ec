//! Secret detection for pipeguard: finds credentials in files, standard input
//! and git history, with rules as data (`rules/*.toml`), a keyword prefilter in
//! front of every regex, and filters that keep placeholders and references out
//! of the report. Each distinct secret becomes one finding with every place it
//! was seen.

pub mod engine;
pub mod filters;
pub mod git;
pub mod rules;
pub mod validate;
mod walk;

use std::collections::{HashMap, HashSet};
use std::path::Path;

use globset::{Glob, GlobSet, GlobSetBuilder};
use pipeguard_core::policy::SecretsConfig;
use pipeguard_core::{Finding, Fingerprint, Location, Problem, Redacted};
use rayon::prelude::*;

pub use engine::{Engine, Match};
pub use git::GitScope;
pub use rules::rule_docs;
pub use walk::is_binary;

/// Default `max-file-size`: large enough for a minified bundle or a big
/// generated file, small enough that a stray disk image is skipped.
pub const DEFAULT_MAX_FILE_SIZE: u64 = 64 * 1024 * 1024;

/// What a scan found (the one outcome type of every analyzer).
pub use pipeguard_core::Outcome;

/// Lets the caller skip files it knows scanned clean before (the content
/// cache of `pipeguard scan`). Only files with no match at all are marked,
/// so a cached file can never hide a finding.
pub trait FileCache: Send + Sync {
    /// True when `path` (as reported), with this metadata, scanned clean before.
    fn is_clean(&self, path: &str, meta: &std::fs::Metadata) -> bool;
    /// Called for every file that scanned with no match.
    fn mark_clean(&self, path: &str, meta: &std::fs::Metadata);
    /// True when this history blob (`key` is its id and the path it was
    /// scanned under: path-restricted rules depend on the name) scanned
    /// clean before. A blob never changes, so no other check is needed.
    fn blob_is_clean(&self, _key: &str) -> bool {
        false
    }
    /// Called for every history blob that scanned with no match.
    fn mark_blob_clean(&self, _key: &str) {}
}

pub struct Scanner {
    engine: Engine,
    max_file_size: u64,
    exclude: GlobSet,
    scan_ignored: bool,
    follow_links: bool,
    cache: Option<std::sync::Arc<dyn FileCache>>,
}

/// What is wrong with a regex, without the pattern that regex's own
/// message quotes.
fn regex_reason(e: &regex::Error) -> String {
    match e {
        regex::Error::Syntax(msg) => msg
            .lines()
            .rev()
            .find(|l| !l.trim().is_empty())
            .map(|l| l.trim().trim_start_matches("error: ").to_string())
            .unwrap_or_else(|| "syntax error".into()),
        regex::Error::CompiledTooBig(limit) => format!("it compiles to more than {limit} bytes"),
        _ => "invalid regex".into(),
    }
}

impl Scanner {
    /// Built-in rules plus the policy's rule files, minus its disabled rules.
    /// `base` is the directory that relative rule-file paths start from.
    pub fn new(cfg: &SecretsConfig, base: &Path) -> anyhow::Result<Scanner> {
        let mut rules = rules::builtin()?;
        for f in &cfg.rule_files {
            let path = if f.is_absolute() {
                f.clone()
            } else {
                base.join(f)
            };
            rules.extend(rules::load_file(&path)?);
        }
        rules.retain(|r| !cfg.disable_rules.contains(&r.id));
        // allow-values are often a known secret written as a regex: an error
        // names the entry and the reason, never the pattern (the regex and
        // globset errors quote it in full).
        let mut allow = Vec::new();
        for (i, v) in cfg.allow_values.iter().enumerate() {
            allow.push(regex::bytes::Regex::new(v).map_err(|e| {
                anyhow::anyhow!(
                    "[secrets] allow-values: entry {} ({}) is not a valid regex: {}",
                    i + 1,
                    pipeguard_core::Redacted::new(v.as_str()),
                    regex_reason(&e)
                )
            })?);
        }
        let mut gs = GlobSetBuilder::new();
        for (i, g) in cfg.exclude.iter().enumerate() {
            gs.add(Glob::new(g).map_err(|e| {
                anyhow::anyhow!(
                    "[secrets] exclude: entry {} ({}) is not a valid glob: {}",
                    i + 1,
                    pipeguard_core::Redacted::new(g.as_str()),
                    e.kind()
                )
            })?);
        }
        Ok(Scanner {
            engine: Engine::new(rules, &allow)?,
            max_file_size: cfg.max_file_size.unwrap_or(DEFAULT_MAX_FILE_SIZE),
            exclude: gs.build()?,
            scan_ignored: cfg.scan_ignored,
            follow_links: false,
            cache: None,
        })
    }

    pub fn follow_links(mut self, yes: bool) -> Self {
        self.follow_links = yes;
        self
    }

    pub fn cache(mut self, cache: std::sync::Arc<dyn FileCache>) -> Self {
        self.cache = Some(cache);
        self
    }

    pub fn max_file_size(mut self, bytes: u64) -> Self {
        self.max_file_size = bytes;
        self
    }

    /// Is `path` (as reported) excluded by the policy's `[secrets] exclude`?
    pub fn excludes(&self, path: &str) -> bool {
        self.exclude.is_match(path)
    }

    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// Scans a directory tree (or one file) in parallel.
    pub fn scan_path(&self, root: &Path, progress: &(dyn Fn(u64) + Sync)) -> Outcome {
        let mut g = Grouper::new(&self.engine);
        let stats = walk::walk(self, root, progress, &mut |path, matches| {
            g.add(path, None, matches)
        });
        let mut out = g.finish();
        out.problems = stats.problems;
        out.files = stats.files;
        out.bytes = stats.bytes;
        out.cached = stats.cached;
        out
    }

    /// Scans the listed files (path on disk, path as reported) in parallel,
    /// binary and `[secrets] exclude`d files skipped as in a tree walk; a
    /// secret in several of them is one finding.
    pub fn scan_files(&self, files: &[(std::path::PathBuf, String)]) -> Outcome {
        // Per file: its matches and size, or why it could not be read.
        type Scanned<'a> = (&'a str, Result<(Vec<Match>, u64), String>);
        let scanned: Vec<Scanned> = files
            .par_iter()
            .filter(|(_, rel)| !self.excludes(rel))
            .filter_map(|(path, rel)| match std::fs::read(path) {
                Err(e) => Some((rel.as_str(), Err(format!("cannot read: {e}")))),
                Ok(data) if walk::is_binary(&data) => None,
                Ok(data) => Some((
                    rel.as_str(),
                    Ok((self.engine.scan(&data, rel), data.len() as u64)),
                )),
            })
            .collect();
        let mut g = Grouper::new(&self.engine);
        let (mut n, mut bytes, mut problems) = (0, 0, Vec::new());
        for (rel, r) in scanned {
            match r {
                Ok((matches, len)) => {
                    n += 1;
                    bytes += len;
                    if !matches.is_empty() {
                        g.add(rel, None, matches);
                    }
                }
                Err(message) => problems.push(Problem {
                    path: rel.to_string(),
                    line: None,
                    message,
                }),
            }
        }
        let mut out = g.finish();
        out.files = n;
        out.bytes = bytes;
        out.problems = problems;
        out
    }

    /// Scans one buffer (standard input) under a display name.
    pub fn scan_bytes(&self, name: &str, data: &[u8]) -> Outcome {
        let mut g = Grouper::new(&self.engine);
        g.add(name, None, self.engine.scan(data, name));
        let mut out = g.finish();
        out.files = 1;
        out.bytes = data.len() as u64;
        out
    }

    /// Scans git history: every blob the scope introduced, once.
    pub fn scan_git(
        &self,
        root: &Path,
        scope: &GitScope,
        progress: &(dyn Fn(u64) + Sync),
    ) -> anyhow::Result<Outcome> {
        let history = git::history(root, scope)?;
        let mut problems = history.problems;
        let incremental = *scope != GitScope::All;
        // In diff scopes, a secret counts only if the blob it replaced did not
        // already hold it: editing another line of a file is not a new leak.
        let mut previous: Vec<String> = Vec::new();
        let mut wanted: Vec<String> = Vec::with_capacity(history.blobs.len());
        let mut intros: HashMap<String, Vec<git::Intro>> = HashMap::new();
        for (id, list) in history.blobs {
            let list: Vec<_> = list
                .into_iter()
                .filter(|i| !self.exclude.is_match(&i.path))
                .collect();
            if list.is_empty() {
                continue;
            }
            if incremental {
                previous.extend(list.iter().filter_map(|i| i.previous.clone()));
            }
            wanted.push(id.clone());
            intros.insert(id, list);
        }
        let prev_set: std::collections::HashSet<String> = previous.iter().cloned().collect();
        let mut to_read = wanted.clone();
        to_read.extend(
            prev_set
                .iter()
                .filter(|p| !intros.contains_key(*p))
                .cloned(),
        );

        let mut results: HashMap<String, Vec<Match>> = HashMap::new();
        let mut blobs = 0u64;
        let mut bytes = 0u64;
        let mut batch: Vec<(String, Vec<u8>)> = Vec::new();
        let mut batch_bytes = 0usize;
        // A blob that was only replaced is named by the path it was replaced at.
        let replaced_at: HashMap<&str, &str> = intros
            .values()
            .flatten()
            .filter_map(|i| Some((i.previous.as_deref()?, i.path.as_str())))
            .collect();
        let name_of = |id: &str| -> String {
            intros
                .get(id)
                .and_then(|l| l.first())
                .map(|i| i.path.as_str())
                .or_else(|| replaced_at.get(id).copied())
                .unwrap_or_default()
                .to_string()
        };
        // History blobs that scanned clean under the same rules before are
        // not read again (the content cache of `pipeguard scan`): a second
        // full scan of an unchanged repository reads almost nothing.
        let blob_key = |id: &str| format!("{id} {}", name_of(id));
        let mut cached = 0u64;
        if let Some(cache) = &self.cache {
            to_read.retain(|id| {
                let hit = cache.blob_is_clean(&blob_key(id));
                cached += u64::from(hit);
                !hit
            });
        }
        let flush = |batch: &mut Vec<(String, Vec<u8>)>,
                     results: &mut HashMap<String, Vec<Match>>| {
            let scanned: Vec<(String, Vec<Match>)> = batch
                .par_iter()
                .map(|(id, data)| (id.clone(), self.engine.scan(data, &name_of(id))))
                .collect();
            for (id, m) in scanned {
                if m.is_empty() {
                    if let Some(cache) = &self.cache {
                        cache.mark_blob_clean(&blob_key(&id));
                    }
                } else {
                    results.insert(id, m);
                }
            }
            batch.clear();
        };
        git::read_blobs(
            root,
            to_read,
            self.max_file_size,
            |id, content| match content {
                Ok(Some(data)) => {
                    blobs += 1;
                    bytes += data.len() as u64;
                    progress(data.len() as u64);
                    if walk::is_binary(&data) {
                        return;
                    }
                    batch_bytes += data.len();
                    batch.push((id.to_string(), data));
                    if batch_bytes > 32 * 1024 * 1024 || batch.len() > 4096 {
                        flush(&mut batch, &mut results);
                        batch_bytes = 0;
                    }
                }
                Ok(None) => problems.push(Problem {
                    path: format!("{} (blob {})", name_of(id), &id[..id.len().min(12)]),
                    line: None,
                    message: format!(
                        "skipped: larger than max-file-size ({} bytes)",
                        self.max_file_size
                    ),
                }),
                Err(e) => problems.push(Problem {
                    path: format!("{} (blob {})", name_of(id), &id[..id.len().min(12)]),
                    line: None,
                    message: e,
                }),
            },
        )?;
        flush(&mut batch, &mut results);

        let mut g = Grouper::new(&self.engine);
        for id in &wanted {
            let Some(matches) = results.get(id) else {
                continue;
            };
            for intro in &intros[id] {
                let old: Vec<(usize, &str)> = intro
                    .previous
                    .as_ref()
                    .and_then(|p| results.get(p))
                    .map(|v| v.iter().map(|m| (m.rule, m.secret.as_str())).collect())
                    .unwrap_or_default();
                let fresh: Vec<Match> = matches
                    .iter()
                    .filter(|m| !incremental || !old.contains(&(m.rule, m.secret.as_str())))
                    .cloned()
                    .collect();
                g.add(&intro.path, intro.origin.clone(), fresh);
            }
        }
        let mut out = g.finish();
        // A secret the base already held, in a file the change touched, is
        // not the change's doing however the commits moved it around.
        if let Some(base) = &history.base
            && !out.findings.is_empty()
        {
            let mut paths: Vec<String> = out
                .findings
                .iter()
                .flat_map(|f| f.locations.iter().map(|l| l.path.clone()))
                .collect();
            paths.sort();
            paths.dedup();
            let known = self.fingerprints_at(root, base, &paths, &mut problems);
            out.findings.retain(|f| !known.contains(&f.fingerprint));
        }
        out.problems = problems;
        out.blobs = Some(blobs);
        out.cached += cached;
        out.bytes = bytes;
        out.files = blobs;
        out.commits = Some(history.commits);
        Ok(out)
    }
}

impl Scanner {
    /// The fingerprints of the secrets these files (paths relative to
    /// `root`) held at commit `rev`. A file that did not exist there holds
    /// none; one that cannot be read is a problem, and holds none either.
    pub fn fingerprints_at(
        &self,
        root: &Path,
        rev: &str,
        paths: &[String],
        problems: &mut Vec<Problem>,
    ) -> HashSet<Fingerprint> {
        let mut g = Grouper::new(&self.engine);
        let mut failed = Vec::new();
        let read =
            git::read_files_at(
                root,
                rev,
                paths,
                self.max_file_size,
                |path, content| match content {
                    Ok(Some(data)) if !walk::is_binary(&data) => {
                        g.add(path, None, self.engine.scan(&data, path));
                    }
                    Ok(_) => {}
                    Err(e) => failed.push(base_problem(path, rev, &e)),
                },
            );
        problems.extend(failed);
        if let Err(e) = read {
            problems.push(base_problem(
                &root.display().to_string(),
                rev,
                &format!("{e:#}"),
            ));
        }
        g.finish()
            .findings
            .into_iter()
            .map(|f| f.fingerprint)
            .collect()
    }
}

/// A file whose version at the merge base cannot be read: the change is
/// then compared with nothing for that file.
pub fn base_problem(path: &str, rev: &str, why: &str) -> Problem {
    Problem {
        path: path.to_string(),
        line: None,
        message: format!(
            "cannot read this file at the merge base {}, so all of it counts as new: {why}",
            &rev[..rev.len().min(12)]
        ),
    }
}

/// Groups matches of the same secret (rule + value) into one finding. In
/// history scans a secret keeps only the oldest commit per path: that is the
/// commit that introduced it.
struct Grouper<'e> {
    engine: &'e Engine,
    order: Vec<(usize, String)>,
    groups: HashMap<(usize, String), (pipeguard_core::Confidence, Vec<Location>)>,
}

impl<'e> Grouper<'e> {
    fn new(engine: &'e Engine) -> Self {
        Grouper {
            engine,
            order: Vec::new(),
            groups: HashMap::new(),
        }
    }

    fn add(&mut self, path: &str, origin: Option<pipeguard_core::GitOrigin>, matches: Vec<Match>) {
        for m in matches {
            let secret = if self.engine.rules()[m.rule].multiline {
                normalize_block(&m.secret)
            } else {
                m.secret
            };
            let key = (m.rule, secret);
            let entry = self.groups.entry(key.clone()).or_insert_with(|| {
                self.order.push(key.clone());
                (m.confidence, Vec::new())
            });
            entry.0 = entry.0.max(m.confidence);
            if origin.is_some() && entry.1.iter().any(|l| l.path == path && l.git.is_some()) {
                continue;
            }
            entry.1.push(Location {
                path: path.to_string(),
                line: Some(m.line),
                column: Some(m.column),
                end_line: Some(m.end_line),
                end_column: Some(m.end_column),
                snippet: Some(m.snippet),
                git: origin.clone(),
            });
        }
    }

    fn finish(mut self) -> Outcome {
        let mut findings = Vec::with_capacity(self.order.len());
        for key in self.order {
            let Some((confidence, mut locations)) = self.groups.remove(&key) else {
                continue;
            };
            let rule = &self.engine.rules()[key.0];
            if origin_less(&locations) {
                locations.sort_by(|a, b| a.path.cmp(&b.path).then(a.line.cmp(&b.line)));
            }
            let secret = Redacted::new(key.1);
            let fingerprint = Fingerprint::from_parts(&[
                b"secrets",
                rule.id.as_bytes(),
                secret.expose().as_bytes(),
            ]);
            let remediation = rules::fix_of(rule);
            let places = if locations.len() > 1 {
                format!(" in {} places", locations.len())
            } else {
                String::new()
            };
            findings.push(
                Finding::builder(&rule.id, &rule.name, "secrets")
                    .severity(rule.severity)
                    .confidence(confidence)
                    .message(format!("{} found{places}. {remediation}", rule.name))
                    .locations(locations)
                    .fingerprint(fingerprint)
                    .secret(secret)
                    .fix(remediation)
                    .build(),
            );
        }
        Outcome {
            findings,
            ..Outcome::default()
        }
    }
}

/// A key block is the same key whether it sits in a PEM file, a JSON string
/// with `\n` escapes, or source code split over indented string literals.
fn normalize_block(s: &str) -> String {
    s.replace("\\n", "\n")
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '"' && *c != '\'')
        .collect()
}

fn origin_less(locs: &[Location]) -> bool {
    locs.iter().all(|l| l.git.is_none())
}

/// Relative, `/`-separated display path.
pub(crate) fn display_path(root: &Path, path: &Path) -> String {
    // Scanning one file: show its name rather than the path as typed.
    if path == root {
        return path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| path.display().to_string());
    }
    pipeguard_core::relative_path(root, path)
}

#[cfg(test)]
mod config_error_tests {
    use super::*;

    /// Regression (issue #9, canary test): a bad `allow-values` regex or
    /// `exclude` glob was quoted in full in the error, and allow-values are
    /// often a known secret.
    #[test]
    fn bad_allow_values_and_excludes_are_not_quoted() {
        let token = format!("ghp_{}", "Zq3vB8xLr2mT6yN0pW4sK7dF1hJ9cE0a1b2c");
        let cfg = SecretsConfig {
            allow_values: vec!["^ok$".into(), format!("{token}(")],
            ..Default::default()
        };
        let err = format!(
            "{:#}",
            Scanner::new(&cfg, Path::new(".")).err().expect("bad regex")
        );
        assert!(!err.contains(&token), "{err}");
        assert!(
            err.contains("entry 2") && err.contains("unclosed group"),
            "{err}"
        );
        let cfg = SecretsConfig {
            exclude: vec![format!("{token}[")],
            ..Default::default()
        };
        let err = format!(
            "{:#}",
            Scanner::new(&cfg, Path::new(".")).err().expect("bad glob")
        );
        assert!(!err.contains(&token), "{err}");
        assert!(
            err.contains("entry 1") && err.contains("unclosed character class"),
            "{err}"
        );
    }
}

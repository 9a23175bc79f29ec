//! Git history. Each distinct blob is scanned once, however many commits and
//! refs contain it; `git log --raw` tells which commit and path introduced it.
//!
//! We drive the `git` command rather than a library: it is present wherever
//! there is a repository to scan, reads every repository format git itself
//! reads (packs, alternates, partial clones, worktrees), and its failures on
//! corrupt objects come with git's own messages, which we pass on.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;
use std::process::{Command, Stdio};

use anyhow::{Context, bail};
use pipeguard_core::{GitOrigin, Problem};

/// Which part of the history to scan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GitScope {
    /// Every commit reachable from any ref.
    All,
    /// Commits reachable from HEAD but not from this revision (a pull request).
    Since(String),
    /// The index: what the next commit would add (a pre-commit hook).
    Staged,
}

/// Where a blob came from: the first commit (oldest first) that added it at a path.
#[derive(Debug, Clone)]
pub struct Intro {
    pub path: String,
    pub origin: Option<GitOrigin>,
    /// The blob this one replaced at that path, if it was a modification.
    pub previous: Option<String>,
}

#[derive(Debug, Default)]
pub struct History {
    /// Blob id → every (path, commit) that introduced it, oldest first.
    pub blobs: Vec<(String, Vec<Intro>)>,
    pub commits: u64,
    pub problems: Vec<Problem>,
    /// In a `Since` scope, the merge base of the revision and HEAD: what the
    /// change is measured against (`None` for unrelated histories).
    pub base: Option<String>,
}

fn git(root: &Path) -> Command {
    let mut c = Command::new("git");
    c.arg("-C").arg(root);
    // Never prompt, never page, never run the user's hooks or fsmonitor.
    c.env("GIT_TERMINAL_PROMPT", "0")
        .env("GIT_PAGER", "cat")
        .args(["-c", "core.fsmonitor=false", "-c", "core.quotepath=off"]);
    c
}

/// Fails with a clear message when `root` is not inside a git repository.
pub fn check_repo(root: &Path) -> anyhow::Result<()> {
    let out = git(root)
        .args(["rev-parse", "--git-dir"])
        .stderr(Stdio::piped())
        .output()
        .context("cannot run `git`; is it installed?")?;
    if !out.status.success() {
        bail!(
            "{} is not a git repository (`--git`, `--since` and `--staged` need one)",
            root.display()
        );
    }
    Ok(())
}

/// The one line a successful git command prints, or `None`.
fn git_line(root: &Path, args: &[&str]) -> Option<String> {
    let out = git(root)
        .args(args)
        .stderr(Stdio::null())
        .output()
        .ok()
        .filter(|o| o.status.success())?;
    Some(String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// The merge base of `rev` and HEAD, if they share history.
pub fn merge_base(root: &Path, rev: &str) -> Option<String> {
    git_line(root, &["merge-base", rev, "HEAD"]).filter(|s| !s.is_empty())
}

/// Where `root` sits inside its work tree (`sub/dir/`, empty at the top).
fn prefix(root: &Path) -> String {
    git_line(root, &["rev-parse", "--show-prefix"]).unwrap_or_default()
}

const ZERO: &str = "0000000000000000000000000000000000000000";

/// Lists the blobs the scope introduces, with their origins.
///
/// Scanning a directory below the top of the work tree limits history to
/// that directory, with paths relative to it, like the tree walk.
///
/// In a `Since` scope only commits reachable from HEAD and not from the
/// revision are read, and a merge commit is judged against the merge base
/// rather than against its first parent: merging the base branch into a
/// feature branch brings in blobs the base already has, and those are not
/// the change's doing (`gitleaks --log-opts base..HEAD` agrees).
pub fn history(root: &Path, scope: &GitScope) -> anyhow::Result<History> {
    check_repo(root)?;
    let prefix = prefix(root);
    // Below the top, `--relative` drops what lies outside and shortens the
    // paths; `--full-history` keeps a side branch that added and then
    // removed a secret, which path limiting would otherwise simplify away.
    let limit = |cmd: &mut Command| {
        if !prefix.is_empty() {
            cmd.arg("--relative");
        }
    };
    let pathspec = |cmd: &mut Command| {
        if !prefix.is_empty() {
            cmd.args(["--", "."]);
        }
    };
    let mut h = History::default();
    let mut cmd = git(root);
    match scope {
        GitScope::All => {
            cmd.args(["log", "--all", "-m"]);
        }
        GitScope::Since(rev) => {
            let ok = git(root)
                .args([
                    "rev-parse",
                    "--verify",
                    "--quiet",
                    &format!("{rev}^{{commit}}"),
                ])
                .stdout(Stdio::null())
                .status()?
                .success();
            if !ok {
                bail!("--since: `{rev}` is not a commit in {}", root.display());
            }
            h.base = merge_base(root, rev);
            cmd.args(["log", &format!("{rev}..HEAD")]);
            // Merges are diffed against the base below; without a common
            // base every parent is all there is to compare with.
            cmd.arg(if h.base.is_some() {
                "--diff-merges=off"
            } else {
                "-m"
            });
        }
        GitScope::Staged => {
            cmd.args([
                "diff",
                "--cached",
                "--raw",
                "-z",
                "--no-renames",
                "--no-abbrev",
            ]);
        }
    }
    if *scope != GitScope::Staged {
        cmd.args([
            "--reverse",
            "--no-renames",
            "--raw",
            "--no-abbrev",
            "-z",
            "--format=%x01%H%x02%an <%ae>%x02%aI%x02%P",
        ]);
    }
    limit(&mut cmd);
    if *scope != GitScope::Staged && !prefix.is_empty() {
        cmd.arg("--full-history");
    }
    pathspec(&mut cmd);
    let out = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .output()
        .context("cannot run `git log`")?;
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        // HEAD may not exist yet in a fresh repository: nothing committed.
        if !(*scope == GitScope::Staged && err.contains("bad revision")) {
            h.problems.push(incomplete(root, &err));
        }
    }
    let mut index: HashMap<String, usize> = HashMap::new();
    let mut origins: HashMap<String, GitOrigin> = HashMap::new();
    let mut merges: Vec<String> = Vec::new();
    let mut origin: Option<GitOrigin> = None;
    let mut tokens = out.stdout.split(|&b| b == 0);
    while let Some(tok) = tokens.next() {
        let tok = tok.strip_prefix(b"\n").unwrap_or(tok);
        if let Some(header) = tok.strip_prefix(b"\x01") {
            let header = String::from_utf8_lossy(header);
            let mut parts = header.split('\x02');
            let commit = parts.next().unwrap_or("").to_string();
            let author = parts.next().unwrap_or("").to_string();
            let date = parts.next().unwrap_or("").trim().to_string();
            let parents = parts.next().unwrap_or("").split_whitespace().count();
            let o = GitOrigin {
                commit: commit.clone(),
                author,
                date,
            };
            if let std::collections::hash_map::Entry::Vacant(e) = origins.entry(commit) {
                h.commits += 1;
                if parents > 1 {
                    merges.push(e.key().clone());
                }
                e.insert(o.clone());
            }
            origin = Some(o);
        } else if let Some(meta) = tok.strip_prefix(b":") {
            let Some(path) = tokens.next() else { break };
            let origin = if *scope == GitScope::Staged {
                None
            } else {
                origin.clone()
            };
            add_raw(&mut h, &mut index, meta, path, origin);
        }
    }
    if let Some(base) = h.base.clone()
        && !merges.is_empty()
    {
        merges_against_base(root, &base, &merges, &origins, &mut h, &mut index, |c| {
            limit(c);
            pathspec(c);
        });
    }
    Ok(h)
}

fn incomplete(root: &Path, stderr: &str) -> Problem {
    Problem {
        path: root.display().to_string(),
        line: None,
        message: format!(
            "git history is incomplete, `git` failed: {}",
            stderr.trim().lines().last().unwrap_or("")
        ),
    }
}

/// Records one `--raw` entry (`:100644 100644 <old> <new> M`, then the path).
fn add_raw(
    h: &mut History,
    index: &mut HashMap<String, usize>,
    meta: &[u8],
    path: &[u8],
    origin: Option<GitOrigin>,
) {
    let meta = String::from_utf8_lossy(meta);
    let f: Vec<&str> = meta.split(' ').collect();
    if f.len() < 5 {
        return;
    }
    let (new_mode, old, new, status) = (f[1], f[2], f[3], f[4]);
    if status.starts_with('D') || new == ZERO || new_mode.starts_with("160") {
        return;
    }
    let intro = Intro {
        path: String::from_utf8_lossy(path).into_owned(),
        origin,
        previous: (old != ZERO).then(|| old.to_string()),
    };
    match index.get(new) {
        Some(&i) => {
            let list = &mut h.blobs[i].1;
            if !list.iter().any(|x| x.path == intro.path) {
                list.push(intro);
            }
        }
        None => {
            index.insert(new.to_string(), h.blobs.len());
            h.blobs.push((new.to_string(), vec![intro]));
        }
    }
}

/// Each merge of the change, diffed against the base as if the base were
/// its only parent (one `git diff-tree --stdin` for all of them). What the
/// merged branches' own commits added is already listed under those
/// commits; what is left is what the merge itself brought that the base
/// did not have (a conflict resolution, an evil merge).
fn merges_against_base(
    root: &Path,
    base: &str,
    merges: &[String],
    origins: &HashMap<String, GitOrigin>,
    h: &mut History,
    index: &mut HashMap<String, usize>,
    limit: impl Fn(&mut Command),
) {
    let mut cmd = git(root);
    cmd.args([
        "diff-tree",
        "--stdin",
        "-r",
        "--raw",
        "--no-renames",
        "--no-abbrev",
        "-z",
    ]);
    limit(&mut cmd);
    let input: String = merges.iter().map(|m| format!("{m} {base}\n")).collect();
    let out = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            // Written from another thread: diff-tree answers line by line,
            // and a long list could otherwise fill both pipes at once.
            let writer = child.stdin.take().map(|mut stdin| {
                std::thread::spawn(move || {
                    let _ = stdin.write_all(input.as_bytes());
                })
            });
            let out = child.wait_with_output();
            if let Some(w) = writer {
                let _ = w.join();
            }
            out
        });
    let out = match out {
        Ok(o) => o,
        Err(e) => {
            h.problems.push(incomplete(
                root,
                &format!("cannot run `git diff-tree`: {e}"),
            ));
            return;
        }
    };
    if !out.status.success() {
        h.problems
            .push(incomplete(root, &String::from_utf8_lossy(&out.stderr)));
    }
    let mut origin: Option<GitOrigin> = None;
    let mut tokens = out.stdout.split(|&b| b == 0);
    while let Some(tok) = tokens.next() {
        let tok = tok.strip_prefix(b"\n").unwrap_or(tok);
        if let Some(meta) = tok.strip_prefix(b":") {
            let Some(path) = tokens.next() else { break };
            add_raw(h, index, meta, path, origin.clone());
        } else {
            // The commit id diff-tree prints before each merge's entries.
            let id = String::from_utf8_lossy(tok).trim().to_string();
            if let Some(o) = origins.get(&id) {
                origin = Some(o.clone());
            }
        }
    }
}

/// Reads these files (paths relative to `root`) as they were at commit
/// `rev`, calling `each(path, content)` as [`read_blobs`] does for every one
/// that existed there. Which files existed comes from the trees alone
/// (`git ls-tree`), so an unreadable blob is reported for its file and never
/// mistaken for a file the commit did not have.
pub fn read_files_at(
    root: &Path,
    rev: &str,
    paths: &[String],
    max_size: u64,
    mut each: impl FnMut(&str, Result<Option<Vec<u8>>, String>),
) -> anyhow::Result<()> {
    let mut at: HashMap<String, Vec<String>> = HashMap::new();
    let mut ids: Vec<String> = Vec::new();
    // Chunks keep the command line short in a pull request of thousands of
    // files; paths are literal, never patterns.
    for chunk in paths.chunks(512) {
        let out = git(root)
            .args(["--literal-pathspecs", "ls-tree", "-z", rev, "--"])
            .args(chunk)
            .stderr(Stdio::piped())
            .output()
            .context("cannot run `git ls-tree`")?;
        if !out.status.success() {
            bail!(
                "git ls-tree: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            );
        }
        // `<mode> blob <id>\t<path>`
        for entry in out.stdout.split(|&b| b == 0).filter(|e| !e.is_empty()) {
            let entry = String::from_utf8_lossy(entry);
            let Some((meta, path)) = entry.split_once('\t') else {
                continue;
            };
            let f: Vec<&str> = meta.split(' ').collect();
            if f.len() != 3 || f[1] != "blob" {
                continue;
            }
            let list = at.entry(f[2].to_string()).or_default();
            if list.is_empty() {
                ids.push(f[2].to_string());
            }
            list.push(path.to_string());
        }
    }
    read_blobs(root, ids, max_size, |id, content| {
        for path in at.get(id).map(Vec::as_slice).unwrap_or_default() {
            each(path, content.clone());
        }
    })
}

/// Streams blob contents from one `git cat-file --batch` process. Blobs larger
/// than `max_size` are reported by the callback with `None` content, missing or
/// unreadable ones as an error string.
pub fn read_blobs(
    root: &Path,
    ids: Vec<String>,
    max_size: u64,
    mut each: impl FnMut(&str, Result<Option<Vec<u8>>, String>),
) -> anyhow::Result<()> {
    let mut pending: &[String] = &ids;
    // A corrupt object can kill `cat-file`; we then report that blob and
    // restart the reader after it, so one bad object costs one blob.
    while !pending.is_empty() {
        let mut child = git(root)
            .args(["cat-file", "--batch"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .context("cannot run `git cat-file`")?;
        let mut stdin = child.stdin.take().context("cat-file stdin")?;
        let list: Vec<String> = pending.to_vec();
        let writer = std::thread::spawn(move || {
            for id in list {
                if writeln!(stdin, "{id}").is_err() {
                    break;
                }
            }
        });
        let mut stdout = BufReader::with_capacity(1 << 20, child.stdout.take().context("stdout")?);
        let mut done = 0;
        let mut header = String::new();
        for id in pending {
            header.clear();
            if stdout.read_line(&mut header).unwrap_or(0) == 0 {
                break;
            }
            let f: Vec<&str> = header.trim_end().split(' ').collect();
            if f.len() == 2 && f[1] == "missing" {
                // `cat-file` says "missing" for a corrupt object too.
                each(
                    id,
                    Err("object is missing from the repository or cannot be read".into()),
                );
                done += 1;
                continue;
            }
            if f.len() != 3 {
                break;
            }
            let size: u64 = f[2].parse().unwrap_or(0);
            let mut buf = vec![0u8; size as usize];
            if stdout.read_exact(&mut buf).is_err() {
                break;
            }
            let mut nl = [0u8; 1];
            let _ = stdout.read_exact(&mut nl);
            done += 1;
            if size > max_size {
                each(id, Ok(None));
            } else {
                each(id, Ok(Some(buf)));
            }
        }
        drop(stdout);
        let _ = writer.join();
        let status = child.wait_with_output().ok();
        if done < pending.len() {
            let why = status
                .map(|o| String::from_utf8_lossy(&o.stderr).trim().to_string())
                .filter(|s| !s.is_empty())
                .unwrap_or_else(|| "git cat-file stopped".into());
            each(&pending[done], Err(format!("cannot read object: {why}")));
            pending = &pending[done + 1..];
        } else {
            pending = &[];
        }
    }
    Ok(())
}

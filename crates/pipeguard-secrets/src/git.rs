//! Git history. Each distinct blob is scanned once, however many commits and
//! refs contain it; `git log --raw` tells which commit and path introduced it.
//!
//! We drive the `git` command rather than a library: it is present wherever
//! there is a repository to scan, reads every repository format git itself
//! reads (packs, alternates, partial clones, worktrees), and its failures on
//! corrupt objects come with git's own messages, which we pass on.

use std::collections::{HashMap, HashSet};
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

const ZERO: &str = "0000000000000000000000000000000000000000";

/// Lists the blobs the scope introduces, with their origins.
pub fn history(root: &Path, scope: &GitScope) -> anyhow::Result<History> {
    check_repo(root)?;
    let mut cmd = git(root);
    match scope {
        GitScope::All => {
            cmd.args(["log", "--all"]);
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
            cmd.args(["log", &format!("{rev}..HEAD")]);
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
            "-m",
            "-z",
            "--format=%x01%H%x02%an <%ae>%x02%aI",
        ]);
    }
    let out = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .output()
        .context("cannot run `git log`")?;
    let mut h = History::default();
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        // HEAD may not exist yet in a fresh repository: nothing committed.
        if !(*scope == GitScope::Staged && err.contains("bad revision")) {
            h.problems.push(Problem {
                path: root.display().to_string(),
                line: None,
                message: format!(
                    "git history is incomplete, `git` failed: {}",
                    err.trim().lines().last().unwrap_or("")
                ),
            });
        }
    }
    let mut index: HashMap<String, usize> = HashMap::new();
    let mut origin: Option<GitOrigin> = None;
    let mut seen_commits: HashSet<String> = HashSet::new();
    let mut tokens = out.stdout.split(|&b| b == 0);
    while let Some(tok) = tokens.next() {
        let tok = tok.strip_prefix(b"\n").unwrap_or(tok);
        if let Some(header) = tok.strip_prefix(b"\x01") {
            let header = String::from_utf8_lossy(header);
            let mut parts = header.split('\x02');
            let commit = parts.next().unwrap_or("").to_string();
            let author = parts.next().unwrap_or("").to_string();
            let date = parts.next().unwrap_or("").trim().to_string();
            if seen_commits.insert(commit.clone()) {
                h.commits += 1;
            }
            origin = Some(GitOrigin {
                commit,
                author,
                date,
            });
        } else if let Some(meta) = tok.strip_prefix(b":") {
            let Some(path) = tokens.next() else { break };
            let meta = String::from_utf8_lossy(meta);
            // `:100644 100644 <old> <new> M`
            let f: Vec<&str> = meta.split(' ').collect();
            if f.len() < 5 {
                continue;
            }
            let (new_mode, old, new, status) = (f[1], f[2], f[3], f[4]);
            if status.starts_with('D') || new == ZERO || new_mode.starts_with("160") {
                continue;
            }
            let path = String::from_utf8_lossy(path).into_owned();
            let previous = (old != ZERO).then(|| old.to_string());
            let intro = Intro {
                path,
                origin: if *scope == GitScope::Staged {
                    None
                } else {
                    origin.clone()
                },
                previous,
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
    }
    Ok(h)
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
                each(id, Err("object is missing from the repository".into()));
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

//! The working-tree walk: parallel, .gitignore-aware (ripgrep's `ignore`),
//! hidden files included (`.env`, `.github/`), `.git` itself excluded.

use std::path::Path;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use ignore::WalkState;
use pipeguard_core::Problem;

use crate::{Match, Scanner, display_path};

#[derive(Default)]
pub struct Stats {
    pub files: u64,
    pub bytes: u64,
    pub cached: u64,
    pub problems: Vec<Problem>,
}

/// A file is binary when its first 8 KiB hold a NUL byte (git's own test).
pub fn is_binary(data: &[u8]) -> bool {
    memchr::memchr(0, &data[..data.len().min(8192)]).is_some()
}

pub fn walk(
    scanner: &Scanner,
    root: &Path,
    progress: &(dyn Fn(u64) + Sync),
    sink: &mut (dyn FnMut(&str, Vec<Match>) + Send),
) -> Stats {
    let files = AtomicU64::new(0);
    let bytes = AtomicU64::new(0);
    let cached = AtomicU64::new(0);
    let problems: Mutex<Vec<Problem>> = Mutex::new(Vec::new());
    let sink = Mutex::new(sink);
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    let walker = pipeguard_core::walk::builder(root, scanner.scan_ignored, &[])
        .git_global(false)
        .follow_links(scanner.follow_links)
        .threads(threads)
        .build_parallel();
    let problem = |path: String, message: String| {
        if let Ok(mut p) = problems.lock() {
            p.push(Problem {
                path,
                line: None,
                message,
            });
        }
    };
    walker.run(|| {
        Box::new(|entry| {
            let entry = match entry {
                Ok(e) => e,
                Err(err) => {
                    let path = match &err {
                        ignore::Error::WithPath { path, .. } => display_path(root, path),
                        ignore::Error::WithDepth { err, .. } => match err.as_ref() {
                            ignore::Error::WithPath { path, .. } => display_path(root, path),
                            _ => root.display().to_string(),
                        },
                        ignore::Error::Loop { child, .. } => display_path(root, child),
                        _ => root.display().to_string(),
                    };
                    problem(path, format!("skipped: {err}"));
                    return WalkState::Continue;
                }
            };
            if !entry.file_type().is_some_and(|t| t.is_file()) {
                return WalkState::Continue;
            }
            let path = entry.path();
            let shown = display_path(root, path);
            if scanner.exclude.is_match(&shown) {
                return WalkState::Continue;
            }
            let meta = entry.metadata().ok();
            if let (Some(cache), Some(meta)) = (&scanner.cache, &meta)
                && cache.is_clean(&shown, meta)
            {
                cached.fetch_add(1, Ordering::Relaxed);
                return WalkState::Continue;
            }
            let size = meta.as_ref().map(|m| m.len()).unwrap_or(0);
            if size > scanner.max_file_size {
                problem(
                    shown,
                    format!(
                        "skipped: {size} bytes is larger than max-file-size ({} bytes)",
                        scanner.max_file_size
                    ),
                );
                return WalkState::Continue;
            }
            let data = match std::fs::read(path) {
                Ok(d) => d,
                Err(e) => {
                    problem(shown, format!("cannot read: {e}"));
                    return WalkState::Continue;
                }
            };
            progress(data.len() as u64);
            if is_binary(&data) {
                // Binary files are never scanned; remembering them saves the read.
                if let (Some(cache), Some(meta)) = (&scanner.cache, &meta) {
                    cache.mark_clean(&shown, meta);
                }
                return WalkState::Continue;
            }
            files.fetch_add(1, Ordering::Relaxed);
            bytes.fetch_add(data.len() as u64, Ordering::Relaxed);
            let matches = scanner.engine.scan(&data, &shown);
            if matches.is_empty()
                && let (Some(cache), Some(meta)) = (&scanner.cache, &meta)
            {
                cache.mark_clean(&shown, meta);
            }
            if !matches.is_empty()
                && let Ok(mut s) = sink.lock()
            {
                (s)(&shown, matches);
            }
            WalkState::Continue
        })
    });
    Stats {
        files: files.into_inner(),
        bytes: bytes.into_inner(),
        cached: cached.into_inner(),
        problems: problems.into_inner().unwrap_or_default(),
    }
}

//! The final filesystem of an image, built in memory from its layers with
//! the OCI whiteout rules. Only metadata is kept; contents are streamed
//! again from the layers when asked for.

use std::collections::{BTreeMap, HashSet};
use std::io::Read;
use std::ops::Bound;

use super::layer::{RawEntry, for_each_entry, normalize};
use super::{Image, ImageError, Limits};

const WHITEOUT: &str = ".wh.";
const OPAQUE: &str = ".wh..wh..opq";
/// As in Linux: more symlinks than this on one lookup is a loop.
const MAX_LINKS: usize = 40;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileKind {
    File,
    Dir,
    /// The target as written; never resolved outside the view.
    Symlink(String),
    /// The target path inside the image, as written in the tar.
    Hardlink(String),
    /// Devices and fifos.
    Other,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileEntry {
    /// The layer (0 = bottom) this version comes from.
    pub layer: usize,
    pub size: u64,
    pub mode: u32,
    pub uid: u64,
    pub gid: u64,
    pub kind: FileKind,
    pub setuid: bool,
    pub setgid: bool,
}

/// How a file version came to be missing from the final image.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Removal {
    /// A `.wh.<name>` entry deleted it or a directory above it.
    Whiteout,
    /// A `.wh..wh..opq` entry made a directory above it opaque.
    Opaque,
    /// A later layer wrote another entry at the same path.
    Overwritten,
}

/// A regular file that an earlier layer holds and the final image does not
/// show: its bytes are still in the image for anyone who pulls it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeletedFile {
    pub path: String,
    /// The layer the file's bytes are in.
    pub layer: usize,
    pub size: u64,
    /// The layer that removed or replaced it.
    pub removed_in: usize,
    pub how: Removal,
}

#[derive(Debug, Default)]
pub struct FsView {
    /// Paths without a leading `/`, e.g. `etc/passwd`.
    pub files: BTreeMap<String, FileEntry>,
    pub deleted: Vec<DeletedFile>,
    /// Entry paths skipped because they climb out of the root with `..`.
    pub unsafe_paths: Vec<String>,
    /// Layers that could not be read to the end.
    pub errors: Vec<ImageError>,
    /// (path, layer) of every version that is not in the final view, so
    /// visitors can tell deleted versions from live ones.
    hidden: HashSet<(String, usize)>,
}

impl FsView {
    /// The entry at `path` (with or without a leading `/`), not following
    /// a final symlink.
    pub fn get(&self, path: &str) -> Option<&FileEntry> {
        self.files.get(&normalize(path)?)
    }

    /// Resolves `path` inside the view, following symlinks in every
    /// component the way a chroot would (`..` stops at the root), so a link
    /// can never lead outside the image. `None` when something along the
    /// way is missing or the links loop.
    pub fn resolve(&self, path: &str) -> Option<String> {
        let mut pending: Vec<String> = path
            .split('/')
            .rev()
            .filter(|c| !c.is_empty())
            .map(str::to_string)
            .collect();
        let mut cur: Vec<String> = Vec::new();
        let mut links = 0;
        while let Some(c) = pending.pop() {
            match c.as_str() {
                "." => {}
                ".." => {
                    cur.pop();
                }
                _ => {
                    cur.push(c);
                    let p = cur.join("/");
                    match self.files.get(&p).map(|e| &e.kind) {
                        // Layers need not list parent directories: a
                        // missing parent is implied by its children, and a
                        // missing final component is simply absent.
                        None if pending.is_empty() => return None,
                        None => {}
                        Some(FileKind::Symlink(target)) => {
                            links += 1;
                            if links > MAX_LINKS {
                                return None;
                            }
                            cur.pop();
                            if target.starts_with('/') {
                                cur.clear();
                            }
                            pending.extend(
                                target
                                    .split('/')
                                    .rev()
                                    .filter(|c| !c.is_empty())
                                    .map(str::to_string),
                            );
                        }
                        Some(_) => {}
                    }
                }
            }
        }
        if cur.is_empty() {
            return None;
        }
        Some(cur.join("/"))
    }

    /// Whether this version of `path` is missing from the final view.
    pub fn is_deleted_later(&self, path: &str, layer: usize) -> bool {
        self.hidden.contains(&(path.to_string(), layer))
    }

    fn remove_tree(&mut self, path: &str, keep_self: bool, layer: usize, how: Removal) {
        let prefix = format!("{path}/");
        let mut doomed: Vec<String> = self
            .files
            .range::<str, _>((Bound::Included(prefix.as_str()), Bound::Unbounded))
            .take_while(|(k, _)| k.starts_with(&prefix))
            .map(|(k, _)| k.clone())
            .collect();
        if !keep_self && self.files.contains_key(path) {
            doomed.push(path.to_string());
        }
        for k in doomed {
            if let Some(e) = self.files.remove(&k) {
                self.hide(k, e, layer, how);
            }
        }
    }

    fn hide(&mut self, path: String, e: FileEntry, removed_in: usize, how: Removal) {
        // A path written twice in one layer: the first copy is replaced in
        // the same layer, and its (path, layer) is the live one.
        if how == Removal::Overwritten && e.layer == removed_in {
            return;
        }
        if e.kind == FileKind::File {
            self.deleted.push(DeletedFile {
                path: path.clone(),
                layer: e.layer,
                size: e.size,
                removed_in,
                how,
            });
        }
        self.hidden.insert((path, e.layer));
    }
}

enum Change {
    Delete(String),
    Opaque(String),
    Put(String, FileEntry),
}

fn classify(raw: RawEntry, layer: usize, view: &mut FsView) -> Option<Change> {
    let Some(path) = raw.path else {
        if raw.raw_path.split('/').any(|c| c == "..") {
            view.unsafe_paths.push(raw.raw_path);
        }
        return None;
    };
    let (parent, name) = match path.rsplit_once('/') {
        Some((p, n)) => (Some(p), n),
        None => (None, path.as_str()),
    };
    if name == OPAQUE {
        return Some(Change::Opaque(parent.unwrap_or_default().to_string()));
    }
    if let Some(target) = name.strip_prefix(WHITEOUT) {
        if target.is_empty() || target == "." || target == ".." {
            return None;
        }
        let full = match parent {
            Some(p) => format!("{p}/{target}"),
            None => target.to_string(),
        };
        return Some(Change::Delete(full));
    }
    let kind = match raw.kind {
        // Hardlink names are archive paths: normalized like entry paths,
        // and dropped to a plain record if they climb out.
        super::FileKind::Hardlink(t) => {
            super::FileKind::Hardlink(normalize(&t).unwrap_or_default())
        }
        k => k,
    };
    Some(Change::Put(
        path,
        FileEntry {
            layer,
            size: if kind == FileKind::File { raw.size } else { 0 },
            mode: raw.mode,
            uid: raw.uid,
            gid: raw.gid,
            setuid: raw.mode & 0o4000 != 0 && kind == FileKind::File,
            setgid: raw.mode & 0o2000 != 0 && kind == FileKind::File,
            kind,
        },
    ))
}

pub(crate) fn build(image: &Image, limits: &Limits) -> FsView {
    let mut view = FsView::default();
    for (i, layer) in image.layers.iter().enumerate() {
        let mut changes = Vec::new();
        let res = for_each_entry(layer, limits, |raw, _| {
            if let Some(c) = classify(raw, i, &mut view) {
                changes.push(c);
            }
            Ok(())
        });
        if let Err(e) = res {
            view.errors.push(e);
        }
        apply(&mut view, i, changes);
    }
    view
}

/// `build`, handing every regular file's content (up to the size cap) to
/// `f(path, layer, content)` on the way: one decompression of each layer
/// instead of two. Whether a version is deleted later is only known at the
/// end; ask the returned view (`is_deleted_later`).
pub(crate) fn build_visiting<F>(image: &Image, limits: &Limits, mut f: F) -> FsView
where
    F: FnMut(&str, usize, &[u8]),
{
    let mut view = FsView::default();
    for (i, layer) in image.layers.iter().enumerate() {
        let mut changes = Vec::new();
        let res = for_each_entry(layer, limits, |raw, r| {
            if raw.kind == FileKind::File
                && let Some(path) = raw.path.as_deref()
                && !path
                    .rsplit('/')
                    .next()
                    .unwrap_or_default()
                    .starts_with(WHITEOUT)
                && let Some(content) = read_capped(r, raw.size, limits.max_file_size)?
            {
                f(path, i, &content);
            }
            if let Some(c) = classify(raw, i, &mut view) {
                changes.push(c);
            }
            Ok(())
        });
        if let Err(e) = res {
            view.errors.push(e);
        }
        apply(&mut view, i, changes);
    }
    view
}

/// Whiteouts act on the layers below only, wherever they sit in the tar,
/// so they go first; then this layer's entries, the last one of a path
/// winning as in the tar.
fn apply(view: &mut FsView, layer: usize, changes: Vec<Change>) {
    let mut puts = Vec::new();
    for c in changes {
        match c {
            Change::Delete(p) => view.remove_tree(&p, false, layer, Removal::Whiteout),
            Change::Opaque(p) if p.is_empty() => {
                let all: Vec<String> = view.files.keys().cloned().collect();
                for k in all {
                    if let Some(e) = view.files.remove(&k) {
                        view.hide(k, e, layer, Removal::Opaque);
                    }
                }
            }
            Change::Opaque(p) => view.remove_tree(&p, true, layer, Removal::Opaque),
            Change::Put(p, e) => puts.push((p, e)),
        }
    }
    for (p, e) in puts {
        // A non-directory over a directory hides everything under it.
        if e.kind != FileKind::Dir {
            view.remove_tree(&p, true, layer, Removal::Overwritten);
        }
        let was_dir = view
            .files
            .get(&p)
            .is_some_and(|old| old.kind == FileKind::Dir);
        if let Some(old) = view.files.remove(&p) {
            // Re-stating a directory keeps its content; anything else
            // replaces the older version.
            if !(was_dir && e.kind == FileKind::Dir) {
                view.hide(p.clone(), old, layer, Removal::Overwritten);
            }
        }
        view.files.insert(p, e);
    }
}

/// Reads up to `max` bytes of an entry; `None` when it is larger.
fn read_capped(r: &mut dyn Read, size: u64, max: u64) -> std::io::Result<Option<Vec<u8>>> {
    if size > max {
        return Ok(None);
    }
    let mut buf = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
    r.take(max).read_to_end(&mut buf)?;
    Ok(Some(buf))
}

pub(crate) fn visit<F>(image: &Image, view: &FsView, limits: &Limits, mut f: F) -> Vec<ImageError>
where
    F: FnMut(&str, usize, bool, &[u8]),
{
    let mut errors = Vec::new();
    for (i, layer) in image.layers.iter().enumerate() {
        let res = for_each_entry(layer, limits, |raw, r| {
            if raw.kind != FileKind::File {
                return Ok(());
            }
            let Some(path) = raw.path else {
                return Ok(());
            };
            let name = path.rsplit('/').next().unwrap_or_default();
            if name.starts_with(WHITEOUT) {
                return Ok(());
            }
            if let Some(content) = read_capped(r, raw.size, limits.max_file_size)? {
                f(&path, i, view.is_deleted_later(&path, i), &content);
            }
            Ok(())
        });
        if let Err(e) = res {
            errors.push(e);
        }
    }
    errors
}

pub(crate) fn read_file(
    image: &Image,
    view: &FsView,
    path: &str,
    limits: &Limits,
) -> Result<Option<Vec<u8>>, ImageError> {
    let (mut found, mut errors) = read_files(image, view, &[path], limits);
    match (found.pop(), errors.pop()) {
        (Some((_, b)), _) => Ok(Some(b)),
        (None, Some(e)) => Err(e),
        (None, None) => Ok(None),
    }
}

/// Where the bytes of the final version of `path` are: (stored path, layer).
fn locate(view: &FsView, path: &str) -> Option<(String, usize)> {
    let target = view.resolve(path)?;
    let entry = view.files.get(&target)?;
    match &entry.kind {
        FileKind::File => Some((target, entry.layer)),
        // A hardlink's bytes are stored under the path it links to, in the
        // same layer as tar writers put them.
        FileKind::Hardlink(t) if !t.is_empty() => Some((t.clone(), entry.layer)),
        _ => None,
    }
}

/// Contents of several files of the final view, each layer streamed once:
/// (asked path, content) for those found, and the errors of layers that
/// failed before giving up a file. Files over the size cap are left out.
pub(crate) fn read_files(
    image: &Image,
    view: &FsView,
    paths: &[&str],
    limits: &Limits,
) -> (Vec<(String, Vec<u8>)>, Vec<ImageError>) {
    let mut by_layer: BTreeMap<usize, Vec<(String, String)>> = BTreeMap::new();
    for p in paths {
        if let Some((stored, layer)) = locate(view, p) {
            by_layer
                .entry(layer)
                .or_default()
                .push((stored, (*p).to_string()));
        }
    }
    let mut out = Vec::new();
    let mut errors = Vec::new();
    for (layer, wanted) in by_layer {
        let Some(l) = image.layers.get(layer) else {
            continue;
        };
        let mut found: BTreeMap<String, Vec<u8>> = BTreeMap::new();
        let res = for_each_entry(l, limits, |raw, r| {
            let Some(path) = raw.path.as_deref() else {
                return Ok(());
            };
            if raw.kind == FileKind::File && wanted.iter().any(|(s, _)| s == path) {
                // The last copy in the layer is the one in the view.
                match read_capped(r, raw.size, limits.max_file_size)? {
                    Some(b) => found.insert(path.to_string(), b),
                    None => found.remove(path),
                };
            }
            Ok(())
        });
        let missing = wanted.iter().any(|(s, _)| !found.contains_key(s));
        if let Err(e) = res
            && missing
        {
            errors.push(e);
        }
        for (stored, asked) in wanted {
            if let Some(b) = found.get(&stored) {
                out.push((asked, b.clone()));
            }
        }
    }
    (out, errors)
}

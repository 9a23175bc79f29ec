//! The content cache of `pipeguard scan`: which files scanned clean last
//! time, keyed by what the file system says about them (size, modification
//! and change times, inode), so an unchanged file is not even read again.
//!
//! Only files with no match at all are recorded, and the whole cache is
//! dropped when pipeguard, its rules or the policy's secrets settings change,
//! so a cache hit can never hide a finding. Files modified within two seconds
//! of the scan's start are not recorded: a write in the same timestamp tick
//! could change the content without changing the stamp (git's "racy clean").

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use pipeguard_core::Fingerprint;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
struct Stamp {
    size: u64,
    mtime_ns: i64,
    ctime_ns: i64,
    ino: u64,
}

fn nanos(t: std::io::Result<SystemTime>) -> i64 {
    t.ok()
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_nanos() as i64)
}

impl Stamp {
    fn of(meta: &std::fs::Metadata) -> Stamp {
        #[cfg(unix)]
        let (ctime_ns, ino) = {
            use std::os::unix::fs::MetadataExt;
            (meta.ctime() * 1_000_000_000 + meta.ctime_nsec(), meta.ino())
        };
        #[cfg(not(unix))]
        let (ctime_ns, ino) = (0, 0);
        Stamp {
            size: meta.len(),
            mtime_ns: nanos(meta.modified()),
            ctime_ns,
            ino,
        }
    }
}

#[derive(Serialize, Deserialize)]
struct OnDisk {
    key: String,
    files: HashMap<String, Stamp>,
    /// History blobs (id and path) that scanned clean.
    #[serde(default)]
    blobs: HashSet<String>,
}

pub struct Cache {
    file: PathBuf,
    key: String,
    known: HashMap<String, Stamp>,
    seen: Mutex<HashMap<String, Stamp>>,
    known_blobs: HashSet<String>,
    seen_blobs: Mutex<HashSet<String>>,
    /// Files changed after this instant (ns) are not recorded.
    cutoff_ns: i64,
    hits: AtomicU64,
}

/// `$PIPEGUARD_CACHE_DIR`, else `$XDG_CACHE_HOME/pipeguard`, else `~/.cache/pipeguard`.
pub fn default_dir() -> PathBuf {
    if let Some(d) = std::env::var_os("PIPEGUARD_CACHE_DIR") {
        return PathBuf::from(d);
    }
    if let Some(d) = std::env::var_os("XDG_CACHE_HOME") {
        return PathBuf::from(d).join("pipeguard");
    }
    std::env::var_os("HOME")
        .map(|h| PathBuf::from(h).join(".cache/pipeguard"))
        .unwrap_or_else(|| std::env::temp_dir().join("pipeguard-cache"))
}

impl Cache {
    /// Opens the cache of `root` under `dir`; `inputs` are everything the
    /// verdict "clean" depends on besides the file itself.
    pub fn open(dir: &Path, root: &Path, inputs: &[&[u8]]) -> Cache {
        let canonical = std::fs::canonicalize(root).unwrap_or_else(|_| root.to_path_buf());
        let name = Fingerprint::from_parts(&[canonical.to_string_lossy().as_bytes()]);
        // A rebuilt binary may carry different rules with the same version.
        let exe = std::env::current_exe()
            .and_then(std::fs::metadata)
            .map(|m| (nanos(m.modified()), m.len()))
            .unwrap_or_default();
        let (exe_time, exe_len) = (exe.0.to_le_bytes(), exe.1.to_le_bytes());
        let mut parts: Vec<&[u8]> = vec![env!("CARGO_PKG_VERSION").as_bytes(), &exe_time, &exe_len];
        parts.extend_from_slice(inputs);
        let key = Fingerprint::from_parts(&parts).as_str().to_string();
        let file = dir.join("scan").join(format!("{}.json", name.as_str()));
        let (known, known_blobs) = std::fs::read(&file)
            .ok()
            .and_then(|b| serde_json::from_slice::<OnDisk>(&b).ok())
            .filter(|d| d.key == key)
            .map(|d| (d.files, d.blobs))
            .unwrap_or_default();
        let cutoff = SystemTime::now() - Duration::from_secs(2);
        Cache {
            file,
            key,
            known,
            seen: Mutex::new(HashMap::new()),
            known_blobs,
            seen_blobs: Mutex::new(HashSet::new()),
            cutoff_ns: nanos(Ok(cutoff)),
            hits: AtomicU64::new(0),
        }
    }

    pub fn hits(&self) -> u64 {
        self.hits.load(Ordering::Relaxed)
    }

    /// Writes what this scan saw clean (files that vanished or now have
    /// findings drop out). Atomic: a crash leaves the old cache or none.
    pub fn save(&self) -> std::io::Result<()> {
        let files = self.seen.lock().map(|s| s.clone()).unwrap_or_default();
        // Blobs seen this run (hits included); a scan without history keeps
        // what the last history scan learned.
        let mut blobs = self
            .seen_blobs
            .lock()
            .map(|s| s.clone())
            .unwrap_or_default();
        if blobs.is_empty() {
            blobs = self.known_blobs.clone();
        }
        let doc = OnDisk {
            key: self.key.clone(),
            files,
            blobs,
        };
        if let Some(parent) = self.file.parent() {
            std::fs::create_dir_all(parent)?;
        }
        let tmp = self
            .file
            .with_extension(format!("tmp{}", std::process::id()));
        std::fs::write(&tmp, serde_json::to_vec(&doc)?)?;
        std::fs::rename(&tmp, &self.file)
    }
}

impl pipeguard_secrets::FileCache for Cache {
    fn is_clean(&self, path: &str, meta: &std::fs::Metadata) -> bool {
        let stamp = Stamp::of(meta);
        if self.known.get(path) == Some(&stamp) {
            if let Ok(mut s) = self.seen.lock() {
                s.insert(path.to_string(), stamp);
            }
            self.hits.fetch_add(1, Ordering::Relaxed);
            return true;
        }
        false
    }

    fn blob_is_clean(&self, key: &str) -> bool {
        if self.known_blobs.contains(key) {
            if let Ok(mut s) = self.seen_blobs.lock() {
                s.insert(key.to_string());
            }
            self.hits.fetch_add(1, Ordering::Relaxed);
            return true;
        }
        false
    }

    fn mark_blob_clean(&self, key: &str) {
        if let Ok(mut s) = self.seen_blobs.lock() {
            s.insert(key.to_string());
        }
    }

    fn mark_clean(&self, path: &str, meta: &std::fs::Metadata) {
        let stamp = Stamp::of(meta);
        if stamp.mtime_ns >= self.cutoff_ns || stamp.ctime_ns >= self.cutoff_ns {
            return;
        }
        if let Ok(mut s) = self.seen.lock() {
            s.insert(path.to_string(), stamp);
        }
    }
}

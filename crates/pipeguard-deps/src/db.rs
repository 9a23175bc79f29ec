//! The local advisory database: OSV `all.zip` dumps imported into one compact
//! JSON file per ecosystem, plus `meta.json`. Scans load only the ecosystems
//! their lockfiles need and look packages up by name, with no network.

use std::collections::{BTreeMap, HashMap};
use std::io::Read;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use serde::{Deserialize, Serialize};

use crate::Ecosystem;
use crate::osv::{Advisory, RawRecord};

/// Where the database lives: `$PIPEGUARD_DB`, else the platform cache
/// directory (`$XDG_CACHE_HOME/pipeguard/osv`, `~/.cache/pipeguard/osv`,
/// `~/Library/Caches/pipeguard/osv` on macOS).
pub fn default_dir() -> PathBuf {
    if let Some(d) = std::env::var_os("PIPEGUARD_DB") {
        return PathBuf::from(d);
    }
    if let Some(d) = std::env::var_os("XDG_CACHE_HOME").filter(|d| !d.is_empty()) {
        return PathBuf::from(d).join("pipeguard/osv");
    }
    let home = std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("."));
    if cfg!(target_os = "macos") {
        home.join("Library/Caches/pipeguard/osv")
    } else {
        home.join(".cache/pipeguard/osv")
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct EcoMeta {
    pub records: usize,
    /// When this ecosystem was last imported (RFC 3339, UTC).
    pub imported_at: String,
    /// The newest `modified` among its records: how fresh the data is.
    pub newest_modified: String,
    pub source: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Meta {
    pub format: u32,
    pub ecosystems: BTreeMap<String, EcoMeta>,
    /// Ecosystems OSV publishes that the last update did not import, with
    /// the reason (`CRAN`: no version ordering for it), so `db status`
    /// says why they are absent rather than leaving a silent gap.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub skipped: BTreeMap<String, String>,
}

const FORMAT: u32 = 1;

fn eco_file(dir: &Path, eco: Ecosystem) -> PathBuf {
    dir.join(format!("{}.json", eco.osv_name()))
}

pub fn read_meta(dir: &Path) -> anyhow::Result<Option<Meta>> {
    let p = dir.join("meta.json");
    if !p.exists() {
        return Ok(None);
    }
    let text =
        std::fs::read_to_string(&p).with_context(|| format!("cannot read {}", p.display()))?;
    let meta: Meta =
        serde_json::from_str(&text).with_context(|| format!("{} is corrupt", p.display()))?;
    if meta.format != FORMAT {
        bail!(
            "{} has format {} but this pipeguard reads format {FORMAT}; run `pipeguard db update` again",
            p.display(),
            meta.format
        );
    }
    Ok(Some(meta))
}

fn write_atomic(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let tmp = path.with_extension("json.tmp");
    std::fs::write(&tmp, bytes).with_context(|| format!("cannot write {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}

#[derive(Debug, Default)]
pub struct ImportStats {
    pub per_ecosystem: BTreeMap<String, (usize, usize, usize)>, // added, updated, unchanged
    pub skipped: Vec<String>,
    /// Ecosystems named by records that the matcher cannot compare
    /// versions for; their records are not imported.
    pub unsupported: std::collections::BTreeSet<String>,
}

/// Records in the database's `meta.json` which ecosystems were skipped and why.
pub fn set_skipped(dir: &Path, skipped: &BTreeMap<String, String>) -> anyhow::Result<()> {
    let Some(mut meta) = read_meta(dir)? else {
        return Ok(());
    };
    meta.skipped = skipped.clone();
    write_atomic(&dir.join("meta.json"), &serde_json::to_vec_pretty(&meta)?)
}

/// Reads every OSV record under `from`: a zip file, or a directory holding
/// zips (`<Ecosystem>/all.zip`) and/or `*.json` records.
fn read_records(from: &Path, each: &mut dyn FnMut(&str, &[u8])) -> anyhow::Result<()> {
    if from.is_file() {
        let name = from.display().to_string();
        if name.ends_with(".zip") {
            let f = std::fs::File::open(from).with_context(|| format!("cannot open {name}"))?;
            let mut z =
                zip::ZipArchive::new(f).with_context(|| format!("{name} is not a zip archive"))?;
            for i in 0..z.len() {
                let mut entry = z
                    .by_index(i)
                    .with_context(|| format!("{name}: bad entry {i}"))?;
                let inner = entry.name().map(|n| n.to_string()).unwrap_or_default();
                if !inner.ends_with(".json") || entry.size() > 64 * 1024 * 1024 {
                    continue;
                }
                let entry_name = format!("{name}:{inner}");
                let mut buf = Vec::with_capacity(entry.size() as usize);
                entry
                    .read_to_end(&mut buf)
                    .with_context(|| format!("cannot read {entry_name}"))?;
                each(&entry_name, &buf);
            }
        } else if name.ends_with(".json") {
            let buf = std::fs::read(from).with_context(|| format!("cannot read {name}"))?;
            each(&name, &buf);
        }
        return Ok(());
    }
    let mut entries: Vec<PathBuf> = std::fs::read_dir(from)
        .with_context(|| format!("cannot read directory {}", from.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    entries.sort();
    for p in entries {
        read_records(&p, each)?;
    }
    Ok(())
}

/// Imports OSV data from `from` into the database at `dir`. Incremental: a
/// record replaces the stored one only when its `modified` is newer.
pub fn import(dir: &Path, from: &Path, source: &str) -> anyhow::Result<ImportStats> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let mut meta = read_meta(dir)?.unwrap_or(Meta {
        format: FORMAT,
        ..Meta::default()
    });
    let mut stats = ImportStats::default();
    let mut incoming: HashMap<Ecosystem, Vec<Advisory>> = HashMap::new();
    read_records(from, &mut |name, bytes| {
        let rec: RawRecord = match serde_json::from_slice(bytes) {
            Ok(r) => r,
            Err(e) => {
                stats
                    .skipped
                    .push(format!("{name}:{}: not an OSV record: {e}", e.line()));
                return;
            }
        };
        let mut ecos: Vec<Ecosystem> = Vec::new();
        for p in rec.affected.iter().filter_map(|a| a.package.as_ref()) {
            match Ecosystem::from_osv(&p.ecosystem) {
                Some(e) => ecos.push(e),
                None => {
                    let base = p.ecosystem.split(':').next().unwrap_or(&p.ecosystem);
                    if !base.is_empty() && !stats.unsupported.contains(base) {
                        stats.unsupported.insert(base.to_string());
                    }
                }
            }
        }
        ecos.sort();
        ecos.dedup();
        for eco in ecos {
            if let Some(adv) = rec.reduce(eco.osv_name(), |n| eco.normalize_name(n)) {
                incoming.entry(eco).or_default().push(adv);
            }
        }
    })?;
    if incoming.is_empty() && stats.skipped.is_empty() && stats.unsupported.is_empty() {
        bail!(
            "{}: no OSV records found (expected all.zip files or OSV JSON records)",
            from.display()
        );
    }
    let now = jiff_now();
    for (eco, advisories) in incoming {
        let mut stored: BTreeMap<String, Advisory> = load_file(dir, eco)?
            .into_iter()
            .map(|a| (a.id.clone(), a))
            .collect();
        let (mut added, mut updated, mut unchanged) = (0, 0, 0);
        for adv in advisories {
            match stored.get(&adv.id) {
                None => {
                    added += 1;
                    stored.insert(adv.id.clone(), adv);
                }
                Some(old) if adv.modified > old.modified => {
                    updated += 1;
                    stored.insert(adv.id.clone(), adv);
                }
                Some(_) => unchanged += 1,
            }
        }
        let list: Vec<&Advisory> = stored.values().collect();
        write_atomic(&eco_file(dir, eco), &serde_json::to_vec(&list)?)?;
        meta.ecosystems.insert(
            eco.osv_name().to_string(),
            EcoMeta {
                records: list.len(),
                imported_at: now.clone(),
                newest_modified: list
                    .iter()
                    .map(|a| a.modified.as_str())
                    .max()
                    .unwrap_or("")
                    .to_string(),
                source: source.to_string(),
            },
        );
        stats
            .per_ecosystem
            .insert(eco.osv_name().to_string(), (added, updated, unchanged));
    }
    write_atomic(&dir.join("meta.json"), &serde_json::to_vec_pretty(&meta)?)?;
    Ok(stats)
}

fn jiff_now() -> String {
    jiff::Timestamp::now()
        .round(jiff::Unit::Second)
        .map(|t| t.to_string())
        .unwrap_or_default()
}

fn load_file(dir: &Path, eco: Ecosystem) -> anyhow::Result<Vec<Advisory>> {
    let p = eco_file(dir, eco);
    if !p.exists() {
        return Ok(Vec::new());
    }
    let bytes = std::fs::read(&p).with_context(|| format!("cannot read {}", p.display()))?;
    serde_json::from_slice(&bytes).with_context(|| {
        format!(
            "{} is corrupt; run `pipeguard db update` again",
            p.display()
        )
    })
}

/// One ecosystem's advisories, indexed two ways.
#[derive(Debug, Default)]
struct EcoIndex {
    list: Vec<Advisory>,
    /// Per normalized package name, the advisories that name it.
    by_name: HashMap<String, Vec<u32>>,
    /// Per id and alias, the advisories with a severity that carry it: a
    /// record without a score (every Go record) borrows the one of its
    /// aliases (the GHSA record of the same vulnerability usually has a
    /// CVSS vector). Only scored records are kept, so the map stays small.
    scored: HashMap<String, Vec<u32>>,
}

/// Advisories of the ecosystems a scan needs, indexed by package name.
#[derive(Debug, Default)]
pub struct Index {
    pub meta: Meta,
    eco: HashMap<Ecosystem, EcoIndex>,
}

impl Index {
    /// Opens the database at `dir`. A missing database is an error that says
    /// how to create one.
    pub fn open(dir: &Path) -> anyhow::Result<Index> {
        match read_meta(dir)? {
            Some(meta) => Ok(Index {
                meta,
                eco: HashMap::new(),
            }),
            None => bail!(
                "no advisory database at {}; create it with `pipeguard db update` (downloads OSV's dumps), `pipeguard db update --url MIRROR` (a mirror of <Ecosystem>/all.zip files) or `pipeguard db update --from DIR` (OSV all.zip files copied here)",
                dir.display()
            ),
        }
    }

    /// An index over advisories already in memory (tests, callers that
    /// bring their own records), as if `eco` had been imported.
    pub fn from_advisories(eco: Ecosystem, list: Vec<Advisory>) -> Index {
        let mut index = Index::default();
        index.meta.ecosystems.insert(
            eco.osv_name().to_string(),
            EcoMeta {
                records: list.len(),
                ..EcoMeta::default()
            },
        );
        index.insert(eco, list);
        index
    }

    /// Loads one ecosystem's advisories (once).
    pub fn load(&mut self, dir: &Path, eco: Ecosystem) -> anyhow::Result<()> {
        if self.eco.contains_key(&eco) {
            return Ok(());
        }
        let list = load_file(dir, eco)?;
        self.insert(eco, list);
        Ok(())
    }

    /// Loads several ecosystems in parallel: deserializing is most of the
    /// fixed cost of a scan.
    pub fn load_all(&mut self, dir: &Path, ecos: &[Ecosystem]) -> anyhow::Result<()> {
        use rayon::prelude::*;
        let loaded: Vec<(Ecosystem, anyhow::Result<Vec<Advisory>>)> = ecos
            .par_iter()
            .filter(|e| !self.eco.contains_key(*e))
            .map(|&e| (e, load_file(dir, e)))
            .collect();
        for (eco, list) in loaded {
            self.insert(eco, list?);
        }
        Ok(())
    }

    fn insert(&mut self, eco: Ecosystem, list: Vec<Advisory>) {
        let mut by_name: HashMap<String, Vec<u32>> = HashMap::new();
        let mut scored: HashMap<String, Vec<u32>> = HashMap::new();
        for (i, a) in list.iter().enumerate() {
            let i = i as u32;
            for aff in &a.affected {
                let ids = by_name.entry(aff.name.clone()).or_default();
                if ids.last() != Some(&i) {
                    ids.push(i);
                }
            }
            if a.cvss_score.is_some() || a.db_severity.is_some() {
                for id in std::iter::once(&a.id).chain(&a.aliases) {
                    let ids = scored.entry(id.clone()).or_default();
                    if ids.last() != Some(&i) {
                        ids.push(i);
                    }
                }
            }
        }
        self.eco.insert(
            eco,
            EcoIndex {
                list,
                by_name,
                scored,
            },
        );
    }

    pub fn has(&self, eco: Ecosystem) -> bool {
        self.meta.ecosystems.contains_key(eco.osv_name())
    }

    /// Advisories that name this package (normalized name).
    pub fn lookup(&self, eco: Ecosystem, name: &str) -> impl Iterator<Item = &Advisory> {
        let entry = self.eco.get(&eco);
        let ids: &[u32] = entry
            .and_then(|e| e.by_name.get(name))
            .map(Vec::as_slice)
            .unwrap_or(&[]);
        ids.iter()
            .filter_map(move |&i| entry.and_then(|e| e.list.get(i as usize)))
    }

    /// Advisories of `eco` with a severity whose id or aliases include `id`,
    /// whatever package they name.
    pub fn scored_with_id(&self, eco: Ecosystem, id: &str) -> impl Iterator<Item = &Advisory> {
        let entry = self.eco.get(&eco);
        let ids: &[u32] = entry
            .and_then(|e| e.scored.get(id))
            .map(Vec::as_slice)
            .unwrap_or(&[]);
        ids.iter()
            .filter_map(move |&i| entry.and_then(|e| e.list.get(i as usize)))
    }
}

/// OSV's public per-ecosystem dumps, for `pipeguard db update` without `--from`.
pub const OSV_BUCKET: &str = "https://osv-vulnerabilities.storage.googleapis.com";

//! Downloading OSV's per-ecosystem dumps (`<base>/<Ecosystem>/all.zip`) into
//! the local database: resumable, verified, and imported so that a failed
//! update leaves the previous database usable.
//!
//! The transfer itself is `curl`'s (present on CI runners and developer
//! machines; it keeps TLS, proxies and certificates the system's business
//! rather than ours, and keeps a TLS stack out of the default build). What
//! is ours: the `.part` file resumed with an HTTP `Range` request, the check
//! that a zip opens and its records parse before anything is imported, and
//! the report of every ecosystem OSV lists, imported or skipped with why.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use anyhow::{Context, bail};

use crate::Ecosystem;
use crate::db::{self, ImportStats};
use crate::osv::RawRecord;

/// OSV's public per-ecosystem dumps.
pub const OSV_BUCKET: &str = db::OSV_BUCKET;

/// OSV's ecosystem list, used when the server has no `ecosystems.txt` (a
/// mirror that copied only the zips). Kept in OSV's order.
pub const OSV_ECOSYSTEMS: &[&str] = &[
    "AlmaLinux",
    "Alpine",
    "Android",
    "Bitnami",
    "CRAN",
    "Chainguard",
    "Debian",
    "GHC",
    "GIT",
    "GitHub Actions",
    "Go",
    "Hackage",
    "Hex",
    "Linux",
    "Mageia",
    "Maven",
    "MinimOS",
    "NuGet",
    "OSS-Fuzz",
    "Packagist",
    "Pub",
    "PyPI",
    "Red Hat",
    "Rocky Linux",
    "RubyGems",
    "SUSE",
    "SwiftURL",
    "Ubuntu",
    "Wolfi",
    "crates.io",
    "npm",
    "openSUSE",
];

/// Where to download from: the `--url` flag, else the policy's
/// `[deps] db-url`, else `$PIPEGUARD_OSV_URL` (a mirror), else OSV's bucket.
pub fn base_url(flag: Option<&str>, policy: Option<&str>) -> String {
    let env = std::env::var("PIPEGUARD_OSV_URL")
        .ok()
        .filter(|s| !s.trim().is_empty());
    flag.map(str::to_string)
        .or_else(|| policy.map(str::to_string))
        .or(env)
        .unwrap_or_else(|| OSV_BUCKET.to_string())
        .trim_end_matches('/')
        .to_string()
}

/// Whether downloading is forbidden by the environment (`PIPEGUARD_OFFLINE`
/// set to anything but empty, `0` or `false`).
pub fn offline_env() -> bool {
    std::env::var("PIPEGUARD_OFFLINE")
        .map(|v| !matches!(v.trim(), "" | "0" | "false"))
        .unwrap_or(false)
}

/// Why an ecosystem OSV publishes is not imported.
pub fn unsupported_reason(name: &str) -> String {
    format!("pipeguard has no version ordering for {name}")
}

/// What happens, for a progress display.
#[derive(Debug)]
pub enum Event<'a> {
    /// Bytes of `eco`'s zip on disk so far (a resumed download starts above 0).
    Downloading { eco: &'a str, bytes: u64 },
    /// A download is tried again: resumed, or restarted after a bad zip.
    Retrying { eco: &'a str, why: String },
    /// Every download is done; records are being imported.
    Importing,
}

/// What an update did, per ecosystem.
#[derive(Debug, Default)]
pub struct Report {
    pub imported: ImportStats,
    /// OSV ecosystems not imported, with the reason.
    pub skipped: BTreeMap<String, String>,
    /// Supported ecosystems whose download or zip failed; their previous
    /// advisories (if any) are kept.
    pub failed: BTreeMap<String, String>,
    pub source: String,
}

/// The ecosystems an update covers: the supported ones to download, and
/// every other one OSV lists, with why it is skipped.
pub fn plan(
    listed: &[String],
    only: &[String],
) -> anyhow::Result<(Vec<Ecosystem>, BTreeMap<String, String>)> {
    let mut want = Vec::new();
    let mut skipped = BTreeMap::new();
    // The server's list is what it serves: a mirror of a few ecosystems
    // lists those few.
    let names: Vec<String> = if only.is_empty() {
        listed.to_vec()
    } else {
        only.to_vec()
    };
    for name in names {
        match Ecosystem::from_osv(&name) {
            Some(e) if !want.contains(&e) => want.push(e),
            Some(_) => {}
            None if only.is_empty()
                || OSV_ECOSYSTEMS.iter().any(|k| k.eq_ignore_ascii_case(&name)) =>
            {
                skipped.insert(name.clone(), unsupported_reason(&name));
            }
            None => bail!("unknown ecosystem `{name}`"),
        }
    }
    Ok((want, skipped))
}

/// Downloads and imports `only` (empty: every ecosystem `base` lists) into
/// the database at `dir`.
pub fn update(
    dir: &Path,
    base: &str,
    only: &[String],
    progress: &mut dyn FnMut(Event),
) -> anyhow::Result<Report> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    // Inside the database directory: the same filesystem, so the final
    // renames are atomic, and a later run finds the `.part` files to resume.
    let downloads = dir.join(".download");
    std::fs::create_dir_all(&downloads)
        .with_context(|| format!("cannot create {}", downloads.display()))?;
    let listed = ecosystem_list(base, &downloads)?;
    let (want, skipped) = plan(&listed, only)?;
    let mut report = Report {
        skipped,
        source: base.to_string(),
        ..Report::default()
    };
    let import_from = downloads.join("zips");
    let _ = std::fs::remove_dir_all(&import_from);
    for eco in &want {
        let name = eco.osv_name();
        match fetch_verified(base, name, &downloads, progress) {
            Ok(zip) => {
                let to = import_from.join(name);
                std::fs::create_dir_all(&to)?;
                std::fs::rename(&zip, to.join("all.zip"))
                    .with_context(|| format!("cannot move {}", zip.display()))?;
            }
            Err(e) => {
                report.failed.insert(name.to_string(), format!("{e:#}"));
            }
        }
    }
    if report.failed.len() == want.len() && !want.is_empty() {
        let first = report.failed.values().next().cloned().unwrap_or_default();
        bail!("could not download any advisories from {base}: {first}");
    }
    if want.is_empty() {
        // Only unsupported ecosystems asked for: nothing to import, but
        // the database says why they are absent.
        db::set_skipped(dir, &report.skipped)?;
        let _ = std::fs::remove_dir_all(&downloads);
        return Ok(report);
    }
    progress(Event::Importing);
    report.imported = import_atomically(dir, &import_from, base, &report.skipped)?;
    let _ = std::fs::remove_dir_all(&import_from);
    if report.failed.is_empty() {
        let _ = std::fs::remove_dir_all(&downloads);
    }
    Ok(report)
}

/// Imports into a copy of the database, then moves each file into place,
/// `meta.json` last: an import that fails (a record that does not parse,
/// a full disk) leaves the previous database as it was.
pub fn import_atomically(
    dir: &Path,
    from: &Path,
    source: &str,
    skipped: &BTreeMap<String, String>,
) -> anyhow::Result<ImportStats> {
    // One per process: two updates at once must not share a half-built copy.
    let staging = dir.join(format!(".staging-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&staging);
    std::fs::create_dir_all(&staging)
        .with_context(|| format!("cannot create {}", staging.display()))?;
    let result = (|| {
        for e in std::fs::read_dir(dir)? {
            let p = e?.path();
            if let Some(n) = p.file_name()
                && p.is_file()
                && p.extension().is_some_and(|x| x == "json")
            {
                std::fs::copy(&p, staging.join(n))
                    .with_context(|| format!("cannot copy {}", p.display()))?;
            }
        }
        let stats = db::import(&staging, from, source)?;
        db::set_skipped(&staging, skipped)?;
        let mut files: Vec<PathBuf> = std::fs::read_dir(&staging)?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.file_name().is_some_and(|n| n != "meta.json"))
            .collect();
        files.sort();
        files.push(staging.join("meta.json"));
        for f in files {
            if let Some(n) = f.file_name() {
                std::fs::rename(&f, dir.join(n))
                    .with_context(|| format!("cannot move {} into place", f.display()))?;
            }
        }
        Ok(stats)
    })();
    let _ = std::fs::remove_dir_all(&staging);
    result
}

/// `<base>/ecosystems.txt`, or the built-in list when the server has none.
fn ecosystem_list(base: &str, downloads: &Path) -> anyhow::Result<Vec<String>> {
    let out = downloads.join("ecosystems.txt");
    let _ = std::fs::remove_file(&out);
    let status = curl(&format!("{base}/ecosystems.txt"), &out, false)?;
    match status.code() {
        Some(0) => {
            let text = std::fs::read_to_string(&out).unwrap_or_default();
            let _ = std::fs::remove_file(&out);
            let list: Vec<String> = text
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .map(str::to_string)
                .collect();
            Ok(list)
        }
        // An HTTP error: a mirror without the list. Anything else (no
        // route, no DNS) means no network, and every zip would fail alike.
        Some(22) => Ok(OSV_ECOSYSTEMS.iter().map(|s| s.to_string()).collect()),
        _ => bail!(
            "cannot reach {base} (curl exit {})",
            status.code().unwrap_or(-1)
        ),
    }
}

/// One ecosystem's zip, downloaded (resumed when a `.part` is there) and
/// verified; a zip that fails verification is downloaded once more.
fn fetch_verified(
    base: &str,
    eco: &str,
    downloads: &Path,
    progress: &mut dyn FnMut(Event),
) -> anyhow::Result<PathBuf> {
    let url = format!("{base}/{}/all.zip", eco.replace(' ', "%20"));
    let part = downloads.join(format!("{eco}.zip.part"));
    let zip = downloads.join(format!("{eco}.zip"));
    let mut last = String::new();
    for round in 0..2 {
        if round > 0 {
            progress(Event::Retrying {
                eco,
                why: format!("{last}; downloading it again"),
            });
        }
        download(&url, eco, &part, progress)?;
        std::fs::rename(&part, &zip).with_context(|| format!("cannot move {}", part.display()))?;
        match verify_zip(&zip) {
            Ok(_) => return Ok(zip),
            Err(e) => {
                last = format!("{e:#}");
                let _ = std::fs::remove_file(&zip);
            }
        }
    }
    bail!("{url}: {last}")
}

/// Downloads `url` into `part`, resuming what is there. A dropped
/// connection is resumed with a `Range` request, a few times at most.
fn download(
    url: &str,
    eco: &str,
    part: &Path,
    progress: &mut dyn FnMut(Event),
) -> anyhow::Result<()> {
    const ATTEMPTS: usize = 4;
    let mut why = String::new();
    for attempt in 0..ATTEMPTS {
        if attempt > 0 {
            progress(Event::Retrying {
                eco,
                why: why.clone(),
            });
        }
        let mut child = curl_cmd(url, part, true)
            .spawn()
            .context("cannot run `curl` to download advisories; use `pipeguard db update --from DIR` with OSV all.zip files")?;
        // Bounded by curl's own --max-time.
        let status = loop {
            if let Some(s) = child.try_wait()? {
                break s;
            }
            let bytes = std::fs::metadata(part).map(|m| m.len()).unwrap_or(0);
            progress(Event::Downloading { eco, bytes });
            std::thread::sleep(Duration::from_millis(100));
        };
        let mut err = String::new();
        if let Some(mut e) = child.stderr.take() {
            let _ = e.read_to_string(&mut err);
        }
        let have = std::fs::metadata(part).map(|m| m.len()).unwrap_or(0);
        progress(Event::Downloading { eco, bytes: have });
        let code = status.code().unwrap_or(-1);
        if code == 0 {
            return Ok(());
        }
        why = format!("{url}: {}", err.trim());
        match code {
            // Cut short, reset, timed out: resume from what arrived.
            18 | 28 | 52 | 55 | 56 | 92 => {}
            // The server cannot resume (no ranges, or the part is stale):
            // start over.
            22 | 33 | 36 if have > 0 => {
                let _ = std::fs::remove_file(part);
            }
            _ => bail!("{why}"),
        }
    }
    bail!("{why} (gave up after {ATTEMPTS} attempts)")
}

fn curl_cmd(url: &str, out: &Path, resume: bool) -> Command {
    let mut c = Command::new("curl");
    c.args(["-fsSL", "--connect-timeout", "30", "--max-time", "1800"]);
    if resume {
        c.args(["-C", "-"]);
    }
    c.arg("-o")
        .arg(out)
        .arg(url)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    c
}

fn curl(url: &str, out: &Path, resume: bool) -> anyhow::Result<std::process::ExitStatus> {
    let o = curl_cmd(url, out, resume)
        .output()
        .context("cannot run `curl` to download advisories; use `pipeguard db update --from DIR` with OSV all.zip files")?;
    Ok(o.status)
}

/// A zip is good when it opens, every entry reads back (CRC checked) and
/// every JSON entry is an OSV record. Returns the number of records.
pub fn verify_zip(path: &Path) -> anyhow::Result<usize> {
    let f = std::fs::File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let mut z = zip::ZipArchive::new(f).context("not a complete zip archive")?;
    let mut n = 0;
    for i in 0..z.len() {
        let mut entry = z
            .by_index(i)
            .with_context(|| format!("bad zip entry {i}"))?;
        let name = entry.name().map(|n| n.to_string()).unwrap_or_default();
        let mut buf = Vec::new();
        entry
            .read_to_end(&mut buf)
            .with_context(|| format!("{name}: cannot read"))?;
        if name.ends_with(".json") {
            serde_json::from_slice::<RawRecord>(&buf)
                .with_context(|| format!("{name}: not an OSV record"))?;
            n += 1;
        }
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plan_reports_every_unsupported_ecosystem_with_a_reason() {
        let listed: Vec<String> = ["CRAN", "GHC", "Hackage", "npm", "PyPI"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let (want, skipped) = plan(&listed, &[]).expect("plan");
        assert!(want.contains(&Ecosystem::Npm) && want.contains(&Ecosystem::PyPI));
        assert_eq!(
            skipped.get("CRAN").map(String::as_str),
            Some("pipeguard has no version ordering for CRAN")
        );
        assert!(skipped.contains_key("GHC") && skipped.contains_key("Hackage"));
        let (want, skipped) = plan(&listed, &["npm".into(), "CRAN".into()]).expect("plan");
        assert_eq!(want, vec![Ecosystem::Npm]);
        assert!(skipped.contains_key("CRAN"));
        assert!(plan(&listed, &["nonsense".into()]).is_err());
    }

    #[test]
    fn a_truncated_zip_fails_verification() {
        let good = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/osv/npm/all.zip");
        assert!(verify_zip(&good).expect("fixture verifies") > 0);
        let bytes = std::fs::read(&good).expect("read");
        let t = tempfile::tempdir().expect("tmp");
        let cut = t.path().join("all.zip");
        std::fs::write(&cut, &bytes[..bytes.len() / 2]).expect("write");
        assert!(verify_zip(&cut).is_err());
    }

    #[test]
    fn base_url_prefers_the_flag_then_the_policy() {
        assert_eq!(base_url(Some("http://a/"), Some("http://b")), "http://a");
        assert_eq!(base_url(None, Some("http://b/")), "http://b");
    }
}

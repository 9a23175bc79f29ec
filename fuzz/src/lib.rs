//! The bodies of pipeguard's fuzz targets, one function per target, so that
//! the libFuzzer binaries in `fuzz_targets/` and the stable replay test in
//! `tests/replay.rs` run exactly the same code on an input.
//!
//! Besides "does not panic, does not hang, does not exhaust memory", some
//! targets check properties a user relies on: a secret never appears in full
//! in any rendered report, dependency indices stay inside the lockfile, and
//! whatever a parser accepts can be turned into an SBOM.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use pipeguard_core::policy::SecretsConfig;
use pipeguard_core::{Finding, Policy, Report, Severity};
use pipeguard_deps::Ecosystem;
use pipeguard_report::Format;
use sha2::{Digest, Sha256};

/// The body of one fuzz target.
pub type Target = fn(&[u8]);

/// Every fuzz target, by name (the names of the `fuzz_targets/*.rs` files and
/// of the `regressions/` subdirectories).
pub const TARGETS: &[(&str, Target)] = &[
    ("secrets_scan_bytes", secrets_scan_bytes),
    ("lockfile", lockfile),
    ("ci_workflow", ci_workflow),
    ("dockerfile", dockerfile),
    ("osv_record", osv_record),
    ("oci_layout", oci_layout),
    ("docker_archive", docker_archive),
    ("image_layer", image_layer),
    ("os_packages", os_packages),
    ("image_inventory", image_inventory),
    ("policy", policy),
    ("source_imports", source_imports),
];

const FORMATS: [Format; 6] = [
    Format::Human,
    Format::Json,
    Format::Sarif,
    Format::Junit,
    Format::Github,
    Format::Markdown,
];

fn scanner() -> &'static pipeguard_secrets::Scanner {
    static SCANNER: OnceLock<pipeguard_secrets::Scanner> = OnceLock::new();
    SCANNER.get_or_init(|| {
        pipeguard_secrets::Scanner::new(&SecretsConfig::default(), Path::new("."))
            .expect("built-in rules compile")
    })
}

/// A scratch directory for the targets whose parsers read files (image
/// layouts, layers, archives), one per process, reused across inputs.
fn scratch() -> &'static Path {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    DIR.get_or_init(|| {
        tempfile::Builder::new()
            .prefix("pipeguard-fuzz-")
            .tempdir()
            .expect("scratch dir")
    })
    .path()
}

/// Renders findings in every format and checks that no secret value of
/// eight characters or more appears anywhere in the output. (Shorter values
/// can occur in the report's fixed text by coincidence.)
fn assert_no_secret_in_reports(findings: Vec<Finding>) {
    let secrets: Vec<String> = findings
        .iter()
        .filter_map(|f| f.secret.as_ref())
        .map(|s| s.expose().to_string())
        .filter(|s| s.chars().count() >= 8)
        .collect();
    let mut report = Report::new("secrets", ".", Severity::Medium);
    report.findings = findings;
    report.finish();
    for format in FORMATS {
        let mut out = Vec::new();
        pipeguard_report::render(&report, format, true, &mut out).expect("render to memory");
        let text = String::from_utf8_lossy(&out);
        for s in &secrets {
            // The message must not quote the secret either: say which format
            // and how long it was, nothing more.
            assert!(
                !text.contains(s.as_str()),
                "a {}-char secret appears in full in the {format:?} report",
                s.chars().count()
            );
        }
    }
}

/// `pipeguard secrets` on one buffer: the first byte picks the file name the
/// buffer is scanned under (names change which rules and filters apply).
pub fn secrets_scan_bytes(data: &[u8]) {
    const NAMES: [&str; 6] = [
        "notes.txt",
        ".env",
        "package-lock.json",
        "config/settings.yaml",
        "id_rsa",
        "src/main.py",
    ];
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let name = NAMES[pick as usize % NAMES.len()];
    let outcome = scanner().scan_bytes(name, rest);
    assert_no_secret_in_reports(outcome.findings);
}

/// Every lockfile and manifest parser, picked by the first byte; what parses
/// must have in-range dependency indices and must make a CycloneDX and an
/// SPDX document.
pub fn lockfile(data: &[u8]) {
    // Every format found by name, in the order of the table (the seeds'
    // first byte picks by that order); the image's package databases have
    // their own target, `os_packages`.
    let formats: Vec<&pipeguard_lockfile::Format> = pipeguard_lockfile::FORMATS
        .iter()
        .filter(|f| !f.file_names.is_empty())
        .collect();
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let format = formats[pick as usize % formats.len()];
    let name = format.file_names[0];
    let text = String::from_utf8_lossy(rest);
    let Ok(lock) = format.parse(&text) else {
        return;
    };
    let n = lock.packages.len();
    for p in &lock.packages {
        for &d in &p.dependencies {
            assert!(d < n, "{name}: dependency index {d} of {n} packages");
        }
    }
    let found = [pipeguard_lockfile::Found {
        path: name.to_string(),
        lockfile: lock,
        release: None,
    }];
    let subject = pipeguard_sbom::Subject {
        name: "fuzz".into(),
        version: None,
    };
    let created = jiff::Timestamp::UNIX_EPOCH;
    let cdx = pipeguard_sbom::cyclonedx_at(&subject, &found, created);
    let spdx = pipeguard_sbom::spdx_at(&subject, &found, created);
    serde_json::to_vec(&cdx).expect("CycloneDX serializes");
    serde_json::to_vec(&spdx).expect("SPDX serializes");
}

/// The CI workflow model and every audit, for the three kinds of CI file
/// (picked by the first byte), then `ci --fix`: a fixed file must still be
/// YAML that loads, or `--fix` would break the user's pipeline.
pub fn ci_workflow(data: &[u8]) {
    use pipeguard_ci::CiFile;
    const KINDS: [(CiFile, &str); 3] = [
        (CiFile::GithubWorkflow, ".github/workflows/ci.yml"),
        (CiFile::Action, "action.yml"),
        (CiFile::Gitlab, ".gitlab-ci.yml"),
    ];
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let (kind, rel) = KINDS[pick as usize % KINDS.len()];
    let Ok(text) = std::str::from_utf8(rest) else {
        return;
    };
    let _ = pipeguard_ci::audit_text(rel, kind, text);
    if kind == CiFile::GithubWorkflow
        && pipeguard_ci::yaml::load(text).is_ok()
        && let Some(fixed) = pipeguard_ci::fix::fix_text(rel, text)
    {
        assert!(
            pipeguard_ci::yaml::load(&fixed).is_ok(),
            "ci --fix turned loadable YAML into YAML that does not load"
        );
    }
}

/// The Dockerfile parser and every Dockerfile rule.
pub fn dockerfile(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let _ = pipeguard_container::audit_text("Dockerfile", &text);
}

/// Project source as the reachability check reads it: the input as a Go file
/// and as a Python file, then asked about the packages it names and some it
/// does not (import-block parsing and the symbol search run on
/// attacker-chosen text).
pub fn source_imports(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let go = pipeguard_deps::reach::GoUsage::from_sources([text.as_ref()]);
    let py = pipeguard_deps::reach::PyUsage::from_sources([text.as_ref()]);
    let words: Vec<&str> = text
        .split(|c: char| c.is_whitespace() || c == '"')
        .filter(|w| !w.is_empty())
        .take(32)
        .collect();
    for w in words
        .iter()
        .copied()
        .chain(["golang.org/x/crypto/ssh", "PIL"])
    {
        let imports = [pipeguard_deps::osv::GoImport {
            path: w.to_string(),
            symbols: words.iter().take(4).map(|s| s.to_string()).collect(),
        }];
        let _ = go.reaches(&imports);
        let _ = py.imports_package(w);
    }
}

/// An OSV record as `db update` imports it, reduced for every ecosystem,
/// then matched against the versions it names (every version parser and
/// comparator runs on attacker-chosen strings).
pub fn osv_record(data: &[u8]) {
    let Ok(rec) = serde_json::from_slice::<pipeguard_deps::osv::RawRecord>(data) else {
        return;
    };
    for eco in Ecosystem::ALL {
        let Some(adv) = rec.reduce(eco.osv_name(), |s| eco.normalize_name(s)) else {
            continue;
        };
        let mut versions: Vec<String> = Vec::new();
        for a in &adv.affected {
            versions.extend(a.versions.iter().cloned());
            for r in &a.ranges {
                for e in r {
                    let (pipeguard_deps::osv::Event::Introduced(v)
                    | pipeguard_deps::osv::Event::Fixed(v)
                    | pipeguard_deps::osv::Event::LastAffected(v)
                    | pipeguard_deps::osv::Event::Limit(v)) = e;
                    versions.push(v.clone());
                }
            }
        }
        versions.truncate(16);
        for a in &adv.affected {
            for v in &versions {
                pipeguard_deps::matcher::is_affected(eco, a, v);
                pipeguard_deps::matcher::nearest_fix(eco, a, v);
            }
        }
        pipeguard_deps::matcher::max_version(eco, &versions);
        serde_json::to_vec(&adv).expect("advisory serializes");
    }
}

/// Splits an input into documents at `\n----\n` lines (the seeds use it).
fn split_docs(data: &[u8]) -> Vec<&[u8]> {
    const SEP: &[u8] = b"\n----\n";
    let mut out = Vec::new();
    let mut rest = data;
    while let Some(i) = rest.windows(SEP.len()).position(|w| w == SEP) {
        out.push(&rest[..i]);
        rest = &rest[i + SEP.len()..];
    }
    out.push(rest);
    out
}

/// Writes `bytes` as a blob of the layout and returns its digest.
fn write_blob(layout: &Path, bytes: &[u8]) -> String {
    let hex: String = Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    std::fs::write(layout.join("blobs/sha256").join(&hex), bytes).expect("write blob");
    format!("sha256:{hex}")
}

fn fresh_dir(name: &str) -> PathBuf {
    let dir = scratch().join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("mkdir");
    dir
}

/// Reads an image the way `pipeguard image` does: the final view, every
/// file of every layer, the OS packages and one file read through symlinks.
fn exercise_image(image: &pipeguard_container::image::Image) {
    use pipeguard_container::image::Limits;
    // Small caps, so that a bomb is cut short quickly instead of timing out.
    let limits = Limits {
        max_layer_bytes: 64 << 20,
        max_entries: 100_000,
        max_file_size: 1 << 20,
    };
    let view = image.filesystem_visiting(&limits, |path, _, content| {
        let _ = scanner().scan_bytes(path, content);
    });
    let _ = image.visit_files(&view, &limits, |_, _, _, _| {});
    let _ = image.os_packages(&view, &limits);
    let _ = image.read_file(&view, "etc/os-release", &limits);
    let _ = pipeguard_container::image::present_tools(&view);
    let _ = pipeguard_container::image::setuid_files(&view);
    let _ = pipeguard_container::image::runs_as_root(&image.config);
    let _ = pipeguard_container::image::sensitive_env(&image.config);
}

/// An OCI layout: the input is `index.json`, then `\n----\n`-separated blobs.
/// `@BLOB1@`…`@BLOB9@` in any document is replaced by the digest of that
/// blob (written after the replacement in the documents it names), so a
/// mutated manifest still points at its config and layers.
pub fn oci_layout(data: &[u8]) {
    let docs = split_docs(data);
    if docs.len() > 10 {
        return;
    }
    let layout = fresh_dir("layout");
    std::fs::create_dir_all(layout.join("blobs/sha256")).expect("mkdir");
    std::fs::write(
        layout.join("oci-layout"),
        br#"{"imageLayoutVersion":"1.0.0"}"#,
    )
    .expect("write");
    // Later blobs first: a manifest (blob 1) names its config and layers
    // (blobs 2…), whose digests must be known before it is written.
    let mut digests: Vec<String> = vec![String::new(); docs.len()];
    for i in (1..docs.len()).rev() {
        let doc = substitute(docs[i], &digests);
        digests[i] = write_blob(&layout, &doc);
    }
    let index = substitute(docs[0], &digests);
    std::fs::write(layout.join("index.json"), index).expect("write");
    for reference in [None, Some("latest")] {
        if let Ok(image) =
            pipeguard_container::image::open_oci_layout(&layout, reference, "linux/amd64")
        {
            exercise_image(&image);
        }
    }
}

fn substitute(doc: &[u8], digests: &[String]) -> Vec<u8> {
    let mut out = doc.to_vec();
    for (i, d) in digests.iter().enumerate().skip(1) {
        if d.is_empty() {
            continue;
        }
        let pat = format!("@BLOB{i}@");
        let pat = pat.as_bytes();
        let mut next = Vec::with_capacity(out.len());
        let mut j = 0;
        while j < out.len() {
            if out[j..].starts_with(pat) {
                next.extend_from_slice(d.as_bytes());
                j += pat.len();
            } else {
                next.push(out[j]);
                j += 1;
            }
        }
        out = next;
    }
    out
}

/// A `docker save` archive: the input is the outer tar.
pub fn docker_archive(data: &[u8]) {
    let dir = fresh_dir("archive");
    let path = dir.join("image.tar");
    std::fs::write(&path, data).expect("write");
    if let Ok(image) = pipeguard_container::image::open_docker_archive(&path) {
        exercise_image(&image);
    }
}

/// One layer blob: the input is the (plain, gzip or zstd) tar stream.
pub fn image_layer(data: &[u8]) {
    use pipeguard_container::image::{Image, ImageConfig, LayerRef, LayerSource};
    let dir = fresh_dir("layer");
    let path = dir.join("layer.blob");
    let mut f = std::fs::File::create(&path).expect("create");
    f.write_all(data).expect("write");
    drop(f);
    // Twice the same layer, to run whiteouts and overwrites between layers.
    let layer = LayerRef {
        digest: "sha256:fuzz".into(),
        media_type: None,
        source: LayerSource::Blob(path),
        verify_sha256: None,
    };
    let image = Image {
        config: ImageConfig::default(),
        layers: vec![layer.clone(), layer],
        digest: None,
        config_digest: None,
        repo_tags: Vec::new(),
    };
    exercise_image(&image);
}

/// The OS package databases and os-release read out of image layers.
pub fn os_packages(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let release = pipeguard_container::image::parse_os_release(&text);
    let _ = release.release();
    let _ = pipeguard_container::image::parse_dpkg_status(&text, "Debian", "12");
    let _ = pipeguard_container::image::parse_apk_installed(&text, "v3.19");
}

/// What an image has installed, as `pipeguard image` and `sbom IMAGE` read
/// it: the first byte picks which image file the rest is (a dpkg or apk
/// database, a Python `METADATA`, an npm `package.json` under
/// `node_modules`); whatever is read must become an SBOM.
pub fn image_inventory(data: &[u8]) {
    use pipeguard_container::image::inventory;
    const PATHS: [&str; 5] = [
        "var/lib/dpkg/status",
        "lib/apk/db/installed",
        "usr/lib/python3/dist-packages/x-1.0.dist-info/METADATA",
        "app/node_modules/@scope/x/package.json",
        "var/lib/dpkg/status.d/base",
    ];
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let path = PATHS[pick as usize % PATHS.len()];
    assert!(inventory::is_package_db(path), "{path}");
    let stash = vec![
        (path.to_string(), rest.to_vec()),
        (
            "etc/os-release".to_string(),
            b"ID=debian\nVERSION_ID=\"12\"\n".to_vec(),
        ),
    ];
    let (_, found) = inventory::os_packages("fuzz", &stash);
    let subject = pipeguard_sbom::Subject {
        name: "fuzz".into(),
        version: None,
    };
    let created = jiff::Timestamp::UNIX_EPOCH;
    let cdx = pipeguard_sbom::cyclonedx_at(&subject, &found, created);
    serde_json::to_vec(&cdx).expect("CycloneDX serializes");
}

/// The policy file, and what the commands build from it: the secrets
/// scanner (user regexes and globs) and the ignore matcher.
pub fn policy(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(policy) = Policy::parse(text, "pipeguard.toml") else {
        return;
    };
    let _ = pipeguard_secrets::Scanner::new(&policy.secrets, scratch());
    // Real findings (several rules, one path) for the ignores to match.
    static FINDINGS: OnceLock<Vec<Finding>> = OnceLock::new();
    let findings = FINDINGS.get_or_init(|| {
        pipeguard_container::audit_text(
            "docker/Dockerfile",
            "FROM ubuntu\nENV API_TOKEN=abc123def456ghi789\nRUN curl -k https://x | sh\n",
        )
        .unwrap_or_default()
    });
    let _ = policy.apply_ignores(findings.clone(), pipeguard_core::policy::today());
}

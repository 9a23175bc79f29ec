//! The image analyzer: an image from an OCI layout, a `docker save`
//! archive or (feature `registry`) a registry, checked for root, shells and
//! tools, setuid files, secrets in every layer (deleted files included) and
//! installed packages against the advisory database.

use std::path::Path;

use pipeguard_container::image::inventory::{final_versions, is_package_db, os_packages};
use pipeguard_core::{Outcome, Problem};
use pipeguard_secrets::Scanner;

use super::Scope;
use crate::common::{policy_base, usage};

/// Every image the profile names (`scan`), each a problem rather than an
/// error when it cannot be read, so the other analyzers' findings still count.
pub(crate) fn analyze(scope: &Scope, images: &[String]) -> anyhow::Result<Outcome> {
    let mut part = Outcome::default();
    if images.is_empty() {
        part.note = "no images in the profile".into();
        return Ok(part);
    }
    let base = policy_base(scope.policy, scope.root);
    for r in images {
        // Layout paths in the policy are relative to the policy file.
        let reference = match r.split_once(':') {
            Some((scheme @ ("oci" | "docker-archive"), rest)) if !Path::new(rest).is_absolute() => {
                format!("{scheme}:{}", base.join(rest).display())
            }
            _ => r.clone(),
        };
        match one(&reference, "linux/amd64", false, &scope.db, &scope.scanner) {
            Ok(o) => {
                part.files += o.files;
                part.bytes += o.bytes;
                pipeguard_core::report::add(&mut part.packages, o.packages);
                part.findings.extend(o.findings);
                part.problems.extend(o.problems);
            }
            Err(e) => {
                let why = format!("image not scanned: {e:#}");
                part.incomplete.push(format!("{r}: {why}"));
                part.problems.push(Problem {
                    path: r.clone(),
                    line: None,
                    message: why,
                });
            }
        }
    }
    part.note = format!("{} images", images.len());
    Ok(part)
}

/// Opens (or pulls) an image and runs every image check on it.
pub(crate) fn one(
    r: &str,
    platform: &str,
    plain_http: bool,
    db: &Path,
    scanner: &Scanner,
) -> anyhow::Result<Outcome> {
    use pipeguard_container::image as img;
    let pulled_dir;
    let image = if is_local_image(r) {
        open_image(r, platform)?
    } else {
        pulled_dir = pull_image(r, platform, plain_http)?;
        img::open_oci_layout(pulled_dir.path(), Some("pulled"), platform)
            .map_err(|e| usage(format!("{r}: {e}")))?
    };
    let limits = img::Limits::default();
    let name = r.to_string();
    // Secrets in every file of every layer, deleted and overwritten ones too.
    let mut files = 0u64;
    let mut bytes = 0u64;
    let mut findings: Vec<pipeguard_core::Finding> = Vec::new();
    // Files are copied into batches and scanned in parallel: decompressing
    // the layers is one sequential stream, matching is not. Each layer is
    // decompressed once: the view is built in the same pass, so whether a
    // file is deleted later is filled in at the end.
    let mut batch: Vec<(String, Vec<u8>)> = Vec::new();
    let mut batch_bytes = 0usize;
    let flush = |batch: &mut Vec<(String, Vec<u8>)>,
                 findings: &mut Vec<pipeguard_core::Finding>| {
        use rayon::prelude::*;
        let found: Vec<pipeguard_core::Finding> = batch
            .par_iter()
            .flat_map_iter(|(shown, content)| scanner.scan_bytes(shown, content).findings)
            .collect();
        findings.extend(found);
        batch.clear();
    };
    // Package databases, every version; the final ones are picked afterwards.
    let mut stash: Vec<(String, usize, Vec<u8>)> = Vec::new();
    let view = image.filesystem_visiting(&limits, |path, layer, content| {
        files += 1;
        bytes += content.len() as u64;
        if is_package_db(path) {
            stash.push((path.to_string(), layer, content.to_vec()));
        }
        if content[..content.len().min(8192)].contains(&0) {
            return;
        }
        batch_bytes += content.len();
        batch.push((format!("{name}//{path} (layer {layer})"), content.to_vec()));
        if batch_bytes > 8 * 1024 * 1024 {
            flush(&mut batch, &mut findings);
            batch_bytes = 0;
        }
    });
    flush(&mut batch, &mut findings);
    // Mark the secrets found in versions that a later layer removed.
    let prefix = format!("{name}//");
    for f in &mut findings {
        for l in &mut f.locations {
            let Some(rest) = l.path.strip_prefix(&prefix) else {
                continue;
            };
            let Some((path, layer)) = rest
                .strip_suffix(')')
                .and_then(|r| r.rsplit_once(" (layer "))
                .and_then(|(p, n)| n.parse::<usize>().ok().map(|n| (p.to_string(), n)))
            else {
                continue;
            };
            if view.is_deleted_later(&path, layer) {
                l.path = format!("{prefix}{path} (layer {layer}, deleted later)");
            }
        }
    }
    let stash = final_versions(&view, stash);
    let problem = |message: String| pipeguard_core::Problem {
        path: name.clone(),
        line: None,
        message,
    };
    let mut problems: Vec<pipeguard_core::Problem> =
        view.errors.iter().map(|e| problem(e.to_string())).collect();
    findings.extend(pipeguard_container::image_rules::findings(
        &name, &image, &view,
    ));

    // OS packages against the distro advisories.
    let (_, os_found) = os_packages(&name, &stash);
    let package_count: usize = os_found.iter().map(|f| f.lockfile.packages.len()).sum();
    if !os_found.is_empty() {
        match pipeguard_deps::db::Index::open(db) {
            Err(e) => problems.push(problem(format!("installed packages not checked: {e:#}"))),
            Ok(mut index) => {
                let ecos: Vec<pipeguard_deps::Ecosystem> = os_found
                    .iter()
                    .filter_map(|f| f.lockfile.kind.ecosystem())
                    .filter(|e| index.has(*e))
                    .collect();
                index.load_all(db, &ecos)?;
                let found = os_found;
                findings.extend(pipeguard_deps::scan::match_all(
                    &found,
                    &index,
                    &mut problems,
                ));
            }
        }
    }
    Ok(Outcome {
        findings,
        problems,
        files,
        bytes,
        packages: Some(package_count as u64),
        ..Outcome::default()
    })
}

/// Opens `oci:DIR[:TAG]`, `docker-archive:FILE`, or a path (a directory is an
/// OCI layout, a file a docker archive).
pub(crate) fn open_image(
    r: &str,
    platform: &str,
) -> anyhow::Result<pipeguard_container::image::Image> {
    use pipeguard_container::image as img;
    let opened = if let Some(rest) = r.strip_prefix("oci:") {
        let (dir, tag) = img::split_layout_ref(rest);
        img::open_oci_layout(&dir, tag.as_deref(), platform)
    } else if let Some(file) = r.strip_prefix("docker-archive:") {
        img::open_docker_archive(Path::new(file))
    } else if Path::new(r).is_dir() {
        img::open_oci_layout(Path::new(r), None, platform)
    } else if Path::new(r).is_file() {
        img::open_docker_archive(Path::new(r))
    } else {
        return Err(usage(format!(
            "{r}: not an OCI layout directory or docker-archive file (pulling from a registry is not supported yet; `skopeo copy docker://… oci:DIR:tag` first)"
        )));
    };
    opened.map_err(|e| usage(format!("{r}: {e}")))
}

/// `oci:`, `docker-archive:` or an existing path, as opposed to a registry reference.
fn is_local_image(r: &str) -> bool {
    r.starts_with("oci:") || r.starts_with("docker-archive:") || Path::new(r).exists()
}

/// Pulls a registry image into a temporary OCI layout (feature `registry`).
#[cfg(feature = "registry")]
fn pull_image(r: &str, platform: &str, plain_http: bool) -> anyhow::Result<tempfile::TempDir> {
    use anyhow::Context;
    let dir = tempfile::tempdir().context("cannot create a temporary directory")?;
    let opts = pipeguard_container::image::registry::PullOptions {
        plain_http,
        username: std::env::var("PIPEGUARD_REGISTRY_USERNAME").ok(),
        password: std::env::var("PIPEGUARD_REGISTRY_PASSWORD").ok(),
    };
    pipeguard_container::image::registry::pull(r, platform, dir.path(), &opts)
        .map_err(|e| usage(format!("{r}: {e}")))?;
    Ok(dir)
}

/// What a pull returns when registry support is compiled out: never built.
#[cfg(not(feature = "registry"))]
struct NoPull;

#[cfg(not(feature = "registry"))]
impl NoPull {
    fn path(&self) -> &Path {
        Path::new("")
    }
}

#[cfg(not(feature = "registry"))]
fn pull_image(r: &str, _platform: &str, _plain_http: bool) -> anyhow::Result<NoPull> {
    Err(usage(format!(
        "{r}: not an OCI layout or docker-archive, and this pipeguard was built without registry support (build with `--features registry`, or `skopeo copy docker://… oci:DIR:tag` first)"
    )))
}

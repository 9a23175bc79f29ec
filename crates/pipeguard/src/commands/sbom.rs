//! `pipeguard sbom`: a CycloneDX or SPDX SBOM of a tree's lockfiles or of
//! an image's installed packages.

use std::path::PathBuf;

use anyhow::Context;
use clap::Args;
use pipeguard_core::exit;

use pipeguard_container::image::inventory::{final_versions, is_package_db, os_packages};

use crate::analyze::image::open_image;
use crate::common::usage;
use crate::output;

#[derive(Args)]
pub struct SbomArgs {
    /// Directory whose lockfiles describe the software, or an image (`oci:DIR[:TAG]`, `docker-archive:FILE`) whose OS packages do.
    #[arg(default_value = ".")]
    path: PathBuf,
    /// SBOM format.
    #[arg(long, short = 'f', default_value = "cyclonedx", value_parser = ["cyclonedx", "spdx"])]
    format: String,
    /// Write to FILE instead of standard output.
    #[arg(long, short = 'o', value_name = "FILE")]
    output: Option<PathBuf>,
    /// Name of the described software (default: the directory's name).
    #[arg(long)]
    name: Option<String>,
}

pub fn run(a: SbomArgs) -> anyhow::Result<i32> {
    let arg = a.path.to_string_lossy().into_owned();
    // A lockfile (or SBOM) given by name describes the software; any other
    // file is a `docker save` archive.
    let is_lockfile = a.path.is_file()
        && a.path
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| pipeguard_deps::lockfile::Kind::detect(n).is_some());
    let is_image = arg.starts_with("oci:")
        || arg.starts_with("docker-archive:")
        || (a.path.is_file() && !is_lockfile)
        || a.path.join("oci-layout").is_file();
    let mut problems = Vec::new();
    let found = if is_image {
        // An image: its OS packages, read from the final layers.
        let image = open_image(&arg, "linux/amd64")?;
        let limits = pipeguard_container::image::Limits::default();
        // One pass: every version of the package databases, the final ones
        // picked once the view knows what later layers removed.
        let mut stash: Vec<(String, usize, Vec<u8>)> = Vec::new();
        let view = image.filesystem_visiting(&limits, |path, layer, content| {
            if is_package_db(path) {
                stash.push((path.to_string(), layer, content.to_vec()));
            }
        });
        for e in &view.errors {
            eprintln!("pipeguard: warning: {arg}: {e}");
        }
        let stash = final_versions(&view, stash);
        os_packages(&arg, &stash).1
    } else {
        if !a.path.is_dir() && !is_lockfile {
            return Err(usage(format!(
                "{}: not a directory or an image",
                a.path.display()
            )));
        }
        let mut bytes = 0;
        pipeguard_deps::scan::discover(&a.path, &mut problems, &mut bytes)
    };
    for p in &problems {
        let at = p.line.map(|l| format!(":{l}")).unwrap_or_default();
        eprintln!("pipeguard: warning: {}{at}: {}", p.path, p.message);
    }
    let name = a.name.clone().unwrap_or_else(|| {
        if is_image {
            return arg.clone();
        }
        std::fs::canonicalize(&a.path)
            .ok()
            .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
            .unwrap_or_else(|| "project".into())
    });
    let subject = pipeguard_sbom::Subject {
        name,
        version: None,
    };
    let doc = if a.format == "spdx" {
        pipeguard_sbom::spdx(&subject, &found)
    } else {
        pipeguard_sbom::cyclonedx(&subject, &found)
    };
    let mut text = serde_json::to_string_pretty(&doc)?;
    text.push('\n');
    match &a.output {
        Some(p) => {
            std::fs::write(p, text).with_context(|| format!("cannot write {}", p.display()))?
        }
        None => output::write_stdout(text.as_bytes())?,
    }
    Ok(exit::CLEAN)
}

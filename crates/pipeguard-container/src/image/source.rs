//! Finding the manifest, config and layers of an image in an OCI layout
//! directory or a `docker save` archive.

use std::collections::HashMap;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use serde_json::Value;

use super::layer::{normalize, sha256_hex};
use super::{Image, ImageConfig, ImageError, LayerRef, LayerSource};

/// Index, manifest and config documents are small; anything bigger is not
/// one of them and is not read into memory.
const MAX_JSON: u64 = 16 << 20;
/// Nested indexes deeper than this are a loop or an attack.
const MAX_DEPTH: usize = 8;

const INDEX_TYPES: [&str; 2] = [
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
];

/// Splits `dir:tag` into the layout directory and the tag, leaving a path
/// that exists as it is (a directory name may contain `:`).
pub fn split_layout_ref(s: &str) -> (PathBuf, Option<String>) {
    if Path::new(s).is_dir() {
        return (PathBuf::from(s), None);
    }
    match s.rsplit_once(':') {
        Some((dir, tag)) if !tag.contains('/') && !dir.is_empty() => {
            (PathBuf::from(dir), Some(tag.to_string()))
        }
        _ => (PathBuf::from(s), None),
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Platform {
    os: String,
    arch: String,
    variant: Option<String>,
}

fn parse_platform(s: &str) -> Platform {
    let mut parts = s.split('/');
    let os = parts.next().unwrap_or("linux").to_string();
    let arch = match parts.next().unwrap_or("amd64") {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        a => a,
    }
    .to_string();
    let variant = parts.next().map(str::to_string);
    Platform { os, arch, variant }
}

fn platform_matches(want: &Platform, os: &str, arch: &str, variant: Option<&str>) -> bool {
    want.os == os
        && want.arch == arch
        // Without a variant asked for, any variant of the arch will do.
        && want.variant.as_deref().is_none_or(|w| Some(w) == variant)
}

fn read_json_file(path: &Path) -> Result<(Vec<u8>, Value), ImageError> {
    let f = File::open(path).map_err(|e| ImageError::io(path.display().to_string(), e))?;
    let mut bytes = Vec::new();
    f.take(MAX_JSON + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| ImageError::io(path.display().to_string(), e))?;
    if bytes.len() as u64 > MAX_JSON {
        return Err(ImageError::Malformed(format!(
            "{} is larger than {MAX_JSON} bytes",
            path.display()
        )));
    }
    let v = serde_json::from_slice(&bytes)
        .map_err(|e| ImageError::Malformed(format!("{}: {e}", path.display())))?;
    Ok((bytes, v))
}

/// `blobs/<alg>/<hex>` for a digest, refusing anything that is not a plain
/// `alg:hex` so a digest cannot name a path outside the layout.
fn blob_path(dir: &Path, digest: &str) -> Result<PathBuf, ImageError> {
    let bad = || ImageError::Malformed(format!("invalid digest {digest:?}"));
    let (alg, hex) = digest.split_once(':').ok_or_else(bad)?;
    let alg_ok = !alg.is_empty()
        && alg
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "+._-".contains(c));
    let hex_ok = !hex.is_empty() && hex.chars().all(|c| c.is_ascii_hexdigit());
    if !alg_ok || !hex_ok {
        return Err(bad());
    }
    Ok(dir.join("blobs").join(alg).join(hex))
}

fn sha256_of(digest: &str) -> Option<String> {
    digest
        .strip_prefix("sha256:")
        .map(|h| h.to_ascii_lowercase())
}

/// Reads a small blob and checks it against its digest.
fn read_blob_json(dir: &Path, digest: &str) -> Result<(Vec<u8>, Value), ImageError> {
    let path = blob_path(dir, digest)?;
    let (bytes, v) = read_json_file(&path)?;
    verify(digest, &bytes)?;
    Ok((bytes, v))
}

fn verify(digest: &str, bytes: &[u8]) -> Result<(), ImageError> {
    if let Some(want) = sha256_of(digest) {
        let actual = sha256_hex(bytes);
        if actual != want {
            return Err(ImageError::DigestMismatch {
                what: format!("blob {digest}"),
                actual,
            });
        }
    }
    Ok(())
}

fn str_field<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key).and_then(Value::as_str)
}

struct Candidate {
    digest: String,
    manifest: Value,
    /// The platform from the descriptor that pointed at it, if any.
    platform: Option<(String, String, Option<String>)>,
}

fn descriptor_platform(d: &Value) -> Option<(String, String, Option<String>)> {
    let p = d.get("platform")?;
    Some((
        str_field(p, "os")?.to_string(),
        str_field(p, "architecture")?.to_string(),
        str_field(p, "variant").map(str::to_string),
    ))
}

fn is_index(media_type: Option<&str>, doc: &Value) -> bool {
    media_type.is_some_and(|m| INDEX_TYPES.contains(&m))
        || (doc.get("manifests").is_some() && doc.get("layers").is_none())
}

fn collect_manifests(
    dir: &Path,
    descriptors: &[Value],
    want: &Platform,
    depth: usize,
    out: &mut Vec<Candidate>,
) -> Result<(), ImageError> {
    if depth > MAX_DEPTH {
        return Err(ImageError::Malformed("indexes nested too deeply".into()));
    }
    for d in descriptors {
        let platform = descriptor_platform(d);
        if let Some((os, arch, variant)) = &platform
            && !platform_matches(want, os, arch, variant.as_deref())
        {
            continue;
        }
        let Some(digest) = str_field(d, "digest") else {
            continue;
        };
        let (_, doc) = read_blob_json(dir, digest)?;
        let media = str_field(d, "mediaType").or_else(|| str_field(&doc, "mediaType"));
        if is_index(media, &doc) {
            let nested = doc
                .get("manifests")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            collect_manifests(dir, &nested, want, depth + 1, out)?;
        } else {
            out.push(Candidate {
                digest: digest.to_string(),
                manifest: doc,
                platform,
            });
        }
    }
    Ok(())
}

fn ref_matches(annotation: &str, reference: &str) -> bool {
    annotation == reference
        || annotation
            .rsplit_once(':')
            .is_some_and(|(_, tag)| tag == reference && !tag.contains('/'))
}

/// Opens the image in an OCI layout, picking the manifest by tag (the
/// `org.opencontainers.image.ref.name` annotation) and by platform
/// (`os/arch[/variant]`, e.g. `linux/amd64`).
pub fn open_oci_layout(
    dir: &Path,
    reference: Option<&str>,
    platform: &str,
) -> Result<Image, ImageError> {
    if !dir.join("oci-layout").is_file() {
        return Err(ImageError::Malformed(format!(
            "{} is not an OCI layout (no oci-layout file)",
            dir.display()
        )));
    }
    let (_, index) = read_json_file(&dir.join("index.json"))?;
    let mut descriptors = index
        .get("manifests")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    if let Some(r) = reference {
        descriptors.retain(|d| {
            d.pointer("/annotations/org.opencontainers.image.ref.name")
                .and_then(Value::as_str)
                .is_some_and(|a| ref_matches(a, r))
        });
        if descriptors.is_empty() {
            return Err(ImageError::NotFound(format!(
                "no image tagged {r:?} in {}",
                dir.display()
            )));
        }
    }
    let want = parse_platform(platform);
    let mut candidates = Vec::new();
    collect_manifests(dir, &descriptors, &want, 0, &mut candidates)?;
    let mut chosen = None;
    // A layout holding one image without a platform on its descriptor is
    // what the user means whatever the platform asked: the caller can
    // compare `config.architecture` and say so.
    let only_one = candidates.len() == 1;
    for c in candidates {
        if c.platform.is_some() {
            chosen = Some((c, None));
            break;
        }
        // No platform on the descriptor: the config says.
        let config = load_config(dir, &c.manifest)?;
        if only_one
            || config.os.is_empty()
            || platform_matches(
                &want,
                &config.os,
                &config.architecture,
                config.variant.as_deref(),
            )
        {
            chosen = Some((c, Some(config)));
            break;
        }
    }
    let Some((c, config)) = chosen else {
        return Err(ImageError::NotFound(format!(
            "no {platform} image in {}",
            dir.display()
        )));
    };
    let config = match config {
        Some(cfg) => cfg,
        None => load_config(dir, &c.manifest)?,
    };
    let mut layers = Vec::new();
    for l in c
        .manifest
        .get("layers")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default()
    {
        let digest = str_field(l, "digest")
            .ok_or_else(|| ImageError::Malformed("layer without a digest".into()))?;
        layers.push(LayerRef {
            digest: digest.to_string(),
            media_type: str_field(l, "mediaType").map(str::to_string),
            source: LayerSource::Blob(blob_path(dir, digest)?),
            verify_sha256: sha256_of(digest),
        });
    }
    Ok(Image {
        config,
        layers,
        digest: Some(c.digest),
        config_digest: c
            .manifest
            .pointer("/config/digest")
            .and_then(Value::as_str)
            .map(str::to_string),
        repo_tags: Vec::new(),
    })
}

fn load_config(dir: &Path, manifest: &Value) -> Result<ImageConfig, ImageError> {
    let digest = manifest
        .pointer("/config/digest")
        .and_then(Value::as_str)
        .ok_or_else(|| ImageError::Malformed("manifest without a config".into()))?;
    let (_, v) = read_blob_json(dir, digest)?;
    Ok(parse_config(&v))
}

fn strings(v: Option<&Value>) -> Option<Vec<String>> {
    v.and_then(Value::as_array).map(|a| {
        a.iter()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect()
    })
}

/// The config fields findings use, leniently: a missing field is empty.
pub(crate) fn parse_config(v: &Value) -> ImageConfig {
    let c = v.get("config").or_else(|| v.get("container_config"));
    let field = |k: &str| c.and_then(|c| c.get(k));
    let mut exposed_ports: Vec<String> = field("ExposedPorts")
        .and_then(Value::as_object)
        .map(|m| m.keys().cloned().collect())
        .unwrap_or_default();
    exposed_ports.sort();
    ImageConfig {
        user: field("User").and_then(Value::as_str).map(str::to_string),
        env: strings(field("Env")).unwrap_or_default(),
        entrypoint: strings(field("Entrypoint")),
        cmd: strings(field("Cmd")),
        exposed_ports,
        history: v
            .get("history")
            .and_then(Value::as_array)
            .map(|h| {
                h.iter()
                    .map(|e| str_field(e, "created_by").unwrap_or_default().to_string())
                    .collect()
            })
            .unwrap_or_default(),
        os: str_field(v, "os").unwrap_or_default().to_string(),
        architecture: str_field(v, "architecture").unwrap_or_default().to_string(),
        variant: str_field(v, "variant").map(str::to_string),
    }
}

#[derive(Debug, Clone)]
struct ArchiveEntry {
    offset: u64,
    size: u64,
    /// Symlink target (relative to the entry's directory) or hardlink
    /// target (relative to the archive root).
    link: Option<(bool, String)>,
}

/// Entries of an outer tar cannot be this many in a real `docker save`.
const MAX_ARCHIVE_ENTRIES: usize = 1_000_000;

fn index_archive(path: &Path) -> Result<HashMap<String, ArchiveEntry>, ImageError> {
    let io = |e| ImageError::io(path.display().to_string(), e);
    let mut f = File::open(path).map_err(io)?;
    let mut magic = [0u8; 2];
    let n = f.read(&mut magic).map_err(io)?;
    if n == 2 && magic == [0x1f, 0x8b] {
        return Err(ImageError::Malformed(format!(
            "{} is gzip-compressed; decompress it first (gunzip)",
            path.display()
        )));
    }
    f.seek(SeekFrom::Start(0)).map_err(io)?;
    let mut archive = tar::Archive::new(f);
    let mut out = HashMap::new();
    let bad = |e: std::io::Error| {
        ImageError::Malformed(format!(
            "{}: not a readable tar: {}",
            path.display(),
            super::layer::tar_error(&e)
        ))
    };
    for entry in archive.entries().map_err(bad)? {
        let entry = entry.map_err(bad)?;
        if out.len() >= MAX_ARCHIVE_ENTRIES {
            return Err(ImageError::Malformed(format!(
                "{} has too many entries",
                path.display()
            )));
        }
        let raw = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
        let Some(name) = normalize(&raw) else {
            continue;
        };
        let link = match entry.header().entry_type() {
            tar::EntryType::Symlink | tar::EntryType::Link => entry.link_name_bytes().map(|b| {
                (
                    entry.header().entry_type() == tar::EntryType::Symlink,
                    String::from_utf8_lossy(&b).into_owned(),
                )
            }),
            _ => None,
        };
        out.insert(
            name,
            ArchiveEntry {
                offset: entry.raw_file_position(),
                size: entry.size(),
                link,
            },
        );
    }
    Ok(out)
}

/// Follows links between entries of the outer tar (older `docker save`
/// links identical layers to one another).
fn find_entry<'a>(
    entries: &'a HashMap<String, ArchiveEntry>,
    name: &str,
) -> Result<(String, &'a ArchiveEntry), ImageError> {
    let mut name = normalize(name)
        .ok_or_else(|| ImageError::Malformed(format!("invalid path {name:?} in archive")))?;
    for _ in 0..8 {
        let e = entries
            .get(&name)
            .ok_or_else(|| ImageError::Malformed(format!("{name} is missing from the archive")))?;
        match &e.link {
            None => return Ok((name, e)),
            Some((symlink, target)) => {
                let joined = match (symlink, name.rsplit_once('/')) {
                    (true, Some((parent, _))) if !target.starts_with('/') => {
                        format!("{parent}/{target}")
                    }
                    _ => target.clone(),
                };
                name = resolve_dots(&joined).ok_or_else(|| {
                    ImageError::Malformed(format!("link {target:?} leaves the archive"))
                })?;
            }
        }
    }
    Err(ImageError::Malformed(format!("too many links at {name}")))
}

fn resolve_dots(p: &str) -> Option<String> {
    let mut parts: Vec<&str> = Vec::new();
    for c in p.split('/') {
        match c {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            c => parts.push(c),
        }
    }
    Some(parts.join("/"))
}

fn read_range(path: &Path, e: &ArchiveEntry) -> Result<Vec<u8>, ImageError> {
    if e.size > MAX_JSON {
        return Err(ImageError::Malformed(format!(
            "a metadata file of {} is larger than {MAX_JSON} bytes",
            path.display()
        )));
    }
    let io = |err| ImageError::io(path.display().to_string(), err);
    let mut f = File::open(path).map_err(io)?;
    f.seek(SeekFrom::Start(e.offset)).map_err(io)?;
    let mut buf = Vec::new();
    f.take(e.size).read_to_end(&mut buf).map_err(io)?;
    Ok(buf)
}

/// `sha256:<hex>` from `blobs/sha256/<hex>` or `<hex>.json`/`<hex>/layer.tar`.
fn digest_from_name(name: &str) -> Option<String> {
    let hex = match name.strip_prefix("blobs/sha256/") {
        Some(h) => h,
        None => name.strip_suffix(".json")?,
    };
    (hex.len() == 64 && hex.chars().all(|c| c.is_ascii_hexdigit())).then(|| format!("sha256:{hex}"))
}

/// Opens the first image of a `docker save` archive (uncompressed tar).
/// Layers are read in place from the archive, never extracted.
pub fn open_docker_archive(tar_path: &Path) -> Result<Image, ImageError> {
    let entries = index_archive(tar_path)?;
    let (_, m) = find_entry(&entries, "manifest.json")?;
    let manifest: Value = serde_json::from_slice(&read_range(tar_path, m)?)
        .map_err(|e| ImageError::Malformed(format!("manifest.json: {e}")))?;
    let first = manifest
        .as_array()
        .and_then(|a| a.first())
        .ok_or_else(|| ImageError::NotFound("manifest.json lists no image".into()))?;
    let config_name = str_field(first, "Config")
        .ok_or_else(|| ImageError::Malformed("manifest.json entry without Config".into()))?;
    let (config_name, config_entry) = find_entry(&entries, config_name)?;
    let config_bytes = read_range(tar_path, config_entry)?;
    let config_digest = digest_from_name(&config_name);
    if let Some(d) = &config_digest {
        verify(d, &config_bytes)?;
    }
    let config_json: Value = serde_json::from_slice(&config_bytes)
        .map_err(|e| ImageError::Malformed(format!("{config_name}: {e}")))?;
    let diff_ids = strings(config_json.pointer("/rootfs/diff_ids")).unwrap_or_default();
    let mut layers = Vec::new();
    for (i, name) in strings(first.get("Layers"))
        .unwrap_or_default()
        .iter()
        .enumerate()
    {
        let (resolved, e) = find_entry(&entries, name)?;
        let from_name = resolved
            .strip_prefix("blobs/sha256/")
            .map(|h| format!("sha256:{h}"));
        let digest = from_name
            .clone()
            .or_else(|| diff_ids.get(i).cloned())
            .unwrap_or_else(|| resolved.clone());
        layers.push(LayerRef {
            digest,
            media_type: None,
            source: LayerSource::ArchiveRange {
                archive: tar_path.to_path_buf(),
                offset: e.offset,
                size: e.size,
            },
            verify_sha256: from_name.as_deref().and_then(sha256_of),
        });
    }
    // Newer `docker save` also writes an OCI index: its single manifest is
    // the digest a registry would show.
    let digest = entries
        .get("index.json")
        .and_then(|e| read_range(tar_path, e).ok())
        .and_then(|b| serde_json::from_slice::<Value>(&b).ok())
        .and_then(|v| {
            let ms = v.get("manifests")?.as_array()?;
            match ms.as_slice() {
                [one] => str_field(one, "digest").map(str::to_string),
                _ => None,
            }
        });
    Ok(Image {
        config: parse_config(&config_json),
        layers,
        digest,
        config_digest,
        repo_tags: strings(first.get("RepoTags")).unwrap_or_default(),
    })
}

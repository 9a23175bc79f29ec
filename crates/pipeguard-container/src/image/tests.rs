#![allow(clippy::unwrap_used)]

use std::io::Write;
use std::path::{Path, PathBuf};

use flate2::Compression;
use flate2::write::GzEncoder;
use serde_json::json;

use super::layer::sha256_hex;
use super::*;

/// One tar entry to write. Names are written raw into the header so that
/// hostile paths (`../x`, `/x`) can be built, which `tar::Builder` refuses.
enum E<'a> {
    File(&'a str, &'a [u8], u32),
    Dir(&'a str),
    Symlink(&'a str, &'a str),
    Hardlink(&'a str, &'a str),
}

fn raw_header(name: &str, kind: tar::EntryType, size: u64, mode: u32, link: &str) -> tar::Header {
    let mut h = tar::Header::new_ustar();
    {
        let old = h.as_old_mut();
        old.name[..name.len()].copy_from_slice(name.as_bytes());
        old.linkname[..link.len()].copy_from_slice(link.as_bytes());
    }
    h.set_entry_type(kind);
    h.set_size(size);
    h.set_mode(mode);
    h.set_uid(0);
    h.set_gid(0);
    h.set_mtime(0);
    h.set_cksum();
    h
}

fn tar_of(entries: &[E<'_>]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for e in entries {
        let (h, data): (tar::Header, &[u8]) = match e {
            E::File(p, d, mode) => (
                raw_header(p, tar::EntryType::Regular, d.len() as u64, *mode, ""),
                d,
            ),
            E::Dir(p) => (raw_header(p, tar::EntryType::Directory, 0, 0o755, ""), &[]),
            E::Symlink(p, t) => (raw_header(p, tar::EntryType::Symlink, 0, 0o777, t), &[]),
            E::Hardlink(p, t) => (raw_header(p, tar::EntryType::Link, 0, 0o644, t), &[]),
        };
        b.append(&h, data).unwrap();
    }
    b.into_inner().unwrap()
}

fn gz(bytes: &[u8]) -> Vec<u8> {
    let mut e = GzEncoder::new(Vec::new(), Compression::fast());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

/// An OCI layout written the way tools write it: blobs named by their
/// sha256, an index, manifests and configs.
struct Layout {
    dir: tempfile::TempDir,
}

impl Layout {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("blobs/sha256")).unwrap();
        std::fs::write(
            dir.path().join("oci-layout"),
            r#"{"imageLayoutVersion":"1.0.0"}"#,
        )
        .unwrap();
        Layout { dir }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn blob(&self, bytes: &[u8]) -> serde_json::Value {
        let hex = sha256_hex(bytes);
        std::fs::write(self.path().join("blobs/sha256").join(&hex), bytes).unwrap();
        json!({"digest": format!("sha256:{hex}"), "size": bytes.len()})
    }

    fn manifest(&self, config: &serde_json::Value, layers: &[Vec<u8>]) -> serde_json::Value {
        let mut c = self.blob(config.to_string().as_bytes());
        c["mediaType"] = json!("application/vnd.oci.image.config.v1+json");
        let layers: Vec<_> = layers
            .iter()
            .map(|l| {
                let mut d = self.blob(l);
                d["mediaType"] = json!("application/vnd.oci.image.layer.v1.tar+gzip");
                d
            })
            .collect();
        let m = json!({"schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": c, "layers": layers});
        let mut d = self.blob(m.to_string().as_bytes());
        d["mediaType"] = json!("application/vnd.oci.image.manifest.v1+json");
        d
    }

    fn index(&self, manifests: Vec<serde_json::Value>) {
        let idx = json!({"schemaVersion": 2, "manifests": manifests});
        std::fs::write(self.path().join("index.json"), idx.to_string()).unwrap();
    }
}

fn config(user: &str, env: &[&str]) -> serde_json::Value {
    json!({
        "os": "linux", "architecture": "amd64",
        "config": {"User": user, "Env": env, "Cmd": ["/app"], "ExposedPorts": {"8080/tcp": {}}},
        "history": [{"created_by": "ADD rootfs /"}, {"created_by": "RUN rm /etc/secret.env"}]
    })
}

/// A single-manifest layout of the given layers.
fn simple_image(layers: &[Vec<u8>]) -> (Layout, Image) {
    let l = Layout::new();
    let m = l.manifest(&config("", &[]), layers);
    l.index(vec![m]);
    let img = open_oci_layout(l.path(), None, "linux/amd64").unwrap();
    (l, img)
}

fn visit_all(img: &Image, view: &FsView) -> Vec<(String, usize, bool, Vec<u8>)> {
    let mut seen = Vec::new();
    let errors = img.visit_files(view, &Limits::default(), |p, l, d, c| {
        seen.push((p.to_string(), l, d, c.to_vec()))
    });
    assert!(errors.is_empty(), "{errors:?}");
    seen
}

#[test]
fn whiteouts_delete_and_opaque_dirs_hide_lower_files() {
    let base = gz(&tar_of(&[
        E::Dir("etc/"),
        E::File("etc/keep", b"keep", 0o644),
        E::File("etc/secret.env", b"AWS_SECRET_ACCESS_KEY=abc", 0o600),
        E::Dir("opt/app/"),
        E::File("opt/app/a", b"a", 0o644),
        E::File("opt/app/sub/b", b"b", 0o644),
        E::Dir("var/cache/"),
        E::File("var/cache/x", b"x", 0o644),
    ]));
    let top = gz(&tar_of(&[
        // A file written in the same layer as an opaque marker survives it.
        E::File("opt/app/c", b"c", 0o644),
        E::File("etc/.wh.secret.env", b"", 0o644),
        E::File("opt/app/.wh..wh..opq", b"", 0o644),
        E::File(".wh.var", b"", 0o644),
        E::File("etc/keep", b"keep2", 0o644),
    ]));
    let (_l, img) = simple_image(&[base, top]);
    let view = img.filesystem(&Limits::default());
    assert!(view.errors.is_empty(), "{:?}", view.errors);
    let keys: Vec<&str> = view.files.keys().map(String::as_str).collect();
    assert_eq!(keys, ["etc", "etc/keep", "opt/app", "opt/app/c"]);
    assert_eq!(view.get("/etc/keep").unwrap().layer, 1);

    let gone = |p: &str| view.deleted.iter().find(|d| d.path == p).unwrap().how;
    assert_eq!(gone("etc/secret.env"), Removal::Whiteout);
    assert_eq!(gone("opt/app/a"), Removal::Opaque);
    assert_eq!(gone("opt/app/sub/b"), Removal::Opaque);
    assert_eq!(gone("var/cache/x"), Removal::Whiteout);
    assert_eq!(gone("etc/keep"), Removal::Overwritten);

    let seen = visit_all(&img, &view);
    let secret = seen.iter().find(|s| s.0 == "etc/secret.env").unwrap();
    assert_eq!((secret.1, secret.2), (0, true));
    assert_eq!(secret.3, b"AWS_SECRET_ACCESS_KEY=abc");
    let c = seen.iter().find(|s| s.0 == "opt/app/c").unwrap();
    assert!(!c.2);
    let keeps: Vec<(usize, bool)> = seen
        .iter()
        .filter(|s| s.0 == "etc/keep")
        .map(|s| (s.1, s.2))
        .collect();
    assert_eq!(keeps, [(0, true), (1, false)]);
    // Whiteout markers are not files of the image.
    assert!(!seen.iter().any(|s| s.0.contains(".wh.")));
}

#[test]
fn hostile_paths_never_escape_the_root() {
    let layer = tar_of(&[
        E::File("../evil", b"x", 0o644),
        E::File("a/../../b", b"x", 0o644),
        E::File("/abs/file", b"abs", 0o644),
        E::File("./dot/file", b"dot", 0o644),
        E::File("etc/passwd", b"root:x:0:0", 0o644),
        E::Symlink("link", "../../etc/passwd"),
        E::Symlink("loop1", "loop2"),
        E::Symlink("loop2", "loop1"),
        E::Hardlink("hard", "../../etc/shadow"),
    ]);
    let (_l, img) = simple_image(&[layer]);
    let view = img.filesystem(&Limits::default());
    assert!(view.errors.is_empty(), "{:?}", view.errors);
    assert!(view.files.keys().all(|k| !k.split('/').any(|c| c == "..")));
    assert!(view.files.contains_key("abs/file"));
    assert!(view.files.contains_key("dot/file"));
    assert_eq!(view.unsafe_paths, ["../evil", "a/../../b"]);
    // Recorded as written, and resolved only inside the view.
    assert_eq!(
        view.get("link").unwrap().kind,
        FileKind::Symlink("../../etc/passwd".into())
    );
    assert_eq!(view.resolve("/link").as_deref(), Some("etc/passwd"));
    assert_eq!(view.resolve("loop1"), None);
    assert_eq!(
        view.get("hard").unwrap().kind,
        FileKind::Hardlink(String::new())
    );
    let via_link = img.read_file(&view, "/link", &Limits::default()).unwrap();
    assert_eq!(via_link.as_deref(), Some(&b"root:x:0:0"[..]));
    assert_eq!(
        img.read_file(&view, "hard", &Limits::default()).unwrap(),
        None
    );
}

#[test]
fn gzip_bomb_hits_the_layer_cap() {
    let zeros = vec![0u8; 32 << 20];
    let bomb = gz(&tar_of(&[E::File("zeros", &zeros, 0o644)]));
    assert!(bomb.len() < 1 << 20);
    let digest = format!("sha256:{}", sha256_hex(&bomb));
    let (_l, img) = simple_image(&[bomb]);
    let limits = Limits {
        max_layer_bytes: 1 << 20,
        ..Limits::default()
    };
    let view = img.filesystem(&limits);
    assert_eq!(view.errors.len(), 1);
    let e = &view.errors[0];
    assert!(matches!(e, ImageError::LayerTooLarge { .. }), "{e}");
    assert_eq!(e.layer(), Some(digest.as_str()));
    assert!(e.to_string().contains("decompression bomb"));
}

#[test]
fn too_many_entries_is_an_error() {
    let names: Vec<String> = (0..20).map(|i| format!("f{i}")).collect();
    let entries: Vec<E<'_>> = names.iter().map(|n| E::File(n, b"", 0o644)).collect();
    let (_l, img) = simple_image(&[tar_of(&entries)]);
    let limits = Limits {
        max_entries: 10,
        ..Limits::default()
    };
    let view = img.filesystem(&limits);
    assert!(matches!(
        view.errors.as_slice(),
        [ImageError::TooManyEntries { limit: 10, .. }]
    ));
}

#[test]
fn corrupt_gzip_names_the_layer_and_others_still_apply() {
    let good0 = gz(&tar_of(&[E::File("a", b"a", 0o644)]));
    let big: Vec<u8> = (0..200_000u32).flat_map(|i| i.to_le_bytes()).collect();
    let full = gz(&tar_of(&[E::File("big", &big, 0o644)]));
    let truncated = full[..full.len() / 2].to_vec();
    let bad_digest = format!("sha256:{}", sha256_hex(&truncated));
    let good2 = gz(&tar_of(&[E::File("c", b"c", 0o644)]));
    let (_l, img) = simple_image(&[good0, truncated, good2]);
    let view = img.filesystem(&Limits::default());
    assert_eq!(view.errors.len(), 1);
    let e = &view.errors[0];
    assert!(matches!(e, ImageError::Layer { .. }), "{e}");
    assert_eq!(e.layer(), Some(bad_digest.as_str()));
    assert!(e.to_string().contains(&bad_digest));
    assert!(view.files.contains_key("a") && view.files.contains_key("c"));
    let errors = img.visit_files(&view, &Limits::default(), |_, _, _, _| {});
    assert_eq!(errors.len(), 1);
}

#[test]
fn tampered_blob_is_a_digest_mismatch() {
    let layer = gz(&tar_of(&[E::File("a", b"a", 0o644)]));
    let hex = sha256_hex(&layer);
    let (l, img) = simple_image(&[layer]);
    let forged = gz(&tar_of(&[E::File("a", b"evil", 0o644)]));
    std::fs::write(l.path().join("blobs/sha256").join(&hex), forged).unwrap();
    let view = img.filesystem(&Limits::default());
    assert!(
        matches!(view.errors.as_slice(), [ImageError::DigestMismatch { .. }]),
        "{:?}",
        view.errors
    );
}

#[test]
fn zstd_layers_with_several_frames_are_read() {
    let tar = tar_of(&[
        E::File("etc/a", &[b'a'; 3000], 0o644),
        E::File("etc/b", b"bee", 0o644),
    ]);
    let (first, second) = tar.split_at(1500);
    let level = ruzstd::encoding::CompressionLevel::Fastest;
    let mut zst = ruzstd::encoding::compress_to_vec(first, level);
    // A skippable frame, as zstd:chunked writes its metadata in.
    zst.extend([0x50, 0x2a, 0x4d, 0x18, 3, 0, 0, 0, 1, 2, 3]);
    zst.extend(ruzstd::encoding::compress_to_vec(second, level));
    let (_l, img) = simple_image(&[zst]);
    let view = img.filesystem(&Limits::default());
    assert!(view.errors.is_empty(), "{:?}", view.errors);
    let b = img.read_file(&view, "etc/b", &Limits::default()).unwrap();
    assert_eq!(b.as_deref(), Some(&b"bee"[..]));

    // Cut inside the last frame: an error naming the layer.
    let full = ruzstd::encoding::compress_to_vec(&tar[..], level);
    let cut = full[..full.len() - 8].to_vec();
    let digest = format!("sha256:{}", sha256_hex(&cut));
    let (_l, img) = simple_image(&[cut]);
    let view = img.filesystem(&Limits::default());
    assert_eq!(view.errors.len(), 1, "{:?}", view.errors);
    assert_eq!(view.errors[0].layer(), Some(digest.as_str()));
}

#[test]
fn unsupported_compression_names_the_layer() {
    let xz = vec![0xfd, b'7', b'z', b'X', b'Z', 0, 0, 0];
    let digest = format!("sha256:{}", sha256_hex(&xz));
    let ok = gz(&tar_of(&[E::File("a", b"a", 0o644)]));
    let (_l, img) = simple_image(&[xz, ok]);
    let view = img.filesystem(&Limits::default());
    let [e] = view.errors.as_slice() else {
        panic!("{:?}", view.errors)
    };
    assert!(matches!(e, ImageError::UnsupportedCompression { .. }));
    assert!(e.to_string().contains(&digest) && e.to_string().contains("xz"));
    assert!(view.files.contains_key("a"));
}

const DPKG_STATUS: &str = "\
Package: libc6
Status: install ok installed
Priority: optional
Architecture: amd64
Source: glibc (2.36-9+deb12u4)
Version: 2.36-9+deb12u4
Description: GNU C Library
 continuation line: with a colon

Package: removed
Status: deinstall ok config-files
Architecture: amd64
Version: 1.0

Package: libssl3
Status: install ok installed
Architecture: amd64
Source: openssl
Version: 3.0.11-1~deb12u2
";

#[test]
fn dpkg_status_keeps_installed_packages_with_sources() {
    let pkgs = parse_dpkg_status(DPKG_STATUS, "Debian", "12");
    assert_eq!(pkgs.len(), 2);
    assert_eq!(pkgs[0].name, "libc6");
    assert_eq!(pkgs[0].version, "2.36-9+deb12u4");
    assert_eq!(
        (
            pkgs[0].source_name.as_str(),
            pkgs[0].source_version.as_str()
        ),
        ("glibc", "2.36-9+deb12u4")
    );
    assert_eq!(pkgs[0].architecture.as_deref(), Some("amd64"));
    assert_eq!(
        (
            pkgs[1].source_name.as_str(),
            pkgs[1].source_version.as_str()
        ),
        ("openssl", "3.0.11-1~deb12u2")
    );
    assert_eq!(pkgs[1].release, "12");
}

#[test]
fn apk_installed_db_parses() {
    let db = "C:Q1abc=\nP:musl\nV:1.2.4-r2\nA:x86_64\no:musl\n\nP:libcrypto3\nV:3.1.4-r1\nA:x86_64\no:openssl\nF:lib\nR:libcrypto.so.3\n";
    let pkgs = parse_apk_installed(db, "3.19.0");
    assert_eq!(pkgs.len(), 2);
    assert_eq!(pkgs[1].name, "libcrypto3");
    assert_eq!(pkgs[1].source_name, "openssl");
    assert_eq!(pkgs[1].source_version, "3.1.4-r1");
    assert_eq!(pkgs[1].ecosystem, "Alpine");
    assert_eq!(pkgs[0].architecture.as_deref(), Some("x86_64"));
}

#[test]
fn os_release_parses() {
    let r = parse_os_release(
        "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nNAME=\"Debian GNU/Linux\"\nVERSION_ID=\"12\"\nVERSION_CODENAME=bookworm\nID=debian\n# comment\n",
    );
    assert_eq!(r.id, "debian");
    assert_eq!(r.version_id.as_deref(), Some("12"));
    assert_eq!(r.version_codename.as_deref(), Some("bookworm"));
    assert_eq!(r.release(), "12");
    let sid = parse_os_release("ID='debian'\nVERSION_CODENAME=trixie\n");
    assert_eq!(sid.release(), "trixie");
}

/// A Debian-like rootfs with merged /usr, a setuid binary and packages.
fn debian_layers() -> Vec<Vec<u8>> {
    let base = gz(&tar_of(&[
        E::Symlink("bin", "usr/bin"),
        E::Dir("usr/bin/"),
        E::File("usr/bin/dash", b"ELF", 0o755),
        E::Symlink("usr/bin/sh", "dash"),
        E::File("usr/bin/bash", b"ELF", 0o755),
        E::File("usr/bin/passwd", b"ELF", 0o4755),
        E::Hardlink("usr/bin/dpkg", "usr/bin/bash"),
        E::Symlink("usr/bin/wget", "/nowhere/wget"),
        E::File(
            "usr/lib/os-release",
            b"ID=debian\nVERSION_ID=\"12\"\n",
            0o644,
        ),
        E::Symlink("etc/os-release", "../usr/lib/os-release"),
        E::File("var/lib/dpkg/status", DPKG_STATUS.as_bytes(), 0o644),
    ]));
    let app = gz(&tar_of(&[
        E::File("usr/local/bin/curl", b"ELF", 0o755),
        E::File(
            "var/lib/dpkg/status.d/tzdata",
            b"Package: tzdata\nVersion: 2024a-0+deb12u1\nArchitecture: all\n",
            0o644,
        ),
        E::File("var/lib/dpkg/status.d/tzdata.md5sums", b"abc  x\n", 0o644),
    ]));
    vec![base, app]
}

#[test]
fn oci_layout_picks_tag_and_platform_through_nested_index() {
    let l = Layout::new();
    let amd = l.manifest(
        &config(
            "",
            &["PATH=/usr/bin", "DB_PASSWORD=hunter2", "TOKEN_FILE=/run/t"],
        ),
        &debian_layers(),
    );
    let mut arm_cfg = config("1000", &[]);
    arm_cfg["architecture"] = json!("arm64");
    let arm = l.manifest(&arm_cfg, &[gz(&tar_of(&[E::File("arm", b"", 0o644)]))]);
    let mut amd_d = amd.clone();
    amd_d["platform"] = json!({"os": "linux", "architecture": "amd64"});
    let mut arm_d = arm;
    arm_d["platform"] = json!({"os": "linux", "architecture": "arm64", "variant": "v8"});
    let nested = json!({"schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": [arm_d, amd_d]});
    let mut nested_d = l.blob(nested.to_string().as_bytes());
    nested_d["mediaType"] = json!("application/vnd.oci.image.index.v1+json");
    nested_d["annotations"] = json!({"org.opencontainers.image.ref.name": "v1"});
    let other = l.manifest(&config("0", &[]), &[]);
    let mut other_d = other;
    other_d["annotations"] = json!({"org.opencontainers.image.ref.name": "other"});
    l.index(vec![other_d, nested_d]);

    let img = open_oci_layout(l.path(), Some("v1"), "linux/amd64").unwrap();
    assert_eq!(img.digest.as_deref(), amd["digest"].as_str());
    assert_eq!(img.config.exposed_ports, ["8080/tcp"]);
    assert_eq!(img.config.history.len(), 2);
    let arm = open_oci_layout(l.path(), Some("v1"), "linux/arm64").unwrap();
    assert_eq!(arm.config.architecture, "arm64");
    assert_eq!(arm.config.user.as_deref(), Some("1000"));
    assert!(!runs_as_root(&arm.config));
    let other = open_oci_layout(l.path(), Some("other"), "linux/amd64").unwrap();
    assert!(runs_as_root(&other.config));
    assert!(matches!(
        open_oci_layout(l.path(), Some("nope"), "linux/amd64"),
        Err(ImageError::NotFound(_))
    ));
    assert!(matches!(
        open_oci_layout(l.path(), Some("v1"), "linux/s390x"),
        Err(ImageError::NotFound(_))
    ));

    check_debian_image(&img);
    assert_eq!(sensitive_env(&img.config), ["DB_PASSWORD"]);
}

fn check_debian_image(img: &Image) {
    assert!(runs_as_root(&img.config));
    let view = img.filesystem(&Limits::default());
    assert!(view.errors.is_empty(), "{:?}", view.errors);
    let tools = present_tools(&view);
    let names: Vec<&str> = tools.iter().map(|(p, _)| p.as_str()).collect();
    // /bin is a symlink to usr/bin: each tool once, under its first path;
    // wget points outside the image and does not count.
    assert_eq!(
        names,
        [
            "bin/sh",
            "bin/bash",
            "bin/dash",
            "bin/dpkg",
            "usr/local/bin/curl"
        ]
    );
    assert!(tools.contains(&("usr/local/bin/curl".into(), ToolKind::Network)));
    assert!(tools.contains(&("bin/dpkg".into(), ToolKind::PackageManager)));
    let suid: Vec<String> = setuid_files(&view).into_iter().map(|(p, _)| p).collect();
    assert_eq!(suid, ["usr/bin/passwd"]);

    let (release, pkgs, errors) = img.os_packages(&view, &Limits::default());
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(release.unwrap().release(), "12");
    let names: Vec<&str> = pkgs.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["libc6", "libssl3", "tzdata"]);
    assert!(
        pkgs.iter()
            .all(|p| p.ecosystem == "Debian" && p.release == "12")
    );
}

fn docker_archive(dir: &Path, layers: &[Vec<u8>], cfg: &serde_json::Value) -> PathBuf {
    let cfg_bytes = cfg.to_string();
    let cfg_name = format!("{}.json", sha256_hex(cfg_bytes.as_bytes()));
    let mut b = tar::Builder::new(Vec::new());
    let add = |b: &mut tar::Builder<Vec<u8>>, name: &str, data: &[u8]| {
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        h.set_cksum();
        b.append_data(&mut h, name, data).unwrap();
    };
    add(&mut b, &cfg_name, cfg_bytes.as_bytes());
    let mut names = Vec::new();
    // The old layout for the first layer, the blob layout for the rest.
    for (i, l) in layers.iter().enumerate() {
        let name = if i == 0 {
            "0123abcd/layer.tar".to_string()
        } else {
            format!("blobs/sha256/{}", sha256_hex(l))
        };
        add(&mut b, &name, l);
        names.push(name);
    }
    // Older `docker save` links a repeated layer to the first copy.
    let mut h = tar::Header::new_gnu();
    h.set_entry_type(tar::EntryType::Symlink);
    h.set_size(0);
    h.set_cksum();
    b.append_link(&mut h, "dup/layer.tar", "../0123abcd/layer.tar")
        .unwrap();
    let manifest = json!([{"Config": cfg_name, "RepoTags": ["app:1"], "Layers": names}]);
    add(&mut b, "manifest.json", manifest.to_string().as_bytes());
    let path = dir.join("image.tar");
    std::fs::write(&path, b.into_inner().unwrap()).unwrap();
    path
}

#[test]
fn docker_archive_reads_layers_in_place() {
    let dir = tempfile::tempdir().unwrap();
    let mut layers = debian_layers();
    // The first layer uncompressed, as old `docker save` wrote them.
    let plain = tar_of(&[E::File("plain", b"p", 0o644)]);
    layers.insert(0, plain);
    let cfg = config("root:root", &["API_KEY=k", "EMPTY_SECRET="]);
    let path = docker_archive(dir.path(), &layers, &cfg);
    let img = open_docker_archive(&path).unwrap();
    assert_eq!(img.layers.len(), 3);
    assert_eq!(img.repo_tags, ["app:1"]);
    assert_eq!(
        img.config_digest,
        Some(format!("sha256:{}", sha256_hex(cfg.to_string().as_bytes())))
    );
    assert_eq!(sensitive_env(&img.config), ["API_KEY"]);
    check_debian_image(&img);
    let view = img.filesystem(&Limits::default());
    assert_eq!(view.get("plain").unwrap().layer, 0);

    // The symlinked layer entry resolves to the first copy.
    let mut raw = std::fs::read(&path).unwrap();
    let m = json!([{"Config": format!("{}.json", sha256_hex(cfg.to_string().as_bytes())),
        "Layers": ["dup/layer.tar"]}]);
    let dup = dir.path().join("dup.tar");
    let mut b = tar::Builder::new(Vec::new());
    let mut h = tar::Header::new_gnu();
    let ms = m.to_string();
    h.set_size(ms.len() as u64);
    h.set_cksum();
    b.append_data(&mut h, "manifest.json", ms.as_bytes())
        .unwrap();
    // Drop the old archive's end-of-archive blocks so it can be extended.
    raw.truncate(raw.len() - 1024);
    while raw.ends_with(&[0u8; 512]) {
        raw.truncate(raw.len() - 512);
    }
    raw.extend(b.into_inner().unwrap());
    std::fs::write(&dup, raw).unwrap();
    let img = open_docker_archive(&dup).unwrap();
    let view = img.filesystem(&Limits::default());
    assert!(view.files.contains_key("plain"));
}

#[test]
fn gzipped_docker_archive_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("image.tar.gz");
    std::fs::write(&path, gz(b"whatever")).unwrap();
    let e = open_docker_archive(&path).unwrap_err();
    assert!(e.to_string().contains("gunzip"), "{e}");
}

#[test]
fn layout_ref_splits_tag() {
    let (dir, tag) = split_layout_ref("/nonexistent/layout:v1");
    assert_eq!(dir, PathBuf::from("/nonexistent/layout"));
    assert_eq!(tag.as_deref(), Some("v1"));
    assert_eq!(split_layout_ref("layout").1, None);
}

#[test]
fn umoci_built_layout_reads_packages() {
    let which = std::process::Command::new("umoci")
        .arg("--version")
        .output();
    if !which.is_ok_and(|o| o.status.success()) {
        eprintln!("umoci not installed: skipping");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let layout = tmp.path().join("layout");
    let bundle = tmp.path().join("bundle");
    let run = |args: &[&str]| {
        let out = std::process::Command::new("umoci")
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "umoci {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    let layout_s = layout.to_str().unwrap();
    let bundle_s = bundle.to_str().unwrap();
    let tagged = format!("{layout_s}:v1");
    run(&["init", "--layout", layout_s]);
    run(&["new", "--image", &tagged]);
    run(&["unpack", "--rootless", "--image", &tagged, bundle_s]);
    let rootfs = bundle.join("rootfs");
    std::fs::create_dir_all(rootfs.join("var/lib/dpkg")).unwrap();
    std::fs::create_dir_all(rootfs.join("etc")).unwrap();
    std::fs::write(rootfs.join("var/lib/dpkg/status"), DPKG_STATUS).unwrap();
    std::fs::write(
        rootfs.join("etc/os-release"),
        "ID=debian\nVERSION_ID=\"12\"\n",
    )
    .unwrap();
    run(&["repack", "--image", &tagged, bundle_s]);

    let (dir, tag) = split_layout_ref(&tagged);
    let img = open_oci_layout(&dir, tag.as_deref(), "linux/amd64").unwrap();
    let view = img.filesystem(&Limits::default());
    assert!(view.errors.is_empty(), "{:?}", view.errors);
    let (release, pkgs, errors) = img.os_packages(&view, &Limits::default());
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(release.unwrap().id, "debian");
    let names: Vec<&str> = pkgs.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["libc6", "libssl3"]);
}

#[test]
fn platformless_manifests_are_picked_by_config() {
    let l = Layout::new();
    let mut arm_cfg = config("", &[]);
    arm_cfg["architecture"] = json!("arm64");
    let arm = l.manifest(&arm_cfg, &[tar_of(&[E::File("arm", b"", 0o644)])]);
    let amd = l.manifest(&config("", &[]), &[tar_of(&[E::File("amd", b"", 0o644)])]);
    l.index(vec![arm.clone(), amd]);
    let img = open_oci_layout(l.path(), None, "linux/arm64").unwrap();
    assert_eq!(img.config.architecture, "arm64");
    let img = open_oci_layout(l.path(), None, "linux/amd64").unwrap();
    assert_eq!(img.config.architecture, "amd64");

    // With one image only, it is the one meant whatever the platform.
    l.index(vec![arm]);
    let img = open_oci_layout(l.path(), None, "linux/amd64").unwrap();
    assert_eq!(img.config.architecture, "arm64");
}

#[test]
fn visitor_skips_files_over_the_size_cap() {
    let big = vec![b'x'; 4096];
    let layer = tar_of(&[E::File("big", &big, 0o644), E::File("small", b"s", 0o644)]);
    let (_l, img) = simple_image(&[layer]);
    let limits = Limits {
        max_file_size: 1024,
        ..Limits::default()
    };
    let view = img.filesystem(&limits);
    let mut seen = Vec::new();
    let errors = img.visit_files(&view, &limits, |p, _, _, _| seen.push(p.to_string()));
    assert!(errors.is_empty());
    assert_eq!(seen, ["small"]);
    assert_eq!(img.read_file(&view, "big", &limits).unwrap(), None);
}

/// Regression (issue #9): `pipeguard image FILE` on a file that is not a
/// tar quoted its first bytes in the error (the tar reader's message holds
/// the header fields it could not parse), e.g. a whole `.env` line.
#[test]
fn a_file_that_is_not_a_tar_is_not_quoted() {
    let dir = tempfile::tempdir().unwrap();
    let secret = format!("{}{}", "q8Zt1vB7kWm3Rx9Lp2Yc", "N6fH0sJd4Ga5Ue8Qi7To");
    let path = dir.path().join("app.env");
    let mut text = format!("AWS_SECRET_ACCESS_KEY={secret}\n");
    text.push_str(&"# padding so the reader sees a full header block\n".repeat(20));
    std::fs::write(&path, &text).unwrap();
    let e = open_docker_archive(&path).unwrap_err().to_string();
    assert!(!e.contains(&secret) && !e.contains("AWS_SECRET"), "{e}");
    assert!(
        e.contains("app.env") && e.contains("not a readable tar"),
        "{e}"
    );
    // The same bytes as a layer.
    let (_l, img) = simple_image(&[text.into_bytes()]);
    let view = img.filesystem(&Limits::default());
    assert!(!view.errors.is_empty(), "a text file is not a layer");
    let shown: String = view.errors.iter().map(|e| e.to_string()).collect();
    assert!(
        !shown.contains(&secret) && !shown.contains("AWS_SECRET"),
        "{shown}"
    );
}

//! Hostile inputs, end to end through the real binary (issue #9): binary and
//! NUL-laden files, invalid UTF-8, a 100 MiB single line, deeply nested JSON
//! and YAML, YAML alias bombs, tar layers whose paths and links point outside,
//! gzip and zstd bombs, symlink loops, a lockfile with a million entries and
//! a git repository with a corrupt object.
//!
//! Every scan must finish, name the bad file in a clear message, stay under
//! `PEAK_RSS_BOUND` of memory (the child's peak RSS, measured), and write
//! nothing: each test snapshots its temp dir (the child's working directory
//! and HOME are inside it) before and after, and checks that the escape
//! targets of hostile tar entries do not exist anywhere.
//!
//! Run with `--nocapture` to see each case's peak memory and time.

mod common;

use std::collections::BTreeSet;
use std::ffi::OsString;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::*;
use sha2::{Digest, Sha256};

/// The documented bound on pipeguard's peak resident memory for any of these
/// inputs (docs/hardening.md lists each case's measured peak).
const PEAK_RSS_BOUND_KIB: u64 = 1024 * 1024;

/// One run of the binary, with what a user sees and what it cost.
struct Run {
    code: i32,
    stdout: String,
    stderr: String,
    peak_kib: u64,
    elapsed: Duration,
}

impl Run {
    fn all(&self) -> String {
        format!("{}\n{}", self.stdout, self.stderr)
    }
}

/// Runs `pipeguard ARGS` with `cwd` as working directory and HOME, and
/// measures the child's peak RSS: exactly through `/usr/bin/time` when it is
/// installed, else by polling `VmHWM` in /proc (which can miss only growth in
/// the last few milliseconds before exit).
fn run(case: &str, cwd: &Path, args: &[&dyn AsRef<std::ffi::OsStr>]) -> Run {
    let bin = assert_cmd::cargo::cargo_bin("pipeguard");
    let args: Vec<OsString> = args.iter().map(|a| a.as_ref().to_os_string()).collect();
    let time_out = cwd.join(".peak-rss");
    let gnu_time = Path::new("/usr/bin/time").exists();
    let mut cmd = if gnu_time {
        let mut c = Command::new("/usr/bin/time");
        c.arg("-f").arg("%M").arg("-o").arg(&time_out).arg(&bin);
        c
    } else {
        Command::new(&bin)
    };
    cmd.args(&args)
        .current_dir(cwd)
        .env("HOME", cwd)
        .env("NO_COLOR", "1")
        .env_remove("PIPEGUARD_CONFIG")
        .env_remove("PIPEGUARD_DB")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let started = Instant::now();
    let mut child = cmd.spawn().expect("spawn pipeguard");
    // Drain the pipes on threads so a large report cannot block the child.
    let mut so = child.stdout.take().expect("stdout");
    let mut se = child.stderr.take().expect("stderr");
    let t_out = std::thread::spawn(move || {
        let mut v = Vec::new();
        std::io::Read::read_to_end(&mut so, &mut v).expect("read stdout");
        v
    });
    let t_err = std::thread::spawn(move || {
        let mut v = Vec::new();
        std::io::Read::read_to_end(&mut se, &mut v).expect("read stderr");
        v
    });
    let mut polled = 0u64;
    let status = loop {
        if let Some(s) = child.try_wait().expect("wait") {
            break s;
        }
        if !gnu_time {
            polled = polled.max(vm_hwm_kib(child.id()).unwrap_or(0));
        }
        assert!(
            started.elapsed() < Duration::from_secs(300),
            "{case}: still running after 300 s"
        );
        std::thread::sleep(Duration::from_millis(5));
    };
    let elapsed = started.elapsed();
    let stdout = String::from_utf8_lossy(&t_out.join().expect("stdout thread")).into_owned();
    let stderr = String::from_utf8_lossy(&t_err.join().expect("stderr thread")).into_owned();
    let peak_kib = if gnu_time {
        let s = std::fs::read_to_string(&time_out).expect("time output");
        std::fs::remove_file(&time_out).expect("rm time output");
        // The last line is %M; earlier lines say how the child ended.
        s.lines()
            .last()
            .and_then(|l| l.trim().parse().ok())
            .unwrap_or_else(|| panic!("{case}: cannot read peak RSS from {s:?}"))
    } else {
        polled
    };
    let code = status.code().unwrap_or(-1);
    eprintln!(
        "{case}: exit {code}, peak RSS {:.1} MiB, {:.2} s",
        peak_kib as f64 / 1024.0,
        elapsed.as_secs_f64()
    );
    let r = Run {
        code,
        stdout,
        stderr,
        peak_kib,
        elapsed,
    };
    // Whatever the input, the scan ends with a verdict (0 clean, 1 findings,
    // 2 unusable input), never an internal error, a signal or a panic.
    assert!(
        matches!(r.code, 0..=2),
        "{case}: exit {} (internal error, signal or abort)\n{}",
        r.code,
        r.all()
    );
    assert!(
        !r.stderr.contains("internal error"),
        "{case}: panicked\n{}",
        r.stderr
    );
    assert!(
        r.peak_kib < PEAK_RSS_BOUND_KIB,
        "{case}: peak RSS {} KiB is over the {} KiB bound",
        r.peak_kib,
        PEAK_RSS_BOUND_KIB
    );
    r
}

fn vm_hwm_kib(pid: u32) -> Option<u64> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = s.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Every path under `dir` (not following links), to prove a scan wrote nothing.
fn snapshot(dir: &Path) -> BTreeSet<PathBuf> {
    let mut out = BTreeSet::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).expect("read_dir") {
            let e = e.expect("entry");
            let p = e.path();
            if e.file_type().expect("type").is_dir() {
                stack.push(p.clone());
            }
            out.insert(p);
        }
    }
    out
}

fn assert_unchanged(case: &str, dir: &Path, before: &BTreeSet<PathBuf>) {
    let after = snapshot(dir);
    let added: Vec<_> = after.difference(before).collect();
    let removed: Vec<_> = before.difference(&after).collect();
    assert!(
        added.is_empty() && removed.is_empty(),
        "{case}: the scan changed its temp dir: added {added:?}, removed {removed:?}"
    );
}

/// The problems of a JSON report as one string, for "names the file" checks.
fn problems(r: &Run) -> String {
    let v: serde_json::Value = serde_json::from_str(&r.stdout)
        .unwrap_or_else(|e| panic!("not a JSON report ({e}): {}", r.all()));
    serde_json::to_string(&v["problems"]).expect("ser")
}

fn finding_paths(r: &Run) -> Vec<String> {
    let v: serde_json::Value = serde_json::from_str(&r.stdout).expect("JSON report");
    findings(&v)
        .iter()
        .flat_map(|f| f["locations"].as_array().cloned().unwrap_or_default())
        .filter_map(|l| l["path"].as_str().map(str::to_string))
        .collect()
}

/// A tempdir with `work/` (the inputs) and `cwd/` (the child's working
/// directory and HOME).
fn sandbox() -> (tempfile::TempDir, PathBuf, PathBuf) {
    let t = tempfile::tempdir().expect("tmp");
    let work = t.path().join("work");
    let cwd = t.path().join("cwd");
    std::fs::create_dir_all(&work).expect("mkdir");
    std::fs::create_dir_all(&cwd).expect("mkdir");
    (t, work, cwd)
}

fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/hostile")
        .join(name)
}

#[test]
fn binary_nul_laden_and_invalid_utf8_files() {
    let (t, work, cwd) = sandbox();
    let token = github_token(1);
    // A binary file is skipped (no secret findings from it) whatever it holds.
    let mut bin = vec![0u8, 1, 2, 0xff, 0, 0x7f];
    bin.extend_from_slice(format!("token={token}").as_bytes());
    bin.extend(std::iter::repeat_n(0u8, 4096));
    write(&work, "blob.bin", &bin);
    // Latin-1 and stray bytes around a real secret: it is still found.
    let mut latin = b"caf\xe9 \xff\xfe GITHUB_TOKEN=".to_vec();
    latin.extend_from_slice(token.as_bytes());
    latin.extend_from_slice(b"\n\x80\x81\n");
    write(&work, "latin1.env", &latin);
    // Invalid UTF-8 and NULs where pipeguard expects text formats.
    write(
        &work,
        ".github/workflows/bad.yml",
        std::fs::read(data("nul-workflow.yml")).expect("fixture"),
    );
    write(
        &work,
        "Dockerfile",
        std::fs::read(data("nul-Dockerfile")).expect("fixture"),
    );
    write(
        &work,
        "package-lock.json",
        b"{\"lockfileVersion\": 3, \"packages\": {\"\xff\xfe\": \x00}}",
    );
    write(
        &work,
        "requirements.txt",
        b"requests==2.19.0\n\xff\xfe\x00\x00==1\n",
    );
    let db = fixture_db(t.path());
    let before = snapshot(t.path());

    let r = run(
        "secrets on binary/latin-1 files",
        &cwd,
        &[&"secrets", &"-f", &"json", &work],
    );
    assert_eq!(r.code, 1, "{}", r.all());
    let paths = finding_paths(&r);
    assert!(paths.iter().any(|p| p == "latin1.env"), "{paths:?}");
    assert!(
        !paths.iter().any(|p| p == "blob.bin"),
        "binary files are skipped: {paths:?}"
    );
    assert!(!r.all().contains(&token));

    let r = run(
        "ci on a NUL-laden workflow",
        &cwd,
        &[&"ci", &"-f", &"json", &work],
    );
    let p = problems(&r);
    assert!(p.contains(".github/workflows/bad.yml"), "{p}\n{}", r.all());

    let r = run(
        "dockerfile with NULs and invalid UTF-8",
        &cwd,
        &[&"dockerfile", &"-f", &"json", &work],
    );
    // The Dockerfile is parsed (lossily) and its rules run: `FROM ubuntu`
    // without a tag or digest is still caught behind the garbage.
    let v: serde_json::Value = serde_json::from_str(&r.stdout).expect("json");
    let ids: Vec<String> = findings(&v)
        .iter()
        .filter_map(|f| f["rule_id"].as_str().map(str::to_string))
        .collect();
    assert!(
        ids.iter().any(|i| i == "unpinned-base-image"),
        "{ids:?}\n{}",
        r.all()
    );

    let r = run(
        "deps on invalid UTF-8 lockfiles",
        &cwd,
        &[&"deps", &"-f", &"json", &"--db", &db, &work],
    );
    let p = problems(&r);
    assert!(p.contains("package-lock.json"), "{p}");
    assert_unchanged("binary and invalid UTF-8", t.path(), &before);
}

#[test]
fn a_100_mib_single_line() {
    let (t, work, cwd) = sandbox();
    let token = github_token(2);
    // 100 MiB without a newline, a secret at the very end.
    {
        let f = std::fs::File::create(work.join("huge.min.js")).expect("create");
        let mut w = std::io::BufWriter::new(f);
        let chunk = "var a=1;function b(c){return c*2};".repeat(1024);
        let mut written = 0usize;
        while written < 100 << 20 {
            w.write_all(chunk.as_bytes()).expect("write");
            written += chunk.len();
        }
        write!(w, "var t=\"{token}\";").expect("write");
    }
    let before = snapshot(t.path());
    // Over the default 64 MiB cap: skipped with a warning that says why.
    let r = run(
        "100 MiB line, default cap",
        &cwd,
        &[&"secrets", &"-f", &"json", &work],
    );
    let p = problems(&r);
    assert!(
        p.contains("huge.min.js") && p.contains("max-file-size"),
        "{p}"
    );
    // With the cap raised it is scanned in full and the secret at its end found.
    let r = run(
        "100 MiB line, scanned",
        &cwd,
        &[
            &"secrets",
            &"-f",
            &"json",
            &"--max-file-size",
            &"200000000",
            &work,
        ],
    );
    assert_eq!(r.code, 1, "{}", r.all());
    assert_eq!(finding_paths(&r), vec!["huge.min.js".to_string()]);
    assert!(!r.all().contains(&token));
    assert_unchanged("100 MiB line", t.path(), &before);
}

#[test]
fn deeply_nested_json_and_yaml() {
    let (t, work, cwd) = sandbox();
    let n = 100_000;
    let open_close = |o: &str, c: &str| format!("{}{}", o.repeat(n), c.repeat(n));
    write(&work, "package-lock.json", open_close("[", "]"));
    write(
        &work,
        "composer.lock",
        format!("{}1{}", "{\"a\":".repeat(n), "}".repeat(n)),
    );
    write(
        &work,
        "bom.json",
        format!(
            "{{\"bomFormat\":\"CycloneDX\",\"components\":{}}}",
            open_close("[", "]")
        ),
    );
    write(
        &work,
        "pnpm-lock.yaml",
        format!("lockfileVersion: 9\npackages: {}\n", open_close("[", "]")),
    );
    write(
        &work,
        ".github/workflows/flow.yml",
        format!("on: push\njobs: {}\n", open_close("{a: ", "}")),
    );
    // Block nesting by indentation, 3000 levels.
    let block: String = (1..=3000)
        .map(|i| format!("{}a:\n", " ".repeat(i)))
        .collect();
    write(
        &work,
        ".github/workflows/block.yml",
        format!("on: push\njobs:\n{block}"),
    );
    write(
        &work,
        ".gitlab-ci.yml",
        format!("job:\n  script: {}\n", open_close("[", "]")),
    );
    let db = fixture_db(t.path());
    let before = snapshot(t.path());

    let r = run(
        "deeply nested lockfiles",
        &cwd,
        &[&"deps", &"-f", &"json", &"--db", &db, &work],
    );
    let p = problems(&r);
    for f in [
        "package-lock.json",
        "composer.lock",
        "bom.json",
        "pnpm-lock.yaml",
    ] {
        assert!(
            p.contains(&format!("\"path\":\"{f}\"")),
            "{f} not reported: {p}"
        );
    }
    assert!(p.contains("recursion limit"), "{p}");
    let r = run(
        "deeply nested workflows",
        &cwd,
        &[&"ci", &"-f", &"json", &work],
    );
    let p = problems(&r);
    for f in [".github/workflows/flow.yml", ".gitlab-ci.yml"] {
        assert!(
            p.contains(&format!("\"path\":\"{f}\"")),
            "{f} not reported: {p}"
        );
    }
    let r = run(
        "deeply nested files, secrets",
        &cwd,
        &[&"secrets", &"-f", &"json", &work],
    );
    assert_eq!(r.code, 0, "{}", r.all());
    let r = run("deeply nested lockfiles, sbom", &cwd, &[&"sbom", &work]);
    assert!(r.stderr.contains("package-lock.json"), "{}", r.stderr);
    assert_unchanged("deep nesting", t.path(), &before);
}

/// "Billion laughs": nine levels of nine aliases, 9^9 nodes once expanded.
fn alias_bomb(first_line: &str, collection_key: &str) -> String {
    let mut s = format!(
        "{first_line}\na0: &a0 [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n"
    );
    for i in 1..10 {
        let refs = vec![format!("*a{}", i - 1); 9].join(",");
        s.push_str(&format!("a{i}: &a{i} [{refs}]\n"));
    }
    s.push_str(&format!(
        "{collection_key}:\n  build:\n    runs-on: ubuntu-latest\n    env: *a9\n    steps:\n      - run: echo hi\n"
    ));
    s
}

#[test]
fn yaml_alias_bombs() {
    let (t, work, cwd) = sandbox();
    write(
        &work,
        ".github/workflows/bomb.yml",
        alias_bomb("on: push", "jobs"),
    );
    write(&work, "action.yml", alias_bomb("name: bomb", "runs"));
    write(
        &work,
        ".gitlab-ci.yml",
        alias_bomb("stages: [test]", "jobs"),
    );
    write(
        &work,
        "pnpm-lock.yaml",
        alias_bomb("lockfileVersion: 9", "packages"),
    );
    let db = fixture_db(t.path());
    let before = snapshot(t.path());
    let r = run("alias bombs, ci", &cwd, &[&"ci", &"-f", &"json", &work]);
    let p = problems(&r);
    for f in [".github/workflows/bomb.yml", "action.yml", ".gitlab-ci.yml"] {
        assert!(
            p.contains(&format!("\"path\":\"{f}\"")),
            "{f} not reported: {p}"
        );
    }
    assert!(p.contains("billion-laughs"), "{p}");
    let r = run(
        "alias bomb, deps",
        &cwd,
        &[&"deps", &"-f", &"json", &"--db", &db, &work],
    );
    let p = problems(&r);
    assert!(
        p.contains("pnpm-lock.yaml") && p.contains("billion-laughs"),
        "{p}"
    );
    let r = run(
        "alias bombs, secrets",
        &cwd,
        &[&"secrets", &"-f", &"json", &work],
    );
    assert_eq!(r.code, 0, "{}", r.all());
    assert_unchanged("alias bombs", t.path(), &before);
}

/// One tar entry (ustar header, then the content padded to 512 bytes).
/// Written by hand because tar libraries refuse the `..` names we need.
fn tar_entry(out: &mut Vec<u8>, name: &str, kind: u8, link: &str, content: &[u8], size: u64) {
    let mut h = [0u8; 512];
    h[..name.len()].copy_from_slice(name.as_bytes());
    h[100..107].copy_from_slice(b"0000644");
    h[108..115].copy_from_slice(b"0000000");
    h[116..123].copy_from_slice(b"0000000");
    h[124..135].copy_from_slice(format!("{size:011o}").as_bytes());
    h[136..147].copy_from_slice(b"00000000000");
    h[148..156].copy_from_slice(b"        ");
    h[156] = kind;
    h[157..157 + link.len()].copy_from_slice(link.as_bytes());
    h[257..263].copy_from_slice(b"ustar\0");
    h[263..265].copy_from_slice(b"00");
    let sum: u32 = h.iter().map(|&b| b as u32).sum();
    h[148..155].copy_from_slice(format!("{sum:06o}\0").as_bytes());
    out.extend_from_slice(&h);
    out.extend_from_slice(content);
    let pad = (512 - content.len() % 512) % 512;
    out.extend(std::iter::repeat_n(0u8, pad));
}

fn sha256_hex(b: &[u8]) -> String {
    Sha256::digest(b)
        .iter()
        .map(|x| format!("{x:02x}"))
        .collect()
}

/// An OCI image layout built by hand: blobs by sha256, a config, a manifest
/// naming `layers` (raw blob bytes and media type) and an index tagged `v1`.
fn oci_layout(dir: &Path, layers: &[(Vec<u8>, &str)]) {
    let blobs = dir.join("blobs/sha256");
    std::fs::create_dir_all(&blobs).expect("mkdir");
    std::fs::write(dir.join("oci-layout"), r#"{"imageLayoutVersion":"1.0.0"}"#).expect("write");
    let put = |b: &[u8]| {
        let h = sha256_hex(b);
        std::fs::write(blobs.join(&h), b).expect("write blob");
        format!("sha256:{h}")
    };
    let config = serde_json::json!({
        "architecture": "amd64", "os": "linux",
        "config": {"User": "1000", "Env": ["PATH=/usr/bin"]},
        "rootfs": {"type": "layers", "diff_ids": []},
    })
    .to_string();
    let config_digest = put(config.as_bytes());
    let layer_descs: Vec<serde_json::Value> = layers
        .iter()
        .map(|(b, mt)| serde_json::json!({"mediaType": mt, "digest": put(b), "size": b.len()}))
        .collect();
    let manifest = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": config_digest, "size": config.len()},
        "layers": layer_descs,
    })
    .to_string();
    let manifest_digest = put(manifest.as_bytes());
    let index = serde_json::json!({
        "schemaVersion": 2,
        "manifests": [{
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "digest": manifest_digest, "size": manifest.len(),
            "annotations": {"org.opencontainers.image.ref.name": "v1"},
        }],
    })
    .to_string();
    std::fs::write(dir.join("index.json"), index).expect("write index");
}

/// Compresses with a real tool (`gzip`, `zstd`) reading standard input.
fn compress(tool: &str, data: &[u8]) -> Vec<u8> {
    let mut child = Command::new(tool)
        .args(["-c", "-q"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{tool}: {e}"));
    let mut stdin = child.stdin.take().expect("stdin");
    let data = data.to_vec();
    let feeder = std::thread::spawn(move || stdin.write_all(&data).expect("feed"));
    let out = child.wait_with_output().expect("wait");
    feeder.join().expect("feeder");
    assert!(out.status.success(), "{tool} failed");
    out.stdout
}

#[test]
fn tar_layers_pointing_outside_the_image() {
    let (t, work, cwd) = sandbox();
    // Unique names, so that finding them anywhere means this test wrote them.
    let tag = format!("pgescape{}", std::process::id());
    let token = github_token(3);
    let mut layer = Vec::new();
    tar_entry(&mut layer, &format!("../{tag}-dotdot"), b'0', "", b"x", 1);
    tar_entry(
        &mut layer,
        &format!("../../../../../tmp/{tag}-deep"),
        b'0',
        "",
        b"x",
        1,
    );
    tar_entry(&mut layer, &format!("/tmp/{tag}-abs"), b'0', "", b"x", 1);
    tar_entry(
        &mut layer,
        "etc/passwd-link",
        b'2',
        "../../../../../etc/passwd",
        b"",
        0,
    );
    tar_entry(&mut layer, "escape-dir", b'2', "/tmp", b"", 0);
    tar_entry(
        &mut layer,
        &format!("escape-dir/{tag}-via-link"),
        b'0',
        "",
        b"x",
        1,
    );
    tar_entry(&mut layer, "shadow-hard", b'1', "/etc/shadow", b"", 0);
    tar_entry(&mut layer, "up-hard", b'1', "../../../etc/passwd", b"", 0);
    let secret = format!("GITHUB_TOKEN={token}\n");
    tar_entry(
        &mut layer,
        "app/.env",
        b'0',
        "",
        secret.as_bytes(),
        secret.len() as u64,
    );
    layer.extend(std::iter::repeat_n(0u8, 1024));
    let layout = work.join("layout");
    oci_layout(
        &layout,
        &[(layer.clone(), "application/vnd.oci.image.layer.v1.tar")],
    );

    // The same layer in a `docker save` archive whose manifest also names
    // a layer outside the archive.
    let mut archive = Vec::new();
    let manifest = r#"[{"Config":"config.json","RepoTags":["x:1"],"Layers":["../../../../etc/passwd","abc/layer.tar"]}]"#;
    let config = r#"{"architecture":"amd64","os":"linux","config":{"User":"1000"}}"#;
    tar_entry(
        &mut archive,
        "manifest.json",
        b'0',
        "",
        manifest.as_bytes(),
        manifest.len() as u64,
    );
    tar_entry(
        &mut archive,
        "config.json",
        b'0',
        "",
        config.as_bytes(),
        config.len() as u64,
    );
    tar_entry(
        &mut archive,
        "abc/layer.tar",
        b'0',
        "",
        &layer,
        layer.len() as u64,
    );
    archive.extend(std::iter::repeat_n(0u8, 1024));
    std::fs::write(work.join("image.tar"), &archive).expect("write");
    let db = fixture_db(t.path());
    let before = snapshot(t.path());

    let layout_ref = format!("oci:{}:v1", layout.display());
    let r = run(
        "tar escapes, image",
        &cwd,
        &[&"image", &layout_ref, &"-f", &"json", &"--db", &db],
    );
    assert_eq!(
        r.code,
        1,
        "the secret in app/.env is still found\n{}",
        r.all()
    );
    assert!(
        finding_paths(&r).iter().any(|p| p.contains("//app/.env")),
        "{}",
        r.stdout
    );
    assert!(!r.all().contains(&token));
    let r = run("tar escapes, sbom", &cwd, &[&"sbom", &layout_ref]);
    assert_eq!(r.code, 0, "{}", r.all());
    let archive_ref = format!("docker-archive:{}", work.join("image.tar").display());
    let r = run(
        "docker archive naming a layer outside",
        &cwd,
        &[&"image", &archive_ref, &"-f", &"json", &"--db", &db],
    );
    assert_eq!(r.code, 2, "{}", r.all());
    assert!(
        r.stderr.contains("image.tar")
            && r.stderr.contains("invalid path \"../../../../etc/passwd\""),
        "the layer outside the archive must be refused by name\n{}",
        r.all()
    );

    assert_unchanged("tar escapes", t.path(), &before);
    for dir in [
        Path::new("/tmp"),
        &std::env::temp_dir(),
        Path::new("/"),
        t.path().parent().expect("parent"),
    ] {
        for suffix in ["dotdot", "deep", "abs", "via-link"] {
            let p = dir.join(format!("{tag}-{suffix}"));
            assert!(!p.exists(), "{} was written outside the scan", p.display());
        }
    }
}

/// A layer whose one tar entry claims 5 GiB of zeros: `chunks` concatenated
/// gzip members (or zstd frames) of 64 MiB of zeros each, after one holding
/// the header. Concatenation is valid for both formats, so a few MB of blob
/// inflate to more than the 4 GiB layer cap.
fn bomb_layer(tool: &str) -> Vec<u8> {
    let mut header = Vec::new();
    tar_entry(&mut header, "bomb", b'0', "", b"", 5 << 30);
    let header = &header[..512];
    let zeros = compress(tool, &vec![0u8; 64 << 20]);
    let mut blob = compress(tool, header);
    for _ in 0..81 {
        blob.extend_from_slice(&zeros);
    }
    blob
}

#[test]
fn gzip_and_zstd_bombs_stop_at_the_layer_cap() {
    if !have("gzip") || !have("zstd") {
        eprintln!("gzip and zstd are needed to build the bombs; skipping");
        return;
    }
    let (t, work, cwd) = sandbox();
    let gz = bomb_layer("gzip");
    let zst = bomb_layer("zstd");
    assert!(gz.len() < 16 << 20 && zst.len() < 16 << 20);
    oci_layout(
        &work.join("gz"),
        &[(gz, "application/vnd.oci.image.layer.v1.tar+gzip")],
    );
    oci_layout(
        &work.join("zst"),
        &[(zst, "application/vnd.oci.image.layer.v1.tar+zstd")],
    );
    let db = fixture_db(t.path());
    let before = snapshot(t.path());
    for kind in ["gz", "zst"] {
        let r = run(
            &format!("{kind} bomb, image"),
            &cwd,
            &[
                &"image",
                &format!("oci:{}", work.join(kind).display()),
                &"-f",
                &"json",
                &"--db",
                &db,
            ],
        );
        let p = problems(&r);
        assert!(
            p.contains("possible decompression bomb")
                && p.contains("unpacks to more than 4294967296 bytes"),
            "{p}"
        );
        assert!(
            r.elapsed < Duration::from_secs(120),
            "{kind}: {:?}",
            r.elapsed
        );
    }
    assert_unchanged("bombs", t.path(), &before);
}

#[test]
#[cfg(unix)]
fn symlink_loops_in_the_tree() {
    use std::os::unix::fs::symlink;
    let (t, work, cwd) = sandbox();
    let token = github_token(4);
    write(&work, "a/secret.env", format!("GITHUB_TOKEN={token}\n"));
    write(&work, "a/Dockerfile", "FROM alpine:3.19\nUSER 1000\n");
    write(
        &work,
        "a/.github/workflows/ci.yml",
        "on: push\npermissions: {}\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo hi\n",
    );
    write(&work, "a/requirements.txt", "requests==2.19.0\n");
    symlink(".", work.join("a/self-dir")).expect("symlink");
    symlink("../a", work.join("a/up")).expect("symlink");
    symlink("loop2", work.join("loop1")).expect("symlink");
    symlink("loop1", work.join("loop2")).expect("symlink");
    symlink("itself", work.join("itself")).expect("symlink");
    symlink("itself", work.join("a/requirements-dev.txt")).expect("symlink");
    let db = fixture_db(t.path());
    let before = snapshot(t.path());

    let r = run(
        "symlink loops, secrets --follow",
        &cwd,
        &[&"secrets", &"--follow", &"-f", &"json", &work],
    );
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(problems(&r).contains("loop"), "{}", r.stdout);
    assert!(!r.all().contains(&token));
    let r = run(
        "symlink loops, secrets",
        &cwd,
        &[&"secrets", &"-f", &"json", &work],
    );
    assert_eq!(r.code, 1, "{}", r.all());
    let r = run("symlink loops, ci", &cwd, &[&"ci", &"-f", &"json", &work]);
    assert!(r.code <= 1, "{}", r.all());
    let r = run(
        "symlink loops, dockerfile",
        &cwd,
        &[&"dockerfile", &"-f", &"json", &work],
    );
    assert!(r.code <= 1, "{}", r.all());
    let r = run(
        "symlink loops, deps",
        &cwd,
        &[&"deps", &"-f", &"json", &"--db", &db, &work],
    );
    assert!(r.stdout.contains("requests"), "{}", r.all());
    let r = run("symlink loops, sbom", &cwd, &[&"sbom", &work]);
    assert!(r.stdout.contains("pkg:pypi/requests@2.19.0"), "{}", r.all());
    assert_unchanged("symlink loops", t.path(), &before);
}

#[test]
fn a_lockfile_with_a_million_entries() {
    let (t, work, cwd) = sandbox();
    {
        let f = std::fs::File::create(work.join("gradle.lockfile")).expect("create");
        let mut w = std::io::BufWriter::new(f);
        for i in 0..1_000_000u32 {
            writeln!(
                w,
                "com.example:artifact{i}:1.0.{}=runtimeClasspath",
                i % 100
            )
            .expect("write");
        }
        writeln!(w, "empty=").expect("write");
    }
    let db = fixture_db(t.path());
    let before = snapshot(t.path());
    let r = run(
        "1,000,000-entry gradle.lockfile, deps",
        &cwd,
        &[&"deps", &"-f", &"json", &"--db", &db, &work],
    );
    let v: serde_json::Value = serde_json::from_str(&r.stdout).expect("json");
    assert_eq!(v["summary"]["packages_scanned"], 1_000_000, "{}", r.stderr);
    assert_unchanged("million entries", t.path(), &before);
}

#[test]
fn a_git_repository_with_a_corrupt_object() {
    let (t, work, cwd) = sandbox();
    let (first, last) = (github_token(5), github_token(6));
    let repo = GitRepo::init(&work);
    repo.commit_file("one.env", format!("GITHUB_TOKEN={first}\n"), "one");
    repo.commit_file(
        "two.txt",
        "an ordinary file that will be corrupted\n",
        "two",
    );
    repo.commit_file("three.env", format!("GH_TOKEN={last}\n"), "three");
    // Replace the loose object of two.txt's blob with garbage.
    let blob = repo.rev_parse("HEAD~1:two.txt");
    let obj = work.join(".git/objects").join(&blob[..2]).join(&blob[2..]);
    let mut perms = std::fs::metadata(&obj).expect("object").permissions();
    #[allow(clippy::permissions_set_readonly_false)]
    perms.set_readonly(false);
    std::fs::set_permissions(&obj, perms).expect("chmod");
    std::fs::write(&obj, b"this is not a zlib stream").expect("corrupt");
    let before = snapshot(t.path());

    let r = run(
        "corrupt git object, secrets --git",
        &cwd,
        &[&"secrets", &"--git", &"-f", &"json", &work],
    );
    // The blobs around the corrupt one are still scanned...
    let paths = finding_paths(&r);
    assert!(
        paths.iter().any(|p| p.contains("one.env")),
        "{paths:?}\n{}",
        r.all()
    );
    assert!(
        paths.iter().any(|p| p.contains("three.env")),
        "{paths:?}\n{}",
        r.all()
    );
    // ...and the corrupt object is reported by id.
    assert!(
        r.all().contains(&blob[..12]),
        "the corrupt object is not named\n{}",
        r.all()
    );
    assert!(!r.all().contains(&first) && !r.all().contains(&last));
    assert_unchanged("corrupt git object", t.path(), &before);
}

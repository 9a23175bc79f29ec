//! Helpers for end-to-end tests: real git repositories in temp dirs, and the
//! real binary.
#![allow(dead_code)]

use std::path::Path;
use std::process::Command;

pub fn pipeguard() -> assert_cmd::Command {
    let mut c = assert_cmd::Command::cargo_bin("pipeguard").expect("binary");
    c.env_remove("PIPEGUARD_CONFIG").env("NO_COLOR", "1");
    c
}

pub fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .env("GIT_AUTHOR_NAME", "Dana Dev")
        .env("GIT_AUTHOR_EMAIL", "dana@corp.net")
        .env("GIT_COMMITTER_NAME", "Dana Dev")
        .env("GIT_COMMITTER_EMAIL", "dana@corp.net")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("HOME", dir)
        .output()
        .expect("run git");
    assert!(
        out.status.success(),
        "git {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

pub fn init_repo(dir: &Path) {
    git(dir, &["init", "-q", "-b", "main"]);
    git(dir, &["config", "commit.gpgsign", "false"]);
}

pub fn commit_file(dir: &Path, path: &str, content: &str, msg: &str) -> String {
    let p = dir.join(path);
    if let Some(parent) = p.parent() {
        std::fs::create_dir_all(parent).expect("mkdir");
    }
    std::fs::write(&p, content).expect("write");
    git(dir, &["add", path]);
    git(dir, &["commit", "-q", "-m", msg]);
    git(dir, &["rev-parse", "HEAD"])
}

/// Synthetic secrets, assembled at run time so that this source file does not
/// itself hold them in one piece.
pub fn password(tag: &str) -> String {
    format!("Vq8{}-Zr4{}-mX7pLw", tag, "Kd2N")
}

pub fn age_key(seed: u8) -> String {
    const ALPHA: &[u8] = b"qpzry9x8gf2tvdw0s3jn54khce6mua7l";
    let body: String = (0..58u32)
        .map(|i| {
            let k = (i * 7 + seed as u32 * 13 + i * i) as usize % 32;
            (ALPHA[k] as char).to_ascii_uppercase()
        })
        .collect();
    format!("{}-SECRET-KEY-1{body}", "AGE")
}

pub fn json(out: &[u8]) -> serde_json::Value {
    serde_json::from_slice(out).expect("valid JSON report")
}

pub fn findings(v: &serde_json::Value) -> Vec<serde_json::Value> {
    v["findings"].as_array().cloned().unwrap_or_default()
}

/// Writes a file below `dir`, creating parent directories.
pub fn write(dir: &Path, path: &str, content: impl AsRef<[u8]>) {
    let p = dir.join(path);
    std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
    std::fs::write(p, content).expect("write");
}

//! `unverified-download`: a file fetched with curl/wget and then run,
//! extracted or installed with no checksum or signature check.
//! `curl … | sh` is `curl-pipe-shell`'s and `ADD <url>` is
//! `add-remote-url`'s; this rule covers what they do not, so a download is
//! reported once.

use pipeguard_core::{Confidence, RuleMeta, Severity, rule_meta};
use regex::Regex;

use super::run::{commands, re, runs_in};
use super::{InstructionSink, Rule, Sink};
use crate::dockerfile::Dockerfile;

pub struct UnverifiedDownload;

rule_meta! {
    /// ## What it does
    /// Flags a `curl`/`wget` download that the same stage then executes,
    /// extracts (`tar -x`, `unzip`, `curl … | tar -x`), installs (`dpkg -i`,
    /// `rpm -i`, `apt-get install ./x.deb`, `install`) or makes executable
    /// (`chmod +x`), when nothing in the stage verifies it: no `sha256sum
    /// -c`/`sha512sum -c`/`shasum -c` (including `echo "<hex>  file" |
    /// sha256sum -c`), no comparison of a `$(sha256sum …)`, no `gpg
    /// --verify`/`gpgv`, no `cosign verify-blob`, no `minisign -V`.
    /// Downloads piped into a shell are `curl-pipe-shell`, and `ADD <url>`
    /// is `add-remote-url`. A verification anywhere in the stage counts, as
    /// a `SHA256SUMS` list may cover several files.
    /// ## Why is this bad
    /// The build runs or unpacks whatever the server returned: a compromised
    /// release page, mirror or CDN puts its code into the image, and TLS does
    /// not help when the server itself serves the wrong file.
    /// ## Example
    /// ```dockerfile
    /// RUN curl -fsSLO https://github.com/org/tool/releases/download/v1.2.3/tool.tar.gz \
    ///  && tar -xzf tool.tar.gz -C /usr/local/bin
    /// ```
    static DOWNLOAD = {
        id: "unverified-download",
        name: "Download used without checksum or signature verification",
        severity: Severity::Medium,
        confidence: Confidence::Medium,
        fix: "Pin the expected digest and check it before use: `echo \"<sha256>  tool.tar.gz\" | sha256sum -c -`, or verify the publisher's signature (`gpg --verify`, `cosign verify-blob`).",
        cwe: &[494, 345],
    };
}

/// A checksum or signature check anywhere in a script.
fn verifies(script: &str) -> bool {
    static VERIFY: std::sync::OnceLock<Regex> = std::sync::OnceLock::new();
    re(
        r"(?x)
        \b(?:sha(?:1|224|256|384|512)sum|shasum|md5sum|b2sum)\b[^\n;&|]*?\s(?:-[a-zA-Z]*c\b|--check\b)
        | \$\(\s*(?:sha(?:1|224|256|384|512)sum|shasum|b2sum)\b
        | \b(?:sha(?:1|224|256|384|512)sum|shasum)\b[^\n;&|]*\|\s*grep\b
        | \bgpgv\b
        | \bgpg2?\b[^\n;&|]*\s--verify\b
        | \bcosign\s+verify(?:-blob)?\b
        | \bminisign\b[^\n;&|]*\s-V\b
        | \bopenssl\s+dgst\b[^\n;&|]*\s-verify\b
        | \bslsa-verifier\b
        ",
        &VERIFY,
    )
    .is_match(script)
}

fn unquote(w: &str) -> &str {
    w.trim_matches(['"', '\''])
}

fn basename(path: &str) -> &str {
    let p = unquote(path);
    let p = p.split(['?', '#']).next().unwrap_or(p);
    p.rsplit('/').next().unwrap_or(p)
}

/// The file a `curl`/`wget` command saves to, if it saves to a file.
fn downloaded_file(cmd: &str) -> Option<String> {
    let w: Vec<&str> = cmd.split_whitespace().collect();
    let tool = w.iter().position(|x| *x == "curl" || *x == "wget")?;
    let is_curl = w[tool] == "curl";
    let w = &w[tool..];
    let url = w
        .iter()
        .find(|x| unquote(x).starts_with("http://") || unquote(x).starts_with("https://"))?;
    // The value of short option `c` in word `k`: glued (`-qO-`) or the
    // next word (`-fsSLo file`).
    fn short<'a>(w: &[&'a str], k: usize, c: char) -> Option<&'a str> {
        let cluster = w[k].strip_prefix('-').filter(|r| !r.starts_with('-'))?;
        let at = cluster.find(c)?;
        let glued = &cluster[at + 1..];
        if glued.is_empty() {
            w.get(k + 1).copied()
        } else {
            Some(glued)
        }
    }
    for (k, x) in w.iter().enumerate() {
        if let Some(t) = x.strip_prefix('>') {
            let t = if t.is_empty() {
                w.get(k + 1).copied()?
            } else {
                t
            };
            return Some(unquote(t).to_string());
        }
        let (c, long) = if is_curl {
            ('o', "--output")
        } else {
            ('O', "--output-document")
        };
        let named = if *x == long {
            w.get(k + 1).copied()
        } else {
            short(w, k, c).or_else(|| x.strip_prefix(long).and_then(|r| r.strip_prefix('=')))
        };
        if let Some(n) = named {
            // `-O -` / `-o /dev/stdout`: to a pipe, not a file.
            let n = unquote(n);
            return (n != "-" && !n.starts_with("/dev/")).then(|| n.to_string());
        }
    }
    // curl without -O writes to stdout; wget saves under the URL's name.
    let remote_name = !is_curl
        || w.iter().any(|x| {
            *x == "--remote-name"
                || *x == "--remote-name-all"
                || (x.starts_with('-') && !x.starts_with("--") && x.contains('O'))
        });
    remote_name.then(|| basename(url).to_string())
}

/// How `cmd` uses `file`, if it runs, extracts, installs or chmods it.
fn use_of(cmd: &str, file: &str) -> Option<&'static str> {
    let w: Vec<&str> = cmd
        .split_whitespace()
        .skip_while(|x| *x == "sudo" || x.contains('='))
        .collect();
    let first = *w.first()?;
    let name = basename(file);
    if name.is_empty() {
        return None;
    }
    let names_it = |x: &&str| unquote(x) == file || basename(x) == name;
    if names_it(&first) {
        return Some("executed");
    }
    let args = &w[1..];
    let how = match basename(first) {
        "sh" | "bash" | "zsh" | "dash" | "python" | "python3" | "perl" | "php" | "ruby"
        | "node" => "executed",
        "tar" | "unzip" | "bsdtar" | "7z" => "extracted",
        "dpkg" if args.iter().any(|a| a.starts_with('-') && a.contains('i')) => "installed",
        "rpm" | "apk" | "apt-get" | "apt" | "yum" | "dnf" | "install" => "installed",
        "chmod" => "made executable",
        _ => return None,
    };
    args.iter().any(names_it).then_some(how)
}

impl Rule for UnverifiedDownload {
    fn meta(&self) -> &'static RuleMeta {
        &DOWNLOAD
    }

    fn check(&self, df: &Dockerfile, out: &mut Sink) {
        static PIPE_EXTRACT: std::sync::OnceLock<Regex> = std::sync::OnceLock::new();
        let pipe_extract = re(
            r"\b(?:curl|wget)\b[^|;&\n]*\|\s*(?:sudo\s+)?(?:tar|bsdtar)\b[^|;&\n]*",
            &PIPE_EXTRACT,
        );
        for stage in &df.stages {
            let runs: Vec<_> = runs_in(std::iter::once(stage)).collect();
            let scripts: Vec<String> = runs.iter().map(|r| r.script()).collect();
            // Most stages download nothing; skip them before any parsing.
            if !scripts
                .iter()
                .any(|s| s.contains("curl") || s.contains("wget"))
                || scripts.iter().any(|s| verifies(s))
            {
                continue;
            }
            for (i, (ins, script)) in runs.iter().zip(&scripts).enumerate() {
                if let Some(m) = pipe_extract.find(script) {
                    let m = m.as_str().trim();
                    out.report(
                        &DOWNLOAD,
                        ins,
                        m,
                        format!("`{m}` extracts a download that nothing verifies."),
                    );
                    continue;
                }
                let hit = commands(script).into_iter().find_map(|c| {
                    let file = downloaded_file(c)?;
                    // Used in this RUN after the download, or in a later one.
                    let after = script.split_at(script.find(c)? + c.len()).1;
                    let later =
                        std::iter::once(after).chain(scripts[i + 1..].iter().map(String::as_str));
                    later
                        .flat_map(commands)
                        .find_map(|u| use_of(u, &file))
                        .map(|how| (file, how))
                });
                if let Some((file, how)) = hit {
                    out.report(
                        &DOWNLOAD,
                        ins,
                        &file,
                        format!(
                            "`{file}` is downloaded and {how} without a checksum or signature check."
                        ),
                    );
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn downloads_and_uses() {
        assert_eq!(
            downloaded_file(
                "curl -fsSLo /tmp/helm.tgz https://get.helm.sh/helm-v3.14.0-linux-amd64.tar.gz"
            )
            .as_deref(),
            Some("/tmp/helm.tgz")
        );
        assert_eq!(
            downloaded_file("curl -fsSLO \"https://example.com/dl/tool_${VERSION}.deb\"")
                .as_deref(),
            Some("tool_${VERSION}.deb")
        );
        assert_eq!(
            downloaded_file("wget -q https://example.com/a/b/installer.sh").as_deref(),
            Some("installer.sh")
        );
        assert_eq!(downloaded_file("wget -qO- https://example.com/x.tgz"), None);
        assert_eq!(
            downloaded_file("curl -fsSL https://example.com/x.tgz"),
            None
        );
        assert_eq!(
            use_of("tar -xzf /tmp/helm.tgz -C /tmp", "/tmp/helm.tgz"),
            Some("extracted")
        );
        assert_eq!(
            use_of("chmod +x installer.sh", "installer.sh"),
            Some("made executable")
        );
        assert_eq!(
            use_of("./installer.sh --prefix /opt", "installer.sh"),
            Some("executed")
        );
        assert_eq!(
            use_of("dpkg -i tool_${VERSION}.deb", "tool_${VERSION}.deb"),
            Some("installed")
        );
        assert_eq!(use_of("rm -f installer.sh", "installer.sh"), None);
        assert!(verifies("echo \"${SHA256}  helm.tgz\" | sha256sum -c -"));
        assert!(verifies("sha256sum --check --ignore-missing SHA256SUMS"));
        assert!(verifies("gpg --batch --verify node.tar.xz.asc node.tar.xz"));
        assert!(!verifies("sha256sum helm.tgz"));
    }
}

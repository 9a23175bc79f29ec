//! Rules about `RUN` scripts: piping downloads into a shell, disabling TLS,
//! package-manager hygiene, sudo.

use std::borrow::Cow;

use pipeguard_core::{Confidence, RuleMeta, Severity, rule_meta};
use regex::Regex;

use super::{InstructionSink, Rule, Sink};
use crate::dockerfile::{Dockerfile, Instruction, Stage};

fn runs(df: &Dockerfile) -> impl Iterator<Item = Cow<'_, Instruction>> {
    runs_in(df.stages.iter())
}

/// The RUNs of the given stages, and the RUNs their `ONBUILD`s register
/// (those run in every downstream build, with the same hazards).
pub(super) fn runs_in<'a>(
    stages: impl Iterator<Item = &'a Stage>,
) -> impl Iterator<Item = Cow<'a, Instruction>> {
    stages
        .flat_map(|s| s.instructions.iter())
        .filter_map(|i| match i.keyword.as_str() {
            "RUN" => Some(Cow::Borrowed(i)),
            "ONBUILD" => i
                .onbuild_trigger()
                .filter(|t| t.keyword == "RUN")
                .map(Cow::Owned),
            _ => None,
        })
}

/// Simple commands of a script, split on `;`, `&&`, `||`, `|` and newlines.
pub(super) fn commands(script: &str) -> Vec<&str> {
    script
        .split(['\n', ';', '&', '|'])
        .map(|c| {
            // A shell comment ends the command (`npm i -g serve@14  # pinned`).
            let c = c.trim();
            match c.find(" #") {
                Some(i) => c[..i].trim_end(),
                None if c.starts_with('#') => "",
                None => c,
            }
        })
        .filter(|c| !c.is_empty())
        .collect()
}

pub(super) fn re(
    pattern: &'static str,
    cell: &'static std::sync::OnceLock<Regex>,
) -> &'static Regex {
    cell.get_or_init(|| Regex::new(pattern).expect("valid regex"))
}

pub struct CurlPipeShell;

rule_meta! {
    /// ## What it does
    /// Flags `curl … | sh`, `wget -O- … | bash`, `bash <(curl …)`.
    /// ## Why is this bad
    /// The build runs whatever the server sends today, unverified; a
    /// compromised or spoofed host owns the image.
    static PIPE = {
        id: "curl-pipe-shell",
        name: "Download piped into a shell",
        severity: Severity::High,
        confidence: Confidence::High,
        fix: "Download to a file, verify a pinned checksum (`sha256sum -c`) or signature, then execute it.",
        cwe: &[494],
    };
}

impl Rule for CurlPipeShell {
    fn meta(&self) -> &'static RuleMeta {
        &PIPE
    }

    fn check(&self, df: &Dockerfile, out: &mut Sink) {
        static RE: std::sync::OnceLock<Regex> = std::sync::OnceLock::new();
        let r = re(
            r"(?:\b(?:curl|wget)\b[^|;&\n]*\|\s*(?:sudo\s+)?(?:ba|z|da)?sh\b|(?:ba|z)?sh\s+(?:-s\s+)?<\(\s*(?:curl|wget)\b)",
            &RE,
        );
        for ins in runs(df) {
            if let Some(m) = r.find(&ins.script()) {
                out.report(
                    &PIPE,
                    &ins,
                    m.as_str(),
                    format!("`{}` runs an unverified download.", m.as_str().trim()),
                );
            }
        }
    }
}

pub struct CurlInsecure;

rule_meta! {
    /// ## What it does
    /// Flags TLS verification turned off: `curl -k`/`--insecure`, `wget
    /// --no-check-certificate`, `pip --trusted-host`, npm `strict-ssl false`,
    /// git `http.sslVerify false`.
    /// ## Why is this bad
    /// Anyone on the network path can substitute what the build downloads.
    static INSECURE = {
        id: "curl-insecure",
        name: "TLS verification disabled during the build",
        severity: Severity::High,
        confidence: Confidence::High,
        fix: "Keep certificate verification on; install your internal CA certificate into the image's trust store instead.",
        cwe: &[295],
    };
}

impl Rule for CurlInsecure {
    fn meta(&self) -> &'static RuleMeta {
        &INSECURE
    }

    fn check(&self, df: &Dockerfile, out: &mut Sink) {
        for ins in runs(df) {
            let script = ins.script();
            let hit = commands(&script).into_iter().find_map(|c| {
                let w: Vec<&str> = c.split_whitespace().collect();
                let first = w.first().copied().unwrap_or("");
                let bad = match first {
                    "curl" => w.iter().any(|a| {
                        *a == "-k"
                            || *a == "--insecure"
                            || (a.starts_with('-') && !a.starts_with("--") && a.contains('k'))
                    }),
                    "wget" => w.contains(&"--no-check-certificate"),
                    "pip" | "pip3" => w.contains(&"--trusted-host"),
                    "npm" | "yarn" => {
                        c.contains("strict-ssl false") || c.contains("strict-ssl=false")
                    }
                    "git" => c.contains("sslVerify false") || c.contains("sslverify false"),
                    _ => false,
                };
                bad.then(|| c.to_string())
            });
            if let Some(c) = hit {
                out.report(
                    &INSECURE,
                    &ins,
                    &c,
                    format!("`{c}` turns off TLS verification."),
                );
            }
        }
    }
}

/// Index of `sub` when it follows `tool` with only options in between
/// (`apt-get -y -q install`, `python3 -m pip install`).
fn subcommand(w: &[&str], tool: &str, sub: &str) -> Option<usize> {
    let t = w.iter().position(|x| *x == tool)?;
    let rest = &w[t + 1..];
    let k = rest.iter().position(|x| !x.starts_with('-'))?;
    (rest[k] == sub).then_some(t + 1 + k)
}

fn apt_installs(script: &str) -> Vec<&str> {
    commands(script)
        .into_iter()
        .filter(|c| {
            let w: Vec<&str> = c.split_whitespace().collect();
            subcommand(&w, "apt-get", "install")
                .or(subcommand(&w, "apt", "install"))
                .or(subcommand(&w, "aptitude", "install"))
                .is_some()
        })
        .collect()
}

pub struct AptMissingNoInstallRecommends;

rule_meta! {
    /// ## What it does
    /// Flags `apt-get install` without `--no-install-recommends` (hadolint
    /// DL3015), and `aptitude install` without `--without-recommends`, in
    /// RUNs and in `ONBUILD RUN`s.
    /// ## Why is this bad
    /// Recommended packages roughly double what gets installed: more size,
    /// more CVEs, nothing the application asked for.
    static RECOMMENDS = {
        id: "apt-missing-no-install-recommends",
        name: "apt-get install pulls recommended packages",
        severity: Severity::Low,
        confidence: Confidence::High,
        fix: "Use `apt-get install -y --no-install-recommends`.",
        cwe: &[],
    };
}

impl Rule for AptMissingNoInstallRecommends {
    fn meta(&self) -> &'static RuleMeta {
        &RECOMMENDS
    }

    fn check(&self, df: &Dockerfile, out: &mut Sink) {
        for ins in runs(df) {
            let script = ins.script();
            let missing = apt_installs(&script).into_iter().find(|c| {
                // aptitude spells it `--without-recommends` / `-R`.
                let aptitude_without = c.contains("aptitude")
                    && c.split_whitespace()
                        .any(|w| w == "--without-recommends" || w == "-R");
                let without = c.contains("--no-install-recommends")
                    || c.contains("APT::Install-Recommends")
                    || aptitude_without;
                !without
            });
            if let Some(c) = missing {
                let message = if c.split_whitespace().any(|w| w == "aptitude") {
                    "`aptitude install` without `--without-recommends`."
                } else {
                    "`apt-get install` without `--no-install-recommends`."
                };
                out.report(&RECOMMENDS, &ins, &script, message.into());
            }
        }
    }
}

pub struct AptCacheNotCleaned;

rule_meta! {
    /// ## What it does
    /// Flags `apt-get install` (or `apt`/`aptitude install`) in a `RUN` or
    /// `ONBUILD RUN` of a shipped stage that does not remove
    /// `/var/lib/apt/lists` (hadolint DL3009), unless the apt directories are
    /// BuildKit cache mounts (`RUN --mount=type=cache,target=/var/cache/apt`):
    /// then keeping the cache is the point, and it is not in the layer.
    /// Builder stages do not ship, so they are not checked.
    /// ## Why is this bad
    /// The package lists stay in the layer: tens of megabytes, and stale
    /// metadata in the shipped image.
    static CACHE = {
        id: "apt-cache-not-cleaned",
        name: "apt lists left in the layer",
        severity: Severity::Low,
        confidence: Confidence::High,
        fix: "Finish the same RUN with `&& rm -rf /var/lib/apt/lists/*`, or use `--mount=type=cache` for the apt directories.",
        cwe: &[],
    };
}

impl Rule for AptCacheNotCleaned {
    fn meta(&self) -> &'static RuleMeta {
        &CACHE
    }

    fn check(&self, df: &Dockerfile, out: &mut Sink) {
        // Only the final stage and the stages it is built FROM ship: lists
        // left in a builder stage that is only copied from cost nothing.
        let shipped = df.shipped_stages();
        for ins in runs_in(shipped.iter().copied()) {
            let script = ins.script();
            if apt_installs(&script).is_empty() {
                continue;
            }
            let cleaned = script.contains("/var/lib/apt/lists");
            let cached = ins.flags.iter().any(|(k, v)| {
                k == "mount"
                    && v.as_deref()
                        .is_some_and(|v| v.contains("type=cache") && v.contains("/var/"))
            });
            if !cleaned && !cached {
                out.report(
                    &CACHE,
                    &ins,
                    &script,
                    "`apt-get install` without removing /var/lib/apt/lists in the same layer."
                        .into(),
                );
            }
        }
    }
}

pub struct UnpinnedPackageInstall;

rule_meta! {
    /// ## What it does
    /// Flags package installs without versions: `apt-get install pkg` (DL3008,
    /// also `apt`/`aptitude install`, and in `ONBUILD RUN`),
    /// `apk add pkg` (DL3018), `pip install pkg` (DL3013), `npm install -g pkg`
    /// (DL3016), `gem install pkg` (DL3028). One finding per RUN.
    /// ## Why is this bad
    /// The image changes with every rebuild, and what was reviewed is not what
    /// ships.
    static UNPINNED_PKG = {
        id: "unpinned-package-install",
        name: "Package installed without a pinned version",
        severity: Severity::Low,
        confidence: Confidence::Medium,
        fix: "Pin each package version, or install from a lockfile (`pip install -r requirements.txt`, `npm ci`).",
        cwe: &[1357],
    };
}

fn unpinned_in(cmd: &str) -> Option<String> {
    let w: Vec<&str> = cmd.split_whitespace().collect();
    // Index of the tool word, when `sub` follows it (options in between).
    let pos = |a: &str, b: &str| subcommand(&w, a, b).map(|k| k - 1);
    let args_after = |i: usize| {
        let k = w[i + 1..]
            .iter()
            .position(|x| !x.starts_with('-'))
            .map_or(w.len(), |k| i + 1 + k);
        w[(k + 1).min(w.len())..]
            .iter()
            .filter(|a| !a.starts_with('-'))
            .copied()
            .collect::<Vec<_>>()
    };
    if let Some(i) = pos("apt-get", "install")
        .or(pos("apt", "install"))
        .or(pos("aptitude", "install"))
    {
        return args_after(i)
            .into_iter()
            .find(|p| !p.contains('=') && !p.ends_with(".deb"))
            .map(str::to_string);
    }
    if let Some(i) = pos("apk", "add") {
        return args_after(i)
            .into_iter()
            .find(|p| !p.contains('=') && !p.starts_with('.'))
            .map(str::to_string);
    }
    if let Some(i) = pos("pip", "install")
        .or(pos("pip3", "install"))
        .or(pos("-m", "pip").map(|i| i + 1))
    {
        if w.iter()
            .any(|a| *a == "-r" || a.starts_with("--requirement") || *a == "-e" || *a == "-c")
        {
            return None;
        }
        return args_after(i)
            .into_iter()
            .filter(|p| *p != "install")
            .find(|p| {
                !p.contains("==")
                    && !p.starts_with('.')
                    && !p.starts_with('/')
                    && !p.ends_with(".whl")
                    && !p.contains("://")
            })
            .map(str::to_string);
    }
    if let Some(i) = pos("npm", "install").or(pos("npm", "i")) {
        if !w.iter().any(|a| *a == "-g" || *a == "--global") {
            return None;
        }
        return args_after(i)
            .into_iter()
            .find(|p| !p[1..].contains('@'))
            .map(str::to_string);
    }
    if let Some(i) = pos("gem", "install") {
        if w.iter().any(|a| *a == "-v" || a.starts_with("--version")) {
            return None;
        }
        return args_after(i)
            .into_iter()
            .find(|p| !p.contains(':'))
            .map(str::to_string);
    }
    None
}

impl Rule for UnpinnedPackageInstall {
    fn meta(&self) -> &'static RuleMeta {
        &UNPINNED_PKG
    }

    fn check(&self, df: &Dockerfile, out: &mut Sink) {
        for ins in runs(df) {
            let script = ins.script();
            if let Some(p) = commands(&script).into_iter().find_map(unpinned_in) {
                out.report(
                    &UNPINNED_PKG,
                    &ins,
                    &format!("{}:{p}", ins.line),
                    format!("`{p}` is installed without a pinned version."),
                );
            }
        }
    }
}

pub struct SudoInRun;

rule_meta! {
    /// ## What it does
    /// Flags `sudo` in a RUN (hadolint DL3004).
    /// ## Why is this bad
    /// RUN already runs as the current USER; sudo in an image means a
    /// privilege-escalation path left in it.
    static SUDO = {
        id: "sudo-in-run",
        name: "sudo used in a RUN",
        severity: Severity::Medium,
        confidence: Confidence::High,
        fix: "Drop sudo: put the privileged step before `USER`, or switch `USER root` around it and back.",
        cwe: &[250],
    };
}

impl Rule for SudoInRun {
    fn meta(&self) -> &'static RuleMeta {
        &SUDO
    }

    fn check(&self, df: &Dockerfile, out: &mut Sink) {
        for ins in runs(df) {
            let script = ins.script();
            if commands(&script)
                .iter()
                .any(|c| c.split_whitespace().next() == Some("sudo"))
            {
                out.report(&SUDO, &ins, "sudo", "The RUN uses `sudo`.".into());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Regression: a trailing shell comment was read as an unpinned package
    /// (`npm install -g serve@14.2.0  # Explicit version`, a real Dockerfile).
    #[test]
    fn shell_comments_end_a_command() {
        assert_eq!(
            commands("npm install -g serve@14.2.0  # Explicit version"),
            vec!["npm install -g serve@14.2.0"]
        );
        assert_eq!(
            commands("npm install -g serve@14.2.0  # Explicit version")
                .into_iter()
                .find_map(unpinned_in),
            None
        );
        assert_eq!(commands("# apt-get install -y vim"), Vec::<&str>::new());
    }

    /// Regression: apt lists left in a builder stage that the final stage is
    /// built FROM do ship; in a stage only copied from, they do not.
    #[test]
    fn apt_lists_count_in_shipped_stages_only() {
        let only_copied = "FROM debian:12 AS build\nRUN apt-get install -y --no-install-recommends gcc\nFROM debian:12-slim\nCOPY --from=build /x /x\n";
        let built_from = "FROM debian:12 AS base\nRUN apt-get install -y --no-install-recommends curl\nFROM base\nUSER 1000\n";
        let count = |text: &str| {
            crate::audit_text("Dockerfile", text)
                .expect("parse")
                .iter()
                .filter(|f| f.rule_id == "apt-cache-not-cleaned")
                .count()
        };
        assert_eq!(count(only_copied), 0);
        assert_eq!(count(built_from), 1);
    }
}

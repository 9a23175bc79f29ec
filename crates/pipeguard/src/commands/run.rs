//! `pipeguard mask` and `pipeguard run`: resolve secrets, hand them to a
//! command, keep them out of its output (issue #7). The work happens in
//! `pipeguard-runtime`; this is the CLI and the secret-source dispatch.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;
use clap::Args;
use pipeguard_core::Policy;
use pipeguard_core::run::RunConfig;
use pipeguard_runtime::source::{self, AgeFiles, Secret};
use pipeguard_runtime::{MaskSet, MaskSetBuilder, Masker, Refused, child, stream};
use pipeguard_secrets::Scanner;

use crate::common::UsageError;

/// Where the values to mask come from, besides a command's own secrets.
#[derive(Args)]
pub struct MaskSources {
    /// Mask the value of this environment variable (repeatable).
    #[arg(long = "env", value_name = "NAME")]
    env: Vec<String>,
    /// Mask each line of FILE as a value (repeatable).
    #[arg(long, value_name = "FILE")]
    values_file: Vec<PathBuf>,
    /// Do not mask what the built-in secret rules find (only known values).
    #[arg(long)]
    no_rules: bool,
    /// Policy file (default: pipeguard.toml in the current directory, if any).
    #[arg(long, short = 'c', value_name = "FILE", env = "PIPEGUARD_CONFIG")]
    config: Option<PathBuf>,
    /// age identity file for `age:` secrets (default: $PIPEGUARD_AGE_IDENTITY_FILE, else the key in $PIPEGUARD_AGE_KEY).
    #[arg(long, value_name = "FILE")]
    identity: Option<PathBuf>,
}

#[derive(Args)]
pub struct MaskArgs {
    #[command(flatten)]
    sources: MaskSources,
    /// A command to run with its output masked; without one, standard input is masked to standard output.
    #[arg(last = true, value_name = "COMMAND")]
    command: Vec<OsString>,
}

#[derive(Args)]
pub struct RunArgs {
    /// A secret for the command: NAME=SPEC with SPEC env:VAR, age:FILE#KEY or aws-sm:ID (repeatable; adds to the policy's [[run.secret]]).
    #[arg(long = "secret", value_name = "NAME=SPEC")]
    secrets: Vec<String>,
    /// Like --secret, but the variable holds the path of a 0600 file with the value.
    #[arg(long = "secret-file", value_name = "NAME=SPEC")]
    secret_files: Vec<String>,
    #[command(flatten)]
    sources: MaskSources,
    /// The command and its arguments.
    #[arg(last = true, required = true, value_name = "COMMAND")]
    command: Vec<OsString>,
}

fn usage(msg: impl Into<String>) -> anyhow::Error {
    anyhow::Error::new(UsageError(msg.into()))
}

fn warn(msg: &str) {
    eprintln!("pipeguard: warning: {msg}");
}

pub fn mask(a: MaskArgs) -> anyhow::Result<i32> {
    let (policy, base) = load_policy(a.sources.config.as_deref())?;
    let mut resolver = Resolver::new(&policy.run, a.sources.identity.clone());
    let mut builder = builder(&policy.run);
    // A policy secret that cannot be resolved here has nothing to mask.
    for s in &policy.run.secret {
        match resolver.resolve(&s.from, &base) {
            Ok(v) => add(&mut builder, &v, &format!("secret {}", s.name)),
            Err(e) => warn(&format!("secret {}: {e:#}; not masked", s.name)),
        }
    }
    let set = finish_set(builder, &a.sources, &policy)?;
    if let Some((program, args)) = a.command.split_first() {
        let launch = child::Launch {
            program: program.clone(),
            args: args.to_vec(),
            env: Vec::new(),
            files: Vec::new(),
        };
        return child::run(launch, set);
    }
    let mut m = Masker::new(set, "<stdin>");
    let mut out = std::io::stdout().lock();
    let done = stream::pump(std::io::stdin(), &mut out, &mut m, false)
        .context("cannot read standard input")?;
    match done.write_error {
        // Whoever reads us stopped (`| head`): not our failure.
        Some(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(0),
        Some(e) => Err(anyhow::Error::new(e).context("cannot write standard output")),
        None => Ok(0),
    }
}

pub fn run(a: RunArgs) -> anyhow::Result<i32> {
    let (policy, base) = load_policy(a.sources.config.as_deref())?;
    let mut resolver = Resolver::new(&policy.run, a.sources.identity.clone());
    let mut wanted: Vec<(String, String, bool, PathBuf)> = policy
        .run
        .secret
        .iter()
        .map(|s| (s.name.clone(), s.from.clone(), s.file, base.clone()))
        .collect();
    for (flags, file) in [(&a.secrets, false), (&a.secret_files, true)] {
        for f in flags {
            let (name, spec) = f
                .split_once('=')
                .ok_or_else(|| usage(format!("--secret {f}: expected NAME=SPEC")))?;
            if !pipeguard_core::run::is_env_name(name) {
                return Err(usage(format!(
                    "--secret: `{name}` is not an environment variable name"
                )));
            }
            pipeguard_core::run::check_source_spec(spec)
                .map_err(|m| usage(format!("--secret {name}: {m}")))?;
            // A flag replaces the policy's secret of the same name.
            wanted.retain(|(n, ..)| n != name);
            wanted.push((name.to_string(), spec.to_string(), file, PathBuf::from(".")));
        }
    }
    let mut builder = builder(&policy.run);
    let mut env = Vec::new();
    let mut files = Vec::new();
    let mut failed = Vec::new();
    for (name, spec, file, base) in wanted {
        match resolver.resolve(&spec, &base) {
            Ok(v) => {
                add(&mut builder, &v, &format!("secret {name}"));
                if file {
                    files.push((name, v));
                } else {
                    env.push((name, v));
                }
            }
            Err(e) => failed.push(format!("secret {name}: {e:#}")),
        }
    }
    if !failed.is_empty() {
        // Every missing secret at once: a CI run is slow to retry.
        return Err(usage(failed.join("\n  ")));
    }
    let set = finish_set(builder, &a.sources, &policy)?;
    let (program, args) = a
        .command
        .split_first()
        .ok_or_else(|| usage("no command given (pipeguard run -- COMMAND ARGS…)"))?;
    let launch = child::Launch {
        program: program.clone(),
        args: args.to_vec(),
        env,
        files,
    };
    child::run(launch, set)
}

fn load_policy(config: Option<&Path>) -> anyhow::Result<(Policy, PathBuf)> {
    let policy = match config {
        Some(p) => Policy::load(p)?,
        None => Policy::discover(Path::new("."))?,
    };
    let base = policy
        .path
        .as_ref()
        .and_then(|p| p.parent())
        .map(Path::to_path_buf)
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or_else(|| PathBuf::from("."));
    Ok((policy, base))
}

fn builder(cfg: &RunConfig) -> MaskSetBuilder {
    MaskSetBuilder::new()
        .min_length(cfg.min_length())
        .marker(cfg.marker())
}

/// Adds a value; a refused one is a warning that names where it came from.
fn add(builder: &mut MaskSetBuilder, value: &[u8], what: &str) {
    match builder.add(value) {
        Ok(()) => {}
        Err(Refused::Empty) => warn(&format!("{what}: empty; nothing to mask")),
        Err(e) => warn(&format!("{what}: {e}; not masked")),
    }
}

/// Adds `--env`, `mask-env` and `--values-file` values and the rules.
fn finish_set(
    mut builder: MaskSetBuilder,
    sources: &MaskSources,
    policy: &Policy,
) -> anyhow::Result<Arc<MaskSet>> {
    for name in sources.env.iter().chain(&policy.run.mask_env) {
        match std::env::var_os(name) {
            Some(v) => add(
                &mut builder,
                std::os::unix::ffi::OsStrExt::as_bytes(v.as_os_str()),
                &format!("--env {name}"),
            ),
            None => warn(&format!("--env {name}: not set; nothing to mask")),
        }
    }
    for file in &sources.values_file {
        let data = zeroize::Zeroizing::new(
            std::fs::read(file).map_err(|e| usage(format!("{}: {e}", file.display())))?,
        );
        for (i, line) in data.split(|&b| b == b'\n').enumerate() {
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            if !line.is_empty() {
                add(&mut builder, line, &format!("{}:{}", file.display(), i + 1));
            }
        }
    }
    if !sources.no_rules && policy.run.mask_rules {
        let base = policy
            .path
            .as_ref()
            .and_then(|p| p.parent())
            .unwrap_or(Path::new("."));
        let scanner = Scanner::new(&policy.secrets, base).map_err(|e| usage(format!("{e:#}")))?;
        builder = builder.rules(Arc::new(scanner));
    }
    Ok(Arc::new(
        builder
            .build()
            .context("cannot build the masking automaton")?,
    ))
}

/// Resolves `SCHEME:REST` specs to values.
struct Resolver<'a> {
    cfg: &'a RunConfig,
    age: AgeFiles,
}

impl<'a> Resolver<'a> {
    fn new(cfg: &'a RunConfig, identity: Option<PathBuf>) -> Self {
        Resolver {
            cfg,
            age: AgeFiles::new(identity),
        }
    }

    fn resolve(&mut self, spec: &str, base: &Path) -> anyhow::Result<Secret> {
        if let Some(var) = spec.strip_prefix("env:") {
            source::from_env(var)
        } else if let Some(rest) = spec.strip_prefix("age:") {
            self.age.get(rest, base)
        } else if let Some(rest) = spec.strip_prefix("aws-sm:") {
            aws_secret(rest, self.cfg).map(zeroize::Zeroizing::new)
        } else {
            Err(usage(format!("`{spec}` is not a secret source")))
        }
    }
}

/// `aws-sm:ID[#KEY]` without the `cloud` feature. With it, the arm below
/// (owned by the cloud work) calls `crate::commands::oidc::aws_secret(spec, cfg)`,
/// which returns the value bytes; errors must not hold the value.
#[cfg(not(feature = "cloud"))]
fn aws_secret(spec: &str, _cfg: &RunConfig) -> anyhow::Result<Vec<u8>> {
    Err(usage(format!(
        "aws-sm:{spec}: aws-sm sources need a pipeguard built with the `cloud` feature"
    )))
}

/// `aws-sm:ID[#KEY]` with the `cloud` feature: the CI's OIDC token is traded
/// at STS for short-lived credentials that read Secrets Manager (`[run.aws]`).
#[cfg(feature = "cloud")]
fn aws_secret(spec: &str, cfg: &RunConfig) -> anyhow::Result<Vec<u8>> {
    crate::commands::oidc::aws_secret(spec, cfg)
}

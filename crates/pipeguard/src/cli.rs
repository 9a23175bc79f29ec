//! Command-line definition and dispatch.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Context;
use clap::{Args, Parser, Subcommand, ValueEnum};
use pipeguard_core::{Policy, Report, Severity, exit};
use pipeguard_report::Format;
use pipeguard_secrets::{GitScope, Scanner};

use crate::output;

#[derive(Parser)]
#[command(
    name = "pipeguard",
    version,
    about = "Secure a CI/CD pipeline from commit to cluster: secrets, dependencies, workflows, images.",
    after_help = "Exit codes: 0 nothing at or above the threshold, 1 findings at or above it, 2 usage or configuration error, 3 internal error."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run every applicable analyzer (secrets, deps, ci, dockerfile, code, images) under one profile and threshold; diff-aware in pull requests.
    Scan(crate::scan::ScanArgs),
    /// Write a commented pipeguard.toml suited to what the tree holds.
    Init(crate::init::InitArgs),
    /// Find hard-coded credentials in files, standard input or git history.
    Secrets(SecretsArgs),
    /// Analyze application source (Python, JavaScript/TypeScript, Java, Go) for injections and unsafe calls, with source-to-sink traces.
    Code(crate::code::CodeArgs),
    /// Find known-vulnerable and untrusted dependencies in lockfiles.
    Deps(DepsArgs),
    /// Audit CI workflows (GitHub Actions, composite actions, GitLab CI) for least privilege and injection.
    Ci(CiArgs),
    /// Check Dockerfiles: root user, single-stage builds, unpinned or fat bases, secrets in layers, unverified downloads.
    Dockerfile(DockerfileArgs),
    /// Write a software bill of materials (CycloneDX 1.6 or SPDX 2.3 JSON) from the tree's lockfiles.
    Sbom(SbomArgs),
    /// Analyze a built image (OCI layout or docker-archive): root user, shells and tools, setuid, secrets in any layer, vulnerable OS packages.
    Image(ImageArgs),
    /// Manage the local advisory database.
    #[command(subcommand)]
    Db(DbCommand),
    /// List the built-in secret rules (and those of the policy's rule files).
    Rules(RulesArgs),
    /// Work with the policy file.
    #[command(subcommand)]
    Policy(PolicyCommand),
    /// Mask known secrets, their encodings and rule matches in standard input, or in the output of `-- COMMAND`.
    Mask(crate::run::MaskArgs),
    /// Run `-- COMMAND` with the policy's secrets (env, age files, AWS) in its environment and its output masked.
    Run(crate::run::RunArgs),
    /// Check a CI OIDC token against its issuer's keys and a trust policy's claims (feature `cloud`).
    #[cfg(feature = "cloud")]
    #[command(subcommand)]
    Oidc(crate::oidc::OidcCommand),
}

#[derive(Subcommand)]
enum PolicyCommand {
    /// Validate a policy file: errors name the line and key (exit 2); expired ignores are warnings.
    Check {
        /// The policy file.
        #[arg(default_value = "pipeguard.toml")]
        file: PathBuf,
    },
    /// Print the JSON schema of pipeguard.toml (the one committed as docs/pipeguard.schema.json).
    Schema,
}

#[derive(Args)]
struct DepsArgs {
    /// Directory (or one lockfile) to scan.
    #[arg(default_value = ".")]
    path: PathBuf,
    /// Advisory database directory (default: the policy's [deps] db, else $PIPEGUARD_DB, else the platform cache).
    #[arg(long, value_name = "DIR")]
    db: Option<PathBuf>,
    #[command(flatten)]
    common: CommonArgs,
}

#[derive(Args)]
struct CiArgs {
    /// Repository root (finds .github/workflows/*.yml, action.yml, .gitlab-ci.yml) or one file.
    #[arg(default_value = ".")]
    path: PathBuf,
    /// Print the minimal `permissions:` block of every job, computed from what its steps do, instead of auditing.
    #[arg(long)]
    suggest_permissions: bool,
    /// Apply the safe fixes (minimal permissions blocks, persist-credentials: false) in place, then audit.
    #[arg(long)]
    fix: bool,
    #[command(flatten)]
    common: CommonArgs,
}

#[derive(Args)]
struct DockerfileArgs {
    /// A Dockerfile, or a directory to search (Dockerfile, Dockerfile.*, *.dockerfile, Containerfile).
    #[arg(default_value = ".")]
    path: PathBuf,
    #[command(flatten)]
    common: CommonArgs,
}

#[derive(Args)]
struct SbomArgs {
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

#[derive(Args)]
struct ImageArgs {
    /// `oci:DIR[:TAG]`, `docker-archive:FILE`, or a path (a directory is an OCI layout, a file a `docker save` tarball).
    reference: String,
    /// Platform to pick from a multi-arch index.
    #[arg(long, default_value = "linux/amd64")]
    platform: String,
    /// Talk to the registry over plain HTTP (only for a registry you run locally).
    #[arg(long)]
    plain_http: bool,
    /// Advisory database directory for OS packages (default: $PIPEGUARD_DB, else the platform cache).
    #[arg(long, value_name = "DIR")]
    db: Option<PathBuf>,
    #[command(flatten)]
    common: CommonArgs,
}

#[derive(Subcommand)]
enum DbCommand {
    /// Import OSV advisories: from OSV's per-ecosystem all.zip files (--from), or download them.
    Update(DbUpdateArgs),
    /// Show the ecosystems, record counts and age of the database.
    Status(DbStatusArgs),
}

#[derive(Args)]
struct DbUpdateArgs {
    /// A directory of `<Ecosystem>/all.zip` files, one zip, or OSV JSON records.
    #[arg(long, value_name = "DIR-OR-ZIP")]
    from: Option<PathBuf>,
    /// Ecosystems to download when --from is not given (default: all supported).
    #[arg(long, value_delimiter = ',')]
    ecosystems: Vec<String>,
    /// Database directory.
    #[arg(long, value_name = "DIR", env = "PIPEGUARD_DB")]
    db: Option<PathBuf>,
}

#[derive(Args)]
struct DbStatusArgs {
    /// Database directory.
    #[arg(long, value_name = "DIR", env = "PIPEGUARD_DB")]
    db: Option<PathBuf>,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Clone, Copy, ValueEnum)]
pub(crate) enum ColorChoice {
    Auto,
    Always,
    Never,
}

/// Options every scanning command shares.
#[derive(Args)]
pub struct CommonArgs {
    /// Policy file (default: pipeguard.toml at the scanned root, if any).
    #[arg(long, short = 'c', value_name = "FILE", env = "PIPEGUARD_CONFIG")]
    pub(crate) config: Option<PathBuf>,
    /// Output format.
    #[arg(long, short = 'f', default_value = "human", value_parser = pipeguard_report::Format::NAMES)]
    pub(crate) format: String,
    /// Write the report to FILE instead of standard output.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub(crate) output: Option<PathBuf>,
    /// Also write the report in another format to a file, from the same scan
    /// (repeatable): `--report sarif=pipeguard.sarif --report markdown=summary.md`.
    #[arg(long, value_name = "FORMAT=FILE", value_parser = parse_report_spec)]
    pub(crate) report: Vec<(Format, PathBuf)>,
    /// Report only findings whose fingerprint is not in this earlier JSON report.
    #[arg(long, value_name = "FILE")]
    pub(crate) baseline: Option<PathBuf>,
    /// Fail (exit 1) on findings at or above this severity; overrides the policy's `fail-on`.
    #[arg(long, value_name = "SEVERITY", value_parser = parse_severity)]
    pub(crate) fail_on: Option<Severity>,
    /// When to colour the human report.
    #[arg(long, value_enum, default_value = "auto")]
    pub(crate) color: ColorChoice,
    /// Never draw a progress line on standard error.
    #[arg(long)]
    pub(crate) no_progress: bool,
}

fn parse_report_spec(s: &str) -> Result<(Format, PathBuf), String> {
    let (f, file) = s
        .split_once('=')
        .ok_or_else(|| format!("`{s}`: expected FORMAT=FILE, e.g. sarif=pipeguard.sarif"))?;
    if file.is_empty() {
        return Err(format!("`{s}`: no file name after `=`"));
    }
    Ok((f.parse()?, PathBuf::from(file)))
}

fn parse_severity(s: &str) -> Result<Severity, String> {
    s.parse()
}

#[derive(Args)]
struct SecretsArgs {
    /// Directory or file to scan; `-` reads standard input.
    #[arg(default_value = ".")]
    path: PathBuf,
    /// Scan the full history of every ref instead of the working tree.
    #[arg(long, conflicts_with = "staged")]
    git: bool,
    /// Scan only commits after REV (reachable from HEAD, not from REV); implies --git.
    #[arg(long, value_name = "REV", conflicts_with = "staged")]
    since: Option<String>,
    /// Scan only what is staged in the index (for pre-commit hooks).
    #[arg(long)]
    staged: bool,
    /// Skip files larger than this many bytes (default 64 MiB, or the policy's max-file-size).
    #[arg(long, value_name = "BYTES")]
    max_file_size: Option<u64>,
    /// Follow symbolic links (loops are detected and reported).
    #[arg(long)]
    follow: bool,
    /// Also scan files excluded by .gitignore.
    #[arg(long)]
    scan_ignored: bool,
    #[command(flatten)]
    common: CommonArgs,
}

#[derive(Args)]
struct RulesArgs {
    /// Policy file whose rule files and disabled rules apply.
    #[arg(long, short = 'c', value_name = "FILE")]
    config: Option<PathBuf>,
    /// Print JSON instead of a table.
    #[arg(long)]
    json: bool,
}

/// Errors that are the user's to fix (exit 2), as opposed to internal ones.
#[derive(Debug)]
pub struct UsageError(pub String);

impl std::fmt::Display for UsageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UsageError {}

pub(crate) fn usage(msg: impl Into<String>) -> anyhow::Error {
    anyhow::Error::new(UsageError(msg.into()))
}

pub fn run() -> i32 {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() {
                exit::USAGE
            } else {
                exit::CLEAN
            };
        }
    };
    let result = match cli.command {
        Command::Scan(a) => crate::scan::run(a),
        Command::Init(a) => crate::init::run(a),
        Command::Secrets(a) => secrets(a),
        Command::Code(a) => crate::code::run(a),
        Command::Deps(a) => deps(a),
        Command::Ci(a) => ci(a),
        Command::Dockerfile(a) => dockerfile(a),
        Command::Sbom(a) => sbom(a),
        Command::Image(a) => image(a),
        Command::Db(DbCommand::Update(a)) => db_update(a),
        Command::Db(DbCommand::Status(a)) => db_status(a),
        Command::Rules(a) => rules(a),
        Command::Policy(PolicyCommand::Check { file }) => policy_check(&file),
        Command::Policy(PolicyCommand::Schema) => policy_schema(),
        Command::Mask(a) => crate::run::mask(a),
        Command::Run(a) => crate::run::run(a),
        #[cfg(feature = "cloud")]
        Command::Oidc(c) => crate::oidc::run(c),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            let usage = e.downcast_ref::<UsageError>().is_some()
                || e.downcast_ref::<pipeguard_core::PolicyError>().is_some()
                || e.downcast_ref::<pipeguard_secrets::rules::RuleError>()
                    .is_some();
            eprintln!("pipeguard: error: {e:#}");
            if usage { exit::USAGE } else { exit::INTERNAL }
        }
    }
}

/// The policy: `--config`, else `pipeguard.toml` at the root, else defaults.
pub(crate) fn load_policy(config: Option<&Path>, root: &Path) -> anyhow::Result<Policy> {
    Ok(match config {
        Some(p) => Policy::load(p)?,
        None => Policy::discover(root)?,
    })
}

pub(crate) fn policy_base(policy: &Policy, root: &Path) -> PathBuf {
    policy
        .path
        .as_ref()
        .and_then(|p| p.parent().map(Path::to_path_buf))
        .unwrap_or_else(|| {
            if root.is_dir() {
                root.to_path_buf()
            } else {
                PathBuf::from(".")
            }
        })
}

fn secrets(a: SecretsArgs) -> anyhow::Result<i32> {
    let started = Instant::now();
    let stdin = a.path.as_os_str() == "-";
    if !stdin && !a.path.exists() {
        return Err(usage(format!(
            "{}: no such file or directory",
            a.path.display()
        )));
    }
    let root = if stdin {
        PathBuf::from(".")
    } else {
        a.path.clone()
    };
    let policy = load_policy(a.common.config.as_deref(), &root)?;
    let mut cfg = policy.secrets.clone();
    if a.scan_ignored {
        cfg.scan_ignored = true;
    }
    let mut scanner = Scanner::new(&cfg, &policy_base(&policy, &root))
        .map_err(|e| usage(format!("{e:#}")))?
        .follow_links(a.follow);
    if let Some(m) = a.max_file_size {
        scanner = scanner.max_file_size(m);
    }
    let progress = output::Progress::new(a.common.no_progress);
    let scope = if a.staged {
        Some(GitScope::Staged)
    } else if let Some(rev) = &a.since {
        Some(GitScope::Since(rev.clone()))
    } else if a.git {
        Some(GitScope::All)
    } else {
        None
    };
    let (outcome, command) = if stdin {
        let mut data = Vec::new();
        std::io::stdin()
            .read_to_end(&mut data)
            .context("cannot read standard input")?;
        (scanner.scan_bytes("<stdin>", &data), "secrets -")
    } else if let Some(scope) = &scope {
        if !root.is_dir() {
            return Err(usage(format!(
                "{}: git history scanning needs a directory inside a repository",
                root.display()
            )));
        }
        let out = scanner
            .scan_git(&root, scope, &|n| progress.inc(n))
            .map_err(|e| usage(format!("{e:#}")))?;
        (out, "secrets --git")
    } else {
        (scanner.scan_path(&root, &|n| progress.inc(n)), "secrets")
    };
    progress.finish();

    let shown_root = shown_root(&root);
    let fail_on = a.common.fail_on.unwrap_or(policy.fail_on);
    let mut report = Report::new(command, &shown_root, fail_on);
    report.summary.files_scanned = outcome.files;
    report.summary.bytes_scanned = outcome.bytes;
    report.summary.blobs_scanned = outcome.blobs;
    report.summary.commits_scanned = outcome.commits;
    report.problems = outcome.problems;
    let findings = policy.apply_ignores(outcome.findings, pipeguard_core::policy::today());
    if !stdin {
        report.commit = scanned_commit(&root);
    }
    report.findings =
        output::apply_baseline(findings, a.common.baseline.as_deref(), &mut report.summary)?;
    report.summary.duration_ms = started.elapsed().as_millis() as u64;
    report.finish();
    output::emit(&report, &a.common)?;
    Ok(if report.fails() {
        exit::FINDINGS
    } else {
        exit::CLEAN
    })
}

/// Runs the shared tail of every scan: ignores, baseline, render, exit code.
/// The commit being scanned: the CI's own variable, else `git rev-parse HEAD`.
fn scanned_commit(root: &Path) -> Option<String> {
    for var in ["CI_COMMIT_SHA", "GITHUB_SHA"] {
        if let Ok(v) = std::env::var(var)
            && !v.trim().is_empty()
        {
            return Some(v.trim().to_string());
        }
    }
    let dir = if root.is_dir() { root } else { Path::new(".") };
    let out = crate::diff::git(dir, &["rev-parse", "--verify", "-q", "HEAD"]).ok()?;
    let sha = String::from_utf8_lossy(&out).trim().to_string();
    (!sha.is_empty()).then_some(sha)
}

fn policy_schema() -> anyhow::Result<i32> {
    let mut text = serde_json::to_string_pretty(&pipeguard_core::policy::json_schema())?;
    text.push('\n');
    output::write_stdout(text.as_bytes())?;
    Ok(exit::CLEAN)
}

pub(crate) fn finish_report(
    mut report: Report,
    findings: Vec<pipeguard_core::Finding>,
    policy: &Policy,
    common: &CommonArgs,
    started: Instant,
) -> anyhow::Result<i32> {
    let findings = policy.apply_ignores(findings, pipeguard_core::policy::today());
    if report.commit.is_none() {
        report.commit = scanned_commit(Path::new(&report.root));
    }
    report.findings =
        output::apply_baseline(findings, common.baseline.as_deref(), &mut report.summary)?;
    report.summary.duration_ms = started.elapsed().as_millis() as u64;
    report.finish();
    output::emit(&report, common)?;
    Ok(if report.fails() {
        exit::FINDINGS
    } else {
        exit::CLEAN
    })
}

fn deps(a: DepsArgs) -> anyhow::Result<i32> {
    let started = Instant::now();
    require_path(&a.path)?;
    let policy = load_policy(a.common.config.as_deref(), &a.path)?;
    let db =
        a.db.clone()
            .or_else(|| {
                policy
                    .deps
                    .db
                    .as_ref()
                    .map(|d| policy_base(&policy, &a.path).join(d))
            })
            .unwrap_or_else(pipeguard_deps::db::default_dir);
    let outcome = pipeguard_deps::scan::scan(&a.path, &db, &policy.deps)
        .map_err(|e| usage(format!("{e:#}")))?;
    let shown_root = shown_root(&a.path);
    let fail_on = a.common.fail_on.unwrap_or(policy.fail_on);
    let mut report = Report::new("deps", &shown_root, fail_on);
    report.summary.files_scanned = outcome.lockfiles;
    report.summary.bytes_scanned = outcome.bytes;
    report.summary.packages_scanned = Some(outcome.packages);
    report.problems = outcome.problems;
    finish_report(report, outcome.findings, &policy, &a.common, started)
}

fn ci(a: CiArgs) -> anyhow::Result<i32> {
    let started = Instant::now();
    require_path(&a.path)?;
    if a.suggest_permissions {
        let mut out = String::new();
        for (file, job, block) in pipeguard_ci::suggest_permissions(&a.path) {
            out.push_str(&format!("# {file}: job {job}\n{block}\n\n"));
        }
        output::write_stdout(out.as_bytes())?;
        return Ok(exit::CLEAN);
    }
    if a.fix {
        for f in pipeguard_ci::fix(&a.path).context("cannot write a fixed workflow")? {
            eprintln!("pipeguard: fixed {f}");
        }
    }
    let policy = load_policy(a.common.config.as_deref(), &a.path)?;
    // One walk: the same files are audited and searched for secrets.
    let files = pipeguard_ci::files(&a.path);
    let mut outcome = pipeguard_ci::scan_files(&files);
    outcome
        .findings
        .extend(secrets_in(files, &policy, &a.path)?);
    let shown_root = shown_root(&a.path);
    let fail_on = a.common.fail_on.unwrap_or(policy.fail_on);
    let mut report = Report::new("ci", &shown_root, fail_on);
    report.summary.files_scanned = outcome.files;
    report.summary.bytes_scanned = outcome.bytes;
    report.problems = outcome.problems;
    finish_report(report, outcome.findings, &policy, &a.common, started)
}

fn dockerfile(a: DockerfileArgs) -> anyhow::Result<i32> {
    let started = Instant::now();
    require_path(&a.path)?;
    let policy = load_policy(a.common.config.as_deref(), &a.path)?;
    let files = pipeguard_container::files(&a.path);
    let mut outcome = pipeguard_container::scan_files(&files);
    outcome
        .findings
        .extend(secrets_in(files, &policy, &a.path)?);
    let shown_root = shown_root(&a.path);
    let fail_on = a.common.fail_on.unwrap_or(policy.fail_on);
    let mut report = Report::new("dockerfile", &shown_root, fail_on);
    report.summary.files_scanned = outcome.files;
    report.summary.bytes_scanned = outcome.bytes;
    report.problems = outcome.problems;
    finish_report(report, outcome.findings, &policy, &a.common, started)
}

fn sbom(a: SbomArgs) -> anyhow::Result<i32> {
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

fn image(a: ImageArgs) -> anyhow::Result<i32> {
    let started = Instant::now();
    let policy = load_policy(a.common.config.as_deref(), Path::new("."))?;
    let out = analyze_image(
        &a.reference,
        &a.platform,
        a.plain_http,
        a.db.clone(),
        &policy,
    )?;
    let fail_on = a.common.fail_on.unwrap_or(policy.fail_on);
    let mut report = Report::new("image", &a.reference, fail_on);
    report.summary.files_scanned = out.files;
    report.summary.bytes_scanned = out.bytes;
    report.summary.packages_scanned = Some(out.packages);
    report.problems = out.problems;
    finish_report(report, out.findings, &policy, &a.common, started)
}

/// What the image analysis found, before ignores and rendering.
pub(crate) struct ImageOutcome {
    pub findings: Vec<pipeguard_core::Finding>,
    pub problems: Vec<pipeguard_core::Problem>,
    pub files: u64,
    pub bytes: u64,
    pub packages: u64,
}

/// Opens (or pulls) an image and runs every image check on it.
pub(crate) fn analyze_image(
    r: &str,
    platform: &str,
    plain_http: bool,
    db: Option<PathBuf>,
    policy: &Policy,
) -> anyhow::Result<ImageOutcome> {
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
    let scanner =
        Scanner::new(&policy.secrets, Path::new(".")).map_err(|e| usage(format!("{e:#}")))?;
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
        let db = db.unwrap_or_else(pipeguard_deps::db::default_dir);
        match pipeguard_deps::db::Index::open(&db) {
            Err(e) => problems.push(problem(format!("installed packages not checked: {e:#}"))),
            Ok(mut index) => {
                let ecos: Vec<pipeguard_deps::Ecosystem> = os_found
                    .iter()
                    .filter_map(|f| f.lockfile.kind.ecosystem())
                    .filter(|e| index.has(*e))
                    .collect();
                index.load_all(&db, &ecos)?;
                let found = os_found;
                findings.extend(pipeguard_deps::scan::match_all(
                    &found,
                    &index,
                    &mut problems,
                ));
            }
        }
    }
    Ok(ImageOutcome {
        findings,
        problems,
        files,
        bytes,
        packages: package_count as u64,
    })
}

/// Opens `oci:DIR[:TAG]`, `docker-archive:FILE`, or a path (a directory is an
/// OCI layout, a file a docker archive).
fn open_image(r: &str, platform: &str) -> anyhow::Result<pipeguard_container::image::Image> {
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

/// The versions of stashed files that are in the final image.
fn final_versions(
    view: &pipeguard_container::image::FsView,
    stash: Vec<(String, usize, Vec<u8>)>,
) -> Vec<(String, Vec<u8>)> {
    stash
        .into_iter()
        .filter(|(p, layer, _)| !view.is_deleted_later(p, *layer))
        .map(|(p, _, c)| (p, c))
        .collect()
}

/// Whether a file of an image is one of the package databases or os-release.
fn is_package_db(path: &str) -> bool {
    path == "etc/os-release"
        || path == "usr/lib/os-release"
        || path == "var/lib/dpkg/status"
        || path.starts_with("var/lib/dpkg/status.d/")
        || path == "lib/apk/db/installed"
        || is_language_manifest(path)
}

/// Installed Python distributions (`…/x.dist-info/METADATA`) and npm
/// packages (`…/node_modules/[@scope/]name/package.json`).
fn is_language_manifest(path: &str) -> bool {
    if path.ends_with(".dist-info/METADATA") {
        return true;
    }
    let Some(rest) = path.strip_suffix("/package.json") else {
        return false;
    };
    let Some((_, after)) = rest.rsplit_once("node_modules/") else {
        return false;
    };
    // `name` or `@scope/name` directly under node_modules, not a file deeper inside.
    let parts: Vec<&str> = after.split('/').collect();
    matches!(parts.as_slice(), [n] if !n.is_empty())
        || matches!(parts.as_slice(), [s, n] if s.starts_with('@') && !n.is_empty())
}

/// Language packages installed in an image, as lockfile-like inputs.
fn language_packages(name: &str, stash: &[(String, Vec<u8>)]) -> Vec<pipeguard_deps::scan::Found> {
    use pipeguard_deps::Ecosystem;
    use pipeguard_deps::lockfile::{Kind, Lockfile, Package, Source};
    let pkg = |eco, name: String, version: String| Package {
        ecosystem: eco,
        name,
        version,
        line: 0,
        source: Source::Registry,
        integrity: None,
        direct: true,
        dev: false,
        dependencies: Vec::new(),
    };
    let mut python = Vec::new();
    let mut npm = Vec::new();
    for (path, content) in stash {
        let text = String::from_utf8_lossy(content);
        if path.ends_with(".dist-info/METADATA") {
            // RFC 822-style headers, up to the first blank line.
            let field = |k: &str| {
                text.lines()
                    .take_while(|l| !l.is_empty())
                    .find_map(|l| l.strip_prefix(k).map(|v| v.trim().to_string()))
            };
            if let (Some(n), Some(v)) = (field("Name:"), field("Version:")) {
                python.push(pkg(Ecosystem::PyPI, n, v));
            }
        } else if is_language_manifest(path)
            && let Ok(v) = serde_json::from_str::<serde_json::Value>(&text)
            && let (Some(n), Some(ver)) = (v["name"].as_str(), v["version"].as_str())
        {
            npm.push(pkg(Ecosystem::Npm, n.to_string(), ver.to_string()));
        }
    }
    let mut found = Vec::new();
    for (kind, packages, what) in [
        (Kind::Requirements, python, "python packages"),
        (Kind::PackageLock, npm, "node_modules"),
    ] {
        if !packages.is_empty() {
            found.push(pipeguard_deps::scan::Found {
                path: format!("{name}//({what})"),
                lockfile: Lockfile {
                    kind,
                    packages,
                    has_graph: false,
                },
                release: None,
            });
        }
    }
    found
}

/// The OS packages of an image, from its package database files (read out
/// of the final layers), and the same as lockfile-like inputs for matching
/// and SBOMs: source packages, as distro advisories name them.
fn os_packages(
    name: &str,
    stash: &[(String, Vec<u8>)],
) -> (
    Vec<pipeguard_container::image::OsPackage>,
    Vec<pipeguard_deps::scan::Found>,
) {
    use pipeguard_container::image as img;
    use pipeguard_deps::Ecosystem;
    use pipeguard_deps::lockfile::{Kind, Lockfile, Package, Source};
    let text_of = |p: &str| {
        stash
            .iter()
            .find(|(path, _)| path == p)
            .map(|(_, c)| String::from_utf8_lossy(c).into_owned())
    };
    let release = text_of("etc/os-release")
        .or_else(|| text_of("usr/lib/os-release"))
        .map(|t| img::parse_os_release(&t));
    let rel = release.as_ref().map(|r| r.release()).unwrap_or_default();
    let dpkg_eco = if release.as_ref().is_some_and(|r| r.id == "ubuntu") {
        "Ubuntu"
    } else {
        "Debian"
    };
    let mut packages: Vec<img::OsPackage> = Vec::new();
    for (path, content) in stash {
        let text = String::from_utf8_lossy(content);
        if path == "var/lib/dpkg/status" || path.starts_with("var/lib/dpkg/status.d/") {
            packages.extend(img::parse_dpkg_status(&text, dpkg_eco, &rel));
        } else if path == "lib/apk/db/installed" {
            packages.extend(img::parse_apk_installed(&text, &rel));
        }
    }
    let mut found = Vec::new();
    for (eco, kind, db_path) in [
        (Ecosystem::Debian, Kind::DpkgStatus, "var/lib/dpkg/status"),
        (
            Ecosystem::Alpine,
            Kind::ApkInstalled,
            "lib/apk/db/installed",
        ),
    ] {
        let pkgs: Vec<Package> = packages
            .iter()
            .filter(|p| Ecosystem::from_osv(&p.ecosystem) == Some(eco))
            .map(|p| Package {
                ecosystem: eco,
                name: p.source_name.clone(),
                version: p.source_version.clone(),
                line: 0,
                source: Source::Registry,
                integrity: None,
                direct: true,
                dev: false,
                dependencies: Vec::new(),
            })
            .collect();
        if !pkgs.is_empty() {
            found.push(pipeguard_deps::scan::Found {
                path: format!("{name}//{db_path}"),
                lockfile: Lockfile {
                    kind,
                    packages: pkgs,
                    has_graph: false,
                },
                release: Some(rel.clone()),
            });
        }
    }
    found.extend(language_packages(name, stash));
    (packages, found)
}

/// The scanned root as reports show it: absolute when it exists.
pub(crate) fn shown_root(path: &Path) -> String {
    std::fs::canonicalize(path)
        .unwrap_or_else(|_| path.to_path_buf())
        .display()
        .to_string()
}

pub(crate) fn require_path(path: &Path) -> anyhow::Result<()> {
    if path.exists() {
        Ok(())
    } else {
        Err(usage(format!(
            "{}: no such file or directory",
            path.display()
        )))
    }
}

/// The secrets engine over a given set of files (CI files, Dockerfiles):
/// literal credentials in them are the secrets analyzer's findings, so
/// `ci` and `dockerfile` alone catch them too.
pub(crate) fn secrets_in(
    files: Vec<(PathBuf, String)>,
    policy: &Policy,
    root: &Path,
) -> anyhow::Result<Vec<pipeguard_core::Finding>> {
    let scanner = Scanner::new(&policy.secrets, &policy_base(policy, root))
        .map_err(|e| usage(format!("{e:#}")))?;
    Ok(scanner.scan_files(&files).findings)
}

fn db_dir(flag: Option<PathBuf>) -> PathBuf {
    flag.unwrap_or_else(pipeguard_deps::db::default_dir)
}

fn db_update(a: DbUpdateArgs) -> anyhow::Result<i32> {
    let dir = db_dir(a.db);
    let started = Instant::now();
    let tmp;
    let (from, source) = match &a.from {
        Some(f) => {
            if !f.exists() {
                return Err(usage(format!(
                    "--from {}: no such file or directory",
                    f.display()
                )));
            }
            (f.clone(), f.display().to_string())
        }
        None => {
            let ecos: Vec<pipeguard_deps::Ecosystem> = if a.ecosystems.is_empty() {
                pipeguard_deps::Ecosystem::ALL.to_vec()
            } else {
                a.ecosystems
                    .iter()
                    .map(|e| {
                        pipeguard_deps::Ecosystem::from_osv(e)
                            .ok_or_else(|| usage(format!("unknown ecosystem `{e}`")))
                    })
                    .collect::<anyhow::Result<_>>()?
            };
            tmp = std::env::temp_dir().join(format!("pipeguard-osv-{}", std::process::id()));
            let failed = pipeguard_deps::db::download(&tmp, &ecos)?;
            for (eco, why) in &failed {
                eprintln!("pipeguard: warning: {eco}: download failed: {why}");
            }
            if failed.len() == ecos.len() {
                let _ = std::fs::remove_dir_all(&tmp);
                anyhow::bail!(
                    "could not download any advisories (offline?); import local OSV dumps with `pipeguard db update --from DIR`"
                );
            }
            (tmp.clone(), pipeguard_deps::db::OSV_BUCKET.to_string())
        }
    };
    let stats =
        pipeguard_deps::db::import(&dir, &from, &source).map_err(|e| usage(format!("{e:#}")))?;
    if a.from.is_none() {
        let _ = std::fs::remove_dir_all(&from);
    }
    let mut out = String::new();
    for (eco, (added, updated, unchanged)) in &stats.per_ecosystem {
        out.push_str(&format!(
            "{eco:<10} {added:>6} added {updated:>6} updated {unchanged:>6} unchanged\n"
        ));
    }
    for s in stats.skipped.iter().take(20) {
        eprintln!("pipeguard: warning: skipped {s}");
    }
    out.push_str(&format!(
        "database: {} ({} ms)\n",
        dir.display(),
        started.elapsed().as_millis()
    ));
    output::write_stdout(out.as_bytes())?;
    Ok(exit::CLEAN)
}

fn db_status(a: DbStatusArgs) -> anyhow::Result<i32> {
    let dir = db_dir(a.db);
    let meta = pipeguard_deps::db::read_meta(&dir)
        .map_err(|e| usage(format!("{e:#}")))?
        .ok_or_else(|| {
            usage(format!(
                "no advisory database at {}; create it with `pipeguard db update`",
                dir.display()
            ))
        })?;
    let out = if a.json {
        let mut s = serde_json::to_string_pretty(&meta)?;
        s.push('\n');
        s
    } else {
        let now = jiff::Timestamp::now().as_second();
        let mut s = format!("database: {}\n", dir.display());
        for (eco, m) in &meta.ecosystems {
            let age = m
                .imported_at
                .parse::<jiff::Timestamp>()
                .map(|t| format!("{} days", (now - t.as_second()) / 86_400))
                .unwrap_or_else(|_| "unknown".into());
            s.push_str(&format!(
                "{eco:<10} {:>6} records  imported {} ago  newest record {}\n",
                m.records, age, m.newest_modified
            ));
        }
        s
    };
    output::write_stdout(out.as_bytes())?;
    Ok(exit::CLEAN)
}

fn policy_check(file: &Path) -> anyhow::Result<i32> {
    let policy = Policy::load(file)?;
    // Rule files, regexes and globs are only checked when a scanner is built.
    Scanner::new(&policy.secrets, &policy_base(&policy, Path::new(".")))
        .map_err(|e| usage(format!("{}: {e:#}", file.display())))?;
    let today = pipeguard_core::policy::today();
    let expired: Vec<&pipeguard_core::IgnoreEntry> = policy
        .ignores
        .iter()
        .filter(|i| i.expires.is_some_and(|d| d < today))
        .collect();
    for e in &expired {
        eprintln!(
            "pipeguard: warning: {}:{}: this ignore expired on {}",
            file.display(),
            e.line,
            e.expires.map(|d| d.to_string()).unwrap_or_default()
        );
    }
    let out = format!(
        "{}: ok (fail-on {}, {} ignore(s), {} expired)\n",
        file.display(),
        policy.fail_on,
        policy.ignores.len(),
        expired.len()
    );
    output::write_stdout(out.as_bytes())?;
    Ok(exit::CLEAN)
}

fn rules(a: RulesArgs) -> anyhow::Result<i32> {
    let root = PathBuf::from(".");
    let policy = load_policy(a.config.as_deref(), &root)?;
    let scanner = Scanner::new(&policy.secrets, &policy_base(&policy, &root))
        .map_err(|e| usage(format!("{e:#}")))?;
    let rules = scanner.engine().rules();
    let mut out = String::new();
    if a.json {
        let list: Vec<_> = rules
            .iter()
            .map(|r| {
                serde_json::json!({
                    "id": r.id, "name": r.name, "severity": r.severity.as_str(),
                    "confidence": r.confidence.to_string(), "keywords": r.keywords,
                    "source": r.source,
                })
            })
            .collect();
        out = serde_json::to_string_pretty(&list)?;
        out.push('\n');
    } else {
        for r in rules {
            out.push_str(&format!(
                "{:<45} {:<9} {}\n",
                r.id,
                r.severity.as_str(),
                r.name
            ));
        }
        out.push_str(&format!("{} rules\n", rules.len()));
    }
    output::write_stdout(out.as_bytes())?;
    Ok(exit::CLEAN)
}

impl CommonArgs {
    pub fn format(&self) -> Format {
        self.format.parse().unwrap_or(Format::Human)
    }

    pub fn output(&self) -> Option<&Path> {
        self.output.as_deref()
    }

    pub fn extra_reports(&self) -> &[(Format, PathBuf)] {
        &self.report
    }

    pub fn color(&self, is_tty: bool) -> bool {
        match self.color {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => is_tty && std::env::var_os("NO_COLOR").is_none(),
        }
    }
}

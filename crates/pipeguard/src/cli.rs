//! The command line: clap's types and the dispatch to one module per
//! command (`commands/`), and the mapping of errors to exit codes.

use std::path::PathBuf;

use clap::{Parser, Subcommand};
use pipeguard_core::exit;

use crate::commands::{self, db::DbCommand};
use crate::common::UsageError;

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
    Scan(commands::scan::ScanArgs),
    /// Write a commented pipeguard.toml suited to what the tree holds.
    Init(commands::init::InitArgs),
    /// Find hard-coded credentials in files, standard input or git history.
    Secrets(commands::secrets::SecretsArgs),
    /// Analyze application source (Python, JavaScript/TypeScript, Java, Go) for injections and unsafe calls, with source-to-sink traces.
    Code(commands::code::CodeArgs),
    /// Find known-vulnerable and untrusted dependencies in lockfiles.
    Deps(commands::deps::DepsArgs),
    /// Audit CI workflows (GitHub Actions, composite actions, GitLab CI) for least privilege and injection.
    Ci(commands::ci::CiArgs),
    /// Check Dockerfiles: root user, single-stage builds, unpinned or fat bases, secrets in layers, unverified downloads.
    Dockerfile(commands::dockerfile::DockerfileArgs),
    /// Write a software bill of materials (CycloneDX 1.6 or SPDX 2.3 JSON) from the tree's lockfiles.
    Sbom(commands::sbom::SbomArgs),
    /// Analyze a built image (OCI layout or docker-archive): root user, shells and tools, setuid, secrets in any layer, vulnerable OS packages.
    Image(commands::image::ImageArgs),
    /// Manage the local advisory database.
    #[command(subcommand)]
    Db(DbCommand),
    /// List every rule of every analyzer (id, severity, CWE, docs, help link), the policy's secret rule files included.
    Rules(commands::rules::RulesArgs),
    /// Work with the policy file.
    #[command(subcommand)]
    Policy(PolicyCommand),
    /// Mask known secrets, their encodings and rule matches in standard input, or in the output of `-- COMMAND`.
    Mask(commands::run::MaskArgs),
    /// Run `-- COMMAND` with the policy's secrets (env, age files, AWS) in its environment and its output masked.
    Run(commands::run::RunArgs),
    /// Check a CI OIDC token against its issuer's keys and a trust policy's claims (feature `cloud`).
    #[cfg(feature = "cloud")]
    #[command(subcommand)]
    Oidc(commands::oidc::OidcCommand),
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
        Command::Scan(a) => commands::scan::run(a),
        Command::Init(a) => commands::init::run(a),
        Command::Secrets(a) => commands::secrets::run(a),
        Command::Code(a) => commands::code::run(a),
        Command::Deps(a) => commands::deps::run(a),
        Command::Ci(a) => commands::ci::run(a),
        Command::Dockerfile(a) => commands::dockerfile::run(a),
        Command::Sbom(a) => commands::sbom::run(a),
        Command::Image(a) => commands::image::run(a),
        Command::Db(DbCommand::Update(a)) => commands::db::update(a),
        Command::Db(DbCommand::Status(a)) => commands::db::status(a),
        Command::Rules(a) => commands::rules::run(a),
        Command::Policy(PolicyCommand::Check { file }) => commands::policy::check(&file),
        Command::Policy(PolicyCommand::Schema) => commands::policy::schema(),
        Command::Mask(a) => commands::run::mask(a),
        Command::Run(a) => commands::run::run(a),
        #[cfg(feature = "cloud")]
        Command::Oidc(c) => commands::oidc::run(c),
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

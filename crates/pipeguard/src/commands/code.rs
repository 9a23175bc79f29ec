//! `pipeguard code`: static analysis of application source (the
//! `pipeguard-sast` engine) with the shared report tail.

use std::path::PathBuf;
use std::time::Instant;

use clap::Args;

use crate::analyze::{self, Scope};
use crate::common::{CommonArgs, db_dir, load_policy, require_path, shown_root, usage};
use crate::output;

#[derive(Args)]
pub struct CodeArgs {
    /// Directory or source file to analyze (Python, JavaScript/TypeScript, Java, Go).
    #[arg(default_value = ".")]
    path: PathBuf,
    /// Skip source files larger than this many bytes (generated or bundled code).
    #[arg(long, value_name = "BYTES", default_value_t = pipeguard_sast::DEFAULT_MAX_FILE_SIZE)]
    max_file_size: u64,
    /// Also analyze files excluded by .gitignore.
    #[arg(long)]
    scan_ignored: bool,
    /// List the rules (id, CWE, severity, kind) instead of scanning.
    #[arg(long)]
    list_rules: bool,
    #[command(flatten)]
    common: CommonArgs,
}

pub fn run(a: CodeArgs) -> anyhow::Result<i32> {
    let started = Instant::now();
    // A rule file that does not load is a bug in this build, not the user's input.
    let engine =
        pipeguard_sast::Engine::new().map_err(|e| anyhow::anyhow!("built-in SAST rules: {e}"))?;
    if a.list_rules {
        let mut out = String::new();
        for r in engine.rules() {
            out.push_str(&format!(
                "{:<45} {:<9} {:<8} {:<10} {}\n",
                r.id, r.cwe, r.severity, r.kind, r.name
            ));
        }
        output::write_stdout(out.as_bytes())?;
        return Ok(pipeguard_core::exit::CLEAN);
    }
    require_path(&a.path)?;
    if a.max_file_size == 0 {
        return Err(usage("--max-file-size must be above 0"));
    }
    let policy = load_policy(a.common.config.as_deref(), &a.path)?;
    let opts = pipeguard_sast::Options {
        max_file_size: a.max_file_size,
        scan_ignored: a.scan_ignored,
    };
    let scope = Scope::tree(&a.path, &policy, db_dir(None, &policy, &a.path))?;
    let part = analyze::code::analyze(&scope, &engine, &opts)?;
    output::report(
        "code",
        &shown_root(&a.path),
        part,
        &policy,
        &a.common,
        started,
    )
}

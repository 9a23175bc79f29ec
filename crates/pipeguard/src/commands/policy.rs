//! `pipeguard policy`: validate the policy file, print its JSON schema.

use std::path::Path;

use pipeguard_core::{Policy, exit};
use pipeguard_secrets::Scanner;

use crate::common::{policy_base, usage};
use crate::output;

pub fn schema() -> anyhow::Result<i32> {
    let mut text = serde_json::to_string_pretty(&pipeguard_core::policy::json_schema())?;
    text.push('\n');
    output::write_stdout(text.as_bytes())?;
    Ok(exit::CLEAN)
}

pub fn check(file: &Path) -> anyhow::Result<i32> {
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

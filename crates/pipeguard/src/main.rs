//! The pipeguard binary: the CLI definition plus glue. Analyzers live in their
//! own crates. `cli` parses arguments and dispatches to `commands/` (one file
//! per command); `analyze/` has one entry point per analyzer, shared by its
//! command and by `scan`; `common` loads the policy; `output` applies
//! ignores and baselines, renders, and maps the result to an exit code.
//!
//! Modules depend downwards only: cli → commands → analyze → common, and
//! commands → output → common; `analyze` → `advisories` (getting the
//! database); `diff` and `cache` depend on nothing here.
#![allow(clippy::print_stdout)] // this is the output module

mod advisories;
mod analyze;
mod cache;
mod cli;
mod commands;
mod common;
mod diff;
mod output;
mod registry;

use std::process::ExitCode;

fn main() -> ExitCode {
    // A panic message may quote data from the input; print only where it
    // happened, never the payload, so no secret can leak through it.
    std::panic::set_hook(Box::new(|info| {
        let at = info
            .location()
            .map(|l| format!("{}:{}", l.file(), l.line()))
            .unwrap_or_default();
        eprintln!(
            "pipeguard: internal error at {at}; please report it (the message is withheld because it may quote scanned data)"
        );
    }));
    match std::panic::catch_unwind(cli::run) {
        Ok(code) => ExitCode::from(code as u8),
        Err(_) => ExitCode::from(pipeguard_core::exit::INTERNAL as u8),
    }
}

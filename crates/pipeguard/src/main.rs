//! The pipeguard binary: the CLI definition plus glue. Analyzers live in their
//! own crates; this file parses arguments, loads the policy, runs an analyzer,
//! applies ignores and baselines, renders, and maps the result to an exit code.
#![allow(clippy::print_stdout)] // this is the output module

mod cache;
mod cli;
mod code;
mod diff;
mod init;
#[cfg(feature = "cloud")]
mod oidc;
mod output;
mod run;
mod scan;

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

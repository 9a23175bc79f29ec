//! Dependency scanning for pipeguard: finds lockfiles (parsed by
//! `pipeguard-lockfile`), orders versions the way each ecosystem does,
//! matches packages against a local index of OSV advisories so that scans
//! need no network, and audits the lockfiles' sources and integrity.
//! Every finding it reports other than an advisory is one [`Code`].

pub mod audit;
pub mod code;
pub mod db;
pub mod discover;
pub mod drift;
pub mod fetch;
pub mod filter;
pub mod matcher;
pub mod osv;
pub mod reach;
pub mod scan;
pub mod version;

pub use code::{Code, rules};
/// The parsers and the package model, re-exported for callers that reach
/// them through this crate.
pub use pipeguard_lockfile as lockfile;
pub use pipeguard_lockfile::{Ecosystem, ecosystem};

//! Dependency scanning for pipeguard: parses lockfiles and manifests into one
//! package model with the dependency graph, orders versions the way each
//! ecosystem does, and matches packages against a local index of OSV
//! advisories so that scans need no network.

pub mod audit;
pub mod db;
pub mod drift;
pub mod ecosystem;
pub mod lockfile;
pub mod matcher;
pub mod osv;
pub mod scan;
pub mod version;

pub use ecosystem::Ecosystem;

//! One module per command. Each parses its own arguments (clap `Args`),
//! loads the policy through `common`, runs its analyzer through `analyze`
//! and hands the result to `output`'s shared tail.

pub(crate) mod ci;
pub(crate) mod code;
pub(crate) mod db;
pub(crate) mod deps;
pub(crate) mod dockerfile;
pub(crate) mod image;
pub(crate) mod init;
#[cfg(feature = "cloud")]
pub(crate) mod oidc;
pub(crate) mod policy;
pub(crate) mod rules;
pub(crate) mod run;
pub(crate) mod sbom;
pub(crate) mod scan;
pub(crate) mod secrets;

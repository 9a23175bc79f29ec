//! `[run]`: the secrets `pipeguard run` resolves and hands to the command it
//! starts (issue #7). The shape lives here so one parse validates the whole
//! policy file.

use schemars::JsonSchema;
use serde::Deserialize;

/// `[run]`: settings of `pipeguard run` and `pipeguard mask`.
#[derive(Debug, Default, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RunConfig {}

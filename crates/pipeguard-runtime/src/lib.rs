//! Run-time secret handling for `pipeguard run` and `pipeguard mask`: where
//! secret values come from (the environment, age-encrypted files), how a
//! command receives them, and the streaming filter that keeps them, and
//! their common encodings, out of its output.

pub mod child;
pub mod dotenv;
pub mod encode;
pub mod mask;
pub mod source;
pub mod stream;

pub use mask::{MaskSet, MaskSetBuilder, Masker, Refused};

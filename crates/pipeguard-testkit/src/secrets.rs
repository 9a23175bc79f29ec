//! Synthetic secrets that real rules match, the same on every run (unlike
//! the [`crate::canary`] values) so a test can assert on their redacted
//! forms. They are assembled at run time so that no source file holds one
//! in a piece a scanner would flag.

/// A strong-looking password for `password = "…"` style assignments,
/// distinct per `tag`.
pub fn password(tag: &str) -> String {
    format!("Vq8{}-Zr4{}-mX7pLw", tag, "Kd2N")
}

/// An age X25519 identity (`AGE-SECRET-KEY-1…`), distinct per `seed`.
pub fn age_key(seed: u8) -> String {
    const ALPHA: &[u8] = b"qpzry9x8gf2tvdw0s3jn54khce6mua7l";
    let body: String = (0..58u32)
        .map(|i| {
            let k = (i * 7 + seed as u32 * 13 + i * i) as usize % 32;
            (ALPHA[k] as char).to_ascii_uppercase()
        })
        .collect();
    format!("{}-SECRET-KEY-1{body}", "AGE")
}

/// A GitHub classic PAT with a valid checksum, distinct per `seed`.
pub fn github_token(seed: u32) -> String {
    const ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let random: String = (0..30u32)
        .map(|i| ALNUM[((i * 31 + seed * 17 + i * i * 7) % 62) as usize] as char)
        .collect();
    format!(
        "ghp_{random}{}",
        pipeguard_secrets::validate::checksum_suffix(&random)
    )
}

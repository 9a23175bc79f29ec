//! However the input is cut into reads, the masked output is the same as
//! masking it in one piece, and no known value survives whole.

use std::sync::{Arc, LazyLock};

use base64::Engine;
use pipeguard_runtime::{MaskSet, MaskSetBuilder, Masker};
use proptest::prelude::*;

const SECRET: &str = "Vq8Kd2N-p@ss w0rd/+y~-Zr4mX7";

static SET: LazyLock<Arc<MaskSet>> = LazyLock::new(|| {
    let scanner = pipeguard_secrets::Scanner::new(
        &pipeguard_core::policy::SecretsConfig::default(),
        std::path::Path::new("."),
    )
    .expect("built-in rules");
    let mut b = MaskSetBuilder::new().rules(Arc::new(scanner));
    b.add(SECRET.as_bytes()).expect("long enough");
    b.add(b"second-known-value-42").expect("long enough");
    Arc::new(b.build().expect("build"))
});

/// Pieces a log is made of: plain text, newlines, the secret raw and
/// encoded, halves of it, a rule-shaped token, a private key block, and
/// long runs that push a line past the round size.
fn fragment() -> impl Strategy<Value = Vec<u8>> {
    let b64 = base64::engine::general_purpose::STANDARD.encode(format!("x{SECRET}"));
    let hex: String = SECRET.bytes().map(|b| format!("{b:02x}")).collect();
    let token = format!("ghp_{}", "B5wbWUr7BIMUbTIDmW22O4DgGpQNEg0hCQFY");
    prop_oneof![
        4 => "[a-z =:/\"]{0,40}".prop_map(String::into_bytes),
        3 => Just(b"\n".to_vec()),
        2 => Just(SECRET.as_bytes().to_vec()),
        1 => Just(SECRET.as_bytes()[..10].to_vec()),
        1 => Just(SECRET.as_bytes()[10..].to_vec()),
        1 => Just(b64.into_bytes()),
        1 => Just(hex.into_bytes()),
        1 => Just(b"second-known-value-42".to_vec()),
        1 => Just(format!("token={token} ").into_bytes()),
        1 => Just(b"-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA\n-----END RSA PRIVATE KEY-----\n".to_vec()),
        1 => (1usize..4).prop_map(|n| vec![b'z'; n * 100_000]),
        1 => proptest::collection::vec(any::<u8>(), 0..64),
    ]
}

fn mask(input: &[u8], cuts: &[usize]) -> Vec<u8> {
    let mut m = Masker::new(Arc::clone(&SET), "<test>");
    let mut out = Vec::new();
    let mut at = 0;
    for &c in cuts {
        let c = c.min(input.len()).max(at);
        m.feed(&input[at..c], &mut out).expect("write");
        at = c;
    }
    m.feed(&input[at..], &mut out).expect("write");
    m.finish(&mut out).expect("write");
    out
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn chunking_never_changes_the_output(
        parts in proptest::collection::vec(fragment(), 0..40),
        mut cuts in proptest::collection::vec(0usize..800_000, 0..30),
    ) {
        let input: Vec<u8> = parts.concat();
        cuts.sort_unstable();
        let whole = mask(&input, &[]);
        let chunked = mask(&input, &cuts);
        prop_assert!(whole == chunked, "output depends on chunking ({} bytes, cuts {:?})", input.len(), cuts);
        prop_assert!(memchr::memmem::find(&whole, SECRET.as_bytes()).is_none());
    }
}

//! Replays every committed crash reproducer (`regressions/<target>/*`) and
//! hand-made seed (`seeds/<target>/*`) through its target's code on stable
//! Rust, so that CI can keep old crashes fixed without nightly or libFuzzer:
//! `cargo test --manifest-path fuzz/Cargo.toml --no-default-features`.

use std::path::Path;

#[test]
fn every_regression_and_seed_runs_clean() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut replayed = 0;
    for (name, run) in pipeguard_fuzz::TARGETS {
        for dir in ["regressions", "seeds"] {
            let Ok(entries) = std::fs::read_dir(root.join(dir).join(name)) else {
                continue;
            };
            for e in entries {
                let path = e.expect("dir entry").path();
                let data = std::fs::read(&path).expect("read input");
                eprintln!("{name}: {}", path.display());
                run(&data);
                replayed += 1;
            }
        }
    }
    // The directories exist in the repository; replaying nothing means the
    // test is looking in the wrong place.
    assert!(replayed > 0, "no regression or seed inputs found");
}

#[test]
fn every_target_has_a_binary() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    for (name, _) in pipeguard_fuzz::TARGETS {
        let src = root.join("fuzz_targets").join(format!("{name}.rs"));
        let text = std::fs::read_to_string(&src).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(
            text.contains(&format!("pipeguard_fuzz::{name}(")),
            "{} does not call its target",
            src.display()
        );
    }
}

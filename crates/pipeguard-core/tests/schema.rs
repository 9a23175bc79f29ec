//! The committed JSON schema of pipeguard.toml must be what the parser's
//! types generate today: editors and CI linters validate policies with it,
//! so a stale schema would reject valid policies or accept typos.

use std::path::PathBuf;

fn committed() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../docs/pipeguard.schema.json")
}

#[test]
fn committed_schema_is_fresh() {
    let mut generated = serde_json::to_string_pretty(&pipeguard_core::policy::json_schema())
        .expect("schema serializes");
    generated.push('\n');
    if std::env::var_os("PIPEGUARD_BLESS").is_some() {
        std::fs::write(committed(), &generated).expect("write schema");
    }
    let on_disk = std::fs::read_to_string(committed()).unwrap_or_default();
    assert!(
        on_disk == generated,
        "docs/pipeguard.schema.json is stale: run `PIPEGUARD_BLESS=1 cargo test -p pipeguard-core --test schema` and commit it"
    );
}

fn validate(toml_text: &str) -> Vec<String> {
    let schema = pipeguard_core::policy::json_schema();
    let validator = jsonschema::validator_for(&schema).expect("schema compiles");
    let value: toml::Value = toml::from_str(toml_text).expect("toml");
    let json = serde_json::to_value(value).expect("json");
    validator
        .iter_errors(&json)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect()
}

#[test]
fn the_schema_accepts_real_policies_and_rejects_typos() {
    let repo_policy = std::fs::read_to_string(
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../pipeguard.toml"),
    )
    .expect("repo policy");
    assert_eq!(validate(&repo_policy), Vec::<String>::new());
    let full = r#"
fail-on = "high"
[scan]
cache = false
default-profile = "pr"
[profile.pr]
analyzers = ["secrets", "deps"]
history = "diff"
fail-on = "critical"
[profile.nightly]
images = ["oci:build/image:latest"]
[secrets]
exclude = ["fixtures/**"]
[deps]
require-hashes = true
[[ignore]]
rule = "CVE-2024-*"
reason = "not reachable"
expires = "2027-01-31"
"#;
    assert_eq!(validate(full), Vec::<String>::new());
    // The parser and the schema agree on what is wrong.
    for bad in [
        "fail-on = \"severe\"\n",
        "[profile.pr]\nanalyzers = [\"secret\"]\n",
        "[profile.pr]\nhistroy = \"full\"\n",
        "[scan]\ncache = \"yes\"\n",
        "[[ignore]]\nrule = \"x\"\n",
    ] {
        assert!(!validate(bad).is_empty(), "schema accepted {bad:?}");
        assert!(
            pipeguard_core::Policy::parse(bad, "p.toml").is_err(),
            "parser accepted {bad:?}"
        );
    }
}

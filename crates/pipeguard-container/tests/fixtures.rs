//! Every fixture under tests/fixtures/<rule-id>/ states its expected
//! findings in `# expect: <rule-id> at line N` comments (`# expect: none` in
//! negative files); this test compares them with what the rule of the
//! directory reports. Each fixture's human report is also a snapshot, so a
//! change in wording, order or location shows in review.

use std::path::{Path, PathBuf};

use pipeguard_core::Finding;
use pipeguard_testkit::fixtures::{Fixture, FixtureSet, human_report};
use pipeguard_testkit::snapshots::{assert_snapshot_files, check_each};

fn tests_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests")
}

fn set() -> FixtureSet {
    FixtureSet::new(tests_dir().join("fixtures")).at_least(20)
}

fn is_fixture(fx: &Fixture) -> bool {
    fx.top_dir().is_some() && fx.rel.ends_with(".Dockerfile")
}

fn audit(fx: &Fixture) -> Option<Result<Vec<Finding>, String>> {
    is_fixture(fx)
        .then(|| pipeguard_container::audit_text(&fx.rel, &fx.text).map_err(|p| p.message))
}

#[test]
fn every_fixture_gets_exactly_its_expected_findings() {
    set().check(audit);
}

/// What `pipeguard dockerfile` prints for the fixture alone.
fn human(fx: &Fixture, findings: Vec<Finding>) -> String {
    human_report("dockerfile", fx, findings)
}

#[test]
fn every_fixture_renders_as_its_human_snapshot() {
    let fixtures: Vec<Fixture> = set().fixtures().into_iter().filter(is_fixture).collect();
    check_each(
        fixtures,
        |fx| fx.rel.clone(),
        |fx| {
            let findings = audit(fx).expect("a fixture").expect("audits");
            insta::assert_snapshot!(fx.snapshot_name(), human(fx, findings));
        },
    );
}

#[test]
fn snapshots_are_exactly_one_per_fixture() {
    assert_snapshot_files(
        &tests_dir().join("snapshots"),
        module_path!(),
        set()
            .fixtures()
            .iter()
            .filter(|f| is_fixture(f))
            .map(Fixture::snapshot_name),
    );
}

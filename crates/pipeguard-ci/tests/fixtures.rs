//! Every audit fixture under tests/fixtures/<rule-id>/ states its expected
//! findings in `# expect: <rule-id> at line N` comments (`# expect: none` in
//! negative files). The audits run on each file and, for the rules the file
//! talks about and the rule its directory is named after, must report
//! exactly those (rule, line) pairs. Each fixture's human report is also a
//! snapshot, so a change in wording, order or location shows in review.

use std::path::{Path, PathBuf};

use pipeguard_ci::{CiFile, audit_text};
use pipeguard_core::Finding;
use pipeguard_testkit::fixtures::{Fixture, FixtureSet, human_report};
use pipeguard_testkit::snapshots::{assert_snapshot_files, check_each};

fn tests_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests")
}

fn set() -> FixtureSet {
    FixtureSet::new(tests_dir().join("fixtures")).at_least(30)
}

/// Which CI file a fixture is, by the name the walker would give it; `None`
/// for files that are not fixtures.
fn kind(fx: &Fixture) -> Option<CiFile> {
    let name = fx.file_name();
    if name.contains("gitlab-ci") {
        Some(CiFile::Gitlab)
    } else if name.starts_with("action") || fx.top_dir() == Some("composite") {
        // Composite actions live one level down (composite/<case>/action.yml).
        Some(CiFile::Action)
    } else if name.ends_with(".yml") || name.ends_with(".yaml") {
        Some(CiFile::GithubWorkflow)
    } else {
        None
    }
}

fn audit(fx: &Fixture) -> Option<Result<Vec<Finding>, String>> {
    let kind = kind(fx)?;
    Some(audit_text(&fx.rel, kind, &fx.text).map_err(|p| p.message))
}

#[test]
fn every_fixture_gets_exactly_its_expected_findings() {
    set().check(audit);
}

/// What `pipeguard ci` prints for the fixture alone.
fn human(fx: &Fixture, findings: Vec<Finding>) -> String {
    human_report("ci", fx, findings)
}

#[test]
fn every_fixture_renders_as_its_human_snapshot() {
    let fixtures: Vec<Fixture> = set()
        .fixtures()
        .into_iter()
        .filter(|f| kind(f).is_some())
        .collect();
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
            .filter(|f| kind(f).is_some())
            .map(Fixture::snapshot_name),
    );
}

//! Every renderer, snapshotted on one report that exercises what each
//! format has to map: a secret (redacted value, two places, one of them in
//! git history), a dependency advisory with its package and fix, a CI
//! finding with a replacement, a SAST finding with a data flow, a finding
//! below the threshold, an unreadable input, and findings hidden by a
//! baseline. A change to any format shows up in review as a diff of its
//! snapshot. The format list is `Format::ALL`, so a new format gets a
//! snapshot (and fails until one is committed) without touching this file.

use std::path::Path;

use pipeguard_core::{
    Confidence, Finding, Fingerprint, FlowStep, GitOrigin, Location, PackageRef, Problem, Redacted,
    Remediation, Report, Severity,
};
use pipeguard_report::Format;
use pipeguard_testkit::secrets::github_token;
use pipeguard_testkit::snapshots::{assert_snapshot_files, check_each};

fn at(path: &str, line: u32, column: u32, snippet: &str) -> Location {
    Location {
        snippet: Some(snippet.to_string()),
        ..Location::at(path, line, column)
    }
}

fn report() -> Report {
    // Fixed where the real values vary: the version would change every
    // snapshot at each release, the duration at each run.
    let mut r = Report::new("scan --profile main", ".", Severity::High);
    r.tool.version = "0.0.0-snapshot";
    r.commit = Some("3f786850e387550fdab836ed7e6dc881de23001b".into());
    r.summary.files_scanned = 42;
    r.summary.bytes_scanned = 123_456;
    r.summary.packages_scanned = Some(17);
    r.summary.suppressed_by_baseline = 3;
    r.summary.duration_ms = 1234;

    let token = Redacted::new(github_token(7));
    let snippet = token.redact_in(&format!("GITHUB_TOKEN={}", token.expose()));
    r.findings.push(
        Finding::builder(
            "github-pat-classic",
            "GitHub personal access token (classic)",
            "secrets",
        )
        .severity(Severity::Critical)
        .message("A GitHub personal access token is committed; revoke it and load it from the CI's secret store")
        .secret(token.clone())
        .fingerprint(Fingerprint::from_parts(&[b"secrets", b"github-pat-classic", b"token 7"]))
        .location(Location {
            end_line: Some(3),
            end_column: Some(54),
            ..at("deploy/.env", 3, 14, &snippet)
        })
        .location(Location {
            git: Some(GitOrigin {
                commit: "9fceb02d0ae598e95dc970b74767f19372d61af8".into(),
                author: "Dana Dev <dana@corp.net>".into(),
                date: "2024-01-01T00:00:03Z".into(),
            }),
            ..at("scripts/release sh/run.sh", 12, 9, &snippet)
        })
        .build(),
    );
    r.findings.push(
        Finding::builder(
            "GHSA-x84v-xcm2-53pg",
            "requests sends the Authorization header to a redirected host",
            "deps",
        )
        .severity(Severity::High)
        .aliases(vec!["CVE-2018-18074".into(), "PYSEC-2018-28".into()])
        .message("requests 2.19.0 is vulnerable (GHSA-x84v-xcm2-53pg); upgrade to 2.20.0")
        .fingerprint(Fingerprint::from_parts(&[
            b"deps",
            b"GHSA-x84v-xcm2-53pg",
            b"requests",
        ]))
        .location(at("requirements.txt", 1, 1, "requests==2.19.0"))
        .package(PackageRef {
            ecosystem: "PyPI".into(),
            name: "requests".into(),
            version: "2.19.0".into(),
            fixed: Some("2.20.0".into()),
            direct: true,
        })
        .remediation(Remediation {
            description: "Upgrade requests to 2.20.0 or later".into(),
            replacement: Some("requests==2.20.0".into()),
        })
        .build(),
    );
    r.findings.push(
        Finding::builder("unpinned-action", "Action not pinned to a commit", "ci")
            .severity(Severity::Medium)
            .message(
                "actions/setup-node@v4 is referenced by a mutable tag; pin it to a full commit SHA",
            )
            .fingerprint(Fingerprint::from_parts(&[
                b"ci",
                b"unpinned-action",
                b"setup-node",
            ]))
            .location(at(
                ".github/workflows/ci.yml",
                14,
                15,
                "      - uses: actions/setup-node@v4",
            ))
            .remediation(Remediation {
                description: "Pin the action to the commit the tag points at".into(),
                replacement: Some(
                    "actions/setup-node@49933ea5288caeca8642d1e84afbd3f7d6820020 # v4".into(),
                ),
            })
            .build(),
    );
    // The registry entry SARIF describes the CI rule with (docs as help,
    // the help link, CWE tags); the other rules fall back to the finding.
    r.rules.push(pipeguard_core::RuleDoc {
        id: "unpinned-action".into(),
        analyzer: "ci".into(),
        name: "Third-party action not pinned to a commit SHA".into(),
        severity: Severity::Medium,
        confidence: pipeguard_core::Confidence::High,
        cwe: vec![829, 1357],
        docs: "## What it does\nFlags actions used by tag.\n\n## Why is this bad\nTags move."
            .into(),
        fix: "Pin the action to a full commit SHA.".into(),
        help_uri: pipeguard_core::rule::help_uri("unpinned-action"),
        keywords: Vec::new(),
        source: None,
    });
    r.findings.push(
        Finding::builder(
            "python-sql-injection",
            "SQL built from request data",
            "sast",
        )
        .severity(Severity::High)
        .confidence(Confidence::Medium)
        .aliases(vec!["CWE-89".into()])
        .message("Request data reaches a SQL query unparameterized: pass it as a query parameter")
        .fingerprint(Fingerprint::from_parts(&[
            b"sast",
            b"python-sql-injection",
            b"views",
        ]))
        .location(at(
            "app/views.py",
            7,
            5,
            "    db.execute(\"SELECT * FROM users WHERE id = \" + uid)",
        ))
        .flow(vec![
            FlowStep {
                location: at("app/views.py", 5, 11, "    uid = request.args.get(\"id\")"),
                message: "request parameter `id` read here".into(),
            },
            FlowStep {
                location: Location::at("app/views.py", 7, 16),
                message: "concatenated into the query".into(),
            },
            FlowStep {
                location: Location::at("app/views.py", 7, 5),
                message: "executed as SQL".into(),
            },
        ])
        .build(),
    );
    r.findings.push(
        Finding::builder(
            "dockerfile-apt-no-pin",
            "Unpinned apt package",
            "dockerfile",
        )
        .severity(Severity::Low)
        .confidence(Confidence::Low)
        .message("curl is installed without a version: builds are not reproducible")
        .fingerprint(Fingerprint::from_parts(&[b"dockerfile", b"apt", b"curl"]))
        .location(at("Dockerfile", 4, 1, "RUN apt-get install -y curl"))
        .fix("Pin the package: curl=7.88.1-10+deb12u5")
        .build(),
    );
    r.problems.push(Problem {
        path: "vendor/broken.lock".into(),
        line: Some(3),
        message: "invalid TOML: expected `=` after a key".into(),
    });
    r.finish();
    r
}

/// GitLab's scan times are the wall clock at rendering. (insta's `filters`
/// would do this with a regex, at the price of two more crates.)
fn mask_scan_times(mut text: String) -> String {
    for key in ["\"start_time\": \"", "\"end_time\": \""] {
        if let Some(at) = text.find(key) {
            let start = at + key.len();
            if let Some(len) = text[start..].find('"') {
                text.replace_range(start..start + len, "[now]");
            }
        }
    }
    text
}

#[test]
fn every_format_renders_the_representative_report_as_its_snapshot() {
    let report = report();
    let token = github_token(7);
    check_each(
        Format::ALL,
        |f| f.name().to_string(),
        |&format| {
            let mut out = Vec::new();
            pipeguard_report::render(&report, format, false, &mut out).expect("render");
            let text = String::from_utf8(out).expect("UTF-8");
            assert!(
                !text.contains(&token),
                "{}: the secret leaked",
                format.name()
            );
            insta::assert_snapshot!(format.name(), mask_scan_times(text));
        },
    );
}

/// insta never deletes a snapshot: one left by a removed format fails here.
#[test]
fn snapshots_are_exactly_one_per_format() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/snapshots");
    assert_snapshot_files(
        &dir,
        module_path!(),
        Format::ALL.map(|f| f.name().to_string()),
    );
}

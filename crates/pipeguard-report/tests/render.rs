//! Every renderer, snapshotted on one report that exercises what each
//! format has to map: a secret (redacted value, two places, one of them in
//! git history), dependency advisories with their package and fix (two on
//! one package), CI findings with a replacement (two of one rule in one
//! file), a SAST finding with a data flow, a finding below the threshold,
//! an unreadable input, and findings hidden by a baseline; so that the
//! summaries (by analyzer, rule, file) have something to count. A change to
//! any format shows up in review as a diff of its snapshot. The format list
//! is `Format::ALL`, so a new format gets a snapshot (and fails until one is
//! committed) without touching this file.
//!
//! Then what a report of hundreds of findings needs (issue #18): the human
//! report's groups and closing summary, and a Markdown summary that fits
//! GitHub's limits.

use std::path::Path;

use pipeguard_core::{
    Confidence, Finding, Fingerprint, FlowStep, GitOrigin, Location, PackageRef, Problem, Redacted,
    Remediation, Report, Severity,
};
use pipeguard_report::{Format, GroupBy, Options};
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
    r.findings.push(
        Finding::builder("unpinned-action", "Action not pinned to a commit", "ci")
            .severity(Severity::Medium)
            .message("actions/cache@v3 is referenced by a mutable tag; pin it to a full commit SHA")
            .fingerprint(Fingerprint::from_parts(&[
                b"ci",
                b"unpinned-action",
                b"cache",
            ]))
            .location(at(
                ".github/workflows/ci.yml",
                20,
                15,
                "      - uses: actions/cache@v3",
            ))
            .build(),
    );
    r.findings.push(
        Finding::builder(
            "GHSA-j8r2-6x86-q33q",
            "requests leaks Proxy-Authorization headers to destination servers",
            "deps",
        )
        .severity(Severity::Medium)
        .aliases(vec!["CVE-2023-32681".into()])
        .message("requests 2.19.0 is vulnerable (GHSA-j8r2-6x86-q33q); upgrade to 2.31.0")
        .fingerprint(Fingerprint::from_parts(&[
            b"deps",
            b"GHSA-j8r2-6x86-q33q",
            b"requests",
        ]))
        .location(at("requirements.txt", 1, 1, "requests==2.19.0"))
        .package(PackageRef {
            ecosystem: "PyPI".into(),
            name: "requests".into(),
            version: "2.19.0".into(),
            fixed: Some("2.31.0".into()),
            direct: true,
        })
        .build(),
    );
    r.findings.push(
        Finding::builder(
            "GHSA-v845-jxx5-vc9f",
            "urllib3 does not strip the Cookie header on a cross-origin redirect",
            "deps",
        )
        .severity(Severity::Medium)
        .aliases(vec!["CVE-2023-43804".into()])
        .message("urllib3 1.26.4 is vulnerable (GHSA-v845-jxx5-vc9f); upgrade to 1.26.17")
        .fingerprint(Fingerprint::from_parts(&[
            b"deps",
            b"GHSA-v845-jxx5-vc9f",
            b"urllib3",
        ]))
        .location(at("requirements.txt", 2, 1, "urllib3==1.26.4"))
        .package(PackageRef {
            ecosystem: "PyPI".into(),
            name: "urllib3".into(),
            version: "1.26.4".into(),
            fixed: Some("1.26.17".into()),
            direct: true,
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

/// `--group-by`: one header per group with its count, most severe group
/// first; the findings inside keep the report's order.
#[test]
fn the_human_report_groups_by_rule_file_and_package() {
    let report = report();
    check_each(
        GROUPINGS,
        |(name, _)| name.to_string(),
        |&(name, by)| {
            let mut out = Vec::new();
            let opts = Options {
                color: false,
                group_by: Some(by),
            };
            pipeguard_report::render_with(&report, Format::Human, &opts, &mut out).expect("render");
            insta::assert_snapshot!(name, String::from_utf8(out).expect("UTF-8"));
        },
    );
}

const GROUPINGS: [(&str, GroupBy); 3] = [
    ("human-group-by-rule", GroupBy::Rule),
    ("human-group-by-file", GroupBy::File),
    ("human-group-by-package", GroupBy::Package),
];

/// `--quiet`: the problems count and the verdict line, nothing else.
#[test]
fn quiet_is_the_verdict_line_alone() {
    let mut out = Vec::new();
    pipeguard_report::human::render_quiet(&report(), false, &mut out).expect("render");
    assert_eq!(
        String::from_utf8(out).expect("UTF-8"),
        "1 input(s) could not be fully scanned (see the full report)\n\
         8 finding(s) (1 critical, 2 high, 4 medium, 1 low), 3 in baseline in 42 files, \
         123.5 KB, 1234 ms: FAIL (findings at or above high)\n"
    );
}

const ANALYZERS: [&str; 4] = ["ci", "deps", "secrets", "sast"];

/// A report the size users found on real repositories (issue #18): 600
/// findings over 19 rules of every severity and 21 files, with messages as
/// long as real ones.
fn report_at_scale() -> Report {
    let mut r = Report::new("scan --profile main", ".", Severity::Medium);
    r.tool.version = "0.0.0-snapshot";
    r.summary.files_scanned = 1200;
    r.summary.bytes_scanned = 9_876_543;
    r.summary.duration_ms = 4321;
    for i in 0..600u32 {
        // Uneven on purpose, so that the rules have different counts.
        let rule = (i % 13) * (i % 3);
        let rule_id = format!("rule-{rule:02}");
        r.findings.push(
            Finding::builder(&rule_id, "A rule of the test", ANALYZERS[rule as usize % 4])
                .severity(Severity::ALL[rule as usize % 5])
                .message(format!(
                    "Finding {i} of {rule_id}: a message as long as the ones real rules write, \
                     saying what is wrong and how to fix it"
                ))
                .fingerprint(Fingerprint::from_parts(&[b"scale", &i.to_be_bytes()]))
                .location(Location::at(
                    format!("services/svc-{:02}/deploy.yml", (i % 9) * (i % 5)),
                    i % 70 + 1,
                    3,
                ))
                .build(),
        );
    }
    r.finish();
    r
}

/// The end of the human report of 600 findings, from the summary on: what
/// stays on screen once the findings have scrolled by.
#[test]
fn the_human_report_ends_with_a_summary_at_scale() {
    let mut out = Vec::new();
    pipeguard_report::render(&report_at_scale(), Format::Human, false, &mut out).expect("render");
    let text = String::from_utf8(out).expect("UTF-8");
    let tail = text
        .find("Summary of 600 findings:")
        .map(|at| &text[at..])
        .expect("a summary");
    insta::assert_snapshot!("human-at-scale-tail", tail);
    // The representative report is short: no summary, the verdict suffices.
    let mut out = Vec::new();
    pipeguard_report::render(&report(), Format::Human, false, &mut out).expect("render");
    assert!(
        !String::from_utf8(out)
            .expect("UTF-8")
            .contains("Summary of")
    );
}

/// The Markdown summary of 600 findings stays under GitHub's limits: the
/// findings table shows the same number of rows for every severity, says
/// how many more there are, and where the full list is.
#[test]
fn the_markdown_summary_of_600_findings_fits_a_step_summary_and_a_comment() {
    let report = report_at_scale();
    let mut out = Vec::new();
    pipeguard_report::render(&report, Format::Markdown, false, &mut out).expect("render");
    assert!(
        out.len() <= pipeguard_report::markdown::MAX_BYTES,
        "{} bytes",
        out.len()
    );
    let text = String::from_utf8(out).expect("UTF-8");
    let rows = |sev: Severity| {
        text.lines()
            .filter(|l| l.starts_with(&format!("| {sev} | `rule-")))
            .count()
    };
    let shown = rows(Severity::Critical);
    assert!(shown > 10, "only {shown} rows per severity");
    for sev in Severity::ALL {
        let total = report.summary.findings_by_severity[sev.as_str()];
        assert_eq!(rows(sev), shown.min(total), "{sev}");
        if total > shown {
            let more = format!("| {sev} | … | | {} more {sev} findings |", total - shown);
            assert!(text.contains(&more), "no `{more}`");
        }
    }
    assert!(
        text.contains("are left out to keep this summary under 60 KiB")
            && text.contains("`--report sarif=pipeguard.sarif`"),
        "{text}"
    );
    // The rest of the document (the summary tables, the cut rows and the
    // note), without the 300-odd finding rows.
    let rest: Vec<&str> = text
        .lines()
        .filter(|l| !l.contains("| `rule-") || !l.contains("| `services/"))
        .collect();
    insta::assert_snapshot!("markdown-at-scale", rest.join("\n"));
}

/// Snapshots of the representative report in every format, plus those of
/// the tests above.
fn snapshot_names() -> Vec<String> {
    Format::ALL
        .map(|f| f.name().to_string())
        .into_iter()
        .chain(GROUPINGS.map(|(name, _)| name.to_string()))
        .chain([
            "human-at-scale-tail".to_string(),
            "markdown-at-scale".to_string(),
        ])
        .collect()
}

/// insta never deletes a snapshot: one left by a removed format fails here.
#[test]
fn snapshots_are_exactly_one_per_format_and_scale_test() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/snapshots");
    assert_snapshot_files(&dir, module_path!(), snapshot_names());
}

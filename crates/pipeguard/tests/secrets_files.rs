//! `pipeguard secrets PATH` on working trees: outputs, policy, baseline, and
//! inputs that must not stop a scan.

mod common;

use common::*;
use predicates::str::contains;

#[test]
fn same_secret_in_two_files_is_one_finding_with_two_locations() {
    let dir = tempfile::tempdir().expect("tmp");
    let d = dir.path();
    let key = age_key(3);
    write(d, "a/one.txt", format!("{key}\n"));
    write(d, "b/two.env", format!("\n\nAGE_IDENTITY={key}\n"));
    let out = pipeguard()
        .args(["secrets", "-f", "json"])
        .arg(d)
        .assert()
        .code(1);
    let v = json(&out.get_output().stdout);
    let f = findings(&v);
    assert_eq!(f.len(), 1, "{v:#}");
    let locs = f[0]["locations"].as_array().expect("locs");
    assert_eq!(locs.len(), 2);
    assert_eq!(
        (locs[0]["path"].as_str(), locs[0]["line"].as_u64()),
        (Some("a/one.txt"), Some(1))
    );
    assert_eq!(
        (locs[1]["path"].as_str(), locs[1]["line"].as_u64()),
        (Some("b/two.env"), Some(3))
    );
    assert_eq!(locs[1]["column"], 14);
    assert_eq!(f[0]["severity"], "critical");
    assert_eq!(v["schema_version"], "1");
}

#[test]
fn no_output_format_ever_contains_the_secret() {
    let dir = tempfile::tempdir().expect("tmp");
    let d = dir.path();
    let key = age_key(4);
    let pw = password("leak");
    write(d, "x.txt", format!("{key}\nsmtp_password = \"{pw}\"\n"));
    for format in ["human", "json", "sarif", "junit", "github", "markdown"] {
        let out = pipeguard()
            .args(["secrets", "-f", format, "--color", "always"])
            .arg(d)
            .assert()
            .code(1);
        let text = String::from_utf8_lossy(&out.get_output().stdout).into_owned()
            + &String::from_utf8_lossy(&out.get_output().stderr);
        assert!(!text.contains(&key), "{format} leaked the key:\n{text}");
        assert!(!text.contains(&pw), "{format} leaked the password:\n{text}");
        assert!(text.contains("age-secret-key"), "{format}:\n{text}");
    }
}

#[test]
fn sarif_validates_against_the_official_schema() {
    let dir = tempfile::tempdir().expect("tmp");
    let d = dir.path();
    write(d, "dir with space/k.txt", format!("{}\n", age_key(5)));
    write(d, "other/k2.txt", format!("{}\n", age_key(5)));
    write(d, "p.py", format!("password = \"{}\"\n", password("s")));
    let out = pipeguard()
        .args(["secrets", "-f", "sarif", "--max-file-size", "100000"])
        .arg(d)
        .assert()
        .code(1);
    let sarif = json(&out.get_output().stdout);
    let schema: serde_json::Value =
        serde_json::from_str(include_str!("data/sarif-schema-2.1.0.json")).expect("schema");
    let validator = jsonschema::validator_for(&schema).expect("compile schema");
    let errors: Vec<String> = validator
        .iter_errors(&sarif)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "SARIF invalid:\n{}", errors.join("\n"));
    // The validator does check: a wrong version is rejected.
    let mut broken = sarif.clone();
    broken["version"] = serde_json::json!("9.9");
    assert!(!validator.is_valid(&broken));
    let results = sarif["runs"][0]["results"].as_array().expect("results");
    assert_eq!(results.len(), 2);
    let age = results
        .iter()
        .find(|r| r["ruleId"] == "age-secret-key")
        .expect("age result");
    assert_eq!(age["level"], "error");
    assert_eq!(
        age["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
        "dir%20with%20space/k.txt"
    );
    assert_eq!(age["relatedLocations"].as_array().map(Vec::len), Some(1));
    let rule = &sarif["runs"][0]["tool"]["driver"]["rules"]
        [age["ruleIndex"].as_u64().expect("idx") as usize];
    assert_eq!(rule["id"], "age-secret-key");
    assert_eq!(rule["properties"]["security-severity"], "9.5");
}

#[test]
fn policy_ignores_threshold_and_errors() {
    let dir = tempfile::tempdir().expect("tmp");
    let d = dir.path();
    write(
        d,
        "docs/setup.md",
        format!("db_password = \"{}\"\n", password("doc")),
    );
    write(
        d,
        "src/app.py",
        format!("db_password = \"{}\"\n", password("app")),
    );
    write(
        d,
        "pipeguard.toml",
        r#"fail-on = "high"

[[ignore]]
path = "docs/**"
reason = "documentation shows a sample connection"

[[ignore]]
rule = "slack-*"
reason = "old webhook, rotated"
expires = "2024-01-31"
"#,
    );
    let out = pipeguard()
        .args(["secrets", "-f", "json"])
        .arg(d)
        .assert()
        // Only a medium finding remains and the policy fails on high.
        .code(0);
    let v = json(&out.get_output().stdout);
    let ids: Vec<String> = findings(&v)
        .iter()
        .map(|f| {
            format!(
                "{}@{}",
                f["rule_id"].as_str().unwrap_or(""),
                f["locations"][0]["path"].as_str().unwrap_or("")
            )
        })
        .collect();
    assert!(
        ids.contains(&"generic-password@src/app.py".to_string()),
        "{ids:?}"
    );
    assert!(!ids.iter().any(|i| i.contains("docs/")), "{ids:?}");
    assert!(
        ids.iter().any(|i| i.starts_with("policy-ignore-expired")),
        "{ids:?}"
    );
    assert_eq!(v["fail_on"], "high");

    // The command line's threshold wins over the policy's.
    pipeguard()
        .args(["secrets", "--fail-on", "medium"])
        .arg(d)
        .assert()
        .code(1);

    // A typo in the policy is a configuration error naming file, line and key.
    write(
        d,
        "pipeguard.toml",
        "fail-on = \"high\"\n[secrets]\nmax-size = 10\n",
    );
    pipeguard()
        .arg("secrets")
        .arg(d)
        .assert()
        .code(2)
        .stderr(contains("pipeguard.toml"))
        .stderr(contains("line 3"))
        .stderr(contains("max-size"));
}

#[test]
fn baseline_hides_known_findings() {
    let dir = tempfile::tempdir().expect("tmp");
    let d = dir.path();
    write(d, "a.txt", format!("{}\n", age_key(6)));
    let base = d.join("baseline.json");
    pipeguard()
        .args(["secrets", "-f", "json", "-o"])
        .arg(&base)
        .arg(d)
        .assert()
        .code(1);
    // Moving the secret to another line keeps its fingerprint.
    write(d, "a.txt", format!("\n\n# moved\n{}\n", age_key(6)));
    let out = pipeguard()
        .args(["secrets", "-f", "json", "--baseline"])
        .arg(&base)
        .arg(d)
        .assert()
        .code(0);
    let v = json(&out.get_output().stdout);
    assert_eq!(findings(&v).len(), 0, "{v:#}");
    assert_eq!(v["summary"]["suppressed_by_baseline"], 1);
    // A new secret still shows.
    write(d, "b.txt", format!("{}\n", age_key(7)));
    pipeguard()
        .args(["secrets", "--baseline"])
        .arg(&base)
        .arg(d)
        .assert()
        .code(1);
    // A baseline that is not a report is a usage error naming it.
    write(d, "bad.json", "not json");
    pipeguard()
        .args(["secrets", "--baseline"])
        .arg(d.join("bad.json"))
        .arg(d)
        .assert()
        .code(2)
        .stderr(contains("bad.json:1"));
}

#[test]
fn placeholders_references_and_allow_comments_are_not_findings() {
    let dir = tempfile::tempdir().expect("tmp");
    let d = dir.path();
    write(
        d,
        "config.py",
        [
            "password = os.environ[\"DB_PASSWORD\"]",
            "password = \"${DB_PASSWORD}\"",
            "api_key: \"${{ secrets.API_KEY }}\"",
            "password = \"changeme\"",
            "token = \"<your-token>\"",
            "api_key = \"xxxxxxxxxxxxxxxxxxxxxxxx\"",
            "request_id = \"3f2a1b9c-4d5e-4f60-8a7b-9c0d1e2f3a4b\"",
            &format!(
                "test_password = \"{}\"  # pipeguard:allow fixture",
                password("ok")
            ),
            "",
        ]
        .join("\n"),
    );
    write(
        d,
        "package-lock.json",
        "{\"integrity\": \"sha512-Zr4Kd2NVq8mX7pLwQ9sT3uY6bH1cJ5fG8kL2nP0rS4vW7xZ9aC3eF6hI1jK4mN7oQ0==\", \"secret_token\": \"a8Zr4Kd2NVq8mX7pLwQ9sT3u\"}\n",
    );
    let out = pipeguard()
        .args(["secrets", "-f", "json"])
        .arg(d)
        .assert()
        .code(0);
    let v = json(&out.get_output().stdout);
    assert_eq!(findings(&v).len(), 0, "{v:#}");
}

#[test]
fn odd_inputs_are_reported_and_the_scan_goes_on() {
    let dir = tempfile::tempdir().expect("tmp");
    let d = dir.path();
    let key = age_key(8);
    // Invalid UTF-8 around a real secret: still found.
    let mut bytes = b"\xff\xfe\xc3garbage ".to_vec();
    bytes.extend_from_slice(key.as_bytes());
    bytes.extend_from_slice(b" \xc0\xaf\n");
    write(d, "latin1.txt", bytes);
    // Binary (NUL in the first bytes): skipped.
    write(
        d,
        "blob.bin",
        [b"\0\0\0".as_slice(), key.as_bytes()].concat(),
    );
    // A 6 MB single line with a secret at the end: scanned.
    let other = age_key(9);
    let mut line = "var a=1;".repeat(750_000);
    line.push_str(&other);
    write(d, "bundle.min.js", &line);
    // Larger than the limit: skipped with a warning.
    write(d, "huge.log", vec![b'a'; 7_000_000]);
    // A symlink loop, followed on request: reported, not fatal.
    std::fs::create_dir_all(d.join("loop")).expect("mkdir");
    std::os::unix::fs::symlink("..", d.join("loop/up")).expect("symlink");

    let out = pipeguard()
        .args([
            "secrets",
            "-f",
            "json",
            "--follow",
            "--max-file-size",
            "6500000",
        ])
        .arg(d)
        .assert()
        .code(1);
    let v = json(&out.get_output().stdout);
    let paths: Vec<String> = findings(&v)
        .iter()
        .flat_map(|f| f["locations"].as_array().cloned().unwrap_or_default())
        .map(|l| l["path"].as_str().unwrap_or("").to_string())
        .collect();
    assert!(paths.contains(&"latin1.txt".to_string()), "{v:#}");
    assert!(paths.contains(&"bundle.min.js".to_string()), "{v:#}");
    assert!(!paths.iter().any(|p| p.contains("blob.bin")), "{v:#}");
    let problems = serde_json::to_string(&v["problems"]).expect("ser");
    assert!(problems.contains("huge.log"), "{problems}");
    assert!(problems.contains("max-file-size"), "{problems}");
    assert!(problems.contains("loop"), "{problems}");
}

#[test]
fn stdin_is_scanned_with_dash() {
    let key = age_key(10);
    let out = pipeguard()
        .args(["secrets", "-", "-f", "json"])
        .write_stdin(format!("log line\n{key}\n"))
        .assert()
        .code(1);
    let v = json(&out.get_output().stdout);
    assert_eq!(findings(&v)[0]["locations"][0]["path"], "<stdin>");
    assert_eq!(findings(&v)[0]["locations"][0]["line"], 2);
}

#[test]
fn missing_path_is_a_usage_error() {
    pipeguard()
        .args(["secrets", "/no/such/dir"])
        .assert()
        .code(2)
        .stderr(contains("/no/such/dir"));
}

#[test]
fn rules_lists_every_rule() {
    let out = pipeguard()
        .args(["rules", "--analyzer", "secrets", "--json"])
        .assert()
        .code(0);
    let v = json(&out.get_output().stdout);
    let rules = v.as_array().expect("array");
    assert!(rules.iter().any(|r| r["id"] == "private-key-rsa"));
    assert!(
        rules
            .iter()
            .all(|r| r["keywords"].as_array().is_some_and(|k| !k.is_empty()))
    );
}

/// The README states the rule count; it must stay true.
#[test]
fn readme_rule_count_is_current() {
    let out = pipeguard()
        .args(["rules", "--analyzer", "secrets", "--json"])
        .assert()
        .code(0);
    let n = json(&out.get_output().stdout)
        .as_array()
        .map(Vec::len)
        .unwrap_or(0);
    let readme = include_str!("../../../README.md");
    assert!(
        readme.contains(&format!("{n} built-in rules"))
            && readme.contains(&format!("{n} rules are built in")),
        "README.md must say {n} rules"
    );
}

#[test]
fn junit_github_and_markdown_outputs() {
    let dir = tempfile::tempdir().expect("tmp");
    let d = dir.path();
    write(d, "a, b/k.txt", format!("{}\n", age_key(12)));
    write(d, "p.py", format!("password = \"{}\"\n", password("j")));
    // JUnit: well-formed XML, one failing test case per finding at the threshold.
    let out = pipeguard()
        .args(["secrets", "-f", "junit", "--fail-on", "high"])
        .arg(d)
        .assert()
        .code(1);
    let xml = String::from_utf8_lossy(&out.get_output().stdout).into_owned();
    let doc = roxmltree::Document::parse(&xml).expect("well-formed JUnit XML");
    let cases: Vec<_> = doc
        .descendants()
        .filter(|n| n.has_tag_name("testcase"))
        .collect();
    assert_eq!(cases.len(), 2, "{xml}");
    let failing = cases
        .iter()
        .filter(|c| c.children().any(|n| n.has_tag_name("failure")))
        .count();
    assert_eq!(
        failing, 1,
        "only the critical finding reaches --fail-on high: {xml}"
    );
    // GitHub annotations: properties escaped (`,` in the path), one per location.
    let out = pipeguard()
        .args(["secrets", "-f", "github"])
        .arg(d)
        .assert()
        .code(1);
    let text = String::from_utf8_lossy(&out.get_output().stdout).into_owned();
    assert!(
        text.lines().any(|l| l.starts_with(
            "::error file=a%2C b/k.txt,line=1,endLine=1,col=1,title=age-secret-key (critical)::"
        )),
        "{text}"
    );
    assert!(
        text.lines()
            .any(|l| l.starts_with("::error file=p.py,line=1")),
        "{text}"
    );
    // Markdown summary: verdict and a table row per finding.
    let out = pipeguard()
        .args(["secrets", "-f", "markdown"])
        .arg(d)
        .assert()
        .code(1);
    let md = String::from_utf8_lossy(&out.get_output().stdout).into_owned();
    assert!(
        md.contains("**FAIL**") && md.contains("| critical | `age-secret-key` | `a, b/k.txt:1` |"),
        "{md}"
    );
}

#[test]
fn policy_check_validates_with_lines() {
    let dir = tempfile::tempdir().expect("tmp");
    let d = dir.path();
    write(
        d,
        "pipeguard.toml",
        "fail-on = \"high\"\n\n[[ignore]]\nrule = \"x-*\"\nreason = \"old\"\nexpires = 2020-01-01\n",
    );
    pipeguard()
        .args(["policy", "check"])
        .arg(d.join("pipeguard.toml"))
        .assert()
        .code(0)
        .stdout(contains("ok (fail-on high, 1 ignore(s), 1 expired)"))
        .stderr(contains(
            "pipeguard.toml:3: this ignore expired on 2020-01-01",
        ));
    write(d, "bad.toml", "[secrets]\nallow-values = [\"(unclosed\"]\n");
    pipeguard()
        .args(["policy", "check"])
        .arg(d.join("bad.toml"))
        .assert()
        .code(2)
        .stderr(contains("bad.toml"));
    write(d, "typo.toml", "\n\nfail_on = \"high\"\n");
    pipeguard()
        .args(["policy", "check"])
        .arg(d.join("typo.toml"))
        .assert()
        .code(2)
        .stderr(contains("line 3"))
        .stderr(contains("fail_on"));
}

//! Which paths are test or fixture data. Most findings on real
//! repositories sit there (65–91% on three projects tried); they are still
//! reported, tagged `test`, and a profile decides whether they can fail the
//! scan. A real-looking credential counts wherever it is.

/// Directory names that hold tests, fixtures and examples
/// (`[scan] test-dirs` replaces this list).
pub const DEFAULT_DIRS: &[&str] = &[
    "test",
    "tests",
    "__tests__",
    "testdata",
    "test-data",
    "test_data",
    "testfixtures",
    "fixtures",
    "fixture",
    "__fixtures__",
    "spec",
    "specs",
    "e2e",
    "mocks",
    "__mocks__",
    "examples",
    "example",
    "samples",
];

/// Whether `path` (relative, `/`-separated) is test or fixture data: a
/// directory in it is one of `dirs` (case-insensitive), or the file is a
/// test by the naming conventions of its language (`x_test.go`,
/// `test_x.py`, `x_test.py`, `x.test.ts`, `x.spec.js`, `XTest.java`).
pub fn is_test_path(path: &str, dirs: &[String]) -> bool {
    let mut parts = path.split('/').filter(|p| !p.is_empty()).peekable();
    let mut file = "";
    while let Some(part) = parts.next() {
        if parts.peek().is_none() {
            file = part;
            break;
        }
        if dirs.iter().any(|d| d.eq_ignore_ascii_case(part)) {
            return true;
        }
    }
    let lower = file.to_ascii_lowercase();
    let stem = lower.rsplit_once('.').map_or(lower.as_str(), |(s, _)| s);
    lower.ends_with("_test.go")
        || (lower.ends_with(".py") && (stem.starts_with("test_") || stem.ends_with("_test")))
        || stem.ends_with(".test")
        || stem.ends_with(".spec")
        || (lower.ends_with(".java")
            && (file.ends_with("Test.java") || file.ends_with("Tests.java")))
}

/// The default directory list, owned (what `[scan] test-dirs` defaults to).
pub fn default_dirs() -> Vec<String> {
    DEFAULT_DIRS.iter().map(|d| (*d).to_string()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_dirs_and_test_file_names() {
        let d = default_dirs();
        for p in [
            "tests/fixtures/app.env",
            "src/__tests__/login.ts",
            "pkg/server/testdata/key.pem",
            "Examples/config.yml",
            "pkg/auth/token_test.go",
            "app/test_views.py",
            "web/src/api.spec.ts",
            "web/src/api.test.js",
            "src/test/java/app/LoginTest.java",
        ] {
            assert!(is_test_path(p, &d), "{p}");
        }
        for p in [
            "src/app.py",
            "config/prod.env",
            "testing.md",
            "contest/entry.py",
            "latest/config.yml",
            "src/attestation.go",
            "tests",
        ] {
            assert!(!is_test_path(p, &d), "{p}");
        }
        // A custom list replaces the defaults.
        assert!(is_test_path("qa/data.json", &["qa".to_string()]));
        assert!(!is_test_path("tests/data.json", &["qa".to_string()]));
    }
}

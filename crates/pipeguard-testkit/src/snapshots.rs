//! Unreferenced snapshots fail the build without `cargo-insta`.
//!
//! insta writes `tests/snapshots/<test file>__<name>.snap` and never
//! deletes one; `cargo insta test --unreferenced reject` would catch the
//! leftovers, but needs a tool CI would have to build first. Instead, each
//! test file that makes snapshots also has a test that calls
//! [`assert_snapshot_files`] with the names it asserts, computed from the
//! same data (the fixture list, the format list) as the assertions
//! themselves. The check is exact in both directions, so a name computed
//! differently from insta's also fails rather than passing vacuously.

use std::collections::BTreeSet;
use std::path::Path;

/// The file insta writes for snapshot `name` asserted in the test file
/// whose module path is `module` (`module_path!()` in that file).
pub fn snapshot_file(module: &str, name: &str) -> String {
    format!(
        "{}__{}.snap",
        module.replace("::", "__"),
        name.replace(['/', '\\'], "__")
    )
}

/// Fails unless the `.snap` files that test file `module` owns in `dir`
/// (`tests/snapshots`) are exactly `names`, and every other `.snap` file
/// there belongs to a test file that still exists (`tests/<prefix>.rs` or
/// `tests/<prefix>/main.rs`), so the snapshots of a deleted test file fail
/// too. insta's pending `.snap.new` files are not snapshots and are left
/// alone.
pub fn assert_snapshot_files(dir: &Path, module: &str, names: impl IntoIterator<Item = String>) {
    let expected: BTreeSet<String> = names
        .into_iter()
        .map(|n| snapshot_file(module, &n))
        .collect();
    let own_prefix = format!("{}__", module.replace("::", "__"));
    let tests_dir = dir.parent().expect("snapshots live in tests/snapshots");
    let mut found = BTreeSet::new();
    let mut orphans = Vec::new();
    for entry in std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("no snapshot directory {}: {e}", dir.display()))
    {
        let name = entry
            .expect("directory entry")
            .file_name()
            .to_string_lossy()
            .into_owned();
        if !name.ends_with(".snap") {
            continue;
        }
        if name.starts_with(&own_prefix) {
            found.insert(name);
            continue;
        }
        let owner = name.split_once("__").map_or("", |(p, _)| p);
        let owned = !owner.is_empty()
            && (tests_dir.join(format!("{owner}.rs")).is_file()
                || tests_dir.join(owner).join("main.rs").is_file());
        if !owned {
            orphans.push(name);
        }
    }
    let unreferenced: Vec<_> = found.difference(&expected).collect();
    let missing: Vec<_> = expected.difference(&found).collect();
    assert!(
        unreferenced.is_empty() && missing.is_empty() && orphans.is_empty(),
        "the snapshots in {} do not match the tests:\n  \
         unreferenced (delete them): {unreferenced:?}\n  \
         of no existing test file (delete them): {orphans:?}\n  \
         missing (run the tests with INSTA_UPDATE=always, review, commit): {missing:?}",
        dir.display()
    );
}

/// Runs `check` (which asserts a snapshot) on every item, and fails at the
/// end naming each item whose check failed. A plain loop would stop at the
/// first difference, so a change to a renderer would be reviewed one
/// fixture per test run; insta has already written every `.snap.new` by the
/// time this fails. The closure is written in the test file, so insta's
/// macros inside it still name the snapshots after that file.
pub fn check_each<T>(
    items: impl IntoIterator<Item = T>,
    label: impl Fn(&T) -> String,
    check: impl Fn(&T),
) {
    let mut failed = Vec::new();
    let mut count = 0;
    for item in items {
        count += 1;
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| check(&item)));
        if outcome.is_err() {
            failed.push(label(&item));
        }
    }
    assert!(count > 0, "nothing to check");
    assert!(
        failed.is_empty(),
        "{} of {count} snapshot(s) differ: {failed:?}",
        failed.len()
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_follow_insta() {
        assert_eq!(
            snapshot_file("fixtures", "unpinned-action/positive.yml"),
            "fixtures__unpinned-action__positive.yml.snap"
        );
    }

    #[test]
    fn leftovers_and_orphans_fail() {
        let t = tempfile::tempdir().expect("tmp");
        let snaps = t.path().join("snapshots");
        std::fs::create_dir(&snaps).expect("mkdir");
        std::fs::write(t.path().join("render.rs"), "").expect("write");
        for f in [
            "render__human.snap",
            "render__json.snap",
            "render__old.snap.new",
        ] {
            std::fs::write(snaps.join(f), "").expect("write");
        }
        let names = |n: &[&str]| n.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_snapshot_files(&snaps, "render", names(&["human", "json"]));
        for bad in [names(&["human"]), names(&["human", "json", "sarif"])] {
            let r = std::panic::catch_unwind(|| assert_snapshot_files(&snaps, "render", bad));
            assert!(r.is_err());
        }
        std::fs::write(snaps.join("gone__x.snap"), "").expect("write");
        let r = std::panic::catch_unwind(|| {
            assert_snapshot_files(&snaps, "render", names(&["human", "json"]))
        });
        assert!(r.is_err(), "a snapshot of a deleted test file passed");
    }
}

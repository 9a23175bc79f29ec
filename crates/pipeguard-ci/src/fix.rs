//! `pipeguard ci --fix`: the fixes that are safe offline, applied as line
//! insertions so the rest of the file stays byte-identical (comments,
//! quoting, anchors and all):
//!
//! - a job with no `permissions:` (and none at workflow level) gets the
//!   minimal block computed from its steps;
//! - `actions/checkout` gets `persist-credentials: false` where
//!   `persisted-credentials` fired.

use crate::model::{FileKind, Workflow};
use crate::{permissions, yaml};

/// One insertion: before 0-based line `at`, these lines.
struct Insert {
    at: usize,
    lines: Vec<String>,
}

fn indent_of(line: &str) -> usize {
    line.len() - line.trim_start_matches(' ').len()
}

/// Whether a `key:` line leaves its value to the following, more indented
/// lines (a block mapping), rather than holding it (`key: { a: 1 }`).
fn block_value(line: Option<&&str>) -> bool {
    let Some(line) = line else { return false };
    let Some((_, rest)) = line.split_once(':') else {
        return false;
    };
    let rest = rest.trim();
    rest.is_empty() || rest.starts_with('#')
}

/// Returns the fixed text, or `None` when there is nothing to fix.
pub fn fix_text(rel: &str, text: &str) -> Option<String> {
    fix_text_with(rel, text, &crate::model::NO_SETTINGS)
}

/// [`fix_text`] with the policy's declared actions and the repository root.
///
/// A job whose needs are unknown (an action the knowledge base does not
/// know, a local or Docker action, `gh api` …) is never changed: a
/// permissions block computed without that step could take away a scope it
/// needs, and `persist-credentials: false` could break a step that pushes
/// with the checkout's credentials.
pub fn fix_text_with(rel: &str, text: &str, settings: &crate::model::Settings) -> Option<String> {
    let docs = yaml::load(text).ok()?;
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    let mut inserts: Vec<Insert> = Vec::new();
    for doc in &docs {
        let Some(wf) = Workflow::from_node(rel, doc) else {
            continue;
        };
        let wf = wf.with_settings(settings);
        if wf.kind != FileKind::Workflow {
            continue;
        }
        // Which checkouts the audit flags, by the line of their `uses:`.
        let mut sink = crate::audits::sink(rel, text);
        crate::audits::run(&wf, &mut sink);
        let flagged: Vec<u32> = sink
            .findings
            .iter()
            .filter(|f| f.rule_id == "persisted-credentials")
            .filter_map(|f| f.locations[0].line)
            .collect();
        for job in &wf.jobs {
            let needs = permissions::job_needs(&wf, job);
            if !needs.known() {
                continue;
            }
            // Only a job that is a block mapping can take a key by
            // insertion (a third fuzz crash: a job whose value was a
            // scalar got a `permissions:` line that broke the file).
            if wf.permissions.is_none()
                && job.permissions.is_none()
                && job.uses.is_none()
                && job.node.key_line > 0
                && !job.node.entries().is_empty()
                && block_value(lines.get(job.node.key_line as usize - 1))
            {
                let pad = " ".repeat((job.node.col as usize).saturating_sub(1));
                let mut block = vec![format!("{pad}permissions:")];
                let needed = needs.scopes();
                if needed.is_empty() {
                    block[0].push_str(" {}");
                }
                for (k, v) in needed {
                    block.push(format!("{pad}  {k}: {v}"));
                }
                inserts.push(Insert {
                    at: job.node.key_line as usize,
                    lines: block,
                });
            }
            for step in &job.steps {
                let Some(uses) = step.uses else { continue };
                if !flagged.contains(&uses.line) {
                    continue;
                }
                match step.with {
                    // `persist-credentials` already set (to `true` or an
                    // expression) needs an edit, not an insertion: a second
                    // key would make the mapping invalid YAML. The same for
                    // a flow mapping (`with: { … }`), which has no line to
                    // insert into, and for a `with:` that is not a mapping
                    // at all. The finding stays for the user.
                    Some(with)
                        if with.get("persist-credentials").is_some()
                            || with.entries().is_empty()
                            || (with.key_line > 0
                                && !block_value(lines.get(with.key_line as usize - 1))) =>
                    {
                        continue;
                    }
                    Some(with) if with.key_line > 0 => {
                        let pad = " ".repeat((with.col as usize).saturating_sub(1));
                        inserts.push(Insert {
                            at: with.key_line as usize,
                            lines: vec![format!("{pad}persist-credentials: false")],
                        });
                    }
                    _ => {
                        // `- uses: x` → the step's keys are indented like `uses`.
                        let key_line = lines.get(uses.line as usize - 1).copied().unwrap_or("");
                        let key_col = key_line.find("uses:").unwrap_or(indent_of(key_line));
                        let pad = " ".repeat(key_col);
                        inserts.push(Insert {
                            at: uses.line as usize,
                            lines: vec![
                                format!("{pad}with:"),
                                format!("{pad}  persist-credentials: false"),
                            ],
                        });
                    }
                }
            }
        }
    }
    if inserts.is_empty() {
        return None;
    }
    inserts.sort_by_key(|i| std::cmp::Reverse(i.at));
    let newline = if text.contains("\r\n") { "\r\n" } else { "\n" };
    let mut out: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
    if out.last().is_some_and(|l| !l.ends_with('\n')) {
        // Keep a final line without newline intact, but insertions after it need one.
        if let Some(last) = out.last_mut() {
            last.push_str(newline);
        }
    }
    for ins in inserts {
        let at = ins.at.min(out.len());
        for (k, l) in ins.lines.into_iter().enumerate() {
            out.insert(at + k, format!("{l}{newline}"));
        }
    }
    let mut s = out.concat();
    if !text.ends_with('\n') && s.ends_with(newline) {
        s.truncate(s.len() - newline.len());
    }
    Some(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    const WF: &str = "name: ci\non: push\njobs:\n  build:\n    runs-on: ubuntu-latest   # keep me\n    steps:\n      - uses: actions/checkout@v4\n      - run: make\n      - uses: actions/upload-artifact@v4\n        with:\n          path: .\n  release:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: actions/checkout@v4\n        with:\n          fetch-depth: 0\n      - run: gh release create v1\n      - uses: actions/upload-artifact@v4\n        with: { path: \"${{ github.workspace }}\" }\n";

    #[test]
    fn fixes_are_insertions_and_silence_the_audits() {
        let fixed = fix_text(".github/workflows/ci.yml", WF).expect("something to fix");
        // Every original line survives, in order.
        let mut it = fixed.lines();
        for l in WF.lines() {
            assert!(it.any(|x| x == l), "lost line {l:?} in\n{fixed}");
        }
        assert!(
            fixed.contains("  build:\n    permissions:\n      contents: read\n    runs-on"),
            "{fixed}"
        );
        assert!(
            fixed.contains("  release:\n    permissions:\n      contents: write\n"),
            "{fixed}"
        );
        assert!(fixed.contains("      - uses: actions/checkout@v4\n        with:\n          persist-credentials: false\n      - run: make"), "{fixed}");
        assert!(
            fixed.contains(
                "        with:\n          persist-credentials: false\n          fetch-depth: 0"
            ),
            "{fixed}"
        );
        let again = crate::audit_text(
            ".github/workflows/ci.yml",
            crate::CiFile::GithubWorkflow,
            &fixed,
        )
        .expect("parses");
        assert!(
            !again
                .iter()
                .any(|f| f.rule_id == "persisted-credentials"
                    || f.rule_id == "excessive-permissions"),
            "{:?}",
            again.iter().map(|f| &f.rule_id).collect::<Vec<_>>()
        );
        // A second run has nothing left to do.
        assert_eq!(fix_text(".github/workflows/ci.yml", &fixed), None);
    }

    /// Regression (fuzz target `ci_workflow`, fuzz/regressions/ci_workflow):
    /// a flagged checkout whose `with:` already had `persist-credentials:
    /// true` got a second `persist-credentials: false`, a duplicated key that
    /// made the whole workflow fail to load. Same for a flow `with: { … }`.
    #[test]
    fn an_existing_persist_credentials_or_flow_with_is_left_alone() {
        let wf = "on: pull_request_target\npermissions:\n  contents: read\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: actions/checkout@v4\n        with:\n          fetch-depth: 0\n          persist-credentials: true\n      - uses: actions/upload-artifact@v4\n        with:\n          path: .\n  b:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: actions/checkout@v4\n        with: { fetch-depth: 0 }\n      - uses: actions/upload-artifact@v4\n        with:\n          path: .\n";
        if let Some(fixed) = fix_text(".github/workflows/ci.yml", wf) {
            yaml::load(&fixed).expect("the fixed workflow still loads");
            assert_eq!(fixed.matches("persist-credentials").count(), 1, "{fixed}");
        }
        // A job whose value is a scalar, not a mapping (the third crash).
        let job_scalar =
            "name: ci\non: push\njobs:\n  build:::add-mask::\n    runs_on:Tubuntake test\n";
        if let Some(fixed) = fix_text(".github/workflows/ci.yml", job_scalar) {
            yaml::load(&fixed).expect("the fixed workflow still loads");
        }
        // `with:` followed by a scalar, not a mapping (the second crash).
        let scalar = "on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: actions/checkout@v4\n        with:\n          persistmake dist\n      - uses: actions/upload-artifact@v4\n        with:\n          path: .\n";
        if let Some(fixed) = fix_text(".github/workflows/ci.yml", scalar) {
            yaml::load(&fixed).expect("the fixed workflow still loads");
        }
        let crash =
            include_str!("../../../fuzz/regressions/ci_workflow/persist-credentials-true.yml");
        let fixed = fix_text(".github/workflows/ci.yml", crash).expect("other checkouts are fixed");
        yaml::load(&fixed).expect("the fixed workflow still loads");
        assert!(
            fixed.contains("persist-credentials: true"),
            "left as the user wrote it"
        );
    }
}

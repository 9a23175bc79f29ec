//! A Markdown summary, for `$GITHUB_STEP_SUMMARY` or a merge-request comment:
//! the verdict, counts by severity, analyzer, rule and file, and a table of
//! findings cut to fit [`MAX_BYTES`].

use std::fmt::Write as _;
use std::io::{self, Write};

use pipeguard_core::{Finding, Report, Severity};

/// The most the summary weighs. GitHub takes 1 MiB per step summary, but a
/// summary is also posted as a pull-request comment, where GitHub stops at
/// 65,536 characters; 60 KiB (bytes, never fewer than characters) fits both
/// and leaves room for what a bot writes around it.
pub const MAX_BYTES: usize = 60 * 1024;

/// Rules and files the summary tables list; the JSON report has them all.
const SUMMARY_ROWS: usize = 10;

/// Room kept for the rows and the note that say what was cut.
const CUT_NOTE_BYTES: usize = 1024;

fn cell(s: &str) -> String {
    let one_line: String = s.split_whitespace().collect::<Vec<_>>().join(" ");
    let short: String = one_line.chars().take(160).collect();
    let short = if short.len() < one_line.len() {
        format!("{short}…")
    } else {
        short
    };
    short
        .replace('|', "\\|")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn row(f: &Finding) -> String {
    let at = f
        .locations
        .first()
        .map(|l| match l.line {
            Some(line) => format!("`{}:{line}`", l.path),
            None => format!("`{}`", l.path),
        })
        .unwrap_or_default();
    let more = if f.locations.len() > 1 {
        format!(" (+{})", f.locations.len() - 1)
    } else {
        String::new()
    };
    let message = match &f.secret {
        Some(s) => format!("{} [{s}]", f.message),
        None => f.message.clone(),
    };
    format!(
        "| {} | `{}` | {at}{more} | {} |\n",
        f.severity,
        cell(&f.rule_id),
        cell(&message)
    )
}

/// The counts by analyzer, rule and file, as three small tables.
fn summary_tables(report: &Report, md: &mut String) {
    let s = &report.summary;
    let analyzers = s.analyzers_by_count();
    md.push_str("\n| analyzer | findings |\n|---|---:|\n");
    for (a, n) in analyzers {
        let _ = writeln!(md, "| {} | {n} |", cell(a));
    }
    let rules = s.rules_by_count();
    md.push_str("\n| rule | findings |\n|---|---:|\n");
    for (r, n) in rules.iter().take(SUMMARY_ROWS) {
        let _ = writeln!(md, "| `{}` | {n} |", cell(r));
    }
    if rules.len() > SUMMARY_ROWS {
        let _ = writeln!(
            md,
            "\n… and {} more rules (the JSON report counts every rule).",
            rules.len() - SUMMARY_ROWS
        );
    }
    if !s.top_files.is_empty() {
        md.push_str("\n| file | findings |\n|---|---:|\n");
        for f in &s.top_files {
            let _ = writeln!(md, "| `{}` | {} |", cell(&f.path), f.findings);
        }
    }
}

/// The findings table, cut when it would not fit in `budget` bytes: then
/// each severity shows its first rows (the same number for every
/// severity, the largest that fits), so a flood of low findings cannot
/// push the critical ones out, followed by a row saying how many were cut.
fn findings_table(report: &Report, budget: usize, md: &mut String) {
    let rows: Vec<(Severity, String)> = report
        .findings
        .iter()
        .map(|f| (f.severity, row(f)))
        .collect();
    let per_severity: Vec<Vec<&String>> = Severity::ALL
        .iter()
        .map(|s| {
            rows.iter()
                .filter(|(sev, _)| sev == s)
                .map(|(_, r)| r)
                .collect()
        })
        .collect();
    let cost = |n: usize| -> usize {
        per_severity
            .iter()
            .map(|rs| rs.iter().take(n).map(|r| r.len()).sum::<usize>())
            .sum()
    };
    let most = per_severity.iter().map(Vec::len).max().unwrap_or(0);
    let room = budget.saturating_sub(CUT_NOTE_BYTES);
    // Rows shown per severity: all of them when they fit, else the most
    // that fit. The cost only grows with `n`, so a binary search finds it
    // in a few passes even over tens of thousands of findings.
    let shown = if cost(most) <= budget {
        most
    } else {
        let (mut fits, mut too_many) = (0, most);
        while too_many - fits > 1 {
            let mid = fits + (too_many - fits) / 2;
            if cost(mid) <= room {
                fits = mid;
            } else {
                too_many = mid;
            }
        }
        fits
    };
    md.push_str("\n| severity | rule | where | what |\n|---|---|---|---|\n");
    let mut cut: Vec<String> = Vec::new();
    for (sev, rs) in Severity::ALL.iter().zip(&per_severity) {
        for r in rs.iter().take(shown) {
            md.push_str(r);
        }
        if rs.len() > shown {
            let n = rs.len() - shown;
            let _ = writeln!(md, "| {sev} | … | | {n} more {sev} findings |");
            cut.push(format!("{n} {sev}"));
        }
    }
    if !cut.is_empty() {
        let total: usize = per_severity
            .iter()
            .map(|rs| rs.len().saturating_sub(shown))
            .sum();
        let _ = writeln!(
            md,
            "\n{total} more findings ({}) are left out to keep this summary under {} KiB: \
             the full list is in the SARIF or JSON report \
             (`--report sarif=pipeguard.sarif` or `--report json=pipeguard.json`).",
            cut.join(", "),
            MAX_BYTES / 1024
        );
    }
}

pub fn render(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    let mut md = String::new();
    let verdict = if report.fails() {
        format!("❌ **FAIL**: findings at or above `{}`", report.fail_on)
    } else if !report.unchecked.is_empty() {
        format!(
            "⚠️ **INCOMPLETE**: not checked: {}",
            report.unchecked.join("; ")
        )
    } else {
        format!("✅ **PASS**: nothing at or above `{}`", report.fail_on)
    };
    let _ = writeln!(md, "## pipeguard {}\n\n{verdict}\n", report.command);
    md.push_str("| severity | findings |\n|---|---:|\n");
    for s in Severity::ALL {
        let n = report
            .summary
            .findings_by_severity
            .get(s.as_str())
            .copied()
            .unwrap_or(0);
        let _ = writeln!(md, "| {s} | {n} |");
    }
    if report.findings.is_empty() {
        md.push_str("\nNo findings.\n");
        return out.write_all(md.as_bytes());
    }
    summary_tables(report, &mut md);
    let problems = if report.problems.is_empty() {
        String::new()
    } else {
        format!(
            "\n{} input(s) could not be fully scanned.\n",
            report.problems.len()
        )
    };
    let budget = MAX_BYTES.saturating_sub(md.len() + problems.len());
    findings_table(report, budget, &mut md);
    md.push_str(&problems);
    out.write_all(md.as_bytes())
}

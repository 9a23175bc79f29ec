//! A Markdown summary, for `$GITHUB_STEP_SUMMARY` or a merge-request comment:
//! the verdict, counts by severity, and a table of findings.

use std::io::{self, Write};

use pipeguard_core::{Report, Severity};

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

pub fn render(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    let verdict = if report.fails() {
        format!("❌ **FAIL**: findings at or above `{}`", report.fail_on)
    } else {
        format!("✅ **PASS**: nothing at or above `{}`", report.fail_on)
    };
    writeln!(out, "## pipeguard {}\n\n{verdict}\n", report.command)?;
    writeln!(out, "| severity | findings |\n|---|---:|")?;
    for s in Severity::ALL {
        let n = report
            .summary
            .findings_by_severity
            .get(s.as_str())
            .copied()
            .unwrap_or(0);
        writeln!(out, "| {s} | {n} |")?;
    }
    if report.findings.is_empty() {
        writeln!(out, "\nNo findings.")?;
        return Ok(());
    }
    writeln!(
        out,
        "\n| severity | rule | where | what |\n|---|---|---|---|"
    )?;
    for f in report.findings.iter().take(200) {
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
        writeln!(
            out,
            "| {} | `{}` | {at}{more} | {} |",
            f.severity,
            cell(&f.rule_id),
            cell(&message)
        )?;
    }
    if report.findings.len() > 200 {
        writeln!(
            out,
            "\n… and {} more (see the JSON or SARIF report).",
            report.findings.len() - 200
        )?;
    }
    if !report.problems.is_empty() {
        writeln!(
            out,
            "\n{} input(s) could not be fully scanned.",
            report.problems.len()
        )?;
    }
    Ok(())
}

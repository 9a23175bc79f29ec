//! JUnit XML, for CI systems that render test reports (GitLab, Jenkins,
//! Azure DevOps). One test case per finding; findings at or above the
//! threshold are failures, the others pass with their message as output.

use std::io::{self, Write};

use pipeguard_core::Report;

pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // XML 1.0 forbids most control characters, even escaped.
            c if (c as u32) < 0x20 && !matches!(c, '\n' | '\r' | '\t') => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

/// The finding counts as the suite's properties, which CI test views list
/// beside the suite (`pipeguard.findings`, then `pipeguard.severity.*`,
/// `pipeguard.analyzer.*`, `pipeguard.rule.*`, and `pipeguard.file.*` for
/// the top files, most findings first). Never empty: JUnit's schema wants
/// at least one property inside `<properties>`.
fn write_properties(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    let s = &report.summary;
    let mut props: Vec<(String, usize)> =
        vec![("pipeguard.findings".into(), report.findings.len())];
    for sev in pipeguard_core::Severity::ALL {
        if let Some(n) = s.findings_by_severity.get(sev.as_str()) {
            props.push((format!("pipeguard.severity.{sev}"), *n));
        }
    }
    for (a, n) in &s.by_analyzer {
        props.push((format!("pipeguard.analyzer.{a}"), *n));
    }
    for (r, n) in &s.by_rule {
        props.push((format!("pipeguard.rule.{r}"), *n));
    }
    for f in &s.top_files {
        props.push((format!("pipeguard.file.{}", f.path), f.findings));
    }
    if s.suppressed_by_baseline > 0 {
        props.push((
            "pipeguard.suppressed-by-baseline".into(),
            s.suppressed_by_baseline,
        ));
    }
    writeln!(out, "    <properties>")?;
    for (name, value) in props {
        writeln!(
            out,
            r#"      <property name="{}" value="{value}"/>"#,
            escape(&name)
        )?;
    }
    writeln!(out, "    </properties>")
}

pub fn render(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    let failures = report
        .findings
        .iter()
        .filter(|f| f.blocking && f.severity >= report.fail_on)
        .count();
    let secs = report.summary.duration_ms as f64 / 1000.0;
    writeln!(out, r#"<?xml version="1.0" encoding="UTF-8"?>"#)?;
    writeln!(
        out,
        r#"<testsuites name="pipeguard" tests="{}" failures="{failures}" time="{secs:.3}">"#,
        report.findings.len()
    )?;
    writeln!(
        out,
        r#"  <testsuite name="pipeguard {}" tests="{}" failures="{failures}" errors="0" skipped="0" time="{secs:.3}">"#,
        escape(&report.command),
        report.findings.len()
    )?;
    write_properties(report, out)?;
    for f in &report.findings {
        let at = f
            .locations
            .first()
            .map(|l| match l.line {
                Some(line) => format!("{}:{line}", l.path),
                None => l.path.clone(),
            })
            .unwrap_or_default();
        let name = format!("{} {at}", f.rule_id);
        let message = match &f.secret {
            Some(s) => format!("{} [{s}]", f.message),
            None => f.message.clone(),
        };
        write!(
            out,
            r#"    <testcase classname="pipeguard.{}" name="{}" file="{}""#,
            escape(&f.analyzer),
            escape(&name),
            escape(f.primary_path().unwrap_or(""))
        )?;
        if f.blocking && f.severity >= report.fail_on {
            writeln!(out, ">")?;
            let places: Vec<String> = f
                .locations
                .iter()
                .map(|l| format!("{}:{}", l.path, l.line.unwrap_or(0)))
                .collect();
            writeln!(
                out,
                r#"      <failure type="{}" message="{}">{}&#10;{}</failure>"#,
                f.severity,
                escape(&message),
                escape(&message),
                escape(&places.join("\n"))
            )?;
            writeln!(out, "    </testcase>")?;
        } else {
            writeln!(out, ">")?;
            writeln!(
                out,
                "      <system-out>{}: {}</system-out>",
                f.severity,
                escape(&message)
            )?;
            writeln!(out, "    </testcase>")?;
        }
    }
    writeln!(out, "  </testsuite>")?;
    writeln!(out, "</testsuites>")
}

//! The terminal report: findings grouped by severity, then problems, then a
//! one-line verdict. Colour only when asked (the binary decides from the TTY).

use std::io::{self, Write};

use anstyle::{AnsiColor, Effects, Style};
use pipeguard_core::{Report, Severity};

fn sev_style(s: Severity) -> Style {
    match s {
        Severity::Critical => AnsiColor::Magenta.on_default().effects(Effects::BOLD),
        Severity::High => AnsiColor::Red.on_default().effects(Effects::BOLD),
        Severity::Medium => AnsiColor::Yellow.on_default().effects(Effects::BOLD),
        Severity::Low => AnsiColor::Cyan.on_default(),
        Severity::Info => AnsiColor::BrightBlack.on_default(),
    }
}

struct Painter {
    color: bool,
}

impl Painter {
    fn paint(&self, style: Style, text: &str) -> String {
        if self.color {
            format!("{style}{text}{style:#}")
        } else {
            text.to_string()
        }
    }
}

pub fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 4] = ["B", "KB", "MB", "GB"];
    let mut v = n as f64;
    let mut u = 0;
    while v >= 1000.0 && u < UNITS.len() - 1 {
        v /= 1000.0;
        u += 1;
    }
    if u == 0 {
        format!("{n} B")
    } else {
        format!("{v:.1} {}", UNITS[u])
    }
}

pub fn render(report: &Report, color: bool, out: &mut dyn Write) -> io::Result<()> {
    let p = Painter { color };
    let dim = AnsiColor::BrightBlack.on_default();
    let bold = Style::new().effects(Effects::BOLD);
    for sev in Severity::ALL {
        let group: Vec<_> = report
            .findings
            .iter()
            .filter(|f| f.severity == sev)
            .collect();
        if group.is_empty() {
            continue;
        }
        for f in group {
            let label = format!("{:<8}", sev.as_str().to_uppercase());
            writeln!(
                out,
                "{} {} {}",
                p.paint(sev_style(sev), &label),
                p.paint(bold, &f.rule_id),
                p.paint(dim, &format!("(confidence: {})", f.confidence)),
            )?;
            let mut head = f.message.clone();
            if let Some(s) = &f.secret {
                head = format!("{head} [{s}]");
            }
            writeln!(out, "    {head}")?;
            for (i, l) in f.locations.iter().enumerate() {
                if i == 10 && f.locations.len() > 11 {
                    writeln!(out, "    … and {} more places", f.locations.len() - 10)?;
                    break;
                }
                let mut at = l.path.clone();
                if let Some(line) = l.line {
                    at.push_str(&format!(":{line}"));
                    if let Some(c) = l.column {
                        at.push_str(&format!(":{c}"));
                    }
                }
                let mut tail = String::new();
                if let Some(g) = &l.git {
                    let short = &g.commit[..g.commit.len().min(12)];
                    tail = format!("  commit {short} by {} on {}", g.author, g.date);
                }
                writeln!(out, "    --> {}{}", at, p.paint(dim, &tail))?;
                if let Some(snip) = &l.snippet {
                    writeln!(out, "        {}", p.paint(dim, snip))?;
                }
            }
            if !f.flow.is_empty() {
                writeln!(out, "    data flow:")?;
                for (i, step) in f.flow.iter().enumerate() {
                    let l = &step.location;
                    let at = match l.line {
                        Some(line) => format!("{}:{line}", l.path),
                        None => l.path.clone(),
                    };
                    writeln!(out, "      {}. {at}  {}", i + 1, step.message)?;
                }
            }
            writeln!(
                out,
                "    {}",
                p.paint(dim, &format!("fingerprint: {}", f.fingerprint))
            )?;
            writeln!(out)?;
        }
    }
    if !report.problems.is_empty() {
        writeln!(
            out,
            "{}",
            p.paint(
                bold,
                &format!(
                    "{} input(s) could not be fully scanned:",
                    report.problems.len()
                )
            )
        )?;
        for pr in report.problems.iter().take(50) {
            let at = match pr.line {
                Some(l) => format!("{}:{l}", pr.path),
                None => pr.path.clone(),
            };
            writeln!(out, "    {at}: {}", pr.message)?;
        }
        if report.problems.len() > 50 {
            writeln!(
                out,
                "    … and {} more (see --format json)",
                report.problems.len() - 50
            )?;
        }
        writeln!(out)?;
    }
    let counts: Vec<String> = Severity::ALL
        .iter()
        .filter_map(|s| {
            report
                .summary
                .findings_by_severity
                .get(s.as_str())
                .map(|n| format!("{n} {s}"))
        })
        .collect();
    let mut scanned = format!(
        "{} files, {}",
        report.summary.files_scanned,
        human_bytes(report.summary.bytes_scanned)
    );
    if let Some(c) = report.summary.commits_scanned {
        scanned = format!(
            "{c} commits, {} blobs, {}",
            report.summary.blobs_scanned.unwrap_or(0),
            human_bytes(report.summary.bytes_scanned)
        );
    }
    let total = report.findings.len();
    let verdict = if report.fails() {
        p.paint(
            AnsiColor::Red.on_default().effects(Effects::BOLD),
            &format!("FAIL (findings at or above {})", report.fail_on),
        )
    } else {
        p.paint(
            AnsiColor::Green.on_default().effects(Effects::BOLD),
            &format!("PASS (nothing at or above {})", report.fail_on),
        )
    };
    let detail = if counts.is_empty() {
        String::new()
    } else {
        format!(" ({})", counts.join(", "))
    };
    let baseline = if report.summary.suppressed_by_baseline > 0 {
        format!(", {} in baseline", report.summary.suppressed_by_baseline)
    } else {
        String::new()
    };
    writeln!(
        out,
        "{total} finding(s){detail}{baseline} in {scanned}, {} ms: {verdict}",
        report.summary.duration_ms
    )
}

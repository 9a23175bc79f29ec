//! GitHub Actions workflow commands (`::error file=…,line=…::message`):
//! annotations on the pull request's diff without uploading SARIF.

use std::io::{self, Write};

use pipeguard_core::{Report, Severity};

/// Escaping of a command's message (GitHub's `escapeData`).
pub fn escape_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escaping of a command's properties (`escapeProperty`).
pub fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

pub fn render(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    for f in &report.findings {
        let level = if f.blocking && f.severity >= report.fail_on {
            "error"
        } else if f.severity >= Severity::Low {
            "warning"
        } else {
            "notice"
        };
        let message = match &f.secret {
            Some(s) => format!("{} [{s}]", f.message),
            None => f.message.clone(),
        };
        for l in &f.locations {
            let mut props = vec![format!("file={}", escape_property(&l.path))];
            if let Some(line) = l.line {
                props.push(format!("line={line}"));
                if let Some(end) = l.end_line {
                    props.push(format!("endLine={end}"));
                }
                if let Some(c) = l.column {
                    props.push(format!("col={c}"));
                }
            }
            props.push(format!(
                "title={}",
                escape_property(&format!("{} ({})", f.rule_id, f.severity))
            ));
            writeln!(
                out,
                "::{level} {}::{}",
                props.join(","),
                escape_data(&message)
            )?;
        }
    }
    Ok(())
}

//! The terminal report: findings (by severity, or grouped by rule, file or
//! package), then problems, then a summary when the findings no longer fit on
//! a screen, then a one-line verdict. Colour only when asked (the binary
//! decides from the TTY).

use std::collections::BTreeMap;
use std::io::{self, Write};
use std::str::FromStr;

use anstyle::{AnsiColor, Effects, Style};
use pipeguard_core::{Finding, Report, Severity};

use crate::Options;

/// From how many findings the report ends with a summary. Below this the
/// whole report is a screen or two, and the verdict line already counts by
/// severity: a summary would repeat what is in view. Above it the first
/// findings have scrolled away, and the summary is what stays on screen.
pub const SUMMARY_FROM: usize = 20;

/// How many rules the summary lists; the rest are counted in one line
/// (`--group-by rule` shows every rule). A deps scan can name hundreds of
/// advisories, each its own rule.
const SUMMARY_RULES: usize = 10;

/// How the human report groups findings (`--group-by`). Without one the
/// findings come most severe first, as they always did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupBy {
    Rule,
    /// By the file of the finding's first location.
    File,
    /// By the package a dependency finding is about; the others last.
    Package,
}

impl GroupBy {
    /// The names `--group-by` accepts.
    pub const NAMES: [&'static str; 3] = ["rule", "file", "package"];
}

impl FromStr for GroupBy {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "rule" => Ok(GroupBy::Rule),
            "file" => Ok(GroupBy::File),
            "package" => Ok(GroupBy::Package),
            _ => Err(format!(
                "unknown grouping `{s}` (expected one of {})",
                GroupBy::NAMES.join(", ")
            )),
        }
    }
}

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

/// "1 finding", "2 findings".
fn counted(n: usize, what: &str) -> String {
    if n == 1 {
        format!("{n} {what}")
    } else {
        format!("{n} {what}s")
    }
}

fn write_finding(p: &Painter, f: &Finding, out: &mut dyn Write) -> io::Result<()> {
    let dim = AnsiColor::BrightBlack.on_default();
    let bold = Style::new().effects(Effects::BOLD);
    let label = format!("{:<8}", f.severity.as_str().to_uppercase());
    let mut notes = format!("(confidence: {})", f.confidence);
    if f.tags.iter().any(|t| t == "test") {
        notes.push_str(" [test data]");
    }
    if !f.blocking {
        notes.push_str(" [not counted]");
    }
    writeln!(
        out,
        "{} {} {}",
        p.paint(sev_style(f.severity), &label),
        p.paint(bold, &f.rule_id),
        p.paint(dim, &notes),
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
    writeln!(out)
}

/// One group of `--group-by`: its title and its findings in report order.
struct Group<'a> {
    title: String,
    /// Sorts after every other group (findings without a package).
    last: bool,
    findings: Vec<&'a Finding>,
}

fn groups(report: &Report, by: GroupBy) -> Vec<Group<'_>> {
    let mut map: BTreeMap<(bool, String), Vec<&Finding>> = BTreeMap::new();
    for f in &report.findings {
        let key = match by {
            GroupBy::Rule => (false, f.rule_id.clone()),
            GroupBy::File => match f.primary_path() {
                Some(p) => (false, p.to_string()),
                None => (true, "no file".to_string()),
            },
            GroupBy::Package => match &f.package {
                Some(p) => (false, format!("{} {} ({})", p.name, p.version, p.ecosystem)),
                None => (true, "not about a package".to_string()),
            },
        };
        map.entry(key).or_default().push(f);
    }
    let mut groups: Vec<Group> = map
        .into_iter()
        .map(|((last, key), findings)| {
            let title = match (by, findings.first()) {
                (GroupBy::Rule, Some(f)) => format!("{key}: {}", f.rule_name),
                _ => key,
            };
            Group {
                title,
                last,
                findings,
            }
        })
        .collect();
    // The group to look at first comes first: the most severe, then the
    // largest (one fix often clears a whole group). The map ordered the
    // rest by name, and the sort is stable.
    groups.sort_by_key(|g| {
        let worst = g.findings.iter().map(|f| f.severity).max();
        (
            g.last,
            std::cmp::Reverse(worst),
            std::cmp::Reverse(g.findings.len()),
        )
    });
    groups
}

fn write_summary(p: &Painter, report: &Report, out: &mut dyn Write) -> io::Result<()> {
    let bold = Style::new().effects(Effects::BOLD);
    let dim = AnsiColor::BrightBlack.on_default();
    let s = &report.summary;
    writeln!(
        out,
        "{}",
        p.paint(
            bold,
            &format!("Summary of {}:", counted(report.findings.len(), "finding"))
        )
    )?;
    let severities: Vec<String> = Severity::ALL
        .iter()
        .filter_map(|sev| {
            s.findings_by_severity
                .get(sev.as_str())
                .map(|n| p.paint(sev_style(*sev), &format!("{n} {sev}")))
        })
        .collect();
    writeln!(out, "  by severity:  {}", severities.join(", "))?;
    let analyzers = s.analyzers_by_count();
    let analyzers: Vec<String> = analyzers
        .into_iter()
        .map(|(a, n)| format!("{n} {a}"))
        .collect();
    writeln!(out, "  by analyzer:  {}", analyzers.join(", "))?;
    let rules = s.rules_by_count();
    writeln!(out, "  top rules:")?;
    for (rule, n) in rules.iter().take(SUMMARY_RULES) {
        writeln!(out, "    {n:>5}  {rule}")?;
    }
    if rules.len() > SUMMARY_RULES {
        writeln!(
            out,
            "    {}",
            p.paint(
                dim,
                &format!(
                    "… and {} more {} (--group-by rule shows every rule)",
                    rules.len() - SUMMARY_RULES,
                    if rules.len() - SUMMARY_RULES == 1 {
                        "rule"
                    } else {
                        "rules"
                    }
                )
            )
        )?;
    }
    if !s.top_files.is_empty() {
        writeln!(out, "  top files:")?;
        for f in &s.top_files {
            writeln!(out, "    {:>5}  {}", f.findings, f.path)?;
        }
    }
    writeln!(out)
}

/// The last line: totals, what was scanned, and PASS or FAIL.
fn verdict(p: &Painter, report: &Report) -> String {
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
    } else if !report.unchecked.is_empty() {
        // Nothing failed among what was checked, but not everything was:
        // a fail-closed gate does not call that a pass.
        p.paint(
            AnsiColor::Red.on_default().effects(Effects::BOLD),
            &format!("INCOMPLETE ({} not checked)", report.unchecked.len()),
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
    format!(
        "{total} finding(s){detail}{baseline} in {scanned}, {} ms: {verdict}",
        report.summary.duration_ms
    )
}

pub fn render(report: &Report, opts: &Options, out: &mut dyn Write) -> io::Result<()> {
    let p = Painter { color: opts.color };
    let bold = Style::new().effects(Effects::BOLD);
    match opts.group_by {
        None => {
            for sev in Severity::ALL {
                for f in report.findings.iter().filter(|f| f.severity == sev) {
                    write_finding(&p, f, out)?;
                }
            }
        }
        Some(by) => {
            for g in groups(report, by) {
                let head = format!(
                    "── {} ({}) ──",
                    g.title,
                    counted(g.findings.len(), "finding")
                );
                writeln!(out, "{}\n", p.paint(bold, &head))?;
                for f in g.findings {
                    write_finding(&p, f, out)?;
                }
            }
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
    if report.findings.len() >= SUMMARY_FROM {
        write_summary(&p, report, out)?;
    }
    writeln!(out, "{}", verdict(&p, report))
}

/// `--quiet`: the verdict line alone, after the count of inputs that could
/// not be scanned, if any (a PASS over unread files is worth a second look).
pub fn render_quiet(report: &Report, color: bool, out: &mut dyn Write) -> io::Result<()> {
    let p = Painter { color };
    if !report.problems.is_empty() {
        writeln!(
            out,
            "{} input(s) could not be fully scanned (see the full report)",
            report.problems.len()
        )?;
    }
    writeln!(out, "{}", verdict(&p, report))
}

//! `copy-missing-from`: a later stage copies an earlier stage's output
//! without `--from`, so it gets the build context's copy instead.

use pipeguard_core::{Confidence, RuleMeta, Severity, rule_meta};

use super::{InstructionSink, Rule, Sink};
use crate::dockerfile::{Dockerfile, Instruction, Stage};

pub struct CopyMissingFrom;

rule_meta! {
    /// ## What it does
    /// Flags a `COPY`/`ADD` without `--from` in a later stage whose source is
    /// an absolute path that an earlier stage produced: its `WORKDIR`, a
    /// `COPY` destination, or a path its `RUN`s write (`-o /out/app`,
    /// `mkdir -p /dist`, `> /out/x`).
    /// ## Why is this bad
    /// Without `--from`, COPY reads from the build context: `COPY /app/dist
    /// ./dist` copies the context's `app/dist` (a stale local build, or
    /// sources never meant to ship) or fails, never the freshly built stage
    /// output. The image then ships something other than what the build
    /// produced and what was reviewed.
    /// ## Example
    /// ```dockerfile
    /// FROM node:20-alpine AS builder
    /// WORKDIR /app
    /// RUN npm ci && npm run build
    /// FROM node:20-alpine
    /// COPY /app/dist ./dist
    /// ```
    static COPY_FROM = {
        id: "copy-missing-from",
        name: "COPY of a build stage's output without --from",
        severity: Severity::Medium,
        confidence: Confidence::Medium,
        fix: "Without `--from`, COPY sources are paths in the build context (a leading `/` is the context root).",
        cwe: &[],
    };
}

/// Joins `path` onto the working directory `dir` (`dist` in `/app` is
/// `/app/dist`), without `.`/`..` handling beyond a leading `./`.
fn resolve(dir: &str, path: &str) -> String {
    if path.starts_with('/') {
        return path.trim_end_matches('/').to_string();
    }
    let path = path.trim_start_matches("./").trim_end_matches('/');
    let dir = dir.trim_end_matches('/');
    if path.is_empty() || path == "." {
        dir.to_string()
    } else {
        format!("{dir}/{path}")
    }
}

/// The words of a COPY/ADD after its flags: sources, then the destination.
fn copy_words(ins: &Instruction) -> Vec<String> {
    match &ins.json {
        Some(v) => v.clone(),
        None => ins
            .args
            .split_whitespace()
            .map(|w| w.trim_matches('"').to_string())
            .collect(),
    }
}

/// Options whose value is an output path (`go build -o /out/app`).
const OUTPUT_OPTIONS: &[&str] = &["-o", "--output", "--out-dir", "--outdir", "--prefix", "-d"];

/// The absolute paths a stage writes: its WORKDIRs, COPY/ADD destinations,
/// and the outputs its RUNs name. Paths with variables are left out (their
/// value is not known here), and so is `/`.
fn produced_paths(stage: &Stage) -> Vec<String> {
    let mut out = Vec::new();
    let mut dir = "/".to_string();
    for ins in &stage.instructions {
        match ins.keyword.as_str() {
            "WORKDIR" => {
                dir = resolve(&dir, ins.args.trim().trim_matches('"'));
                out.push(dir.clone());
            }
            "COPY" | "ADD" => {
                if let Some(dest) = copy_words(ins).last() {
                    out.push(resolve(&dir, dest));
                }
            }
            "RUN" => {
                let script = ins.script();
                for cmd in super::run::commands(&script) {
                    let w: Vec<&str> = cmd.split_whitespace().collect();
                    let first = w.first().copied().unwrap_or("");
                    for (k, word) in w.iter().enumerate() {
                        let target = if first == "mkdir" && k > 0 && !word.starts_with('-') {
                            Some(*word)
                        } else if let Some(t) = word.strip_prefix('>') {
                            Some(if t.is_empty() || t == ">" {
                                w.get(k + 1).copied().unwrap_or("")
                            } else {
                                t.trim_start_matches('>')
                            })
                        } else if let Some((opt, v)) = word.split_once('=') {
                            OUTPUT_OPTIONS.contains(&opt).then_some(v)
                        } else if OUTPUT_OPTIONS.contains(word) {
                            w.get(k + 1).copied()
                        } else {
                            None
                        };
                        if let Some(t) = target.map(|t| t.trim_matches(['"', '\'']))
                            && t.starts_with('/')
                        {
                            out.push(t.trim_end_matches('/').to_string());
                        }
                    }
                }
            }
            _ => {}
        }
    }
    out.retain(|p| !p.is_empty() && p != "/" && !p.contains('$'));
    out
}

/// Whether `source` (a COPY source, maybe with a glob) is, is inside, or
/// contains the produced path `p`.
fn overlaps(source: &str, p: &str) -> bool {
    let s = match source.find(['*', '?', '[']) {
        Some(i) => &source[..i],
        None => source,
    };
    let s = s.trim_end_matches('/');
    if s.is_empty() {
        return false;
    }
    s == p
        || s.strip_prefix(p).is_some_and(|r| r.starts_with('/'))
        || p.strip_prefix(s).is_some_and(|r| r.starts_with('/'))
}

impl Rule for CopyMissingFrom {
    fn meta(&self) -> &'static RuleMeta {
        &COPY_FROM
    }

    fn check(&self, df: &Dockerfile, out: &mut Sink) {
        if df.stages.len() < 2 {
            return;
        }
        // Computed once per stage, lazily: most Dockerfiles have no COPY with
        // an absolute source, and then nothing needs them.
        let mut produced: Vec<Option<Vec<String>>> = vec![None; df.stages.len()];
        for (i, stage) in df.stages.iter().enumerate().skip(1) {
            for ins in stage.instructions.iter().filter(|i| {
                (i.keyword == "COPY" || i.keyword == "ADD")
                    && i.flag("from").is_none()
                    && i.heredocs.is_empty()
            }) {
                let words = copy_words(ins);
                let sources = &words[..words.len().saturating_sub(1)];
                let hit = sources
                    .iter()
                    .filter(|s| s.starts_with('/') && !s.contains('$'))
                    .find_map(|src| {
                        // The nearest earlier stage that made it.
                        (0..i).rev().find_map(|j| {
                            let paths =
                                produced[j].get_or_insert_with(|| produced_paths(&df.stages[j]));
                            paths
                                .iter()
                                .any(|p| overlaps(src, p))
                                .then_some((src.clone(), j))
                        })
                    });
                if let Some((src, j)) = hit {
                    let name = df.stages[j].alias.clone().unwrap_or_else(|| j.to_string());
                    out.report(
                        &COPY_FROM,
                        ins,
                        &src,
                        format!(
                            "`{} {src}` reads the build context, not stage `{name}` which produces that path: copy from the build stage with `--from={name}`.",
                            ins.keyword
                        ),
                    );
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Regression (issue #16): the two-stage Node example copied `/app/dist`
    /// and `/app/node_modules` without `--from=builder` and pipeguard said
    /// nothing. It must name the stage on both COPY lines, and say nothing
    /// about USER (the final stage has a non-root one).
    #[test]
    fn issue_16_example_reports_both_copies_and_no_user_finding() {
        let text =
            include_str!("../../tests/fixtures/copy-missing-from/positive-issue-16.Dockerfile");
        let findings = crate::audit_text("Dockerfile", text).expect("parses");
        let copies: Vec<(u32, &str)> = findings
            .iter()
            .filter(|f| f.rule_id == "copy-missing-from")
            .map(|f| (f.locations[0].line.unwrap_or(0), f.message.as_str()))
            .collect();
        assert_eq!(copies.len(), 2, "{copies:?}");
        assert_eq!((copies[0].0, copies[1].0), (17, 18));
        assert!(
            copies.iter().all(|(_, m)| m.contains("`--from=builder`")),
            "{copies:?}"
        );
        assert!(
            !findings.iter().any(|f| f.rule_id == "root-user"),
            "{findings:?}"
        );
    }

    #[test]
    fn produced_paths_and_overlaps() {
        let df = crate::dockerfile::parse(
            "FROM golang:1.22 AS build\nWORKDIR /src\nCOPY . .\nRUN mkdir -p /out/bin && go build -o /out/bin/api ./cmd/api > /tmp/build.log\nWORKDIR web\n",
        )
        .expect("parse");
        let p = produced_paths(&df.stages[0]);
        assert_eq!(
            p,
            [
                "/src",
                "/src",
                "/out/bin",
                "/out/bin/api",
                "/tmp/build.log",
                "/src/web"
            ]
        );
        assert!(overlaps("/out/bin/api", "/out/bin"));
        assert!(overlaps("/out/", "/out/bin"));
        assert!(overlaps("/src/web/*.js", "/src/web"));
        assert!(!overlaps("/srcx", "/src"));
        assert!(!overlaps("/*", "/src"));
    }
}

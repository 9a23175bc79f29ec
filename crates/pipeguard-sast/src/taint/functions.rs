//! Functions: where their parameters come from (route and annotated
//! parameters are request data), closures (a nested function starts from
//! what its enclosing function left), and same-file summaries: for each
//! parameter, whether it reaches the return value and which sinks it reaches
//! inside, so a call to a function of this file is followed into it.

use tree_sitter::Node;

use super::domain::{Step, Taint, Var, join, span};
use super::{FileAnalysis, Frame, Hit};

/// What one parameter of a function does: reaches the return value
/// (`ret`, with the steps inside), reaches sinks inside (`sinks`).
#[derive(Default, Clone)]
pub(super) struct Summary {
    ret: Option<Taint>,
    sinks: Vec<Hit>,
}

impl<'a> FileAnalysis<'a> {
    /// Every function of the file, outer before inner, and the named ones
    /// by name.
    pub(super) fn collect_functions(&mut self, root: Node<'a>, out: &mut Vec<Node<'a>>) {
        // Iterative: a recursive walk could overflow on deeply nested code.
        let mut cursor = root.walk();
        loop {
            let n = cursor.node();
            if self.syn.functions.contains(&n.kind()) {
                out.push(n);
                if let Some(name) = n.child_by_field_name("name") {
                    self.funcs.entry(self.text(name).to_string()).or_insert(n);
                } else if let Some(p) = n.parent()
                    // `const helper = (x) => …` names the function by its variable.
                    && p.kind() == "variable_declarator"
                    && let Some(name) = p.child_by_field_name("name")
                {
                    self.funcs.entry(self.text(name).to_string()).or_insert(n);
                }
            }
            if cursor.goto_first_child() {
                continue;
            }
            while !cursor.goto_next_sibling() {
                if !cursor.goto_parent() {
                    return;
                }
            }
        }
    }

    fn fn_name(&self, f: Node) -> String {
        f.child_by_field_name("name")
            .map(|n| self.text(n).to_string())
            .unwrap_or_else(|| "<anonymous>".to_string())
    }

    /// Parameters: name, declared type, node.
    fn params(&self, f: Node<'a>) -> Vec<(String, Option<Node<'a>>, Node<'a>)> {
        let Some(list) = f
            .child_by_field_name("parameters")
            .or_else(|| f.child_by_field_name("parameter"))
        else {
            return Vec::new();
        };
        let mut out = Vec::new();
        if list.kind() == "identifier" {
            out.push((self.text(list).to_string(), None, list));
            return out;
        }
        let mut c = list.walk();
        for p in list.named_children(&mut c) {
            if p.kind() == "comment" {
                continue;
            }
            let ty = p.child_by_field_name("type");
            if p.kind() == "identifier" {
                out.push((self.text(p).to_string(), None, p));
                continue;
            }
            let mut names: Vec<Node> = p
                .children_by_field_name("name", &mut p.walk())
                .filter(|n| n.kind() == "identifier")
                .collect();
            if names.is_empty() {
                for field in ["pattern", "left"] {
                    if let Some(n) = p.child_by_field_name(field)
                        && n.kind() == "identifier"
                    {
                        names.push(n);
                    }
                }
            }
            if names.is_empty() {
                let mut c2 = p.walk();
                if let Some(n) = p.named_children(&mut c2).find(|n| n.kind() == "identifier") {
                    names.push(n);
                }
            }
            for n in names {
                out.push((self.text(n).to_string(), ty, p));
            }
        }
        out
    }

    /// A function whose decorator makes it a web route (Flask, FastAPI).
    fn is_route(&self, f: Node) -> bool {
        let Some(re) = &self.t.route_decorators else {
            return false;
        };
        let Some(p) = f.parent() else { return false };
        if p.kind() != "decorated_definition" {
            return false;
        }
        let mut c = p.walk();
        p.named_children(&mut c)
            .filter(|d| d.kind() == "decorator")
            .any(|d| re.is_match(self.text(d)))
    }

    /// Parameters that are request data: annotated (`@RequestParam`), or
    /// any parameter of a route that is not typed safe or injected.
    fn setup_params(&self, fr: &mut Frame, f: Node<'a>) {
        let route = self.is_route(f);
        for (name, ty, node) in self.params(f) {
            if let Some(ty) = ty {
                fr.types.insert(name.clone(), self.type_segments(ty));
            }
            let annotated = self
                .t
                .source_annotations
                .iter()
                .any(|a| self.text(node).contains(a.as_str()));
            let typed_safe = ty.is_some_and(|t| self.t.safe_types.contains(self.text(t)));
            let injected = self.text(node).contains("Depends(");
            let route_param = route
                && !matches!(name.as_str(), "self" | "cls" | "request" | "db" | "session")
                && !typed_safe
                && !injected;
            if (annotated && !typed_safe) || route_param {
                let what = if annotated {
                    "request parameter"
                } else {
                    "route parameter"
                };
                fr.env.insert(
                    name.clone(),
                    Var {
                        t: Some(Taint::new(Step {
                            span: span(node),
                            message: format!("{what} `{name}` received here"),
                        })),
                        precise: false,
                    },
                );
            }
        }
    }

    /// Walks one function's body, starting from what its enclosing
    /// function left (closures see captured values).
    pub(super) fn analyze_function(&mut self, f: Node<'a>) {
        let mut fr = self.frame(&self.fn_name(f));
        fr.route = self.lang.route_return_is_response_body() && self.is_route(f);
        // Functions are analyzed outer first, so the enclosing one is done.
        let mut up = f.parent();
        while let Some(a) = up {
            if self.syn.functions.contains(&a.kind()) || a.parent().is_none() {
                if let Some(env) = self.closure_env.get(&a.id()) {
                    // Only what matters inside: captured taint, and locals
                    // that shadow a source name (copying every clean local
                    // into every callback is quadratic on big modules).
                    fr.env = env
                        .iter()
                        .filter(|(k, v)| {
                            v.t.is_some()
                                || self
                                    .t
                                    .source_roots
                                    .contains(k.split('.').next().unwrap_or(""))
                        })
                        .map(|(k, v)| (k.clone(), v.clone()))
                        .collect();
                }
                break;
            }
            up = a.parent();
        }
        for (name, _, _) in self.params(f) {
            let prefix = format!("{name}.");
            fr.env.retain(|k, _| k != &name && !k.starts_with(&prefix));
        }
        self.setup_params(&mut fr, f);
        if let Some(body) = f.child_by_field_name("body") {
            self.eval(&mut fr, body);
        }
        self.closure_env.insert(f.id(), fr.env);
    }

    /// What parameter `param` of `f` does, computed once per parameter.
    /// Recursion and deep call chains get an empty summary: the flow is
    /// lost rather than the walk unbounded.
    fn summary(&mut self, f: Node<'a>, param: usize) -> Summary {
        let key = (f.id(), param);
        if let Some(s) = self.summaries.get(&key) {
            return s.clone();
        }
        if self.in_progress.contains(&key) || self.in_progress.len() > 4 {
            return Summary::default();
        }
        self.in_progress.insert(key);
        let name = self.fn_name(f);
        let mut fr = self.frame(&name);
        fr.summary = Some(Vec::new());
        let params = self.params(f);
        for (i, (pname, ty, node)) in params.iter().enumerate() {
            if let Some(ty) = ty {
                fr.types.insert(pname.clone(), self.type_segments(*ty));
            }
            if i == param && !ty.is_some_and(|t| self.t.safe_types.contains(self.text(t))) {
                fr.env.insert(
                    pname.clone(),
                    Var {
                        t: Some(Taint {
                            from_param: true,
                            ..Taint::new(Step {
                                span: span(*node),
                                message: format!("enters `{name}` as parameter `{pname}`"),
                            })
                        }),
                        precise: false,
                    },
                );
            }
        }
        if let Some(body) = f.child_by_field_name("body") {
            let r = self.eval(&mut fr, body);
            // An arrow function's expression body is its return value.
            if !matches!(body.kind(), "statement_block" | "block") {
                fr.returns = join(fr.returns.take(), r);
            }
        }
        let s = Summary {
            ret: fr.returns.filter(|t| t.from_param),
            sinks: fr.summary.unwrap_or_default(),
        };
        self.in_progress.remove(&key);
        self.summaries.insert(key, s.clone());
        s
    }

    /// The function of this file that a call of `p` runs, if any.
    pub(super) fn file_function(&self, p: &[String]) -> Option<Node<'a>> {
        let f = self.funcs.get(p.last()?).copied()?;
        (p.len() == 1
            || matches!(p[0].as_str(), "self" | "this" | "cls")
            || self.lang.calls_resolve_by_method_name())
        .then_some(f)
    }

    /// A call `n` of `f`, a function of this file, with arguments of taint
    /// `arg_t`: flows into sinks inside `f` are reported here, with the whole
    /// path, and the result is tainted by the arguments that reach `f`'s
    /// return value.
    pub(super) fn call_summarized(
        &mut self,
        fr: &mut Frame,
        n: Node<'a>,
        f: Node<'a>,
        p: &[String],
        callee: &str,
        arg_t: &[Option<Taint>],
    ) -> Option<Taint> {
        // `self.helper(x)`: `x` is the method's second parameter.
        let offset = usize::from(
            p.len() > 1
                && self
                    .params(f)
                    .first()
                    .is_some_and(|(n, _, _)| n == "self" || n == "cls"),
        );
        let mut ret = None;
        for (i, t) in arg_t.iter().enumerate() {
            let Some(t) = t else { continue };
            let s = self.summary(f, i + offset);
            let call_step = Step {
                span: span(n),
                message: format!("passed to `{callee}` as argument {}", i + 1),
            };
            for h in &s.sinks {
                if !t.reaches(h.sink) {
                    continue;
                }
                let mut steps = t.steps.clone();
                steps.push(call_step.clone());
                steps.extend(h.steps.iter().cloned());
                let mut outer = t.clone();
                outer.steps = steps.clone();
                self.report_at(
                    fr,
                    h.sink,
                    h.span.clone(),
                    steps,
                    &outer,
                    &h.callee,
                    h.confidence,
                );
            }
            if let Some(r) = &s.ret {
                let mut rt = t.clone();
                rt.steps.push(call_step);
                rt.steps.extend(r.steps.iter().cloned());
                rt.steps.push(Step {
                    span: span(n),
                    message: format!("returned from `{callee}`"),
                });
                rt.sanitize(r.cleaned);
                ret = join(ret, Some(rt));
            }
        }
        ret
    }
}

//! Assignments: binding names, destructuring patterns and member targets to
//! values; member assignments that are sinks (`el.innerHTML = x`); and
//! collections tracked per literal key and index, so `d = {"a": x, "b": "c"}`
//! leaves `d["b"]` clean.

use tree_sitter::Node;

use super::domain::{Step, Taint, Var, join, span, with_step};
use super::{FileAnalysis, Frame};

impl<'a> FileAnalysis<'a> {
    /// Whether `n` builds a string from parts (`+`, f-strings, `format`,
    /// `Sprintf`, `join`): the trace says "concatenated", not "assigned".
    fn is_formatting(&self, n: Node) -> bool {
        let k = n.kind();
        if matches!(
            k,
            "binary_operator" | "binary_expression" | "template_string" | "concatenated_string"
        ) {
            return true;
        }
        if self.syn.strings.contains(&k) {
            return true;
        }
        if self.syn.calls.contains(&k) || k == "method_invocation" {
            return self.path(n).is_some_and(|p| {
                p.last().is_some_and(|m| {
                    matches!(
                        m.as_str(),
                        "format" | "Sprintf" | "join" | "concat" | "append" | "formatted"
                    )
                })
            }) || self
                .receiver(n)
                .is_some_and(|r| self.syn.strings.contains(&r.kind()));
        }
        false
    }

    /// A returned value that Flask sends as `text/html`: a string built
    /// here, or a variable (a `(body, status)` tuple's first element too).
    pub(super) fn returns_text(&self, n: Node) -> bool {
        match n.kind() {
            "identifier" => true,
            "tuple" | "expression_list" => n.named_child(0).is_some_and(|c| self.returns_text(c)),
            "parenthesized_expression" => n.named_child(0).is_some_and(|c| self.returns_text(c)),
            _ => self.is_formatting(n),
        }
    }

    /// A new collection whose keys are all known (`{}`, `[]`, `new HashMap<>()`).
    fn is_collection_literal(&self, n: Node) -> bool {
        let k = n.kind();
        if self.syn.collection_literals.contains(&k) {
            return true;
        }
        if k == "object_creation_expression" {
            let t = n
                .child_by_field_name("type")
                .map(|t| self.text(t))
                .unwrap_or("");
            return t.contains("Map") || t.contains("List") || t.contains("Set");
        }
        if k == "new_expression" {
            return n
                .child_by_field_name("constructor")
                .is_some_and(|c| matches!(self.text(c), "Map" | "Object" | "Array" | "Set"));
        }
        if k == "call" || k == "call_expression" {
            return n
                .child_by_field_name("function")
                .is_some_and(|f| matches!(self.text(f), "dict" | "list" | "set" | "make"));
        }
        false
    }

    /// `a = v`, `a += v`, `a, b = x, y`, `a, b := f()`.
    pub(super) fn eval_assignment(&mut self, fr: &mut Frame, n: Node<'a>) -> Option<Taint> {
        let (Some(left), Some(right)) = (
            n.child_by_field_name("left"),
            n.child_by_field_name("right"),
        ) else {
            return self.eval_children(fr, n);
        };
        let op = n
            .child_by_field_name("operator")
            .map(|o| self.text(o))
            .unwrap_or("=");
        let augmented = n.kind().starts_with("augmented") || (op != "=" && op != ":=");
        let declared = n
            .child_by_field_name("type")
            .is_some_and(|t| self.t.safe_types.contains(self.text(t)));
        // `a, b = x, y` / `a, b := f()`.
        let lefts = self.list_items(left);
        let rights = self.list_items(right);
        if lefts.len() > 1 && lefts.len() == rights.len() {
            let mut acc = None;
            for (l, r) in lefts.iter().zip(&rights) {
                let t = self.eval(fr, *r);
                acc = join(acc, t.clone());
                self.bind(fr, *l, *r, t, false);
            }
            return acc;
        }
        let value = if rights.len() == 1 { rights[0] } else { right };
        let t = self.eval(fr, value);
        let t = if declared { None } else { t };
        for l in &lefts {
            self.bind(fr, *l, value, t.clone(), augmented);
        }
        t
    }

    /// The items of `a, b` (one item for anything else).
    pub(super) fn list_items(&self, n: Node<'a>) -> Vec<Node<'a>> {
        if matches!(
            n.kind(),
            "expression_list" | "pattern_list" | "tuple_pattern" | "list_pattern"
        ) {
            let mut c = n.walk();
            n.named_children(&mut c)
                .filter(|x| !x.kind().contains("comment"))
                .collect()
        } else {
            vec![n]
        }
    }

    /// `let x = v`, `String s = v`, `var x T = v`: also records declared
    /// types, and a type that cannot carry an injection makes it clean.
    pub(super) fn eval_declarator(&mut self, fr: &mut Frame, n: Node<'a>) -> Option<Taint> {
        let names: Vec<Node<'a>> = n.children_by_field_name("name", &mut n.walk()).collect();
        let value = n.child_by_field_name("value");
        let ty = n
            .child_by_field_name("type")
            .or_else(|| n.parent().and_then(|p| p.child_by_field_name("type")));
        if let Some(ty) = ty {
            let segs = self.type_segments(ty);
            for nm in &names {
                fr.types.insert(self.text(*nm).to_string(), segs.clone());
            }
        }
        let safe = ty.is_some_and(|t| {
            let text = self.text(t).trim_start_matches(':').trim();
            self.t.safe_types.contains(text)
        });
        let Some(value) = value else {
            for nm in &names {
                fr.env.remove(self.text(*nm));
            }
            return None;
        };
        let values = self.list_items(value);
        if names.len() > 1 && names.len() == values.len() {
            for (l, r) in names.iter().zip(&values) {
                let t = self.eval(fr, *r);
                self.bind(fr, *l, *r, if safe { None } else { t }, false);
            }
            return None;
        }
        let v = if values.len() == 1 { values[0] } else { value };
        let t = self.eval(fr, v);
        let t = if safe { None } else { t };
        for nm in &names {
            self.bind(fr, *nm, v, t.clone(), false);
        }
        t
    }

    /// Binds `target` to the taint of `value`.
    pub(super) fn bind(
        &mut self,
        fr: &mut Frame,
        target: Node<'a>,
        value: Node<'a>,
        t: Option<Taint>,
        augmented: bool,
    ) {
        let k = target.kind();
        if matches!(
            k,
            "object_pattern" | "array_pattern" | "tuple_pattern" | "list_pattern" | "pattern_list"
        ) {
            let mut c = target.walk();
            let kids: Vec<Node<'a>> = target.named_children(&mut c).collect();
            for ch in kids {
                let inner = match ch.kind() {
                    "pair_pattern" => ch.child_by_field_name("value").unwrap_or(ch),
                    "object_assignment_pattern" | "assignment_pattern" => {
                        ch.child_by_field_name("left").unwrap_or(ch)
                    }
                    _ => ch,
                };
                self.bind(fr, inner, value, t.clone(), false);
            }
            return;
        }
        if k == "shorthand_property_identifier_pattern" || k == "identifier" {
            let name = self.text(target).to_string();
            self.bind_path(fr, vec![name], target, value, t, augmented);
            return;
        }
        if self.syn.members.contains(&k) || self.syn.subscripts.contains(&k) {
            if let Some(p) = self.path(target) {
                // Member assignment sinks (`el.innerHTML = x`).
                for sink in &self.t.sinks {
                    if !sink.assign.is_empty()
                        && self.matches_any(fr, &sink.assign, &p)
                        && let Some(tt) = &t
                        && tt.reaches(sink.kind)
                    {
                        let mut steps = tt.steps.clone();
                        let callee = p.join(".");
                        steps.push(Step {
                            span: span(target),
                            message: format!("assigned to `{callee}` ({})", sink.what),
                        });
                        let tt = tt.clone();
                        self.report(
                            fr,
                            sink.kind,
                            target.parent().unwrap_or(target),
                            steps,
                            &tt,
                            &callee,
                            None,
                        );
                    }
                }
                if p.last().map(String::as_str) == Some("[]") {
                    // Unknown key: the whole collection may now hold it.
                    let root = p[..p.len() - 1].join(".");
                    let tt = with_step(t, value, || format!("stored in `{root}`"));
                    let e = fr.env.entry(root).or_default();
                    e.t = join(e.t.take(), tt);
                    e.precise = false;
                    return;
                }
                let root = p[0].clone();
                if fr.env.contains_key(&root) || p.len() == 2 {
                    let full = p.join(".");
                    let tt = with_step(t.clone(), value, || format!("stored in `{full}`"));
                    let e = fr.env.entry(root).or_default();
                    e.t = join(e.t.take(), tt);
                }
                self.bind_path(fr, p, target, value, t, augmented);
            }
            return;
        }
        // Anything else (a parenthesized target …): nothing to track.
        let _ = value;
    }

    /// Binds the variable or `var.key` path `p`: records integer constants
    /// for conditions, forgets what the old value's keys held, and gives a
    /// literal collection its keys.
    fn bind_path(
        &mut self,
        fr: &mut Frame,
        p: Vec<String>,
        target: Node<'a>,
        value: Node<'a>,
        t: Option<Taint>,
        augmented: bool,
    ) {
        let key = p.join(".");
        match self.const_int(fr, value).filter(|_| !augmented) {
            Some(c) => {
                fr.consts.insert(key.clone(), c);
            }
            None => {
                fr.consts.remove(&key);
            }
        }
        let old = fr.env.get(&key).and_then(|v| v.t.clone());
        let formatting = augmented || self.is_formatting(value);
        let t = if augmented { join(old, t) } else { t };
        let t = with_step(t, target, || {
            if formatting {
                format!("concatenated into `{key}`")
            } else {
                format!("assigned to `{key}`")
            }
        });
        // Reassignment forgets what the old value's keys held.
        if !augmented {
            let prefix = format!("{key}.");
            fr.env.retain(|k, _| !k.starts_with(&prefix));
        }
        let precise = !augmented && self.is_collection_literal(value);
        fr.env.insert(key.clone(), Var { t, precise });
        if precise {
            self.bind_keyed_literal(fr, &key, value);
        }
    }

    /// `{"a": tainted, "b": "const"}`: each literal key gets its own entry;
    /// `[tainted, "const"]`: each index.
    fn bind_keyed_literal(&mut self, fr: &mut Frame, key: &str, value: Node<'a>) {
        if matches!(
            value.kind(),
            "list" | "tuple" | "array" | "array_initializer"
        ) {
            let mut c = value.walk();
            let items: Vec<Node<'a>> = value
                .named_children(&mut c)
                .filter(|n| !n.kind().contains("comment"))
                .collect();
            for (i, item) in items.into_iter().enumerate() {
                if matches!(item.kind(), "list_splat" | "spread_element") {
                    // Indexes after a spread are unknown.
                    if let Some(v) = fr.env.get_mut(key) {
                        v.precise = false;
                    }
                    return;
                }
                let t = self.eval(fr, item);
                fr.env
                    .insert(format!("{key}.{i}"), Var { t, precise: false });
            }
            return;
        }
        if !self.syn.keyed_literals.contains(&value.kind()) {
            return;
        }
        let body = value.child_by_field_name("body").unwrap_or(value);
        let mut c = body.walk();
        let kids: Vec<Node<'a>> = body.named_children(&mut c).collect();
        for pair in kids {
            let (Some(k), Some(v)) = (
                pair.child_by_field_name("key"),
                pair.child_by_field_name("value"),
            ) else {
                if pair.kind() == "shorthand_property_identifier" {
                    let name = self.text(pair).to_string();
                    let t = self.lookup(fr, std::slice::from_ref(&name));
                    fr.env
                        .insert(format!("{key}.{name}"), Var { t, precise: false });
                    continue;
                }
                // A spread or computed entry: keys are no longer all known.
                if let Some(v) = fr.env.get_mut(key) {
                    v.precise = false;
                }
                continue;
            };
            let k = if k.kind() == "literal_element" {
                k.named_child(0).unwrap_or(k)
            } else {
                k
            };
            let name = match k.kind() {
                "property_identifier" | "identifier" if self.lang.bare_literal_keys_are_names() => {
                    Some(self.text(k).to_string())
                }
                _ => self.literal_key(k),
            };
            match name {
                Some(name) => {
                    let t = self.eval(fr, v);
                    fr.env
                        .insert(format!("{key}.{name}"), Var { t, precise: false });
                }
                None => {
                    if let Some(v) = fr.env.get_mut(key) {
                        v.precise = false;
                    }
                }
            }
        }
    }
}

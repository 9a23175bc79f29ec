//! Expressions: the taint of a value is the join of the taint of its
//! parts, except where the operation yields something that cannot carry an
//! injection (a comparison, a length, a negation, a cast to a number).

use tree_sitter::Node;

use super::domain::{Step, Taint, join, span};
use super::tables::pat_match;
use super::{FileAnalysis, Frame, MAX_DEPTH};

/// Operators whose result is a boolean, whatever their operands hold
/// (`&&` and `||` too, except in languages where they yield an operand:
/// `Lang::logical_ops_return_operand`).
const COMPARISONS: &[&str] = &[
    "==",
    "!=",
    "===",
    "!==",
    "<",
    ">",
    "<=",
    ">=",
    "instanceof",
    "in",
    "is",
    "not in",
    "is not",
    "&&",
    "||",
];

impl<'a> FileAnalysis<'a> {
    /// The join of a node's children, walked in order (stopping where the
    /// code exits).
    pub(super) fn eval_children(&mut self, fr: &mut Frame, n: Node<'a>) -> Option<Taint> {
        let mut acc = None;
        let mut c = n.walk();
        let kids: Vec<Node<'a>> = n.named_children(&mut c).collect();
        for ch in kids {
            let t = self.eval(fr, ch);
            acc = join(acc, t);
            if fr.exited {
                break;
            }
        }
        acc
    }

    /// The taint of the value of `n`, after walking it (its assignments,
    /// calls and sinks) in frame `fr`.
    pub(super) fn eval(&mut self, fr: &mut Frame, n: Node<'a>) -> Option<Taint> {
        if fr.depth > MAX_DEPTH {
            return None;
        }
        fr.depth += 1;
        let t = self.eval_node(fr, n);
        fr.depth -= 1;
        t
    }

    fn eval_node(&mut self, fr: &mut Frame, n: Node<'a>) -> Option<Taint> {
        let k = n.kind();
        let syn = self.syn;
        if syn.opaque.contains(&k) || syn.functions.contains(&k) || syn.literals.contains(&k) {
            return None;
        }
        match k {
            "identifier" | "shorthand_property_identifier" => {
                let p = vec![self.text(n).to_string()];
                if let Some(s) = self.source_for(fr, n, &p, false) {
                    return Some(self.source_taint(n, s, &p, None));
                }
                return self.lookup(fr, &p);
            }
            "class_definition"
            | "class_declaration"
            | "import_statement"
            | "import_from_statement"
            | "import_declaration"
            | "package_clause" => {
                if k.starts_with("class") {
                    // Class bodies: field initializers run; methods are
                    // separate functions.
                    return self.eval_children(fr, n);
                }
                return None;
            }
            "assignment"
            | "augmented_assignment"
            | "assignment_expression"
            | "augmented_assignment_expression"
            | "assignment_statement"
            | "short_var_declaration" => return self.eval_assignment(fr, n),
            "variable_declarator" | "var_spec" | "const_spec" => {
                return self.eval_declarator(fr, n);
            }
            "comparison_operator" | "not_operator" | "instanceof_expression" => {
                self.eval_children(fr, n);
                return None;
            }
            "unary_expression" => {
                let op = n
                    .child_by_field_name("operator")
                    .map(|o| self.text(o))
                    .unwrap_or("");
                let t = self.eval_children(fr, n);
                return if matches!(op, "!" | "typeof" | "void" | "-" | "+" | "~" | "delete") {
                    None
                } else {
                    t
                };
            }
            "binary_operator" | "binary_expression" | "boolean_operator" => {
                return self.eval_binary(fr, n);
            }
            "cast_expression" => {
                let t = self.eval_children(fr, n);
                let prim = n
                    .child_by_field_name("type")
                    .is_some_and(|ty| self.t.safe_types.contains(self.text(ty)));
                return if prim { None } else { t };
            }
            "try_statement" | "try_with_resources_statement" => {
                let mut c = n.walk();
                let kids: Vec<Node<'a>> = n.named_children(&mut c).collect();
                for ch in kids {
                    self.eval(fr, ch);
                    fr.exited = false;
                }
                return None;
            }
            _ => {}
        }
        if syn.members.contains(&k) || syn.subscripts.contains(&k) {
            return self.eval_member(fr, n);
        }
        if syn.calls.contains(&k) || k == "method_invocation" {
            return self.eval_call(fr, n);
        }
        if syn.strings.contains(&k) {
            return self.eval_string(fr, n);
        }
        if syn.ifs.contains(&k) {
            self.eval_if(fr, n);
            return None;
        }
        if syn.loops.contains(&k) {
            self.eval_loop(fr, n);
            return None;
        }
        if syn.switches.contains(&k) {
            self.eval_switch(fr, n);
            return None;
        }
        if syn.returns.contains(&k) {
            self.eval_return(fr, n);
            return None;
        }
        if syn.throws.contains(&k) {
            self.eval_children(fr, n);
            fr.exited = true;
            return None;
        }
        if syn.ternaries.contains(&k) {
            return self.eval_ternary(fr, n);
        }
        self.eval_children(fr, n)
    }

    /// `a + b` carries its operands' taint; `a == b` is a boolean.
    fn eval_binary(&mut self, fr: &mut Frame, n: Node<'a>) -> Option<Taint> {
        let op = n
            .child_by_field_name("operator")
            .map(|o| self.text(o))
            .unwrap_or("");
        let t = self.eval_children(fr, n);
        let value_op = matches!(op, "||" | "&&") && self.lang.logical_ops_return_operand();
        if COMPARISONS.contains(&op) && !value_op {
            None
        } else {
            t
        }
    }

    /// A string literal is as tainted as what is interpolated into it
    /// (f-strings, template literals) or concatenated with it (Python's
    /// `"a" "b"`).
    fn eval_string(&mut self, fr: &mut Frame, n: Node<'a>) -> Option<Taint> {
        let syn = self.syn;
        let mut acc = None;
        let mut c = n.walk();
        let kids: Vec<Node<'a>> = n.named_children(&mut c).collect();
        for ch in kids {
            if syn.interpolations.contains(&ch.kind()) || syn.strings.contains(&ch.kind()) {
                let t = self.eval_children(fr, ch);
                acc = join(acc, t);
            }
        }
        acc
    }

    /// A `return`: the function's result, and the end of this path. In a
    /// route whose return value is the response body, returned text built
    /// from request data is cross-site scripting.
    fn eval_return(&mut self, fr: &mut Frame, n: Node<'a>) {
        let t = self.eval_children(fr, n);
        if fr.route
            && let Some(kind) = self.t.xss
            && let Some(v) = n.named_child(0)
            && self.returns_text(v)
            && let Some(tt) = &t
            && tt.reaches(kind)
        {
            let mut steps = tt.steps.clone();
            steps.push(Step {
                span: span(n),
                message: "returned as the HTML response body".to_string(),
            });
            let tt = tt.clone();
            self.report(fr, kind, n, steps, &tt, "return", None);
        }
        fr.returns = join(fr.returns.take(), t);
        fr.exited = true;
    }

    /// `c ? a : b` (`a if c else b`): a constant condition picks one side,
    /// otherwise both sides join.
    fn eval_ternary(&mut self, fr: &mut Frame, n: Node<'a>) -> Option<Taint> {
        let (a, b) = if let (Some(a), Some(b)) = (
            n.child_by_field_name("consequence"),
            n.child_by_field_name("alternative"),
        ) {
            (a, b)
        } else {
            // Python: `a if cond else b`.
            match (n.named_child(0), n.named_child(2)) {
                (Some(a), Some(b)) => (a, b),
                _ => return self.eval_children(fr, n),
            }
        };
        if let Some(cond) = n
            .child_by_field_name("condition")
            .or_else(|| n.named_child(1))
        {
            if let Some(v) = self.const_bool(fr, cond) {
                return if v {
                    self.eval(fr, a)
                } else {
                    self.eval(fr, b)
                };
            }
            self.eval(fr, cond);
        }
        let ta = self.eval(fr, a);
        let tb = self.eval(fr, b);
        join(ta, tb)
    }

    /// A member access or subscript: a source, a key of a tracked
    /// collection, or (for anything else) the join of its parts.
    fn eval_member(&mut self, fr: &mut Frame, n: Node<'a>) -> Option<Taint> {
        if let Some(p) = self.path(n) {
            // A length is a number, whatever it measures.
            if p.len() > 1
                && matches!(
                    p.last().map(String::as_str),
                    Some("length" | "size" | "byteLength")
                )
            {
                return None;
            }
            // `sys.argv[0]` is the program's own name, not input.
            if self
                .t
                .sources
                .iter()
                .any(|s| s.except.iter().any(|e| pat_match(e, &p, true)))
            {
                return None;
            }
            if let Some(s) = self.source_for(fr, n, &p, false) {
                let key = p.last().filter(|_| p.len() > 1).cloned();
                return Some(self.source_taint(n, s, &p, key));
            }
            if fr.env.contains_key(&p[0]) {
                // Subscript indexes may hold calls with sinks.
                if let Some(i) = n
                    .child_by_field_name("subscript")
                    .or_else(|| n.child_by_field_name("index"))
                {
                    self.eval(fr, i);
                }
                return self.lookup(fr, &p);
            }
        }
        self.eval_children(fr, n)
    }
}

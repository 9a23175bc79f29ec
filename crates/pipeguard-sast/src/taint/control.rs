//! Control flow: branches are walked on copies of the environment and
//! joined where they meet, and a branch that exits (`return`, `raise`,
//! `abort()`) does not flow on. Guards in a condition (`if not
//! p.startswith(BASE): abort(403)`, `if x in ALLOWED:`) sanitize the checked
//! value on the side where the check held; integer conditions made of
//! constants decide which branch runs at all.

use tree_sitter::Node;

use super::domain::{Env, Kinds, join_env};
use super::{FileAnalysis, Frame};

/// A guard found in a condition: the variable path it checks, the kinds it
/// makes the variable safe for, and whether that holds when the condition
/// is true (`false` under a negation).
type Guard = (String, Kinds, bool);

impl<'a> FileAnalysis<'a> {
    /// Simple constant conditions (`7 * 42 - 106 > 200`, `num > 200` with a
    /// local integer), which decide which branch runs.
    pub(super) fn const_int(&self, fr: &Frame, n: Node) -> Option<i64> {
        self.const_int_at(fr, n, 0)
    }

    fn const_int_at(&self, fr: &Frame, n: Node, depth: u32) -> Option<i64> {
        if depth > 32 {
            return None;
        }
        match n.kind() {
            "identifier" => fr.consts.get(self.text(n)).copied(),
            "integer" | "decimal_integer_literal" | "number" | "int_literal" => {
                self.text(n).parse().ok()
            }
            "parenthesized_expression" => n
                .named_child(0)
                .and_then(|c| self.const_int_at(fr, c, depth + 1)),
            "binary_operator" | "binary_expression" => {
                let a = self.const_int_at(fr, n.child_by_field_name("left")?, depth + 1)?;
                let b = self.const_int_at(fr, n.child_by_field_name("right")?, depth + 1)?;
                match self.text(n.child_by_field_name("operator")?) {
                    "+" => a.checked_add(b),
                    "-" => a.checked_sub(b),
                    "*" => a.checked_mul(b),
                    "/" | "//" if b != 0 => Some(a / b),
                    "%" if b != 0 => Some(a % b),
                    _ => None,
                }
            }
            _ => None,
        }
    }

    pub(super) fn const_bool(&self, fr: &Frame, n: Node) -> Option<bool> {
        match n.kind() {
            "true" | "True" => Some(true),
            "false" | "False" => Some(false),
            "parenthesized_expression" => n.named_child(0).and_then(|c| self.const_bool(fr, c)),
            "binary_expression" | "comparison_operator" | "binary_operator" => {
                let (l, r, op) = if n.kind() == "comparison_operator" {
                    let l = n.named_child(0)?;
                    let r = n.named_child(1)?;
                    let op = n.child(1).map(|o| self.text(o))?;
                    (l, r, op)
                } else {
                    (
                        n.child_by_field_name("left")?,
                        n.child_by_field_name("right")?,
                        self.text(n.child_by_field_name("operator")?),
                    )
                };
                let a = self.const_int(fr, l)?;
                let b = self.const_int(fr, r)?;
                match op {
                    ">" => Some(a > b),
                    "<" => Some(a < b),
                    ">=" => Some(a >= b),
                    "<=" => Some(a <= b),
                    "==" | "===" => Some(a == b),
                    "!=" | "!==" => Some(a != b),
                    _ => None,
                }
            }
            _ => None,
        }
    }

    /// Guards in a condition: `(variable path, kinds cleaned, holds when the
    /// condition is true)`.
    fn guards(&self, fr: &Frame, cond: Node<'a>) -> Vec<Guard> {
        let mut out = Vec::new();
        self.find_guards(fr, cond, true, &mut out);
        out
    }

    fn find_guards(&self, fr: &Frame, n: Node<'a>, positive: bool, out: &mut Vec<Guard>) {
        let k = n.kind();
        let negates = k == "not_operator"
            || (k == "unary_expression"
                && n.child_by_field_name("operator")
                    .is_some_and(|o| self.text(o) == "!"));
        if self.syn.calls.contains(&k) || k == "method_invocation" {
            if let Some(p) = self.path(n) {
                for g in &self.t.guards {
                    if self.matches_any(fr, &g.pats, &p) {
                        let (pos, _) = self.args(n);
                        let mut vars: Vec<Node> = pos;
                        if let Some(r) = self.receiver(n) {
                            vars.push(r);
                        }
                        for v in vars {
                            if let Some(vp) = self.path(v) {
                                out.push((vp.join("."), g.kinds, positive));
                            }
                        }
                    }
                }
            }
            return;
        }
        if k == "comparison_operator" {
            // `x in ALLOWED` / `x not in ALLOWED`: an allow-list.
            let ops: Vec<&str> = {
                let mut c = n.walk();
                n.children(&mut c)
                    .filter(|ch| !ch.is_named())
                    .map(|ch| self.text(ch))
                    .collect()
            };
            if ops == ["in"] || ops == ["not", "in"] || ops == ["not in"] {
                if let Some(l) = n.named_child(0)
                    && let Some(p) = self.path(l)
                {
                    out.push((p.join("."), Kinds::ALL, positive == (ops == ["in"])));
                }
                return;
            }
        }
        // Only conjunctions keep a guard's meaning for the whole condition.
        if matches!(k, "binary_expression" | "boolean_operator") {
            let op = n
                .child_by_field_name("operator")
                .map(|o| self.text(o))
                .unwrap_or("");
            if !matches!(op, "&&" | "and") && positive {
                return;
            }
            if !matches!(op, "||" | "or") && !positive {
                return;
            }
        }
        let mut c = n.walk();
        for ch in n.named_children(&mut c) {
            self.find_guards(fr, ch, if negates { !positive } else { positive }, out);
        }
    }

    /// The environment on the side of the condition where it is `when`.
    fn apply_guards(&self, env: &mut Env, guards: &[Guard], when: bool) {
        for (var, kinds, positive) in guards {
            if *positive == when
                && let Some(v) = env.get_mut(var)
                && let Some(t) = &mut v.t
            {
                if *kinds == Kinds::ALL {
                    v.t = None;
                } else {
                    t.sanitize(*kinds);
                }
            }
        }
    }

    pub(super) fn eval_if(&mut self, fr: &mut Frame, n: Node<'a>) {
        let cond = n.child_by_field_name("condition");
        let cons = n.child_by_field_name("consequence");
        let alts: Vec<Node<'a>> = n
            .children_by_field_name("alternative", &mut n.walk())
            .collect();
        self.eval_branches(fr, cond, cons, &alts);
    }

    fn eval_branches(
        &mut self,
        fr: &mut Frame,
        cond: Option<Node<'a>>,
        cons: Option<Node<'a>>,
        alts: &[Node<'a>],
    ) {
        // Go: `if x := f(); cond {`.
        if let Some(init) = cond
            .and_then(|c| c.parent())
            .and_then(|p| p.child_by_field_name("initializer"))
        {
            self.eval(fr, init);
        }
        let known = cond.and_then(|c| self.const_bool(fr, c));
        let guards = match cond {
            Some(c) => {
                self.eval(fr, c);
                self.guards(fr, c)
            }
            None => Vec::new(),
        };
        let pre = fr.env.clone();
        // Then.
        self.apply_guards(&mut fr.env, &guards, true);
        if let Some(c) = cons
            && known != Some(false)
        {
            self.eval(fr, c);
        }
        let then_env = std::mem::replace(&mut fr.env, pre);
        let then_exit = std::mem::take(&mut fr.exited) || known == Some(false);
        // Else.
        self.apply_guards(&mut fr.env, &guards, false);
        if known != Some(true)
            && let Some((first, rest)) = alts.split_first()
        {
            match first.kind() {
                "elif_clause" => self.eval_branches(
                    fr,
                    first.child_by_field_name("condition"),
                    first.child_by_field_name("consequence"),
                    rest,
                ),
                "else_clause" => {
                    let body = first.child_by_field_name("body").unwrap_or(*first);
                    self.eval(fr, body);
                }
                _ => {
                    self.eval(fr, *first);
                }
            }
        }
        let else_exit = std::mem::take(&mut fr.exited) || known == Some(true);
        match (then_exit, else_exit) {
            (true, true) => fr.exited = true,
            (true, false) => {}
            (false, true) => fr.env = then_env,
            (false, false) => {
                let else_env = std::mem::take(&mut fr.env);
                fr.env = join_env(then_env, &else_env);
            }
        }
    }

    /// A loop body may run or not: its environment joins the one before.
    pub(super) fn eval_loop(&mut self, fr: &mut Frame, n: Node<'a>) {
        // The loop variable takes the iterated collection's taint.
        let (left, right) = match n.kind() {
            "enhanced_for_statement" => (
                n.child_by_field_name("name"),
                n.child_by_field_name("value"),
            ),
            _ => (
                n.child_by_field_name("left"),
                n.child_by_field_name("right"),
            ),
        };
        let range = {
            let mut c = n.walk();
            n.named_children(&mut c)
                .find(|ch| ch.kind() == "range_clause")
        };
        let (left, right) = match range {
            Some(r) => (
                r.child_by_field_name("left"),
                r.child_by_field_name("right"),
            ),
            None => (left, right),
        };
        if let (Some(l), Some(r)) = (left, right) {
            let t = self.eval(fr, r);
            for item in self.list_items(l) {
                self.bind(fr, item, r, t.clone(), false);
            }
        }
        let pre = fr.env.clone();
        let mut c = n.walk();
        let kids: Vec<Node<'a>> = n.named_children(&mut c).collect();
        for ch in kids {
            if Some(ch) == left || Some(ch) == right || Some(ch) == range {
                continue;
            }
            self.eval(fr, ch);
            if fr.exited {
                break;
            }
        }
        let body_env = std::mem::replace(&mut fr.env, pre);
        if !std::mem::take(&mut fr.exited) {
            fr.env = join_env(std::mem::take(&mut fr.env), &body_env);
        }
    }

    /// Each case starts from the environment before the `switch`; without a
    /// default case, not running any case is one more path.
    pub(super) fn eval_switch(&mut self, fr: &mut Frame, n: Node<'a>) {
        let mut cases = Vec::new();
        let mut c = n.walk();
        for ch in n.named_children(&mut c) {
            match ch.kind() {
                "switch_block" | "switch_body" | "block" => {
                    let mut c2 = ch.walk();
                    cases.extend(ch.named_children(&mut c2));
                }
                "case_clause" | "expression_case" | "default_case" | "type_case"
                | "communication_case" => cases.push(ch),
                _ => {
                    self.eval(fr, ch);
                }
            }
        }
        let pre = fr.env.clone();
        let has_default = cases.iter().any(|c| {
            matches!(c.kind(), "default_case" | "switch_default")
                || self.text(*c).trim_start().starts_with("default")
                || self.text(*c).trim_start().starts_with("case _")
        });
        let mut out: Option<Env> = if has_default { None } else { Some(pre.clone()) };
        for case in cases {
            fr.env = pre.clone();
            self.eval(fr, case);
            if !std::mem::take(&mut fr.exited) {
                let env = std::mem::take(&mut fr.env);
                out = Some(match out {
                    Some(o) => join_env(o, &env),
                    None => env,
                });
            }
        }
        match out {
            Some(env) => fr.env = env,
            None => {
                fr.env = pre;
                fr.exited = true;
            }
        }
    }
}

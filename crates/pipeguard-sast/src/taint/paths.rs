//! Naming what an expression reads: the dotted path of a name, member,
//! literal-keyed subscript or call (`request.args.get`), matched against the
//! tables with declared types and package prefixes taken into account, and
//! whether that path is a source.

use tree_sitter::Node;

use super::domain::{Step, Taint, lookup, span};
use super::tables::{CSource, pat_match, split};
use super::{FileAnalysis, Frame, MAX_DEPTH};

impl<'a> FileAnalysis<'a> {
    /// A declared type as path segments, as the tables name it.
    pub(super) fn type_segments(&self, ty: Node) -> Vec<String> {
        let raw = self.text(ty);
        let base = raw.split('<').next().unwrap_or("");
        let base: String = base
            .chars()
            .filter(|c| c.is_alphanumeric() || *c == '.' || *c == '_')
            .collect();
        if base.is_empty() {
            return Vec::new();
        }
        let segs = split(&base);
        if self.lang.package_qualified_classes() {
            return segs.last().cloned().into_iter().collect();
        }
        segs
    }

    /// The key a literal stands for (`"id"`, `0`), when it is constant.
    pub(super) fn literal_key(&self, n: Node) -> Option<String> {
        let k = n.kind();
        if self.syn.strings.contains(&k) || k == "string_literal" {
            let mut c = n.walk();
            if n.named_children(&mut c)
                .any(|ch| self.syn.interpolations.contains(&ch.kind()))
            {
                return None;
            }
            let t = self.text(n);
            let t = t.trim_start_matches(|c: char| c.is_ascii_alphabetic());
            return Some(
                t.trim_matches(|c| c == '"' || c == '\'' || c == '`')
                    .to_string(),
            );
        }
        if self.syn.literals.contains(&k) && !matches!(k, "true" | "false" | "none" | "null") {
            return Some(self.text(n).to_string());
        }
        None
    }

    /// The dotted path of a name, member access, literal-keyed subscript or
    /// call (`r.URL.Query().Get` → `r.URL.Query.Get`).
    pub(super) fn path(&self, n: Node) -> Option<Vec<String>> {
        self.path_at(n, 0)
    }

    fn path_at(&self, n: Node, depth: u32) -> Option<Vec<String>> {
        if depth > MAX_DEPTH {
            return None;
        }
        let k = n.kind();
        match k {
            "identifier"
            | "property_identifier"
            | "field_identifier"
            | "this"
            | "self"
            | "type_identifier"
            | "package_identifier"
            | "shorthand_property_identifier" => Some(vec![self.text(n).to_string()]),
            "parenthesized_expression" | "await_expression" | "non_null_expression" => {
                n.named_child(0).and_then(|c| self.path_at(c, depth + 1))
            }
            "scoped_identifier" | "scoped_type_identifier" => Some(split(self.text(n))),
            _ if self.syn.members.contains(&k) => {
                let obj = n
                    .child_by_field_name("object")
                    .or_else(|| n.child_by_field_name("operand"))?;
                let field = n
                    .child_by_field_name("attribute")
                    .or_else(|| n.child_by_field_name("property"))
                    .or_else(|| n.child_by_field_name("field"))?;
                // `/re/.test(x)`, `"…".format(x)`: the method still has a name.
                let mut p = self
                    .path_at(obj, depth + 1)
                    .unwrap_or_else(|| vec!["?".to_string()]);
                p.push(self.text(field).to_string());
                Some(p)
            }
            _ if self.syn.subscripts.contains(&k) => {
                let obj = n
                    .child_by_field_name("value")
                    .or_else(|| n.child_by_field_name("object"))
                    .or_else(|| n.child_by_field_name("operand"))
                    .or_else(|| n.child_by_field_name("array"))?;
                let idx = n
                    .child_by_field_name("subscript")
                    .or_else(|| n.child_by_field_name("index"));
                let mut p = self.path_at(obj, depth + 1)?;
                p.push(
                    idx.and_then(|i| self.literal_key(i))
                        .unwrap_or_else(|| "[]".to_string()),
                );
                Some(p)
            }
            "method_invocation" => {
                let mut p = match n.child_by_field_name("object") {
                    Some(o) => self.path_at(o, depth + 1)?,
                    None => Vec::new(),
                };
                p.push(self.text(n.child_by_field_name("name")?).to_string());
                Some(p)
            }
            "object_creation_expression" => {
                let ty = n.child_by_field_name("type")?;
                let segs = self.type_segments(ty);
                segs.last().map(|l| vec![l.clone()])
            }
            "new_expression" => self.path_at(n.child_by_field_name("constructor")?, depth + 1),
            _ if self.syn.calls.contains(&k) => {
                let f = n.child_by_field_name("function")?;
                // `require("./x")(exports)` calls what `require` returned.
                if self.syn.calls.contains(&f.kind()) {
                    return None;
                }
                self.path_at(f, depth + 1)
            }
            _ => None,
        }
    }

    /// The path, and the same path with the root variable replaced by its
    /// declared type (`c.Query` for `c *gin.Context` is `gin.Context.Query`).
    pub(super) fn candidates(&self, fr: &Frame, p: &[String]) -> Vec<Vec<String>> {
        let mut out = vec![p.to_vec()];
        // `org.owasp.esapi.ESAPI.encoder()` is `ESAPI.encoder()` to the tables.
        if self.lang.package_qualified_classes()
            && let Some(i) = p.iter().position(|s| s.starts_with(char::is_uppercase))
            && i > 0
            && p[..i].iter().all(|s| s.starts_with(char::is_lowercase))
            && !fr.env.contains_key(&p[0])
        {
            out.push(p[i..].to_vec());
        }
        if let Some(ty) = p.first().and_then(|r| fr.types.get(r))
            && !ty.is_empty()
        {
            let mut alt = ty.clone();
            alt.extend_from_slice(&p[1..]);
            out.push(alt);
        }
        out
    }

    /// The source `p` reads, if any. A one-word pattern (`input`) is a
    /// function and matches only as the callee of a call, so a parameter
    /// called `input` is not a source.
    ///
    /// `n` is the expression read: a pattern's object that is itself the
    /// result of a call is something else than the framework's object
    /// (`urllib3.request("GET", url).data` is a response body, not Flask's
    /// `request.data`), issue #16.
    pub(super) fn source_for(
        &self,
        fr: &Frame,
        n: Node,
        p: &[String],
        call: bool,
    ) -> Option<&'a CSource> {
        // A local variable shadows a source name (`request = build()`).
        if p.first().is_some_and(|r| fr.env.contains_key(r)) {
            return None;
        }
        let cands = self.candidates(fr, p);
        let called = self.inner_calls(n);
        self.t.sources.iter().find(|s| {
            s.pats.iter().any(|pat| {
                if pat.len() == 1 && pat[0] != "*" {
                    return call && p.len() == 1 && pat[0] == p[0];
                }
                let root = pat.iter().find(|seg| *seg != "*");
                if root.is_some_and(|r| {
                    called
                        .iter()
                        .any(|&len| len < p.len() && p.get(len.wrapping_sub(1)) == Some(r))
                }) {
                    return false;
                }
                cands.iter().any(|c| pat_match(pat, c, true))
            }) && !s.except.iter().any(|e| pat_match(e, p, true))
        })
    }

    /// The path lengths of the calls inside `n`'s member chain, below `n`
    /// itself: `a.b().c.d()` holds the call `a.b` (length 2). Empty for the
    /// usual chain without inner calls, at no cost beyond the walk.
    fn inner_calls(&self, n: Node) -> Vec<usize> {
        let mut out = Vec::new();
        let mut cur = n;
        for depth in 0..MAX_DEPTH {
            let k = cur.kind();
            let next = if self.syn.calls.contains(&k) {
                if depth > 0
                    && let Some(p) = self.path(cur)
                {
                    out.push(p.len());
                }
                cur.child_by_field_name("function")
            } else if self.syn.members.contains(&k) {
                cur.child_by_field_name("object")
                    .or_else(|| cur.child_by_field_name("operand"))
            } else if self.syn.subscripts.contains(&k) {
                cur.child_by_field_name("value")
                    .or_else(|| cur.child_by_field_name("object"))
                    .or_else(|| cur.child_by_field_name("operand"))
            } else {
                None
            };
            match next {
                Some(c) => cur = c,
                None => break,
            }
        }
        out
    }

    /// What the variable or `var.key` path `p` holds in this frame.
    pub(super) fn lookup(&self, fr: &Frame, p: &[String]) -> Option<Taint> {
        lookup(&fr.env, p)
    }

    /// The value read from source `s` at `n`; `key` names it in the trace
    /// (`request parameter `id``) when a literal key was read.
    pub(super) fn source_taint(
        &self,
        n: Node,
        s: &CSource,
        p: &[String],
        key: Option<String>,
    ) -> Taint {
        let name = key.unwrap_or_else(|| p.join("."));
        Taint {
            cleaned: s.cleaned,
            weak: s.weak,
            ..Taint::new(Step {
                span: span(n),
                message: format!("{} `{}` read here", s.what, name),
            })
        }
    }
}

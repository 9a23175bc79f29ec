//! Calls: where sources are read, sinks reached and sanitizers applied.
//! A sink declares which argument positions (and keyword arguments) are
//! dangerous, so a parameterized query with the value in the parameter slot
//! is not a finding. A call this file defines is followed through its
//! summary (`functions`); any other call passes its arguments' and
//! receiver's taint on to its result, which favours recall.

use pipeguard_core::Confidence;
use tree_sitter::Node;

use super::domain::{Kinds, Span, Step, Taint, Var, join, span, with_step};
use super::tables::{CSink, CSource, Pat, pat_match};
use super::{FileAnalysis, Frame, Hit};

/// A call whose callee has a name, as the sink checks see it.
struct Call<'c, 'a> {
    node: Node<'a>,
    path: &'c [String],
    callee: &'c str,
    kw: &'c [(String, Node<'a>)],
}

impl<'a> FileAnalysis<'a> {
    /// Positional and keyword arguments of a call.
    pub(super) fn args(&self, n: Node<'a>) -> (Vec<Node<'a>>, Vec<(String, Node<'a>)>) {
        let mut pos = Vec::new();
        let mut kw = Vec::new();
        if let Some(list) = n.child_by_field_name("arguments") {
            let mut c = list.walk();
            for a in list.named_children(&mut c) {
                match a.kind() {
                    "comment" | "line_comment" | "block_comment" => {}
                    "keyword_argument" => {
                        if let (Some(name), Some(v)) = (
                            a.child_by_field_name("name"),
                            a.child_by_field_name("value"),
                        ) {
                            kw.push((self.text(name).to_string(), v));
                        }
                    }
                    _ => pos.push(a),
                }
            }
        }
        (pos, kw)
    }

    /// The object a method is called on (`db` of `db.execute(q)`).
    pub(super) fn receiver(&self, n: Node<'a>) -> Option<Node<'a>> {
        if n.kind() == "method_invocation" {
            return n.child_by_field_name("object");
        }
        let f = n.child_by_field_name("function")?;
        if self.syn.members.contains(&f.kind()) {
            f.child_by_field_name("object")
                .or_else(|| f.child_by_field_name("operand"))
        } else {
            None
        }
    }

    /// Whether the callee path (or its typed alternatives) is one of `pats`.
    pub(super) fn matches_any(&self, fr: &Frame, pats: &[Pat], p: &[String]) -> bool {
        let cands = self.candidates(fr, p);
        pats.iter()
            .any(|pat| cands.iter().any(|c| pat_match(pat, c, false)))
    }

    /// A call: a source read, a literal-keyed collection access, a sink, a
    /// sanitizer, a function of this file, or any other call.
    pub(super) fn eval_call(&mut self, fr: &mut Frame, n: Node<'a>) -> Option<Taint> {
        let path = self.path(n);
        // `w.Header().Set("Content-Type", "application/json")`: the rest of
        // the function writes no HTML (checked first: header setters are
        // also keyed writes).
        let non_html_before = fr.non_html;
        let declares_non_html = !fr.non_html
            && self.t.non_html.as_ref().is_some_and(|re| {
                path.as_ref()
                    .and_then(|p| p.last())
                    .is_some_and(|m| self.t.non_html_calls.contains(m))
                    && re.is_match(self.text(n))
            });
        if declares_non_html {
            fr.non_html = true;
        }
        let (pos, kw) = self.args(n);
        let recv = self.receiver(n);

        if let Some(p) = &path
            && let Some(s) = self.source_for(fr, n, p, true)
        {
            return self.read_source(fr, n, s, p, &pos, &kw);
        }
        if let (Some(p), Some(r)) = (&path, recv)
            && let Some(t) = self.keyed_access(fr, p, r, &pos)
        {
            return t;
        }

        let recv_t = recv.and_then(|r| self.eval(fr, r));
        let arg_t: Vec<Option<Taint>> = pos.iter().map(|a| self.eval(fr, *a)).collect();
        let kw_t: Vec<(String, Option<Taint>)> = kw
            .iter()
            .map(|(k, v)| (k.clone(), self.eval(fr, *v)))
            .collect();
        let Some(p) = path else {
            // A call on a literal or a call result: `"…".format(x)`.
            let mut t = recv_t;
            for a in arg_t {
                t = join(t, a);
            }
            return t;
        };
        let callee = p.join(".");
        let call = Call {
            node: n,
            path: &p,
            callee: &callee,
            kw: &kw,
        };

        // What a sink returns (rows, file contents, a response) is not the
        // caller's input any more. A sink that declares its own non-HTML
        // content type (`HttpResponse(…, content_type="application/json")`)
        // is not HTML output, and says nothing of the function's others.
        let is_sink = self.reach_sinks(fr, &call, &arg_t, &kw_t);
        if is_sink && declares_non_html && !non_html_before {
            fr.non_html = false;
        }

        if self.matches_any(fr, &self.t.exits, &p) {
            fr.exited = true;
        }

        if let Some(s) = self
            .t
            .sanitizers
            .iter()
            .find(|s| self.matches_any(fr, &s.pats, &p))
        {
            if s.kinds == Kinds::ALL {
                return None;
            }
            let mut t = recv_t;
            for a in arg_t {
                t = join(t, a);
            }
            return t.map(|mut t| {
                t.sanitize(s.kinds);
                t
            });
        }

        if is_sink {
            return None;
        }
        let mut all = recv_t.clone();
        for a in &arg_t {
            all = join(all, a.clone());
        }
        for (_, t) in &kw_t {
            all = join(all, t.clone());
        }
        if let Some(r) = recv {
            self.mutate_receiver(fr, n, &p, r, &arg_t);
        }
        self.out_args(fr, &p, &pos, &all);

        if let Some(f) = self.file_function(&p) {
            return self.call_summarized(fr, n, f, &p, &callee, &arg_t);
        }
        all
    }

    /// A call that reads input (`request.args.get("id")`): its value is the
    /// source's taint, named by the literal key it reads.
    fn read_source(
        &mut self,
        fr: &mut Frame,
        n: Node<'a>,
        s: &CSource,
        p: &[String],
        pos: &[Node<'a>],
        kw: &[(String, Node<'a>)],
    ) -> Option<Taint> {
        for a in pos {
            self.eval(fr, *a);
        }
        // Flask: `request.args.get("page", type=int)` converts for us.
        if kw
            .iter()
            .any(|(k, v)| k == "type" && matches!(self.text(*v), "int" | "float" | "bool"))
        {
            return None;
        }
        let key = pos.first().and_then(|a| self.literal_key(*a));
        let t = Some(self.source_taint(n, s, p, key));
        self.out_args(fr, p, pos, &t);
        t
    }

    /// Literal-keyed reads and writes (`m.get("a")`, `m.put("a", v)`) keep
    /// collection entries apart. `None` when the call is neither.
    fn keyed_access(
        &mut self,
        fr: &mut Frame,
        p: &[String],
        recv: Node<'a>,
        pos: &[Node<'a>],
    ) -> Option<Option<Taint>> {
        let rp = self.path(recv)?;
        let method = p.last()?;
        let key = pos.first().and_then(|a| self.literal_key(*a))?;
        if self.t.keyed_reads.contains(method) && fr.env.contains_key(&rp[0]) {
            let mut full = rp;
            full.push(key);
            return Some(self.lookup(fr, &full));
        }
        if self.t.keyed_writes.contains(method)
            && let Some(v) = pos.get(1)
        {
            let t = self.eval(fr, *v);
            let root = rp.join(".");
            let entry = fr.env.entry(root.clone()).or_default();
            entry.t = join(entry.t.take(), t.clone());
            fr.env
                .insert(format!("{root}.{key}"), Var { t, precise: false });
            return Some(None);
        }
        None
    }

    /// Reports every sink this call is whose dangerous arguments hold taint
    /// not sanitized for it; whether the call is a sink at all.
    fn reach_sinks(
        &mut self,
        fr: &mut Frame,
        call: &Call<'_, 'a>,
        arg_t: &[Option<Taint>],
        kw_t: &[(String, Option<Taint>)],
    ) -> bool {
        let mut is_sink = false;
        let tables = self.t;
        for sink in &tables.sinks {
            if !self.is_sink(fr, sink, call) {
                continue;
            }
            is_sink = true;
            let mut hit: Option<(Taint, String)> = None;
            for (i, t) in arg_t.iter().enumerate() {
                if (sink.args.is_empty() || sink.args.contains(&i))
                    && let Some(t) = t
                    && t.reaches(sink.kind)
                {
                    hit = Some((t.clone(), format!("argument {}", i + 1)));
                    break;
                }
            }
            if hit.is_none() {
                for (k, t) in kw_t {
                    if sink.kwargs.contains(k)
                        && let Some(t) = t
                        && t.reaches(sink.kind)
                    {
                        hit = Some((t.clone(), format!("argument `{k}`")));
                        break;
                    }
                }
            }
            if let Some((t, which)) = hit {
                let mut steps = t.steps.clone();
                steps.push(Step {
                    span: span(call.node),
                    message: format!("passed to `{}` as {which} ({})", call.callee, sink.what),
                });
                self.report(
                    fr,
                    sink.kind,
                    call.node,
                    steps,
                    &t,
                    call.callee,
                    sink.confidence,
                );
            }
        }
        is_sink
    }

    /// Whether the call is this sink: its callee, and the options that make
    /// it dangerous (`shell=True`) or safe.
    fn is_sink(&self, fr: &Frame, sink: &CSink, call: &Call) -> bool {
        if !self.matches_any(fr, &sink.pats, call.path) {
            return false;
        }
        if let Some((k, v)) = &sink.requires_kwarg
            && !call
                .kw
                .iter()
                .any(|(n2, val)| n2 == k && self.text(*val) == v)
        {
            return false;
        }
        let text = || self.text(call.node);
        if let Some(u) = &sink.unless
            && u.is_match(text())
        {
            return false;
        }
        if let Some(w) = &sink.when
            && !w.is_match(text())
        {
            return false;
        }
        true
    }

    /// A method that stores its argument in the receiver (`list.append(x)`)
    /// taints the receiver.
    fn mutate_receiver(
        &mut self,
        fr: &mut Frame,
        n: Node<'a>,
        p: &[String],
        recv: Node<'a>,
        arg_t: &[Option<Taint>],
    ) {
        if let Some(m) = p.last()
            && self.t.mutators.contains(m)
            && arg_t.iter().any(Option::is_some)
            && let Some(rp) = self.path(recv)
            && (fr.env.contains_key(&rp[0]) || rp.len() == 1)
        {
            let mut at = None;
            for a in arg_t {
                at = join(at, a.clone());
            }
            let target = rp.join(".");
            let at = with_step(at, n, || format!("added to `{target}`"));
            let e = fr.env.entry(target).or_default();
            e.t = join(e.t.take(), at);
            // Appended entries have no literal key.
            e.precise = false;
        }
    }

    /// Calls that decode into their pointer arguments
    /// (`json.NewDecoder(r.Body).Decode(&v)`) taint those variables.
    fn out_args(&mut self, fr: &mut Frame, p: &[String], pos: &[Node<'a>], t: &Option<Taint>) {
        if t.is_none() || !self.matches_any(fr, &self.t.out_args, p) {
            return;
        }
        for a in pos {
            let target = if a.kind() == "unary_expression" {
                a.named_child(0)
            } else {
                Some(*a)
            };
            if let Some(target) = target
                && target.kind() == "identifier"
            {
                let name = self.text(target).to_string();
                let tt = with_step(t.clone(), *a, || format!("decoded into `{name}`"));
                let e = fr.env.entry(name).or_default();
                e.t = join(e.t.take(), tt);
                e.precise = false;
            }
        }
    }

    /// A flow reached a sink at `n`: a finding, or while a summary is
    /// computed, a hit of the parameter.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn report(
        &mut self,
        fr: &mut Frame,
        sink: usize,
        n: Node,
        steps: Vec<Step>,
        t: &Taint,
        callee: &str,
        confidence: Option<Confidence>,
    ) {
        self.report_at(fr, sink, span(n), steps, t, callee, confidence);
    }

    #[allow(clippy::too_many_arguments)]
    pub(super) fn report_at(
        &mut self,
        fr: &mut Frame,
        sink: usize,
        at: Span,
        steps: Vec<Step>,
        t: &Taint,
        callee: &str,
        confidence: Option<Confidence>,
    ) {
        if fr.non_html && self.t.xss == Some(sink) {
            return;
        }
        let hit = Hit {
            sink,
            span: at,
            steps,
            weak: t.weak,
            function: fr.function.clone(),
            callee: callee.to_string(),
            confidence,
        };
        match &mut fr.summary {
            Some(v) => {
                if t.from_param {
                    v.push(hit);
                }
            }
            None => {
                if !t.from_param {
                    self.hits.push(hit);
                }
            }
        }
    }
}

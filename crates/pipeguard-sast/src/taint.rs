//! Taint tracking over the syntax tree, one function at a time, with
//! same-file summaries for calls between functions.
//!
//! The walk is a forward abstract interpretation of each function body: an
//! environment maps variables (and `var.key` paths for literal keys and
//! fields) to the taint they hold. Branches are walked on copies of the
//! environment and joined, so a value overwritten by a constant on every path
//! is clean again, while a sanitizer on only one path leaves it tainted.
//! Branches that end in `return`/`raise` do not join. A taint remembers the
//! steps it took (read, assigned, concatenated, passed), which become the
//! finding's trace.

use std::collections::{HashMap, HashSet};

use pipeguard_core::Confidence;
use regex::Regex;
use tree_sitter::Node;

use crate::lang::{Lang, Syntax, syntax};
use crate::rules::{RuleSet, TaintTables};

/// A callee pattern split into segments; see [`pat_match`].
type Pat = Vec<String>;

fn split(p: &str) -> Pat {
    p.split('.').map(str::to_string).collect()
}

fn seg_eq(p: &str, s: &str) -> bool {
    p == "*" || p == s || (p.len() > 1 && p.ends_with('*') && s.starts_with(&p[..p.len() - 1]))
}

fn seg_match(pat: &[String], path: &[String], prefix: bool) -> bool {
    let len_ok = if prefix {
        path.len() >= pat.len()
    } else {
        path.len() == pat.len()
    };
    len_ok && pat.iter().zip(path).all(|(p, s)| seg_eq(p, s))
}

/// `a.b.c` matches the path exactly (or as a prefix for sources: a source
/// `request.args` taints `request.args.get("id")`); a leading `*` stands for
/// any receiver of one or more segments (`*.execute` is any `….execute`).
pub fn pat_match(pat: &[String], path: &[String], prefix: bool) -> bool {
    if pat.first().map(String::as_str) == Some("*") && pat.len() > 1 {
        let rest = &pat[1..];
        if prefix {
            (1..path.len()).any(|i| seg_match(rest, &path[i..], true))
        } else {
            path.len() > rest.len() && seg_match(rest, &path[path.len() - rest.len()..], false)
        }
    } else {
        seg_match(pat, path, prefix)
    }
}

pub struct CSource {
    what: String,
    pats: Vec<Pat>,
    weak: bool,
    /// Kinds the value is born clean for.
    cleaned: u32,
    except: Vec<Pat>,
}

pub struct CSink {
    pub kind: usize,
    what: String,
    pats: Vec<Pat>,
    assign: Vec<Pat>,
    args: Vec<usize>,
    kwargs: Vec<String>,
    requires_kwarg: Option<(String, String)>,
    unless: Option<Regex>,
    when: Option<Regex>,
    confidence: Option<Confidence>,
}

pub struct CSan {
    pats: Vec<Pat>,
    mask: u32,
}

/// One language family's tables, compiled.
pub struct Tables {
    sources: Vec<CSource>,
    pub sinks: Vec<CSink>,
    sanitizers: Vec<CSan>,
    guards: Vec<CSan>,
    mutators: HashSet<String>,
    keyed_writes: HashSet<String>,
    keyed_reads: HashSet<String>,
    exits: Vec<Pat>,
    safe_types: HashSet<String>,
    source_annotations: Vec<String>,
    route_decorators: Option<Regex>,
    out_args: Vec<Pat>,
    /// The HTML-output kind: what a Python route returns is the response body.
    xss: Option<usize>,
    /// Words one of which every file with a source contains (the longest
    /// segment of each source pattern, annotations, route decorators).
    keywords: aho_corasick::AhoCorasick,
    /// First segments of source patterns (`request`, `req`): a local of
    /// that name shadows the source.
    source_roots: HashSet<String>,
}

impl Tables {
    /// Whether the file may read input at all; if not, no flow can start in it.
    pub fn may_have_sources(&self, src: &[u8]) -> bool {
        self.keywords.is_match(src)
    }

    pub fn compile(rules: &RuleSet, t: &TaintTables) -> Result<Tables, String> {
        let pats = |v: &[String]| v.iter().map(|p| split(p)).collect::<Vec<_>>();
        let san = |v: &[crate::rules::Sanitizer]| {
            v.iter()
                .map(|s| CSan {
                    pats: pats(&s.patterns),
                    mask: s.kinds.iter().fold(0, |m, k| m | rules.kind_bit(k)),
                })
                .collect::<Vec<_>>()
        };
        let sinks = t
            .sinks
            .iter()
            .map(|s| {
                Ok(CSink {
                    kind: rules
                        .kinds
                        .iter()
                        .position(|k| k.kind == s.kind)
                        .ok_or_else(|| format!("unknown sink kind {}", s.kind))?,
                    what: s.what.clone(),
                    pats: pats(&s.patterns),
                    assign: pats(&s.assign),
                    args: s.args.clone(),
                    kwargs: s.kwargs.clone(),
                    requires_kwarg: s.requires_kwarg.clone(),
                    unless: s
                        .unless
                        .as_deref()
                        .map(Regex::new)
                        .transpose()
                        .map_err(|e| e.to_string())?,
                    when: s
                        .when
                        .as_deref()
                        .map(Regex::new)
                        .transpose()
                        .map_err(|e| e.to_string())?,
                    confidence: s.confidence,
                })
            })
            .collect::<Result<Vec<_>, String>>()?;
        Ok(Tables {
            sources: t
                .sources
                .iter()
                .map(|s| CSource {
                    what: s.what.clone(),
                    pats: pats(&s.patterns),
                    weak: s.weak,
                    except: pats(&s.except),
                    cleaned: if s.kinds.is_empty() {
                        0
                    } else {
                        !s.kinds.iter().fold(0, |m, k| m | rules.kind_bit(k))
                    },
                })
                .collect(),
            sinks,
            sanitizers: san(&t.sanitizers),
            guards: san(&t.guards),
            mutators: t.mutators.iter().cloned().collect(),
            keyed_writes: t.keyed_writes.iter().cloned().collect(),
            keyed_reads: t.keyed_reads.iter().cloned().collect(),
            exits: pats(&t.exits),
            safe_types: t.safe_types.iter().cloned().collect(),
            source_annotations: t.source_annotations.clone(),
            route_decorators: t
                .route_decorators
                .as_deref()
                .map(Regex::new)
                .transpose()
                .map_err(|e| e.to_string())?,
            out_args: pats(&t.out_args),
            xss: rules.kinds.iter().position(|k| k.kind == "xss"),
            source_roots: t
                .sources
                .iter()
                .flat_map(|s| &s.patterns)
                .filter_map(|p| p.split('.').next())
                .filter(|r| *r != "*")
                .map(str::to_string)
                .collect(),
            keywords: {
                let mut words: Vec<String> = t
                    .sources
                    .iter()
                    .flat_map(|s| &s.patterns)
                    .filter_map(|p| {
                        p.split('.')
                            .map(|seg| seg.trim_end_matches('*'))
                            .filter(|seg| !seg.is_empty())
                            .max_by_key(|seg| seg.len())
                            .map(str::to_string)
                    })
                    .chain(
                        t.source_annotations
                            .iter()
                            .map(|a| a.trim_start_matches('@').trim_end_matches('(').to_string()),
                    )
                    .collect();
                if t.route_decorators.is_some() {
                    words.extend(
                        [
                            ".route(",
                            ".get(",
                            ".post(",
                            ".put(",
                            ".delete(",
                            ".patch(",
                            ".api_route(",
                            ".websocket(",
                        ]
                        .map(String::from),
                    );
                }
                aho_corasick::AhoCorasick::new(words).map_err(|e| e.to_string())?
            },
        })
    }
}

/// A place in the file, 1-based.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Span {
    pub line: u32,
    pub column: u32,
    pub end_line: u32,
    pub end_column: u32,
}

fn span(n: Node) -> Span {
    let s = n.start_position();
    let e = n.end_position();
    Span {
        line: s.row as u32 + 1,
        column: s.column as u32 + 1,
        end_line: e.row as u32 + 1,
        end_column: e.column as u32 + 1,
    }
}

#[derive(Debug, Clone)]
pub struct Step {
    pub span: Span,
    pub message: String,
}

#[derive(Debug, Clone)]
struct Taint {
    steps: Vec<Step>,
    /// Sink kinds this value has been sanitized for.
    cleaned: u32,
    weak: bool,
    /// Came from the parameter a summary is being computed for.
    from_param: bool,
}

fn union(a: Option<Taint>, b: Option<Taint>) -> Option<Taint> {
    match (a, b) {
        (Some(x), Some(y)) => {
            let cleaned = x.cleaned & y.cleaned;
            let weak = x.weak && y.weak;
            // Keep the trace of the more dangerous side.
            let mut keep = if (x.weak && !y.weak) || (x.cleaned & !y.cleaned) != 0 {
                y
            } else {
                x
            };
            keep.cleaned = cleaned;
            keep.weak = weak;
            Some(keep)
        }
        (a, None) => a,
        (None, b) => b,
    }
}

fn with_step(t: Option<Taint>, n: Node, message: impl FnOnce() -> String) -> Option<Taint> {
    t.map(|mut t| {
        t.steps.push(Step {
            span: span(n),
            message: message(),
        });
        t
    })
}

#[derive(Debug, Clone, Default)]
struct Var {
    t: Option<Taint>,
    /// Bound to a literal collection: keys not written are known to be absent.
    precise: bool,
}

type Env = HashMap<String, Var>;

fn merge(a: Env, b: &Env) -> Env {
    let mut out = a;
    for (k, vb) in b {
        match out.get_mut(k) {
            Some(va) => {
                va.t = union(va.t.take(), vb.t.clone());
                va.precise &= vb.precise;
            }
            None => {
                out.insert(k.clone(), vb.clone());
            }
        }
    }
    out
}

/// A taint flow that reached a sink.
#[derive(Debug, Clone)]
pub struct Hit {
    pub sink: usize,
    pub span: Span,
    pub steps: Vec<Step>,
    pub weak: bool,
    pub function: String,
    pub callee: String,
    /// The sink's own confidence, when its danger depends on context.
    pub confidence: Option<Confidence>,
}

#[derive(Default, Clone)]
struct Summary {
    ret: Option<Taint>,
    sinks: Vec<Hit>,
}

struct Frame {
    /// How deep `eval` is in the tree.
    depth: u32,
    env: Env,
    /// Local variables holding a known integer (`int num = 196;`), for
    /// conditions that decide a branch.
    consts: HashMap<String, i64>,
    types: HashMap<String, Vec<String>>,
    exited: bool,
    returns: Option<Taint>,
    function: String,
    /// Computing a summary: hits from the parameter are recorded, not reported.
    summary: Option<Vec<Hit>>,
    /// A Flask/FastAPI route: a string it returns is the HTML response.
    route: bool,
}

pub struct FileAnalysis<'a> {
    src: &'a [u8],
    lang: Lang,
    syn: &'static Syntax,
    t: &'a Tables,
    funcs: HashMap<String, Node<'a>>,
    summaries: HashMap<(usize, usize), Summary>,
    in_progress: HashSet<(usize, usize)>,
    /// Each analyzed function's final environment, by node id: a nested
    /// function (a callback, a closure) starts from its parent's, so it sees
    /// captured values and local names that shadow source names.
    closure_env: HashMap<usize, Env>,
    pub hits: Vec<Hit>,
}

const MAX_DEPTH: u32 = 200;

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
    pub fn run(src: &'a [u8], lang: Lang, t: &'a Tables, root: Node<'a>) -> Vec<Hit> {
        let mut fa = FileAnalysis {
            src,
            lang,
            syn: syntax(lang),
            t,
            funcs: HashMap::new(),
            summaries: HashMap::new(),
            in_progress: HashSet::new(),
            closure_env: HashMap::new(),
            hits: Vec::new(),
        };
        let mut functions = Vec::new();
        fa.collect_functions(root, &mut functions);
        // Module-level code is one more function.
        let mut fr = fa.frame("<module>");
        fa.eval(&mut fr, root);
        fa.closure_env.insert(root.id(), fr.env);
        for f in functions {
            fa.analyze_function(f);
        }
        fa.hits
    }

    fn text(&self, n: Node) -> &'a str {
        std::str::from_utf8(&self.src[n.byte_range()]).unwrap_or("")
    }

    fn frame(&self, name: &str) -> Frame {
        Frame {
            depth: 0,
            env: Env::new(),
            consts: HashMap::new(),
            types: HashMap::new(),
            exited: false,
            returns: None,
            function: name.to_string(),
            summary: None,
            route: false,
        }
    }

    fn collect_functions(&mut self, root: Node<'a>, out: &mut Vec<Node<'a>>) {
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

    fn type_segments(&self, ty: Node) -> Vec<String> {
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
        // Java names types by package (`javax.xml.xpath.XPath`), while the
        // tables name the class; Go's `http.Request` keeps its package.
        if self.lang == Lang::Java {
            return segs.last().cloned().into_iter().collect();
        }
        segs
    }

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
                        t: Some(Taint {
                            steps: vec![Step {
                                span: span(node),
                                message: format!("{what} `{name}` received here"),
                            }],
                            cleaned: 0,
                            weak: false,
                            from_param: false,
                        }),
                        precise: false,
                    },
                );
            }
        }
    }

    fn analyze_function(&mut self, f: Node<'a>) {
        let mut fr = self.frame(&self.fn_name(f));
        fr.route = self.lang == Lang::Python && self.is_route(f);
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
                            steps: vec![Step {
                                span: span(*node),
                                message: format!("enters `{name}` as parameter `{pname}`"),
                            }],
                            cleaned: 0,
                            weak: false,
                            from_param: true,
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
                fr.returns = union(fr.returns.take(), r);
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

    // ---- paths ----------------------------------------------------------

    fn literal_key(&self, n: Node) -> Option<String> {
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
    fn path(&self, n: Node) -> Option<Vec<String>> {
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
    fn candidates(&self, fr: &Frame, p: &[String]) -> Vec<Vec<String>> {
        let mut out = vec![p.to_vec()];
        // Java code often names classes by package
        // (`org.owasp.esapi.ESAPI.encoder()`); the tables name the class.
        if self.lang == Lang::Java
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
    fn source_for(&self, fr: &Frame, p: &[String], call: bool) -> Option<&'a CSource> {
        // A local variable shadows a source name (`request = build()`).
        if p.first().is_some_and(|r| fr.env.contains_key(r)) {
            return None;
        }
        let cands = self.candidates(fr, p);
        self.t.sources.iter().find(|s| {
            s.pats.iter().any(|pat| {
                if pat.len() == 1 && pat[0] != "*" {
                    return call && p.len() == 1 && pat[0] == p[0];
                }
                cands.iter().any(|c| pat_match(pat, c, true))
            }) && !s.except.iter().any(|e| pat_match(e, p, true))
        })
    }

    fn lookup(&self, fr: &Frame, p: &[String]) -> Option<Taint> {
        for i in (1..=p.len()).rev() {
            let key = p[..i].join(".");
            if let Some(v) = fr.env.get(&key) {
                if i < p.len() && v.precise {
                    return None;
                }
                return v.t.clone();
            }
        }
        None
    }

    fn source_taint(&self, n: Node, s: &CSource, p: &[String], key: Option<String>) -> Taint {
        let name = key.unwrap_or_else(|| p.join("."));
        Taint {
            steps: vec![Step {
                span: span(n),
                message: format!("{} `{}` read here", s.what, name),
            }],
            cleaned: s.cleaned,
            weak: s.weak,
            from_param: false,
        }
    }

    // ---- evaluation -----------------------------------------------------

    fn eval_children(&mut self, fr: &mut Frame, n: Node<'a>) -> Option<Taint> {
        let mut acc = None;
        let mut c = n.walk();
        let kids: Vec<Node<'a>> = n.named_children(&mut c).collect();
        for ch in kids {
            let t = self.eval(fr, ch);
            acc = union(acc, t);
            if fr.exited {
                break;
            }
        }
        acc
    }

    fn eval(&mut self, fr: &mut Frame, n: Node<'a>) -> Option<Taint> {
        // Generated code nests deep (`"a" + "b" + …` thousands of times):
        // past this depth the walk stops rather than overflow the stack.
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
                if let Some(s) = self.source_for(fr, &p, false) {
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
                let op = n
                    .child_by_field_name("operator")
                    .map(|o| self.text(o))
                    .unwrap_or("");
                let t = self.eval_children(fr, n);
                // `a || b` is a boolean in Java and Go, but one of its
                // operands in JavaScript (`req.query.name || "anon"`).
                let value_op = matches!(op, "||" | "&&")
                    && matches!(self.lang, Lang::JavaScript | Lang::TypeScript | Lang::Tsx);
                return if COMPARISONS.contains(&op) && !value_op {
                    None
                } else {
                    t
                };
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
            let mut acc = None;
            let mut c = n.walk();
            let kids: Vec<Node<'a>> = n.named_children(&mut c).collect();
            for ch in kids {
                if syn.interpolations.contains(&ch.kind()) || syn.strings.contains(&ch.kind()) {
                    let t = self.eval_children(fr, ch);
                    acc = union(acc, t);
                }
            }
            return acc;
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
            let t = self.eval_children(fr, n);
            if fr.route
                && let Some(kind) = self.t.xss
                && let Some(v) = n.named_child(0)
                && self.returns_text(v)
                && let Some(tt) = &t
                && tt.cleaned & (1u32 << kind) == 0
            {
                let mut steps = tt.steps.clone();
                steps.push(Step {
                    span: span(n),
                    message: "returned as the HTML response body".to_string(),
                });
                let tt = tt.clone();
                self.report(fr, kind, n, steps, &tt, "return", None);
            }
            fr.returns = union(fr.returns.take(), t);
            fr.exited = true;
            return None;
        }
        if syn.throws.contains(&k) {
            self.eval_children(fr, n);
            fr.exited = true;
            return None;
        }
        if syn.ternaries.contains(&k) {
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
            return union(ta, tb);
        }
        self.eval_children(fr, n)
    }

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
            if let Some(s) = self.source_for(fr, &p, false) {
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

    // ---- calls ----------------------------------------------------------

    /// Positional and keyword arguments of a call.
    fn args(&self, n: Node<'a>) -> (Vec<Node<'a>>, Vec<(String, Node<'a>)>) {
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

    fn receiver(&self, n: Node<'a>) -> Option<Node<'a>> {
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

    fn matches_any(&self, fr: &Frame, pats: &[Pat], p: &[String]) -> bool {
        let cands = self.candidates(fr, p);
        pats.iter()
            .any(|pat| cands.iter().any(|c| pat_match(pat, c, false)))
    }

    fn eval_call(&mut self, fr: &mut Frame, n: Node<'a>) -> Option<Taint> {
        let path = self.path(n);
        let (pos, kw) = self.args(n);
        let recv = self.receiver(n);

        if let Some(p) = &path
            && let Some(s) = self.source_for(fr, p, true)
        {
            for a in &pos {
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
            self.out_args(fr, p, &pos, &t);
            return t;
        }

        // Literal-keyed reads and writes keep collection entries apart.
        if let (Some(p), Some(r)) = (&path, recv)
            && let Some(rp) = self.path(r)
            && let Some(method) = p.last()
            && let Some(key) = pos.first().and_then(|a| self.literal_key(*a))
        {
            if self.t.keyed_reads.contains(method) && fr.env.contains_key(&rp[0]) {
                let mut full = rp.clone();
                full.push(key);
                return self.lookup(fr, &full);
            }
            if self.t.keyed_writes.contains(method)
                && let Some(v) = pos.get(1)
            {
                let t = self.eval(fr, *v);
                let root = rp.join(".");
                let entry = fr.env.entry(root.clone()).or_default();
                entry.t = union(entry.t.take(), t.clone());
                fr.env
                    .insert(format!("{root}.{key}"), Var { t, precise: false });
                return None;
            }
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
                t = union(t, a);
            }
            return t;
        };
        let callee = p.join(".");

        // Sinks. What a sink returns (rows, file contents, a response) is
        // not the caller's input any more.
        let mut is_sink = false;
        for sink in &self.t.sinks {
            if !self.matches_any(fr, &sink.pats, &p) {
                continue;
            }
            if let Some((k, v)) = &sink.requires_kwarg
                && !kw.iter().any(|(n2, val)| n2 == k && self.text(*val) == v)
            {
                continue;
            }
            if let Some(u) = &sink.unless
                && u.is_match(self.text(n))
            {
                continue;
            }
            if let Some(w) = &sink.when
                && !w.is_match(self.text(n))
            {
                continue;
            }
            is_sink = true;
            let bit = 1u32 << sink.kind;
            let mut hit: Option<(Taint, String)> = None;
            for (i, t) in arg_t.iter().enumerate() {
                if (sink.args.is_empty() || sink.args.contains(&i))
                    && let Some(t) = t
                    && t.cleaned & bit == 0
                {
                    hit = Some((t.clone(), format!("argument {}", i + 1)));
                    break;
                }
            }
            if hit.is_none() {
                for (k, t) in &kw_t {
                    if sink.kwargs.contains(k)
                        && let Some(t) = t
                        && t.cleaned & bit == 0
                    {
                        hit = Some((t.clone(), format!("argument `{k}`")));
                        break;
                    }
                }
            }
            if let Some((t, which)) = hit {
                let mut steps = t.steps.clone();
                steps.push(Step {
                    span: span(n),
                    message: format!("passed to `{callee}` as {which} ({})", sink.what),
                });
                self.report(fr, sink.kind, n, steps, &t, &callee, sink.confidence);
            }
        }

        if self.matches_any(fr, &self.t.exits, &p) {
            fr.exited = true;
        }

        // Sanitizers.
        for s in &self.t.sanitizers {
            if self.matches_any(fr, &s.pats, &p) {
                if s.mask == u32::MAX {
                    return None;
                }
                let mut t = recv_t;
                for a in arg_t {
                    t = union(t, a);
                }
                return t.map(|mut t| {
                    t.cleaned |= s.mask;
                    t
                });
            }
        }

        if is_sink {
            return None;
        }
        let mut all = recv_t.clone();
        for a in &arg_t {
            all = union(all, a.clone());
        }
        for (_, t) in &kw_t {
            all = union(all, t.clone());
        }

        // A method that stores its argument in the receiver taints it.
        if let (Some(r), Some(m)) = (recv, p.last())
            && self.t.mutators.contains(m)
            && arg_t.iter().any(Option::is_some)
            && let Some(rp) = self.path(r)
            && (fr.env.contains_key(&rp[0]) || rp.len() == 1)
        {
            let mut at = None;
            for a in &arg_t {
                at = union(at, a.clone());
            }
            let target = rp.join(".");
            let at = with_step(at, n, || format!("added to `{target}`"));
            let e = fr.env.entry(target).or_default();
            e.t = union(e.t.take(), at);
            // Appended entries have no literal key.
            e.precise = false;
        }
        self.out_args(fr, &p, &pos, &all);

        // Functions of this file: their summaries.
        if let Some(name) = p.last()
            && let Some(f) = self.funcs.get(name).copied()
            && (p.len() == 1
                || matches!(p[0].as_str(), "self" | "this" | "cls")
                || self.lang == Lang::Java
                || self.lang == Lang::Go)
        {
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
                    let bit = 1u32 << h.sink;
                    if t.cleaned & bit != 0 {
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
                    rt.cleaned |= r.cleaned;
                    ret = union(ret, Some(rt));
                }
            }
            return ret;
        }
        all
    }

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
                e.t = union(e.t.take(), tt);
                e.precise = false;
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn report(
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
    fn report_at(
        &mut self,
        fr: &mut Frame,
        sink: usize,
        at: Span,
        steps: Vec<Step>,
        t: &Taint,
        callee: &str,
        confidence: Option<Confidence>,
    ) {
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

    // ---- assignments ----------------------------------------------------

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
    fn returns_text(&self, n: Node) -> bool {
        match n.kind() {
            "identifier" => true,
            "tuple" | "expression_list" => n.named_child(0).is_some_and(|c| self.returns_text(c)),
            "parenthesized_expression" => n.named_child(0).is_some_and(|c| self.returns_text(c)),
            _ => self.is_formatting(n),
        }
    }

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

    fn eval_assignment(&mut self, fr: &mut Frame, n: Node<'a>) -> Option<Taint> {
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
                acc = union(acc, t.clone());
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

    fn list_items(&self, n: Node<'a>) -> Vec<Node<'a>> {
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

    fn eval_declarator(&mut self, fr: &mut Frame, n: Node<'a>) -> Option<Taint> {
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
    fn bind(
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
                        && tt.cleaned & (1u32 << sink.kind) == 0
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
                    e.t = union(e.t.take(), tt);
                    e.precise = false;
                    return;
                }
                let root = p[0].clone();
                if fr.env.contains_key(&root) || p.len() == 2 {
                    let full = p.join(".");
                    let tt = with_step(t.clone(), value, || format!("stored in `{full}`"));
                    let e = fr.env.entry(root).or_default();
                    e.t = union(e.t.take(), tt);
                }
                self.bind_path(fr, p, target, value, t, augmented);
            }
            return;
        }
        // Anything else (a parenthesized target …): nothing to track.
        let _ = value;
    }

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
        let t = if augmented { union(old, t) } else { t };
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
                "property_identifier" | "identifier"
                    if self.lang != Lang::Python && self.lang != Lang::Go =>
                {
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

    // ---- control flow ---------------------------------------------------

    /// Simple constant conditions (`7 * 42 - 106 > 200`, `num > 200` with a
    /// local integer), which decide which branch runs.
    fn const_int(&self, fr: &Frame, n: Node) -> Option<i64> {
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

    fn const_bool(&self, fr: &Frame, n: Node) -> Option<bool> {
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
    fn guards(&self, fr: &Frame, cond: Node<'a>) -> Vec<(String, u32, bool)> {
        let mut out = Vec::new();
        self.find_guards(fr, cond, true, &mut out);
        out
    }

    fn find_guards(
        &self,
        fr: &Frame,
        n: Node<'a>,
        positive: bool,
        out: &mut Vec<(String, u32, bool)>,
    ) {
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
                                out.push((vp.join("."), g.mask, positive));
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
                    out.push((p.join("."), u32::MAX, positive == (ops == ["in"])));
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

    fn apply_guards(&self, env: &mut Env, guards: &[(String, u32, bool)], when: bool) {
        for (var, mask, positive) in guards {
            if *positive == when
                && let Some(v) = env.get_mut(var)
                && let Some(t) = &mut v.t
            {
                if *mask == u32::MAX {
                    v.t = None;
                } else {
                    t.cleaned |= mask;
                }
            }
        }
    }

    fn eval_if(&mut self, fr: &mut Frame, n: Node<'a>) {
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
                fr.env = merge(then_env, &else_env);
            }
        }
    }

    fn eval_loop(&mut self, fr: &mut Frame, n: Node<'a>) {
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
            fr.env = merge(std::mem::take(&mut fr.env), &body_env);
        }
    }

    fn eval_switch(&mut self, fr: &mut Frame, n: Node<'a>) {
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
                    Some(o) => merge(o, &env),
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

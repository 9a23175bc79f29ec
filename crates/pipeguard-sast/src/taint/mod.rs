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
//!
//! One walker, [`FileAnalysis`], whose `impl` is spread over the modules by
//! what each part decides:
//!
//! - `tables`: the compiled sources, sinks, sanitizers and guards;
//! - `domain`: the values (a taint, the kinds it is safe for) and their join;
//! - `paths`: naming what an expression reads (`request.args.get`) and
//!   whether that is a source;
//! - `eval`: expressions;
//! - `calls`: calls, where sources are read, sinks reached and sanitizers
//!   applied;
//! - `binding`: assignments, destructuring, collections per key and index;
//! - `control`: branches, loops, `switch`, guards and constant conditions;
//! - `functions`: parameters, closures and same-file summaries.

mod binding;
mod calls;
mod control;
mod domain;
mod eval;
mod functions;
mod paths;
mod tables;

use std::collections::{HashMap, HashSet};

use pipeguard_core::Confidence;
use tree_sitter::Node;

use crate::lang::{Lang, Syntax, syntax};
use domain::{Env, Taint};
pub use domain::{Span, Step, span as span_of};
use functions::Summary;
pub use tables::{CSan, CSink, CSource, Tables, pat_match};

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

/// The state of the walk through one function body.
struct Frame {
    /// How deep `eval` is in the tree.
    depth: u32,
    env: Env,
    /// Local variables holding a known integer (`int num = 196;`), for
    /// conditions that decide a branch.
    consts: HashMap<String, i64>,
    /// Declared types of locals and parameters, as path segments: a call on
    /// `c` of type `*gin.Context` is matched as `gin.Context.…` too.
    types: HashMap<String, Vec<String>>,
    /// The code after this point does not run (`return`, `raise`, `abort()`).
    exited: bool,
    returns: Option<Taint>,
    function: String,
    /// Computing a summary: hits from the parameter are recorded, not reported.
    summary: Option<Vec<Hit>>,
    /// A Flask/FastAPI route: a string it returns is the HTML response.
    route: bool,
    /// The function declared a non-HTML response (`application/json`,
    /// `text/event-stream`): what it writes is not an XSS sink.
    non_html: bool,
}

/// The taint walk of one file.
pub struct FileAnalysis<'a> {
    src: &'a [u8],
    lang: Lang,
    syn: &'static Syntax,
    t: &'a Tables,
    /// Functions of the file by name, for summaries.
    funcs: HashMap<String, Node<'a>>,
    summaries: HashMap<(usize, usize), Summary>,
    in_progress: HashSet<(usize, usize)>,
    /// Each analyzed function's final environment, by node id: a nested
    /// function (a callback, a closure) starts from its parent's, so it sees
    /// captured values and local names that shadow source names.
    closure_env: HashMap<usize, Env>,
    pub hits: Vec<Hit>,
}

/// Generated code nests deep (`"a" + "b" + …` thousands of times): past
/// this depth the walk stops rather than overflow the stack.
const MAX_DEPTH: u32 = 200;

impl<'a> FileAnalysis<'a> {
    /// The flows from a source to a sink in the file whose tree is `root`.
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
            non_html: false,
        }
    }
}

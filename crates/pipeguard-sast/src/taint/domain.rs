//! The abstract values of the walk: what a tainted value is, which sink
//! kinds it has been made safe for, and how two values (and two
//! environments) join where branches meet.
//!
//! A value is either clean (`None`) or a [`Taint`]. Joining is the lattice's
//! least upper bound: tainted wins over clean, "safe for a kind" survives a
//! join only when both sides were made safe for it, and request data wins
//! over a weaker source. Nothing here knows about syntax trees, so the
//! rules of the domain are tested on their own below.

use std::collections::HashMap;

use tree_sitter::Node;

/// A set of sink kinds, one bit per taint rule in `rules/taint.toml` order
/// (so at most 32 rules; `RuleSet::kind_bit` hands out the bits).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Kinds(u32);

impl Kinds {
    pub const NONE: Kinds = Kinds(0);
    /// `kinds = ["*"]`: a sanitizer such as `int()` that leaves nothing to inject.
    pub const ALL: Kinds = Kinds(u32::MAX);

    /// The bits as `RuleSet::kind_bit` builds them.
    pub fn from_bits(bits: u32) -> Kinds {
        Kinds(bits)
    }

    /// The kind at index `kind` of the rule list.
    pub fn one(kind: usize) -> Kinds {
        Kinds(1u32 << kind)
    }

    pub fn contains(self, kind: usize) -> bool {
        self.0 & Kinds::one(kind).0 != 0
    }

    pub fn union(self, other: Kinds) -> Kinds {
        Kinds(self.0 | other.0)
    }

    pub fn intersection(self, other: Kinds) -> Kinds {
        Kinds(self.0 & other.0)
    }

    /// Every kind not in `self`: a source that matters only for some kinds
    /// is born clean for all the others.
    pub fn complement(self) -> Kinds {
        Kinds(!self.0)
    }

    /// Whether `self` holds a kind `other` lacks.
    pub fn exceeds(self, other: Kinds) -> bool {
        self.0 & !other.0 != 0
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

pub fn span(n: Node) -> Span {
    let s = n.start_position();
    let e = n.end_position();
    Span {
        line: s.row as u32 + 1,
        column: s.column as u32 + 1,
        end_line: e.row as u32 + 1,
        end_column: e.column as u32 + 1,
    }
}

/// One step of a flow's trace ("assigned to `q`").
#[derive(Debug, Clone)]
pub struct Step {
    pub span: Span,
    pub message: String,
}

/// A value that holds untrusted data, and the way it came.
#[derive(Debug, Clone)]
pub(super) struct Taint {
    pub(super) steps: Vec<Step>,
    /// Sink kinds this value has been sanitized for.
    pub(super) cleaned: Kinds,
    /// From a source an attacker reaches less directly (environment,
    /// command line): findings get a lower severity and confidence.
    pub(super) weak: bool,
    /// Came from the parameter a summary is being computed for.
    pub(super) from_param: bool,
}

impl Taint {
    /// Fresh input, read at `step`: dangerous for every kind.
    pub(super) fn new(step: Step) -> Taint {
        Taint {
            steps: vec![step],
            cleaned: Kinds::NONE,
            weak: false,
            from_param: false,
        }
    }

    /// Whether this value is still dangerous for sinks of `kind`.
    pub(super) fn reaches(&self, kind: usize) -> bool {
        !self.cleaned.contains(kind)
    }

    /// Passed through a sanitizer or checked by a guard for `kinds`.
    pub(super) fn sanitize(&mut self, kinds: Kinds) {
        self.cleaned = self.cleaned.union(kinds);
    }
}

/// The join of two values: where two branches meet, or the value of an
/// expression built from both (`a + b`).
pub(super) fn join(a: Option<Taint>, b: Option<Taint>) -> Option<Taint> {
    match (a, b) {
        (Some(x), Some(y)) => {
            let cleaned = x.cleaned.intersection(y.cleaned);
            let weak = x.weak && y.weak;
            // Keep the trace of the more dangerous side.
            let mut keep = if (x.weak && !y.weak) || x.cleaned.exceeds(y.cleaned) {
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

/// The value with one more step in its trace (a clean value stays clean).
pub(super) fn with_step(
    t: Option<Taint>,
    n: Node,
    message: impl FnOnce() -> String,
) -> Option<Taint> {
    t.map(|mut t| {
        t.steps.push(Step {
            span: span(n),
            message: message(),
        });
        t
    })
}

/// What a variable (or a `var.key` path) holds.
#[derive(Debug, Clone, Default)]
pub(super) struct Var {
    pub(super) t: Option<Taint>,
    /// Bound to a literal collection: keys not written are known to be absent.
    pub(super) precise: bool,
}

/// Variables, and `var.key` paths for literal keys, indexes and fields,
/// to what they hold. A collection's own entry is the join of everything
/// stored in it under keys not known in advance.
pub(super) type Env = HashMap<String, Var>;

/// The environment after two branches: a variable is as tainted as either
/// side left it, and precise only if both sides agree.
pub(super) fn join_env(a: Env, b: &Env) -> Env {
    let mut out = a;
    for (k, vb) in b {
        match out.get_mut(k) {
            Some(va) => {
                va.t = join(va.t.take(), vb.t.clone());
                va.precise &= vb.precise;
            }
            None => {
                out.insert(k.clone(), vb.clone());
            }
        }
    }
    out
}

/// The value read at path `p` (`d.a` of `d = {"a": x}`): the longest
/// prefix that has an entry answers. When that prefix is a literal
/// collection, a key it was never given is absent, so clean.
pub(super) fn lookup(env: &Env, p: &[String]) -> Option<Taint> {
    for i in (1..=p.len()).rev() {
        let key = p[..i].join(".");
        if let Some(v) = env.get(&key) {
            if i < p.len() && v.precise {
                return None;
            }
            return v.t.clone();
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    // Kind indexes as in rules/taint.toml.
    const SQL: usize = 0;
    const CMD: usize = 1;
    const PATH: usize = 2;

    fn at(line: u32, message: &str) -> Step {
        Step {
            span: Span {
                line,
                column: 1,
                end_line: line,
                end_column: 2,
            },
            message: message.to_string(),
        }
    }

    fn input(line: u32) -> Taint {
        Taint::new(at(line, "request parameter read here"))
    }

    fn env_var(env: &mut Env, name: &str, t: Option<Taint>, precise: bool) {
        env.insert(name.to_string(), Var { t, precise });
    }

    fn path(p: &str) -> Vec<String> {
        p.split('.').map(str::to_string).collect()
    }

    #[test]
    fn tainted_on_either_side_is_tainted() {
        assert!(join(Some(input(1)), None).is_some());
        assert!(join(None, Some(input(1))).is_some());
        assert!(join(None, None).is_none());
    }

    #[test]
    fn fresh_input_reaches_every_kind() {
        let t = input(1);
        assert!(t.reaches(SQL) && t.reaches(CMD) && t.reaches(PATH));
    }

    #[test]
    fn sanitized_for_sql_is_still_tainted_for_commands() {
        let mut t = input(1);
        t.sanitize(Kinds::one(SQL));
        assert!(!t.reaches(SQL));
        assert!(t.reaches(CMD));
        assert!(t.reaches(PATH));
    }

    #[test]
    fn an_all_kinds_sanitizer_leaves_nothing_to_inject() {
        let mut t = input(1);
        t.sanitize(Kinds::ALL);
        assert!(!t.reaches(SQL) && !t.reaches(CMD) && !t.reaches(31));
    }

    #[test]
    fn a_source_for_some_kinds_is_born_clean_for_the_others() {
        // Command-line arguments matter for SQL and commands, not paths.
        let mut t = input(1);
        t.cleaned = Kinds::one(SQL).union(Kinds::one(CMD)).complement();
        assert!(t.reaches(SQL) && t.reaches(CMD));
        assert!(!t.reaches(PATH));
    }

    #[test]
    fn a_sanitizer_on_one_branch_only_leaves_the_value_tainted() {
        let mut escaped = input(1);
        escaped.sanitize(Kinds::one(SQL));
        let raw = input(2);
        let t = join(Some(escaped.clone()), Some(raw.clone())).expect("tainted");
        assert!(t.reaches(SQL));
        // The trace shown is the dangerous path, whichever side it was on.
        assert_eq!(t.steps[0].span.line, 2);
        let t = join(Some(raw), Some(escaped)).expect("tainted");
        assert!(t.reaches(SQL));
        assert_eq!(t.steps[0].span.line, 2);
    }

    #[test]
    fn branches_sanitized_differently_stay_clean_only_for_what_both_did() {
        let mut a = input(1);
        a.sanitize(Kinds::one(SQL).union(Kinds::one(CMD)));
        let mut b = input(2);
        b.sanitize(Kinds::one(SQL).union(Kinds::one(PATH)));
        let t = join(Some(a), Some(b)).expect("tainted");
        assert!(!t.reaches(SQL));
        assert!(t.reaches(CMD));
        assert!(t.reaches(PATH));
    }

    #[test]
    fn request_data_outweighs_a_weak_source() {
        let mut env_value = input(1);
        env_value.weak = true;
        let request = input(2);
        let t = join(Some(env_value.clone()), Some(request)).expect("tainted");
        assert!(
            !t.weak,
            "a finding from request data keeps its full severity"
        );
        assert_eq!(t.steps[0].span.line, 2);
        let mut other_env = input(3);
        other_env.weak = true;
        assert!(join(Some(env_value), Some(other_env)).is_some_and(|t| t.weak));
    }

    #[test]
    fn branches_join_variable_by_variable() {
        let mut then_env = Env::new();
        env_var(&mut then_env, "q", Some(input(1)), false);
        env_var(&mut then_env, "overwritten", None, false);
        env_var(&mut then_env, "only_then", Some(input(2)), false);
        let mut else_env = Env::new();
        env_var(&mut else_env, "q", None, false);
        env_var(&mut else_env, "overwritten", None, false);
        let out = join_env(then_env, &else_env);
        assert!(out["q"].t.is_some(), "tainted on one path is tainted");
        assert!(
            out["overwritten"].t.is_none(),
            "a constant on every path is clean"
        );
        assert!(out["only_then"].t.is_some());
    }

    #[test]
    fn a_collection_stays_precise_only_if_both_branches_kept_it_literal() {
        let mut a = Env::new();
        env_var(&mut a, "d", None, true);
        let mut b = Env::new();
        env_var(&mut b, "d", None, true);
        assert!(join_env(a.clone(), &b)["d"].precise);
        env_var(&mut b, "d", None, false);
        assert!(!join_env(a, &b)["d"].precise);
    }

    #[test]
    fn literal_collections_keep_their_keys_apart() {
        // d = {"b": "const"}; d["a"] = tainted: the collection as a whole
        // holds taint, but every key it has is known.
        let mut env = Env::new();
        env_var(&mut env, "d", Some(input(1)), true);
        env_var(&mut env, "d.a", Some(input(1)), false);
        env_var(&mut env, "d.b", None, false);
        assert!(lookup(&env, &path("d.a")).is_some());
        assert!(lookup(&env, &path("d.b")).is_none());
        // A key the literal never had is absent, not "maybe tainted".
        assert!(lookup(&env, &path("d.c")).is_none());
        // Reading inside a tainted entry is tainted.
        assert!(lookup(&env, &path("d.a.upper")).is_some());
    }

    #[test]
    fn a_collection_with_unknown_keys_taints_every_read() {
        // d[key] = tainted, with `key` not a literal: any read may get it.
        let mut env = Env::new();
        env_var(&mut env, "d", Some(input(1)), false);
        env_var(&mut env, "d.b", None, false);
        assert!(lookup(&env, &path("d.c")).is_some());
        // A key written with a constant since is still known clean.
        assert!(lookup(&env, &path("d.b")).is_none());
    }

    #[test]
    fn unknown_names_are_clean() {
        assert!(lookup(&Env::new(), &path("x.y")).is_none());
    }
}

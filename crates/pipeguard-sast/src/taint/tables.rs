//! The taint tables of one language family, compiled from
//! `rules/<family>/taint.toml`: callee patterns split into segments, kinds
//! as bit sets, regexes built, and the words that decide whether a file can
//! read input at all.

use std::collections::HashSet;

use pipeguard_core::Confidence;
use regex::Regex;

use super::domain::Kinds;
use crate::rules::{RuleSet, TaintTables};

/// A callee pattern split into segments; see [`pat_match`].
pub(super) type Pat = Vec<String>;

pub(super) fn split(p: &str) -> Pat {
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

/// A source: where untrusted data is read.
pub struct CSource {
    pub(super) what: String,
    pub(super) pats: Vec<Pat>,
    pub(super) weak: bool,
    /// Kinds the value is born clean for.
    pub(super) cleaned: Kinds,
    pub(super) except: Vec<Pat>,
}

/// A sink: a call (or member assignment) where untrusted data does harm.
pub struct CSink {
    pub kind: usize,
    pub(super) what: String,
    pub(super) pats: Vec<Pat>,
    pub(super) assign: Vec<Pat>,
    pub(super) args: Vec<usize>,
    pub(super) kwargs: Vec<String>,
    pub(super) requires_kwarg: Option<(String, String)>,
    pub(super) unless: Option<Regex>,
    pub(super) when: Option<Regex>,
    pub(super) confidence: Option<Confidence>,
}

/// A sanitizer (a call whose result is safe) or a guard (a check after
/// which the checked value is safe), for the kinds it neutralises.
pub struct CSan {
    pub(super) pats: Vec<Pat>,
    pub(super) kinds: Kinds,
}

/// One language family's tables, compiled.
pub struct Tables {
    pub(super) sources: Vec<CSource>,
    pub sinks: Vec<CSink>,
    pub(super) sanitizers: Vec<CSan>,
    pub(super) guards: Vec<CSan>,
    pub(super) mutators: HashSet<String>,
    pub(super) keyed_writes: HashSet<String>,
    pub(super) keyed_reads: HashSet<String>,
    pub(super) exits: Vec<Pat>,
    pub(super) safe_types: HashSet<String>,
    pub(super) source_annotations: Vec<String>,
    pub(super) route_decorators: Option<Regex>,
    pub(super) out_args: Vec<Pat>,
    pub(super) non_html_calls: HashSet<String>,
    pub(super) non_html: Option<Regex>,
    /// The HTML-output kind: what a Python route returns is the response body.
    pub(super) xss: Option<usize>,
    /// Words one of which every file with a source contains (the longest
    /// segment of each source pattern, annotations, route decorators).
    keywords: aho_corasick::AhoCorasick,
    /// First segments of source patterns (`request`, `req`): a local of
    /// that name shadows the source.
    pub(super) source_roots: HashSet<String>,
}

impl Tables {
    /// Whether the file may read input at all; if not, no flow can start in it.
    pub fn may_have_sources(&self, src: &[u8]) -> bool {
        self.keywords.is_match(src)
    }

    pub fn compile(rules: &RuleSet, t: &TaintTables) -> Result<Tables, String> {
        let pats = |v: &[String]| v.iter().map(|p| split(p)).collect::<Vec<_>>();
        let kinds = |v: &[String]| Kinds::from_bits(v.iter().fold(0, |m, k| m | rules.kind_bit(k)));
        let san = |v: &[crate::rules::Sanitizer]| {
            v.iter()
                .map(|s| CSan {
                    pats: pats(&s.patterns),
                    kinds: kinds(&s.kinds),
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
                        Kinds::NONE
                    } else {
                        kinds(&s.kinds).complement()
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
            non_html_calls: t.non_html_calls.iter().cloned().collect(),
            non_html: t
                .non_html
                .as_deref()
                .map(Regex::new)
                .transpose()
                .map_err(|e| e.to_string())?,
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

#[cfg(test)]
mod tests {
    use super::*;

    fn m(pat: &str, path: &str, prefix: bool) -> bool {
        pat_match(&split(pat), &split(path), prefix)
    }

    #[test]
    fn a_leading_star_is_any_receiver() {
        assert!(m("*.execute", "cursor.execute", false));
        assert!(m("*.execute", "self.db.execute", false));
        // A bare call is not a method on a receiver.
        assert!(!m("*.execute", "execute", false));
        assert!(!m("*.execute", "cursor.execute_many", false));
    }

    #[test]
    fn sources_match_as_prefixes_and_sinks_exactly() {
        assert!(m("request.args", "request.args.get", true));
        assert!(!m("request.args", "request.args.get", false));
        assert!(!m("request.args", "request", true));
        assert!(m("*.request.args", "self.request.args.get", true));
    }

    #[test]
    fn a_trailing_star_in_a_segment_is_a_name_prefix() {
        assert!(m(
            "gin.Context.ShouldBind*",
            "gin.Context.ShouldBindJSON",
            false
        ));
        assert!(!m("gin.Context.ShouldBind*", "gin.Context.Bind", false));
    }
}

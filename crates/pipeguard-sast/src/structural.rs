//! Structural rules: tree-sitter queries with regex predicates on captures.
//!
//! All of a language's rules are compiled into one query, so a file's tree
//! is walked once however many rules there are; each pattern maps back to
//! its rule by where it starts in the combined source.

use regex::Regex;
use streaming_iterator::StreamingIterator;
use tree_sitter::{Node, Query, QueryCursor};

use crate::lang::Lang;
use crate::rules::StructuralRule;

/// A capture name, a regex it must match and one it must not.
type CapturePredicate = (String, Option<Regex>, Option<Regex>);

pub struct Compiled {
    query: Query,
    /// Byte offset where each rule's text starts in the combined query.
    starts: Vec<usize>,
    rules: Vec<StructuralRule>,
    predicates: Vec<Vec<CapturePredicate>>,
}

pub struct Match<'t> {
    pub rule: usize,
    pub node: Node<'t>,
}

impl Compiled {
    pub fn new(lang: Lang, rules: &[StructuralRule]) -> Result<Compiled, String> {
        let grammar = lang.grammar();
        let mut text = String::new();
        let mut starts = Vec::new();
        let mut kept = Vec::new();
        let mut predicates = Vec::new();
        for r in rules {
            if !r.languages.is_empty() && !r.languages.iter().any(|l| l == lang.name()) {
                continue;
            }
            let mut preds = Vec::new();
            for p in &r.predicates {
                let re = |s: &Option<String>| {
                    s.as_deref()
                        .map(Regex::new)
                        .transpose()
                        .map_err(|e| format!("rule {}: {e}", r.id))
                };
                preds.push((p.capture.clone(), re(&p.matches)?, re(&p.not_matches)?));
            }
            starts.push(text.len());
            text.push_str(&r.query);
            text.push('\n');
            kept.push(r.clone());
            predicates.push(preds);
        }
        let query = Query::new(&grammar, &text).map_err(|e| {
            // Compiling is the slow part of start-up, so rules are compiled
            // one by one only to name the rule that broke the whole.
            kept.iter()
                .find_map(|r| {
                    Query::new(&grammar, &r.query)
                        .err()
                        .map(|e| format!("rule {} ({}): bad query: {e}", r.id, lang.name()))
                })
                .unwrap_or_else(|| format!("{} structural rules: {e}", lang.name()))
        })?;
        Ok(Compiled {
            query,
            starts,
            rules: kept,
            predicates,
        })
    }

    pub fn rules(&self) -> &[StructuralRule] {
        &self.rules
    }

    fn rule_of(&self, pattern: usize) -> usize {
        let at = self.query.start_byte_for_pattern(pattern);
        self.starts.partition_point(|&s| s <= at).saturating_sub(1)
    }

    pub fn run<'t>(&self, root: Node<'t>, src: &[u8]) -> Vec<Match<'t>> {
        let mut out = Vec::new();
        if self.rules.is_empty() {
            return out;
        }
        let names = self.query.capture_names();
        let mut cursor = QueryCursor::new();
        let mut it = cursor.matches(&self.query, root, src);
        while let Some(m) = it.next() {
            let rule = self.rule_of(m.pattern_index);
            let text_of = |name: &str| {
                m.captures()
                    .iter()
                    .find(|c| names[c.index as usize] == name)
                    .map(|c| std::str::from_utf8(&src[c.node.byte_range()]).unwrap_or(""))
            };
            let ok = self.predicates[rule].iter().all(|(cap, yes, no)| {
                let t = text_of(cap).unwrap_or("");
                yes.as_ref().is_none_or(|r| r.is_match(t))
                    && no.as_ref().is_none_or(|r| !r.is_match(t))
            });
            if !ok {
                continue;
            }
            let want = self.rules[rule].report.as_deref().unwrap_or("finding");
            let node = m
                .captures()
                .iter()
                .find(|c| names[c.index as usize] == want)
                .or_else(|| m.captures().first())
                .map(|c| c.node);
            if let Some(node) = node {
                out.push(Match { rule, node });
            }
        }
        out
    }
}

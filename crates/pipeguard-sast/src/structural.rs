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
    /// Words one of which a file needs for any rule to match; `None` when
    /// some rule names no words (then every file is queried).
    prefilter: Option<(aho_corasick::AhoCorasick, aho_corasick::AhoCorasick)>,
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
        // `#eq?` names exact identifiers; a `#match?` regex may ignore case.
        let mut exact = Vec::new();
        let mut folded = Vec::new();
        let mut all_have_words = true;
        for r in &kept {
            let (e, f) = if r.keywords.is_empty() {
                predicate_words(&r.query)
            } else {
                (r.keywords.clone(), Vec::new())
            };
            all_have_words &= !(e.is_empty() && f.is_empty());
            exact.extend(e);
            folded.extend(f);
        }
        let build = |words: Vec<String>, fold: bool| {
            aho_corasick::AhoCorasick::builder()
                .ascii_case_insensitive(fold)
                .build(words)
                .map_err(|e| e.to_string())
        };
        let prefilter = if all_have_words {
            Some((build(exact, false)?, build(folded, true)?))
        } else {
            None
        };
        Ok(Compiled {
            query,
            starts,
            rules: kept,
            predicates,
            prefilter,
        })
    }

    /// Whether any rule could match this file (cheap, before parsing).
    pub fn may_match(&self, src: &[u8]) -> bool {
        !self.rules.is_empty()
            && self
                .prefilter
                .as_ref()
                .is_none_or(|(exact, folded)| exact.is_match(src) || folded.is_match(src))
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

/// The identifier-like words (3+ characters) in a query's `#eq?`/`#any-of?`
/// strings (exact) and `#match?` regexes (any case): a node can only match
/// if the file contains one.
fn predicate_words(query: &str) -> (Vec<String>, Vec<String>) {
    let mut exact = Vec::new();
    let mut folded = Vec::new();
    for part in query.split("(#").skip(1) {
        // A negated predicate needs no word in the file.
        if part.starts_with("not-") {
            continue;
        }
        let out = if part.starts_with("match?") {
            &mut folded
        } else {
            &mut exact
        };
        // The predicate's strings, up to its closing parenthesis (regexes
        // hold parentheses of their own, inside the quotes).
        let mut strings = Vec::new();
        let mut current: Option<String> = None;
        let mut chars = part.chars();
        while let Some(c) = chars.next() {
            match (&mut current, c) {
                (Some(s), '\\') => {
                    if let Some(n) = chars.next() {
                        s.push(n);
                    }
                }
                (Some(_), '"') => strings.extend(current.take()),
                (Some(s), c) => s.push(c),
                (None, '"') => current = Some(String::new()),
                (None, ')') => break,
                (None, _) => {}
            }
        }
        for quoted in strings {
            for w in quoted.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_')) {
                if w.len() >= 3 {
                    out.push(w.to_string());
                }
            }
        }
    }
    (exact, folded)
}

#[cfg(test)]
mod tests {
    #[test]
    fn words_come_from_predicates() {
        let w = super::predicate_words(
            r#"(call (#eq? @m "yaml") (#any-of? @f "load" "load_all")) (x (#match? @a "(?i)md5|sha1"))"#,
        );
        assert_eq!(w.0, ["yaml", "load", "load_all"]);
        assert_eq!(w.1, ["md5", "sha1"]);
    }
}

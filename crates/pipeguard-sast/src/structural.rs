//! Structural rules: tree-sitter queries with regex predicates on captures.
//!
//! All of a language's rules are compiled into one query, so a file's tree
//! is walked once however many rules there are; each pattern maps back to
//! its rule by where it starts in the combined source.

use std::collections::HashMap;

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
        // The file's imports, read once and only for a rule that needs them.
        let mut imports: Option<HashMap<String, String>> = None;
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
            let checks = &self.rules[rule].imports;
            if !checks.is_empty() {
                let imports = imports.get_or_insert_with(|| go_imports(root, src));
                let resolved = checks.iter().all(|c| {
                    text_of(&c.capture)
                        .and_then(|name| imports.get(name))
                        .is_some_and(|path| c.paths.iter().any(|p| p == path))
                });
                if !resolved {
                    continue;
                }
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

/// A Go file's imports: local name → import path. The local name is the
/// alias, or the package name the path ends in (`gopkg.in/yaml.v3` → `yaml`,
/// `github.com/go-chi/chi/v5` → `chi`); dot and blank imports name nothing.
fn go_imports(root: Node, src: &[u8]) -> HashMap<String, String> {
    let mut out = HashMap::new();
    let mut specs = Vec::new();
    let mut c = root.walk();
    for decl in root.named_children(&mut c) {
        if decl.kind() != "import_declaration" {
            continue;
        }
        let mut dc = decl.walk();
        for ch in decl.named_children(&mut dc) {
            match ch.kind() {
                "import_spec" => specs.push(ch),
                "import_spec_list" => {
                    let mut lc = ch.walk();
                    specs.extend(
                        ch.named_children(&mut lc)
                            .filter(|s| s.kind() == "import_spec"),
                    );
                }
                _ => {}
            }
        }
    }
    let text = |n: Node| std::str::from_utf8(&src[n.byte_range()]).unwrap_or("");
    for spec in specs {
        let Some(path) = spec.child_by_field_name("path") else {
            continue;
        };
        let path = text(path).trim_matches(|c| c == '"' || c == '`');
        let name = match spec.child_by_field_name("name") {
            Some(n) if n.kind() == "package_identifier" => text(n).to_string(),
            Some(_) => continue,
            None => default_package_name(path).to_string(),
        };
        out.insert(name, path.to_string());
    }
    out
}

fn default_package_name(path: &str) -> &str {
    let mut segs = path.rsplit('/');
    let last = segs.next().unwrap_or(path);
    let is_version = |s: &str| {
        s.strip_prefix('v')
            .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
    };
    let last = if is_version(last) {
        segs.next().unwrap_or(last)
    } else {
        last
    };
    // `gopkg.in/yaml.v3` is package `yaml`.
    match last.rsplit_once('.') {
        Some((base, v)) if is_version(v) => base,
        _ => last,
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
    fn go_package_names_come_from_the_import_path() {
        assert_eq!(super::default_package_name("crypto/des"), "des");
        assert_eq!(super::default_package_name("gopkg.in/yaml.v3"), "yaml");
        assert_eq!(
            super::default_package_name("github.com/go-chi/chi/v5"),
            "chi"
        );
        assert_eq!(super::default_package_name("fmt"), "fmt");
    }

    #[test]
    fn words_come_from_predicates() {
        let w = super::predicate_words(
            r#"(call (#eq? @m "yaml") (#any-of? @f "load" "load_all")) (x (#match? @a "(?i)md5|sha1"))"#,
        );
        assert_eq!(w.0, ["yaml", "load", "load_all"]);
        assert_eq!(w.1, ["md5", "sha1"]);
    }
}

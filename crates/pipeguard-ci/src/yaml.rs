//! A small owned YAML tree with 1-based line and column on every node, built
//! from saphyr's annotated loader. Aliases arrive resolved (saphyr bounds
//! their expansion, so "billion laughs" files fail to load instead of eating
//! memory); `<<` merge keys are applied here, since workflows use them.

use saphyr::{LoadableYamlNode, MarkedYaml, Scalar, YamlData};

#[derive(Debug, Clone, PartialEq)]
pub enum Kind {
    Map(Vec<(String, Node)>),
    Seq(Vec<Node>),
    /// Any scalar, as text (`true`, `3`, `node:20`); `None` for null.
    Scalar(Option<String>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub line: u32,
    pub col: u32,
    /// Line of the mapping key this node is the value of (0 elsewhere):
    /// findings about a whole job or block point at its key.
    pub key_line: u32,
    pub kind: Kind,
}

impl Node {
    /// This node, located at its key's line (for block-level findings).
    pub fn at_key(&self) -> Node {
        Node {
            line: if self.key_line > 0 {
                self.key_line
            } else {
                self.line
            },
            col: 1,
            key_line: self.key_line,
            kind: Kind::Scalar(None),
        }
    }

    pub fn get(&self, key: &str) -> Option<&Node> {
        match &self.kind {
            Kind::Map(m) => m.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    pub fn str(&self) -> Option<&str> {
        match &self.kind {
            Kind::Scalar(Some(s)) => Some(s),
            _ => None,
        }
    }

    pub fn entries(&self) -> &[(String, Node)] {
        match &self.kind {
            Kind::Map(m) => m,
            _ => &[],
        }
    }

    pub fn items(&self) -> &[Node] {
        match &self.kind {
            Kind::Seq(s) => s,
            _ => &[],
        }
    }

    /// Every scalar below this node, with its node (for text searches such
    /// as expressions anywhere in a job).
    pub fn scalars(&self) -> Vec<&Node> {
        let mut out = Vec::new();
        let mut stack = vec![self];
        while let Some(n) = stack.pop() {
            match &n.kind {
                Kind::Scalar(Some(_)) => out.push(n),
                Kind::Scalar(None) => {}
                Kind::Map(m) => stack.extend(m.iter().rev().map(|(_, v)| v)),
                Kind::Seq(s) => stack.extend(s.iter().rev()),
            }
        }
        out
    }
}

fn scalar_text(s: &Scalar) -> Option<String> {
    match s {
        Scalar::Null => None,
        Scalar::Boolean(b) => Some(b.to_string()),
        Scalar::Integer(i) => Some(i.to_string()),
        Scalar::FloatingPoint(f) => Some(f.to_string()),
        Scalar::String(s) => Some(s.to_string()),
    }
}

fn convert(y: &MarkedYaml, depth: usize) -> Node {
    let line = y.span.start.line() as u32;
    let col = y.span.start.col() as u32 + 1;
    // Deeply nested hostile input must not overflow the stack.
    if depth > 256 {
        return Node {
            line,
            col,
            key_line: 0,
            kind: Kind::Scalar(None),
        };
    }
    let kind = match &y.data {
        YamlData::Value(s) => Kind::Scalar(scalar_text(s)),
        YamlData::Representation(s, _, _) => Kind::Scalar(Some(s.to_string())),
        YamlData::Sequence(items) => {
            Kind::Seq(items.iter().map(|i| convert(i, depth + 1)).collect())
        }
        YamlData::Mapping(m) => {
            let mut entries: Vec<(String, Node)> = Vec::with_capacity(m.len());
            let mut merges: Vec<Node> = Vec::new();
            for (k, v) in m.iter() {
                let key = match &k.data {
                    YamlData::Value(s) => scalar_text(s).unwrap_or_default(),
                    YamlData::Representation(s, _, _) => s.to_string(),
                    _ => String::new(),
                };
                let mut value = convert(v, depth + 1);
                value.key_line = k.span.start.line() as u32;
                if key == "<<" {
                    merges.push(value);
                } else {
                    entries.push((key, value));
                }
            }
            // `<<: *defaults` (or a list of them): keys not set explicitly.
            for m in merges {
                let sources: Vec<&Node> = match &m.kind {
                    Kind::Seq(s) => s.iter().collect(),
                    _ => vec![&m],
                };
                for src in sources {
                    for (k, v) in src.entries() {
                        if !entries.iter().any(|(e, _)| e == k) {
                            entries.push((k.clone(), v.clone()));
                        }
                    }
                }
            }
            Kind::Map(entries)
        }
        YamlData::Tagged(_, inner) => return convert(inner, depth + 1),
        _ => Kind::Scalar(None),
    };
    Node {
        line,
        col,
        key_line: 0,
        kind,
    }
}

/// A YAML error with its 1-based line.
#[derive(Debug, Clone)]
pub struct YamlError {
    pub line: u32,
    pub message: String,
}

/// Loads every document of a YAML stream.
pub fn load(text: &str) -> Result<Vec<Node>, YamlError> {
    let docs = MarkedYaml::load_from_str(text).map_err(|e| YamlError {
        line: e.marker().line() as u32,
        message: e.info().to_string(),
    })?;
    Ok(docs.iter().map(|d| convert(d, 0)).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_anchors_and_merge_keys() {
        let text = "defaults: &d\n  runs-on: ubuntu-latest\n  timeout-minutes: 5\njobs:\n  a:\n    <<: *d\n    timeout-minutes: 9\n    steps:\n      - run: echo hi\n";
        let docs = load(text).expect("load");
        let a = docs[0].get("jobs").and_then(|j| j.get("a")).expect("job a");
        assert_eq!(a.get("runs-on").and_then(Node::str), Some("ubuntu-latest"));
        assert_eq!(a.get("timeout-minutes").and_then(Node::str), Some("9"));
        let run = &a.get("steps").expect("steps").items()[0]
            .get("run")
            .expect("run");
        assert_eq!((run.line, run.col), (9, 14));
    }

    #[test]
    fn on_is_a_string_key_and_errors_have_lines() {
        let docs = load("on: push\n").expect("load");
        assert_eq!(docs[0].get("on").and_then(Node::str), Some("push"));
        let err = load("jobs:\n  a: [1, 2\n").expect_err("bad yaml");
        assert!(err.line >= 2, "{err:?}");
    }
}

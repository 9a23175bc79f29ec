//! go.mod: the `require` directives, with `replace` applied, and the Go
//! toolchain as the `stdlib` package (the name Go's advisories give the
//! standard library and the `go` command).
//!
//! Since Go 1.17 go.mod lists every module the build needs (the indirect
//! ones marked `// indirect`), so it serves as the lockfile; it records no
//! graph. `exclude` only removes versions from consideration and changes
//! nothing that is required, so it is ignored like `retract`.

use crate::Ecosystem;
use crate::{Kind, Lockfile, Package, ParseError, Source};

struct Require {
    path: String,
    version: String,
    line: u32,
    indirect: bool,
}

struct Replace {
    path: String,
    /// Only this version is replaced; `None` replaces all of them.
    version: Option<String>,
    new_path: String,
    /// `None` when the replacement is a directory.
    new_version: Option<String>,
}

pub fn parse(text: &str) -> Result<Lockfile, ParseError> {
    // Editors on Windows may add a byte-order mark; it is not part of the data.
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut requires = Vec::new();
    let mut replaces = Vec::new();
    // (version, line) of the `go` and `toolchain` directives.
    let mut toolchain: Option<(String, u32)> = None;
    // The directive of the `( … )` block being read, with its opening line.
    let mut block: Option<(String, u32)> = None;
    for (n, raw) in text.lines().enumerate() {
        let line_no = u32::try_from(n + 1).unwrap_or(u32::MAX);
        let (code, comment) = split_comment(raw);
        let tokens = tokenize(code).map_err(|message| ParseError {
            line: line_no,
            message,
        })?;
        let Some(first) = tokens.first() else {
            continue;
        };
        let (verb, args) = match &block {
            Some(_) if first == ")" => {
                block = None;
                continue;
            }
            Some((verb, _)) => (verb.clone(), tokens.as_slice()),
            None => {
                let args = tokens.get(1..).unwrap_or_default();
                if args.first().is_some_and(|a| a == "(") {
                    // `require ()` opens and closes an empty block.
                    if args.get(1).is_none_or(|a| a != ")") {
                        block = Some((first.clone(), line_no));
                    }
                    continue;
                }
                (first.clone(), args)
            }
        };
        match verb.as_str() {
            // `go 1.22.1` is the oldest toolchain that may build the module
            // (Go 1.21 and later refuse older ones), `toolchain go1.22.3` the
            // one it asks for; the newer of the two is what builds it at
            // least. `go 1.20` (no patch release) is a language version, not
            // a release, and says nothing about the toolchain: no stdlib.
            "go" | "toolchain" => {
                let version = args
                    .first()
                    .map(|v| v.strip_prefix("go").unwrap_or(v))
                    .filter(|v| verb == "toolchain" || v.split('.').count() >= 3);
                if let Some(v) = version
                    && toolchain
                        .as_ref()
                        .is_none_or(|(t, _)| go_release_key(v) > go_release_key(t))
                {
                    toolchain = Some((v.to_string(), line_no));
                }
            }
            "require" => {
                // A require without a version is not something we can check.
                if let [path, version, ..] = args {
                    requires.push(Require {
                        path: path.clone(),
                        version: version.clone(),
                        line: line_no,
                        indirect: comment.is_some_and(is_indirect),
                    });
                }
            }
            "replace" => {
                let Some(arrow) = args.iter().position(|a| a == "=>") else {
                    return Err(ParseError {
                        line: line_no,
                        message: "replace directive without `=>`".into(),
                    });
                };
                let (old, new) = args.split_at(arrow);
                if let ([path, version @ ..], [_, new_path, new_version @ ..]) = (old, new) {
                    replaces.push(Replace {
                        path: path.clone(),
                        version: version.first().cloned(),
                        new_path: new_path.clone(),
                        new_version: new_version.first().cloned(),
                    });
                }
            }
            _ => {}
        }
    }
    if let Some((verb, line)) = block {
        return Err(ParseError {
            line,
            message: format!("unterminated `{verb} (` block"),
        });
    }

    let stdlib = toolchain.map(|(version, line)| Package {
        ecosystem: Ecosystem::Go,
        name: "stdlib".into(),
        version,
        line,
        source: Source::Registry,
        integrity: None,
        direct: true,
        dev: false,
        dependencies: Vec::new(),
    });
    let packages = requires
        .into_iter()
        .map(|r| {
            // A version-specific replacement wins over a general one, as in Go.
            let replace = replaces
                .iter()
                .filter(|p| p.path == r.path && p.version.as_deref().is_none_or(|v| v == r.version))
                .max_by_key(|p| p.version.is_some());
            let (name, version, source) = match replace {
                None => (r.path, r.version, Source::Registry),
                Some(p) => match &p.new_version {
                    Some(v) => (p.new_path.clone(), v.clone(), Source::Registry),
                    // Replaced by a directory: the module keeps its path and
                    // required version; the code is local.
                    None => (r.path, r.version, Source::Path(p.new_path.clone())),
                },
            };
            Package {
                ecosystem: Ecosystem::Go,
                name,
                version,
                line: r.line,
                source,
                integrity: None,
                direct: !r.indirect,
                dev: false,
                dependencies: Vec::new(),
            }
        })
        .chain(stdlib)
        .collect();
    Ok(Lockfile {
        kind: Kind::GoMod,
        packages,
        has_graph: false,
    })
}

/// Orders Go release numbers (`1.22.3`, `1.21rc2`): the numeric parts, a
/// pre-release (`rc`, `beta`) before the release it leads to.
fn go_release_key(v: &str) -> (Vec<u64>, bool) {
    let numeric_end = v
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(v.len());
    let (numbers, pre) = v.split_at(numeric_end);
    let mut parts: Vec<u64> = numbers.split('.').map(|p| p.parse().unwrap_or(0)).collect();
    // `1.21` and `1.21.0` are the same release.
    while parts.len() < 3 {
        parts.push(0);
    }
    (parts, pre.is_empty())
}

/// `// indirect`, possibly followed by more comment (`// indirect; reason`).
fn is_indirect(comment: &str) -> bool {
    let c = comment.trim();
    c == "indirect" || c.starts_with("indirect;")
}

/// Splits off a `//` comment that is not inside a quoted string.
fn split_comment(line: &str) -> (&str, Option<&str>) {
    let bytes = line.as_bytes();
    let mut quote = None;
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        match (quote, b) {
            (Some(b'"'), b'\\') => i += 1,
            (Some(q), _) if b == q => quote = None,
            (None, b'"' | b'`') => quote = Some(b),
            (None, b'/') if bytes.get(i + 1) == Some(&b'/') => {
                return (line.get(..i).unwrap_or(line), line.get(i + 2..));
            }
            _ => {}
        }
        i += 1;
    }
    (line, None)
}

/// Splits on whitespace, unquoting `"…"` and `` `…` `` tokens; `(`, `)` and
/// `=>` are tokens of their own.
fn tokenize(code: &str) -> Result<Vec<String>, String> {
    let mut tokens = Vec::new();
    let mut chars = code.chars().peekable();
    while let Some(&c) = chars.peek() {
        if c.is_whitespace() {
            chars.next();
        } else if c == '"' || c == '`' {
            chars.next();
            let mut s = String::new();
            loop {
                match chars.next() {
                    None => return Err(format!("unterminated quoted string in `{}`", code.trim())),
                    Some(q) if q == c => break,
                    Some('\\') if c == '"' => s.extend(chars.next()),
                    Some(other) => s.push(other),
                }
            }
            tokens.push(s);
        } else if c == '(' || c == ')' {
            chars.next();
            tokens.push(c.to_string());
        } else {
            let mut s = String::new();
            while let Some(&c) = chars.peek() {
                if c.is_whitespace() || c == '(' || c == ')' || c == '"' || c == '`' {
                    break;
                }
                s.push(c);
                chars.next();
            }
            tokens.push(s);
        }
    }
    Ok(tokens)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requires_replaces_and_versions() {
        let lock = parse(include_str!("../tests/fixtures/go/go.mod")).unwrap();
        assert!(!lock.has_graph);
        assert!(lock.packages.iter().all(|p| p.dependencies.is_empty()));
        let summary: Vec<_> = lock
            .packages
            .iter()
            .map(|p| (p.name.as_str(), p.version.as_str(), p.line, p.direct))
            .collect();
        assert_eq!(
            summary,
            [
                ("github.com/gin-gonic/gin", "v1.9.1", 6, true),
                ("github.com/acme/shared", "v0.3.0", 7, true),
                ("github.com/docker/docker", "v24.0.7+incompatible", 8, true),
                ("golang.org/x/net", "v0.20.0", 9, true),
                ("github.com/bytedance/sonic", "v1.9.1", 13, false),
                (
                    "golang.org/x/crypto",
                    "v0.0.0-20231219180239-dc181d75b848",
                    14,
                    false
                ),
                ("github.com/fork/yaml/v3", "v3.0.2", 15, false),
                ("github.com/pkg/errors", "v0.9.1", 19, true),
            ]
        );
        let by_name = |n: &str| lock.packages.iter().find(|p| p.name == n).unwrap();
        // Replaced by a directory: the path and version stay, the source is local.
        assert_eq!(
            by_name("github.com/acme/shared").source,
            Source::Path("../shared".into())
        );
        // Replaced by another module version: reported as what is built.
        assert_eq!(by_name("golang.org/x/net").source, Source::Registry);
        assert_eq!(by_name("github.com/fork/yaml/v3").source, Source::Registry);
        // A replacement of another version (gin v1.9.0) does not apply.
        assert_eq!(by_name("github.com/gin-gonic/gin").version, "v1.9.1");
        assert!(lock.packages.iter().all(|p| p.ecosystem == Ecosystem::Go));
    }

    /// Issue #17: the toolchain is the `stdlib` package (the newer of `go`
    /// and `toolchain`), go 1.16-style separate `require` blocks keep their
    /// `// indirect` marks, and a module replaced by a directory is local code.
    #[test]
    fn toolchain_indirect_blocks_and_local_replacements() {
        let lock = parse(include_str!("../tests/fixtures/go/issue17/go.mod")).unwrap();
        let summary: Vec<_> = lock
            .packages
            .iter()
            .map(|p| (p.name.as_str(), p.version.as_str(), p.line, p.direct))
            .collect();
        assert_eq!(
            summary,
            [
                ("golang.org/x/crypto", "v0.17.0", 8, true),
                ("example.com/internal/shared", "v1.4.0", 9, true),
                ("github.com/google/uuid", "v1.3.0", 13, false),
                ("golang.org/x/sys", "v0.15.0", 14, false),
                ("stdlib", "1.22.3", 5, true),
            ]
        );
        assert_eq!(lock.packages[1].source, Source::Path("../shared".into()));
        // Only `go` with a patch release, the older directive, or none.
        let only_go = parse(
            "module x

go 1.22.1
",
        )
        .unwrap();
        assert_eq!(only_go.packages[0].version, "1.22.1");
        let newer_go = parse(
            "module x
go 1.23.0
toolchain go1.22.3
",
        )
        .unwrap();
        assert_eq!(newer_go.packages[0].version, "1.23.0");
        assert!(
            parse(
                "module x

go 1.21
"
            )
            .unwrap()
            .packages
            .is_empty()
        );
        let rc = parse(
            "module x
go 1.21rc2
toolchain go1.21.0
",
        )
        .unwrap();
        assert_eq!(rc.packages[0].version, "1.21.0");
    }

    #[test]
    fn malformed() {
        let err = parse("module x\n\nrequire (\n\tgithub.com/a/b v1.0.0\n").unwrap_err();
        assert_eq!(err.line, 3);
        let err = parse("module x\nrequire \"github.com/a/b v1.0.0\n").unwrap_err();
        assert_eq!(err.line, 2);
        let err = parse("module x\nreplace github.com/a/b ../b\n").unwrap_err();
        assert_eq!(err.line, 2);
        assert!(parse("module x\nrequire ()\n").unwrap().packages.is_empty());
        // A require without a version is skipped.
        let lock = parse(
            "module x\nrequire (\n\tgithub.com/a/b\n\t\"github.com/c/d\" v1.0.0 // indirect\n)\n",
        )
        .unwrap();
        assert_eq!(lock.packages.len(), 1);
        assert_eq!(lock.packages[0].name, "github.com/c/d");
        assert_eq!(lock.packages[0].line, 4);
        assert!(!lock.packages[0].direct);
    }
}

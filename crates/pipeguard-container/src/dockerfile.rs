//! A Dockerfile parser that keeps lines: parser directives (`# escape=`),
//! line continuations with the escape character (comments and blank lines
//! inside them are dropped, as BuildKit does), heredocs, flags
//! (`--from=`, `--mount=`, `--platform=`), JSON (exec) and shell forms,
//! stages, and ARG substitution in `FROM`.

#[derive(Debug, Clone, PartialEq)]
pub struct Heredoc {
    pub name: String,
    pub body: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Instruction {
    /// 1-based line where the instruction starts, and where it ends.
    pub line: u32,
    pub end_line: u32,
    /// Upper-cased keyword (`RUN`, `FROM` …).
    pub keyword: String,
    /// Leading `--name[=value]` flags.
    pub flags: Vec<(String, Option<String>)>,
    /// The arguments after the flags, continuation lines joined by a space.
    pub args: String,
    /// The exec form (`["a", "b"]`), when the arguments are a JSON array.
    pub json: Option<Vec<String>>,
    pub heredocs: Vec<Heredoc>,
}

impl Instruction {
    pub fn flag(&self, name: &str) -> Option<&str> {
        self.flags
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_deref().unwrap_or(""))
    }

    /// The instruction an `ONBUILD` registers (`ONBUILD RUN apt-get …`), at
    /// the ONBUILD's lines: it runs in every image built `FROM` this one, so
    /// rules about RUN apply to it as much as to a RUN of this Dockerfile.
    pub fn onbuild_trigger(&self) -> Option<Instruction> {
        if self.keyword != "ONBUILD" {
            return None;
        }
        let (keyword, rest) = self.args.split_once(char::is_whitespace)?;
        let (flags, args) = split_flags(rest);
        let json = if args.trim_start().starts_with('[') {
            serde_json::from_str::<Vec<String>>(args.trim()).ok()
        } else {
            None
        };
        Some(Instruction {
            keyword: keyword.to_ascii_uppercase(),
            flags,
            args,
            json,
            heredocs: Vec::new(),
            ..self.clone()
        })
    }

    /// The shell text of a RUN: its arguments, or its heredoc bodies.
    pub fn script(&self) -> String {
        let mut s = match &self.json {
            Some(argv) => argv.join(" "),
            None => self.args.clone(),
        };
        for h in &self.heredocs {
            s.push('\n');
            s.push_str(&h.body);
        }
        s
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Stage {
    pub from: Instruction,
    /// The base image after ARG substitution (`python:3.12-slim`).
    pub image: String,
    pub alias: Option<String>,
    pub instructions: Vec<Instruction>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Dockerfile {
    pub escape: char,
    /// `ARG`s declared before the first `FROM`, with their defaults.
    pub global_args: Vec<(String, Option<String>)>,
    pub stages: Vec<Stage>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ParseError {
    pub line: u32,
    pub message: String,
}

impl Dockerfile {
    pub fn final_stage(&self) -> Option<&Stage> {
        self.stages.last()
    }

    /// The stages whose layers end up in the final image: the final stage and
    /// the chain of stages it is built `FROM`.
    pub fn shipped_stages(&self) -> Vec<&Stage> {
        let mut out = Vec::new();
        let mut cur = self.stages.last();
        while let Some(stage) = cur {
            if out.len() > self.stages.len() {
                break;
            }
            out.push(stage);
            cur = self.stages.iter().find(|s| {
                s.alias
                    .as_deref()
                    .is_some_and(|a| a.eq_ignore_ascii_case(&stage.image))
            });
        }
        out
    }

    /// Whether `name` refers to an earlier stage (`FROM build`, `COPY --from=build`).
    pub fn is_stage(&self, name: &str) -> bool {
        self.stages.iter().any(|s| {
            s.alias
                .as_deref()
                .is_some_and(|a| a.eq_ignore_ascii_case(name))
        }) || name.parse::<usize>().is_ok_and(|i| i < self.stages.len())
    }
}

/// `$VAR`, `${VAR}`, `${VAR:-default}`, `${VAR:+alt}` with the given values.
pub fn substitute(text: &str, vars: &[(String, Option<String>)]) -> String {
    let lookup = |name: &str| -> Option<String> {
        vars.iter()
            .rev()
            .find(|(k, _)| k == name)
            .and_then(|(_, v)| v.clone())
    };
    let mut out = String::with_capacity(text.len());
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        if chars[i] == '$' && i + 1 < chars.len() {
            if chars[i + 1] == '{' {
                if let Some(end) = chars[i + 2..].iter().position(|&c| c == '}') {
                    let inner: String = chars[i + 2..i + 2 + end].iter().collect();
                    let value = if let Some((name, default)) = inner.split_once(":-") {
                        lookup(name)
                            .filter(|v| !v.is_empty())
                            .unwrap_or_else(|| default.to_string())
                    } else if let Some((name, alt)) = inner.split_once(":+") {
                        lookup(name)
                            .filter(|v| !v.is_empty())
                            .map(|_| alt.to_string())
                            .unwrap_or_default()
                    } else {
                        lookup(&inner).unwrap_or_default()
                    };
                    out.push_str(&value);
                    i += end + 3;
                    continue;
                }
            } else if chars[i + 1].is_ascii_alphabetic() || chars[i + 1] == '_' {
                let name: String = chars[i + 1..]
                    .iter()
                    .take_while(|c| c.is_ascii_alphanumeric() || **c == '_')
                    .collect();
                out.push_str(&lookup(&name).unwrap_or_default());
                i += 1 + name.len();
                continue;
            }
        }
        out.push(chars[i]);
        i += 1;
    }
    out
}

fn split_flags(args: &str) -> (Vec<(String, Option<String>)>, String) {
    let mut flags = Vec::new();
    let mut rest = args.trim_start();
    while let Some(after) = rest.strip_prefix("--") {
        let end = after.find(char::is_whitespace).unwrap_or(after.len());
        let flag = &after[..end];
        match flag.split_once('=') {
            Some((k, v)) => flags.push((k.to_ascii_lowercase(), Some(v.to_string()))),
            None => flags.push((flag.to_ascii_lowercase(), None)),
        }
        rest = after[end..].trim_start();
    }
    (flags, rest.to_string())
}

fn heredoc_names(args: &str) -> Vec<(String, bool)> {
    let mut names = Vec::new();
    let bytes = args.as_bytes();
    let mut i = 0;
    while let Some(pos) = args[i..].find("<<") {
        let mut j = i + pos + 2;
        let strip_tabs = bytes.get(j) == Some(&b'-');
        if strip_tabs {
            j += 1;
        }
        let quoted = matches!(bytes.get(j), Some(b'"' | b'\''));
        if quoted {
            j += 1;
        }
        let name: String = args[j..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        if !name.is_empty() {
            names.push((name.clone(), strip_tabs));
        }
        i = j + name.len().max(1);
        if i >= args.len() {
            break;
        }
    }
    names
}

/// Parses a Dockerfile. Unknown instructions are kept (BuildKit rejects
/// them; rules ignore them); a file with no `FROM` is an error.
pub fn parse(text: &str) -> Result<Dockerfile, ParseError> {
    let lines: Vec<&str> = text.lines().collect();
    let mut df = Dockerfile {
        escape: '\\',
        ..Dockerfile::default()
    };
    let mut i = 0;
    // Parser directives: only at the very top, before any comment or blank.
    while i < lines.len() {
        let l = lines[i].trim();
        let Some(body) = l.strip_prefix('#') else {
            break;
        };
        let Some((k, v)) = body.split_once('=') else {
            break;
        };
        let key = k.trim().to_ascii_lowercase();
        if !key.chars().all(|c| c.is_ascii_alphabetic()) || key.is_empty() {
            break;
        }
        if key == "escape" {
            df.escape = match v.trim() {
                "`" => '`',
                "\\" => '\\',
                other => {
                    return Err(ParseError {
                        line: i as u32 + 1,
                        message: format!(
                            "invalid escape directive `{other}` (only \\ and ` are allowed)"
                        ),
                    });
                }
            };
        }
        i += 1;
    }
    let mut args_so_far: Vec<(String, Option<String>)> = Vec::new();
    while i < lines.len() {
        let raw = lines[i];
        let t = raw.trim();
        if t.is_empty() || t.starts_with('#') {
            i += 1;
            continue;
        }
        let start = i;
        let mut joined = String::new();
        loop {
            let cur = lines[i].trim_end();
            let continued = cur.ends_with(df.escape);
            let part = if continued {
                &cur[..cur.len() - df.escape.len_utf8()]
            } else {
                cur
            };
            if !joined.is_empty() {
                joined.push(' ');
            }
            joined.push_str(part.trim());
            i += 1;
            if !continued {
                break;
            }
            // Comments and blank lines inside a continuation are skipped.
            while i < lines.len()
                && (lines[i].trim().is_empty() || lines[i].trim_start().starts_with('#'))
            {
                i += 1;
            }
            if i >= lines.len() {
                break;
            }
        }
        let (keyword, rest) = match joined.split_once(char::is_whitespace) {
            Some((k, r)) => (k.to_ascii_uppercase(), r.trim().to_string()),
            None => (joined.to_ascii_uppercase(), String::new()),
        };
        let (flags, args) = split_flags(&rest);
        let mut heredocs = Vec::new();
        if matches!(keyword.as_str(), "RUN" | "COPY" | "ADD") {
            for (name, strip_tabs) in heredoc_names(&args) {
                let mut body = Vec::new();
                while i < lines.len() {
                    let l = if strip_tabs {
                        lines[i].trim_start_matches('\t')
                    } else {
                        lines[i]
                    };
                    i += 1;
                    if l.trim_end() == name {
                        break;
                    }
                    body.push(l);
                }
                heredocs.push(Heredoc {
                    name,
                    body: body.join("\n"),
                });
            }
        }
        let json = if args.trim_start().starts_with('[') {
            serde_json::from_str::<Vec<String>>(args.trim()).ok()
        } else {
            None
        };
        let ins = Instruction {
            line: start as u32 + 1,
            end_line: i as u32,
            keyword,
            flags,
            args,
            json,
            heredocs,
        };
        match ins.keyword.as_str() {
            "FROM" => {
                let words: Vec<&str> = ins.args.split_whitespace().collect();
                let raw_image = words.first().copied().unwrap_or("");
                let image = substitute(raw_image, &df.global_args);
                let alias = match words.as_slice() {
                    [_, as_kw, name, ..] if as_kw.eq_ignore_ascii_case("as") => {
                        Some(name.to_string())
                    }
                    _ => None,
                };
                args_so_far = df.global_args.clone();
                df.stages.push(Stage {
                    from: ins,
                    image,
                    alias,
                    instructions: Vec::new(),
                });
            }
            "ARG" if df.stages.is_empty() => {
                for a in ins.args.split_whitespace() {
                    let (k, v) = match a.split_once('=') {
                        Some((k, v)) => (k.to_string(), Some(v.trim_matches('"').to_string())),
                        None => (a.to_string(), None),
                    };
                    df.global_args.push((k, v));
                }
            }
            _ => match df.stages.last_mut() {
                Some(stage) => {
                    if ins.keyword == "ARG" {
                        for a in ins.args.split_whitespace() {
                            let (k, v) = a
                                .split_once('=')
                                .map_or((a, None), |(k, v)| (k, Some(v.to_string())));
                            args_so_far.push((k.to_string(), v));
                        }
                    }
                    stage.instructions.push(ins);
                }
                None => {
                    return Err(ParseError {
                        line: ins.line,
                        message: format!("`{}` before the first FROM", ins.keyword),
                    });
                }
            },
        }
    }
    if df.stages.is_empty() {
        return Err(ParseError {
            line: 1,
            message: "no FROM instruction".into(),
        });
    }
    Ok(df)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn continuations_comments_heredocs_and_stages() {
        let text = "# syntax=docker/dockerfile:1\nARG BASE=python:3.12-slim\nFROM --platform=$BUILDPLATFORM golang:1.22 AS build\nRUN apt-get update && \\\n    # a comment inside\n    apt-get install -y gcc\nRUN <<EOF\nset -e\necho hi\nEOF\nfrom ${BASE}\nCOPY --from=build /out /app\nCMD [\"/app\", \"--serve\"]\n";
        let df = parse(text).expect("parse");
        assert_eq!(df.stages.len(), 2);
        let b = &df.stages[0];
        assert_eq!(b.alias.as_deref(), Some("build"));
        assert_eq!(b.from.flag("platform"), Some("$BUILDPLATFORM"));
        assert_eq!(b.instructions[0].line, 4);
        assert_eq!(b.instructions[0].end_line, 6);
        assert_eq!(
            b.instructions[0].args,
            "apt-get update && apt-get install -y gcc"
        );
        assert_eq!(b.instructions[1].heredocs[0].body, "set -e\necho hi");
        let f = &df.stages[1];
        assert_eq!(f.image, "python:3.12-slim");
        assert_eq!(f.from.line, 11);
        assert_eq!(f.instructions[0].flag("from"), Some("build"));
        assert_eq!(
            f.instructions[1].json.as_deref(),
            Some(&["/app".to_string(), "--serve".to_string()][..])
        );
        assert!(df.is_stage("build"));
    }

    #[test]
    fn onbuild_triggers_are_instructions() {
        let df = parse("FROM debian:12\nONBUILD RUN --mount=type=cache,target=/var/cache/apt apt-get install -y gcc\nONBUILD COPY . /src\nRUN true\n").expect("parse");
        let ins = &df.stages[0].instructions;
        let run = ins[0].onbuild_trigger().expect("trigger");
        assert_eq!(run.keyword, "RUN");
        assert_eq!(run.line, 2);
        assert_eq!(run.flag("mount"), Some("type=cache,target=/var/cache/apt"));
        assert_eq!(run.args, "apt-get install -y gcc");
        assert_eq!(
            ins[1].onbuild_trigger().map(|i| i.keyword),
            Some("COPY".into())
        );
        assert_eq!(ins[2].onbuild_trigger(), None);
    }

    #[test]
    fn escape_directive_and_errors() {
        let df = parse("# escape=`\nFROM mcr.microsoft.com/windows/servercore:ltsc2022\nRUN powershell -Command `\n    Write-Host hi\n").expect("parse");
        assert_eq!(df.escape, '`');
        assert_eq!(
            df.stages[0].instructions[0].args,
            "powershell -Command Write-Host hi"
        );
        assert_eq!(parse("RUN echo\n").expect_err("no from").line, 1);
        assert_eq!(
            parse("# nothing\n").expect_err("no from").message,
            "no FROM instruction"
        );
    }
}

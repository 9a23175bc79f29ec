//! requirements*.txt, as read by pip.
//!
//! Only pinned requirements (`name==1.0`, `name===1.0`) and requirements that
//! name an exact artifact (VCS, URL or local file) are locked packages; ranges
//! and bare names are reported by [`unpinned`] instead, and versions from
//! environment variables (`==${VERSION}`) by [`unresolved`]. Includes (`-r`, `-c`)
//! name other files, which the caller follows through [`includes`]. Every
//! requirement is direct: the file is what the user asked for, and it records
//! no graph.

use crate::Ecosystem;
use crate::{Kind, Lockfile, Package, ParseError, Source};

pub fn parse(text: &str) -> Result<Lockfile, ParseError> {
    let mut packages = Vec::new();
    for entry in entries(text) {
        if let Entry::Locked(package) = entry? {
            packages.push(package);
        }
    }
    Ok(Lockfile {
        kind: Kind::Requirements,
        packages,
        has_graph: false,
    })
}

/// `-r`/`--requirement` and `-c`/`--constraint` includes, as (line, path) with
/// the path as written (relative to the including file).
pub fn includes(text: &str) -> Vec<(u32, String)> {
    entries(text)
        .into_iter()
        .filter_map(|e| match e {
            Ok(Entry::Include(line, path)) => Some((line, path)),
            _ => None,
        })
        .collect()
}

/// Requirements that do not pin one version (`name>=1.0`, `name`, `name==1.*`),
/// as (line, name), for an audit of unpinned dependencies.
pub fn unpinned(text: &str) -> Vec<(u32, String)> {
    entries(text)
        .into_iter()
        .filter_map(|e| match e {
            Ok(Entry::Unpinned(line, name)) => Some((line, name)),
            _ => None,
        })
        .collect()
}

/// Requirements pinned to an environment variable (`name==${VERSION}`, which
/// pip expands at install time), as (line, name, version as written): the
/// version is not in the file, so they are neither locked nor unpinned, and
/// the caller reports them as not checked.
pub fn unresolved(text: &str) -> Vec<(u32, String, String)> {
    entries(text)
        .into_iter()
        .filter_map(|e| match e {
            Ok(Entry::Unresolved(line, name, version)) => Some((line, name, version)),
            _ => None,
        })
        .collect()
}

enum Entry {
    Locked(Package),
    Unpinned(u32, String),
    Include(u32, String),
    Unresolved(u32, String, String),
}

/// One pass over the file shared by the three public functions, so that they
/// agree on what each line is. Index options apply to the requirements that
/// follow them.
fn entries(text: &str) -> Vec<Result<Entry, ParseError>> {
    let mut out = Vec::new();
    // A non-PyPI index in effect: packages below it come from there.
    let mut index: Option<String> = None;
    for (line, logical) in logical_lines(text) {
        let tokens: Vec<&str> = logical.split_whitespace().collect();
        let Some(first) = tokens.first() else {
            continue;
        };
        if first.starts_with('-') {
            if let Some((opt, value)) = option(&tokens) {
                match opt {
                    "-r" | "--requirement" | "-c" | "--constraint" => match value {
                        Some(path) => out.push(Ok(Entry::Include(line, path.to_string()))),
                        None => out.push(Err(missing_argument(line, opt))),
                    },
                    "-i" | "--index-url" => match value {
                        Some(url) => index = non_pypi(url),
                        None => out.push(Err(missing_argument(line, opt))),
                    },
                    "--extra-index-url" => match value {
                        // An extra PyPI index changes nothing; another one is
                        // where packages may now come from.
                        Some(url) => index = non_pypi(url).or(index),
                        None => out.push(Err(missing_argument(line, opt))),
                    },
                    "-e" | "--editable" => match value {
                        Some(target) => out.extend(editable(line, target)),
                        None => out.push(Err(missing_argument(line, opt))),
                    },
                    // Every other option (--no-index, -f, --pre, --trusted-host,
                    // --require-hashes, …) does not name a package.
                    _ => {}
                }
            }
            continue;
        }
        out.extend(requirement(line, &tokens, index.as_deref()).transpose());
    }
    out
}

/// Joins `\` continuations and strips comments, giving each logical line with
/// the 1-based line where it starts. Follows pip's `join_lines`: a comment line
/// never continues, even if it ends with `\`.
fn logical_lines(text: &str) -> Vec<(u32, String)> {
    let mut out = Vec::new();
    let mut pending: Option<(u32, String)> = None;
    for (i, raw) in text.lines().enumerate() {
        let number = u32::try_from(i + 1).unwrap_or(u32::MAX);
        let is_comment = raw.trim_start().starts_with('#');
        if let Some(body) = raw.strip_suffix('\\').filter(|_| !is_comment) {
            match &mut pending {
                Some((_, acc)) => acc.push_str(body),
                None => pending = Some((number, body.to_string())),
            }
            continue;
        }
        let (start, mut joined) = match pending.take() {
            Some((start, mut acc)) => {
                // A comment line ends a continuation without adding text.
                if !is_comment {
                    acc.push_str(raw);
                }
                (start, acc)
            }
            None => (number, raw.to_string()),
        };
        strip_comment(&mut joined);
        out.push((start, joined));
    }
    if let Some((start, mut acc)) = pending {
        strip_comment(&mut acc);
        out.push((start, acc));
    }
    out
}

/// Removes a `#` comment: one at the start of the line or after whitespace, so
/// that `#egg=` and `#sha256=` fragments in URLs stay.
fn strip_comment(line: &mut String) {
    let mut prev_space = true;
    for (i, c) in line.char_indices() {
        if c == '#' && prev_space {
            line.truncate(i);
            return;
        }
        prev_space = c.is_whitespace();
    }
}

/// Splits an option line into the option and its value, in any of the forms pip
/// accepts: `-r file`, `-rfile`, `--requirement file`, `--requirement=file`.
fn option<'a>(tokens: &[&'a str]) -> Option<(&'a str, Option<&'a str>)> {
    let first = *tokens.first()?;
    let next = tokens.get(1).copied();
    if first.starts_with("--") {
        Some(match first.split_once('=') {
            Some((opt, value)) => (opt, Some(value)),
            None => (first, next),
        })
    } else {
        let split = first.char_indices().nth(2).map_or(first.len(), |(i, _)| i);
        let (opt, rest) = first.split_at(split);
        Some((opt, if rest.is_empty() { next } else { Some(rest) }))
    }
}

fn missing_argument(line: u32, opt: &str) -> ParseError {
    ParseError {
        line,
        message: format!("option {opt} needs an argument"),
    }
}

/// `-e <vcs url | path>`: a VCS checkout is a package from that repository; a
/// local path (usually `.`, the project itself) is only recorded when it names
/// the package with `#egg=`.
fn editable(line: u32, target: &str) -> Option<Result<Entry, ParseError>> {
    let name = egg_name(target)?;
    let source = artifact_source(target);
    Some(Ok(Entry::Locked(package(
        line,
        name,
        String::new(),
        source,
        None,
    ))))
}

/// A requirement line: `name[extras] <spec> ; markers --hash=…`, `name @ url`,
/// or a bare URL or path to an archive.
fn requirement(
    line: u32,
    tokens: &[&str],
    index: Option<&str>,
) -> Result<Option<Entry>, ParseError> {
    // Options start at the first token that starts with `-`, as in pip.
    let split = tokens
        .iter()
        .position(|t| t.starts_with('-'))
        .unwrap_or(tokens.len());
    let (req_tokens, options) = tokens.split_at(split);
    let req = req_tokens.join(" ");
    let integrity = hashes(options);

    // Direct references: `name @ url`, with markers after ` ;`.
    if let Some((name_part, url_part)) = req.split_once(" @ ").or_else(|| {
        req.split_once('@')
            .filter(|(n, _)| !n.contains([':', '/', '+']))
    }) {
        let (name, rest) = name_and_rest(name_part.trim(), line)?;
        if !rest.is_empty() {
            return Err(ParseError {
                line,
                message: format!("a version and a URL in `{req}`"),
            });
        }
        let url = url_part
            .split(" ;")
            .next()
            .unwrap_or(url_part)
            .trim()
            .trim_end_matches(';');
        if url.is_empty() {
            return Err(ParseError {
                line,
                message: format!("missing URL after `{name} @`"),
            });
        }
        let version = archive_version(url, &name).unwrap_or_default();
        let source = artifact_source(url);
        return Ok(Some(Entry::Locked(package(
            line, name, version, source, integrity,
        ))));
    }

    // A bare URL or local archive, named by `#egg=` or by its file name.
    if looks_like_artifact(&req) {
        let target = req_tokens.first().copied().unwrap_or_default();
        let Some(name) = egg_name(target).or_else(|| archive_name(target)) else {
            // Nothing to name the package by (`./some/dir`): not auditable.
            return Ok(None);
        };
        let version = archive_version(target, &name).unwrap_or_default();
        let source = artifact_source(target);
        return Ok(Some(Entry::Locked(package(
            line, name, version, source, integrity,
        ))));
    }

    let requirement = req.split(';').next().unwrap_or_default();
    let (name, spec) = name_and_rest(requirement.trim(), line)?;
    match pinned_version(spec, line)? {
        // pip expands `${VAR}` from the environment; the file does not say
        // which version that is.
        Some(version) if version.contains("${") => Ok(Some(Entry::Unresolved(line, name, version))),
        Some(version) => {
            let source = index.map_or(Source::Registry, |url| {
                Source::OtherRegistry(url.to_string())
            });
            Ok(Some(Entry::Locked(package(
                line, name, version, source, integrity,
            ))))
        }
        None => Ok(Some(Entry::Unpinned(line, name))),
    }
}

fn package(
    line: u32,
    name: String,
    version: String,
    source: Source,
    integrity: Option<String>,
) -> Package {
    Package {
        ecosystem: Ecosystem::PyPI,
        name,
        version,
        line,
        source,
        integrity,
        direct: true,
        dev: false,
        dependencies: Vec::new(),
    }
}

/// `--hash=sha256:…` / `--hash sha256:…`, several joined by spaces.
fn hashes(options: &[&str]) -> Option<String> {
    let mut found = Vec::new();
    let mut iter = options.iter();
    while let Some(opt) = iter.next() {
        if let Some(value) = opt.strip_prefix("--hash=") {
            found.push(value);
        } else if *opt == "--hash"
            && let Some(value) = iter.next()
        {
            found.push(value);
        }
    }
    (!found.is_empty()).then(|| found.join(" "))
}

/// Splits `name[extras] rest` into the name and the rest, checking the name
/// is a valid distribution name and the extras bracket is closed.
fn name_and_rest(req: &str, line: u32) -> Result<(String, &str), ParseError> {
    let end = req
        .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')))
        .unwrap_or(req.len());
    let (name, mut rest) = req.split_at(end);
    let valid = name.starts_with(|c: char| c.is_ascii_alphanumeric())
        && name.ends_with(|c: char| c.is_ascii_alphanumeric());
    if !valid {
        return Err(ParseError {
            line,
            message: format!("invalid requirement `{req}`"),
        });
    }
    rest = rest.trim_start();
    if let Some(extras) = rest.strip_prefix('[') {
        match extras.find(']') {
            Some(close) => rest = extras.get(close + 1..).unwrap_or_default(),
            None => {
                return Err(ParseError {
                    line,
                    message: format!("unclosed extras in `{req}`"),
                });
            }
        }
    }
    Ok((name.to_string(), rest.trim()))
}

/// The version of a specifier that pins exactly one (`==1.0`, `===1.0`,
/// `(==1.0)`), or `None` for anything else; a wildcard `==1.*` pins nothing.
fn pinned_version(spec: &str, line: u32) -> Result<Option<String>, ParseError> {
    let spec = spec
        .strip_prefix('(')
        .and_then(|s| s.strip_suffix(')'))
        .unwrap_or(spec)
        .trim();
    if spec.contains(',') {
        return Ok(None);
    }
    let version = if let Some(v) = spec.strip_prefix("===") {
        v
    } else if let Some(v) = spec.strip_prefix("==") {
        if v.trim_end().ends_with(".*") {
            return Ok(None);
        }
        v
    } else {
        return Ok(None);
    };
    let version = version.trim();
    if version.is_empty() {
        return Err(ParseError {
            line,
            message: "missing version after `==`".to_string(),
        });
    }
    Ok(Some(version.to_string()))
}

/// `https://pypi.org/simple` and its aliases are the default registry.
fn non_pypi(url: &str) -> Option<String> {
    (!crate::poetry_lock::is_pypi(url)).then(|| url.to_string())
}

fn looks_like_artifact(req: &str) -> bool {
    req.contains("://")
        || req.starts_with(['.', '/', '~'])
        || [".whl", ".tar.gz", ".zip", ".tar.bz2", ".tgz"]
            .iter()
            .any(|ext| {
                req.split(['#', ';', ' '])
                    .next()
                    .unwrap_or_default()
                    .ends_with(ext)
            })
}

/// The source of a VCS URL, archive URL or path. For git, the URL loses its
/// `git+` prefix, `@rev` and fragment, and the revision is kept apart, as pip
/// reads it (the `@` after the host's path, so `ssh://git@host` is not one).
fn artifact_source(target: &str) -> Source {
    if let Some(rest) = target.strip_prefix("git+") {
        let without_fragment = rest.split('#').next().unwrap_or(rest);
        // The path starts at the first `/` after `scheme://host`.
        let path_start = without_fragment
            .find("://")
            .and_then(|i| without_fragment.get(i + 3..)?.find('/').map(|j| i + 3 + j))
            .unwrap_or(0);
        let (host, path) = without_fragment.split_at(path_start);
        let (path, rev) = match path.rsplit_once('@') {
            Some((path, rev)) if !rev.is_empty() => (path, Some(rev.to_string())),
            _ => (path, None),
        };
        return Source::Git {
            url: format!("{host}{path}"),
            rev,
        };
    }
    if target.contains("://") && !target.starts_with("file:") {
        Source::Url(target.to_string())
    } else {
        Source::Path(target.strip_prefix("file://").unwrap_or(target).to_string())
    }
}

/// The `egg=` name in a URL fragment (`#egg=name&subdirectory=x`).
fn egg_name(target: &str) -> Option<String> {
    let (_, fragment) = target.split_once('#')?;
    fragment
        .split('&')
        .find_map(|kv| kv.strip_prefix("egg="))
        .map(|egg| egg.split('[').next().unwrap_or(egg).to_string())
        .filter(|egg| !egg.is_empty())
}

/// The file name at the end of a URL or path, without query or fragment.
fn file_name(target: &str) -> &str {
    let path = target.split(['#', '?']).next().unwrap_or(target);
    path.rsplit('/').next().unwrap_or(path)
}

const SDIST_EXTS: [&str; 5] = [".tar.gz", ".zip", ".tar.bz2", ".tgz", ".tar.xz"];

/// The distribution name of a wheel (`name-1.0-py3-none-any.whl`) or sdist
/// (`name-1.0.tar.gz`, split before the first `-<digit>`).
fn archive_name(target: &str) -> Option<String> {
    let file = file_name(target);
    if let Some(stem) = file.strip_suffix(".whl") {
        return stem.split('-').next().map(str::to_string);
    }
    let stem = SDIST_EXTS.iter().find_map(|ext| file.strip_suffix(ext))?;
    let (name, _) = stem.char_indices().find_map(|(i, c)| {
        let rest = stem.get(i + 1..)?;
        (c == '-' && rest.starts_with(|d: char| d.is_ascii_digit())).then(|| stem.split_at(i))
    })?;
    Some(name.to_string())
}

/// The version in a wheel or sdist file name, given the distribution name.
fn archive_version(target: &str, name: &str) -> Option<String> {
    let file = file_name(target);
    if let Some(stem) = file.strip_suffix(".whl") {
        return stem.split('-').nth(1).map(str::to_string);
    }
    let stem = SDIST_EXTS.iter().find_map(|ext| file.strip_suffix(ext))?;
    let wanted = Ecosystem::PyPI.normalize_name(name);
    // Sdist names may contain `-`: find the split whose prefix is the name.
    stem.char_indices()
        .filter(|&(_, c)| c == '-')
        .find_map(|(i, _)| {
            let (prefix, rest) = (stem.get(..i)?, stem.get(i + 1..)?);
            (Ecosystem::PyPI.normalize_name(prefix) == wanted && !rest.is_empty())
                .then(|| rest.to_string())
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_util::find;

    #[test]
    fn pip_compile_with_hashes() {
        let text = include_str!("../tests/fixtures/requirements/requirements.txt");
        let lock = parse(text).unwrap();
        assert_eq!(lock.kind, Kind::Requirements);
        assert!(!lock.has_graph);
        let names: Vec<_> = lock
            .packages
            .iter()
            .map(|p| (p.name.as_str(), p.version.as_str(), p.line))
            .collect();
        assert_eq!(
            names,
            [
                ("certifi", "2024.2.2", 7),
                ("charset-normalizer", "3.3.2", 11),
                ("idna", "3.6", 14),
                ("requests", "2.31.0", 17),
                ("urllib3", "2.2.1", 20),
            ]
        );
        let certifi = find(&lock, "certifi");
        assert_eq!(
            certifi.integrity.as_deref(),
            Some(
                "sha256:0569859f95fc761b18b45ef421b1290a0f65f147e92a1e5eb3e635f9a5e4e66f \
                 sha256:dc383c07b76109f368f6106eee2b593b04a011ea4d55f652c6ca24a754d1cdd1"
            )
        );
        assert!(
            lock.packages
                .iter()
                .all(|p| p.direct && !p.dev && p.source == Source::Registry)
        );
        assert!(
            lock.packages
                .iter()
                .all(|p| p.integrity.is_some() && p.dependencies.is_empty())
        );
        assert!(includes(text).is_empty());
        assert!(unpinned(text).is_empty());
    }

    #[test]
    fn every_requirement_form() {
        let text = include_str!("../tests/fixtures/requirements/requirements-edge.txt");
        let lock = parse(text).unwrap();
        let django = find(&lock, "Django");
        assert_eq!((django.version.as_str(), django.line), ("4.2.11", 6));
        let marker = find(&lock, "importlib-metadata");
        assert_eq!((marker.version.as_str(), marker.line), ("6.8.0", 7));

        let click = find(&lock, "click");
        assert_eq!(click.line, 12);
        assert_eq!(
            click.source,
            Source::Git {
                url: "https://github.com/pallets/click.git".into(),
                rev: Some("8.1.7".into())
            }
        );
        assert_eq!(click.version, "");
        let private = find(&lock, "private_lib");
        assert_eq!(
            private.source,
            Source::Git {
                url: "ssh://git@github.com/example/private-lib.git".into(),
                rev: Some("a1b2c3d4e5f60718293a4b5c6d7e8f9012345678".into())
            }
        );
        let attrs = find(&lock, "attrs");
        assert_eq!((attrs.version.as_str(), attrs.line), ("23.2.0", 14));
        assert!(
            matches!(&attrs.source, Source::Url(u) if u.ends_with("attrs-23.2.0-py3-none-any.whl"))
        );
        let pyyaml = find(&lock, "pyyaml");
        assert_eq!(
            pyyaml.source,
            Source::Git {
                url: "https://github.com/yaml/pyyaml.git".into(),
                rev: Some("6.0.1".into())
            }
        );

        let internal_index =
            Source::OtherRegistry("https://pypi.internal.example.com/simple/".into());
        let internal = find(&lock, "internal-tool");
        assert_eq!((internal.version.as_str(), internal.line), ("0.4.2", 18));
        assert_eq!(internal.source, internal_index);
        assert_eq!(
            internal.integrity.as_deref(),
            Some("sha256:1111111111111111111111111111111111111111111111111111111111111111")
        );
        // An extra PyPI index does not take the packages back from the private one.
        let jinja = find(&lock, "Jinja2");
        assert_eq!(
            (jinja.version.as_str(), jinja.line, &jinja.source),
            ("3.1.3", 21, &internal_index)
        );
        assert_eq!(django.source, Source::Registry);

        // `-e .` names nothing; unpinned requirements are not packages.
        assert_eq!(lock.packages.len(), 8);
        assert!(lock.packages.iter().all(|p| p.direct && !p.dev));
        assert_eq!(
            includes(text),
            [
                (2, "requirements-base.txt".to_string()),
                (3, "constraints.txt".to_string()),
                (4, "requirements-extra.txt".to_string()),
            ]
        );
        assert_eq!(
            unpinned(text),
            [
                (8, "Flask".to_string()),
                (9, "six".to_string()),
                (10, "typing_extensions".to_string()),
                (11, "numpy".to_string()),
            ]
        );
    }

    /// Issue #17: a pin followed by its own options (pip-compile's
    /// `--hash`, on the line or continued) is a locked package; bare names
    /// and ranges are unpinned; `${VAR}` versions are neither.
    #[test]
    fn per_requirement_options_unpinned_and_environment_versions() {
        let text = include_str!("../tests/fixtures/requirements/requirements-issue17.txt");
        let lock = parse(text).unwrap();
        let got: Vec<_> = lock
            .packages
            .iter()
            .map(|p| {
                (
                    p.name.as_str(),
                    p.version.as_str(),
                    p.line,
                    p.integrity.is_some(),
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                ("certifi", "2024.2.2", 3, true),
                ("idna", "3.6", 7, true),
                ("requests", "2.31.0", 8, false),
            ]
        );
        assert_eq!(
            unpinned(text),
            [
                (10, "flask".to_string()),
                (11, "gunicorn".to_string()),
                (12, "boto3".to_string()),
            ]
        );
        assert_eq!(
            unresolved(text),
            [
                (13, "mylib".to_string(), "${MYLIB_VERSION}".to_string()),
                (14, "other".to_string(), "${OTHER}".to_string()),
            ]
        );
    }

    #[test]
    fn malformed_lines_are_errors_with_their_line() {
        let text = include_str!("../tests/fixtures/requirements/requirements-malformed.txt");
        let err = parse(text).unwrap_err();
        assert_eq!(err.line, 2);
        assert_eq!(parse("ok==1.0\n-r\n").unwrap_err().line, 2);
        assert_eq!(parse("bad==\n").unwrap_err().line, 1);
        assert_eq!(parse("==1.0\n").unwrap_err().line, 1);
        assert_eq!(
            parse("a\nfoo==1.0 @ https://x/foo.whl\n").unwrap_err().line,
            2
        );
        // The good lines are still visible to the other entry points.
        assert_eq!(
            unpinned("flask[async==2.0\nsix\n"),
            [(2, "six".to_string())]
        );
    }

    #[test]
    fn continuations_comments_and_option_forms() {
        let text = "# top \\\nfoo==1.0 \\\n  # comment ends it\nbar\\\n==2.0\n--requirement=a.txt\n-c b.txt # why\nsdist @ https://example.com/my-pkg-1.2.0.tar.gz\n./wheels/local_pkg-0.3-py3-none-any.whl\n";
        let lock = parse(text).unwrap();
        let got: Vec<_> = lock
            .packages
            .iter()
            .map(|p| (p.name.as_str(), p.version.as_str(), p.line))
            .collect();
        assert_eq!(
            got,
            [
                ("foo", "1.0", 2),
                ("bar", "2.0", 4),
                ("sdist", "", 8),
                ("local_pkg", "0.3", 9)
            ]
        );
        assert!(matches!(&lock.packages[3].source, Source::Path(p) if p.starts_with("./wheels/")));
        assert_eq!(
            includes(text),
            [(6, "a.txt".to_string()), (7, "b.txt".to_string())]
        );
        let named = parse("my-pkg @ https://example.com/my-pkg-1.2.0.tar.gz\n").unwrap();
        assert_eq!(named.packages[0].version, "1.2.0");
        // A local directory names no package: neither locked nor unpinned.
        assert!(parse("./src/tool\n").unwrap().packages.is_empty());
        assert!(unpinned("./src/tool\n").is_empty());
        // `-e` with a VCS URL but no `#egg=` cannot be named either.
        assert!(
            parse("-e git+https://example.com/r.git\n")
                .unwrap()
                .packages
                .is_empty()
        );
        let egg = parse("--editable=git+https://example.com/r.git#egg=r\n").unwrap();
        assert_eq!(egg.packages[0].name, "r");
    }
}

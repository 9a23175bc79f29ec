//! Is the vulnerable code imported at all? A textual approximation of what
//! govulncheck and OSV-Scanner do with call graphs: the import paths of a Go
//! module's own `.go` files against the packages (and symbols) a Go record
//! lists in `ecosystem_specific.imports`, and the top-level modules a Python
//! project imports against the modules a distribution installs.
//!
//! Only the project's own source is read, never its dependencies', so a
//! package that another dependency imports looks unused. That is why only
//! direct dependencies are ever judged unreachable, why an unreachable
//! finding is kept (with a lower confidence) rather than dropped, and why it
//! still fails the scan unless the policy says `[deps] fail-on-unreachable =
//! false`. Whenever the answer is unclear (no source files, a record without
//! import paths, a blank or dot import) the code counts as reachable.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use crate::discover::walk;
use crate::osv::GoImport;

/// Source files larger than this are generated code or data; skipped.
const MAX_SOURCE: u64 = 2 * 1024 * 1024;

/// A Go source file's imports (path → the local names it is used by) and its
/// text, for the symbol check.
#[derive(Debug, Default)]
struct GoFile {
    imports: HashMap<String, Vec<String>>,
    text: String,
}

/// What a Go module's own code imports.
#[derive(Debug, Default)]
pub struct GoUsage {
    files: Vec<GoFile>,
}

impl GoUsage {
    /// Reads the non-test `.go` files of the module rooted at `dir`, leaving
    /// out nested modules (directories with their own go.mod), `vendor` and
    /// `testdata`. `None` when there are none: nothing can be said.
    pub fn read(dir: &Path) -> Option<GoUsage> {
        let mut files = Vec::new();
        for entry in walk(dir).flatten() {
            let path = entry.path();
            let is_file = entry.file_type().is_some_and(|t| t.is_file());
            let name = entry.file_name().to_string_lossy();
            if !is_file || !name.ends_with(".go") || name.ends_with("_test.go") {
                continue;
            }
            let nested = path
                .ancestors()
                .skip(1)
                .take_while(|a| *a != dir && a.starts_with(dir))
                .any(|a| a.join("go.mod").exists() || a.ends_with("testdata"));
            if nested || entry.metadata().map_or(true, |m| m.len() > MAX_SOURCE) {
                continue;
            }
            if let Ok(text) = std::fs::read_to_string(path) {
                files.push(GoFile {
                    imports: go_imports(&text),
                    text,
                });
            }
        }
        (!files.is_empty()).then_some(GoUsage { files })
    }

    /// Parses sources given as text (tests).
    pub fn from_sources<'a>(sources: impl IntoIterator<Item = &'a str>) -> GoUsage {
        GoUsage {
            files: sources
                .into_iter()
                .map(|t| GoFile {
                    imports: go_imports(t),
                    text: t.to_string(),
                })
                .collect(),
        }
    }

    /// Whether the module's code may reach one of `imports` (an advisory's
    /// affected packages). An empty list means the record does not say.
    pub fn reaches(&self, imports: &[GoImport]) -> bool {
        imports.is_empty() || imports.iter().any(|i| self.reaches_one(i))
    }

    fn reaches_one(&self, imp: &GoImport) -> bool {
        let sub = format!("{}/", imp.path);
        self.files.iter().any(|f| {
            f.imports.iter().any(|(path, names)| {
                // A subpackage usually imports its parent (ssh/agent imports
                // ssh), so importing one counts as importing the other.
                if *path != imp.path && !path.starts_with(&sub) {
                    return false;
                }
                imp.symbols.is_empty()
                    || *path != imp.path
                    || imp.symbols.iter().any(|s| uses_symbol(&f.text, names, s))
            })
        })
    }
}

/// Whether `text` may use `symbol` of a package imported under `names`.
/// Exported functions must appear as `name.Symbol`. Methods (`Type.Method`)
/// can be called on values obtained anywhere, even through interfaces, and
/// unexported functions (`parseGSSAPIPayload`) from any exported one, so for
/// those any import of the package counts.
fn uses_symbol(text: &str, names: &[String], symbol: &str) -> bool {
    if symbol.contains('.') || !symbol.starts_with(|c: char| c.is_uppercase()) {
        return true;
    }
    names.iter().any(|n| {
        // `_` runs the package's init (drivers register themselves); `.`
        // puts its names in scope unqualified: both count as used.
        n == "_" || n == "." || contains_word(text, &format!("{n}.{symbol}"))
    })
}

/// `needle` in `text` with no identifier character right before or after.
fn contains_word(text: &str, needle: &str) -> bool {
    let ident = |c: char| c.is_alphanumeric() || c == '_';
    text.match_indices(needle).any(|(i, _)| {
        let before = text.get(..i).and_then(|s| s.chars().next_back());
        let after = text.get(i + needle.len()..).and_then(|s| s.chars().next());
        !before.is_some_and(ident) && !after.is_some_and(ident)
    })
}

/// The import declarations of a Go file: path → local names. The name a
/// package is used by is its package clause, which only its source knows;
/// the path's last element (without a `.vN` or `go-` decoration, or the one
/// before a `/vN` major-version suffix) is what it is almost always.
fn go_imports(text: &str) -> HashMap<String, Vec<String>> {
    let mut out: HashMap<String, Vec<String>> = HashMap::new();
    let mut in_block = false;
    let mut in_comment = false;
    for raw in text.lines() {
        let mut line = raw.trim();
        if in_comment {
            match line.find("*/") {
                Some(i) => {
                    in_comment = false;
                    line = line.get(i + 2..).unwrap_or("").trim();
                }
                None => continue,
            }
        }
        if let Some(i) = line.find("//") {
            line = line.get(..i).unwrap_or("").trim();
        }
        if line.starts_with("/*") && !line.contains("*/") {
            in_comment = true;
            continue;
        }
        if in_block {
            if line.starts_with(')') {
                in_block = false;
            } else {
                add_spec(&mut out, line);
            }
            continue;
        }
        if let Some(rest) = line.strip_prefix("import") {
            let rest = rest.trim();
            if rest.starts_with('(') {
                let inner = rest.trim_start_matches('(').trim();
                // `import ( "a"; "b" )` on one line, or the block's first spec.
                match inner.strip_suffix(')') {
                    Some(one_line) => one_line
                        .split(';')
                        .for_each(|s| add_spec(&mut out, s.trim())),
                    None => {
                        in_block = true;
                        add_spec(&mut out, inner);
                    }
                }
            } else {
                add_spec(&mut out, rest);
            }
        } else if ["func ", "type ", "var ", "const "]
            .iter()
            .any(|k| line.starts_with(k))
        {
            // Imports come before every other declaration.
            break;
        }
    }
    out
}

/// One import spec: `"path"`, `name "path"`, `_ "path"`, `. "path"`.
fn add_spec(out: &mut HashMap<String, Vec<String>>, spec: &str) {
    let spec = spec.trim().trim_end_matches(';').trim();
    let Some(q) = spec.find(['"', '`']) else {
        return;
    };
    let alias = spec.get(..q).unwrap_or("").trim();
    let path = spec
        .get(q + 1..)
        .and_then(|r| r.split(['"', '`']).next())
        .unwrap_or("");
    if path.is_empty() {
        return;
    }
    let names = if alias.is_empty() {
        default_names(path)
    } else {
        vec![alias.to_string()]
    };
    out.entry(path.to_string()).or_default().extend(names);
}

fn default_names(path: &str) -> Vec<String> {
    let mut parts = path.rsplit('/');
    let last = parts.next().unwrap_or(path);
    let is_major = |s: &str| {
        s.strip_prefix('v')
            .is_some_and(|n| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()))
    };
    let base = if is_major(last) {
        parts.next().unwrap_or(last)
    } else {
        last
    };
    let mut names = vec![base.to_string()];
    // gopkg.in/yaml.v3 → yaml; github.com/x/go-redis → redis.
    let trimmed = base.split(".v").next().unwrap_or(base);
    let trimmed = trimmed.strip_prefix("go-").unwrap_or(trimmed);
    let trimmed = trimmed.replace(['-', '.'], "_");
    if trimmed != base {
        names.push(trimmed);
    }
    names
}

/// The dotted module paths a Python project's own `.py` files import
/// (`import a.b` → `a.b`; `from a.b import c` → `a.b` and `a.b.c`).
#[derive(Debug, Default)]
pub struct PyUsage {
    modules: HashSet<String>,
}

impl PyUsage {
    /// Reads the `.py` files under `dir` (not `.venv`, `venv`,
    /// `site-packages` or `node_modules`). `None` when there are none.
    pub fn read(dir: &Path) -> Option<PyUsage> {
        let mut usage = PyUsage::default();
        let mut any = false;
        for entry in walk(dir).flatten() {
            let path = entry.path();
            if !entry.file_type().is_some_and(|t| t.is_file())
                || path.extension().is_none_or(|e| e != "py")
                || path.components().any(|c| c.as_os_str() == "site-packages")
                || entry.metadata().map_or(true, |m| m.len() > MAX_SOURCE)
            {
                continue;
            }
            if let Ok(text) = std::fs::read_to_string(path) {
                any = true;
                usage.add_source(&text);
            }
        }
        any.then_some(usage)
    }

    /// Parses sources given as text (tests).
    pub fn from_sources<'a>(sources: impl IntoIterator<Item = &'a str>) -> PyUsage {
        let mut usage = PyUsage::default();
        for s in sources {
            usage.add_source(s);
        }
        usage
    }

    fn add_source(&mut self, text: &str) {
        for line in text.lines() {
            let line = line.trim();
            let line = line.split('#').next().unwrap_or("").trim();
            if let Some(rest) = line.strip_prefix("import ") {
                for item in rest.split(',') {
                    let module = item.split_whitespace().next().unwrap_or("");
                    self.add(module);
                }
            } else if let Some(rest) = line.strip_prefix("from ") {
                let mut words = rest.split_whitespace();
                let module = words.next().unwrap_or("");
                // `from . import x` is the project's own code.
                if module.starts_with('.') || words.next() != Some("import") {
                    continue;
                }
                self.add(module);
                let names = words.collect::<Vec<_>>().join(" ");
                for name in names.trim_matches(['(', ')', '\\']).split(',') {
                    let name = name.split_whitespace().next().unwrap_or("");
                    if !name.is_empty() && name != "*" {
                        self.add(&format!("{module}.{name}"));
                    }
                }
            }
        }
    }

    fn add(&mut self, module: &str) {
        let ok = !module.is_empty()
            && module
                .chars()
                .all(|c| c.is_alphanumeric() || c == '_' || c == '.');
        if ok {
            self.modules.insert(module.to_string());
        }
    }

    /// Whether the project imports a module of the distribution `package`.
    pub fn imports_package(&self, package: &str) -> bool {
        let candidates = python_modules(package);
        self.modules.iter().any(|m| {
            candidates.iter().any(|c| {
                m == c
                    || m.strip_prefix(c.as_str())
                        .is_some_and(|r| r.starts_with('.'))
            })
        })
    }
}

/// Distributions whose import name is not their normalized name. Anything
/// not listed is guessed from the name; a wrong guess only makes a finding
/// look unreachable, which the lower confidence and the policy switch cover.
const PY_MODULES: &[(&str, &[&str])] = &[
    ("pillow", &["PIL"]),
    ("pyyaml", &["yaml"]),
    ("beautifulsoup4", &["bs4"]),
    ("scikit_learn", &["sklearn"]),
    ("scikit_image", &["skimage"]),
    ("python_dateutil", &["dateutil"]),
    ("protobuf", &["google.protobuf"]),
    ("opencv_python", &["cv2"]),
    ("opencv_python_headless", &["cv2"]),
    ("opencv_contrib_python", &["cv2"]),
    ("pyjwt", &["jwt"]),
    ("python_jose", &["jose"]),
    ("pycryptodome", &["Crypto"]),
    ("pycryptodomex", &["Cryptodome"]),
    ("pycrypto", &["Crypto"]),
    ("pyopenssl", &["OpenSSL"]),
    ("python_multipart", &["multipart", "python_multipart"]),
    ("msgpack_python", &["msgpack"]),
    ("djangorestframework", &["rest_framework"]),
    ("mysqlclient", &["MySQLdb"]),
    ("mysql_connector_python", &["mysql.connector"]),
    ("psycopg2_binary", &["psycopg2"]),
    ("pymupdf", &["fitz", "pymupdf"]),
    ("attrs", &["attr", "attrs"]),
    ("setuptools", &["setuptools", "pkg_resources"]),
    ("gitpython", &["git"]),
    ("pyserial", &["serial"]),
    ("python_ldap", &["ldap"]),
    ("ldap3", &["ldap3"]),
    ("pywin32", &["win32api", "win32con", "pywintypes"]),
    ("google_api_python_client", &["googleapiclient"]),
    ("dnspython", &["dns"]),
    ("pysaml2", &["saml2"]),
    ("python_magic", &["magic"]),
    ("websocket_client", &["websocket"]),
    ("pyzmq", &["zmq"]),
    ("typing_extensions", &["typing_extensions"]),
];

/// The import names a distribution installs, best guess: the table above,
/// else its normalized name and that name without a `python_`/`py` prefix
/// or a `_python` suffix.
fn python_modules(package: &str) -> Vec<String> {
    let norm = package.to_ascii_lowercase().replace(['-', '.'], "_");
    if let Some((_, mods)) = PY_MODULES.iter().find(|(n, _)| *n == norm) {
        return mods.iter().map(|m| m.to_string()).collect();
    }
    let mut out = vec![norm.clone()];
    for stripped in [
        norm.strip_prefix("python_"),
        norm.strip_suffix("_python"),
        norm.strip_prefix("py"),
        norm.strip_prefix("django_"),
    ]
    .into_iter()
    .flatten()
    {
        if !stripped.is_empty() && !out.iter().any(|o| o == stripped) {
            out.push(stripped.to_string());
        }
    }
    // Namespace packages: `zope.interface` → `zope.interface`,
    // `google-cloud-storage` → `google.cloud.storage`.
    let dotted = package.to_ascii_lowercase().replace('-', ".");
    if dotted.contains('.') && !out.contains(&dotted) {
        out.push(dotted);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const MAIN_GO: &str = r#"package main

import (
	"fmt"
	"golang.org/x/crypto/ssh" // the client
	xnet "golang.org/x/net/html"
	_ "github.com/lib/pq"
)

import "gopkg.in/yaml.v3"

func main() {
	cfg := &ssh.ClientConfig{}
	fmt.Println(cfg, xnet.Parse, yaml.Marshal)
	// import "golang.org/x/crypto/openpgp" in a comment is not an import
}
"#;

    fn imp(path: &str, symbols: &[&str]) -> GoImport {
        GoImport {
            path: path.into(),
            symbols: symbols.iter().map(|s| s.to_string()).collect(),
        }
    }

    #[test]
    fn go_import_blocks_and_symbols() {
        let usage = GoUsage::from_sources([MAIN_GO]);
        assert!(usage.reaches(&[imp("golang.org/x/crypto/ssh", &[])]));
        assert!(!usage.reaches(&[imp("golang.org/x/crypto/openpgp", &[])]));
        // A record without import paths: unknown, so reachable.
        assert!(usage.reaches(&[]));
        // Aliased import; function symbols need `alias.Symbol`.
        assert!(usage.reaches(&[imp("golang.org/x/net/html", &["Parse"])]));
        assert!(!usage.reaches(&[imp("golang.org/x/net/html", &["ParseFragment"])]));
        // Methods may be called through interfaces, unexported functions
        // from exported ones: the import is enough.
        assert!(usage.reaches(&[imp("golang.org/x/net/html", &["Tokenizer.Next"])]));
        assert!(usage.reaches(&[imp("golang.org/x/net/html", &["parseForeign"])]));
        // `.vN` decorations and blank imports.
        assert!(usage.reaches(&[imp("gopkg.in/yaml.v3", &["Marshal"])]));
        assert!(usage.reaches(&[imp("github.com/lib/pq", &["Open"])]));
        // The parent of an imported package is assumed used by it.
        assert!(usage.reaches(&[imp("golang.org/x/crypto", &["X"])]));
    }

    #[test]
    fn python_imports_and_distribution_names() {
        let usage = PyUsage::from_sources([
            "import os, yaml as y\nfrom PIL import Image\nfrom . import local\nfrom google.protobuf import json_format\n# import requests\n",
        ]);
        assert!(usage.imports_package("Pillow"));
        assert!(usage.imports_package("PyYAML"));
        assert!(usage.imports_package("protobuf"));
        assert!(!usage.imports_package("requests"));
        assert!(!usage.imports_package("beautifulsoup4"));
        assert!(!usage.imports_package("local"));
    }
}

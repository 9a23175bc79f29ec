//! The languages the engine reads: which files belong to each, its grammar,
//! and the table of syntax node kinds the taint engine needs. Adding a
//! language is a grammar, one `Syntax` table here and a rules directory.

use std::path::Path;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Lang {
    Python,
    JavaScript,
    TypeScript,
    Tsx,
    Java,
    Go,
}

impl Lang {
    pub const ALL: [Lang; 6] = [
        Lang::Python,
        Lang::JavaScript,
        Lang::TypeScript,
        Lang::Tsx,
        Lang::Java,
        Lang::Go,
    ];

    pub fn from_path(path: &Path) -> Option<Lang> {
        let name = path.file_name()?.to_str()?;
        // Minified bundles are build output, not source anyone reviews.
        if name.ends_with(".min.js") || name.ends_with(".d.ts") {
            return None;
        }
        Some(match path.extension()?.to_str()? {
            "py" | "pyw" => Lang::Python,
            "js" | "jsx" | "mjs" | "cjs" => Lang::JavaScript,
            "ts" | "mts" | "cts" => Lang::TypeScript,
            "tsx" => Lang::Tsx,
            "java" => Lang::Java,
            "go" => Lang::Go,
            _ => return None,
        })
    }

    /// The rule family: TypeScript shares JavaScript's rules and rule ids.
    pub fn family(self) -> &'static str {
        match self {
            Lang::Python => "python",
            Lang::JavaScript | Lang::TypeScript | Lang::Tsx => "javascript",
            Lang::Java => "java",
            Lang::Go => "go",
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Lang::Python => "python",
            Lang::JavaScript => "javascript",
            Lang::TypeScript => "typescript",
            Lang::Tsx => "tsx",
            Lang::Java => "java",
            Lang::Go => "go",
        }
    }

    pub fn grammar(self) -> tree_sitter::Language {
        match self {
            Lang::Python => tree_sitter_python::LANGUAGE.into(),
            Lang::JavaScript => tree_sitter_javascript::LANGUAGE.into(),
            Lang::TypeScript => tree_sitter_typescript::LANGUAGE_TYPESCRIPT.into(),
            Lang::Tsx => tree_sitter_typescript::LANGUAGE_TSX.into(),
            Lang::Java => tree_sitter_java::LANGUAGE.into(),
            Lang::Go => tree_sitter_go::LANGUAGE.into(),
        }
    }

    pub fn comment_prefix(self) -> &'static str {
        match self {
            Lang::Python => "#",
            _ => "//",
        }
    }

    // Where the languages' meanings differ, the taint walk asks these
    // questions instead of naming languages, so the reason is in one place.

    /// Whether code names a class by its package path (`java.util.List`,
    /// `org.owasp.esapi.ESAPI.encoder()`, a parameter typed
    /// `javax.xml.xpath.XPath`) while the taint tables name the bare class.
    /// Go's `http.Request` is different: code always names the package, so
    /// the tables keep it.
    pub fn package_qualified_classes(self) -> bool {
        matches!(self, Lang::Java)
    }

    /// Whether `a || b` and `a && b` evaluate to one of their operands
    /// (`req.query.name || "anon"` is the name, or `"anon"`) rather than to a
    /// boolean, as in Java and Go. Python spells them `or`/`and`, which also
    /// give an operand.
    pub fn logical_ops_return_operand(self) -> bool {
        matches!(
            self,
            Lang::Python | Lang::JavaScript | Lang::TypeScript | Lang::Tsx
        )
    }

    /// Whether what a web route returns is the response body: Flask and
    /// FastAPI send a returned `str` as `text/html`, so returning text built
    /// from request data is cross-site scripting. The other languages'
    /// frameworks write the body through a call (`res.send`, `w.Write`,
    /// `getWriter().print`), which the tables list as sinks.
    pub fn route_return_is_response_body(self) -> bool {
        matches!(self, Lang::Python)
    }

    /// Whether `x.name(…)` may call this file's function `name` whatever
    /// `x` is. Go names a method's receiver anew in each method, and Java
    /// calls methods through other instances and through the class, so the
    /// method name is the best evidence; in Python and JavaScript a method of
    /// the file is called through `self`/`this`/`cls`, and `db.execute(…)`
    /// is some library's.
    pub fn calls_resolve_by_method_name(self) -> bool {
        matches!(self, Lang::Java | Lang::Go)
    }

    /// Whether a bare identifier as a key of a collection literal is the
    /// key's name (`{name: value}` in JavaScript) rather than a variable
    /// holding the key (a Python dict's `{name: value}`, a Go map literal's
    /// `name: value`). Java has no keyed literal.
    pub fn bare_literal_keys_are_names(self) -> bool {
        matches!(self, Lang::JavaScript | Lang::TypeScript | Lang::Tsx)
    }
}

/// Node kinds by role. The grammars mostly use distinct names, and where two
/// share a name (`assignment_expression` in JavaScript and Java) they share
/// its field names too, so one walker serves every language.
pub struct Syntax {
    pub functions: &'static [&'static str],
    pub calls: &'static [&'static str],
    pub members: &'static [&'static str],
    pub subscripts: &'static [&'static str],
    pub strings: &'static [&'static str],
    /// Children of a string that hold interpolated expressions.
    pub interpolations: &'static [&'static str],
    pub ifs: &'static [&'static str],
    pub loops: &'static [&'static str],
    pub switches: &'static [&'static str],
    pub returns: &'static [&'static str],
    pub throws: &'static [&'static str],
    pub ternaries: &'static [&'static str],
    /// Collection literals whose elements keep their keys.
    pub keyed_literals: &'static [&'static str],
    pub collection_literals: &'static [&'static str],
    pub literals: &'static [&'static str],
    pub negations: &'static [&'static str],
    /// Nodes never descended into: types, annotations, comments.
    pub opaque: &'static [&'static str],
}

pub fn syntax(lang: Lang) -> &'static Syntax {
    match lang {
        Lang::Python => &PYTHON,
        Lang::JavaScript | Lang::TypeScript | Lang::Tsx => &JAVASCRIPT,
        Lang::Java => &JAVA,
        Lang::Go => &GO,
    }
}

static PYTHON: Syntax = Syntax {
    functions: &["function_definition", "lambda"],
    calls: &["call"],
    members: &["attribute"],
    subscripts: &["subscript"],
    strings: &["string", "concatenated_string"],
    interpolations: &["interpolation"],
    ifs: &["if_statement"],
    loops: &["for_statement", "while_statement"],
    switches: &["match_statement"],
    returns: &["return_statement"],
    throws: &["raise_statement"],
    ternaries: &["conditional_expression"],
    keyed_literals: &["dictionary"],
    collection_literals: &[
        "list",
        "tuple",
        "set",
        "dictionary",
        "list_comprehension",
        "generator_expression",
    ],
    literals: &["integer", "float", "true", "false", "none"],
    negations: &["not_operator"],
    opaque: &["comment", "type", "decorator"],
};

static JAVASCRIPT: Syntax = Syntax {
    functions: &[
        "function_declaration",
        "function_expression",
        "function",
        "arrow_function",
        "method_definition",
        "generator_function_declaration",
        "generator_function",
    ],
    calls: &["call_expression", "new_expression"],
    members: &["member_expression"],
    subscripts: &["subscript_expression"],
    strings: &["string", "template_string"],
    interpolations: &["template_substitution"],
    ifs: &["if_statement"],
    loops: &[
        "for_statement",
        "for_in_statement",
        "while_statement",
        "do_statement",
    ],
    switches: &["switch_statement"],
    returns: &["return_statement"],
    throws: &["throw_statement"],
    ternaries: &["ternary_expression"],
    keyed_literals: &["object"],
    collection_literals: &["array", "object"],
    literals: &["number", "true", "false", "null", "undefined", "regex"],
    negations: &["unary_expression"],
    opaque: &[
        "comment",
        "type_annotation",
        "type_arguments",
        "type_parameters",
        "interface_declaration",
        "type_alias_declaration",
        "decorator",
    ],
};

static JAVA: Syntax = Syntax {
    functions: &[
        "method_declaration",
        "constructor_declaration",
        "lambda_expression",
    ],
    calls: &["method_invocation", "object_creation_expression"],
    members: &["field_access"],
    subscripts: &["array_access"],
    strings: &["string_literal", "text_block"],
    interpolations: &[],
    ifs: &["if_statement"],
    loops: &[
        "for_statement",
        "enhanced_for_statement",
        "while_statement",
        "do_statement",
    ],
    switches: &["switch_expression"],
    returns: &["return_statement"],
    throws: &["throw_statement"],
    ternaries: &["ternary_expression"],
    keyed_literals: &[],
    collection_literals: &["array_initializer", "array_creation_expression"],
    literals: &[
        "decimal_integer_literal",
        "hex_integer_literal",
        "decimal_floating_point_literal",
        "character_literal",
        "true",
        "false",
        "null_literal",
        "class_literal",
    ],
    negations: &["unary_expression"],
    opaque: &[
        "line_comment",
        "block_comment",
        "modifiers",
        "type_identifier",
        "generic_type",
        "integral_type",
        "annotation",
        "marker_annotation",
    ],
};

static GO: Syntax = Syntax {
    functions: &["function_declaration", "method_declaration", "func_literal"],
    calls: &["call_expression"],
    members: &["selector_expression"],
    subscripts: &["index_expression"],
    strings: &["interpreted_string_literal", "raw_string_literal"],
    interpolations: &[],
    ifs: &["if_statement"],
    loops: &["for_statement"],
    switches: &[
        "expression_switch_statement",
        "type_switch_statement",
        "select_statement",
    ],
    returns: &["return_statement"],
    throws: &[],
    ternaries: &[],
    keyed_literals: &["composite_literal"],
    collection_literals: &["composite_literal"],
    literals: &[
        "int_literal",
        "float_literal",
        "rune_literal",
        "true",
        "false",
        "nil",
        "iota",
    ],
    negations: &["unary_expression"],
    opaque: &["comment", "type_identifier", "qualified_type"],
};

//! CycloneDX and SPDX JSON documents as scan input: every component with a
//! package URL becomes a package, so an SBOM produced elsewhere (or by
//! `pipeguard sbom` for an image) is matched like a lockfile. The graph is
//! kept when the document records it (CycloneDX `dependencies`, SPDX
//! `DEPENDS_ON` relationships).

use std::collections::HashMap;

use crate::Ecosystem;
use crate::{Kind, Lockfile, Package, ParseError, Source};

fn ecosystem_of(purl_type: &str, namespace: &str) -> Option<Ecosystem> {
    Some(match purl_type {
        "cargo" => Ecosystem::CratesIo,
        "npm" => Ecosystem::Npm,
        "pypi" => Ecosystem::PyPI,
        "golang" => Ecosystem::Go,
        "gem" => Ecosystem::RubyGems,
        "composer" => Ecosystem::Packagist,
        "maven" => Ecosystem::Maven,
        "nuget" => Ecosystem::NuGet,
        "hex" => Ecosystem::Hex,
        "pub" => Ecosystem::Pub,
        "deb" if namespace.eq_ignore_ascii_case("debian") => Ecosystem::Debian,
        "apk" if namespace.eq_ignore_ascii_case("alpine") => Ecosystem::Alpine,
        _ => return None,
    })
}

fn decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%'
            && i + 2 < b.len()
            && let Ok(v) = u8::from_str_radix(&s[i + 1..i + 3], 16)
        {
            out.push(v);
            i += 3;
            continue;
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Parses `pkg:type/namespace/name@version?qualifiers#subpath` into the
/// ecosystem, the package name as the ecosystem spells it, and the version.
pub fn parse_purl(purl: &str) -> Option<(Ecosystem, String, String)> {
    let rest = purl.strip_prefix("pkg:")?;
    let rest = rest.split(['?', '#']).next()?;
    let (path, version) = rest.rsplit_once('@')?;
    let (ty, path) = path.split_once('/')?;
    let (namespace, name) = match path.rsplit_once('/') {
        Some((ns, n)) => (decode(ns), decode(n)),
        None => (String::new(), decode(path)),
    };
    let eco = ecosystem_of(&ty.to_ascii_lowercase(), &namespace)?;
    let full = match eco {
        Ecosystem::Maven => format!("{namespace}:{name}"),
        Ecosystem::Npm | Ecosystem::Go | Ecosystem::Packagist if !namespace.is_empty() => {
            format!("{namespace}/{name}")
        }
        _ => name,
    };
    Some((eco, full, decode(version)))
}

fn package(eco: Ecosystem, name: String, version: String) -> Package {
    Package {
        ecosystem: eco,
        name,
        version,
        line: 0,
        source: Source::Registry,
        integrity: None,
        direct: false,
        dev: false,
        dependencies: Vec::new(),
    }
}

pub fn parse(text: &str) -> Result<Lockfile, ParseError> {
    let v: serde_json::Value = serde_json::from_str(text).map_err(|e| ParseError {
        line: u32::try_from(e.line()).unwrap_or(0),
        message: e.to_string(),
    })?;
    let mut packages = Vec::new();
    // Document reference (bom-ref or SPDXID) → package index.
    let mut refs: HashMap<String, usize> = HashMap::new();
    let mut edges: Vec<(String, String)> = Vec::new();
    if v.get("bomFormat").and_then(|f| f.as_str()) == Some("CycloneDX") {
        let mut stack: Vec<&serde_json::Value> = v["components"]
            .as_array()
            .map(|a| a.iter().collect())
            .unwrap_or_default();
        while let Some(c) = stack.pop() {
            if let Some(nested) = c["components"].as_array() {
                stack.extend(nested.iter());
            }
            let Some((eco, name, version)) = c["purl"].as_str().and_then(parse_purl) else {
                continue;
            };
            if let Some(r) = c["bom-ref"].as_str() {
                refs.insert(r.to_string(), packages.len());
            }
            let mut p = package(eco, name, version);
            p.dev = c["scope"].as_str() == Some("optional");
            packages.push(p);
        }
        for d in v["dependencies"].as_array().into_iter().flatten() {
            let Some(from) = d["ref"].as_str() else {
                continue;
            };
            for to in d["dependsOn"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|t| t.as_str())
            {
                edges.push((from.to_string(), to.to_string()));
            }
        }
    } else if v.get("spdxVersion").is_some() {
        for p in v["packages"].as_array().into_iter().flatten() {
            let purl = p["externalRefs"]
                .as_array()
                .into_iter()
                .flatten()
                .find(|r| r["referenceType"].as_str() == Some("purl"))
                .and_then(|r| r["referenceLocator"].as_str());
            let Some((eco, name, version)) = purl.and_then(parse_purl) else {
                continue;
            };
            if let Some(id) = p["SPDXID"].as_str() {
                refs.insert(id.to_string(), packages.len());
            }
            packages.push(package(eco, name, version));
        }
        for r in v["relationships"].as_array().into_iter().flatten() {
            if r["relationshipType"].as_str() == Some("DEPENDS_ON")
                && let (Some(a), Some(b)) = (
                    r["spdxElementId"].as_str(),
                    r["relatedSpdxElement"].as_str(),
                )
            {
                edges.push((a.to_string(), b.to_string()));
            }
        }
    } else {
        return Err(ParseError {
            line: 1,
            message: "not a CycloneDX or SPDX JSON document".into(),
        });
    }
    let has_graph = !edges.is_empty();
    for (from, to) in edges {
        match (refs.get(&from), refs.get(&to)) {
            (Some(&a), Some(&b)) if !packages[a].dependencies.contains(&b) => {
                packages[a].dependencies.push(b);
            }
            // An edge from the described product itself: a direct dependency.
            (None, Some(&b)) => packages[b].direct = true,
            _ => {}
        }
    }
    Ok(Lockfile {
        kind: Kind::Sbom,
        packages,
        has_graph,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn purls_map_to_ecosystem_names() {
        assert_eq!(
            parse_purl("pkg:npm/%40scope/name@1.0.0"),
            Some((Ecosystem::Npm, "@scope/name".into(), "1.0.0".into()))
        );
        assert_eq!(
            parse_purl("pkg:maven/org.apache/commons-text@1.9?type=jar"),
            Some((
                Ecosystem::Maven,
                "org.apache:commons-text".into(),
                "1.9".into()
            ))
        );
        assert_eq!(
            parse_purl("pkg:golang/golang.org/x/text@v0.3.6"),
            Some((Ecosystem::Go, "golang.org/x/text".into(), "v0.3.6".into()))
        );
        assert_eq!(
            parse_purl("pkg:deb/debian/openssl@1.1.1k-1?arch=source"),
            Some((Ecosystem::Debian, "openssl".into(), "1.1.1k-1".into()))
        );
        assert_eq!(parse_purl("pkg:github/actions/checkout@v4"), None);
    }

    #[test]
    fn cyclonedx_components_and_graph() {
        let doc = r#"{"bomFormat":"CycloneDX","specVersion":"1.6","metadata":{"component":{"bom-ref":"app"}},
          "components":[{"bom-ref":"a","purl":"pkg:pypi/requests@2.19.0"},{"bom-ref":"b","purl":"pkg:pypi/urllib3@1.23"}],
          "dependencies":[{"ref":"app","dependsOn":["a"]},{"ref":"a","dependsOn":["b"]}]}"#;
        let l = parse(doc).expect("parse");
        assert_eq!(l.packages.len(), 2);
        let req = l
            .packages
            .iter()
            .position(|p| p.name == "requests")
            .expect("requests");
        let ul = l
            .packages
            .iter()
            .position(|p| p.name == "urllib3")
            .expect("urllib3");
        assert!(l.packages[req].direct);
        assert_eq!(l.packages[req].dependencies, vec![ul]);
        assert!(parse("{\"a\":1}").is_err());
    }
}

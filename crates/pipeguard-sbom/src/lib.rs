//! Software bills of materials for pipeguard: turns the lockfiles that
//! `pipeguard-lockfile` parsed (for a tree, as `pipeguard deps` found them;
//! for an image, its package databases) into a CycloneDX 1.6 or SPDX 2.3 JSON
//! document, so the same inventory the vulnerability scan used can be handed
//! to other tools (dependency trackers, license scanners, auditors).
//!
//! Output is deterministic apart from the creation time: components are
//! sorted by package URL, and the document's serial number / namespace is
//! derived from a hash of its content, so regenerating an SBOM for unchanged
//! lockfiles gives the same identifiers.

use std::collections::{BTreeMap, BTreeSet};

use pipeguard_lockfile::{Ecosystem, Found, Package, Source};
use sha2::{Digest, Sha256};

mod cyclonedx;
mod hash;
mod purl;
mod spdx;

pub use cyclonedx::{cyclonedx, cyclonedx_at};
pub use hash::{Algorithm, Hash, hashes};
pub use purl::purl;
pub use spdx::{spdx, spdx_at};

/// The scanned project the SBOM describes (e.g. the directory name).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subject {
    pub name: String,
    pub version: Option<String>,
}

/// pipeguard's own version, named as the generating tool.
const TOOL_VERSION: &str = env!("CARGO_PKG_VERSION");

/// One distinct package (ecosystem, name, version and source, i.e. one
/// purl) merged across every lockfile that locks it.
#[derive(Debug)]
struct Component {
    purl: String,
    ecosystem: Ecosystem,
    name: String,
    version: String,
    source: Source,
    hashes: Vec<Hash>,
    /// Development-only in every lockfile that has it.
    dev: bool,
    lockfiles: BTreeSet<String>,
    /// What it depends on; `None` when no lockfile that has it records a
    /// graph, so that "no dependencies" and "unknown" stay distinct.
    depends_on: Option<BTreeSet<String>>,
}

/// Everything both formats need, computed once.
#[derive(Debug)]
struct Inventory {
    /// By purl, which gives the sorted order of the output.
    components: BTreeMap<String, Component>,
    /// Purls the subject depends on directly.
    direct: BTreeSet<String>,
}

impl Inventory {
    fn build(found: &[Found]) -> Inventory {
        let mut components: BTreeMap<String, Component> = BTreeMap::new();
        let mut candidates: BTreeMap<String, BTreeMap<Algorithm, BTreeSet<String>>> =
            BTreeMap::new();
        let mut direct = BTreeSet::new();
        for f in found {
            let lock = &f.lockfile;
            let purls: Vec<String> = lock.packages.iter().map(purl).collect();
            for (pkg, p) in lock.packages.iter().zip(&purls) {
                let c = components.entry(p.clone()).or_insert_with(|| Component {
                    purl: p.clone(),
                    ecosystem: pkg.ecosystem,
                    name: pkg.name.clone(),
                    version: pkg.version.clone(),
                    source: pkg.source.clone(),
                    hashes: Vec::new(),
                    dev: pkg.dev,
                    lockfiles: BTreeSet::new(),
                    depends_on: None,
                });
                c.dev &= pkg.dev;
                c.lockfiles.insert(f.path.clone());
                if lock.has_graph {
                    let deps = c.depends_on.get_or_insert_with(BTreeSet::new);
                    deps.extend(
                        pkg.dependencies
                            .iter()
                            .filter_map(|&i| purls.get(i))
                            .filter(|d| *d != p)
                            .cloned(),
                    );
                }
                let by_alg = candidates.entry(p.clone()).or_default();
                for h in hashes(pkg) {
                    by_alg.entry(h.algorithm).or_default().insert(h.hex);
                }
            }
            direct.extend(direct_of(&lock.packages, lock.has_graph, &purls));
        }
        // A purl names one artifact; several different digests under one
        // algorithm (a PyPI release's wheels and sdist, or lockfiles that
        // disagree) cannot all be its hash, so none of them is claimed.
        for (p, by_alg) in candidates {
            if let Some(c) = components.get_mut(&p) {
                c.hashes = by_alg
                    .into_iter()
                    .filter(|(_, values)| values.len() == 1)
                    .filter_map(|(algorithm, values)| {
                        values.into_iter().next().map(|hex| Hash { algorithm, hex })
                    })
                    .collect();
            }
        }
        Inventory { components, direct }
    }
}

/// The packages the project itself depends on: the direct ones where the
/// lockfile knows them; every package when it records no graph (a
/// requirements file lists what is installed, not who needs it); the roots
/// of the graph when it has one but marks nothing direct.
fn direct_of(packages: &[Package], has_graph: bool, purls: &[String]) -> Vec<String> {
    let pick = |keep: &dyn Fn(usize, &Package) -> bool| -> Vec<String> {
        packages
            .iter()
            .enumerate()
            .filter(|(i, p)| keep(*i, p))
            .filter_map(|(i, _)| purls.get(i).cloned())
            .collect()
    };
    if !has_graph {
        return pick(&|_, _| true);
    }
    let marked = pick(&|_, p| p.direct);
    if !marked.is_empty() {
        return marked;
    }
    let depended: BTreeSet<usize> = packages
        .iter()
        .flat_map(|p| p.dependencies.iter().copied())
        .collect();
    let roots = pick(&|i, _| !depended.contains(&i));
    if roots.is_empty() {
        // Nothing but cycles: better every package than none.
        pick(&|_, _| true)
    } else {
        roots
    }
}

/// A UUID derived from the document's content: the first 128 bits of
/// SHA-256, with the version (5, name-based) and RFC 4122 variant bits set.
/// The same inventory gives the same id, which a random v4 would not.
fn content_uuid(domain: &str, content: &serde_json::Value) -> String {
    let mut h = Sha256::new();
    h.update(domain.as_bytes());
    h.update([0]);
    h.update(content.to_string().as_bytes());
    let digest = h.finalize();
    let mut b = [0u8; 16];
    b.copy_from_slice(&digest[..16]);
    b[6] = (b[6] & 0x0f) | 0x50;
    b[8] = (b[8] & 0x3f) | 0x80;
    let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

/// The creation time: `SOURCE_DATE_EPOCH` when set (reproducible builds),
/// otherwise now; whole seconds, since both formats want plain RFC 3339.
fn now() -> jiff::Timestamp {
    let now = std::env::var("SOURCE_DATE_EPOCH")
        .ok()
        .and_then(|s| s.trim().parse::<i64>().ok())
        .and_then(|s| jiff::Timestamp::from_second(s).ok())
        .unwrap_or_else(jiff::Timestamp::now);
    truncate(now)
}

fn truncate(t: jiff::Timestamp) -> jiff::Timestamp {
    jiff::Timestamp::from_second(t.as_second()).unwrap_or(t)
}

/// RFC 3339 in UTC with second precision (`2024-01-02T03:04:05Z`).
fn rfc3339(t: jiff::Timestamp) -> String {
    truncate(t).strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_uuid_is_a_deterministic_v5_shape() {
        let a = content_uuid("x", &serde_json::json!({"a": 1}));
        assert_eq!(a, content_uuid("x", &serde_json::json!({"a": 1})));
        assert_ne!(a, content_uuid("y", &serde_json::json!({"a": 1})));
        assert_ne!(a, content_uuid("x", &serde_json::json!({"a": 2})));
        let parts: Vec<&str> = a.split('-').collect();
        assert_eq!(
            parts.iter().map(|p| p.len()).collect::<Vec<_>>(),
            [8, 4, 4, 4, 12]
        );
        assert!(parts[2].starts_with('5'));
        assert!(matches!(parts[3].as_bytes()[0], b'8' | b'9' | b'a' | b'b'));
    }

    use pipeguard_lockfile::{Kind, Lockfile};

    fn pkg(name: &str, integrity: Option<&str>, dev: bool, deps: &[usize]) -> Package {
        Package {
            ecosystem: Ecosystem::Npm,
            name: name.into(),
            version: "1.0.0".into(),
            line: 0,
            source: Source::Registry,
            integrity: integrity.map(str::to_string),
            direct: false,
            dev,
            dependencies: deps.to_vec(),
        }
    }

    fn found(path: &str, has_graph: bool, packages: Vec<Package>) -> Found {
        Found {
            path: path.into(),
            lockfile: Lockfile {
                kind: Kind::PackageLock,
                packages,
                has_graph,
            },
            release: None,
        }
    }

    const SHA1_EMPTY: &str = "sha1-2jmj7l5rSw0yVb/vlWAYkK/YBwk=";
    const SHA1_FOO: &str = "sha1-C+7Hteo/D9vJXQ3UfzxbwnXaijM=";

    #[test]
    fn merging_across_lockfiles() {
        let inv = Inventory::build(&[
            found(
                "a/package-lock.json",
                true,
                vec![
                    pkg("same", Some(SHA1_EMPTY), true, &[]),
                    pkg("clash", Some(SHA1_EMPTY), false, &[]),
                    pkg("devhere", None, true, &[]),
                ],
            ),
            found(
                "b/package-lock.json",
                true,
                vec![
                    pkg("same", Some(SHA1_EMPTY), true, &[]),
                    pkg("clash", Some(SHA1_FOO), false, &[]),
                    pkg("devhere", None, false, &[]),
                ],
            ),
        ]);
        let c = |n: &str| &inv.components[&format!("pkg:npm/{n}@1.0.0")];
        // Agreeing digests are kept, disagreeing ones dropped.
        assert_eq!(c("same").hashes.len(), 1);
        assert!(c("clash").hashes.is_empty());
        // Dev only if dev everywhere.
        assert!(c("same").dev);
        assert!(!c("devhere").dev);
        assert_eq!(c("same").lockfiles.len(), 2);
    }

    #[test]
    fn direct_packages_and_unknown_graphs() {
        // A graph that marks nothing direct: its roots are what the project uses.
        let graph = found(
            "package-lock.json",
            true,
            vec![
                pkg("root", None, false, &[1]),
                pkg("leaf", None, false, &[]),
            ],
        );
        // No graph: every package is the project's, its dependencies unknown.
        let flat = found(
            "requirements.txt",
            false,
            vec![pkg("flat", None, false, &[])],
        );
        let inv = Inventory::build(&[graph, flat]);
        assert_eq!(
            inv.direct.iter().map(String::as_str).collect::<Vec<_>>(),
            ["pkg:npm/flat@1.0.0", "pkg:npm/root@1.0.0"]
        );
        let c = |n: &str| &inv.components[&format!("pkg:npm/{n}@1.0.0")];
        assert_eq!(
            c("root").depends_on.as_ref().map(|d| d.len()),
            Some(1),
            "root -> leaf"
        );
        assert_eq!(c("leaf").depends_on.as_ref().map(|d| d.len()), Some(0));
        assert!(c("flat").depends_on.is_none());
    }

    #[test]
    fn timestamps_have_second_precision() {
        let t: jiff::Timestamp = "2024-05-06T07:08:09.123456Z".parse().unwrap();
        assert_eq!(rfc3339(t), "2024-05-06T07:08:09Z");
    }
}

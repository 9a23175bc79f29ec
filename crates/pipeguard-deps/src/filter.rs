//! Which dependency findings a scan keeps: in a pull request only packages
//! that are new, or at a new version, compared with the same lockfile at the
//! merge base; and, when the profile says so, only direct dependencies.
//! (Which lockfiles changed, and their base versions, is the caller's: it
//! knows the diff.)

use std::collections::{HashMap, HashSet};

use pipeguard_core::Finding;
use pipeguard_lockfile::{Found, Package};

/// The (name, version) pairs a lockfile held at the merge base.
pub type BaseSet = HashSet<(String, String)>;

/// The packages of one lockfile's content, as a base set; a base version
/// that no longer parses holds nothing (everything counts as new).
pub fn base_set(rel: &str, content: &[u8]) -> BaseSet {
    crate::scan::parse_one(rel, content)
        .and_then(Result::ok)
        .map(|f| {
            f.lockfile
                .packages
                .into_iter()
                .map(|p| (p.name, p.version))
                .collect()
        })
        .unwrap_or_default()
}

/// What to keep.
pub struct Keep<'a> {
    /// Per lockfile path, the packages at the merge base (pull-request mode).
    pub bases: Option<&'a HashMap<String, BaseSet>>,
    /// Report vulnerable transitive packages too.
    pub transitive: bool,
}

impl Keep<'_> {
    /// Filters `findings` about the packages of `found`. A finding that is
    /// not about a package (a missing lockfile) is kept when `touched` says
    /// the change touched one of its places.
    pub fn apply(
        &self,
        findings: Vec<Finding>,
        found: &[Found],
        touched: impl Fn(&Finding) -> bool,
    ) -> Vec<Finding> {
        // Which package each finding is about: its lockfile line.
        let mut at: HashMap<(&str, u32), &Package> = HashMap::new();
        let mut graph: HashMap<&str, bool> = HashMap::new();
        for f in found {
            graph.insert(f.path.as_str(), f.lockfile.has_graph);
            for p in &f.lockfile.packages {
                if p.line > 0 {
                    at.insert((f.path.as_str(), p.line), p);
                }
            }
        }
        let package_of = |f: &Finding| {
            let l = f.locations.first()?;
            at.get(&(l.path.as_str(), l.line?)).copied()
        };
        findings
            .into_iter()
            .filter(|f| match package_of(f) {
                Some(p) => {
                    let path = f.locations[0].path.as_str();
                    let new = self.bases.is_none_or(|b| {
                        b.get(path)
                            .is_none_or(|set| !set.contains(&(p.name.clone(), p.version.clone())))
                    });
                    // Without a graph every package may be direct: keep it.
                    let depth_ok =
                        self.transitive || p.direct || !graph.get(path).copied().unwrap_or(false);
                    new && depth_ok
                }
                None => touched(f),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pipeguard_core::{Fingerprint, Location};

    fn finding_at(path: &str, line: u32) -> Finding {
        Finding::builder("CVE-1", "x", "deps")
            .fingerprint(Fingerprint::from_parts(&[
                path.as_bytes(),
                &line.to_le_bytes(),
            ]))
            .location(Location::at(path, line, 1))
            .build()
    }

    #[test]
    fn keeps_only_new_versions_and_direct_packages_when_asked() {
        let lock = "[[package]]\nname = \"a\"\nversion = \"1.0.0\"\nsource = \"registry+https://github.com/rust-lang/crates.io-index\"\n\n[[package]]\nname = \"b\"\nversion = \"2.0.0\"\nsource = \"registry+https://github.com/rust-lang/crates.io-index\"\n";
        let found = vec![
            crate::scan::parse_one("Cargo.lock", lock.as_bytes())
                .expect("a lockfile")
                .expect("parses"),
        ];
        let line_of = |name: &str| {
            found[0]
                .lockfile
                .packages
                .iter()
                .find(|p| p.name == name)
                .map(|p| p.line)
                .expect("package")
        };
        let findings = vec![
            finding_at("Cargo.lock", line_of("a")),
            finding_at("Cargo.lock", line_of("b")),
            finding_at("Cargo.toml", 1),
        ];
        // At the base, `a` was already at 1.0.0; `b` was at 1.9.0.
        let base = base_set("Cargo.lock", lock.replace("2.0.0", "1.9.0").as_bytes());
        let bases = HashMap::from([("Cargo.lock".to_string(), base)]);
        let keep = Keep {
            bases: Some(&bases),
            transitive: true,
        };
        let kept = keep.apply(findings.clone(), &found, |f| {
            f.primary_path() == Some("Cargo.toml")
        });
        let lines: Vec<Option<u32>> = kept.iter().map(|f| f.locations[0].line).collect();
        assert_eq!(lines, [Some(line_of("b")), Some(1)]);
        // Without a base everything stays.
        let all = Keep {
            bases: None,
            transitive: true,
        }
        .apply(findings, &found, |_| true);
        assert_eq!(all.len(), 3);
    }
}

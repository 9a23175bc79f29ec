//! Is this version affected by this advisory, and which version fixes it?
//! OSV range semantics: events are applied in version order; `introduced`
//! opens a range, `fixed` closes it (exclusive), `last_affected` closes it
//! (inclusive). `limit` only bounds git ranges and is ignored here.

use std::cmp::Ordering;

use crate::Ecosystem;
use crate::osv::{Affected, Event};
use crate::version::{self, Version};

/// Parses a range event's version; `introduced: "0"` means "from the start".
fn event_version(eco: Ecosystem, s: &str) -> Option<Option<Version>> {
    if s == "0" {
        return Some(None);
    }
    version::parse(eco, s).map(Some)
}

/// Whether `v` falls in one range. Unparseable event versions make the range
/// unusable rather than guessed at.
fn in_range(eco: Ecosystem, v: &Version, events: &[Event]) -> Option<bool> {
    let mut evs: Vec<(Option<Version>, &Event)> = Vec::with_capacity(events.len());
    for e in events {
        let s = match e {
            Event::Introduced(s) | Event::Fixed(s) | Event::LastAffected(s) => s,
            Event::Limit(_) => continue,
        };
        evs.push((event_version(eco, s)?, e));
    }
    // "0" sorts first; among equal versions keep the record's order.
    evs.sort_by(|a, b| match (&a.0, &b.0) {
        (None, None) => Ordering::Equal,
        (None, Some(_)) => Ordering::Less,
        (Some(_), None) => Ordering::Greater,
        (Some(x), Some(y)) => version::compare(x, y),
    });
    let mut affected = false;
    for (ev, e) in &evs {
        let cmp = ev
            .as_ref()
            .map_or(Ordering::Greater, |x| version::compare(v, x));
        match e {
            Event::Introduced(_) if cmp != Ordering::Less => affected = true,
            Event::Fixed(_) if cmp != Ordering::Less => affected = false,
            Event::LastAffected(_) if cmp == Ordering::Greater => affected = false,
            _ => {}
        }
    }
    Some(affected)
}

/// Whether `version_str` is affected by one affected-package entry.
pub fn is_affected(eco: Ecosystem, a: &Affected, version_str: &str) -> bool {
    if a.versions.iter().any(|x| x == version_str) {
        return true;
    }
    let Some(v) = version::parse(eco, version_str) else {
        return false;
    };
    if a.versions
        .iter()
        .filter_map(|x| version::parse(eco, x))
        .any(|x| version::compare(&x, &v) == Ordering::Equal)
    {
        return true;
    }
    a.ranges
        .iter()
        .any(|r| in_range(eco, &v, r).unwrap_or(false))
}

/// The smallest `fixed` version above `version_str` in the ranges that affect
/// it, i.e. the nearest upgrade that leaves this advisory behind.
pub fn nearest_fix(eco: Ecosystem, a: &Affected, version_str: &str) -> Option<String> {
    let v = version::parse(eco, version_str)?;
    let mut best: Option<(Version, String)> = None;
    for r in &a.ranges {
        if !in_range(eco, &v, r).unwrap_or(false) {
            continue;
        }
        for e in r {
            if let Event::Fixed(f) = e
                && let Some(fv) = version::parse(eco, f)
                && version::compare(&fv, &v) == Ordering::Greater
                && best
                    .as_ref()
                    .is_none_or(|(b, _)| version::compare(&fv, b) == Ordering::Less)
            {
                best = Some((fv, f.clone()));
            }
        }
    }
    best.map(|(_, s)| s)
}

/// The highest of several fixed versions: the one upgrade that fixes them all.
pub fn max_version(eco: Ecosystem, versions: &[String]) -> Option<String> {
    versions
        .iter()
        .filter_map(|s| version::parse(eco, s).map(|v| (v, s)))
        .max_by(|a, b| version::compare(&a.0, &b.0))
        .map(|(_, s)| s.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn aff(ranges: Vec<Vec<Event>>, versions: &[&str]) -> Affected {
        Affected {
            name: "x".into(),
            release: None,
            ranges,
            versions: versions.iter().map(|s| s.to_string()).collect(),
            imports: Vec::new(),
        }
    }

    fn intro(s: &str) -> Event {
        Event::Introduced(s.into())
    }
    fn fixed(s: &str) -> Event {
        Event::Fixed(s.into())
    }

    #[test]
    fn introduced_fixed_and_last_affected() {
        let a = aff(
            vec![
                vec![intro("0"), fixed("1.2.3")],
                vec![intro("2.0.0"), Event::LastAffected("2.1.0".into())],
            ],
            &[],
        );
        let eco = Ecosystem::CratesIo;
        assert!(is_affected(eco, &a, "1.0.0"));
        assert!(is_affected(eco, &a, "1.2.3-rc.1"));
        assert!(!is_affected(eco, &a, "1.2.3"));
        assert!(!is_affected(eco, &a, "1.9.0"));
        assert!(is_affected(eco, &a, "2.0.0"));
        assert!(is_affected(eco, &a, "2.1.0"));
        assert!(!is_affected(eco, &a, "2.1.1"));
        assert_eq!(nearest_fix(eco, &a, "1.0.0").as_deref(), Some("1.2.3"));
        assert_eq!(nearest_fix(eco, &a, "2.0.5"), None);
    }

    #[test]
    fn several_introduced_fixed_pairs_in_one_range() {
        let a = aff(
            vec![vec![intro("1.0"), fixed("1.5"), intro("2.0"), fixed("2.3")]],
            &[],
        );
        let eco = Ecosystem::PyPI;
        assert!(!is_affected(eco, &a, "0.9"));
        assert!(is_affected(eco, &a, "1.4.post1"));
        assert!(!is_affected(eco, &a, "1.7"));
        assert!(is_affected(eco, &a, "2.2"));
        assert!(!is_affected(eco, &a, "2.3"));
        assert_eq!(nearest_fix(eco, &a, "2.0").as_deref(), Some("2.3"));
    }

    #[test]
    fn explicit_versions_list() {
        let a = aff(vec![], &["1.0.0", "1.0.1"]);
        assert!(is_affected(Ecosystem::Npm, &a, "1.0.1"));
        assert!(!is_affected(Ecosystem::Npm, &a, "1.0.2"));
    }
}

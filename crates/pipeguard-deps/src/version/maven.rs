//! Maven versions: a port of Maven's `ComparableVersion`
//! (org.apache.maven.artifact.versioning), as of Maven 4 / 3.9 with the
//! MNG-5568, MNG-6964, MNG-7644, MNG-7700 and MNG-7714 fixes.
//!
//! A version is split on `.`, `-` and digit/letter transitions into a list of
//! items; a `-` (or a digit/letter transition) opens a nested sub-list, and a
//! letter run directly followed by digits (`alpha1`, `sp-1`) is one
//! "combination" item. Numbers compare numerically; qualifiers in the order
//! `alpha` < `beta` < `milestone` < `rc` = `cr` < `snapshot` < `""` = `ga` =
//! `final` = `release` < `sp`, then unknown qualifiers lexically. Trailing
//! "null" items (0, empty qualifier, empty list) are dropped, so 1.0 == 1.
//! When one list runs out, the comparison goes on against "nothing", and
//! each kind of item has its rule for that (1-rc < 1 < 1-sp < 1-1 < 1.1).

use std::cmp::Ordering;

use super::cmp_digits;

/// Maven rejects longer version strings (MAX_VERSION_LENGTH).
const MAX_LEN: usize = 256;

#[derive(Debug, Clone)]
pub struct MavenVersion {
    items: Vec<Item>,
}

impl Ord for MavenVersion {
    fn cmp(&self, other: &Self) -> Ordering {
        cmp_lists(&self.items, &other.items)
    }
}

impl PartialOrd for MavenVersion {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for MavenVersion {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for MavenVersion {}

#[derive(Debug, Clone)]
enum Item {
    /// A number, as digits without leading zeros (`0` for zero).
    Int(String),
    /// A qualifier, lowercased and with its alias resolved.
    Str(String),
    /// A qualifier immediately followed by a number: `rc1`, `sp-1`.
    Combination { qualifier: String, number: String },
    /// A sub-list, opened by `-` or by a digit/letter transition.
    List(Vec<Item>),
}

impl Item {
    fn is_null(&self) -> bool {
        match self {
            Item::Int(n) => n == "0",
            Item::Str(s) => s.is_empty(),
            Item::Combination { .. } => false,
            Item::List(items) => items.is_empty(),
        }
    }
}

/// Where a qualifier sorts: known qualifiers by rank, unknown ones after all
/// of them and lexically among themselves. This is Maven's
/// `comparableQualifier` without its string encoding.
#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
enum QualifierKey<'a> {
    Known(u8),
    Unknown(&'a str),
}

/// The rank of the empty qualifier: a plain release.
const RELEASE: QualifierKey<'static> = QualifierKey::Known(5);

fn qualifier_key(q: &str) -> QualifierKey<'_> {
    match q {
        "alpha" => QualifierKey::Known(0),
        "beta" => QualifierKey::Known(1),
        "milestone" => QualifierKey::Known(2),
        "rc" => QualifierKey::Known(3),
        "snapshot" => QualifierKey::Known(4),
        "" | "ga" | "final" | "release" => RELEASE,
        "sp" => QualifierKey::Known(6),
        other => QualifierKey::Unknown(other),
    }
}

/// Maven's `StringItem` constructor: `a1`, `b1`, `m1` mean alpha, beta and
/// milestone when a number follows; `cr` is `rc`.
fn qualifier(s: &str, followed_by_digit: bool) -> String {
    let s = match s {
        "a" if followed_by_digit => "alpha",
        "b" if followed_by_digit => "beta",
        "m" if followed_by_digit => "milestone",
        "cr" => "rc",
        other => other,
    };
    s.to_string()
}

fn number(digits: &str) -> String {
    let trimmed = digits.trim_start_matches('0');
    if trimmed.is_empty() { "0" } else { trimmed }.to_string()
}

/// Maven's `parseItem`.
fn parse_item(is_combination: bool, is_digit: bool, buf: &[char]) -> Item {
    if is_combination {
        // `sp-1` is `sp1`.
        let text: String = buf.iter().filter(|c| **c != '-').collect();
        let split = text.find(|c: char| c.is_ascii_digit()).unwrap_or(0);
        let (q, n) = text.split_at(split);
        Item::Combination {
            qualifier: qualifier(q, true),
            number: number(n),
        }
    } else if is_digit {
        Item::Int(number(&buf.iter().collect::<String>()))
    } else {
        Item::Str(qualifier(&buf.iter().collect::<String>(), false))
    }
}

/// Maven's `ListItem.normalize`: drops null items that end the list or that
/// precede a qualifier (`1.0.0.x` == `1-x`), then unwraps a list left with a
/// single sub-list.
fn normalize(items: &mut Vec<Item>) {
    let mut i = items.len();
    while i > 0 {
        i -= 1;
        if !items[i].is_null() {
            continue;
        }
        let remove = match items.get(i + 1) {
            None => true,
            Some(Item::Str(_)) => true,
            Some(Item::List(sub)) => {
                matches!(sub.first(), Some(Item::Str(_) | Item::Combination { .. }))
            }
            Some(_) => false,
        };
        if remove {
            items.remove(i);
        }
    }
    if let [Item::List(sub)] = items.as_mut_slice() {
        let sub = std::mem::take(sub);
        *items = sub;
    }
}

/// Maven's `parseVersion`. Each `-` or digit/letter transition opens a
/// sub-list that becomes the last item of the current list, so the lists
/// under construction form a chain, kept here as a stack and folded at the
/// end (innermost first, normalizing each, as Maven does).
fn parse_items(version: &str) -> Vec<Item> {
    let chars: Vec<char> = version.to_lowercase().chars().collect();
    let n = chars.len();
    let mut stack: Vec<Vec<Item>> = vec![Vec::new()];
    let mut is_digit = false;
    let mut is_combination = false;
    let mut start = 0;

    for i in 0..n {
        let c = chars[i];
        let current_is_empty = stack.last().is_none_or(Vec::is_empty);
        if c == '.' {
            let item = if i == start {
                Item::Int("0".to_string())
            } else {
                parse_item(is_combination, is_digit, &chars[start..i])
            };
            push(&mut stack, item);
            is_combination = false;
            start = i + 1;
        } else if c == '-' {
            if i == start {
                push(&mut stack, Item::Int("0".to_string()));
            } else {
                // `X-1` is read as the combination `X1`.
                if !is_digit && chars.get(i + 1).is_some_and(char::is_ascii_digit) {
                    is_combination = true;
                    continue;
                }
                push(
                    &mut stack,
                    parse_item(is_combination, is_digit, &chars[start..i]),
                );
            }
            start = i + 1;
            if !stack.last().is_none_or(Vec::is_empty) {
                stack.push(Vec::new());
            }
            is_combination = false;
        } else if c.is_ascii_digit() {
            if !is_digit && i > start {
                // A qualifier followed by digits: `X1`.
                is_combination = true;
                if !current_is_empty {
                    stack.push(Vec::new());
                }
            }
            is_digit = true;
        } else {
            if is_digit && i > start {
                push(
                    &mut stack,
                    parse_item(is_combination, true, &chars[start..i]),
                );
                start = i;
                stack.push(Vec::new());
                is_combination = false;
            }
            is_digit = false;
        }
    }
    if n > start {
        // `1.0.0.X1` < `1.0.0-X2`: a trailing `.X` is read as `-X`.
        if !is_digit && !stack.last().is_none_or(Vec::is_empty) {
            stack.push(Vec::new());
        }
        push(
            &mut stack,
            parse_item(is_combination, is_digit, &chars[start..]),
        );
    }

    // Fold the chain: normalize the innermost list, append it to its parent.
    let mut inner: Option<Vec<Item>> = None;
    while let Some(mut list) = stack.pop() {
        if let Some(child) = inner.take() {
            list.push(Item::List(child));
        }
        normalize(&mut list);
        inner = Some(list);
    }
    inner.unwrap_or_default()
}

fn push(stack: &mut [Vec<Item>], item: Item) {
    if let Some(list) = stack.last_mut() {
        list.push(item);
    }
}

/// `Item.compareTo(null)`: how an item compares with "nothing left".
fn cmp_with_nothing(item: &Item) -> Ordering {
    match item {
        Item::Int(n) => {
            if n == "0" {
                Ordering::Equal
            } else {
                Ordering::Greater
            }
        }
        // 1-rc < 1, 1-ga == 1, 1-sp > 1
        Item::Str(q) => qualifier_key(q).cmp(&RELEASE),
        Item::Combination { qualifier, number } => qualifier_key(qualifier)
            .cmp(&RELEASE)
            .then_with(|| cmp_with_nothing(&Item::Int(number.clone()))),
        // MNG-6964: the whole list, not only its first item.
        Item::List(items) => items
            .iter()
            .map(cmp_with_nothing)
            .find(|o| o.is_ne())
            .unwrap_or(Ordering::Equal),
    }
}

fn number_is_zero(n: &str) -> bool {
    n == "0"
}

/// `Item.compareTo(Item)`.
fn cmp_item(a: &Item, b: &Item) -> Ordering {
    use Item::*;
    use Ordering::*;
    match (a, b) {
        (Int(x), Int(y)) => cmp_digits(x, y),
        // 1.1 > 1-sp, 1.1 > 1-1
        (Int(_), _) => Greater,
        (_, Int(_)) => Less,

        (Str(x), Str(y)) => qualifier_key(x).cmp(&qualifier_key(y)),
        (Str(x), Combination { qualifier, number }) => {
            match qualifier_key(x).cmp(&qualifier_key(qualifier)) {
                Equal if qualifier_key(x) == RELEASE => {
                    if number_is_zero(number) {
                        Equal
                    } else {
                        Less
                    }
                }
                // X < X1
                Equal => Less,
                other => other,
            }
        }
        (Combination { .. }, Str(_)) => cmp_item(b, a).reverse(),
        (
            Combination {
                qualifier: q1,
                number: n1,
            },
            Combination {
                qualifier: q2,
                number: n2,
            },
        ) => qualifier_key(q1)
            .cmp(&qualifier_key(q2))
            .then_with(|| cmp_digits(n1, n2)),

        (List(items), Str(_) | Combination { .. }) => {
            let mut result = match items.first() {
                None => cmp_with_nothing(b).reverse(),
                Some(first) => cmp_item(first, b),
            };
            for item in items.iter().skip(1) {
                if result.is_ne() {
                    break;
                }
                result = cmp_with_nothing(item);
            }
            result
        }
        (Str(_) | Combination { .. }, List(_)) => cmp_item(b, a).reverse(),
        (List(x), List(y)) => cmp_lists(x, y),
    }
}

fn cmp_lists(a: &[Item], b: &[Item]) -> Ordering {
    for i in 0..a.len().max(b.len()) {
        let result = match (a.get(i), b.get(i)) {
            (Some(x), Some(y)) => cmp_item(x, y),
            (Some(x), None) => cmp_with_nothing(x),
            (None, Some(y)) => cmp_with_nothing(y).reverse(),
            (None, None) => Ordering::Equal,
        };
        if result.is_ne() {
            return result;
        }
    }
    Ordering::Equal
}

/// Parses a Maven version. `ComparableVersion` accepts any string; this
/// rejects what cannot be a resolved version: whitespace, version ranges
/// (`[1.0,2.0)`) and unresolved properties (`${project.version}`).
pub fn parse(s: &str) -> Option<MavenVersion> {
    let reserved = |c: char| c.is_whitespace() || c.is_control() || "[](),${}".contains(c);
    if s.is_empty() || s.chars().count() > MAX_LEN || s.chars().any(reserved) {
        return None;
    }
    Some(MavenVersion {
        items: parse_items(s),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Ecosystem::Maven;
    use crate::version::test_util::*;

    /// The canonical form, as `ComparableVersion.getCanonical`.
    fn canonical(s: &str) -> String {
        fn render(items: &[Item]) -> String {
            let mut out = String::new();
            for item in items {
                if !out.is_empty() {
                    out.push(if matches!(item, Item::List(_)) {
                        '-'
                    } else {
                        '.'
                    });
                }
                match item {
                    Item::Int(n) | Item::Str(n) => out.push_str(n),
                    Item::Combination { qualifier, number } => {
                        out.push_str(qualifier);
                        out.push_str(number);
                    }
                    Item::List(sub) => out.push_str(&render(sub)),
                }
            }
            out
        }
        render(&parse_items(s))
    }

    // ComparableVersionTest.VERSIONS_QUALIFIER
    const VERSIONS_QUALIFIER: [&str; 22] = [
        "1-alpha2snapshot",
        "1-alpha2",
        "1-alpha-123",
        "1-beta-2",
        "1-beta123",
        "1-m2",
        "1-m11",
        "1-rc",
        "1-cr2",
        "1-rc123",
        "1-SNAPSHOT",
        "1",
        "1-sp",
        "1-sp2",
        "1-sp123",
        "1-abc",
        "1-def",
        "1-pom-1",
        "1-1-snapshot",
        "1-1",
        "1-2",
        "1-123",
    ];

    // ComparableVersionTest.VERSIONS_NUMBER
    const VERSIONS_NUMBER: [&str; 24] = [
        "2.0", "2.0.a", "2-1", "2.0.2", "2.0.123", "2.1.0", "2.1-a", "2.1b", "2.1-c", "2.1-1",
        "2.1.0.1", "2.2", "2.123", "11.a2", "11.a11", "11.b2", "11.b11", "11.m2", "11.m11", "11",
        "11.a", "11b", "11c", "11m",
    ];

    #[test]
    fn versions_qualifier() {
        ascending(Maven, &VERSIONS_QUALIFIER);
    }

    #[test]
    fn versions_number() {
        ascending(Maven, &VERSIONS_NUMBER);
    }

    #[test]
    fn versions_equal() {
        for (a, b) in [
            ("1", "1"),
            ("1", "1.0"),
            ("1", "1.0.0"),
            ("1.0", "1.0.0"),
            ("1", "1-0"),
            ("1", "1.0-0"),
            ("1.0", "1.0-0"),
            // no separator between number and character
            ("1a", "1-a"),
            ("1a", "1.0-a"),
            ("1a", "1.0.0-a"),
            ("1.0a", "1-a"),
            ("1.0.0a", "1-a"),
            ("1x", "1-x"),
            ("1x", "1.0-x"),
            ("1x", "1.0.0-x"),
            ("1.0x", "1-x"),
            ("1.0.0x", "1-x"),
            ("1cr", "1rc"),
            // special "aliases" a, b and m for alpha, beta and milestone
            ("1a1", "1-alpha-1"),
            ("1b2", "1-beta-2"),
            ("1m3", "1-milestone-3"),
            // case insensitive
            ("1X", "1x"),
            ("1A", "1a"),
            ("1B", "1b"),
            ("1M", "1m"),
            ("1Cr", "1Rc"),
            ("1cR", "1rC"),
            ("1m3", "1Milestone3"),
            ("1m3", "1MileStone3"),
            ("1m3", "1MILESTONE3"),
        ] {
            eq(Maven, a, b);
        }
    }

    #[test]
    fn release_qualifiers_order_as_release() {
        for q in [
            "1ga", "1release", "1final", "1Ga", "1GA", "1RELEASE", "1RELeaSE", "1Final", "1FinaL",
            "1FINAL",
        ] {
            eq(Maven, q, "1");
        }
        eq(Maven, "1.0.RELEASE", "1.0");
        eq(Maven, "5.3.20.RELEASE", "5.3.20");
        eq(Maven, "2.0.0.Final", "2.0.0");
        eq(Maven, "1.0-GA", "1.0");
        lt(Maven, "5.3.19.RELEASE", "5.3.20");
    }

    #[test]
    fn version_comparing() {
        for (a, b) in [
            ("1", "2"),
            ("1.5", "2"),
            ("1", "2.5"),
            ("1.0", "1.1"),
            ("1.1", "1.2"),
            ("1.0.0", "1.1"),
            ("1.0.1", "1.1"),
            ("1.1", "1.2.0"),
            ("1.0-alpha-1", "1.0"),
            ("1.0-alpha-1", "1.0-alpha-2"),
            ("1.0-alpha-1", "1.0-beta-1"),
            ("1.0-beta-1", "1.0-SNAPSHOT"),
            ("1.0-SNAPSHOT", "1.0"),
            ("1.0-alpha-1-SNAPSHOT", "1.0-alpha-1"),
            ("1.0", "1.0-1"),
            ("1.0-1", "1.0-2"),
            ("1.0.0", "1.0-1"),
            ("2.0-1", "2.0.1"),
            ("2.0.1-klm", "2.0.1-lmn"),
            ("2.0.1", "2.0.1-xyz"),
            ("2.0.1", "2.0.1-123"),
            ("2.0.1-xyz", "2.0.1-123"),
        ] {
            lt(Maven, a, b);
        }
    }

    #[test]
    fn leading_zeroes() {
        lt(Maven, "0.7", "2");
        lt(Maven, "0.2", "1.0.7");
        let ones: Vec<String> = (0..19).map(|z| format!("{}1", "0".repeat(z))).collect();
        let zeros: Vec<String> = (1..20).map(|len| "0".repeat(len)).collect();
        for list in [ones, zeros] {
            for a in &list {
                for b in &list {
                    eq(Maven, a, b);
                }
            }
        }
    }

    #[test]
    fn digits_sort_after_letters() {
        lt(Maven, "J", "7");
        lt(Maven, "c", "7");
        lt(Maven, "aardvark", "zebra");
        lt(Maven, "zebra", "ζέβρα");
        // Only ASCII digits are digits.
        lt(Maven, "\u{0668}", "1");
        lt(Maven, "\u{0668}", "9");
        lt(Maven, "é", "1");
        eq(Maven, "1.é", "1.É");
        eq(Maven, "1.0.0-alpha1", "1.0.0-ALPHA1");
    }

    #[test]
    fn mng_5568_transitivity() {
        let (a, b, c) = ("6.1.0", "6.1.0rc3", "6.1H.5-beta");
        lt(Maven, b, a);
        lt(Maven, b, c);
        lt(Maven, a, c);
    }

    #[test]
    fn mng_6572_big_numbers() {
        let a = "20190126.230843"; // resembles a SNAPSHOT
        let b = "1234567890.12345"; // 10 digit number
        let c = "123456789012345.1H.5-beta"; // 15 digit number
        let d = "12345678901234567890.1H.5-beta"; // 20 digit number
        ascending(Maven, &[a, b, c, d]);
    }

    #[test]
    fn mng_6964_zero_then_qualifier() {
        lt(Maven, "1-0.alpha", "1");
        lt(Maven, "1-0.beta", "1");
        lt(Maven, "1-0.alpha", "1-0.beta");
    }

    #[test]
    fn mng_7644_dot_qualifier_is_dash_qualifier() {
        for x in [
            "abc",
            "alpha",
            "a",
            "beta",
            "b",
            "def",
            "milestone",
            "m",
            "RC",
        ] {
            lt(Maven, &format!("1.0.0.{x}1"), &format!("1.0.0-{x}2"));
            eq(Maven, &format!("2-{x}"), &format!("2.0.{x}"));
            eq(Maven, &format!("2-{x}"), &format!("2.0.0.{x}"));
            eq(Maven, &format!("2.0.{x}"), &format!("2.0.0.{x}"));
        }
    }

    #[test]
    fn mng_7714_final_before_service_pack() {
        lt(Maven, "1.0.final-redhat", "1.0-sp1-redhat");
        lt(Maven, "1.0.final-redhat", "1.0-sp-1-redhat");
        lt(Maven, "1.0.final-redhat", "1.0-sp.1-redhat");
    }

    #[test]
    fn locale_independent_case() {
        eq(
            Maven,
            "1-abcdefghijklmnopqrstuvwxyz",
            "1-ABCDEFGHIJKLMNOPQRSTUVWXYZ",
        );
    }

    #[test]
    fn canonical_forms() {
        // MNG-7700
        assert_eq!(canonical("0.x"), "x");
        assert_eq!(canonical("0.2"), "0.2");
        assert_eq!(canonical("1.0.0"), "1");
        assert_eq!(canonical("1-alpha-1"), "1-alpha1");
        assert_eq!(canonical("1.0-SNAPSHOT"), "1-snapshot");
        assert_eq!(canonical("1.0.0.RC1"), "1-rc1");
        // Canonical forms are fixed points.
        for v in VERSIONS_QUALIFIER
            .iter()
            .chain(&VERSIONS_NUMBER)
            .chain(&["0.x", "0-x", "0.rc", "0-1"])
        {
            let c = canonical(v);
            assert_eq!(canonical(&c), c, "canonical of {v}");
        }
    }

    #[test]
    fn qualifier_chain_from_pom_reference() {
        // "alpha" < "beta" < "milestone" < "rc" = "cr" < "snapshot" < "" = "final" = "ga" < "sp"
        ascending(
            Maven,
            &[
                "1-alpha",
                "1-beta",
                "1-milestone",
                "1-rc",
                "1-snapshot",
                "1",
                "1-sp",
            ],
        );
        eq(Maven, "1-cr", "1-rc");
        // The POM reference's examples.
        lt(Maven, "1", "1.1");
        lt(Maven, "1-snapshot", "1");
        lt(Maven, "1", "1-sp");
        lt(Maven, "1-foo2", "1-foo10");
        eq(Maven, "1.foo", "1-foo"); // MNG-7644: `.X` is read as `-X`
        lt(Maven, "1-foo", "1-1");
        lt(Maven, "1-1", "1.1");
        eq(Maven, "1.ga", "1-ga");
        eq(Maven, "1-ga", "1-0");
        eq(Maven, "1-0", "1.0");
        eq(Maven, "1.0", "1");
        lt(Maven, "1-ga", "1-sp");
        lt(Maven, "1-ga-1", "1-sp-1");
        lt(Maven, "1-a1", "1-alpha-2");
    }

    #[test]
    fn real_world_versions() {
        // log4j-core, jackson-databind, spring as OSV lists them.
        ascending(
            Maven,
            &[
                "0",
                "2.0-beta9",
                "2.0-rc1",
                "2.0",
                "2.3.1",
                "2.12.2",
                "2.15.0",
                "2.16.0",
                "2.17.1",
            ],
        );
        ascending(
            Maven,
            &[
                "2.9.10", "2.9.10.1", "2.9.10.8", "2.10.0", "2.12.7.1", "2.13.4.2",
            ],
        );
        // Unknown qualifiers sort after the release: Maven puts Jackson's
        // `2.10.0.pr1` after `2.10.0`, and a timestamped snapshot after its base.
        lt(Maven, "2.10.0", "2.10.0.pr1");
        lt(Maven, "1.0", "1.0-20240101.123456-1");
        lt(Maven, "5.3.0-M1", "5.3.0-RC1");
        lt(Maven, "5.3.0-RC1", "5.3.0");
        lt(Maven, "31.1-android", "31.1-jre"); // guava flavours: unknown qualifiers sort lexically
        lt(Maven, "31.1-jre", "32.0.0-android");
        lt(Maven, "1.0-SNAPSHOT", "1.0");
    }

    #[test]
    fn validity() {
        valid(Maven, "1.0");
        valid(Maven, "1.0-SNAPSHOT");
        valid(Maven, "whatever-ComparableVersion-accepts");
        invalid(Maven, "[1.0,2.0)");
        invalid(Maven, "${project.version}");
        invalid(Maven, "1.0 beta");
        invalid(Maven, &"1".repeat(257));
    }
}

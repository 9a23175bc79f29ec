//! Debian versions, as dpkg orders them (`[epoch:]upstream[-revision]`).
//!
//! Epochs compare as numbers, then upstream versions, then revisions, each
//! with dpkg's `verrevcmp`: alternating runs of non-digits, compared
//! character by character with `~` before the end of the string, the end
//! before letters and letters before other characters, and runs of digits,
//! compared as numbers.

use std::cmp::Ordering;

#[derive(Debug, Clone)]
pub struct DpkgVersion {
    epoch: u32,
    upstream: String,
    revision: String,
}

impl Ord for DpkgVersion {
    fn cmp(&self, other: &Self) -> Ordering {
        self.epoch
            .cmp(&other.epoch)
            .then_with(|| verrevcmp(self.upstream.as_bytes(), other.upstream.as_bytes()))
            .then_with(|| verrevcmp(self.revision.as_bytes(), other.revision.as_bytes()))
    }
}

impl PartialOrd for DpkgVersion {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for DpkgVersion {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for DpkgVersion {}

/// dpkg's `order`: the weight of a character in a non-digit run; `None`
/// (the end of the string) and digits weigh 0.
fn order(c: Option<u8>) -> i32 {
    match c {
        None => 0,
        Some(c) if c.is_ascii_digit() => 0,
        Some(c) if c.is_ascii_alphabetic() => i32::from(c),
        Some(b'~') => -1,
        Some(c) => i32::from(c) + 256,
    }
}

/// dpkg's `verrevcmp`.
fn verrevcmp(a: &[u8], b: &[u8]) -> Ordering {
    let (mut i, mut j) = (0, 0);
    let non_digit = |s: &[u8], k: usize| s.get(k).is_some_and(|c| !c.is_ascii_digit());
    let digit = |s: &[u8], k: usize| s.get(k).is_some_and(u8::is_ascii_digit);
    while i < a.len() || j < b.len() {
        while non_digit(a, i) || non_digit(b, j) {
            let (ac, bc) = (order(a.get(i).copied()), order(b.get(j).copied()));
            if ac != bc {
                return ac.cmp(&bc);
            }
            i += 1;
            j += 1;
        }
        while a.get(i) == Some(&b'0') {
            i += 1;
        }
        while b.get(j) == Some(&b'0') {
            j += 1;
        }
        // Equal-length runs are decided by their first differing digit;
        // otherwise the longer run is the larger number.
        let mut first_diff = Ordering::Equal;
        while digit(a, i) && digit(b, j) {
            if first_diff.is_eq() {
                first_diff = a[i].cmp(&b[j]);
            }
            i += 1;
            j += 1;
        }
        if digit(a, i) {
            return Ordering::Greater;
        }
        if digit(b, j) {
            return Ordering::Less;
        }
        if first_diff.is_ne() {
            return first_diff;
        }
    }
    Ordering::Equal
}

/// dpkg's `parseversion`, treating its warnings (upstream not starting with
/// a digit, characters outside the allowed sets) as errors too.
pub fn parse(s: &str) -> Option<DpkgVersion> {
    if s.is_empty() || s.contains(|c: char| c.is_ascii_whitespace()) {
        return None;
    }
    let (epoch, rest) = match s.split_once(':') {
        Some((epoch, rest)) => {
            if epoch.is_empty() || !epoch.bytes().all(|b| b.is_ascii_digit()) || rest.is_empty() {
                return None;
            }
            // dpkg limits epochs to INT_MAX.
            let epoch: u32 = epoch.parse().ok()?;
            if epoch > i32::MAX as u32 {
                return None;
            }
            (epoch, rest)
        }
        None => (0, s),
    };
    let (upstream, revision) = match rest.rsplit_once('-') {
        Some((_, "")) => return None,
        Some((upstream, revision)) => (upstream, revision),
        None => (rest, ""),
    };
    let upstream_ok = upstream.as_bytes().first().is_some_and(u8::is_ascii_digit)
        && upstream
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b".-+~:".contains(&b));
    let revision_ok = revision
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b".+~".contains(&b));
    if !upstream_ok || !revision_ok {
        return None;
    }
    Some(DpkgVersion {
        epoch,
        upstream: upstream.to_string(),
        revision: revision.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Ecosystem::Debian;
    use crate::version::test_util::*;

    #[test]
    fn dpkg_perl_test_vectors() {
        // scripts/t/Dpkg_Version.t: a, b, expected sign of compare(a, b).
        let cases: &[(&str, &str, i8)] = &[
            ("1.0-1", "2.0-2", -1),
            ("2.2~rc-4", "2.2-1", -1),
            ("2.2-1", "2.2~rc-4", 1),
            ("1.0000-1", "1.0-1", 0),
            ("1", "0:1", 0),
            ("0", "0:0-0", 0),
            ("2:2.5", "1:7.5", 1),
            ("1:0foo", "0foo", 1),
            ("0:0foo", "0foo", 0),
            ("0foo", "0foo", 0),
            ("0foo-0", "0foo", 0),
            ("0foo", "0foo-0", 0),
            ("0foo", "0fo", 1),
            ("0foo-0", "0foo+", -1),
            ("0foo~1", "0foo", -1),
            ("0foo~foo+Bar", "0foo~foo+bar", -1),
            ("0foo~~", "0foo~", -1),
            ("1~", "1", -1),
            (
                "12345+that-really-is-some-ver-0",
                "12345+that-really-is-some-ver-10",
                -1,
            ),
            ("0foo-0", "0foo-01", -1),
            ("0foo.bar", "0foobar", 1),
            ("0foo.bar", "0foo1bar", 1),
            ("0foo.bar", "0foo0bar", 1),
            ("0foo1bar-1", "0foobar-1", -1),
            ("0foo2.0", "0foo2", 1),
            ("0foo2.0.0", "0foo2.10.0", -1),
            ("0foo2.0", "0foo2.0.0", -1),
            ("0foo2.0", "0foo2.10", -1),
            ("0foo2.1", "0foo2.10", -1),
            ("1.09", "1.9", 0),
            ("1.0.8+nmu1", "1.0.8", 1),
            ("3.11", "3.10+nmu1", 1),
            ("0.9j-20080306-4", "0.9i-20070324-2", 1),
            ("1.2.0~b7-1", "1.2.0~b6-1", 1),
            ("1.011-1", "1.06-2", 1),
            ("0.0.9+dfsg1-1", "0.0.8+dfsg1-3", 1),
            ("4.6.99+svn6582-1", "4.6.99+svn6496-1", 1),
            ("53", "52", 1),
            ("0.9.9~pre122-1", "0.9.9~pre111-1", 1),
            ("2:2.3.2-2+lenny2", "2:2.3.2-2", 1),
            ("1:3.8.1-1", "3.8.GA-1", 1),
            ("1.0.1+gpl-1", "1.0.1-2", 1),
            ("1a", "1000a", -1),
        ];
        for &(a, b, sign) in cases {
            match sign {
                -1 => lt(Debian, a, b),
                1 => lt(Debian, b, a),
                _ => eq(Debian, a, b),
            }
        }
    }

    #[test]
    fn tilde_sorts_before_everything() {
        // Debian Policy 5.6.12: ~~ < ~~a < ~ < (end) < a.
        ascending(Debian, &["1~~", "1~~a", "1~", "1", "1a"]);
        ascending(
            Debian,
            &[
                "1.0~alpha1",
                "1.0~beta1",
                "1.0~rc1",
                "1.0",
                "1.0+dfsg",
                "1.0.1",
            ],
        );
    }

    #[test]
    fn epochs_override_upstream() {
        lt(Debian, "2.0", "1:0.1");
        lt(Debian, "1:9.9", "2:0.0");
        eq(Debian, "0:1.0", "1.0");
    }

    #[test]
    fn revisions_compare_last() {
        // `+` sorts before `.`: both are non-letters, ordered by ASCII.
        ascending(
            Debian,
            &["1.0-1", "1.0-1+deb11u1", "1.0-1.1", "1.0-2", "1.0-10"],
        );
        lt(Debian, "1.0-1~bpo11+1", "1.0-1");
        // The last hyphen splits the revision off; upstream may contain hyphens.
        lt(Debian, "1.0-beta-1", "1.0-beta-2");
        eq(Debian, "1.0", "1.0-0");
    }

    #[test]
    fn letters_before_symbols() {
        lt(Debian, "1.0a", "1.0+");
        lt(Debian, "1.0a", "1.0.");
        lt(Debian, "1.0Z", "1.0a");
        lt(Debian, "1.0+", "1.0.");
    }

    #[test]
    fn real_world_versions() {
        // openssl, glibc, curl as Debian trackers and OSV list them.
        ascending(
            Debian,
            &[
                "0",
                "1.1.1n-0+deb10u3",
                "1.1.1n-0+deb11u4",
                "1.1.1w-0+deb11u1",
                "3.0.11-1~deb12u1",
                "3.0.11-1~deb12u2",
            ],
        );
        lt(Debian, "2.31-13+deb11u5", "2.31-13+deb11u6");
        lt(Debian, "7.74.0-1.3+deb11u7", "7.74.0-1.3+deb11u10");
        lt(Debian, "1:2.38.1-5", "1:2.38.1-5+deb12u1");
        lt(Debian, "2:8.2.2434-3+deb11u1", "2:9.0.1378-2");
    }

    #[test]
    fn huge_numbers_do_not_overflow() {
        lt(
            Debian,
            "1.99999999999999999999999",
            "1.100000000000000000000000",
        );
        eq(Debian, "1.0000000000000000000000001", "1.1");
    }

    #[test]
    fn validity() {
        for s in [
            "1.0",
            "1:1.0-1",
            "1.0+dfsg-1ubuntu0.1",
            "2:1.0~rc1-1",
            "1:2:3",
            "1.0-1.2~bpo1",
        ] {
            valid(Debian, s);
        }
        for s in [
            "1.0 1",
            "a:1.0",
            ":1.0",
            "1:",
            "1.0-",
            "-1",
            "1.0_1",
            "1.0-1_1",
            "-1:1.0",
            "99999999999:1.0",
            "2147483648:1.0",
            "abc",
            "1:-1",
        ] {
            invalid(Debian, s);
        }
        valid(Debian, "2147483647:1.0");
    }

    #[test]
    fn verrevcmp_direct() {
        assert_eq!(verrevcmp(b"", b""), Ordering::Equal);
        assert_eq!(verrevcmp(b"", b"0"), Ordering::Equal);
        assert_eq!(verrevcmp(b"~", b""), Ordering::Less);
        assert_eq!(verrevcmp(b"a", b""), Ordering::Greater);
    }
}

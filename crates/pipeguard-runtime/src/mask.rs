//! Streaming masking: known secret values, their encodings, and whatever the
//! secret rules recognise, replaced by a marker as the bytes stream through.
//!
//! The unit of work is the line. Complete lines are masked and written at
//! once, in batches as large as a read; only the unfinished last line is
//! held back. That is what makes the output independent of how the input was
//! chunked: no pattern contains a newline (multi-line values are split into
//! their lines) and single-line rules never look past one, so masking a
//! batch of lines is masking each line.
//!
//! A line longer than [`CAP`] would otherwise grow without bound, so it is
//! masked in rounds: each round looks at the first `CAP` bytes, and emits
//! them up to a cut `keep` bytes before the end that no match straddles.
//! Any match starting before the cut ends inside the window, because `keep`
//! is longer than every pattern. Rounds depend only on the line's content,
//! never on read sizes, so the chunking does not matter there either.
//!
//! When the input pauses in the middle of a line (a prompt, a progress bar),
//! [`Masker::flush_idle`] emits the part of it that cannot be the start of a
//! secret: everything before the longest tail that is a proper prefix of some
//! pattern. A half-written secret therefore never leaves.

use std::io::{self, Write};
use std::sync::Arc;

use aho_corasick::{AhoCorasick, AhoCorasickKind, MatchKind};
use memchr::memmem;
use pipeguard_secrets::Scanner;
use zeroize::Zeroizing;

use crate::encode;

/// Lines longer than this are masked in rounds instead of held whole.
pub const CAP: usize = 256 * 1024;
/// How far back from a round's window end the cut is placed at least: rule
/// matches (single-line ones reach at most a few KiB) must fit in it too.
const RULE_KEEP: usize = 8 * 1024;

/// Why a value was not taken for masking.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    #[error("the value is empty")]
    Empty,
    #[error(
        "the value is {len} bytes, shorter than the minimum of {min}; masking it would mangle the log"
    )]
    TooShort { len: usize, min: usize },
}

/// Collects values, then builds one automaton over every form of every one.
pub struct MaskSetBuilder {
    values: Vec<Zeroizing<Vec<u8>>>,
    min_len: usize,
    marker: Vec<u8>,
    rules: Option<Arc<Scanner>>,
}

impl Default for MaskSetBuilder {
    fn default() -> Self {
        MaskSetBuilder {
            values: Vec::new(),
            min_len: pipeguard_core::run::DEFAULT_MIN_LENGTH,
            marker: b"***".to_vec(),
            rules: None,
        }
    }
}

impl MaskSetBuilder {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn min_length(mut self, n: usize) -> Self {
        self.min_len = n.max(1);
        self
    }

    pub fn marker(mut self, marker: &str) -> Self {
        self.marker = marker.as_bytes().to_vec();
        self
    }

    /// Also mask what these secret rules find (single-line rules; private
    /// key blocks are handled line by line instead).
    pub fn rules(mut self, scanner: Arc<Scanner>) -> Self {
        self.rules = Some(scanner);
        self
    }

    /// Adds a value to mask. A value with surrounding whitespace (read from
    /// a file with its newline) is also masked without it.
    pub fn add(&mut self, value: &[u8]) -> Result<(), Refused> {
        let trimmed = value.trim_ascii();
        if trimmed.is_empty() {
            return Err(Refused::Empty);
        }
        if trimmed.len() < self.min_len {
            return Err(Refused::TooShort {
                len: trimmed.len(),
                min: self.min_len,
            });
        }
        self.values.push(Zeroizing::new(value.to_vec()));
        if trimmed.len() != value.len() {
            self.values.push(Zeroizing::new(trimmed.to_vec()));
        }
        Ok(())
    }

    pub fn build(self) -> io::Result<MaskSet> {
        let mut patterns: Vec<Zeroizing<Vec<u8>>> = Vec::new();
        for v in &self.values {
            for (_, form) in encode::variants(v) {
                let form = Zeroizing::new(form);
                // A line of a multi-line value can itself be short or blank.
                if form.len() >= self.min_len && !form.contains(&b'\n') {
                    patterns.push(form);
                }
            }
        }
        patterns.sort_unstable_by(|a, b| a.as_slice().cmp(b.as_slice()));
        patterns.dedup_by(|a, b| a.as_slice() == b.as_slice());
        let max_len = patterns.iter().map(|p| p.len()).max().unwrap_or(0);
        let ac = if patterns.is_empty() {
            None
        } else {
            let build = |kind| {
                AhoCorasick::builder()
                    .match_kind(MatchKind::LeftmostLongest)
                    .kind(kind)
                    .build(patterns.iter().map(|p| p.as_slice()))
            };
            // A DFA is the fastest to search; with very many long values it
            // may exceed the size limit, and the automatic choice is fine.
            Some(
                build(Some(AhoCorasickKind::DFA))
                    .or_else(|_| build(None))
                    .map_err(io::Error::other)?,
            )
        };
        let prefilter = Prefilter::new(&patterns);
        Ok(MaskSet {
            ac,
            prefilter,
            max_len,
            keep: max_len.max(RULE_KEEP) + 1,
            patterns,
            marker: self.marker,
            rules: self.rules,
            values: self.values.len(),
            key_header: memmem::Finder::new(b"PRIVATE KEY-----").into_owned(),
        })
    }
}

/// Everything a [`Masker`] looks for. Shared (read-only) by the maskers of
/// several streams.
pub struct MaskSet {
    ac: Option<AhoCorasick>,
    /// Where the automaton needs to look at all; `None` when some pattern
    /// is too short for it.
    prefilter: Option<Prefilter>,
    max_len: usize,
    /// Sorted and deduplicated, for the "could this tail start a secret?"
    /// question of [`Masker::flush_idle`].
    patterns: Vec<Zeroizing<Vec<u8>>>,
    keep: usize,
    marker: Vec<u8>,
    rules: Option<Arc<Scanner>>,
    values: usize,
    key_header: memmem::Finder<'static>,
}

impl std::fmt::Debug for MaskSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MaskSet")
            .field("values", &self.values)
            .field("patterns", &self.patterns.len())
            .field("rules", &self.rules.is_some())
            .finish()
    }
}

impl MaskSet {
    /// How many values (counting a trimmed copy separately) are masked.
    pub fn values(&self) -> usize {
        self.values
    }

    /// How many distinct byte strings (all forms of all values) are searched.
    pub fn patterns(&self) -> usize {
        self.patterns.len()
    }

    /// Whether some pattern starts with `tail` and is longer than it.
    fn is_proper_prefix(&self, tail: &[u8]) -> bool {
        let i = self.patterns.partition_point(|p| p.as_slice() < tail);
        // Patterns starting with `tail` sort right at `i`; `tail` itself
        // may be the first of them.
        self.patterns[i..]
            .iter()
            .take(2)
            .any(|p| p.len() > tail.len() && p.starts_with(tail))
    }

    /// Spans to mask in `seg` from known values and rules, sorted, merged.
    fn spans(&self, seg: &[u8], name: &str, spans: &mut Vec<(usize, usize)>) {
        spans.clear();
        // The rule engine costs several times the known-value search, so on
        // a large batch it runs on two halves (split at a newline: its
        // single-line rules never look across one) while this thread also
        // does the known values.
        let split = if self.rules.is_some() && seg.len() >= PARALLEL_MIN {
            memchr::memchr(b'\n', &seg[seg.len() / 2..]).map(|i| seg.len() / 2 + i + 1)
        } else {
            None
        };
        match split {
            Some(mid) => {
                let (mut first, second) = rayon::join(
                    || {
                        let mut v = Vec::new();
                        self.known(seg, &mut v);
                        self.rule_spans(&seg[..mid], 0, name, &mut v);
                        v
                    },
                    || {
                        let mut v = Vec::new();
                        self.rule_spans(&seg[mid..], mid, name, &mut v);
                        v
                    },
                );
                first.extend(second);
                spans.extend(first);
            }
            None => {
                self.known(seg, spans);
                self.rule_spans(seg, 0, name, spans);
            }
        }
        spans.sort_unstable();
        merge(spans);
    }

    /// Known-value matches: the automaton runs only over the regions the
    /// prefilter cannot rule out.
    fn known(&self, seg: &[u8], spans: &mut Vec<(usize, usize)>) {
        let Some(ac) = &self.ac else {
            return;
        };
        let Some(pf) = &self.prefilter else {
            spans.extend(ac.find_iter(seg).map(|m| (m.start(), m.end())));
            return;
        };
        let reach = self.max_len;
        let mut region: Option<(usize, usize)> = None;
        let flush = |r: (usize, usize), spans: &mut Vec<(usize, usize)>| {
            spans.extend(
                ac.find_iter(&seg[r.0..r.1])
                    .map(|m| (r.0 + m.start(), r.0 + m.end())),
            );
        };
        pf.candidates(seg, |j| {
            let lo = j.saturating_sub(reach);
            let hi = (j + reach).min(seg.len());
            region = match region {
                Some((s, e)) if lo <= e => Some((s, e.max(hi))),
                Some(r) => {
                    flush(r, spans);
                    Some((lo, hi))
                }
                None => Some((lo, hi)),
            };
        });
        if let Some(r) = region {
            flush(r, spans);
        }
    }

    fn rule_spans(&self, seg: &[u8], offset: usize, name: &str, spans: &mut Vec<(usize, usize)>) {
        if let Some(scanner) = &self.rules {
            let engine = scanner.engine();
            spans.extend(
                engine
                    .scan(seg, name)
                    .into_iter()
                    .filter(|m| !engine.rules()[m.rule].multiline)
                    .map(|m| (offset + m.start, offset + m.end)),
            );
        }
    }
}

/// Batches at least this large run the rule engine on two threads.
const PARALLEL_MIN: usize = 64 * 1024;

/// A sampled q-gram filter in front of the automaton. Every pattern is at
/// least `min` bytes long, so every occurrence contains a whole q-byte gram
/// starting at a multiple of `step = min - q + 1`; checking only those grams
/// against a bitset of all the patterns' grams rules out almost all of a log
/// while reading one position in `step`. A hit only means "look here": the
/// automaton then runs over the region around it, and since every match lies
/// inside the region of one of its grams, and overlapping regions are
/// merged, the matches are exactly those of a search over the whole text.
///
/// Grams are 8 bytes when the patterns allow it: hex forms of secrets are
/// full of digit-only 4-grams, and so is every timestamp in a log.
struct Prefilter {
    bits: Vec<u64>,
    /// The exact grams, asked only after the bitset says maybe: repeated
    /// log words that collide in the bitset would otherwise send the
    /// automaton over the same text again and again.
    exact: std::collections::HashSet<u64, std::hash::BuildHasherDefault<GramHasher>>,
    shift: u32,
    step: usize,
    gram: usize,
}

impl Prefilter {
    fn new(patterns: &[Zeroizing<Vec<u8>>]) -> Option<Prefilter> {
        let min = patterns.iter().map(|p| p.len()).min()?;
        let gram = if min >= 16 {
            8
        } else if min >= 5 {
            4
        } else {
            return None;
        };
        let grams: usize = patterns.iter().map(|p| p.len() - gram + 1).sum();
        // About 8 bits per gram (one in eight samples goes on to the exact
        // set), capped at 64 KiB: the table is read at every sample, so it
        // must stay in the fastest cache; the exact set is read rarely.
        let log2 = (grams * 8)
            .next_power_of_two()
            .trailing_zeros()
            .clamp(16, 19);
        let mut pf = Prefilter {
            bits: vec![0u64; 1 << (log2 - 6)],
            exact: Default::default(),
            shift: 64 - log2,
            step: min - gram + 1,
            gram,
        };
        for p in patterns {
            for w in p.windows(gram) {
                let v = pf.value(w);
                let h = pf.hash(v);
                pf.bits[h >> 6] |= 1 << (h & 63);
                pf.exact.insert(v);
            }
        }
        Some(pf)
    }

    /// The gram at the start of `at` as a number (`at` holds at least
    /// `self.gram` bytes). Fixed-size reads, so no call to memcpy.
    #[inline]
    fn value(&self, at: &[u8]) -> u64 {
        if self.gram == 8 {
            u64::from_le_bytes([at[0], at[1], at[2], at[3], at[4], at[5], at[6], at[7]])
        } else {
            u64::from(u32::from_le_bytes([at[0], at[1], at[2], at[3]]))
        }
    }

    #[inline]
    fn hash(&self, v: u64) -> usize {
        (v.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> self.shift) as usize
    }

    /// Calls `hit` with every sampled position whose gram may be a
    /// pattern's.
    #[inline]
    fn candidates(&self, seg: &[u8], mut hit: impl FnMut(usize)) {
        if seg.len() < self.gram {
            return;
        }
        let last = seg.len() - self.gram;
        let mut j = 0;
        while j <= last {
            let v = self.value(&seg[j..]);
            let h = self.hash(v);
            if self.bits[h >> 6] & (1 << (h & 63)) != 0 && self.exact.contains(&v) {
                hit(j);
            }
            j += self.step;
        }
    }
}

/// Grams are already well mixed by the bitset's multiply; the exact set
/// needs no SipHash (it is asked for a tenth of a log's samples).
#[derive(Default)]
struct GramHasher(u64);

impl std::hash::Hasher for GramHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0.rotate_left(8) ^ u64::from(b)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
    }

    fn write_u64(&mut self, v: u64) {
        self.0 = (v ^ (v >> 29)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    }
}

/// Merges overlapping spans of a sorted list in place.
fn merge(spans: &mut Vec<(usize, usize)>) {
    let mut w = 0;
    for r in 0..spans.len() {
        let (s, e) = spans[r];
        if w > 0 && s < spans[w - 1].1 {
            spans[w - 1].1 = spans[w - 1].1.max(e);
        } else {
            spans[w] = (s, e);
            w += 1;
        }
    }
    spans.truncate(w);
}

/// The masking state of one stream.
pub struct Masker {
    set: Arc<MaskSet>,
    /// Name the secret rules see (some rules apply only to some files).
    name: String,
    /// The unfinished last line (or the rest of a long one).
    pending: Vec<u8>,
    spans: Vec<(usize, usize)>,
    out: Vec<u8>,
    /// Inside a `-----BEGIN … PRIVATE KEY-----` block.
    in_key: bool,
}

impl Masker {
    pub fn new(set: Arc<MaskSet>, name: &str) -> Masker {
        Masker {
            set,
            name: name.to_string(),
            pending: Vec::new(),
            spans: Vec::new(),
            out: Vec::new(),
            in_key: false,
        }
    }

    /// Bytes held back, waiting for the rest of their line.
    pub fn pending(&self) -> usize {
        self.pending.len()
    }

    /// Masks what `data` completes and writes it; keeps the unfinished line.
    pub fn feed<W: Write + ?Sized>(&mut self, data: &[u8], w: &mut W) -> io::Result<()> {
        // Pieces no larger than a round keep the batch of complete lines
        // below CAP, where a batch and its lines mask alike.
        for piece in data.chunks(CAP) {
            self.feed_piece(piece, w)?;
        }
        Ok(())
    }

    fn feed_piece<W: Write + ?Sized>(&mut self, mut data: &[u8], w: &mut W) -> io::Result<()> {
        if !self.pending.is_empty() {
            let Some(nl) = memchr::memchr(b'\n', data) else {
                self.pending.extend_from_slice(data);
                return self.rounds(w);
            };
            self.pending.extend_from_slice(&data[..=nl]);
            data = &data[nl + 1..];
            self.rounds(w)?;
            let line = std::mem::take(&mut self.pending);
            let res = self.mask_whole(&line, w);
            self.pending = line;
            self.pending.clear();
            res?;
        }
        if let Some(nl) = memchr::memrchr(b'\n', data) {
            self.mask_whole(&data[..=nl], w)?;
            data = &data[nl + 1..];
        }
        self.pending.extend_from_slice(data);
        self.rounds(w)
    }

    /// Emits the safe part of an unfinished line after the input paused.
    pub fn flush_idle<W: Write + ?Sized>(&mut self, w: &mut W) -> io::Result<()> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let p = std::mem::take(&mut self.pending);
        let from = p.len().saturating_sub(self.set.keep);
        let mut cut = (from..p.len())
            .find(|&i| self.set.is_proper_prefix(&p[i..]))
            .unwrap_or(p.len());
        let set = Arc::clone(&self.set);
        set.spans(&p, &self.name, &mut self.spans);
        if let Some(&(s, _)) = self.spans.iter().find(|&&(s, e)| s < cut && cut < e) {
            cut = s;
        }
        let res = if cut > 0 {
            self.spans.retain(|&(_, e)| e <= cut);
            self.emit(&p[..cut], w)
        } else {
            Ok(())
        };
        self.pending = p;
        self.pending.drain(..cut);
        res
    }

    /// Masks and writes whatever is left (end of input).
    pub fn finish<W: Write + ?Sized>(&mut self, w: &mut W) -> io::Result<()> {
        let p = std::mem::take(&mut self.pending);
        let res = if p.is_empty() {
            Ok(())
        } else {
            self.mask_whole(&p, w)
        };
        self.pending = p;
        self.pending.clear();
        res
    }

    /// Masks a long pending line in rounds until less than CAP is left.
    fn rounds<W: Write + ?Sized>(&mut self, w: &mut W) -> io::Result<()> {
        loop {
            let content = self.pending.len() - usize::from(self.pending.last() == Some(&b'\n'));
            if content < CAP {
                return Ok(());
            }
            let p = std::mem::take(&mut self.pending);
            let window = &p[..CAP];
            let set = Arc::clone(&self.set);
            set.spans(window, &self.name, &mut self.spans);
            let mut cut = CAP.saturating_sub(set.keep).max(1);
            if let Some(&(s, _)) = self.spans.iter().find(|&&(s, e)| s < cut && cut < e) {
                cut = s;
            }
            if cut == 0 {
                // One match covering nearly the whole window: mask the
                // whole round rather than stall.
                cut = CAP.saturating_sub(set.keep).max(1);
                self.spans.clear();
                self.spans.push((0, cut));
            }
            self.spans.retain(|&(_, e)| e <= cut);
            let res = self.emit(&window[..cut], w);
            self.pending = p;
            self.pending.drain(..cut);
            res?;
        }
    }

    fn mask_whole<W: Write + ?Sized>(&mut self, seg: &[u8], w: &mut W) -> io::Result<()> {
        let set = Arc::clone(&self.set);
        set.spans(seg, &self.name, &mut self.spans);
        self.emit(seg, w)
    }

    /// Writes `seg` with `self.spans` (plus private key lines) replaced.
    fn emit<W: Write + ?Sized>(&mut self, seg: &[u8], w: &mut W) -> io::Result<()> {
        if self.in_key || self.set.key_header.find(seg).is_some() {
            self.key_spans(seg);
        }
        if self.spans.is_empty() {
            return w.write_all(seg);
        }
        self.out.clear();
        let mut at = 0;
        for &(s, e) in &self.spans {
            self.out.extend_from_slice(&seg[at..s]);
            self.out.extend_from_slice(&self.set.marker);
            at = e;
        }
        self.out.extend_from_slice(&seg[at..]);
        w.write_all(&self.out)
    }

    /// The lines between a private key's BEGIN and END lines are masked
    /// whole: the key rule needs the complete block, which a stream may not
    /// hold yet, and a key line is secret on its own.
    fn key_spans(&mut self, seg: &[u8]) {
        let mut extra = Vec::new();
        let mut start = 0;
        while start < seg.len() {
            let end = memchr::memchr(b'\n', &seg[start..]).map_or(seg.len(), |i| start + i);
            let line = &seg[start..end];
            if self.in_key {
                if memmem::find(line, b"-----END").is_some() {
                    self.in_key = false;
                } else if !line.is_empty() {
                    extra.push((start, end));
                }
            } else if self.set.key_header.find(line).is_some()
                && memmem::find(line, b"-----BEGIN").is_some()
                && memmem::find(line, b"-----END").is_none()
            {
                self.in_key = true;
            }
            start = end + 1;
        }
        if !extra.is_empty() {
            self.spans.extend(extra);
            self.spans.sort_unstable();
            merge(&mut self.spans);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(values: &[&str]) -> Arc<MaskSet> {
        let mut b = MaskSetBuilder::new();
        for v in values {
            b.add(v.as_bytes()).expect("long enough");
        }
        Arc::new(b.build().expect("build"))
    }

    fn mask_chunks(set: &Arc<MaskSet>, chunks: &[&[u8]]) -> Vec<u8> {
        let mut m = Masker::new(Arc::clone(set), "<test>");
        let mut out = Vec::new();
        for c in chunks {
            m.feed(c, &mut out).expect("write");
        }
        m.finish(&mut out).expect("write");
        out
    }

    #[test]
    fn raw_and_encoded_values_are_replaced() {
        let s = set(&["hunter2-Secret!"]);
        let input = b"a hunter2-Secret! b\nb64 xaHVudGVyMi1TZWNyZXQh\nhex 68756e746572322d53656372657421 end\n";
        let out = mask_chunks(&s, &[input]);
        assert_eq!(
            String::from_utf8_lossy(&out),
            "a *** b\nb64 x*** \nhex *** end\n".replace("*** \n", "***\n")
        );
    }

    #[test]
    fn short_values_are_refused() {
        let mut b = MaskSetBuilder::new();
        assert_eq!(b.add(b"abc"), Err(Refused::TooShort { len: 3, min: 6 }));
        assert_eq!(b.add(b"  \n"), Err(Refused::Empty));
        assert!(b.add(b"abcdef").is_ok());
    }

    #[test]
    fn a_value_split_across_feeds_is_masked() {
        let s = set(&["correct-horse-battery"]);
        let out = mask_chunks(&s, &[b"pw=correct-ho", b"rse-battery done\n"]);
        assert_eq!(out, b"pw=*** done\n");
    }

    #[test]
    fn idle_flush_holds_back_a_possible_prefix() {
        let s = set(&["correct-horse-battery"]);
        let mut m = Masker::new(Arc::clone(&s), "<test>");
        let mut out = Vec::new();
        m.feed(b"Password for correct-ho", &mut out).expect("write");
        assert!(out.is_empty(), "an unfinished line waits");
        m.flush_idle(&mut out).expect("write");
        assert_eq!(out, b"Password for ");
        m.feed(b"rse-battery\n", &mut out).expect("write");
        assert_eq!(out, b"Password for ***\n");
        // A prompt with nothing secret-like at its end leaves entirely.
        let mut out = Vec::new();
        m.feed(b"Continue? [y/N] ", &mut out).expect("write");
        m.flush_idle(&mut out).expect("write");
        assert_eq!(out, b"Continue? [y/N] ");
    }

    #[test]
    fn long_lines_are_flushed_in_rounds_and_stay_masked() {
        let s = set(&["correct-horse-battery"]);
        let mut m = Masker::new(Arc::clone(&s), "<test>");
        let mut out = Vec::new();
        let mut line = vec![b'x'; 3 * CAP + 17];
        // Secrets around where the round cuts fall.
        for at in [CAP - s.keep - 5, 2 * CAP - 2 * s.keep, 3 * CAP - 10] {
            line[at..at + 21].copy_from_slice(b"correct-horse-battery");
        }
        for chunk in line.chunks(4096) {
            m.feed(chunk, &mut out).expect("write");
            assert!(m.pending() < CAP + 4096, "memory stays bounded");
        }
        m.feed(b"\n", &mut out).expect("write");
        m.finish(&mut out).expect("write");
        assert_eq!(memmem::find_iter(&out, b"***").count(), 3);
        assert!(memmem::find(&out, b"correct").is_none());
        assert_eq!(out.len(), line.len() + 1 - 3 * (21 - 3));
    }

    #[test]
    fn private_key_block_lines_are_masked() {
        let s = Arc::new(MaskSetBuilder::new().build().expect("build"));
        let input = b"ok\n-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\nQyNTUxOQAAACBvbG9s\n-----END OPENSSH PRIVATE KEY-----\nafter\n";
        let out = mask_chunks(&s, &[&input[..30], &input[30..60], &input[60..]]);
        assert_eq!(
            String::from_utf8_lossy(&out),
            "ok\n-----BEGIN OPENSSH PRIVATE KEY-----\n***\n***\n-----END OPENSSH PRIVATE KEY-----\nafter\n"
        );
    }

    #[test]
    fn prefilter_finds_exactly_what_the_automaton_finds() {
        // Short values get 4-byte grams, long ones 8-byte grams.
        let short = set(&["correct-horse-battery", "Tr0ub4dor&3xyz", "hunter2-Secret!"]);
        let long = set(&[
            "correct-horse-battery",
            "Tr0ub4dor&3xyz-and-more",
            "hunter2-Secret!-long",
        ]);
        assert_eq!(short.prefilter.as_ref().map(|p| p.gram), Some(4));
        assert_eq!(long.prefilter.as_ref().map(|p| p.gram), Some(8));
        for s in [short, long] {
            let ac = s.ac.as_ref().expect("automaton");
            let pieces: [&[u8]; 7] = [
                b"correct-horse-battery",
                b"Tr0ub4dor&3xyz",
                b"aHVudGVyMi1TZWNyZXQh",
                b"correct-horse",
                b" log text ",
                b"\n",
                b"Tr0ub4dor&3xyzTr0ub",
            ];
            let mut x: u32 = 99;
            for _ in 0..300 {
                let mut text = Vec::new();
                for _ in 0..40 {
                    x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
                    let p = pieces[(x >> 16) as usize % pieces.len()];
                    text.extend_from_slice(p);
                    text.extend(std::iter::repeat_n(b'q', (x >> 8) as usize % 50));
                }
                let mut got = Vec::new();
                s.known(&text, &mut got);
                let want: Vec<(usize, usize)> =
                    ac.find_iter(&text).map(|m| (m.start(), m.end())).collect();
                assert_eq!(got, want);
            }
        }
    }

    #[test]
    fn binary_passes_through_byte_identical() {
        let s = set(&["correct-horse-battery"]);
        let data: Vec<u8> = (0..200_000u32).map(|i| (i * 7919 % 251) as u8).collect();
        let chunks: Vec<&[u8]> = data.chunks(1000).collect();
        assert_eq!(mask_chunks(&s, &chunks), data);
    }
}

//! The two-stage matcher. One Aho-Corasick pass over all rules' keywords finds
//! where rules *could* match; each rule's regex then runs only on small
//! windows around its own keyword hits. No regex ever sees text without a hit,
//! which is what makes scanning hundreds of rules cost about one pass.

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, AhoCorasickKind, MatchKind};
use pipeguard_core::Confidence;
use regex::bytes::Regex;

use crate::filters;
use crate::rules::{MULTILINE_WINDOW, Rule};
use crate::validate::Verdict;

/// How far back from a keyword a window starts, at most: regexes may match a
/// little before their keyword (`db_password = …` has `password` inside).
const BACK: usize = 1024;
/// How far past the keyword a single-line window may reach on a long line.
const FORWARD: usize = 4096;

/// (rule, secret start, secret end, confidence, length of the whole match).
type Candidate = (usize, usize, usize, Confidence, usize);

/// One accepted match in one buffer.
#[derive(Debug, Clone)]
pub struct Match {
    pub rule: usize,
    pub secret: String,
    /// Byte span of the secret in the buffer.
    pub start: usize,
    pub end: usize,
    /// 1-based line and column (in characters) of the secret's start.
    pub line: u32,
    pub column: u32,
    pub end_line: u32,
    pub end_column: u32,
    /// The line holding the secret, secret redacted, trimmed to a sane length.
    pub snippet: String,
    pub confidence: Confidence,
}

pub struct Engine {
    rules: Vec<Rule>,
    ac: AhoCorasick,
    /// For each keyword pattern, the rules that listed it.
    keyword_rules: Vec<Vec<u32>>,
    keyword_len: Vec<usize>,
    allow_values: Vec<Regex>,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("rules", &self.rules.len())
            .finish()
    }
}

impl Engine {
    pub fn new(rules: Vec<Rule>, allow_values: &[Regex]) -> anyhow::Result<Engine> {
        let mut keywords: Vec<String> = Vec::new();
        let mut keyword_rules: Vec<Vec<u32>> = Vec::new();
        for (i, r) in rules.iter().enumerate() {
            for k in &r.keywords {
                match keywords.iter().position(|x| x == k) {
                    Some(p) => {
                        if !keyword_rules[p].contains(&(i as u32)) {
                            keyword_rules[p].push(i as u32)
                        }
                    }
                    None => {
                        keywords.push(k.clone());
                        keyword_rules.push(vec![i as u32]);
                    }
                }
            }
        }
        // Standard semantics + overlapping search: a keyword that is a prefix
        // of another (`sk-` and `sk-ant-`) must still report both.
        let ac = AhoCorasickBuilder::new()
            .ascii_case_insensitive(true)
            .match_kind(MatchKind::Standard)
            .kind(Some(AhoCorasickKind::DFA))
            .build(&keywords)
            .or_else(|_| {
                AhoCorasickBuilder::new()
                    .ascii_case_insensitive(true)
                    .match_kind(MatchKind::Standard)
                    .build(&keywords)
            })?;
        let keyword_len = keywords.iter().map(String::len).collect();
        Ok(Engine {
            rules,
            ac,
            keyword_rules,
            keyword_len,
            allow_values: allow_values.to_vec(),
        })
    }

    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    /// Finds every accepted secret in `data`. `path` only decides which rules
    /// apply (generic rules skip lockfiles).
    pub fn scan(&self, data: &[u8], path: &str) -> Vec<Match> {
        let skip_generic = filters::is_hash_file(path) || filters::is_translation_file(path);
        // Per-rule merged windows, built as the keyword hits stream by.
        let mut windows: Vec<Vec<(usize, usize)>> = Vec::new();
        let mut touched: Vec<u32> = Vec::new();
        // Rules whose `paths` exclude this file, decided on their first hit.
        let mut barred: Vec<u32> = Vec::new();
        for hit in self.ac.find_overlapping_iter(data) {
            let pat = hit.pattern().as_usize();
            for &ri in &self.keyword_rules[pat] {
                let rule = &self.rules[ri as usize];
                if (skip_generic && rule.generic) || barred.contains(&ri) {
                    continue;
                }
                if windows.is_empty() {
                    windows.resize_with(self.rules.len(), Vec::new);
                }
                let ws = window_start(data, hit.start());
                let we = window_end(
                    data,
                    hit.start() + self.keyword_len[pat],
                    if rule.multiline {
                        MULTILINE_WINDOW
                    } else {
                        FORWARD
                    },
                );
                let list = &mut windows[ri as usize];
                if list.is_empty() {
                    if !rule.applies_to(path) {
                        barred.push(ri);
                        continue;
                    }
                    touched.push(ri);
                }
                match list.last_mut() {
                    Some(last) if ws <= last.1 => last.1 = last.1.max(we),
                    _ => list.push((ws, we)),
                }
            }
        }
        if touched.is_empty() {
            return Vec::new();
        }
        let mut found: Vec<Candidate> = Vec::new();
        for &ri in &touched {
            let rule = &self.rules[ri as usize];
            let Some((regex, group)) = rule.regex() else {
                continue;
            };
            let mut last_end = 0;
            for &(ws, we) in &windows[ri as usize] {
                for caps in regex.captures_iter(&data[ws..we]) {
                    let Some(g) = caps.get(*group) else {
                        continue;
                    };
                    let (s, e) = (ws + g.start(), ws + g.end());
                    if s < last_end || s == e {
                        continue;
                    }
                    let context = caps.get(0).map_or(0, |m| m.len());
                    if let Some(conf) = self.accept(rule, &data[s..e], data, s) {
                        found.push((ri as usize, s, e, conf, context));
                        last_end = e;
                    }
                }
            }
        }
        self.drop_overlaps(&mut found);
        let mut lines = LineIndex::new(data);
        found.sort_by_key(|&(_, s, _, _, _)| s);
        // Every accepted secret is redacted in every snippet: a line with an
        // access key id and its secret key must not show one in full in the
        // other's snippet.
        let spans: Vec<(usize, usize)> = found.iter().map(|&(_, s, e, _, _)| (s, e)).collect();
        let mut matches = found
            .into_iter()
            .map(|(rule, start, end, confidence, _)| {
                let secret = String::from_utf8_lossy(&data[start..end]).into_owned();
                let (line, column, ls) = lines.locate(start);
                let (end_line, end_column, _) = lines.locate_from(end, line, ls);
                let snippet = snippet(data, ls, start, end, &secret, &spans);
                Match {
                    rule,
                    secret,
                    start,
                    end,
                    line,
                    column,
                    end_line,
                    end_column,
                    snippet,
                    confidence,
                }
            })
            .collect::<Vec<Match>>();
        redact_known_secrets(&mut matches);
        matches
    }

    /// Applies filters and validators to one candidate.
    fn accept(&self, rule: &Rule, secret: &[u8], data: &[u8], at: usize) -> Option<Confidence> {
        let text = std::str::from_utf8(secret).ok()?;
        if filters::reject(text, rule.generic, rule.min_entropy).is_some() {
            return None;
        }
        if rule.generic && filters::in_digest_map(data, at, secret.len()) {
            return None;
        }
        if self.allow_values.iter().any(|re| re.is_match(secret)) {
            return None;
        }
        let ls = memchr::memrchr(b'\n', &data[..at]).map_or(0, |i| i + 1);
        let le = memchr::memchr(b'\n', &data[at..]).map_or(data.len(), |i| at + i);
        if filters::line_allows(&data[ls..le]) {
            return None;
        }
        let mut confidence = rule.confidence;
        if let Some(v) = rule.validate {
            match v.check(text) {
                Verdict::Valid => confidence = Confidence::High,
                Verdict::Doubtful => confidence = Confidence::Low,
                Verdict::Invalid => return None,
            }
        }
        Some(confidence)
    }

    /// When two rules claim overlapping text (a `ghp_` token inside a generic
    /// `token = "…"` assignment), keep one finding: the specific rule over the
    /// generic one, then the more confident, the more severe, the longer
    /// secret, then a rule that knows the secret's own shape over a pairing
    /// rule, and last the rule whose regex required more context around it
    /// (a GitHub App key over a bare RSA key). Ties go to the lower rule index,
    /// so the choice never depends on where keywords happen to occur.
    fn drop_overlaps(&self, found: &mut Vec<Candidate>) {
        if found.len() < 2 {
            return;
        }
        let rank = |&(ri, s, e, c, ctx): &Candidate| {
            let r = &self.rules[ri];
            (
                !r.generic,
                c,
                r.severity,
                e - s,
                !r.pairing,
                ctx,
                std::cmp::Reverse(ri),
            )
        };
        found.sort_by_key(|f| std::cmp::Reverse(rank(f)));
        let mut kept: Vec<Candidate> = Vec::with_capacity(found.len());
        for cand in found.drain(..) {
            let overlaps = kept.iter().any(|k| cand.1 < k.2 && k.1 < cand.2);
            if !overlaps {
                kept.push(cand);
            }
        }
        *found = kept;
    }
}

fn window_start(data: &[u8], pos: usize) -> usize {
    let floor = pos.saturating_sub(BACK);
    match memchr::memrchr(b'\n', &data[floor..pos]) {
        Some(i) => floor + i + 1,
        None => floor,
    }
}

fn window_end(data: &[u8], pos: usize, reach: usize) -> usize {
    let pos = pos.min(data.len());
    let ceil = (pos + reach).min(data.len());
    if reach == MULTILINE_WINDOW {
        return ceil;
    }
    match memchr::memchr(b'\n', &data[pos..ceil]) {
        Some(i) => pos + i,
        None => ceil,
    }
}

/// Incremental offset → (line, column) for offsets visited in increasing order.
struct LineIndex<'a> {
    data: &'a [u8],
    line: u32,
    line_start: usize,
}

impl<'a> LineIndex<'a> {
    fn new(data: &'a [u8]) -> Self {
        LineIndex {
            data,
            line: 1,
            line_start: 0,
        }
    }

    fn locate(&mut self, offset: usize) -> (u32, u32, usize) {
        if offset < self.line_start {
            self.line = 1;
            self.line_start = 0;
        }
        for i in memchr::memchr_iter(b'\n', &self.data[self.line_start..offset]) {
            let _ = i;
            self.line += 1;
        }
        if let Some(i) = memchr::memrchr(b'\n', &self.data[self.line_start..offset]) {
            self.line_start += i + 1;
        }
        let col = column(&self.data[self.line_start..offset]);
        (self.line, col, self.line_start)
    }

    fn locate_from(&self, offset: usize, line: u32, line_start: usize) -> (u32, u32, usize) {
        let seg = &self.data[line_start..offset];
        let extra = memchr::memchr_iter(b'\n', seg).count() as u32;
        let ls = memchr::memrchr(b'\n', seg).map_or(line_start, |i| line_start + i + 1);
        (line + extra, column(&self.data[ls..offset]), ls)
    }
}

fn column(prefix: &[u8]) -> u32 {
    String::from_utf8_lossy(prefix).chars().count() as u32 + 1
}

/// Redacts, in every snippet, every secret found anywhere in the same data:
/// a value accepted on one line may appear again on another line in a
/// context no rule matches (found by the `secrets_scan_bytes` fuzz target: a
/// Dockerfile password repeated in a later line's snippet).
fn redact_known_secrets(matches: &mut [Match]) {
    let mut secrets: Vec<&str> = matches
        .iter()
        .map(|m| m.secret.as_str())
        .filter(|s| !s.is_empty())
        .collect();
    secrets.sort_unstable();
    secrets.dedup();
    if secrets.len() < 2 {
        // One secret: `snippet` already redacted all of its occurrences.
        return;
    }
    let redacted: Vec<String> = secrets
        .iter()
        .map(|s| pipeguard_core::Redacted::new(*s).to_string())
        .collect();
    let Ok(ac) = AhoCorasickBuilder::new()
        .match_kind(MatchKind::LeftmostLongest)
        .build(&secrets)
    else {
        return;
    };
    for m in matches.iter_mut() {
        m.snippet = ac.replace_all(&m.snippet, &redacted);
    }
}

/// The text around a secret on its line, with the secret (and every other
/// accepted secret of `spans` that the context reaches) redacted. Built from
/// offsets, never by searching a cut line, so no part of a secret survives.
fn snippet(
    data: &[u8],
    line_start: usize,
    start: usize,
    end: usize,
    secret: &str,
    spans: &[(usize, usize)],
) -> String {
    const CONTEXT: usize = 80;
    let line_end = memchr::memchr(b'\n', &data[end..]).map_or(data.len(), |i| end + i);
    let mut from = start.saturating_sub(CONTEXT).max(line_start);
    let mut to = (end + CONTEXT).min(line_end);
    // Widen the window to whole secrets, so that a cut never leaves the
    // visible half of a neighbouring secret outside its redaction.
    for &(s, e) in spans {
        if s < from && e > from {
            from = s.max(line_start);
        }
        if s < to && e > to {
            to = e.min(line_end);
        }
    }
    let red = pipeguard_core::Redacted::new(secret.to_string()).to_string();
    let plain = |a: usize, b: usize| String::from_utf8_lossy(&data[a..b]).replace(secret, &red);
    let mut body = String::new();
    let mut pos = from;
    for &(s, e) in spans.iter().filter(|&&(s, e)| s < to && e > from) {
        let (s, e) = (s.max(from), e.min(to));
        if s < pos {
            continue;
        }
        body.push_str(&plain(pos, s));
        let value = String::from_utf8_lossy(&data[s..e]).into_owned();
        body.push_str(&pipeguard_core::Redacted::new(value).to_string());
        pos = e;
    }
    if pos <= start {
        // `spans` always holds this secret; this only guards a caller that
        // passes none.
        body.push_str(&plain(pos, start));
        body.push_str(&red);
        pos = end;
    }
    body.push_str(&plain(pos, to));
    let mut out = String::new();
    if from > line_start {
        out.push('…');
    }
    out.push_str(body.trim());
    if to < line_end {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn engine() -> Engine {
        Engine::new(crate::rules::builtin().expect("rules"), &[]).expect("engine")
    }

    /// Regression (issue #9, canary test): a Dockerfile line with an access
    /// key id and a secret key showed the key id in full in the secret key's
    /// snippet, and the other way round.
    #[test]
    fn a_snippet_redacts_every_secret_on_its_line() {
        let id = format!("AKIA{}", "QX7RZ2M5W4KD3NVL");
        let key = format!("{}{}", "q8Zt1vB7kWm3Rx9Lp2Yc", "N6fH0sJd4Ga5Ue8Qi7To");
        let line = format!("ENV AWS_ACCESS_KEY_ID={id} AWS_SECRET_ACCESS_KEY={key}\n");
        let found = engine().scan(line.as_bytes(), "Dockerfile");
        assert!(
            found.len() >= 2,
            "{:?}",
            found.iter().map(|m| m.rule).collect::<Vec<_>>()
        );
        for m in &found {
            assert!(!m.snippet.contains(&id), "key id in {:?}", m.snippet);
            assert!(!m.snippet.contains(&key), "secret key in {:?}", m.snippet);
            assert!(
                m.snippet.starts_with("ENV AWS_ACCESS_KEY_ID="),
                "{:?}",
                m.snippet
            );
        }
    }

    /// Regression (fuzz target `secrets_scan_bytes`,
    /// fuzz/regressions/secrets_scan_bytes): a secret found on one line was
    /// shown in full in the snippet of another line's finding, where it
    /// stood in a context no rule matched.
    #[test]
    fn a_secret_found_once_is_redacted_in_every_snippet() {
        let data = include_bytes!(
            "../../../fuzz/regressions/secrets_scan_bytes/crash-1c0403b2db32724a16d921abf4de7d861e7bda1d"
        );
        let found = engine().scan(&data[1..], "notes.txt");
        assert!(!found.is_empty());
        for m in &found {
            for other in &found {
                if other.secret.chars().count() >= 8 {
                    assert!(
                        !m.snippet.contains(&other.secret),
                        "a {}-char secret in {:?}",
                        other.secret.len(),
                        m.rule
                    );
                }
            }
        }
    }

    /// Hex digits from a seed, built at run time so that this file holds no
    /// digest-shaped literal.
    fn hex(seed: u64, len: usize) -> String {
        let mut x = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (0..len)
            .map(|_| {
                x = x
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                char::from(b"0123456789abcdef"[(x >> 60) as usize])
            })
            .collect()
    }

    fn rules_found(data: &str, path: &str) -> Vec<String> {
        let e = engine();
        e.scan(data.as_bytes(), path)
            .into_iter()
            .map(|m| e.rules()[m.rule].id.clone())
            .collect()
    }

    /// Regression (issue #14): generic password rules fired on translation
    /// files (53 of 98 findings on one Node app were UI strings).
    #[test]
    fn translations_are_not_secrets() {
        let ja = "{\n  \"FORGOT_PASSWORD\": \"パスワードをお忘れですか\",\n  \"PASSWORD_TOO_SHORT\": \"パスワードは8文字以上\",\n  \"API_TOKEN_HELP\": \"アクセストークン\"\n}\n";
        assert_eq!(rules_found(ja, "src/strings.json"), Vec::<String>::new());
        let nb = "{\n  \"SHOW_PASSWORD_HINT\": \"VIS_KODEORD_RÅD\",\n  \"PASSWORD_SAVED\": \"Passordet_er_lagret_nå!\"\n}\n";
        assert_eq!(rules_found(nb, "src/nb.json"), Vec::<String>::new());
        // ASCII text in a catalogue: the same line is reported elsewhere.
        let de = "{\n  \"PASSWORD_TOO_WEAK\": \"Passwort_zu_schwach!\"\n}\n";
        assert_eq!(rules_found(de, "src/config.json"), vec!["generic-password"]);
        assert_eq!(
            rules_found(de, "client/locales/de.json"),
            Vec::<String>::new()
        );
    }

    /// Regression (issue #14): a JSON map of package names to digests, one
    /// name of which reads as a secret's, was reported.
    #[test]
    fn maps_of_names_to_digests_are_not_secrets() {
        let alone = format!("{{\"secret-handshake\": \"{}\"}}\n", hex(1, 48));
        assert_eq!(rules_found(&alone, "deps.json"), vec!["generic-api-key"]);
        let map = format!(
            "{{\n  \"lodash\": \"{}\",\n  \"react\": \"{}\",\n  \"secret-handshake\": \"{}\",\n  \"token-stream\": \"{}\"\n}}\n",
            hex(2, 48),
            hex(3, 48),
            hex(1, 48),
            hex(4, 48)
        );
        assert_eq!(rules_found(&map, "deps.json"), Vec::<String>::new());
        let minified = map.replace("\n", "").replace(' ', "");
        assert_eq!(rules_found(&minified, "deps.json"), Vec::<String>::new());
        use base64::Engine as _;
        let digest: Vec<u8> = (0u8..64).map(|i| i.wrapping_mul(37) ^ 0x5c).collect();
        let b64 = base64::engine::general_purpose::STANDARD.encode(digest);
        let bare = format!("{{\"secret-handshake\": \"{b64}\"}}\n");
        assert_eq!(rules_found(&bare, "deps.json"), vec!["generic-api-key"]);
        let sri = format!("{{\"secret-handshake\": \"sha512-{b64}\"}}\n");
        assert_eq!(rules_found(&sri, "deps.json"), Vec::<String>::new());
        assert_eq!(
            rules_found(&alone, "dist/package-hashes.json"),
            Vec::<String>::new()
        );
    }

    /// Regression (issue #14): an Ethereum address under a secret-looking
    /// key is public; a private key under the same key is still reported.
    #[test]
    fn ethereum_addresses_are_not_secrets() {
        let address = format!("{{\"token\": \"0x{}\"}}\n", hex(6, 40));
        assert_eq!(rules_found(&address, "tokens.json"), Vec::<String>::new());
        let key = format!("{{\"wallet_secret\": \"0x{}\"}}\n", hex(7, 64));
        assert_eq!(rules_found(&key, "wallet.json"), vec!["generic-api-key"]);
    }

    /// Issue #14: an AWS secret key under a name no AWS rule knows was only
    /// a low-confidence generic key; a few lines after its access key id it
    /// is a critical finding. Under its usual name the usual rule keeps it.
    #[test]
    fn an_aws_secret_key_is_found_by_its_key_id() {
        let id = format!("AKIA{}", "QX7RZ2M5W4KD3NVL");
        let key = format!("{}{}", "q8Zt1vB7kWm3Rx9Lp2Yc", "N6fH0sJd4Ga5Ue8Qi7To");
        let yaml = format!("uploads:\n  key: {id}\n  region: eu-west-1\n  secret: '{key}'\n");
        let e = engine();
        let found = e.scan(yaml.as_bytes(), "config.yml");
        let paired: Vec<_> = found
            .iter()
            .filter(|m| e.rules()[m.rule].id == "aws-secret-access-key-paired")
            .collect();
        assert_eq!(paired.len(), 1, "{:?}", rules_found(&yaml, "config.yml"));
        assert_eq!(paired[0].secret, key);
        assert_eq!(paired[0].confidence, Confidence::High);
        assert!(!rules_found(&yaml, "config.yml").contains(&"generic-api-key".to_string()));
        let env = format!("AWS_ACCESS_KEY_ID={id}\nAWS_SECRET_ACCESS_KEY={key}\n");
        let ids = rules_found(&env, ".env");
        assert!(
            ids.contains(&"aws-secret-access-key".to_string()),
            "{ids:?}"
        );
        assert!(
            !ids.contains(&"aws-secret-access-key-paired".to_string()),
            "{ids:?}"
        );
        // Too far from any key id: not paired.
        let far = format!("key: {id}\n{}secret: '{key}'\n", "x: 1\n".repeat(8));
        assert!(
            !rules_found(&far, "config.yml").contains(&"aws-secret-access-key-paired".to_string())
        );
    }

    /// A neighbouring secret cut by the 80-character context window is
    /// widened to, then redacted whole, never shown as a visible fragment.
    #[test]
    fn a_context_cut_never_leaves_part_of_a_secret() {
        let id = format!("AKIA{}", "QX7RZ2M5W4KD3NVL");
        let key = format!("{}{}", "q8Zt1vB7kWm3Rx9Lp2Yc", "N6fH0sJd4Ga5Ue8Qi7To");
        let pad = "x".repeat(70);
        let line = format!("aws_access_key_id={id} {pad} aws_secret_access_key={key}\n");
        for m in engine().scan(line.as_bytes(), "creds") {
            assert!(!m.snippet.contains(&id[6..]), "{:?}", m.snippet);
            assert!(!m.snippet.contains(&key[6..]), "{:?}", m.snippet);
        }
    }
}

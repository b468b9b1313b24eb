//! `strata exec --redact`: a streaming filter that replaces every resolved
//! secret in a child's output with `***` ([docs/runtime.md](https://docs.rs/strata-secrets/latest/strata_secrets/guide/runtime/index.html)).
//!
//! What is matched, for each secret value of 4 characters or more: the
//! value itself, each of its lines (a PEM key), its JSON-escaped form, its
//! URL-encoded forms (`%20` and `+` for a space) and its base64 forms
//! (standard and URL-safe, with and without padding).
//!
//! How it streams: the output is searched as it arrives (Aho-Corasick,
//! leftmost-longest). Only the longest tail of what arrived that is a
//! proper beginning of some pattern is held back, until the next write
//! says whether the secret goes on. No pattern holds a line break, so a
//! line that ends is never held back; a tail without a line break is held
//! until more comes, the child exits, or [`Filter::flush`] gives it up
//! (the supervisor does after a second of silence).

use aho_corasick::{AhoCorasick, MatchKind};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use zeroize::Zeroize;

/// What a secret becomes.
pub const MASK: &[u8] = b"***";

/// The shortest secret that is masked, in characters.
pub const MIN_SECRET_CHARS: usize = 4;

/// RFC 3986's unreserved characters are left as they are.
const URL_ESCAPED: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// Every form of `secret` the filter looks for (none when it is shorter
/// than [`MIN_SECRET_CHARS`]).
pub fn forms(secret: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    if secret.chars().count() < MIN_SECRET_CHARS {
        return out;
    }
    let mut add = |s: String| {
        if s.chars().count() >= MIN_SECRET_CHARS && !s.contains(['\n', '\r']) {
            out.push(s);
        }
    };
    for line in secret.split(['\n', '\r']) {
        add(line.to_owned());
        if let Some(escaped) = json_escaped(line) {
            add(escaped);
        }
    }
    if let Some(escaped) = json_escaped(secret) {
        add(escaped);
    }
    add(utf8_percent_encode(secret, URL_ESCAPED).to_string());
    add(form_urlencoded::byte_serialize(secret.as_bytes()).collect());
    for engine in [&STANDARD, &STANDARD_NO_PAD, &URL_SAFE, &URL_SAFE_NO_PAD] {
        add(engine.encode(secret));
    }
    out
}

/// `text` as it appears inside a JSON string (without the quotes).
fn json_escaped(text: &str) -> Option<String> {
    let quoted = serde_json::to_string(text).ok()?;
    Some(quoted[1..quoted.len() - 1].to_owned())
}

/// The patterns of a set of secrets, ready to filter any number of streams.
pub struct Redactor {
    /// `None` when there is nothing to mask.
    matcher: Option<AhoCorasick>,
    /// The patterns, sorted, to find the tail to hold back.
    sorted: Vec<Vec<u8>>,
    /// Whether some pattern starts with this byte.
    starts: [bool; 256],
    /// The longest pattern's length.
    longest: usize,
}

impl std::fmt::Debug for Redactor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Redactor")
            .field("patterns", &self.sorted.len())
            .finish_non_exhaustive()
    }
}

impl Drop for Redactor {
    fn drop(&mut self) {
        for p in &mut self.sorted {
            p.zeroize();
        }
    }
}

/// A redactor that cannot be built (too many patterns for the automaton).
#[derive(Debug, thiserror::Error)]
#[error("cannot build the output filter for {patterns} secret forms: {reason}")]
pub struct BuildError {
    patterns: usize,
    reason: String,
}

impl Redactor {
    /// The filter for `secrets` (each value as the child gets it).
    pub fn new<'a>(secrets: impl IntoIterator<Item = &'a str>) -> Result<Self, BuildError> {
        let mut sorted: Vec<Vec<u8>> = secrets
            .into_iter()
            .flat_map(forms)
            .map(String::into_bytes)
            .collect();
        sorted.sort_unstable();
        sorted.dedup();
        let matcher = if sorted.is_empty() {
            None
        } else {
            Some(
                AhoCorasick::builder()
                    .match_kind(MatchKind::LeftmostLongest)
                    .build(&sorted)
                    .map_err(|e| BuildError {
                        patterns: sorted.len(),
                        reason: e.to_string(),
                    })?,
            )
        };
        let mut starts = [false; 256];
        for p in &sorted {
            starts[usize::from(p[0])] = true;
        }
        let longest = sorted.iter().map(Vec::len).max().unwrap_or(0);
        Ok(Redactor {
            matcher,
            sorted,
            starts,
            longest,
        })
    }

    /// How many patterns (forms of secrets) the filter looks for.
    #[cfg(test)]
    pub fn patterns(&self) -> usize {
        self.sorted.len()
    }

    /// A filter for one stream.
    pub fn stream(&self) -> Filter<'_> {
        Filter {
            redactor: self,
            held: Vec::new(),
        }
    }

    /// Whether `tail` is the beginning of some pattern, and shorter.
    fn begins_pattern(&self, tail: &[u8]) -> bool {
        let at = self.sorted.partition_point(|p| p.as_slice() < tail);
        self.sorted[at..]
            .iter()
            .take(2)
            .any(|p| p.len() > tail.len() && p.starts_with(tail))
    }

    /// The first index `i >= from` where `buf[i..]` is a proper beginning
    /// of some pattern (`buf.len()` when there is none).
    fn hold_point(&self, buf: &[u8], from: usize) -> usize {
        let first = from.max(buf.len().saturating_sub(self.longest.saturating_sub(1)));
        (first..buf.len())
            .find(|&i| self.starts[usize::from(buf[i])] && self.begins_pattern(&buf[i..]))
            .unwrap_or(buf.len())
    }
}

/// The redactor in use, replaced when the secrets change (a rotated
/// secret is masked in its old and its new value); each stream picks up the
/// new one at its next write.
pub struct Masks {
    current: std::sync::Mutex<(u64, std::sync::Arc<Redactor>)>,
}

impl std::fmt::Debug for Masks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Masks").finish_non_exhaustive()
    }
}

impl Masks {
    /// Masks of `redactor`.
    pub fn new(redactor: Redactor) -> Self {
        Masks {
            current: std::sync::Mutex::new((0, std::sync::Arc::new(redactor))),
        }
    }

    /// Puts `redactor` in use.
    pub fn replace(&self, redactor: Redactor) {
        if let Ok(mut guard) = self.current.lock() {
            *guard = (guard.0 + 1, std::sync::Arc::new(redactor));
        }
    }

    /// The redactor in use and its generation (`None`: a thread panicked
    /// holding the lock, and nothing can be masked for sure).
    pub fn current(&self) -> Option<(u64, std::sync::Arc<Redactor>)> {
        self.current
            .lock()
            .ok()
            .map(|g| (g.0, std::sync::Arc::clone(&g.1)))
    }

    /// The generation in use.
    pub fn generation(&self) -> Option<u64> {
        self.current.lock().ok().map(|g| g.0)
    }
}

/// The filter of one stream: feed it what the child wrote, write out what
/// it gives back.
pub struct Filter<'r> {
    redactor: &'r Redactor,
    /// A tail that may be the start of a secret.
    held: Vec<u8>,
}

impl Drop for Filter<'_> {
    fn drop(&mut self) {
        self.held.zeroize();
    }
}

impl Filter<'_> {
    /// Filters `chunk` (what came after the previous chunks) into `out`.
    pub fn push(&mut self, chunk: &[u8], out: &mut Vec<u8>) {
        if self.held.is_empty() {
            let hold = self.filter(chunk, out, false);
            self.held.extend_from_slice(&chunk[hold..]);
        } else {
            let mut joined = std::mem::take(&mut self.held);
            joined.extend_from_slice(chunk);
            let hold = self.filter(&joined, out, false);
            self.held.extend_from_slice(&joined[hold..]);
            joined.zeroize();
        }
    }

    /// Writes `buf` masked into `out` up to the tail that must wait
    /// (none when `last`), and says where that tail starts.
    fn filter(&self, buf: &[u8], out: &mut Vec<u8>, last: bool) -> usize {
        let redactor = self.redactor;
        let Some(matcher) = &redactor.matcher else {
            out.extend_from_slice(buf);
            return buf.len();
        };
        let mut hold = if last {
            buf.len()
        } else {
            redactor.hold_point(buf, 0)
        };
        let mut done = 0;
        for m in matcher.find_iter(buf) {
            if m.start() >= hold {
                break;
            }
            out.extend_from_slice(&buf[done..m.start()]);
            out.extend_from_slice(MASK);
            done = m.end();
            if done > hold {
                hold = redactor.hold_point(buf, done);
            }
        }
        out.extend_from_slice(&buf[done..hold]);
        hold
    }

    /// Takes what is held back, unfiltered (for a filter that takes over
    /// the stream).
    pub fn take_held(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.held)
    }

    /// How many bytes are held back.
    pub fn held(&self) -> usize {
        self.held.len()
    }

    /// Gives up what is held back (the stream ended, or went quiet): it is
    /// written out, masked where it holds a whole secret.
    pub fn flush(&mut self, out: &mut Vec<u8>) {
        let mut held = std::mem::take(&mut self.held);
        self.filter(&held, out, true);
        held.zeroize();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn filter_all(r: &Redactor, chunks: &[&[u8]]) -> Vec<u8> {
        let mut f = r.stream();
        let mut out = Vec::new();
        for c in chunks {
            f.push(c, &mut out);
        }
        f.flush(&mut out);
        out
    }

    #[test]
    fn every_form_is_masked() {
        let secret = "p@ss word/1+=\"x\"";
        let r = Redactor::new([secret]).unwrap();
        for form in forms(secret) {
            let text = format!("before {form} after\n");
            let out = filter_all(&r, &[text.as_bytes()]);
            assert_eq!(out, b"before *** after\n", "form {form}");
        }
    }

    #[test]
    fn each_line_of_a_key_is_masked() {
        let key = "-----BEGIN KEY-----\nAAAAbbbbCCCC\r\nddddEEEE\n-----END KEY-----\n";
        let r = Redactor::new([key]).unwrap();
        let out = filter_all(&r, &[b"x AAAAbbbbCCCC y\nddddEEEE\n"]);
        assert_eq!(out, b"x *** y\n***\n");
    }

    #[test]
    fn short_secrets_are_not_masked() {
        let r = Redactor::new(["abc", "é€ü"]).unwrap();
        assert_eq!(r.patterns(), 0);
        assert_eq!(filter_all(&r, &[b"abc \xc3\xa9"]), b"abc \xc3\xa9");
    }

    #[test]
    fn a_secret_split_across_writes_is_caught() {
        let r = Redactor::new(["hunter22"]).unwrap();
        let mut f = r.stream();
        let mut out = Vec::new();
        f.push(b"pw=hun", &mut out);
        assert_eq!(out, b"pw=", "the possible start is held back");
        f.push(b"ter22 ok\n", &mut out);
        assert_eq!(out, b"pw=*** ok\n");
        assert_eq!(f.held(), 0);
    }

    #[test]
    fn a_line_without_a_secret_is_not_held_back() {
        let r = Redactor::new(["hunter22"]).unwrap();
        let mut f = r.stream();
        let mut out = Vec::new();
        f.push(b"progress 50% hunt\n", &mut out);
        assert_eq!(out, b"progress 50% hunt\n");
        assert_eq!(f.held(), 0);
    }

    #[test]
    fn the_longer_of_two_secrets_that_share_a_start_wins() {
        let r = Redactor::new(["abcd", "abcdefgh"]).unwrap();
        let mut f = r.stream();
        let mut out = Vec::new();
        f.push(b"[abcd", &mut out);
        assert_eq!(out, b"[", "abcd may go on as abcdefgh");
        f.push(b"efgh]", &mut out);
        f.flush(&mut out);
        assert_eq!(out, b"[***]");
        assert_eq!(filter_all(&r, &[b"[abcd]"]), b"[***]");
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

        /// However the stream is cut, no secret comes out whole, and what
        /// is not a secret comes out as it went in.
        #[test]
        fn splits_never_change_the_output(
            secrets in proptest::collection::vec("[a-d]{4,9}", 1..4),
            noise in proptest::collection::vec("[a-e\n ]{0,12}", 0..6),
            cuts in proptest::collection::vec(0usize..200, 0..8),
        ) {
            let r = Redactor::new(secrets.iter().map(String::as_str)).unwrap();
            let mut text = String::new();
            for (i, n) in noise.iter().enumerate() {
                text.push_str(n);
                text.push_str(&secrets[i % secrets.len()]);
            }
            let bytes = text.as_bytes();
            let whole = filter_all(&r, &[bytes]);
            let mut cuts: Vec<usize> = cuts.into_iter().map(|c| c % (bytes.len() + 1)).collect();
            cuts.sort_unstable();
            let mut chunks: Vec<&[u8]> = Vec::new();
            let mut at = 0;
            for c in cuts {
                chunks.push(&bytes[at..c]);
                at = c;
            }
            chunks.push(&bytes[at..]);
            let split = filter_all(&r, &chunks);
            prop_assert_eq!(&split, &whole);
            let shown = String::from_utf8(whole).unwrap();
            for s in &secrets {
                prop_assert!(!shown.contains(s.as_str()), "{} in {:?}", s, shown);
            }
        }
    }
}

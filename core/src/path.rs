//! The validated [`Path`] newtype: a non-empty list of non-empty segments.

use std::fmt;

/// Why a text or a list of segments is not a valid [`Path`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PathError {
    /// The path has no segments at all.
    #[error("the path is empty")]
    Empty,
    /// One segment is empty (`a..b`, a leading or trailing dot).
    #[error("the path `{path}` has an empty segment at position {index}")]
    EmptySegment {
        /// The path as given.
        path: String,
        /// Zero-based position of the empty segment.
        index: usize,
    },
    /// A segment holds a control character (newline, NUL, ...).
    #[error("the path segment at position {index} holds a control character")]
    ControlCharacter {
        /// Zero-based position of the offending segment.
        index: usize,
    },
    /// More segments, or more text, than any configuration needs.
    #[error(
        "the path is too long: {segments} segments, {bytes} bytes (at most {MAX_SEGMENTS} segments and {MAX_PATH_BYTES} bytes)"
    )]
    TooLong {
        /// Its segments.
        segments: usize,
        /// Its length in bytes, dots included.
        bytes: usize,
    },
}

/// The most segments a path may have (a section walk asks each provider
/// about every prefix of a path, so its cost grows with the square of this).
pub const MAX_SEGMENTS: usize = 64;
/// The longest a path may be, in bytes, dots included.
pub const MAX_PATH_BYTES: usize = 4096;

/// Splits dotted text into its segments (no quoting: every `.` separates),
/// or `None` when it is not a valid path: an empty segment, a control
/// character, or over the limits. The only place dotted text is split.
pub fn split_dotted(dotted: &str) -> Option<Vec<&str>> {
    let mut out = Vec::with_capacity(8);
    out.extend(dotted.split('.'));
    (dotted.len() <= MAX_PATH_BYTES
        && out.len() <= MAX_SEGMENTS
        && out.iter().all(|s| valid_segment(s)))
    .then_some(out)
}

/// Segments of a dotted path that [`split_dotted_on_stack`] splits without
/// allocating; longer paths take [`split_dotted`].
pub const STACK_SEGMENTS: usize = 16;

/// [`split_dotted`] into `stack`, in one pass over the bytes: `None` when
/// the path is not valid or has more than [`STACK_SEGMENTS`] segments.
pub fn split_dotted_on_stack<'a, 's>(
    dotted: &'a str,
    stack: &'s mut [&'a str; STACK_SEGMENTS],
) -> Option<&'s [&'a str]> {
    // split on `.` and check `valid_segment`'s rules on the way (by `char`
    // only for a segment beyond ASCII)
    let mut n = 0;
    let mut start = 0;
    let mut ascii = true;
    for (i, &b) in dotted.as_bytes().iter().enumerate() {
        if b == b'.' {
            *stack.get_mut(n)? = checked_segment(dotted, start, i, ascii)?;
            n += 1;
            start = i + 1;
            ascii = true;
        } else if b < 0x20 || b == 0x7f {
            return None;
        } else if b >= 0x80 {
            ascii = false;
        }
    }
    *stack.get_mut(n)? = checked_segment(dotted, start, dotted.len(), ascii)?;
    Some(&stack[..=n])
}

/// `dotted[start..end]` when it is a valid segment, given that it holds no
/// ASCII control character and whether it is all ASCII.
fn checked_segment(dotted: &str, start: usize, end: usize, ascii: bool) -> Option<&str> {
    let segment = dotted.get(start..end)?;
    if segment.is_empty() || (!ascii && !valid_segment(segment)) {
        return None;
    }
    Some(segment)
}

/// Whether `segment` may be a path segment: not empty, no control
/// character (checked byte by byte; by `char` only beyond ASCII).
pub fn valid_segment(segment: &str) -> bool {
    let ascii_controls = segment
        .bytes()
        .fold(false, |bad, b| bad | (b < 0x20) | (b == 0x7f));
    !segment.is_empty()
        && !ascii_controls
        && (segment.is_ascii() || !segment.chars().any(char::is_control))
}

/// A dotted configuration path such as `destination.bigquery.credentials.project_id`.
///
/// The last segment is the **key**, the others are the **sections**. A path
/// always has at least one segment and no segment is empty or holds a control
/// character, so every naming rule can rely on that.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Path {
    segments: Vec<String>,
}

impl Path {
    /// Parses a dotted path. Segments are split on `.`; there is no quoting.
    pub fn parse(text: &str) -> Result<Self, PathError> {
        if text.is_empty() {
            return Err(PathError::Empty);
        }
        if let Some(segments) = split_dotted(text) {
            return Ok(Self {
                segments: segments.into_iter().map(str::to_owned).collect(),
            });
        }
        // say why: the same split, checked segment by segment
        let segments: Vec<String> = text.split('.').map(str::to_owned).collect();
        Self::check(&segments, || text.to_owned())?;
        Ok(Self { segments })
    }

    /// Builds a path from already split segments (a segment may contain `.`).
    pub fn from_segments<I, S>(segments: I) -> Result<Self, PathError>
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let segments: Vec<String> = segments.into_iter().map(Into::into).collect();
        Self::check(&segments, || segments.join("."))?;
        Ok(Self { segments })
    }

    fn check(segments: &[String], display: impl Fn() -> String) -> Result<(), PathError> {
        if segments.is_empty() {
            return Err(PathError::Empty);
        }
        let bytes = segments.iter().map(|s| s.len() + 1).sum::<usize>() - 1;
        if segments.len() > MAX_SEGMENTS || bytes > MAX_PATH_BYTES {
            return Err(PathError::TooLong {
                segments: segments.len(),
                bytes,
            });
        }
        for (index, segment) in segments.iter().enumerate() {
            if valid_segment(segment) {
                continue;
            }
            if segment.is_empty() {
                return Err(PathError::EmptySegment {
                    path: display(),
                    index,
                });
            }
            return Err(PathError::ControlCharacter { index });
        }
        Ok(())
    }

    /// All segments, sections first and the key last.
    pub fn segments(&self) -> &[String] {
        &self.segments
    }

    /// The last segment.
    pub fn key(&self) -> &str {
        // A path is never empty (checked in every constructor).
        self.segments.last().map(String::as_str).unwrap_or_default()
    }

    /// Every segment but the last.
    pub fn sections(&self) -> &[String] {
        &self.segments[..self.segments.len() - 1]
    }

    /// Number of segments (at least 1).
    pub fn len(&self) -> usize {
        self.segments.len()
    }

    /// Always false: a path has at least one segment. Present for clippy's sake.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// This path with `segment` added at the end.
    pub fn child(&self, segment: &str) -> Result<Self, PathError> {
        let mut segments = self.segments.clone();
        segments.push(segment.to_owned());
        Self::from_segments(segments)
    }

    /// This path with `segment` put in front, e.g. a pipeline name.
    pub fn prefixed(&self, segment: &str) -> Result<Self, PathError> {
        let mut segments = Vec::with_capacity(self.segments.len() + 1);
        segments.push(segment.to_owned());
        segments.extend(self.segments.iter().cloned());
        Self::from_segments(segments)
    }

    /// The first `n` segments (`n` is clamped to 1..=len).
    pub fn truncated(&self, n: usize) -> Self {
        let n = n.clamp(1, self.segments.len());
        Self {
            segments: self.segments[..n].to_vec(),
        }
    }

    /// True when `prefix`'s segments start this path.
    pub fn starts_with(&self, prefix: &Path) -> bool {
        self.segments.starts_with(&prefix.segments)
    }

    /// Joins a path from sections and a key that are already valid segments.
    pub(crate) fn from_valid(segments: Vec<String>) -> Self {
        debug_assert!(!segments.is_empty());
        Self { segments }
    }
}

impl fmt::Display for Path {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.segments.join("."))
    }
}

impl fmt::Debug for Path {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Path({self})")
    }
}

impl std::str::FromStr for Path {
    type Err = PathError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_dotted_paths() {
        let p = Path::parse("destination.bigquery.credentials.project_id").unwrap();
        assert_eq!(p.key(), "project_id");
        assert_eq!(p.sections(), ["destination", "bigquery", "credentials"]);
        assert_eq!(p.to_string(), "destination.bigquery.credentials.project_id");
        assert_eq!(Path::parse("key").unwrap().sections().len(), 0);
    }

    #[test]
    fn rejects_empty_and_control_segments() {
        assert_eq!(Path::parse(""), Err(PathError::Empty));
        assert!(matches!(
            Path::parse("a..b"),
            Err(PathError::EmptySegment { index: 1, .. })
        ));
        assert!(matches!(
            Path::parse(".a"),
            Err(PathError::EmptySegment { index: 0, .. })
        ));
        assert!(matches!(
            Path::parse("a."),
            Err(PathError::EmptySegment { index: 1, .. })
        ));
        assert!(matches!(
            Path::parse("a.b\nc"),
            Err(PathError::ControlCharacter { index: 1 })
        ));
        assert_eq!(
            Path::from_segments(Vec::<String>::new()),
            Err(PathError::Empty)
        );
    }

    #[test]
    fn keeps_spaces_and_punctuation_inside_segments() {
        let p = Path::parse("sources.my source!.key").unwrap();
        assert_eq!(p.segments()[1], "my source!");
    }

    #[test]
    fn prefix_child_and_truncate() {
        let p = Path::parse("a.b").unwrap();
        assert_eq!(p.prefixed("pipe").unwrap().to_string(), "pipe.a.b");
        assert_eq!(p.child("c").unwrap().to_string(), "a.b.c");
        assert_eq!(p.truncated(1).to_string(), "a");
        assert_eq!(p.truncated(0).to_string(), "a");
        assert!(p.child("c").unwrap().starts_with(&p));
        assert!(p.child("").is_err());
    }
}

/// The fast split the resolver uses agrees with [`Path::parse`] on
/// generated hostile input.
#[cfg(test)]
mod properties {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2_000))]

        #[test]
        fn split_dotted_agrees_with_parse(
            text in proptest::string::string_regex(
                "[a-zA-Z0-9_.\\-$()`'\" \\t\\n\\x00\\x1f\\x7f\\u{85}éü🐢=;|&*]{0,80}",
            ).expect("a valid regex")
        ) {
            match Path::parse(&text) {
                Ok(p) => {
                    prop_assert!(p.segments().iter().all(|s| valid_segment(s)));
                    prop_assert_eq!(split_dotted(&text).map(|v| v.len()), Some(p.len()));
                }
                Err(_) => prop_assert!(split_dotted(&text).is_none()),
            }
        }
    }
}

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

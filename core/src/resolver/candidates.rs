//! The paths one lookup asks: the exact path of a get, or every path of a
//! section walk ([docs/lookups.md](https://docs.rs/strata-secrets/latest/strata_secrets/guide/lookups/index.html)), kept as borrowed segments in one list.

use crate::path::Path;

/// The ordered paths of a section walk for `sections` and `key` ([docs/lookups.md](https://docs.rs/strata-secrets/latest/strata_secrets/guide/lookups/index.html)):
/// most specific first, down to the bare key, with the compact `sources`
/// layout inserted third.
pub fn walk_paths(sections: &[String], key: &str) -> Vec<Path> {
    walk_paths_in(sections, None, key)
}

/// The walk for a field of an embedded configuration: `config_section`
/// (the embedded configuration's key, e.g. `credentials`) stays in every
/// path while the sections before it are popped, as dlt does:
/// `destination.postgres.credentials.password`,
/// `destination.credentials.password`, `credentials.password`.
pub fn walk_paths_in(sections: &[String], config_section: Option<&str>, key: &str) -> Vec<Path> {
    let sections: Vec<&str> = sections.iter().map(String::as_str).collect();
    let candidates = Candidates::walk(&sections, config_section, key);
    (0..candidates.len())
        .map(|i| Path::from_valid(candidates.get(i).iter().map(|s| (*s).to_owned()).collect()))
        .collect()
}

/// The paths of one lookup, as borrowed segments in one list: no
/// allocation per path.
pub(crate) struct Candidates<'a> {
    segments: Vec<&'a str>,
    ends: Vec<usize>,
}

impl<'a> Candidates<'a> {
    /// The one path of an exact get.
    pub(crate) fn exact(segments: Vec<&'a str>) -> Self {
        let ends = vec![segments.len()];
        Self { segments, ends }
    }

    /// [docs/lookups.md](https://docs.rs/strata-secrets/latest/strata_secrets/guide/lookups/index.html): most specific first, down to the bare key, with the
    /// compact `sources` layout inserted third.
    pub(crate) fn walk(
        sections: &[&'a str],
        config_section: Option<&'a str>,
        key: &'a str,
    ) -> Self {
        let tail = usize::from(config_section.is_some()) + 1;
        let n = sections.len();
        let mut out = Self {
            segments: Vec::with_capacity((n + 1) * (n + 2) / 2 + (n + 2) * tail + n),
            ends: Vec::with_capacity(n + 2),
        };
        let compact = n >= 3 && sections[0] == "sources" && sections[1] != sections[2];
        for (i, cut) in (0..=n).rev().enumerate() {
            if compact && i == 2 {
                // `sources.<source>...`: never equal to a plain walk path,
                // since sections[1] != sections[2]
                out.segments.push(sections[0]);
                out.segments.extend_from_slice(&sections[2..]);
                out.close(config_section, key);
            }
            out.segments.extend_from_slice(&sections[..cut]);
            out.close(config_section, key);
        }
        out
    }

    fn close(&mut self, config_section: Option<&'a str>, key: &'a str) {
        self.segments.extend(config_section);
        self.segments.push(key);
        self.ends.push(self.segments.len());
    }

    /// How many paths.
    pub(crate) fn len(&self) -> usize {
        self.ends.len()
    }

    /// The `i`-th path.
    pub(crate) fn get(&self, i: usize) -> &[&'a str] {
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        &self.segments[start..self.ends[i]]
    }

    /// The segments `asked` stands for, without the pipeline.
    pub(crate) fn segments_of(&self, asked: Asked) -> &[&'a str] {
        if asked.candidate == BARE {
            std::slice::from_ref(&self.segments[self.ends[0] - 1])
        } else {
            self.get(usize::from(asked.candidate))
        }
    }

    /// The path `asked` stands for, scoped by `pipeline` when it asked the
    /// scoped pass.
    pub(crate) fn path_of(&self, pipeline: Option<&str>, asked: Asked) -> Path {
        let segs = self.segments_of(asked);
        let mut out: Vec<String> = Vec::with_capacity(segs.len() + 1);
        if asked.scoped
            && let Some(p) = pipeline
        {
            out.push(p.to_owned());
        }
        out.extend(segs.iter().map(|s| (*s).to_owned()));
        Path::from_valid(out)
    }
}

/// Which path one question asked: a candidate (or the bare key), scoped by
/// the pipeline or not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Asked {
    /// Index of the candidate; [`BARE`] for the bare key.
    pub(crate) candidate: u16,
    pub(crate) scoped: bool,
}

/// [`Asked::candidate`] of the bare key.
pub(crate) const BARE: u16 = u16::MAX;

impl Asked {
    /// The `i`-th candidate (or the bare key, for [`BARE`]).
    pub(crate) fn new(i: usize, scoped: bool) -> Self {
        let candidate = u16::try_from(i).unwrap_or(BARE);
        Self {
            candidate,
            scoped: scoped && candidate != BARE,
        }
    }
}

/// The questions a provider is asked in one pass: every candidate, or the
/// bare key alone for a provider without sections (`None`: it is not asked
/// in a scoped pass).
pub(crate) fn range_for(
    candidates: &Candidates<'_>,
    sections: bool,
    scoped: bool,
) -> Option<std::ops::Range<usize>> {
    match (sections, scoped) {
        (true, _) => Some(0..candidates.len()),
        (false, false) => Some(usize::from(BARE)..usize::from(BARE) + 1),
        (false, true) => None,
    }
}

//! TOML text to [`Value`], recording the line of every key.

use std::collections::HashMap;
use std::path::Path as FsPath;
use strata_secrets_core::{Error, ErrorKind, Table, Value};
use toml::Spanned;
use toml::de::{DeTable, DeValue};

struct Lines {
    starts: Vec<usize>,
}

impl Lines {
    fn new(text: &str) -> Self {
        let mut starts = vec![0];
        starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        Self { starts }
    }

    /// 1-based line of a byte offset.
    fn line(&self, offset: usize) -> u32 {
        let idx = match self.starts.binary_search(&offset) {
            Ok(i) => i,
            Err(i) => i.saturating_sub(1),
        };
        u32::try_from(idx + 1).unwrap_or(u32::MAX)
    }

    /// 1-based line and character column of a byte offset in `text`.
    fn line_col(&self, text: &str, offset: usize) -> (u32, usize) {
        let line = self.line(offset);
        let start = self.starts[(line as usize).saturating_sub(1)];
        let end = offset.min(text.len());
        let col = text.get(start..end).map(|s| s.chars().count()).unwrap_or(0) + 1;
        (line, col)
    }
}

/// The origin-map key of a path: its segments joined by a character no
/// segment can hold (segments never contain control characters).
pub(crate) fn origin_key<S: AsRef<str>>(segments: &[S]) -> String {
    let mut key = String::with_capacity(segments.iter().map(|s| s.as_ref().len() + 1).sum());
    for (i, s) in segments.iter().enumerate() {
        if i > 0 {
            key.push('\u{1f}');
        }
        key.push_str(s.as_ref());
    }
    key
}

/// Where each path was first defined: file index and 1-based line.
pub(crate) type Origins = HashMap<String, (usize, u32), strata_secrets_core::TableHasher>;

/// Parses `text` (the contents of `file`) into a table value. Lines of keys
/// are recorded in `origins` under `file_index`, unless an earlier file
/// already holds the path. A syntax error names the file, line and column;
/// it never quotes the text.
pub(crate) fn parse_document(
    text: &str,
    file: &FsPath,
    file_index: usize,
    origins: &mut Origins,
) -> Result<Value, Error> {
    let lines = Lines::new(text);
    // about one key per line: no rehashing while recording
    origins.reserve(lines.starts.len());
    let at = |offset: usize, message: &str| {
        let (line, col) = lines.line_col(text, offset);
        Error::new(
            ErrorKind::Parse,
            format!(
                "cannot parse {}: line {line}, column {col}: {}",
                file.display(),
                sanitize(message)
            ),
        )
        .with_file(file)
    };
    let doc = DeTable::parse(text)
        .map_err(|e| at(e.span().map(|s| s.start).unwrap_or(0), e.message()))?;
    let mut ctx = Ctx {
        lines: &lines,
        file_index,
        origins,
        prefix: String::new(),
        bad_number: None,
    };
    let table = ctx.table(doc.get_ref());
    if let Some(offset) = ctx.bad_number {
        return Err(at(offset, "a number out of range"));
    }
    Ok(Value::Table(table))
}

/// Parser messages describe the grammar (`invalid string`, "expected `=`"),
/// but keep them to one line and bounded in length all the same.
fn sanitize(message: &str) -> String {
    let one_line: String = message
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join("; ");
    one_line.chars().take(200).collect()
}

struct Ctx<'a> {
    lines: &'a Lines,
    file_index: usize,
    origins: &'a mut Origins,
    /// The origin key of the table being read.
    prefix: String,
    /// The offset of a number that does not fit (reported after the walk).
    bad_number: Option<usize>,
}

impl Ctx<'_> {
    fn record(&mut self, key: &str, offset: usize) {
        let mut path = String::with_capacity(self.prefix.len() + key.len() + 1);
        path.push_str(&self.prefix);
        if !self.prefix.is_empty() {
            path.push('\u{1f}');
        }
        path.push_str(key);
        if let std::collections::hash_map::Entry::Vacant(v) = self.origins.entry(path) {
            v.insert((self.file_index, self.lines.line(offset)));
        }
    }

    fn table(&mut self, table: &DeTable<'_>) -> Table {
        let mut out = Table::with_capacity_and_hasher(table.len(), Default::default());
        for (k, v) in table.iter() {
            let key: &str = k.get_ref();
            self.record(key, k.span().start);
            let value = self.value(key, v);
            out.insert(key.to_owned(), value);
        }
        out
    }

    /// Descends into `key` for a nested table, then comes back.
    fn nested<T>(&mut self, key: &str, f: impl FnOnce(&mut Self) -> T) -> T {
        let len = self.prefix.len();
        if len > 0 {
            self.prefix.push('\u{1f}');
        }
        self.prefix.push_str(key);
        let out = f(self);
        self.prefix.truncate(len);
        out
    }

    fn value(&mut self, key: &str, v: &Spanned<DeValue<'_>>) -> Value {
        match v.get_ref() {
            DeValue::String(s) => Value::String(s.to_string()),
            DeValue::Integer(i) => match i64::from_str_radix(i.as_str(), i.radix()) {
                Ok(n) => Value::Integer(n),
                Err(_) => {
                    self.bad_number.get_or_insert(v.span().start);
                    Value::Integer(0)
                }
            },
            DeValue::Float(f) => match f.as_str().parse::<f64>() {
                Ok(x) if !x.is_infinite() || f.as_str().contains("inf") => Value::Float(x),
                _ => {
                    self.bad_number.get_or_insert(v.span().start);
                    Value::Float(0.0)
                }
            },
            DeValue::Boolean(b) => Value::Boolean(*b),
            DeValue::Datetime(d) => Value::Datetime(*d),
            DeValue::Array(a) => {
                // an array of tables holds tables whose keys are recorded
                // under the array's own key, as before
                let items = a.iter().map(|x| self.array_item(key, x)).collect();
                Value::Array(items)
            }
            DeValue::Table(t) => Value::Table(self.nested(key, |ctx| ctx.table(t))),
        }
    }

    fn array_item(&mut self, key: &str, v: &Spanned<DeValue<'_>>) -> Value {
        match v.get_ref() {
            DeValue::Table(t) => Value::Table(self.nested(key, |ctx| ctx.table(t))),
            _ => self.value(key, v),
        }
    }
}

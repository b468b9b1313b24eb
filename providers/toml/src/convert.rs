//! TOML text to [`Value`], recording the line of every key.

use std::collections::HashMap;
use std::ops::Range;
use std::path::Path as FsPath;
use strata_core::{Error, ErrorKind, Table, Value};
use toml_edit::{Item, Key};

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

/// Parses `text` (the contents of `file`) into a table value. Lines of keys
/// are recorded in `origins` under `file_index`, unless an earlier file
/// already holds the path. A syntax error names the file, line and column;
/// it never quotes the text.
pub(crate) fn parse_document(
    text: &str,
    file: &FsPath,
    file_index: usize,
    origins: &mut HashMap<Vec<String>, (usize, u32)>,
) -> Result<Value, Error> {
    let lines = Lines::new(text);
    let doc = toml_edit::Document::parse(text).map_err(|e| {
        let (line, col) = e
            .span()
            .map(|s| lines.line_col(text, s.start))
            .unwrap_or((1, 1));
        Error::new(
            ErrorKind::Parse,
            format!(
                "cannot parse {}: line {line}, column {col}: {}",
                file.display(),
                sanitize(e.message())
            ),
        )
        .with_file(file)
    })?;
    let mut ctx = Ctx {
        lines: &lines,
        file_index,
        origins,
        prefix: Vec::new(),
    };
    Ok(Value::Table(ctx.table(doc.as_table())))
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
    origins: &'a mut HashMap<Vec<String>, (usize, u32)>,
    prefix: Vec<String>,
}

impl Ctx<'_> {
    fn record(&mut self, key: &str, span: Option<Range<usize>>) {
        let Some(span) = span else { return };
        let mut path = self.prefix.clone();
        path.push(key.to_owned());
        let line = self.lines.line(span.start);
        self.origins.entry(path).or_insert((self.file_index, line));
    }

    fn key_span(key: Option<&Key>, item: &Item) -> Option<Range<usize>> {
        key.and_then(Key::span).or_else(|| item.span())
    }

    fn table(&mut self, table: &toml_edit::Table) -> Table {
        let mut out = Table::new();
        for (k, item) in table.iter() {
            let span = Self::key_span(table.key(k), item);
            self.record(k, span);
            if let Some(v) = self.item(k, item) {
                out.insert(k.to_owned(), v);
            }
        }
        out
    }

    fn item(&mut self, key: &str, item: &Item) -> Option<Value> {
        match item {
            Item::None => None,
            Item::Value(v) => Some(self.value(key, v)),
            Item::Table(t) => {
                self.prefix.push(key.to_owned());
                let v = self.table(t);
                self.prefix.pop();
                Some(Value::Table(v))
            }
            Item::ArrayOfTables(a) => {
                self.prefix.push(key.to_owned());
                let items = a.iter().map(|t| Value::Table(self.table(t))).collect();
                self.prefix.pop();
                Some(Value::Array(items))
            }
        }
    }

    fn value(&mut self, key: &str, v: &toml_edit::Value) -> Value {
        use toml_edit::Value as V;
        match v {
            V::String(s) => Value::String(s.value().clone()),
            V::Integer(i) => Value::Integer(*i.value()),
            V::Float(f) => Value::Float(*f.value()),
            V::Boolean(b) => Value::Boolean(*b.value()),
            V::Datetime(d) => match d.value().to_string().parse() {
                Ok(dt) => Value::Datetime(dt),
                Err(_) => Value::String(d.value().to_string()),
            },
            V::Array(a) => Value::Array(a.iter().map(|x| self.value(key, x)).collect()),
            V::InlineTable(t) => {
                self.prefix.push(key.to_owned());
                let mut out = Table::new();
                for (k, x) in t.iter() {
                    let span = t.key(k).and_then(Key::span).or_else(|| x.span());
                    self.record(k, span);
                    out.insert(k.to_owned(), self.value(k, x));
                }
                self.prefix.pop();
                Value::Table(out)
            }
        }
    }
}

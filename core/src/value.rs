//! The value model of [docs/lookups.md](https://docs.rs/strata-secrets/latest/strata_secrets/guide/lookups/index.html).
//!
//! Documents hold TOML values. A string read from the environment or from a
//! single vault secret stays the exact text; it is converted only when the
//! caller asks for a type (see [`Value::deserialize`]). `Debug` never prints
//! content: any value may be a secret.

mod de;

pub use de::ConvertError;

use indexmap::IndexMap;
use serde::de::DeserializeOwned;
use std::borrow::Cow;
use std::fmt;
use std::hash::{BuildHasher, Hasher};
use zeroize::Zeroize;

/// The hasher of strata's own maps: foldhash with a fixed seed. Keys are
/// configuration paths and variable names, and hashing them is most of a
/// lookup's work.
pub(crate) type FastHash = foldhash::fast::FixedState;

/// A table: keys in document order. Make one with `Table::default()` (or
/// collect one from pairs).
pub type Table = IndexMap<String, Value, TableHasher>;

/// How a [`Table`] hashes its keys: fast, with a fixed seed. Nothing to
/// configure; it is named only because a map's type names its hasher.
#[derive(Clone, Default)]
pub struct TableHasher(FastHash);

impl fmt::Debug for TableHasher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TableHasher")
    }
}

impl BuildHasher for TableHasher {
    type Hasher = TableHash;

    #[inline]
    fn build_hasher(&self) -> TableHash {
        TableHash(self.0.build_hasher())
    }
}

/// The running hash of a [`TableHasher`].
#[derive(Clone)]
pub struct TableHash(foldhash::fast::FoldHasher<'static>);

impl fmt::Debug for TableHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TableHash")
    }
}

impl Hasher for TableHash {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        self.0.write(bytes);
    }

    #[inline]
    fn write_u8(&mut self, i: u8) {
        self.0.write_u8(i);
    }

    #[inline]
    fn write_u32(&mut self, i: u32) {
        self.0.write_u32(i);
    }

    #[inline]
    fn write_u64(&mut self, i: u64) {
        self.0.write_u64(i);
    }

    #[inline]
    fn write_usize(&mut self, i: usize) {
        self.0.write_usize(i);
    }

    #[inline]
    fn finish(&self) -> u64 {
        self.0.finish()
    }
}

/// A TOML datetime (offset date-time, local date-time, local date or time).
pub type Datetime = toml::value::Datetime;

/// A configuration value.
#[derive(Clone, PartialEq)]
pub enum Value {
    /// Text, exactly as stored.
    String(String),
    /// A 64-bit integer.
    Integer(i64),
    /// A float.
    Float(f64),
    /// A boolean.
    Boolean(bool),
    /// A TOML datetime.
    Datetime(Datetime),
    /// An array.
    Array(Vec<Value>),
    /// A table.
    Table(Table),
}

impl Value {
    /// The value's kind, for messages: `string`, `integer`, ...
    pub fn kind(&self) -> &'static str {
        match self {
            Value::String(_) => "string",
            Value::Integer(_) => "integer",
            Value::Float(_) => "float",
            Value::Boolean(_) => "boolean",
            Value::Datetime(_) => "datetime",
            Value::Array(_) => "array",
            Value::Table(_) => "table",
        }
    }

    /// The text of a string value.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    /// The table of a table value (no parsing of strings).
    pub fn as_table(&self) -> Option<&Table> {
        match self {
            Value::Table(t) => Some(t),
            _ => None,
        }
    }

    /// A mutable table of a table value.
    pub fn as_table_mut(&mut self) -> Option<&mut Table> {
        match self {
            Value::Table(t) => Some(t),
            _ => None,
        }
    }

    /// This value read as a table: a table as it is, or a string holding a
    /// JSON object or a TOML document ([docs/lookups.md](https://docs.rs/strata-secrets/latest/strata_secrets/guide/lookups/index.html)).
    pub fn to_table(&self) -> Option<Cow<'_, Table>> {
        match self {
            Value::Table(t) => Some(Cow::Borrowed(t)),
            Value::String(s) => parse_table_text(s).map(Cow::Owned),
            _ => None,
        }
    }

    /// The node at `segments` below this value (tables only; no parsing).
    pub fn get_path<S: AsRef<str>>(&self, segments: &[S]) -> Option<&Value> {
        let mut node = self;
        for segment in segments {
            node = node.as_table()?.get(segment.as_ref())?;
        }
        Some(node)
    }

    /// Merges `lower` into this value key by key; this value wins. Two
    /// tables merge recursively; anything else keeps this value.
    pub fn merge_under(&mut self, lower: Value) {
        if let (Value::Table(mine), Value::Table(theirs)) = (&mut *self, lower) {
            for (key, value) in theirs {
                match mine.get_mut(&key) {
                    Some(existing) => existing.merge_under(value),
                    None => {
                        mine.insert(key, value);
                    }
                }
            }
        }
    }

    /// Reads this value as `T`, converting text on request: `"0123"` read
    /// as an integer is 123, a JSON object in a string reads as a struct.
    /// Errors name the expected type and the kind found, never the value.
    pub fn deserialize<T: DeserializeOwned>(&self) -> Result<T, ConvertError> {
        T::deserialize(de::ValueDeserializer::new(self))
    }

    /// This value as JSON: datetimes as their TOML text, non-finite floats
    /// as strings (`nan`, `inf`, `-inf`).
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value as J;
        match self {
            Value::String(s) => J::String(s.clone()),
            Value::Integer(i) => J::from(*i),
            Value::Float(f) => serde_json::Number::from_f64(*f)
                .map(J::Number)
                .unwrap_or_else(|| J::String(float_text(*f))),
            Value::Boolean(b) => J::Bool(*b),
            Value::Datetime(d) => J::String(d.to_string()),
            Value::Array(a) => J::Array(a.iter().map(Value::to_json).collect()),
            Value::Table(t) => J::Object(t.iter().map(|(k, v)| (k.clone(), v.to_json())).collect()),
        }
    }

    /// The value as plain text: a string as it is, other scalars in their
    /// TOML form, arrays and tables as JSON.
    pub fn to_text(&self) -> String {
        match self {
            Value::String(s) => s.clone(),
            Value::Integer(i) => i.to_string(),
            Value::Float(f) => float_text(*f),
            Value::Boolean(b) => b.to_string(),
            Value::Datetime(d) => d.to_string(),
            Value::Array(_) | Value::Table(_) => self.to_json().to_string(),
        }
    }

    /// Converts into a `toml::Value` (for writing TOML).
    pub fn to_toml(&self) -> toml::Value {
        match self {
            Value::String(s) => toml::Value::String(s.clone()),
            Value::Integer(i) => toml::Value::Integer(*i),
            Value::Float(f) => toml::Value::Float(*f),
            Value::Boolean(b) => toml::Value::Boolean(*b),
            Value::Datetime(d) => toml::Value::Datetime(*d),
            Value::Array(a) => toml::Value::Array(a.iter().map(Value::to_toml).collect()),
            Value::Table(t) => {
                toml::Value::Table(t.iter().map(|(k, v)| (k.clone(), v.to_toml())).collect())
            }
        }
    }

    /// Visits every leaf (non-table value) with its segments below this value.
    pub fn for_each_leaf<'a>(&'a self, f: &mut dyn FnMut(&[&'a str], &'a Value)) {
        fn walk<'a>(
            v: &'a Value,
            prefix: &mut Vec<&'a str>,
            f: &mut dyn FnMut(&[&'a str], &'a Value),
        ) {
            match v {
                Value::Table(t) => {
                    for (k, child) in t {
                        prefix.push(k);
                        walk(child, prefix, f);
                        prefix.pop();
                    }
                }
                leaf => f(prefix, leaf),
            }
        }
        walk(self, &mut Vec::new(), f);
    }
}

fn float_text(f: f64) -> String {
    if f.is_nan() {
        "nan".into()
    } else if f.is_infinite() {
        if f > 0.0 { "inf".into() } else { "-inf".into() }
    } else {
        let s = f.to_string();
        if s.contains(['.', 'e', 'E']) {
            s
        } else {
            format!("{s}.0")
        }
    }
}

/// Parses text holding a JSON object or a TOML document into a table.
pub(crate) fn parse_table_text(text: &str) -> Option<Table> {
    let trimmed = text.trim_start();
    if trimmed.starts_with('{')
        && let Ok(serde_json::Value::Object(map)) = serde_json::from_str::<serde_json::Value>(text)
    {
        return Some(map.into_iter().map(|(k, v)| (k, Value::from(v))).collect());
    }
    match text.parse::<toml::Table>() {
        Ok(table) if !table.is_empty() => Some(
            table
                .into_iter()
                .map(|(k, v)| (k, Value::from(v)))
                .collect(),
        ),
        _ => None,
    }
}

/// Parses text holding a JSON array into values.
pub(crate) fn parse_array_text(text: &str) -> Option<Vec<Value>> {
    match serde_json::from_str::<serde_json::Value>(text) {
        Ok(serde_json::Value::Array(items)) => Some(items.into_iter().map(Value::from).collect()),
        _ => None,
    }
}

impl From<toml::Value> for Value {
    fn from(v: toml::Value) -> Self {
        match v {
            toml::Value::String(s) => Value::String(s),
            toml::Value::Integer(i) => Value::Integer(i),
            toml::Value::Float(f) => Value::Float(f),
            toml::Value::Boolean(b) => Value::Boolean(b),
            toml::Value::Datetime(d) => Value::Datetime(d),
            toml::Value::Array(a) => Value::Array(a.into_iter().map(Value::from).collect()),
            toml::Value::Table(t) => {
                Value::Table(t.into_iter().map(|(k, v)| (k, Value::from(v))).collect())
            }
        }
    }
}

impl From<serde_json::Value> for Value {
    fn from(v: serde_json::Value) -> Self {
        use serde_json::Value as J;
        match v {
            // JSON null has no TOML form; it reads as an empty string.
            J::Null => Value::String(String::new()),
            J::Bool(b) => Value::Boolean(b),
            J::Number(n) => match n.as_i64() {
                Some(i) => Value::Integer(i),
                None => Value::Float(n.as_f64().unwrap_or(f64::NAN)),
            },
            J::String(s) => Value::String(s),
            J::Array(a) => Value::Array(a.into_iter().map(Value::from).collect()),
            J::Object(o) => Value::Table(o.into_iter().map(|(k, v)| (k, Value::from(v))).collect()),
        }
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Value::String(s.to_owned())
    }
}

impl From<String> for Value {
    fn from(s: String) -> Self {
        Value::String(s)
    }
}

impl From<i64> for Value {
    fn from(i: i64) -> Self {
        Value::Integer(i)
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Self {
        Value::Boolean(b)
    }
}

impl From<f64> for Value {
    fn from(f: f64) -> Self {
        Value::Float(f)
    }
}

impl From<Table> for Value {
    fn from(t: Table) -> Self {
        Value::Table(t)
    }
}

/// Redacted: prints the kind and, for containers, the shape, never content.
impl fmt::Debug for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Table(t) => {
                let mut m = f.debug_map();
                for (k, v) in t {
                    m.entry(&k, v);
                }
                m.finish()
            }
            Value::Array(a) => write!(f, "Array(len {})", a.len()),
            other => write!(f, "{}([REDACTED])", other.kind()),
        }
    }
}

impl Zeroize for Value {
    fn zeroize(&mut self) {
        match self {
            Value::String(s) => s.zeroize(),
            Value::Integer(i) => i.zeroize(),
            Value::Float(x) => x.zeroize(),
            Value::Boolean(b) => *b = false,
            Value::Datetime(_) => {}
            Value::Array(a) => {
                for v in a.iter_mut() {
                    v.zeroize();
                }
            }
            Value::Table(t) => {
                for v in t.values_mut() {
                    v.zeroize();
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    #[test]
    fn text_is_kept_and_converted_on_request() {
        let v = Value::from("0123");
        assert_eq!(v.deserialize::<String>().unwrap(), "0123");
        assert_eq!(v.deserialize::<i64>().unwrap(), 123);
        assert_eq!(v.deserialize::<u16>().unwrap(), 123);
        assert_eq!(v.deserialize::<f64>().unwrap(), 123.0);
        assert!(Value::from("true").deserialize::<bool>().unwrap());
        assert_eq!(Value::from(5).deserialize::<String>().unwrap(), "5");
    }

    #[test]
    fn json_and_toml_text_read_as_tables() {
        let v = Value::from(r#"{"host": "h", "password": "p", "port": 5432}"#);
        let t = v.to_table().unwrap();
        assert_eq!(t["host"], Value::from("h"));
        let m: BTreeMap<String, String> = v.deserialize().unwrap();
        assert_eq!(m["password"], "p");
        let toml_text = Value::from("host = \"h\"\nport = 1\n");
        #[derive(serde::Deserialize)]
        struct Creds {
            host: String,
            port: u16,
        }
        let c: Creds = toml_text.deserialize().unwrap();
        assert_eq!((c.host.as_str(), c.port), ("h", 1));
        let arr: Vec<i64> = Value::from("[1, 2]").deserialize().unwrap();
        assert_eq!(arr, [1, 2]);
        assert!(Value::from("plain").to_table().is_none());
    }

    #[test]
    fn conversion_errors_never_print_the_value() {
        let err = Value::from("hunter2-secret")
            .deserialize::<i64>()
            .unwrap_err();
        let text = err.to_string();
        assert!(!text.contains("hunter2"), "{text}");
        assert!(text.contains("integer"), "{text}");
        #[derive(Debug, serde::Deserialize)]
        #[allow(dead_code)]
        enum Mode {
            A,
        }
        let err = Value::from("hunter2-secret")
            .deserialize::<Mode>()
            .unwrap_err();
        assert!(!err.to_string().contains("hunter2"), "{err}");
        let err = Value::from(r#"{"port": "hunter2-secret"}"#)
            .deserialize::<BTreeMap<String, u16>>()
            .unwrap_err();
        assert!(!err.to_string().contains("hunter2"), "{err}");
        assert!(err.to_string().contains("port"), "{err}");
    }

    #[test]
    fn debug_is_redacted() {
        let mut t = Table::default();
        t.insert("password".into(), Value::from("hunter2"));
        t.insert("list".into(), Value::Array(vec![Value::from("hunter2")]));
        let dbg = format!("{:?}", Value::Table(t));
        assert!(!dbg.contains("hunter2"), "{dbg}");
        assert!(dbg.contains("password"), "{dbg}");
    }

    #[test]
    fn merge_keeps_the_upper_value_and_merges_tables() {
        let upper: toml::Table = "[a]\nx = 1\n[a.b]\ny = 2".parse().unwrap();
        let lower: toml::Table = "top = 0\n[a]\nx = 9\nz = 3\n[a.b]\nw = 4".parse().unwrap();
        let mut v = Value::from(toml::Value::Table(upper));
        v.merge_under(Value::from(toml::Value::Table(lower)));
        assert_eq!(v.get_path(&["a", "x"]), Some(&Value::Integer(1)));
        assert_eq!(v.get_path(&["a", "z"]), Some(&Value::Integer(3)));
        assert_eq!(v.get_path(&["a", "b", "w"]), Some(&Value::Integer(4)));
        assert_eq!(v.get_path(&["top"]), Some(&Value::Integer(0)));
    }

    #[test]
    fn json_rendering() {
        assert_eq!(Value::Float(f64::NAN).to_json(), serde_json::json!("nan"));
        assert_eq!(Value::Float(1.0).to_text(), "1.0");
        let d: Datetime = "1979-05-27T07:32:00Z".parse().unwrap();
        assert_eq!(
            Value::Datetime(d).to_json(),
            serde_json::json!("1979-05-27T07:32:00Z")
        );
    }

    #[test]
    fn zeroize_clears_strings() {
        let mut v = Value::from("secret");
        v.zeroize();
        assert_eq!(v, Value::from(""));
    }
}

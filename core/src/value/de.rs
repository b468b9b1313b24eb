//! A serde `Deserializer` over [`Value`] that converts text on request and
//! whose errors never quote a value.

use super::{Value, parse_array_text, parse_table_text};
use serde::de::{self, DeserializeSeed, IntoDeserializer, Unexpected, Visitor};
use std::fmt;

/// A value could not be read as the asked type. The message names the
/// expected type, the kind of value found and where inside the value (for
/// tables), never the value itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConvertError {
    message: String,
    inner_path: Vec<String>,
}

impl ConvertError {
    fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            inner_path: Vec::new(),
        }
    }

    fn at(mut self, key: &str) -> Self {
        self.inner_path.insert(0, key.to_owned());
        self
    }

    /// The keys inside the value where conversion failed (empty at the top).
    pub fn inner_path(&self) -> &[String] {
        &self.inner_path
    }

    /// What went wrong, without the inner path.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for ConvertError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.inner_path.is_empty() {
            f.write_str(&self.message)
        } else {
            write!(f, "at `{}`: {}", self.inner_path.join("."), self.message)
        }
    }
}

impl std::error::Error for ConvertError {}

fn describe(unexp: &Unexpected<'_>) -> &'static str {
    match unexp {
        Unexpected::Bool(_) => "a boolean",
        Unexpected::Unsigned(_) | Unexpected::Signed(_) => "an integer",
        Unexpected::Float(_) => "a float",
        Unexpected::Char(_) | Unexpected::Str(_) => "a string",
        Unexpected::Bytes(_) => "bytes",
        Unexpected::Unit => "nothing",
        Unexpected::Option => "an optional value",
        Unexpected::NewtypeStruct => "a newtype",
        Unexpected::Seq => "an array",
        Unexpected::Map => "a table",
        Unexpected::Enum => "an enum",
        Unexpected::UnitVariant
        | Unexpected::NewtypeVariant
        | Unexpected::TupleVariant
        | Unexpected::StructVariant => "an enum variant",
        Unexpected::Other(_) => "another kind of value",
    }
}

impl de::Error for ConvertError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        ConvertError::new(msg.to_string())
    }

    fn invalid_type(unexp: Unexpected<'_>, exp: &dyn de::Expected) -> Self {
        ConvertError::new(format!("expected {exp}, found {}", describe(&unexp)))
    }

    fn invalid_value(unexp: Unexpected<'_>, exp: &dyn de::Expected) -> Self {
        ConvertError::new(format!(
            "expected {exp}, found {} out of range or not allowed",
            describe(&unexp)
        ))
    }

    fn unknown_variant(_variant: &str, expected: &'static [&'static str]) -> Self {
        ConvertError::new(format!(
            "expected one of {}, found another text",
            expected.join(", ")
        ))
    }
}

fn text_mismatch(expected: &str) -> ConvertError {
    ConvertError::new(format!(
        "expected {expected}, found a string that does not parse as one"
    ))
}

pub(super) struct ValueDeserializer<'a> {
    value: &'a Value,
}

impl<'a> ValueDeserializer<'a> {
    pub(super) fn new(value: &'a Value) -> Self {
        Self { value }
    }

    fn kind_error(&self, expected: &str) -> ConvertError {
        ConvertError::new(format!(
            "expected {expected}, found {}",
            article(self.value)
        ))
    }
}

fn article(v: &Value) -> &'static str {
    match v {
        Value::String(_) => "a string",
        Value::Integer(_) => "an integer",
        Value::Float(_) => "a float",
        Value::Boolean(_) => "a boolean",
        Value::Datetime(_) => "a datetime",
        Value::Array(_) => "an array",
        Value::Table(_) => "a table",
    }
}

macro_rules! int_method {
    ($method:ident, $visit:ident, $t:ty) => {
        fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ConvertError> {
            match self.value {
                Value::Integer(i) => visitor.visit_i64(*i),
                Value::String(s) => match s.trim().parse::<$t>() {
                    Ok(n) => visitor.$visit(n),
                    Err(_) => Err(text_mismatch("an integer")),
                },
                _ => Err(self.kind_error("an integer")),
            }
        }
    };
}

impl<'de> de::Deserializer<'de> for ValueDeserializer<'_> {
    type Error = ConvertError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ConvertError> {
        match self.value {
            Value::String(s) => visitor.visit_str(s),
            Value::Integer(i) => visitor.visit_i64(*i),
            Value::Float(f) => visitor.visit_f64(*f),
            Value::Boolean(b) => visitor.visit_bool(*b),
            Value::Datetime(d) => visitor.visit_string(d.to_string()),
            Value::Array(items) => visitor.visit_seq(Seq {
                items: items.iter(),
                index: 0,
            }),
            Value::Table(t) => visitor.visit_map(Map {
                entries: t.iter(),
                pending: None,
            }),
        }
    }

    fn deserialize_bool<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ConvertError> {
        match self.value {
            Value::Boolean(b) => visitor.visit_bool(*b),
            Value::String(s) => match s.trim().to_ascii_lowercase().as_str() {
                "true" | "1" | "yes" | "on" => visitor.visit_bool(true),
                "false" | "0" | "no" | "off" => visitor.visit_bool(false),
                _ => Err(text_mismatch("a boolean")),
            },
            _ => Err(self.kind_error("a boolean")),
        }
    }

    int_method!(deserialize_i8, visit_i64, i64);
    int_method!(deserialize_i16, visit_i64, i64);
    int_method!(deserialize_i32, visit_i64, i64);
    int_method!(deserialize_i64, visit_i64, i64);
    int_method!(deserialize_i128, visit_i128, i128);
    int_method!(deserialize_u8, visit_u64, u64);
    int_method!(deserialize_u16, visit_u64, u64);
    int_method!(deserialize_u32, visit_u64, u64);
    int_method!(deserialize_u64, visit_u64, u64);
    int_method!(deserialize_u128, visit_u128, u128);

    fn deserialize_f32<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ConvertError> {
        self.deserialize_f64(visitor)
    }

    fn deserialize_f64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ConvertError> {
        match self.value {
            Value::Float(f) => visitor.visit_f64(*f),
            Value::Integer(i) => visitor.visit_f64(*i as f64),
            Value::String(s) => match s.trim().parse::<f64>() {
                Ok(f) => visitor.visit_f64(f),
                Err(_) => Err(text_mismatch("a float")),
            },
            _ => Err(self.kind_error("a float")),
        }
    }

    fn deserialize_char<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ConvertError> {
        self.deserialize_str(visitor)
    }

    fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ConvertError> {
        match self.value {
            Value::String(s) => visitor.visit_str(s),
            Value::Array(_) | Value::Table(_) => Err(self.kind_error("a string")),
            scalar => visitor.visit_string(scalar.to_text()),
        }
    }

    fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ConvertError> {
        self.deserialize_str(visitor)
    }

    fn deserialize_bytes<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ConvertError> {
        match self.value {
            Value::String(s) => visitor.visit_bytes(s.as_bytes()),
            _ => self.deserialize_any(visitor),
        }
    }

    fn deserialize_byte_buf<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ConvertError> {
        self.deserialize_bytes(visitor)
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ConvertError> {
        visitor.visit_some(self)
    }

    fn deserialize_unit<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ConvertError> {
        visitor.visit_unit()
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, ConvertError> {
        visitor.visit_unit()
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, ConvertError> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ConvertError> {
        match self.value {
            Value::Array(items) => visitor.visit_seq(Seq {
                items: items.iter(),
                index: 0,
            }),
            Value::String(s) => match parse_array_text(s) {
                Some(items) => {
                    ValueDeserializer::new(&Value::Array(items)).deserialize_seq(visitor)
                }
                None => Err(text_mismatch("an array")),
            },
            _ => Err(self.kind_error("an array")),
        }
    }

    fn deserialize_tuple<V: Visitor<'de>>(
        self,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, ConvertError> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, ConvertError> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ConvertError> {
        match self.value {
            Value::Table(t) => visitor.visit_map(Map {
                entries: t.iter(),
                pending: None,
            }),
            Value::String(s) => match parse_table_text(s) {
                Some(t) => ValueDeserializer::new(&Value::Table(t)).deserialize_map(visitor),
                None => Err(text_mismatch("a table (JSON object or TOML document)")),
            },
            _ => Err(self.kind_error("a table")),
        }
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, ConvertError> {
        self.deserialize_map(visitor)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, ConvertError> {
        match self.value {
            Value::String(s) => visitor.visit_enum(s.as_str().into_deserializer()),
            Value::Table(t) if t.len() == 1 => {
                let (variant, content) =
                    t.iter().next().ok_or_else(|| self.kind_error("an enum"))?;
                visitor.visit_enum(Enum { variant, content })
            }
            _ => Err(self.kind_error("an enum variant (a string or a one-key table)")),
        }
    }

    fn deserialize_identifier<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ConvertError> {
        self.deserialize_str(visitor)
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(
        self,
        visitor: V,
    ) -> Result<V::Value, ConvertError> {
        visitor.visit_unit()
    }
}

struct Seq<'a> {
    items: std::slice::Iter<'a, Value>,
    index: usize,
}

impl<'de> de::SeqAccess<'de> for Seq<'_> {
    type Error = ConvertError;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, ConvertError> {
        match self.items.next() {
            Some(v) => {
                let index = self.index;
                self.index += 1;
                seed.deserialize(ValueDeserializer::new(v))
                    .map(Some)
                    .map_err(|e| e.at(&index.to_string()))
            }
            None => Ok(None),
        }
    }
}

struct Map<'a> {
    entries: indexmap::map::Iter<'a, String, Value>,
    pending: Option<(&'a String, &'a Value)>,
}

impl<'de> de::MapAccess<'de> for Map<'_> {
    type Error = ConvertError;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, ConvertError> {
        match self.entries.next() {
            Some((k, v)) => {
                self.pending = Some((k, v));
                seed.deserialize(k.as_str().into_deserializer()).map(Some)
            }
            None => Ok(None),
        }
    }

    fn next_value_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<T::Value, ConvertError> {
        let (k, v) = self
            .pending
            .take()
            .ok_or_else(|| ConvertError::new("a table value was asked for before its key"))?;
        seed.deserialize(ValueDeserializer::new(v))
            .map_err(|e| e.at(k))
    }
}

struct Enum<'a> {
    variant: &'a String,
    content: &'a Value,
}

impl<'de, 'a> de::EnumAccess<'de> for Enum<'a> {
    type Error = ConvertError;
    type Variant = VariantContent<'a>;

    fn variant_seed<S: DeserializeSeed<'de>>(
        self,
        seed: S,
    ) -> Result<(S::Value, Self::Variant), ConvertError> {
        let v = seed.deserialize(self.variant.as_str().into_deserializer())?;
        Ok((v, VariantContent(self.content)))
    }
}

struct VariantContent<'a>(&'a Value);

impl<'de> de::VariantAccess<'de> for VariantContent<'_> {
    type Error = ConvertError;

    fn unit_variant(self) -> Result<(), ConvertError> {
        Ok(())
    }

    fn newtype_variant_seed<T: DeserializeSeed<'de>>(
        self,
        seed: T,
    ) -> Result<T::Value, ConvertError> {
        seed.deserialize(ValueDeserializer::new(self.0))
    }

    fn tuple_variant<V: Visitor<'de>>(
        self,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, ConvertError> {
        de::Deserializer::deserialize_seq(ValueDeserializer::new(self.0), visitor)
    }

    fn struct_variant<V: Visitor<'de>>(
        self,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, ConvertError> {
        de::Deserializer::deserialize_map(ValueDeserializer::new(self.0), visitor)
    }
}

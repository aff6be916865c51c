//! Typed, path-aware access to plist dictionaries, shared by every message module.
//!
//! Readers *remove* the keys they understand, so whatever is left after a record has
//! been read is exactly the set of keys this crate does not model. Records keep that
//! remainder (`extra`) and write it back, which is what makes parse -> serialize ->
//! parse lossless even for keys Apple adds in later OS releases.

use std::collections::BTreeMap;

use plist::{Dictionary, Value};

use crate::MdmError;
use crate::plist_io::type_name;

/// A record that can be read from and written to a plist dictionary.
pub(crate) trait Record: Sized {
    fn read(fields: Fields) -> Result<Self, MdmError>;
    fn write(&self, out: &mut DictWriter);
}

/// A dictionary being consumed key by key, remembering where it sits in the body.
pub(crate) struct Fields {
    dict: Dictionary,
    path: String,
}

impl Fields {
    pub(crate) fn root(dict: Dictionary) -> Self {
        Self::at(dict, String::new())
    }

    pub(crate) fn at(dict: Dictionary, path: String) -> Self {
        Self { dict, path }
    }

    /// The full path of `key`, as used in error messages.
    pub(crate) fn path_of(&self, key: &str) -> String {
        if self.path.is_empty() {
            key.to_owned()
        } else {
            format!("{}.{key}", self.path)
        }
    }

    pub(crate) fn missing(&self, key: &str) -> MdmError {
        MdmError::MissingKey { key: self.path_of(key) }
    }

    pub(crate) fn missing_one_of(&self, keys: &[&str]) -> MdmError {
        MdmError::MissingOneOf {
            keys: self.format_keys(keys),
        }
    }

    pub(crate) fn conflicting(&self, keys: &[&str]) -> MdmError {
        MdmError::ConflictingKeys {
            keys: self.format_keys(keys),
        }
    }

    fn format_keys(&self, keys: &[&str]) -> String {
        keys.iter()
            .map(|key| format!("`{}`", self.path_of(key)))
            .collect::<Vec<_>>()
            .join(", ")
    }

    fn wrong_type(&self, key: &str, expected: &'static str, found: &Value) -> MdmError {
        MdmError::WrongType {
            key: self.path_of(key),
            expected,
            found: type_name(found),
        }
    }

    pub(crate) fn invalid(&self, key: &str, value: String, expected: &'static str) -> MdmError {
        MdmError::InvalidValue {
            key: self.path_of(key),
            value,
            expected,
        }
    }

    /// Everything not yet consumed.
    pub(crate) fn rest(&mut self) -> Dictionary {
        std::mem::take(&mut self.dict)
    }

    pub(crate) fn string(&mut self, key: &str) -> Result<Option<String>, MdmError> {
        match self.dict.remove(key) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(other) => Err(self.wrong_type(key, "a string", &other)),
        }
    }

    pub(crate) fn required_string(&mut self, key: &str) -> Result<String, MdmError> {
        self.string(key)?.ok_or_else(|| self.missing(key))
    }

    /// Reads a string and converts it into a domain type (enums with a fallback).
    pub(crate) fn parsed<T: From<String>>(&mut self, key: &str) -> Result<Option<T>, MdmError> {
        Ok(self.string(key)?.map(T::from))
    }

    pub(crate) fn bool(&mut self, key: &str) -> Result<Option<bool>, MdmError> {
        match self.dict.remove(key) {
            None => Ok(None),
            Some(Value::Boolean(b)) => Ok(Some(b)),
            Some(other) => Err(self.wrong_type(key, "a boolean", &other)),
        }
    }

    pub(crate) fn signed(&mut self, key: &str) -> Result<Option<i64>, MdmError> {
        match self.dict.remove(key) {
            None => Ok(None),
            Some(Value::Integer(i)) => match i.as_signed() {
                Some(v) => Ok(Some(v)),
                None => Err(self.invalid(key, i.to_string(), "a 64-bit signed integer")),
            },
            Some(other) => Err(self.wrong_type(key, "an integer", &other)),
        }
    }

    pub(crate) fn unsigned(&mut self, key: &str) -> Result<Option<u64>, MdmError> {
        match self.dict.remove(key) {
            None => Ok(None),
            Some(Value::Integer(i)) => match i.as_unsigned() {
                Some(v) => Ok(Some(v)),
                None => Err(self.invalid(key, i.to_string(), "a non-negative integer")),
            },
            Some(other) => Err(self.wrong_type(key, "an integer", &other)),
        }
    }

    /// Reads an App Store / Book Store item id.
    ///
    /// Apple's schema types `RemoveMedia.iTunesStoreID` as a string while every other
    /// command and the legacy reference use an integer, so both spellings are accepted.
    pub(crate) fn store_id(&mut self, key: &str) -> Result<Option<u64>, MdmError> {
        match self.dict.remove(key) {
            Some(Value::String(s)) => match s.trim().parse::<u64>() {
                Ok(v) => Ok(Some(v)),
                Err(_) => Err(self.invalid(key, s, "a numeric store id")),
            },
            Some(value) => {
                self.dict.insert(key.to_owned(), value);
                self.unsigned(key)
            }
            None => Ok(None),
        }
    }

    /// Reads a real, also accepting an integer because capacities may be whole numbers.
    pub(crate) fn real(&mut self, key: &str) -> Result<Option<f64>, MdmError> {
        match self.dict.remove(key) {
            None => Ok(None),
            Some(Value::Real(r)) => Ok(Some(r)),
            Some(Value::Integer(i)) => match i.as_signed() {
                Some(v) => Ok(Some(v as f64)),
                None => Err(self.invalid(key, i.to_string(), "a number")),
            },
            Some(other) => Err(self.wrong_type(key, "a real number", &other)),
        }
    }

    pub(crate) fn data(&mut self, key: &str) -> Result<Option<Vec<u8>>, MdmError> {
        match self.dict.remove(key) {
            None => Ok(None),
            Some(Value::Data(d)) => Ok(Some(d)),
            Some(other) => Err(self.wrong_type(key, "data", &other)),
        }
    }

    pub(crate) fn dictionary(&mut self, key: &str) -> Result<Option<Dictionary>, MdmError> {
        match self.dict.remove(key) {
            None => Ok(None),
            Some(Value::Dictionary(d)) => Ok(Some(d)),
            Some(other) => Err(self.wrong_type(key, "a dictionary", &other)),
        }
    }

    pub(crate) fn required_dictionary(&mut self, key: &str) -> Result<Dictionary, MdmError> {
        self.dictionary(key)?.ok_or_else(|| self.missing(key))
    }

    /// Reads a nested dictionary as a record, extending the error path.
    pub(crate) fn record<T: Record>(&mut self, key: &str) -> Result<Option<T>, MdmError> {
        match self.dictionary(key)? {
            None => Ok(None),
            Some(dict) => T::read(Fields::at(dict, self.path_of(key))).map(Some),
        }
    }

    fn array(&mut self, key: &str) -> Result<Option<Vec<Value>>, MdmError> {
        match self.dict.remove(key) {
            None => Ok(None),
            Some(Value::Array(a)) => Ok(Some(a)),
            Some(other) => Err(self.wrong_type(key, "an array", &other)),
        }
    }

    pub(crate) fn strings(&mut self, key: &str) -> Result<Option<Vec<String>>, MdmError> {
        let Some(items) = self.array(key)? else {
            return Ok(None);
        };
        items
            .into_iter()
            .enumerate()
            .map(|(index, item)| match item {
                Value::String(s) => Ok(s),
                other => Err(self.wrong_type(&format!("{key}[{index}]"), "a string", &other)),
            })
            .collect::<Result<_, _>>()
            .map(Some)
    }

    /// Reads an array of dictionaries as records; paths look like `Books[3].State`.
    pub(crate) fn records<T: Record>(&mut self, key: &str) -> Result<Option<Vec<T>>, MdmError> {
        let Some(items) = self.array(key)? else {
            return Ok(None);
        };
        items
            .into_iter()
            .enumerate()
            .map(|(index, item)| {
                let item_key = format!("{key}[{index}]");
                match item {
                    Value::Dictionary(dict) => T::read(Fields::at(dict, self.path_of(&item_key))),
                    other => Err(self.wrong_type(&item_key, "a dictionary", &other)),
                }
            })
            .collect::<Result<_, _>>()
            .map(Some)
    }

    /// Reads a dictionary whose keys are names (e.g. bundle ids) and values are records.
    pub(crate) fn keyed_records<T: Record>(&mut self, key: &str) -> Result<Option<BTreeMap<String, T>>, MdmError> {
        let Some(dict) = self.dictionary(key)? else {
            return Ok(None);
        };
        let parent = Fields::at(Dictionary::new(), self.path_of(key));
        dict.into_iter()
            .map(|(name, value)| match value {
                Value::Dictionary(inner) => {
                    T::read(Fields::at(inner, parent.path_of(&name))).map(|record| (name, record))
                }
                other => Err(parent.wrong_type(&name, "a dictionary", &other)),
            })
            .collect::<Result<_, _>>()
            .map(Some)
    }
}

/// Builds a dictionary from typed fields, skipping absent optionals.
#[derive(Default)]
pub(crate) struct DictWriter {
    dict: Dictionary,
}

impl DictWriter {
    pub(crate) fn finish(self) -> Dictionary {
        self.dict
    }

    pub(crate) fn value(&mut self, key: &str, value: Value) {
        self.dict.insert(key.to_owned(), value);
    }

    pub(crate) fn string(&mut self, key: &str, value: &str) {
        self.value(key, Value::String(value.to_owned()));
    }

    pub(crate) fn opt_string(&mut self, key: &str, value: Option<&str>) {
        if let Some(v) = value {
            self.string(key, v);
        }
    }

    pub(crate) fn opt_bool(&mut self, key: &str, value: Option<bool>) {
        if let Some(v) = value {
            self.value(key, Value::Boolean(v));
        }
    }

    pub(crate) fn opt_signed(&mut self, key: &str, value: Option<i64>) {
        if let Some(v) = value {
            self.value(key, Value::from(v));
        }
    }

    pub(crate) fn opt_unsigned(&mut self, key: &str, value: Option<u64>) {
        if let Some(v) = value {
            self.value(key, Value::from(v));
        }
    }

    pub(crate) fn opt_real(&mut self, key: &str, value: Option<f64>) {
        if let Some(v) = value {
            self.value(key, Value::Real(v));
        }
    }

    pub(crate) fn opt_data(&mut self, key: &str, value: Option<&[u8]>) {
        if let Some(v) = value {
            self.value(key, Value::Data(v.to_vec()));
        }
    }

    pub(crate) fn opt_dictionary(&mut self, key: &str, value: Option<&Dictionary>) {
        if let Some(v) = value {
            self.value(key, Value::Dictionary(v.clone()));
        }
    }

    pub(crate) fn opt_strings(&mut self, key: &str, value: Option<&[String]>) {
        if let Some(items) = value {
            let array = items.iter().cloned().map(Value::String).collect();
            self.value(key, Value::Array(array));
        }
    }

    pub(crate) fn record<T: Record>(&mut self, key: &str, value: &T) {
        self.value(key, Value::Dictionary(to_dictionary(value)));
    }

    pub(crate) fn opt_record<T: Record>(&mut self, key: &str, value: Option<&T>) {
        if let Some(v) = value {
            self.record(key, v);
        }
    }

    pub(crate) fn opt_records<T: Record>(&mut self, key: &str, value: Option<&[T]>) {
        if let Some(items) = value {
            let array = items
                .iter()
                .map(|item| Value::Dictionary(to_dictionary(item)))
                .collect();
            self.value(key, Value::Array(array));
        }
    }

    pub(crate) fn opt_keyed_records<T: Record>(&mut self, key: &str, value: Option<&BTreeMap<String, T>>) {
        if let Some(items) = value {
            let dict = items
                .iter()
                .map(|(name, item)| (name.clone(), Value::Dictionary(to_dictionary(item))))
                .collect::<Dictionary>();
            self.value(key, Value::Dictionary(dict));
        }
    }

    /// Adds unmodelled keys; typed fields written earlier win on a clash, so a caller
    /// cannot accidentally override `RequestType` or `Status` through `extra`.
    pub(crate) fn extra(&mut self, extra: &Dictionary) {
        for (key, value) in extra {
            if !self.dict.contains_key(key) {
                self.dict.insert(key.clone(), value.clone());
            }
        }
    }
}

pub(crate) fn to_dictionary<T: Record>(record: &T) -> Dictionary {
    let mut out = DictWriter::default();
    record.write(&mut out);
    out.finish()
}

/// Declares an enum over a protocol string, with an `Other` fallback so that values
/// Apple adds later are carried through instead of failing the whole message.
macro_rules! string_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident => $text:literal, )+
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        pub enum $name {
            $( $(#[$vmeta])* $variant, )+
            /// A value this crate does not know yet, kept verbatim.
            Other(String),
        }

        impl $name {
            /// The exact string used on the wire.
            pub fn as_str(&self) -> &str {
                match self {
                    $( Self::$variant => $text, )+
                    Self::Other(text) => text,
                }
            }
        }

        impl From<&str> for $name {
            fn from(text: &str) -> Self {
                match text {
                    $( $text => Self::$variant, )+
                    other => Self::Other(other.to_owned()),
                }
            }
        }

        impl From<String> for $name {
            fn from(text: String) -> Self {
                match Self::from(text.as_str()) {
                    Self::Other(_) => Self::Other(text),
                    known => known,
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

/// Implements the public [`crate::PlistRecord`] trait on top of the internal [`Record`].
macro_rules! plist_record {
    ($($ty:ty),+ $(,)?) => {
        $(
            impl crate::PlistRecord for $ty {
                fn from_dictionary(dict: plist::Dictionary) -> Result<Self, crate::MdmError> {
                    <$ty as crate::fields::Record>::read(crate::fields::Fields::root(dict))
                }

                fn to_dictionary(&self) -> plist::Dictionary {
                    crate::fields::to_dictionary(self)
                }
            }
        )+
    };
}

pub(crate) use {plist_record, string_enum};

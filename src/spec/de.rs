//! Lenient scalar readers for cetus.yaml fields a var can feed.
//!
//! A var read from the environment or a file is text, so an integer field accepts a string
//! of digits; Kubernetes wants text for env values and annotations, so text fields accept
//! numbers and booleans and print them. Anything else is an error in serde's usual wording.

use serde::Deserialize;
use serde::de::{Deserializer, Error};
use serde_json::Value;
use std::collections::BTreeMap;

/// How a value is named in "invalid type" messages.
pub fn describe(value: &Value) -> String {
    match value {
        Value::Null => "null".into(),
        Value::Bool(b) => format!("boolean `{b}`"),
        Value::Number(n) => format!("number {n}"),
        Value::String(s) => format!("string {s:?}"),
        Value::Array(_) => "a list".into(),
        Value::Object(_) => "a map".into(),
    }
}

fn scalar_text(value: Value) -> Result<String, String> {
    match value {
        Value::String(s) => Ok(s),
        Value::Number(n) => Ok(n.to_string()),
        Value::Bool(b) => Ok(b.to_string()),
        other => Err(format!("invalid type: {}, expected a string", describe(&other))),
    }
}

fn integer(value: Value) -> Result<i64, String> {
    match &value {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse::<i64>().ok(),
        _ => None,
    }
    .ok_or_else(|| format!("invalid type: {}, expected an integer", describe(&value)))
}

/// A string; numbers and booleans are printed.
pub fn text<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    scalar_text(Value::deserialize(d)?).map_err(D::Error::custom)
}

/// An optional string; numbers and booleans are printed.
pub fn opt_text<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    match Value::deserialize(d)? {
        Value::Null => Ok(None),
        v => scalar_text(v).map(Some).map_err(D::Error::custom),
    }
}

/// An integer; a string of digits is accepted.
pub fn int<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
    integer(Value::deserialize(d)?).map_err(D::Error::custom)
}

/// An optional integer; a string of digits is accepted.
pub fn opt_int<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    match Value::deserialize(d)? {
        Value::Null => Ok(None),
        v => integer(v).map(Some).map_err(D::Error::custom),
    }
}

/// A map of strings; number and boolean values are printed.
pub fn text_map<'de, D: Deserializer<'de>>(d: D) -> Result<BTreeMap<String, String>, D::Error> {
    match Value::deserialize(d)? {
        Value::Null => Ok(BTreeMap::new()),
        Value::Object(map) => map
            .into_iter()
            .map(|(k, v)| match scalar_text(v) {
                Ok(s) => Ok((k, s)),
                Err(e) => Err(D::Error::custom(format!("{k}: {e}"))),
            })
            .collect(),
        other => Err(D::Error::custom(format!(
            "invalid type: {}, expected a map of strings",
            describe(&other)
        ))),
    }
}

//! What the write verbs read from their request: the options (through
//! [`crate::write::WriteOptions`]) and the body, decoded into an object of the addressed
//! kind. Everything after decoding is the write layer's ([`crate::write`]).

use super::Call;
use crate::status::ApiError;
use crate::write::{OptionParams, WriteOptions};
use serde_json::Value;

/// The options of a write request; `options_kind` names the options type in errors.
pub fn options(call: &Call, options_kind: &str) -> Result<WriteOptions, ApiError> {
    let q = &call.query;
    let params = OptionParams {
        dry_run: q.dry_run.as_deref(),
        field_manager: q.field_manager.as_deref(),
        field_validation: q.field_validation.as_deref(),
        user_agent: &call.user_agent,
    };
    WriteOptions::parse(&params, options_kind)
}

/// Decodes the body into an object whose apiVersion and kind match the resource (filled
/// in when missing).
pub fn decode_object(call: &Call) -> Result<Value, ApiError> {
    let mut obj = match call.content_type.as_str() {
        "" | "application/json" | "application/yaml" | "application/merge-patch+json" => {
            super::request::decode_body(&call.body)?
        }
        super::protobuf::CONTENT_TYPE => super::protobuf::decode(&call.body)?,
        _ => {
            return Err(ApiError::unsupported_media_type(&[
                "application/json",
                "application/yaml",
                super::protobuf::CONTENT_TYPE,
            ]));
        }
    };
    let info = call.info();
    let Value::Object(map) = &mut obj else {
        return Err(ApiError::bad_request(format!(
            "{} in version \"{}\" cannot be handled as a {}: the body is not an object",
            info.kind, info.version, info.kind
        )));
    };
    let want = info.api_version();
    match map.get("apiVersion").and_then(Value::as_str) {
        None | Some("") => {
            map.insert("apiVersion".into(), want.clone().into());
        }
        Some(v)
            if v == want || (info.custom && v.split('/').next() == Some(info.group.as_str())) => {}
        Some(v) => {
            return Err(ApiError::bad_request(format!(
                "the API version in the data ({v}) does not match the expected API version ({want})"
            )));
        }
    }
    match map.get("kind").and_then(Value::as_str) {
        None | Some("") => {
            map.insert("kind".into(), info.kind.clone().into());
        }
        Some(k) if k == info.kind => {}
        Some(k) => {
            return Err(ApiError::bad_request(format!(
                "{} in version \"{}\" cannot be handled as a {}: the object kind {k:?} does not match",
                info.kind, info.version, info.kind
            )));
        }
    }
    // Whatever the client sent, the served apiVersion is the one stored.
    map.insert("apiVersion".into(), want.into());
    Ok(obj)
}

//! `/openapi/v2`: the OpenAPI v2 document kubectl fetches when a group/version is missing
//! from `/openapi/v3` (its field-validation check falls back to v2; a 404 there fails
//! `kubectl apply` with `the server could not find the requested resource` instead of
//! the `no matches for kind ...` that a real server lets kubectl say). Served as gnostic's
//! protobuf `Document` (what kubectl asks for) or as JSON.
//!
//! The document names no paths or definitions: kubectl reads `/openapi/v3` for every
//! group/version the sandbox serves ([`crate::openapi`]), and for the others v2 only has
//! to say there is nothing to validate.

use prost::Message;
use serde_json::{Value, json};

/// The media type kube-apiserver answers with (kubectl asks for `...spec.v2@v1.0+protobuf`,
/// which Go's media type parser would refuse in a `Content-Type`).
pub const PROTOBUF: &str = "application/com.github.proto-openapi.spec.v2.v1.0+protobuf";

/// gnostic's `openapi.v2.Document`, the fields written here.
#[derive(Clone, PartialEq, Message)]
struct Document {
    #[prost(string, tag = "1")]
    swagger: String,
    #[prost(message, optional, tag = "2")]
    info: Option<Info>,
    #[prost(message, optional, tag = "8")]
    paths: Option<Empty>,
    #[prost(message, optional, tag = "9")]
    definitions: Option<Empty>,
}

/// gnostic's `openapi.v2.Info`, title and version.
#[derive(Clone, PartialEq, Message)]
struct Info {
    #[prost(string, tag = "1")]
    title: String,
    #[prost(string, tag = "2")]
    version: String,
}

/// `Paths` and `Definitions` with no entries.
#[derive(Clone, PartialEq, Message)]
struct Empty {}

fn document() -> Document {
    Document {
        swagger: "2.0".into(),
        info: Some(Info { title: "Kubernetes".into(), version: "v1.33.0".into() }),
        paths: Some(Empty {}),
        definitions: Some(Empty {}),
    }
}

/// The document as protobuf.
pub fn protobuf() -> Vec<u8> {
    document().encode_to_vec()
}

/// The document as JSON.
pub fn json() -> Value {
    json!({"swagger": "2.0", "info": {"title": "Kubernetes", "version": "v1.33.0"},
           "paths": {}, "definitions": {}})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_protobuf_document_decodes_back() {
        let bytes = protobuf();
        let doc = Document::decode(bytes.as_slice()).unwrap();
        assert_eq!(doc.swagger, "2.0");
        assert_eq!(doc.info.unwrap().version, "v1.33.0");
        assert!(doc.paths.is_some() && doc.definitions.is_some());
    }
}

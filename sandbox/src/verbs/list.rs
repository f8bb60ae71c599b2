//! `list`: a collection filtered by label and field selectors, paginated with
//! `limit`/`continue`.
//!
//! Pages are served from the current state, not from a snapshot at the first page's
//! resourceVersion: the list's `metadata.resourceVersion` stays the first page's, but an
//! object changed between pages shows its new state. Clients that need consistency
//! re-list, as they must against a real server whose snapshot was compacted.

use super::request::Representation;
use super::{Call, Reply, present};
use crate::selectors::Selection;
use crate::status::ApiError;
use crate::table;
use base64::Engine;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::sync::Arc;

#[derive(Serialize, Deserialize)]
struct Token {
    v: String,
    rv: u64,
    /// `namespace/name` of the last object of the previous page.
    start: String,
}

fn encode_token(rv: u64, namespace: &str, name: &str) -> String {
    let token = Token { v: "meta.k8s.io/v1".into(), rv, start: format!("{namespace}/{name}") };
    base64::engine::general_purpose::STANDARD.encode(serde_json::to_vec(&token).unwrap_or_default())
}

fn decode_token(raw: &str) -> Result<Token, ApiError> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(raw)
        .map_err(|e| ApiError::bad_request(format!("continue key is not valid: {e}")))?;
    serde_json::from_slice(&bytes)
        .map_err(|e| ApiError::bad_request(format!("continue key is not valid: {e}")))
}

/// Parses the selectors of a list or watch; a bad selector is a 400.
pub fn selection(call: &Call) -> Result<Selection, ApiError> {
    let fields = call
        .query
        .field_selector
        .as_deref()
        .map(|f| crate::versions::field_selector(call.info(), f));
    Selection::parse(call.query.label_selector.as_deref(), fields.as_deref(), &call.info().kind)
        .map_err(|e| ApiError::bad_request(e.to_string()))
}

/// One page of a list, from the store.
pub struct Page {
    /// The objects, as served at the requested version.
    pub items: Vec<Arc<Value>>,
    /// The list's resourceVersion.
    pub rv: u64,
    /// The continue token, if more objects follow.
    pub continue_: Option<String>,
    /// How many selected objects follow, when there is no selector.
    pub remaining: Option<usize>,
}

/// Reads one page.
pub fn page(call: &Call, selection: &Selection, limit: Option<usize>) -> Result<Page, ApiError> {
    let info = call.info();
    let token =
        call.query.continue_.as_deref().filter(|t| !t.is_empty()).map(decode_token).transpose()?;
    let namespace = call.target.namespace.as_deref();
    let store = call.state.store();
    let rv = token.as_ref().map_or(store.resource_version(), |t| t.rv);
    let start = token.as_ref().map(|t| {
        let (ns, name) = t.start.split_once('/').unwrap_or(("", t.start.as_str()));
        (ns.to_string(), name.to_string())
    });
    let mut items = Vec::new();
    let mut more = 0usize;
    let mut last = None;
    let (group, resource) = info.storage();
    for (key, obj) in store.range(group, resource, namespace) {
        // Compared as a pair, in the store's order (as strings, `a-b/x` < `a/y`).
        if let Some((ns, name)) = &start
            && (key.namespace.as_str(), key.name.as_str()) <= (ns.as_str(), name.as_str())
        {
            continue;
        }
        if !selection.matches(obj) {
            continue;
        }
        if limit.is_some_and(|l| items.len() >= l) {
            more += 1;
            continue;
        }
        last = Some((key.namespace.clone(), key.name.clone()));
        items.push(present(info, obj));
    }
    drop(store);
    let continue_ =
        (more > 0).then(|| last.map(|(ns, name)| encode_token(rv, &ns, &name))).flatten();
    let selected = selection.labels.is_empty() && selection.fields.is_empty();
    let remaining = (more > 0 && selected).then_some(more);
    Ok(Page { items, rv, continue_, remaining })
}

#[derive(Serialize)]
struct ListOut<'a> {
    kind: String,
    #[serde(rename = "apiVersion")]
    api_version: String,
    metadata: Value,
    items: Vec<&'a Value>,
}

/// GET of a collection.
pub fn list(call: &Call) -> Result<Reply, ApiError> {
    let info = call.info();
    let selection = selection(call)?;
    let page = page(call, &selection, call.query.limit()?)?;
    let mut list_meta = json!({"resourceVersion": page.rv.to_string()});
    if let Some(c) = &page.continue_ {
        list_meta["continue"] = c.clone().into();
    }
    if let Some(r) = page.remaining {
        list_meta["remainingItemCount"] = r.into();
    }
    match call.repr {
        Representation::Object => {
            let out = ListOut {
                kind: info.list_kind(),
                api_version: info.api_version(),
                metadata: list_meta,
                items: page.items.iter().map(|o| o.as_ref()).collect(),
            };
            let body = serde_json::to_vec(&out).map_err(ApiError::internal)?;
            Ok(Reply::Bytes { code: 200, body })
        }
        Representation::Metadata => Ok(Reply::ok(json!({
            "kind": "PartialObjectMetadataList",
            "apiVersion": "meta.k8s.io/v1",
            "metadata": list_meta,
            "items": page.items.iter().map(|o| table::partial_metadata(o)).collect::<Vec<_>>(),
        }))),
        Representation::Table => {
            let include = table::IncludeObject::parse(call.query.include_object.as_deref());
            Ok(Reply::ok(table::table(
                info,
                page.items.iter().map(|o| o.as_ref()),
                list_meta,
                include,
            )))
        }
    }
}

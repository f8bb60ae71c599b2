//! The verbs' own request types: what a request addresses ([`Target`]), its query
//! parameters ([`Params`]), the representation it is answered in ([`Representation`]), and
//! the decoding of its body. The server fills them from HTTP; the verbs read nothing else.

use crate::registry::ResourceInfo;
use crate::status::ApiError;
use serde::Deserialize;
use serde_json::Value;
use std::sync::Arc;

/// A resource path.
#[derive(Debug, Clone)]
pub struct Target {
    /// The resource.
    pub info: Arc<ResourceInfo>,
    /// The namespace in the path, if any.
    pub namespace: Option<String>,
    /// The object name, if the path addresses one object.
    pub name: Option<String>,
    /// The subresource (`status`, `scale`, `finalize`), if any.
    pub subresource: Option<String>,
}

impl Target {
    /// The resource as counters and errors name it: `deployments` or `deployments/status`.
    pub fn resource_label(&self) -> String {
        match &self.subresource {
            Some(s) => format!("{}/{s}", self.info.plural),
            None => self.info.plural.clone(),
        }
    }
}

/// The query parameters apiserver understands (the ones the sandbox honours).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Params {
    /// `All` for a dry run.
    pub dry_run: Option<String>,
    /// The field manager of a write.
    pub field_manager: Option<String>,
    /// `Strict`, `Warn` or `Ignore`.
    pub field_validation: Option<String>,
    /// Apply with force.
    pub force: Option<String>,
    /// Label selector.
    pub label_selector: Option<String>,
    /// Field selector.
    pub field_selector: Option<String>,
    /// Page size.
    pub limit: Option<String>,
    /// Continue token.
    #[serde(rename = "continue")]
    pub continue_: Option<String>,
    /// Resource version of a list or watch.
    pub resource_version: Option<String>,
    /// `NotOlderThan` or `Exact`.
    pub resource_version_match: Option<String>,
    /// Whether the list is a watch.
    pub watch: Option<String>,
    /// Whether the watch gets BOOKMARK events.
    pub allow_watch_bookmarks: Option<String>,
    /// How long the watch lasts.
    pub timeout_seconds: Option<String>,
    /// Streaming lists: send the current state as ADDED first, then a bookmark.
    pub send_initial_events: Option<String>,
    /// Delete propagation.
    pub propagation_policy: Option<String>,
    /// Deprecated delete propagation.
    pub orphan_dependents: Option<String>,
    /// Grace period of a delete (ignored: nothing runs).
    pub grace_period_seconds: Option<String>,
    /// Tables: `None`, `Metadata` or `Object`.
    pub include_object: Option<String>,
}

/// `true`, `1` or an empty value mean yes.
pub fn flag(v: &Option<String>) -> bool {
    matches!(v.as_deref(), Some("true" | "1" | "True" | ""))
}

impl Params {
    /// Parses a query string; malformed parameters are a 400.
    pub fn parse(raw: Option<&str>) -> Result<Self, ApiError> {
        serde_urlencoded::from_str(raw.unwrap_or(""))
            .map_err(|e| ApiError::bad_request(format!("invalid query: {e}")))
    }

    /// Whether this is a dry run; any value other than `All` is invalid.
    pub fn dry_run(&self, options_kind: &str) -> Result<bool, ApiError> {
        crate::write::dry_run(self.dry_run.as_deref(), options_kind)
    }

    /// `watch=true`.
    pub fn is_watch(&self) -> bool {
        flag(&self.watch)
    }

    /// The numeric `limit`, if positive.
    pub fn limit(&self) -> Result<Option<usize>, ApiError> {
        match self.limit.as_deref() {
            None | Some("") => Ok(None),
            Some(l) => {
                let n: i64 =
                    l.parse().map_err(|_| ApiError::bad_request(format!("invalid limit: {l}")))?;
                Ok(usize::try_from(n).ok().filter(|n| *n > 0))
            }
        }
    }

    /// The numeric `resourceVersion`, `None` when unset or empty.
    pub fn resource_version(&self) -> Result<Option<u64>, ApiError> {
        match self.resource_version.as_deref() {
            None | Some("") => Ok(None),
            Some(rv) => rv
                .parse()
                .map(Some)
                .map_err(|_| ApiError::bad_request(format!("invalid resource version: {rv}"))),
        }
    }
}

/// The representation the client asked for in `Accept`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Representation {
    /// The object (or list) itself.
    Object,
    /// A `meta.k8s.io/v1` Table (kubectl get).
    Table,
    /// `PartialObjectMetadata` / `PartialObjectMetadataList`.
    Metadata,
}

/// Decodes a JSON or YAML request body into an object.
pub fn decode_body(body: &[u8]) -> Result<Value, ApiError> {
    let text = std::str::from_utf8(body)
        .map_err(|_| ApiError::bad_request("the request body is not UTF-8"))?;
    let trimmed = text.trim_start();
    if trimmed.is_empty() {
        return Err(ApiError::bad_request("the request body is empty"));
    }
    if trimmed.starts_with('{') || trimmed.starts_with('[') {
        return serde_json::from_str(text)
            .map_err(|e| ApiError::bad_request(format!("error decoding the request body: {e}")));
    }
    serde_saphyr::from_str::<Value>(text)
        .map_err(|e| ApiError::bad_request(format!("error decoding the request body as YAML: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_and_params() {
        assert_eq!(decode_body(b"{\"a\": 1}").unwrap()["a"], 1);
        assert_eq!(decode_body(b"a: 1\nb: [x]\n").unwrap()["b"][0], "x");
        assert_eq!(decode_body(b"").unwrap_err().code, 400);
        assert_eq!(Params::parse(Some("dryRun=All&limit=5")).unwrap().limit().unwrap(), Some(5));
        assert!(Params::parse(Some("dryRun=All")).unwrap().dry_run("CreateOptions").unwrap());
        assert_eq!(
            Params::parse(Some("dryRun=Foo")).unwrap().dry_run("CreateOptions").unwrap_err().code,
            422
        );
    }
}

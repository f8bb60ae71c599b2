//! What a resource request carries besides its path: query parameters, the representation
//! the client accepts (`Accept`), and the decoded body.

use crate::status::{ApiError, FieldError};
use serde::Deserialize;
use serde_json::Value;

/// The query parameters apiserver understands (the ones the sandbox honours).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Query {
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

impl Query {
    /// Parses a query string; malformed parameters are a 400.
    pub fn parse(raw: Option<&str>) -> Result<Self, ApiError> {
        serde_urlencoded::from_str(raw.unwrap_or(""))
            .map_err(|e| ApiError::bad_request(format!("invalid query: {e}")))
    }

    /// Whether this is a dry run; any value other than `All` is invalid.
    pub fn dry_run(&self, options_kind: &str) -> Result<bool, ApiError> {
        match self.dry_run.as_deref() {
            None | Some("") => Ok(false),
            Some("All") => Ok(true),
            Some(other) => Err(ApiError::invalid(
                "meta.k8s.io",
                options_kind,
                "",
                &[FieldError::not_supported(
                    "dryRun",
                    format!("[]string{{\"{other}\"}}"),
                    "supported values: \"All\"",
                )],
            )),
        }
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

/// The media types of one `Accept` header, with their parameters.
fn media_ranges(accept: &str) -> impl Iterator<Item = (String, Vec<(String, String)>)> + '_ {
    accept.split(',').map(|range| {
        let mut parts = range.split(';').map(str::trim);
        let media = parts.next().unwrap_or_default().to_ascii_lowercase();
        let params = parts
            .filter_map(|p| {
                p.split_once('=').map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
            })
            .collect();
        (media, params)
    })
}

fn param<'a>(params: &'a [(String, String)], key: &str) -> Option<&'a str> {
    params.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
}

/// Negotiates the representation: the first JSON range we can produce wins.
pub fn negotiate(accept: Option<&str>) -> Result<Representation, ApiError> {
    let Some(accept) = accept.filter(|a| !a.trim().is_empty()) else {
        return Ok(Representation::Object);
    };
    for (media, params) in media_ranges(accept) {
        if !matches!(
            media.as_str(),
            "application/json" | "application/*" | "*/*" | "application/yaml"
        ) {
            continue;
        }
        match (param(&params, "as"), param(&params, "g")) {
            (None, _) => return Ok(Representation::Object),
            (Some("Table"), Some("meta.k8s.io")) => return Ok(Representation::Table),
            (Some("PartialObjectMetadata" | "PartialObjectMetadataList"), Some("meta.k8s.io")) => {
                return Ok(Representation::Metadata);
            }
            _ => continue,
        }
    }
    Err(ApiError::not_acceptable(&["application/json", "application/yaml"]))
}

/// Whether the client asked for aggregated discovery (`as=APIGroupDiscoveryList`, v2).
pub fn wants_aggregated_discovery(accept: Option<&str>) -> bool {
    let Some(accept) = accept else { return false };
    for (media, params) in media_ranges(accept) {
        if media != "application/json" {
            continue;
        }
        let aggregated = param(&params, "as") == Some("APIGroupDiscoveryList")
            && param(&params, "g") == Some("apidiscovery.k8s.io")
            && param(&params, "v") == Some("v2");
        if aggregated {
            return true;
        }
        if param(&params, "as").is_none() {
            // Plain JSON ranks before any aggregated range that follows it.
            return false;
        }
    }
    false
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
    fn negotiation() {
        let kubectl_get = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json";
        assert_eq!(negotiate(Some(kubectl_get)).unwrap(), Representation::Table);
        assert_eq!(negotiate(Some("application/json")).unwrap(), Representation::Object);
        assert_eq!(negotiate(None).unwrap(), Representation::Object);
        assert_eq!(
            negotiate(Some("application/vnd.kubernetes.protobuf, application/json")).unwrap(),
            Representation::Object
        );
        assert_eq!(
            negotiate(Some("application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1"))
                .unwrap(),
            Representation::Metadata
        );
        assert_eq!(negotiate(Some("application/vnd.kubernetes.protobuf")).unwrap_err().code, 406);
    }

    #[test]
    fn aggregated_discovery_detection() {
        let kubectl = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json";
        assert!(wants_aggregated_discovery(Some(kubectl)));
        assert!(!wants_aggregated_discovery(Some("application/json")));
        assert!(!wants_aggregated_discovery(Some(
            "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList"
        )));
    }

    #[test]
    fn bodies() {
        assert_eq!(decode_body(b"{\"a\": 1}").unwrap()["a"], 1);
        assert_eq!(decode_body(b"a: 1\nb: [x]\n").unwrap()["b"][0], "x");
        assert_eq!(decode_body(b"").unwrap_err().code, 400);
        assert_eq!(Query::parse(Some("dryRun=All&limit=5")).unwrap().limit().unwrap(), Some(5));
        assert!(Query::parse(Some("dryRun=All")).unwrap().dry_run("CreateOptions").unwrap());
        assert_eq!(
            Query::parse(Some("dryRun=Foo")).unwrap().dry_run("CreateOptions").unwrap_err().code,
            422
        );
    }
}

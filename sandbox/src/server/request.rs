//! Content negotiation: which [`Representation`] of the verbs' answer the client's
//! `Accept` header asks for, and whether it asks for aggregated discovery.

use crate::status::ApiError;
use crate::verbs::Representation;

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
}

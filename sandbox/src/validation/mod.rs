//! Object validation that apiserver answers with 422 Invalid: name formats, namespace
//! rules, and the per-kind checks clients trip over (a Deployment selector that does not
//! match its template, immutable selectors and Job templates, CRD names), and the required
//! fields of pod specs with the restart policies each kind allows (`pods`).
//!
//! Owns the error texts (copied from apimachinery). Unknown fields and type errors are the
//! schema walk's ([`crate::schema`]); admission (namespaces existing or terminating) is the
//! write pipeline's.

use crate::meta;
use crate::registry::ResourceInfo;
use crate::status::FieldError;
use serde_json::Value;

mod custom;
mod pods;

const SUBDOMAIN_MSG: &str = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
const LABEL_MSG: &str = "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
const DNS1035_MSG: &str = "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')";

fn is_label(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b.iter().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-')
        && b[0] != b'-'
        && b[b.len() - 1] != b'-'
}

fn is_subdomain(s: &str) -> bool {
    s.split('.').all(is_label)
}

fn quoted(s: &str) -> String {
    format!("{s:?}")
}

/// How a kind's names are validated.
fn name_errors(info: &ResourceInfo, name: &str) -> Vec<FieldError> {
    let field = "metadata.name";
    let mut errs = Vec::new();
    match (info.group.as_str(), info.kind.as_str()) {
        ("", "Namespace") => {
            if name.len() > 63 {
                errs.push(FieldError::invalid(
                    field,
                    quoted(name),
                    "must be no more than 63 characters",
                ));
            }
            if !is_label(name) {
                errs.push(FieldError::invalid(field, quoted(name), LABEL_MSG));
            }
        }
        ("", "Service") => {
            if name.len() > 63 {
                errs.push(FieldError::invalid(
                    field,
                    quoted(name),
                    "must be no more than 63 characters",
                ));
            }
            if !is_label(name) || !name.starts_with(|c: char| c.is_ascii_lowercase()) {
                errs.push(FieldError::invalid(field, quoted(name), DNS1035_MSG));
            }
        }
        ("rbac.authorization.k8s.io", _) => {
            if name == "." || name == ".." || name.contains('/') || name.contains('%') {
                errs.push(FieldError::invalid(
                    field,
                    quoted(name),
                    "may not contain '/' or '%', and may not be '.' or '..'",
                ));
            }
        }
        _ => {
            if name.len() > 253 {
                errs.push(FieldError::invalid(
                    field,
                    quoted(name),
                    "must be no more than 253 characters",
                ));
            }
            if !is_subdomain(name) {
                errs.push(FieldError::invalid(field, quoted(name), SUBDOMAIN_MSG));
            }
        }
    }
    errs
}

fn labels_as_go_map(labels: &serde_json::Map<String, Value>) -> String {
    let inner: Vec<String> = labels
        .iter()
        .map(|(k, v)| format!("{:?}:{:?}", k, v.as_str().unwrap_or_default()))
        .collect();
    format!("map[string]string{{{}}}", inner.join(", "))
}

/// Whether `labels` satisfy a `LabelSelector` object (matchLabels and matchExpressions).
pub fn selector_matches(selector: &Value, labels: &serde_json::Map<String, Value>) -> bool {
    let get = |k: &str| labels.get(k).and_then(Value::as_str);
    let ml = selector["matchLabels"]
        .as_object()
        .is_none_or(|m| m.iter().all(|(k, v)| get(k) == v.as_str()));
    let exprs = selector["matchExpressions"].as_array().is_none_or(|es| {
        es.iter().all(|e| {
            let key = e["key"].as_str().unwrap_or_default();
            let values: Vec<&str> = e["values"]
                .as_array()
                .map(|a| a.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            match e["operator"].as_str() {
                Some("In") => get(key).is_some_and(|v| values.contains(&v)),
                Some("NotIn") => get(key).is_none_or(|v| !values.contains(&v)),
                Some("Exists") => get(key).is_some(),
                Some("DoesNotExist") => get(key).is_none(),
                _ => false,
            }
        })
    });
    ml && exprs
}

fn workload_errors(obj: &Value, old: Option<&Value>) -> Vec<FieldError> {
    let mut errs = Vec::new();
    let spec = &obj["spec"];
    let selector = &spec["selector"];
    if selector.is_null() {
        errs.push(FieldError::required("spec.selector", ""));
    } else {
        let empty = serde_json::Map::new();
        let labels = spec["template"]["metadata"]["labels"].as_object().unwrap_or(&empty);
        if !selector_matches(selector, labels)
            || (selector["matchLabels"].is_null() && selector["matchExpressions"].is_null())
        {
            errs.push(FieldError::invalid(
                "spec.template.metadata.labels",
                labels_as_go_map(labels),
                "`selector` does not match template `labels`",
            ));
        }
        if let Some(old) = old
            && old["spec"]["selector"] != *selector
        {
            errs.push(FieldError::invalid(
                "spec.selector",
                "v1.LabelSelector{...}",
                "field is immutable",
            ));
        }
    }
    errs
}

fn job_errors(obj: &Value, old: Option<&Value>) -> Vec<FieldError> {
    let mut errs =
        pods::pod_spec_errors(&obj["spec"]["template"]["spec"], "spec.template.spec", pods::JOB);
    if let Some(old) = old
        && old["spec"]["template"] != obj["spec"]["template"]
    {
        errs.push(FieldError::invalid(
            "spec.template",
            "core.PodTemplateSpec{...}",
            "field is immutable",
        ));
    }
    errs
}

fn cron_job_errors(obj: &Value) -> Vec<FieldError> {
    let mut errs = Vec::new();
    if obj["spec"]["schedule"].as_str().unwrap_or_default().is_empty() {
        errs.push(FieldError::required("spec.schedule", ""));
    }
    let path = "spec.jobTemplate.spec.template.spec";
    errs.extend(pods::pod_spec_errors(
        &obj["spec"]["jobTemplate"]["spec"]["template"]["spec"],
        path,
        pods::JOB,
    ));
    errs
}

fn kind_errors(info: &ResourceInfo, obj: &Value, old: Option<&Value>) -> Vec<FieldError> {
    if info.custom {
        return info.crd_schema.as_ref().map(|s| custom::errors(s, obj)).unwrap_or_default();
    }
    match (info.group.as_str(), info.kind.as_str()) {
        ("apps", "Deployment" | "StatefulSet" | "DaemonSet" | "ReplicaSet") => {
            let mut errs = workload_errors(obj, old);
            let spec = &obj["spec"]["template"]["spec"];
            errs.extend(pods::pod_spec_errors(spec, "spec.template.spec", pods::WORKLOAD));
            errs
        }
        ("batch", "Job") => job_errors(obj, old),
        ("batch", "CronJob") => cron_job_errors(obj),
        ("", "Pod") => pods::pod_spec_errors(&obj["spec"], "spec", pods::POD),
        ("apiextensions.k8s.io", "CustomResourceDefinition") => crd_errors(obj),
        ("events.k8s.io", "Event") if old.is_none() => events_v1_errors(obj),
        _ => vec![],
    }
}

/// kube-apiserver's `ValidateEventCreate` for events.k8s.io/v1 (strict, unlike core/v1
/// Events): an event time, a type of `Normal` or `Warning`, the reporting controller and
/// instance, an action and a reason; the deprecated fields unset.
fn events_v1_errors(obj: &Value) -> Vec<FieldError> {
    let mut errs = Vec::new();
    let str_of = |f: &str| obj[f].as_str().unwrap_or_default();
    if obj["eventTime"].is_null() {
        errs.push(FieldError::required("eventTime", ""));
    }
    let type_ = str_of("type");
    if type_ != "Normal" && type_ != "Warning" {
        errs.push(FieldError::invalid("type", "\"\"", format!("has invalid value: {type_}")));
    }
    for f in ["deprecatedFirstTimestamp", "deprecatedLastTimestamp", "deprecatedCount"] {
        if !obj[f].is_null() && obj[f] != 0 {
            errs.push(FieldError::invalid(f, "\"\"", "needs to be unset"));
        }
    }
    if obj["deprecatedSource"].as_object().is_some_and(|m| !m.is_empty()) {
        errs.push(FieldError::invalid("deprecatedSource", "\"\"", "needs to be unset"));
    }
    for f in ["reportingController", "reportingInstance", "action", "reason"] {
        if str_of(f).is_empty() {
            errs.push(FieldError::required(f, ""));
        }
    }
    errs
}

fn crd_errors(obj: &Value) -> Vec<FieldError> {
    let mut errs = Vec::new();
    let spec = &obj["spec"];
    let group = spec["group"].as_str().unwrap_or_default();
    let plural = spec["names"]["plural"].as_str().unwrap_or_default();
    if group.is_empty() {
        errs.push(FieldError::required("spec.group", ""));
    }
    if plural.is_empty() {
        errs.push(FieldError::required("spec.names.plural", ""));
    }
    if spec["names"]["kind"].as_str().unwrap_or_default().is_empty() {
        errs.push(FieldError::required("spec.names.kind", ""));
    }
    let name = meta::name(obj);
    if !group.is_empty() && !plural.is_empty() && name != format!("{plural}.{group}") {
        errs.push(FieldError::invalid(
            "metadata.name",
            quoted(name),
            "must be spec.names.plural+\".\"+spec.group",
        ));
    }
    let versions = spec["versions"].as_array().map(Vec::as_slice).unwrap_or_default();
    if versions.is_empty() {
        errs.push(FieldError::invalid(
            "spec.versions",
            "[]apiextensions.CustomResourceDefinitionVersion(nil)",
            "must have exactly one version marked as storage version",
        ));
    } else if versions.iter().filter(|v| v["storage"] == true).count() != 1 {
        errs.push(FieldError::invalid(
            "spec.versions",
            "[]apiextensions.CustomResourceDefinitionVersion{...}",
            "must have exactly one version marked as storage version",
        ));
    }
    errs
}

/// Validates an object about to be stored (`old` is the stored one, for updates).
pub fn validate(info: &ResourceInfo, obj: &Value, old: Option<&Value>) -> Vec<FieldError> {
    let name = meta::name(obj);
    let mut errs = if name.is_empty() {
        vec![FieldError::required("metadata.name", "name or generateName is required")]
    } else {
        name_errors(info, name)
    };
    errs.extend(kind_errors(info, obj, old));
    errs
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::Registry;
    use serde_json::json;

    #[test]
    fn names() {
        let r = Registry::builtin();
        let cm = r.get("", "v1", "configmaps").unwrap();
        assert!(validate(&cm, &json!({"metadata": {"name": "a.b-c"}}), None).is_empty());
        let errs = validate(&cm, &json!({"metadata": {"name": "Foo"}}), None);
        assert_eq!(
            errs[0].to_string(),
            format!("metadata.name: Invalid value: \"Foo\": {SUBDOMAIN_MSG}")
        );
        let ns = r.get("", "v1", "namespaces").unwrap();
        assert_eq!(validate(&ns, &json!({"metadata": {"name": "a.b"}}), None).len(), 1);
        assert_eq!(
            validate(&ns, &json!({"metadata": {}}), None)[0].to_string(),
            "metadata.name: Required value: name or generateName is required"
        );
    }

    #[test]
    fn deployment_selector_must_match_template() {
        let r = Registry::builtin();
        let d = r.get("apps", "v1", "deployments").unwrap();
        let obj = json!({"metadata": {"name": "web"}, "spec": {"selector": {"matchLabels": {"app": "web"}},
            "template": {"metadata": {"labels": {"app": "other"}}}}});
        let errs = validate(&d, &obj, None);
        assert_eq!(
            errs[0].to_string(),
            "spec.template.metadata.labels: Invalid value: map[string]string{\"app\":\"other\"}: `selector` does not match template `labels`"
        );
    }
}

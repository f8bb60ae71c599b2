//! The checks and settlements of an object about to be written: its schema (unknown
//! fields, types), its namespace (from the path; admission into an existing, live
//! namespace), what a create strips and what the server sets on it, and the 422
//! validation.

use super::options::{FieldValidation, WriteOptions};
use crate::meta;
use crate::registry::ResourceInfo;
use crate::schema::Report;
use crate::status::{ApiError, Cause, FieldError};
use crate::store::{ObjKey, Store};
use crate::validation;
use serde_json::{Value, json};

fn type_error(info: &ResourceInfo, name: &str, report: &Report) -> Option<ApiError> {
    let first = report.mismatches.first()?;
    if info.custom {
        let errs: Vec<FieldError> = report
            .mismatches
            .iter()
            .map(|m| {
                let expected = match m.expected.as_str() {
                    "int32" | "int64" => "integer",
                    "float64" => "number",
                    "bool" => "boolean",
                    other => other,
                };
                FieldError::type_invalid(
                    m.path.clone(),
                    format!("{:?}", m.found),
                    format!("{} in body must be of type {expected}: {:?}", m.path, m.found),
                )
            })
            .collect();
        return Some(ApiError::invalid(&info.group, &info.kind, name, &errs));
    }
    Some(ApiError::bad_request(format!(
        "{kind} in version \"{v}\" cannot be handled as a {kind}: json: cannot unmarshal {found} into Go struct field {kind}.{path} of type {expected}",
        kind = info.kind,
        v = info.version,
        found = first.found,
        path = first.path,
        expected = first.expected,
    )))
}

/// Checks an object (or an apply configuration) against the kind's schema, pruning unknown
/// fields. Non-apply writes follow `fieldValidation`; apply always rejects unknown fields,
/// with the message and code (500, no reason) apiserver's typed patch conversion gives.
pub fn check_schema(
    info: &ResourceInfo,
    obj: &mut Value,
    options: &WriteOptions,
    apply: bool,
    warnings: &mut Vec<String>,
) -> Result<(), ApiError> {
    let Some(schema) = &info.schema else { return Ok(()) };
    let report = schema.check(obj, true);
    let name = meta::name(obj).to_string();
    if let Some(e) = type_error(info, &name, &report) {
        return Err(e);
    }
    if report.unknown.is_empty() {
        return Ok(());
    }
    if apply {
        let namespace = meta::namespace(obj);
        let first = &report.unknown[0];
        return Err(ApiError::unclassified(format!(
            "failed to create typed patch object ({namespace}/{name}; {}{}, Kind={}): .{first}: field not declared in schema",
            if info.group.is_empty() { "/" } else { "" },
            info.api_version(),
            info.kind
        )));
    }
    let unknown: Vec<String> =
        report.unknown.iter().map(|p| format!("unknown field \"{p}\"")).collect();
    match options.validation {
        FieldValidation::Strict => {
            Err(ApiError::bad_request(format!("strict decoding error: {}", unknown.join(", "))))
        }
        FieldValidation::Warn => {
            warnings.extend(unknown);
            Ok(())
        }
        FieldValidation::Ignore => Ok(()),
    }
}

/// A built-in object as kube-apiserver stores it after decoding it into the Go type:
/// quantities (`resources.requests`, a claim's storage, quota limits, ...) in the canonical
/// form apimachinery's `resource.Quantity` encodes, and empty slices and maps of
/// `omitempty` fields (`annotations: {}`, `data: {}`) gone. A quantity that does not parse
/// fails the decoding (400). Custom resources keep what they were sent, as unstructured
/// objects do, with their CRD schema's defaults filled in.
pub fn round_trip(info: &ResourceInfo, obj: &mut Value) -> Result<(), ApiError> {
    if info.custom {
        // Custom objects are decoded with their schema's structural defaults.
        if let Some(schema) = &info.crd_schema {
            crate::schema::defaults::apply(schema, obj);
        }
        return Ok(());
    }
    let Some(schema) = &info.schema else { return Ok(()) };
    schema.round_trip(obj).map_err(|(_, e)| {
        ApiError::bad_request(format!(
            "{kind} in version \"{v}\" cannot be handled as a {kind}: {e}",
            kind = info.kind,
            v = info.version,
        ))
    })
}

/// Sets the namespace of an object from the path (namespaced kinds) or removes it
/// (cluster-scoped kinds); a body naming another namespace is a 400.
pub fn settle_namespace(
    info: &ResourceInfo,
    obj: &mut Value,
    path_namespace: &str,
) -> Result<(), ApiError> {
    let meta = meta::metadata_mut(obj);
    if !info.namespaced {
        meta.remove("namespace");
        return Ok(());
    }
    match meta.get("namespace").and_then(Value::as_str) {
        Some(ns) if !ns.is_empty() && ns != path_namespace => Err(ApiError::bad_request(
            "the namespace of the provided object does not match the namespace sent on the request",
        )),
        _ => {
            meta.insert("namespace".into(), path_namespace.into());
            Ok(())
        }
    }
}

/// Refuses a create into a namespace that does not exist (404) or is terminating (403).
pub fn admit_namespace(
    store: &Store,
    info: &ResourceInfo,
    namespace: &str,
    name: &str,
) -> Result<(), ApiError> {
    if !info.namespaced {
        return Ok(());
    }
    match store.get(&ObjKey::new("", "namespaces", "", namespace)) {
        None => Err(ApiError::not_found("", "namespaces", namespace)),
        Some(ns) if meta::is_deleting(ns) => Err(ApiError::forbidden(
            &info.group,
            &info.plural,
            name,
            &format!(
                "unable to create new content in namespace {namespace} because it is being terminated"
            ),
            &[Cause {
                reason: "NamespaceTerminating".into(),
                message: format!("namespace {namespace} is being terminated"),
                field: "metadata.namespace".into(),
            }],
        )),
        Some(_) => Ok(()),
    }
}

/// Readies a new object before defaulting: no resourceVersion allowed, a name from
/// `generateName`, no server-owned metadata, and no status for kinds with a status
/// subresource (it is the controllers').
pub fn strip_for_create(info: &ResourceInfo, obj: &mut Value) -> Result<(), ApiError> {
    let meta = meta::metadata_mut(obj);
    if meta.get("resourceVersion").and_then(Value::as_str).is_some_and(|rv| !rv.is_empty()) {
        return Err(ApiError::bad_request(
            "resourceVersion should not be set on objects to be created",
        ));
    }
    if meta.get("name").and_then(Value::as_str).unwrap_or_default().is_empty()
        && let Some(prefix) =
            meta.get("generateName").and_then(Value::as_str).filter(|p| !p.is_empty())
    {
        let name = format!("{prefix}{}", meta::random_suffix());
        meta.insert("name".into(), name.into());
    }
    for f in [
        "uid",
        "creationTimestamp",
        "deletionTimestamp",
        "deletionGracePeriodSeconds",
        "selfLink",
        "generation",
    ] {
        meta.remove(f);
    }
    if info.status_subresource
        && let Value::Object(m) = obj
    {
        m.remove("status");
    }
    Ok(())
}

/// The fields apiserver sets on a new object after the field manager ran (so no manager
/// owns them): uid, creationTimestamp, generation, a Namespace's `kubernetes` finalizer.
pub fn server_fields_create(info: &ResourceInfo, obj: &mut Value) {
    let meta = meta::metadata_mut(obj);
    meta.insert("uid".into(), meta::new_uid().into());
    meta.insert("creationTimestamp".into(), meta::now().into());
    if info.tracks_generation {
        meta.insert("generation".into(), 1.into());
    }
    if !info.custom && info.group.is_empty() && info.kind == "Namespace" {
        obj["spec"]["finalizers"] = json!(["kubernetes"]);
    }
}

/// Runs the 422 validation of an object about to be stored.
pub fn validate(info: &ResourceInfo, obj: &Value, old: Option<&Value>) -> Result<(), ApiError> {
    let errs = validation::validate(info, obj, old);
    if errs.is_empty() {
        return Ok(());
    }
    Err(ApiError::invalid(&info.group, &info.kind, meta::name(obj), &errs))
}

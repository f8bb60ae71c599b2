//! What every write (create, update, patch, apply, status and scale writes) shares:
//! request options (dry run, field manager, field validation), decoding and type checks,
//! the schema walk, admission into namespaces, server-owned fields, generation, status
//! preservation, and the commit itself (no-op detection, finalizer-driven removal, dry run).

use super::Call;
use crate::meta;
use crate::registry::ResourceInfo;
use crate::schema::Report;
use crate::status::{ApiError, Cause, FieldError};
use crate::store::{ObjKey, Store};
use crate::validation;
use serde_json::{Map, Value, json};
use std::sync::Arc;

/// `fieldValidation`: what to do about unknown fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldValidation {
    /// Fail the request (400).
    Strict,
    /// Drop them and warn (the default).
    Warn,
    /// Drop them silently.
    Ignore,
}

/// The options every write takes from the query.
#[derive(Debug, Clone)]
pub struct WriteOptions {
    /// `dryRun=All`.
    pub dry_run: bool,
    /// The field manager (explicit, or derived from the user agent).
    pub manager: String,
    /// Whether the manager was given explicitly.
    pub explicit_manager: bool,
    /// Unknown-field handling.
    pub validation: FieldValidation,
}

impl WriteOptions {
    /// Reads and validates the options; `options_kind` names the options type in errors
    /// (`CreateOptions`, `UpdateOptions`, `PatchOptions`).
    pub fn from_call(call: &Call, options_kind: &str) -> Result<Self, ApiError> {
        let dry_run = call.query.dry_run(options_kind)?;
        let validation = match call.query.field_validation.as_deref() {
            None | Some("") | Some("Warn") => FieldValidation::Warn,
            Some("Strict") => FieldValidation::Strict,
            Some("Ignore") => FieldValidation::Ignore,
            Some(other) => {
                return Err(ApiError::bad_request(format!(
                    "fieldValidation parameter unsupported: {other:?}; supported values: \"Ignore\", \"Warn\", \"Strict\""
                )));
            }
        };
        let explicit = call.query.field_manager.clone().filter(|m| !m.is_empty());
        if let Some(m) = &explicit
            && m.len() > 128
        {
            return Err(ApiError::invalid(
                "meta.k8s.io",
                options_kind,
                "",
                &[FieldError {
                    kind: crate::status::FieldErrorKind::Invalid,
                    field: "fieldManager".into(),
                    value: None,
                    detail: "Too long: may not be more than 128 bytes".into(),
                }],
            ));
        }
        // apiserver names an unnamed manager after the user agent's program name.
        let derived = call.user_agent.split('/').next().unwrap_or_default().to_string();
        Ok(Self {
            dry_run,
            explicit_manager: explicit.is_some(),
            manager: explicit.unwrap_or(derived),
            validation,
        })
    }
}

/// Decodes the body into an object whose apiVersion and kind match the resource (filled
/// in when missing).
pub fn decode_object(call: &Call) -> Result<Value, ApiError> {
    // Protobuf bodies (kubectl's typed clients, e.g. `kubectl create configmap`) are not
    // understood: k8s-openapi has no protobuf form of the types.
    if !matches!(
        call.content_type.as_str(),
        "" | "application/json" | "application/yaml" | "application/merge-patch+json"
    ) {
        return Err(ApiError::unsupported_media_type(&["application/json", "application/yaml"]));
    }
    let mut obj = crate::server::request::decode_body(&call.body)?;
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

/// Whether everything except metadata and status is equal: what a generation bump is
/// about. Compared in place, without copying either object.
fn same_spec(a: &Value, b: &Value) -> bool {
    let (Some(a), Some(b)) = (a.as_object(), b.as_object()) else { return a == b };
    let rest = |m: &'_ Map<String, Value>| {
        m.iter().filter(|(k, _)| !matches!(k.as_str(), "metadata" | "status")).count()
    };
    rest(a) == rest(b)
        && a.iter()
            .filter(|(k, _)| !matches!(k.as_str(), "metadata" | "status"))
            .all(|(k, v)| b.get(k) == Some(v))
}

/// 409 when the body names another resourceVersion or uid than the stored object's.
fn check_update_preconditions(
    info: &ResourceInfo,
    old: &Value,
    new: &Value,
) -> Result<(), ApiError> {
    let name = meta::name(old);
    let sent_rv = meta::meta_str(new, "resourceVersion");
    if !sent_rv.is_empty() && sent_rv != meta::meta_str(old, "resourceVersion") {
        return Err(ApiError::stale(&info.group, &info.plural, name));
    }
    let sent_uid = meta::uid(new);
    if !sent_uid.is_empty() && sent_uid != meta::uid(old) {
        let why = format!(
            "Precondition failed: UID in precondition: {}, UID in object meta: {sent_uid}",
            meta::uid(old)
        );
        return Err(ApiError::conflict(&info.group, &info.plural, name, &why));
    }
    Ok(())
}

/// A `/status` write: the stored object with the new status (and managedFields).
fn status_write(old: &Value, new: &mut Value) {
    let status = new.get("status").cloned();
    let managed = meta::metadata(new).and_then(|m| m.get("managedFields")).cloned();
    *new = old.clone();
    match status {
        Some(s) => new["status"] = s,
        None => {
            if let Value::Object(m) = new {
                m.remove("status");
            }
        }
    }
    if let Some(mf) = managed {
        meta::metadata_mut(new).insert("managedFields".into(), mf);
    }
}

/// Copies the metadata the server owns from the stored object; managedFields too when the
/// body has none.
fn carry_server_metadata(old: &Value, new: &mut Value) {
    let empty = Map::new();
    let old_meta = meta::metadata(old).unwrap_or(&empty);
    let meta = meta::metadata_mut(new);
    for f in [
        "uid",
        "creationTimestamp",
        "deletionTimestamp",
        "deletionGracePeriodSeconds",
        "generation",
        "generateName",
    ] {
        match old_meta.get(f) {
            Some(v) => meta.insert(f.into(), v.clone()),
            None => meta.remove(f),
        };
    }
    meta.remove("selfLink");
    if !meta.contains_key("managedFields")
        && let Some(mf) = old_meta.get("managedFields")
    {
        meta.insert("managedFields".into(), mf.clone());
    }
}

/// 422 when finalizers are added to an object being deleted.
fn check_new_finalizers(info: &ResourceInfo, old: &Value, new: &Value) -> Result<(), ApiError> {
    if !meta::is_deleting(old) {
        return Ok(());
    }
    let had = meta::finalizers(old);
    let added: Vec<String> =
        meta::finalizers(new).into_iter().filter(|f| !had.contains(f)).collect();
    if added.is_empty() {
        return Ok(());
    }
    let list = added.iter().map(|f| format!("{f:?}")).collect::<Vec<_>>().join(", ");
    let detail = format!(
        "no new finalizers can be added if the object is being deleted, found new finalizers []string{{{list}}}"
    );
    Err(ApiError::invalid(
        &info.group,
        &info.kind,
        meta::name(old),
        &[FieldError::forbidden("metadata.finalizers", detail)],
    ))
}

/// The server-owned fields of an updated object, taken from the stored one; `status`
/// writes change only status, main-resource writes keep it (kinds with `/status`), and
/// the generation moves when anything but metadata and status changed.
pub fn prepare_update(
    info: &ResourceInfo,
    old: &Value,
    new: &mut Value,
    subresource: Option<&str>,
) -> Result<(), ApiError> {
    check_update_preconditions(info, old, new)?;
    if subresource == Some("status") {
        status_write(old, new);
        return Ok(());
    }
    carry_server_metadata(old, new);
    check_new_finalizers(info, old, new)?;
    if info.status_subresource
        && let Value::Object(m) = new
    {
        match old.get("status") {
            Some(s) => m.insert("status".into(), s.clone()),
            None => m.remove("status"),
        };
    }
    if info.kind == "Namespace" && !info.custom {
        new["spec"] = old["spec"].clone();
    }
    if info.tracks_generation && !same_spec(old, new) {
        meta::metadata_mut(new).insert("generation".into(), (meta::generation(old) + 1).into());
    }
    Ok(())
}

/// Runs the 422 validation of an object about to be stored.
pub fn validate(info: &ResourceInfo, obj: &Value, old: Option<&Value>) -> Result<(), ApiError> {
    let errs = validation::validate(info, obj, old);
    if errs.is_empty() {
        return Ok(());
    }
    Err(ApiError::invalid(&info.group, &info.kind, meta::name(obj), &errs))
}

/// What a commit did.
#[derive(Debug)]
pub struct Committed {
    /// The object as stored (or as it would be, for a dry run).
    pub object: Arc<Value>,
    /// Whether the object was created.
    pub created: bool,
}

fn without_rv(obj: &Value) -> Value {
    let mut o = obj.clone();
    meta::metadata_mut(&mut o).remove("resourceVersion");
    o
}

/// The end every write to an existing object shares (PUT and PATCH): keep what the server
/// allocated, validate, record managed fields, and commit.
pub fn commit_update(
    store: &mut Store,
    key: ObjKey,
    info: &ResourceInfo,
    old: &Arc<Value>,
    mut obj: Value,
    options: &WriteOptions,
    subresource: Option<&str>,
) -> Result<Committed, ApiError> {
    super::allocate::keep_allocated(info, old, &mut obj);
    validate(info, &obj, Some(old))?;
    crate::fields::on_update(info, old, &mut obj, options, subresource);
    commit(store, key, Some(old), obj, options.dry_run)
}

/// Stores `new` under `key`. A write that changes nothing is not committed (no new
/// resourceVersion, no event), as in apiserver. An object being deleted whose last
/// finalizer is removed goes away. A dry run commits nothing.
pub fn commit(
    store: &mut Store,
    key: ObjKey,
    old: Option<&Arc<Value>>,
    mut new: Value,
    dry_run: bool,
) -> Result<Committed, ApiError> {
    if let Some(old) = old {
        meta::metadata_mut(&mut new)
            .insert("resourceVersion".into(), meta::meta_str(old, "resourceVersion").into());
        if new == **old {
            return Ok(Committed { object: old.clone(), created: false });
        }
    }
    // A Namespace also waits for its `spec.finalizers` (the namespace controller's).
    let is_namespace = key.group.is_empty() && key.resource == "namespaces";
    let spec_finalizers = new["spec"]["finalizers"].as_array().is_some_and(|f| !f.is_empty());
    let deleting = meta::is_deleting(&new)
        && meta::finalizers(&new).is_empty()
        && !(is_namespace && spec_finalizers);
    if dry_run {
        if old.is_none() {
            meta::metadata_mut(&mut new).remove("resourceVersion");
        }
        return Ok(Committed { object: Arc::new(new), created: old.is_none() });
    }
    if deleting {
        // Store the final state first so that watchers see it in the DELETED event.
        store.put(key.clone(), without_rv(&new)).map_err(ApiError::internal)?;
        let gone = store.remove(&key).map_err(ApiError::internal)?;
        return Ok(Committed { object: gone.unwrap_or_else(|| Arc::new(new)), created: false });
    }
    let object = store.put(key, new).map_err(ApiError::internal)?;
    Ok(Committed { object, created: old.is_none() })
}

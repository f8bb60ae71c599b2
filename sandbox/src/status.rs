//! Kubernetes `Status` errors: the reasons, codes and message formats kube-apiserver uses, so
//! that clients (kubectl, kube-rs) see exactly the failures a real cluster would give them.
//!
//! Owns [`ApiError`] and its constructors, one per kind of failure, and the JSON form of a
//! `Status`. It does not decide *when* a request fails; the verbs do.

use serde_json::{Map, Value, json};

/// One `details.causes` entry of a `Status`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cause {
    /// The machine-readable cause, e.g. `FieldValueInvalid` or `FieldManagerConflict`.
    pub reason: String,
    /// The human-readable message.
    pub message: String,
    /// The field the cause is about, e.g. `metadata.name` or `.spec.replicas`.
    pub field: String,
}

/// A field validation error, as apimachinery's `field.Error`: its `Display` is what the
/// aggregated `Invalid` message shows (`metadata.name: Invalid value: "Foo": ...`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    /// The kind of error.
    pub kind: FieldErrorKind,
    /// The field path, e.g. `metadata.name`.
    pub field: String,
    /// The offending value rendered as Go does (`"Foo"`, `3`), if the kind shows one.
    pub value: Option<String>,
    /// The explanation.
    pub detail: String,
}

/// The field error types apimachinery uses, with their cause reasons.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldErrorKind {
    /// `Required value`.
    Required,
    /// `Invalid value`.
    Invalid,
    /// `Forbidden`.
    Forbidden,
    /// `Unsupported value`.
    NotSupported,
    /// `Duplicate value`.
    Duplicate,
    /// `Invalid value` of the wrong JSON type.
    TypeInvalid,
    /// `Too long` (a string over a schema's `maxLength`; the value is not shown).
    TooLong,
    /// `Too many` (a list over a schema's `maxItems`).
    TooMany,
}

impl FieldErrorKind {
    fn reason(self) -> &'static str {
        match self {
            Self::Required => "FieldValueRequired",
            Self::Invalid => "FieldValueInvalid",
            Self::Forbidden => "FieldValueForbidden",
            Self::NotSupported => "FieldValueNotSupported",
            Self::Duplicate => "FieldValueDuplicate",
            Self::TypeInvalid => "FieldValueTypeInvalid",
            Self::TooLong => "FieldValueTooLong",
            Self::TooMany => "FieldValueTooMany",
        }
    }

    fn label(self) -> &'static str {
        match self {
            Self::Required => "Required value",
            Self::Invalid | Self::TypeInvalid => "Invalid value",
            Self::Forbidden => "Forbidden",
            Self::NotSupported => "Unsupported value",
            Self::Duplicate => "Duplicate value",
            Self::TooLong => "Too long",
            Self::TooMany => "Too many",
        }
    }
}

impl FieldError {
    /// A `Required value` error.
    pub fn required(field: impl Into<String>, detail: impl Into<String>) -> Self {
        Self {
            kind: FieldErrorKind::Required,
            field: field.into(),
            value: None,
            detail: detail.into(),
        }
    }

    /// An `Invalid value` error showing `value` (already rendered, e.g. `"Foo"`).
    pub fn invalid(
        field: impl Into<String>,
        value: impl Into<String>,
        detail: impl Into<String>,
    ) -> Self {
        Self {
            kind: FieldErrorKind::Invalid,
            field: field.into(),
            value: Some(value.into()),
            detail: detail.into(),
        }
    }

    /// A type error: the value (rendered) is not of the schema's type.
    pub fn type_invalid(
        field: impl Into<String>,
        value: impl Into<String>,
        detail: impl Into<String>,
    ) -> Self {
        Self {
            kind: FieldErrorKind::TypeInvalid,
            field: field.into(),
            value: Some(value.into()),
            detail: detail.into(),
        }
    }

    /// A `Forbidden` error.
    pub fn forbidden(field: impl Into<String>, detail: impl Into<String>) -> Self {
        Self {
            kind: FieldErrorKind::Forbidden,
            field: field.into(),
            value: None,
            detail: detail.into(),
        }
    }

    /// An `Unsupported value` error.
    pub fn not_supported(
        field: impl Into<String>,
        value: impl Into<String>,
        detail: impl Into<String>,
    ) -> Self {
        Self {
            kind: FieldErrorKind::NotSupported,
            field: field.into(),
            value: Some(value.into()),
            detail: detail.into(),
        }
    }

    /// The message without the field, as `StatusCause.message` carries it.
    pub fn body(&self) -> String {
        match (&self.value, self.detail.is_empty()) {
            (Some(v), false) => format!("{}: {}: {}", self.kind.label(), v, self.detail),
            (Some(v), true) => format!("{}: {}", self.kind.label(), v),
            (None, false) => format!("{}: {}", self.kind.label(), self.detail),
            (None, true) => self.kind.label().to_string(),
        }
    }
}

impl std::fmt::Display for FieldError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.field, self.body())
    }
}

/// A failed request, rendered as a Kubernetes `Status` object with its HTTP code.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{message}")]
pub struct ApiError {
    /// The HTTP status code (and `Status.code`).
    pub code: u16,
    /// `Status.reason`, e.g. `NotFound`.
    pub reason: String,
    /// `Status.message`.
    pub message: String,
    /// `Status.details`, if any.
    pub details: Option<Value>,
}

/// `deployments.apps` or `configmaps`: how apiserver names a resource in messages.
pub fn qualified(group: &str, resource: &str) -> String {
    if group.is_empty() { resource.to_string() } else { format!("{resource}.{group}") }
}

fn details(group: &str, resource: &str, name: &str) -> Value {
    let mut d = Map::new();
    if !name.is_empty() {
        d.insert("name".into(), name.into());
    }
    if !group.is_empty() {
        d.insert("group".into(), group.into());
    }
    // apiserver puts the resource (not the kind) in `details.kind` for these errors.
    d.insert("kind".into(), resource.into());
    Value::Object(d)
}

impl ApiError {
    fn new(code: u16, reason: &str, message: String, details: Option<Value>) -> Self {
        Self { code, reason: reason.to_string(), message, details }
    }

    /// 404 `deployments.apps "web" not found`.
    pub fn not_found(group: &str, resource: &str, name: &str) -> Self {
        let message = format!("{} \"{name}\" not found", qualified(group, resource));
        Self::new(404, "NotFound", message, Some(details(group, resource, name)))
    }

    /// 404 for a path no resource is served at.
    pub fn no_route() -> Self {
        Self::new(
            404,
            "NotFound",
            "the server could not find the requested resource".into(),
            Some(json!({})),
        )
    }

    /// 409 `deployments.apps "web" already exists`.
    pub fn already_exists(group: &str, resource: &str, name: &str) -> Self {
        let message = format!("{} \"{name}\" already exists", qualified(group, resource));
        Self::new(409, "AlreadyExists", message, Some(details(group, resource, name)))
    }

    /// 409 `Operation cannot be fulfilled on deployments.apps "web": <why>`.
    pub fn conflict(group: &str, resource: &str, name: &str, why: &str) -> Self {
        let message = format!(
            "Operation cannot be fulfilled on {} \"{name}\": {why}",
            qualified(group, resource)
        );
        Self::new(409, "Conflict", message, Some(details(group, resource, name)))
    }

    /// 409 for a write carrying a stale `resourceVersion`.
    pub fn stale(group: &str, resource: &str, name: &str) -> Self {
        Self::conflict(
            group,
            resource,
            name,
            "the object has been modified; please apply your changes to the latest version and try again",
        )
    }

    /// 409 Conflict for server-side apply, one cause per conflicting field.
    pub fn apply_conflict(
        message: String,
        group: &str,
        resource: &str,
        name: &str,
        causes: &[Cause],
    ) -> Self {
        let mut d = details(group, resource, name);
        d["causes"] = causes_json(causes);
        Self::new(409, "Conflict", message, Some(d))
    }

    /// 422 `Deployment.apps "web" is invalid: <errors>`.
    pub fn invalid(group: &str, kind: &str, name: &str, errors: &[FieldError]) -> Self {
        let qualified_kind =
            if group.is_empty() { kind.to_string() } else { format!("{kind}.{group}") };
        let message = match errors {
            [] => format!("{qualified_kind} \"{name}\" is invalid"),
            [one] => format!("{qualified_kind} \"{name}\" is invalid: {one}"),
            many => {
                let all: Vec<String> = many.iter().map(ToString::to_string).collect();
                format!("{qualified_kind} \"{name}\" is invalid: [{}]", all.join(", "))
            }
        };
        let causes: Vec<Cause> = errors
            .iter()
            .map(|e| Cause {
                reason: e.kind.reason().into(),
                message: e.body(),
                field: e.field.clone(),
            })
            .collect();
        let mut d = Map::new();
        d.insert("name".into(), name.into());
        if !group.is_empty() {
            d.insert("group".into(), group.into());
        }
        d.insert("kind".into(), kind.into());
        d.insert("causes".into(), causes_json(&causes));
        Self::new(422, "Invalid", message, Some(Value::Object(d)))
    }

    /// 400 BadRequest with a free-form message.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(400, "BadRequest", message.into(), None)
    }

    /// 403 `configmaps "x" is forbidden: <why>`.
    pub fn forbidden(group: &str, resource: &str, name: &str, why: &str, causes: &[Cause]) -> Self {
        let message = format!("{} \"{name}\" is forbidden: {why}", qualified(group, resource));
        let mut d = details(group, resource, name);
        if !causes.is_empty() {
            d["causes"] = causes_json(causes);
        }
        Self::new(403, "Forbidden", message, Some(d))
    }

    /// 410 Expired, e.g. `too old resource version: 3 (10)`.
    pub fn expired(message: impl Into<String>) -> Self {
        Self::new(410, "Expired", message.into(), None)
    }

    /// 415 for a patch or body type the resource does not accept.
    pub fn unsupported_media_type(accepted: &[&str]) -> Self {
        let message = format!(
            "the body of the request was in an unknown format - accepted media types include: {}",
            accepted.join(", ")
        );
        Self::new(415, "UnsupportedMediaType", message, None)
    }

    /// 405 for a verb the resource does not support.
    pub fn method_not_allowed() -> Self {
        Self::new(
            405,
            "MethodNotAllowed",
            "the server does not allow this method on the requested resource".into(),
            Some(json!({})),
        )
    }

    /// 406 when the client accepts no representation we can produce.
    pub fn not_acceptable(accepted: &[&str]) -> Self {
        let message =
            format!("only the following media types are accepted: {}", accepted.join(", "));
        Self::new(406, "NotAcceptable", message, None)
    }

    /// 500 `Internal error occurred: <why>`.
    pub fn internal(why: impl std::fmt::Display) -> Self {
        Self::new(500, "InternalError", format!("Internal error occurred: {why}"), None)
    }

    /// 500 without a reason: what apiserver answers for an error it did not classify, e.g.
    /// an apply patch with a field its schema does not declare.
    pub fn unclassified(message: impl Into<String>) -> Self {
        Self::new(500, "", message.into(), None)
    }

    /// An error a test asked for through error injection.
    pub fn injected(code: u16, reason: Option<&str>, message: Option<&str>) -> Self {
        let reason = reason.map(str::to_string).unwrap_or_else(|| default_reason(code).to_string());
        let message = message
            .map(str::to_string)
            .unwrap_or_else(|| format!("injected error ({code} {reason})"));
        Self { code, reason, message, details: None }
    }

    /// The `Status` object.
    pub fn to_status(&self) -> Value {
        let mut status = json!({
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
        });
        // apiserver leaves the reason out for errors it could not classify (code 500).
        if !self.reason.is_empty() {
            status["reason"] = self.reason.clone().into();
        }
        if let Some(d) = &self.details {
            status["details"] = d.clone();
        }
        status["code"] = self.code.into();
        status
    }
}

/// The reason apiserver uses for a bare HTTP code.
fn default_reason(code: u16) -> &'static str {
    match code {
        400 => "BadRequest",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "NotFound",
        405 => "MethodNotAllowed",
        409 => "Conflict",
        410 => "Expired",
        422 => "Invalid",
        429 => "TooManyRequests",
        500 => "InternalError",
        503 => "ServiceUnavailable",
        504 => "Timeout",
        _ => "Unknown",
    }
}

fn causes_json(causes: &[Cause]) -> Value {
    causes
        .iter()
        .map(|c| json!({"reason": c.reason, "message": c.message, "field": c.field}))
        .collect()
}

/// A `Status` reporting success, as a DELETE of an object without finalizers returns.
pub fn success(group: &str, resource: &str, name: &str, uid: &str) -> Value {
    let mut d = details(group, resource, name);
    d["uid"] = uid.into();
    json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "details": d})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn not_found_names_the_qualified_resource() {
        let e = ApiError::not_found("apps", "deployments", "web");
        assert_eq!(e.code, 404);
        assert_eq!(e.message, "deployments.apps \"web\" not found");
        assert_eq!(
            e.to_status()["details"],
            json!({"name": "web", "group": "apps", "kind": "deployments"})
        );
        assert_eq!(
            ApiError::not_found("", "configmaps", "c").message,
            "configmaps \"c\" not found"
        );
    }

    #[test]
    fn invalid_aggregates_like_apimachinery() {
        let one = ApiError::invalid(
            "meta.k8s.io",
            "PatchOptions",
            "",
            &[FieldError::required("fieldManager", "is required for apply patch")],
        );
        assert_eq!(
            one.message,
            "PatchOptions.meta.k8s.io \"\" is invalid: fieldManager: Required value: is required for apply patch"
        );
        assert_eq!(one.to_status()["details"]["causes"][0]["reason"], "FieldValueRequired");
        let two = ApiError::invalid(
            "",
            "ConfigMap",
            "x",
            &[
                FieldError::invalid("metadata.name", "\"X\"", "bad"),
                FieldError::forbidden("data", "no"),
            ],
        );
        assert_eq!(
            two.message,
            "ConfigMap \"x\" is invalid: [metadata.name: Invalid value: \"X\": bad, data: Forbidden: no]"
        );
    }
}

//! The API verbs, one file each: get, list, watch, create, update (replace), patch, apply,
//! delete (and deletecollection), and the `/scale` subresource, each taking the verbs' own
//! request ([`Call`], with the types of [`request`]).
//!
//! Owns the semantics of each verb over the store. It does not parse HTTP (the server
//! does), does not merge (the merge module does), and commits through the write layer
//! ([`crate::write`]), which the controllers share.

pub mod apply;
pub mod create;
pub mod delete;
pub mod get;
pub mod list;
pub mod patch;
pub mod protobuf;
pub mod request;
pub mod scale;
pub mod update;
pub mod watch;
pub mod write;

pub use request::{Params, Representation, Target};

use crate::registry::ResourceInfo;
use crate::state::State;
use crate::status::ApiError;
use crate::store::{ObjKey, Store};
use crate::table;
use axum::body::Body;
use axum::body::Bytes;
use axum::http::Method;
use serde_json::Value;
use std::sync::Arc;

/// One resource request, decoded.
pub struct Call {
    /// The server state.
    pub state: Arc<State>,
    /// What the path addresses.
    pub target: Target,
    /// The query parameters.
    pub query: Params,
    /// The representation the client accepts.
    pub repr: Representation,
    /// The request's `Content-Type` (media type only, lowercase).
    pub content_type: String,
    /// The request body.
    pub body: Bytes,
    /// The request's `User-Agent`, for the default field manager.
    pub user_agent: String,
}

impl Call {
    /// The resource.
    pub fn info(&self) -> &Arc<ResourceInfo> {
        &self.target.info
    }

    /// The namespace of the path ("" if none).
    pub fn namespace(&self) -> &str {
        self.target.namespace.as_deref().unwrap_or("")
    }

    /// The key of the addressed object.
    pub fn key(&self, name: &str) -> ObjKey {
        let (group, resource) = self.info().storage();
        ObjKey::new(group, resource, self.namespace(), name)
    }

    /// The key of an object of the addressed resource in another namespace.
    pub fn key_in(&self, namespace: &str, name: &str) -> ObjKey {
        let (group, resource) = self.info().storage();
        ObjKey::new(group, resource, namespace, name)
    }

    /// The name of the addressed object ("" for collections).
    pub fn name(&self) -> &str {
        self.target.name.as_deref().unwrap_or("")
    }

    /// The reply carrying one object in the negotiated representation (the object itself
    /// is serialized from the shared value, not copied).
    pub fn reply(&self, code: u16, obj: Arc<Value>, warnings: Vec<String>) -> Reply {
        match self.repr {
            Representation::Object => Reply::Object { code, object: obj, warnings },
            _ => Reply::Json { code, body: self.render_one(&obj), warnings },
        }
    }

    /// Renders one object in the negotiated representation.
    pub fn render_one(&self, obj: &Value) -> Value {
        match self.repr {
            Representation::Object => obj.clone(),
            Representation::Metadata => table::partial_metadata(obj),
            Representation::Table => {
                let include = table::IncludeObject::parse(self.query.include_object.as_deref());
                let rv = crate::meta::meta_str(obj, "resourceVersion").to_string();
                table::table(
                    self.info(),
                    [obj],
                    serde_json::json!({"resourceVersion": rv}),
                    include,
                )
            }
        }
    }
}

/// A verb's answer.
pub enum Reply {
    /// A JSON document with warnings for the `Warning` header.
    Json {
        /// HTTP status code.
        code: u16,
        /// The document.
        body: Value,
        /// `Warning: 299` messages.
        warnings: Vec<String>,
    },
    /// One stored object, serialized as it is.
    Object {
        /// HTTP status code.
        code: u16,
        /// The object.
        object: Arc<Value>,
        /// `Warning: 299` messages.
        warnings: Vec<String>,
    },
    /// Already serialized JSON.
    Bytes {
        /// HTTP status code.
        code: u16,
        /// The document.
        body: Vec<u8>,
    },
    /// A watch stream of newline-delimited JSON events.
    Stream(Body),
}

impl Reply {
    /// A 200 JSON reply.
    pub fn ok(body: Value) -> Self {
        Self::Json { code: 200, body, warnings: vec![] }
    }
}

/// The Kubernetes verb of a request, for counters, injection and dispatch.
pub fn verb_of(method: &Method, target: &Target, query: &Params) -> &'static str {
    let item = target.name.is_some();
    match *method {
        Method::GET if item => "get",
        Method::GET if query.is_watch() => "watch",
        Method::GET => "list",
        Method::POST => "create",
        Method::PUT => "update",
        Method::PATCH => "patch",
        Method::DELETE if item => "delete",
        Method::DELETE => "deletecollection",
        _ => "unknown",
    }
}

/// The object as served at the requested version (see [`crate::versions`]).
pub fn present(info: &ResourceInfo, obj: &Arc<Value>) -> Arc<Value> {
    crate::versions::present(info, obj)
}

/// Runs a verb.
pub async fn dispatch(call: Call, verb: &str) -> Result<Reply, ApiError> {
    let sub = call.target.subresource.clone();
    match (verb, sub.as_deref()) {
        // A Namespace's `/finalize` only takes updates.
        ("get" | "patch", Some("finalize")) => Err(ApiError::method_not_allowed()),
        ("get", Some("scale")) => scale::get(&call),
        // Pods are faked (as kwok does): nothing runs, so nothing has logged.
        ("get", Some("log")) => Err(ApiError::bad_request(format!(
            "pod {:?} has no logs: the sandbox runs no containers",
            call.name()
        ))),
        (_, Some("log")) => Err(ApiError::method_not_allowed()),
        ("update" | "patch", Some("scale")) => scale::write(&call, verb),
        ("get", _) => get::get(&call),
        ("list", None) => list::list(&call),
        ("watch", None) => watch::watch(call).await,
        ("create", None) => create::create(&call),
        ("update", _) => update::update(&call),
        ("patch", _) => patch::patch(&call),
        ("delete", None) => delete::delete(&call),
        ("deletecollection", None) if call.info().delete_collection => {
            delete::delete_collection(&call)
        }
        _ => Err(ApiError::method_not_allowed()),
    }
}

/// The stored object at `key`, or kube-apiserver's NotFound for it.
pub fn existing(store: &Store, info: &ResourceInfo, key: &ObjKey) -> Result<Arc<Value>, ApiError> {
    crate::write::existing(store, info, key)
}

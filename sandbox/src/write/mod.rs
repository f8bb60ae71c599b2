//! The write layer: what every write shares, whoever makes it (the verbs for clients, the
//! controllers for themselves): write options, schema and namespace checks, what the server
//! sets on a new object and keeps on an updated one, allocations (cluster IPs, node ports,
//! Job selectors), defaults and `managedFields` bookkeeping, the commit (no-op detection,
//! finalizer-driven removal, dry run), and the deletion of one object.
//!
//! It sits below both the verbs and the controllers and knows neither: it works on a
//! [`crate::store::Store`] the caller has locked and on [`crate::registry::ResourceInfo`].
//! It does not read requests (the verbs do) or decide what controllers write.

pub mod allocate;
mod checks;
mod commit;
mod delete;
mod fields;
mod options;
mod update;

pub use checks::{
    admit_namespace, check_schema, round_trip, server_fields_create, settle_namespace,
    strip_for_create, validate,
};
pub use commit::{Committed, commit, commit_update};
pub use delete::{CRD_CLEANUP, Deleted, FOREGROUND, ORPHAN, Propagation, delete_object};
pub use fields::{defaults, on_create, on_update};
pub use options::{FieldValidation, OptionParams, WriteOptions, dry_run};
pub use update::prepare_update;

use crate::registry::ResourceInfo;
use crate::status::ApiError;
use crate::store::{ObjKey, Store};
use serde_json::Value;
use std::sync::Arc;

/// The stored object at `key`, or kube-apiserver's NotFound for it.
pub fn existing(store: &Store, info: &ResourceInfo, key: &ObjKey) -> Result<Arc<Value>, ApiError> {
    store.get(key).cloned().ok_or_else(|| ApiError::not_found(&info.group, &info.plural, &key.name))
}

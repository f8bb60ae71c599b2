//! Merge semantics of the sandbox API server: server-side apply with `managedFields`,
//! managedFields bookkeeping for ordinary writes, strategic merge patch, JSON merge patch,
//! defaulting of built-in kinds, and the per-kind schema knowledge these need. Pure and
//! I/O-free: everything works on `serde_json::Value`. Storage, resource versions, uids,
//! timestamps other than managedFields times, validation, admission and HTTP are the server's.
//!
//! # API
//!
//! - [`Schema`]: how each path of a kind merges. [`Schema::builtin`] for the built-in kinds
//!   the sandbox serves, [`Schema::from_crd`] for custom resources (built from the CRD version's
//!   `openAPIV3Schema`), [`Schema::generic`] (or [`Schema::for_kind`]) for anything else.
//! - [`apply`] with an [`ApplyRequest`]: server-side apply (create when `live` is `None`).
//!   Fails with [`ApplyError::Conflicts`] (HTTP 409; [`ApplyError::status`] gives the exact
//!   `Status`, also [`conflict_status`]) or [`ApplyError::Invalid`] (400/500).
//! - [`record_update`] with an [`UpdateRequest`]: managedFields for create, update (PUT) and
//!   non-apply patches (operation `Update`).
//! - [`strategic_merge_patch`], [`json_merge_patch`]; JSON patch (RFC 6902) is the
//!   `json-patch` crate's.
//! - [`apply_defaults`]: kube-apiserver's defaulting; [`allocate_service_fields`]: what the
//!   Service registry allocates (cluster IP, IP families).
//! - [`FieldSet`]: sets of field paths and their exact FieldsV1 encoding
//!   ([`FieldSet::to_fields_v1`], [`FieldSet::to_fields_v1_string`],
//!   [`FieldSet::from_fields_v1`]); [`field_set`] gives the fields a value sets.
//!
//! # How the server calls this
//!
//! `now` is the request time (RFC 3339, seconds, `Z`); `manager` is the `fieldManager` query
//! parameter, or for non-apply writes without one the user agent up to its first `/` (e.g.
//! `kubectl-client-side-apply`, `kubectl-edit`); the schema comes from the kind (built-ins) or
//! the served CRD version.
//!
//! - **create** (POST): decode → [`apply_defaults`] → [`record_update`]`(None, &obj, ..)` →
//!   server-set fields (uid, resourceVersion, creationTimestamp, generation, Job selectors,
//!   Namespace finalizer, and for Services [`allocate_service_fields`]) → validate → store.
//!   Status is cleared on create for kinds with a status subresource (the server's job).
//! - **apply** (PATCH `application/apply-patch+yaml`): parse the YAML/JSON body into a value
//!   (`fieldManager` is required, else 422 `PatchOptions.meta.k8s.io "" is invalid`) → [`apply`]`(live.as_ref(), &body, ..)` with
//!   `live = None` if the object does not exist. Do **not** default the body first: the applier
//!   must own only what it sent; `apply` defaults the merged result itself when the object
//!   changed. Then, on create, the server-set fields as for create (and
//!   [`allocate_service_fields`]); on update, keep the live metadata the server owns. If the
//!   result equals the live object (managedFields included), it is a no-op: no new
//!   resourceVersion, no watch event. Conflicts → 409 with [`ApplyError::status`].
//! - **update / replace** (PUT): decode → [`apply_defaults`] → for kinds with a status
//!   subresource copy `status` from the live object (PUT on the main resource cannot change
//!   it; PUT on `/status` copies `spec` and `metadata.labels` back instead) →
//!   [`record_update`]`(Some(&live), &new, ..)` → resourceVersion check → store.
//! - **patch** (JSON, merge, strategic): apply the patch to the live object
//!   (`json_patch::patch`, [`json_merge_patch`], or [`strategic_merge_patch`] — the last only
//!   for built-ins; custom resources answer 415) → [`apply_defaults`] → reset fields as for
//!   update → [`record_update`]`(Some(&live), &patched, ..)` → store. A patch that leaves the
//!   object unchanged is a no-op.
//! - **dry-run** (`dryRun=All`): run exactly the same steps and return the result without
//!   storing it or bumping the resourceVersion (a dry-run create still gets a generated name
//!   and uid in kube-apiserver, but no resourceVersion).
//! - **status subresource**: pass `subresource: Some("status")`; apply then only takes
//!   `status` (and metadata other than labels) from the configuration.
//!
//! The module treats `deletionTimestamp` and `deletionGracePeriodSeconds` like the other
//! server-owned metadata: they are never in a field set.
//!
//! # Fidelity notes
//!
//! - `fieldsV1` keys are inserted in kube-apiserver's order (`.` first, then fields, keys by
//!   value — `k:{"port":80}` before `k:{"port":443}`); without serde_json's `preserve_order`
//!   feature a stored `Value` sorts them bytewise on output. [`FieldSet::to_fields_v1_string`]
//!   is always exact.
//! - Null values are dropped from results, as the round trip through Go types does for
//!   built-ins (custom resources keep `nullable` nulls in kube-apiserver; here they are dropped).
//! - Unknown fields of built-in kinds are accepted and merged as struct fields (kube-apiserver
//!   rejects them with field validation; that is the server's validation).
//! - kubectl's upgrade path from client-side apply is modelled: the manager `kubectl` takes
//!   over, without conflicts, fields its `last-applied-configuration` annotation still
//!   describes, and rewrites that annotation. CRD structural defaults are not modelled.

mod apply;
mod bookkeeping;
mod conflict;
mod defaults;
pub mod fieldset;
mod last_applied;
mod managed;
mod schema;
mod strategic;
mod typed;
mod update;

pub use apply::{ApplyError, ApplyRequest, apply};
pub use conflict::{Conflict, InvalidApply, conflict_causes, conflict_message, conflict_status};
pub use defaults::{allocate_service_fields, apply_defaults};
pub use fieldset::FieldSet;
pub use managed::Operation;
pub use schema::{Schema, SchemaError};
pub use strategic::{PatchError, json_merge_patch, strategic_merge_patch};
pub use update::{UpdateRequest, record_update};

/// The set of fields a value sets under a schema: what an applier sending `value` owns
/// (before kube-apiserver strips `apiVersion`, `kind`, `metadata.name` and the like).
pub fn field_set(schema: &Schema, value: &serde_json::Value) -> FieldSet {
    typed::to_field_set(schema, schema.root(), value)
}

#[cfg(test)]
mod tests;

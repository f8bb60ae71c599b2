//! Namespace termination: a deleted Namespace is `Terminating` while its contents are
//! deleted; once nothing is left in it, its `kubernetes` finalizer is removed and it goes.

use super::Controllers;
use crate::meta;
use crate::store::ObjKey;
use crate::write::{Deleted, Propagation, delete_object};
use serde_json::{Value, json};

/// Deletes the contents of a terminating namespace and finalizes it when it is empty.
pub fn reconcile(c: &mut Controllers, key: &ObjKey, ns: &Value) {
    if !meta::is_deleting(ns) {
        return;
    }
    let left = c.remaining(ns, c.state.tuning.namespace_termination_delay);
    if !left.is_zero() {
        c.after(key, left);
        return;
    }
    let contents: Vec<ObjKey> =
        c.state.store().in_namespace(&key.name).map(|(k, _)| k.clone()).collect();
    let mut remaining = 0;
    for k in &contents {
        let Some(info) = c.state.resource(&k.group, &k.resource) else { continue };
        let mut store = c.state.store();
        match delete_object(&mut store, &info, k, Propagation::Background, false) {
            Ok(Deleted::Pending(_)) => remaining += 1,
            Ok(_) => {}
            Err(e) if e.code == 404 => {}
            Err(e) => {
                remaining += 1;
                tracing::warn!(namespace = %key.name, object = %k.name, error = %e, "namespace cleanup failed");
            }
        }
    }
    if remaining > 0 {
        return;
    }
    let Some(current) = c.state.store().get(key).cloned() else { return };
    c.update(key, &current, "kube-controller-manager", Some("finalize"), |o| o["spec"] = json!({}));
}

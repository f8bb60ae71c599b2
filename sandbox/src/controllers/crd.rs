//! CustomResourceDefinitions: a new or changed CRD has its kinds served and is marked
//! `NamesAccepted` and `Established` (unless the withhold-CRD control holds it at
//! `Established=False`, reason `Installing`, unserved); a deleted one has its instances
//! deleted, stops being served, and then goes (finalizer
//! `customresourcecleanup.apiextensions.k8s.io`).

use super::Controllers;
use crate::meta;
use crate::registry::resources_of_crd;
use crate::store::ObjKey;
use crate::write::{CRD_CLEANUP as CLEANUP, Deleted, Propagation, delete_object};
use serde_json::{Value, json};

/// Reconciles one CRD.
pub fn reconcile(c: &mut Controllers, key: &ObjKey, crd: &Value) {
    if meta::is_deleting(crd) {
        cleanup(c, key, crd);
    } else {
        establish(c, key, crd);
    }
}

fn condition(type_: &str, status: bool, reason: &str, message: &str, now: &str) -> Value {
    let status = if status { "True" } else { "False" };
    json!({"type": type_, "status": status, "lastTransitionTime": now, "reason": reason, "message": message})
}

/// Whether the CRD's `Established` condition is true.
fn is_established(crd: &Value) -> bool {
    crd["status"]["conditions"]
        .as_array()
        .is_some_and(|cs| cs.iter().any(|c| c["type"] == "Established" && c["status"] == "True"))
}

/// The status of a CRD whose names are accepted: established, or (withheld) still
/// installing, as apiextensions' naming controller writes it before the establishing
/// controller has run.
pub fn established_status(crd: &Value, now: &str, established: bool) -> Value {
    let mut names = crd["spec"]["names"].clone();
    let kind = names["kind"].as_str().unwrap_or_default().to_string();
    if names["singular"].is_null() {
        names["singular"] = json!(kind.to_lowercase());
    }
    if names["listKind"].is_null() {
        names["listKind"] = json!(format!("{kind}List"));
    }
    let mut stored: Vec<Value> =
        crd["status"]["storedVersions"].as_array().cloned().unwrap_or_default();
    for v in crd["spec"]["versions"].as_array().into_iter().flatten() {
        if v["storage"] == true && !stored.contains(&v["name"]) {
            stored.push(v["name"].clone());
        }
    }
    let reason = if established { "InitialNamesAccepted" } else { "Installing" };
    let mut conditions = vec![
        condition("NamesAccepted", true, "NoConflicts", "no conflicts found", now),
        condition("Established", established, reason, "the initial names have been accepted", now),
    ];
    super::workload::carry_condition_times(crd, &mut conditions);
    json!({"conditions": conditions, "acceptedNames": names, "storedVersions": stored})
}

fn establish(c: &mut Controllers, key: &ObjKey, crd: &Value) {
    let now = meta::now();
    if c.state.controls.crd_withheld(&key.name) && !is_established(crd) {
        c.set_status(key, crd, "kube-apiserver", established_status(crd, &now, false));
        return;
    }
    // Serve first, so that a client that sees `Established` can use the kind at once.
    c.state.registry_mut().set_crd(&key.name, resources_of_crd(crd));
    c.set_status(key, crd, "kube-apiserver", established_status(crd, &now, true));
}

fn cleanup(c: &mut Controllers, key: &ObjKey, crd: &Value) {
    let group = crd["spec"]["group"].as_str().unwrap_or_default().to_string();
    let plural = crd["spec"]["names"]["plural"].as_str().unwrap_or_default().to_string();
    let instances: Vec<ObjKey> =
        c.state.store().range(&group, &plural, None).map(|(k, _)| k.clone()).collect();
    let mut remaining = 0;
    if let Some(info) = c.state.resource(&group, &plural) {
        for k in &instances {
            let mut store = c.state.store();
            match delete_object(&mut store, &info, k, Propagation::Background, false) {
                Ok(Deleted::Pending(_)) => remaining += 1,
                Ok(Deleted::Gone(_)) => {}
                Err(e) if e.code == 404 => {}
                Err(e) => {
                    remaining += 1;
                    tracing::warn!(crd = %key.name, object = %k.name, error = %e, "custom resource cleanup failed");
                }
            }
        }
    }
    if remaining > 0 {
        return;
    }
    c.state.registry_mut().remove_crd(&key.name);
    c.update(key, crd, "kube-apiserver", None, |o| {
        let rest: Vec<String> = meta::finalizers(o).into_iter().filter(|f| f != CLEANUP).collect();
        meta::set_finalizers(o, &rest);
    });
}

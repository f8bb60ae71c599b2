//! The small controllers: PersistentVolumeClaims get bound to a volume, Services of type
//! LoadBalancer get an address. Either stays pending with the annotation
//! `sandbox.cetus.dev/pending: "true"`; a claim also while the hold-claim control holds it.

use super::Controllers;
use crate::meta;
use crate::store::ObjKey;
use serde_json::{Value, json};

/// Annotation: keep the claim or load balancer pending.
pub const PENDING: &str = "sandbox.cetus.dev/pending";

/// Binds a claim: a volume name, phase `Bound`, the requested capacity.
pub fn bind_claim(c: &mut Controllers, key: &ObjKey, pvc: &Value) {
    let held = c.state.controls.claim_held(&key.namespace, &key.name);
    if meta::is_deleting(pvc) || meta::annotation(pvc, PENDING) == Some("true") || held {
        return;
    }
    if pvc["status"]["phase"] == "Bound" {
        return;
    }
    let volume = format!("pvc-{}", meta::uid(pvc));
    let spec = pvc["spec"].clone();
    // The binder sets the volume name on the claim, then its status.
    c.update(key, pvc, "kube-controller-manager", None, |o| {
        o["spec"]["volumeName"] = json!(volume)
    });
    let Some(bound) = c.state.store().get(key).cloned() else { return };
    let mut status = json!({"phase": "Bound", "accessModes": spec["accessModes"].clone()});
    if let Some(size) = spec["resources"]["requests"]["storage"].as_str() {
        status["capacity"] = json!({"storage": size});
    }
    c.set_status(key, &bound, "kube-controller-manager", status);
}

/// Gives a LoadBalancer Service an address (from 192.0.2.0/24, the documentation range).
pub fn load_balancer(c: &mut Controllers, key: &ObjKey, svc: &Value) {
    if svc["spec"]["type"] != "LoadBalancer"
        || meta::is_deleting(svc)
        || meta::annotation(svc, PENDING) == Some("true")
    {
        return;
    }
    if svc["status"]["loadBalancer"]["ingress"].as_array().is_some_and(|a| !a.is_empty()) {
        return;
    }
    let octet = 1
        + (meta::uid(svc).bytes().fold(0u32, |a, b| a.wrapping_mul(31).wrapping_add(u32::from(b)))
            % 254);
    let status =
        json!({"loadBalancer": {"ingress": [{"ip": format!("192.0.2.{octet}"), "ipMode": "VIP"}]}});
    c.set_status(key, svc, "cloud-controller-manager", status);
}

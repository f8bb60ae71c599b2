//! What apiserver allocates or generates rather than defaults: a Service's cluster IP
//! (and IP families, through [`crate::merge::allocate_service_fields`]) and node ports, and
//! a Job's selector and pod labels. These are set after the field manager ran, so no
//! manager owns them, and an update that leaves a Service's allocations out keeps them.

use crate::registry::ResourceInfo;
use crate::store::Store;
use serde_json::{Value, json};
use std::collections::BTreeSet;

fn is_service(info: &ResourceInfo) -> bool {
    !info.custom && info.group.is_empty() && info.kind == "Service"
}

fn used(store: &Store) -> (BTreeSet<String>, BTreeSet<i64>) {
    let mut ips = BTreeSet::new();
    let mut ports = BTreeSet::new();
    for (_, svc) in store.range("", "services", None) {
        if let Some(ip) = svc["spec"]["clusterIP"].as_str() {
            ips.insert(ip.to_string());
        }
        for p in svc["spec"]["ports"].as_array().into_iter().flatten() {
            if let Some(np) = p["nodePort"].as_i64() {
                ports.insert(np);
            }
        }
    }
    (ips, ports)
}

/// Generates a Job's selector and pod template labels from its uid, unless it selects
/// manually.
fn job_selector(obj: &mut Value) {
    if obj["spec"]["manualSelector"] == true || !obj["spec"]["selector"].is_null() {
        return;
    }
    let uid = crate::meta::uid(obj).to_string();
    let name = crate::meta::name(obj).to_string();
    obj["spec"]["selector"] = json!({"matchLabels": {"batch.kubernetes.io/controller-uid": uid}});
    let labels = &mut obj["spec"]["template"]["metadata"]["labels"];
    for (k, v) in [
        ("batch.kubernetes.io/controller-uid", &uid),
        ("batch.kubernetes.io/job-name", &name),
        ("controller-uid", &uid),
        ("job-name", &name),
    ] {
        labels[k] = json!(v);
    }
}

/// Allocates a new Service's cluster IP (from 10.96.0.0/12) and node ports (30000-32767),
/// and generates a new Job's selector. Runs after the object got its uid.
pub fn on_create(store: &Store, info: &ResourceInfo, obj: &mut Value) {
    if !info.custom && info.group == "batch" && info.kind == "Job" {
        job_selector(obj);
    }
    if !is_service(info) {
        return;
    }
    let type_ = obj["spec"]["type"].as_str().unwrap_or("ClusterIP").to_string();
    if type_ == "ExternalName" {
        return;
    }
    let (ips, ports) = used(store);
    let ip = (1u32..)
        .map(|n| format!("10.96.{}.{}", (n >> 8) & 0xff, n & 0xff))
        .find(|ip| !ips.contains(ip) && !ip.ends_with(".0"))
        .unwrap_or_else(|| "10.96.0.1".into());
    if obj["spec"]["clusterIP"].as_str() == Some("") {
        obj["spec"]["clusterIP"] = Value::Null;
    }
    crate::merge::allocate_service_fields(obj, &ip);
    let spec = &mut obj["spec"];
    if matches!(type_.as_str(), "NodePort" | "LoadBalancer") {
        let mut next = (30000..=32767).filter(|p| !ports.contains(p));
        if let Some(list) = spec["ports"].as_array_mut() {
            for p in list {
                if p["nodePort"].is_null()
                    && let Some(np) = next.next()
                {
                    p["nodePort"] = json!(np);
                }
            }
        }
    }
}

/// Keeps a Service's allocated cluster IPs and node ports when an update leaves them out.
pub fn keep_allocated(info: &ResourceInfo, old: &Value, new: &mut Value) {
    if !is_service(info) {
        return;
    }
    for f in ["clusterIP", "clusterIPs", "ipFamilies", "ipFamilyPolicy"] {
        if new["spec"][f].is_null() && !old["spec"][f].is_null() {
            new["spec"][f] = old["spec"][f].clone();
        }
    }
    let old_ports = old["spec"]["ports"].as_array().cloned().unwrap_or_default();
    if let Some(list) = new["spec"]["ports"].as_array_mut() {
        for p in list {
            if p["nodePort"].is_null()
                && let Some(o) =
                    old_ports.iter().find(|o| o["port"] == p["port"] && !o["nodePort"].is_null())
            {
                p["nodePort"] = o["nodePort"].clone();
            }
        }
    }
}

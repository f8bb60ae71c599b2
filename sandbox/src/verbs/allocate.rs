//! What apiserver allocates rather than defaults: a Service's cluster IP and node ports.
//! Allocated values are never owned by a field manager (apiserver sets them after the
//! field manager ran), and an update that leaves them out keeps them.

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

/// Allocates a new Service's cluster IP (from 10.96.0.0/12) and node ports (30000-32767).
pub fn on_create(store: &Store, info: &ResourceInfo, obj: &mut Value) {
    if !is_service(info) {
        return;
    }
    let type_ = obj["spec"]["type"].as_str().unwrap_or("ClusterIP").to_string();
    if type_ == "ExternalName" {
        return;
    }
    let (ips, ports) = used(store);
    let spec = &mut obj["spec"];
    if spec["clusterIP"].as_str().unwrap_or_default().is_empty() {
        let ip = (1u32..)
            .map(|n| format!("10.96.{}.{}", (n >> 8) & 0xff, n & 0xff))
            .find(|ip| !ips.contains(ip) && !ip.ends_with(".0"))
            .unwrap_or_else(|| "10.96.0.1".into());
        spec["clusterIP"] = json!(ip);
    }
    if spec["clusterIPs"].as_array().is_none_or(Vec::is_empty) {
        spec["clusterIPs"] = json!([spec["clusterIP"].clone()]);
    }
    if matches!(type_.as_str(), "NodePort" | "LoadBalancer") {
        let mut next = (30000..=32767).filter(|p| !ports.contains(p));
        if let Some(list) = spec["ports"].as_array_mut() {
            for p in list {
                if p["nodePort"].is_null() {
                    if let Some(np) = next.next() {
                        p["nodePort"] = json!(np);
                    }
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
    for f in ["clusterIP", "clusterIPs"] {
        if new["spec"][f].is_null() && !old["spec"][f].is_null() {
            new["spec"][f] = old["spec"][f].clone();
        }
    }
    let old_ports = old["spec"]["ports"].as_array().cloned().unwrap_or_default();
    if let Some(list) = new["spec"]["ports"].as_array_mut() {
        for p in list {
            if p["nodePort"].is_null() {
                if let Some(o) =
                    old_ports.iter().find(|o| o["port"] == p["port"] && !o["nodePort"].is_null())
                {
                    p["nodePort"] = o["nodePort"].clone();
                }
            }
        }
    }
}

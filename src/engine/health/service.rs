//! Service health: a Service of type LoadBalancer is Progressing until its load balancer has
//! an address (an IP or a hostname); every other Service is Healthy once it exists.

use super::{Health, text};
use serde_json::Value;

pub(super) fn assess(service: &Value) -> Health {
    if text(service, "/spec/type") != "LoadBalancer" {
        return Health::healthy();
    }
    let ingress = service.pointer("/status/loadBalancer/ingress").and_then(Value::as_array);
    let has_address = ingress.into_iter().flatten().any(|entry| {
        ["ip", "hostname"].iter().any(|field| !text(entry, &format!("/{field}")).is_empty())
    });
    if has_address {
        Health::healthy()
    } else {
        Health::progressing("waiting for a load balancer address")
    }
}

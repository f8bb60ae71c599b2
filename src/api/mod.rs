//! The HTTP API the daemon serves (axum): webhooks, the REST API with its probes, and
//! metrics. Each submodule builds a `Router` (or the state one needs) that the daemon mounts;
//! none of them starts a server or owns daemon state.

pub mod metrics;
pub mod rest;
pub mod switch;
pub mod webhooks;

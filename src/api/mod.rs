//! The HTTP API the daemon serves (axum): webhooks today; the REST API, metrics and health
//! probes join it. Each submodule builds a `Router` the daemon mounts; none of them starts a
//! server or owns daemon state.

pub mod webhooks;

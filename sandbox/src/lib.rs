//! cetus-sandbox: an in-memory Kubernetes API server that `kubectl` and `kube::Client` both
//! accept, so that Cetus's tests and quickstart run without a cluster. It is not a cluster:
//! no kubelet runs and no pod starts; controllers only report what clients would observe.
//!
//! Start one with [`Sandbox::start`] (or [`Sandbox::spawn`] for a server shared by many
//! tests), point clients at [`SandboxHandle::kubeconfig`], and steer it with the handle's
//! controls or the `/sandbox/...` endpoints (see the crate README).
#![forbid(unsafe_code)]

pub mod controllers;
pub mod controls;
pub mod discovery;
mod handle_auth;
mod handle_controls;
pub mod kubeconfig;
pub mod merge;
pub mod meta;
pub mod openapi;
pub mod openapi_v2;
pub mod quantity;
pub mod registry;
mod sandbox;
pub mod schema;
pub mod selectors;
pub mod server;
pub mod state;
pub mod status;
pub mod store;
pub mod table;
pub mod tls;
pub mod validation;
pub mod verbs;
pub mod versions;
pub mod write;

pub use controls::{
    ErrorInjection, Fault, FaultAction, JobMatch, RequestCount, RequestMatch, WatchBreak,
    parse_duration,
};
pub use sandbox::{Sandbox, SandboxError, SandboxHandle, SandboxOptions, ca_path};

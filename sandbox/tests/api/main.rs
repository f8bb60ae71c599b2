//! Integration tests of the sandbox API server through real HTTP on loopback: kube-rs
//! clients (discovery, CRUD, server-side apply, the runtime watcher) and raw requests for
//! wire details (status codes, `Status` bodies, watch streams, controls).

#[path = "../common/mod.rs"]
mod common;

mod controllers;
mod controls;
mod crd;
mod crud;
mod discovery;
mod errors;
mod events;
mod faults;
mod fidelity;
mod lists;
mod marks;
mod persistence;
mod pods;
mod policy_kinds;
mod quantities;
mod ssa;
mod tls;
mod watch;
mod watch_controls;

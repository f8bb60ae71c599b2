//! Cetus: a pull-based GitOps reconciler for Kubernetes.
//!
//! Data flows one way: [`source`] (files of a revision) → render (cetus.yaml to manifests)
//! → engine (diff, apply, prune, health) → store (history). The [`cli`] and the API drive
//! them; nothing below calls up.
#![forbid(unsafe_code)]

pub mod cli;
pub mod render;
pub mod source;
pub mod spec;
pub mod yaml;

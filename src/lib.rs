//! Cetus: a pull-based GitOps reconciler for Kubernetes.
//!
//! Data flows one way: [`source`] (files of a revision) → render (cetus.yaml to manifests)
//! → engine (diff, apply, prune, health) → store (history). The [`cli`] and the API drive
//! them; nothing below calls up.
// `deny` rather than `forbid`: exactly one function may opt out, `source::git::timeouts::apply`,
// because libgit2's network timeouts can only be set through an `unsafe` global (see there).
#![deny(unsafe_code)]

pub mod api;
pub mod cli;
pub mod daemon;
pub mod engine;
pub mod render;
pub mod source;
pub mod spec;
pub mod yaml;

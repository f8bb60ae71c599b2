//! Cetus: a pull-based GitOps reconciler for Kubernetes.
//!
//! Data flows one way: [`source`] (files of a revision) → render (cetus.yaml to manifests)
//! → engine (diff, apply, prune, health) → [`store`] (history). The [`cli`] and the API drive
//! them; nothing below calls up.
// `deny` rather than `forbid`: exactly one function may opt out, `source::git::timeouts::apply`,
// because libgit2's network timeouts can only be set through an `unsafe` global (see there).
#![deny(unsafe_code)]

pub mod api;
pub mod cli;
pub mod daemon;
pub mod engine;
pub mod incluster;
pub mod install;
pub mod pointer;
pub mod render;
pub mod source;
pub mod spec;
pub mod store;
pub mod yaml;

/// An error and its causes, `: `-separated, each cause once (messages that already quote
/// their cause are not repeated): how errors read in logs, history and API answers.
pub fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

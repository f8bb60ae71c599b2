//! The daemon: `cetus serve`, which follows a config repository and keeps the cluster's apps
//! in step with it (triggers, the reconcile loop, auto-rollback); [`config`] is its
//! configuration.

pub mod config;

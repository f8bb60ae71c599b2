//! The engine: makes a cluster match a render. Discovery, diff, server-side apply in stages,
//! inventory and prune, health.
//!
//! It takes a [`crate::render::Rendered`] and the app's previous inventory, and returns what it
//! did as data; it does not read git, render, or keep history (`src/store` keeps inventories
//! and what the engine remembers between syncs).

pub mod diff;
pub mod health;
pub mod inventory;

pub use inventory::{Applied, AppliedMemory, Inventory, InventoryEntry};

//! Files that cannot be read, even by root.
//!
//! The tests run as root, which reads a mode-000 file through `CAP_DAC_OVERRIDE`. Capabilities
//! belong to a thread, so [`without_override`] runs its work in a thread that has dropped
//! `CAP_DAC_OVERRIDE` and `CAP_DAC_READ_SEARCH` from its effective, permitted and bounding
//! sets: the thread, and any process it starts (the `cetus` binary), then meet file modes as
//! any user does. The rest of the test process keeps its capabilities.
//!
//! Include with `#[path = "support/unreadable.rs"] mod unreadable;`.
#![allow(dead_code)] // each test binary uses a different subset

use rustix::thread::{
    CapabilitySet, capabilities, remove_capability_from_bounding_set, set_capabilities,
};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

/// Runs `work` in a thread that file permissions apply to, and returns what it returns.
pub fn without_override<T: Send>(work: impl FnOnce() -> T + Send) -> T {
    std::thread::scope(|scope| {
        scope
            .spawn(|| {
                drop_override();
                work()
            })
            .join()
            .expect("the work panicked")
    })
}

fn drop_override() {
    let mut sets = capabilities(None).expect("capget");
    for cap in [CapabilitySet::DAC_OVERRIDE, CapabilitySet::DAC_READ_SEARCH] {
        if sets.effective.contains(cap) {
            // Needs CAP_SETPCAP, which root has; without it the process was never exempt.
            remove_capability_from_bounding_set(cap).expect("drop from the bounding set");
        }
        sets.effective.remove(cap);
        sets.permitted.remove(cap);
        sets.inheritable.remove(cap);
    }
    set_capabilities(None, sets).expect("capset");
}

/// Makes `path` unreadable to everyone (mode 000): see [`without_override`] for root.
pub fn make_unreadable(path: &Path) {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o000)).unwrap();
}

/// Makes `path` readable again, so the temporary directory can be removed.
pub fn make_readable(path: &Path, mode: u32) {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

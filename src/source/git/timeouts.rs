//! Network timeouts for every git operation of the process.
//!
//! libgit2 keeps its connect and read/write timeouts in process globals (applied to git://,
//! http(s) and ssh alike) and defaults both to "wait forever", which would let one black-holed
//! remote hang a fetch, and the mirror's lock, for good. They are set exactly once: by
//! [`set_network_timeouts`] if the caller does so before the first git operation, else to
//! [`NetworkTimeouts::default`] by the first operation.

use std::sync::OnceLock;
use std::time::Duration;

/// Timeouts of git network operations.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NetworkTimeouts {
    /// How long establishing a connection may take.
    pub connect: Duration,
    /// How long a single read or write on an established connection may stall. A large fetch
    /// may take longer in total, as long as data keeps flowing.
    pub io: Duration,
}

impl Default for NetworkTimeouts {
    fn default() -> Self {
        Self { connect: Duration::from_secs(15), io: Duration::from_secs(60) }
    }
}

/// The timeouts were already applied with other values; they are process-wide and fixed at
/// the first git operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("git network timeouts: already set to connect {:?}, io {:?}", .0.connect, .0.io)]
pub struct TimeoutsAlreadySet(pub NetworkTimeouts);

static APPLIED: OnceLock<NetworkTimeouts> = OnceLock::new();

/// Sets the timeouts of all git network operations of this process. Call it before the first
/// git operation (at startup); later calls with different values fail, since changing them
/// while operations run is not safe.
pub fn set_network_timeouts(timeouts: NetworkTimeouts) -> Result<(), TimeoutsAlreadySet> {
    let applied = *APPLIED.get_or_init(|| {
        apply(timeouts);
        timeouts
    });
    if applied == timeouts { Ok(()) } else { Err(TimeoutsAlreadySet(applied)) }
}

/// Applies the default timeouts unless some were set; every network operation calls this first.
pub(crate) fn ensure() {
    APPLIED.get_or_init(|| {
        let timeouts = NetworkTimeouts::default();
        apply(timeouts);
        timeouts
    });
}

fn millis(d: Duration) -> i32 {
    // 0 means "no timeout" to libgit2; a zero duration is taken as the shortest real one.
    i32::try_from(d.as_millis()).unwrap_or(i32::MAX).max(1)
}

#[allow(unsafe_code)]
fn apply(timeouts: NetworkTimeouts) {
    // SAFETY: the setters write two C ints that libgit2 reads when it opens a connection.
    // They are `unsafe` because the write is unsynchronized. This runs once, inside
    // `OnceLock::get_or_init`, and every network operation in this crate calls `ensure`
    // (which waits on the same `OnceLock`) before connecting, so no read of ours can race
    // the write. Nothing else in Cetus talks to remotes through libgit2.
    unsafe {
        // Both calls cannot fail: the option is valid and takes any int.
        let connect =
            git2::opts::set_server_connect_timeout_in_milliseconds(millis(timeouts.connect));
        let io = git2::opts::set_server_timeout_in_milliseconds(millis(timeouts.io));
        if let Err(e) = connect.and(io) {
            tracing::warn!(error = %e, "cannot set git network timeouts");
        }
    }
}

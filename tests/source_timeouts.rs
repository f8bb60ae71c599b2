//! Network timeouts: a remote that accepts connections and never answers fails the head
//! check instead of hanging it. A binary of its own, since the timeouts are process-wide.

use cetus::source::git::{
    GitError, Mirror, MirrorOptions, NetworkTimeouts, TimeoutsAlreadySet, set_network_timeouts,
};
use std::net::{TcpListener, TcpStream};
use std::sync::mpsc;
use std::time::Duration;

/// Accepts connections and holds them open, silent, until the returned sender is dropped.
fn silent_server() -> (u16, mpsc::Sender<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let (stop, stopped) = mpsc::channel::<()>();
    std::thread::spawn(move || {
        let mut held: Vec<TcpStream> = Vec::new();
        for stream in listener.incoming().take(2) {
            held.push(stream.unwrap());
        }
        // Returns when the test drops the sender.
        let _ = stopped.recv();
    });
    (port, stop)
}

#[test]
fn a_silent_remote_times_out() {
    let timeouts = NetworkTimeouts { connect: Duration::from_secs(2), io: Duration::from_secs(2) };
    set_network_timeouts(timeouts).unwrap();
    set_network_timeouts(timeouts).unwrap();
    let other = NetworkTimeouts { connect: Duration::from_secs(9), ..timeouts };
    assert_eq!(set_network_timeouts(other), Err(TimeoutsAlreadySet(timeouts)));

    let (port, _server) = silent_server();
    let dir = tempfile::tempdir().unwrap();
    for url in [
        format!("git://127.0.0.1:{port}/config.git"),
        format!("http://127.0.0.1:{port}/config.git"),
    ] {
        let mirror = Mirror::open(dir.path(), &url, MirrorOptions::default()).unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || tx.send(mirror.update("main")).unwrap());
        // Far above the 2 s timeout; only a hang reaches it.
        let result = rx.recv_timeout(Duration::from_secs(120)).expect("the head check returned");
        let err = result.unwrap_err();
        assert!(matches!(err, GitError::HeadCheck { .. }), "{err:?}");
        let cause = std::error::Error::source(&err).unwrap().to_string();
        assert!(cause.contains("timed out"), "{url}: {cause}");
    }
}

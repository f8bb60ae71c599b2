//! The crash story, for real: a child process (this test binary, re-invoked on the ignored test
//! [`child`]) works on a store on disk and is SIGKILLed; the parent reopens the store and
//! checks that it is consistent and lost no history. While the child runs, the parent's own
//! open is refused as in use.

use super::test_support::*;
use super::{Finish, Outcome, Store, StoreError, StoreOptions};
use crate::engine::{Applied, AppliedMemory};
use crate::render::ObjectKey;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// Which work the child does; set only on the child.
const MODE: &str = "CETUS_STORE_CRASH_CHILD";
/// The store directory.
const DIR: &str = "CETUS_STORE_CRASH_DIR";
/// What the child prints once the parent may kill it.
const READY: &str = "cetus-store-child-ready";

/// Starts the child in `mode` on `dir` and waits until it is ready.
fn spawn(mode: &str, dir: &Path) -> Child {
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["store::crash_tests::child", "--exact", "--ignored", "--nocapture"])
        .env(MODE, mode)
        .env(DIR, dir)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut lines = BufReader::new(stdout).lines();
    loop {
        match lines.next() {
            Some(line) if line.as_deref().unwrap() == READY => break,
            Some(_) => {}
            None => panic!("the child exited before it was ready: {:?}", child.wait()),
        }
    }
    child
}

/// SIGKILL (what `Child::kill` sends on Unix), then reap.
fn kill(mut child: Child) {
    child.kill().unwrap();
    child.wait().unwrap();
}

/// The work of a child process; does nothing unless started by a crash test.
#[test]
#[ignore = "a child process of the crash tests, which run it"]
fn child() {
    let Ok(mode) = std::env::var(MODE) else { return };
    let dir = std::env::var(DIR).unwrap();
    // The parent kills the child; this only bounds a child whose parent died first.
    std::thread::spawn(|| {
        std::thread::sleep(Duration::from_secs(120));
        std::process::exit(3);
    });
    match mode.as_str() {
        "begin" => begin_and_wait(Path::new(&dir)),
        "loop" => sync_forever(Path::new(&dir)),
        other => panic!("unknown mode {other}"),
    }
}

/// One finished sync, then one begun, then waiting to be killed.
fn begin_and_wait(dir: &Path) {
    let store = Store::open(dir).unwrap();
    succeed(&store, "shop", "c1", Some("a"));
    let creates = inventory(&[("b", None)]);
    store
        .begin_sync("shop", new_entry("c2", Some("d2")), Some(&manifests("d2")), &creates)
        .unwrap();
    println!("{READY}");
    std::thread::park();
}

fn loop_options() -> StoreOptions {
    StoreOptions { history_limit: Some(20), ..StoreOptions::default() }
}

fn memory(id: u64) -> AppliedMemory {
    let key = ObjectKey {
        group: String::new(),
        kind: "ConfigMap".into(),
        namespace: "ns".into(),
        name: format!("cm-{id}"),
    };
    [(key, Applied { hash: format!("h{id}"), owned: serde_json::json!({"n": id}) })].into()
}

/// Syncs until killed: sync `i` may create `cm-i`, and leaves `cm-i` with uid `i`, applied
/// memory of it, and itself current. Ready after the first.
fn sync_forever(dir: &Path) {
    let store = Store::open_with(dir, loop_options()).unwrap();
    let mut ready = false;
    loop {
        let next = store.history("shop", Some(1)).unwrap().first().map_or(1, |e| e.id + 1);
        let creates = inventory(&[(&format!("cm-{next}"), None)]);
        let digest = format!("d{next}");
        let rendered = manifests(&digest);
        let begun = new_entry("c", Some(&digest));
        let id = store.begin_sync("shop", begun, Some(&rendered), &creates).unwrap();
        assert_eq!(id, next);
        let finish = Finish {
            inventory: Some(inventory(&[(&format!("cm-{id}"), Some(&id.to_string()))])),
            applied: Some(memory(id)),
            current: Some(id),
            ..Finish::new(Outcome::Succeeded)
        };
        store.finish_sync("shop", id, finish).unwrap();
        if !ready {
            println!("{READY}");
            ready = true;
        }
    }
}

#[test]
fn a_killed_sync_reads_failed_interrupted_and_keeps_its_pending_inventory() {
    let dir = tempfile::tempdir().unwrap();
    let child = spawn("begin", dir.path());
    let err = Store::open(dir.path()).unwrap_err();
    assert!(matches!(err, StoreError::InUse { .. }));
    assert_eq!(
        err.to_string(),
        format!("store {}: in use by another process", dir.path().display())
    );
    kill(child);

    let store = Store::open(dir.path()).unwrap();
    let entry = store.entry("shop", 2).unwrap().unwrap();
    assert_eq!(
        (entry.outcome, entry.error.as_deref(), entry.finished, entry.digest.as_deref()),
        (Outcome::Failed, Some("interrupted"), None, Some("d2"))
    );
    assert_eq!(
        names(&store.inventory("shop").unwrap().unwrap()),
        [("a".into(), Some("uid".into())), ("b".into(), None)]
    );
    assert_eq!(store.manifests("d2").unwrap(), Some(manifests("d2")));
    assert_eq!(store.current("shop").unwrap(), Some(1));
    assert_eq!(store.entry("shop", 1).unwrap().unwrap().outcome, Outcome::Succeeded);
    assert_eq!(succeed(&store, "shop", "c3", Some("c")), 3);
}

/// Kills a child that syncs in a loop, after a few delays, so that the kill lands at various
/// points of begin, finish and trim; after each, the store must read as if the last sync had
/// either finished entirely or been interrupted before its finish.
#[test]
fn syncs_killed_at_any_point_leave_a_consistent_store() {
    let dir = tempfile::tempdir().unwrap();
    let delays = [0, 2, 5, 9, 14, 20, 31, 47];
    for (round, delay) in delays.into_iter().enumerate() {
        let child = spawn("loop", dir.path());
        std::thread::sleep(Duration::from_millis(delay));
        kill(child);

        let store = Store::open_with(dir.path(), loop_options()).unwrap();
        let history = store.history("shop", None).unwrap();
        let newest = &history[0];
        let ids: Vec<u64> = history.iter().map(|e| e.id).collect();
        let contiguous: Vec<u64> = (0..ids.len() as u64).map(|n| newest.id - n).collect();
        assert_eq!(ids, contiguous, "round {round}");
        let interrupted =
            history.iter().filter(|e| e.error.as_deref() == Some("interrupted")).count();
        assert!(interrupted <= round + 1, "round {round}: {interrupted} interrupted");
        for entry in &history[1..] {
            let interrupted =
                entry.outcome == Outcome::Failed && entry.error.as_deref() == Some("interrupted");
            assert!(entry.outcome == Outcome::Succeeded || interrupted, "{entry:?}");
        }
        let inventory = names(&store.inventory("shop").unwrap().unwrap());
        let done = |id: u64| (format!("cm-{id}"), Some(id.to_string()));
        let last_done = if newest.outcome == Outcome::Succeeded {
            assert_eq!(inventory, [done(newest.id)], "round {round}");
            newest.id
        } else {
            assert_eq!(newest.error.as_deref(), Some("interrupted"), "round {round}");
            let previous = newest.id - 1;
            assert_eq!(store.entry("shop", previous).unwrap().unwrap().outcome, Outcome::Succeeded);
            let pending = (format!("cm-{}", newest.id), None);
            let mut expected = vec![done(previous), pending];
            expected.sort();
            assert_eq!(inventory, expected, "round {round}");
            previous
        };
        assert_eq!(store.current("shop").unwrap(), Some(last_done), "round {round}");
        assert_eq!(store.applied("shop").unwrap(), memory(last_done), "round {round}");
        for entry in &history {
            let digest = entry.digest.as_deref().unwrap();
            assert_eq!(store.manifests(digest).unwrap(), Some(manifests(digest)), "{entry:?}");
        }
    }
}

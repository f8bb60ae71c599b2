//! Tests of `sync.rs`: the entry's lifecycle, the pending inventory, manifests, the finish
//! transaction, and recovery within one process (the killed-process cases are in
//! `crash_tests.rs`).

use super::super::test_support::*;
use super::super::{Counts, Finish, HistoryEntry, NewEntry, Outcome, Store, StoreOptions, Trigger};
use crate::engine::{Applied, AppliedMemory, Inventory};
use crate::render::{ObjectKey, ResolvedDependency};
use serde_json::json;

fn at(text: &str) -> jiff::Timestamp {
    text.parse().unwrap()
}

#[test]
fn a_sync_is_recorded_running_then_finished_with_every_field() {
    let store = Store::temporary().unwrap();
    let dependency = ResolvedDependency {
        name: "db".into(),
        url: "https://git.example.com/platform/postgres.git".into(),
        reference: "v1.2.0".into(),
        commit: "9f8e7d6c".into(),
    };
    let begun = NewEntry {
        trigger: Trigger::Webhook,
        commit: Some("1a2b3c4d".into()),
        dependencies: vec![dependency.clone()],
        digest: Some("d1".into()),
        author: Some("Ada <ada@example.com>".into()),
        subject: Some("bump web".into()),
        restores: None,
        started: at("2024-05-01T12:00:00Z"),
    };
    let id = store.begin_sync("shop", begun, Some(&manifests("d1")), &Inventory::default());
    assert_eq!(id.unwrap(), 1);
    let mut expected = HistoryEntry {
        id: 1,
        commit: Some("1a2b3c4d".into()),
        dependencies: vec![dependency],
        digest: Some("d1".into()),
        trigger: Trigger::Webhook,
        started: at("2024-05-01T12:00:00Z"),
        finished: None,
        outcome: Outcome::Running,
        health: None,
        counts: Counts::default(),
        error: None,
        author: Some("Ada <ada@example.com>".into()),
        subject: Some("bump web".into()),
        restores: None,
        pinned: false,
    };
    assert_eq!(store.entry("shop", 1).unwrap(), Some(expected.clone()));
    assert_eq!(store.manifests("d1").unwrap(), Some(manifests("d1")));

    let finish = Finish {
        health: Some("Healthy".into()),
        counts: Counts { applied: 2, unchanged: 5, pruned: 1 },
        current: Some(1),
        finished: at("2024-05-01T12:00:03Z"),
        ..Finish::new(Outcome::Succeeded)
    };
    let finished = store.finish_sync("shop", 1, finish).unwrap();
    expected.outcome = Outcome::Succeeded;
    expected.health = Some("Healthy".into());
    expected.counts = Counts { applied: 2, unchanged: 5, pruned: 1 };
    expected.finished = Some(at("2024-05-01T12:00:03Z"));
    assert_eq!(finished, expected);
    assert_eq!(store.entry("shop", 1).unwrap(), Some(expected));
    assert_eq!(store.current("shop").unwrap(), Some(1));
}

#[test]
fn the_record_is_json_with_rfc3339_times() {
    let store = Store::temporary().unwrap();
    let begun = NewEntry { started: at("2024-05-01T12:00:00Z"), ..new_entry("c1", None) };
    let id = store.begin_sync("shop", begun, None, &Inventory::default()).unwrap();
    let raw = store.trees().history.get("shop/00000000000000000001").unwrap().unwrap();
    let value: serde_json::Value = serde_json::from_slice(&raw).unwrap();
    assert_eq!(value["id"], json!(id));
    assert_eq!(value["started"], "2024-05-01T12:00:00Z");
    assert_eq!(value["trigger"], "poll");
    assert_eq!(value["outcome"], "Running");
    assert_eq!(value["pinned"], false);
}

#[test]
fn ids_increase_per_app_from_one() {
    let store = Store::temporary().unwrap();
    assert_eq!(succeed(&store, "shop", "c1", Some("d1")), 1);
    assert_eq!(fail(&store, "shop", "c2", None), 2);
    assert_eq!(succeed(&store, "blog", "c1", Some("d9")), 1);
    assert_eq!(succeed(&store, "shop", "c3", Some("d3")), 3);
}

#[test]
fn the_pending_inventory_unites_the_stored_one_with_what_the_sync_may_create() {
    let store = Store::temporary().unwrap();
    succeed(&store, "shop", "c1", Some("a"));
    assert_eq!(
        names(&store.inventory("shop").unwrap().unwrap()),
        [("a".into(), Some("uid".into()))]
    );

    // `a` again without a uid: the stored entry, with its uid, wins.
    let creates = inventory(&[("a", None), ("b", None)]);
    let id = store.begin_sync("shop", new_entry("c2", None), None, &creates).unwrap();
    let pending = store.inventory("shop").unwrap().unwrap();
    assert_eq!(names(&pending), [("a".into(), Some("uid".into())), ("b".into(), None)]);

    // A sync that failed before applying keeps the pending inventory.
    let finish = Finish { error: Some("boom".into()), ..Finish::new(Outcome::Failed) };
    store.finish_sync("shop", id, finish).unwrap();
    assert_eq!(store.inventory("shop").unwrap(), Some(pending));

    // A sync that hands over its inventory replaces it.
    let id = store.begin_sync("shop", new_entry("c3", None), None, &creates).unwrap();
    let left = inventory(&[("b", Some("uid-b"))]);
    let finish = Finish { inventory: Some(left.clone()), ..Finish::new(Outcome::Succeeded) };
    store.finish_sync("shop", id, finish).unwrap();
    assert_eq!(store.inventory("shop").unwrap(), Some(left));
}

#[test]
fn an_app_without_an_inventory_keeps_none_until_a_sync_finishes_with_one() {
    let store = Store::temporary().unwrap();
    let creates = inventory(&[("a", None)]);
    let id = store.begin_sync("shop", new_entry("c1", None), None, &creates).unwrap();
    assert_eq!(store.inventory("shop").unwrap(), None);
    let left = inventory(&[("a", Some("u"))]);
    let finish = Finish { inventory: Some(left.clone()), ..Finish::new(Outcome::Succeeded) };
    store.finish_sync("shop", id, finish).unwrap();
    assert_eq!(store.inventory("shop").unwrap(), Some(left));
}

#[test]
fn manifests_are_stored_once_per_digest_and_required_for_a_digest() {
    let store = Store::temporary().unwrap();
    succeed(&store, "shop", "c1", Some("d1"));
    // The same digest again, with other manifests: the stored ones stay (a digest names one
    // render).
    let other = vec![json!({"kind": "Secret"})];
    let id =
        store.begin_sync("shop", new_entry("c2", Some("d1")), Some(&other), &Inventory::default());
    store.finish_sync("shop", id.unwrap(), Finish::new(Outcome::Succeeded)).unwrap();
    assert_eq!(store.manifests("d1").unwrap(), Some(manifests("d1")));
    // A rollback names a stored digest without passing its manifests.
    let rollback = NewEntry { restores: Some(1), ..new_entry("c1", Some("d1")) };
    assert_eq!(store.begin_sync("shop", rollback, None, &Inventory::default()).unwrap(), 3);
    store.finish_sync("shop", 3, Finish::new(Outcome::Succeeded)).unwrap();
    assert_eq!(store.entry("shop", 3).unwrap().unwrap().restores, Some(1));

    let err = store
        .begin_sync("shop", new_entry("c4", Some("d4")), None, &Inventory::default())
        .unwrap_err();
    assert_eq!(err.to_string(), "app shop, digest d4: manifests not stored");
    let err = store
        .begin_sync("shop", new_entry("c4", None), Some(&manifests("d4")), &Inventory::default())
        .unwrap_err();
    assert_eq!(err.to_string(), "app shop: manifests given without a digest");
    // Neither refused sync took an id or left an entry.
    assert_eq!(store.history("shop", None).unwrap().len(), 3);
    assert_eq!(succeed(&store, "shop", "c4", Some("d4")), 4);
    assert_eq!(store.manifests("nope").unwrap(), None);
}

#[test]
fn finish_refuses_unknown_finished_and_running_outcomes() {
    let store = Store::temporary().unwrap();
    let err = store.finish_sync("shop", 7, Finish::new(Outcome::Failed)).unwrap_err();
    assert_eq!(err.to_string(), "app shop, entry 7: no such history entry");
    let id = begin(&store, "shop", "c1", None);
    let err = store.finish_sync("shop", id, Finish::new(Outcome::Running)).unwrap_err();
    assert_eq!(err.to_string(), "app shop, entry 1: a sync cannot finish as Running");
    assert_eq!(store.entry("shop", id).unwrap().unwrap().outcome, Outcome::Running);
    store.finish_sync("shop", id, Finish::new(Outcome::Failed)).unwrap();
    let err = store.finish_sync("shop", id, Finish::new(Outcome::Succeeded)).unwrap_err();
    assert_eq!(err.to_string(), "app shop, entry 1: not running");
    assert_eq!(store.entry("shop", id).unwrap().unwrap().outcome, Outcome::Failed);
}

#[test]
fn finish_keeps_what_it_is_not_given() {
    let store = Store::temporary().unwrap();
    let one = succeed(&store, "shop", "c1", Some("d1"));
    let memory: AppliedMemory = [(
        ObjectKey {
            group: "apps".into(),
            kind: "Deployment".into(),
            namespace: "ns".into(),
            name: "web".into(),
        },
        Applied { hash: "h1".into(), owned: json!({"spec": {"replicas": 2}}) },
    )]
    .into_iter()
    .collect();
    let id = begin(&store, "shop", "c2", Some("d2"));
    let finish = Finish { applied: Some(memory.clone()), ..Finish::new(Outcome::RolledBack) };
    store.finish_sync("shop", id, finish).unwrap();
    assert_eq!(store.current("shop").unwrap(), Some(one));
    assert_eq!(store.applied("shop").unwrap(), memory);
    assert_eq!(
        names(&store.inventory("shop").unwrap().unwrap()),
        [("d1".into(), Some("uid".into()))]
    );

    let id = begin(&store, "shop", "c3", Some("d3"));
    store.finish_sync("shop", id, Finish::new(Outcome::Failed)).unwrap();
    assert_eq!(store.applied("shop").unwrap(), memory);
}

#[test]
fn applied_memory_is_stored_as_a_list_of_pairs() {
    let store = Store::temporary().unwrap();
    assert_eq!(store.applied("shop").unwrap(), AppliedMemory::new());
    let key = |name: &str| ObjectKey {
        group: String::new(),
        kind: "ConfigMap".into(),
        namespace: "ns".into(),
        name: name.into(),
    };
    let memory: AppliedMemory = ["b", "a"]
        .into_iter()
        .map(|n| (key(n), Applied { hash: format!("h-{n}"), owned: json!({"data": {"k": n}}) }))
        .collect();
    let id = begin(&store, "shop", "c1", None);
    let finish = Finish { applied: Some(memory.clone()), ..Finish::new(Outcome::Succeeded) };
    store.finish_sync("shop", id, finish).unwrap();
    assert_eq!(store.applied("shop").unwrap(), memory);
    let raw = store.trees().applied.get("shop").unwrap().unwrap();
    let value: serde_json::Value = serde_json::from_slice(&raw).unwrap();
    assert_eq!(
        value,
        json!([
            [{"group": "", "kind": "ConfigMap", "namespace": "ns", "name": "a"},
             {"hash": "h-a", "owned": {"data": {"k": "a"}}}],
            [{"group": "", "kind": "ConfigMap", "namespace": "ns", "name": "b"},
             {"hash": "h-b", "owned": {"data": {"k": "b"}}}]
        ])
    );
}

#[test]
fn an_abandoned_running_entry_is_marked_interrupted_by_the_next_begin() {
    let store = Store::temporary().unwrap();
    let abandoned = begin(&store, "shop", "c1", None);
    let next = begin(&store, "shop", "c2", None);
    let old = store.entry("shop", abandoned).unwrap().unwrap();
    assert_eq!(
        (old.outcome, old.error.as_deref(), old.finished),
        (Outcome::Failed, Some("interrupted"), None)
    );
    let err = store.finish_sync("shop", abandoned, Finish::new(Outcome::Succeeded)).unwrap_err();
    assert_eq!(err.to_string(), "app shop, entry 1: not running");
    store.finish_sync("shop", next, Finish::new(Outcome::Succeeded)).unwrap();
}

#[test]
fn reopening_recovers_a_running_entry_as_interrupted_with_its_pending_inventory() {
    let dir = tempfile::tempdir().unwrap();
    {
        let store = Store::open(dir.path()).unwrap();
        succeed(&store, "shop", "c1", Some("a"));
        let creates = inventory(&[("b", None)]);
        store
            .begin_sync("shop", new_entry("c2", Some("d2")), Some(&manifests("d2")), &creates)
            .unwrap();
        succeed(&store, "blog", "c1", Some("x"));
    }
    let store = Store::open(dir.path()).unwrap();
    let entry = store.entry("shop", 2).unwrap().unwrap();
    assert_eq!(
        (entry.outcome, entry.error.as_deref(), entry.finished),
        (Outcome::Failed, Some("interrupted"), None)
    );
    assert_eq!(
        names(&store.inventory("shop").unwrap().unwrap()),
        [("a".into(), Some("uid".into())), ("b".into(), None)]
    );
    assert_eq!(store.current("shop").unwrap(), Some(1));
    assert_eq!(store.entry("blog", 1).unwrap().unwrap().outcome, Outcome::Succeeded);
    let err = store.finish_sync("shop", 2, Finish::new(Outcome::Succeeded)).unwrap_err();
    assert_eq!(err.to_string(), "app shop, entry 2: not running");
    // The next sync takes the next id and starts from the pending inventory.
    assert_eq!(succeed(&store, "shop", "c3", Some("c")), 3);
}

#[test]
fn finish_trims_to_the_configured_limit() {
    let options = StoreOptions { history_limit: Some(2), ..StoreOptions::default() };
    let store = Store::temporary_with(options).unwrap();
    for n in 1..=4 {
        succeed(&store, "shop", &format!("c{n}"), Some(&format!("d{n}")));
    }
    let ids: Vec<u64> = store.history("shop", None).unwrap().iter().map(|e| e.id).collect();
    assert_eq!(ids, [4, 3]);
    assert_eq!(store.manifests("d1").unwrap(), None);

    let unlimited = StoreOptions { history_limit: None, ..StoreOptions::default() };
    let store = Store::temporary_with(unlimited).unwrap();
    for n in 1..=4 {
        succeed(&store, "shop", &format!("c{n}"), Some(&format!("d{n}")));
    }
    assert_eq!(store.history("shop", None).unwrap().len(), 4);
}

/// The finish is one transaction: when a step after the entry's write fails (here the running
/// record, read after it, does not decode), none of the finish is written.
#[test]
fn a_finish_that_fails_midway_writes_none_of_its_parts() {
    let store = Store::temporary().unwrap();
    succeed(&store, "shop", "c1", Some("a"));
    let creates = inventory(&[("b", None)]);
    let id = store.begin_sync("shop", new_entry("c2", None), None, &creates).unwrap();
    let pending = store.inventory("shop").unwrap();
    store.trees().running.insert("shop", &b"garbage"[..]).unwrap();
    let key = ObjectKey {
        group: String::new(),
        kind: "ConfigMap".into(),
        namespace: "ns".into(),
        name: "b".into(),
    };
    let memory: AppliedMemory = [(key, Applied { hash: "h".into(), owned: json!({}) })].into();
    let finish = Finish {
        inventory: Some(inventory(&[("b", Some("u"))])),
        applied: Some(memory),
        current: Some(id),
        ..Finish::new(Outcome::Succeeded)
    };
    let err = store.finish_sync("shop", id, finish).unwrap_err();
    assert_eq!(err.to_string(), "store tree running, key \"shop\": corrupt record");
    assert_eq!(store.entry("shop", id).unwrap().unwrap().outcome, Outcome::Running);
    assert_eq!(store.inventory("shop").unwrap(), pending);
    assert_eq!(store.current("shop").unwrap(), Some(1));
    assert!(store.applied("shop").unwrap().is_empty());
}

/// A reader never sees an entry finished without the inventory that finish wrote: the entry,
/// then the inventory, read while another thread runs syncs. Sync `i` may create `cm-i` and
/// leaves it with uid `i`; a finished entry `i` must come with `cm-j` holding a uid, `j >= i`.
#[test]
fn a_finished_entry_is_never_seen_without_its_inventory() {
    let store =
        Store::temporary_with(StoreOptions { history_limit: None, ..Default::default() }).unwrap();
    let writer = {
        let store = store.clone();
        std::thread::spawn(move || {
            for i in 1..=150u64 {
                let creates = inventory(&[(&format!("cm-{i:03}"), None)]);
                let id = store.begin_sync("shop", new_entry("c", None), None, &creates).unwrap();
                let left = inventory(&[(&format!("cm-{i:03}"), Some(&i.to_string()))]);
                let finish = Finish { inventory: Some(left), ..Finish::new(Outcome::Succeeded) };
                store.finish_sync("shop", id, finish).unwrap();
            }
        })
    };
    let mut seen_finished = 0;
    while !writer.is_finished() {
        let Some(newest) = store.history("shop", Some(1)).unwrap().pop() else { continue };
        let Some(inventory) = store.inventory("shop").unwrap() else { continue };
        if newest.outcome != Outcome::Succeeded {
            continue;
        }
        seen_finished += 1;
        let newest_left = inventory
            .entries
            .iter()
            .filter_map(|e| e.uid.as_deref()?.parse::<u64>().ok())
            .max()
            .unwrap_or(0);
        assert!(newest_left >= newest.id, "entry {} finished, inventory {inventory:?}", newest.id);
    }
    writer.join().unwrap();
    assert!(seen_finished > 0);
}

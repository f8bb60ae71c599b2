//! Tests of `history.rs`: listing, lookups by id and commit, the last healthy entry, apps.

use super::super::test_support::*;
use super::super::{Finish, NewEntry, Outcome, Store, Trigger};
use crate::engine::Inventory;

fn ids(entries: &[super::HistoryEntry]) -> Vec<u64> {
    entries.iter().map(|e| e.id).collect()
}

#[test]
fn history_is_newest_first_and_limited() {
    let store = Store::temporary().unwrap();
    assert!(store.history("shop", None).unwrap().is_empty());
    for n in 1..=4 {
        succeed(&store, "shop", &format!("c{n}"), Some(&format!("d{n}")));
    }
    succeed(&store, "shop-x", "c1", Some("d1"));
    assert_eq!(ids(&store.history("shop", None).unwrap()), [4, 3, 2, 1]);
    assert_eq!(ids(&store.history("shop", Some(2)).unwrap()), [4, 3]);
    assert_eq!(ids(&store.history("shop", Some(0)).unwrap()), Vec::<u64>::new());
    assert_eq!(ids(&store.history("shop-x", None).unwrap()), [1]);
    assert_eq!(store.entry("shop", 2).unwrap().unwrap().commit.as_deref(), Some("c2"));
    assert_eq!(store.entry("shop", 5).unwrap(), None);
    assert_eq!(store.entry("blog", 1).unwrap(), None);
}

#[test]
fn apps_lists_every_app_with_history_once() {
    let store = Store::temporary().unwrap();
    assert!(store.apps().unwrap().is_empty());
    for app in ["shop", "a", "shop-x", "shop0", "shop"] {
        succeed(&store, app, "c1", None);
    }
    begin(&store, "b", "c1", None);
    assert_eq!(store.apps().unwrap(), ["a", "b", "shop", "shop-x", "shop0"]);
}

#[test]
fn an_entry_is_found_by_its_commit_in_full_or_abbreviated() {
    let store = Store::temporary().unwrap();
    let full = "1a2b3c4d5e6f";
    let first = fail(&store, "shop", full, Some("d1"));
    assert_eq!(store.entry_by_commit("shop", full).unwrap().unwrap().id, first);
    let ok = succeed(&store, "shop", full, Some("d1"));
    succeed(&store, "shop", "9f8e7d6c", Some("d2"));
    let failed_later = fail(&store, "shop", full, Some("d1"));
    assert_eq!(failed_later, 4);

    // The newest Succeeded entry of the commit, whatever the case and the length.
    for name in [full, "1a2b", "1A2B3C"] {
        assert_eq!(store.entry_by_commit("shop", name).unwrap().unwrap().id, ok, "{name}");
    }
    // Too short, unknown, or another app's.
    assert_eq!(store.entry_by_commit("shop", "1a2").unwrap(), None);
    assert_eq!(store.entry_by_commit("shop", "").unwrap(), None);
    assert_eq!(store.entry_by_commit("shop", "ffff").unwrap(), None);
    assert_eq!(store.entry_by_commit("blog", "1a2b").unwrap(), None);
}

#[test]
fn a_commit_without_a_succeeded_entry_finds_its_newest_entry() {
    let store = Store::temporary().unwrap();
    fail(&store, "shop", "abcdef01", Some("d1"));
    let newest = fail(&store, "shop", "abcdef01", None);
    assert_eq!(store.entry_by_commit("shop", "abcd").unwrap().unwrap().id, newest);
}

#[test]
fn an_ambiguous_abbreviation_is_refused() {
    let store = Store::temporary().unwrap();
    succeed(&store, "shop", "abcd1111", Some("d1"));
    succeed(&store, "shop", "abcd2222", Some("d2"));
    succeed(&store, "shop", "abcd1111", Some("d1"));
    let err = store.entry_by_commit("shop", "abcd").unwrap_err();
    assert_eq!(err.to_string(), "app shop, commit abcd: ambiguous, matches abcd1111, abcd2222");
    assert_eq!(store.entry_by_commit("shop", "abcd2").unwrap().unwrap().id, 2);
}

#[test]
fn last_healthy_is_the_newest_succeeded_entry_before_the_given_one() {
    let store = Store::temporary().unwrap();
    assert_eq!(store.last_healthy("shop", 1).unwrap(), None);
    let one = succeed(&store, "shop", "c1", Some("d1"));
    let two = succeed(&store, "shop", "c2", Some("d2"));
    let three = fail(&store, "shop", "c3", Some("d3"));
    let id = begin(&store, "shop", "c4", Some("d4"));
    let rolled =
        Finish { error: Some("test smoke failed".into()), ..Finish::new(Outcome::RolledBack) };
    store.finish_sync("shop", id, rolled).unwrap();
    let running = begin(&store, "shop", "c5", Some("d5"));

    assert_eq!(store.last_healthy("shop", running).unwrap().unwrap().id, two);
    assert_eq!(store.last_healthy("shop", three).unwrap().unwrap().id, two);
    assert_eq!(store.last_healthy("shop", two).unwrap().unwrap().id, one);
    assert_eq!(store.last_healthy("shop", one).unwrap(), None);
    // Past the newest entry too.
    assert_eq!(store.last_healthy("shop", 99).unwrap().unwrap().id, two);
    assert_eq!(store.last_healthy("blog", 99).unwrap(), None);
}

#[test]
fn last_healthy_skips_bad_digests_and_entries_without_a_render() {
    let store = Store::temporary().unwrap();
    let one = succeed(&store, "shop", "c1", Some("d1"));
    succeed(&store, "shop", "c2", Some("d2"));
    succeed(&store, "shop", "c3", None);
    store.mark_bad("shop", "d2", "test smoke failed").unwrap();
    // Another app's bad digest is not this app's.
    store.mark_bad("blog", "d1", "x").unwrap();
    assert_eq!(store.last_healthy("shop", 4).unwrap().unwrap().id, one);
    store.clear_bad("shop").unwrap();
    assert_eq!(store.last_healthy("shop", 4).unwrap().unwrap().id, 2);
}

#[test]
fn a_rollback_entry_restores_and_can_be_the_last_healthy_one() {
    let store = Store::temporary().unwrap();
    let one = succeed(&store, "shop", "c1", Some("d1"));
    fail(&store, "shop", "c2", Some("d2"));
    let rollback = NewEntry {
        restores: Some(one),
        commit: Some("c1".into()),
        digest: Some("d1".into()),
        ..NewEntry::new(Trigger::Rollback)
    };
    let id = store.begin_sync("shop", rollback, None, &Inventory::default()).unwrap();
    let finish = Finish { current: Some(id), ..Finish::new(Outcome::Succeeded) };
    let entry = store.finish_sync("shop", id, finish).unwrap();
    assert_eq!((entry.trigger, entry.restores), (Trigger::Rollback, Some(one)));
    assert_eq!(store.last_healthy("shop", id + 1).unwrap().unwrap().id, id);
    assert_eq!(store.current("shop").unwrap(), Some(id));
}

#[test]
fn reads_of_unknown_apps_are_empty() {
    let store = Store::temporary().unwrap();
    assert_eq!(store.inventory("shop").unwrap(), None);
    assert!(store.applied("shop").unwrap().is_empty());
    assert_eq!(store.current("shop").unwrap(), None);
    assert_eq!(store.pin_of("shop").unwrap(), None);
}

#[test]
fn a_corrupt_record_names_its_tree_and_key() {
    let store = Store::temporary().unwrap();
    succeed(&store, "shop", "c1", None);
    store.trees().history.insert("shop/00000000000000000001", &b"{not json"[..]).unwrap();
    let err = store.history("shop", None).unwrap_err();
    assert_eq!(
        err.to_string(),
        "store tree history, key \"shop/00000000000000000001\": corrupt record"
    );
    assert!(std::error::Error::source(&err).is_some());
    store.trees().history.insert("shop/0000000000000000000x", &b"{}"[..]).unwrap();
    let err = store.trim("shop", 1).unwrap_err();
    assert_eq!(
        err.to_string(),
        "store tree history, key \"shop/0000000000000000000x\": corrupt record"
    );
}

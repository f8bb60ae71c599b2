//! Tests of `trim.rs`: what trimming keeps, ids after it, manifests shared across entries and
//! apps, and removing an app.

use super::super::test_support::*;
use super::super::{Finish, Outcome, Store, StoreOptions};

fn unlimited() -> Store {
    Store::temporary_with(StoreOptions { history_limit: None, ..StoreOptions::default() }).unwrap()
}

fn ids(store: &Store, app: &str) -> Vec<u64> {
    store.history(app, None).unwrap().iter().map(|e| e.id).collect()
}

/// Syncs of `app` with digests `d1`, `d2`, ... that fail, so that no entry is current.
fn failures(store: &Store, app: &str, count: u64) {
    for n in 1..=count {
        fail(store, app, &format!("c{n}"), Some(&format!("d{n}")));
    }
}

#[test]
fn trim_keeps_the_newest_and_ids_continue_after_it() {
    let store = unlimited();
    failures(&store, "shop", 5);
    assert_eq!(store.trim("shop", 2).unwrap(), [1, 2, 3]);
    assert_eq!(ids(&store, "shop"), [5, 4]);
    for gone in ["d1", "d2", "d3"] {
        assert_eq!(store.manifests(gone).unwrap(), None, "{gone}");
    }
    assert_eq!(store.manifests("d4").unwrap(), Some(manifests("d4")));
    assert_eq!(store.trim("shop", 2).unwrap(), Vec::<u64>::new());
    assert_eq!(fail(&store, "shop", "c6", None), 6);
    assert_eq!(store.trim("shop", 10).unwrap(), Vec::<u64>::new());
}

#[test]
fn trim_never_drops_the_pinned_current_or_running_entry() {
    let store = unlimited();
    let pinned = succeed(&store, "shop", "c1", Some("d1"));
    let current = succeed(&store, "shop", "c2", Some("d2"));
    fail(&store, "shop", "c3", Some("d3"));
    fail(&store, "shop", "c4", Some("d4"));
    store.pin("shop", pinned, "rollback").unwrap();
    let running = begin(&store, "shop", "c5", Some("d5"));
    assert_eq!(store.current("shop").unwrap(), Some(current));

    assert_eq!(store.trim("shop", 0).unwrap(), [3, 4]);
    assert_eq!(ids(&store, "shop"), [running, current, pinned]);
    assert_eq!(store.manifests("d1").unwrap(), Some(manifests("d1")));
    assert_eq!(store.manifests("d2").unwrap(), Some(manifests("d2")));
    assert_eq!(store.manifests("d3").unwrap(), None);

    // Unpinned and finished, they go.
    store.unpin("shop").unwrap();
    store.finish_sync("shop", running, Finish::new(Outcome::Failed)).unwrap();
    assert_eq!(store.trim("shop", 0).unwrap(), [pinned]);
    assert_eq!(ids(&store, "shop"), [running, current]);
    assert_eq!(store.manifests("d1").unwrap(), None);
}

#[test]
fn a_limit_of_zero_keeps_the_newest_entry() {
    let store = unlimited();
    failures(&store, "shop", 3);
    assert_eq!(store.trim("shop", 0).unwrap(), [1, 2]);
    assert_eq!(ids(&store, "shop"), [3]);
    assert_eq!(store.apps().unwrap(), ["shop"]);
}

#[test]
fn a_digest_named_by_a_kept_entry_or_another_app_survives() {
    let store = unlimited();
    fail(&store, "shop", "c1", Some("shared"));
    fail(&store, "shop", "c2", Some("mine"));
    fail(&store, "shop", "c3", Some("mine"));
    fail(&store, "shop", "c4", Some("last"));
    fail(&store, "blog", "c1", Some("shared"));
    fail(&store, "blog", "c2", Some("blog"));

    assert_eq!(store.trim("shop", 2).unwrap(), [1, 2]);
    // `shared` is still named by blog's entry 1, `mine` by shop's entry 3.
    assert_eq!(store.manifests("shared").unwrap(), Some(manifests("shared")));
    assert_eq!(store.manifests("mine").unwrap(), Some(manifests("mine")));

    assert_eq!(store.trim("blog", 1).unwrap(), [1]);
    assert_eq!(store.manifests("shared").unwrap(), None);
    assert_eq!(store.trim("shop", 1).unwrap(), [3]);
    assert_eq!(store.manifests("mine").unwrap(), None);
    assert_eq!(store.manifests("last").unwrap(), Some(manifests("last")));
    assert_eq!(store.manifests("blog").unwrap(), Some(manifests("blog")));
}

#[test]
fn a_trimmed_digest_rendered_again_is_stored_again() {
    let store = unlimited();
    failures(&store, "shop", 2);
    store.trim("shop", 1).unwrap();
    assert_eq!(store.manifests("d1").unwrap(), None);
    fail(&store, "shop", "c1", Some("d1"));
    assert_eq!(store.manifests("d1").unwrap(), Some(manifests("d1")));
}

#[test]
fn remove_app_forgets_the_app_but_not_its_ids_or_other_apps() {
    let store = unlimited();
    let one = succeed(&store, "shop", "c1", Some("shared"));
    succeed(&store, "shop", "c2", Some("mine"));
    store.pin("shop", one, "rollback").unwrap();
    store.mark_bad("shop", "mine", "test failed").unwrap();
    begin(&store, "shop", "c3", None);
    succeed(&store, "blog", "c1", Some("shared"));
    store.mark_bad("blog", "shared", "x").unwrap();

    store.remove_app("shop").unwrap();
    assert_eq!(store.apps().unwrap(), ["blog"]);
    assert!(store.history("shop", None).unwrap().is_empty());
    assert_eq!(store.inventory("shop").unwrap(), None);
    assert!(store.applied("shop").unwrap().is_empty());
    assert_eq!(store.current("shop").unwrap(), None);
    assert_eq!(store.pin_of("shop").unwrap(), None);
    assert_eq!(store.bad("shop", "mine").unwrap(), None);
    assert_eq!(store.manifests("mine").unwrap(), None);
    assert_eq!(store.manifests("shared").unwrap(), Some(manifests("shared")));
    assert_eq!(store.bad("blog", "shared").unwrap().as_deref(), Some("x"));
    assert_eq!(ids(&store, "blog"), [1]);

    // The running sync cannot finish; a new one continues the ids.
    let err = store.finish_sync("shop", 3, Finish::new(Outcome::Failed)).unwrap_err();
    assert_eq!(err.to_string(), "app shop, entry 3: no such history entry");
    assert_eq!(succeed(&store, "shop", "c4", Some("d4")), 4);
    assert_eq!(store.current("shop").unwrap(), Some(4));
}

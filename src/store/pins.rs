//! Pins (an app held at one entry until it is unpinned) and bad digests (renders an
//! auto-rollback refused, not retried until the app's render changes).
//!
//! The store keeps them; honouring them (not syncing a pinned app, skipping a bad digest) is
//! the daemon's job. A pinned entry is never trimmed (`trim.rs`).

use super::{
    Pin, Result, Store, StoreError, app_prefix, bad_key, check_name, encode, entry_key, get,
};
use crate::store::HistoryEntry;
use jiff::Timestamp;

impl Store {
    /// Pins `app` at entry `entry`, replacing any pin, and returns the pin (digest and commit
    /// taken from the entry, so they cannot disagree with it).
    ///
    /// Fails with [`StoreError::UnknownEntry`] for an entry that does not exist and
    /// [`StoreError::NothingToPin`] for one without a digest (its render failed).
    pub fn pin(&self, app: &str, entry: u64, reason: &str) -> Result<Pin> {
        check_name("app", app)?;
        let t = self.trees();
        let write = self.lock();
        let found: Option<HistoryEntry> = get(&t.history, "history", &entry_key(app, entry))?;
        let Some(found) = found else {
            return Err(StoreError::UnknownEntry { app: app.to_string(), id: entry });
        };
        let Some(digest) = found.digest else {
            return Err(StoreError::NothingToPin { app: app.to_string(), id: entry });
        };
        let pin = Pin {
            entry,
            digest,
            commit: found.commit,
            at: Timestamp::now(),
            reason: reason.into(),
        };
        t.pins.insert(app, encode("pins", app, &pin)?)?;
        drop(write);
        self.flush()?;
        Ok(pin)
    }

    /// Removes the app's pin and returns it (`None` when it had none).
    pub fn unpin(&self, app: &str) -> Result<Option<Pin>> {
        check_name("app", app)?;
        let t = self.trees();
        let write = self.lock();
        let pin = get(&t.pins, "pins", app)?;
        t.pins.remove(app)?;
        drop(write);
        self.flush()?;
        Ok(pin)
    }

    /// The app's pin.
    pub fn pin_of(&self, app: &str) -> Result<Option<Pin>> {
        check_name("app", app)?;
        get(&self.trees().pins, "pins", app)
    }

    /// Marks `digest` bad for `app`, with the reason (`test smoke failed`); replaces an
    /// earlier reason.
    pub fn mark_bad(&self, app: &str, digest: &str, reason: &str) -> Result<()> {
        check_name("app", app)?;
        check_name("digest", digest)?;
        let key = bad_key(app, digest);
        self.trees().bad.insert(key.as_bytes(), encode("bad", &key, reason)?)?;
        self.flush()
    }

    /// Why `digest` is bad for `app`, if it is.
    pub fn bad(&self, app: &str, digest: &str) -> Result<Option<String>> {
        check_name("app", app)?;
        check_name("digest", digest)?;
        get(&self.trees().bad, "bad", &bad_key(app, digest))
    }

    /// Forgets every bad digest of `app`; returns how many there were.
    pub fn clear_bad(&self, app: &str) -> Result<usize> {
        check_name("app", app)?;
        let bad = &self.trees().bad;
        let mut batch = sled::Batch::default();
        let mut count = 0;
        for key in bad.scan_prefix(app_prefix(app)).keys() {
            batch.remove(key?);
            count += 1;
        }
        bad.apply_batch(batch)?;
        self.flush()?;
        Ok(count)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::test_support::*;

    #[test]
    fn pin_takes_digest_and_commit_from_the_entry_and_shows_in_history() {
        let store = Store::temporary().unwrap();
        let one = succeed(&store, "shop", "c1", Some("d1"));
        let two = succeed(&store, "shop", "c2", Some("d2"));
        assert_eq!(store.pin_of("shop").unwrap(), None);

        let pin = store.pin("shop", one, "rollback by API").unwrap();
        assert_eq!(
            (pin.entry, pin.digest.as_str(), pin.commit.as_deref(), pin.reason.as_str()),
            (one, "d1", Some("c1"), "rollback by API")
        );
        assert_eq!(store.pin_of("shop").unwrap(), Some(pin.clone()));
        let pinned: Vec<(u64, bool)> =
            store.history("shop", None).unwrap().iter().map(|e| (e.id, e.pinned)).collect();
        assert_eq!(pinned, [(two, false), (one, true)]);
        assert!(store.entry("shop", one).unwrap().unwrap().pinned);
        assert!(!store.entry("shop", two).unwrap().unwrap().pinned);

        // A new pin replaces the old one.
        let moved = store.pin("shop", two, "rollback by CLI").unwrap();
        assert_eq!(store.pin_of("shop").unwrap(), Some(moved.clone()));
        assert!(!store.entry("shop", one).unwrap().unwrap().pinned);

        assert_eq!(store.unpin("shop").unwrap(), Some(moved));
        assert_eq!(store.unpin("shop").unwrap(), None);
        assert_eq!(store.pin_of("shop").unwrap(), None);
        assert!(!store.entry("shop", two).unwrap().unwrap().pinned);
    }

    #[test]
    fn pin_refuses_unknown_entries_and_failed_renders() {
        let store = Store::temporary().unwrap();
        let failed = fail(&store, "shop", "c1", None);
        let err = store.pin("shop", 9, "x").unwrap_err();
        assert_eq!(err.to_string(), "app shop, entry 9: no such history entry");
        let err = store.pin("shop", failed, "x").unwrap_err();
        assert_eq!(err.to_string(), "app shop, entry 1: has no rendered manifests to pin");
        assert_eq!(store.pin_of("shop").unwrap(), None);
    }

    #[test]
    fn pins_are_per_app() {
        let store = Store::temporary().unwrap();
        let one = succeed(&store, "shop", "c1", Some("d1"));
        succeed(&store, "blog", "c1", Some("d1"));
        store.pin("shop", one, "x").unwrap();
        assert_eq!(store.pin_of("blog").unwrap(), None);
        assert!(!store.entry("blog", 1).unwrap().unwrap().pinned);
    }

    #[test]
    fn bad_digests_are_per_app_and_cleared_per_app() {
        let store = Store::temporary().unwrap();
        assert_eq!(store.bad("shop", "d1").unwrap(), None);
        store.mark_bad("shop", "d1", "test smoke failed").unwrap();
        store.mark_bad("shop", "d2", "health timed out").unwrap();
        store.mark_bad("shop", "d2", "Deployment web: 0 of 1 updated replicas available").unwrap();
        store.mark_bad("shop-x", "d1", "other").unwrap();
        assert_eq!(store.bad("shop", "d1").unwrap().as_deref(), Some("test smoke failed"));
        assert_eq!(
            store.bad("shop", "d2").unwrap().as_deref(),
            Some("Deployment web: 0 of 1 updated replicas available")
        );
        assert_eq!(store.bad("blog", "d1").unwrap(), None);

        // `shop-x` shares the prefix `shop` but not `shop/`.
        assert_eq!(store.clear_bad("shop").unwrap(), 2);
        assert_eq!(store.bad("shop", "d1").unwrap(), None);
        assert_eq!(store.bad("shop", "d2").unwrap(), None);
        assert_eq!(store.bad("shop-x", "d1").unwrap().as_deref(), Some("other"));
        assert_eq!(store.clear_bad("shop").unwrap(), 0);
    }

    #[test]
    fn names_with_a_slash_are_refused() {
        let store = Store::temporary().unwrap();
        let err = store.mark_bad("shop", "a/b", "x").unwrap_err();
        assert_eq!(err.to_string(), "digest \"a/b\": may not be empty or contain '/'");
        let err = store.pin_of("a/b").unwrap_err();
        assert_eq!(err.to_string(), "app \"a/b\": may not be empty or contain '/'");
        let err = store.unpin("").unwrap_err();
        assert_eq!(err.to_string(), "app \"\": may not be empty or contain '/'");
    }
}

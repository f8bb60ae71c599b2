//! Opening a store: its directory, sled's lock on it, and the recovery of syncs that a killed
//! process left `Running`.
//!
//! It does not define what recovery means for an entry (`sync.rs` does) nor read any record
//! but the running ones.

use super::{INTERRUPTED, Result, Store, StoreError, StoreOptions, committed, decode};
use sled::Transactional;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long sled may keep a dropped database's lock: its background threads hold the file
/// until they wind down, a moment after the last handle is dropped.
const LINGER: Duration = Duration::from_secs(2);

/// Directories this process has opened, by canonical path.
static HELD: Mutex<BTreeMap<PathBuf, Held>> = Mutex::new(BTreeMap::new());

#[derive(Debug, Clone, Copy)]
enum Held {
    /// A [`Store`] of this process has it open.
    Open,
    /// The last handle was dropped at this instant; sled may still hold the lock for a moment.
    Released(Instant),
}

fn held() -> std::sync::MutexGuard<'static, BTreeMap<PathBuf, Held>> {
    // The map is updated by single inserts and removes: a panic elsewhere cannot leave it
    // half-changed, so a poisoned lock is still good.
    HELD.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// This process's hold on a store directory, kept by the open store and released when it is
/// dropped. It tells a second open in this process apart from another process holding sled's
/// lock, and lets a reopen after a drop wait out sled's lingering threads instead of failing.
pub(super) struct Claim {
    dir: PathBuf,
    opened: bool,
    /// When this process last released the directory, if it did.
    released: Option<Instant>,
}

impl Claim {
    fn take(canonical: PathBuf, dir: &Path) -> Result<Claim> {
        let mut held = held();
        let released = match held.get(&canonical) {
            Some(Held::Open) => return Err(StoreError::OpenTwice { dir: dir.to_path_buf() }),
            Some(Held::Released(at)) => Some(*at),
            None => None,
        };
        held.insert(canonical.clone(), Held::Open);
        Ok(Claim { dir: canonical, opened: false, released })
    }

    /// The directory, canonical.
    pub(super) fn dir(&self) -> &Path {
        &self.dir
    }
}

impl Drop for Claim {
    fn drop(&mut self) {
        let mut held = held();
        match (self.opened, self.released) {
            (true, _) => held.insert(self.dir.clone(), Held::Released(Instant::now())),
            (false, Some(at)) => held.insert(self.dir.clone(), Held::Released(at)),
            (false, None) => held.remove(&self.dir),
        };
    }
}

/// Whether sled refused to open because its lock is taken. sled reports it as an `Other` I/O
/// error with this text (sled 0.34, `Config::try_lock`).
fn is_locked(error: &sled::Error) -> bool {
    matches!(error, sled::Error::Io(e)
        if e.kind() == std::io::ErrorKind::Other && e.to_string().contains("could not acquire lock"))
}

fn open_db(dir: &Path, options: &StoreOptions, released: Option<Instant>) -> Result<sled::Db> {
    let config = sled::Config::new().path(dir).cache_capacity(options.cache_bytes);
    loop {
        match config.open() {
            Ok(db) => return Ok(db),
            // Only a directory this process let go of is waited for: another process's lock
            // fails at once.
            Err(e) if is_locked(&e) => match released {
                Some(at) if at.elapsed() < LINGER => std::thread::sleep(Duration::from_millis(10)),
                _ => return Err(StoreError::InUse { dir: dir.to_path_buf() }),
            },
            Err(source) => return Err(StoreError::Open { dir: dir.to_path_buf(), source }),
        }
    }
}

impl Store {
    /// Opens the store in `dir` (creating it) with default options; see
    /// [`Store::open_with`].
    pub fn open(dir: impl AsRef<Path>) -> Result<Store> {
        Store::open_with(dir, StoreOptions::default())
    }

    /// Opens the store in `dir`, creating the directory and the store if need be, and
    /// recovers: every entry a killed process left `Running` becomes `Failed` with the error
    /// [`INTERRUPTED`] (its pending inventory stays the app's inventory).
    ///
    /// Fails with [`StoreError::InUse`] at once when another process holds the store, and with
    /// [`StoreError::OpenTwice`] when this process has it open (clone that handle instead).
    pub fn open_with(dir: impl AsRef<Path>, options: StoreOptions) -> Result<Store> {
        let dir = dir.as_ref();
        let create = |source| StoreError::Create { dir: dir.to_path_buf(), source };
        std::fs::create_dir_all(dir).map_err(create)?;
        let canonical = dir.canonicalize().map_err(create)?;
        let mut claim = Claim::take(canonical, dir)?;
        let db = open_db(dir, &options, claim.released)?;
        claim.opened = true;
        let store = Store::from_db(db, options, Some(claim))?;
        store.recover()?;
        Ok(store)
    }

    /// A store in a temporary directory, deleted when the last handle is dropped; for tests.
    pub fn temporary() -> Result<Store> {
        Store::temporary_with(StoreOptions::default())
    }

    /// [`Store::temporary`] with `options`.
    pub fn temporary_with(options: StoreOptions) -> Result<Store> {
        let db = sled::Config::new().temporary(true).cache_capacity(options.cache_bytes).open()?;
        Store::from_db(db, options, None)
    }

    /// Marks every entry left `Running` as interrupted; returns them as `(app, id)`.
    fn recover(&self) -> Result<Vec<(String, u64)>> {
        let t = self.trees();
        let _write = self.lock();
        let mut recovered = Vec::new();
        for item in t.running.iter() {
            let (key, value) = item?;
            let app = String::from_utf8_lossy(&key).into_owned();
            let id: u64 = decode("running", &key, &value)?;
            committed((&t.history, &t.running).transaction(|(history, running)| {
                super::sync::interrupt(history, &app, id)?;
                running.remove(key.as_ref())?;
                Ok(())
            }))?;
            tracing::warn!(
                app,
                entry = id,
                "a sync left running by a killed process: {INTERRUPTED}"
            );
            recovered.push((app, id));
        }
        if !recovered.is_empty() {
            self.flush()?;
        }
        Ok(recovered)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_open_in_this_process_is_refused_and_a_reopen_after_drop_works() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let clone = store.clone();
        let err = Store::open(dir.path()).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!("store {}: already open in this process", dir.path().display())
        );
        drop(store);
        // A clone still holds it.
        assert!(matches!(Store::open(dir.path()), Err(StoreError::OpenTwice { .. })));
        drop(clone);
        for _ in 0..5 {
            let reopened = Store::open(dir.path()).unwrap();
            drop(reopened);
        }
    }

    #[test]
    fn a_failed_open_leaves_the_directory_free() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("not-a-dir");
        std::fs::write(&file, "x").unwrap();
        let err = Store::open(&file).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!("store {}: cannot create the directory", file.display())
        );

        // sled refuses a configuration file it cannot decode, after the claim was taken.
        let store_dir = dir.path().join("store");
        std::fs::create_dir(&store_dir).unwrap();
        std::fs::write(store_dir.join("conf"), "not sled's configuration").unwrap();
        let err = Store::open(&store_dir).unwrap_err();
        assert_eq!(err.to_string(), format!("store {}: cannot open", store_dir.display()));
        assert!(!held().contains_key(&store_dir.canonicalize().unwrap()));
        std::fs::remove_file(store_dir.join("conf")).unwrap();
        drop(Store::open(&store_dir).unwrap());
        assert!(matches!(held().get(&store_dir.canonicalize().unwrap()), Some(Held::Released(_))));
    }

    #[test]
    fn the_lock_error_is_recognized() {
        // The text sled 0.34 builds in `Config::try_lock`.
        let locked = sled::Error::Io(std::io::Error::other(
            "could not acquire lock on \"/x/db\": Os { code: 11, kind: WouldBlock }",
        ));
        assert!(is_locked(&locked));
        assert!(!is_locked(&sled::Error::Io(std::io::Error::other("disk full"))));
        assert!(!is_locked(&sled::Error::Unsupported("x".into())));
    }
}

//! sled persistence of the store: one tree of objects keyed `group/resource/namespace/name`
//! (JSON values) and the resourceVersion counter, written together in one batch per commit.
//! The event history is not persisted: after a restart, watches from older versions get 410.

use super::{ObjKey, StoreError};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The counter's key; `\0` cannot start an object key (groups and resources are DNS names,
/// and the core group is empty so its keys start with `/`).
const RV_KEY: &[u8] = b"\0rv";

#[derive(Debug)]
pub(super) struct Persist {
    tree: sled::Db,
}

fn encode_key(key: &ObjKey) -> String {
    format!("{}/{}/{}/{}", key.group, key.resource, key.namespace, key.name)
}

fn decode_key(raw: &[u8]) -> Option<ObjKey> {
    let text = std::str::from_utf8(raw).ok()?;
    let mut parts = text.splitn(4, '/');
    Some(ObjKey::new(parts.next()?, parts.next()?, parts.next()?, parts.next()?))
}

impl Persist {
    /// Opens the database. A previous instance in this process (a restarted sandbox) may
    /// still hold sled's file lock for a moment while its background threads wind down, so
    /// a locked database is retried for up to two seconds.
    pub(super) fn open(dir: &Path) -> Result<Self, StoreError> {
        let deadline = Instant::now() + Duration::from_secs(2);
        loop {
            match sled::open(dir) {
                Ok(tree) => return Ok(Self { tree }),
                // sled reports its lock as an `Other` I/O error with this text.
                Err(sled::Error::Io(e))
                    if e.to_string().contains("could not acquire lock")
                        && Instant::now() < deadline =>
                {
                    std::thread::sleep(Duration::from_millis(10));
                }
                Err(source) => return Err(StoreError::Open { path: dir.to_path_buf(), source }),
            }
        }
    }

    pub(super) fn load(&self) -> Result<(u64, BTreeMap<ObjKey, Arc<Value>>), StoreError> {
        let mut rv = 0;
        let mut objects = BTreeMap::new();
        for entry in self.tree.iter() {
            let (k, v) = entry.map_err(StoreError::Write)?;
            let printable = String::from_utf8_lossy(&k).into_owned();
            if k.as_ref() == RV_KEY {
                let bytes: [u8; 8] =
                    v.as_ref().try_into().map_err(|_| StoreError::Corrupt { key: printable })?;
                rv = u64::from_be_bytes(bytes);
                continue;
            }
            let key =
                decode_key(&k).ok_or_else(|| StoreError::Corrupt { key: printable.clone() })?;
            let value: Value =
                serde_json::from_slice(&v).map_err(|_| StoreError::Corrupt { key: printable })?;
            objects.insert(key, Arc::new(value));
        }
        Ok((rv, objects))
    }

    pub(super) fn put(&self, rv: u64, key: &ObjKey, object: &Value) -> Result<(), StoreError> {
        let mut batch = sled::Batch::default();
        batch.insert(encode_key(key).as_bytes(), serde_json::to_vec(object).unwrap_or_default());
        batch.insert(RV_KEY, &rv.to_be_bytes());
        self.tree.apply_batch(batch).map_err(StoreError::Write)
    }

    pub(super) fn remove(&self, rv: u64, key: &ObjKey) -> Result<(), StoreError> {
        let mut batch = sled::Batch::default();
        batch.remove(encode_key(key).as_bytes());
        batch.insert(RV_KEY, &rv.to_be_bytes());
        self.tree.apply_batch(batch).map_err(StoreError::Write)
    }

    pub(super) fn flush(&self) -> Result<(), StoreError> {
        self.tree.flush().map(drop).map_err(StoreError::Write)
    }
}

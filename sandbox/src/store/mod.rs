//! Object storage: every object by group/resource/namespace/name, the one global
//! resourceVersion counter, the bounded event history watches resume from, and the broadcast
//! of changes to open watches and controllers. Optionally persisted to sled.
//!
//! Owns the invariant that every committed write gets the next resourceVersion, is visible
//! to `get`/`list`, enters the history and reaches subscribers in that order. It does not
//! validate or merge objects (the verbs do) and does not filter events (the watch does).

mod persist;

use persist::Persist;
use serde_json::Value;
use std::collections::{BTreeMap, VecDeque};
use std::path::PathBuf;
use std::sync::Arc;
use tokio::sync::broadcast;

/// Errors of the store: only persistence can fail.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The sled database could not be opened.
    #[error("store {path}: cannot open the database")]
    Open {
        /// The data directory.
        path: PathBuf,
        /// The cause.
        #[source]
        source: sled::Error,
    },
    /// A write or flush failed.
    #[error("store: cannot write to the database")]
    Write(#[source] sled::Error),
    /// A stored record could not be read back.
    #[error("store: record {key} is corrupt")]
    Corrupt {
        /// The record's key.
        key: String,
    },
}

/// Where an object lives: group, plural resource, namespace ("" if cluster-scoped), name.
/// All versions of a resource share one key space, as they share storage in apiserver.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ObjKey {
    /// API group, "" for core.
    pub group: String,
    /// Plural resource name.
    pub resource: String,
    /// Namespace, "" for cluster-scoped objects.
    pub namespace: String,
    /// Object name.
    pub name: String,
}

impl ObjKey {
    /// A key from its parts.
    pub fn new(group: &str, resource: &str, namespace: &str, name: &str) -> Self {
        Self {
            group: group.into(),
            resource: resource.into(),
            namespace: namespace.into(),
            name: name.into(),
        }
    }
}

/// The type of a watch event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventType {
    /// The object was created.
    Added,
    /// The object was changed.
    Modified,
    /// The object was removed.
    Deleted,
}

impl EventType {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Added => "ADDED",
            Self::Modified => "MODIFIED",
            Self::Deleted => "DELETED",
        }
    }
}

/// One committed change.
#[derive(Debug)]
pub struct Change {
    /// What happened.
    pub type_: EventType,
    /// The resourceVersion the change was committed at.
    pub rv: u64,
    /// Which object.
    pub key: ObjKey,
    /// The object after the change (for a deletion: its last state, at `rv`).
    pub object: Arc<Value>,
    /// The object before the change, if it existed (filtered watches need it to turn a
    /// change that leaves the selection into a DELETED event).
    pub previous: Option<Arc<Value>>,
}

/// What subscribers receive.
#[derive(Debug, Clone)]
pub enum Signal {
    /// A committed change.
    Change(Arc<Change>),
    /// The history was discarded (a test asked for it): open watches must end with 410.
    Expire,
}

/// Sizing and persistence of the store.
#[derive(Debug, Clone)]
pub struct StoreOptions {
    /// Where sled keeps the objects; `None` keeps everything in memory.
    pub data_dir: Option<PathBuf>,
    /// How many events watches can resume from.
    pub history_limit: usize,
    /// How many unread events a subscriber may fall behind before it must catch up from
    /// the history.
    pub broadcast_capacity: usize,
}

impl Default for StoreOptions {
    fn default() -> Self {
        Self { data_dir: None, history_limit: 10_000, broadcast_capacity: 4096 }
    }
}

/// A watch resumed from a resourceVersion no longer in the history.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TooOld {
    /// The oldest resourceVersion a watch can still start from.
    pub oldest: u64,
}

/// The objects and their history.
#[derive(Debug)]
pub struct Store {
    objects: BTreeMap<ObjKey, Arc<Value>>,
    rv: u64,
    history: VecDeque<Arc<Change>>,
    history_limit: usize,
    /// Events at or below this resourceVersion are no longer in the history.
    compacted: u64,
    tx: broadcast::Sender<Signal>,
    persist: Option<Persist>,
}

impl Store {
    /// Opens the store, loading persisted objects and the counter when `data_dir` is set.
    pub fn open(options: &StoreOptions) -> Result<Self, StoreError> {
        let (tx, _) = broadcast::channel(options.broadcast_capacity.max(16));
        let mut store = Self {
            objects: BTreeMap::new(),
            rv: 0,
            history: VecDeque::new(),
            history_limit: options.history_limit.max(1),
            compacted: 0,
            tx,
            persist: None,
        };
        if let Some(dir) = &options.data_dir {
            let persist = Persist::open(dir)?;
            let (rv, objects) = persist.load()?;
            store.rv = rv;
            store.compacted = rv;
            store.objects = objects;
            store.persist = Some(persist);
        }
        Ok(store)
    }

    /// The current (latest committed) resourceVersion.
    pub fn resource_version(&self) -> u64 {
        self.rv
    }

    /// One object.
    pub fn get(&self, key: &ObjKey) -> Option<&Arc<Value>> {
        self.objects.get(key)
    }

    /// The objects of a resource, in one namespace or (with `None`) all, ordered by
    /// namespace then name.
    pub fn range<'a>(
        &'a self,
        group: &'a str,
        resource: &'a str,
        namespace: Option<&'a str>,
    ) -> impl Iterator<Item = (&'a ObjKey, &'a Arc<Value>)> + 'a {
        let start = ObjKey::new(group, resource, namespace.unwrap_or(""), "");
        self.objects.range(start..).take_while(move |(k, _)| {
            k.group == group
                && k.resource == resource
                && namespace.is_none_or(|ns| k.namespace == ns)
        })
    }

    /// Every object in a namespace, of every resource.
    pub fn in_namespace<'a>(
        &'a self,
        namespace: &'a str,
    ) -> impl Iterator<Item = (&'a ObjKey, &'a Arc<Value>)> + 'a {
        self.objects.iter().filter(move |(k, _)| k.namespace == namespace)
    }

    /// Every object.
    pub fn all(&self) -> impl Iterator<Item = (&ObjKey, &Arc<Value>)> {
        self.objects.iter()
    }

    /// Commits a create or update at the next resourceVersion, which is written into
    /// `metadata.resourceVersion`.
    pub fn put(&mut self, key: ObjKey, mut object: Value) -> Result<Arc<Value>, StoreError> {
        let rv = self.rv + 1;
        crate::meta::metadata_mut(&mut object)
            .insert("resourceVersion".into(), rv.to_string().into());
        if let Some(p) = &self.persist {
            p.put(rv, &key, &object)?;
        }
        self.rv = rv;
        let object = Arc::new(object);
        let previous = self.objects.insert(key.clone(), object.clone());
        let type_ = if previous.is_some() { EventType::Modified } else { EventType::Added };
        self.publish(Change { type_, rv, key, object: object.clone(), previous });
        Ok(object)
    }

    /// Removes an object at the next resourceVersion; the DELETED event carries its last
    /// state at that version.
    pub fn remove(&mut self, key: &ObjKey) -> Result<Option<Arc<Value>>, StoreError> {
        let Some(previous) = self.objects.get(key).cloned() else { return Ok(None) };
        let rv = self.rv + 1;
        if let Some(p) = &self.persist {
            p.remove(rv, key)?;
        }
        self.rv = rv;
        self.objects.remove(key);
        let mut last = (*previous).clone();
        crate::meta::metadata_mut(&mut last)
            .insert("resourceVersion".into(), rv.to_string().into());
        let object = Arc::new(last);
        self.publish(Change {
            type_: EventType::Deleted,
            rv,
            key: key.clone(),
            object: object.clone(),
            previous: Some(previous),
        });
        Ok(Some(object))
    }

    fn publish(&mut self, change: Change) {
        let change = Arc::new(change);
        self.history.push_back(change.clone());
        while self.history.len() > self.history_limit {
            if let Some(old) = self.history.pop_front() {
                self.compacted = old.rv;
            }
        }
        // No receivers is fine: nobody is watching.
        let _ = self.tx.send(Signal::Change(change));
    }

    /// A receiver of every change committed from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Signal> {
        self.tx.subscribe()
    }

    /// The changes after `rv`, or [`TooOld`] if some of them are no longer kept.
    pub fn changes_since(&self, rv: u64) -> Result<Vec<Arc<Change>>, TooOld> {
        if rv < self.compacted {
            return Err(TooOld { oldest: self.compacted + 1 });
        }
        let start = self.history.partition_point(|c| c.rv <= rv);
        Ok(self.history.range(start..).cloned().collect())
    }

    /// Discards the history, so that every watch resuming from an earlier resourceVersion
    /// gets 410 Expired, and ends the open watches with an in-stream 410.
    pub fn expire_history(&mut self) {
        self.history.clear();
        self.compacted = self.rv;
        // No receivers is fine: nobody is watching.
        let _ = self.tx.send(Signal::Expire);
    }

    /// Flushes persisted writes to disk.
    pub fn flush(&self) -> Result<(), StoreError> {
        match &self.persist {
            Some(p) => p.flush(),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn key(name: &str) -> ObjKey {
        ObjKey::new("", "configmaps", "default", name)
    }

    #[test]
    fn writes_get_increasing_versions_and_events() {
        let mut s = Store::open(&StoreOptions { history_limit: 2, ..Default::default() }).unwrap();
        let mut rx = s.subscribe();
        let a = s.put(key("a"), json!({"metadata": {"name": "a"}})).unwrap();
        assert_eq!(a["metadata"]["resourceVersion"], "1");
        s.put(key("a"), json!({"metadata": {"name": "a"}, "data": {}})).unwrap();
        let gone = s.remove(&key("a")).unwrap().unwrap();
        assert_eq!(gone["metadata"]["resourceVersion"], "3");
        let types: Vec<EventType> = (0..3)
            .map(|_| match rx.try_recv().unwrap() {
                Signal::Change(c) => c.type_,
                Signal::Expire => panic!("no expiry"),
            })
            .collect();
        assert_eq!(types, vec![EventType::Added, EventType::Modified, EventType::Deleted]);
        // The history keeps two events: resuming from 1 works, from 0 is too old.
        assert_eq!(s.changes_since(1).unwrap().len(), 2);
        assert_eq!(s.changes_since(0).unwrap_err(), TooOld { oldest: 2 });
        s.expire_history();
        assert!(s.changes_since(2).is_err());
        assert!(s.changes_since(3).unwrap().is_empty());
    }

    #[test]
    fn range_is_scoped_by_resource_and_namespace() {
        let mut s = Store::open(&StoreOptions::default()).unwrap();
        for (ns, name) in [("a", "x"), ("b", "y"), ("b", "z")] {
            s.put(ObjKey::new("", "configmaps", ns, name), json!({})).unwrap();
        }
        s.put(ObjKey::new("", "secrets", "b", "s"), json!({})).unwrap();
        assert_eq!(s.range("", "configmaps", Some("b")).count(), 2);
        assert_eq!(s.range("", "configmaps", None).count(), 3);
        assert_eq!(s.range("", "secrets", None).count(), 1);
    }

    #[test]
    fn persisted_state_survives_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let options =
            StoreOptions { data_dir: Some(dir.path().to_path_buf()), ..Default::default() };
        {
            let mut s = Store::open(&options).unwrap();
            s.put(key("a"), json!({"metadata": {"name": "a"}})).unwrap();
            s.put(key("b"), json!({"metadata": {"name": "b"}})).unwrap();
            s.remove(&key("b")).unwrap();
            s.flush().unwrap();
        }
        let s = Store::open(&options).unwrap();
        assert_eq!(s.resource_version(), 3);
        assert_eq!(s.get(&key("a")).unwrap()["metadata"]["resourceVersion"], "1");
        assert!(s.get(&key("b")).is_none());
        assert_eq!(s.changes_since(1).unwrap_err(), TooOld { oldest: 4 });
    }
}

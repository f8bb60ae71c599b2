//! The live objects Cetus manages, kept current by one list + watch per kind.
//!
//! A warm cache is what lets a no-op sync make no request at all: the engine reads live state
//! here instead of asking the API server. Each kind gets one kube-runtime watcher, filtered by
//! a label selector (every Cetus-managed object carries `cetus.dev/app`), feeding a reflector
//! store; `managedFields` are dropped on the way in, since nothing here reads them and they are
//! most of an object's size. A kind's lookups are trusted only while its watch is in sync:
//! before its first list completes, and after a watch error until the stream flows again,
//! they answer [`Lookup::Unknown`] and the engine asks the server instead.
//!
//! Every change is also announced: a tick for waiters (health, CRDs) and an event naming the
//! object and its app, from which the daemon learns of drift. The cache never writes.

use super::discovery::Resolved;
use crate::render::{APP, ObjectKey};
use futures::StreamExt;
use kube::api::{Api, DynamicObject};
use kube::runtime::reflector::{self, ObjectRef, Store};
use kube::runtime::{WatchStreamExt, watcher};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{broadcast, watch};
use tokio::time::Instant;

/// What the cache knows of one object.
#[derive(Debug, Clone)]
pub enum Lookup {
    /// The watch is in sync and the object is not there (or lacks the cache's label).
    Absent,
    /// The object as last seen, without `managedFields`.
    Present(Arc<DynamicObject>),
    /// The kind is not watched, or its watch is not in sync: ask the server.
    Unknown,
}

/// A write this process made, for [`LiveCache::caught_up`].
#[derive(Debug, Clone)]
pub struct Write {
    /// The object's kind.
    pub resolved: Resolved,
    /// The object.
    pub key: ObjectKey,
    /// Its resourceVersion before the write (`None`: it did not exist).
    pub before: Option<String>,
    /// Its resourceVersion after (`None`: deleted).
    pub after: Option<String>,
}

/// What the watches saw.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LiveEvent {
    /// A managed object was created, modified or deleted.
    Changed {
        /// The value of its `cetus.dev/app` label.
        app: String,
        /// The object.
        key: ObjectKey,
    },
    /// A kind's watch listed everything again (after it fell behind or failed): changes in
    /// between were not announced one by one, so any object of the kind may have changed.
    Relisted {
        /// The kind.
        kind: String,
    },
}

struct Watched {
    resolved: Resolved,
    store: Store<DynamicObject>,
    phase: Arc<AtomicU8>,
    task: tokio::task::JoinHandle<()>,
}

/// A watch's phase: listing (no answer yet), in sync, or failing (retrying after an error).
const LISTING: u8 = 0;
const SYNCED: u8 = 1;
const FAILING: u8 = 2;

impl Drop for Watched {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// The watched kinds and their stores. Cheap to clone; the watches end when the last clone is
/// dropped.
#[derive(Clone)]
pub struct LiveCache {
    inner: Arc<Inner>,
}

struct Inner {
    client: kube::Client,
    selector: String,
    kinds: Mutex<HashMap<String, Arc<Watched>>>,
    events: broadcast::Sender<LiveEvent>,
    ticks: watch::Sender<u64>,
}

impl LiveCache {
    /// A cache of the objects matching `selector` (a label selector such as `cetus.dev/app`).
    pub fn new(client: kube::Client, selector: impl Into<String>) -> LiveCache {
        let (events, _) = broadcast::channel(4096);
        let (ticks, _) = watch::channel(0);
        let inner = Inner {
            client,
            selector: selector.into(),
            kinds: Mutex::new(HashMap::new()),
            events,
            ticks,
        };
        LiveCache { inner: Arc::new(inner) }
    }

    fn kinds(&self) -> std::sync::MutexGuard<'_, HashMap<String, Arc<Watched>>> {
        self.inner.kinds.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Starts watching a kind, unless it is watched already.
    pub fn watch(&self, resolved: &Resolved) {
        let id = resource_id(resolved);
        let mut kinds = self.kinds();
        if kinds.contains_key(&id) {
            return;
        }
        let api: Api<DynamicObject> = Api::all_with(self.inner.client.clone(), &resolved.resource);
        let writer = reflector::store::Writer::new(resolved.resource.clone());
        let store = writer.as_reader();
        let phase = Arc::new(AtomicU8::new(LISTING));
        let config = watcher::Config::default().labels(&self.inner.selector);
        let task = tokio::spawn(drive(
            api,
            config,
            writer,
            resolved.clone(),
            phase.clone(),
            self.inner.events.clone(),
            self.inner.ticks.clone(),
        ));
        kinds.insert(id, Arc::new(Watched { resolved: resolved.clone(), store, phase, task }));
    }

    /// Waits until every kind in `kinds` is in sync, or `deadline` passes, or every kind not
    /// in sync is failing (an unreachable server will not answer a list sooner); says whether
    /// they all are. Kinds not in sync by then answer [`Lookup::Unknown`].
    pub async fn wait_synced(&self, kinds: &[Resolved], deadline: Instant) -> bool {
        let mut ticks = self.inner.ticks.subscribe();
        loop {
            let phases: Vec<u8> = kinds.iter().map(|k| self.phase(k)).collect();
            if phases.iter().all(|p| *p == SYNCED) {
                return true;
            }
            if phases.iter().all(|p| *p != LISTING) {
                return false;
            }
            let changed = tokio::time::timeout_at(deadline, ticks.changed()).await;
            if !matches!(changed, Ok(Ok(()))) {
                return kinds.iter().all(|k| self.is_synced(k));
            }
        }
    }

    /// Whether lookups of a kind can be trusted now.
    pub fn is_synced(&self, resolved: &Resolved) -> bool {
        self.phase(resolved) == SYNCED
    }

    /// Ends every watch now, for every clone of this cache: lookups then go to the server.
    /// A daemon that stops leading calls it, so a standby watches nothing, whoever still holds
    /// a clone of its engine.
    pub fn stop(&self) {
        let watched: Vec<Arc<Watched>> = self.kinds().drain().map(|(_, w)| w).collect();
        for watch in watched {
            watch.task.abort();
        }
    }

    /// Whether a kind is watched (in sync or not).
    pub fn is_watched(&self, resolved: &Resolved) -> bool {
        self.kinds().contains_key(&resource_id(resolved))
    }

    fn phase(&self, resolved: &Resolved) -> u8 {
        let watched = self.kinds().get(&resource_id(resolved)).cloned();
        watched.map_or(LISTING, |w| w.phase.load(Ordering::Acquire))
    }

    /// What the cache knows of one object.
    pub fn get(&self, resolved: &Resolved, namespace: &str, name: &str) -> Lookup {
        let Some(watched) = self.kinds().get(&resource_id(resolved)).cloned() else {
            return Lookup::Unknown;
        };
        if watched.phase.load(Ordering::Acquire) != SYNCED {
            return Lookup::Unknown;
        }
        let mut reference = ObjectRef::new_with(name, watched.resolved.resource.clone());
        if resolved.namespaced {
            reference = reference.within(namespace);
        }
        match watched.store.get(&reference) {
            Some(object) => Lookup::Present(object),
            None => Lookup::Absent,
        }
    }

    /// Waits until the cache reflects writes this process made (or `deadline` passes), so that
    /// what is read next — by a wait for health, or the next sync — is not older than them.
    /// Kinds not in sync are not waited for: their lookups go to the server anyway.
    pub async fn caught_up(&self, writes: &[Write], deadline: Instant) -> bool {
        let mut ticks = self.inner.ticks.subscribe();
        loop {
            ticks.borrow_and_update();
            if writes.iter().all(|w| self.reflects(w)) {
                return true;
            }
            if !matches!(tokio::time::timeout_at(deadline, ticks.changed()).await, Ok(Ok(()))) {
                return false;
            }
        }
    }

    fn reflects(&self, write: &Write) -> bool {
        let version = |o: &DynamicObject| o.metadata.resource_version.clone();
        match self.get(&write.resolved, &write.key.namespace, &write.key.name) {
            Lookup::Unknown => true,
            Lookup::Absent => write.after.is_none(),
            // The object moved past the version before the write: it is the write's, or newer.
            Lookup::Present(object) => {
                write.after.is_some()
                    && (version(&object) == write.after || version(&object) != write.before)
            }
        }
    }

    /// Every cached object of a kind whose app label is `app` (empty if the kind is not
    /// watched or not in sync).
    pub fn objects_of(&self, resolved: &Resolved, app: &str) -> Vec<Arc<DynamicObject>> {
        let Some(watched) = self.kinds().get(&resource_id(resolved)).cloned() else {
            return Vec::new();
        };
        watched.store.state_filter(|o| {
            o.metadata.labels.as_ref().and_then(|l| l.get(APP)).is_some_and(|a| a == app)
        })
    }

    /// Change announcements, for drift detection. A receiver that falls behind gets
    /// `Lagged` and should treat every app as possibly changed.
    pub fn subscribe(&self) -> broadcast::Receiver<LiveEvent> {
        self.inner.events.subscribe()
    }

    /// A counter bumped on every change, for waiters.
    pub fn ticks(&self) -> watch::Receiver<u64> {
        self.inner.ticks.subscribe()
    }
}

/// `group/version/plural`: one watch per served resource.
fn resource_id(resolved: &Resolved) -> String {
    format!("{}/{}", resolved.resource.api_version, resolved.resource.plural)
}

/// Runs one kind's watch until the cache is dropped, keeping its phase truthful.
async fn drive(
    api: Api<DynamicObject>,
    config: watcher::Config,
    writer: reflector::store::Writer<DynamicObject>,
    resolved: Resolved,
    phase: Arc<AtomicU8>,
    events: broadcast::Sender<LiveEvent>,
    ticks: watch::Sender<u64>,
) {
    let stream = watcher(api, config)
        .modify(|object: &mut DynamicObject| object.metadata.managed_fields = None)
        .default_backoff()
        .reflect(writer);
    let mut stream = std::pin::pin!(stream);
    let announce = |object: &DynamicObject| {
        let key = ObjectKey {
            group: resolved.resource.group.clone(),
            kind: resolved.resource.kind.clone(),
            namespace: object.metadata.namespace.clone().unwrap_or_default(),
            name: object.metadata.name.clone().unwrap_or_default(),
        };
        let app = object.metadata.labels.as_ref().and_then(|l| l.get(APP)).cloned();
        // Nobody listening is fine: drift detection is optional.
        let _ = events.send(LiveEvent::Changed { app: app.unwrap_or_default(), key });
    };
    let mut listed_before = false;
    while let Some(event) = stream.next().await {
        match event {
            Ok(watcher::Event::Init) => phase.store(LISTING, Ordering::Release),
            Ok(watcher::Event::InitApply(_)) => continue,
            Ok(watcher::Event::InitDone) => {
                phase.store(SYNCED, Ordering::Release);
                if listed_before {
                    // As above: nobody listening is fine.
                    let _ =
                        events.send(LiveEvent::Relisted { kind: resolved.resource.kind.clone() });
                }
                listed_before = true;
            }
            Ok(watcher::Event::Apply(object) | watcher::Event::Delete(object)) => {
                phase.store(SYNCED, Ordering::Release);
                announce(&object);
            }
            Err(error) => {
                // The watcher retries with backoff; until the stream flows again the store
                // may be stale, so lookups go to the server.
                phase.store(FAILING, Ordering::Release);
                tracing::warn!(resource = %resolved.name(), %error, "watch failed; retrying");
            }
        }
        ticks.send_modify(|t| *t = t.wrapping_add(1));
    }
}

/// How long a sync waits for a kind's first list before asking the server object by object.
pub const SYNC_WAIT: Duration = Duration::from_secs(5);

//! `watch`: newline-delimited JSON events from a resourceVersion. Unset or `0` starts with
//! synthetic ADDED events for the current state; `N` replays the kept history strictly
//! after `N`, or ends at once with an in-stream 410 Expired if that history is gone.
//! Selectors turn changes that enter or leave the selection into ADDED or DELETED.
//! BOOKMARKs (with `allowWatchBookmarks`), `sendInitialEvents`, `timeoutSeconds`.
//!
//! Owns the per-watch filter and stream. The history and broadcast are the store's.

use super::list::selection;
use super::request::{Representation, flag};
use super::{Call, Reply, present};
use crate::registry::ResourceInfo;
use crate::selectors::Selection;
use crate::state::{State, WatchSignal};
use crate::status::ApiError;
use crate::store::{Change, EventType, Signal, Store, TooOld};
use crate::table;
use axum::body::{Body, Bytes};
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{broadcast, mpsc};

/// How long a watch lasts when the client sets no `timeoutSeconds` (apiserver's
/// `--min-request-timeout` default).
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(1800);

/// What one watch sends.
struct Filter {
    info: Arc<ResourceInfo>,
    namespace: Option<String>,
    selection: Selection,
    repr: Representation,
    include: table::IncludeObject,
}

impl Filter {
    fn wants(&self, change: &Change) -> Option<(&'static str, Arc<Value>)> {
        let (group, resource) = self.info.storage();
        if change.key.group != group || change.key.resource != resource {
            return None;
        }
        if self.namespace.as_deref().is_some_and(|ns| ns != change.key.namespace) {
            return None;
        }
        let now = self.selection.matches(&change.object);
        let before = change.previous.as_ref().is_some_and(|p| self.selection.matches(p));
        let type_ = match (change.type_, before, now) {
            (EventType::Deleted, true, _) => "DELETED",
            (EventType::Deleted, false, _) => return None,
            (_, false, true) => "ADDED",
            (_, true, true) => "MODIFIED",
            (_, true, false) => {
                // The watch cache (cacheWatcher.convertToWatchEvent) sends an object that
                // leaves the selection as DELETED carrying the object as it was, still
                // matching, at the event's resourceVersion.
                let previous = change.previous.as_deref()?;
                let mut last = previous.clone();
                crate::meta::metadata_mut(&mut last)
                    .insert("resourceVersion".into(), change.rv.to_string().into());
                return Some(("DELETED", present(&self.info, &Arc::new(last))));
            }
            (_, false, false) => return None,
        };
        Some((type_, present(&self.info, &change.object)))
    }

    fn line(&self, type_: &str, obj: &Value) -> Bytes {
        let rendered;
        let obj = match self.repr {
            Representation::Object => obj,
            Representation::Metadata => {
                rendered = table::partial_metadata(obj);
                &rendered
            }
            Representation::Table => {
                let rv = crate::meta::meta_str(obj, "resourceVersion").to_string();
                rendered =
                    table::table(&self.info, [obj], json!({"resourceVersion": rv}), self.include);
                &rendered
            }
        };
        let mut out = Vec::with_capacity(256);
        out.extend_from_slice(b"{\"type\":\"");
        out.extend_from_slice(type_.as_bytes());
        out.extend_from_slice(b"\",\"object\":");
        // Serializing a Value cannot fail.
        let _ = serde_json::to_writer(&mut out, obj);
        out.extend_from_slice(b"}\n");
        Bytes::from(out)
    }

    fn bookmark(&self, rv: u64, initial_end: bool) -> Bytes {
        let mut meta = json!({"resourceVersion": rv.to_string()});
        if initial_end {
            meta["annotations"] = json!({"k8s.io/initial-events-end": "true"});
        }
        let obj = json!({"kind": self.info.kind, "apiVersion": self.info.api_version(), "metadata": meta});
        let mut out =
            serde_json::to_vec(&json!({"type": "BOOKMARK", "object": obj})).unwrap_or_default();
        out.push(b'\n');
        Bytes::from(out)
    }
}

fn error_line(error: &ApiError) -> Bytes {
    let status = error.to_status();
    let mut out =
        serde_json::to_vec(&json!({"type": "ERROR", "object": status})).unwrap_or_default();
    out.push(b'\n');
    Bytes::from(out)
}

fn too_old(rv: u64, t: TooOld) -> Bytes {
    error_line(&ApiError::expired(format!("too old resource version: {rv} ({})", t.oldest)))
}

/// The first lines of a watch and where it continues from.
struct Start {
    lines: Vec<Bytes>,
    last_rv: u64,
    expired: bool,
}

fn start(store: &Store, filter: &Filter, rv: Option<u64>, initial_end: bool) -> Start {
    match rv {
        None | Some(0) => {
            let current = store.resource_version();
            let (group, resource) = filter.info.storage();
            let mut lines: Vec<Bytes> = store
                .range(group, resource, filter.namespace.as_deref())
                .filter(|(_, o)| filter.selection.matches(o))
                .map(|(_, o)| filter.line("ADDED", &present(&filter.info, o)))
                .collect();
            if initial_end {
                lines.push(filter.bookmark(current, true));
            }
            Start { lines, last_rv: current, expired: false }
        }
        Some(n) => match store.changes_since(n) {
            Ok(changes) => {
                let last = changes.last().map_or(n.max(store.resource_version()), |c| c.rv);
                let lines = changes
                    .iter()
                    .filter_map(|c| filter.wants(c))
                    .map(|(t, o)| filter.line(t, &o))
                    .collect();
                Start { lines, last_rv: last, expired: false }
            }
            Err(t) => Start { lines: vec![too_old(n, t)], last_rv: n, expired: true },
        },
    }
}

/// GET with `watch=true`.
pub async fn watch(call: Call) -> Result<Reply, ApiError> {
    let selection = selection(&call)?;
    let rv = call.query.resource_version()?;
    let timeout = match call.query.timeout_seconds.as_deref() {
        None | Some("") => DEFAULT_TIMEOUT,
        Some(t) => Duration::from_secs(
            t.parse().map_err(|_| ApiError::bad_request(format!("invalid timeoutSeconds: {t}")))?,
        ),
    };
    let bookmarks = flag(&call.query.allow_watch_bookmarks);
    let initial_end = bookmarks && flag(&call.query.send_initial_events);
    let filter = Filter {
        info: call.info().clone(),
        namespace: call.target.namespace.clone(),
        selection,
        repr: call.repr,
        include: table::IncludeObject::parse(call.query.include_object.as_deref()),
    };
    let signals = call.state.watch_signals();
    let (rx, first) = {
        let store = call.state.store();
        (store.subscribe(), start(&store, &filter, rv, initial_end))
    };
    let (tx, out) = mpsc::channel::<Bytes>(64);
    let state = call.state.clone();
    tokio::spawn(async move {
        for line in first.lines {
            if tx.send(line).await.is_err() {
                return;
            }
        }
        if !first.expired {
            let ends = Ends { timeout, signals };
            pump(state, filter, rx, tx, first.last_rv, ends, bookmarks).await;
        }
    });
    let stream = futures::stream::unfold(out, |mut out| async move {
        out.recv().await.map(|line| (Ok::<_, std::convert::Infallible>(line), out))
    });
    Ok(Reply::Stream(Body::from_stream(stream)))
}

/// What ends a watch besides shutdown, the client and expiry.
struct Ends {
    timeout: Duration,
    signals: broadcast::Receiver<WatchSignal>,
}

/// Forwards matching changes until the timeout, shutdown, client disconnect, expiry, or a
/// control that ends or breaks watches.
async fn pump(
    state: Arc<State>,
    filter: Filter,
    mut rx: broadcast::Receiver<Signal>,
    tx: mpsc::Sender<Bytes>,
    mut last_rv: u64,
    ends: Ends,
    bookmarks: bool,
) {
    let Ends { timeout, mut signals } = ends;
    let deadline = tokio::time::sleep(timeout);
    tokio::pin!(deadline);
    let mut shutdown = state.shutdown.clone();
    let mut ticker = tokio::time::interval(state.tuning.bookmark_interval);
    ticker.tick().await;
    loop {
        let lines: Vec<Bytes> = tokio::select! {
            _ = &mut deadline => return,
            _ = shutdown.changed() => return,
            _ = tx.closed() => return,
            _ = ticker.tick(), if bookmarks => vec![filter.bookmark(last_rv, false)],
            signal = signals.recv() => match signal {
                Ok(WatchSignal::End) => return,
                Ok(WatchSignal::Break(rule)) => {
                    if !rule.selects(&filter.info.plural, filter.namespace.as_deref()) {
                        continue;
                    }
                    // The stream ends either way; a client that left misses nothing.
                    let _ = tx.send(error_line(&rule.error)).await;
                    return;
                }
                // Missed signals were meant for every watch: end this one too.
                Err(broadcast::error::RecvError::Lagged(_)) => return,
                Err(broadcast::error::RecvError::Closed) => return,
            },
            msg = rx.recv() => match msg {
                Ok(Signal::Change(c)) if c.rv <= last_rv => continue,
                Ok(Signal::Change(c)) => {
                    last_rv = c.rv;
                    filter.wants(&c).map(|(t, o)| filter.line(t, &o)).into_iter().collect()
                }
                Ok(Signal::Expire) => {
                    let oldest = state.store().resource_version() + 1;
                    // The stream ends either way; a client that left misses nothing.
                    let _ = tx.send(too_old(last_rv, TooOld { oldest })).await;
                    return;
                }
                Err(broadcast::error::RecvError::Lagged(_)) => {
                    // Fell behind the broadcast: catch up from the history, if still kept.
                    let caught_up = state.store().changes_since(last_rv);
                    match caught_up {
                        Ok(changes) => {
                            let lines = changes.iter().filter(|c| c.rv > last_rv).filter_map(|c| filter.wants(c)).map(|(t, o)| filter.line(t, &o)).collect();
                            last_rv = changes.last().map_or(last_rv, |c| c.rv.max(last_rv));
                            lines
                        }
                        Err(t) => {
                            // The stream ends either way; a client that left misses nothing.
                            let _ = tx.send(too_old(last_rv, t)).await;
                            return;
                        }
                    }
                }
                Err(broadcast::error::RecvError::Closed) => return,
            },
        };
        for line in lines {
            if tx.send(line).await.is_err() {
                return;
            }
        }
    }
}

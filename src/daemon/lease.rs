//! Leader election on a `coordination.k8s.io/v1` Lease: only the holder opens the store and
//! reconciles, so two daemons never write at once — during an upgrade, or when a second one is
//! started by mistake.
//!
//! As client-go's leader election does: a Lease is free when it has no holder, or when its
//! record (resourceVersion) has not changed for `leaseDurationSeconds` as observed on this
//! process's own clock (so clock skew between nodes does not matter); it is taken or renewed
//! by a replace carrying the observed resourceVersion, so of two contenders exactly one wins.
//! The holder renews every third of the duration (retrying every retry period after a
//! failure); if it cannot renew within two thirds of it, it has lost the lease and must stop
//! at once. A renewal is one request, as in client-go's fast path: the holder replaces the
//! Lease it last wrote without reading it first, and only a conflict costs a read. On
//! shutdown it releases the lease (empty holder), so a successor takes over within one retry
//! period instead of a whole duration.

use k8s_openapi::api::coordination::v1::{Lease, LeaseSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, ObjectMeta};
use kube::Api;
use kube::api::PostParams;
use std::time::Duration;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

/// Where the Lease is and who we are.
#[derive(Debug, Clone)]
pub struct LeaseOptions {
    /// The Lease's name.
    pub name: String,
    /// Its namespace.
    pub namespace: String,
    /// This process's identity (pod name and a random suffix).
    pub identity: String,
    /// How long a holder that stops renewing keeps it.
    pub duration: Duration,
    /// How often a waiting process tries again.
    pub retry: Duration,
}

impl LeaseOptions {
    /// The defaults: Lease `cetus` in `namespace`, 15 s, retried every second.
    pub fn new(namespace: impl Into<String>, identity: impl Into<String>) -> LeaseOptions {
        LeaseOptions {
            name: "cetus".into(),
            namespace: namespace.into(),
            identity: identity.into(),
            duration: Duration::from_secs(15),
            retry: Duration::from_secs(1),
        }
    }
}

/// Why the lease could not be taken.
#[derive(Debug, thiserror::Error)]
pub enum LeaseError {
    /// Waiting was cancelled (shutdown before becoming leader).
    #[error("stopped before taking the lease")]
    Cancelled,
}

/// This process holds the lease until [`Leader::lost`] fires or it is released.
pub struct Leader {
    lost: CancellationToken,
    stop: CancellationToken,
    task: tokio::task::JoinHandle<()>,
}

impl Leader {
    /// Fires when the lease was lost (it could not be renewed in time): stop at once.
    pub fn lost(&self) -> CancellationToken {
        self.lost.clone()
    }

    /// Stops renewing and gives the lease up, so a successor takes it at once.
    pub async fn release(self) {
        self.stop.cancel();
        // The renew task releases the lease as it ends; a panic there leaves it to expire.
        let _ = self.task.await;
    }
}

/// What the last look at the Lease showed, timed on our clock.
struct Observed {
    version: Option<String>,
    since: Instant,
}

/// Waits until this process holds the lease (or `cancel` fires), then keeps renewing it.
pub async fn acquire(
    client: kube::Client,
    options: LeaseOptions,
    cancel: CancellationToken,
) -> Result<Leader, LeaseError> {
    let api: Api<Lease> = Api::namespaced(client, &options.namespace);
    let mut observed = Observed { version: None, since: Instant::now() };
    let mut told = None::<String>;
    loop {
        match try_take(&api, &options, &mut observed).await {
            Ok(Taken::Ours) => break,
            Ok(Taken::Held(holder)) => {
                if told.as_deref() != Some(holder.as_str()) {
                    tracing::info!(lease = %options.name, %holder, "waiting for the lease: another daemon holds it");
                    told = Some(holder);
                }
            }
            Err(e) => {
                tracing::warn!(lease = %options.name, error = %crate::error_chain(&e), "cannot read the lease")
            }
        }
        tokio::select! {
            _ = cancel.cancelled() => return Err(LeaseError::Cancelled),
            _ = tokio::time::sleep(options.retry) => {}
        }
    }
    tracing::info!(lease = %options.name, identity = %options.identity, "holding the lease");
    let (lost, stop) = (CancellationToken::new(), CancellationToken::new());
    let task = tokio::spawn(renew(api, options, lost.clone(), stop.clone()));
    Ok(Leader { lost, stop, task })
}

enum Taken {
    Ours,
    Held(String),
}

async fn try_take(
    api: &Api<Lease>,
    options: &LeaseOptions,
    observed: &mut Observed,
) -> Result<Taken, kube::Error> {
    let now = Instant::now();
    let Some(lease) = api.get_opt(&options.name).await? else {
        let created = api.create(&PostParams::default(), &fresh(options, 0)).await;
        return match created {
            Ok(_) => Ok(Taken::Ours),
            Err(kube::Error::Api(s)) if s.is_already_exists() => {
                Ok(Taken::Held("a racing daemon".into()))
            }
            Err(e) => Err(e),
        };
    };
    let version = lease.metadata.resource_version.clone();
    if version != observed.version {
        *observed = Observed { version: version.clone(), since: now };
    }
    let spec = lease.spec.clone().unwrap_or_default();
    let holder = spec.holder_identity.clone().unwrap_or_default();
    let duration = spec
        .lease_duration_seconds
        .map_or(options.duration, |s| Duration::from_secs(s.max(0) as u64));
    let free = holder.is_empty()
        || holder == options.identity
        || now.duration_since(observed.since) >= duration;
    if !free {
        return Ok(Taken::Held(holder));
    }
    let transitions = spec.lease_transitions.unwrap_or(0) + i32::from(holder != options.identity);
    let mut taken = fresh(options, transitions);
    taken.metadata.resource_version = version;
    match api.replace(&options.name, &PostParams::default(), &taken).await {
        Ok(_) => Ok(Taken::Ours),
        Err(kube::Error::Api(s)) if s.is_conflict() => Ok(Taken::Held(holder)),
        Err(e) => Err(e),
    }
}

/// A Lease held by us from now.
fn fresh(options: &LeaseOptions, transitions: i32) -> Lease {
    let now = MicroTime(jiff::Timestamp::now());
    Lease {
        metadata: ObjectMeta {
            name: Some(options.name.clone()),
            namespace: Some(options.namespace.clone()),
            ..ObjectMeta::default()
        },
        spec: Some(LeaseSpec {
            holder_identity: Some(options.identity.clone()),
            lease_duration_seconds: Some(options.duration.as_secs() as i32),
            acquire_time: Some(now.clone()),
            renew_time: Some(now),
            lease_transitions: Some(transitions),
            ..LeaseSpec::default()
        }),
    }
}

/// Renews until stopped (then releases) or until a renewal is overdue (then `lost` fires).
async fn renew(
    api: Api<Lease>,
    options: LeaseOptions,
    lost: CancellationToken,
    stop: CancellationToken,
) {
    let every = options.duration / 3;
    let deadline = options.duration * 2 / 3;
    let mut renewed = Instant::now();
    let (mut wait, mut written) = (every, None);
    loop {
        tokio::select! {
            _ = stop.cancelled() => break,
            _ = tokio::time::sleep(wait) => {}
        }
        match renew_once(&api, &options, &mut written).await {
            Ok(true) => (renewed, wait) = (Instant::now(), every),
            Ok(false) => {
                tracing::error!(lease = %options.name, "the lease was taken by another daemon");
                lost.cancel();
                return;
            }
            Err(e) => {
                tracing::warn!(lease = %options.name, error = %crate::error_chain(&e), "cannot renew the lease");
                wait = options.retry;
            }
        }
        if renewed.elapsed() > deadline {
            tracing::error!(lease = %options.name, "could not renew the lease in time: it is lost");
            lost.cancel();
            return;
        }
    }
    match release(&api, &options).await {
        Ok(()) => tracing::info!(lease = %options.name, "released the lease"),
        Err(e) => {
            tracing::warn!(lease = %options.name, error = %crate::error_chain(&e), "cannot release the lease; it expires on its own")
        }
    }
}

/// Renews the lease if it is still ours; `false` if someone else holds it. `written` is the
/// Lease as our last renewal left it: replacing it needs no read, unless someone wrote since.
async fn renew_once(
    api: &Api<Lease>,
    options: &LeaseOptions,
    written: &mut Option<Lease>,
) -> Result<bool, kube::Error> {
    if let Some(mut lease) = written.take() {
        stamp_renewal(&mut lease);
        match api.replace(&options.name, &PostParams::default(), &lease).await {
            Ok(answer) => {
                *written = Some(answer);
                return Ok(true);
            }
            // Written since: read it to see whether it is still ours.
            Err(kube::Error::Api(s)) if s.is_conflict() => {}
            Err(e) => return Err(e),
        }
    }
    let mut lease = api.get(&options.name).await?;
    if lease.spec.as_ref().and_then(|s| s.holder_identity.as_deref())
        != Some(options.identity.as_str())
    {
        return Ok(false);
    }
    stamp_renewal(&mut lease);
    match api.replace(&options.name, &PostParams::default(), &lease).await {
        Ok(answer) => {
            *written = Some(answer);
            Ok(true)
        }
        Err(kube::Error::Api(s)) if s.is_conflict() => Ok(false),
        Err(e) => Err(e),
    }
}

fn stamp_renewal(lease: &mut Lease) {
    lease.spec.get_or_insert_with(LeaseSpec::default).renew_time =
        Some(MicroTime(jiff::Timestamp::now()));
}

/// Gives the lease up: no holder, so the next contender takes it at once.
async fn release(api: &Api<Lease>, options: &LeaseOptions) -> Result<(), kube::Error> {
    let mut lease = api.get(&options.name).await?;
    let spec = lease.spec.get_or_insert_with(LeaseSpec::default);
    if spec.holder_identity.as_deref() != Some(options.identity.as_str()) {
        return Ok(());
    }
    spec.holder_identity = None;
    spec.lease_duration_seconds = Some(1);
    api.replace(&options.name, &PostParams::default(), &lease).await.map(|_| ())
}

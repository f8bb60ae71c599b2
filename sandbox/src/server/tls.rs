//! Serving over plain HTTP or https: [`serve`] runs axum on the listener, and in TLS mode
//! puts a [`TlsListener`] in between. TLS runs *above* the cuttable connection, so a cut
//! (the drop-connection fault) still fails the connection's next write and the client gets
//! not a byte of its answer, encrypted or not.
//!
//! Owns the accept loop and the handshakes; not the certificates (`crate::tls`) nor what is
//! served (the router).

use super::conn::{Cut, CuttableListener, CuttableStream};
use axum::Router;
use axum::extract::connect_info::Connected;
use axum::serve::{IncomingStream, Listener};
use std::future::Future;
use std::io;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;

/// How long a client may take over its handshake before its connection is dropped.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// How many finished handshakes may wait for the server to take them.
const BACKLOG: usize = 128;

/// Serves `app` on `listener` until `shutdown` resolves: over https when `tls` is given.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    tls: Option<TlsAcceptor>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    let listener = CuttableListener(listener);
    match tls {
        None => {
            let app = app.into_make_service_with_connect_info::<Cut>();
            axum::serve(listener, app).with_graceful_shutdown(shutdown).await
        }
        Some(acceptor) => {
            let app = app.into_make_service_with_connect_info::<Cut>();
            let listener = TlsListener::new(listener, acceptor);
            axum::serve(listener, app).with_graceful_shutdown(shutdown).await
        }
    }
}

/// A listener whose connections have finished a TLS handshake. Handshakes run in tasks of
/// their own, so one slow or silent client does not hold up the others' connections.
pub struct TlsListener {
    ready: mpsc::Receiver<(TlsStream<CuttableStream>, Cut)>,
    accepting: tokio::task::JoinHandle<()>,
}

impl TlsListener {
    /// Accepts TCP connections from `inner` and shakes hands with `acceptor`.
    pub fn new(mut inner: CuttableListener, acceptor: TlsAcceptor) -> Self {
        let (tx, ready) = mpsc::channel(BACKLOG);
        let accepting = tokio::spawn(async move {
            loop {
                let (stream, cut) = inner.accept().await;
                let (tx, acceptor) = (tx.clone(), acceptor.clone());
                tokio::spawn(async move {
                    match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await {
                        Ok(Ok(stream)) => {
                            // The server is stopping when nobody takes it: the connection goes.
                            let _ = tx.send((stream, cut)).await;
                        }
                        Ok(Err(e)) => tracing::debug!(error = %e, "tls handshake failed"),
                        Err(_) => tracing::debug!("tls handshake timed out"),
                    }
                });
            }
        });
        Self { ready, accepting }
    }
}

impl Drop for TlsListener {
    fn drop(&mut self) {
        // Stop accepting: the TCP listener closes with the task.
        self.accepting.abort();
    }
}

impl Listener for TlsListener {
    type Io = TlsStream<CuttableStream>;
    type Addr = Cut;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        match self.ready.recv().await {
            Some(connection) => connection,
            // The accepting task only ends when this listener is dropped.
            None => std::future::pending().await,
        }
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        Ok(Cut::default())
    }
}

impl Connected<IncomingStream<'_, TlsListener>> for Cut {
    fn connect_info(stream: IncomingStream<'_, TlsListener>) -> Self {
        stream.remote_addr().clone()
    }
}

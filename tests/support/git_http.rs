//! Test helper: `git http-backend` (CGI) behind a small axum server on loopback, with HTTP
//! basic auth, counting ref advertisements and pack requests.
//!
//! Include with `#[path = "support/git_http.rs"] mod git_http;` next to `git_support`.
#![allow(dead_code)]

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use tokio::io::AsyncWriteExt;

/// What the server saw.
#[derive(Debug, Default)]
pub struct Stats {
    /// `GET .../info/refs?service=git-upload-pack`: head checks (ls-remote).
    pub advertisements: AtomicUsize,
    /// `POST .../git-upload-pack`: fetches.
    pub fetches: AtomicUsize,
    /// Requests refused for missing or wrong credentials.
    pub refused: AtomicUsize,
}

impl Stats {
    pub fn advertisements(&self) -> usize {
        self.advertisements.load(Ordering::SeqCst)
    }
    pub fn fetches(&self) -> usize {
        self.fetches.load(Ordering::SeqCst)
    }
    pub fn refused(&self) -> usize {
        self.refused.load(Ordering::SeqCst)
    }
}

struct Config {
    root: PathBuf,
    backend: PathBuf,
    authorization: String,
    stats: Arc<Stats>,
}

/// The server; stops on drop.
pub struct GitHttp {
    pub addr: SocketAddr,
    pub stats: Arc<Stats>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl GitHttp {
    /// Serves the repositories under `root` to clients authenticating as `user`/`password`.
    pub fn start(root: &Path, user: &str, password: &str) -> Self {
        let credentials =
            base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
        let stats = Arc::new(Stats::default());
        let config = Arc::new(Config {
            root: root.to_path_buf(),
            backend: super::git_support::git_program("git-http-backend"),
            authorization: format!("Basic {credentials}"),
            stats: stats.clone(),
        });
        let (addr_tx, addr_rx) = std::sync::mpsc::channel();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
                addr_tx.send(listener.local_addr().unwrap()).unwrap();
                let app = Router::new().fallback(cgi).with_state(config);
                tokio::select! {
                    served = axum::serve(listener, app) => served.unwrap(),
                    _ = stopped => {}
                }
            });
        });
        let addr =
            addr_rx.recv_timeout(super::git_support::READY_TIMEOUT).expect("http server started");
        Self { addr, stats, stop: Some(stop), thread: Some(thread) }
    }

    /// The http:// URL of `<root>/<name>`.
    pub fn url(&self, name: &str) -> String {
        format!("http://{}/{name}", self.addr)
    }
}

impl Drop for GitHttp {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

async fn cgi(State(config): State<Arc<Config>>, request: Request) -> Response {
    let authorized = request.headers().get(header::AUTHORIZATION).and_then(|v| v.to_str().ok())
        == Some(config.authorization.as_str());
    if !authorized {
        config.stats.refused.fetch_add(1, Ordering::SeqCst);
        return (StatusCode::UNAUTHORIZED, [(header::WWW_AUTHENTICATE, "Basic realm=\"git\"")], "")
            .into_response();
    }
    let path = request.uri().path().to_string();
    let query = request.uri().query().unwrap_or("").to_string();
    if path.ends_with("/info/refs") {
        config.stats.advertisements.fetch_add(1, Ordering::SeqCst);
    } else if path.ends_with("/git-upload-pack") {
        config.stats.fetches.fetch_add(1, Ordering::SeqCst);
    }
    let headers = request.headers();
    let content_type = header_string(headers, header::CONTENT_TYPE);
    let encoding = header_string(headers, header::CONTENT_ENCODING);
    let protocol = header_string(headers, HeaderName::from_static("git-protocol"));
    let method = request.method().to_string();
    let body = axum::body::to_bytes(request.into_body(), usize::MAX).await.unwrap();

    let mut child = tokio::process::Command::new(&config.backend)
        .env_clear()
        .env("GIT_PROJECT_ROOT", &config.root)
        .env("GIT_HTTP_EXPORT_ALL", "1")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("PATH_INFO", &path)
        .env("REQUEST_METHOD", &method)
        .env("QUERY_STRING", &query)
        .env("CONTENT_TYPE", &content_type)
        .env("CONTENT_LENGTH", body.len().to_string())
        .env("HTTP_CONTENT_ENCODING", &encoding)
        .env("GIT_PROTOCOL", &protocol)
        .env("REMOTE_USER", "test")
        .env("REMOTE_ADDR", "127.0.0.1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn git http-backend");
    let mut stdin = child.stdin.take().unwrap();
    // Written concurrently with reading the output, so that neither pipe can fill up.
    let writer = tokio::spawn(async move {
        let _ = stdin.write_all(&body).await;
    });
    let output = child.wait_with_output().await.unwrap();
    let _ = writer.await;
    parse_cgi(&output.stdout)
}

fn header_string(headers: &axum::http::HeaderMap, name: HeaderName) -> String {
    headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or("").to_string()
}

/// CGI output: headers (`Status:` among them), a blank line, the body.
fn parse_cgi(out: &[u8]) -> Response {
    let split = out.windows(4).position(|w| w == b"\r\n\r\n").map(|i| (i, 4));
    let split = split.or_else(|| out.windows(2).position(|w| w == b"\n\n").map(|i| (i, 2)));
    let Some((end, gap)) = split else {
        return (StatusCode::INTERNAL_SERVER_ERROR, "bad CGI output").into_response();
    };
    let mut response = Response::new(Body::from(out[end + gap..].to_vec()));
    for line in String::from_utf8_lossy(&out[..end]).lines() {
        let Some((name, value)) = line.split_once(':') else { continue };
        let value = value.trim();
        if name.eq_ignore_ascii_case("status") {
            let code = value.split_whitespace().next().and_then(|c| c.parse().ok()).unwrap_or(500);
            *response.status_mut() = StatusCode::from_u16(code).unwrap();
        } else if let (Ok(name), Ok(value)) =
            (HeaderName::try_from(name.trim()), HeaderValue::from_str(value))
        {
            response.headers_mut().append(name, value);
        }
    }
    response
}

//! Test harness shared by the sandbox's integration tests: one sandbox per test binary,
//! clients built from its kubeconfig, a unique namespace per test, a small raw HTTP client
//! for wire-level checks, and a `kubectl` runner.
#![allow(dead_code)]

use cetus_sandbox::{Sandbox, SandboxHandle, SandboxOptions};
use kube::config::{KubeConfigOptions, Kubeconfig};
use serde_json::Value;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

/// The sandbox shared by every test of this binary (each test works in its own namespace).
pub fn sandbox() -> &'static SandboxHandle {
    static SANDBOX: OnceLock<SandboxHandle> = OnceLock::new();
    SANDBOX.get_or_init(|| {
        let options = SandboxOptions {
            bookmark_interval: Duration::from_millis(200),
            namespace_termination_delay: Duration::from_millis(100),
            ..SandboxOptions::default()
        };
        Sandbox::spawn(options).expect("the sandbox starts")
    })
}

/// A kube client for `handle`, built from its kubeconfig as a user's would be.
pub async fn client_for(handle: &SandboxHandle) -> kube::Client {
    let kubeconfig = Kubeconfig::from_yaml(&handle.kubeconfig()).expect("the kubeconfig parses");
    let config = kube::Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default())
        .await
        .expect("the kubeconfig loads");
    kube::Client::try_from(config).expect("a client")
}

/// A kube client for `handle` that gives up on an answer after `timeout`.
pub async fn client_with_timeout(handle: &SandboxHandle, timeout: Duration) -> kube::Client {
    let kubeconfig = Kubeconfig::from_yaml(&handle.kubeconfig()).expect("the kubeconfig parses");
    let mut config =
        kube::Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default())
            .await
            .expect("the kubeconfig loads");
    config.read_timeout = Some(timeout);
    kube::Client::try_from(config).expect("a client")
}

/// A kube client for the shared sandbox.
pub async fn client() -> kube::Client {
    client_for(sandbox()).await
}

/// A namespace name unique to this test run.
pub fn unique(prefix: &str) -> String {
    static N: AtomicUsize = AtomicUsize::new(0);
    format!("{prefix}-{}-{}", std::process::id() % 10000, N.fetch_add(1, Ordering::Relaxed))
}

/// A raw HTTP response.
#[derive(Debug)]
pub struct Response {
    /// Status code.
    pub code: u16,
    /// Header lines, lowercase names.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: String,
}

impl Response {
    /// The body as JSON.
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }

    /// The values of one header.
    pub fn header(&self, name: &str) -> Vec<&str> {
        self.headers.iter().filter(|(k, _)| k == name).map(|(_, v)| v.as_str()).collect()
    }
}

fn request_text(
    method: &str,
    path: &str,
    content_type: Option<&str>,
    accept: Option<&str>,
    body: &str,
) -> String {
    let mut req = format!(
        "{method} {path} HTTP/1.1\r\nHost: sandbox\r\nConnection: close\r\nUser-Agent: sandbox-test/1.0\r\n"
    );
    if let Some(ct) = content_type {
        req.push_str(&format!("Content-Type: {ct}\r\n"));
    }
    if let Some(a) = accept {
        req.push_str(&format!("Accept: {a}\r\n"));
    }
    req.push_str(&format!("Content-Length: {}\r\n\r\n{body}", body.len()));
    req
}

fn dechunk(raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut rest = raw;
    while let Some(pos) = rest.windows(2).position(|w| w == b"\r\n") {
        let size = usize::from_str_radix(std::str::from_utf8(&rest[..pos]).unwrap().trim(), 16)
            .unwrap_or(0);
        if size == 0 {
            break;
        }
        out.extend_from_slice(&rest[pos + 2..pos + 2 + size]);
        rest = &rest[pos + 2 + size + 2..];
    }
    out
}

/// Sends one request to `handle` and reads the whole response.
pub async fn http_to(
    handle: &SandboxHandle,
    method: &str,
    path: &str,
    content_type: Option<&str>,
    accept: Option<&str>,
    body: &str,
) -> Response {
    let mut stream = TcpStream::connect(handle.address()).await.expect("connects");
    stream
        .write_all(request_text(method, path, content_type, accept, body).as_bytes())
        .await
        .unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await.unwrap();
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n").expect("a header block");
    let head = String::from_utf8_lossy(&raw[..split]).to_string();
    let mut lines = head.lines();
    let code = lines.next().unwrap().split_whitespace().nth(1).unwrap().parse().unwrap();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| {
            l.split_once(':').map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        })
        .collect();
    let chunked = headers.iter().any(|(k, v)| k == "transfer-encoding" && v.contains("chunked"));
    let body_raw = &raw[split + 4..];
    let body = if chunked { dechunk(body_raw) } else { body_raw.to_vec() };
    Response { code, headers, body: String::from_utf8_lossy(&body).to_string() }
}

/// Sends one request to the shared sandbox.
pub async fn http(method: &str, path: &str, content_type: Option<&str>, body: &str) -> Response {
    http_to(sandbox(), method, path, content_type, None, body).await
}

/// A GET returning JSON.
pub async fn get_json(path: &str) -> (u16, Value) {
    let r = http("GET", path, None, "").await;
    let code = r.code;
    (code, r.json())
}

/// An open watch: newline-delimited events as they arrive.
pub struct WatchStream {
    reader: BufReader<TcpStream>,
    chunk_left: usize,
    buffer: Vec<u8>,
}

impl WatchStream {
    /// Opens a watch (a GET whose response is streamed) on `handle`.
    pub async fn open(handle: &SandboxHandle, path: &str) -> WatchStream {
        let mut stream = TcpStream::connect(handle.address()).await.expect("connects");
        stream.write_all(request_text("GET", path, None, None, "").as_bytes()).await.unwrap();
        let mut reader = BufReader::new(stream);
        loop {
            let mut line = String::new();
            reader.read_line(&mut line).await.unwrap();
            if line == "\r\n" || line.is_empty() {
                break;
            }
        }
        WatchStream { reader, chunk_left: 0, buffer: Vec::new() }
    }

    async fn fill(&mut self) -> bool {
        if self.chunk_left == 0 {
            let mut size = String::new();
            if self.reader.read_line(&mut size).await.unwrap_or(0) == 0 {
                return false;
            }
            if size.trim().is_empty() {
                size.clear();
                if self.reader.read_line(&mut size).await.unwrap_or(0) == 0 {
                    return false;
                }
            }
            self.chunk_left = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
            if self.chunk_left == 0 {
                return false;
            }
        }
        let mut buf = vec![0u8; self.chunk_left];
        if self.reader.read_exact(&mut buf).await.is_err() {
            return false;
        }
        self.chunk_left = 0;
        self.buffer.extend_from_slice(&buf);
        true
    }

    /// Whether the stream ends (the server closes it) within `wait`; events before the
    /// end are skipped.
    pub async fn ends_within(&mut self, wait: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            match tokio::time::timeout_at(deadline, self.fill()).await {
                Ok(true) => self.buffer.clear(),
                Ok(false) => return true,
                Err(_) => return false,
            }
        }
    }

    /// The next event, or `None` when the stream ends or `wait` passes.
    pub async fn next(&mut self, wait: Duration) -> Option<Value> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            if let Some(pos) = self.buffer.iter().position(|b| *b == b'\n') {
                let line: Vec<u8> = self.buffer.drain(..=pos).collect();
                return Some(serde_json::from_slice(&line).expect("each line is a JSON event"));
            }
            match tokio::time::timeout_at(deadline, self.fill()).await {
                Ok(true) => {}
                Ok(false) | Err(_) => return None,
            }
        }
    }
}

/// Polls `check` until it returns `Some` or `wait` passes.
pub async fn eventually<T, F, Fut>(wait: Duration, mut check: F) -> Option<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        if let Some(v) = check().await {
            return Some(v);
        }
        if tokio::time::Instant::now() > deadline {
            return None;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Creates a namespace in the shared sandbox.
pub async fn create_namespace(name: &str) {
    let body =
        format!(r#"{{"apiVersion":"v1","kind":"Namespace","metadata":{{"name":"{name}"}}}}"#);
    let r = http("POST", "/api/v1/namespaces", Some("application/json"), &body).await;
    assert_eq!(r.code, 201, "{}", r.body);
}

//! Webhook routes over real HTTP on loopback: signatures (GitHub's documented example),
//! refusals with their exact answers, one trigger per valid push, coalescing, metrics.

use cetus::api::webhooks::{
    self, FollowedRepo, Outcome, Provider, Secret, WebhookConfig, WebhookMetrics, WebhookSecrets,
};
use cetus::source::trigger::{RepoTrigger, TriggerOrigin, TriggerReceiver, trigger_channel};
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const WAIT: Duration = Duration::from_secs(60);
const REPO: &str = "https://github.com/acme/config.git";
const SECRET: &str = "It's a Secret to Everybody";

struct Server {
    addr: SocketAddr,
    triggers: TriggerReceiver,
    metrics: Arc<WebhookMetrics>,
    _task: AbortOnDrop,
}

struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

async fn serve(secrets: WebhookSecrets) -> Server {
    let config = WebhookConfig {
        secrets,
        repos: vec![FollowedRepo { url: REPO.into(), branch: "main".into() }],
        ..WebhookConfig::default()
    };
    let (tx, triggers) = trigger_channel();
    let metrics = Arc::new(WebhookMetrics::new());
    let router = webhooks::router(config, tx, metrics.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let task = tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    Server { addr, triggers, metrics, _task: AbortOnDrop(task) }
}

fn all_secrets() -> WebhookSecrets {
    WebhookSecrets::all(Secret::new(SECRET))
}

/// One HTTP/1.1 request; returns the status and the JSON body.
async fn request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, String)],
    body: &[u8],
) -> (u16, Value) {
    let mut head = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    let chunked =
        headers.iter().any(|(k, v)| k.eq_ignore_ascii_case("transfer-encoding") && v == "chunked");
    if !chunked && !headers.iter().any(|(k, _)| k.eq_ignore_ascii_case("content-length")) {
        head.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    let exchange = async {
        let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
        stream.write_all(head.as_bytes()).await.unwrap();
        let (mut read, mut write) = stream.into_split();
        let body = if chunked {
            // One chunk per 64 KiB, then the terminating empty chunk.
            let mut encoded = Vec::new();
            for chunk in body.chunks(64 * 1024) {
                encoded.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
                encoded.extend_from_slice(chunk);
                encoded.extend_from_slice(b"\r\n");
            }
            encoded.extend_from_slice(b"0\r\n\r\n");
            encoded
        } else {
            body.to_vec()
        };
        // The server may answer (and close) before reading everything; a failed write is fine.
        let writer = tokio::spawn(async move { write.write_all(&body).await.is_ok() });
        let mut response = Vec::new();
        read.read_to_end(&mut response).await.unwrap();
        writer.abort();
        response
    };
    let response = tokio::time::timeout(WAIT, exchange).await.expect("a response in time");
    let text = String::from_utf8(response).unwrap();
    let status = text[9..12].parse().unwrap();
    let (head, body) = text.split_once("\r\n\r\n").unwrap();
    assert!(head.to_ascii_lowercase().contains("content-type: application/json"), "{head}");
    (status, serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {body:?}")))
}

fn sign(secret: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(body);
    hex::encode(mac.finalize().into_bytes())
}

fn github_push(git_ref: &str, clone_url: &str, after: &str) -> Vec<u8> {
    serde_json::to_vec(&json!({
        "ref": git_ref,
        "before": "0000000000000000000000000000000000000000",
        "after": after,
        "repository": {"clone_url": clone_url, "html_url": clone_url.trim_end_matches(".git")},
        "commits": [],
    }))
    .unwrap()
}

async fn github(addr: SocketAddr, event: &str, body: &[u8], secret: &str) -> (u16, Value) {
    let headers = [
        ("X-GitHub-Event", event.to_string()),
        ("X-Hub-Signature-256", format!("sha256={}", sign(secret, body))),
        ("Content-Type", "application/json".to_string()),
    ];
    request(addr, "POST", "/webhooks/github", &headers, body).await
}

fn trigger(origin: &'static str, commit: &str) -> RepoTrigger {
    RepoTrigger {
        repo: REPO.into(),
        branch: "main".into(),
        commit: Some(commit.into()),
        origin: TriggerOrigin::Webhook(origin),
    }
}

const C1: &str = "1111111111111111111111111111111111111111";
const C2: &str = "2222222222222222222222222222222222222222";

#[tokio::test]
async fn githubs_documented_signature_verifies_and_refusals_answer_as_documented() {
    let mut s = serve(all_secrets()).await;
    let documented = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";
    let ping = |sig: &str| {
        [("X-GitHub-Event", "ping".to_string()), ("X-Hub-Signature-256", sig.to_string())]
    };

    // GitHub's example: secret "It's a Secret to Everybody", payload "Hello, World!".
    let got =
        request(s.addr, "POST", "/webhooks/github", &ping(documented), b"Hello, World!").await;
    assert_eq!(got, (200, json!({"status": "pong"})));
    // step: tampered body
    let got =
        request(s.addr, "POST", "/webhooks/github", &ping(documented), b"Hello, World?").await;
    assert_eq!(got, (401, json!({"error": "github webhook: X-Hub-Signature-256 does not match"})));
    // step: wrong secret
    let push = github_push("refs/heads/main", REPO, C1);
    let got = github(s.addr, "push", &push, "another secret").await;
    assert_eq!(got, (401, json!({"error": "github webhook: X-Hub-Signature-256 does not match"})));
    // step: missing and malformed headers
    let headers = [("X-GitHub-Event", "push".to_string())];
    let got = request(s.addr, "POST", "/webhooks/github", &headers, &push).await;
    assert_eq!(got, (401, json!({"error": "github webhook: missing X-Hub-Signature-256 header"})));
    let got = request(s.addr, "POST", "/webhooks/github", &ping(&sign(SECRET, &push)), &push).await;
    assert_eq!(
        got,
        (401, json!({"error": "github webhook: malformed X-Hub-Signature-256 header"}))
    );
    // step: oversized, declared up front and streamed without a length
    let limit = webhooks::DEFAULT_MAX_BODY;
    let too_large = json!({"error": format!("github webhook: body exceeds {limit} bytes")});
    let declared = [("Content-Length", (limit + 1).to_string())];
    assert_eq!(
        request(s.addr, "POST", "/webhooks/github", &declared, b"").await,
        (413, too_large.clone())
    );
    let big = vec![b'x'; limit + 1];
    let sig = format!("sha256={}", sign(SECRET, &big));
    let headers = [
        ("X-GitHub-Event", "push".to_string()),
        ("X-Hub-Signature-256", sig),
        ("Transfer-Encoding", "chunked".into()),
    ];
    assert_eq!(request(s.addr, "POST", "/webhooks/github", &headers, &big).await, (413, too_large));
    // step: wrong branch, other repository, tag, other event: accepted and ignored
    let cases = [
        (
            github_push("refs/heads/dev", REPO, C1),
            "push",
            "branch dev is not followed (following main)",
        ),
        (
            github_push("refs/heads/main", "https://github.com/acme/other.git", C1),
            "push",
            "repository https://github.com/acme/other.git is not followed",
        ),
        (github_push("refs/tags/v1", REPO, C1), "push", "refs/tags/v1 is not a branch"),
        (b"{}".to_vec(), "issues", "issues events are not pushes"),
    ];
    for (body, event, reason) in cases {
        let got = github(s.addr, event, &body, SECRET).await;
        assert_eq!(got, (202, json!({"status": "ignored", "reason": reason})));
    }
    // step: verified but not a push payload; method other than POST
    let got = github(s.addr, "push", b"[1,2]", SECRET).await;
    assert_eq!(got.0, 400);
    assert!(
        got.1["error"].as_str().unwrap().starts_with("github webhook: invalid push payload: "),
        "{got:?}"
    );
    let got = request(s.addr, "GET", "/webhooks/github", &[], b"").await;
    assert_eq!(got, (405, json!({"error": "webhooks accept POST only"})));

    assert_eq!(s.triggers.try_recv(), None, "no refused or ignored request triggers anything");
    let count = |o| s.metrics.count(Provider::Github, o);
    let counts = [
        Outcome::Ping,
        Outcome::Unauthorized,
        Outcome::TooLarge,
        Outcome::Ignored,
        Outcome::BadRequest,
        Outcome::Accepted,
    ];
    assert_eq!(counts.map(count), [1, 4, 2, 4, 1, 0]);
}

#[tokio::test]
async fn a_valid_push_sends_exactly_one_trigger() {
    let mut s = serve(all_secrets()).await;
    // The payload names the repository by its ssh URL; the configured https form matches.
    let push = github_push("refs/heads/main", "git@github.com:Acme/config.git", C1);
    let got = github(s.addr, "push", &push, SECRET).await;
    assert_eq!(
        got,
        (202, json!({"status": "queued", "repo": REPO, "branch": "main", "commit": C1}))
    );
    let first = tokio::time::timeout(WAIT, s.triggers.recv()).await.unwrap();
    assert_eq!(first, Some(trigger("github", C1)));
    assert_eq!(s.triggers.try_recv(), None);
    assert_eq!(s.metrics.snapshot(), [(Provider::Github, Outcome::Accepted, 1)]);
}

#[tokio::test]
async fn pushes_for_one_repo_coalesce_latest_commit_wins() {
    let mut s = serve(all_secrets()).await;
    for commit in [C1, C2] {
        let got =
            github(s.addr, "push", &github_push("refs/heads/main", REPO, commit), SECRET).await;
        assert_eq!(got.0, 202);
    }
    assert_eq!(s.triggers.pending(), 1);
    assert_eq!(s.triggers.try_recv(), Some(trigger("github", C2)));
    assert_eq!(s.triggers.try_recv(), None);
}

#[tokio::test]
async fn gitlab_gitea_and_generic_pushes() {
    let mut s = serve(all_secrets()).await;

    // GitLab: the secret itself, in X-Gitlab-Token.
    let body = serde_json::to_vec(&json!({
        "object_kind": "push", "ref": "refs/heads/main", "after": C1,
        "project": {"git_http_url": "https://GitHub.com/acme/config.git", "git_ssh_url": "git@github.com:acme/config.git"},
    }))
    .unwrap();
    let gitlab = |token: &str| {
        [("X-Gitlab-Event", "Push Hook".to_string()), ("X-Gitlab-Token", token.to_string())]
    };
    let got = request(s.addr, "POST", "/webhooks/gitlab", &gitlab("wrong"), &body).await;
    assert_eq!(got, (401, json!({"error": "gitlab webhook: X-Gitlab-Token does not match"})));
    let got = request(s.addr, "POST", "/webhooks/gitlab", &gitlab(SECRET), &body).await;
    assert_eq!(got.0, 202);
    assert_eq!(s.triggers.try_recv(), Some(trigger("gitlab", C1)));

    // Gitea: bare hex HMAC in X-Gitea-Signature.
    let body = github_push("refs/heads/main", "https://github.com/acme/config", C2);
    let headers =
        [("X-Gitea-Event", "push".to_string()), ("X-Gitea-Signature", sign(SECRET, &body))];
    assert_eq!(request(s.addr, "POST", "/webhooks/gitea", &headers, &body).await.0, 202);
    assert_eq!(s.triggers.try_recv(), Some(trigger("gitea", C2)));

    // Generic: {"repo", "branch", "commit"} signed like GitHub, in X-Cetus-Signature.
    let body =
        serde_json::to_vec(&json!({"repo": "ssh://git@github.com/acme/config", "branch": "main"}))
            .unwrap();
    let headers = [("X-Cetus-Signature", format!("sha256={}", sign(SECRET, &body)))];
    assert_eq!(request(s.addr, "POST", "/webhooks/generic", &headers, &body).await.0, 202);
    let got = s.triggers.try_recv().unwrap();
    assert_eq!((got.commit, got.origin), (None, TriggerOrigin::Webhook("generic")));
    assert_eq!(s.triggers.try_recv(), None);
}

#[tokio::test]
async fn a_provider_without_secret_is_refused_and_shutdown_answers_503() {
    let secrets = WebhookSecrets { github: Some(Secret::new(SECRET)), ..WebhookSecrets::default() };
    let s = serve(secrets).await;
    let body = br#"{"repo":"x","branch":"main"}"#;
    let headers = [("X-Cetus-Signature", format!("sha256={}", sign(SECRET, body)))];
    let got = request(s.addr, "POST", "/webhooks/generic", &headers, body).await;
    assert_eq!(
        got,
        (
            403,
            json!({"error": "generic webhook: no secret configured; unverifiable webhooks are refused"})
        )
    );
    assert_eq!(s.metrics.count(Provider::Generic, Outcome::Forbidden), 1);

    // The daemon stopped consuming triggers: a valid push cannot be queued.
    let Server { addr, triggers, metrics, _task } = s;
    drop(triggers);
    let got = github(addr, "push", &github_push("refs/heads/main", REPO, C1), SECRET).await;
    assert_eq!(
        got,
        (503, json!({"error": "github webhook: not accepting triggers (shutting down)"}))
    );
    assert_eq!(metrics.count(Provider::Github, Outcome::Unavailable), 1);
}

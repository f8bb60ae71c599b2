//! The TLS mode and the bearer-token check: kube-rs over https trusting the generated CA, the
//! serving certificate's names, 401 `Unauthorized` without or with a wrong token (the
//! controls stay open), token rotation through the controls, the drop-connection fault under
//! TLS, and the plain mode left as it was.

use crate::common::{client_for, sandbox, unique};
use cetus_sandbox::{RequestMatch, Sandbox, SandboxHandle, SandboxOptions};
use k8s_openapi::api::core::v1::{ConfigMap, Namespace};
use kube::api::{Api, ListParams, PostParams};
use serde_json::{Value, json};
use std::sync::{Arc, OnceLock};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_rustls::TlsConnector;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, ServerName};
use tokio_rustls::rustls::{ClientConfig, RootCertStore, crypto::ring};

const TOKEN: &str = "tls-test-token";

/// A TLS sandbox checking [`TOKEN`], shared by the tests that do not change its tokens.
fn secure() -> &'static SandboxHandle {
    static SANDBOX: OnceLock<SandboxHandle> = OnceLock::new();
    SANDBOX.get_or_init(|| {
        let options =
            SandboxOptions { tls: true, token: Some(TOKEN.into()), ..SandboxOptions::default() };
        Sandbox::spawn(options).expect("the TLS sandbox starts")
    })
}

fn connector(ca_pem: &str) -> TlsConnector {
    let mut roots = RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(ca_pem.as_bytes()) {
        roots.add(cert.unwrap()).unwrap();
    }
    let config = ClientConfig::builder_with_provider(Arc::new(ring::default_provider()))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    TlsConnector::from(Arc::new(config))
}

/// One request over https, presenting `name` in the handshake; the status code and body.
async fn https_named(
    handle: &SandboxHandle,
    name: &str,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: &str,
) -> std::io::Result<(u16, String)> {
    let tcp = tokio::net::TcpStream::connect(handle.address()).await?;
    let server_name = ServerName::try_from(name.to_string()).unwrap();
    let mut tls = connector(handle.ca_pem().unwrap()).connect(server_name, tcp).await?;
    let auth = token.map_or(String::new(), |t| format!("Authorization: Bearer {t}\r\n"));
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {name}\r\nConnection: close\r\n{auth}Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    tls.write_all(request.as_bytes()).await?;
    let mut answer = Vec::new();
    match tls.read_to_end(&mut answer).await {
        Ok(_) => {}
        // A close without close_notify after a whole answer is still an answer.
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof && !answer.is_empty() => {}
        Err(e) => return Err(e),
    }
    let text = String::from_utf8_lossy(&answer).into_owned();
    let code = text[9..12].parse().unwrap();
    let body = text.split_once("\r\n\r\n").map(|(_, b)| b.to_string()).unwrap_or_default();
    Ok((code, body))
}

async fn https(
    handle: &SandboxHandle,
    method: &str,
    path: &str,
    token: Option<&str>,
) -> (u16, String) {
    https_named(handle, "127.0.0.1", method, path, token, "").await.unwrap()
}

fn unauthorized() -> Value {
    json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
           "message": "Unauthorized", "reason": "Unauthorized", "code": 401})
}

#[tokio::test]
async fn kube_rs_works_over_https_with_the_ca_and_the_token_of_the_kubeconfig() {
    let handle = secure();
    assert!(handle.url().starts_with("https://127.0.0.1:"), "{}", handle.url());
    let client = client_for(handle).await;
    let namespaces: Api<Namespace> = Api::all(client.clone());
    let names: Vec<String> = namespaces
        .list(&ListParams::default())
        .await
        .unwrap()
        .items
        .into_iter()
        .filter_map(|n| n.metadata.name)
        .collect();
    assert!(names.contains(&"kube-system".to_string()), "{names:?}");
    let ns = unique("tls");
    let namespace = serde_json::from_value(json!({"metadata": {"name": ns}})).unwrap();
    namespaces.create(&PostParams::default(), &namespace).await.unwrap();
    let maps: Api<ConfigMap> = Api::namespaced(client, &ns);
    let map =
        serde_json::from_value(json!({"metadata": {"name": "c"}, "data": {"k": "v"}})).unwrap();
    maps.create(&PostParams::default(), &map).await.unwrap();
    assert_eq!(maps.get("c").await.unwrap().data.unwrap()["k"], "v");
    assert!(handle.token_uses(TOKEN) >= 4);
}

#[tokio::test]
async fn a_client_trusting_another_ca_refuses_the_server() {
    let other =
        Sandbox::start(SandboxOptions { tls: true, ..SandboxOptions::default() }).await.unwrap();
    let text = secure()
        .kubeconfig()
        .replace(&base64_of(secure().ca_pem().unwrap()), &base64_of(other.ca_pem().unwrap()));
    let kubeconfig = kube::config::Kubeconfig::from_yaml(&text).unwrap();
    let config =
        kube::Config::from_custom_kubeconfig(kubeconfig, &Default::default()).await.unwrap();
    let client = kube::Client::try_from(config).unwrap();
    let err = Api::<Namespace>::all(client).list(&ListParams::default()).await.unwrap_err();
    assert!(format!("{err:?}").contains("InvalidCertificate(UnknownIssuer)"), "{err:?}");
    other.shutdown().await.unwrap();
}

fn base64_of(text: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(text)
}

#[tokio::test]
async fn the_certificate_names_loopback_and_the_in_cluster_service() {
    let handle = secure();
    for name in ["127.0.0.1", "localhost", "kubernetes.default.svc"] {
        let (code, _) =
            https_named(handle, name, "GET", "/version", Some(TOKEN), "").await.unwrap();
        assert_eq!(code, 200, "{name}");
    }
    let err = https_named(handle, "example.com", "GET", "/version", Some(TOKEN), "").await;
    let err = err.unwrap_err();
    assert!(err.to_string().contains(r#"certificate not valid for name "example.com""#), "{err}");
}

#[tokio::test]
async fn requests_without_or_with_a_wrong_token_get_401_and_the_controls_stay_open() {
    let handle = secure();
    let before = handle.unauthorized_count();
    for token in [None, Some("wrong"), Some("")] {
        for path in ["/api/v1/namespaces", "/version", "/apis/apps/v1", "/openapi/v3"] {
            let (code, body) = https(handle, "GET", path, token).await;
            assert_eq!(code, 401, "{path} with {token:?}: {body}");
            assert_eq!(serde_json::from_str::<Value>(&body).unwrap(), unauthorized());
        }
    }
    assert_eq!(handle.unauthorized_count() - before, 12);
    let (code, body) = https(handle, "GET", "/api/v1/namespaces/default", Some(TOKEN)).await;
    assert_eq!(code, 200, "{body}");
    let (code, body) = https(handle, "GET", "/sandbox/requests", None).await;
    assert_eq!(code, 200, "{body}");
    let (code, body) = https(handle, "GET", "/sandbox/tokens", None).await;
    assert_eq!(code, 200, "{body}");
    assert_eq!(serde_json::from_str::<Value>(&body).unwrap()["tokens"], json!([TOKEN]));
}

#[tokio::test]
async fn tokens_rotate_through_the_controls() {
    let options =
        SandboxOptions { tls: true, token: Some("old".into()), ..SandboxOptions::default() };
    let handle = Sandbox::start(options).await.unwrap();
    let put = |body: &'static str| {
        let handle = &handle;
        async move {
            https_named(handle, "localhost", "PUT", "/sandbox/tokens", None, body).await.unwrap()
        }
    };
    assert_eq!(put(r#"{"tokens": ["old", "new"]}"#).await.0, 204);
    assert_eq!(https(&handle, "GET", "/version", Some("old")).await.0, 200);
    assert_eq!(https(&handle, "GET", "/version", Some("new")).await.0, 200);
    handle.set_tokens(&["new"]);
    assert_eq!(https(&handle, "GET", "/version", Some("old")).await.0, 401);
    assert_eq!(https(&handle, "GET", "/version", Some("new")).await.0, 200);
    assert_eq!((handle.token_uses("old"), handle.token_uses("new")), (1, 2));
    assert!(handle.kubeconfig().contains("token: \"new\""), "{}", handle.kubeconfig());
    let (code, body) = put(r#"{"tokens": [" padded"]}"#).await;
    assert_eq!(
        (code, body.as_str()),
        (400, r#"{"error":"tokens: a token must not be empty nor start or end with white space"}"#)
    );
    let (code, body) = put(r#"{"tokens": "new"}"#).await;
    assert_eq!(code, 400, "{body}");
    assert!(body.starts_with(r#"{"error":"tokens: invalid type: string"#), "{body}");
    // No tokens: the check is off.
    handle.set_tokens(&[]);
    assert_eq!(https(&handle, "GET", "/version", None).await.0, 200);
    handle.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_dropped_connection_under_tls_answers_nothing() {
    let handle = secure();
    let client = client_for(handle).await;
    let ns = unique("tlsdrop");
    let namespaces: Api<Namespace> = Api::all(client.clone());
    let namespace = serde_json::from_value(json!({"metadata": {"name": ns}})).unwrap();
    namespaces.create(&PostParams::default(), &namespace).await.unwrap();
    handle.drop_connections(RequestMatch::any().verb("list").namespace(&ns), 1);
    let maps: Api<ConfigMap> = Api::namespaced(client, &ns);
    let err = maps.list(&ListParams::default()).await.unwrap_err();
    assert!(!matches!(err, kube::Error::Api(_)), "{err:?}");
    // Not hyper's `IncompleteMessage` as over plain HTTP: TLS notices the close first.
    assert!(
        format!("{err:?}").contains("peer closed connection without sending TLS close_notify"),
        "{err:?}"
    );
    assert_eq!(maps.list(&ListParams::default()).await.unwrap().items.len(), 0);
}

#[tokio::test]
async fn the_plain_mode_is_unchanged() {
    let handle = sandbox();
    assert!(handle.url().starts_with("http://127.0.0.1:"), "{}", handle.url());
    assert_eq!(handle.ca_pem(), None);
    assert!(handle.tokens().is_empty());
    let kubeconfig: Value = serde_saphyr::from_str(&handle.kubeconfig()).unwrap();
    assert_eq!(kubeconfig["clusters"][0]["cluster"], json!({"server": handle.url()}));
    assert_eq!(kubeconfig["users"][0]["user"], json!({}));
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("kubeconfig");
    handle.write_kubeconfig(&path).unwrap();
    assert!(!cetus_sandbox::ca_path(&path).exists());
}

#[tokio::test]
async fn the_kubeconfig_and_the_ca_are_written_side_by_side() {
    let handle = secure();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sandbox.kubeconfig");
    handle.write_kubeconfig(&path).unwrap();
    let ca = dir.path().join("sandbox.kubeconfig.ca.crt");
    assert_eq!(std::fs::read_to_string(&ca).unwrap(), handle.ca_pem().unwrap());
    let kubeconfig: Value =
        serde_saphyr::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let cluster = &kubeconfig["clusters"][0]["cluster"];
    assert_eq!(cluster["server"], handle.url());
    assert_eq!(cluster["certificate-authority-data"], base64_of(handle.ca_pem().unwrap()));
    assert_eq!(kubeconfig["users"][0]["user"], json!({"token": TOKEN}));
}

//! The kubeconfig that points kubectl and kube-rs at a sandbox: one cluster on loopback,
//! over plain HTTP with no credentials, or in TLS mode over https with the sandbox's CA
//! (`certificate-authority-data`) and, when it checks tokens, a bearer token; namespace
//! `default`.

use base64::Engine;

/// A kubeconfig for a server at `url` (`http://127.0.0.1:PORT`).
pub fn render(url: &str) -> String {
    render_with(url, None, None)
}

/// A kubeconfig for a server at `url` trusting the PEM CA `ca` and sending `token`.
pub fn render_with(url: &str, ca: Option<&str>, token: Option<&str>) -> String {
    let ca = ca.map_or(String::new(), |pem| {
        let data = base64::engine::general_purpose::STANDARD.encode(pem);
        format!("\n    certificate-authority-data: {data}")
    });
    // A JSON string is a YAML scalar: any token is quoted safely.
    let user = token.map_or("{}".to_string(), |t| format!("\n    token: {}", serde_json::json!(t)));
    format!(
        "apiVersion: v1
kind: Config
clusters:
- name: sandbox
  cluster:
    server: {url}{ca}
contexts:
- name: sandbox
  context:
    cluster: sandbox
    user: sandbox
    namespace: default
current-context: sandbox
users:
- name: sandbox
  user: {user}
preferences: {{}}
"
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn is_yaml_with_the_server() {
        let text = super::render("http://127.0.0.1:1234");
        let v: serde_json::Value = serde_saphyr::from_str(&text).unwrap();
        assert_eq!(v["clusters"][0]["cluster"]["server"], "http://127.0.0.1:1234");
        assert_eq!(v["current-context"], "sandbox");
        assert_eq!(v["users"][0]["user"], serde_json::json!({}));
    }

    #[test]
    fn carries_the_ca_and_the_token() {
        let pem = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
        let text = super::render_with("https://127.0.0.1:1234", Some(pem), Some("t: \"x\""));
        let v: serde_json::Value = serde_saphyr::from_str(&text).unwrap();
        let cluster = &v["clusters"][0]["cluster"];
        assert_eq!(cluster["server"], "https://127.0.0.1:1234");
        assert_eq!(
            cluster["certificate-authority-data"],
            "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCkFBQUEKLS0tLS1FTkQgQ0VSVElGSUNBVEUtLS0tLQo="
        );
        assert_eq!(v["users"][0]["user"], serde_json::json!({"token": "t: \"x\""}));
    }
}

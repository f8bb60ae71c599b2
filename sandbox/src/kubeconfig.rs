//! The kubeconfig that points kubectl and kube-rs at a sandbox: one cluster over plain
//! HTTP on loopback, no credentials, namespace `default`.

/// A kubeconfig for a server at `url` (`http://127.0.0.1:PORT`).
pub fn render(url: &str) -> String {
    format!(
        "apiVersion: v1
kind: Config
clusters:
- name: sandbox
  cluster:
    server: {url}
contexts:
- name: sandbox
  context:
    cluster: sandbox
    user: sandbox
    namespace: default
current-context: sandbox
users:
- name: sandbox
  user: {{}}
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
    }
}

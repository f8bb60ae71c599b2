//! The generated config repo's files: `apps/bNNN/cetus.yaml` and raw manifests, ten objects
//! per app (a Namespace, a Deployment and its Service from one service with a port, a
//! ServiceAccount, five ConfigMaps and a Secret). Pure text; the repo itself is made with
//! the git CLI by the test support.

/// Objects per app.
pub const OBJECTS: usize = 10;
const CONFIGMAPS: usize = 5;

/// App `i`'s name, which is also its namespace.
pub fn name(i: usize) -> String {
    format!("b{i:03}")
}

/// App `i`'s cetus.yaml path.
pub fn cetus_yaml_path(i: usize) -> String {
    format!("apps/{}/cetus.yaml", name(i))
}

/// App `i`'s cetus.yaml with its image at `tag`.
pub fn cetus_yaml(i: usize, tag: u32) -> String {
    let name = name(i);
    format!(
        "name: {name}\n\
         images:\n  web: {{ repository: registry.example.com/{name}/web, tag: \"{tag}\" }}\n\
         services:\n  web:\n    image: web\n    replicas: 2\n    ports: [ {{ port: 80, targetPort: 8080 }} ]\n    \
         resources: {{ requests: {{ cpu: 100m, memory: 128Mi }} }}\n\
         manifests: [ extra/ ]\n\
         profiles:\n  staging: {{}}\n"
    )
}

/// The image app `i` runs at `tag`, as the Deployment carries it.
pub fn image(i: usize, tag: u32) -> String {
    format!("registry.example.com/{}/web:{tag}", name(i))
}

/// Every file of apps `0..apps`, each at tag 1.
pub fn files(apps: usize) -> Vec<(String, String)> {
    let mut files = Vec::new();
    for i in 0..apps {
        let dir = format!("apps/{}", name(i));
        files.push((cetus_yaml_path(i), cetus_yaml(i, 1)));
        files.push((
            format!("{dir}/extra/serviceaccount.yaml"),
            manifest("ServiceAccount", "runner", ""),
        ));
        for c in 0..CONFIGMAPS {
            let data = format!("data: {{ mode: strict, index: \"{c}\" }}\n");
            files.push((
                format!("{dir}/extra/config-{c}.yaml"),
                manifest("ConfigMap", &format!("config-{c}"), &data),
            ));
        }
        let secret = "type: Opaque\nstringData: { token: not-a-real-token }\n";
        files.push((format!("{dir}/extra/secret.yaml"), manifest("Secret", "credentials", secret)));
    }
    files
}

fn manifest(kind: &str, name: &str, body: &str) -> String {
    format!("apiVersion: v1\nkind: {kind}\nmetadata: {{ name: {name} }}\n{body}")
}

//! The rules a cetus.yaml must follow beyond its types: names Kubernetes accepts, references
//! that resolve (images, services, ports), and exactly-one-of choices.
//!
//! [`validate`] collects every broken rule rather than stopping at the first, so a user fixes
//! a file in one pass. It only reads the spec; generating objects belongs to `render`.

use super::{Diagnostic, Origins, PortRef, Probe, Service, Spec};
use crate::pointer::escape as esc;
use std::collections::BTreeSet;

/// Collects what reports problems, located through the document's origins.
struct Checker<'a> {
    file: &'a str,
    origins: &'a Origins,
    found: Vec<Diagnostic>,
}

impl Checker<'_> {
    fn fail(&mut self, pointer: &str, message: impl Into<String>) {
        self.found.push(Diagnostic::at(self.file, self.origins, pointer, message));
    }

    fn label(&mut self, pointer: &str, name: &str, what: &str, max: usize) {
        if !is_dns_label(name, max) {
            self.fail(
                pointer,
                format!(
                    "`{name}` is not a valid {what}: use at most {max} lowercase letters, digits \
                     and '-', starting and ending with a letter or digit (RFC 1123)"
                ),
            );
        }
    }
}

/// Whether `name` is a DNS-1123 label of at most `max` characters.
pub fn is_dns_label(name: &str, max: usize) -> bool {
    let b = name.as_bytes();
    !b.is_empty()
        && b.len() <= max
        && b.iter().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-')
        && b[0] != b'-'
        && b[b.len() - 1] != b'-'
}

/// Whether `name` is a DNS-1123 subdomain (dot-separated labels, 253 characters at most).
pub fn is_dns_subdomain(name: &str) -> bool {
    name.len() <= 253 && name.split('.').all(|l| is_dns_label(l, 63))
}

/// Longest job or test name: the `-<hash>` suffix (7 characters) must still fit in 63.
pub const MAX_JOB_NAME: usize = 56;

/// Checks `spec`, read from `file`, and returns every broken rule.
pub fn validate(spec: &Spec, file: &str, origins: &Origins) -> Vec<Diagnostic> {
    let mut c = Checker { file, origins, found: Vec::new() };
    c.label("/name", &spec.name, "app name", 63);
    if let Some(group) = &spec.group {
        c.label("/group", group, "group name", 63);
        let namespace = format!("{group}--{}", spec.name);
        if group.len() + spec.name.len() + 2 > 63 {
            c.fail("/group", format!("the default namespace `{namespace}` is longer than 63 characters; set profiles.<p>.namespace"));
        }
    }
    for (name, profile) in &spec.profiles {
        if let Some(ns) = &profile.namespace {
            c.label(&format!("/profiles/{}/namespace", esc(name)), ns, "namespace", 63);
        }
    }
    vars(&mut c, spec);
    images(&mut c, spec);
    for (name, service) in &spec.services {
        self::service(&mut c, spec, name, service);
    }
    jobs_and_tests(&mut c, spec);
    ingress(&mut c, spec);
    dependencies(&mut c, spec);
    c.found
}

fn vars(c: &mut Checker, spec: &Spec) {
    for (name, var) in &spec.vars {
        let at = format!("/vars/{}", esc(name));
        let sources = [var.env.is_some(), var.file.is_some(), var.stdin.is_some()];
        if sources.iter().filter(|s| **s).count() > 1 {
            c.fail(&at, "a var takes its value from one of `env`, `file` or `stdin`, not several");
        }
        if var.stdin == Some(false) {
            c.fail(&format!("{at}/stdin"), "`stdin: false` means nothing; remove it");
        }
        if matches!(var.default, Some(serde_json::Value::Array(_) | serde_json::Value::Object(_))) {
            c.fail(
                &format!("{at}/default"),
                "a var's default must be a scalar (text, number or boolean)",
            );
        }
        if !sources.iter().any(|s| *s) && var.default.is_none() {
            c.fail(&at, "a var needs a `default`, `env`, `file` or `stdin`");
        }
    }
}

fn images(c: &mut Checker, spec: &Spec) {
    for (name, image) in &spec.images {
        let at = format!("/images/{}", esc(name));
        if image.repository.is_empty() || image.repository.contains([' ', '@']) {
            c.fail(
                &format!("{at}/repository"),
                format!("`{}` is not an image repository", image.repository),
            );
        }
        if let Some(tag) = &image.tag {
            let ok = !tag.is_empty()
                && tag.len() <= 128
                && !tag.starts_with(['.', '-'])
                && tag.chars().all(|ch| ch.is_ascii_alphanumeric() || "_.-".contains(ch));
            if !ok {
                c.fail(&format!("{at}/tag"), format!("`{tag}` is not a valid image tag: up to 128 letters, digits, '_', '.' and '-', not starting with '.' or '-'"));
            }
        }
        if let Some(digest) = &image.digest {
            let ok = digest.split_once(':').is_some_and(|(algo, hex)| {
                !algo.is_empty() && hex.len() >= 32 && hex.chars().all(|ch| ch.is_ascii_hexdigit())
            });
            if !ok {
                c.fail(
                    &format!("{at}/digest"),
                    format!("`{digest}` is not an image digest (e.g. sha256:<64 hex digits>)"),
                );
            }
        }
        if image.tag.is_none() && image.digest.is_none() {
            c.fail(&at, "an image needs a `tag` or a `digest`");
        }
    }
}

/// Checks that `image` (at `pointer`) names a key of `images` or is a full reference.
fn image_ref(c: &mut Checker, spec: &Spec, pointer: &str, image: &str) {
    if spec.images.contains_key(image) || image.contains(['/', ':', '@']) {
        return;
    }
    let keys: Vec<&str> = spec.images.keys().map(String::as_str).collect();
    let hint = match keys.as_slice() {
        [] => String::new(),
        keys => format!(" (images: {})", keys.join(", ")),
    };
    c.fail(pointer, format!("`{image}` is not a key of `images`{hint} nor a full image reference (a full reference has a tag, e.g. `{image}:1.0`)"));
}

fn service(c: &mut Checker, spec: &Spec, name: &str, service: &Service) {
    let at = format!("/services/{}", esc(name));
    // A Service object's name must be a DNS-1035 label: it must start with a letter.
    if !is_dns_label(name, 63) || !name.starts_with(|ch: char| ch.is_ascii_lowercase()) {
        c.fail(&at, format!("`{name}` is not a valid service name: use at most 63 lowercase letters, digits and '-', starting with a letter and ending with a letter or digit (RFC 1035)"));
    }
    image_ref(c, spec, &format!("{at}/image"), &service.image);
    if service.replicas.is_some_and(|r| r < 0) {
        c.fail(&format!("{at}/replicas"), "replicas must be 0 or more");
    }
    ports(c, &at, service);
    if service.ports.is_empty() && service.expose != super::Expose::ClusterIP {
        c.fail(&format!("{at}/expose"), "only a service with ports can be exposed");
    }
    env_names(c, &format!("{at}/env"), service.env.keys());
    for (i, from) in service.env_from.iter().enumerate() {
        env_from(c, &format!("{at}/envFrom/{i}"), from);
    }
    if let Some(resources) = &service.resources {
        self::resources(c, &format!("{at}/resources"), resources);
    }
    for (kind, probe) in [
        ("readiness", &service.probes.readiness),
        ("liveness", &service.probes.liveness),
        ("startup", &service.probes.startup),
    ] {
        if let Some(probe) = probe {
            self::probe(c, &format!("{at}/probes/{kind}"), service, probe);
        }
    }
    annotations(c, &format!("{at}/annotations"), &service.annotations);
}

fn ports(c: &mut Checker, at: &str, service: &Service) {
    let mut seen = BTreeSet::new();
    let mut names = BTreeSet::new();
    for (i, port) in service.ports.iter().enumerate() {
        let p = format!("{at}/ports/{i}");
        for (field, value) in [
            ("port", Some(port.port)),
            ("targetPort", port.target_port),
            ("nodePort", port.node_port),
        ] {
            if value.is_some_and(|v| !(1..=65535).contains(&v)) {
                c.fail(
                    &format!("{p}/{field}"),
                    format!("{} is not a port number (1-65535)", value.unwrap_or_default()),
                );
            }
        }
        if !seen.insert((port.port, port.protocol)) {
            c.fail(
                &format!("{p}/port"),
                format!("port {}/{} is listed twice", port.port, port.protocol.as_str()),
            );
        }
        match &port.name {
            Some(name) if !is_port_name(name) => c.fail(&format!("{p}/name"), format!("`{name}` is not a valid port name: at most 15 lowercase letters, digits and '-', with at least one letter, not starting or ending with '-'")),
            Some(name) if !names.insert(name.clone()) => c.fail(&format!("{p}/name"), format!("port name `{name}` is used twice")),
            None if service.ports.len() > 1 => c.fail(&p, "every port needs a `name` when a service has several"),
            _ => {}
        }
        if port.node_port.is_some() && service.expose == super::Expose::ClusterIP {
            c.fail(
                &format!("{p}/nodePort"),
                "a nodePort needs `expose: NodePort` or `LoadBalancer`",
            );
        }
    }
}

/// IANA service names, as Kubernetes checks port names.
fn is_port_name(name: &str) -> bool {
    is_dns_label(name, 15) && !name.contains("--") && name.chars().any(|ch| ch.is_ascii_lowercase())
}

fn env_names<'a>(c: &mut Checker, at: &str, names: impl Iterator<Item = &'a String>) {
    for name in names {
        if name.is_empty() || name.contains('=') || name.chars().any(char::is_control) {
            c.fail(
                &format!("{at}/{}", esc(name)),
                format!("`{name}` is not a valid environment variable name"),
            );
        }
    }
}

fn env_from(c: &mut Checker, at: &str, from: &super::EnvFrom) {
    match (&from.secret, &from.config_map) {
        (Some(name), None) | (None, Some(name)) if is_dns_subdomain(name) => {}
        (Some(name), None) | (None, Some(name)) => {
            c.fail(at, format!("`{name}` is not a valid object name"))
        }
        _ => c.fail(at, "envFrom takes exactly one of `secret` or `configMap`"),
    }
}

fn resources(c: &mut Checker, at: &str, resources: &super::Resources) {
    for (section, map) in [("requests", &resources.requests), ("limits", &resources.limits)] {
        for (name, quantity) in map {
            if !is_quantity(quantity) {
                c.fail(
                    &format!("{at}/{section}/{}", esc(name)),
                    format!("`{quantity}` is not a quantity (e.g. 100m, 0.5, 128Mi, 1G)"),
                );
            }
        }
    }
}

/// A Kubernetes resource quantity: a decimal number and an optional suffix.
pub fn is_quantity(q: &str) -> bool {
    const SUFFIXES: [&str; 13] =
        ["", "n", "u", "m", "k", "M", "G", "T", "P", "E", "Ki", "Mi", "Gi"];
    const MORE: [&str; 3] = ["Ti", "Pi", "Ei"];
    let number_end = q
        .find(|ch: char| !(ch.is_ascii_digit() || ch == '.' || ch == '+' || ch == '-'))
        .unwrap_or(q.len());
    let (number, suffix) = q.split_at(number_end);
    let number_ok = number.trim_start_matches(['+', '-']).parse::<f64>().is_ok();
    let exponent = suffix
        .strip_prefix(['e', 'E'])
        .is_some_and(|e| e.trim_start_matches(['+', '-']).parse::<u32>().is_ok());
    number_ok && (SUFFIXES.contains(&suffix) || MORE.contains(&suffix) || exponent)
}

fn probe(c: &mut Checker, at: &str, service: &Service, probe: &Probe) {
    let kinds = [probe.http.is_some(), probe.tcp == Some(true), probe.exec.is_some()];
    if kinds.iter().filter(|k| **k).count() != 1 {
        c.fail(
            at,
            "a probe takes exactly one of `http` (a path), `tcp: true` or `exec` (a command)",
        );
    }
    if probe.http.as_deref().is_some_and(|path| !path.starts_with('/')) {
        c.fail(&format!("{at}/http"), "an http probe path starts with '/'");
    }
    let needs_port = probe.http.is_some() || probe.tcp == Some(true);
    match &probe.port {
        Some(PortRef::Name(name))
            if !service.ports.iter().any(|p| p.name.as_deref() == Some(name)) =>
        {
            c.fail(&format!("{at}/port"), format!("the service has no port named `{name}`"));
        }
        Some(PortRef::Number(n)) if !(1..=65535).contains(n) => {
            c.fail(&format!("{at}/port"), format!("{n} is not a port number (1-65535)"));
        }
        None if needs_port && service.ports.is_empty() => {
            c.fail(at, "the probe needs a `port`: the service has no ports to default to");
        }
        _ => {}
    }
}

fn annotations(
    c: &mut Checker,
    at: &str,
    annotations: &std::collections::BTreeMap<String, String>,
) {
    for (key, value) in annotations {
        let p = format!("{at}/{}", esc(key));
        match key.as_str() {
            "cetus.dev/sync-wave" if value.trim().parse::<i64>().is_err() => {
                c.fail(&p, format!("`{value}` is not an integer"));
            }
            "cetus.dev/prune" if value != "disabled" => {
                c.fail(&p, format!("`{value}` is not a prune setting: the only one is `disabled`"));
            }
            "cetus.dev/ignore-fields"
                if value
                    .split([',', ' '])
                    .filter(|s| !s.is_empty())
                    .any(|f| !f.starts_with('/')) =>
            {
                c.fail(
                    &p,
                    "ignore-fields takes JSON pointers (`/spec/replicas`), separated by commas",
                );
            }
            _ => {}
        }
    }
}

fn jobs_and_tests(c: &mut Checker, spec: &Spec) {
    for (name, job) in &spec.jobs {
        let at = format!("/jobs/{}", esc(name));
        c.label(&at, name, "job name", MAX_JOB_NAME);
        image_ref(c, spec, &format!("{at}/image"), &job.image);
        env_names(c, &format!("{at}/env"), job.env.keys());
        for (i, from) in job.env_from.iter().enumerate() {
            env_from(c, &format!("{at}/envFrom/{i}"), from);
        }
        if job.backoff_limit.is_some_and(|b| b < 0) {
            c.fail(&format!("{at}/backoffLimit"), "backoffLimit must be 0 or more");
        }
        duration(c, &format!("{at}/timeout"), job.timeout.as_deref());
        if let Some(resources) = &job.resources {
            self::resources(c, &format!("{at}/resources"), resources);
        }
    }
    let mut names = BTreeSet::new();
    for (i, test) in spec.test.iter().enumerate() {
        let at = format!("/test/{i}");
        c.label(&format!("{at}/name"), &test.name, "test name", MAX_JOB_NAME);
        if !names.insert(&test.name) {
            c.fail(&format!("{at}/name"), format!("test `{}` is defined twice", test.name));
        }
        image_ref(c, spec, &format!("{at}/image"), &test.image);
        env_names(c, &format!("{at}/env"), test.env.keys());
        duration(c, &format!("{at}/timeout"), test.timeout.as_deref());
    }
}

fn duration(c: &mut Checker, at: &str, value: Option<&str>) {
    if let Some(text) = value
        && parse_duration(text).is_none()
    {
        c.fail(at, format!("`{text}` is not a duration (e.g. 90s, 10m, 1h30m)"));
    }
}

/// Parses `1h30m`, `90s`, `10m` into seconds; `None` if malformed or zero.
pub fn parse_duration(text: &str) -> Option<u64> {
    let mut total = 0u64;
    let mut digits = String::new();
    for ch in text.chars() {
        if ch.is_ascii_digit() {
            digits.push(ch);
            continue;
        }
        let unit = match ch {
            'h' => 3600,
            'm' => 60,
            's' => 1,
            _ => return None,
        };
        total = total.checked_add(digits.parse::<u64>().ok()?.checked_mul(unit)?)?;
        digits.clear();
    }
    (digits.is_empty() && total > 0).then_some(total)
}

fn ingress(c: &mut Checker, spec: &Spec) {
    let mut hosts = BTreeSet::new();
    for (i, ingress) in spec.ingress.iter().enumerate() {
        let at = format!("/ingress/{i}");
        let host = ingress.host.strip_prefix("*.").unwrap_or(&ingress.host);
        if !is_dns_subdomain(host) {
            c.fail(&format!("{at}/host"), format!("`{}` is not a valid host name", ingress.host));
        }
        if !hosts.insert(&ingress.host) {
            c.fail(&format!("{at}/host"), format!("host `{}` is listed twice", ingress.host));
        }
        if ingress.paths.is_empty() {
            c.fail(&format!("{at}/paths"), "an ingress host needs at least one path");
        }
        for (j, path) in ingress.paths.iter().enumerate() {
            let p = format!("{at}/paths/{j}");
            if !path.path.starts_with('/') {
                c.fail(&format!("{p}/path"), "an ingress path starts with '/'");
            }
            let Some(service) = spec.services.get(&path.service) else {
                c.fail(&format!("{p}/service"), format!("no service named `{}`", path.service));
                continue;
            };
            let found = match &path.port {
                None => !service.ports.is_empty(),
                Some(PortRef::Number(n)) => service.ports.iter().any(|sp| sp.port == *n),
                Some(PortRef::Name(name)) => {
                    service.ports.iter().any(|sp| sp.name.as_deref() == Some(name))
                }
            };
            if !found {
                c.fail(
                    &format!("{p}/port"),
                    format!("service `{}` has no such port", path.service),
                );
            }
        }
        if let Some(tls) = &ingress.tls
            && !is_dns_subdomain(&tls.secret_name)
        {
            c.fail(
                &format!("{at}/tls/secretName"),
                format!("`{}` is not a valid Secret name", tls.secret_name),
            );
        }
    }
}

fn dependencies(c: &mut Checker, spec: &Spec) {
    for (name, dep) in &spec.dependencies {
        let at = format!("/dependencies/{}", esc(name));
        c.label(&at, name, "dependency name", 63);
        match (&dep.git, &dep.path, &dep.reference) {
            (None, Some(_), None) | (Some(_), _, Some(_)) => {}
            (None, None, _) => {
                c.fail(&at, "a dependency needs a `path`, or a `git` URL and a `ref`")
            }
            (None, Some(_), Some(_)) => c.fail(
                &format!("{at}/ref"),
                "`ref` goes with `git`; a path dependency is read at the app's own revision",
            ),
            (Some(_), _, None) => {
                c.fail(&at, "a git dependency needs a `ref` (a branch, tag or commit)")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_quantities() {
        assert!(is_dns_label("web-1", 63));
        assert!(!is_dns_label("Web", 63));
        assert!(!is_dns_label("-web", 63));
        assert!(!is_dns_label(&"a".repeat(64), 63));
        assert!(is_dns_subdomain("bookinfo.example.com"));
        assert!(is_port_name("http"));
        assert!(!is_port_name("8080"));
        for q in ["100m", "0.5", "128Mi", "1G", "2", "1e3"] {
            assert!(is_quantity(q), "{q}");
        }
        for q in ["", "lots", "1XB", "Mi"] {
            assert!(!is_quantity(q), "{q}");
        }
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("60s"), Some(60));
        assert_eq!(parse_duration("1h30m"), Some(5400));
        assert_eq!(parse_duration("5"), None);
        assert_eq!(parse_duration("0s"), None);
        assert_eq!(parse_duration("1d"), None);
    }
}

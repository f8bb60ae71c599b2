//! The daemon's kube client: built from a `kube::Config`, with a tower layer that counts every
//! request by Kubernetes verb and answer code for `cetus_kube_requests_total`.

use crate::api::metrics::Metrics;
use http::{Method, Request, Response};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use tower::{Layer, Service};

/// A client for `config` whose requests are counted in `metrics`.
pub fn counted_client(
    config: kube::Config,
    metrics: Arc<Metrics>,
) -> Result<kube::Client, kube::Error> {
    let builder = kube::client::ClientBuilder::try_from(config)?;
    Ok(builder.with_layer(&CountLayer { metrics }).build())
}

/// Counts requests (see the module doc).
#[derive(Clone)]
struct CountLayer {
    metrics: Arc<Metrics>,
}

impl<S> Layer<S> for CountLayer {
    type Service = Counted<S>;

    fn layer(&self, inner: S) -> Counted<S> {
        Counted { inner, metrics: self.metrics.clone() }
    }
}

#[derive(Clone)]
struct Counted<S> {
    inner: S,
    metrics: Arc<Metrics>,
}

impl<S, B, R> Service<Request<B>> for Counted<S>
where
    S: Service<Request<B>, Response = Response<R>>,
    S::Future: Send + 'static,
{
    type Response = Response<R>;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Response<R>, S::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        let verb = verb_of(request.method(), request.uri().path(), request.uri().query());
        let metrics = self.metrics.clone();
        let answer = self.inner.call(request);
        Box::pin(async move {
            let result = answer.await;
            let code = result.as_ref().map_or(0, |r| r.status().as_u16());
            metrics.kube_request(verb, code);
            result
        })
    }
}

/// The Kubernetes verb of a request, as the API server's audit log names it.
pub fn verb_of(method: &Method, path: &str, query: Option<&str>) -> &'static str {
    let watch = query.is_some_and(|q| q.split('&').any(|kv| kv == "watch=true" || kv == "watch=1"));
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    // After `/api/v1` or `/apis/{group}/{version}`: [namespaces, ns,] resource [, name [, sub]].
    let rest = match segments.first() {
        Some(&"api") => segments.get(2..).unwrap_or_default(),
        Some(&"apis") => segments.get(3..).unwrap_or_default(),
        _ => &[][..],
    };
    let rest = if rest.len() >= 3 && rest[0] == "namespaces" { &rest[2..] } else { rest };
    let named = rest.len() >= 2;
    match *method {
        Method::GET if watch => "watch",
        Method::GET if named => "get",
        Method::GET => "list",
        Method::POST => "create",
        Method::PUT => "update",
        Method::PATCH => "patch",
        Method::DELETE if named => "delete",
        Method::DELETE => "deletecollection",
        _ => "other",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verbs_of_requests() {
        let cases = [
            (Method::GET, "/api/v1/namespaces", None, "list"),
            (Method::GET, "/api/v1/namespaces/shop", None, "get"),
            (Method::GET, "/api/v1/namespaces/shop/configmaps", None, "list"),
            (Method::GET, "/api/v1/namespaces/shop/configmaps/settings", None, "get"),
            (Method::GET, "/apis/apps/v1/deployments", Some("labelSelector=a&watch=true"), "watch"),
            (Method::GET, "/apis/apps/v1/namespaces/shop/deployments/web", None, "get"),
            (
                Method::PATCH,
                "/apis/apps/v1/namespaces/shop/deployments/web",
                Some("fieldManager=cetus"),
                "patch",
            ),
            (Method::POST, "/api/v1/namespaces", None, "create"),
            (Method::DELETE, "/api/v1/namespaces/shop/secrets/creds", None, "delete"),
            (Method::DELETE, "/api/v1/namespaces/shop/secrets", None, "deletecollection"),
            (Method::PUT, "/apis/coordination.k8s.io/v1/namespaces/x/leases/cetus", None, "update"),
        ];
        for (method, path, query, verb) in cases {
            assert_eq!(verb_of(&method, path, query), verb, "{method} {path}");
        }
    }
}

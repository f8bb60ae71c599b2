//! What each provider sends: how its requests are authenticated, which event they carry, and
//! where a push payload keeps the repository URLs, the ref and the commit. Pure functions
//! over headers and bytes; the router does the I/O.

use super::Provider;
use axum::http::HeaderMap;
use hmac::{Hmac, Mac};
use serde::Deserialize;
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// Why a request is not authentic.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    /// The signature or token header is absent.
    #[error("missing {0} header")]
    Missing(&'static str),
    /// The header is not of the documented form.
    #[error("malformed {0} header")]
    Malformed(&'static str),
    /// The signature or token is wrong (or the body was altered).
    #[error("{0} does not match")]
    Mismatch(&'static str),
}

/// The header that authenticates a provider's requests.
pub fn auth_header(provider: Provider) -> &'static str {
    match provider {
        Provider::Github => "X-Hub-Signature-256",
        Provider::Gitlab => "X-Gitlab-Token",
        Provider::Gitea => "X-Gitea-Signature",
        Provider::Generic => "X-Cetus-Signature",
    }
}

/// Checks a request's signature (HMAC-SHA256 of the body) or token against `secret`, in
/// constant time.
pub fn verify(
    provider: Provider,
    headers: &HeaderMap,
    body: &[u8],
    secret: &[u8],
) -> Result<(), AuthError> {
    let name = auth_header(provider);
    let value = headers.get(name).ok_or(AuthError::Missing(name))?;
    let value = value.to_str().map_err(|_| AuthError::Malformed(name))?.trim();
    if provider == Provider::Gitlab {
        return if token_matches(secret, value.as_bytes()) {
            Ok(())
        } else {
            Err(AuthError::Mismatch(name))
        };
    }
    let hex_digest = match provider {
        // Gitea sends bare hex; the others GitHub's `sha256=` form.
        Provider::Gitea => value.strip_prefix("sha256=").unwrap_or(value),
        _ => value.strip_prefix("sha256=").ok_or(AuthError::Malformed(name))?,
    };
    let signature = hex::decode(hex_digest).map_err(|_| AuthError::Malformed(name))?;
    let mut mac = hmac(secret);
    mac.update(body);
    mac.verify_slice(&signature).map_err(|_| AuthError::Mismatch(name))
}

/// Whether a token someone sent is the secret: GitLab's webhook token, the API's bearer token.
/// Both sides are HMAC'd under one fixed key so that the comparison runs over two
/// equal-length tags in constant time, leaking neither the secret's length nor its prefix.
pub(crate) fn token_matches(secret: &[u8], given: &[u8]) -> bool {
    let tag = |data: &[u8]| {
        let mut mac = hmac(b"cetus gitlab token");
        mac.update(data);
        mac
    };
    let expected = tag(secret).finalize().into_bytes();
    tag(given).verify_slice(&expected).is_ok()
}

fn hmac(key: &[u8]) -> HmacSha256 {
    // HMAC accepts keys of any length; `new_from_slice` only fails for fixed-size MACs.
    HmacSha256::new_from_slice(key).expect("HMAC takes keys of any length")
}

/// The event a verified request carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// A connectivity check (GitHub `ping`).
    Ping,
    /// A push; parse the body with [`parse_push`].
    Push,
    /// Anything else, by the provider's name for it.
    Other(String),
}

/// Reads the event header. The generic provider only sends pushes.
pub fn event(provider: Provider, headers: &HeaderMap) -> Result<Event, &'static str> {
    let (name, push) = match provider {
        Provider::Github => ("X-GitHub-Event", "push"),
        Provider::Gitlab => ("X-Gitlab-Event", "Push Hook"),
        Provider::Gitea => ("X-Gitea-Event", "push"),
        Provider::Generic => return Ok(Event::Push),
    };
    let value = headers.get(name).and_then(|v| v.to_str().ok()).ok_or(name)?;
    Ok(match value {
        "ping" if provider == Provider::Github => Event::Ping,
        v if v == push => Event::Push,
        other => Event::Other(other.to_string()),
    })
}

/// What a push says, whoever sent it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Push {
    /// Every URL the payload gives for the repository (clone, ssh, web).
    pub urls: Vec<String>,
    /// The full ref pushed, e.g. `refs/heads/main`.
    pub git_ref: String,
    /// The commit the ref now points at; `None` when the ref was deleted.
    pub commit: Option<String>,
}

#[derive(Deserialize)]
struct ForgePush {
    #[serde(rename = "ref")]
    git_ref: String,
    #[serde(default)]
    after: Option<String>,
    #[serde(default)]
    repository: Option<Urls>,
    #[serde(default)]
    project: Option<Urls>,
}

/// The URL fields GitHub and Gitea (`repository`) and GitLab (`project`, `repository`) use.
#[derive(Deserialize, Default)]
struct Urls {
    clone_url: Option<String>,
    ssh_url: Option<String>,
    html_url: Option<String>,
    git_url: Option<String>,
    git_http_url: Option<String>,
    git_ssh_url: Option<String>,
    web_url: Option<String>,
    http_url: Option<String>,
    homepage: Option<String>,
    url: Option<String>,
}

/// The generic provider's payload: `{"repo": <url>, "branch": <name>, "commit": <id>}`,
/// `commit` optional.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct GenericPush {
    repo: String,
    branch: String,
    #[serde(default)]
    commit: Option<String>,
}

/// Parses a push payload.
pub fn parse_push(provider: Provider, body: &[u8]) -> Result<Push, serde_json::Error> {
    if provider == Provider::Generic {
        let p: GenericPush = serde_json::from_slice(body)?;
        return Ok(Push {
            urls: vec![p.repo],
            git_ref: format!("refs/heads/{}", p.branch),
            commit: p.commit,
        });
    }
    let p: ForgePush = serde_json::from_slice(body)?;
    let mut urls = Vec::new();
    for u in [p.repository, p.project].into_iter().flatten() {
        let fields = [u.clone_url, u.ssh_url, u.html_url, u.git_url, u.git_http_url, u.git_ssh_url];
        let more = [u.web_url, u.http_url, u.homepage, u.url];
        urls.extend(fields.into_iter().chain(more).flatten().filter(|s| !s.is_empty()));
    }
    // An all-zero `after` is a deleted ref.
    let commit = p.after.filter(|c| !c.is_empty() && !c.bytes().all(|b| b == b'0'));
    Ok(Push { urls, git_ref: p.git_ref, commit })
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn githubs_documented_example_verifies() {
        // https://docs.github.com/en/webhooks/using-webhooks/validating-webhook-deliveries
        let sig = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";
        let h = headers(&[("X-Hub-Signature-256", sig)]);
        let secret = b"It's a Secret to Everybody";
        assert_eq!(verify(Provider::Github, &h, b"Hello, World!", secret), Ok(()));
        assert_eq!(
            verify(Provider::Github, &h, b"Hello, World?", secret),
            Err(AuthError::Mismatch("X-Hub-Signature-256"))
        );
        // Gitea sends the same digest without the prefix.
        let h = headers(&[("X-Gitea-Signature", &sig[7..])]);
        assert_eq!(verify(Provider::Gitea, &h, b"Hello, World!", secret), Ok(()));
    }

    #[test]
    fn malformed_missing_and_token_cases() {
        let body = b"{}";
        type Case<'a> = (Provider, &'a [(&'static str, &'a str)], Result<(), AuthError>);
        let cases: &[Case] = &[
            (Provider::Github, &[], Err(AuthError::Missing("X-Hub-Signature-256"))),
            (
                Provider::Github,
                &[("X-Hub-Signature-256", "757107ea")],
                Err(AuthError::Malformed("X-Hub-Signature-256")),
            ),
            (
                Provider::Generic,
                &[("X-Cetus-Signature", "sha256=zz")],
                Err(AuthError::Malformed("X-Cetus-Signature")),
            ),
            (
                Provider::Generic,
                &[("X-Cetus-Signature", "sha256=00")],
                Err(AuthError::Mismatch("X-Cetus-Signature")),
            ),
            (Provider::Gitlab, &[("X-Gitlab-Token", "s3cret")], Ok(())),
            (
                Provider::Gitlab,
                &[("X-Gitlab-Token", "s3cret2")],
                Err(AuthError::Mismatch("X-Gitlab-Token")),
            ),
            (
                Provider::Gitlab,
                &[("X-Gitlab-Token", "")],
                Err(AuthError::Mismatch("X-Gitlab-Token")),
            ),
        ];
        for (provider, h, want) in cases {
            assert_eq!(
                &verify(*provider, &headers(h), body, b"s3cret"),
                want,
                "{provider:?} {h:?}"
            );
        }
    }

    #[test]
    fn push_payloads_of_each_provider() {
        let github = br#"{"ref":"refs/heads/main","after":"abc","repository":{"clone_url":"https://github.com/o/r.git","ssh_url":"git@github.com:o/r.git","html_url":"https://github.com/o/r"}}"#;
        let p = parse_push(Provider::Github, github).unwrap();
        assert_eq!(
            p.urls,
            ["https://github.com/o/r.git", "git@github.com:o/r.git", "https://github.com/o/r"]
        );
        assert_eq!((p.git_ref.as_str(), p.commit.as_deref()), ("refs/heads/main", Some("abc")));

        let gitlab = br#"{"object_kind":"push","ref":"refs/heads/dev","after":"0000000000000000000000000000000000000000","project":{"git_http_url":"https://gl/o/r.git","git_ssh_url":"git@gl:o/r.git"}}"#;
        let p = parse_push(Provider::Gitlab, gitlab).unwrap();
        assert_eq!(p.urls, ["https://gl/o/r.git", "git@gl:o/r.git"]);
        assert_eq!(p.commit, None, "an all-zero after is a deletion");

        let generic = br#"{"repo":"https://h/o/r","branch":"main","commit":"c1"}"#;
        let p = parse_push(Provider::Generic, generic).unwrap();
        assert_eq!((p.urls[0].as_str(), p.git_ref.as_str()), ("https://h/o/r", "refs/heads/main"));
        assert!(parse_push(Provider::Generic, br#"{"repo":"x","branch":"b","extra":1}"#).is_err());
        assert!(parse_push(Provider::Github, b"not json").is_err());
    }

    #[test]
    fn events() {
        assert_eq!(
            event(Provider::Github, &headers(&[("X-GitHub-Event", "ping")])),
            Ok(Event::Ping)
        );
        assert_eq!(
            event(Provider::Gitlab, &headers(&[("X-Gitlab-Event", "Push Hook")])),
            Ok(Event::Push)
        );
        assert_eq!(
            event(Provider::Gitea, &headers(&[("X-Gitea-Event", "issues")])),
            Ok(Event::Other("issues".into()))
        );
        assert_eq!(event(Provider::Gitea, &headers(&[])), Err("X-Gitea-Event"));
        assert_eq!(event(Provider::Generic, &headers(&[])), Ok(Event::Push));
    }
}

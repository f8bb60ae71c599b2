//! The daemon-facing commands — `cetus status [APP]`, `cetus history APP [ENTRY] [--diff]`,
//! `cetus rollback APP [ENTRY]`, `cetus unpin APP` — as clients of the daemon's HTTP API
//! (`--server URL`, default `http://127.0.0.1:8080`; `--token` for the POSTs).
//!
//! Exit codes: 0 done; 1 the daemon refused (unknown app or entry, nothing to roll back to,
//! a bad token); 2 the daemon could not be reached or answered nonsense.

use super::{Failure, Output};
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use serde_json::Value;
use std::fmt::Write as _;

/// Where the daemon is.
#[derive(Debug, Clone, clap::Args)]
pub struct ServerArgs {
    /// The daemon's API.
    #[arg(long, env = "CETUS_SERVER", default_value = "http://127.0.0.1:8080", value_name = "URL")]
    pub server: String,
    /// The API token (for rollback, unpin and sync).
    #[arg(long, env = "CETUS_TOKEN", value_name = "TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    /// Output format.
    #[arg(short = 'o', long, value_enum, default_value_t = Output::Text)]
    pub output: Output,
}

/// Arguments of `cetus status`.
#[derive(Debug, clap::Args)]
pub struct StatusArgs {
    /// One app (with its objects), else every app.
    pub app: Option<String>,
    /// The daemon.
    #[command(flatten)]
    pub server: ServerArgs,
}

/// Arguments of `cetus history`.
#[derive(Debug, clap::Args)]
pub struct HistoryArgs {
    /// The app.
    pub app: String,
    /// One entry (its details), else the whole history.
    pub entry: Option<u64>,
    /// With ENTRY: what that sync changed against the entry before it.
    #[arg(long, requires = "entry")]
    pub diff: bool,
    /// The daemon.
    #[command(flatten)]
    pub server: ServerArgs,
}

/// Arguments of `cetus rollback`.
#[derive(Debug, clap::Args)]
pub struct RollbackArgs {
    /// The app.
    pub app: String,
    /// The entry id or commit to go back to (default: the last successful one before the
    /// current).
    pub entry: Option<String>,
    /// The daemon.
    #[command(flatten)]
    pub server: ServerArgs,
}

/// Arguments of `cetus unpin`.
#[derive(Debug, clap::Args)]
pub struct UnpinArgs {
    /// The app.
    pub app: String,
    /// The daemon.
    #[command(flatten)]
    pub server: ServerArgs,
}

/// Runs `cetus status`.
pub fn status(args: StatusArgs) -> Result<(), Failure> {
    let server = &args.server;
    match &args.app {
        None => {
            let apps = get(server, "/api/v1/apps")?;
            print(server, &apps, || {
                status_table(apps.as_array().map(Vec::as_slice).unwrap_or_default())
            })
        }
        Some(app) => {
            let status = get(server, &format!("/api/v1/apps/{app}"))?;
            print(server, &status, || app_details(&status))
        }
    }
}

/// Runs `cetus history`.
pub fn history(args: HistoryArgs) -> Result<(), Failure> {
    let server = &args.server;
    let base = format!("/api/v1/apps/{}/history", args.app);
    match (args.entry, args.diff) {
        (None, _) => {
            let entries = get(server, &base)?;
            print(server, &entries, || {
                history_table(entries.as_array().map(Vec::as_slice).unwrap_or_default())
            })
        }
        (Some(id), false) => {
            let entry = get(server, &format!("{base}/{id}"))?;
            print(server, &entry, || entry_details(&entry))
        }
        (Some(id), true) => {
            let diffs = get(server, &format!("{base}/{id}/diff"))?;
            print(server, &diffs, || {
                let list = diffs.as_array().map(Vec::as_slice).unwrap_or_default();
                if list.is_empty() {
                    return format!("entry {id} changed nothing\n");
                }
                list.iter().filter_map(|d| d["text"].as_str()).collect()
            })
        }
    }
}

/// Runs `cetus rollback`.
pub fn rollback(args: RollbackArgs) -> Result<(), Failure> {
    let body = match &args.entry {
        None => serde_json::json!({}),
        Some(e) => match e.parse::<u64>() {
            Ok(id) => serde_json::json!({ "to": id }),
            Err(_) => serde_json::json!({ "to": e }),
        },
    };
    let server = &args.server;
    let answer = post(server, &format!("/api/v1/apps/{}/rollback", args.app), body)?;
    print(server, &answer, || {
        let pin = &answer["pin"];
        format!(
            "{}: pinned to entry {} ({}); syncing it now. `cetus unpin {}` follows the branch again.\n",
            args.app,
            pin["entry"],
            short(pin["commit"].as_str().unwrap_or("no commit")),
            args.app
        )
    })
}

/// Runs `cetus unpin`.
pub fn unpin(args: UnpinArgs) -> Result<(), Failure> {
    let server = &args.server;
    let answer = post(server, &format!("/api/v1/apps/{}/unpin", args.app), serde_json::json!({}))?;
    print(server, &answer, || match answer["unpinned"].is_null() {
        true => format!("{}: was not pinned; syncing the branch's newest revision\n", args.app),
        false => format!(
            "{}: unpinned from entry {}; syncing the branch's newest revision\n",
            args.app, answer["unpinned"]["entry"]
        ),
    })
}

fn print(server: &ServerArgs, value: &Value, text: impl FnOnce() -> String) -> Result<(), Failure> {
    let out = match server.output {
        Output::Json => format!("{}\n", serde_json::to_string_pretty(value).unwrap_or_default()),
        Output::Text => text(),
    };
    use std::io::Write;
    std::io::stdout().write_all(out.as_bytes()).map_err(|e| Failure::io(e.to_string()))
}

fn get(server: &ServerArgs, path: &str) -> Result<Value, Failure> {
    request(server, hyper::Method::GET, path, None)
}

fn post(server: &ServerArgs, path: &str, body: Value) -> Result<Value, Failure> {
    request(server, hyper::Method::POST, path, Some(body))
}

/// One request to the daemon; its JSON answer, or the daemon's error as a failure.
fn request(
    server: &ServerArgs,
    method: hyper::Method,
    path: &str,
    body: Option<Value>,
) -> Result<Value, Failure> {
    let url = format!("{}{path}", server.server.trim_end_matches('/'));
    let mut builder = hyper::Request::builder().method(method).uri(&url);
    if let Some(token) = &server.token {
        builder = builder.header(hyper::header::AUTHORIZATION, format!("Bearer {token}"));
    }
    let bytes = body.map(|b| b.to_string()).unwrap_or_default();
    let request = builder
        .header(hyper::header::CONTENT_TYPE, "application/json")
        .body(Full::new(Bytes::from(bytes)))
        .map_err(|e| Failure::io(format!("{url}: {e}")))?;
    let runtime = super::runtime()?;
    let (status, body) = runtime.block_on(async {
        let client = Client::builder(TokioExecutor::new()).build_http::<Full<Bytes>>();
        let unreachable = |e: &dyn std::error::Error| {
            Failure::io(format!(
                "cannot reach the daemon at {}: {}",
                server.server,
                crate::error_chain(e)
            ))
        };
        let answer = client.request(request).await.map_err(|e| unreachable(&e))?;
        let status = answer.status();
        let body = answer.into_body().collect().await.map_err(|e| unreachable(&e))?.to_bytes();
        Ok::<_, Failure>((status, body))
    })?;
    let value: Value = serde_json::from_slice(&body).map_err(|_| {
        Failure::io(format!(
            "{url}: {status}: not a JSON answer: {}",
            String::from_utf8_lossy(&body)
        ))
    })?;
    if status.is_success() {
        return Ok(value);
    }
    let message = value["error"].as_str().unwrap_or("no error message").to_string();
    let failure =
        if status.is_server_error() { Failure::io(message) } else { Failure::input(message) };
    Err(failure)
}

fn short(commit: &str) -> &str {
    commit.get(..8).unwrap_or(commit)
}

fn text<'a>(value: &'a Value, key: &str) -> &'a str {
    value[key].as_str().unwrap_or("-")
}

/// Rows as columns padded to their widest cell.
fn table(header: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = header.iter().map(|h| h.len()).collect();
    for row in rows {
        for (i, cell) in row.iter().enumerate() {
            widths[i] = widths[i].max(cell.chars().count());
        }
    }
    let mut out = String::new();
    let mut line = |cells: Vec<String>| {
        let last = cells.len() - 1;
        for (i, cell) in cells.iter().enumerate() {
            if i == last {
                out.push_str(cell);
            } else {
                let _ = write!(out, "{cell:<width$}  ", width = widths[i]);
            }
        }
        out.push('\n');
    };
    line(header.iter().map(|h| h.to_string()).collect());
    for row in rows {
        line(row.clone());
    }
    out
}

fn status_table(apps: &[Value]) -> String {
    let rows: Vec<Vec<String>> = apps
        .iter()
        .map(|a| {
            vec![
                text(a, "name").to_string(),
                short(text(a, "revision")).to_string(),
                text(a, "sync").to_string(),
                text(a, "health").to_string(),
                if a["pinned"].is_null() {
                    "-".into()
                } else {
                    format!("entry {}", a["pinned"]["entry"])
                },
                text(a, "lastSync").to_string(),
                text(a, "message").to_string(),
            ]
        })
        .collect();
    table(&["APP", "REVISION", "SYNC", "HEALTH", "PINNED", "LAST SYNC", "MESSAGE"], &rows)
}

fn app_details(app: &Value) -> String {
    let mut out = status_table(std::slice::from_ref(app));
    if let Some(objects) = app["objects"]["objects"].as_array() {
        out.push('\n');
        let rows: Vec<Vec<String>> = objects
            .iter()
            .map(|o| {
                let key = &o["key"];
                let name = match key["namespace"].as_str().filter(|n| !n.is_empty()) {
                    Some(ns) => format!("{}/{}", ns, text(key, "name")),
                    None => text(key, "name").to_string(),
                };
                vec![
                    text(key, "kind").to_string(),
                    name,
                    text(&o["health"], "status").to_string(),
                    o["health"]["reason"].as_str().unwrap_or("").to_string(),
                ]
            })
            .collect();
        out.push_str(&table(&["KIND", "NAME", "HEALTH", "REASON"], &rows));
    }
    out
}

fn history_table(entries: &[Value]) -> String {
    let rows: Vec<Vec<String>> = entries
        .iter()
        .map(|e| {
            let counts = &e["counts"];
            let what = match (e["error"].as_str(), e["subject"].as_str()) {
                (Some(error), _) => error.to_string(),
                (None, Some(subject)) => subject.to_string(),
                (None, None) => String::new(),
            };
            vec![
                e["id"].to_string(),
                short(text(e, "commit")).to_string(),
                text(e, "trigger").to_string(),
                format!(
                    "{}{}",
                    text(e, "outcome"),
                    if e["pinned"] == true { " (pinned)" } else { "" }
                ),
                text(e, "health").to_string(),
                format!("{}/{}/{}", counts["applied"], counts["unchanged"], counts["pruned"]),
                text(e, "started").to_string(),
                what,
            ]
        })
        .collect();
    table(
        &[
            "ID",
            "COMMIT",
            "TRIGGER",
            "OUTCOME",
            "HEALTH",
            "APPLIED/UNCHANGED/PRUNED",
            "STARTED",
            "SUBJECT / ERROR",
        ],
        &rows,
    )
}

fn entry_details(entry: &Value) -> String {
    let mut out = String::new();
    for key in [
        "id", "commit", "digest", "trigger", "outcome", "health", "started", "finished", "author",
        "subject", "error", "restores",
    ] {
        if !entry[key].is_null() {
            let value =
                entry[key].as_str().map(String::from).unwrap_or_else(|| entry[key].to_string());
            let _ = writeln!(out, "{key:<10} {value}");
        }
    }
    let counts = &entry["counts"];
    let _ = writeln!(
        out,
        "{:<10} {} applied, {} unchanged, {} pruned",
        "counts", counts["applied"], counts["unchanged"], counts["pruned"]
    );
    for dep in entry["dependencies"].as_array().into_iter().flatten() {
        let _ = writeln!(
            out,
            "{:<10} {} {}@{} = {}",
            "dependency",
            text(dep, "name"),
            text(dep, "url"),
            text(dep, "reference"),
            text(dep, "commit")
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_pad_columns_to_their_widest_cell() {
        let rows = vec![
            vec!["hello".to_string(), "1".into(), "ok".into()],
            vec!["x".into(), "12345".into(), "".into()],
        ];
        assert_eq!(
            table(&["APP", "N", "MESSAGE"], &rows),
            "APP    N      MESSAGE\nhello  1      ok\nx      12345  \n"
        );
    }
}

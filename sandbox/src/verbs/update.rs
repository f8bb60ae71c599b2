//! `update`: PUT of a whole object (also `/status` and a Namespace's `/finalize`), 409 on
//! a stale resourceVersion, 404 when the object does not exist.

use super::{Call, Reply};
use crate::meta;
use crate::status::ApiError;
use crate::write;
use serde_json::Value;

/// Checks that the body names the object of the URL (filling the name in if missing).
pub fn settle_name(obj: &mut Value, url_name: &str) -> Result<(), ApiError> {
    let meta = meta::metadata_mut(obj);
    match meta.get("name").and_then(Value::as_str) {
        None | Some("") => {
            meta.insert("name".into(), url_name.into());
            Ok(())
        }
        Some(n) if n == url_name => Ok(()),
        Some(n) => Err(ApiError::bad_request(format!(
            "the name of the object ({n}) does not match the name on the URL ({url_name})"
        ))),
    }
}

/// PUT of one object.
pub fn update(call: &Call) -> Result<Reply, ApiError> {
    let info = call.info();
    let options = super::write::options(call, "UpdateOptions")?;
    let mut obj = super::write::decode_object(call)?;
    let mut warnings = Vec::new();
    settle_name(&mut obj, call.name())?;
    write::settle_namespace(info, &mut obj, call.namespace())?;
    write::check_schema(info, &mut obj, &options, false, &mut warnings)?;
    write::round_trip(info, &mut obj)?;
    let key = call.key(call.name());
    let mut store = call.state.store();
    let stored = super::existing(&store, info, &key)?;
    let old = super::present(info, &stored);
    let sub = call.target.subresource.as_deref();
    if sub == Some("finalize") {
        // `/finalize` changes only the Namespace's `spec.finalizers`.
        let finalizers = obj["spec"]["finalizers"].clone();
        obj = (*old).clone();
        obj["spec"]["finalizers"] = finalizers;
    } else {
        write::defaults(info, &mut obj);
        write::prepare_update(info, &old, &mut obj, sub)?;
    }
    let committed = write::commit_update(&mut store, key, info, &stored, &old, obj, &options, sub)?;
    drop(store);
    Ok(call.reply(200, super::present(info, &committed.object), warnings))
}

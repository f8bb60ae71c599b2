//! `get`: one object, in the representation the client asked for.

use super::{Call, Reply, present};
use crate::status::ApiError;

/// GET of one object (also `/status`, which returns the whole object).
pub fn get(call: &Call) -> Result<Reply, ApiError> {
    let info = call.info();
    let obj = call.state.store().get(&call.key(call.name())).cloned();
    let obj = obj.ok_or_else(|| ApiError::not_found(&info.group, &info.plural, call.name()))?;
    Ok(call.reply(200, present(info, &obj), Vec::new()))
}

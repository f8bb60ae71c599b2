//! `get`: one object, in the representation the client asked for.

use super::{Call, Reply, present};
use crate::status::ApiError;

/// GET of one object (also `/status`, which returns the whole object).
pub fn get(call: &Call) -> Result<Reply, ApiError> {
    let info = call.info();
    let obj = super::existing(&call.state.store(), info, &call.key(call.name()))?;
    Ok(call.reply(200, present(info, &obj), Vec::new()))
}

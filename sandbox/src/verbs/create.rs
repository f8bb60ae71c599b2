//! `create`: POST of a new object (201), 409 AlreadyExists, 404 for a missing namespace,
//! 403 in a terminating one.

use super::{Call, Reply};
use crate::meta;
use crate::status::ApiError;
use crate::write;
use crate::write::allocate;

/// POST to a collection.
pub fn create(call: &Call) -> Result<Reply, ApiError> {
    let info = call.info();
    let options = super::write::options(call, "CreateOptions")?;
    let mut obj = super::write::decode_object(call)?;
    let mut warnings = Vec::new();
    write::settle_namespace(info, &mut obj, call.namespace())?;
    write::check_schema(info, &mut obj, &options, false, &mut warnings)?;
    write::round_trip(info, &mut obj)?;
    write::strip_for_create(info, &mut obj)?;
    write::defaults(info, &mut obj);
    write::on_create(info, &mut obj, &options);
    write::server_fields_create(info, &mut obj);
    write::validate(info, &obj, None)?;
    let name = meta::name(&obj).to_string();
    let key = call.key(&name);
    let mut store = call.state.store();
    if let Some(existing) = store.get(&key) {
        let mut e = ApiError::already_exists(&info.group, &info.plural, &name);
        if meta::is_deleting(existing) {
            e.message = format!("object is being deleted: {}", e.message);
        }
        return Err(e);
    }
    write::admit_namespace(&store, info, call.namespace(), &name)?;
    allocate::on_create(&store, info, &mut obj);
    let obj = crate::versions::to_storage(info, obj);
    let committed = write::commit(&mut store, key, None, obj, options.dry_run)?;
    drop(store);
    Ok(call.reply(201, super::present(info, &committed.object), warnings))
}

// SPDX-License-Identifier: Apache-2.0
//! DeleteEventSourceMapping.

use serde_json::Value;

use crate::esm::Mappings;
use crate::functions::Error;
use crate::ops::mapping_input::uuid;

pub(crate) async fn call(m: &Mappings, input: Value) -> Result<Value, Error> {
    m.delete(uuid(&input)).await.map_err(Error::Mapping)
}

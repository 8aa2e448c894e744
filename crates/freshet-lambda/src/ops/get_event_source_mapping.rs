// SPDX-License-Identifier: Apache-2.0
//! GetEventSourceMapping.

use serde_json::Value;

use crate::esm::Mappings;
use crate::functions::Error;
use crate::ops::mapping_input::uuid;

pub(crate) fn call(m: &Mappings, input: Value) -> Result<Value, Error> {
    m.get(uuid(&input)).map_err(Error::Mapping)
}

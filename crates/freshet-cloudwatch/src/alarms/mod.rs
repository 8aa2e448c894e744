// SPDX-License-Identifier: Apache-2.0
//! Metric and composite alarms: records, the state machine, evaluation and actions.

use freshet_runtime::Platform;

/// The alarms of the account.
#[derive(Debug)]
pub struct Alarms {}

impl Alarms {
    /// Loads the alarms kept on `platform`.
    pub fn open(_platform: &Platform) -> Result<Self, String> {
        Ok(Self {})
    }
}

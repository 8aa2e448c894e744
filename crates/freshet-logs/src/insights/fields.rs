// SPDX-License-Identifier: Apache-2.0
//! GetLogGroupFields: which fields a group's recent events have, from a bounded sample.

use std::collections::HashMap;

use super::error::QueryError;
use super::record::{EventRef, row_of};
use crate::codec;
use crate::model::GroupRef;
use crate::read::offset_for_min_ts;
use crate::service::{Logs, blocking};

/// Most events sampled.
pub const SAMPLE: usize = 10_000;
/// Half the window around `time` (AWS: 8 minutes).
const HALF_WINDOW_MS: i64 = 8 * 60 * 1000;
/// The window without `time` (AWS: the last 15 minutes).
const RECENT_MS: i64 = 15 * 60 * 1000;

impl Logs {
    /// The fields and the percentage of sampled events that have each, most common first.
    pub(crate) async fn log_group_fields(
        &self,
        group: GroupRef,
        time_s: Option<i64>,
    ) -> Result<Vec<(String, u32)>, QueryError> {
        let g = self.resolve(&group)?;
        let now = self.now_ms();
        let (lo, hi) = match time_s {
            Some(t) => {
                let t = t.saturating_mul(1000);
                (
                    t.saturating_sub(HALF_WINDOW_MS),
                    t.saturating_add(HALF_WINDOW_MS),
                )
            }
            None => (now - RECENT_MS, now),
        };
        let account = self.inner.opts.account_id.clone();
        let out = blocking(move || {
            let bounds = g.bounds();
            let log = g.log.as_ref();
            let end = log.next_offset();
            let mut pos = offset_for_min_ts(log, lo, bounds.max_ahead_ms);
            let mut counts: HashMap<String, u64> = HashMap::new();
            let mut seen = 0u64;
            'read: while pos < end {
                let batch = log.read(pos, 4096, 4 * 1024 * 1024, i64::MIN)?;
                if batch.records.is_empty() {
                    break;
                }
                for r in &batch.records {
                    if r.offset >= end || seen as usize >= SAMPLE {
                        break 'read;
                    }
                    pos = r.offset + 1;
                    let Ok(e) = codec::decode(&r.data) else {
                        continue;
                    };
                    if e.timestamp_ms < lo || e.timestamp_ms > hi {
                        continue;
                    }
                    seen += 1;
                    let row = row_of(&EventRef::stored(&account, &g, r, &e));
                    for (n, _) in row.fields {
                        if n != "@ptr" {
                            *counts.entry(n).or_default() += 1;
                        }
                    }
                }
            }
            let mut fields: Vec<(String, u32)> = counts
                .into_iter()
                .map(|(n, c)| (n, (c * 100 / seen.max(1)) as u32))
                .collect();
            fields.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
            Ok(fields)
        })
        .await?;
        Ok(out)
    }
}

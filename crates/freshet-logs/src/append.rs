// SPDX-License-Identifier: Apache-2.0
//! The data path: PutLogEvents, and [`Logs::append`] for other Freshet components.
//!
//! A call checks the batch rules (`put_rules.rs`) against the server clock and the group's
//! retention, encodes the accepted events (`codec.rs`) and appends them to the group's log as
//! ONE batch: one group commit, acknowledged only once durable. No metadata is written; the
//! stream's statistics and index are updated in memory after the append (`group.rs`) and
//! checkpointed later.

use std::sync::Arc;

use freshet_log::RecordIn;

use crate::codec;
use crate::error::{Error, Result};
use crate::group::Group;
use crate::model::{InputEvent, PutOutcome};
use crate::put_rules::{EventShape, check_batch};
use crate::service::{Logs, log_error};
use crate::token::sequence_token;

impl Logs {
    /// PutLogEvents: stores `events` in the stream `stream` of the group `group`, both of
    /// which must exist.
    pub async fn put_log_events(
        &self,
        group: &str,
        stream: &str,
        events: &[InputEvent],
    ) -> Result<PutOutcome> {
        let g = self.group(group)?;
        let stream_id = g.stream_id(stream).ok_or_else(|| Error::StreamNotFound {
            group: group.to_owned(),
            stream: stream.to_owned(),
        })?;
        let out = put(&g, stream, stream_id, events, self.now_ms()).await?;
        self.count_batch(&g, events, &out);
        Ok(out)
    }

    /// Appends events to a log stream from inside Freshet (Lambda writes `/aws/lambda/<fn>`
    /// with it), creating the group and the stream if they do not exist. The PutLogEvents
    /// rules apply: events must be in chronological order, and events too old or too new are
    /// rejected (reported in the outcome) while the others are stored.
    pub async fn append(
        &self,
        group: &str,
        stream: &str,
        events: &[InputEvent],
    ) -> Result<PutOutcome> {
        let g = match self.group(group) {
            Ok(g) => g,
            Err(Error::GroupNotFound { .. }) => {
                match self
                    .create_log_group(crate::model::NewGroup {
                        name: group.to_owned(),
                        ..Default::default()
                    })
                    .await
                {
                    Ok(()) | Err(Error::GroupExists { .. }) => {}
                    Err(e) => return Err(e),
                }
                self.group(group)?
            }
            Err(e) => return Err(e),
        };
        let stream_id = match g.stream_id(stream) {
            Some(id) => id,
            None => {
                match self.create_log_stream(group, stream).await {
                    Ok(()) | Err(Error::StreamExists { .. }) => {}
                    Err(e) => return Err(e),
                }
                g.stream_id(stream).ok_or_else(|| Error::StreamNotFound {
                    group: group.to_owned(),
                    stream: stream.to_owned(),
                })?
            }
        };
        let out = put(&g, stream, stream_id, events, self.now_ms()).await?;
        self.count_batch(&g, events, &out);
        Ok(out)
    }
}

impl Logs {
    /// Records the stored part of a batch in the AWS/Logs metrics and its metric filters.
    fn count_batch(&self, g: &Group, events: &[InputEvent], out: &PutOutcome) {
        if out.accepted == 0 {
            return;
        }
        // The accepted events are one contiguous run; the rejected ones are before or after.
        let skipped = out
            .rejected
            .too_old_log_event_end_index
            .unwrap_or(0)
            .max(out.rejected.expired_log_event_end_index.unwrap_or(0));
        let accepted = events
            .get(skipped..skipped + out.accepted)
            .unwrap_or(events);
        self.inner.metrics.batch(g, accepted);
    }
}

async fn put(
    g: &Arc<Group>,
    stream: &str,
    stream_id: u64,
    events: &[InputEvent],
    now_ms: i64,
) -> Result<PutOutcome> {
    let shapes: Vec<EventShape> = events
        .iter()
        .map(|e| EventShape {
            timestamp_ms: e.timestamp_ms,
            message_bytes: e.message.len(),
        })
        .collect();
    let admission = check_batch(now_ms, g.retention_days(), &shapes)?;
    let accepted = events.get(admission.accepted.clone()).unwrap_or_default();
    if accepted.is_empty() {
        return Ok(PutOutcome {
            next_sequence_token: sequence_token(g.log.next_offset()),
            rejected: admission.rejected,
            accepted: 0,
        });
    }
    let data: Vec<Vec<u8>> = accepted
        .iter()
        .map(|e| codec::encode(stream_id, e.timestamp_ms, &e.message))
        .collect();
    let records: Vec<RecordIn<'_>> = data
        .iter()
        .map(|d| RecordIn {
            partition_key: stream,
            data: d,
        })
        .collect();
    let appended = g
        .log
        .append(&records, now_ms)
        .await
        .map_err(|e| log_error(g, e))?;
    let applied: Vec<(i64, usize)> = accepted
        .iter()
        .map(|e| (e.timestamp_ms, e.message.len()))
        .collect();
    g.apply_batch(
        appended.first_offset,
        appended.arrival_ms,
        stream,
        stream_id,
        &applied,
    );
    Ok(PutOutcome {
        next_sequence_token: sequence_token(appended.first_offset + accepted.len() as u64),
        rejected: admission.rejected,
        accepted: accepted.len(),
    })
}

// SPDX-License-Identifier: Apache-2.0
//! The PutLogEvents batch rules, as a pure function of the clock, the group's retention and
//! the events' timestamps and sizes.
//!
//! From the API reference (botocore model, PutLogEvents):
//! * The batch is at most 1,048,576 bytes, counted as the UTF-8 bytes of every message plus
//!   26 bytes per event; at most 10,000 events; each event at most 1 MB (the 256 KB limit of
//!   older documents was raised; we count an event as its message plus the same 26 bytes, as
//!   the old limit was counted, so one event can never pass this check and fail the batch one).
//! * Events must be in chronological order, or the call fails.
//! * Events more than 2 hours in the future are rejected, and so are events older than 14 days
//!   or older than the group's retention; the others are stored.
//! * The valid events (within 14 days in the past to 2 hours in the future) may span at most
//!   24 hours, or the call fails. Expired events are within that window, so they count.
//!
//! `RejectedLogEventsInfo` (API reference): `tooNewLogEventStartIndex` is the first too-new
//! event (inclusive), `tooOldLogEventEndIndex` ends the too-old events (exclusive, so `2` means
//! events 0 and 1), and `expiredLogEventEndIndex` ends the expired ones the same way. Because
//! the batch is in order, too-old events are a prefix, expired ones follow them, and too-new
//! ones are a suffix; the events between are accepted. An event older than 14 days counts as
//! too old even when it is also past retention.
//!
//! Error texts: the order one is AWS's (LocalStack's AWS-validated snapshot). The size and span
//! ones follow what client libraries report from AWS [unverified].

use std::ops::Range;

use thiserror::Error;

/// Largest batch: message bytes plus [`EVENT_OVERHEAD_BYTES`] per event.
pub const MAX_BATCH_BYTES: usize = 1_048_576;
/// Bytes AWS adds to every event when sizing a batch.
pub const EVENT_OVERHEAD_BYTES: usize = 26;
/// Most events in one batch.
pub const MAX_BATCH_EVENTS: usize = 10_000;
/// Largest event, message plus overhead (1 MB).
pub const MAX_EVENT_BYTES: usize = 1_048_576;
/// Events further ahead of `now` are too new.
pub const MAX_FUTURE_MS: i64 = 2 * 60 * 60 * 1000;
/// Events further behind `now` are too old.
pub const MAX_AGE_MS: i64 = 14 * DAY_MS;
/// Longest span of the valid events in one batch.
pub const MAX_SPAN_MS: i64 = DAY_MS;

const DAY_MS: i64 = 24 * 60 * 60 * 1000;

/// What the rules need to know of one event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EventShape {
    /// The event's `timestamp`, milliseconds since the epoch.
    pub timestamp_ms: i64,
    /// UTF-8 length of the event's `message`.
    pub message_bytes: usize,
}

/// `rejectedLogEventsInfo`; all `None` when nothing was rejected (AWS then omits the member).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RejectedLogEventsInfo {
    /// Index of the first too-new event (inclusive).
    pub too_new_log_event_start_index: Option<usize>,
    /// Index after the last too-old event (exclusive).
    pub too_old_log_event_end_index: Option<usize>,
    /// Index after the last expired event (exclusive).
    pub expired_log_event_end_index: Option<usize>,
}

impl RejectedLogEventsInfo {
    /// Whether any event was rejected.
    pub fn any(&self) -> bool {
        self.too_new_log_event_start_index.is_some()
            || self.too_old_log_event_end_index.is_some()
            || self.expired_log_event_end_index.is_some()
    }
}

/// The outcome of a batch that passes the rules.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Admission {
    /// Indexes of the events to store (possibly empty).
    pub accepted: Range<usize>,
    /// What to report as rejected.
    pub rejected: RejectedLogEventsInfo,
}

/// Why a whole PutLogEvents call fails; every case is `InvalidParameterException`.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum PutRulesError {
    /// No events (the model's minimum is 1).
    #[error(
        "1 validation error detected: Value '[]' at 'logEvents' failed to satisfy constraint: \
         Member must have length greater than or equal to 1"
    )]
    NoEvents,
    /// More than [`MAX_BATCH_EVENTS`] events.
    #[error(
        "1 validation error detected: Value at 'logEvents' failed to satisfy constraint: Member \
         must have length less than or equal to 10000"
    )]
    TooManyEvents {
        /// Events in the batch.
        count: usize,
    },
    /// An empty message (the model's minimum length is 1).
    #[error(
        "1 validation error detected: Value '' at 'logEvents.{member}.member.message' failed to \
         satisfy constraint: Member must have length greater than or equal to 1"
    )]
    EmptyMessage {
        /// 1-based position, as AWS numbers list members.
        member: usize,
    },
    /// One event over [`MAX_EVENT_BYTES`].
    #[error("Log event too large: {bytes} bytes exceeds limit of {MAX_EVENT_BYTES}")]
    EventTooLarge {
        /// Index of the event.
        index: usize,
        /// Its size, message plus overhead.
        bytes: usize,
    },
    /// The batch over [`MAX_BATCH_BYTES`].
    #[error("Upload too large: {bytes} bytes exceeds limit of {MAX_BATCH_BYTES}")]
    BatchTooLarge {
        /// The batch size, messages plus overhead.
        bytes: usize,
    },
    /// An event earlier than the one before it.
    #[error("Log events in a single PutLogEvents request must be in chronological order.")]
    NotChronological {
        /// Index of the first out-of-order event.
        index: usize,
    },
    /// The valid events span more than [`MAX_SPAN_MS`].
    #[error(
        "The batch of log events in a single PutLogEvents request cannot span more than 24 hours."
    )]
    SpanTooLong {
        /// Milliseconds between the first and last valid event.
        span_ms: i64,
    },
}

/// Applies the PutLogEvents rules at `now_ms` to a batch, for a group whose retention is
/// `retention_days` (`None`: never expires).
pub fn check_batch(
    now_ms: i64,
    retention_days: Option<u32>,
    events: &[EventShape],
) -> Result<Admission, PutRulesError> {
    if events.is_empty() {
        return Err(PutRulesError::NoEvents);
    }
    if events.len() > MAX_BATCH_EVENTS {
        return Err(PutRulesError::TooManyEvents {
            count: events.len(),
        });
    }
    let mut batch_bytes = 0usize;
    for (index, event) in events.iter().enumerate() {
        if event.message_bytes == 0 {
            return Err(PutRulesError::EmptyMessage { member: index + 1 });
        }
        let bytes = event.message_bytes.saturating_add(EVENT_OVERHEAD_BYTES);
        if bytes > MAX_EVENT_BYTES {
            return Err(PutRulesError::EventTooLarge { index, bytes });
        }
        batch_bytes = batch_bytes.saturating_add(bytes);
    }
    if batch_bytes > MAX_BATCH_BYTES {
        return Err(PutRulesError::BatchTooLarge { bytes: batch_bytes });
    }
    if let Some(index) = events
        .windows(2)
        .position(|w| w[1].timestamp_ms < w[0].timestamp_ms)
    {
        return Err(PutRulesError::NotChronological { index: index + 1 });
    }

    let oldest_allowed = now_ms.saturating_sub(MAX_AGE_MS);
    let newest_allowed = now_ms.saturating_add(MAX_FUTURE_MS);
    let retention_cutoff =
        retention_days.map(|days| now_ms.saturating_sub(i64::from(days).saturating_mul(DAY_MS)));

    // In chronological order the classes are contiguous, so counting them is enough.
    let too_old_end = events.partition_point(|e| e.timestamp_ms < oldest_allowed);
    let too_new_start = events.partition_point(|e| e.timestamp_ms <= newest_allowed);
    let expired_end = match retention_cutoff {
        Some(cutoff) => events
            .partition_point(|e| e.timestamp_ms < cutoff)
            .max(too_old_end),
        None => too_old_end,
    };

    let valid = events.get(too_old_end..too_new_start).unwrap_or_default();
    if let (Some(first), Some(last)) = (valid.first(), valid.last()) {
        let span_ms = last.timestamp_ms.saturating_sub(first.timestamp_ms);
        if span_ms > MAX_SPAN_MS {
            return Err(PutRulesError::SpanTooLong { span_ms });
        }
    }

    let accepted_start = expired_end.min(too_new_start);
    Ok(Admission {
        accepted: accepted_start..too_new_start,
        rejected: RejectedLogEventsInfo {
            too_new_log_event_start_index: (too_new_start < events.len()).then_some(too_new_start),
            too_old_log_event_end_index: (too_old_end > 0).then_some(too_old_end),
            expired_log_event_end_index: (expired_end > too_old_end).then_some(expired_end),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_700_000_000_000;
    const HOUR: i64 = 60 * 60 * 1000;

    fn at(timestamps: &[i64]) -> Vec<EventShape> {
        timestamps
            .iter()
            .map(|&t| EventShape {
                timestamp_ms: t,
                message_bytes: 10,
            })
            .collect()
    }

    #[test]
    fn a_batch_of_current_events_is_accepted_whole() {
        let admission = check_batch(NOW, None, &at(&[NOW - HOUR, NOW, NOW + HOUR])).unwrap();
        assert_eq!(admission.accepted, 0..3);
        assert!(!admission.rejected.any());
    }

    #[test]
    fn too_old_end_index_is_exclusive_and_too_new_start_index_is_inclusive() {
        let events = at(&[
            NOW - 15 * DAY_MS,
            NOW - 15 * DAY_MS + 1,
            NOW,
            NOW + 3 * HOUR,
        ]);
        let admission = check_batch(NOW, None, &events).unwrap();
        assert_eq!(admission.rejected.too_old_log_event_end_index, Some(2));
        assert_eq!(admission.rejected.too_new_log_event_start_index, Some(3));
        assert_eq!(admission.rejected.expired_log_event_end_index, None);
        assert_eq!(admission.accepted, 2..3);
    }

    #[test]
    fn the_boundaries_themselves_are_accepted() {
        let events = at(&[NOW - MAX_AGE_MS, NOW + MAX_FUTURE_MS]);
        // These two span 14 days + 2 h, so check each alone.
        assert_eq!(check_batch(NOW, None, &events[..1]).unwrap().accepted, 0..1);
        assert_eq!(check_batch(NOW, None, &events[1..]).unwrap().accepted, 0..1);
    }

    #[test]
    fn events_past_retention_are_expired_after_the_too_old_ones() {
        const MINUTE: i64 = 60 * 1000;
        let events = at(&[
            NOW - 20 * DAY_MS,
            NOW - DAY_MS - 30 * MINUTE,
            NOW - DAY_MS - 10 * MINUTE,
            NOW - HOUR,
        ]);
        // The valid events (all but the first) span 23.5 hours, within the limit.
        let admission = check_batch(NOW, Some(1), &events).unwrap();
        assert_eq!(admission.rejected.too_old_log_event_end_index, Some(1));
        assert_eq!(admission.rejected.expired_log_event_end_index, Some(3));
        assert_eq!(admission.accepted, 3..4);
    }

    #[test]
    fn a_batch_with_every_event_rejected_accepts_an_empty_range() {
        let admission = check_batch(NOW, None, &at(&[NOW + 3 * HOUR])).unwrap();
        assert_eq!(admission.accepted, 0..0);
        assert_eq!(admission.rejected.too_new_log_event_start_index, Some(0));
        let admission = check_batch(NOW, Some(1), &at(&[NOW - 3 * DAY_MS])).unwrap();
        assert_eq!(admission.accepted, 1..1);
        assert_eq!(admission.rejected.expired_log_event_end_index, Some(1));
    }

    #[test]
    fn events_out_of_order_fail_the_call_with_the_aws_text() {
        let err = check_batch(NOW, None, &at(&[NOW, NOW - 1])).unwrap_err();
        assert_eq!(err, PutRulesError::NotChronological { index: 1 });
        assert_eq!(
            err.to_string(),
            "Log events in a single PutLogEvents request must be in chronological order."
        );
        assert!(check_batch(NOW, None, &at(&[NOW, NOW])).is_ok());
    }

    #[test]
    fn valid_events_spanning_more_than_a_day_fail_the_call() {
        assert!(check_batch(NOW, None, &at(&[NOW - DAY_MS, NOW])).is_ok());
        let err = check_batch(NOW, None, &at(&[NOW - DAY_MS - 1, NOW])).unwrap_err();
        assert_eq!(
            err,
            PutRulesError::SpanTooLong {
                span_ms: DAY_MS + 1
            }
        );
        // Rejected events do not count towards the span.
        assert!(check_batch(NOW, None, &at(&[NOW - 20 * DAY_MS, NOW])).is_ok());
    }

    #[test]
    fn batch_size_counts_26_bytes_per_event() {
        let fits = vec![
            EventShape {
                timestamp_ms: NOW,
                message_bytes: 1024 - 26
            };
            1024
        ];
        assert!(check_batch(NOW, None, &fits).is_ok());
        let mut over = fits.clone();
        over[0].message_bytes += 1;
        assert_eq!(
            check_batch(NOW, None, &over),
            Err(PutRulesError::BatchTooLarge {
                bytes: MAX_BATCH_BYTES + 1
            })
        );
    }

    #[test]
    fn one_event_may_be_one_megabyte_with_its_overhead() {
        let max = EventShape {
            timestamp_ms: NOW,
            message_bytes: MAX_EVENT_BYTES - 26,
        };
        assert!(check_batch(NOW, None, &[max]).is_ok());
        let over = EventShape {
            message_bytes: MAX_EVENT_BYTES - 25,
            ..max
        };
        assert_eq!(
            check_batch(NOW, None, &[over]),
            Err(PutRulesError::EventTooLarge {
                index: 0,
                bytes: MAX_EVENT_BYTES + 1
            })
        );
    }

    #[test]
    fn counts_are_limited_to_one_through_ten_thousand() {
        assert_eq!(check_batch(NOW, None, &[]), Err(PutRulesError::NoEvents));
        let many = vec![
            EventShape {
                timestamp_ms: NOW,
                message_bytes: 1
            };
            MAX_BATCH_EVENTS + 1
        ];
        assert_eq!(
            check_batch(NOW, None, &many),
            Err(PutRulesError::TooManyEvents {
                count: MAX_BATCH_EVENTS + 1
            })
        );
        assert!(check_batch(NOW, None, &many[1..]).is_ok());
        let empty = EventShape {
            timestamp_ms: NOW,
            message_bytes: 0,
        };
        assert_eq!(
            check_batch(NOW, None, &[empty]),
            Err(PutRulesError::EmptyMessage { member: 1 })
        );
    }

    #[test]
    fn extreme_timestamps_do_not_overflow() {
        let events = at(&[i64::MIN, i64::MAX]);
        let admission = check_batch(NOW, Some(3653), &events).unwrap();
        assert_eq!(admission.accepted, 1..1);
        assert_eq!(
            check_batch(i64::MAX, None, &at(&[i64::MIN]))
                .unwrap()
                .accepted,
            1..1
        );
    }
}

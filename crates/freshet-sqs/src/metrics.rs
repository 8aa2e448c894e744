// SPDX-License-Identifier: Apache-2.0
//! The AWS/SQS metrics a queue publishes (dimension `QueueName`).
//!
//! Each open queue holds a [`QueueMetrics`] built when it opens and dropped with it; calls
//! record once each (SentMessageSize once per message, as AWS's average is per message).
//! The four `ApproximateNumberOfMessages*`/`ApproximateAgeOfOldestMessage` values describe
//! state, so the queue is a [`GaugeSource`] sampled once a minute.

use freshet_metrics::{MetricKey, Recorder, Series, Unit};

/// The namespace.
pub const NAMESPACE: &str = "AWS/SQS";

/// One queue's metric handles.
pub(crate) struct QueueMetrics {
    pub sent: Series,
    pub sent_size: Series,
    pub received: Series,
    pub empty_receives: Series,
    pub deleted: Series,
}

impl QueueMetrics {
    pub fn new(recorder: &Recorder, queue: &str) -> Self {
        let count = |m: &str| recorder.series(key(queue, m), Unit::Count);
        Self {
            sent: count("NumberOfMessagesSent"),
            sent_size: recorder.series(key(queue, "SentMessageSize"), Unit::Bytes),
            received: count("NumberOfMessagesReceived"),
            empty_receives: count("NumberOfEmptyReceives"),
            deleted: count("NumberOfMessagesDeleted"),
        }
    }

    /// A SendMessage or SendMessageBatch call that stored messages of these sizes.
    pub fn sent(&self, sizes: impl IntoIterator<Item = usize>) {
        let mut n = 0u64;
        for s in sizes {
            self.sent_size.record(s as f64);
            n += 1;
        }
        if n > 0 {
            self.sent.record(n as f64);
        }
    }

    /// A ReceiveMessage call that returned `n` messages.
    pub fn received(&self, n: usize) {
        self.received.record(n as f64);
        self.empty_receives.record(if n == 0 { 1.0 } else { 0.0 });
    }
}

/// The key of queue metric `name`.
pub(crate) fn key(queue: &str, name: &str) -> MetricKey {
    MetricKey::new(NAMESPACE, name, [("QueueName", queue)])
}

/// The queue's gauges as of `now_ms`.
pub(crate) fn gauges(
    queue: &str,
    counts: crate::engine::Counts,
    oldest_sent_ms: Option<i64>,
    now_ms: i64,
    out: &mut Vec<(MetricKey, Unit, f64)>,
) {
    out.push((
        key(queue, "ApproximateNumberOfMessagesVisible"),
        Unit::Count,
        counts.visible as f64,
    ));
    out.push((
        key(queue, "ApproximateNumberOfMessagesNotVisible"),
        Unit::Count,
        counts.not_visible as f64,
    ));
    out.push((
        key(queue, "ApproximateNumberOfMessagesDelayed"),
        Unit::Count,
        counts.delayed as f64,
    ));
    let age_s = oldest_sent_ms.map_or(0, |sent| (now_ms - sent).max(0) / 1000);
    out.push((
        key(queue, "ApproximateAgeOfOldestMessage"),
        Unit::Seconds,
        age_s as f64,
    ));
}

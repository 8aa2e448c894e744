// SPDX-License-Identifier: Apache-2.0
//! Queue attributes: names, defaults, ranges, validation, CreateQueue idempotency and the
//! rendering of GetQueueAttributes.
//!
//! Invariants: a [`QueueAttributes`] always holds valid values; `FifoQueue` never changes
//! after creation; FIFO-only attributes exist only on FIFO queues (on a standard queue they
//! are `Unknown Attribute`, as AWS answers). Errors: an unknown or read-only name is
//! `InvalidAttributeName` (`Unknown Attribute X.`), a bad value `InvalidAttributeValue`
//! (`Invalid value for the parameter X.`), the policies `InvalidParameterValue` (see
//! [`crate::redrive`]).

use std::collections::BTreeMap;

use crate::error::Error;
use crate::redrive::{RedriveAllowPolicy, RedrivePolicy};

/// Where FIFO deduplication applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DedupScope {
    /// One deduplication space per queue (the default).
    Queue,
    /// One per message group (high-throughput mode).
    MessageGroup,
}

/// Which throughput quota applies to a FIFO queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ThroughputLimit {
    /// Per queue (the default).
    PerQueue,
    /// Per message group (needs DeduplicationScope messageGroup).
    PerMessageGroupId,
}

/// A queue's settable attributes, typed and valid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueAttributes {
    /// DelaySeconds, 0–900, default 0.
    pub delay_seconds: u32,
    /// MaximumMessageSize, 1024–1048576, default 1048576.
    pub maximum_message_size: u32,
    /// MessageRetentionPeriod, 60–1209600, default 345600.
    pub message_retention_period: u32,
    /// ReceiveMessageWaitTimeSeconds, 0–20, default 0.
    pub receive_message_wait_time_seconds: u32,
    /// VisibilityTimeout, 0–43200, default 30.
    pub visibility_timeout: u32,
    /// Policy (JSON text as given).
    pub policy: Option<String>,
    /// RedrivePolicy.
    pub redrive_policy: Option<RedrivePolicy>,
    /// RedriveAllowPolicy.
    pub redrive_allow_policy: Option<RedriveAllowPolicy>,
    /// KmsMasterKeyId.
    pub kms_master_key_id: Option<String>,
    /// KmsDataKeyReusePeriodSeconds, 60–86400, default 300.
    pub kms_data_key_reuse_period_seconds: u32,
    /// SqsManagedSseEnabled, default true (what AWS shows on new queues).
    pub sqs_managed_sse_enabled: bool,
    /// FifoQueue (create-only).
    pub fifo_queue: bool,
    /// ContentBasedDeduplication (FIFO only).
    pub content_based_deduplication: bool,
    /// DeduplicationScope (FIFO only).
    pub deduplication_scope: DedupScope,
    /// FifoThroughputLimit (FIFO only).
    pub fifo_throughput_limit: ThroughputLimit,
}

/// Read-only attributes and `All`, which GetQueueAttributes accepts but Create/Set refuse.
const READ_ONLY: [&str; 7] = [
    "ApproximateNumberOfMessages",
    "ApproximateNumberOfMessagesNotVisible",
    "ApproximateNumberOfMessagesDelayed",
    "CreatedTimestamp",
    "LastModifiedTimestamp",
    "QueueArn",
    "All",
];

const FIFO_ONLY: [&str; 4] = [
    "FifoQueue",
    "ContentBasedDeduplication",
    "DeduplicationScope",
    "FifoThroughputLimit",
];

/// Every attribute name of the model's `QueueAttributeName` except `All`.
pub const ALL_NAMES: [&str; 21] = [
    "Policy",
    "VisibilityTimeout",
    "MaximumMessageSize",
    "MessageRetentionPeriod",
    "ApproximateNumberOfMessages",
    "ApproximateNumberOfMessagesNotVisible",
    "CreatedTimestamp",
    "LastModifiedTimestamp",
    "QueueArn",
    "ApproximateNumberOfMessagesDelayed",
    "DelaySeconds",
    "ReceiveMessageWaitTimeSeconds",
    "RedrivePolicy",
    "FifoQueue",
    "ContentBasedDeduplication",
    "KmsMasterKeyId",
    "KmsDataKeyReusePeriodSeconds",
    "DeduplicationScope",
    "FifoThroughputLimit",
    "RedriveAllowPolicy",
    "SqsManagedSseEnabled",
];

/// The computed attributes of a queue at the time of a GetQueueAttributes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Computed {
    /// ApproximateNumberOfMessages.
    pub visible: u64,
    /// ApproximateNumberOfMessagesNotVisible.
    pub not_visible: u64,
    /// ApproximateNumberOfMessagesDelayed.
    pub delayed: u64,
    /// CreatedTimestamp, epoch seconds.
    pub created_s: i64,
    /// LastModifiedTimestamp, epoch seconds.
    pub last_modified_s: i64,
    /// QueueArn.
    pub arn: String,
}

fn unknown(name: &str) -> Error {
    Error::InvalidAttributeName {
        message: format!("Unknown Attribute {name}."),
    }
}

fn bad_value(name: &str) -> Error {
    Error::InvalidAttributeValue {
        message: format!("Invalid value for the parameter {name}."),
    }
}

fn int_in(name: &str, value: &str, lo: u32, hi: u32) -> Result<u32, Error> {
    value
        .trim()
        .parse::<u32>()
        .ok()
        .filter(|v| (lo..=hi).contains(v))
        .ok_or_else(|| bad_value(name))
}

fn boolean(name: &str, value: &str) -> Result<bool, Error> {
    match value.to_ascii_lowercase().as_str() {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err(bad_value(name)),
    }
}

impl QueueAttributes {
    /// The defaults of a new queue.
    pub fn defaults(fifo: bool) -> QueueAttributes {
        QueueAttributes {
            delay_seconds: 0,
            maximum_message_size: 1_048_576,
            message_retention_period: 345_600,
            receive_message_wait_time_seconds: 0,
            visibility_timeout: 30,
            policy: None,
            redrive_policy: None,
            redrive_allow_policy: None,
            kms_master_key_id: None,
            kms_data_key_reuse_period_seconds: 300,
            sqs_managed_sse_enabled: true,
            fifo_queue: fifo,
            content_based_deduplication: false,
            deduplication_scope: DedupScope::Queue,
            fifo_throughput_limit: ThroughputLimit::PerQueue,
        }
    }

    /// Whether the CreateQueue attributes ask for a FIFO queue (`FifoQueue=true`).
    pub fn wants_fifo(given: &BTreeMap<String, String>) -> Result<bool, Error> {
        given
            .get("FifoQueue")
            .map_or(Ok(false), |v| boolean("FifoQueue", v))
    }

    /// The attributes of a new queue: defaults, then `given` (CreateQueue's map).
    pub fn for_create(given: &BTreeMap<String, String>) -> Result<QueueAttributes, Error> {
        let fifo = Self::wants_fifo(given)?;
        let mut a = Self::defaults(fifo);
        a.apply(given, true)?;
        Ok(a)
    }

    /// Applies SetQueueAttributes (`creating = false`) or CreateQueue (`true`). Validates
    /// every entry before changing anything.
    pub fn apply(&mut self, given: &BTreeMap<String, String>, creating: bool) -> Result<(), Error> {
        let mut next = self.clone();
        if given.get("KmsMasterKeyId").is_some_and(|k| !k.is_empty())
            && given
                .get("SqsManagedSseEnabled")
                .is_some_and(|v| v.eq_ignore_ascii_case("true"))
        {
            return Err(Error::InvalidAttributeName {
                message: "You can use one type of server-side encryption (SSE) at one time. You can either enable KMS SSE or SQS SSE.".into(),
            });
        }
        for (name, value) in given {
            next.set_one(name, value, creating)?;
        }
        if next.fifo_throughput_limit == ThroughputLimit::PerMessageGroupId
            && next.deduplication_scope != DedupScope::MessageGroup
        {
            return Err(bad_value("FifoThroughputLimit"));
        }
        *self = next;
        Ok(())
    }

    fn set_one(&mut self, name: &str, value: &str, creating: bool) -> Result<(), Error> {
        if READ_ONLY.contains(&name) || !ALL_NAMES.contains(&name) {
            return Err(unknown(name));
        }
        if FIFO_ONLY.contains(&name) && !self.fifo_queue {
            // A standard queue: FifoQueue=false is allowed at creation, nothing else.
            if creating && name == "FifoQueue" && !boolean(name, value)? {
                return Ok(());
            }
            return Err(unknown(name));
        }
        match name {
            "DelaySeconds" => self.delay_seconds = int_in(name, value, 0, 900)?,
            "MaximumMessageSize" => {
                self.maximum_message_size = int_in(name, value, 1024, 1_048_576)?;
            }
            "MessageRetentionPeriod" => {
                self.message_retention_period = int_in(name, value, 60, 1_209_600)?;
            }
            "ReceiveMessageWaitTimeSeconds" => {
                self.receive_message_wait_time_seconds = int_in(name, value, 0, 20)?;
            }
            "VisibilityTimeout" => self.visibility_timeout = int_in(name, value, 0, 43_200)?,
            "KmsDataKeyReusePeriodSeconds" => {
                self.kms_data_key_reuse_period_seconds = int_in(name, value, 60, 86_400)?;
            }
            "Policy" => {
                self.policy = if value.is_empty() {
                    None
                } else if serde_json::from_str::<serde_json::Value>(value)
                    .is_ok_and(|v| v.is_object())
                {
                    Some(value.to_owned())
                } else {
                    return Err(bad_value(name));
                };
            }
            "RedrivePolicy" => {
                self.redrive_policy = if value.is_empty() {
                    None
                } else {
                    Some(RedrivePolicy::parse(value)?)
                };
            }
            "RedriveAllowPolicy" => {
                self.redrive_allow_policy = if value.is_empty() {
                    None
                } else {
                    Some(RedriveAllowPolicy::parse(value)?)
                };
            }
            "KmsMasterKeyId" => {
                self.kms_master_key_id = (!value.is_empty()).then(|| value.to_owned());
                if self.kms_master_key_id.is_some() {
                    self.sqs_managed_sse_enabled = false;
                }
            }
            "SqsManagedSseEnabled" => {
                self.sqs_managed_sse_enabled = boolean(name, value)?;
                if self.sqs_managed_sse_enabled {
                    self.kms_master_key_id = None;
                }
            }
            "FifoQueue" => {
                if !boolean(name, value)? {
                    return Err(Error::InvalidAttributeValue {
                        message: "Invalid value for the parameter FifoQueue. Reason: Modifying queue type is not supported.".into(),
                    });
                }
            }
            "ContentBasedDeduplication" => {
                self.content_based_deduplication = boolean(name, value)?;
            }
            "DeduplicationScope" => {
                self.deduplication_scope = match value {
                    "queue" => DedupScope::Queue,
                    "messageGroup" => DedupScope::MessageGroup,
                    _ => return Err(bad_value(name)),
                };
            }
            "FifoThroughputLimit" => {
                self.fifo_throughput_limit = match value {
                    "perQueue" => ThroughputLimit::PerQueue,
                    "perMessageGroupId" => ThroughputLimit::PerMessageGroupId,
                    _ => return Err(bad_value(name)),
                };
            }
            _ => return Err(unknown(name)),
        }
        Ok(())
    }

    /// CreateQueue on an existing name: AWS compares only the attributes the request gives;
    /// any that differs from the queue's value is `QueueNameExists` naming the first one.
    pub fn check_create_matches(&self, given: &BTreeMap<String, String>) -> Result<(), Error> {
        let mut asked = QueueAttributes::defaults(Self::wants_fifo(given)?);
        asked.apply(given, true)?;
        for name in given.keys() {
            if self.setting(name) != asked.setting(name) {
                return Err(Error::QueueNameExists {
                    attribute: name.clone(),
                });
            }
        }
        Ok(())
    }

    /// The value of a settable attribute as GetQueueAttributes shows it, `None` when unset
    /// or not applicable to this queue type.
    pub fn setting(&self, name: &str) -> Option<String> {
        let fifo = self.fifo_queue;
        match name {
            "DelaySeconds" => Some(self.delay_seconds.to_string()),
            "MaximumMessageSize" => Some(self.maximum_message_size.to_string()),
            "MessageRetentionPeriod" => Some(self.message_retention_period.to_string()),
            "ReceiveMessageWaitTimeSeconds" => {
                Some(self.receive_message_wait_time_seconds.to_string())
            }
            "VisibilityTimeout" => Some(self.visibility_timeout.to_string()),
            "Policy" => self.policy.clone(),
            "RedrivePolicy" => self.redrive_policy.as_ref().map(RedrivePolicy::render),
            "RedriveAllowPolicy" => self
                .redrive_allow_policy
                .as_ref()
                .map(RedriveAllowPolicy::render),
            "KmsMasterKeyId" => self.kms_master_key_id.clone(),
            "KmsDataKeyReusePeriodSeconds" => self
                .kms_master_key_id
                .as_ref()
                .map(|_| self.kms_data_key_reuse_period_seconds.to_string()),
            "SqsManagedSseEnabled" => Some(self.sqs_managed_sse_enabled.to_string()),
            "FifoQueue" => fifo.then(|| "true".to_owned()),
            "ContentBasedDeduplication" => {
                fifo.then(|| self.content_based_deduplication.to_string())
            }
            "DeduplicationScope" => fifo.then(|| {
                match self.deduplication_scope {
                    DedupScope::Queue => "queue",
                    DedupScope::MessageGroup => "messageGroup",
                }
                .to_owned()
            }),
            "FifoThroughputLimit" => fifo.then(|| {
                match self.fifo_throughput_limit {
                    ThroughputLimit::PerQueue => "perQueue",
                    ThroughputLimit::PerMessageGroupId => "perMessageGroupId",
                }
                .to_owned()
            }),
            _ => None,
        }
    }

    /// GetQueueAttributes: `names` as requested (`All` for everything; none gives an empty
    /// map, as AWS does). An unknown name is `InvalidAttributeName`.
    pub fn render(
        &self,
        names: &[String],
        computed: &Computed,
    ) -> Result<BTreeMap<String, String>, Error> {
        for n in names {
            if n != "All" && !ALL_NAMES.contains(&n.as_str()) {
                return Err(unknown(n));
            }
        }
        let all = names.iter().any(|n| n == "All");
        let mut out = BTreeMap::new();
        for name in ALL_NAMES {
            if !all && !names.iter().any(|n| n == name) {
                continue;
            }
            let value = match name {
                "ApproximateNumberOfMessages" => Some(computed.visible.to_string()),
                "ApproximateNumberOfMessagesNotVisible" => Some(computed.not_visible.to_string()),
                "ApproximateNumberOfMessagesDelayed" => Some(computed.delayed.to_string()),
                "CreatedTimestamp" => Some(computed.created_s.to_string()),
                "LastModifiedTimestamp" => Some(computed.last_modified_s.to_string()),
                "QueueArn" => Some(computed.arn.clone()),
                other => self.setting(other),
            };
            if let Some(v) = value {
                out.insert(name.to_owned(), v);
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    fn computed() -> Computed {
        Computed {
            visible: 1,
            not_visible: 2,
            delayed: 3,
            created_s: 1_700_000_000,
            last_modified_s: 1_700_000_001,
            arn: "arn:aws:sqs:us-east-1:000000000000:q".into(),
        }
    }

    #[test]
    fn all_on_a_standard_queue_shows_what_aws_shows() {
        let a = QueueAttributes::defaults(false);
        let r = a.render(&["All".into()], &computed()).unwrap();
        let keys: Vec<&str> = r.keys().map(String::as_str).collect();
        assert_eq!(
            keys,
            [
                "ApproximateNumberOfMessages",
                "ApproximateNumberOfMessagesDelayed",
                "ApproximateNumberOfMessagesNotVisible",
                "CreatedTimestamp",
                "DelaySeconds",
                "LastModifiedTimestamp",
                "MaximumMessageSize",
                "MessageRetentionPeriod",
                "QueueArn",
                "ReceiveMessageWaitTimeSeconds",
                "SqsManagedSseEnabled",
                "VisibilityTimeout"
            ]
        );
        assert_eq!(r["MessageRetentionPeriod"], "345600");
        assert_eq!(r["SqsManagedSseEnabled"], "true");
    }

    #[test]
    fn all_on_a_fifo_queue_adds_the_fifo_attributes() {
        let a = QueueAttributes::for_create(&map(&[
            ("FifoQueue", "true"),
            ("ContentBasedDeduplication", "true"),
        ]))
        .unwrap();
        let r = a.render(&["All".into()], &computed()).unwrap();
        assert_eq!(r["FifoQueue"], "true");
        assert_eq!(r["ContentBasedDeduplication"], "true");
        assert_eq!(r["DeduplicationScope"], "queue");
        assert_eq!(r["FifoThroughputLimit"], "perQueue");
    }

    #[test]
    fn no_names_give_an_empty_map_and_unknown_names_an_error() {
        let a = QueueAttributes::defaults(false);
        assert!(a.render(&[], &computed()).unwrap().is_empty());
        assert_eq!(
            a.render(&["Bogus".into()], &computed())
                .unwrap_err()
                .to_string(),
            "Unknown Attribute Bogus."
        );
    }

    #[test]
    fn out_of_range_values_are_invalid_attribute_values() {
        for (k, v) in [
            ("DelaySeconds", "901"),
            ("MaximumMessageSize", "1023"),
            ("MessageRetentionPeriod", "59"),
            ("ReceiveMessageWaitTimeSeconds", "21"),
            ("VisibilityTimeout", "43201"),
            ("VisibilityTimeout", "x"),
            ("KmsDataKeyReusePeriodSeconds", "59"),
        ] {
            let e = QueueAttributes::for_create(&map(&[(k, v)])).unwrap_err();
            assert_eq!(
                e.to_string(),
                format!("Invalid value for the parameter {k}.")
            );
            assert_eq!(e.code(), "InvalidAttributeValue");
        }
    }

    #[test]
    fn fifo_attributes_are_unknown_on_standard_queues() {
        let e = QueueAttributes::for_create(&map(&[("ContentBasedDeduplication", "true")]))
            .unwrap_err();
        assert_eq!(
            e.to_string(),
            "Unknown Attribute ContentBasedDeduplication."
        );
        assert!(QueueAttributes::for_create(&map(&[("FifoQueue", "false")])).is_ok());
        let mut std = QueueAttributes::defaults(false);
        assert_eq!(
            std.apply(&map(&[("FifoQueue", "true")]), false)
                .unwrap_err()
                .to_string(),
            "Unknown Attribute FifoQueue."
        );
    }

    #[test]
    fn the_queue_type_cannot_change() {
        let mut fifo = QueueAttributes::defaults(true);
        assert_eq!(
            fifo.apply(&map(&[("FifoQueue", "false")]), false)
                .unwrap_err()
                .to_string(),
            "Invalid value for the parameter FifoQueue. Reason: Modifying queue type is not supported."
        );
    }

    #[test]
    fn read_only_attributes_cannot_be_set() {
        let mut a = QueueAttributes::defaults(false);
        assert!(a.apply(&map(&[("QueueArn", "x")]), false).is_err());
        assert!(
            a.apply(&map(&[("ApproximateNumberOfMessages", "1")]), false)
                .is_err()
        );
    }

    #[test]
    fn a_failed_set_changes_nothing() {
        let mut a = QueueAttributes::defaults(false);
        let before = a.clone();
        assert!(
            a.apply(
                &map(&[("DelaySeconds", "5"), ("VisibilityTimeout", "-1")]),
                false
            )
            .is_err()
        );
        assert_eq!(a, before);
    }

    #[test]
    fn kms_and_sqs_sse_are_mutually_exclusive() {
        let e = QueueAttributes::for_create(&map(&[
            ("KmsMasterKeyId", "alias/aws/sqs"),
            ("SqsManagedSseEnabled", "true"),
        ]))
        .unwrap_err();
        assert_eq!(e.code(), "InvalidAttributeName");
        let a = QueueAttributes::for_create(&map(&[("KmsMasterKeyId", "k")])).unwrap();
        let r = a.render(&["All".into()], &computed()).unwrap();
        assert_eq!(r["SqsManagedSseEnabled"], "false");
        assert_eq!(r["KmsDataKeyReusePeriodSeconds"], "300");
    }

    #[test]
    fn per_group_throughput_needs_group_dedup_scope() {
        assert!(
            QueueAttributes::for_create(&map(&[
                ("FifoQueue", "true"),
                ("FifoThroughputLimit", "perMessageGroupId")
            ]))
            .is_err()
        );
        assert!(
            QueueAttributes::for_create(&map(&[
                ("FifoQueue", "true"),
                ("DeduplicationScope", "messageGroup"),
                ("FifoThroughputLimit", "perMessageGroupId")
            ]))
            .is_ok()
        );
    }

    #[test]
    fn create_is_idempotent_for_the_given_attributes_only() {
        let existing = QueueAttributes::for_create(&map(&[("DelaySeconds", "5")])).unwrap();
        assert!(
            existing
                .check_create_matches(&map(&[("DelaySeconds", "5")]))
                .is_ok()
        );
        assert!(existing.check_create_matches(&map(&[])).is_ok());
        assert_eq!(
            existing
                .check_create_matches(&map(&[("DelaySeconds", "6")]))
                .unwrap_err()
                .to_string(),
            "A queue already exists with the same name and a different value for attribute DelaySeconds"
        );
        // A given default differs from a non-default existing value.
        let other = QueueAttributes::for_create(&map(&[("VisibilityTimeout", "60")])).unwrap();
        assert!(
            other
                .check_create_matches(&map(&[("VisibilityTimeout", "30")]))
                .is_err()
        );
    }
}

// SPDX-License-Identifier: Apache-2.0
//! What ReceiveMessage shows of a delivered message: the requested system attributes and the
//! requested message attributes (with the MD5 over the ones returned, as AWS computes it).

use std::collections::BTreeMap;

use crate::engine::Delivery;
use crate::md5::md5_of_attributes;
use crate::message::{AttributeValue, StoredMessage};

/// Every system attribute a receive can ask for (besides `All`).
pub const SYSTEM_ATTRIBUTE_NAMES: [&str; 9] = [
    "SenderId",
    "SentTimestamp",
    "ApproximateReceiveCount",
    "ApproximateFirstReceiveTimestamp",
    "SequenceNumber",
    "MessageDeduplicationId",
    "MessageGroupId",
    "AWSTraceHeader",
    "DeadLetterQueueSourceArn",
];

/// The `Attributes` of a received message for the requested names
/// (MessageSystemAttributeNames, or the deprecated AttributeNames); `All` gives every one
/// that applies. Unknown names are ignored.
pub fn system_attributes(
    msg: &StoredMessage,
    delivery: &Delivery,
    requested: &[String],
) -> BTreeMap<String, String> {
    let all = requested.iter().any(|n| n == "All");
    let mut out = BTreeMap::new();
    for name in SYSTEM_ATTRIBUTE_NAMES {
        if !all && !requested.iter().any(|n| n == name) {
            continue;
        }
        let value = match name {
            "SenderId" => Some(msg.sender_id.clone()),
            "SentTimestamp" => Some(msg.sent_ms.to_string()),
            "ApproximateReceiveCount" => Some(delivery.receive_count.to_string()),
            "ApproximateFirstReceiveTimestamp" => Some(delivery.first_receive_ms.to_string()),
            "SequenceNumber" => msg.sequence_number.map(|s| s.to_string()),
            "MessageDeduplicationId" => msg.dedup_id.clone(),
            "MessageGroupId" => msg.group_id.clone(),
            "AWSTraceHeader" => msg.trace_header.clone(),
            "DeadLetterQueueSourceArn" => msg.dead_letter.as_ref().map(|d| d.source_arn.clone()),
            _ => None,
        };
        if let Some(v) = value {
            out.insert(name.to_owned(), v);
        }
    }
    out
}

/// The message attributes a receive asked for (MessageAttributeNames: `All`, `.*`,
/// `prefix.*` or exact names) and MD5OfMessageAttributes over exactly those.
pub fn message_attributes(
    attrs: &BTreeMap<String, AttributeValue>,
    requested: &[String],
) -> (BTreeMap<String, AttributeValue>, Option<String>) {
    let wanted = |name: &str| {
        requested.iter().any(|r| {
            r == "All"
                || r == name
                || r.strip_suffix(".*")
                    .is_some_and(|prefix| name.starts_with(prefix))
        })
    };
    let selected: BTreeMap<String, AttributeValue> = attrs
        .iter()
        .filter(|(n, _)| wanted(n))
        .map(|(n, v)| (n.clone(), v.clone()))
        .collect();
    let md5 = md5_of_attributes(&selected);
    (selected, md5)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::message::AttributeData;

    fn attrs() -> BTreeMap<String, AttributeValue> {
        [("General", "Kenobi"), ("Hello", "There"), ("Help.Me", "Me")]
            .into_iter()
            .map(|(n, v)| {
                (
                    n.to_owned(),
                    AttributeValue {
                        data_type: "String".into(),
                        data: AttributeData::String(v.into()),
                    },
                )
            })
            .collect()
    }

    fn names(n: &[&str]) -> Vec<String> {
        n.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn attribute_filters_give_the_digests_aws_recorded() {
        // LocalStack's AWS-recorded test_receive_message_message_attribute_names_filters.
        let a = attrs();
        let all = message_attributes(&a, &names(&["All"]));
        assert_eq!(all.1.as_deref(), Some("4c360f3fdafd970e05fae2f149d997f5"));
        assert_eq!(message_attributes(&a, &names(&[".*"])).0.len(), 3);
        let some = message_attributes(&a, &names(&["Hello", "General"]));
        assert_eq!(some.1.as_deref(), Some("fca026605781cb4126a1e9044df24232"));
        let one = message_attributes(&a, &names(&["Hello", "Missing"]));
        assert_eq!(one.1.as_deref(), Some("a311262e065454b75da111d535b8dacd"));
        let prefix = message_attributes(&a, &names(&["Hel.*"]));
        assert_eq!(
            prefix.1.as_deref(),
            Some("83fee93c1bcd8b9a5a923ffacdc636c7")
        );
        let none = message_attributes(&a, &names(&["Missing"]));
        assert!(none.0.is_empty() && none.1.is_none());
        assert!(message_attributes(&a, &[]).0.is_empty());
    }

    #[test]
    fn system_attributes_follow_the_request() {
        let msg = StoredMessage {
            message_id: "m".into(),
            sender_id: "AIDA".into(),
            sent_ms: 5,
            delay_seconds: 0,
            body: "b".into(),
            attributes: BTreeMap::new(),
            trace_header: None,
            group_id: Some("g".into()),
            dedup_id: Some("d".into()),
            sequence_number: Some(10_000_000_000_000_000_001),
            dead_letter: None,
        };
        let d = Delivery {
            offset: 0,
            receipt_handle: "h".into(),
            receive_count: 2,
            first_receive_ms: 7,
        };
        let all = system_attributes(&msg, &d, &names(&["All"]));
        assert_eq!(all["ApproximateReceiveCount"], "2");
        assert_eq!(all["ApproximateFirstReceiveTimestamp"], "7");
        assert_eq!(all["SentTimestamp"], "5");
        assert_eq!(all["SequenceNumber"], "10000000000000000001");
        assert!(!all.contains_key("AWSTraceHeader"));
        let one = system_attributes(&msg, &d, &names(&["SenderId", "Bogus"]));
        assert_eq!(one.keys().collect::<Vec<_>>(), ["SenderId"]);
    }
}

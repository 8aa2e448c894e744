// SPDX-License-Identifier: Apache-2.0
//! Dead-letter policies: RedrivePolicy (on the source queue) and RedriveAllowPolicy (on the
//! dead-letter queue), parsed from the JSON strings clients send, validated, and rendered in
//! the canonical form GetQueueAttributes returns (`maxReceiveCount` as a number, keys in
//! AWS's order). Checks that need the other queue take its facts as arguments, so this stays
//! free of any registry.

use serde_json::{Map, Value};

use crate::error::Error;

/// Most source queues a `byQueue` RedriveAllowPolicy may list.
pub const MAX_SOURCE_QUEUE_ARNS: usize = 10;
/// Range of maxReceiveCount.
pub const MAX_RECEIVE_COUNT_RANGE: std::ops::RangeInclusive<u32> = 1..=1000;

/// A parsed SQS queue ARN: `arn:<partition>:sqs:<region>:<account>:<name>`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct QueueArn {
    /// `aws`, `aws-cn`, ...
    pub partition: String,
    /// Region.
    pub region: String,
    /// Account id.
    pub account: String,
    /// Queue name.
    pub name: String,
}

impl QueueArn {
    /// Parses an ARN; `None` if it is not an SQS queue ARN.
    pub fn parse(s: &str) -> Option<QueueArn> {
        let mut parts = s.splitn(6, ':');
        let (arn, partition, service, region, account, name) = (
            parts.next()?,
            parts.next()?,
            parts.next()?,
            parts.next()?,
            parts.next()?,
            parts.next()?,
        );
        let ok = arn == "arn"
            && !partition.is_empty()
            && service == "sqs"
            && !region.is_empty()
            && !account.is_empty()
            && !name.is_empty()
            && !name.contains(':');
        ok.then(|| QueueArn {
            partition: partition.to_owned(),
            region: region.to_owned(),
            account: account.to_owned(),
            name: name.to_owned(),
        })
    }
}

impl std::fmt::Display for QueueArn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "arn:{}:sqs:{}:{}:{}",
            self.partition, self.region, self.account, self.name
        )
    }
}

/// A source queue's RedrivePolicy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedrivePolicy {
    /// The dead-letter queue.
    pub dead_letter_target_arn: String,
    /// Receives after which a message moves.
    pub max_receive_count: u32,
}

fn redrive_error(raw: &str, reason: &str) -> Error {
    Error::invalid_value(raw, "RedrivePolicy", reason)
}

fn json_object(raw: &str, parameter: &str) -> Result<Map<String, Value>, Error> {
    match serde_json::from_str::<Value>(raw) {
        Ok(Value::Object(m)) => Ok(m),
        _ => Err(Error::invalid_value(
            raw,
            parameter,
            &format!("{parameter} is not a valid JSON object."),
        )),
    }
}

impl RedrivePolicy {
    /// Parses and validates the attribute value. Accepts `maxReceiveCount` as a number or a
    /// numeric string, as AWS does.
    pub fn parse(raw: &str) -> Result<RedrivePolicy, Error> {
        let m = json_object(raw, "RedrivePolicy")?;
        for key in m.keys() {
            if key != "deadLetterTargetArn" && key != "maxReceiveCount" {
                return Err(redrive_error(raw, &format!("Unknown attribute {key}.")));
            }
        }
        let arn = match m.get("deadLetterTargetArn") {
            None => {
                return Err(redrive_error(
                    raw,
                    "Redrive policy does not contain mandatory attribute: deadLetterTargetArn.",
                ));
            }
            Some(Value::String(s)) if QueueArn::parse(s).is_some() => s.clone(),
            Some(_) => return Err(redrive_error(raw, "Invalid value for deadLetterTargetArn.")),
        };
        let count = match m.get("maxReceiveCount") {
            None => {
                return Err(redrive_error(
                    raw,
                    "Redrive policy does not contain mandatory attribute: maxReceiveCount.",
                ));
            }
            Some(Value::Number(n)) => n.as_i64(),
            Some(Value::String(s)) => s.parse::<i64>().ok(),
            Some(_) => None,
        };
        let shown = m.get("maxReceiveCount").map(value_text).unwrap_or_default();
        let count = count
            .and_then(|c| u32::try_from(c).ok())
            .filter(|c| MAX_RECEIVE_COUNT_RANGE.contains(c))
            .ok_or_else(|| {
                redrive_error(
                    raw,
                    &format!(
                        "Invalid value for maxReceiveCount: {shown}, valid values are from 1 to 1000 both inclusive."
                    ),
                )
            })?;
        Ok(RedrivePolicy {
            dead_letter_target_arn: arn,
            max_receive_count: count,
        })
    }

    /// The canonical JSON GetQueueAttributes returns.
    pub fn render(&self) -> String {
        format!(
            "{{\"deadLetterTargetArn\":{},\"maxReceiveCount\":{}}}",
            Value::String(self.dead_letter_target_arn.clone()),
            self.max_receive_count
        )
    }

    /// Checks the target against the facts about it: it must exist in the source's account
    /// and region, be of the same type, and allow the source by its RedriveAllowPolicy.
    pub fn check_target(
        &self,
        raw: &str,
        source_arn: &str,
        source_fifo: bool,
        target: Option<(bool, Option<&RedriveAllowPolicy>)>,
    ) -> Result<(), Error> {
        let (Some(src), Some(dst)) = (
            QueueArn::parse(source_arn),
            QueueArn::parse(&self.dead_letter_target_arn),
        ) else {
            return Err(redrive_error(raw, "Invalid value for deadLetterTargetArn."));
        };
        if src.account != dst.account {
            return Err(redrive_error(
                raw,
                "Dead-letter target owner should be same as the source.",
            ));
        }
        if src.region != dst.region {
            return Err(redrive_error(
                raw,
                "Dead-letter target must be in same region as the source.",
            ));
        }
        let Some((target_fifo, allow)) = target else {
            return Err(redrive_error(raw, "Dead letter target does not exist."));
        };
        if target_fifo != source_fifo {
            return Err(redrive_error(
                raw,
                "Dead-letter queue must be same type of queue as the source.",
            ));
        }
        if let Some(allow) = allow
            && !allow.allows(source_arn)
        {
            return Err(redrive_error(
                raw,
                &format!(
                    "Queue {} does not allow this queue to use it as a dead-letter queue.",
                    self.dead_letter_target_arn
                ),
            ));
        }
        Ok(())
    }
}

fn value_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Who may use a queue as their dead-letter queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RedrivePermission {
    /// Any queue of the account and region (the default).
    AllowAll,
    /// No queue.
    DenyAll,
    /// The listed queues.
    ByQueue(Vec<String>),
}

/// A dead-letter queue's RedriveAllowPolicy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedriveAllowPolicy {
    /// The permission.
    pub permission: RedrivePermission,
}

impl RedriveAllowPolicy {
    /// Parses and validates the attribute value.
    pub fn parse(raw: &str) -> Result<RedriveAllowPolicy, Error> {
        let err = |reason: &str| Error::invalid_value(raw, "RedriveAllowPolicy", reason);
        let m = json_object(raw, "RedriveAllowPolicy")?;
        for key in m.keys() {
            if key != "redrivePermission" && key != "sourceQueueArns" {
                return Err(err(&format!("Unknown attribute {key}.")));
            }
        }
        let arns = match m.get("sourceQueueArns") {
            None => None,
            Some(Value::Array(a)) => {
                let mut out = Vec::with_capacity(a.len());
                for v in a {
                    match v {
                        Value::String(s) if QueueArn::parse(s).is_some() => out.push(s.clone()),
                        _ => return Err(err("Invalid value for sourceQueueArns.")),
                    }
                }
                Some(out)
            }
            Some(_) => return Err(err("Invalid value for sourceQueueArns.")),
        };
        let permission = match (m.get("redrivePermission").and_then(Value::as_str), arns) {
            (Some("allowAll"), None) => RedrivePermission::AllowAll,
            (Some("denyAll"), None) => RedrivePermission::DenyAll,
            (Some("byQueue"), Some(arns)) if !arns.is_empty() => {
                if arns.len() > MAX_SOURCE_QUEUE_ARNS {
                    return Err(err(
                        "Amazon SQS supports a maximum of 10 source queue ARNs. To allow more than 10 source queues to specify dead-letter queues, set the redrivePermission parameter to allowAll.",
                    ));
                }
                RedrivePermission::ByQueue(arns)
            }
            (Some("byQueue"), _) => {
                return Err(err(
                    "sourceQueueArns must be specified when redrivePermission is byQueue.",
                ));
            }
            (Some("allowAll" | "denyAll"), Some(_)) => {
                return Err(err(
                    "sourceQueueArns can be specified only when redrivePermission is byQueue.",
                ));
            }
            _ => return Err(err("Invalid value for redrivePermission.")),
        };
        Ok(RedriveAllowPolicy { permission })
    }

    /// The canonical JSON GetQueueAttributes returns.
    pub fn render(&self) -> String {
        match &self.permission {
            RedrivePermission::AllowAll => "{\"redrivePermission\":\"allowAll\"}".to_owned(),
            RedrivePermission::DenyAll => "{\"redrivePermission\":\"denyAll\"}".to_owned(),
            RedrivePermission::ByQueue(arns) => format!(
                "{{\"redrivePermission\":\"byQueue\",\"sourceQueueArns\":{}}}",
                Value::Array(arns.iter().cloned().map(Value::String).collect())
            ),
        }
    }

    /// Whether `source_arn` may use this queue as its dead-letter queue.
    pub fn allows(&self, source_arn: &str) -> bool {
        match &self.permission {
            RedrivePermission::AllowAll => true,
            RedrivePermission::DenyAll => false,
            RedrivePermission::ByQueue(arns) => arns.iter().any(|a| a == source_arn),
        }
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    const DLQ: &str = "arn:aws:sqs:us-east-1:000000000000:dlq";
    const SRC: &str = "arn:aws:sqs:us-east-1:000000000000:src";

    #[test]
    fn redrive_policy_accepts_numbers_and_numeric_strings_and_renders_numbers() {
        let a = RedrivePolicy::parse(&format!(
            "{{\"deadLetterTargetArn\":\"{DLQ}\",\"maxReceiveCount\":\"5\"}}"
        ))
        .unwrap();
        let b = RedrivePolicy::parse(&format!(
            "{{\"maxReceiveCount\":5,\"deadLetterTargetArn\":\"{DLQ}\"}}"
        ))
        .unwrap();
        assert_eq!(a, b);
        assert_eq!(
            a.render(),
            format!("{{\"deadLetterTargetArn\":\"{DLQ}\",\"maxReceiveCount\":5}}")
        );
    }

    #[test]
    fn a_bad_target_arn_gets_the_recorded_text() {
        let raw = "{\"deadLetterTargetArn\": \"dummy\", \"maxReceiveCount\": 42}";
        assert_eq!(
            RedrivePolicy::parse(raw).unwrap_err().to_string(),
            "Value {\"deadLetterTargetArn\": \"dummy\", \"maxReceiveCount\": 42} for parameter RedrivePolicy is invalid. Reason: Invalid value for deadLetterTargetArn."
        );
    }

    #[test]
    fn max_receive_count_must_be_between_1_and_1000() {
        for bad in ["0", "1001", "\"x\"", "1.5"] {
            let raw = format!("{{\"deadLetterTargetArn\":\"{DLQ}\",\"maxReceiveCount\":{bad}}}");
            assert!(RedrivePolicy::parse(&raw).is_err(), "{bad}");
        }
        assert!(RedrivePolicy::parse(&format!("{{\"deadLetterTargetArn\":\"{DLQ}\"}}")).is_err());
    }

    #[test]
    fn target_checks_need_existence_type_and_permission() {
        let p = RedrivePolicy {
            dead_letter_target_arn: DLQ.into(),
            max_receive_count: 3,
        };
        assert!(p.check_target("r", SRC, false, Some((false, None))).is_ok());
        assert!(
            p.check_target("r", SRC, false, None)
                .unwrap_err()
                .to_string()
                .ends_with("Dead letter target does not exist.")
        );
        assert!(p.check_target("r", SRC, true, Some((false, None))).is_err());
        let deny = RedriveAllowPolicy {
            permission: RedrivePermission::DenyAll,
        };
        assert!(
            p.check_target("r", SRC, false, Some((false, Some(&deny))))
                .is_err()
        );
        let other_account = "arn:aws:sqs:us-east-1:111111111111:src";
        assert!(
            p.check_target("r", other_account, false, Some((false, None)))
                .is_err()
        );
    }

    #[test]
    fn redrive_allow_policy_forms() {
        let by = RedriveAllowPolicy::parse(&format!(
            "{{\"redrivePermission\":\"byQueue\",\"sourceQueueArns\":[\"{SRC}\"]}}"
        ))
        .unwrap();
        assert!(by.allows(SRC));
        assert!(!by.allows(DLQ));
        assert_eq!(RedriveAllowPolicy::parse(&by.render()).unwrap(), by);
        assert!(
            RedriveAllowPolicy::parse("{\"redrivePermission\":\"allowAll\"}")
                .unwrap()
                .allows(SRC)
        );
        assert!(RedriveAllowPolicy::parse("{\"redrivePermission\":\"byQueue\"}").is_err());
        assert!(
            RedriveAllowPolicy::parse(&format!(
                "{{\"redrivePermission\":\"denyAll\",\"sourceQueueArns\":[\"{SRC}\"]}}"
            ))
            .is_err()
        );
        let eleven: Vec<String> = (0..11)
            .map(|i| format!("\"arn:aws:sqs:r:1:q{i}\""))
            .collect();
        assert!(
            RedriveAllowPolicy::parse(&format!(
                "{{\"redrivePermission\":\"byQueue\",\"sourceQueueArns\":[{}]}}",
                eleven.join(",")
            ))
            .is_err()
        );
    }

    proptest! {
        #[test]
        fn arbitrary_strings_never_panic_the_policy_parsers(s in "\\PC{0,80}") {
            let _ = RedrivePolicy::parse(&s);
            let _ = RedriveAllowPolicy::parse(&s);
            let _ = QueueArn::parse(&s);
        }

        #[test]
        fn rendered_redrive_policies_parse_back(name in "[a-z0-9_-]{1,40}", n in 1u32..=1000) {
            let p = RedrivePolicy {
                dead_letter_target_arn: format!("arn:aws:sqs:eu-west-1:123456789012:{name}"),
                max_receive_count: n,
            };
            prop_assert_eq!(RedrivePolicy::parse(&p.render()), Ok(p));
        }
    }
}

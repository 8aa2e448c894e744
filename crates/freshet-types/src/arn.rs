// SPDX-License-Identifier: Apache-2.0
//! Stream ARNs: `arn:aws:kinesis:<region>:<account>:stream/<name>`.

use std::fmt;

/// The parts of a stream ARN Freshet cares about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamArn {
    /// Partition, `aws` for the commercial regions.
    pub partition: String,
    /// Region, for example `us-east-1`.
    pub region: String,
    /// 12-digit account id.
    pub account: String,
    /// Stream name.
    pub stream: String,
}

impl StreamArn {
    /// The ARN of `stream` in `region` and `account` of the `aws` partition.
    pub fn new(region: &str, account: &str, stream: &str) -> Self {
        Self {
            partition: "aws".to_owned(),
            region: region.to_owned(),
            account: account.to_owned(),
            stream: stream.to_owned(),
        }
    }
}

impl fmt::Display for StreamArn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "arn:{}:kinesis:{}:{}:stream/{}",
            self.partition, self.region, self.account, self.stream
        )
    }
}

/// Parses a stream ARN, or returns `None` when `arn` is not one.
pub fn parse_stream_arn(arn: &str) -> Option<StreamArn> {
    let mut parts = arn.splitn(6, ':');
    let (scheme, partition, service, region, account, resource) = (
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
    );
    if scheme != "arn" || !partition.starts_with("aws") || service != "kinesis" {
        return None;
    }
    if account.len() != 12 || !account.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let stream = resource.strip_prefix("stream/")?;
    // A consumer ARN (`stream/<name>/consumer/...`) is not a stream ARN.
    if stream.is_empty() || stream.contains('/') {
        return None;
    }
    Some(StreamArn {
        partition: partition.to_owned(),
        region: region.to_owned(),
        account: account.to_owned(),
        stream: stream.to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        #[test]
        fn arns_round_trip(region in "[a-z]{2}-[a-z]{4,9}-[1-9]", account in "[0-9]{12}",
                           stream in "[a-zA-Z0-9_.-]{1,128}") {
            let arn = StreamArn::new(&region, &account, &stream);
            prop_assert_eq!(parse_stream_arn(&arn.to_string()), Some(arn));
        }

        #[test]
        fn parsing_never_panics(s in "\\PC*") {
            let _ = parse_stream_arn(&s);
        }
    }

    #[test]
    fn formats_and_parses_back() {
        let arn = StreamArn::new("us-east-1", "000000000000", "orders");
        let s = arn.to_string();
        assert_eq!(s, "arn:aws:kinesis:us-east-1:000000000000:stream/orders");
        assert_eq!(parse_stream_arn(&s), Some(arn));
    }

    #[test]
    fn rejects_other_services_and_consumer_arns() {
        assert_eq!(
            parse_stream_arn("arn:aws:sqs:us-east-1:000000000000:stream/x"),
            None
        );
        assert_eq!(
            parse_stream_arn("arn:aws:kinesis:us-east-1:0000:stream/x"),
            None
        );
        assert_eq!(
            parse_stream_arn("arn:aws:kinesis:us-east-1:000000000000:stream/x/consumer/c:1"),
            None
        );
        assert_eq!(parse_stream_arn("not an arn"), None);
    }
}

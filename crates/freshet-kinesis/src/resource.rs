// SPDX-License-Identifier: Apache-2.0
//! Resources addressed by ARN (TagResource, UntagResource, ListTagsForResource and the
//! resource-policy operations): a stream or an enhanced fan-out consumer.
//!
//! [`Streams::resolve_resource`] is the one place that turns a `ResourceARN` into a
//! [`Resource`]; the operations then read and change tags and policies through [`Resource`]
//! without knowing which kind they hold. A consumer's tags and policy live in its
//! `ConsumerRecord` inside the stream record, so both kinds persist with the stream.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::record::{ConsumerRecord, ConsumerStatus, StreamStatus};

use crate::model::StreamRef;
use crate::state::Stream;
use crate::{Error, Streams};

/// A taggable resource that can carry a resource policy.
#[derive(Debug, Clone)]
pub(crate) enum Resource {
    /// A data stream.
    Stream(Arc<Stream>),
    /// An enhanced fan-out consumer of a stream, by its ARN.
    Consumer {
        /// The stream it is registered to.
        stream: Arc<Stream>,
        /// The consumer's ARN (unique: re-registering a name gives a new ARN).
        arn: String,
    },
}

/// A `ResourceARN`, split into what it names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ResourceArn<'a> {
    /// `arn:…:stream/<name>`: the whole value is a stream ARN.
    Stream(&'a str),
    /// `arn:…:stream/<name>/consumer/<consumer>:<creation>`.
    Consumer {
        /// The stream ARN part, `arn:…:stream/<name>`.
        stream_arn: &'a str,
        /// Consumer name.
        consumer: &'a str,
    },
}

/// Splits a ResourceARN into a stream or consumer reference. Anything that is not a consumer
/// ARN is treated as a stream ARN, which stream resolution then accepts or reports missing.
pub(crate) fn split_resource_arn(arn: &str) -> ResourceArn<'_> {
    if let Some(at) = arn.find("/consumer/") {
        let stream_arn = &arn[..at];
        let rest = &arn[at + "/consumer/".len()..];
        let consumer = rest.rsplit_once(':').map_or(rest, |(name, _)| name);
        return ResourceArn::Consumer {
            stream_arn,
            consumer,
        };
    }
    ResourceArn::Stream(arn)
}

impl Resource {
    /// The stream the resource is or belongs to.
    pub(crate) fn stream(&self) -> &Arc<Stream> {
        match self {
            Resource::Stream(s) | Resource::Consumer { stream: s, .. } => s,
        }
    }

    /// The resource's tags.
    pub(crate) fn tags(&self) -> BTreeMap<String, String> {
        match self {
            Resource::Stream(s) => s.record().tags.clone(),
            Resource::Consumer { stream, arn } => {
                consumer_field(stream, arn, |c| c.tags.clone()).unwrap_or_default()
            }
        }
    }

    /// The resource policy, if one is attached.
    pub(crate) fn policy(&self) -> Option<String> {
        match self {
            Resource::Stream(s) => s.record().resource_policy.clone(),
            Resource::Consumer { stream, arn } => {
                consumer_field(stream, arn, |c| c.policy.clone()).flatten()
            }
        }
    }
}

/// `f` of the consumer with `arn` in the stream's current record, if it is still registered.
fn consumer_field<T>(
    stream: &Stream,
    arn: &str,
    f: impl FnOnce(&ConsumerRecord) -> T,
) -> Option<T> {
    stream
        .record()
        .consumers
        .iter()
        .find(|c| c.arn == arn)
        .map(f)
}

/// What a change may touch on a resource.
pub(crate) struct ResourceFields<'a> {
    /// Tags.
    pub tags: &'a mut BTreeMap<String, String>,
    /// Resource policy.
    pub policy: &'a mut Option<String>,
}

impl Streams {
    /// The resource a `ResourceARN` names.
    pub(crate) fn resolve_resource(&self, arn: &str) -> Result<Resource, Error> {
        match split_resource_arn(arn) {
            ResourceArn::Stream(arn) => Ok(Resource::Stream(self.stream(&StreamRef {
                name: None,
                arn: Some(arn.to_owned()),
            })?)),
            ResourceArn::Consumer {
                stream_arn,
                consumer,
            } => {
                // The stream must exist either way; a missing one is reported as such.
                let stream = self.stream(&StreamRef {
                    name: None,
                    arn: Some(stream_arn.to_owned()),
                })?;
                let registered = stream
                    .record()
                    .consumers
                    .iter()
                    .any(|c| c.arn == arn && c.name == consumer);
                if !registered {
                    return Err(self.consumer_not_found(consumer));
                }
                Ok(Resource::Consumer {
                    stream,
                    arn: arn.to_owned(),
                })
            }
        }
    }

    /// Applies `change` to the resource's tags and policy and persists the result. Refused
    /// while the resource is being deleted. Call with the control lock held.
    pub(crate) fn update_resource(
        &self,
        resource: &Resource,
        change: impl FnOnce(ResourceFields<'_>) -> Result<(), Error>,
    ) -> Result<(), Error> {
        match resource {
            Resource::Stream(stream) => {
                if stream.status() == StreamStatus::Deleting {
                    return Err(self.not_active(stream));
                }
                let rec = {
                    let mut rec = stream.record_mut();
                    let mut next = rec.clone();
                    change(ResourceFields {
                        tags: &mut next.tags,
                        policy: &mut next.resource_policy,
                    })?;
                    *rec = next;
                    rec.clone()
                };
                self.persist(&rec)
            }
            Resource::Consumer { stream, arn } => {
                let rec = {
                    let mut rec = stream.record_mut();
                    let mut next = rec.clone();
                    let consumer = next
                        .consumers
                        .iter_mut()
                        .find(|c| c.arn == *arn)
                        .ok_or_else(|| self.consumer_not_found(arn))?;
                    if consumer.status == ConsumerStatus::Deleting {
                        return Err(self.consumer_not_found(&consumer.name));
                    }
                    change(ResourceFields {
                        tags: &mut consumer.tags,
                        policy: &mut consumer.policy,
                    })?;
                    *rec = next;
                    rec.clone()
                };
                self.persist(&rec)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn consumer_arns_are_told_apart_from_stream_arns() {
        assert_eq!(
            split_resource_arn("arn:aws:kinesis:us-east-1:000000000000:stream/s"),
            ResourceArn::Stream("arn:aws:kinesis:us-east-1:000000000000:stream/s")
        );
        assert_eq!(
            split_resource_arn(
                "arn:aws:kinesis:us-east-1:000000000000:stream/s/consumer/c.1:1700000000"
            ),
            ResourceArn::Consumer {
                stream_arn: "arn:aws:kinesis:us-east-1:000000000000:stream/s",
                consumer: "c.1",
            }
        );
    }
}

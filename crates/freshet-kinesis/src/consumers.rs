// SPDX-License-Identifier: Apache-2.0
//! Enhanced fan-out consumers: RegisterStreamConsumer, DescribeStreamConsumer,
//! ListStreamConsumers and DeregisterStreamConsumer, with their timed status transitions
//! (CREATING → ACTIVE, DELETING → gone).
//!
//! Consumers are part of their stream's metadata record (`StreamRecord::consumers`), so they
//! are persisted with it, survive restarts and disappear with the stream. A consumer's ARN is
//! `<stream ARN>/consumer/<name>:<registration epoch seconds>`, so re-registering a name yields
//! a new ARN and an old ARN never names the new consumer.
//!
//! Quotas (AWS): 20 consumers per stream, at most 5 of them CREATING at once.

use std::collections::BTreeMap;
use std::sync::Arc;

use freshet_types::limits::NEXT_TOKEN_TTL_MS;
use freshet_types::parse_stream_arn;

use crate::model::StreamRef;
use crate::record::{ConsumerRecord, ConsumerStatus, StreamRecord, StreamStatus};
use crate::state::Stream;
use crate::token::{TokenKind, put_str, take_i64, take_str};
use crate::{Error, Streams};

/// Most consumers one stream may have.
pub const MAX_CONSUMERS_PER_STREAM: usize = 20;
/// Most consumers of one stream that may be CREATING at once.
pub const MAX_CONSUMERS_CREATING: usize = 5;
/// ListStreamConsumers page size default and maximum.
pub const LIST_CONSUMERS_MAX: u32 = 100;

/// How Describe/DeregisterStreamConsumer name a consumer: by ConsumerARN, or by StreamARN and
/// ConsumerName, or all three (which must agree).
#[derive(Debug, Clone, Default)]
pub struct ConsumerRef {
    /// `StreamARN`.
    pub stream_arn: Option<String>,
    /// `ConsumerName`.
    pub consumer_name: Option<String>,
    /// `ConsumerARN`.
    pub consumer_arn: Option<String>,
}

/// A consumer as the API reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsumerInfo {
    /// Name.
    pub name: String,
    /// ARN.
    pub arn: String,
    /// Status.
    pub status: ConsumerStatus,
    /// Registration time, ms since epoch.
    pub created_ms: i64,
    /// ARN of the stream it is registered with.
    pub stream_arn: String,
}

/// ListStreamConsumers.
#[derive(Debug, Clone, Default)]
pub struct ListConsumers {
    /// `StreamARN` (required by the model).
    pub stream_arn: String,
    /// Pagination token.
    pub next_token: Option<String>,
    /// Page size.
    pub max_results: Option<u32>,
    /// Creation time to disambiguate a re-created stream (ms).
    pub stream_creation_ms: Option<i64>,
}

/// One page of ListStreamConsumers.
#[derive(Debug, Clone)]
pub struct ConsumerList {
    /// Consumers, in registration order.
    pub consumers: Vec<ConsumerInfo>,
    /// Token for the next page.
    pub next_token: Option<String>,
}

/// The parts of a consumer ARN: the stream ARN and the consumer name.
pub(crate) fn parse_consumer_arn(arn: &str) -> Option<(String, String)> {
    let (stream_arn, rest) = arn.rsplit_once("/consumer/")?;
    let (name, secs) = rest.rsplit_once(':')?;
    if name.is_empty() || secs.is_empty() || !secs.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    parse_stream_arn(stream_arn)?;
    Some((stream_arn.to_owned(), name.to_owned()))
}

/// Completes consumer transitions a restart interrupted: CREATING consumers become ACTIVE and
/// DELETING ones are gone. Returns whether the record changed.
pub(crate) fn finish_interrupted(rec: &mut StreamRecord) -> bool {
    let before = rec.consumers.clone();
    rec.consumers
        .retain(|c| c.status != ConsumerStatus::Deleting);
    for c in &mut rec.consumers {
        c.status = ConsumerStatus::Active;
    }
    rec.consumers != before
}

impl Streams {
    /// RegisterStreamConsumer: the consumer exists at once in CREATING and becomes ACTIVE
    /// after the configured delay.
    pub async fn register_consumer(
        &self,
        stream_arn: &str,
        name: &str,
        tags: BTreeMap<String, String>,
    ) -> Result<ConsumerInfo, Error> {
        let _guard = self.inner.control.lock().await;
        let stream = self.stream(&arn_ref(stream_arn))?;
        if stream.status() != StreamStatus::Active {
            return Err(self.not_active(&stream));
        }
        let delay = self.inner.opts.consumer_delay;
        let now = self.now();
        let rec = {
            let mut rec = stream.record_mut();
            if rec.consumers.iter().any(|c| c.name == name) {
                return Err(Error::ConsumerExists {
                    consumer: name.to_owned(),
                    stream: stream.name.clone(),
                    account: self.account().to_owned(),
                });
            }
            if rec.consumers.len() >= MAX_CONSUMERS_PER_STREAM {
                return Err(Error::ConsumerLimit {
                    stream: stream.name.clone(),
                    account: self.account().to_owned(),
                    limit: MAX_CONSUMERS_PER_STREAM,
                });
            }
            let creating = rec
                .consumers
                .iter()
                .filter(|c| c.status == ConsumerStatus::Creating)
                .count();
            if creating >= MAX_CONSUMERS_CREATING {
                return Err(Error::ConsumersCreatingLimit {
                    stream: stream.name.clone(),
                    account: self.account().to_owned(),
                    limit: MAX_CONSUMERS_CREATING,
                });
            }
            rec.consumers.push(ConsumerRecord {
                name: name.to_owned(),
                arn: format!("{}/consumer/{name}:{}", stream.arn, now.div_euclid(1000)),
                status: if delay.is_zero() {
                    ConsumerStatus::Active
                } else {
                    ConsumerStatus::Creating
                },
                created_ms: now,
                tags,
                policy: None,
            });
            rec.clone()
        };
        let consumer = rec.consumers.last().cloned().ok_or_else(|| {
            Error::Storage("a consumer vanished while it was registered".to_owned())
        })?;
        if let Err(e) = self.persist(&rec) {
            // Keep memory in step with the store: the registration did not happen.
            stream
                .record_mut()
                .consumers
                .retain(|c| c.arn != consumer.arn);
            return Err(e);
        }
        tracing::info!(stream = %stream.name, consumer = %consumer.name, "Consumer registered.");
        if !delay.is_zero() {
            self.finish_consumer_later(stream.clone(), consumer.arn.clone(), delay);
        }
        Ok(info(&stream, &consumer))
    }

    /// DescribeStreamConsumer.
    pub fn describe_consumer(&self, r: &ConsumerRef) -> Result<ConsumerInfo, Error> {
        let (stream, consumer) = self.consumer(r)?;
        Ok(info(&stream, &consumer))
    }

    /// DeregisterStreamConsumer: the consumer turns DELETING, its subscriptions end, and it is
    /// gone after the configured delay.
    pub async fn deregister_consumer(&self, r: &ConsumerRef) -> Result<(), Error> {
        let _guard = self.inner.control.lock().await;
        let (stream, consumer) = self.consumer(r)?;
        if consumer.status == ConsumerStatus::Deleting {
            return Ok(());
        }
        let delay = self.inner.opts.consumer_delay;
        let rec = {
            let mut rec = stream.record_mut();
            if delay.is_zero() {
                rec.consumers.retain(|c| c.arn != consumer.arn);
            } else if let Some(c) = rec.consumers.iter_mut().find(|c| c.arn == consumer.arn) {
                c.status = ConsumerStatus::Deleting;
            }
            rec.clone()
        };
        self.persist(&rec)?;
        self.inner.leases.end_consumer(&consumer.arn);
        tracing::info!(stream = %stream.name, consumer = %consumer.name, "Consumer deregistered.");
        if !delay.is_zero() {
            self.finish_consumer_later(stream, consumer.arn, delay);
        }
        Ok(())
    }

    /// ListStreamConsumers: consumers in registration order, paged by `NextToken`.
    pub fn list_consumers(&self, req: &ListConsumers) -> Result<ConsumerList, Error> {
        let now = self.now();
        if req.next_token.is_some() && req.stream_creation_ms.is_some() {
            return Err(Error::NextTokenWithCreationTimestamp);
        }
        let stream = self.stream(&arn_ref(&req.stream_arn))?;
        let rec = stream.record().clone();
        let after = match &req.next_token {
            Some(token) => {
                let t = self.open_list_consumers_token(token, now)?;
                if t.stream != stream.name || t.created_ms != rec.created_ms {
                    return Err(Error::InvalidNextToken);
                }
                Some((t.after_ms, t.after_name))
            }
            None => None,
        };
        if let Some(ts) = req.stream_creation_ms
            && ts != rec.created_ms
        {
            return Err(Error::CreationTimestampMismatch {
                timestamp_ms: ts,
                stream: stream.name.clone(),
                account: self.account().to_owned(),
            });
        }
        let limit = req
            .max_results
            .unwrap_or(LIST_CONSUMERS_MAX)
            .min(LIST_CONSUMERS_MAX) as usize;
        let mut all: Vec<&ConsumerRecord> = rec
            .consumers
            .iter()
            .filter(|c| {
                after
                    .as_ref()
                    .is_none_or(|(ms, name)| (c.created_ms, &c.name) > (*ms, name))
            })
            .collect();
        // Registration order, with the name breaking ties, so a page boundary is a total order.
        all.sort_by(|a, b| (a.created_ms, &a.name).cmp(&(b.created_ms, &b.name)));
        let more = all.len() > limit;
        all.truncate(limit);
        let next_token = match (more, all.last()) {
            (true, Some(last)) => {
                let mut p = Vec::new();
                p.extend_from_slice(&now.to_le_bytes());
                p.extend_from_slice(&rec.created_ms.to_le_bytes());
                p.extend_from_slice(&last.created_ms.to_le_bytes());
                put_str(&mut p, &stream.name);
                put_str(&mut p, &last.name);
                Some(self.inner.key.seal(TokenKind::ListConsumers, &p))
            }
            _ => None,
        };
        Ok(ConsumerList {
            consumers: all.into_iter().map(|c| info(&stream, c)).collect(),
            next_token,
        })
    }

    fn open_list_consumers_token(&self, token: &str, now: i64) -> Result<ConsumersToken, Error> {
        let raw = self
            .inner
            .key
            .open(TokenKind::ListConsumers, token)
            .ok_or(Error::InvalidNextToken)?;
        let mut p = raw.as_slice();
        let bad = || Error::InvalidNextToken;
        let issued_ms = take_i64(&mut p).ok_or_else(bad)?;
        let created_ms = take_i64(&mut p).ok_or_else(bad)?;
        let after_ms = take_i64(&mut p).ok_or_else(bad)?;
        let stream = take_str(&mut p).ok_or_else(bad)?.to_owned();
        let after_name = take_str(&mut p).ok_or_else(bad)?.to_owned();
        if now - issued_ms > NEXT_TOKEN_TTL_MS {
            return Err(Error::NextTokenExpired {
                ttl_ms: NEXT_TOKEN_TTL_MS,
            });
        }
        Ok(ConsumersToken {
            stream,
            created_ms,
            after_ms,
            after_name,
        })
    }

    /// The stream and consumer a request names.
    fn consumer(&self, r: &ConsumerRef) -> Result<(Arc<Stream>, ConsumerRecord), Error> {
        let (stream_arn, name) = match (&r.consumer_arn, &r.stream_arn, &r.consumer_name) {
            (Some(arn), stream_arn, name) => {
                let (parsed_stream, parsed_name) =
                    parse_consumer_arn(arn).ok_or_else(|| self.consumer_not_found(arn))?;
                if let Some(s) = stream_arn
                    && *s != parsed_stream
                {
                    return Err(Error::ConsumerArnMismatch {
                        consumer_arn: arn.clone(),
                        member: "StreamARN",
                        value: s.clone(),
                    });
                }
                if let Some(n) = name
                    && *n != parsed_name
                {
                    return Err(Error::ConsumerArnMismatch {
                        consumer_arn: arn.clone(),
                        member: "ConsumerName",
                        value: n.clone(),
                    });
                }
                (parsed_stream, parsed_name)
            }
            (None, Some(stream_arn), Some(name)) => (stream_arn.clone(), name.clone()),
            (None, _, _) => return Err(Error::ConsumerUnnamed),
        };
        let stream = self.stream(&arn_ref(&stream_arn)).map_err(|e| match e {
            Error::StreamNotFound { .. } => self.consumer_not_found(&name),
            other => other,
        })?;
        let found = stream
            .record()
            .consumers
            .iter()
            .find(|c| c.name == name && r.consumer_arn.as_ref().is_none_or(|a| *a == c.arn))
            .cloned();
        let consumer = found.ok_or_else(|| self.consumer_not_found(&name))?;
        Ok((stream, consumer))
    }

    /// The live stream and ACTIVE-or-not consumer a ConsumerARN names (SubscribeToShard).
    pub(crate) fn consumer_by_arn(
        &self,
        arn: &str,
    ) -> Result<(Arc<Stream>, ConsumerRecord), Error> {
        self.consumer(&ConsumerRef {
            consumer_arn: Some(arn.to_owned()),
            ..ConsumerRef::default()
        })
    }

    pub(crate) fn consumer_not_found(&self, consumer: &str) -> Error {
        Error::ConsumerNotFound {
            consumer: consumer.to_owned(),
            account: self.account().to_owned(),
        }
    }

    /// Completes a consumer's CREATING or DELETING transition after `delay`, unless the
    /// stream or the consumer changed in the meantime.
    fn finish_consumer_later(
        &self,
        stream: Arc<Stream>,
        consumer_arn: String,
        delay: std::time::Duration,
    ) {
        let this = self.clone();
        // Cancelled at shutdown; recovery completes the transition at the next start.
        self.inner.tasks.spawn(async move {
            tokio::time::sleep(delay).await;
            let _guard = this.inner.control.lock().await;
            let current = this.streams().get(&stream.name).cloned();
            let Some(current) = current.filter(|c| Arc::ptr_eq(c, &stream)) else {
                return;
            };
            let rec = {
                let mut rec = current.record_mut();
                let Some(pos) = rec.consumers.iter().position(|c| c.arn == consumer_arn) else {
                    return;
                };
                match rec.consumers[pos].status {
                    ConsumerStatus::Creating => rec.consumers[pos].status = ConsumerStatus::Active,
                    ConsumerStatus::Deleting => {
                        rec.consumers.remove(pos);
                    }
                    ConsumerStatus::Active => return,
                }
                rec.clone()
            };
            if let Err(error) = this.persist(&rec) {
                tracing::error!(stream = %rec.name, consumer = %consumer_arn, %error,
                    "Could not persist consumer status.");
            }
        });
    }
}

struct ConsumersToken {
    stream: String,
    created_ms: i64,
    after_ms: i64,
    after_name: String,
}

fn arn_ref(arn: &str) -> StreamRef {
    StreamRef {
        name: None,
        arn: Some(arn.to_owned()),
    }
}

fn info(stream: &Stream, c: &ConsumerRecord) -> ConsumerInfo {
    ConsumerInfo {
        name: c.name.clone(),
        arn: c.arn.clone(),
        status: c.status,
        created_ms: c.created_ms,
        stream_arn: stream.arn.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn consumer_arns_split_into_stream_and_name() {
        let arn = "arn:aws:kinesis:us-east-1:000000000000:stream/s-1/consumer/c.1:1700000000";
        assert_eq!(
            parse_consumer_arn(arn),
            Some((
                "arn:aws:kinesis:us-east-1:000000000000:stream/s-1".to_owned(),
                "c.1".to_owned()
            ))
        );
        assert_eq!(
            parse_consumer_arn("arn:aws:kinesis:us-east-1:000000000000:stream/s/consumer/c"),
            None
        );
        assert_eq!(
            parse_consumer_arn("arn:aws:kinesis:us-east-1:000000000000:stream/s/consumer/:1"),
            None
        );
        assert_eq!(parse_consumer_arn("garbage/consumer/c:1"), None);
    }
}

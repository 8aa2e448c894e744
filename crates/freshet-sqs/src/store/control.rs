// SPDX-License-Identifier: Apache-2.0
//! The control plane: CreateQueue (idempotent, QueueNameExists, QueueDeletedRecently),
//! DeleteQueue, ListQueues, Get/SetQueueAttributes, tags and ListDeadLetterSourceQueues.
//! Changes run under the service's control mutex and are durable in the metadata store before
//! they are answered.

use std::collections::BTreeMap;
use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use freshet_meta::TxnExt;

use super::queue::Queue;
use super::record::{
    CHECKPOINTS, DELETED, NEXT_INCARNATION, QUEUES, QueueRecord, queue_dir, settings_of,
};
use super::{Sqs, SqsError};
use crate::attributes::{Computed, QueueAttributes};
use crate::error::Error;
use crate::names::validate_queue_name;

/// How long a deleted queue's name stays reserved.
const DELETED_RECENTLY_MS: i64 = 60_000;
/// Most tags on a queue.
const MAX_TAGS: usize = 50;
/// One page of a listing of queue names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListPage {
    /// Queue names, sorted.
    pub names: Vec<String>,
    /// Where the next page starts, when there is one and a page size was asked for.
    pub next_token: Option<String>,
}

fn invalid_token() -> Error {
    Error::invalid_parameter("Invalid NextToken value.")
}

/// A page of `names` (sorted) after `token`, `max` long (AWS: at most 1000, and a NextToken
/// only when a page size was given).
fn page(names: Vec<String>, max: Option<i64>, token: Option<&str>) -> Result<ListPage, Error> {
    let max = match max {
        None => None,
        Some(n) if (1..=1000).contains(&n) => Some(usize::try_from(n).unwrap_or(1000)),
        Some(n) => {
            return Err(Error::invalid_value(
                n,
                "MaxResults",
                "Must be between 1 and 1000, if provided.",
            ));
        }
    };
    let start = match token {
        None => None,
        Some(t) => {
            let raw = URL_SAFE_NO_PAD.decode(t).map_err(|_| invalid_token())?;
            Some(String::from_utf8(raw).map_err(|_| invalid_token())?)
        }
    };
    let rest: Vec<String> = names
        .into_iter()
        .filter(|n| start.as_ref().is_none_or(|s| n >= s))
        .collect();
    let take = max.unwrap_or(1000);
    let next_token = match (max, rest.get(take)) {
        (Some(_), Some(next)) => Some(URL_SAFE_NO_PAD.encode(next.as_bytes())),
        _ => None,
    };
    Ok(ListPage {
        names: rest.into_iter().take(take).collect(),
        next_token,
    })
}

impl Sqs {
    fn record_of(&self, q: &Queue, attrs: &QueueAttributes) -> QueueRecord {
        let m = q.meta();
        QueueRecord {
            name: q.name.clone(),
            incarnation: q.incarnation,
            created_ms: m.created_ms,
            modified_ms: m.modified_ms,
            attributes: settings_of(attrs),
            tags: m.tags.clone(),
        }
    }

    /// Checks a RedrivePolicy against its target (exists, same type, allows the source).
    fn check_redrive(
        &self,
        attrs: &QueueAttributes,
        given: &BTreeMap<String, String>,
        source_arn: &str,
    ) -> Result<(), Error> {
        let (Some(policy), Some(raw)) = (&attrs.redrive_policy, given.get("RedrivePolicy")) else {
            return Ok(());
        };
        let target = self.queue_by_arn(&policy.dead_letter_target_arn).map(|t| {
            let allow = t.lock().engine.attributes().redrive_allow_policy.clone();
            (t.fifo, allow)
        });
        policy.check_target(
            raw,
            source_arn,
            attrs.fifo_queue,
            target.as_ref().map(|(f, a)| (*f, a.as_ref())),
        )
    }

    /// CreateQueue: the queue's name (existing with the same attributes, or new).
    pub async fn create_queue(
        &self,
        name: &str,
        attributes: &BTreeMap<String, String>,
        tags: &BTreeMap<String, String>,
    ) -> Result<String, SqsError> {
        let fifo = QueueAttributes::wants_fifo(attributes)?;
        validate_queue_name(name, fifo)?;
        let attrs = QueueAttributes::for_create(attributes)?;
        check_tags(tags, name)?;
        let _control = self.inner.control.lock().await;
        if let Ok(existing) = self.queue(name) {
            existing
                .lock()
                .engine
                .attributes()
                .check_create_matches(attributes)?;
            return Ok(name.to_owned());
        }
        let now = self.now_ms();
        if let Some(deleted) = self.inner.meta.get_json::<i64>(DELETED, name)?
            && now.saturating_sub(deleted) < DELETED_RECENTLY_MS
        {
            return Err(Error::QueueDeletedRecently.into());
        }
        self.check_redrive(&attrs, attributes, &self.arn_of(name))?;
        let rec = self
            .inner
            .meta
            .transaction(|t| -> Result<QueueRecord, SqsError> {
                let incarnation: u64 = t
                    .get_json(super::record::SETTINGS, NEXT_INCARNATION)?
                    .unwrap_or(1);
                t.put_json(
                    super::record::SETTINGS,
                    NEXT_INCARNATION,
                    &incarnation.saturating_add(1),
                )?;
                let rec = QueueRecord {
                    name: name.to_owned(),
                    incarnation,
                    created_ms: now,
                    modified_ms: now,
                    attributes: settings_of(&attrs),
                    tags: tags.clone(),
                };
                t.put_json(QUEUES, name, &rec)?;
                t.delete(DELETED, name)?;
                Ok(rec)
            })?;
        let this = self.clone();
        let opened = tokio::task::spawn_blocking(move || this.open_queue(&rec))
            .await
            .map_err(|e| SqsError::Storage(format!("opening the queue's logs: {e}")))??;
        self.write_queues().insert(name.to_owned(), opened);
        tracing::info!(queue = %name, fifo, "Created queue.");
        Ok(name.to_owned())
    }

    /// DeleteQueue: the queue is gone at once; its logs are removed in the background.
    pub(crate) async fn delete_queue(&self, q: &Arc<Queue>) -> Result<(), SqsError> {
        let _control = self.inner.control.lock().await;
        let still = self.queue(&q.name)?;
        if !Arc::ptr_eq(&still, q) {
            return Err(Error::QueueDoesNotExist.into());
        }
        let now = self.now_ms();
        let dir = q.dir.clone();
        self.inner.meta.transaction(|t| -> Result<(), SqsError> {
            t.delete(QUEUES, &q.name)?;
            t.delete(CHECKPOINTS, &dir)?;
            t.put_json(DELETED, &q.name, &now)?;
            Ok(())
        })?;
        self.write_queues().remove(&q.name);
        q.mark_deleted();
        let logs = self.inner.logs.clone();
        let queue = q.clone();
        // Requests in flight finish first (or fail as QueueDoesNotExist).
        let _quiet = q.gate.write().await;
        let removed = tokio::task::spawn_blocking(move || {
            queue.close();
            logs.remove(&queue_dir(&dir)?)
        })
        .await;
        match removed {
            Ok(Ok(())) => {}
            Ok(Err(error)) => {
                tracing::warn!(queue = %q.name, %error, "Removing a deleted queue's logs failed; the next start removes them.");
            }
            Err(error) => {
                tracing::warn!(queue = %q.name, %error, "Removing a deleted queue's logs failed; the next start removes them.");
            }
        }
        tracing::info!(queue = %q.name, "Deleted queue.");
        Ok(())
    }

    /// ListQueues.
    pub fn list_queues(
        &self,
        prefix: Option<&str>,
        max: Option<i64>,
        token: Option<&str>,
    ) -> Result<ListPage, SqsError> {
        let names: Vec<String> = self
            .queue_names()
            .into_iter()
            .filter(|n| prefix.is_none_or(|p| n.starts_with(p)))
            .collect();
        Ok(page(names, max, token)?)
    }

    /// ListDeadLetterSourceQueues: queues whose RedrivePolicy targets `dlq`.
    pub(crate) fn dead_letter_sources(
        &self,
        dlq: &Queue,
        max: Option<i64>,
        token: Option<&str>,
    ) -> Result<ListPage, SqsError> {
        let names: Vec<String> = self
            .read_queues()
            .values()
            .filter(|q| {
                q.lock()
                    .engine
                    .attributes()
                    .redrive_policy
                    .as_ref()
                    .is_some_and(|p| p.dead_letter_target_arn == dlq.arn)
            })
            .map(|q| q.name.clone())
            .collect();
        Ok(page(names, max, token)?)
    }

    /// GetQueueAttributes.
    pub(crate) fn queue_attributes(
        &self,
        q: &Queue,
        names: &[String],
    ) -> Result<BTreeMap<String, String>, SqsError> {
        q.check()?;
        let now = self.now_ms();
        let (counts, attrs) = {
            let st = q.lock();
            (st.engine.counts(now), st.engine.attributes().clone())
        };
        let m = q.meta().clone();
        let computed = Computed {
            visible: counts.visible,
            not_visible: counts.not_visible,
            delayed: counts.delayed,
            created_s: m.created_ms.div_euclid(1000),
            last_modified_s: m.modified_ms.div_euclid(1000),
            arn: q.arn.clone(),
        };
        Ok(attrs.render(names, &computed)?)
    }

    /// SetQueueAttributes.
    pub(crate) async fn set_queue_attributes(
        &self,
        q: &Queue,
        given: &BTreeMap<String, String>,
    ) -> Result<(), SqsError> {
        q.check()?;
        let _control = self.inner.control.lock().await;
        let mut attrs = q.lock().engine.attributes().clone();
        attrs.apply(given, false)?;
        self.check_redrive(&attrs, given, &q.arn)?;
        let now = self.now_ms();
        let mut rec = self.record_of(q, &attrs);
        rec.modified_ms = now;
        self.inner.meta.put_json(QUEUES, &q.name, &rec)?;
        q.lock().engine.set_attributes(attrs);
        q.meta().modified_ms = now;
        q.notify.notify_waiters();
        Ok(())
    }

    async fn update_tags(
        &self,
        q: &Queue,
        change: impl FnOnce(&mut BTreeMap<String, String>) -> Result<(), Error>,
    ) -> Result<(), SqsError> {
        q.check()?;
        let _control = self.inner.control.lock().await;
        let mut tags = q.meta().tags.clone();
        change(&mut tags)?;
        let attrs = q.lock().engine.attributes().clone();
        let mut rec = self.record_of(q, &attrs);
        rec.tags = tags.clone();
        self.inner.meta.put_json(QUEUES, &q.name, &rec)?;
        q.meta().tags = tags;
        Ok(())
    }

    /// TagQueue.
    pub(crate) async fn tag_queue(
        &self,
        q: &Queue,
        add: &BTreeMap<String, String>,
    ) -> Result<(), SqsError> {
        let name = q.name.clone();
        self.update_tags(q, |tags| {
            for (k, v) in add {
                tags.insert(k.clone(), v.clone());
            }
            check_tags(tags, &name)
        })
        .await
    }

    /// UntagQueue.
    pub(crate) async fn untag_queue(&self, q: &Queue, keys: &[String]) -> Result<(), SqsError> {
        self.update_tags(q, |tags| {
            for k in keys {
                tags.remove(k);
            }
            Ok(())
        })
        .await
    }

    /// ListQueueTags.
    pub(crate) fn queue_tags(&self, q: &Queue) -> Result<BTreeMap<String, String>, SqsError> {
        q.check()?;
        Ok(q.meta().tags.clone())
    }
}

fn check_tags(tags: &BTreeMap<String, String>, queue: &str) -> Result<(), Error> {
    if tags.len() > MAX_TAGS {
        return Err(Error::invalid_parameter(format!(
            "Too many tags added for queue {queue}."
        )));
    }
    for (k, v) in tags {
        if k.is_empty() || k.chars().count() > 128 {
            return Err(Error::invalid_parameter(
                "Tag keys must be between 1 and 128 characters in length.",
            ));
        }
        if v.chars().count() > 256 {
            return Err(Error::invalid_parameter(
                "Tag values must be between 0 and 256 characters in length.",
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(n: &[&str]) -> Vec<String> {
        n.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn pages_follow_their_tokens_and_only_with_a_page_size() {
        let all = names(&["a", "b", "c", "d", "e"]);
        let p = page(all.clone(), Some(2), None).expect("page");
        assert_eq!(p.names, names(&["a", "b"]));
        let p2 = page(all.clone(), Some(2), p.next_token.as_deref()).expect("page");
        assert_eq!(p2.names, names(&["c", "d"]));
        let p3 = page(all.clone(), Some(2), p2.next_token.as_deref()).expect("page");
        assert_eq!(p3.names, names(&["e"]));
        assert_eq!(p3.next_token, None);
        assert_eq!(
            page(all.clone(), None, None).expect("page").next_token,
            None
        );
        assert!(page(all.clone(), Some(0), None).is_err());
        assert!(page(all, None, Some("!!")).is_err());
    }
}

// SPDX-License-Identifier: Apache-2.0
//! DescribeLogGroups and DescribeLogStreams: filters, ordering and pagination over the groups
//! and streams held in memory. Tokens are cursors (the last item's sort key, `token.rs`), so
//! pages stay consistent while groups and streams come and go.

use std::sync::Arc;

use crate::error::{Error, Result};
use crate::group::Group;
use crate::model::{DescribeGroups, DescribeStreams, GroupInfo, Page, StreamInfo};
use crate::service::Logs;
use crate::token::{
    StreamsCursor, encode_groups_token, encode_streams_token, parse_groups_token,
    parse_streams_token,
};

/// Most items on a Describe page, and the default.
pub const MAX_DESCRIBE_LIMIT: usize = 50;

impl Logs {
    /// What DescribeLogGroups shows of a group.
    pub(crate) fn group_info(&self, g: &Group) -> GroupInfo {
        let record = g.record().clone();
        let metric_filter_count = g.data().filters.len();
        let stats = g.log.stats();
        let stored_bytes = if stats.next_offset > stats.start_offset {
            stats.bytes_on_disk
        } else {
            0
        };
        let group_arn = self.group_arn(&record.name);
        GroupInfo {
            arn: format!("{group_arn}:*"),
            group_arn,
            name: record.name,
            created_ms: record.created_ms,
            retention_days: record.retention_days,
            metric_filter_count,
            stored_bytes,
            kms_key_id: record.kms_key_id,
            class: record.class,
            deletion_protection: record.deletion_protection,
        }
    }

    /// DescribeLogGroups, in ASCII order of names.
    pub fn describe_log_groups(&self, q: &DescribeGroups) -> Result<Page<GroupInfo>> {
        if q.prefix.is_some() && q.pattern.is_some() {
            return Err(Error::PrefixAndPattern);
        }
        let after = match &q.next_token {
            Some(t) => Some(parse_groups_token(t).ok_or(Error::InvalidNextToken)?),
            None => None,
        };
        let wanted: Option<Vec<String>> = q.identifiers.as_ref().map(|ids| {
            ids.iter()
                .map(|id| self.name_in_arn(id).unwrap_or(id).to_owned())
                .collect()
        });
        let limit = q
            .limit
            .unwrap_or(MAX_DESCRIBE_LIMIT)
            .clamp(1, MAX_DESCRIBE_LIMIT);
        let groups: Vec<Arc<Group>> = {
            let map = self.groups();
            let range = match &after {
                Some(a) => map.range::<String, _>((
                    std::ops::Bound::Excluded(a.clone()),
                    std::ops::Bound::Unbounded,
                )),
                None => map.range::<String, _>(..),
            };
            range
                .filter(|(name, g)| {
                    q.prefix
                        .as_ref()
                        .is_none_or(|p| name.starts_with(p.as_str()))
                        && q.pattern.as_ref().is_none_or(|p| name.contains(p.as_str()))
                        && wanted.as_ref().is_none_or(|w| w.contains(name))
                        && q.class.as_ref().is_none_or(|c| g.record().class == *c)
                })
                .take(limit + 1)
                .map(|(_, g)| g.clone())
                .collect()
        };
        let more = groups.len() > limit;
        let items: Vec<GroupInfo> = groups
            .iter()
            .take(limit)
            .map(|g| self.group_info(g))
            .collect();
        let next_token = match (more, items.last()) {
            (true, Some(last)) => Some(encode_groups_token(&last.name)),
            _ => None,
        };
        Ok(Page { items, next_token })
    }

    /// DescribeLogStreams.
    pub fn describe_log_streams(&self, q: &DescribeStreams) -> Result<Page<StreamInfo>> {
        let g = self.resolve(&q.group)?;
        if q.by_last_event_time && q.prefix.is_some() {
            return Err(Error::OrderByTimeWithPrefix);
        }
        let cursor = match &q.next_token {
            Some(t) => {
                let (group_id, c) = parse_streams_token(t).ok_or(Error::InvalidNextToken)?;
                if group_id != g.id
                    || c.by_last_event_time != q.by_last_event_time
                    || c.descending != q.descending
                {
                    return Err(Error::InvalidNextToken);
                }
                Some(c)
            }
            None => None,
        };
        let limit = q
            .limit
            .unwrap_or(MAX_DESCRIBE_LIMIT)
            .clamp(1, MAX_DESCRIBE_LIMIT);
        g.bounds();
        let group_arn = self.group_arn(&g.name);
        let data = g.data();
        let info = |name: &str, s: &crate::group::StreamState| StreamInfo {
            name: name.to_owned(),
            created_ms: s.created_ms,
            first_event_ms: s.stats.first_event_ms,
            last_event_ms: s.stats.last_event_ms,
            last_ingestion_ms: s.stats.last_ingestion_ms,
            arn: format!("{group_arn}:log-stream:{name}"),
        };
        // Sort keys: (lastEventTimestamp, name) or just the name; None sorts first.
        let key = |name: &str, s: &crate::group::StreamState| -> (Option<i64>, String) {
            let ts = if q.by_last_event_time {
                s.stats.last_event_ms
            } else {
                None
            };
            (ts, name.to_owned())
        };
        let cursor_key = cursor.map(|c| (c.last_event_ms, c.name));
        let mut picked: Vec<((Option<i64>, String), StreamInfo)> = data
            .streams
            .iter()
            .filter(|(name, _)| {
                q.prefix
                    .as_ref()
                    .is_none_or(|p| name.starts_with(p.as_str()))
            })
            .map(|(name, s)| (key(name, s), info(name, s)))
            .filter(|(k, _)| match &cursor_key {
                None => true,
                Some(c) if q.descending => k < c,
                Some(c) => k > c,
            })
            .collect();
        drop(data);
        picked.sort_by(|a, b| a.0.cmp(&b.0));
        if q.descending {
            picked.reverse();
        }
        let more = picked.len() > limit;
        picked.truncate(limit);
        let next_token = match (more, picked.last()) {
            (true, Some(((ts, name), _))) => Some(encode_streams_token(
                g.id,
                &StreamsCursor {
                    by_last_event_time: q.by_last_event_time,
                    descending: q.descending,
                    last_event_ms: *ts,
                    name: name.clone(),
                },
            )),
            _ => None,
        };
        Ok(Page {
            items: picked.into_iter().map(|(_, i)| i).collect(),
            next_token,
        })
    }
}

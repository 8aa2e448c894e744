// SPDX-License-Identifier: Apache-2.0
//! Sinks that are not a store: [`Unconfigured`] (the server has no object store for a
//! bucket) and [`MemorySink`] (tests: objects kept in memory).

use std::collections::BTreeMap;
use std::sync::Mutex;

use bytes::Bytes;
use futures_util::future::BoxFuture;

use crate::sink::{ObjectBody, ObjectPut, ObjectSink, SinkError};

/// Refuses every put (retryably): no store is configured yet.
#[derive(Debug, Default)]
pub struct Unconfigured;

impl ObjectSink for Unconfigured {
    fn put(&self, object: ObjectPut) -> BoxFuture<'_, Result<(), SinkError>> {
        Box::pin(async move {
            if let ObjectBody::File { path, .. } = &object.body {
                let _ = tokio::fs::remove_file(path).await;
            }
            Err(SinkError {
                code: "S3.ServiceUnavailable".to_owned(),
                message: format!("No object store serves bucket {}.", object.bucket),
                retryable: true,
            })
        })
    }
}

/// Objects in memory, by bucket and key (tests). Can be told to fail.
#[derive(Debug, Default)]
pub struct MemorySink {
    objects: Mutex<BTreeMap<(String, String), Bytes>>,
    failing: Mutex<Option<SinkError>>,
}

impl MemorySink {
    /// An empty sink.
    pub fn new() -> MemorySink {
        MemorySink::default()
    }

    /// Every object: `((bucket, key), content)` in key order.
    pub fn objects(&self) -> Vec<((String, String), Bytes)> {
        crate::firehose::lock(&self.objects)
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }

    /// Makes every put fail with `e` (or succeed again with `None`).
    pub fn fail_with(&self, e: Option<SinkError>) {
        *crate::firehose::lock(&self.failing) = e;
    }
}

impl ObjectSink for MemorySink {
    fn put(&self, object: ObjectPut) -> BoxFuture<'_, Result<(), SinkError>> {
        Box::pin(async move {
            let data = match object.body {
                ObjectBody::Bytes(b) => b,
                ObjectBody::File { path, .. } => {
                    let read = tokio::fs::read(&path).await;
                    let _ = tokio::fs::remove_file(&path).await;
                    Bytes::from(read.map_err(|e| SinkError {
                        code: "S3.InternalError".to_owned(),
                        message: e.to_string(),
                        retryable: true,
                    })?)
                }
            };
            let failing = crate::firehose::lock(&self.failing)
                .as_ref()
                .map(|e| SinkError {
                    code: e.code.clone(),
                    message: e.message.clone(),
                    retryable: e.retryable,
                });
            if let Some(e) = failing {
                return Err(e);
            }
            crate::firehose::lock(&self.objects).insert((object.bucket, object.key), data);
            Ok(())
        })
    }
}

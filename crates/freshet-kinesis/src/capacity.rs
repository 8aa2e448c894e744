// SPDX-License-Identifier: Apache-2.0
//! Capacity settings of a stream: UpdateStreamMode, UpdateStreamWarmThroughput and
//! UpdateMaxRecordSize, CreateStream's checks of the same settings, and the UPDATING
//! transition those (and encryption changes) go through.
//!
//! Rules (model docs): warm throughput exists only for ON_DEMAND streams of an account whose
//! minimum throughput billing commitment is in force, up to [`MAX_WARM_THROUGHPUT_MIBPS`]; its
//! current value reaches the target when the stream's UPDATING transition completes. Switching
//! to ON_DEMAND counts against the on-demand stream quota; switching to PROVISIONED drops the
//! warm throughput. A new maximum record size applies to the next put at once.

use std::sync::Arc;

use crate::record::{StreamMode, StreamRecord, StreamStatus, WarmThroughput};

use crate::model::StreamRef;
use crate::state::Stream;
use crate::{Error, Streams};

/// Highest warm throughput of an on-demand stream, 10 GiB/s.
pub const MAX_WARM_THROUGHPUT_MIBPS: u32 = 10 * 1024;

/// UpdateStreamWarmThroughput's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WarmThroughputChange {
    /// Stream name.
    pub stream_name: String,
    /// Stream ARN.
    pub stream_arn: String,
    /// Target and current warm throughput right after the call.
    pub warm_throughput: WarmThroughput,
}

/// Completes an UPDATING transition's effects on the record: warm throughput reaches its
/// target. Called when a stream becomes ACTIVE, including after a restart.
pub(crate) fn settle_update(rec: &mut StreamRecord) {
    if let Some(w) = rec.warm_throughput.as_mut() {
        w.current_mibps = w.target_mibps;
    }
}

impl Streams {
    /// Refuses a change unless the stream is ACTIVE.
    pub(crate) fn require_active(&self, stream: &Stream) -> Result<(), Error> {
        if stream.status() != StreamStatus::Active {
            return Err(self.not_active(stream));
        }
        Ok(())
    }

    /// Applies `change` to the record, puts the stream in UPDATING for the update delay (or
    /// completes at once when the delay is zero) and persists. Nothing changes when `change`
    /// fails. Call with the control lock held, after [`Streams::require_active`].
    pub(crate) fn begin_update(
        &self,
        stream: &Arc<Stream>,
        change: impl FnOnce(&mut StreamRecord) -> Result<(), Error>,
    ) -> Result<(), Error> {
        let delay = self.inner.opts.update_delay;
        let rec = {
            let mut rec = stream.record_mut();
            let mut next = rec.clone();
            change(&mut next)?;
            if delay.is_zero() {
                settle_update(&mut next);
            } else {
                next.status = StreamStatus::Updating;
            }
            *rec = next;
            rec.clone()
        };
        self.persist(&rec)?;
        if !delay.is_zero() {
            self.finish_later(stream.clone(), delay, StreamStatus::Updating);
        }
        Ok(())
    }

    /// Checks a warm throughput for a stream that will be in `mode`.
    fn check_warm_throughput(
        &self,
        stream: &str,
        mode: StreamMode,
        mibps: u32,
    ) -> Result<(), Error> {
        if mode != StreamMode::OnDemand {
            return Err(Error::WarmThroughputNotOnDemand {
                stream: stream.to_owned(),
                account: self.inner.opts.account_id.clone(),
            });
        }
        if !self.commitment_active()? {
            return Err(Error::WarmThroughputNeedsCommitment {
                account: self.inner.opts.account_id.clone(),
            });
        }
        if mibps > MAX_WARM_THROUGHPUT_MIBPS {
            return Err(Error::WarmThroughputTooHigh {
                requested: mibps,
                limit: MAX_WARM_THROUGHPUT_MIBPS,
            });
        }
        Ok(())
    }

    /// CreateStream's checks of mode, warm throughput and tags, before anything is created.
    /// Returns the initial warm throughput. Call with the control lock held.
    pub(crate) fn check_create(
        &self,
        name: &str,
        mode: StreamMode,
        warm_mibps: Option<u32>,
        tags: &std::collections::BTreeMap<String, String>,
    ) -> Result<Option<WarmThroughput>, Error> {
        self.check_new_tags(name, &Default::default(), tags)?;
        if mode == StreamMode::OnDemand {
            self.check_on_demand_quota(None)?;
        }
        match warm_mibps {
            None => Ok(None),
            Some(mibps) => {
                self.check_warm_throughput(name, mode, mibps)?;
                Ok(Some(WarmThroughput {
                    target_mibps: mibps,
                    current_mibps: 0,
                }))
            }
        }
    }

    /// UpdateStreamMode.
    pub async fn update_stream_mode(
        &self,
        r: &StreamRef,
        mode: StreamMode,
        warm_mibps: Option<u32>,
    ) -> Result<(), Error> {
        let _guard = self.inner.control.lock().await;
        let stream = self.stream(r)?;
        self.require_active(&stream)?;
        let current = stream.record().mode;
        if current == mode {
            return Err(Error::StreamModeUnchanged {
                stream: stream.name.clone(),
                account: self.inner.opts.account_id.clone(),
                mode: mode.as_str(),
            });
        }
        if mode == StreamMode::OnDemand {
            self.check_on_demand_quota(Some(&stream.name))?;
        }
        if let Some(mibps) = warm_mibps {
            self.check_warm_throughput(&stream.name, mode, mibps)?;
        }
        self.begin_update(&stream, |rec| {
            rec.mode = mode;
            rec.warm_throughput = match (mode, warm_mibps) {
                (StreamMode::Provisioned, _) => None,
                (StreamMode::OnDemand, Some(mibps)) => Some(WarmThroughput {
                    target_mibps: mibps,
                    current_mibps: rec.warm_throughput.map_or(0, |w| w.current_mibps),
                }),
                (StreamMode::OnDemand, None) => rec.warm_throughput,
            };
            Ok(())
        })
    }

    /// UpdateStreamWarmThroughput: the stream scales to `mibps` while UPDATING.
    pub async fn update_stream_warm_throughput(
        &self,
        r: &StreamRef,
        mibps: u32,
    ) -> Result<WarmThroughputChange, Error> {
        let _guard = self.inner.control.lock().await;
        let stream = self.stream(r)?;
        self.require_active(&stream)?;
        let mode = stream.record().mode;
        self.check_warm_throughput(&stream.name, mode, mibps)?;
        let answered = WarmThroughput {
            target_mibps: mibps,
            current_mibps: stream
                .record()
                .warm_throughput
                .map_or(0, |w| w.current_mibps),
        };
        self.begin_update(&stream, |rec| {
            rec.warm_throughput = Some(answered);
            Ok(())
        })?;
        Ok(WarmThroughputChange {
            stream_name: stream.name.clone(),
            stream_arn: stream.arn.clone(),
            warm_throughput: answered,
        })
    }

    /// UpdateMaxRecordSize: PutRecord(s) accept records up to `kib` KiB from now on.
    pub async fn update_max_record_size(&self, r: &StreamRef, kib: u32) -> Result<(), Error> {
        let _guard = self.inner.control.lock().await;
        let stream = self.stream(r)?;
        self.require_active(&stream)?;
        let rec = {
            let mut rec = stream.record_mut();
            rec.max_record_size_kib = kib;
            rec.clone()
        };
        self.persist(&rec)
    }
}

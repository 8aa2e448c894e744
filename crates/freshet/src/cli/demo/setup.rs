// SPDX-License-Identifier: Apache-2.0
//! Before a demo sends: the target must exist and be ACTIVE, or be created with `--create`.

use std::time::{Duration, Instant};

use anyhow::Context as _;
use aws_sdk_kinesis::types::StreamStatus;

use crate::cli::client::{AwsResultExt as _, error_code};
use crate::cli::streams::wait_for_active;

/// How long to wait for a stream to become ACTIVE.
const ACTIVE_TIMEOUT: Duration = Duration::from_secs(60);

/// Checks that the stream exists (creating it with `create`) and waits until it is ACTIVE.
pub async fn prepare_stream(
    client: &aws_sdk_kinesis::Client,
    stream: &str,
    create: bool,
    shards: u32,
) -> anyhow::Result<()> {
    let found = client
        .describe_stream_summary()
        .stream_name(stream)
        .send()
        .await;
    match found {
        Ok(out) => {
            let active = out
                .stream_description_summary()
                .is_some_and(|s| *s.stream_status() == StreamStatus::Active);
            if !active {
                wait_for_active(client, stream, ACTIVE_TIMEOUT).await?;
            }
            Ok(())
        }
        Err(err) if error_code(&err) == Some("ResourceNotFoundException") => {
            if !create {
                anyhow::bail!(
                    "stream {stream} does not exist: create it (freshet streams create \
                     {stream}) or pass --create"
                );
            }
            let shards = i32::try_from(shards).context("--shards is too large")?;
            client
                .create_stream()
                .stream_name(stream)
                .shard_count(shards)
                .send()
                .await
                .aws("CreateStream")?;
            wait_for_active(client, stream, ACTIVE_TIMEOUT).await
        }
        Err(err) => Err(err).aws("DescribeStreamSummary"),
    }
}

/// Checks that the delivery stream exists and waits until it is ACTIVE.
pub async fn prepare_delivery_stream(
    client: &aws_sdk_firehose::Client,
    name: &str,
) -> anyhow::Result<()> {
    use aws_sdk_firehose::types::DeliveryStreamStatus;
    let deadline = Instant::now() + ACTIVE_TIMEOUT;
    loop {
        let found = client
            .describe_delivery_stream()
            .delivery_stream_name(name)
            .send()
            .await;
        let status = match found {
            Ok(out) => out
                .delivery_stream_description()
                .map(|d| d.delivery_stream_status().clone()),
            Err(err) if error_code(&err) == Some("ResourceNotFoundException") => {
                anyhow::bail!(
                    "delivery stream {name} does not exist: create it first (aws firehose \
                     create-delivery-stream)"
                );
            }
            Err(err) => return Err(err).aws("DescribeDeliveryStream"),
        };
        match status {
            Some(DeliveryStreamStatus::Active) => return Ok(()),
            Some(s) if Instant::now() >= deadline => {
                anyhow::bail!("delivery stream {name} is still {s}");
            }
            _ => tokio::time::sleep(Duration::from_millis(200)).await,
        }
    }
}

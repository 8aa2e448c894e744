// SPDX-License-Identifier: Apache-2.0
//! `freshet streams create|list|describe|delete`: stream administration over the AWS API.

use std::process::ExitCode;
use std::time::{Duration, Instant};

use aws_sdk_kinesis::Client;
use aws_sdk_kinesis::operation::describe_stream_summary::DescribeStreamSummaryError;
use aws_sdk_kinesis::types::{
    Shard, StreamDescriptionSummary, StreamMode, StreamModeDetails, StreamStatus,
};
use aws_smithy_types::date_time::Format;
use clap::{Args, Subcommand};
use serde_json::json;

use crate::cli::client::{AwsResultExt, aws_error};

/// How often `create`/`delete` poll the stream status while waiting.
const POLL_INTERVAL: Duration = Duration::from_millis(100);

/// `freshet streams ...`.
#[derive(Debug, Subcommand)]
pub enum StreamsCommand {
    /// Create a stream and wait until it is ACTIVE.
    Create(CreateArgs),
    /// List every stream name.
    List,
    /// Show a stream's status, mode, retention and shards.
    Describe(DescribeArgs),
    /// Delete a stream and wait until it is gone.
    Delete(DeleteArgs),
}

/// `freshet streams create`.
#[derive(Debug, Args)]
pub struct CreateArgs {
    /// Stream name.
    pub name: String,
    /// Number of shards (provisioned mode). Without it the server picks, as AWS does (4).
    #[arg(long, conflicts_with = "on_demand")]
    pub shards: Option<u32>,
    /// Create an on-demand stream.
    #[arg(long)]
    pub on_demand: bool,
    /// Retention period in hours (24 to 8760). Waits for ACTIVE even with --no-wait, because
    /// retention can only be changed on an active stream.
    #[arg(long)]
    pub retention_hours: Option<u32>,
    /// Return as soon as the stream is CREATING.
    #[arg(long)]
    pub no_wait: bool,
    /// How long to wait for ACTIVE.
    #[arg(long, default_value = "60s", value_parser = humantime::parse_duration)]
    pub timeout: Duration,
}

/// `freshet streams describe`.
#[derive(Debug, Args)]
pub struct DescribeArgs {
    /// Stream name.
    pub name: String,
    /// Print JSON instead of a human summary.
    #[arg(long)]
    pub json: bool,
}

/// `freshet streams delete`.
#[derive(Debug, Args)]
pub struct DeleteArgs {
    /// Stream name.
    pub name: String,
    /// Delete even if the stream has registered consumers.
    #[arg(long)]
    pub enforce_consumer_deletion: bool,
    /// Return as soon as the stream is DELETING.
    #[arg(long)]
    pub no_wait: bool,
    /// How long to wait for the stream to disappear.
    #[arg(long, default_value = "60s", value_parser = humantime::parse_duration)]
    pub timeout: Duration,
}

/// Runs a `streams` subcommand.
pub async fn run(client: &Client, cmd: StreamsCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        StreamsCommand::Create(args) => create(client, args).await?,
        StreamsCommand::List => {
            for name in list_stream_names(client).await? {
                println!("{name}");
            }
        }
        StreamsCommand::Describe(args) => describe(client, &args).await?,
        StreamsCommand::Delete(args) => delete(client, args).await?,
    }
    Ok(ExitCode::SUCCESS)
}

async fn create(client: &Client, args: CreateArgs) -> anyhow::Result<()> {
    let mut req = client.create_stream().stream_name(&args.name);
    if args.on_demand {
        req = req.stream_mode_details(
            StreamModeDetails::builder()
                .stream_mode(StreamMode::OnDemand)
                .build()?,
        );
    } else if let Some(shards) = args.shards {
        let shards = i32::try_from(shards).map_err(|_| anyhow::anyhow!("--shards is too large"))?;
        req = req.shard_count(shards);
    }
    req.send().await.aws("CreateStream")?;
    if args.no_wait && args.retention_hours.is_none() {
        println!("{}: creating", args.name);
        return Ok(());
    }
    wait_for_active(client, &args.name, args.timeout).await?;
    if let Some(hours) = args.retention_hours {
        set_retention(client, &args.name, hours).await?;
        if !args.no_wait {
            wait_for_active(client, &args.name, args.timeout).await?;
        }
    }
    println!("{}: active", args.name);
    Ok(())
}

async fn set_retention(client: &Client, name: &str, hours: u32) -> anyhow::Result<()> {
    let hours =
        i32::try_from(hours).map_err(|_| anyhow::anyhow!("--retention-hours is too large"))?;
    let current = summary(client, name).await?.retention_period_hours();
    if hours > current {
        client
            .increase_stream_retention_period()
            .stream_name(name)
            .retention_period_hours(hours)
            .send()
            .await
            .aws("IncreaseStreamRetentionPeriod")?;
    } else if hours < current {
        client
            .decrease_stream_retention_period()
            .stream_name(name)
            .retention_period_hours(hours)
            .send()
            .await
            .aws("DecreaseStreamRetentionPeriod")?;
    }
    Ok(())
}

async fn summary(client: &Client, name: &str) -> anyhow::Result<StreamDescriptionSummary> {
    let out = client
        .describe_stream_summary()
        .stream_name(name)
        .send()
        .await
        .aws("DescribeStreamSummary")?;
    out.stream_description_summary
        .ok_or_else(|| anyhow::anyhow!("DescribeStreamSummary: response has no summary"))
}

pub(crate) async fn wait_for_active(
    client: &Client,
    name: &str,
    timeout: Duration,
) -> anyhow::Result<()> {
    let deadline = Instant::now() + timeout;
    loop {
        let s = summary(client, name).await?;
        if *s.stream_status() == StreamStatus::Active {
            return Ok(());
        }
        if Instant::now() >= deadline {
            anyhow::bail!(
                "stream {name} is still {} after {}",
                s.stream_status(),
                humantime::format_duration(timeout)
            );
        }
        tokio::time::sleep(POLL_INTERVAL).await;
    }
}

async fn delete(client: &Client, args: DeleteArgs) -> anyhow::Result<()> {
    client
        .delete_stream()
        .stream_name(&args.name)
        .enforce_consumer_deletion(args.enforce_consumer_deletion)
        .send()
        .await
        .aws("DeleteStream")?;
    if args.no_wait {
        println!("{}: deleting", args.name);
        return Ok(());
    }
    let deadline = Instant::now() + args.timeout;
    loop {
        match client
            .describe_stream_summary()
            .stream_name(&args.name)
            .send()
            .await
        {
            Err(err)
                if matches!(
                    err.as_service_error(),
                    Some(DescribeStreamSummaryError::ResourceNotFoundException(_))
                ) =>
            {
                println!("{}: deleted", args.name);
                return Ok(());
            }
            Err(err) => return Err(aws_error("DescribeStreamSummary", err)),
            Ok(_) if Instant::now() >= deadline => anyhow::bail!(
                "stream {} still exists after {}",
                args.name,
                humantime::format_duration(args.timeout)
            ),
            Ok(_) => tokio::time::sleep(POLL_INTERVAL).await,
        }
    }
}

/// Every stream name, following `NextToken` (and the older `ExclusiveStartStreamName` when a
/// server reports more streams without a token).
pub async fn list_stream_names(client: &Client) -> anyhow::Result<Vec<String>> {
    let mut names: Vec<String> = Vec::new();
    let mut next_token: Option<String> = None;
    loop {
        let mut req = client.list_streams();
        if let Some(token) = &next_token {
            req = req.next_token(token);
        } else if let Some(last) = names.last() {
            req = req.exclusive_start_stream_name(last);
        }
        let out = req.send().await.aws("ListStreams")?;
        let page = out.stream_names().len();
        names.extend(out.stream_names().iter().cloned());
        next_token = out.next_token().map(str::to_owned);
        if (next_token.is_none() && !out.has_more_streams()) || (next_token.is_none() && page == 0)
        {
            return Ok(names);
        }
    }
}

/// Every shard of a stream (open and closed), following `NextToken`.
pub async fn list_shards(client: &Client, stream: &str) -> anyhow::Result<Vec<Shard>> {
    let mut shards = Vec::new();
    let mut next_token: Option<String> = None;
    loop {
        // ListShards rejects StreamName together with NextToken.
        let req = match &next_token {
            Some(token) => client.list_shards().next_token(token),
            None => client.list_shards().stream_name(stream),
        };
        let out = req.send().await.aws("ListShards")?;
        shards.extend(out.shards().iter().cloned());
        match out.next_token() {
            Some(t) if !out.shards().is_empty() => next_token = Some(t.to_owned()),
            _ => return Ok(shards),
        }
    }
}

async fn describe(client: &Client, args: &DescribeArgs) -> anyhow::Result<()> {
    let s = summary(client, &args.name).await?;
    let shards = list_shards(client, &args.name).await?;
    let mode = s
        .stream_mode_details()
        .map(|m| m.stream_mode().as_str().to_owned())
        .unwrap_or_else(|| "PROVISIONED".to_owned());
    let created = s
        .stream_creation_timestamp()
        .fmt(Format::DateTime)
        .unwrap_or_default();
    if args.json {
        let shards_json: Vec<serde_json::Value> = shards.iter().map(shard_json).collect();
        let value = json!({
            "StreamName": s.stream_name(),
            "StreamARN": s.stream_arn(),
            "StreamStatus": s.stream_status().as_str(),
            "StreamMode": mode,
            "RetentionPeriodHours": s.retention_period_hours(),
            "StreamCreationTimestamp": created,
            "OpenShardCount": s.open_shard_count(),
            "ConsumerCount": s.consumer_count(),
            "EncryptionType": s.encryption_type().map(|e| e.as_str()),
            "Shards": shards_json,
        });
        println!("{}", serde_json::to_string_pretty(&value)?);
        return Ok(());
    }
    println!("Stream:       {}", s.stream_name());
    println!("ARN:          {}", s.stream_arn());
    println!("Status:       {}", s.stream_status());
    println!("Mode:         {mode}");
    println!("Retention:    {} hours", s.retention_period_hours());
    println!("Created:      {created}");
    println!("Open shards:  {}", s.open_shard_count());
    if let Some(c) = s.consumer_count() {
        println!("Consumers:    {c}");
    }
    println!("Shards ({}):", shards.len());
    for shard in &shards {
        let (lo, hi) = shard
            .hash_key_range()
            .map(|r| (r.starting_hash_key(), r.ending_hash_key()))
            .unwrap_or(("?", "?"));
        let (first, last) = shard
            .sequence_number_range()
            .map(|r| (r.starting_sequence_number(), r.ending_sequence_number()))
            .unwrap_or(("?", None));
        let state = if last.is_some() { "closed" } else { "open" };
        println!("  {} ({state})", shard.shard_id());
        println!("    hash keys:  {lo} .. {hi}");
        match last {
            Some(last) => println!("    sequence:   {first} .. {last}"),
            None => println!("    sequence:   {first} .."),
        }
        if let Some(parent) = shard.parent_shard_id() {
            match shard.adjacent_parent_shard_id() {
                Some(adj) => println!("    parents:    {parent}, {adj}"),
                None => println!("    parent:     {parent}"),
            }
        }
    }
    Ok(())
}

fn shard_json(shard: &Shard) -> serde_json::Value {
    json!({
        "ShardId": shard.shard_id(),
        "ParentShardId": shard.parent_shard_id(),
        "AdjacentParentShardId": shard.adjacent_parent_shard_id(),
        "HashKeyRange": shard.hash_key_range().map(|r| json!({
            "StartingHashKey": r.starting_hash_key(),
            "EndingHashKey": r.ending_hash_key(),
        })),
        "SequenceNumberRange": shard.sequence_number_range().map(|r| json!({
            "StartingSequenceNumber": r.starting_sequence_number(),
            "EndingSequenceNumber": r.ending_sequence_number(),
        })),
    })
}

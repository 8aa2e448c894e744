// SPDX-License-Identifier: Apache-2.0
//! Stream and account settings: Start/StopStreamEncryption (and EncryptionType on puts and
//! reads), Enable/DisableEnhancedMonitoring, UpdateStreamMode, DescribeLimits,
//! Describe/UpdateAccountSettings, UpdateStreamWarmThroughput and UpdateMaxRecordSize; the
//! ResourceInUseException of a stream that is not ACTIVE; everything surviving a restart.

use std::time::Duration;

use aws_sdk_kinesis::Client;
use aws_sdk_kinesis::primitives::Blob;
use aws_sdk_kinesis::types::{
    EncryptionType, MetricsName, MinimumThroughputBillingCommitmentInput,
    MinimumThroughputBillingCommitmentInputStatus as InStatus,
    MinimumThroughputBillingCommitmentOutputStatus as OutStatus, StreamMode, StreamModeDetails,
    StreamStatus,
};

use super::common::*;

const KEY_ARN: &str = "arn:aws:kms:us-east-1:123456789012:key/12345678-1234-1234-1234-123456789012";

async fn start_encryption(client: &Client, stream: &str, key: &str) {
    client
        .start_stream_encryption()
        .stream_name(stream)
        .encryption_type(EncryptionType::Kms)
        .key_id(key)
        .send()
        .await
        .unwrap_or_else(|e| panic!("StartStreamEncryption {stream}: {e:?}"));
}

async fn stop_encryption(client: &Client, stream: &str, key: &str) {
    client
        .stop_stream_encryption()
        .stream_name(stream)
        .encryption_type(EncryptionType::Kms)
        .key_id(key)
        .send()
        .await
        .unwrap_or_else(|e| panic!("StopStreamEncryption {stream}: {e:?}"));
}

fn not_active(stream: &str, state: &str) -> String {
    format!("Stream {stream} under account {ACCOUNT_ID} not ACTIVE, instead in state {state}")
}

async fn set_commitment(client: &Client, status: InStatus) -> OutStatus {
    client
        .update_account_settings()
        .minimum_throughput_billing_commitment(
            MinimumThroughputBillingCommitmentInput::builder()
                .status(status)
                .build()
                .expect("status set"),
        )
        .send()
        .await
        .expect("update account settings")
        .minimum_throughput_billing_commitment()
        .expect("commitment in the answer")
        .status()
        .clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn encryption_marks_exactly_the_records_written_while_it_is_on() {
    let server = TestServer::start().await;
    let client = server.client();
    create_active_stream(&client, "enc", 1).await;

    let plain = put(&client, "enc", "k", b"before").await;
    assert_eq!(
        plain.encryption_type(),
        None,
        "unencrypted puts carry no EncryptionType"
    );
    let raw = server
        .raw_call(
            "PutRecord",
            &serde_json::json!({"StreamName": "enc", "PartitionKey": "k", "Data": "AA=="}),
        )
        .await;
    assert!(
        raw.json().get("EncryptionType").is_none(),
        "{:?}",
        raw.json()
    );

    start_encryption(&client, "enc", "alias/aws/kinesis").await;
    let s = summary(&client, "enc").await;
    assert_eq!(s.encryption_type(), Some(&EncryptionType::Kms));
    assert_eq!(s.key_id(), Some("alias/aws/kinesis"));
    wait_for_active(&client, "enc").await;
    let d = client
        .describe_stream()
        .stream_name("enc")
        .send()
        .await
        .expect("describe");
    let d = d.stream_description().expect("description");
    assert_eq!(d.encryption_type(), Some(&EncryptionType::Kms));
    assert_eq!(d.key_id(), Some("alias/aws/kinesis"));

    let enc = put(&client, "enc", "k", b"during").await;
    assert_eq!(enc.encryption_type(), Some(&EncryptionType::Kms));
    let batch = client
        .put_records()
        .stream_name("enc")
        .records(entry("k", b"batch"))
        .send()
        .await
        .expect("put records");
    assert_eq!(batch.encryption_type(), Some(&EncryptionType::Kms));

    stop_encryption(&client, "enc", "alias/aws/kinesis").await;
    wait_for_active(&client, "enc").await;
    let after = put(&client, "enc", "k", b"after").await;
    assert_eq!(after.encryption_type(), None);
    let batch = client
        .put_records()
        .stream_name("enc")
        .records(entry("k", b"batch-after"))
        .send()
        .await
        .expect("put records");
    assert_eq!(batch.encryption_type(), None);
    let s = summary(&client, "enc").await;
    assert_eq!(s.encryption_type(), Some(&EncryptionType::None));
    assert_eq!(s.key_id(), None);

    let (records, _) = read_exactly(&client, trim_horizon(&client, "enc", 0).await, 6).await;
    let marks: Vec<(Vec<u8>, Option<EncryptionType>)> = records
        .iter()
        .map(|r| (r.data().as_ref().to_vec(), r.encryption_type().cloned()))
        .collect();
    let kms = Some(EncryptionType::Kms);
    assert_eq!(
        marks,
        vec![
            (b"before".to_vec(), None),
            (vec![0], None),
            (b"during".to_vec(), kms.clone()),
            (b"batch".to_vec(), kms),
            (b"after".to_vec(), None),
            (b"batch-after".to_vec(), None),
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn encryption_arguments_and_quota_are_checked() {
    let server = TestServer::start_with(|c| c.kinesis.update_delay = Duration::ZERO).await;
    let client = server.client();
    create_active_stream(&client, "q", 1).await;
    assert_error(
        client
            .start_stream_encryption()
            .stream_name("q")
            .encryption_type(EncryptionType::None)
            .key_id("alias/aws/kinesis")
            .send()
            .await,
        "InvalidArgumentException",
        "EncryptionType NONE is not valid for StartStreamEncryption. The only valid value is KMS.",
    );
    let msg = assert_code(
        client
            .start_stream_encryption()
            .stream_name("q")
            .encryption_type(EncryptionType::Kms)
            .key_id("not a key")
            .send()
            .await,
        "InvalidArgumentException",
    );
    assert!(msg.starts_with("Invalid KeyId not a key."), "{msg}");
    let r = server
        .raw_call(
            "StartStreamEncryption",
            &serde_json::json!({"StreamName": "q"}),
        )
        .await;
    assert_eq!(r.error_type().as_deref(), Some("ValidationException"));
    assert_eq!(
        r.json()["message"],
        "2 validation errors detected: Value null at 'encryptionType' failed to satisfy \
         constraint: Member must not be null; Value null at 'keyId' failed to satisfy \
         constraint: Member must not be null"
    );
    assert_error(
        client
            .start_stream_encryption()
            .stream_name("none")
            .encryption_type(EncryptionType::Kms)
            .key_id(KEY_ARN)
            .send()
            .await,
        "ResourceNotFoundException",
        &stream_not_found("none"),
    );

    // Every key form is accepted; 25 starts in 24 hours, then LimitExceededException.
    let keys = [
        KEY_ARN,
        "arn:aws:kms:us-east-1:123456789012:alias/MyAliasName",
        "12345678-1234-1234-1234-123456789012",
        "alias/MyAliasName",
        "alias/aws/kinesis",
    ];
    for i in 0..25 {
        start_encryption(&client, "q", keys[i % keys.len()]).await;
    }
    assert_error(
        client
            .start_stream_encryption()
            .stream_name("q")
            .encryption_type(EncryptionType::Kms)
            .key_id(KEY_ARN)
            .send()
            .await,
        "LimitExceededException",
        &format!(
            "Rate exceeded for StartStreamEncryption on stream q under account {ACCOUNT_ID}: at \
             most 25 calls are allowed in a rolling 24-hour period."
        ),
    );
    // Stops have their own quota.
    stop_encryption(&client, "q", KEY_ARN).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn enhanced_monitoring_reports_before_and_after() {
    let server = TestServer::start().await;
    let client = server.client();
    create_active_stream(&client, "mon", 1).await;
    let out = client
        .enable_enhanced_monitoring()
        .stream_name("mon")
        .shard_level_metrics(MetricsName::IncomingBytes)
        .send()
        .await
        .expect("enable");
    assert_eq!(out.stream_name(), Some("mon"));
    assert_eq!(out.stream_arn(), Some(server.stream_arn("mon").as_str()));
    assert!(out.current_shard_level_metrics().is_empty());
    assert_eq!(
        out.desired_shard_level_metrics(),
        [MetricsName::IncomingBytes]
    );

    let out = client
        .enable_enhanced_monitoring()
        .stream_arn(server.stream_arn("mon"))
        .shard_level_metrics(MetricsName::All)
        .send()
        .await
        .expect("enable all");
    assert_eq!(
        out.current_shard_level_metrics(),
        [MetricsName::IncomingBytes]
    );
    assert_eq!(out.desired_shard_level_metrics().len(), 7);
    assert!(
        !out.desired_shard_level_metrics()
            .contains(&MetricsName::All)
    );

    let out = client
        .disable_enhanced_monitoring()
        .stream_name("mon")
        .shard_level_metrics(MetricsName::IncomingBytes)
        .shard_level_metrics(MetricsName::IteratorAgeMilliseconds)
        .send()
        .await
        .expect("disable two");
    assert_eq!(out.current_shard_level_metrics().len(), 7);
    let left = [
        MetricsName::IncomingRecords,
        MetricsName::OutgoingBytes,
        MetricsName::OutgoingRecords,
        MetricsName::WriteProvisionedThroughputExceeded,
        MetricsName::ReadProvisionedThroughputExceeded,
    ];
    assert_eq!(out.desired_shard_level_metrics(), left);
    let d = client
        .describe_stream()
        .stream_name("mon")
        .send()
        .await
        .expect("describe");
    let em = d.stream_description().expect("d").enhanced_monitoring();
    assert_eq!(em.len(), 1);
    assert_eq!(em[0].shard_level_metrics(), left);
    let s = summary(&client, "mon").await;
    assert_eq!(s.enhanced_monitoring()[0].shard_level_metrics(), left);

    let r = server
        .raw_call(
            "EnableEnhancedMonitoring",
            &serde_json::json!({"StreamName": "mon", "ShardLevelMetrics": ["Bogus"]}),
        )
        .await;
    assert_eq!(
        r.json()["message"],
        "1 validation error detected: Value '[Bogus]' at 'shardLevelMetrics' failed to satisfy \
         constraint: Member must satisfy constraint: [Member must satisfy enum value set: \
         [IncomingBytes, IncomingRecords, OutgoingBytes, OutgoingRecords, \
         WriteProvisionedThroughputExceeded, ReadProvisionedThroughputExceeded, \
         IteratorAgeMilliseconds, ALL]]"
    );
    let r = server
        .raw_call(
            "DisableEnhancedMonitoring",
            &serde_json::json!({"StreamName": "mon", "ShardLevelMetrics": []}),
        )
        .await;
    assert_eq!(r.error_type().as_deref(), Some("ValidationException"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stream_mode_changes_count_against_the_on_demand_quota() {
    let server = TestServer::start_with(|c| c.kinesis.on_demand_stream_limit = 1).await;
    let client = server.client();
    create_active_stream(&client, "prov", 2).await;
    let limits = client.describe_limits().send().await.expect("limits");
    assert_eq!(limits.shard_limit(), 10_000);
    assert_eq!(limits.open_shard_count(), 2);
    assert_eq!(limits.on_demand_stream_count(), 0);
    assert_eq!(limits.on_demand_stream_count_limit(), 1);

    let on_demand = StreamModeDetails::builder()
        .stream_mode(StreamMode::OnDemand)
        .build()
        .expect("mode");
    client
        .update_stream_mode()
        .stream_arn(server.stream_arn("prov"))
        .stream_mode_details(on_demand.clone())
        .send()
        .await
        .expect("to on-demand");
    let s = summary(&client, "prov").await;
    assert_eq!(
        s.stream_mode_details().map(|m| m.stream_mode()),
        Some(&StreamMode::OnDemand)
    );
    assert!(
        matches!(
            s.stream_status(),
            StreamStatus::Updating | StreamStatus::Active
        ),
        "{:?}",
        s.stream_status()
    );
    wait_for_active(&client, "prov").await;
    let list = client.list_streams().send().await.expect("list");
    assert_eq!(
        list.stream_summaries()[0]
            .stream_mode_details()
            .map(|m| m.stream_mode()),
        Some(&StreamMode::OnDemand)
    );
    assert_eq!(
        client
            .describe_limits()
            .send()
            .await
            .expect("limits")
            .on_demand_stream_count(),
        1
    );

    assert_error(
        client
            .update_stream_mode()
            .stream_arn(server.stream_arn("prov"))
            .stream_mode_details(on_demand.clone())
            .send()
            .await,
        "InvalidArgumentException",
        &format!("Stream prov under account {ACCOUNT_ID} is already in ON_DEMAND mode."),
    );
    let quota = format!(
        "This request would exceed the on-demand stream count limit for the account \
         {ACCOUNT_ID} in us-east-1. Current on-demand stream count for the account: 1. Limit: 1."
    );
    assert_error(
        client
            .create_stream()
            .stream_name("od2")
            .stream_mode_details(on_demand.clone())
            .send()
            .await,
        "LimitExceededException",
        &quota,
    );
    create_active_stream(&client, "prov2", 1).await;
    assert_error(
        client
            .update_stream_mode()
            .stream_arn(server.stream_arn("prov2"))
            .stream_mode_details(on_demand.clone())
            .send()
            .await,
        "LimitExceededException",
        &quota,
    );
    // Back to provisioned frees the slot.
    client
        .update_stream_mode()
        .stream_arn(server.stream_arn("prov"))
        .stream_mode_details(
            StreamModeDetails::builder()
                .stream_mode(StreamMode::Provisioned)
                .build()
                .expect("mode"),
        )
        .send()
        .await
        .expect("to provisioned");
    wait_for_active(&client, "prov").await;
    client
        .update_stream_mode()
        .stream_arn(server.stream_arn("prov2"))
        .stream_mode_details(on_demand)
        .send()
        .await
        .expect("slot free again");

    let r = server
        .raw_call(
            "UpdateStreamMode",
            &serde_json::json!({"StreamName": "prov"}),
        )
        .await;
    assert_eq!(
        r.json()["message"],
        "2 validation errors detected: Value null at 'streamARN' failed to satisfy constraint: \
         Member must not be null; Value null at 'streamModeDetails' failed to satisfy \
         constraint: Member must not be null"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn account_commitment_follows_the_minimum_period_rules() {
    let server = TestServer::start().await;
    let client = server.client();
    let out = client
        .describe_account_settings()
        .send()
        .await
        .expect("describe");
    let c = out
        .minimum_throughput_billing_commitment()
        .expect("commitment");
    assert_eq!(c.status(), &OutStatus::Disabled);
    assert!(c.started_at().is_none());

    assert_eq!(
        set_commitment(&client, InStatus::Enabled).await,
        OutStatus::Enabled
    );
    let out = client
        .describe_account_settings()
        .send()
        .await
        .expect("describe");
    let c = out
        .minimum_throughput_billing_commitment()
        .expect("commitment");
    assert_eq!(c.status(), &OutStatus::Enabled);
    let started = c.started_at().expect("started").to_millis().expect("ms");
    let earliest = c
        .earliest_allowed_end_at()
        .expect("earliest")
        .to_millis()
        .expect("ms");
    assert_eq!(earliest - started, 24 * 3_600_000, "a day's minimum");
    assert!(c.ended_at().is_none());

    // Too early to end: scheduled instead; enabling again cancels it.
    assert_eq!(
        set_commitment(&client, InStatus::Disabled).await,
        OutStatus::EnabledUntilEarliestAllowedEnd
    );
    assert_eq!(
        set_commitment(&client, InStatus::Enabled).await,
        OutStatus::Enabled
    );

    let r = server
        .raw_call(
            "UpdateAccountSettings",
            &serde_json::json!({"MinimumThroughputBillingCommitment": {"Status": "MAYBE"}}),
        )
        .await;
    assert_eq!(
        r.json()["message"],
        "1 validation error detected: Value 'MAYBE' at \
         'minimumThroughputBillingCommitment.status' failed to satisfy constraint: Member must \
         satisfy enum value set: [ENABLED, DISABLED]"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn warm_throughput_needs_on_demand_and_a_commitment() {
    let server = TestServer::start().await;
    let client = server.client();
    let on_demand = StreamModeDetails::builder()
        .stream_mode(StreamMode::OnDemand)
        .build()
        .expect("mode");
    client
        .create_stream()
        .stream_name("od")
        .stream_mode_details(on_demand.clone())
        .send()
        .await
        .expect("create on-demand");
    wait_for_active(&client, "od").await;
    create_active_stream(&client, "pv", 1).await;

    assert_error(
        client
            .update_stream_warm_throughput()
            .stream_name("od")
            .warm_throughput_mibps(100)
            .send()
            .await,
        "ValidationException",
        &format!(
            "Warm throughput requires MinimumThroughputBillingCommitment to be enabled for \
             account {ACCOUNT_ID}. Enable it with UpdateAccountSettings."
        ),
    );
    set_commitment(&client, InStatus::Enabled).await;
    assert_error(
        client
            .update_stream_warm_throughput()
            .stream_name("pv")
            .warm_throughput_mibps(100)
            .send()
            .await,
        "ValidationException",
        &format!(
            "Warm throughput is only supported for streams in ON_DEMAND mode; stream pv under \
             account {ACCOUNT_ID} would be PROVISIONED."
        ),
    );
    assert_code(
        client
            .update_stream_warm_throughput()
            .stream_name("od")
            .warm_throughput_mibps(10 * 1024 + 1)
            .send()
            .await,
        "LimitExceededException",
    );
    let out = client
        .update_stream_warm_throughput()
        .stream_name("od")
        .warm_throughput_mibps(200)
        .send()
        .await
        .expect("warm throughput");
    assert_eq!(out.stream_name(), Some("od"));
    assert_eq!(out.stream_arn(), Some(server.stream_arn("od").as_str()));
    let w = out.warm_throughput().expect("warm throughput");
    assert_eq!((w.target_mibps(), w.current_mibps()), (Some(200), Some(0)));
    wait_for_active(&client, "od").await;
    let s = summary(&client, "od").await;
    let w = s.warm_throughput().expect("warm throughput reported");
    assert_eq!(
        (w.target_mibps(), w.current_mibps()),
        (Some(200), Some(200))
    );

    // CreateStream and UpdateStreamMode take a warm throughput too.
    client
        .create_stream()
        .stream_name("od-warm")
        .stream_mode_details(on_demand.clone())
        .warm_throughput_mibps(50)
        .send()
        .await
        .expect("create with warm throughput");
    wait_for_active(&client, "od-warm").await;
    let s = summary(&client, "od-warm").await;
    let w = s.warm_throughput().expect("warm");
    assert_eq!((w.target_mibps(), w.current_mibps()), (Some(50), Some(50)));
    client
        .update_stream_mode()
        .stream_arn(server.stream_arn("pv"))
        .stream_mode_details(on_demand)
        .warm_throughput_mibps(30)
        .send()
        .await
        .expect("to on-demand with warm throughput");
    wait_for_active(&client, "pv").await;
    let s = summary(&client, "pv").await;
    let w = s.warm_throughput().expect("warm");
    assert_eq!(w.target_mibps(), Some(30));
    assert_error(
        client
            .create_stream()
            .stream_name("pv-warm")
            .shard_count(1)
            .warm_throughput_mibps(10)
            .send()
            .await,
        "ValidationException",
        &format!(
            "Warm throughput is only supported for streams in ON_DEMAND mode; stream pv-warm \
             under account {ACCOUNT_ID} would be PROVISIONED."
        ),
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn max_record_size_governs_puts_up_to_ten_mebibytes() {
    let server = TestServer::start().await;
    let client = server.client();
    create_active_stream(&client, "big", 1).await;
    let mib = 1024 * 1024;
    let over_default = vec![7u8; mib + 1];
    assert_code(
        client
            .put_record()
            .stream_name("big")
            .partition_key("k")
            .data(Blob::new(over_default.clone()))
            .send()
            .await,
        "InvalidArgumentException",
    );
    client
        .update_max_record_size()
        .stream_arn(server.stream_arn("big"))
        .max_record_size_in_kib(10240)
        .send()
        .await
        .expect("raise the limit");
    let s = summary(&client, "big").await;
    assert_eq!(s.max_record_size_in_kib(), Some(10240));
    put(&client, "big", "k", &over_default).await;
    // The largest record a stream can take: 10 MiB including the partition key. Its request
    // (about 13.4 MiB of base64) fits the default server.max_body_size.
    let largest = vec![1u8; 10 * mib - 1];
    put(&client, "big", "k", &largest).await;
    let over = vec![1u8; 10 * mib];
    assert_code(
        client
            .put_records()
            .stream_name("big")
            .records(entry("k", &over))
            .send()
            .await,
        "InvalidArgumentException",
    );
    let (records, _) = read_exactly(&client, trim_horizon(&client, "big", 0).await, 2).await;
    assert_eq!(records[1].data().as_ref().len(), 10 * mib - 1);

    assert_error(
        client
            .update_max_record_size()
            .stream_arn(server.stream_arn("big"))
            .max_record_size_in_kib(1023)
            .send()
            .await,
        "ValidationException",
        &one_validation_error(
            "'1023'",
            "maxRecordSizeInKiB",
            "Member must have value greater than or equal to 1024",
        ),
    );
    assert_error(
        client
            .update_max_record_size()
            .stream_arn(server.stream_arn("small"))
            .max_record_size_in_kib(2048)
            .send()
            .await,
        "ResourceNotFoundException",
        &stream_not_found("small"),
    );
    client
        .create_stream()
        .stream_name("made-big")
        .shard_count(1)
        .max_record_size_in_kib(2048)
        .send()
        .await
        .expect("create with a record size");
    wait_for_active(&client, "made-big").await;
    put(&client, "made-big", "k", &over_default).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn changes_to_a_stream_that_is_not_active_are_refused() {
    let server = TestServer::start_with(|c| {
        c.kinesis.create_delay = Duration::from_secs(600);
        c.kinesis.update_delay = Duration::from_secs(600);
    })
    .await;
    let client = server.client();
    client
        .create_stream()
        .stream_name("creating")
        .shard_count(1)
        .send()
        .await
        .expect("create");
    let creating = not_active("creating", "CREATING");
    assert_error(
        client
            .start_stream_encryption()
            .stream_name("creating")
            .encryption_type(EncryptionType::Kms)
            .key_id(KEY_ARN)
            .send()
            .await,
        "ResourceInUseException",
        &creating,
    );
    assert_error(
        client
            .enable_enhanced_monitoring()
            .stream_name("creating")
            .shard_level_metrics(MetricsName::All)
            .send()
            .await,
        "ResourceInUseException",
        &creating,
    );
    assert_error(
        client
            .update_max_record_size()
            .stream_arn(server.stream_arn("creating"))
            .max_record_size_in_kib(2048)
            .send()
            .await,
        "ResourceInUseException",
        &creating,
    );
    assert_error(
        client
            .update_stream_mode()
            .stream_arn(server.stream_arn("creating"))
            .stream_mode_details(
                StreamModeDetails::builder()
                    .stream_mode(StreamMode::OnDemand)
                    .build()
                    .expect("mode"),
            )
            .send()
            .await,
        "ResourceInUseException",
        &creating,
    );
    // Tags may be set while the stream is being created.
    client
        .add_tags_to_stream()
        .stream_name("creating")
        .tags("a", "b")
        .send()
        .await
        .expect("tags while CREATING");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_update_in_progress_refuses_the_next_change() {
    let server =
        TestServer::start_with(|c| c.kinesis.update_delay = Duration::from_secs(600)).await;
    let client = server.client();
    create_active_stream(&client, "busy", 1).await;
    start_encryption(&client, "busy", KEY_ARN).await;
    assert_error(
        client
            .stop_stream_encryption()
            .stream_name("busy")
            .encryption_type(EncryptionType::Kms)
            .key_id(KEY_ARN)
            .send()
            .await,
        "ResourceInUseException",
        &not_active("busy", "UPDATING"),
    );
    // Reads and writes go on while UPDATING, encrypted from the start call on.
    let out = put(&client, "busy", "k", b"x").await;
    assert_eq!(out.encryption_type(), Some(&EncryptionType::Kms));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_setting_survives_a_restart() {
    let server = TestServer::start().await;
    let client = server.client();
    create_active_stream(&client, "keep", 1).await;
    let arn = server.stream_arn("keep");
    put(&client, "keep", "k", b"plain").await;
    start_encryption(&client, "keep", KEY_ARN).await;
    wait_for_active(&client, "keep").await;
    put(&client, "keep", "k", b"secret").await;
    client
        .add_tags_to_stream()
        .stream_name("keep")
        .tags("team", "data")
        .send()
        .await
        .expect("tags");
    client
        .enable_enhanced_monitoring()
        .stream_name("keep")
        .shard_level_metrics(MetricsName::OutgoingBytes)
        .send()
        .await
        .expect("monitoring");
    client
        .update_max_record_size()
        .stream_arn(&arn)
        .max_record_size_in_kib(4096)
        .send()
        .await
        .expect("record size");
    client
        .put_resource_policy()
        .resource_arn(&arn)
        .policy(r#"{"Statement":{"Effect":"Deny"}}"#)
        .send()
        .await
        .expect("policy");
    set_commitment(&client, InStatus::Enabled).await;
    client
        .update_stream_mode()
        .stream_arn(&arn)
        .stream_mode_details(
            StreamModeDetails::builder()
                .stream_mode(StreamMode::OnDemand)
                .build()
                .expect("mode"),
        )
        .warm_throughput_mibps(64)
        .send()
        .await
        .expect("mode");
    // Restart while UPDATING: the transition completes on recovery.
    let server = server.restart().await;
    let client = server.client();

    let s = summary(&client, "keep").await;
    assert_eq!(s.stream_status(), &StreamStatus::Active);
    assert_eq!(s.encryption_type(), Some(&EncryptionType::Kms));
    assert_eq!(s.key_id(), Some(KEY_ARN));
    assert_eq!(
        s.enhanced_monitoring()[0].shard_level_metrics(),
        [MetricsName::OutgoingBytes]
    );
    assert_eq!(s.max_record_size_in_kib(), Some(4096));
    assert_eq!(
        s.stream_mode_details().map(|m| m.stream_mode()),
        Some(&StreamMode::OnDemand)
    );
    let w = s.warm_throughput().expect("warm throughput");
    assert_eq!((w.target_mibps(), w.current_mibps()), (Some(64), Some(64)));
    let tags = client
        .list_tags_for_stream()
        .stream_name("keep")
        .send()
        .await
        .expect("tags");
    assert_eq!(tags.tags().len(), 1);
    assert_eq!(
        client
            .get_resource_policy()
            .resource_arn(&arn)
            .send()
            .await
            .expect("policy")
            .policy(),
        r#"{"Statement":{"Effect":"Deny"}}"#
    );
    let c = client
        .describe_account_settings()
        .send()
        .await
        .expect("account");
    assert_eq!(
        c.minimum_throughput_billing_commitment()
            .expect("c")
            .status(),
        &OutStatus::Enabled
    );
    let (records, _) = read_exactly(&client, trim_horizon(&client, "keep", 0).await, 2).await;
    assert_eq!(records[0].encryption_type(), None);
    assert_eq!(records[1].encryption_type(), Some(&EncryptionType::Kms));
    let out = put(&client, "keep", "k", b"later").await;
    assert_eq!(out.encryption_type(), Some(&EncryptionType::Kms));
    let limits = client.describe_limits().send().await.expect("limits");
    assert_eq!(limits.on_demand_stream_count(), 1);
}

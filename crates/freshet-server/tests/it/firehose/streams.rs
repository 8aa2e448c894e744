// SPDX-License-Identifier: Apache-2.0
//! The control plane: create, describe, list, update, delete, tags, encryption, and their
//! errors.

use std::time::Duration;

use aws_sdk_firehose::primitives::Blob;
use aws_sdk_firehose::types::{
    DeliveryStreamEncryptionConfigurationInput, DeliveryStreamStatus, DeliveryStreamType,
    ExtendedS3DestinationUpdate, HttpEndpointConfiguration, HttpEndpointDestinationConfiguration,
    KeyType, KinesisStreamSourceConfiguration, Record, S3DestinationConfiguration,
    SplunkDestinationConfiguration, Tag,
};

use super::{BUCKET, ROLE, assert_code, assert_error, client, create_active, s3, server};

#[tokio::test]
async fn a_created_stream_is_described_with_aws_defaults_filled_in() {
    let (server, _) = server().await;
    let c = client(&server);
    let out = c
        .create_delivery_stream()
        .delivery_stream_name("orders")
        .extended_s3_destination_configuration(
            aws_sdk_firehose::types::ExtendedS3DestinationConfiguration::builder()
                .role_arn(ROLE)
                .bucket_arn(BUCKET)
                .build()
                .expect("dest"),
        )
        .send()
        .await
        .expect("create");
    assert_eq!(
        out.delivery_stream_arn(),
        Some("arn:aws:firehose:us-east-1:000000000000:deliverystream/orders")
    );
    super::wait_active(&c, "orders").await;
    let d = c
        .describe_delivery_stream()
        .delivery_stream_name("orders")
        .send()
        .await
        .expect("describe");
    let d = d.delivery_stream_description().expect("description");
    assert_eq!(d.delivery_stream_type(), &DeliveryStreamType::DirectPut);
    assert_eq!(d.version_id(), "1");
    assert_eq!(d.destinations().len(), 1);
    let dest = &d.destinations()[0];
    assert_eq!(dest.destination_id(), "destinationId-000000000001");
    let e = dest
        .extended_s3_destination_description()
        .expect("extended");
    let h = e.buffering_hints().expect("hints");
    assert_eq!(
        (h.size_in_mbs(), h.interval_in_seconds()),
        (Some(5), Some(300))
    );
    assert_eq!(e.compression_format().as_str(), "UNCOMPRESSED");
    assert_eq!(e.s3_backup_mode().map(|m| m.as_str()), Some("Disabled"));
    assert!(dest.s3_destination_description().is_some());
    assert_eq!(
        d.delivery_stream_encryption_configuration()
            .and_then(|e| e.status())
            .map(|s| s.as_str()),
        Some("DISABLED")
    );
}

#[tokio::test]
async fn a_second_stream_of_the_same_name_is_refused() {
    let (server, _) = server().await;
    let c = client(&server);
    create_active(&c, "dup", s3("p/", 5, 60)).await;
    let r = c
        .create_delivery_stream()
        .delivery_stream_name("dup")
        .extended_s3_destination_configuration(s3("p/", 5, 60))
        .send()
        .await;
    assert_error(
        r,
        "ResourceInUseException",
        "Firehose dup under accountId 000000000000 already exists",
    );
}

#[tokio::test]
async fn unknown_streams_are_not_found() {
    let (server, _) = server().await;
    let c = client(&server);
    let r = c
        .describe_delivery_stream()
        .delivery_stream_name("nope")
        .send()
        .await;
    assert_error(
        r,
        "ResourceNotFoundException",
        "Firehose nope under account 000000000000 not found.",
    );
    let r = c
        .put_record()
        .delivery_stream_name("nope")
        .record(
            Record::builder()
                .data(Blob::new("x"))
                .build()
                .expect("record"),
        )
        .send()
        .await;
    assert_code(r, "ResourceNotFoundException");
}

#[tokio::test]
async fn model_constraints_are_checked_with_coral_messages() {
    let (server, _) = server().await;
    let c = client(&server);
    let r = c
        .create_delivery_stream()
        .delivery_stream_name("bad name")
        .extended_s3_destination_configuration(s3("p/", 500, 60))
        .send()
        .await;
    assert_error(
        r,
        "ValidationException",
        "2 validation errors detected: Value 'bad name' at 'deliveryStreamName' failed to \
         satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+; \
         Value '500' at 'extendedS3DestinationConfiguration.bufferingHints.sizeInMBs' failed \
         to satisfy constraint: Member must have value less than or equal to 128",
    );
}

#[tokio::test]
#[allow(deprecated)] // the deprecated S3 destination is what this tests
async fn a_stream_needs_exactly_one_destination_freshet_delivers_to() {
    let (server, _) = server().await;
    let c = client(&server);
    let r = c
        .create_delivery_stream()
        .delivery_stream_name("none")
        .send()
        .await;
    assert_error(
        r,
        "InvalidArgumentException",
        "A destination configuration must be specified.",
    );
    let r = c
        .create_delivery_stream()
        .delivery_stream_name("two")
        .extended_s3_destination_configuration(s3("p/", 5, 60))
        .s3_destination_configuration(
            S3DestinationConfiguration::builder()
                .role_arn(ROLE)
                .bucket_arn(BUCKET)
                .build()
                .expect("s3"),
        )
        .send()
        .await;
    assert_error(
        r,
        "InvalidArgumentException",
        "Only one destination configuration is allowed per delivery stream.",
    );
    let r = c
        .create_delivery_stream()
        .delivery_stream_name("splunk")
        .splunk_destination_configuration(
            SplunkDestinationConfiguration::builder()
                .hec_endpoint("https://splunk")
                .hec_endpoint_type("Raw".into())
                .hec_token("t")
                .s3_configuration(
                    S3DestinationConfiguration::builder()
                        .role_arn(ROLE)
                        .bucket_arn(BUCKET)
                        .build()
                        .expect("s3"),
                )
                .build()
                .expect("splunk"),
        )
        .send()
        .await;
    assert_error(
        r,
        "InvalidArgumentException",
        "Freshet does not deliver to Splunk destinations; use ExtendedS3 or HttpEndpoint.",
    );
}

#[tokio::test]
#[allow(deprecated)] // the deprecated S3 destination is what this tests
async fn the_deprecated_s3_destination_is_served_as_extended_s3() {
    let (server, _) = server().await;
    let c = client(&server);
    c.create_delivery_stream()
        .delivery_stream_name("old")
        .s3_destination_configuration(
            S3DestinationConfiguration::builder()
                .role_arn(ROLE)
                .bucket_arn(BUCKET)
                .prefix("legacy/")
                .build()
                .expect("s3"),
        )
        .send()
        .await
        .expect("create");
    let d = c
        .describe_delivery_stream()
        .delivery_stream_name("old")
        .send()
        .await
        .expect("describe");
    let dest = &d.delivery_stream_description().expect("d").destinations()[0];
    let e = dest
        .extended_s3_destination_description()
        .expect("extended");
    assert_eq!(e.prefix(), Some("legacy/"));
}

#[tokio::test]
async fn kinesis_sourced_streams_refuse_puts_and_direct_put_refuses_a_kinesis_source() {
    let (server, _) = server().await;
    let c = client(&server);
    let source = KinesisStreamSourceConfiguration::builder()
        .kinesis_stream_arn("arn:aws:kinesis:us-east-1:000000000000:stream/src")
        .role_arn(ROLE)
        .build()
        .expect("source");
    let r = c
        .create_delivery_stream()
        .delivery_stream_name("mixed")
        .delivery_stream_type(DeliveryStreamType::DirectPut)
        .kinesis_stream_source_configuration(source.clone())
        .extended_s3_destination_configuration(s3("p/", 5, 60))
        .send()
        .await;
    assert_error(
        r,
        "InvalidArgumentException",
        "KinesisSourceStreamConfig is only allowed for KinesisStreamAsSource type.",
    );
    freshet_testkit::create_active_stream(&server.client(), "src", 1).await;
    c.create_delivery_stream()
        .delivery_stream_name("fromk")
        .delivery_stream_type(DeliveryStreamType::KinesisStreamAsSource)
        .kinesis_stream_source_configuration(source)
        .extended_s3_destination_configuration(s3("p/", 5, 60))
        .send()
        .await
        .expect("create");
    super::wait_active(&c, "fromk").await;
    let r = c
        .put_record()
        .delivery_stream_name("fromk")
        .record(
            Record::builder()
                .data(Blob::new("x"))
                .build()
                .expect("record"),
        )
        .send()
        .await;
    assert_error(
        r,
        "InvalidArgumentException",
        "This operation is not permitted on KinesisStreamAsSource delivery stream type.",
    );
}

#[tokio::test]
async fn update_destination_merges_and_bumps_the_version_once_per_version_id() {
    let (server, _) = server().await;
    let c = client(&server);
    create_active(&c, "u", s3("a/", 5, 60)).await;
    c.update_destination()
        .delivery_stream_name("u")
        .current_delivery_stream_version_id("1")
        .destination_id("destinationId-000000000001")
        .extended_s3_destination_update(ExtendedS3DestinationUpdate::builder().prefix("b/").build())
        .send()
        .await
        .expect("update");
    let d = c
        .describe_delivery_stream()
        .delivery_stream_name("u")
        .send()
        .await
        .expect("describe");
    let d = d.delivery_stream_description().expect("d");
    assert_eq!(d.version_id(), "2");
    let e = d.destinations()[0]
        .extended_s3_destination_description()
        .expect("e");
    assert_eq!(e.prefix(), Some("b/"));
    assert_eq!(e.bucket_arn(), BUCKET);
    assert_eq!(
        e.buffering_hints().and_then(|h| h.interval_in_seconds()),
        Some(60)
    );
    let r = c
        .update_destination()
        .delivery_stream_name("u")
        .current_delivery_stream_version_id("1")
        .destination_id("destinationId-000000000001")
        .extended_s3_destination_update(ExtendedS3DestinationUpdate::builder().prefix("c/").build())
        .send()
        .await;
    assert_error(
        r,
        "ConcurrentModificationException",
        "Cannot update firehose: u since the current version id: 2 and specified version id: 1 \
         do not match",
    );
}

#[tokio::test]
async fn a_destination_can_switch_type_when_the_update_is_complete() {
    let (server, _) = server().await;
    let c = client(&server);
    create_active(&c, "sw", s3("a/", 5, 60)).await;
    let http = aws_sdk_firehose::types::HttpEndpointDestinationUpdate::builder()
        .endpoint_configuration(
            HttpEndpointConfiguration::builder()
                .url("http://127.0.0.1:9/")
                .build()
                .expect("endpoint"),
        )
        .s3_update(
            aws_sdk_firehose::types::S3DestinationUpdate::builder()
                .role_arn(ROLE)
                .bucket_arn(BUCKET)
                .build(),
        )
        .build();
    c.update_destination()
        .delivery_stream_name("sw")
        .current_delivery_stream_version_id("1")
        .destination_id("destinationId-000000000001")
        .http_endpoint_destination_update(http)
        .send()
        .await
        .expect("switch");
    let d = c
        .describe_delivery_stream()
        .delivery_stream_name("sw")
        .send()
        .await
        .expect("describe");
    let dest = &d.delivery_stream_description().expect("d").destinations()[0];
    let h = dest.http_endpoint_destination_description().expect("http");
    assert_eq!(
        h.endpoint_configuration().and_then(|e| e.url()),
        Some("http://127.0.0.1:9/")
    );
    assert!(dest.extended_s3_destination_description().is_none());
}

#[tokio::test]
async fn streams_are_listed_in_name_order_with_paging_and_a_type_filter() {
    let (server, _) = server().await;
    let c = client(&server);
    for n in ["c", "a", "b"] {
        create_active(&c, n, s3("p/", 5, 60)).await;
    }
    let l = c
        .list_delivery_streams()
        .limit(2)
        .send()
        .await
        .expect("list");
    assert_eq!(l.delivery_stream_names(), ["a", "b"]);
    assert!(l.has_more_delivery_streams());
    let l = c
        .list_delivery_streams()
        .exclusive_start_delivery_stream_name("b")
        .send()
        .await
        .expect("list");
    assert_eq!(l.delivery_stream_names(), ["c"]);
    assert!(!l.has_more_delivery_streams());
    let l = c
        .list_delivery_streams()
        .delivery_stream_type(DeliveryStreamType::KinesisStreamAsSource)
        .send()
        .await
        .expect("list");
    assert!(l.delivery_stream_names().is_empty());
}

#[tokio::test]
async fn a_deleted_stream_goes_through_deleting_and_is_gone() {
    let (server, _) = server().await;
    let c = client(&server);
    create_active(&c, "d", s3("p/", 5, 60)).await;
    c.delete_delivery_stream()
        .delivery_stream_name("d")
        .send()
        .await
        .expect("delete");
    for _ in 0..500 {
        match c
            .describe_delivery_stream()
            .delivery_stream_name("d")
            .send()
            .await
        {
            Ok(o) => assert_eq!(
                o.delivery_stream_description()
                    .map(|d| d.delivery_stream_status()),
                Some(&DeliveryStreamStatus::Deleting)
            ),
            Err(e) => {
                assert_code::<(), _>(Err(e), "ResourceNotFoundException");
                return;
            }
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("never deleted");
}

#[tokio::test]
async fn tags_are_added_listed_in_key_order_and_removed() {
    let (server, _) = server().await;
    let c = client(&server);
    c.create_delivery_stream()
        .delivery_stream_name("t")
        .extended_s3_destination_configuration(s3("p/", 5, 60))
        .tags(Tag::builder().key("b").value("2").build().expect("tag"))
        .send()
        .await
        .expect("create");
    c.tag_delivery_stream()
        .delivery_stream_name("t")
        .tags(Tag::builder().key("a").value("1").build().expect("tag"))
        .send()
        .await
        .expect("tag");
    let l = c
        .list_tags_for_delivery_stream()
        .delivery_stream_name("t")
        .limit(1)
        .send()
        .await
        .expect("list");
    assert_eq!(l.tags()[0].key(), "a");
    assert!(l.has_more_tags());
    c.untag_delivery_stream()
        .delivery_stream_name("t")
        .tag_keys("a")
        .send()
        .await
        .expect("untag");
    let l = c
        .list_tags_for_delivery_stream()
        .delivery_stream_name("t")
        .send()
        .await
        .expect("list");
    assert_eq!(l.tags().len(), 1);
    assert_eq!(l.tags()[0].value(), Some("2"));
    let r = c
        .tag_delivery_stream()
        .delivery_stream_name("t")
        .tags(Tag::builder().key("aws:x").value("1").build().expect("tag"))
        .send()
        .await;
    assert_code(r, "ValidationException");
}

#[tokio::test]
async fn encryption_is_started_and_stopped_and_reported_by_puts() {
    let (server, _) = server().await;
    let c = client(&server);
    create_active(&c, "e", s3("p/", 5, 60)).await;
    c.start_delivery_stream_encryption()
        .delivery_stream_name("e")
        .delivery_stream_encryption_configuration_input(
            DeliveryStreamEncryptionConfigurationInput::builder()
                .key_type(KeyType::AwsOwnedCmk)
                .build()
                .expect("enc"),
        )
        .send()
        .await
        .expect("start");
    let p = c
        .put_record()
        .delivery_stream_name("e")
        .record(
            Record::builder()
                .data(Blob::new("x"))
                .build()
                .expect("record"),
        )
        .send()
        .await
        .expect("put");
    assert_eq!(p.encrypted(), Some(true));
    c.stop_delivery_stream_encryption()
        .delivery_stream_name("e")
        .send()
        .await
        .expect("stop");
    let r = c
        .start_delivery_stream_encryption()
        .delivery_stream_name("e")
        .delivery_stream_encryption_configuration_input(
            DeliveryStreamEncryptionConfigurationInput::builder()
                .key_type(KeyType::CustomerManagedCmk)
                .build()
                .expect("enc"),
        )
        .send()
        .await;
    assert_error(
        r,
        "InvalidArgumentException",
        "KeyARN must be specified when KeyType is CUSTOMER_MANAGED_CMK.",
    );
}

#[tokio::test]
async fn an_http_endpoint_destination_needs_its_s3_configuration() {
    let (server, _) = server().await;
    let c = client(&server);
    let r = c
        .create_delivery_stream()
        .delivery_stream_name("h")
        .http_endpoint_destination_configuration(
            HttpEndpointDestinationConfiguration::builder()
                .endpoint_configuration(
                    HttpEndpointConfiguration::builder()
                        .url("ftp://x")
                        .build()
                        .expect("endpoint"),
                )
                .s3_configuration(
                    S3DestinationConfiguration::builder()
                        .role_arn(ROLE)
                        .bucket_arn(BUCKET)
                        .build()
                        .expect("s3"),
                )
                .build(),
        )
        .send()
        .await;
    assert_error(
        r,
        "InvalidArgumentException",
        "Endpoint URL ftp://x must start with https:// (or http:// on Freshet).",
    );
}

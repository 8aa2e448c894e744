// SPDX-License-Identifier: Apache-2.0
use serde_json::json;

use super::*;

const SQS_NS: &str = "http://queue.amazonaws.com/doc/2012-11-05/";

#[test]
fn send_message_output_is_wrapped_in_its_result_element() {
    let xml = encode_response(
        QueryModel::sqs(),
        "SendMessage",
        &json!({"MessageId": "m-1", "MD5OfMessageBody": "abc", "Unknown": 1, "SequenceNumber": null}),
        "req-1",
    );
    assert_eq!(
        xml,
        format!(
            "<SendMessageResponse xmlns=\"{SQS_NS}\"><SendMessageResult><MD5OfMessageBody>abc</MD5OfMessageBody>\
             <MessageId>m-1</MessageId></SendMessageResult><ResponseMetadata><RequestId>req-1</RequestId>\
             </ResponseMetadata></SendMessageResponse>"
        )
    );
}

#[test]
fn received_messages_use_flattened_lists_and_maps() {
    let xml = encode_response(
        QueryModel::sqs(),
        "ReceiveMessage",
        &json!({"Messages": [{
            "MessageId": "m", "Body": "a\r\nb<&>",
            "Attributes": {"SentTimestamp": "1"},
            "MessageAttributes": {"c": {"DataType": "String", "StringValue": "red"}}
        }]}),
        "r",
    );
    assert_eq!(
        xml,
        format!(
            "<ReceiveMessageResponse xmlns=\"{SQS_NS}\"><ReceiveMessageResult><Message><MessageId>m</MessageId>\
             <Body>a&#xD;\nb&lt;&amp;&gt;</Body><Attribute><Name>SentTimestamp</Name><Value>1</Value></Attribute>\
             <MessageAttribute><Name>c</Name><Value><StringValue>red</StringValue><DataType>String</DataType>\
             </Value></MessageAttribute></Message></ReceiveMessageResult><ResponseMetadata><RequestId>r</RequestId>\
             </ResponseMetadata></ReceiveMessageResponse>"
        )
    );
}

#[test]
fn flattened_scalar_lists_repeat_the_element() {
    let xml = encode_response(
        QueryModel::sqs(),
        "ListQueues",
        &json!({"QueueUrls": ["a", "b"]}),
        "r",
    );
    assert!(xml.contains(
        "<ListQueuesResult><QueueUrl>a</QueueUrl><QueueUrl>b</QueueUrl></ListQueuesResult>"
    ));
    let xml = encode_response(
        QueryModel::sqs(),
        "ListQueues",
        &json!({"QueueUrls": []}),
        "r",
    );
    assert!(xml.contains("<ListQueuesResult></ListQueuesResult>"));
}

#[test]
fn operations_without_output_carry_only_metadata() {
    let xml = encode_response(QueryModel::sqs(), "DeleteQueue", &json!({}), "r");
    assert_eq!(
        xml,
        format!(
            "<DeleteQueueResponse xmlns=\"{SQS_NS}\"><ResponseMetadata><RequestId>r</RequestId>\
             </ResponseMetadata></DeleteQueueResponse>"
        )
    );
    let xml = encode_response(QueryModel::sqs(), "No<pe>", &json!({"A": 1}), "r");
    assert!(xml.starts_with("<NopeResponse xmlns="), "{xml}");
    assert!(xml.ends_with("</NopeResponse>"), "{xml}");
}

#[test]
fn cloudwatch_datapoints_use_wrapped_lists_maps_timestamps_and_xml_order() {
    let xml = encode_response(
        QueryModel::cloudwatch(),
        "GetMetricStatistics",
        &json!({
            "Label": "L",
            "Datapoints": [{
                "Unit": "Count", "Sum": 3, "Average": 1.5, "Maximum": 1e300,
                "Timestamp": 1_704_067_200.25,
                "ExtendedStatistics": {"p50": 2.0}
            }]
        }),
        "r",
    );
    assert!(xml.starts_with(
        "<GetMetricStatisticsResponse xmlns=\"http://monitoring.amazonaws.com/doc/2010-08-01/\">\
         <GetMetricStatisticsResult><Label>L</Label><Datapoints><member>\
         <Timestamp>2024-01-01T00:00:00.250Z</Timestamp><Average>1.5</Average><Sum>3</Sum>\
         <Maximum>1e300</Maximum><Unit>Count</Unit>\
         <ExtendedStatistics><entry><key>p50</key><value>2.0</value></entry></ExtendedStatistics>\
         </member></Datapoints></GetMetricStatisticsResult>"
    ), "{xml}");
}

#[test]
fn empty_wrapped_lists_are_written_and_values_of_the_wrong_kind_left_out() {
    let xml = encode_response(
        QueryModel::cloudwatch(),
        "ListMetrics",
        &json!({"Metrics": [], "NextToken": {"not": "a string"}, "OwningAccounts": "x"}),
        "r",
    );
    assert!(
        xml.contains("<ListMetricsResult><Metrics></Metrics></ListMetricsResult>"),
        "{xml}"
    );
}

#[test]
fn sqs_errors_carry_an_empty_detail() {
    let xml = encode_error(
        QueryModel::sqs(),
        "AWS.SimpleQueueService.NonExistentQueue",
        Fault::Sender,
        "The specified queue does not exist.",
        "r",
    );
    assert_eq!(
        xml,
        format!(
            "<ErrorResponse xmlns=\"{SQS_NS}\"><Error><Type>Sender</Type>\
             <Code>AWS.SimpleQueueService.NonExistentQueue</Code>\
             <Message>The specified queue does not exist.</Message><Detail/></Error>\
             <RequestId>r</RequestId></ErrorResponse>"
        )
    );
}

#[test]
fn cloudwatch_errors_have_no_detail_and_messages_are_escaped() {
    let xml = encode_error(
        QueryModel::cloudwatch(),
        "InternalServiceError",
        Fault::Receiver,
        "a<b",
        "r&1",
    );
    assert_eq!(
        xml,
        "<ErrorResponse xmlns=\"http://monitoring.amazonaws.com/doc/2010-08-01/\"><Error><Type>Receiver</Type>\
         <Code>InternalServiceError</Code><Message>a&lt;b</Message></Error><RequestId>r&amp;1</RequestId>\
         </ErrorResponse>"
    );
}

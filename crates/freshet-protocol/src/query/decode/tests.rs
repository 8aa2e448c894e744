// SPDX-License-Identifier: Apache-2.0
use proptest::prelude::*;
use serde_json::json;

use super::*;
use crate::query::parse_form;

fn decode(model: &QueryModel, body: &str) -> Result<(String, Value), QueryError> {
    decode_request(model, &parse_form(body.as_bytes()).expect("form"))
}

fn sqs(body: &str) -> Value {
    decode(QueryModel::sqs(), body).expect("decodes").1
}

#[test]
fn send_message_batch_entries_and_attributes_become_json() {
    let body = "Action=SendMessageBatch&Version=2012-11-05&QueueUrl=http%3A%2F%2Fq%2F1%2Fq\
        &SendMessageBatchRequestEntry.1.Id=a&SendMessageBatchRequestEntry.1.MessageBody=hi+there\
        &SendMessageBatchRequestEntry.1.DelaySeconds=5\
        &SendMessageBatchRequestEntry.1.MessageAttribute.1.Name=color\
        &SendMessageBatchRequestEntry.1.MessageAttribute.1.Value.DataType=String\
        &SendMessageBatchRequestEntry.1.MessageAttribute.1.Value.StringValue=red\
        &SendMessageBatchRequestEntry.1.MessageAttribute.2.Name=bin\
        &SendMessageBatchRequestEntry.1.MessageAttribute.2.Value.DataType=Binary\
        &SendMessageBatchRequestEntry.1.MessageAttribute.2.Value.BinaryValue=AAE%3D\
        &SendMessageBatchRequestEntry.2.Id=b&SendMessageBatchRequestEntry.2.MessageBody=x\
        &SendMessageBatchRequestEntry.2.MessageSystemAttribute.1.Name=AWSTraceHeader\
        &SendMessageBatchRequestEntry.2.MessageSystemAttribute.1.Value.DataType=String\
        &SendMessageBatchRequestEntry.2.MessageSystemAttribute.1.Value.StringValue=Root%3D1";
    let (action, input) = decode(QueryModel::sqs(), body).expect("decodes");
    assert_eq!(action, "SendMessageBatch");
    assert_eq!(
        input,
        json!({
            "QueueUrl": "http://q/1/q",
            "Entries": [
                {
                    "Id": "a", "MessageBody": "hi there", "DelaySeconds": 5,
                    "MessageAttributes": {
                        "color": {"DataType": "String", "StringValue": "red"},
                        "bin": {"DataType": "Binary", "BinaryValue": "AAE="}
                    }
                },
                {
                    "Id": "b", "MessageBody": "x",
                    "MessageSystemAttributes": {
                        "AWSTraceHeader": {"DataType": "String", "StringValue": "Root=1"}
                    }
                }
            ]
        })
    );
}

#[test]
fn list_indices_may_be_sparse_and_out_of_order() {
    let input = sqs(
        "Action=ReceiveMessage&QueueUrl=q&AttributeName.10=c&AttributeName.2=b&AttributeName.1=a\
        &MessageAttributeName.7=x",
    );
    assert_eq!(input["AttributeNames"], json!(["a", "b", "c"]));
    assert_eq!(input["MessageAttributeNames"], json!(["x"]));
}

#[test]
fn indices_with_leading_zeros_or_zero_are_ignored() {
    let input = sqs(
        "Action=ReceiveMessage&QueueUrl=q&AttributeName.01=a&AttributeName.0=b&AttributeName.x=c",
    );
    assert_eq!(input, json!({"QueueUrl": "q"}));
}

#[test]
fn an_empty_flattened_list_is_sent_under_the_member_name() {
    // botocore: `_serialize_type_list` writes `AttributeNames=` before renaming the prefix.
    let input = sqs("Action=ReceiveMessage&QueueUrl=q&AttributeNames=");
    assert_eq!(input["AttributeNames"], json!([]));
}

#[test]
fn flattened_maps_use_the_key_and_value_location_names() {
    let input = sqs(
        "Action=CreateQueue&QueueName=q&Attribute.1.Name=VisibilityTimeout&Attribute.1.Value=40\
        &Attribute.2.Name=DelaySeconds&Attribute.2.Value=0&Tag.1.Key=team&Tag.1.Value=data",
    );
    assert_eq!(
        input,
        json!({
            "QueueName": "q",
            "Attributes": {"VisibilityTimeout": "40", "DelaySeconds": "0"},
            "tags": {"team": "data"}
        })
    );
}

#[test]
fn map_entries_without_a_key_or_value_are_skipped_and_the_first_key_wins() {
    let input = sqs(
        "Action=SetQueueAttributes&QueueUrl=q&Attribute.1.Name=A&Attribute.2.Value=x\
        &Attribute.3.Name=B&Attribute.3.Value=1&Attribute.4.Name=B&Attribute.4.Value=2",
    );
    assert_eq!(input["Attributes"], json!({"B": "1"}));
}

#[test]
fn the_first_occurrence_of_a_parameter_wins() {
    let input = sqs("Action=GetQueueUrl&QueueName=first&QueueName=second");
    assert_eq!(input, json!({"QueueName": "first"}));
}

#[test]
fn unknown_parameters_are_ignored() {
    let input = sqs(
        "Action=GetQueueUrl&Version=2012-11-05&QueueName=q&Signature=abc&Foo.Bar.1=x\
        &QueueName.member.1=y&AWSAccessKeyId=AKID",
    );
    assert_eq!(input, json!({"QueueName": "q"}));
}

#[test]
fn cloudwatch_wrapped_lists_timestamps_and_doubles_become_json() {
    let body = "Action=PutMetricData&Version=2010-08-01&Namespace=App\
        &MetricData.member.1.MetricName=Latency&MetricData.member.1.Value=1.5\
        &MetricData.member.1.Timestamp=2024-01-01T00%3A00%3A00Z&MetricData.member.1.Unit=Seconds\
        &MetricData.member.1.Dimensions.member.1.Name=Stream&MetricData.member.1.Dimensions.member.1.Value=s\
        &MetricData.member.1.StorageResolution=1\
        &MetricData.member.2.MetricName=Sizes&MetricData.member.2.Values.member.1=1\
        &MetricData.member.2.Values.member.2=2.5e3&MetricData.member.2.Counts.member.1=3\
        &MetricData.member.2.Timestamp=2024-01-01T00%3A00%3A00.250Z\
        &MetricData.member.2.StatisticValues.SampleCount=2&MetricData.member.2.StatisticValues.Sum=3\
        &MetricData.member.2.StatisticValues.Minimum=1&MetricData.member.2.StatisticValues.Maximum=2";
    let (_, input) = decode(QueryModel::cloudwatch(), body).expect("decodes");
    assert_eq!(
        input,
        json!({
            "Namespace": "App",
            "MetricData": [
                {
                    "MetricName": "Latency", "Value": 1.5, "Timestamp": 1_704_067_200,
                    "Unit": "Seconds", "StorageResolution": 1,
                    "Dimensions": [{"Name": "Stream", "Value": "s"}]
                },
                {
                    "MetricName": "Sizes", "Values": [1.0, 2500.0], "Counts": [3.0],
                    "Timestamp": 1_704_067_200.25,
                    "StatisticValues": {"SampleCount": 2.0, "Sum": 3.0, "Minimum": 1.0, "Maximum": 2.0}
                }
            ]
        })
    );
}

#[test]
fn booleans_are_true_or_false_in_any_case() {
    let (_, input) = decode(
        QueryModel::cloudwatch(),
        "Action=DescribeAlarms&ActionPrefix=a",
    )
    .expect("decodes");
    assert_eq!(input, json!({"ActionPrefix": "a"}));
    let (_, input) = decode(
        QueryModel::cloudwatch(),
        "Action=PutMetricAlarm&ActionsEnabled=TRUE",
    )
    .expect("decodes");
    assert_eq!(input, json!({"ActionsEnabled": true}));
    let err = decode(
        QueryModel::cloudwatch(),
        "Action=PutMetricAlarm&ActionsEnabled=yes",
    )
    .expect_err("bad");
    assert_eq!(err.code(), "InvalidParameterValue");
}

#[test]
fn a_value_of_the_wrong_type_names_its_full_parameter() {
    let err = decode(
        QueryModel::sqs(),
        "Action=SendMessageBatch&QueueUrl=q&SendMessageBatchRequestEntry.2.Id=b\
         &SendMessageBatchRequestEntry.2.DelaySeconds=soon",
    )
    .expect_err("bad");
    assert_eq!(
        err.message(),
        "Value (soon) for parameter SendMessageBatchRequestEntry.2.DelaySeconds is invalid. Must be an integer."
    );
    let cases = [
        "Action=ReceiveMessage&QueueUrl=q&MaxNumberOfMessages=99999999999",
        "Action=SendMessage&QueueUrl=q&MessageAttribute.1.Name=n&MessageAttribute.1.Value.BinaryValue=%%%",
        "Action=ListQueues&MaxResults=1.5",
    ];
    for body in cases {
        let form = parse_form(body.as_bytes());
        let result = form.and_then(|p| decode_request(QueryModel::sqs(), &p));
        assert!(result.is_err(), "{body}");
    }
    let err = decode(
        QueryModel::cloudwatch(),
        "Action=PutMetricData&MetricData.member.3.Value=inf",
    )
    .expect_err("bad");
    assert_eq!(
        err.message(),
        "Value (inf) for parameter MetricData.member.3.Value is invalid. Must be a finite number."
    );
    let err = decode(
        QueryModel::cloudwatch(),
        "Action=GetMetricStatistics&StartTime=yesterday",
    )
    .expect_err("bad");
    assert_eq!(err.code(), "InvalidParameterValue");
}

#[test]
fn missing_empty_and_unknown_actions_are_rejected() {
    assert_eq!(
        decode(QueryModel::sqs(), "QueueName=q"),
        Err(QueryError::MissingAction)
    );
    assert_eq!(
        decode(QueryModel::sqs(), "Action=&QueueName=q"),
        Err(QueryError::MissingAction)
    );
    let err = decode(QueryModel::sqs(), "Action=sendmessage").expect_err("case-sensitive");
    assert_eq!(err.code(), "InvalidAction");
    assert_eq!(err.status(), 400);
}

/// A model with a wrapped map, a list named by its element's locationName, an operation
/// without input and a recursive structure.
const CUSTOM: &str = r#"{
  "metadata": {"protocol": "query", "apiVersion": "2020-01-01", "xmlNamespace": "urn:x"},
  "operations": {
    "Put": {"name": "Put", "input": {"shape": "PutInput"}},
    "Ping": {"name": "Ping"}
  },
  "shapes": {
    "PutInput": {"type": "structure", "members": {
      "Labels": {"shape": "Labels"},
      "Names": {"shape": "Names"},
      "Tree": {"shape": "Tree"},
      "Blob": {"shape": "B"},
      "Big": {"shape": "L"}
    }},
    "Labels": {"type": "map", "key": {"shape": "S"}, "value": {"shape": "I"}},
    "Names": {"type": "list", "member": {"shape": "S", "locationName": "Name"}},
    "Tree": {"type": "structure", "members": {"V": {"shape": "S"}, "Child": {"shape": "Tree"}}},
    "S": {"type": "string"},
    "I": {"type": "integer"},
    "L": {"type": "long"},
    "B": {"type": "blob"}
  }
}"#;

#[test]
fn wrapped_maps_and_renamed_list_members_decode() {
    let model = QueryModel::parse(CUSTOM).expect("model");
    let (_, input) = decode(
        &model,
        "Action=Put&Labels.entry.2.key=b&Labels.entry.2.value=2&Labels.entry.1.key=a&Labels.entry.1.value=1\
         &Names.Name.1=x&Names.member.2=ignored&Big=-9007199254740993&Blob=",
    )
    .expect("decodes");
    assert_eq!(
        input,
        json!({"Labels": {"a": 1, "b": 2}, "Names": ["x"], "Big": -9_007_199_254_740_993_i64, "Blob": ""})
    );
}

#[test]
fn an_operation_without_input_decodes_to_an_empty_object() {
    let model = QueryModel::parse(CUSTOM).expect("model");
    assert_eq!(
        decode(&model, "Action=Ping&X=1"),
        Ok(("Ping".to_owned(), json!({})))
    );
}

#[test]
fn recursive_shapes_stop_at_the_depth_limit() {
    let model = QueryModel::parse(CUSTOM).expect("model");
    let (_, input) = decode(&model, "Action=Put&Tree.V=a&Tree.Child.V=b").expect("decodes");
    assert_eq!(input, json!({"Tree": {"V": "a", "Child": {"V": "b"}}}));
    // Names deeper than the limit are ignored rather than walked.
    let deep = format!("Action=Put&Tree{}.V=x", ".Child".repeat(MAX_DEPTH + 5));
    let (_, input) = decode(&model, &deep).expect("decodes");
    assert_eq!(input, json!({}));
    // Just under the limit the whole chain decodes; the walk's own limit is only a backstop.
    let deep = format!("Action=Put&Tree{}.V=x", ".Child".repeat(MAX_DEPTH - 2));
    let (_, input) = decode(&model, &deep).expect("decodes");
    let mut node = &input["Tree"];
    for _ in 0..MAX_DEPTH - 2 {
        node = &node["Child"];
    }
    assert_eq!(node, &json!({"V": "x"}));
}

proptest! {
    #[test]
    fn decode_never_panics_on_arbitrary_bytes(body in proptest::collection::vec(any::<u8>(), 0..400)) {
        let mut with_action = b"Action=SendMessageBatch&".to_vec();
        with_action.extend_from_slice(&body);
        for model in [QueryModel::sqs(), QueryModel::cloudwatch()] {
            if let Ok(params) = parse_form(&with_action) {
                let _ = decode_request(model, &params);
            }
        }
    }

    #[test]
    fn decode_never_panics_on_names_shaped_like_the_model(
        names in proptest::collection::vec(
            proptest::collection::vec(
                prop_oneof![
                    Just("SendMessageBatchRequestEntry".to_owned()), Just("MessageAttribute".to_owned()),
                    Just("Value".to_owned()), Just("Name".to_owned()), Just("member".to_owned()),
                    Just("entry".to_owned()), Just("MetricData".to_owned()), Just("Dimensions".to_owned()),
                    Just("Values".to_owned()), Just("Timestamp".to_owned()), Just("BinaryValue".to_owned()),
                    Just("StringListValue".to_owned()), Just("AttributeNames".to_owned()),
                    "[0-9]{1,3}", "[A-Za-z]{0,4}",
                ],
                1..7,
            ),
            0..20,
        ),
        values in proptest::collection::vec("\\PC{0,8}", 20),
        action in prop_oneof![Just("SendMessageBatch"), Just("PutMetricData"), Just("ReceiveMessage"), Just("GetMetricData")],
    ) {
        let mut params = vec![("Action".to_owned(), action.to_owned())];
        for (i, segs) in names.iter().enumerate() {
            params.push((segs.join("."), values[i % values.len()].clone()));
        }
        for model in [QueryModel::sqs(), QueryModel::cloudwatch()] {
            let _ = decode_request(model, &params);
        }
    }
}

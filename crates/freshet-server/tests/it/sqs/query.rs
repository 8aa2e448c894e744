// SPDX-License-Identifier: Apache-2.0
//! The Query protocol (older SDKs): form requests, XML answers, the queue URL as the path.

use freshet_testkit::RawResponse;

use super::*;

const FORM: &str = "application/x-www-form-urlencoded";

async fn form(server: &TestServer, path: &str, body: &str) -> RawResponse {
    server
        .try_raw(
            http::Method::POST,
            path,
            &[("content-type", FORM)],
            bytes::Bytes::from(body.to_owned()),
        )
        .await
        .expect("query request")
}

fn text(r: &RawResponse) -> String {
    String::from_utf8(r.body.to_vec()).expect("utf8")
}

#[tokio::test]
async fn query_requests_send_and_receive_with_xml_answers() {
    let server = TestServer::start().await;
    let c = client(&server);
    let url = create(&c, "legacy", &[]).await;
    let enc: String = form_urlencoded::byte_serialize(url.as_bytes()).collect();
    let r = form(
        &server,
        "/",
        &format!(
            "Action=SendMessage&Version=2012-11-05&QueueUrl={enc}&MessageBody=hi\
             &MessageAttribute.1.Name=a&MessageAttribute.1.Value.DataType=String\
             &MessageAttribute.1.Value.StringValue=v"
        ),
    )
    .await;
    assert_eq!(r.status, 200, "{}", text(&r));
    let xml = text(&r);
    assert!(
        xml.contains("<SendMessageResponse xmlns=\"http://queue.amazonaws.com/doc/2012-11-05/\">"),
        "{xml}"
    );
    assert!(
        xml.contains("<MD5OfMessageBody>49f68a5c8493ec2c0bf489821c21fc3b</MD5OfMessageBody>"),
        "{xml}"
    );
    assert!(
        xml.contains(
            "<MD5OfMessageAttributes>a18cbb58171ebf4ce88d9fb787f9210b</MD5OfMessageAttributes>"
        ),
        "{xml}"
    );
    // Posted to the queue's own URL, without QueueUrl.
    let r = form(
        &server,
        "/000000000000/legacy",
        "Action=ReceiveMessage&Version=2012-11-05&MessageAttributeName.1=All&AttributeName.1=All",
    )
    .await;
    assert_eq!(r.status, 200, "{}", text(&r));
    let xml = text(&r);
    assert!(xml.contains("<ReceiveMessageResult><Message>"), "{xml}");
    assert!(xml.contains("<Body>hi</Body>"), "{xml}");
    assert!(
        xml.contains("<MessageAttribute><Name>a</Name><Value><StringValue>v</StringValue><DataType>String</DataType></Value></MessageAttribute>"),
        "{xml}"
    );
    assert!(
        xml.contains("<Attribute><Name>ApproximateReceiveCount</Name><Value>1</Value></Attribute>"),
        "{xml}"
    );
}

#[tokio::test]
async fn query_errors_are_error_responses_with_the_query_code() {
    let server = TestServer::start().await;
    let r = form(
        &server,
        "/000000000000/nope",
        "Action=GetQueueAttributes&Version=2012-11-05&AttributeName.1=All",
    )
    .await;
    assert_eq!(r.status, 400);
    let xml = text(&r);
    assert!(xml.contains("<ErrorResponse"), "{xml}");
    assert!(xml.contains("<Type>Sender</Type>"), "{xml}");
    assert!(
        xml.contains("<Code>AWS.SimpleQueueService.NonExistentQueue</Code>"),
        "{xml}"
    );
    assert!(
        xml.contains(
            "<Message>The specified queue does not exist for this wsdl version.</Message>"
        ),
        "{xml}"
    );
    let r = form(&server, "/", "Action=CreateQueue&Version=2012-11-05&QueueName=q1&Attribute.1.Name=VisibilityTimeout&Attribute.1.Value=99999").await;
    let xml = text(&r);
    assert!(xml.contains("<Code>InvalidAttributeValue</Code>"), "{xml}");
}

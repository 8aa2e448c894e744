// SPDX-License-Identifier: Apache-2.0
//! Tags by ARN (TagResource, UntagResource, ListTagsForResource) and by name (the older
//! TagLogGroup, UntagLogGroup, ListTagsLogGroup), on the same tags.

use super::*;

const ARN: &str = "arn:aws:logs:us-east-1:000000000000:log-group:g";

async fn tags_by_arn(c: &aws_sdk_cloudwatchlogs::Client) -> Vec<(String, String)> {
    let out = c
        .list_tags_for_resource()
        .resource_arn(ARN)
        .send()
        .await
        .unwrap();
    let mut v: Vec<_> = out
        .tags()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .collect();
    v.sort();
    v
}

#[tokio::test]
async fn both_tag_apis_see_the_same_tags() {
    let server = TestServer::start().await;
    let c = client(&server);
    c.create_log_group()
        .log_group_name("g")
        .tags("env", "testing1")
        .send()
        .await
        .unwrap();
    c.tag_resource()
        .resource_arn(ARN)
        .tags("test1", "val1")
        .tags("test2", "val2")
        .send()
        .await
        .unwrap();
    #[allow(deprecated)]
    c.tag_log_group()
        .log_group_name("g")
        .tags("test3", "val3")
        .send()
        .await
        .unwrap();
    assert_eq!(tags_by_arn(&c).await.len(), 4);
    #[allow(deprecated)]
    let by_name = c
        .list_tags_log_group()
        .log_group_name("g")
        .send()
        .await
        .unwrap();
    assert_eq!(by_name.tags().map(|t| t.len()), Some(4));
    c.untag_resource()
        .resource_arn(ARN)
        .tag_keys("env")
        .tag_keys("test1")
        .send()
        .await
        .unwrap();
    #[allow(deprecated)]
    c.untag_log_group()
        .log_group_name("g")
        .tags("test3")
        .send()
        .await
        .unwrap();
    assert_eq!(
        tags_by_arn(&c).await,
        [("test2".to_owned(), "val2".to_owned())]
    );
}

#[tokio::test]
async fn tagging_errors_are_the_aws_ones() {
    let server = TestServer::start().await;
    let c = client(&server);
    create_group(&c, "g").await;
    let mut req = c.tag_resource().resource_arn(ARN);
    for i in 0..50 {
        req = req.tags(format!("k{i}"), "v");
    }
    req.send().await.unwrap();
    assert_error(
        c.tag_resource()
            .resource_arn(ARN)
            .tags("one-more", "v")
            .send()
            .await,
        "TooManyTagsException",
        "A resource can have no more than 50 tags.",
    );
    // The ARN with ':*' is the IAM form; the model's pattern does not allow it here.
    assert_code(
        c.list_tags_for_resource()
            .resource_arn(format!("{ARN}:*"))
            .send()
            .await,
        "InvalidParameterException",
    );
    assert_code(
        c.list_tags_for_resource()
            .resource_arn("arn:aws:logs:us-east-1:000000000000:log-group:nope")
            .send()
            .await,
        "ResourceNotFoundException",
    );
    assert_code(
        c.tag_resource()
            .resource_arn(ARN)
            .tags("bad*key", "v")
            .send()
            .await,
        "InvalidParameterException",
    );
}

// SPDX-License-Identifier: Apache-2.0
//! Retention on a manual clock: reads hide expired events at once, the retention component
//! deletes their segments. No sleeping on the test's side: the clock is moved by hand and the
//! retention pass is run through the server's handle.

use std::sync::Arc;

use freshet_testkit::ManualClock;

use super::*;

const DAY: i64 = 24 * 3_600_000;
const T0: i64 = 1_800_000_000_000;

#[tokio::test]
async fn retention_hides_expired_events_and_deletes_their_segments() {
    let clock = ManualClock::new(T0);
    let server = TestServer::start_with_clock(Arc::new(clock.clone()), |c| {
        c.storage.segment_size = freshet_server::config::ByteSize(4096);
    })
    .await;
    let c = client(&server);
    create_group(&c, "g").await;
    create_stream(&c, "g", "s").await;
    let body = "o".repeat(400);
    for i in 0..20 {
        put(&c, "g", "s", &[(T0 + i, body.as_str())]).await;
    }
    clock.advance(3 * DAY);
    put(&c, "g", "s", &[(T0 + 3 * DAY, "fresh")]).await;
    let stored =
        |out: &aws_sdk_cloudwatchlogs::operation::describe_log_groups::DescribeLogGroupsOutput| {
            out.log_groups()[0].stored_bytes().unwrap()
        };
    let before = stored(&c.describe_log_groups().send().await.unwrap());

    c.put_retention_policy()
        .log_group_name("g")
        .retention_in_days(1)
        .send()
        .await
        .unwrap();
    let g = c.describe_log_groups().send().await.unwrap();
    assert_eq!(g.log_groups()[0].retention_in_days(), Some(1));
    let page = c
        .get_log_events()
        .log_group_name("g")
        .log_stream_name("s")
        .start_from_head(true)
        .send()
        .await
        .unwrap();
    let msgs: Vec<&str> = page.events().iter().filter_map(|e| e.message()).collect();
    assert_eq!(msgs, ["fresh"]);
    let filtered = c
        .filter_log_events()
        .log_group_name("g")
        .send()
        .await
        .unwrap();
    assert_eq!(filtered.events().len(), 1);

    let logs = server.server().logs().clone();
    let deleted = tokio::task::spawn_blocking(move || logs.enforce_retention())
        .await
        .unwrap();
    assert!(deleted > 0);
    let after = stored(&c.describe_log_groups().send().await.unwrap());
    assert!(after < before, "{after} < {before}");

    c.delete_retention_policy()
        .log_group_name("g")
        .send()
        .await
        .unwrap();
    let g = c.describe_log_groups().send().await.unwrap();
    assert_eq!(g.log_groups()[0].retention_in_days(), None);
    assert!(
        c.get_log_events()
            .log_group_name("g")
            .log_stream_name("s")
            .send()
            .await
            .unwrap()
            .events()
            .len()
            < 21
    );
}

#[tokio::test]
async fn only_the_documented_retention_days_are_accepted() {
    let server = TestServer::start().await;
    let c = client(&server);
    create_group(&c, "g").await;
    assert_error(
        c.put_retention_policy()
            .log_group_name("g")
            .retention_in_days(2)
            .send()
            .await,
        "InvalidParameterException",
        "1 validation error detected: Value '2' at 'retentionInDays' failed to satisfy constraint: Member must satisfy enum value set: [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653]",
    );
    assert_error(
        c.put_retention_policy()
            .log_group_name("nope")
            .retention_in_days(7)
            .send()
            .await,
        "ResourceNotFoundException",
        "The specified log group does not exist.",
    );
}

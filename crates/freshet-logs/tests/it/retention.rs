// SPDX-License-Identifier: Apache-2.0
//! Retention: reads hide expired events at once, the retention task deletes their segments.

use freshet_logs::DescribeGroups;

use super::common::*;

#[tokio::test]
async fn expired_events_are_hidden_and_their_segments_deleted() {
    // Small segments, so the old events end up in sealed segments retention can delete.
    let env = Env::with_segments(4096).await;
    create(&env.logs, "g", &["s"]).await;
    let old = "o".repeat(500);
    for i in 0..20 {
        env.logs
            .put_log_events("g", "s", &events(&[(T0 + i, old.as_str())]))
            .await
            .unwrap();
    }
    env.clock.advance(2 * DAY);
    let now = T0 + 2 * DAY;
    env.logs
        .put_log_events("g", "s", &events(&[(now, "fresh")]))
        .await
        .unwrap();
    let bytes_before = env
        .logs
        .describe_log_groups(&DescribeGroups::default())
        .unwrap()
        .items[0]
        .stored_bytes;
    assert_eq!(read_forward(&env.logs, get("g", "s")).await.len(), 21);

    env.logs.put_retention_policy("g", 1).await.unwrap();
    // Hidden at once by every read.
    assert_eq!(read_forward(&env.logs, get("g", "s")).await, vec!["fresh"]);
    assert_eq!(read_backward(&env.logs, get("g", "s")).await, vec!["fresh"]);
    let filtered: Vec<String> = filter_all(&env.logs, filter("g"))
        .await
        .into_iter()
        .map(|e| e.message)
        .collect();
    assert_eq!(filtered, vec!["fresh"]);
    // New events older than the retention are rejected as expired.
    let out = env
        .logs
        .put_log_events("g", "s", &events(&[(now - 3 * DAY / 2, "late")]))
        .await
        .unwrap();
    assert_eq!(out.rejected.expired_log_event_end_index, Some(1));

    // And deleted by the retention task.
    let logs = env.logs.clone();
    let deleted = tokio::task::spawn_blocking(move || logs.enforce_retention())
        .await
        .unwrap();
    assert!(deleted > 0, "expired segments deleted");
    let bytes_after = env
        .logs
        .describe_log_groups(&DescribeGroups::default())
        .unwrap()
        .items[0]
        .stored_bytes;
    assert!(bytes_after < bytes_before, "{bytes_after} < {bytes_before}");
    assert_eq!(read_forward(&env.logs, get("g", "s")).await, vec!["fresh"]);

    // Without the policy nothing expires any more, but what was deleted stays gone.
    env.logs.delete_retention_policy("g").await.unwrap();
    let env = env.restart().await;
    let all = read_forward(&env.logs, get("g", "s")).await;
    assert!(all.contains(&"fresh".to_owned()));
    assert!(all.len() < 21);
}

#[tokio::test]
async fn retention_keeps_events_that_have_not_expired() {
    let env = Env::with_segments(4096).await;
    create(&env.logs, "g", &["s"]).await;
    let body = "k".repeat(500);
    for i in 0..20 {
        env.logs
            .put_log_events("g", "s", &events(&[(T0 + i, body.as_str())]))
            .await
            .unwrap();
    }
    env.logs.put_retention_policy("g", 3).await.unwrap();
    env.clock.advance(2 * DAY);
    let logs = env.logs.clone();
    assert_eq!(
        tokio::task::spawn_blocking(move || logs.enforce_retention())
            .await
            .unwrap(),
        0
    );
    assert_eq!(read_forward(&env.logs, get("g", "s")).await.len(), 20);
}

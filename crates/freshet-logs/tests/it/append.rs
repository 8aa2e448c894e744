// SPDX-License-Identifier: Apache-2.0
//! The data path: PutLogEvents and the in-process append.

use freshet_logs::{DescribeStreams, Error, GroupRef};

use super::common::*;

#[tokio::test]
async fn append_creates_the_group_and_the_stream_it_writes_to() {
    let env = Env::new().await;
    let out = env
        .logs
        .append(
            "/aws/lambda/fn",
            "2027/01/15/[$LATEST]abc",
            &events(&[(T0, "START"), (T0 + 1, "END")]),
        )
        .await
        .expect("append");
    assert_eq!(out.accepted, 2);
    assert!(!out.rejected.any());
    assert_eq!(env.logs.group_names(), vec!["/aws/lambda/fn".to_owned()]);
    let got = read_forward(&env.logs, get("/aws/lambda/fn", "2027/01/15/[$LATEST]abc")).await;
    assert_eq!(got, vec!["START", "END"]);
    // A second append finds both and adds to them.
    env.logs
        .append(
            "/aws/lambda/fn",
            "2027/01/15/[$LATEST]abc",
            &events(&[(T0 + 2, "REPORT")]),
        )
        .await
        .expect("append again");
    let got = read_forward(&env.logs, get("/aws/lambda/fn", "2027/01/15/[$LATEST]abc")).await;
    assert_eq!(got, vec!["START", "END", "REPORT"]);
}

#[tokio::test]
async fn rejected_events_are_reported_and_the_others_stored() {
    let env = Env::new().await;
    create(&env.logs, "g", &["s"]).await;
    let out = env
        .logs
        .put_log_events(
            "g",
            "s",
            &events(&[(T0 - 15 * DAY, "old"), (T0, "ok"), (T0 + 3 * HOUR, "new")]),
        )
        .await
        .expect("put");
    assert_eq!(out.accepted, 1);
    assert_eq!(out.rejected.too_old_log_event_end_index, Some(1));
    assert_eq!(out.rejected.too_new_log_event_start_index, Some(2));
    assert_eq!(read_forward(&env.logs, get("g", "s")).await, vec!["ok"]);
}

#[tokio::test]
async fn putting_to_a_missing_group_or_stream_fails_with_the_aws_texts() {
    let env = Env::new().await;
    let e = env
        .logs
        .put_log_events("nope", "s", &events(&[(T0, "x")]))
        .await
        .unwrap_err();
    assert_eq!(e.to_string(), "The specified log group does not exist.");
    create(&env.logs, "g", &[]).await;
    let e = env
        .logs
        .put_log_events("g", "nope", &events(&[(T0, "x")]))
        .await
        .unwrap_err();
    assert!(matches!(e, Error::StreamNotFound { .. }));
    assert_eq!(e.to_string(), "The specified log stream does not exist.");
}

#[tokio::test]
async fn a_re_created_stream_does_not_see_the_events_of_the_old_one() {
    let env = Env::new().await;
    create(&env.logs, "g", &["s", "other"]).await;
    env.logs
        .put_log_events("g", "s", &events(&[(T0, "before")]))
        .await
        .unwrap();
    env.logs
        .put_log_events("g", "other", &events(&[(T0, "kept")]))
        .await
        .unwrap();
    env.logs.delete_log_stream("g", "s").await.unwrap();
    env.logs.create_log_stream("g", "s").await.unwrap();
    env.logs
        .put_log_events("g", "s", &events(&[(T0 + 1, "after")]))
        .await
        .unwrap();
    assert_eq!(read_forward(&env.logs, get("g", "s")).await, vec!["after"]);
    assert_eq!(read_backward(&env.logs, get("g", "s")).await, vec!["after"]);
    let all: Vec<String> = filter_all(&env.logs, filter("g"))
        .await
        .into_iter()
        .map(|e| e.message)
        .collect();
    assert_eq!(all, vec!["kept", "after"]);
    // Still true after a restart that replays the log.
    let env = env.crash().await;
    assert_eq!(read_forward(&env.logs, get("g", "s")).await, vec!["after"]);
}

#[tokio::test]
async fn a_re_created_group_starts_empty_and_the_old_data_is_removed() {
    let env = Env::new().await;
    create(&env.logs, "g", &["s"]).await;
    env.logs
        .put_log_events("g", "s", &events(&[(T0, "old")]))
        .await
        .unwrap();
    let logs_dir = env.dir.path().join("logs").join("logs");
    assert_eq!(std::fs::read_dir(&logs_dir).unwrap().count(), 1);
    env.logs.delete_log_group("g").await.unwrap();
    assert_eq!(std::fs::read_dir(&logs_dir).unwrap().count(), 0);
    create(&env.logs, "g", &["s"]).await;
    assert!(read_forward(&env.logs, get("g", "s")).await.is_empty());
    assert!(filter_all(&env.logs, filter("g")).await.is_empty());
}

#[tokio::test]
async fn concurrent_appends_to_one_stream_are_all_stored_and_counted() {
    let env = Env::new().await;
    create(&env.logs, "g", &["s"]).await;
    let mut tasks = Vec::new();
    for t in 0..8 {
        let logs = env.logs.clone();
        tasks.push(tokio::spawn(async move {
            for i in 0..25 {
                let m = format!("t{t}-{i}");
                logs.put_log_events("g", "s", &events(&[(T0 + i, &m)]))
                    .await
                    .expect("put");
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let got = read_forward(&env.logs, get("g", "s")).await;
    assert_eq!(got.len(), 200);
    let page = env
        .logs
        .describe_log_streams(&DescribeStreams {
            group: GroupRef::Name("g".into()),
            prefix: None,
            by_last_event_time: false,
            descending: false,
            limit: None,
            next_token: None,
        })
        .unwrap();
    assert_eq!(page.items[0].first_event_ms, Some(T0));
    assert_eq!(page.items[0].last_event_ms, Some(T0 + 24));
    assert_eq!(page.items[0].last_ingestion_ms, Some(T0));
}

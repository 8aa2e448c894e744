// SPDX-License-Identifier: Apache-2.0
//! Restarts: clean ones keep everything, crashes replay the log after the last checkpoint.

use freshet_logs::{DescribeGroups, DescribeStreams, GroupRef, NewGroup};

use super::common::*;

fn streams(env: &Env) -> Vec<freshet_logs::StreamInfo> {
    env.logs
        .describe_log_streams(&DescribeStreams {
            group: GroupRef::Name("g".into()),
            prefix: None,
            by_last_event_time: false,
            descending: false,
            limit: None,
            next_token: None,
        })
        .unwrap()
        .items
}

#[tokio::test]
async fn a_clean_restart_keeps_groups_streams_events_and_settings() {
    let env = Env::new().await;
    env.logs
        .create_log_group(NewGroup {
            name: "g".into(),
            tags: [("team".to_owned(), "core".to_owned())].into(),
            ..Default::default()
        })
        .await
        .unwrap();
    env.logs.create_log_stream("g", "s").await.unwrap();
    env.logs.put_retention_policy("g", 7).await.unwrap();
    env.logs
        .put_log_events("g", "s", &events(&[(T0 - 5, "one"), (T0, "two")]))
        .await
        .unwrap();
    let before = streams(&env);
    let env = env.restart().await;
    assert_eq!(streams(&env), before);
    assert_eq!(before[0].first_event_ms, Some(T0 - 5));
    assert_eq!(
        read_forward(&env.logs, get("g", "s")).await,
        vec!["one", "two"]
    );
    let groups = env
        .logs
        .describe_log_groups(&DescribeGroups::default())
        .unwrap();
    assert_eq!(groups.items[0].retention_days, Some(7));
    assert!(groups.items[0].stored_bytes > 0);
    assert_eq!(
        env.logs
            .log_group_tags("g")
            .unwrap()
            .get("team")
            .map(String::as_str),
        Some("core")
    );
}

#[tokio::test]
async fn a_crash_after_a_checkpoint_replays_only_what_came_later() {
    let env = Env::new().await;
    create(&env.logs, "g", &["s", "t"]).await;
    env.logs
        .put_log_events("g", "s", &events(&[(T0, "before")]))
        .await
        .unwrap();
    let logs = env.logs.clone();
    assert_eq!(
        tokio::task::spawn_blocking(move || logs.checkpoint())
            .await
            .unwrap()
            .unwrap(),
        1
    );
    env.clock.advance(1000);
    env.logs
        .put_log_events("g", "s", &events(&[(T0 + 500, "after")]))
        .await
        .unwrap();
    env.logs
        .put_log_events("g", "t", &events(&[(T0 + 600, "other")]))
        .await
        .unwrap();
    let before = streams(&env);
    let env = env.crash().await;
    assert_eq!(streams(&env), before, "statistics are rebuilt exactly");
    assert_eq!(before[0].last_event_ms, Some(T0 + 500));
    assert_eq!(before[0].last_ingestion_ms, Some(T0 + 1000));
    assert_eq!(
        read_forward(&env.logs, get("g", "s")).await,
        vec!["before", "after"]
    );
    assert_eq!(
        read_backward(&env.logs, get("g", "s")).await,
        vec!["before", "after"]
    );
}

#[tokio::test]
async fn reads_after_a_restart_find_a_rare_stream_before_and_after_the_index_is_rebuilt() {
    let env = Env::new().await;
    create(&env.logs, "g", &["busy", "rare"]).await;
    let filler: Vec<(i64, String)> = (0..5000).map(|i| (T0, format!("f{i}"))).collect();
    let refs: Vec<(i64, &str)> = filler.iter().map(|(t, m)| (*t, m.as_str())).collect();
    env.logs
        .put_log_events("g", "busy", &events(&refs))
        .await
        .unwrap();
    env.logs
        .put_log_events("g", "rare", &events(&[(T0, "needle")]))
        .await
        .unwrap();
    env.logs
        .put_log_events("g", "busy", &events(&refs))
        .await
        .unwrap();
    let env = env.restart().await;
    // Whether or not the background rebuild has run yet, the answers are the same.
    for _ in 0..3 {
        assert_eq!(
            read_forward(&env.logs, get("g", "rare")).await,
            vec!["needle"]
        );
        assert_eq!(
            read_backward(&env.logs, get("g", "rare")).await,
            vec!["needle"]
        );
        tokio::task::yield_now().await;
    }
    assert_eq!(
        read_forward(&env.logs, get("g", "busy")).await.len(),
        10_000
    );
}

#[tokio::test]
async fn metric_filters_survive_a_restart() {
    let env = Env::new().await;
    create(&env.logs, "g", &[]).await;
    env.logs
        .put_metric_filter(
            "g",
            freshet_logs::store::MetricFilterRecord {
                name: "errors".into(),
                pattern: "ERROR".into(),
                transformations: vec![freshet_logs::store::TransformationRecord {
                    metric_name: "Errors".into(),
                    metric_namespace: "App".into(),
                    metric_value: "1".into(),
                    default_value: None,
                    dimensions: Default::default(),
                    unit: None,
                }],
                created_ms: 0,
                apply_on_transformed_logs: false,
                field_selection_criteria: None,
                emit_system_field_dimensions: Vec::new(),
            },
        )
        .await
        .unwrap();
    let env = env.restart().await;
    let filters = env.logs.metric_filters("g").unwrap();
    assert_eq!(filters.len(), 1);
    assert_eq!(filters[0].record.created_ms, T0);
    assert_eq!(filters[0].evaluate("ERROR x")[0].value, 1.0);
}

// SPDX-License-Identifier: Apache-2.0
//! GetLogEvents: directions, tokens, time ranges and page limits.

use freshet_logs::{Error, GetEvents};
use proptest::prelude::*;

use super::common::*;

async fn put_numbered(env: &Env, stream: &str, from: usize, to: usize) {
    let evs: Vec<(i64, String)> = (from..to)
        .map(|i| (T0 + i as i64, format!("{stream}-{i}")))
        .collect();
    let refs: Vec<(i64, &str)> = evs.iter().map(|(t, m)| (*t, m.as_str())).collect();
    env.logs
        .put_log_events("g", stream, &events(&refs))
        .await
        .expect("put");
}

fn expected(stream: &str, from: usize, to: usize) -> Vec<String> {
    (from..to).map(|i| format!("{stream}-{i}")).collect()
}

#[tokio::test]
async fn the_default_read_returns_the_newest_events_oldest_first() {
    let env = Env::new().await;
    create(&env.logs, "g", &["s"]).await;
    put_numbered(&env, "s", 0, 30).await;
    let page = env
        .logs
        .get_log_events(GetEvents {
            limit: Some(5),
            ..get("g", "s")
        })
        .await
        .unwrap();
    assert_eq!(messages(&page), expected("s", 25, 30));
    let page = env
        .logs
        .get_log_events(GetEvents {
            limit: Some(5),
            start_from_head: true,
            ..get("g", "s")
        })
        .await
        .unwrap();
    assert_eq!(messages(&page), expected("s", 0, 5));
    assert!(page.next_forward_token.starts_with("f/") && page.next_forward_token.ends_with("/s"));
    assert!(page.next_backward_token.starts_with("b/"));
}

#[tokio::test]
async fn the_same_token_comes_back_at_the_end_and_new_events_follow_it() {
    let env = Env::new().await;
    create(&env.logs, "g", &["s"]).await;
    put_numbered(&env, "s", 0, 3).await;
    let first = env
        .logs
        .get_log_events(GetEvents {
            start_from_head: true,
            ..get("g", "s")
        })
        .await
        .unwrap();
    assert_eq!(messages(&first), expected("s", 0, 3));
    let token = first.next_forward_token;
    let end = env
        .logs
        .get_log_events(GetEvents {
            start_from_head: true,
            next_token: Some(token.clone()),
            ..get("g", "s")
        })
        .await
        .unwrap();
    assert!(end.events.is_empty());
    assert_eq!(
        end.next_forward_token, token,
        "the end returns the token it was given"
    );
    put_numbered(&env, "s", 3, 5).await;
    let more = env
        .logs
        .get_log_events(GetEvents {
            start_from_head: true,
            next_token: Some(token.clone()),
            ..get("g", "s")
        })
        .await
        .unwrap();
    assert_eq!(messages(&more), expected("s", 3, 5));
    assert_ne!(more.next_forward_token, token);
    // And backward from the first page's start: nothing before it, same token back.
    let back = env
        .logs
        .get_log_events(GetEvents {
            next_token: Some(first.next_backward_token.clone()),
            ..get("g", "s")
        })
        .await
        .unwrap();
    assert!(back.events.is_empty());
    assert_eq!(back.next_backward_token, first.next_backward_token);
}

#[tokio::test]
async fn start_time_is_inclusive_and_end_time_exclusive() {
    let env = Env::new().await;
    create(&env.logs, "g", &["s"]).await;
    put_numbered(&env, "s", 0, 10).await;
    let q = GetEvents {
        start_time: Some(T0 + 3),
        end_time: Some(T0 + 7),
        ..get("g", "s")
    };
    assert_eq!(
        read_forward(&env.logs, q.clone()).await,
        expected("s", 3, 7)
    );
    assert_eq!(read_backward(&env.logs, q).await, expected("s", 3, 7));
}

#[tokio::test]
async fn tokens_of_another_stream_or_made_up_are_refused() {
    let env = Env::new().await;
    create(&env.logs, "g", &["a", "b"]).await;
    put_numbered(&env, "a", 0, 2).await;
    let page = env.logs.get_log_events(get("g", "a")).await.unwrap();
    for token in [
        page.next_forward_token,
        "f/123/s".to_owned(),
        "hello".to_owned(),
    ] {
        let e = env
            .logs
            .get_log_events(GetEvents {
                next_token: Some(token),
                ..get("g", "b")
            })
            .await
            .unwrap_err();
        assert!(matches!(e, Error::InvalidNextToken));
        assert_eq!(e.to_string(), "The specified nextToken is invalid.");
    }
}

#[tokio::test]
async fn a_rare_stream_in_a_busy_group_is_found_in_one_call() {
    let env = Env::new().await;
    create(&env.logs, "g", &["busy", "rare"]).await;
    for batch in 0..30 {
        put_numbered(&env, "busy", batch * 10_000, batch * 10_000 + 10_000).await;
        if batch == 3 {
            env.logs
                .put_log_events("g", "rare", &events(&[(T0, "needle")]))
                .await
                .unwrap();
        }
    }
    // 300,000 records of the other stream: more than one call examines without the index.
    for start_from_head in [false, true] {
        let page = env
            .logs
            .get_log_events(GetEvents {
                start_from_head,
                ..get("g", "rare")
            })
            .await
            .unwrap();
        assert_eq!(
            messages(&page),
            vec!["needle"],
            "startFromHead={start_from_head}"
        );
    }
}

#[tokio::test]
async fn a_page_holds_at_most_one_megabyte() {
    let env = Env::new().await;
    create(&env.logs, "g", &["s"]).await;
    let big = "x".repeat(100_000);
    for i in 0..30 {
        env.logs
            .put_log_events("g", "s", &events(&[(T0 + i, big.as_str())]))
            .await
            .unwrap();
    }
    let page = env
        .logs
        .get_log_events(GetEvents {
            start_from_head: true,
            ..get("g", "s")
        })
        .await
        .unwrap();
    assert_eq!(
        page.events.len(),
        10,
        "ten 100 kB events (plus 26 bytes each) fit 1 MiB"
    );
    assert_eq!(read_forward(&env.logs, get("g", "s")).await.len(), 30);
    assert_eq!(read_backward(&env.logs, get("g", "s")).await.len(), 30);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(12))]

    /// Whatever the interleaving of streams and page sizes, paging forward or backward reads
    /// exactly the stream's events, in the order they were stored, once.
    #[test]
    fn pagination_reads_every_event_of_the_stream_once_in_order(
        batches in proptest::collection::vec((0usize..3, 1usize..40), 1..30),
        limit in 1usize..25,
    ) {
        let rt = tokio::runtime::Runtime::new().unwrap();
        rt.block_on(async {
            let env = Env::new().await;
            create(&env.logs, "g", &["s0", "s1", "s2"]).await;
            let mut model: Vec<Vec<String>> = vec![Vec::new(); 3];
            let mut n = 0i64;
            for (stream, count) in &batches {
                let name = format!("s{stream}");
                let evs: Vec<(i64, String)> = (0..*count)
                    .map(|_| {
                        n += 1;
                        (T0 + n, format!("{name}-{n}"))
                    })
                    .collect();
                model[*stream].extend(evs.iter().map(|(_, m)| m.clone()));
                let refs: Vec<(i64, &str)> = evs.iter().map(|(t, m)| (*t, m.as_str())).collect();
                env.logs.put_log_events("g", &name, &events(&refs)).await.unwrap();
            }
            for (i, want) in model.iter().enumerate() {
                let q = GetEvents { limit: Some(limit), ..get("g", &format!("s{i}")) };
                assert_eq!(&read_forward(&env.logs, q.clone()).await, want);
                assert_eq!(&read_backward(&env.logs, q).await, want);
            }
        });
    }
}

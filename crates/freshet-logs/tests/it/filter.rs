// SPDX-License-Identifier: Apache-2.0
//! FilterLogEvents: ordering, pagination, patterns, stream selection, event ids, and the call
//! sequence of `aws logs tail --follow`.

use std::collections::{BTreeMap, HashSet};

use freshet_logs::{Error, FilterEvents, StreamSelection};

use super::common::*;

async fn put(env: &Env, stream: &str, evs: &[(i64, &str)]) {
    env.logs
        .put_log_events("g", stream, &events(evs))
        .await
        .expect("put");
}

fn msgs(evs: &[freshet_logs::FilteredEvent]) -> Vec<String> {
    evs.iter().map(|e| e.message.clone()).collect()
}

#[tokio::test]
async fn events_come_by_timestamp_then_by_ingestion() {
    let env = Env::new().await;
    create(&env.logs, "g", &["a", "b"]).await;
    put(&env, "a", &[(T0 + 5, "a5"), (T0 + 9, "a9")]).await;
    put(&env, "b", &[(T0 + 1, "b1"), (T0 + 5, "b5")]).await;
    put(&env, "a", &[(T0 + 5, "a5-later")]).await;
    let got = msgs(&filter_all(&env.logs, filter("g")).await);
    assert_eq!(got, vec!["b1", "a5", "b5", "a5-later", "a9"]);
    // The same with one event per page.
    let got = msgs(
        &filter_all(
            &env.logs,
            FilterEvents {
                limit: Some(1),
                ..filter("g")
            },
        )
        .await,
    );
    assert_eq!(got, vec!["b1", "a5", "b5", "a5-later", "a9"]);
}

#[tokio::test]
async fn a_page_has_a_next_token_exactly_when_more_events_match() {
    let env = Env::new().await;
    create(&env.logs, "g", &["s"]).await;
    put(&env, "s", &[(T0, "1"), (T0, "2"), (T0 + 1, "3")]).await;
    let q = FilterEvents {
        limit: Some(3),
        ..filter("g")
    };
    let page = env.logs.filter_log_events(q.clone()).await.unwrap();
    assert_eq!(page.items.len(), 3);
    assert_eq!(page.next_token, None);
    let page = env
        .logs
        .filter_log_events(FilterEvents {
            limit: Some(2),
            ..q
        })
        .await
        .unwrap();
    assert_eq!(msgs(&page.items), vec!["1", "2"]);
    assert!(page.next_token.is_some());
}

#[tokio::test]
async fn filter_patterns_select_events() {
    let env = Env::new().await;
    create(&env.logs, "g", &["s"]).await;
    put(
        &env,
        "s",
        &[
            (T0, "ERROR disk full"),
            (T0 + 1, "INFO all good"),
            (T0 + 2, r#"{"level":"error","latency":250}"#),
            (T0 + 3, "127.0.0.1 - frank GET /index.html 404 512"),
        ],
    )
    .await;
    let cases: [(&str, &[&str]); 5] = [
        ("ERROR", &["ERROR disk full"]),
        ("?ERROR ?INFO", &["ERROR disk full", "INFO all good"]),
        ("-ERROR good", &["INFO all good"]),
        (
            "{ $.latency > 100 }",
            &[r#"{"level":"error","latency":250}"#],
        ),
        (
            "[ip, id, user, verb, path, status=404, bytes]",
            &["127.0.0.1 - frank GET /index.html 404 512"],
        ),
    ];
    for (pattern, want) in cases {
        let got = filter_all(
            &env.logs,
            FilterEvents {
                pattern: Some(pattern.to_owned()),
                ..filter("g")
            },
        )
        .await;
        assert_eq!(msgs(&got), want.to_vec(), "pattern {pattern}");
    }
    let e = env
        .logs
        .filter_log_events(FilterEvents {
            pattern: Some("{ $.x = ".to_owned()),
            ..filter("g")
        })
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Pattern(_)));
}

#[tokio::test]
async fn streams_are_selected_by_name_or_prefix_and_times_are_inclusive() {
    let env = Env::new().await;
    create(&env.logs, "g", &["app-1", "app-2", "db"]).await;
    put(&env, "app-1", &[(T0, "a1")]).await;
    put(&env, "app-2", &[(T0 + 1, "a2")]).await;
    put(&env, "db", &[(T0 + 2, "d")]).await;
    let by = |streams| FilterEvents {
        streams,
        ..filter("g")
    };
    let got = filter_all(
        &env.logs,
        by(StreamSelection::Prefixes(vec!["app-".into()])),
    )
    .await;
    assert_eq!(msgs(&got), vec!["a1", "a2"]);
    let got = filter_all(
        &env.logs,
        by(StreamSelection::Names(vec!["db".into(), "missing".into()])),
    )
    .await;
    assert_eq!(msgs(&got), vec!["d"]);
    assert_eq!(got[0].stream, "db");
    let got = filter_all(
        &env.logs,
        FilterEvents {
            start_time: Some(T0 + 1),
            end_time: Some(T0 + 2),
            ..filter("g")
        },
    )
    .await;
    assert_eq!(msgs(&got), vec!["a2", "d"]);
}

#[tokio::test]
async fn event_ids_are_stable_across_calls_and_restarts() {
    let env = Env::new().await;
    create(&env.logs, "g", &["s"]).await;
    put(&env, "s", &[(T0, "x"), (T0, "y")]).await;
    let first: Vec<String> = filter_all(&env.logs, filter("g"))
        .await
        .into_iter()
        .map(|e| e.event_id)
        .collect();
    assert_eq!(first.len(), 2);
    assert_ne!(first[0], first[1]);
    assert!(
        first
            .iter()
            .all(|id| id.len() == 56 && id.bytes().all(|b| b.is_ascii_digit()))
    );
    let env = env.restart().await;
    let again: Vec<String> = filter_all(&env.logs, filter("g"))
        .await
        .into_iter()
        .map(|e| e.event_id)
        .collect();
    assert_eq!(first, again);
}

#[tokio::test]
async fn a_pagination_ends_even_while_events_keep_arriving() {
    let env = Env::new().await;
    create(&env.logs, "g", &["s"]).await;
    put(&env, "s", &[(T0, "1"), (T0 + 1, "2"), (T0 + 2, "3")]).await;
    let mut q = FilterEvents {
        limit: Some(1),
        ..filter("g")
    };
    let mut seen = Vec::new();
    for i in 0..10 {
        let page = env.logs.filter_log_events(q.clone()).await.unwrap();
        seen.extend(msgs(&page.items));
        // Every page, another event arrives after the ones the pagination started with.
        put(&env, "s", &[(T0 + 10 + i, "late")]).await;
        match page.next_token {
            Some(t) => q.next_token = Some(t),
            None => break,
        }
    }
    assert_eq!(seen, vec!["1", "2", "3"]);
}

/// `aws logs tail --follow` (aws-cli v2 `awscli/customizations/logs/tail.py`), one round:
/// call FilterLogEvents with the same arguments until there is no nextToken, print events whose
/// id is new at their timestamp, keep only the newest timestamp's ids after each page, then set
/// startTime to the newest timestamp seen.
struct Tail {
    start_time: i64,
    ids_at: BTreeMap<i64, HashSet<String>>,
    printed: Vec<String>,
}

impl Tail {
    async fn round(&mut self, env: &Env) {
        let mut q = FilterEvents {
            start_time: Some(self.start_time),
            ..filter("g")
        };
        loop {
            let page = env.logs.filter_log_events(q.clone()).await.expect("filter");
            for e in page.items {
                if self
                    .ids_at
                    .entry(e.timestamp_ms)
                    .or_default()
                    .insert(e.event_id)
                {
                    self.printed.push(e.message);
                }
            }
            if let Some((&newest, _)) = self.ids_at.iter().next_back() {
                self.ids_at.retain(|ts, _| *ts == newest);
            }
            match page.next_token {
                Some(t) => q.next_token = Some(t),
                None => break,
            }
        }
        if let Some((&newest, _)) = self.ids_at.iter().next_back() {
            self.start_time = newest;
        }
    }
}

#[tokio::test]
async fn tail_follow_sees_every_event_exactly_once() {
    let env = Env::new().await;
    create(&env.logs, "g", &["a", "b"]).await;
    let mut tail = Tail {
        start_time: T0 - 10 * 60 * 1000,
        ids_at: BTreeMap::new(),
        printed: Vec::new(),
    };
    let mut sent = Vec::new();
    let mut n = 0;
    for round in 0..12i64 {
        // Several events per round, some sharing the newest timestamp of the last round.
        for k in 0..3i64 {
            n += 1;
            let stream = if n % 2 == 0 { "a" } else { "b" };
            let m = format!("e{n}");
            put(&env, stream, &[(T0 + round * 2 + k / 2, &m)]).await;
            sent.push(m);
        }
        tail.round(&env).await;
    }
    tail.round(&env).await;
    assert_eq!(tail.printed, sent);
}

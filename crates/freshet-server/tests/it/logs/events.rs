// SPDX-License-Identifier: Apache-2.0
//! PutLogEvents and GetLogEvents: batch rules, rejected events, tokens.

use super::*;

const HOUR: i64 = 3_600_000;
const DAY: i64 = 24 * HOUR;

fn messages(
    out: &aws_sdk_cloudwatchlogs::operation::get_log_events::GetLogEventsOutput,
) -> Vec<String> {
    out.events()
        .iter()
        .filter_map(|e| e.message().map(str::to_owned))
        .collect()
}

#[tokio::test]
async fn put_reports_rejected_events_and_never_checks_sequence_tokens() {
    let server = TestServer::start().await;
    let c = client(&server);
    create_group(&c, "g").await;
    create_stream(&c, "g", "s").await;
    let t = now_ms();
    let out = c
        .put_log_events()
        .log_group_name("g")
        .log_stream_name("s")
        .sequence_token("not-a-real-token")
        .log_events(event(t - 15 * DAY, "too old"))
        .log_events(event(t, "ok"))
        .log_events(event(t + 3 * HOUR, "too new"))
        .send()
        .await
        .unwrap();
    let r = out.rejected_log_events_info().expect("rejected info");
    assert_eq!(r.too_old_log_event_end_index(), Some(1));
    assert_eq!(r.too_new_log_event_start_index(), Some(2));
    assert_eq!(r.expired_log_event_end_index(), None);
    assert_eq!(out.next_sequence_token().map(str::len), Some(56));
    let ok = put(&c, "g", "s", &[(t, "again")]).await;
    assert!(ok.rejected_log_events_info().is_none());
    let got = c
        .get_log_events()
        .log_group_name("g")
        .log_stream_name("s")
        .send()
        .await
        .unwrap();
    assert_eq!(messages(&got), ["ok", "again"]);
    let e = got.events()[0].clone();
    assert_eq!(e.timestamp(), Some(t));
    assert!(e.ingestion_time().unwrap() >= t - 60_000);
}

#[tokio::test]
async fn whole_batches_that_break_the_rules_fail() {
    let server = TestServer::start().await;
    let c = client(&server);
    create_group(&c, "g").await;
    create_stream(&c, "g", "s").await;
    let t = now_ms();
    assert_error(
        c.put_log_events()
            .log_group_name("g")
            .log_stream_name("s")
            .log_events(event(t, "b"))
            .log_events(event(t - 1, "a"))
            .send()
            .await,
        "InvalidParameterException",
        "Log events in a single PutLogEvents request must be in chronological order.",
    );
    let big = "x".repeat(600_000);
    assert_code(
        c.put_log_events()
            .log_group_name("g")
            .log_stream_name("s")
            .log_events(event(t, &big))
            .log_events(event(t, &big))
            .send()
            .await,
        "InvalidParameterException",
    );
    assert_code(
        c.put_log_events()
            .log_group_name("g")
            .log_stream_name("s")
            .log_events(event(t - 2 * DAY, "a"))
            .log_events(event(t, "b"))
            .send()
            .await,
        "InvalidParameterException",
    );
    assert_error(
        c.put_log_events()
            .log_group_name("g")
            .log_stream_name("nope")
            .log_events(event(t, "a"))
            .send()
            .await,
        "ResourceNotFoundException",
        "The specified log stream does not exist.",
    );
}

#[tokio::test]
async fn get_log_events_pages_both_ways_and_ends_with_the_same_token() {
    let server = TestServer::start().await;
    let c = client(&server);
    create_group(&c, "g").await;
    create_stream(&c, "g", "s").await;
    let t = now_ms();
    let evs: Vec<(i64, String)> = (0..25).map(|i| (t - 100 + i, format!("m{i}"))).collect();
    let refs: Vec<(i64, &str)> = evs.iter().map(|(ts, m)| (*ts, m.as_str())).collect();
    put(&c, "g", "s", &refs).await;
    let want: Vec<String> = evs.iter().map(|(_, m)| m.clone()).collect();

    // Forward, as boto3 users page: until the token comes back unchanged.
    let mut got = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let page = c
            .get_log_events()
            .log_group_name("g")
            .log_stream_name("s")
            .start_from_head(true)
            .limit(7)
            .set_next_token(token.clone())
            .send()
            .await
            .unwrap();
        got.extend(messages(&page));
        let next = page.next_forward_token().map(str::to_owned);
        assert!(next.is_some(), "tokens are never null");
        if next == token {
            break;
        }
        token = next;
    }
    assert_eq!(got, want);

    // Backward from the newest.
    let mut pages = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let page = c
            .get_log_events()
            .log_group_identifier("arn:aws:logs:us-east-1:000000000000:log-group:g")
            .log_stream_name("s")
            .limit(10)
            .set_next_token(token.clone())
            .send()
            .await
            .unwrap();
        pages.push(messages(&page));
        let next = page.next_backward_token().map(str::to_owned);
        if next == token {
            break;
        }
        token = next;
    }
    pages.reverse();
    assert_eq!(pages.concat(), want);
}

#[tokio::test]
async fn get_log_events_errors_are_the_aws_ones() {
    let server = TestServer::start().await;
    let c = client(&server);
    create_group(&c, "g").await;
    create_stream(&c, "g", "s").await;
    assert_error(
        c.get_log_events()
            .log_group_name("g")
            .log_stream_name("s")
            .next_token("f/123/s")
            .send()
            .await,
        "InvalidParameterException",
        "The specified nextToken is invalid.",
    );
    assert_error(
        c.get_log_events()
            .log_group_name("g")
            .log_stream_name("s")
            .limit(10_001)
            .send()
            .await,
        "InvalidParameterException",
        "1 validation error detected: Value '10001' at 'limit' failed to satisfy constraint: Member must have value less than or equal to 10000",
    );
    assert_error(
        c.get_log_events()
            .log_group_name("g")
            .log_stream_name("nope")
            .send()
            .await,
        "ResourceNotFoundException",
        "The specified log stream does not exist.",
    );
    assert_error(
        c.get_log_events()
            .log_group_name("g")
            .log_group_identifier("g")
            .log_stream_name("s")
            .send()
            .await,
        "ValidationException",
        "LogGroup name and LogGroup ARN are mutually exclusive parameters.",
    );
}

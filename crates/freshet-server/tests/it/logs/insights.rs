// SPDX-License-Identifier: Apache-2.0
//! Logs Insights through the official SDK: StartQuery, GetQueryResults, StopQuery,
//! DescribeQueries, GetLogGroupFields and saved queries, with AWS's errors.

use aws_sdk_cloudwatchlogs::operation::get_query_results::GetQueryResultsOutput;
use aws_sdk_cloudwatchlogs::types::QueryStatus;

use super::*;

async fn wait(c: &Client, id: &str) -> GetQueryResultsOutput {
    loop {
        let out = c.get_query_results().query_id(id).send().await.unwrap();
        if !matches!(
            out.status(),
            Some(QueryStatus::Running | QueryStatus::Scheduled)
        ) {
            return out;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn rows(out: &GetQueryResultsOutput) -> Vec<Vec<(String, String)>> {
    out.results()
        .iter()
        .map(|row| {
            row.iter()
                .map(|f| {
                    (
                        f.field().unwrap_or_default().to_owned(),
                        f.value().unwrap_or_default().to_owned(),
                    )
                })
                .collect()
        })
        .collect()
}

async fn query(c: &Client, group: &str, q: &str, t: i64) -> GetQueryResultsOutput {
    let id = c
        .start_query()
        .log_group_name(group)
        .start_time(t / 1000 - 60)
        .end_time(t / 1000 + 60)
        .query_string(q)
        .send()
        .await
        .unwrap()
        .query_id()
        .unwrap()
        .to_owned();
    wait(c, &id).await
}

#[tokio::test]
async fn queries_filter_sort_and_aggregate_json_events() {
    let server = TestServer::start().await;
    let c = client(&server);
    create_group(&c, "app").await;
    create_stream(&c, "app", "s").await;
    let t = now_ms();
    put(
        &c,
        "app",
        "s",
        &[
            (t - 3, r#"{"level":"INFO","ms":10}"#),
            (t - 2, r#"{"level":"ERROR","ms":30}"#),
            (t - 1, r#"{"level":"ERROR","ms":50}"#),
            (t, "plain text"),
        ],
    )
    .await;
    let out = query(
        &c,
        "app",
        "fields @timestamp, level, ms | filter level = 'ERROR' | sort ms desc | limit 1",
        t,
    )
    .await;
    assert_eq!(out.status(), Some(&QueryStatus::Complete));
    let r = rows(&out);
    assert_eq!(r.len(), 1);
    let names: Vec<&str> = r[0].iter().map(|(f, _)| f.as_str()).collect();
    assert_eq!(names, ["@timestamp", "level", "ms", "@ptr"]);
    assert_eq!(r[0][2].1, "50");
    let stats = out.statistics().unwrap();
    assert_eq!(stats.records_scanned(), 4.0);
    assert_eq!(stats.records_matched(), 2.0);
    assert!(stats.bytes_scanned() > 0.0);

    let out = query(
        &c,
        "app",
        "stats count(*) as n, avg(ms) by level | sort level",
        t,
    )
    .await;
    let r = rows(&out);
    assert_eq!(
        r,
        vec![
            vec![("n".to_owned(), "1".to_owned())],
            vec![
                ("level".to_owned(), "ERROR".to_owned()),
                ("n".to_owned(), "2".to_owned()),
                ("avg(ms)".to_owned(), "40".to_owned()),
            ],
            vec![
                ("level".to_owned(), "INFO".to_owned()),
                ("n".to_owned(), "1".to_owned()),
                ("avg(ms)".to_owned(), "10".to_owned()),
            ],
        ]
    );

    let described = c
        .describe_queries()
        .log_group_name("app")
        .send()
        .await
        .unwrap();
    assert_eq!(described.queries().len(), 2);
    assert_eq!(described.queries()[0].log_group_name(), Some("app"));

    let fields = c
        .get_log_group_fields()
        .log_group_name("app")
        .send()
        .await
        .unwrap();
    let names: Vec<&str> = fields
        .log_group_fields()
        .iter()
        .filter_map(|f| f.name())
        .collect();
    assert!(
        names.contains(&"@message") && names.contains(&"level"),
        "{names:?}"
    );
}

#[tokio::test]
async fn bad_queries_and_missing_groups_get_aws_errors() {
    let server = TestServer::start().await;
    let c = client(&server);
    create_group(&c, "g").await;
    let t = now_ms() / 1000;
    let r = c
        .start_query()
        .log_group_name("g")
        .start_time(t)
        .end_time(t)
        .query_string("fields a | frobnicate")
        .send()
        .await;
    let message = assert_code(r, "MalformedQueryException");
    assert_eq!(message, "unknown command 'frobnicate'");
    let r = c
        .start_query()
        .log_group_name("nope")
        .start_time(t)
        .end_time(t)
        .query_string("fields @message")
        .send()
        .await;
    assert_error(
        r,
        "ResourceNotFoundException",
        "Log group 'nope' does not exist for account ID '000000000000'.",
    );
    let r = c
        .start_query()
        .start_time(t)
        .end_time(t)
        .query_string("fields @message")
        .send()
        .await;
    assert_code(r, "InvalidParameterException");
    let r = c
        .start_query()
        .log_group_name("g")
        .start_time(t)
        .end_time(t - 10)
        .query_string("fields @message")
        .send()
        .await;
    assert_code(r, "InvalidParameterException");
    let r = c.get_query_results().query_id("missing").send().await;
    assert_code(r, "ResourceNotFoundException");
    let r = c.stop_query().query_id("missing").send().await;
    assert_code(r, "ResourceNotFoundException");
}

#[tokio::test]
async fn the_compile_error_location_is_on_the_wire() {
    let server = TestServer::start().await;
    let c = client(&server);
    create_group(&c, "g").await;
    let body = serde_json::json!({
        "logGroupName": "g", "startTime": 0, "endTime": 10, "queryString": "limit 0"
    });
    let r = server
        .raw_call(&format!("{TARGET}.StartQuery"), &body)
        .await;
    let v = r.json();
    assert_eq!(v["__type"], "MalformedQueryException");
    assert_eq!(v["queryCompileError"]["location"]["startCharOffset"], 6);
    assert_eq!(v["queryCompileError"]["location"]["endCharOffset"], 7);
}

#[tokio::test]
async fn source_commands_pick_log_groups() {
    let server = TestServer::start().await;
    let c = client(&server);
    for g in ["/aws/lambda/a", "/aws/lambda/b", "other"] {
        create_group(&c, g).await;
        create_stream(&c, g, "s").await;
    }
    let t = now_ms();
    put(&c, "/aws/lambda/a", "s", &[(t, "from a")]).await;
    put(&c, "/aws/lambda/b", "s", &[(t, "from b")]).await;
    put(&c, "other", "s", &[(t, "from other")]).await;
    let id = c
        .start_query()
        .start_time(t / 1000 - 60)
        .end_time(t / 1000 + 60)
        .query_string(
            "SOURCE logGroups(namePrefix: ['/aws/lambda/']) | stats count(*) by @log | sort @log",
        )
        .send()
        .await
        .unwrap()
        .query_id()
        .unwrap()
        .to_owned();
    let r = rows(&wait(&c, &id).await);
    let logs: Vec<&str> = r.iter().map(|row| row[0].1.as_str()).collect();
    assert_eq!(
        logs,
        ["000000000000:/aws/lambda/a", "000000000000:/aws/lambda/b"]
    );
    let id = c
        .start_query()
        .start_time(t / 1000 - 60)
        .end_time(t / 1000 + 60)
        .query_string("SOURCE 'other' | fields @message")
        .send()
        .await
        .unwrap()
        .query_id()
        .unwrap()
        .to_owned();
    let r = rows(&wait(&c, &id).await);
    assert_eq!(r[0][0], ("@message".to_owned(), "from other".to_owned()));
}

#[tokio::test]
async fn saved_queries_survive_a_restart() {
    let server = TestServer::start().await;
    let c = client(&server);
    let id = c
        .put_query_definition()
        .name("ops/errors")
        .query_string("filter level = 'ERROR'")
        .log_group_names("app")
        .send()
        .await
        .unwrap()
        .query_definition_id()
        .unwrap()
        .to_owned();
    c.put_query_definition()
        .name("other")
        .query_string("fields @message")
        .send()
        .await
        .unwrap();
    let same = c
        .put_query_definition()
        .query_definition_id(&id)
        .name("ops/errors")
        .query_string("filter level = 'WARN'")
        .send()
        .await
        .unwrap();
    assert_eq!(same.query_definition_id(), Some(id.as_str()));
    let server = server.restart().await;
    let c = client(&server);
    let all = c
        .describe_query_definitions()
        .query_definition_name_prefix("ops/")
        .send()
        .await
        .unwrap();
    assert_eq!(all.query_definitions().len(), 1);
    let d = &all.query_definitions()[0];
    assert_eq!(d.query_string(), Some("filter level = 'WARN'"));
    assert_eq!(d.query_definition_id(), Some(id.as_str()));
    let ok = c
        .delete_query_definition()
        .query_definition_id(&id)
        .send()
        .await
        .unwrap();
    assert!(ok.success());
    let r = c
        .delete_query_definition()
        .query_definition_id(&id)
        .send()
        .await;
    assert_code(r, "ResourceNotFoundException");
}

// SPDX-License-Identifier: Apache-2.0
//! What goes to CloudWatch Logs: handler lines and Lambda's START / END / REPORT lines.

use std::sync::Arc;

use freshet_lambda::spec::Runtime;

use super::harness::{Harness, invocation};

fn is_report(line: &str, id: &str, cold: bool) -> bool {
    let Some(rest) = line.strip_prefix(&format!("REPORT RequestId: {id}\tDuration: ")) else {
        return false;
    };
    let fields: Vec<&str> = rest.split('\t').collect();
    // Duration, Billed, Memory Size, Max Memory Used, [Init Duration], "" (trailing tab) + "\n".
    let n = if cold { 6 } else { 5 };
    fields.len() == n
        && fields[0].ends_with(" ms")
        && fields[0]
            .trim_end_matches(" ms")
            .split_once('.')
            .is_some_and(|(_, f)| f.len() == 2)
        && fields[1].starts_with("Billed Duration: ")
        && fields[2] == "Memory Size: 128 MB"
        && fields[3].starts_with("Max Memory Used: ")
        && fields[3].ends_with(" MB")
        && fields[3] != "Max Memory Used: 0 MB"
        && (!cold || fields[4].starts_with("Init Duration: "))
        && fields[n - 1] == "\n"
}

#[tokio::test]
async fn handler_lines_sit_between_start_and_end_followed_by_report() {
    let h = Harness::new();
    let spec = h.function(
        "logs-py",
        Runtime::Python(12),
        "app.handler",
        &[(
            "app.py",
            "import logging\nlogger = logging.getLogger()\nlogger.setLevel(logging.INFO)\nprint('init line')\ndef handler(event, context):\n    print('hello from print')\n    logger.info('multi\\nline')\n    return 1\n",
        )],
    );
    let mut inv = invocation("{}");
    inv.tail_log = true;
    let id = inv.request_id.clone();
    let r = h.exec.invoke(Arc::new(spec.clone()), inv).await.unwrap();
    let logs = h.sink.wait_for("/aws/lambda/logs-py", "REPORT").await;
    let start = logs
        .iter()
        .position(|m| m == &format!("START RequestId: {id} Version: $LATEST\n"))
        .unwrap();
    let init = logs.iter().position(|m| m == "init line\n").unwrap();
    let print = logs.iter().position(|m| m == "hello from print\n").unwrap();
    let info = logs
        .iter()
        .position(|m| m.starts_with("[INFO]\t") && m.ends_with(&format!("\t{id}\tmulti\nline\n")))
        .unwrap_or_else(|| panic!("{logs:?}"));
    let end = logs
        .iter()
        .position(|m| m == &format!("END RequestId: {id}\n"))
        .unwrap();
    let report = logs
        .iter()
        .position(|m| is_report(m, &id, true))
        .unwrap_or_else(|| panic!("{logs:?}"));
    assert!(
        init < start && start < print && print < info && info < end && end + 1 == report,
        "{logs:?}"
    );
    let tail = r.log_tail.unwrap();
    assert!(
        tail.starts_with(&format!("START RequestId: {id}")),
        "{tail}"
    );
    assert!(tail.contains("hello from print\n"));
    assert!(tail.contains(&format!("REPORT RequestId: {id}")));
    assert!(!tail.contains("init line"));

    let warm = invocation("{}");
    let wid = warm.request_id.clone();
    h.exec.invoke(Arc::new(spec), warm).await.unwrap();
    let logs = h
        .sink
        .wait_for("/aws/lambda/logs-py", &format!("REPORT RequestId: {wid}"))
        .await;
    assert!(logs.iter().any(|m| is_report(m, &wid, false)), "{logs:?}");
}

#[tokio::test]
async fn each_environment_writes_its_own_dated_stream() {
    let h = Harness::new();
    let spec = h.function(
        "logs-stream",
        Runtime::Python(12),
        "app.handler",
        &[(
            "app.py",
            "def handler(e, c):\n    print(c.log_stream_name)\n    return c.log_stream_name\n",
        )],
    );
    let r = h.invoke(&spec, "{}").await;
    let stream: String = serde_json::from_slice(&r.payload).unwrap();
    let (date, rest) = stream.split_at(11);
    assert_eq!(date.len(), 11);
    assert_eq!(date.matches('/').count(), 3);
    let hex = rest.strip_prefix("[$LATEST]").unwrap();
    assert_eq!(hex.len(), 32);
    assert!(
        hex.chars()
            .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
    );
    h.sink.wait_for("/aws/lambda/logs-stream", "REPORT").await;
    let events = h.sink.events.lock().unwrap();
    assert!(events.iter().all(|(_, s, _)| s == &stream));
    assert!(
        events
            .windows(2)
            .all(|w| w[0].2.timestamp_ms <= w[1].2.timestamp_ms)
    );
}

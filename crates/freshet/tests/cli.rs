// SPDX-License-Identifier: Apache-2.0
//! End-to-end tests of the `freshet` binary for commands that need no server.

use std::collections::BTreeSet;
use std::io::{Read as _, Write as _};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

fn freshet(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_freshet"))
        .args(args)
        // Keep the developer's environment from changing results.
        .env_remove("FRESHET_CONFIG")
        .env_remove("FRESHET_ENDPOINT")
        .output()
        .expect("run freshet")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn help_lists_every_command() {
    let out = freshet(&["--help"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    for cmd in ["serve", "config", "streams", "put", "tail", "inspect"] {
        assert!(text.contains(cmd), "--help does not mention {cmd}:\n{text}");
    }
}

#[test]
fn default_config_is_valid_toml_that_mentions_durability() {
    let out = freshet(&["config", "default"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    let parsed: Result<toml::Table, _> = text.parse();
    assert!(parsed.is_ok(), "default config does not parse: {parsed:?}");
    assert!(text.contains("durability"), "{text}");
}

#[test]
fn config_check_accepts_the_default_config() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("freshet.toml");
    std::fs::write(&path, stdout(&freshet(&["config", "default"]))).expect("write config");
    let out = freshet(&["config", "check", path_str(&path)]);
    assert!(out.status.success(), "{}", stderr(&out));
}

#[test]
fn config_check_names_an_unknown_key() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("freshet.toml");
    std::fs::write(&path, "[storage]\ndurabilty = \"none\"\n").expect("write config");
    let out = freshet(&["config", "check", path_str(&path)]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("durabilty"), "{}", stderr(&out));
}

#[test]
fn serve_with_an_invalid_config_exits_with_code_2() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("freshet.toml");
    std::fs::write(&path, "[server]\nlisten = \"not an address\"\n").expect("write config");
    let out = freshet(&["serve", "--config", path_str(&path)]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("listen"), "{}", stderr(&out));
}

#[test]
fn inspect_of_a_missing_path_fails_cleanly() {
    let dir = tempfile::tempdir().expect("tempdir");
    let missing = dir.path().join("nope");
    let out = freshet(&["inspect", path_str(&missing)]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("nope"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
}

#[test]
fn client_commands_report_an_unreachable_server() {
    // Port 1 on localhost is essentially never listening.
    let out = freshet(&["--endpoint", "http://127.0.0.1:1", "streams", "list"]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("ListStreams"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
}

/// A `freshet serve` child process on a free port with a temporary data dir; killed on drop.
struct Server {
    child: Child,
    endpoint: String,
    data: tempfile::TempDir,
}

impl Server {
    fn start() -> Server {
        Server::start_with(&[])
    }

    /// Starts a server with extra `freshet serve` flags.
    fn start_with(flags: &[&str]) -> Server {
        let data = tempfile::tempdir().expect("tempdir");
        // Ask the OS for a free port, then hand it to the server (a small, accepted race).
        let addr: SocketAddr = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("free port");
        let child = Command::new(env!("CARGO_BIN_EXE_freshet"))
            .args([
                "serve",
                "--listen",
                &addr.to_string(),
                "--durability",
                "none",
            ])
            .arg("--data-dir")
            .arg(data.path())
            .args(flags)
            .env_remove("FRESHET_CONFIG")
            .env("FRESHET__KINESIS__CREATE_DELAY", "0ms")
            .env("FRESHET__KINESIS__DELETE_DELAY", "0ms")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn freshet serve");
        let server = Server {
            child,
            endpoint: format!("http://{addr}"),
            data,
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        while TcpStream::connect(addr).is_err() {
            assert!(
                Instant::now() < deadline,
                "freshet serve did not start listening on {addr}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        server
    }

    fn run(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_freshet"))
            .args(args)
            .env("FRESHET_ENDPOINT", &self.endpoint)
            .env_remove("AWS_ACCESS_KEY_ID")
            .env_remove("AWS_SECRET_ACCESS_KEY")
            .output()
            .expect("run freshet")
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn put_then_tail_returns_every_line() {
    let server = Server::start();
    let out = server.run(&["streams", "create", "cli-e2e", "--shards", "3"]);
    assert!(out.status.success(), "create: {}", stderr(&out));

    let dir = tempfile::tempdir().expect("tempdir");
    let input = dir.path().join("in.txt");
    let lines: Vec<String> = (0..1000).map(|i| format!("record number {i}")).collect();
    std::fs::write(&input, lines.join("\n") + "\n").expect("write input");
    let out = server.run(&["put", "cli-e2e", path_str(&input), "--batch-size", "100"]);
    assert!(
        out.status.success(),
        "put: {}{}",
        stdout(&out),
        stderr(&out)
    );
    assert!(
        stdout(&out).contains("sent 1000 records, 0 failed"),
        "{}",
        stdout(&out)
    );

    let out = server.run(&["tail", "cli-e2e", "--no-follow", "--from", "trim-horizon"]);
    assert!(out.status.success(), "tail: {}", stderr(&out));
    let text = stdout(&out);
    let got: BTreeSet<&str> = text
        .lines()
        .map(|l| l.splitn(4, ' ').nth(3).expect("4 fields per line"))
        .collect();
    let want: BTreeSet<&str> = lines.iter().map(String::as_str).collect();
    assert_eq!(text.lines().count(), 1000);
    assert_eq!(got, want);

    let out = server.run(&[
        "tail",
        "cli-e2e",
        "--no-follow",
        "--from",
        "trim-horizon",
        "--max-records",
        "7",
    ]);
    assert!(out.status.success(), "tail: {}", stderr(&out));
    assert_eq!(stdout(&out).lines().count(), 7);

    let out = server.run(&["inspect", path_str(server.data.path())]);
    assert!(out.status.success(), "inspect: {}", stderr(&out));
    // Every log of the data dir is listed (Lambda's async queue too): the stream's three
    // shards hold the 1,000 records, and nothing else holds any.
    let listing = stdout(&out);
    assert_eq!(
        listing
            .lines()
            .filter(|l| l.trim_start().starts_with("shardId-"))
            .count(),
        3,
        "{listing}"
    );
    assert!(listing.contains(" logs, 1000 records,"), "{listing}");

    let out = server.run(&["streams", "delete", "cli-e2e"]);
    assert!(out.status.success(), "delete: {}", stderr(&out));
    let out = server.run(&["streams", "list"]);
    assert!(out.status.success(), "list: {}", stderr(&out));
    assert!(!stdout(&out).contains("cli-e2e"), "{}", stdout(&out));
}

#[test]
fn tail_splits_kpl_aggregates_into_user_records() {
    let server = Server::start();
    let out = server.run(&["streams", "create", "cli-kpl", "--shards", "1"]);
    assert!(out.status.success(), "create: {}", stderr(&out));
    let dir = tempfile::tempdir().expect("tempdir");
    let input = dir.path().join("in.jsonl");
    let lines: Vec<String> = (0..300)
        .map(|i| format!("{{\"user\":\"u{i}\",\"pad\":\"{}\"}}", "x".repeat(400)))
        .collect();
    std::fs::write(&input, lines.join("\n") + "\n").expect("write input");
    let out = server.run(&[
        "put",
        "cli-kpl",
        path_str(&input),
        "--aggregate",
        "--key-field",
        "user",
    ]);
    assert!(
        out.status.success(),
        "put: {}{}",
        stdout(&out),
        stderr(&out)
    );
    // 300 lines of ~430 bytes in aggregates of at most 50 KiB: three of them.
    assert!(
        stdout(&out).contains("sent 3 records, 0 failed"),
        "{}",
        stdout(&out)
    );

    let out = server.run(&["tail", "cli-kpl", "--no-follow", "--from", "trim-horizon"]);
    assert!(out.status.success(), "tail: {}", stderr(&out));
    let text = stdout(&out);
    assert_eq!(text.lines().count(), 300, "{text}");
    let mut subs_of_first = Vec::new();
    let mut first_seq = None;
    for (line, want) in text.lines().zip(&lines) {
        let fields: Vec<&str> = line.splitn(4, ' ').collect();
        let (seq, sub) = fields[1]
            .split_once(':')
            .expect("<sequence>:<sub-sequence>");
        let user = want.split('"').nth(3).expect("user");
        assert_eq!(
            fields[2], user,
            "each user record keeps its own partition key"
        );
        assert_eq!(fields[3], want.as_str());
        if *first_seq.get_or_insert(seq.to_owned()) == seq {
            subs_of_first.push(sub.parse::<u64>().expect("numeric sub-sequence"));
        }
    }
    let n = subs_of_first.len() as u64;
    assert_eq!(subs_of_first, (0..n).collect::<Vec<_>>());

    let out = server.run(&[
        "tail",
        "cli-kpl",
        "--no-follow",
        "--from",
        "trim-horizon",
        "--no-deaggregate",
        "--format",
        "json",
    ]);
    assert!(out.status.success(), "tail: {}", stderr(&out));
    let raw = stdout(&out);
    assert_eq!(raw.lines().count(), 3, "{raw}");
    assert!(!raw.contains("subSequenceNumber"), "{raw}");
}

#[test]
fn put_backs_off_until_a_throttled_shard_takes_everything() {
    let server = Server::start_with(&["--shard-quotas"]);
    let out = server.run(&["streams", "create", "cli-hot", "--shards", "1"]);
    assert!(out.status.success(), "create: {}", stderr(&out));
    let dir = tempfile::tempdir().expect("tempdir");
    let input = dir.path().join("in.txt");
    // 2,500 lines of 1,000 bytes: 2.4 MiB into one shard that takes 1 MiB/s, so the first
    // requests are partly refused and only backing off gets the rest in.
    let line = "y".repeat(1000);
    let lines = vec![line.as_str(); 2500];
    std::fs::write(&input, lines.join("\n") + "\n").expect("write input");
    let out = server.run(&[
        "put",
        "cli-hot",
        path_str(&input),
        "--partition-key",
        "hot",
        "--max-attempts",
        "20",
    ]);
    assert!(
        out.status.success(),
        "put: {}{}",
        stdout(&out),
        stderr(&out)
    );
    assert!(
        stdout(&out).contains("sent 2500 records, 0 failed"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn put_to_a_missing_stream_names_the_aws_error() {
    let server = Server::start();
    let dir = tempfile::tempdir().expect("tempdir");
    let input = dir.path().join("in.txt");
    std::fs::write(&input, "one\ntwo\n").expect("write input");
    let out = server.run(&["put", "no-such-stream", path_str(&input)]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("ResourceNotFoundException"),
        "{}",
        stderr(&out)
    );
}

fn path_str(p: &Path) -> &str {
    p.to_str().expect("temp paths are UTF-8")
}

fn bench_json(server: &Server, args: &[&str]) -> serde_json::Value {
    let mut all = vec!["bench"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--warmup", "0s", "--no-progress", "--json", "-"]);
    let out = server.run(&all);
    assert!(out.status.success(), "bench {args:?}: {}", stderr(&out));
    serde_json::from_slice(&out.stdout).expect("bench prints a JSON report")
}

#[test]
fn bench_reports_throughput_latency_and_the_server_process() {
    let server = Server::start();
    let r = bench_json(
        &server,
        &[
            "put-batch",
            "--duration",
            "1s",
            "--batch",
            "10",
            "--connections",
            "2",
            "--label",
            "t",
        ],
    );
    assert_eq!(r["scenario"], "put-batch");
    assert_eq!(r["label"], "t");
    let put = &r["put"];
    assert!(put["records"].as_u64().expect("records") > 0, "{r}");
    assert_eq!(
        put["records"].as_u64(),
        put["requests"].as_u64().map(|n| n * 10)
    );
    assert!(put["latency"]["p99_ms"].as_f64().expect("p99") > 0.0, "{r}");
    assert_eq!(put["errors"], serde_json::json!({}));
    // The server is found from the endpoint's port.
    assert_eq!(
        r["server"]["pid"].as_u64(),
        Some(u64::from(server.child.id()))
    );
    assert!(r["server"]["peak_rss_mib"].as_f64().expect("rss") > 0.0);

    // The lean client writes the same records.
    for scenario in ["put", "put-batch"] {
        let r = bench_json(
            &server,
            &[
                scenario,
                "--duration",
                "1s",
                "--client",
                "raw",
                "--connections",
                "2",
            ],
        );
        assert!(r["put"]["records"].as_u64().expect("records") > 0, "{r}");
        assert_eq!(r["put"]["errors"], serde_json::json!({}), "{r}");
    }

    let r = bench_json(&server, &["get", "--records", "1200", "--shards", "3"]);
    assert_eq!(r["get"]["records"].as_u64(), Some(1200), "{r}");

    let r = bench_json(&server, &["latency", "--duration", "1s", "--rate", "300"]);
    let e2e = r["end_to_end"]["samples"]
        .as_u64()
        .expect("end-to-end samples");
    assert!(e2e > 0, "{r}");
    assert_eq!(
        r["get"]["records"].as_u64(),
        r["put"]["records"].as_u64(),
        "{r}"
    );

    // The same through enhanced fan-out: a registered consumer subscribed to every shard.
    let r = bench_json(
        &server,
        &[
            "latency",
            "--duration",
            "1s",
            "--rate",
            "300",
            "--consumer",
            "efo",
        ],
    );
    assert!(
        r["end_to_end"]["samples"].as_u64().expect("samples") > 0,
        "{r}"
    );
    assert_eq!(
        r["get"]["records"].as_u64(),
        r["put"]["records"].as_u64(),
        "{r}"
    );

    // Every stream the benchmark created is gone again.
    let out = server.run(&["streams", "list"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out).trim(), "", "streams left behind");
}

/// Runs a function scenario (`bench fn-*`) and returns its JSON report; the run must not warn
/// (a warning means something was left behind or the handler missed records).
fn fn_bench_json(server: &Server, args: &[&str]) -> serde_json::Value {
    let mut all = vec!["bench"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--no-progress", "--json", "-"]);
    let out = server.run(&all);
    assert!(out.status.success(), "bench {args:?}: {}", stderr(&out));
    assert!(
        !stderr(&out).contains("warning"),
        "bench {args:?}: {}",
        stderr(&out)
    );
    serde_json::from_slice(&out.stdout).expect("bench prints a JSON report")
}

/// A plain HTTP/1.1 GET against the server; the whole answer, headers included.
fn http_get(server: &Server, path: &str) -> String {
    let addr = server.endpoint.trim_start_matches("http://");
    let mut conn = TcpStream::connect(addr).expect("connect");
    conn.write_all(
        format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").as_bytes(),
    )
    .expect("send");
    let mut answer = String::new();
    conn.read_to_string(&mut answer).expect("read");
    answer
}

fn number(r: &serde_json::Value, path: &[&str]) -> f64 {
    let mut v = r;
    for p in path {
        v = &v[*p];
    }
    v.as_f64()
        .unwrap_or_else(|| panic!("no number at {path:?} in {r}"))
}

#[test]
fn bench_function_scenarios_run_a_python_handler_and_report_sane_figures() {
    let server = Server::start();

    // Warm synchronous Invoke from two connections.
    let r = fn_bench_json(
        &server,
        &[
            "fn-invoke",
            "--duration",
            "1s",
            "--warmup",
            "0s",
            "--connections",
            "2",
            "--label",
            "t",
        ],
    );
    assert_eq!(r["scenario"], "fn-invoke");
    assert_eq!(r["label"], "t");
    assert!(number(&r, &["put", "requests"]) > 0.0, "{r}");
    assert!(number(&r, &["put", "latency", "p50_ms"]) > 0.0, "{r}");
    assert_eq!(r["put"]["errors"], serde_json::json!({}), "{r}");
    assert_eq!(
        r["server"]["pid"].as_u64(),
        Some(u64::from(server.child.id()))
    );

    // Cold starts: every sample is a new environment, after CreateFunction and after an update,
    // and its time to first response includes the Init Duration the REPORT line gave.
    let r = fn_bench_json(&server, &["fn-cold", "--samples", "2"]);
    let cold = &r["cold_start"];
    for key in [
        "after_create",
        "after_create_init",
        "after_update",
        "after_update_init",
    ] {
        assert_eq!(cold[key]["samples"].as_u64(), Some(2), "{key}: {r}");
        assert!(number(cold, &[key, "p50_ms"]) > 0.0, "{key}: {r}");
    }
    for (first, init) in [
        ("after_create", "after_create_init"),
        ("after_update", "after_update_init"),
    ] {
        // 1% for the histograms' 3 significant digits.
        assert!(
            number(cold, &[first, "max_ms"]) >= number(cold, &[init, "max_ms"]) * 0.99,
            "{r}"
        );
    }
    assert_eq!(r["put"]["errors"], serde_json::json!({}), "{r}");

    // Put-to-handler latency through a Kinesis event source mapping: the handler reports every
    // record put in the window.
    let r = fn_bench_json(
        &server,
        &[
            "fn-mapping-latency",
            "--duration",
            "1s",
            "--warmup",
            "0s",
            "--rate",
            "200",
            "--shards",
            "2",
            "--record-size",
            "64",
        ],
    );
    let put = number(&r, &["put", "records"]);
    assert!(put > 0.0, "{r}");
    assert_eq!(number(&r, &["get", "records"]), put, "{r}");
    assert_eq!(number(&r, &["end_to_end", "samples"]), put, "{r}");
    assert!(number(&r, &["end_to_end", "p50_ms"]) > 0.0, "{r}");
    assert!(number(&r, &["get", "requests"]) > 0.0, "{r}");
    assert_eq!(r["put"]["errors"], serde_json::json!({}), "{r}");
    assert_eq!(r["get"]["errors"], serde_json::json!({}), "{r}");

    // A mapping's throughput from TRIM_HORIZON: every record, in batches of at most 100.
    let r = fn_bench_json(
        &server,
        &[
            "fn-mapping-throughput",
            "--records",
            "3000",
            "--shards",
            "2",
            "--batch-size",
            "100",
            "--record-size",
            "64",
        ],
    );
    assert_eq!(number(&r, &["get", "records"]), 3000.0, "{r}");
    assert!(number(&r, &["get", "requests"]) >= 30.0, "{r}");
    assert!(number(&r, &["get", "records_per_s"]) > 0.0, "{r}");
    assert_eq!(r["get"]["errors"], serde_json::json!({}), "{r}");

    // Every function, mapping and stream the benchmark created is gone again.
    let functions = http_get(&server, "/2015-03-31/functions/");
    assert!(functions.contains(r#"{"Functions":[]}"#), "{functions}");
    let mappings = http_get(&server, "/2015-03-31/event-source-mappings/");
    assert!(
        mappings.contains(r#"{"EventSourceMappings":[]}"#),
        "{mappings}"
    );
    let out = server.run(&["streams", "list"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out).trim(), "", "streams left behind");
}

/// Puts `lines` (JSON objects with a key field `k` and a counter `n`) and reads them back with
/// `freshet tail`. Checks that each key's records sit on one shard, once each, in input order.
fn assert_put_keeps_each_key_in_order(
    server: &Server,
    stream: &str,
    lines: &[String],
    put: &[&str],
) {
    let out = server.run(&["streams", "create", stream, "--shards", "4"]);
    assert!(out.status.success(), "create: {}", stderr(&out));
    let dir = tempfile::tempdir().expect("tempdir");
    let input = dir.path().join("in.jsonl");
    std::fs::write(&input, lines.join("\n") + "\n").expect("write input");
    let mut args = vec!["put", stream, path_str(&input), "--key-field", "k"];
    args.extend_from_slice(put);
    let out = server.run(&args);
    assert!(
        out.status.success(),
        "put: {}{}",
        stdout(&out),
        stderr(&out)
    );

    let out = server.run(&["tail", stream, "--no-follow", "--from", "trim-horizon"]);
    assert!(out.status.success(), "tail: {}", stderr(&out));
    let text = stdout(&out);
    // `tail` prints each shard's records in sequence order: `<shard> <seq> <key> <data>`.
    let mut shard_of: std::collections::HashMap<String, String> = Default::default();
    let mut got: std::collections::BTreeMap<String, Vec<u64>> = Default::default();
    for line in text.lines() {
        let fields: Vec<&str> = line.splitn(4, ' ').collect();
        let (shard, key, data) = (fields[0], fields[2], fields[3]);
        let first = shard_of
            .entry(key.to_owned())
            .or_insert_with(|| shard.to_owned());
        assert_eq!(first, shard, "key {key} is on two shards");
        let record: serde_json::Value = serde_json::from_str(data).expect("a JSON line");
        assert_eq!(record["k"], key, "{line}");
        got.entry(key.to_owned())
            .or_default()
            .push(record["n"].as_u64().expect("n"));
    }
    let mut want: std::collections::BTreeMap<String, Vec<u64>> = Default::default();
    for line in lines {
        let record: serde_json::Value = serde_json::from_str(line).expect("a JSON line");
        let key = record["k"].as_str().expect("k").to_owned();
        want.entry(key)
            .or_default()
            .push(record["n"].as_u64().expect("n"));
    }
    for (key, ns) in &want {
        let inversions = got
            .get(key)
            .map_or(0, |g| g.windows(2).filter(|w| w[0] > w[1]).count());
        assert_eq!(
            got.get(key),
            Some(ns),
            "key {key}: records missing, repeated or out of order ({inversions} inversions)"
        );
    }
    assert_eq!(got.len(), want.len());
}

#[test]
fn put_keeps_the_records_of_each_partition_key_in_order_at_any_concurrency() {
    let server = Server::start();
    // Few keys, small requests, many in flight: requests that hold records of one key used to
    // overtake each other.
    let lines: Vec<String> = (0..6000)
        .map(|n| format!("{{\"k\":\"key-{}\",\"n\":{n}}}", n % 3))
        .collect();
    assert_put_keeps_each_key_in_order(
        &server,
        "cli-order",
        &lines,
        &["--batch-size", "5", "--concurrency", "16"],
    );
}

#[test]
fn put_aggregate_keeps_each_key_on_its_own_shard_in_order() {
    let server = Server::start();
    // 3,000 lines of about 1 KiB: some 60 aggregates, sent one per request, eight at a time.
    // Aggregates used to mix the keys of every shard and land on their first key's shard.
    let pad = "p".repeat(1000);
    let lines: Vec<String> = (0..3000)
        .map(|n| format!("{{\"k\":\"key-{}\",\"n\":{n},\"pad\":\"{pad}\"}}", n % 16))
        .collect();
    assert_put_keeps_each_key_in_order(
        &server,
        "cli-agg-order",
        &lines,
        &["--aggregate", "--batch-size", "1", "--concurrency", "8"],
    );
}

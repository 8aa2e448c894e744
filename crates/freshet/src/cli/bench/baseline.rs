// SPDX-License-Identifier: Apache-2.0
//! The machine's own limits, measured so results can be read as a fraction of them.
//!
//! - `bench disk`: sequential writes of one block followed by `fdatasync`, back to back: the
//!   most a durable log can write when every acknowledged batch must be on disk.
//! - `bench noop-server`: an HTTP server that answers PutRecord and PutRecords with a canned
//!   success after reading the body, and does nothing else. Running `bench put` against it
//!   measures what the client, HTTP and loopback cost on this machine, with no storage at all.

use std::convert::Infallible;
use std::io::Write as _;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use bytes::Bytes;
use clap::Args;
use http_body_util::{BodyExt as _, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use serde::Serialize;

use super::stats::Recorder;
use super::{Report, emit};

/// `bench disk`.
#[derive(Debug, Args, Serialize)]
pub struct DiskOpts {
    /// Directory to write in (use the data directory's file system).
    #[arg(long, default_value = ".")]
    dir: PathBuf,
    /// Bytes per write; each write is followed by fdatasync.
    #[arg(long, default_value_t = 512 * 1024, value_parser = clap::value_parser!(u32).range(512..=64 * 1024 * 1024))]
    block: u32,
    /// Measured time.
    #[arg(long, default_value = "5s", value_parser = humantime::parse_duration)]
    #[serde(serialize_with = "super::ser_duration")]
    duration: Duration,
    /// Also write the report as JSON to this file ("-" for standard output).
    #[arg(long)]
    #[serde(skip)]
    json: Option<PathBuf>,
}

/// Writes `block`-sized chunks with an fdatasync after each until `duration` has passed.
pub fn disk(opts: &DiskOpts) -> anyhow::Result<()> {
    let file = tempfile::Builder::new()
        .prefix(".freshet-bench-disk-")
        .tempfile_in(&opts.dir)
        .with_context(|| format!("cannot create a file in {}", opts.dir.display()))?;
    let mut f = file.as_file();
    let block = vec![0x5a_u8; opts.block as usize];
    let mut rec = Recorder::default();
    let started = Instant::now();
    while started.elapsed() < opts.duration {
        let t = Instant::now();
        f.write_all(&block).context("write")?;
        f.sync_data().context("fdatasync")?;
        rec.latency.record(t.elapsed());
        rec.requests += 1;
        rec.records += 1;
        rec.bytes += u64::from(opts.block);
    }
    let elapsed = started.elapsed();
    let report = Report {
        scenario: "disk",
        label: "disk".to_owned(),
        endpoint: opts.dir.display().to_string(),
        bench_version: env!("CARGO_PKG_VERSION"),
        settings: serde_json::to_value(opts)?,
        elapsed_s: elapsed.as_secs_f64(),
        put: Some(rec.traffic(elapsed)),
        get: None,
        end_to_end: None,
        server: None,
        cold_start: None,
        rows: ["write", "read"],
    };
    emit(&report, opts.json.as_deref())
}

/// `bench noop-server`.
#[derive(Debug, Args)]
pub struct NoopOpts {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:4570")]
    listen: SocketAddr,
}

/// Serves canned PutRecord/PutRecords successes until interrupted.
pub async fn noop_server(opts: &NoopOpts) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(opts.listen)
        .await
        .with_context(|| format!("cannot listen on {}", opts.listen))?;
    eprintln!(
        "no-op Kinesis endpoint on http://{} (PutRecord and PutRecords only)",
        listener.local_addr()?
    );
    loop {
        let (stream, _) = tokio::select! {
            accepted = listener.accept() => accepted.context("accept")?,
            _ = tokio::signal::ctrl_c() => return Ok(()),
        };
        let _ = stream.set_nodelay(true);
        tokio::spawn(async move {
            let svc = service_fn(|req| async move { Ok::<_, Infallible>(answer(req).await) });
            let _ = auto::Builder::new(TokioExecutor::new())
                .serve_connection(TokioIo::new(stream), svc)
                .await;
        });
    }
}

async fn answer(req: Request<Incoming>) -> Response<Full<Bytes>> {
    let target = req
        .headers()
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let body = match req.into_body().collect().await {
        Ok(b) => b.to_bytes(),
        Err(_) => Bytes::new(),
    };
    let (status, out) = match target.rsplit('.').next() {
        Some("PutRecord") => (
            StatusCode::OK,
            Bytes::from_static(br#"{"ShardId":"shardId-000000000000","SequenceNumber":"1"}"#),
        ),
        Some("PutRecords") => (StatusCode::OK, put_records_reply(&body)),
        _ => (
            StatusCode::BAD_REQUEST,
            Bytes::from_static(br#"{"__type":"UnknownOperationException"}"#),
        ),
    };
    let mut resp = Response::new(Full::new(out));
    *resp.status_mut() = status;
    resp.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("application/x-amz-json-1.1"),
    );
    resp
}

/// A success entry per record. Records are counted by their `"PartitionKey"` members rather
/// than by parsing the JSON: the baseline is the transport, not a decoder.
fn put_records_reply(body: &[u8]) -> Bytes {
    const ENTRY: &str = r#"{"ShardId":"shardId-000000000000","SequenceNumber":"1"}"#;
    let n = body
        .windows(b"\"PartitionKey\"".len())
        .filter(|w| *w == b"\"PartitionKey\"")
        .count();
    let mut out = String::with_capacity(40 + n * (ENTRY.len() + 1));
    out.push_str(r#"{"FailedRecordCount":0,"Records":["#);
    for i in 0..n {
        if i > 0 {
            out.push(',');
        }
        out.push_str(ENTRY);
    }
    out.push_str("]}");
    Bytes::from(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_entry_per_record() {
        let body = br#"{"Records":[{"Data":"AA==","PartitionKey":"a"},{"Data":"AA==","PartitionKey":"b"}],"StreamName":"s"}"#;
        let reply: serde_json::Value =
            serde_json::from_slice(&put_records_reply(body)).expect("json");
        assert_eq!(reply["Records"].as_array().map(Vec::len), Some(2));
        assert_eq!(reply["FailedRecordCount"], 0);
    }
}

// SPDX-License-Identifier: Apache-2.0
//! Delivery to an external S3-compatible store (MinIO, real S3, ...) that a Freshet bucket is
//! mapped to in the server config.
//!
//! * Uses `object_store`'s S3 client (SigV4 signing, multipart, retries of transient
//!   errors) with its HTTP layer replaced by [`HyperConnector`]: hyper-util over rustls
//!   (ring, the OS roots), so no second TLS stack or crypto library enters the binary.
//! * Objects up to [`SINGLE_PUT_MAX`] go up in one PUT (read whole: bounded). Larger staging
//!   files are streamed in [`PART_SIZE`] parts with at most [`MAX_CONCURRENT_PARTS`] in
//!   flight, so memory stays under `PART_SIZE × (MAX_CONCURRENT_PARTS + 1)` whatever the
//!   object size. A failed multipart upload is aborted.
//! * The staging file is removed after the attempt, whether it succeeded or not (the
//!   [`ObjectSink`] contract: the sink owns the file).
//! * Errors map to Firehose's S3 codes (`S3.NoSuchBucket`, `S3.AccessDenied`,
//!   `S3.ServiceUnavailable`, `S3.InternalError`); all are retryable, as Firehose retries S3
//!   deliveries until the source's retention runs out (a user may create the bucket or fix
//!   the credentials meanwhile).

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures_util::future::BoxFuture;
use http_body_util::BodyExt;
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector as HyperHttp;
use hyper_util::rt::TokioExecutor;
use object_store::aws::AmazonS3Builder;
use object_store::client::{
    ClientOptions, HttpClient, HttpConnector, HttpError, HttpErrorKind, HttpRequest,
    HttpRequestBody, HttpResponse, HttpResponseBody, HttpService,
};
use object_store::path::Path;
use object_store::{
    Attribute, Attributes, ObjectStore, PutMultipartOptions, PutOptions, PutPayload, RetryConfig,
    WriteMultipart,
};
use serde::{Deserialize, Serialize};
use tokio::io::AsyncReadExt;

use super::{ObjectBody, ObjectPut, ObjectSink, SinkError};

/// Largest object sent in one PUT.
pub const SINGLE_PUT_MAX: u64 = 8 * 1024 * 1024;
/// Multipart part size (S3's minimum is 5 MiB).
pub const PART_SIZE: usize = 8 * 1024 * 1024;
/// Parts uploaded concurrently.
pub const MAX_CONCURRENT_PARTS: usize = 4;

/// An external store one Freshet bucket maps to (`[firehose.remote_buckets.<bucket>]` in
/// the server config).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RemoteStore {
    /// The store's endpoint, e.g. `http://127.0.0.1:9000`; empty = AWS's regional endpoint.
    #[serde(default)]
    pub endpoint: String,
    /// The signing region.
    #[serde(default = "default_region")]
    pub region: String,
    /// Access key id.
    #[serde(default)]
    pub access_key_id: String,
    /// Secret access key.
    #[serde(default)]
    pub secret_access_key: String,
    /// The bucket's name in the remote store.
    pub bucket: String,
    /// Allow `http://` endpoints.
    #[serde(default)]
    pub allow_http: bool,
    /// Address the bucket as `<bucket>.<endpoint>` instead of `<endpoint>/<bucket>`.
    #[serde(default)]
    pub virtual_hosted_style: bool,
}

fn default_region() -> String {
    "us-east-1".to_owned()
}

/// An [`ObjectSink`] writing to one [`RemoteStore`].
#[derive(Debug)]
pub struct RemoteSink {
    store: Arc<dyn ObjectStore>,
    remote_bucket: String,
}

impl RemoteSink {
    /// Builds the client (no request is made until the first put).
    pub fn new(cfg: &RemoteStore) -> Result<RemoteSink, SinkError> {
        let mut builder = AmazonS3Builder::new()
            .with_bucket_name(&cfg.bucket)
            .with_region(&cfg.region)
            .with_allow_http(cfg.allow_http)
            .with_virtual_hosted_style_request(cfg.virtual_hosted_style)
            .with_http_connector(HyperConnector)
            // Delivery retries with its own budget; a few quick retries here smooth over
            // transient errors without holding a batch for object_store's 3-minute default.
            .with_retry(RetryConfig {
                max_retries: 2,
                retry_timeout: Duration::from_secs(20),
                ..RetryConfig::default()
            });
        if !cfg.endpoint.is_empty() {
            builder = builder.with_endpoint(&cfg.endpoint);
        }
        if !cfg.access_key_id.is_empty() {
            builder = builder
                .with_access_key_id(&cfg.access_key_id)
                .with_secret_access_key(&cfg.secret_access_key);
        }
        let store = builder.build().map_err(|e| SinkError {
            code: "S3.InternalError".to_owned(),
            message: format!(
                "The remote store for bucket {} is misconfigured: {e}",
                cfg.bucket
            ),
            retryable: false,
        })?;
        Ok(RemoteSink {
            store: Arc::new(store),
            remote_bucket: cfg.bucket.clone(),
        })
    }

    async fn put_object(&self, object: ObjectPut) -> Result<(), SinkError> {
        let path = Path::parse(&object.key).unwrap_or_else(|_| Path::from(object.key.as_str()));
        let mut attributes = Attributes::new();
        if let Some(ct) = &object.content_type {
            attributes.insert(Attribute::ContentType, ct.clone().into());
        }
        match object.body {
            ObjectBody::Bytes(bytes) => self.put_small(&path, bytes, attributes).await,
            ObjectBody::File { path: file, len } => {
                let result = if len <= SINGLE_PUT_MAX {
                    match tokio::fs::read(&file).await {
                        Ok(data) => self.put_small(&path, Bytes::from(data), attributes).await,
                        Err(e) => Err(staging_error(&e)),
                    }
                } else {
                    self.put_multipart(&path, &file, attributes).await
                };
                // The sink owns the staging file: remove it whatever happened.
                let _ = tokio::fs::remove_file(&file).await;
                result
            }
        }
    }

    async fn put_small(
        &self,
        path: &Path,
        bytes: Bytes,
        attributes: Attributes,
    ) -> Result<(), SinkError> {
        let opts = PutOptions {
            attributes,
            ..PutOptions::default()
        };
        self.store
            .put_opts(path, PutPayload::from_bytes(bytes), opts)
            .await
            .map(|_| ())
            .map_err(|e| map_error(&e, &self.remote_bucket))
    }

    async fn put_multipart(
        &self,
        path: &Path,
        file: &std::path::Path,
        attributes: Attributes,
    ) -> Result<(), SinkError> {
        let mut reader = tokio::fs::File::open(file)
            .await
            .map_err(|e| staging_error(&e))?;
        let opts = PutMultipartOptions {
            attributes,
            ..PutMultipartOptions::default()
        };
        let upload = self
            .store
            .put_multipart_opts(path, opts)
            .await
            .map_err(|e| map_error(&e, &self.remote_bucket))?;
        let mut writer = WriteMultipart::new_with_chunk_size(upload, PART_SIZE);
        let mut buf = vec![0u8; 1024 * 1024];
        loop {
            let n = match reader.read(&mut buf).await {
                Ok(n) => n,
                Err(e) => {
                    let _ = writer.abort().await;
                    return Err(staging_error(&e));
                }
            };
            if n == 0 {
                break;
            }
            if let Err(e) = writer.wait_for_capacity(MAX_CONCURRENT_PARTS).await {
                let _ = writer.abort().await;
                return Err(map_error(&e, &self.remote_bucket));
            }
            writer.write(&buf[..n]);
        }
        // `finish` aborts the upload itself when a part fails.
        writer
            .finish()
            .await
            .map(|_| ())
            .map_err(|e| map_error(&e, &self.remote_bucket))
    }
}

impl ObjectSink for RemoteSink {
    fn put(&self, object: ObjectPut) -> BoxFuture<'_, Result<(), SinkError>> {
        Box::pin(self.put_object(object))
    }
}

fn staging_error(e: &std::io::Error) -> SinkError {
    SinkError {
        code: "S3.InternalError".to_owned(),
        message: format!("Reading the staging file failed: {e}"),
        retryable: true,
    }
}

/// Maps an `object_store` error to Firehose's S3 error codes.
fn map_error(e: &object_store::Error, bucket: &str) -> SinkError {
    let text = format!("{e}: {}", source_chain(e));
    let code = if text.contains("NoSuchBucket") {
        "S3.NoSuchBucket"
    } else if matches!(
        e,
        object_store::Error::PermissionDenied { .. } | object_store::Error::Unauthenticated { .. }
    ) || [
        "AccessDenied",
        "InvalidAccessKeyId",
        "SignatureDoesNotMatch",
        "403 Forbidden",
    ]
    .iter()
    .any(|c| text.contains(c))
    {
        "S3.AccessDenied"
    } else if [
        "SlowDown",
        "ServiceUnavailable",
        "503",
        "Connect",
        "connect",
        "timed out",
        "Timeout",
    ]
    .iter()
    .any(|c| text.contains(c))
    {
        "S3.ServiceUnavailable"
    } else {
        "S3.InternalError"
    };
    let message = match code {
        "S3.NoSuchBucket" => format!("The specified bucket does not exist: {bucket}. {text}"),
        _ => text,
    };
    SinkError {
        code: code.to_owned(),
        message,
        retryable: true,
    }
}

fn source_chain(e: &dyn std::error::Error) -> String {
    let mut out = Vec::new();
    let mut cur = e.source();
    while let Some(s) = cur {
        out.push(s.to_string());
        cur = s.source();
    }
    out.join(": ")
}

/// `object_store`'s HTTP layer on hyper-util + rustls (ring).
#[derive(Debug, Clone, Copy, Default)]
pub struct HyperConnector;

impl HttpConnector for HyperConnector {
    fn connect(&self, _options: &ClientOptions) -> object_store::Result<HttpClient> {
        let mut roots = rustls::RootCertStore::empty();
        for cert in rustls_native_certs::load_native_certs().certs {
            let _ = roots.add(cert);
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let tls = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| object_store::Error::Generic {
                store: "S3",
                source: Box::new(e),
            })?
            .with_root_certificates(roots)
            .with_no_client_auth();
        let mut http = HyperHttp::new();
        http.enforce_http(false);
        http.set_connect_timeout(Some(Duration::from_secs(10)));
        let connector = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(tls)
            .https_or_http()
            .enable_http1()
            .wrap_connector(http);
        let client = Client::builder(TokioExecutor::new()).build(connector);
        Ok(HttpClient::new(HyperService { client }))
    }
}

#[derive(Debug)]
struct HyperService {
    client: Client<HttpsConnector<HyperHttp>, HttpRequestBody>,
}

#[async_trait::async_trait]
impl HttpService for HyperService {
    async fn call(&self, req: HttpRequest) -> Result<HttpResponse, HttpError> {
        let resp = self.client.request(req).await.map_err(|e| {
            let kind = if e.is_connect() {
                HttpErrorKind::Connect
            } else {
                HttpErrorKind::Request
            };
            HttpError::new(kind, e)
        })?;
        let (parts, body) = resp.into_parts();
        let body =
            HttpResponseBody::new(body.map_err(|e| HttpError::new(HttpErrorKind::Request, e)));
        Ok(HttpResponse::from_parts(parts, body))
    }
}

#[cfg(test)]
mod tests {
    use std::net::TcpListener;
    use std::process::{Child, Command, Stdio};

    use object_store::ObjectStoreExt;

    use super::*;

    /// A moto S3 server for one test, killed on drop.
    struct Moto {
        child: Child,
        endpoint: String,
    }

    impl Drop for Moto {
        fn drop(&mut self) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }

    fn start_moto() -> Option<Moto> {
        let port = TcpListener::bind("127.0.0.1:0")
            .ok()?
            .local_addr()
            .ok()?
            .port();
        let child = Command::new("moto_server")
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .ok()?;
        let moto = Moto {
            child,
            endpoint: format!("http://127.0.0.1:{port}"),
        };
        // Wait for it to listen (bounded, so a broken install skips instead of hanging).
        for _ in 0..300 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return Some(moto);
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        None
    }

    fn create_bucket(endpoint: &str, bucket: &str) {
        let status = Command::new("python3")
            .arg("-c")
            .arg(
                "import boto3,sys; boto3.client('s3', endpoint_url=sys.argv[1], region_name='us-east-1', \
                 aws_access_key_id='k', aws_secret_access_key='s').create_bucket(Bucket=sys.argv[2])",
            )
            .args([endpoint, bucket])
            .status()
            .unwrap();
        assert!(status.success());
    }

    fn store(endpoint: &str, bucket: &str) -> RemoteStore {
        RemoteStore {
            endpoint: endpoint.to_owned(),
            region: "us-east-1".to_owned(),
            access_key_id: "k".to_owned(),
            secret_access_key: "s".to_owned(),
            bucket: bucket.to_owned(),
            allow_http: true,
            virtual_hosted_style: false,
        }
    }

    fn staged(dir: &std::path::Path, name: &str, data: &[u8]) -> ObjectBody {
        let path = dir.join(name);
        std::fs::write(&path, data).unwrap();
        ObjectBody::File {
            path,
            len: data.len() as u64,
        }
    }

    fn put(key: &str, body: ObjectBody) -> ObjectPut {
        ObjectPut {
            bucket: "local".to_owned(),
            key: key.to_owned(),
            content_type: Some("application/octet-stream".to_owned()),
            body,
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn objects_of_every_size_land_in_moto_and_staging_files_are_removed() {
        let Some(moto) = start_moto() else {
            eprintln!("SKIPPED: moto_server could not be started (pip install 'moto[server]').");
            return;
        };
        create_bucket(&moto.endpoint, "remote-b");
        let sink = RemoteSink::new(&store(&moto.endpoint, "remote-b")).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let small = b"small object".to_vec();
        let large: Vec<u8> = (0..(2 * PART_SIZE + 12_345))
            .map(|i| (i % 251) as u8)
            .collect();

        sink.put(put(
            "p/year=2024/bytes",
            ObjectBody::Bytes(Bytes::from_static(b"doc\n")),
        ))
        .await
        .unwrap();
        sink.put(put("p/small", staged(dir.path(), "s", &small)))
            .await
            .unwrap();
        sink.put(put("p/large", staged(dir.path(), "l", &large)))
            .await
            .unwrap();
        assert!(!dir.path().join("s").exists());
        assert!(!dir.path().join("l").exists());

        let check = RemoteSink::new(&store(&moto.endpoint, "remote-b"))
            .unwrap()
            .store;
        let get = |k: &'static str| {
            let check = check.clone();
            async move {
                check
                    .get(&Path::from(k))
                    .await
                    .unwrap()
                    .bytes()
                    .await
                    .unwrap()
            }
        };
        assert_eq!(get("p/year=2024/bytes").await, Bytes::from_static(b"doc\n"));
        assert_eq!(get("p/small").await, Bytes::from(small));
        assert_eq!(get("p/large").await, Bytes::from(large));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_missing_bucket_is_a_retryable_no_such_bucket() {
        let Some(moto) = start_moto() else {
            eprintln!("SKIPPED: moto_server could not be started (pip install 'moto[server]').");
            return;
        };
        let sink = RemoteSink::new(&store(&moto.endpoint, "absent")).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let err = sink
            .put(put("k", staged(dir.path(), "f", b"x")))
            .await
            .unwrap_err();
        assert_eq!(err.code, "S3.NoSuchBucket", "{err}");
        assert!(err.retryable);
        assert!(!dir.path().join("f").exists());
    }

    #[tokio::test]
    async fn an_unreachable_store_is_service_unavailable() {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut cfg = store(&format!("http://127.0.0.1:{port}"), "b");
        cfg.region = "us-east-1".to_owned();
        let sink = RemoteSink::new(&cfg).unwrap();
        let err = sink
            .put(put("k", ObjectBody::Bytes(Bytes::from_static(b"x"))))
            .await
            .unwrap_err();
        assert_eq!(err.code, "S3.ServiceUnavailable", "{err}");
        assert!(err.retryable);
    }

    #[test]
    fn the_config_reads_from_toml_like_json_with_defaults() {
        let cfg: RemoteStore = serde_json::from_str(
            r#"{"bucket":"b","endpoint":"http://minio:9000","allow_http":true}"#,
        )
        .unwrap();
        assert_eq!(cfg.region, "us-east-1");
        assert!(cfg.allow_http && !cfg.virtual_hosted_style);
        assert!(serde_json::from_str::<RemoteStore>(r#"{"bucket":"b","nope":1}"#).is_err());
    }
}

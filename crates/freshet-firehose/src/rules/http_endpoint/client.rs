// SPDX-License-Identifier: Apache-2.0
//! Sends one HTTP endpoint request and classifies the outcome (the protocol is in the parent
//! module). HTTPS uses rustls (ring) with the operating system's root certificates; plain
//! `http://` works too. Redirects are never followed; response bodies are read up to 1 MiB.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

use super::{
    CONNECTION_FAILED, CONNECTION_RESET, HttpEndpoint, MAX_RESPONSE_BYTES, REQUEST_TIMEOUT,
    RESPONSE_TIMEOUT, RESPONSE_TOO_LARGE, ResponseOutcome, build_request, classify_response,
};

/// Why a request did not deliver its batch.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{code}: {message}")]
pub struct HttpDeliveryError {
    /// `HttpEndpoint.DestinationException`, `HttpEndpoint.RequestTimeout`,
    /// `HttpEndpoint.ResponseTooLarge`, `HttpEndpoint.InvalidResponseFromDestination`,
    /// `HttpEndpoint.ConnectionFailed` or `HttpEndpoint.ConnectionReset`.
    pub code: &'static str,
    /// Details (includes a truncated response body when there was one).
    pub message: String,
    /// False only for 413 (and a request that cannot be built): go straight to the error
    /// output.
    pub retryable: bool,
}

/// A shared client for HTTP endpoint deliveries (cheap to clone).
#[derive(Clone)]
pub struct HttpEndpointClient {
    client: Client<HttpsConnector<HttpConnector>, Full<Bytes>>,
    timeout: Duration,
}

impl HttpEndpointClient {
    /// A client with the 3-minute response timeout and the system's root certificates
    /// (certificates that fail to load are skipped).
    pub fn new() -> std::io::Result<HttpEndpointClient> {
        let mut roots = rustls::RootCertStore::empty();
        for cert in rustls_native_certs::load_native_certs().certs {
            let _ = roots.add(cert);
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let tls = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(std::io::Error::other)?
            .with_root_certificates(roots)
            .with_no_client_auth();
        let connector = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(tls)
            .https_or_http()
            .enable_http1()
            .build();
        Ok(HttpEndpointClient {
            client: Client::builder(TokioExecutor::new()).build(connector),
            timeout: RESPONSE_TIMEOUT,
        })
    }

    /// The same client with another response timeout.
    pub fn with_timeout(mut self, timeout: Duration) -> HttpEndpointClient {
        self.timeout = timeout;
        self
    }

    /// POSTs `records` as one request with `request_id` (reuse it across retries).
    pub async fn send(
        &self,
        cfg: &HttpEndpoint,
        records: &[Bytes],
        request_id: &str,
        now_ms: i64,
    ) -> Result<(), HttpDeliveryError> {
        let fatal = |message: String| HttpDeliveryError {
            code: CONNECTION_FAILED,
            message,
            retryable: false,
        };
        let built = build_request(cfg, records, request_id, now_ms)
            .map_err(|e| fatal(format!("The request could not be built: {e}")))?;
        let mut req = hyper::Request::post(cfg.url.as_str());
        for (name, value) in &built.headers {
            req = req.header(*name, value.as_str());
        }
        let req = req
            .body(Full::new(built.body))
            .map_err(|e| fatal(format!("The request could not be built: {e}")))?;
        let exchange = async {
            let resp = self.client.request(req).await.map_err(|e| {
                let connect = e.is_connect();
                HttpDeliveryError {
                    code: if connect {
                        CONNECTION_FAILED
                    } else {
                        CONNECTION_RESET
                    },
                    message: format!("{e}: {}", source_chain(&e)),
                    retryable: true,
                }
            })?;
            let status = resp.status().as_u16();
            let body = Limited::new(resp.into_body(), MAX_RESPONSE_BYTES)
                .collect()
                .await
                .map_err(|e| {
                    if e.downcast_ref::<http_body_util::LengthLimitError>()
                        .is_some()
                    {
                        HttpDeliveryError {
                            code: RESPONSE_TOO_LARGE,
                            message: "The response from the endpoint is larger than 1 MiB."
                                .to_owned(),
                            retryable: true,
                        }
                    } else {
                        HttpDeliveryError {
                            code: CONNECTION_RESET,
                            message: format!("Reading the response failed: {e}"),
                            retryable: true,
                        }
                    }
                })?
                .to_bytes();
            Ok::<_, HttpDeliveryError>((status, body))
        };
        let (status, body) = tokio::time::timeout(self.timeout, exchange)
            .await
            .map_err(|_| HttpDeliveryError {
                code: REQUEST_TIMEOUT,
                message: format!(
                    "The endpoint did not respond within {} seconds.",
                    self.timeout.as_secs()
                ),
                retryable: true,
            })??;
        match classify_response(status, &body, request_id) {
            ResponseOutcome::Delivered => Ok(()),
            ResponseOutcome::Retry { code, message } => Err(HttpDeliveryError {
                code,
                message,
                retryable: true,
            }),
            ResponseOutcome::Permanent { code, message } => Err(HttpDeliveryError {
                code,
                message,
                retryable: false,
            }),
        }
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

#[cfg(test)]
mod tests {
    use std::convert::Infallible;
    use std::io::Read;
    use std::sync::Mutex;

    use hyper::body::Incoming;
    use hyper::server::conn::http1;
    use hyper::service::service_fn;
    use hyper::{Request, Response};
    use hyper_util::rt::TokioIo;
    use serde_json::Value;
    use tokio::net::TcpListener;

    use super::super::{
        DESTINATION_EXCEPTION, HttpEndpointConfiguration, HttpEndpointRequestConfiguration,
        INVALID_RESPONSE, validate,
    };
    use super::*;

    #[derive(Clone, Copy)]
    enum Reply {
        Echo,
        Status(u16),
        WrongId,
        Huge,
        Hang,
    }

    type Seen = Arc<Mutex<Vec<(http::HeaderMap, Vec<u8>)>>>;

    async fn serve(reply: Reply) -> (String, Seen) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let seen: Seen = Arc::default();
        let seen2 = seen.clone();
        tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                let seen = seen2.clone();
                tokio::spawn(async move {
                    let svc = service_fn(move |req: Request<Incoming>| {
                        let seen = seen.clone();
                        async move {
                            let headers = req.headers().clone();
                            let body = req.into_body().collect().await.unwrap().to_bytes().to_vec();
                            let plain = if headers.get("content-encoding").is_some() {
                                let mut out = Vec::new();
                                flate2::read::GzDecoder::new(&body[..])
                                    .read_to_end(&mut out)
                                    .unwrap();
                                out
                            } else {
                                body
                            };
                            let id = serde_json::from_slice::<Value>(&plain).unwrap()["requestId"]
                                .as_str()
                                .unwrap()
                                .to_owned();
                            seen.lock().unwrap().push((headers, plain));
                            let ok = format!(r#"{{"requestId":"{id}","timestamp":1}}"#);
                            let (status, text) = match reply {
                                Reply::Echo => (200, ok),
                                Reply::Status(s) => (s, r#"{"errorMessage":"no"}"#.to_owned()),
                                Reply::WrongId => {
                                    (200, r#"{"requestId":"nope","timestamp":1}"#.to_owned())
                                }
                                Reply::Huge => (200, "x".repeat(MAX_RESPONSE_BYTES + 10)),
                                Reply::Hang => {
                                    std::future::pending::<()>().await;
                                    (200, ok)
                                }
                            };
                            let mut resp = Response::new(Full::new(Bytes::from(text)));
                            *resp.status_mut() = http::StatusCode::from_u16(status).unwrap();
                            if status == 302 {
                                resp.headers_mut()
                                    .insert("location", "http://127.0.0.1:9/".parse().unwrap());
                            }
                            Ok::<_, Infallible>(resp)
                        }
                    });
                    let _ = http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), svc)
                        .await;
                });
            }
        });
        (format!("http://{addr}/ingest"), seen)
    }

    fn cfg(url: &str, gzip: bool) -> HttpEndpoint {
        validate(
            &HttpEndpointConfiguration {
                url: url.into(),
                name: None,
                access_key: Some("k".into()),
            },
            None,
            Some(&HttpEndpointRequestConfiguration {
                content_encoding: Some(if gzip { "GZIP" } else { "NONE" }.into()),
                common_attributes: None,
            }),
            None,
            "arn:aws:firehose:us-east-1:000000000000:deliverystream/s",
        )
        .unwrap()
    }

    async fn send(reply: Reply, gzip: bool) -> (Result<(), HttpDeliveryError>, Seen) {
        let (url, seen) = serve(reply).await;
        let client = HttpEndpointClient::new()
            .unwrap()
            .with_timeout(Duration::from_millis(500));
        let out = client
            .send(&cfg(&url, gzip), &[Bytes::from_static(b"rec")], "req-1", 42)
            .await;
        (out, seen)
    }

    #[tokio::test]
    async fn a_matching_200_delivers_and_the_endpoint_sees_aws_headers() {
        let (out, seen) = send(Reply::Echo, true).await;
        assert_eq!(out, Ok(()));
        let seen = seen.lock().unwrap();
        let (headers, body) = &seen[0];
        assert_eq!(headers["x-amz-firehose-request-id"], "req-1");
        assert_eq!(headers["x-amz-firehose-protocol-version"], "1.0");
        assert_eq!(headers["x-amz-firehose-access-key"], "k");
        assert_eq!(headers["content-encoding"], "gzip");
        let v: Value = serde_json::from_slice(body).unwrap();
        assert_eq!(v["records"][0]["data"], "cmVj");
        assert_eq!(v["timestamp"], 42);
    }

    #[tokio::test]
    async fn server_errors_and_redirects_are_retryable_destination_exceptions() {
        for status in [500, 302, 204] {
            let err = send(Reply::Status(status), false).await.0.unwrap_err();
            assert_eq!(err.code, DESTINATION_EXCEPTION);
            assert!(err.retryable);
            assert!(err.message.contains(&status.to_string()), "{}", err.message);
        }
    }

    #[tokio::test]
    async fn payload_too_large_is_permanent() {
        let err = send(Reply::Status(413), false).await.0.unwrap_err();
        assert_eq!(err.code, DESTINATION_EXCEPTION);
        assert!(!err.retryable);
    }

    #[tokio::test]
    async fn a_mismatched_request_id_is_an_invalid_response() {
        let err = send(Reply::WrongId, false).await.0.unwrap_err();
        assert_eq!(err.code, INVALID_RESPONSE);
        assert!(err.retryable);
    }

    #[tokio::test]
    async fn a_response_over_one_mib_is_too_large() {
        let err = send(Reply::Huge, false).await.0.unwrap_err();
        assert_eq!(err.code, RESPONSE_TOO_LARGE);
    }

    #[tokio::test]
    async fn no_response_within_the_timeout_is_a_request_timeout() {
        let err = send(Reply::Hang, false).await.0.unwrap_err();
        assert_eq!(err.code, REQUEST_TIMEOUT);
        assert!(err.retryable);
    }

    #[tokio::test]
    async fn an_unreachable_endpoint_is_a_connection_failure() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        drop(listener);
        let client = HttpEndpointClient::new().unwrap();
        let err = client
            .send(&cfg(&format!("http://{addr}/"), false), &[], "r", 1)
            .await
            .unwrap_err();
        assert_eq!(err.code, CONNECTION_FAILED);
        assert!(err.retryable);
    }
}

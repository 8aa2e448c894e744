// SPDX-License-Identifier: Apache-2.0
//! Clients for the server's TLS port: the AWS SDK over `https://` trusting the server's
//! certificate, and raw requests over rustls with a chosen ALPN offer.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use aws_sdk_kinesis::Client;
use aws_sdk_kinesis::config::retry::RetryConfig;
use aws_sdk_kinesis::config::timeout::TimeoutConfig;
use aws_sdk_kinesis::config::{
    BehaviorVersion, Credentials, Region, StalledStreamProtectionConfig,
};
use aws_smithy_http_client::tls::rustls_provider::CryptoMode;
use aws_smithy_http_client::tls::{Provider, TlsContext, TrustStore};
use bytes::Bytes;
use hyper_util::rt::{TokioExecutor, TokioIo};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, ServerName};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

use crate::{REGION, RawResponse, TestServer, build_request, collect};

/// What a raw TLS request negotiated, besides its response.
#[derive(Debug, Clone)]
pub struct TlsResponse {
    /// The response.
    pub response: RawResponse,
    /// The ALPN protocol the server chose (`"h2"`, `"http/1.1"`), if any.
    pub alpn: Option<String>,
    /// The HTTP version the response came over.
    pub version: http::Version,
}

impl TestServer {
    /// The TLS port's address, when the server was started with `server.tls_listen`.
    pub fn tls_addr(&self) -> Option<SocketAddr> {
        self.running().and_then(|s| s.tls_addr())
    }

    /// The `https://` endpoint of the TLS port, by IP address (the generated certificate
    /// covers `127.0.0.1`).
    ///
    /// # Panics
    /// If the server has no TLS port.
    pub fn tls_endpoint(&self) -> String {
        let addr = self.tls_addr().expect("the server has a TLS port");
        format!("https://{addr}")
    }

    /// The PEM certificate the TLS port serves, as a client would be given it to trust.
    ///
    /// # Panics
    /// If the server has no TLS port or the file cannot be read.
    pub fn tls_cert_pem(&self) -> Vec<u8> {
        let path = self
            .running()
            .and_then(|s| s.tls_cert_path())
            .expect("the server has a TLS port");
        std::fs::read(path).expect("read the TLS certificate")
    }

    /// An official AWS SDK Kinesis client on the TLS port, with rustls (ring) trusting only
    /// the server's certificate. The SDK's client negotiates HTTP/2 or HTTP/1.1 by ALPN.
    ///
    /// # Panics
    /// If the server has no TLS port.
    pub fn tls_client(&self) -> Client {
        let trust = TrustStore::empty()
            .with_native_roots(false)
            .with_pem_certificate(self.tls_cert_pem());
        let tls = TlsContext::builder()
            .with_trust_store(trust)
            .build()
            .expect("TLS context");
        let http = aws_smithy_http_client::Builder::new()
            .tls_provider(Provider::Rustls(CryptoMode::Ring))
            .tls_context(tls)
            .build_https();
        let config = aws_sdk_kinesis::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new(REGION))
            .credentials_provider(Credentials::new("test", "test", None, None, "test"))
            .endpoint_url(self.tls_endpoint())
            .http_client(http)
            .retry_config(RetryConfig::standard().with_max_attempts(2))
            .timeout_config(
                TimeoutConfig::builder()
                    .operation_attempt_timeout(Duration::from_secs(120))
                    .build(),
            )
            .stalled_stream_protection(StalledStreamProtectionConfig::disabled())
            .build();
        Client::from_conf(config)
    }

    /// Sends one request to the TLS port over rustls, offering the `alpn` protocols (e.g.
    /// `["h2", "http/1.1"]`, or none), verifying the certificate for `localhost`; then speaks
    /// HTTP/2 if the server chose `h2` and HTTP/1.1 otherwise.
    ///
    /// # Panics
    /// If the server has no TLS port.
    pub async fn try_raw_tls(
        &self,
        alpn: &[&str],
        method: http::Method,
        path: &str,
        headers: &[(&str, &str)],
        body: Bytes,
    ) -> Result<TlsResponse, Box<dyn std::error::Error + Send + Sync>> {
        let addr = self.tls_addr().expect("the server has a TLS port");
        let mut roots = rustls::RootCertStore::empty();
        for cert in CertificateDer::pem_slice_iter(&self.tls_cert_pem()) {
            roots.add(cert?)?;
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()?
            .with_root_certificates(roots)
            .with_no_client_auth();
        config.alpn_protocols = alpn.iter().map(|p| p.as_bytes().to_vec()).collect();
        let tcp = TcpStream::connect(addr).await?;
        let stream = TlsConnector::from(Arc::new(config))
            .connect(ServerName::try_from("localhost")?, tcp)
            .await?;
        let negotiated = stream
            .get_ref()
            .1
            .alpn_protocol()
            .map(|p| String::from_utf8_lossy(p).into_owned());
        let request = build_request(method, path, headers, body, &addr)?;
        let response = if negotiated.as_deref() == Some("h2") {
            let (mut sender, conn) =
                hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(stream))
                    .await?;
            tokio::spawn(async move {
                let _ = conn.await;
            });
            sender.send_request(request).await?
        } else {
            let (mut sender, conn) =
                hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
            tokio::spawn(async move {
                let _ = conn.await;
            });
            sender.send_request(request).await?
        };
        let version = response.version();
        Ok(TlsResponse {
            response: collect(response).await?,
            alpn: negotiated,
            version,
        })
    }
}

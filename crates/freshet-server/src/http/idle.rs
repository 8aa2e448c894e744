// SPDX-License-Identifier: Apache-2.0
//! A deadline for a connection's first bytes.
//!
//! hyper's auto builder reads the first bytes of a connection to tell HTTP/1.1 from h2c with
//! no timeout, so a client that connects and sends nothing would hold its task and socket
//! forever. [`FirstByteDeadline`] fails the first read if nothing arrives in time; after the
//! first bytes, hyper's own header read timeout takes over.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::Sleep;

/// An I/O whose reads fail with `TimedOut` if no byte arrived within the deadline.
pub(crate) struct FirstByteDeadline<IO> {
    io: IO,
    /// Armed until the first byte; `None` afterwards.
    deadline: Option<Pin<Box<Sleep>>>,
}

impl<IO> FirstByteDeadline<IO> {
    /// `io` with `timeout` for its first byte.
    pub(crate) fn new(io: IO, timeout: Duration) -> Self {
        Self {
            io,
            deadline: Some(Box::pin(tokio::time::sleep(timeout))),
        }
    }
}

impl<IO: AsyncRead + Unpin> AsyncRead for FirstByteDeadline<IO> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let this = &mut *self;
        match Pin::new(&mut this.io).poll_read(cx, buf) {
            Poll::Ready(r) => {
                if buf.filled().len() > before {
                    this.deadline = None;
                }
                Poll::Ready(r)
            }
            Poll::Pending => {
                let expired = this
                    .deadline
                    .as_mut()
                    .is_some_and(|d| d.as_mut().poll(cx).is_ready());
                if expired {
                    Poll::Ready(Err(io::Error::new(
                        io::ErrorKind::TimedOut,
                        "no request arrived in time",
                    )))
                } else {
                    Poll::Pending
                }
            }
        }
    }
}

impl<IO: AsyncWrite + Unpin> AsyncWrite for FirstByteDeadline<IO> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.io).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.io).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    use super::*;

    #[tokio::test(start_paused = true)]
    async fn a_silent_peer_times_out_and_a_talking_one_does_not() {
        let (client, server) = tokio::io::duplex(64);
        let mut io = FirstByteDeadline::new(server, Duration::from_secs(5));
        let mut buf = [0u8; 4];
        let err = io.read(&mut buf).await.expect_err("silent peer");
        assert_eq!(err.kind(), io::ErrorKind::TimedOut);
        drop(client);

        let (mut client, server) = tokio::io::duplex(64);
        let mut io = FirstByteDeadline::new(server, Duration::from_secs(5));
        client.write_all(b"GET").await.expect("write");
        assert_eq!(io.read(&mut buf).await.expect("read"), 3);
        // Past the first bytes the deadline is gone: a later wait is hyper's business.
        tokio::time::sleep(Duration::from_secs(60)).await;
        client.write_all(b"x").await.expect("write");
        assert_eq!(io.read(&mut buf).await.expect("read"), 1);
    }
}

//! Connection-level faults: a TCP stream that resets itself when the node has a connection
//! fault armed (or is rebooting), or, with quirk `stale_keep_alive_connection` switched on,
//! when a request arrives on a connection that has already served an answer.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

use crate::node::{Node, lock};

/// A TCP stream that resets itself when the node has a connection fault armed.
pub(crate) struct FaultStream {
    inner: TcpStream,
    node: Arc<Node>,
    /// Whether an answer has been written on this connection (it is a reused one from then).
    served: bool,
}

impl AsyncRead for FaultStream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let this = &mut *self;
        let poll = Pin::new(&mut this.inner).poll_read(cx, buf);
        if let Poll::Ready(Ok(())) = poll
            && buf.filled().len() > before
            && (this.node.should_drop_connection(Instant::now())
                || (this.served
                    && lock(&this.node.state)
                        .system_options
                        .stale_keep_alive_connection))
        {
            // SO_LINGER 0 makes the close send RST, as a crashing or rebooting BMC does.
            let _ = this.inner.set_zero_linger();
            return Poll::Ready(Err(io::Error::new(
                io::ErrorKind::ConnectionReset,
                "fault: connection reset",
            )));
        }
        poll
    }
}

impl AsyncWrite for FaultStream {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let poll = Pin::new(&mut self.inner).poll_write(cx, buf);
        if let Poll::Ready(Ok(written)) = poll
            && written > 0
        {
            self.served = true;
        }
        poll
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// axum-server acceptor that wraps each TCP stream in a [`FaultStream`].
#[derive(Clone)]
pub(crate) struct FaultAcceptor {
    pub node: Arc<Node>,
}

impl<S: Send + 'static> axum_server::accept::Accept<TcpStream, S> for FaultAcceptor {
    type Stream = FaultStream;
    type Service = S;
    type Future = std::future::Ready<io::Result<(FaultStream, S)>>;

    fn accept(&self, stream: TcpStream, service: S) -> Self::Future {
        let _ = stream.set_nodelay(true);
        std::future::ready(Ok((
            FaultStream {
                inner: stream,
                node: self.node.clone(),
                served: false,
            },
            service,
        )))
    }
}

//! The policy for clients that bring their own connection (hyper-based
//! token clients, which take a connector and nothing else): the connection
//! itself is wrapped. Each reply (its head and body, from the first byte
//! read after a request is written) is capped at the client's limit, and a
//! reply whose head is a redirect fails naming where it pointed: such
//! clients follow no redirect, and this says why the request failed.
//! HTTP/1 only (the wrapper reads the status line).

use crate::{PolicyError, check_redirect, shown_url};
use hyper::rt::{Read, ReadBuf, ReadBufCursor, Write};
use hyper_util::client::legacy::connect::{Connected, Connection};
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

/// The most of a reply's head kept to read its status and `Location`.
const MAX_HEAD: usize = 64 * 1024;

/// A connector whose connections are [`CappedIo`].
#[derive(Debug, Clone)]
pub struct CappedConnector<C> {
    inner: C,
    cap: usize,
}

impl<C> CappedConnector<C> {
    /// Wraps `inner`; each reply may be `cap` bytes (head included).
    pub fn new(inner: C, cap: usize) -> Self {
        Self { inner, cap }
    }
}

impl<C> tower_service::Service<http::Uri> for CappedConnector<C>
where
    C: tower_service::Service<http::Uri> + Send,
    C::Future: Send + 'static,
    C::Response: Send,
{
    type Response = CappedIo<C::Response>;
    type Error = C::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Self::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, uri: http::Uri) -> Self::Future {
        let cap = self.cap;
        let url = url::Url::parse(&uri.to_string()).ok();
        let connecting = self.inner.call(uri);
        Box::pin(async move {
            let io = connecting.await?;
            Ok(CappedIo {
                inner: io,
                cap,
                read: 0,
                head: Vec::new(),
                head_done: false,
                url,
            })
        })
    }
}

/// A connection whose replies are capped and whose redirects fail (see
/// the module).
#[derive(Debug)]
pub struct CappedIo<T> {
    inner: T,
    cap: usize,
    /// Bytes read since the last request was written.
    read: usize,
    /// The reply's head so far.
    head: Vec<u8>,
    head_done: bool,
    url: Option<url::Url>,
}

impl<T> CappedIo<T> {
    /// Counts `bytes` of the reply; an error once the reply is over the cap
    /// or its head is a redirect.
    fn seen(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.read += bytes.len();
        let shown = self
            .url
            .as_ref()
            .map(shown_url)
            .unwrap_or_else(|| "the server".to_owned());
        if self.read > self.cap {
            return Err(io::Error::other(PolicyError::TooLarge {
                url: shown,
                cap: self.cap,
            }));
        }
        if self.head_done {
            return Ok(());
        }
        let room = MAX_HEAD.saturating_sub(self.head.len());
        self.head.extend_from_slice(&bytes[..bytes.len().min(room)]);
        let mut headers = [httparse::EMPTY_HEADER; 64];
        let mut response = httparse::Response::new(&mut headers);
        match response.parse(&self.head) {
            Ok(httparse::Status::Complete(_)) => {
                self.head_done = true;
                let code = response.code.unwrap_or(0);
                if (300..400).contains(&code) && code != 304 {
                    let location = response
                        .headers
                        .iter()
                        .find(|h| h.name.eq_ignore_ascii_case("location"))
                        .and_then(|h| std::str::from_utf8(h.value).ok())
                        .unwrap_or("");
                    let to = self.url.as_ref().and_then(|u| u.join(location).ok());
                    let refused = match (&self.url, &to) {
                        // such a client follows none: report why with the rule
                        (Some(from), Some(to)) => {
                            check_redirect(from, to, 0)
                                .err()
                                .unwrap_or(PolicyError::Redirect {
                                    from: shown_url(from),
                                    to: shown_url(to),
                                    why: "this client follows no redirect",
                                })
                        }
                        _ => PolicyError::Redirect {
                            from: shown,
                            to: "an address that does not parse".to_owned(),
                            why: "this client follows no redirect",
                        },
                    };
                    return Err(io::Error::other(refused));
                }
                self.head.clear();
            }
            Ok(httparse::Status::Partial) if self.head.len() < MAX_HEAD => {}
            // a head that does not parse, or one too long: hyper says so
            _ => {
                self.head_done = true;
                self.head.clear();
            }
        }
        Ok(())
    }
}

impl<T: Read + Unpin> Read for CappedIo<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        mut buf: ReadBufCursor<'_>,
    ) -> Poll<io::Result<()>> {
        let mut scratch = [0u8; 8192];
        let want = buf.remaining().min(scratch.len());
        let mut tmp = ReadBuf::new(&mut scratch[..want]);
        match Pin::new(&mut self.inner).poll_read(cx, tmp.unfilled()) {
            Poll::Ready(Ok(())) => {
                let filled = tmp.filled();
                self.seen(filled)?;
                buf.put_slice(filled);
                Poll::Ready(Ok(()))
            }
            other => other,
        }
    }
}

impl<T: Write + Unpin> Write for CappedIo<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let written = Pin::new(&mut self.inner).poll_write(cx, buf);
        if let Poll::Ready(Ok(n)) = written
            && n > 0
        {
            // a new request: its reply starts now
            self.read = 0;
            self.head.clear();
            self.head_done = false;
        }
        written
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

impl<T: Connection> Connection for CappedIo<T> {
    fn connected(&self) -> Connected {
        self.inner.connected()
    }
}

/// Every error of a chain, the ones an `io::Error` wraps included (its
/// `source()` skips the error it wraps).
pub fn chain<'a>(
    e: &'a (dyn std::error::Error + 'static),
) -> impl Iterator<Item = &'a (dyn std::error::Error + 'static)> {
    let mut next: Option<&'a (dyn std::error::Error + 'static)> = Some(e);
    std::iter::from_fn(move || {
        let current = next?;
        next = match current
            .downcast_ref::<io::Error>()
            .and_then(|io| io.get_ref())
        {
            Some(inner) => Some(inner as &(dyn std::error::Error + 'static)),
            None => current.source(),
        };
        Some(current)
    })
}

/// The policy's refusal in an error chain (a hyper or SDK error that came
/// through a [`CappedIo`] or the policy client), if there is one.
pub fn find_refusal<'a>(e: &'a (dyn std::error::Error + 'static)) -> Option<&'a PolicyError> {
    chain(e).find_map(|s| s.downcast_ref::<PolicyError>())
}

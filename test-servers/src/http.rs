#![cfg_attr(not(all(feature = "google", feature = "azure")), allow(dead_code))]
//! What the local vault servers share: serving HTTP/1.1 on loopback, JSON
//! replies, query parsing and fault injection.

use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response, StatusCode};
use serde_json::Value as Json;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;

pub(crate) type Reply = Response<Full<Bytes>>;

/// A JSON reply.
pub(crate) fn reply(status: StatusCode, body: Json) -> Reply {
    let mut r = Response::new(Full::new(Bytes::from(body.to_string())));
    *r.status_mut() = status;
    r.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("application/json; charset=utf-8"),
    );
    r
}

/// One parameter of a query string or form body, percent-decoded.
pub(crate) fn query_param(query: &str, key: &str) -> Option<String> {
    query.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=')?;
        (percent_decode(k) == key).then(|| percent_decode(v))
    })
}

/// Decodes a form value: `+` as a space, then `%XX` escapes.
pub(crate) fn percent_decode(s: &str) -> String {
    url::form_urlencoded::parse(format!("x={s}").as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

/// Faults a local server injects.
#[derive(Default)]
pub(crate) struct Faults {
    pub(crate) latency: Duration,
    pub(crate) fail_next: Vec<u16>,
    pub(crate) fail_always: Option<u16>,
    pub(crate) drop_next: usize,
}

impl Faults {
    /// True when this connection must be dropped unanswered.
    pub(crate) fn take_drop(&mut self) -> bool {
        let drop_it = self.drop_next > 0;
        if drop_it {
            self.drop_next -= 1;
        }
        drop_it
    }

    /// The status this API request must fail with, if any.
    pub(crate) fn take_failure(&mut self) -> Option<u16> {
        if self.fail_next.is_empty() {
            self.fail_always
        } else {
            Some(self.fail_next.remove(0))
        }
    }
}

/// What the local servers read of a request, its body collected.
pub(crate) struct Received {
    pub(crate) method: hyper::Method,
    pub(crate) path: String,
    pub(crate) query: String,
    /// The `Authorization` header.
    pub(crate) auth: Option<String>,
    pub(crate) body: Bytes,
}

/// Waits out the configured latency, then (when a drop is due) fails, which
/// makes hyper close the connection unanswered; else reads the request.
pub(crate) async fn receive(
    req: Request<Incoming>,
    (latency, drop_it): (Duration, bool),
) -> Result<Received, std::io::Error> {
    use http_body_util::BodyExt;
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    if drop_it {
        return Err(std::io::Error::new(
            std::io::ErrorKind::ConnectionReset,
            "dropped by fault injection",
        ));
    }
    let method = req.method().clone();
    let path = req.uri().path().to_owned();
    let query = req.uri().query().unwrap_or("").to_owned();
    let auth = req
        .headers()
        .get(hyper::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let body = req
        .into_body()
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    Ok(Received {
        method,
        path,
        query,
        auth,
        body,
    })
}

/// A server's request handler.
pub(crate) trait Handler: Send + Sync + 'static {
    /// Answers one request; an error closes the connection unanswered.
    fn handle(
        self: Arc<Self>,
        req: Request<Incoming>,
    ) -> impl Future<Output = Result<Reply, std::io::Error>> + Send;
}

/// Serves `handler` on `listener` until the task is aborted.
pub(crate) fn serve<H: Handler>(
    listener: TcpListener,
    handler: Arc<H>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            let handler = handler.clone();
            tokio::spawn(async move {
                let io = hyper_util::rt::TokioIo::new(stream);
                let service = hyper::service::service_fn(move |req| handler.clone().handle(req));
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(io, service)
                    .await;
            });
        }
    })
}

/// Sends one request to `upstream` (`host:port`, plain HTTP) and returns
/// its status and its reply, for the fault proxies.
#[cfg(any(feature = "aws", feature = "hashicorp"))]
pub(crate) async fn forward(
    upstream: &str,
    parts: hyper::http::request::Parts,
    body: Bytes,
) -> Result<(StatusCode, Reply), std::io::Error> {
    use http_body_util::BodyExt;
    let stream = tokio::net::TcpStream::connect(upstream).await?;
    let io = hyper_util::rt::TokioIo::new(stream);
    let (mut sender, conn) = hyper::client::conn::http1::handshake::<_, Full<Bytes>>(io)
        .await
        .map_err(std::io::Error::other)?;
    tokio::spawn(conn);
    let forwarded = Request::from_parts(parts, Full::new(body));
    let response = sender
        .send_request(forwarded)
        .await
        .map_err(std::io::Error::other)?;
    let (parts, body) = response.into_parts();
    let body = body
        .collect()
        .await
        .map(|b| b.to_bytes())
        .map_err(std::io::Error::other)?;
    let status = parts.status;
    Ok((status, Response::from_parts(parts, Full::new(body))))
}

/// Serves `handler` over TLS with `config` until the task is aborted.
#[cfg(feature = "azure")]
pub(crate) fn serve_tls<H: Handler>(
    listener: TcpListener,
    handler: Arc<H>,
    config: Arc<tokio_rustls::rustls::ServerConfig>,
) -> tokio::task::JoinHandle<()> {
    let acceptor = tokio_rustls::TlsAcceptor::from(config);
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            let handler = handler.clone();
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let Ok(tls) = acceptor.accept(stream).await else {
                    return;
                };
                let io = hyper_util::rt::TokioIo::new(tls);
                let service = hyper::service::service_fn(move |req| handler.clone().handle(req));
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(io, service)
                    .await;
            });
        }
    })
}

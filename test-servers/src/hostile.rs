//! A hostile HTTP server, for the tests of strata's HTTP policy
//! (docs/security.md, "Server replies are bounded" and "Credentials go only
//! where the user sent them"). It speaks raw HTTP/1.1 on loopback (plain or
//! TLS with a CA made per run) and answers every request the way it is
//! told: a redirect, a body larger than any cap (streamed, never held), a
//! reply that drips a byte at a time, no reply at all, garbage, or a given
//! reply. It records every request it reads (method, path, headers).

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpListener;

/// How the server answers.
#[derive(Debug, Clone)]
pub enum Behavior {
    /// `status` with `Location: to`.
    Redirect {
        /// 301, 302, 303, 307 or 308.
        status: u16,
        /// Where it points.
        to: String,
    },
    /// A 200 whose body is `len` bytes of JSON-looking text, streamed;
    /// `declared` sends `Content-Length`, else the body is chunked.
    Oversize {
        /// How many bytes.
        len: u64,
        /// Whether the length is declared up front.
        declared: bool,
    },
    /// The head of a 200, then one byte every `every`, forever.
    Drip {
        /// The pause between bytes.
        every: Duration,
    },
    /// Reads the request and never answers.
    Hang,
    /// `len` bytes that are not HTTP, then closes.
    Garbage {
        /// How many.
        len: usize,
    },
    /// Closes the connection once the request is read.
    Close,
    /// A well-formed reply.
    Reply {
        /// The status.
        status: u16,
        /// `Content-Type`.
        content_type: String,
        /// The body.
        body: Vec<u8>,
    },
}

impl Behavior {
    /// A JSON reply.
    pub fn json(status: u16, body: &serde_json::Value) -> Self {
        Behavior::Reply {
            status,
            content_type: "application/json".to_owned(),
            body: body.to_string().into_bytes(),
        }
    }
}

/// A request the server read.
#[derive(Debug, Clone)]
pub struct Seen {
    /// `GET`, `POST`, ...
    pub method: String,
    /// The path and query.
    pub target: String,
    /// The headers, names lower-cased.
    pub headers: Vec<(String, String)>,
    /// The body (up to 1 MiB).
    pub body: Vec<u8>,
}

impl Seen {
    /// The value of header `name` (lower case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

struct State {
    behavior: Behavior,
    seen: Vec<Seen>,
}

/// The running server; dropping it stops it.
pub struct HostileServer {
    addr: SocketAddr,
    tls: Option<Vec<u8>>,
    state: Arc<Mutex<State>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for HostileServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn lock(state: &Mutex<State>) -> std::sync::MutexGuard<'_, State> {
    match state.lock() {
        Ok(g) => g,
        Err(p) => p.into_inner(),
    }
}

impl HostileServer {
    /// Starts on a free loopback port, plain HTTP.
    ///
    /// # Panics
    /// When no port can be bound.
    pub async fn start(behavior: Behavior) -> Self {
        Self::start_with(behavior, None).await
    }

    /// Starts on a free loopback port with TLS: a self-signed certificate
    /// for `127.0.0.1` and `localhost` made for this run
    /// ([`HostileServer::ca_pem`]).
    ///
    /// # Panics
    /// When no port can be bound or no certificate can be made.
    pub async fn start_tls(behavior: Behavior) -> Self {
        Self::start_with(behavior, Some(crate::tls::self_signed())).await
    }

    async fn start_with(
        behavior: Behavior,
        tls: Option<(String, Arc<tokio_rustls::rustls::ServerConfig>)>,
    ) -> Self {
        #[allow(clippy::expect_used)]
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("the server binds a loopback port");
        #[allow(clippy::expect_used)]
        let addr = listener.local_addr().expect("a bound address");
        let state = Arc::new(Mutex::new(State {
            behavior,
            seen: Vec::new(),
        }));
        let ca = tls.as_ref().map(|(pem, _)| pem.as_bytes().to_vec());
        let acceptor = tls.map(|(_, config)| tokio_rustls::TlsAcceptor::from(config));
        let shared = state.clone();
        let task = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let state = shared.clone();
                let acceptor = acceptor.clone();
                tokio::spawn(async move {
                    match acceptor {
                        Some(a) => {
                            if let Ok(s) = a.accept(stream).await {
                                serve(s, state).await;
                            }
                        }
                        None => serve(stream, state).await,
                    }
                });
            }
        });
        Self {
            addr,
            tls: ca,
            state,
            task,
        }
    }

    /// `http://127.0.0.1:PORT` (or `https://`).
    pub fn url(&self) -> String {
        let scheme = if self.tls.is_some() { "https" } else { "http" };
        format!("{scheme}://{}", self.addr)
    }

    /// `https://localhost:PORT` for a TLS server (names, not addresses,
    /// for clients that want a host name).
    pub fn url_localhost(&self) -> String {
        let scheme = if self.tls.is_some() { "https" } else { "http" };
        format!("{scheme}://localhost:{}", self.addr.port())
    }

    /// The CA certificate (PEM) a TLS server's certificate chains to.
    pub fn ca_pem(&self) -> Option<&[u8]> {
        self.tls.as_deref()
    }

    /// Answers the next requests this way.
    pub fn set(&self, behavior: Behavior) {
        lock(&self.state).behavior = behavior;
    }

    /// Every request read so far.
    pub fn seen(&self) -> Vec<Seen> {
        lock(&self.state).seen.clone()
    }
}

/// Reads one request head and body; `None` when the peer closed.
async fn read_request<S: AsyncRead + Unpin>(stream: &mut S) -> Option<Seen> {
    let mut buf: Vec<u8> = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        if buf.len() > 64 * 1024 {
            return None;
        }
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let mut first = lines.next()?.split(' ');
    let method = first.next()?.to_owned();
    let target = first.next()?.to_owned();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| {
            let (k, v) = l.split_once(':')?;
            Some((k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        })
        .collect();
    let length = headers
        .iter()
        .find(|(k, _)| k == "content-length")
        .and_then(|(_, v)| v.parse::<usize>().ok())
        .unwrap_or(0)
        .min(1024 * 1024);
    let mut body = buf[head_end..].to_vec();
    while body.len() < length {
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            break;
        }
        body.extend_from_slice(&chunk[..n]);
    }
    body.truncate(length);
    Some(Seen {
        method,
        target,
        headers,
        body,
    })
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        301 => "Moved Permanently",
        302 => "Found",
        303 => "See Other",
        307 => "Temporary Redirect",
        308 => "Permanent Redirect",
        _ => "Status",
    }
}

async fn serve<S: AsyncRead + AsyncWrite + Unpin>(mut stream: S, state: Arc<Mutex<State>>) {
    loop {
        let Some(seen) = read_request(&mut stream).await else {
            return;
        };
        let behavior = {
            let mut s = lock(&state);
            s.seen.push(seen);
            s.behavior.clone()
        };
        let keep_going = answer(&mut stream, behavior).await;
        if !keep_going {
            let _ = stream.shutdown().await;
            return;
        }
    }
}

/// Writes the answer; false when the connection is to close.
async fn answer<S: AsyncWrite + Unpin>(stream: &mut S, behavior: Behavior) -> bool {
    match behavior {
        Behavior::Redirect { status, to } => {
            let head = format!(
                "HTTP/1.1 {status} {}\r\nLocation: {to}\r\nContent-Length: 0\r\n\r\n",
                reason(status)
            );
            stream.write_all(head.as_bytes()).await.is_ok()
        }
        Behavior::Reply {
            status,
            content_type,
            body,
        } => {
            let head = format!(
                "HTTP/1.1 {status} {}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\r\n",
                reason(status),
                body.len()
            );
            stream.write_all(head.as_bytes()).await.is_ok() && stream.write_all(&body).await.is_ok()
        }
        Behavior::Oversize { len, declared } => {
            let head = if declared {
                format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {len}\r\n\r\n"
                )
            } else {
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n".to_owned()
            };
            if stream.write_all(head.as_bytes()).await.is_err() {
                return false;
            }
            let block = vec![b'a'; 64 * 1024];
            let mut sent = 0u64;
            while sent < len {
                let n = (len - sent).min(block.len() as u64) as usize;
                let ok = if declared {
                    stream.write_all(&block[..n]).await.is_ok()
                } else {
                    let size = format!("{n:x}\r\n");
                    stream.write_all(size.as_bytes()).await.is_ok()
                        && stream.write_all(&block[..n]).await.is_ok()
                        && stream.write_all(b"\r\n").await.is_ok()
                };
                if !ok {
                    return false;
                }
                sent += n as u64;
            }
            if !declared {
                let _ = stream.write_all(b"0\r\n\r\n").await;
            }
            false
        }
        Behavior::Drip { every } => {
            let head = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 1000000\r\n\r\n";
            if stream.write_all(head.as_bytes()).await.is_err() {
                return false;
            }
            loop {
                if stream.write_all(b" ").await.is_err() || stream.flush().await.is_err() {
                    return false;
                }
                tokio::time::sleep(every).await;
            }
        }
        Behavior::Hang => {
            tokio::time::sleep(Duration::from_secs(3600)).await;
            false
        }
        Behavior::Garbage { len } => {
            let garbage: Vec<u8> = (0..len).map(|i| (i * 7 + 13) as u8).collect();
            let _ = stream.write_all(&garbage).await;
            false
        }
        Behavior::Close => false,
    }
}

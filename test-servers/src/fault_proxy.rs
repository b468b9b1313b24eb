//! A fault-injecting HTTP proxy for servers that inject no faults of their
//! own (OpenBao): it forwards every request unchanged and, when told,
//! answers instead with an error status in Vault's error shape
//! (`{"errors": [...]}`), drops the connection unanswered, or adds latency.
//! It counts requests by method and path.

use crate::http::{Faults, Handler, Reply, forward, reply, serve};
use http_body_util::BodyExt;
use hyper::body::{Bytes, Incoming};
use hyper::{Request, StatusCode};
use serde_json::json;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::net::TcpListener;

#[derive(Default)]
struct State {
    faults: Faults,
    /// Requests seen, as `METHOD /path`.
    seen: Vec<String>,
}

/// The running proxy; dropping it stops it.
pub struct FaultProxy {
    addr: SocketAddr,
    state: Arc<Mutex<State>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for FaultProxy {
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

impl FaultProxy {
    /// Starts on a free loopback port, forwarding to `upstream`
    /// (`host:port`, plain HTTP).
    ///
    /// # Panics
    /// When no port can be bound.
    pub async fn start(upstream: &str) -> Self {
        #[allow(clippy::expect_used)]
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("the proxy binds a loopback port");
        #[allow(clippy::expect_used)]
        let addr = listener.local_addr().expect("a bound address");
        let state = Arc::new(Mutex::new(State::default()));
        let shared = Arc::new(Proxy {
            upstream: upstream.to_owned(),
            state: state.clone(),
        });
        Self {
            addr,
            state,
            task: serve(listener, shared),
        }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The next `n` requests answer `status`, then the proxy forwards again.
    pub fn fail_next(&self, n: usize, status: u16) {
        lock(&self.state)
            .faults
            .fail_next
            .extend(std::iter::repeat_n(status, n));
    }

    /// Every request answers `status` (`None` heals).
    pub fn fail_always(&self, status: Option<u16>) {
        lock(&self.state).faults.fail_always = status;
    }

    /// The next `n` connections are dropped unanswered.
    pub fn drop_next(&self, n: usize) {
        lock(&self.state).faults.drop_next += n;
    }

    /// Adds latency to every request.
    pub fn set_latency(&self, latency: Duration) {
        lock(&self.state).faults.latency = latency;
    }

    /// How many requests were `METHOD /path...` (`"POST /v1/auth/approle/login"`);
    /// a prefix counts every request it starts.
    pub fn count(&self, prefix: &str) -> usize {
        lock(&self.state)
            .seen
            .iter()
            .filter(|r| r.starts_with(prefix))
            .count()
    }
}

struct Proxy {
    upstream: String,
    state: Arc<Mutex<State>>,
}

impl Handler for Proxy {
    async fn handle(self: Arc<Self>, req: Request<Incoming>) -> Result<Reply, std::io::Error> {
        let (parts, body) = req.into_parts();
        let body = body
            .collect()
            .await
            .map(|b| b.to_bytes())
            .unwrap_or_default();
        let (latency, failure) = {
            let mut s = lock(&self.state);
            s.seen
                .push(format!("{} {}", parts.method, parts.uri.path()));
            if s.faults.take_drop() {
                return Err(std::io::Error::other("dropped by the fault proxy"));
            }
            (s.faults.latency, s.faults.take_failure())
        };
        if !latency.is_zero() {
            tokio::time::sleep(latency).await;
        }
        if let Some(status) = failure {
            return Ok(reply(
                StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
                json!({"errors": ["injected fault"]}),
            ));
        }
        let (_, answer) = forward(&self.upstream, parts, Bytes::from(body.to_vec())).await?;
        Ok(answer)
    }
}

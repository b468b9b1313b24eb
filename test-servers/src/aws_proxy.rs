//! A fault-injecting proxy for AWS's JSON protocol, put in front of moto's
//! server (which enforces no IAM and injects no faults): it forwards every
//! request unchanged and, when told, answers instead with AWS's own error
//! shape (`x-amzn-ErrorType` and `{"__type", "message"}`): access denied for
//! chosen secrets or for listing, throttling, server errors, expired
//! credentials, added latency.

use crate::http::{Handler, Reply, forward, serve};
use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response, StatusCode};
use serde_json::{Value as Json, json};
use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::net::TcpListener;

#[derive(Default)]
struct State {
    forbidden: HashSet<String>,
    list_forbidden: bool,
    fail_always: Option<(u16, String)>,
    fail_next: Vec<(u16, String)>,
    /// Reading one secret answers an AWS error: (code, message).
    secret_errors: std::collections::HashMap<String, (String, String)>,
    /// Every call answers this status with an HTML page (a proxy's).
    html: Option<u16>,
    latency: Duration,
    counts: std::collections::HashMap<String, usize>,
}

/// The running proxy; dropping it stops it.
pub struct AwsFaultProxy {
    addr: SocketAddr,
    state: Arc<Mutex<State>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for AwsFaultProxy {
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

impl AwsFaultProxy {
    /// Starts on a free loopback port, forwarding to `upstream` (`host:port`).
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
            upstream: upstream.trim_start_matches("http://").to_owned(),
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

    /// Reading `secret_id` answers `AccessDeniedException`.
    pub fn forbid(&self, secret_id: &str) {
        lock(&self.state).forbidden.insert(secret_id.to_owned());
    }

    /// Listing answers `AccessDeniedException`.
    pub fn forbid_list(&self) {
        lock(&self.state).list_forbidden = true;
    }

    /// Every call answers `status` with AWS error `code` (`None` heals).
    pub fn fail_always(&self, fault: Option<(u16, &str)>) {
        lock(&self.state).fail_always = fault.map(|(s, c)| (s, c.to_owned()));
    }

    /// The next `n` calls answer `status` with AWS error `code`, then the
    /// proxy forwards again.
    pub fn fail_next(&self, n: usize, status: u16, code: &str) {
        lock(&self.state)
            .fail_next
            .extend(std::iter::repeat_n((status, code.to_owned()), n));
    }

    /// Reading `secret_id` answers AWS error `code` (status 400) with
    /// `message`: `UnrecognizedClientException`, or `InvalidRequestException`
    /// for a secret scheduled for deletion.
    pub fn fail_secret(&self, secret_id: &str, code: &str, message: &str) {
        lock(&self.state)
            .secret_errors
            .insert(secret_id.to_owned(), (code.to_owned(), message.to_owned()));
    }

    /// Every call answers `status` with an HTML page, as a proxy or a load
    /// balancer in front of the service does (`None` heals).
    pub fn answer_html(&self, status: Option<u16>) {
        lock(&self.state).html = status;
    }

    /// Adds latency to every call.
    pub fn set_latency(&self, latency: Duration) {
        lock(&self.state).latency = latency;
    }

    /// Calls of an operation (`GetSecretValue`, `ListSecrets`, ...).
    pub fn count(&self, operation: &str) -> usize {
        lock(&self.state)
            .counts
            .get(operation)
            .copied()
            .unwrap_or(0)
    }
}

struct Proxy {
    upstream: String,
    state: Arc<Mutex<State>>,
}

fn aws_error(status: u16, code: &str, message: &str) -> Reply {
    let mut r = Response::new(Full::new(Bytes::from(
        json!({"__type": code, "message": message}).to_string(),
    )));
    *r.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST);
    if let Ok(v) = hyper::header::HeaderValue::from_str(code) {
        r.headers_mut().insert("x-amzn-errortype", v);
    }
    r.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("application/x-amz-json-1.1"),
    );
    r
}

impl Handler for Proxy {
    async fn handle(self: Arc<Self>, req: Request<Incoming>) -> Result<Reply, std::io::Error> {
        let (parts, body) = req.into_parts();
        let body = body
            .collect()
            .await
            .map(|b| b.to_bytes())
            .unwrap_or_default();
        let operation = parts
            .headers
            .get("x-amz-target")
            .and_then(|v| v.to_str().ok())
            .and_then(|t| t.rsplit('.').next())
            .unwrap_or("")
            .to_owned();
        let secret_id = serde_json::from_slice::<Json>(&body)
            .ok()
            .and_then(|j| j["SecretId"].as_str().map(str::to_owned));
        let (latency, fault, denied) = {
            let mut s = lock(&self.state);
            *s.counts.entry(operation.clone()).or_default() += 1;
            let denied = match operation.as_str() {
                "GetSecretValue" => secret_id
                    .as_ref()
                    .is_some_and(|id| s.forbidden.contains(id)),
                "ListSecrets" => s.list_forbidden,
                _ => false,
            };
            let mut fault = if s.fail_next.is_empty() {
                s.fail_always.clone()
            } else {
                Some(s.fail_next.remove(0))
            };
            let mut message = "injected fault".to_owned();
            if operation == "GetSecretValue"
                && let Some((code, m)) = secret_id.as_ref().and_then(|id| s.secret_errors.get(id))
            {
                fault = fault.or(Some((400, code.clone())));
                message = m.clone();
            }
            if let Some(status) = s.html {
                drop(s);
                let mut r = Response::new(Full::new(Bytes::from(
                    "<html><body><h1>502 Bad Gateway</h1></body></html>",
                )));
                *r.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_GATEWAY);
                r.headers_mut().insert(
                    hyper::header::CONTENT_TYPE,
                    hyper::header::HeaderValue::from_static("text/html"),
                );
                return Ok(r);
            }
            (s.latency, fault.map(|(st, c)| (st, c, message)), denied)
        };
        if !latency.is_zero() {
            tokio::time::sleep(latency).await;
        }
        if let Some((status, code, message)) = fault {
            return Ok(aws_error(status, &code, &message));
        }
        if denied {
            return Ok(aws_error(
                400,
                "AccessDeniedException",
                &format!(
                    "User: arn:aws:iam::123456789012:user/strata-tests is not authorized to perform: secretsmanager:{operation}"
                ),
            ));
        }
        // moto answers a 500 for the versions of a secret that does not
        // exist; AWS answers ResourceNotFoundException, and so does the
        // proxy (moto's DescribeSecret tells)
        if operation == "ListSecretVersionIds"
            && let Some(id) = &secret_id
        {
            let describe = json!({"SecretId": id}).to_string();
            let mut parts = parts.clone();
            if let Ok(v) = hyper::header::HeaderValue::from_str("secretsmanager.DescribeSecret") {
                parts.headers.insert("x-amz-target", v);
            }
            parts
                .headers
                .insert(hyper::header::CONTENT_LENGTH, describe.len().into());
            let (status, _) = forward(&self.upstream, parts, Bytes::from(describe)).await?;
            if status == StatusCode::NOT_FOUND || status == StatusCode::BAD_REQUEST {
                return Ok(aws_error(
                    400,
                    "ResourceNotFoundException",
                    "Secrets Manager can't find the specified secret.",
                ));
            }
        }
        let (_, reply) = forward(&self.upstream, parts, body).await?;
        Ok(reply)
    }
}

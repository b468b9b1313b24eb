//! The one HTTP policy every client strata drives goes through
//! ([docs/security.md](https://docs.rs/strata-secrets/latest/strata_secrets/guide/security/index.html), "Credentials go only where the user sent them" and
//! "Server replies are bounded"). A vault server is trusted with what it
//! holds and nothing else; its replies are input:
//!
//! - **Redirects**: none is followed to another origin (scheme, host, port),
//!   none from `https` to `http`; a same-origin redirect is followed once.
//!   Anything else is a permanent error naming where it pointed (without its
//!   query), so a token or a pushed document never reaches a host the user
//!   did not choose. [`check_redirect`] is the rule.
//! - **Bodies** are read up to [`MAX_BODY`] (or a smaller cap the client
//!   sets): a declared length over it fails before reading, a body that
//!   grows past it fails as soon as it does. Memory stays bounded whatever
//!   the server sends.
//! - **Time**: a timeout per request (connect included); the engine's deadline
//!   and the command's bound the rest.
//! - **Errors** say whether they are passing (a dropped or refused
//!   connection, a timeout: retried) or permanent (a refused redirect, a
//!   body over the cap, a TLS failure: fail at once).
//!
//! Each vault crate hands this client to its SDK through the SDK's own
//! hook: vaultrs's endpoints through a rustify client, the Azure SDK as its
//! transport, the AWS SDK as its HTTP client, Google's as the transport of
//! its generated stub; token and login requests strata makes itself go
//! through it too. [`find_refusal`] finds the policy's refusal in an SDK's
//! error, so each backend reports it as it is (and permanent).
#![warn(missing_docs)]

use bytes::Bytes;
use std::fmt;
use std::time::Duration;
use strata_secrets_core::{Error, ErrorKind};
use url::Url;

/// The largest reply body strata reads: 16 MiB.
pub const MAX_BODY: usize = 16 * 1024 * 1024;

/// How deep a JSON reply may nest: serde_json refuses more than 128 levels
/// (its recursion limit), which every parse of a reply goes through.
pub const MAX_JSON_DEPTH: usize = 128;

/// Why a request failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PolicyError {
    /// The server redirected where strata does not follow.
    Redirect {
        /// Where the request went.
        from: String,
        /// Where the reply pointed.
        to: String,
        /// Why it is not followed.
        why: &'static str,
    },
    /// The reply body is larger than the cap.
    TooLarge {
        /// The request's URL.
        url: String,
        /// The cap, in bytes.
        cap: usize,
    },
    /// The TLS handshake failed (an untrusted or invalid certificate).
    Tls {
        /// The request's URL.
        url: String,
        /// What went wrong.
        detail: String,
    },
    /// The reply is not HTTP (garbage, a malformed head).
    Malformed {
        /// The request's URL.
        url: String,
        /// What went wrong.
        detail: String,
    },
    /// No answer within the timeout.
    Timeout {
        /// The request's URL.
        url: String,
    },
    /// The connection could not be made or broke off.
    Connection {
        /// The request's URL.
        url: String,
        /// What went wrong.
        detail: String,
    },
    /// The request could not be built (a bad URL or header).
    Request {
        /// What went wrong.
        detail: String,
    },
}

impl PolicyError {
    /// True for failures that may pass (a timeout, a dropped connection):
    /// the engine retries those within its deadline; every other one fails
    /// at once.
    pub fn is_temporary(&self) -> bool {
        matches!(
            self,
            PolicyError::Timeout { .. } | PolicyError::Connection { .. }
        )
    }
}

impl fmt::Display for PolicyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PolicyError::Redirect { from, to, why } => write!(
                f,
                "{from} answered with a redirect to {to}, which strata does not follow ({why}): set the server's address to where it lives"
            ),
            PolicyError::TooLarge { url, cap } => write!(
                f,
                "the reply of {url} is larger than {} MiB; strata reads no more",
                cap / (1024 * 1024)
            ),
            PolicyError::Tls { url, detail } => {
                write!(f, "the TLS connection to {url} failed: {detail}")
            }
            PolicyError::Malformed { url, detail } => {
                write!(f, "the reply of {url} is not HTTP ({detail})")
            }
            PolicyError::Timeout { url } => write!(f, "{url} did not answer in time"),
            PolicyError::Connection { url, detail } => {
                write!(f, "the connection to {url} failed: {detail}")
            }
            PolicyError::Request { detail } => write!(f, "cannot build the request: {detail}"),
        }
    }
}

impl std::error::Error for PolicyError {}

impl PolicyError {
    /// The error strata reports, for `provider`, prefixed by what the call
    /// was doing (`read \`dlt_secrets_toml\``). Permanent unless
    /// [`PolicyError::is_temporary`].
    pub fn into_error(self, provider: &str, doing: &str) -> Error {
        let kind = match &self {
            PolicyError::Redirect { .. } | PolicyError::Tls { .. } => ErrorKind::ConfigInvalid,
            PolicyError::TooLarge { .. } | PolicyError::Malformed { .. } => ErrorKind::Parse,
            PolicyError::Timeout { .. } | PolicyError::Connection { .. } => ErrorKind::Unavailable,
            PolicyError::Request { .. } => ErrorKind::Other,
        };
        let temporary = self.is_temporary();
        let message = if doing.is_empty() {
            self.to_string()
        } else {
            format!("{doing} failed: {self}")
        };
        Error::new(kind, message)
            .set_temporary(temporary)
            .with_provider(provider.to_owned())
    }
}

/// A URL as strata shows it: scheme, host, port and path; never its
/// credentials, query or fragment (they may hold tokens).
pub fn shown_url(url: &Url) -> String {
    let mut u = url.clone();
    let _ = u.set_username("");
    let _ = u.set_password(None);
    u.set_query(None);
    u.set_fragment(None);
    u.to_string()
}

/// The redirect rule: may a request to `from` follow a reply pointing to
/// `to`, after `followed` redirects? Only to the same origin (scheme, host
/// and port), so never from `https` to `http`, and only once.
pub fn check_redirect(from: &Url, to: &Url, followed: usize) -> Result<(), PolicyError> {
    let refuse = |why| {
        Err(PolicyError::Redirect {
            from: shown_url(from),
            to: shown_url(to),
            why,
        })
    };
    if from.scheme() == "https" && to.scheme() != "https" {
        return refuse("it leaves https");
    }
    if from.origin() != to.origin() {
        return refuse("it leads to another host");
    }
    if followed >= 1 {
        return refuse("one redirect is followed at most");
    }
    Ok(())
}

/// A request's body, for [`PolicyClient::send`].
pub type Request = http::Request<Vec<u8>>;

/// How to build a [`PolicyClient`].
#[derive(Debug, Clone)]
pub struct PolicyClientBuilder {
    timeout: Duration,
    max_body: usize,
    roots: Vec<Vec<u8>>,
}

impl PolicyClientBuilder {
    /// The timeout of one request, connection included (default 30 s).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// A smaller body cap than [`MAX_BODY`] (a vault's own limit).
    pub fn max_body(mut self, max_body: usize) -> Self {
        self.max_body = max_body.min(MAX_BODY);
        self
    }

    /// Also trusts the CA certificates of this PEM text.
    pub fn root_certificates_pem(mut self, pem: &[u8]) -> Self {
        self.roots.push(pem.to_vec());
        self
    }

    /// The client. A PEM text that holds no certificate is an error.
    pub fn build(self) -> Result<PolicyClient, PolicyError> {
        let mut builder = reqwest::Client::builder()
            .timeout(self.timeout)
            .connect_timeout(self.timeout)
            .redirect(reqwest::redirect::Policy::custom(|attempt| {
                let Some(from) = attempt.previous().last() else {
                    return attempt.stop();
                };
                let followed = attempt.previous().len().saturating_sub(1);
                match check_redirect(from, attempt.url(), followed) {
                    Ok(()) => attempt.follow(),
                    Err(e) => attempt.error(e),
                }
            }));
        for pem in &self.roots {
            let certs =
                reqwest::Certificate::from_pem_bundle(pem).map_err(|e| PolicyError::Request {
                    detail: format!("no usable CA certificate: {e}"),
                })?;
            if certs.is_empty() {
                return Err(PolicyError::Request {
                    detail: "the CA file holds no certificate".to_owned(),
                });
            }
            for c in certs {
                builder = builder.add_root_certificate(c);
            }
        }
        let inner = builder.build().map_err(|e| PolicyError::Request {
            detail: e.to_string(),
        })?;
        Ok(PolicyClient {
            inner,
            max_body: self.max_body,
        })
    }
}

/// The HTTP client of the policy: every request strata makes to a vault or
/// a token endpoint goes through [`PolicyClient::send`].
#[derive(Debug, Clone)]
pub struct PolicyClient {
    inner: reqwest::Client,
    max_body: usize,
}

impl PolicyClient {
    /// A builder with the defaults: 30 s per request, [`MAX_BODY`].
    pub fn builder() -> PolicyClientBuilder {
        PolicyClientBuilder {
            timeout: Duration::from_secs(30),
            max_body: MAX_BODY,
            roots: Vec::new(),
        }
    }

    /// The body cap, in bytes.
    pub fn max_body(&self) -> usize {
        self.max_body
    }

    /// Sends `request` and reads the whole reply under the policy.
    pub async fn send(&self, request: Request) -> Result<http::Response<Bytes>, PolicyError> {
        let (parts, body) = request.into_parts();
        let url = Url::parse(&parts.uri.to_string()).map_err(|e| PolicyError::Request {
            detail: format!("bad URL: {e}"),
        })?;
        let shown = shown_url(&url);
        let mut req = reqwest::Request::new(parts.method, url);
        *req.headers_mut() = parts.headers;
        *req.body_mut() = Some(reqwest::Body::from(body));
        let mut response = self
            .inner
            .execute(req)
            .await
            .map_err(|e| classify(&shown, &e))?;
        let status = response.status();
        let headers = std::mem::take(response.headers_mut());
        let body = self.read_body(&shown, &mut response).await?;
        let mut out = http::Response::new(body);
        *out.status_mut() = status;
        *out.headers_mut() = headers;
        Ok(out)
    }

    async fn read_body(
        &self,
        shown: &str,
        response: &mut reqwest::Response,
    ) -> Result<Bytes, PolicyError> {
        let too_large = || PolicyError::TooLarge {
            url: shown.to_owned(),
            cap: self.max_body,
        };
        let declared = response.content_length().unwrap_or(0);
        if declared > self.max_body as u64 {
            return Err(too_large());
        }
        let mut body: Vec<u8> = Vec::with_capacity(declared as usize);
        while let Some(chunk) = response.chunk().await.map_err(|e| classify(shown, &e))? {
            if body.len() + chunk.len() > self.max_body {
                return Err(too_large());
            }
            body.extend_from_slice(&chunk);
        }
        Ok(Bytes::from(body))
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
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
        {
            Some(inner) => Some(inner as &(dyn std::error::Error + 'static)),
            None => current.source(),
        };
        Some(current)
    })
}

/// The policy's refusal in an error chain (a hyper or SDK error that came
/// through the policy client), if there is one.
pub fn find_refusal<'a>(e: &'a (dyn std::error::Error + 'static)) -> Option<&'a PolicyError> {
    chain(e).find_map(|s| s.downcast_ref::<PolicyError>())
}

/// A reqwest error in the policy's terms: the policy's own refusal as it
/// was raised, a TLS failure permanent, timeouts and connections passing.
fn classify(url: &str, e: &reqwest::Error) -> PolicyError {
    if let Some(p) = find_refusal(e) {
        return p.clone();
    }
    if chain(e).any(|s| s.downcast_ref::<rustls::Error>().is_some()) {
        let detail = chain(e)
            .find(|s| s.downcast_ref::<rustls::Error>().is_some())
            .map(|s| s.to_string())
            .unwrap_or_default();
        return PolicyError::Tls {
            url: url.to_owned(),
            detail,
        };
    }
    if let Some(h) = chain(e).find_map(|s| s.downcast_ref::<hyper::Error>())
        && (h.is_parse() || h.is_parse_status())
    {
        return PolicyError::Malformed {
            url: url.to_owned(),
            detail: h.to_string(),
        };
    }
    if e.is_redirect() {
        return PolicyError::Redirect {
            from: url.to_owned(),
            to: "?".to_owned(),
            why: "too many redirects",
        };
    }
    if e.is_timeout() {
        return PolicyError::Timeout {
            url: url.to_owned(),
        };
    }
    if e.is_builder() {
        return PolicyError::Request {
            detail: e.to_string(),
        };
    }
    // the innermost cause says most (refused, reset, closed)
    let mut detail = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        detail = s.to_string();
        source = s.source();
    }
    PolicyError::Connection {
        url: url.to_owned(),
        detail,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn u(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    #[test]
    fn redirects_stay_on_the_origin_and_are_followed_once() {
        let from = u("https://vault.example:8200/v1/secret/data/x?token=t");
        assert!(check_redirect(&from, &u("https://vault.example:8200/v1/other"), 0).is_ok());
        for (to, why) in [
            ("https://evil.example:8200/v1/x", "another host"),
            ("https://vault.example:8201/v1/x", "another host"),
            ("http://vault.example:8200/v1/x", "leaves https"),
            ("https://vault.example.evil:8200/", "another host"),
            ("https://sub.vault.example:8200/", "another host"),
        ] {
            let e = check_redirect(&from, &u(to), 0).unwrap_err();
            assert!(e.to_string().contains(why), "{to}: {e}");
            assert!(!e.is_temporary());
            // no query shown
            assert!(!e.to_string().contains("token=t"), "{e}");
        }
        assert!(check_redirect(&from, &u("https://vault.example:8200/a"), 1).is_err());
        // http to http on the same origin is fine, to https elsewhere is not
        let plain = u("http://127.0.0.1:8200/v1/x");
        assert!(check_redirect(&plain, &u("http://127.0.0.1:8200/v1/y"), 0).is_ok());
        assert!(check_redirect(&plain, &u("https://127.0.0.1:8200/v1/y"), 0).is_err());
    }

    #[test]
    fn shown_urls_carry_no_credentials_or_query() {
        let s = shown_url(&u("https://user:pw@h.example/p?sig=abc#frag"));
        assert_eq!(s, "https://h.example/p");
    }
}

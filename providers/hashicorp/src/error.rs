//! `vaultrs` errors in the user's terms. No error holds a reply's body
//! (a malformed reply may hold a secret), only statuses and the server's
//! own error strings.

use crate::SECTION;
use std::time::Duration;
use strata_secrets_core::{Error, ErrorKind};

/// What a call was doing, for its errors.
pub(crate) struct Call<'a> {
    /// `read`, `list`, `write`, ...
    pub(crate) op: &'a str,
    /// The secret's name (or the mount).
    pub(crate) name: &'a str,
    /// The policy capability the call needs.
    pub(crate) capability: &'a str,
    /// The API path a policy must grant it on.
    pub(crate) policy_path: String,
}

impl<'a> Call<'a> {
    pub(crate) fn new(
        op: &'a str,
        name: &'a str,
        capability: &'a str,
        policy_path: String,
    ) -> Self {
        Self {
            op,
            name,
            capability,
            policy_path,
        }
    }

    /// A login at `endpoint`.
    pub(crate) fn login(endpoint: &'a str) -> Self {
        Self::new("log in at", endpoint, "update", endpoint.to_owned())
    }
}

/// A failed client call, classified.
#[derive(Debug)]
pub(crate) enum Failure {
    /// The server answered with an error status (and its error strings).
    Status { code: u16, errors: Vec<String> },
    /// The request did not get an answer (refused, reset, timed out in the
    /// client).
    Transport { timed_out: bool, cause: String },
    /// No answer within the timeout.
    TimedOut(Duration),
    /// The answer was not what the API documents.
    BadReply,
    /// The HTTP policy refused the reply (a redirect elsewhere, a body over
    /// the cap, a TLS failure) or the connection failed.
    Policy(strata_secrets_http::PolicyError),
    /// Anything else (the client's own, static, messages).
    Other(String),
}

/// The innermost cause of an error chain (`connection refused`).
fn innermost(e: &(dyn std::error::Error + 'static)) -> String {
    let mut cur = e;
    while let Some(next) = cur.source() {
        cur = next;
    }
    cur.to_string()
}

/// Classifies a `vaultrs` error.
pub(crate) fn classify(e: vaultrs::error::ClientError) -> Failure {
    use rustify::errors::ClientError as Rest;
    use vaultrs::error::ClientError as C;
    match e {
        C::APIError { code, errors } => Failure::Status { code, errors },
        C::RestClientError { source } => match source {
            Rest::ServerResponseError { code, .. } => Failure::Status {
                code,
                errors: Vec::new(),
            },
            Rest::RequestError { source, .. } | Rest::ResponseError { source }
                if source
                    .downcast_ref::<strata_secrets_http::PolicyError>()
                    .is_some() =>
            {
                match source.downcast::<strata_secrets_http::PolicyError>() {
                    Ok(p) => Failure::Policy(p),
                    Err(other) => Failure::Other(other.to_string()),
                }
            }
            Rest::RequestError { source, .. } | Rest::ResponseError { source } => {
                let timed_out = source
                    .downcast_ref::<reqwest::Error>()
                    .is_some_and(reqwest::Error::is_timeout);
                Failure::Transport {
                    timed_out,
                    cause: innermost(source.as_ref()),
                }
            }
            Rest::ResponseParseError { .. } | Rest::ResponseConversionError { .. } => {
                Failure::BadReply
            }
            other => Failure::Other(other.to_string()),
        },
        C::JsonParseError { .. } | C::ResponseEmptyError | C::ResponseDataEmptyError => {
            Failure::BadReply
        }
        other => Failure::Other(other.to_string()),
    }
}

impl Failure {
    /// The error a failed `call` is, at `location`.
    pub(crate) fn into_error(self, call: &Call<'_>, location: &str) -> Error {
        let Call { op, name, .. } = call;
        let (kind, temporary, message) = match self {
            Failure::Status { code, errors } => status_error(call, location, code, &errors),
            Failure::Transport { timed_out, cause } => (
                ErrorKind::Unavailable,
                true,
                if timed_out {
                    format!("{op} `{name}` failed: {location} did not answer in time")
                } else {
                    format!("{op} `{name}` failed: cannot reach {location}: {cause}")
                },
            ),
            Failure::TimedOut(t) => (
                ErrorKind::Unavailable,
                true,
                format!(
                    "{op} `{name}` failed: {location} did not answer within {}s (providers.{SECTION}.timeout)",
                    t.as_secs_f64()
                ),
            ),
            Failure::BadReply => (
                ErrorKind::Parse,
                false,
                format!(
                    "{op} `{name}` failed: the reply of {location} is not what Vault's API documents (is the URL a Vault or OpenBao server?)"
                ),
            ),
            Failure::Policy(p) => {
                return p.into_error(SECTION, &format!("{op} `{name}`"));
            }
            Failure::Other(what) => (
                ErrorKind::Other,
                false,
                format!("{op} `{name}` failed: {what}"),
            ),
        };
        Error::new(kind, message)
            .set_temporary(temporary)
            .with_provider(SECTION)
    }
}

/// The kind, whether to retry, and the message of an error status `code`
/// of a failed `call` (with the server's own `errors`, one line).
fn status_error(
    call: &Call<'_>,
    location: &str,
    code: u16,
    errors: &[String],
) -> (ErrorKind, bool, String) {
    let Call { op, name, .. } = call;
    let said = if errors.is_empty() {
        String::new()
    } else {
        format!(" ({})", errors.join("; ").replace('\n', " "))
    };
    match code {
        401 => (
            ErrorKind::Unauthenticated,
            false,
            format!("{op} `{name}` failed: the server refused the credentials{said}"),
        ),
        403 => (
            ErrorKind::PermissionDenied,
            false,
            format!(
                "{op} `{name}` failed: permission denied: the token's policies do not grant \"{}\" on `{}`",
                call.capability, call.policy_path
            ),
        ),
        429 => (
            ErrorKind::RateLimited,
            true,
            format!("{op} `{name}` failed: throttled by {location} (429){said}"),
        ),
        503 => (
            ErrorKind::Unavailable,
            true,
            format!("{op} `{name}` failed: {location} is sealed or unavailable (503){said}"),
        ),
        412 | 473 | 500..=599 => (
            ErrorKind::Unavailable,
            true,
            format!("{op} `{name}` failed: {location} answered {code}{said}"),
        ),
        404 => (
            ErrorKind::ConfigInvalid,
            false,
            format!(
                "{op} `{name}` failed: no such path on {location} (404){said}; is the mount a KV version 2 secrets engine?"
            ),
        ),
        _ => (
            ErrorKind::Other,
            false,
            format!("{op} `{name}` failed: {location} answered {code}{said}"),
        ),
    }
}

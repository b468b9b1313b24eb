//! Google client errors mapped onto strata's error kinds.

use google_cloud_gax::error::Error as GaxError;
use google_cloud_gax::error::rpc::Code;
use strata_secrets_core::{Error, ErrorKind};

/// The permission a reader needs, named in access-denied warnings.
pub const ACCESSOR_ROLE: &str =
    "roles/secretmanager.secretAccessor (permission secretmanager.versions.access)";

/// True when the error means "no such secret or version".
pub(crate) fn is_not_found(e: &GaxError) -> bool {
    e.status().is_some_and(|s| s.code == Code::NotFound) || e.http_status_code() == Some(404)
}

fn kind_of_http(code: u16) -> ErrorKind {
    match code {
        401 => ErrorKind::Unauthenticated,
        403 => ErrorKind::PermissionDenied,
        404 => ErrorKind::Other,
        429 => ErrorKind::RateLimited,
        400 => ErrorKind::InvalidName,
        500..=599 => ErrorKind::Unavailable,
        _ => ErrorKind::Other,
    }
}

/// Maps a client error for operation `op` on `what` (a secret name or the
/// project). Messages carry Google's status message (which names resources,
/// never payloads), not the request.
pub(crate) fn map(e: GaxError, op: &str, what: &str, adc: bool) -> Error {
    // the HTTP policy's refusal (a redirect elsewhere, a reply over the
    // cap, a TLS failure) says what it is, and is permanent
    if let Some(p) = strata_secrets_http::find_refusal(&e)
        && !p.is_temporary()
    {
        return p
            .clone()
            .into_error(crate::SECTION, &format!("{op} `{what}`"));
    }
    if adc && e.is_authentication() {
        return Error::new(
            ErrorKind::Unauthenticated,
            format!(
                "{op} `{what}` failed: no Google credentials: none are set and no application default credentials answered; set providers.google_secrets.credentials (PROVIDERS__GOOGLE_SECRETS__CREDENTIALS as the whole service-account JSON key, or its project_id, client_email and private_key fields), or GOOGLE_APPLICATION_CREDENTIALS to a key file"
            ),
        );
    }
    let (kind, detail) = if let Some(status) = e.status() {
        let kind = match status.code {
            Code::PermissionDenied => ErrorKind::PermissionDenied,
            Code::Unauthenticated => ErrorKind::Unauthenticated,
            Code::ResourceExhausted => ErrorKind::RateLimited,
            Code::Unavailable | Code::Internal | Code::DeadlineExceeded | Code::Unknown => {
                ErrorKind::Unavailable
            }
            Code::InvalidArgument => ErrorKind::InvalidName,
            _ => ErrorKind::Other,
        };
        (kind, format!("{:?}: {}", status.code, status.message))
    } else if e.is_authentication() {
        let transient = std::error::Error::source(&e)
            .and_then(|s| s.downcast_ref::<google_cloud_gax::error::CredentialsError>())
            .is_some_and(|c| c.is_transient());
        let kind = if transient {
            ErrorKind::Unavailable
        } else {
            ErrorKind::Unauthenticated
        };
        (kind, format!("cannot get an access token: {e}"))
    } else if e.is_timeout() {
        (ErrorKind::Unavailable, "timed out".to_owned())
    } else if let Some(code) = e.http_status_code() {
        (kind_of_http(code), format!("HTTP {code}"))
    } else if e.is_connect() || e.is_io() || e.is_transport() {
        (
            ErrorKind::Unavailable,
            format!("cannot reach Secret Manager: {e}"),
        )
    } else {
        (ErrorKind::Other, e.to_string())
    };
    let hint = match kind {
        ErrorKind::PermissionDenied => format!("; grant {ACCESSOR_ROLE}"),
        ErrorKind::Unauthenticated => {
            "; check providers.google_secrets.credentials (client_email, private_key, token_uri)"
                .to_owned()
        }
        _ => String::new(),
    };
    let temporary = matches!(kind, ErrorKind::Unavailable | ErrorKind::RateLimited);
    Error::new(kind, format!("{op} `{what}` failed: {detail}{hint}")).set_temporary(temporary)
}

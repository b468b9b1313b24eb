//! Azure SDK errors mapped onto strata's error kinds.

use azure_core::http::StatusCode;
use strata_secrets_core::{Error, ErrorKind};

/// The role a reader needs, named in access-denied warnings.
pub const READER_ROLE: &str =
    "the Key Vault Secrets User role (or an access policy with the secrets `get` permission)";

/// True for 404 (no such secret).
pub(crate) fn is_not_found(e: &azure_core::Error) -> bool {
    e.http_status() == Some(StatusCode::NotFound)
}

/// Maps an SDK error of operation `op` on `what`.
pub(crate) fn map(e: azure_core::Error, op: &str, what: &str) -> Error {
    // the HTTP policy's refusal (a redirect elsewhere, a reply over the
    // cap, a TLS failure) says what it is, and is permanent
    if let Some(p) = strata_secrets_http::find_refusal(&e)
        && !p.is_temporary()
    {
        return p
            .clone()
            .into_error(crate::SECTION, &format!("{op} `{what}`"));
    }
    let status = e.http_status().map(u16::from);
    let kind = match status {
        Some(401) => ErrorKind::Unauthenticated,
        Some(403) => ErrorKind::PermissionDenied,
        Some(429) => ErrorKind::RateLimited,
        Some(400) => ErrorKind::InvalidName,
        Some(s) if s >= 500 => ErrorKind::Unavailable,
        Some(_) => ErrorKind::Other,
        None => match e.kind() {
            azure_core::error::ErrorKind::Credential => ErrorKind::Unauthenticated,
            azure_core::error::ErrorKind::Io => ErrorKind::Unavailable,
            _ => ErrorKind::Other,
        },
    };
    let hint = match kind {
        ErrorKind::PermissionDenied if op == "list" => {
            "; listing needs the secrets `list` permission, or set list_secrets = false".to_owned()
        }
        ErrorKind::PermissionDenied => format!("; grant {READER_ROLE}"),
        ErrorKind::Unauthenticated => {
            "; check providers.azure_key_vault.credentials (azure_tenant_id, azure_client_id, azure_client_secret)".to_owned()
        }
        _ => String::new(),
    };
    let temporary = matches!(kind, ErrorKind::Unavailable | ErrorKind::RateLimited);
    Error::new(kind, format!("{op} `{what}` failed: {e}{hint}")).set_temporary(temporary)
}

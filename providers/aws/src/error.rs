//! AWS SDK errors in the user's terms: what failed, where (the endpoint and
//! region), and what to set. As dlt's AWS provider treats them: missing is
//! nothing; access denied, an unrecognized access key, a secret scheduled
//! for deletion and a KMS decryption failure are nothing plus a warning
//! (saying what is really wrong); every other failure is an error. No
//! message holds the SDK's `Debug` dump, a request or a response body.

use aws_sdk_secretsmanager::config::http::HttpResponse;
use aws_sdk_secretsmanager::error::{ProvideErrorMetadata, SdkError};
use strata_secrets_core::vault::Fetched;
use strata_secrets_core::{Error, ErrorKind};

/// The permissions a reader needs, named in warnings.
pub const READ_PERMISSION: &str =
    "secretsmanager:GetSecretValue (and kms:Decrypt on the secret's KMS key)";

/// Where a call went, for messages.
pub(crate) struct Place<'a> {
    /// The endpoint (`https://secretsmanager.<region>.amazonaws.com`, or the
    /// configured one).
    pub(crate) endpoint: &'a str,
    /// The region.
    pub(crate) region: &'a str,
}

/// What to check when the service cannot be reached.
fn reach_hint(place: &Place<'_>) -> String {
    format!(
        "check the region `{}` (providers.aws_secrets.credentials.region_name, AWS_REGION or AWS_DEFAULT_REGION) and the endpoint (providers.aws_secrets.credentials.endpoint_url)",
        place.region
    )
}

/// An error and its causes as one line of text, each once.
fn causes(e: &dyn std::error::Error) -> String {
    let mut parts: Vec<String> = vec![e.to_string()];
    let mut source = e.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        source = s.source();
    }
    parts.retain(|p| !p.is_empty());
    parts.join(": ")
}

/// A read that the service answered with an error: nothing, nothing with a
/// warning, or an error.
pub(crate) fn read_outcome<E>(
    e: SdkError<E, HttpResponse>,
    name: &str,
    place: &Place<'_>,
) -> Result<Fetched, Error>
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    let code = e.code().unwrap_or("").to_owned();
    let message = e.message().unwrap_or("").to_lowercase();
    match code.as_str() {
        "ResourceNotFoundException" => Ok(Fetched::NotFound),
        "UnrecognizedClientException" => Ok(Fetched::Withheld(format!(
            "the access key id is not recognized by {} (UnrecognizedClientException): the credentials are wrong, not a permission; check providers.aws_secrets.credentials.aws_access_key_id or the SDK's credentials",
            place.endpoint
        ))),
        "InvalidRequestException" if message.contains("deletion") || message.contains("deleted") => {
            Ok(Fetched::Withheld(
                "the secret is scheduled for deletion: restore it (`aws secretsmanager restore-secret`) or store it again".to_owned(),
            ))
        }
        "DecryptionFailure" => Ok(Fetched::Withheld(
            "its KMS key cannot decrypt it (DecryptionFailure): grant kms:Decrypt on the key that encrypts the secret".to_owned(),
        )),
        _ => Err(map(e, "read", name, place)),
    }
}

/// Maps an SDK error of operation `op` on `what`.
pub(crate) fn map<E>(e: SdkError<E, HttpResponse>, op: &str, what: &str, place: &Place<'_>) -> Error
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    // the HTTP policy's refusal (a redirect elsewhere, a reply over the
    // cap, a TLS failure) says what it is, and is permanent
    if let Some(p) = strata_secrets_http::find_refusal(&e)
        && !p.is_temporary()
    {
        return p
            .clone()
            .into_error(crate::SECTION, &format!("{op} `{what}`"));
    }
    let code = e.code().unwrap_or("").to_owned();
    let (kind, detail) = match classify(&e, &code, place) {
        Ok(k) => k,
        Err(NoCredentials) => {
            return Error::new(
                ErrorKind::Unauthenticated,
                format!(
                    "{op} `{what}` failed: no AWS credentials were found; set providers.aws_secrets.credentials.aws_access_key_id and aws_secret_access_key (PROVIDERS__AWS_SECRETS__CREDENTIALS__AWS_ACCESS_KEY_ID, ...), a profile_name, or the SDK's own (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, ~/.aws/credentials)"
                ),
            );
        }
    };
    let hint = match (kind, code.as_str()) {
        (ErrorKind::PermissionDenied, _) if op == "list" => {
            "; listing needs secretsmanager:ListSecrets, or set list_secrets = false".to_owned()
        }
        (ErrorKind::PermissionDenied, "AccessDeniedException") => {
            format!("; grant {READ_PERMISSION}")
        }
        (ErrorKind::Unauthenticated, _) => {
            "; check providers.aws_secrets.credentials (aws_access_key_id, aws_secret_access_key, aws_session_token)".to_owned()
        }
        _ => String::new(),
    };
    let temporary = matches!(kind, ErrorKind::Unavailable | ErrorKind::RateLimited);
    Error::new(kind, format!("{op} `{what}` failed: {detail}{hint}")).set_temporary(temporary)
}

/// An SDK error that says no credentials were found (before any request).
struct NoCredentials;

/// What kind of failure an SDK error is, and what to say of it.
fn classify<E>(
    e: &SdkError<E, HttpResponse>,
    code: &str,
    place: &Place<'_>,
) -> Result<(ErrorKind, String), NoCredentials>
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    let endpoint = place.endpoint;
    Ok(match e {
        SdkError::ServiceError(_) if !code.is_empty() => {
            let message = e.message().unwrap_or("");
            let detail = if message.is_empty() {
                code.to_owned()
            } else {
                format!("{code}: {message}")
            };
            (service_error_kind(code), detail)
        }
        // an error answer without AWS's error shape (a proxy's HTML page)
        SdkError::ServiceError(_) | SdkError::ResponseError(_) => {
            let status = e.raw_response().map(|r| r.status().as_u16());
            let kind = match status {
                Some(429) => ErrorKind::RateLimited,
                Some(s) if s >= 500 => ErrorKind::Unavailable,
                Some(401 | 403) => ErrorKind::Unauthenticated,
                _ => ErrorKind::Unavailable,
            };
            let status = status.map(|s| format!("HTTP {s}")).unwrap_or_default();
            (
                kind,
                format!(
                    "{endpoint} answered with something that is not a Secrets Manager reply ({status}); {}",
                    reach_hint(place)
                ),
            )
        }
        SdkError::TimeoutError(_) => (
            ErrorKind::Unavailable,
            format!(
                "no answer from {endpoint} in time (the `timeout` setting); {}",
                reach_hint(place)
            ),
        ),
        SdkError::DispatchFailure(d) => {
            let cause = d
                .as_connector_error()
                .map(|c| causes(c))
                .unwrap_or_default();
            let what = if d.is_timeout() {
                "no answer in time"
            } else {
                "cannot connect"
            };
            (
                ErrorKind::Unavailable,
                format!("{what} to {endpoint}: {cause}; {}", reach_hint(place)),
            )
        }
        SdkError::ConstructionFailure(_) => {
            let cause = causes(e);
            if cause.to_lowercase().contains("credential") {
                return Err(NoCredentials);
            }
            (
                ErrorKind::ConfigInvalid,
                format!("the request could not be built: {cause}"),
            )
        }
        _ => (ErrorKind::Other, causes(e)),
    })
}

/// The kind of an error answer in AWS's error shape, by its code.
fn service_error_kind(code: &str) -> ErrorKind {
    match code {
        "AccessDeniedException" | "UnrecognizedClientException" | "DecryptionFailure" => {
            ErrorKind::PermissionDenied
        }
        "ThrottlingException" | "TooManyRequestsException" | "LimitExceededException" => {
            ErrorKind::RateLimited
        }
        "InternalServiceError" | "InternalFailure" | "ServiceUnavailable" => ErrorKind::Unavailable,
        "InvalidClientTokenId"
        | "SignatureDoesNotMatch"
        | "ExpiredTokenException"
        | "MissingAuthenticationToken" => ErrorKind::Unauthenticated,
        "InvalidParameterException" | "ValidationException" => ErrorKind::InvalidName,
        _ => ErrorKind::Other,
    }
}

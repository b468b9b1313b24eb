//! AWS SDK errors mapped onto strata's error kinds, as dlt's AWS provider
//! treats them: missing is nothing; access denied, an unrecognized client,
//! a secret scheduled for deletion and KMS decryption failures are nothing
//! plus a warning naming the permission; everything else is an error.

use aws_sdk_secretsmanager::error::{ProvideErrorMetadata, SdkError};
use strata_core::{Error, ErrorKind};

/// The permissions a reader needs, named in warnings.
pub const READ_PERMISSION: &str =
    "secretsmanager:GetSecretValue (and kms:Decrypt on the secret's KMS key)";

/// True for `ResourceNotFoundException`.
pub(crate) fn is_not_found<E: ProvideErrorMetadata, R>(e: &SdkError<E, R>) -> bool {
    e.code() == Some("ResourceNotFoundException")
}

/// Maps an SDK error of operation `op` on `what`.
pub(crate) fn map<E, R>(e: SdkError<E, R>, op: &str, what: &str) -> Error
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug,
{
    let code = e.code().unwrap_or("").to_owned();
    let message = e.message().unwrap_or("").to_owned();
    let (kind, detail) = match &e {
        SdkError::ServiceError(_) => {
            let kind = match code.as_str() {
                "AccessDeniedException" | "UnrecognizedClientException" => {
                    ErrorKind::PermissionDenied
                }
                "DecryptionFailure" => ErrorKind::PermissionDenied,
                "InvalidRequestException" if op == "read" => ErrorKind::PermissionDenied,
                "ThrottlingException" | "TooManyRequestsException" | "LimitExceededException" => {
                    ErrorKind::RateLimited
                }
                "InternalServiceError" | "InternalFailure" | "ServiceUnavailable" => {
                    ErrorKind::Unavailable
                }
                "InvalidClientTokenId" | "SignatureDoesNotMatch" | "ExpiredTokenException" => {
                    ErrorKind::Unauthenticated
                }
                "InvalidParameterException" | "ValidationException" => ErrorKind::InvalidName,
                _ => ErrorKind::Other,
            };
            (kind, format!("{code}: {message}"))
        }
        SdkError::TimeoutError(_) => (ErrorKind::Unavailable, "timed out".to_owned()),
        SdkError::DispatchFailure(d) => (
            ErrorKind::Unavailable,
            format!("cannot reach AWS Secrets Manager: {d:?}"),
        ),
        SdkError::ResponseError(_) => (ErrorKind::Unavailable, "an unreadable response".to_owned()),
        SdkError::ConstructionFailure(_) => (
            ErrorKind::ConfigInvalid,
            format!("cannot build the request: {e}"),
        ),
        _ => (ErrorKind::Other, e.to_string()),
    };
    let hint = match (kind, code.as_str()) {
        (ErrorKind::PermissionDenied, "DecryptionFailure") => {
            "; kms:Decrypt on the KMS key that encrypts the secret is required".to_owned()
        }
        (ErrorKind::PermissionDenied, "InvalidRequestException") => {
            "; the secret may be scheduled for deletion".to_owned()
        }
        (ErrorKind::PermissionDenied, _) if op == "list" => {
            "; listing needs secretsmanager:ListSecrets, or set list_secrets = false".to_owned()
        }
        (ErrorKind::PermissionDenied, _) => format!("; grant {READ_PERMISSION}"),
        _ => String::new(),
    };
    let temporary = matches!(kind, ErrorKind::Unavailable | ErrorKind::RateLimited);
    Error::new(kind, format!("{op} `{what}` failed: {detail}{hint}")).set_temporary(temporary)
}

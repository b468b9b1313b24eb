//! A service account's access tokens: the JWT-bearer grant at the key's
//! `token_uri` (RFC 7523, as dlt's Google provider does it), through
//! strata's HTTP policy. Written here rather than taken from yup-oauth2,
//! which strata used before: its client takes only a connector (no body
//! cap, no redirect rule without rewriting the connection), and it panics
//! on an `expires_in` out of range, which a hostile token endpoint can send
//! ([docs/security.md](https://docs.rs/strata-secrets/latest/strata_secrets/guide/security/index.html), "Server replies are bounded"). The official auth
//! crate signs self-signed JWTs instead and refuses keys without
//! `private_key_id`, which dlt's bootstrap omits. The RS256 signature is
//! rustls's (aws-lc-rs), the key a PKCS#8 PEM.

use crate::config::ServiceAccount;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use google_cloud_auth::credentials::{CacheableResource, CredentialsProvider, EntityTag};
use google_cloud_auth::errors::CredentialsError;
use rustls::pki_types::PrivateKeyDer;
use rustls::pki_types::pem::PemObject;
use secrecy::{ExposeSecret, SecretString};
use serde_json::json;
use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use strata_secrets_core::{Error, ErrorKind};
use strata_secrets_http::PolicyClient;

/// The OAuth scope requested for Secret Manager.
const SCOPE: &str = "https://www.googleapis.com/auth/cloud-platform";

/// The grant type of RFC 7523.
const GRANT_TYPE: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";

/// How long an assertion is valid (Google allows at most an hour).
const ASSERTION_LIFETIME: u64 = 3600;

/// A token is renewed this long before it expires.
const RENEW_BEFORE: Duration = Duration::from_secs(60);

/// The longest lifetime a token reply may claim (range-checked: a reply's
/// `expires_in` never overflows a time).
const MAX_TOKEN_LIFETIME: u64 = 24 * 3600;

/// A service account's tokens, cached until shortly before they expire,
/// one exchange at a time.
pub(crate) struct ServiceAccountTokens {
    http: PolicyClient,
    signer: Box<dyn rustls::sign::Signer>,
    client_email: String,
    private_key_id: Option<String>,
    token_uri: String,
    cache: tokio::sync::Mutex<Option<(SecretString, Instant)>>,
}

impl fmt::Debug for ServiceAccountTokens {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServiceAccountTokens")
            .field("client_email", &self.client_email)
            .field("token_uri", &self.token_uri)
            .finish_non_exhaustive()
    }
}

fn unusable_key(why: &str) -> Error {
    Error::new(
        ErrorKind::ConfigInvalid,
        format!(
            "cannot use providers.google_secrets.credentials: the private_key {why} (it must be the PKCS#8 PEM RSA key of the service account's JSON key)"
        ),
    )
    .with_provider(crate::SECTION)
}

impl ServiceAccountTokens {
    /// Reads the account's key (an error names what is wrong, never the
    /// key); no request is made until the first token is needed.
    pub(crate) fn new(sa: &ServiceAccount, http: PolicyClient) -> Result<Self, Error> {
        let der = PrivateKeyDer::from_pem_slice(sa.private_key.expose_secret().as_bytes())
            .map_err(|_| unusable_key("is not a PEM private key"))?;
        let provider = rustls::crypto::aws_lc_rs::default_provider();
        let key: Arc<dyn rustls::sign::SigningKey> = provider
            .key_provider
            .load_private_key(der)
            .map_err(|_| unusable_key("cannot be loaded"))?;
        let signer = key
            .choose_scheme(&[rustls::SignatureScheme::RSA_PKCS1_SHA256])
            .ok_or_else(|| unusable_key("is not an RSA key"))?;
        Ok(Self {
            http,
            signer,
            client_email: sa.client_email.clone(),
            private_key_id: sa.private_key_id.clone(),
            token_uri: sa.token_uri.clone(),
            cache: tokio::sync::Mutex::new(None),
        })
    }

    /// The signed assertion: `header.claims.signature`, base64url.
    fn assertion(&self) -> Result<String, CredentialsError> {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        let mut header = json!({"alg": "RS256", "typ": "JWT"});
        if let Some(kid) = &self.private_key_id {
            header["kid"] = json!(kid);
        }
        let claims = json!({
            "iss": self.client_email,
            "scope": SCOPE,
            "aud": self.token_uri,
            "iat": now,
            "exp": now + ASSERTION_LIFETIME,
        });
        let signing_input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let signature = self
            .signer
            .sign(signing_input.as_bytes())
            .map_err(|_| CredentialsError::from_msg(false, "cannot sign the token request"))?;
        Ok(format!(
            "{signing_input}.{}",
            URL_SAFE_NO_PAD.encode(signature)
        ))
    }

    /// Exchanges a fresh assertion for a token at `token_uri`.
    async fn exchange(&self) -> Result<(SecretString, Instant), CredentialsError> {
        let body = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("grant_type", GRANT_TYPE)
            .append_pair("assertion", &self.assertion()?)
            .finish();
        let mut request = http::Request::new(body.into_bytes());
        *request.method_mut() = http::Method::POST;
        *request.uri_mut() = self.token_uri.parse().map_err(|_| {
            CredentialsError::from_msg(
                false,
                format!("the token_uri {} is not a URL", self.token_uri),
            )
        })?;
        request.headers_mut().insert(
            http::header::CONTENT_TYPE,
            http::HeaderValue::from_static("application/x-www-form-urlencoded"),
        );
        let response = self.http.send(request).await.map_err(|e| {
            CredentialsError::from_msg(e.is_temporary(), format!("the token request failed: {e}"))
        })?;
        let status = response.status();
        let reply: serde_json::Value =
            serde_json::from_slice(response.body()).unwrap_or(serde_json::Value::Null);
        if !status.is_success() {
            // Google's error code (`invalid_grant`), never the body
            let code = reply["error"].as_str().unwrap_or("no error code");
            let transient = status.as_u16() == 429 || status.is_server_error();
            return Err(CredentialsError::from_msg(
                transient,
                format!(
                    "{} refused the service account: {status} ({})",
                    self.token_uri,
                    strata_secrets_core::naming::shown(code)
                ),
            ));
        }
        let Some(token) = reply["access_token"].as_str().filter(|t| !t.is_empty()) else {
            return Err(CredentialsError::from_msg(
                false,
                format!("{} returned no access token", self.token_uri),
            ));
        };
        let lifetime = reply["expires_in"]
            .as_u64()
            .unwrap_or(ASSERTION_LIFETIME)
            .min(MAX_TOKEN_LIFETIME);
        let expires = Instant::now() + Duration::from_secs(lifetime);
        Ok((SecretString::from(token.to_owned()), expires))
    }

    /// A valid token: the cached one, else a new one.
    async fn token(&self) -> Result<SecretString, CredentialsError> {
        let mut cache = self.cache.lock().await;
        if let Some((token, expires)) = cache.as_ref()
            && Instant::now() + RENEW_BEFORE < *expires
        {
            return Ok(token.clone());
        }
        let fresh = self.exchange().await?;
        let token = fresh.0.clone();
        *cache = Some(fresh);
        Ok(token)
    }
}

impl CredentialsProvider for ServiceAccountTokens {
    async fn headers(
        &self,
        _extensions: http::Extensions,
    ) -> Result<CacheableResource<http::HeaderMap>, CredentialsError> {
        let token = self.token().await?;
        let mut value = http::HeaderValue::from_str(&format!("Bearer {}", token.expose_secret()))
            .map_err(|_| {
            CredentialsError::from_msg(false, "the access token is not a valid header")
        })?;
        value.set_sensitive(true);
        let mut headers = http::HeaderMap::new();
        headers.insert(http::header::AUTHORIZATION, value);
        Ok(CacheableResource::New {
            entity_tag: EntityTag::new(),
            data: headers,
        })
    }

    async fn universe_domain(&self) -> Option<String> {
        Some("googleapis.com".into())
    }
}

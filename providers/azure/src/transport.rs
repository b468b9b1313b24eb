//! The Azure SDK's transport: strata's HTTP policy ([docs/security.md](https://docs.rs/strata-secrets/latest/strata_secrets/guide/security/index.html)). The
//! SDK (and its managed-identity credential) take any [`HttpClient`]; this
//! one sends through [`PolicyClient`]: no redirect to another origin (the
//! SDK's own default follows none, a bare reqwest client follows ten),
//! replies capped.

use async_trait::async_trait;
use azure_core::error::ErrorKind as AzKind;
use azure_core::http::headers::{HeaderName, HeaderValue, Headers};
use azure_core::http::{AsyncRawResponse, Body, HttpClient, Request, StatusCode};
use std::collections::HashMap;
use strata_secrets_http::PolicyClient;

/// The policy client as the SDK's transport.
#[derive(Debug, Clone)]
pub(crate) struct PolicyHttp {
    pub(crate) client: PolicyClient,
}

#[async_trait]
impl HttpClient for PolicyHttp {
    async fn execute_request(&self, request: &Request) -> azure_core::Result<AsyncRawResponse> {
        let body = match request.body() {
            Body::Bytes(bytes) => bytes.to_vec(),
            #[allow(unreachable_patterns)]
            _ => {
                return Err(azure_core::Error::with_message(
                    AzKind::Other,
                    "a streaming request body is not supported",
                ));
            }
        };
        let mut req = http::Request::new(body);
        *req.method_mut() = match request.method() {
            azure_core::http::Method::Delete => http::Method::DELETE,
            azure_core::http::Method::Get => http::Method::GET,
            azure_core::http::Method::Head => http::Method::HEAD,
            azure_core::http::Method::Patch => http::Method::PATCH,
            azure_core::http::Method::Post => http::Method::POST,
            azure_core::http::Method::Put => http::Method::PUT,
            other => {
                return Err(azure_core::Error::with_message(
                    AzKind::Other,
                    format!("the method {other:?} is not supported"),
                ));
            }
        };
        *req.uri_mut() = request.url().as_str().parse().map_err(|e| {
            azure_core::Error::with_error(AzKind::Other, e, "the request's URL is not valid")
        })?;
        for (name, value) in request.headers().iter() {
            if let (Ok(n), Ok(v)) = (
                http::HeaderName::from_bytes(name.as_str().as_bytes()),
                http::HeaderValue::from_str(value.as_str()),
            ) {
                req.headers_mut().append(n, v);
            }
        }
        let response = self.client.send(req).await.map_err(|e| {
            // passing failures as I/O (retried by the engine), the policy's
            // refusals as they are
            let kind = if e.is_temporary() {
                AzKind::Io
            } else {
                AzKind::Other
            };
            azure_core::Error::new(kind, e)
        })?;
        let (parts, body) = response.into_parts();
        let headers: HashMap<HeaderName, HeaderValue> = parts
            .headers
            .iter()
            .filter_map(|(k, v)| {
                Some((
                    HeaderName::from(k.as_str().to_owned()),
                    HeaderValue::from(v.to_str().ok()?.to_owned()),
                ))
            })
            .collect();
        Ok(AsyncRawResponse::from_bytes(
            StatusCode::from(parts.status.as_u16()),
            Headers::from(headers),
            body,
        ))
    }
}

//! Secret Manager's REST calls through strata's HTTP policy
//! ([docs/security.md](https://docs.rs/strata-secrets/latest/strata_secrets/guide/security/index.html)): the official client's generated stub trait is the
//! hook, so the client, its request and response types and its errors are
//! Google's; only the sending goes through [`PolicyClient`] (no redirect to
//! another origin, replies capped), which the generated transport, with a
//! reqwest client of its own, cannot be given. The five calls strata makes
//! are mapped as the generated transport maps them (`/v1/{name}:access`,
//! `...:addVersion`, the `secrets` and `versions` collections, JSON bodies,
//! `$alt=json;enum-encoding=int`).

use google_cloud_auth::credentials::{CacheableResource, Credentials};
use google_cloud_gax::error::Error as GaxError;
use google_cloud_gax::error::rpc::Status;
use google_cloud_gax::options::RequestOptions;
use google_cloud_gax::response::Response;
use google_cloud_secretmanager_v1::model;
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::fmt;
use strata_secrets_http::PolicyClient;

/// The stub: the policy client, the endpoint and the credentials.
pub(crate) struct PolicyTransport {
    http: PolicyClient,
    endpoint: url::Url,
    credentials: Credentials,
}

impl fmt::Debug for PolicyTransport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PolicyTransport")
            .field("endpoint", &self.endpoint.as_str())
            .finish_non_exhaustive()
    }
}

impl PolicyTransport {
    pub(crate) fn new(http: PolicyClient, endpoint: url::Url, credentials: Credentials) -> Self {
        Self {
            http,
            endpoint,
            credentials,
        }
    }

    /// Sends one call and decodes its reply: Google's error shape as a
    /// service error, anything else that failed as the transport error
    /// carrying the policy's reason.
    async fn call<B: Serialize, O: DeserializeOwned + Default>(
        &self,
        method: http::Method,
        path: &str,
        query: &[(&str, String)],
        body: Option<&B>,
    ) -> google_cloud_gax::Result<Response<O>> {
        let mut url = self.endpoint.clone();
        url.set_path(path);
        {
            let mut pairs = url.query_pairs_mut();
            for (k, v) in query {
                if !v.is_empty() {
                    pairs.append_pair(k, v);
                }
            }
            pairs.append_pair("$alt", "json;enum-encoding=int");
        }
        let headers = match self.credentials.headers(http::Extensions::new()).await {
            Ok(CacheableResource::New { data, .. }) => data,
            Ok(CacheableResource::NotModified) => http::HeaderMap::new(),
            Err(e) => return Err(GaxError::authentication(e)),
        };
        let body = match body {
            Some(b) => serde_json::to_vec(b).map_err(GaxError::ser)?,
            None => Vec::new(),
        };
        let mut request = http::Request::new(body);
        *request.method_mut() = method;
        *request.uri_mut() = url
            .as_str()
            .parse()
            .map_err(|e: http::uri::InvalidUri| GaxError::binding(e))?;
        *request.headers_mut() = headers;
        request.headers_mut().insert(
            http::header::CONTENT_TYPE,
            http::HeaderValue::from_static("application/json"),
        );
        let response = self.http.send(request).await.map_err(GaxError::io)?;
        let (parts, body) = response.into_parts();
        if !parts.status.is_success() {
            return Err(match Status::try_from(&body) {
                Ok(status) => GaxError::service_with_http_metadata(
                    status,
                    Some(parts.status.as_u16()),
                    Some(parts.headers),
                ),
                Err(_) => GaxError::http(parts.status.as_u16(), parts.headers, body),
            });
        }
        let decoded = if body.is_empty() {
            O::default()
        } else {
            serde_json::from_slice::<O>(&body).map_err(GaxError::deser)?
        };
        Ok(Response::from(decoded))
    }
}

impl google_cloud_secretmanager_v1::stub::SecretManagerService for PolicyTransport {
    async fn access_secret_version(
        &self,
        req: model::AccessSecretVersionRequest,
        _: RequestOptions,
    ) -> google_cloud_gax::Result<Response<model::AccessSecretVersionResponse>> {
        self.call::<(), _>(
            http::Method::GET,
            &format!("/v1/{}:access", req.name),
            &[],
            None,
        )
        .await
    }

    async fn list_secrets(
        &self,
        req: model::ListSecretsRequest,
        _: RequestOptions,
    ) -> google_cloud_gax::Result<Response<model::ListSecretsResponse>> {
        let size = if req.page_size > 0 {
            req.page_size.to_string()
        } else {
            String::new()
        };
        self.call::<(), _>(
            http::Method::GET,
            &format!("/v1/{}/secrets", req.parent),
            &[
                ("pageSize", size),
                ("pageToken", req.page_token.clone()),
                ("filter", req.filter.clone()),
            ],
            None,
        )
        .await
    }

    async fn create_secret(
        &self,
        req: model::CreateSecretRequest,
        _: RequestOptions,
    ) -> google_cloud_gax::Result<Response<model::Secret>> {
        self.call(
            http::Method::POST,
            &format!("/v1/{}/secrets", req.parent),
            &[("secretId", req.secret_id.clone())],
            Some(&req.secret.clone().unwrap_or_default()),
        )
        .await
    }

    async fn add_secret_version(
        &self,
        req: model::AddSecretVersionRequest,
        _: RequestOptions,
    ) -> google_cloud_gax::Result<Response<model::SecretVersion>> {
        self.call(
            http::Method::POST,
            &format!("/v1/{}:addVersion", req.parent),
            &[],
            Some(&req),
        )
        .await
    }

    async fn list_secret_versions(
        &self,
        req: model::ListSecretVersionsRequest,
        _: RequestOptions,
    ) -> google_cloud_gax::Result<Response<model::ListSecretVersionsResponse>> {
        let size = if req.page_size > 0 {
            req.page_size.to_string()
        } else {
            String::new()
        };
        self.call::<(), _>(
            http::Method::GET,
            &format!("/v1/{}/versions", req.parent),
            &[
                ("pageSize", size),
                ("pageToken", req.page_token.clone()),
                ("filter", req.filter.clone()),
            ],
            None,
        )
        .await
    }
}

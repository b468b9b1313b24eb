//! Vault's HTTP API through strata's HTTP policy (docs/security.md): the
//! endpoints are `vaultrs`'s request types, executed by a rustify client
//! that sends through [`PolicyClient`] (no redirect to another origin,
//! replies capped). `vaultrs`'s own helper functions hand every request to
//! its built-in reqwest client, which reads any reply whole, so the few
//! calls the backend makes are executed here instead, as `vaultrs` does.

use async_trait::async_trait;
use rustify::endpoint::Endpoint;
use rustify::errors::ClientError as RestError;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value as Json};
use strata_secrets_http::PolicyClient;
use vaultrs::api::auth::approle::requests::LoginWithApproleRequest;
use vaultrs::api::auth::kubernetes::requests::LoginWithKubernetesRequest;
use vaultrs::api::auth::oidc::requests::JWTLoginRequest;
use vaultrs::api::kv2::requests::{
    ListSecretsRequest, ReadSecretMetadataRequest, ReadSecretRequest, SetSecretRequest,
    SetSecretRequestOptions,
};
use vaultrs::api::kv2::responses::{ReadSecretMetadataResponse, SecretVersionMetadata};
use vaultrs::api::token::requests::{LookupTokenSelfRequest, RenewTokenSelfRequest};
use vaultrs::api::token::responses::LookupTokenResponse;
use vaultrs::api::{AuthInfo, EndpointError, EndpointMiddleware, EndpointResult};
use vaultrs::error::ClientError;

/// The rustify client over the policy client.
struct Http {
    client: PolicyClient,
    base: String,
}

#[async_trait]
impl rustify::client::Client for Http {
    fn base(&self) -> &str {
        &self.base
    }

    async fn send(
        &self,
        req: http::Request<Vec<u8>>,
    ) -> Result<http::Response<Vec<u8>>, RestError> {
        let url = req.uri().to_string();
        let method = req.method().to_string();
        match self.client.send(req).await {
            Ok(response) => {
                let (parts, body) = response.into_parts();
                Ok(http::Response::from_parts(parts, body.to_vec()))
            }
            Err(e) => Err(RestError::RequestError {
                source: anyhow::Error::new(e),
                url: url::Url::parse(&url)
                    .map(|u| strata_secrets_http::shown_url(&u))
                    .unwrap_or_default(),
                method,
            }),
        }
    }
}

/// A client of one Vault server, holding one token (empty for a login).
pub(crate) struct Api {
    http: Http,
    middle: EndpointMiddleware,
}

/// Vault's error reply: `{"errors": [...]}` as an API error, else the
/// status alone.
fn parse_err(e: RestError) -> ClientError {
    if let RestError::ServerResponseError {
        code,
        content: Some(content),
    } = &e
        && let Ok(err) = serde_json::from_str::<EndpointError>(content)
    {
        return ClientError::APIError {
            code: *code,
            errors: err.errors,
        };
    }
    ClientError::from(e)
}

impl Api {
    /// A client of the server at `base` with `token`, namespace and the
    /// policy client.
    pub(crate) fn new(
        client: PolicyClient,
        base: &str,
        token: &str,
        namespace: Option<String>,
    ) -> Self {
        Self {
            http: Http {
                client,
                base: base.trim_end_matches('/').to_owned(),
            },
            middle: EndpointMiddleware {
                token: token.to_owned(),
                version: "v1".to_owned(),
                wrap: None,
                namespace,
            },
        }
    }

    /// The reply of `endpoint`, unwrapped from Vault's result envelope (as
    /// `vaultrs::api::exec_with_result`).
    async fn result<E>(&self, endpoint: E) -> Result<E::Response, ClientError>
    where
        E: Endpoint,
    {
        let result: EndpointResult<E::Response> = endpoint
            .with_middleware(&self.middle)
            .exec(&self.http)
            .await
            .map_err(parse_err)?
            .wrap::<EndpointResult<_>>()
            .map_err(ClientError::from)?;
        result.data.ok_or(ClientError::ResponseDataEmptyError)
    }

    /// The `auth` part of a login's or renewal's reply (as
    /// `vaultrs::api::auth`).
    async fn auth<E>(&self, endpoint: E) -> Result<AuthInfo, ClientError>
    where
        E: Endpoint<Response = ()>,
    {
        let result: EndpointResult<()> = endpoint
            .with_middleware(&self.middle)
            .exec(&self.http)
            .await
            .map_err(parse_err)?
            .wrap::<EndpointResult<_>>()
            .map_err(ClientError::from)?;
        result.auth.ok_or(ClientError::ResponseEmptyError)
    }

    /// KV v2: the data of the secret at `path` (its latest version, or
    /// `version`); `None` when it is deleted.
    pub(crate) async fn kv2_read(
        &self,
        mount: &str,
        path: &str,
        version: Option<u64>,
    ) -> Result<Option<Map<String, Json>>, ClientError> {
        let endpoint = ReadSecretRequest::builder()
            .mount(mount)
            .path(path)
            .version(version)
            .build()
            .map_err(built)?;
        let res = self.result(endpoint).await?;
        decode(res.data)
    }

    /// KV v2: the keys in the folder `path`.
    pub(crate) async fn kv2_list(
        &self,
        mount: &str,
        path: &str,
    ) -> Result<Vec<String>, ClientError> {
        let endpoint = ListSecretsRequest::builder()
            .mount(mount)
            .path(path)
            .build()
            .map_err(built)?;
        Ok(self.result(endpoint).await?.keys)
    }

    /// KV v2: the metadata (versions) of the secret at `path`.
    pub(crate) async fn kv2_read_metadata(
        &self,
        mount: &str,
        path: &str,
    ) -> Result<ReadSecretMetadataResponse, ClientError> {
        let endpoint = ReadSecretMetadataRequest::builder()
            .mount(mount)
            .path(path)
            .build()
            .map_err(built)?;
        self.result(endpoint).await
    }

    /// KV v2: writes `data` as a new version (with check-and-set `cas`).
    pub(crate) async fn kv2_set(
        &self,
        mount: &str,
        path: &str,
        data: &Map<String, Json>,
        cas: Option<u32>,
    ) -> Result<SecretVersionMetadata, ClientError> {
        let mut endpoint = SetSecretRequest::builder();
        endpoint
            .mount(mount)
            .path(path)
            .data(Json::Object(data.clone()));
        if let Some(cas) = cas {
            endpoint.options(SetSecretRequestOptions { cas });
        }
        self.result(endpoint.build().map_err(built)?).await
    }

    /// `auth/token/lookup-self`.
    pub(crate) async fn lookup_self(&self) -> Result<LookupTokenResponse, ClientError> {
        let endpoint = LookupTokenSelfRequest::builder().build().map_err(built)?;
        self.result(endpoint).await
    }

    /// `auth/token/renew-self`.
    pub(crate) async fn renew_self(&self) -> Result<AuthInfo, ClientError> {
        let endpoint = RenewTokenSelfRequest::builder().build().map_err(built)?;
        self.auth(endpoint).await
    }

    /// AppRole login.
    pub(crate) async fn approle_login(
        &self,
        mount: &str,
        role_id: &str,
        secret_id: &str,
    ) -> Result<AuthInfo, ClientError> {
        let endpoint = LoginWithApproleRequest::builder()
            .mount(mount)
            .role_id(role_id)
            .secret_id(secret_id)
            .build()
            .map_err(built)?;
        self.auth(endpoint).await
    }

    /// Kubernetes login.
    pub(crate) async fn kubernetes_login(
        &self,
        mount: &str,
        role: &str,
        jwt: &str,
    ) -> Result<AuthInfo, ClientError> {
        let endpoint = LoginWithKubernetesRequest::builder()
            .mount(mount)
            .role(role)
            .jwt(jwt)
            .build()
            .map_err(built)?;
        self.auth(endpoint).await
    }

    /// JWT login.
    pub(crate) async fn jwt_login(
        &self,
        mount: &str,
        jwt: &str,
        role: Option<String>,
    ) -> Result<AuthInfo, ClientError> {
        let mut endpoint = JWTLoginRequest::builder();
        if let Some(r) = role {
            endpoint.role(r);
        }
        let endpoint = endpoint.mount(mount).jwt(jwt).build().map_err(built)?;
        self.auth(endpoint).await
    }
}

/// A request builder's error: every field the builders need is set above,
/// so this does not happen; it is an error, not a panic, all the same.
fn built<E>(_: E) -> ClientError {
    ClientError::InvalidUpdateParameter
}

fn decode<D: DeserializeOwned>(value: Json) -> Result<D, ClientError> {
    serde_json::value::from_value(value).map_err(|e| ClientError::JsonParseError { source: e })
}

//! Vault's HTTP API through strata's HTTP policy ([docs/security.md](https://docs.rs/strata-secrets/latest/strata_secrets/guide/security/index.html)): the
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

/// A call at a path the backend is given (a dynamic secrets role, the
/// lease endpoints): `vaultrs` has a request type per engine, and a lease
/// mapping may name any engine's role.
struct AtPath {
    path: String,
    method: rustify::enums::RequestMethod,
    body: Option<Json>,
}

impl Endpoint for AtPath {
    type Response = Json;
    const REQUEST_BODY_TYPE: rustify::enums::RequestType = rustify::enums::RequestType::JSON;
    const RESPONSE_BODY_TYPE: rustify::enums::ResponseType = rustify::enums::ResponseType::JSON;

    fn path(&self) -> String {
        self.path.clone()
    }

    fn method(&self) -> rustify::enums::RequestMethod {
        self.method.clone()
    }

    fn body(&self) -> Result<Option<Vec<u8>>, RestError> {
        Ok(self.body.as_ref().map(|b| b.to_string().into_bytes()))
    }
}

/// A lease the server made: its id, TTL in seconds, whether it renews,
/// and the credentials.
pub(crate) struct Leased {
    pub(crate) lease_id: String,
    pub(crate) lease_duration: u32,
    pub(crate) renewable: bool,
    pub(crate) data: Map<String, Json>,
}

impl Api {
    /// The whole reply of `endpoint`, envelope included.
    async fn envelope(&self, endpoint: AtPath) -> Result<EndpointResult<Json>, ClientError> {
        endpoint
            .with_middleware(&self.middle)
            .exec(&self.http)
            .await
            .map_err(parse_err)?
            .wrap::<EndpointResult<_>>()
            .map_err(ClientError::from)
    }

    /// Reads `path` (a dynamic secrets role, `database/creds/loader`): new
    /// credentials and their lease.
    pub(crate) async fn read_leased(&self, path: &str) -> Result<Leased, ClientError> {
        let reply = self
            .envelope(AtPath {
                path: path.to_owned(),
                method: rustify::enums::RequestMethod::GET,
                body: None,
            })
            .await?;
        let Some(Json::Object(data)) = reply.data else {
            return Err(ClientError::ResponseDataEmptyError);
        };
        Ok(Leased {
            lease_id: reply.lease_id,
            lease_duration: reply.lease_duration,
            renewable: reply.renewable,
            data,
        })
    }

    /// `sys/leases/renew`: the TTL granted, in seconds.
    pub(crate) async fn renew_lease(&self, id: &str, increment: u64) -> Result<u32, ClientError> {
        let reply = self
            .envelope(AtPath {
                path: "sys/leases/renew".to_owned(),
                method: rustify::enums::RequestMethod::PUT,
                body: Some(serde_json::json!({"lease_id": id, "increment": increment})),
            })
            .await?;
        Ok(reply.lease_duration)
    }

    /// `sys/leases/revoke`.
    pub(crate) async fn revoke_lease(&self, id: &str) -> Result<(), ClientError> {
        AtPath {
            path: "sys/leases/revoke".to_owned(),
            method: rustify::enums::RequestMethod::PUT,
            body: Some(serde_json::json!({"lease_id": id})),
        }
        .with_middleware(&self.middle)
        .exec(&self.http)
        .await
        .map_err(parse_err)?;
        Ok(())
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

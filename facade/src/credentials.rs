//! Credentials configurations with a native form, as dlt ships them (see
//! [`strata_secrets_core::credentials`]): a connection string for database
//! credentials. A vault's own credentials types live in its backend crate
//! (re-exported under [`crate::backends`]).

pub use strata_secrets_core::credentials::ConnectionStringCredentials;

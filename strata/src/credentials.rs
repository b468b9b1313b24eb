//! Credentials configurations with a native form, as dlt ships them (see
//! [`strata_core::credentials`]): a connection string for database
//! credentials, a service-account JSON key for Google (the type the Google
//! vault bootstrap resolves).

pub use strata_core::credentials::{ConnectionStringCredentials, GcpServiceAccountCredentials};

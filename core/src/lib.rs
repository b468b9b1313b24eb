#![doc = include_str!("../README.md")]
#![warn(missing_docs)]

pub mod credentials;
mod environment;
mod error;
pub mod fs;
mod memory_provider;
pub mod naming;
mod path;
mod provider;
mod report;
mod resolver;
mod trace;
pub mod typed;
#[doc(hidden)]
pub use typed as __typed;
mod value;
pub mod vault;
pub mod workspace;

// The everyday types, one path each (`strata_secrets_core::Path`). The modules that
// stay public are namespaces for their own items: `naming` (rules),
// `vault` (the engine and backends), `typed` (configurations),
// `workspace` (the file layout), `fs` (safe file access) and
// `credentials`.
pub use environment::Environment;
pub use error::{Error, ErrorKind, MissingValue};
pub use memory_provider::MemoryProvider;
pub use path::{MAX_PATH_BYTES, MAX_SEGMENTS, Path, PathError};
pub use provider::{
    Answer, Detail, Found, Location, Peek, Provenance, Provider, ProviderExt, Query, ValueRef,
};
pub use resolver::{Lookup, Resolved, Resolver, walk_paths, walk_paths_in};
pub use trace::{Outcome, Trace, TraceEntry};
pub use value::{ConvertError, Datetime, Table, TableHash, TableHasher, Value};

pub use async_trait::async_trait;
/// Re-export of the `secrecy` crate: secret values are its types.
pub use secrecy;

#![doc = include_str!("../README.md")]
#![warn(missing_docs)]

pub mod credentials;
pub mod environment;
pub mod error;

pub mod fs;
pub mod memory;
pub mod naming;
pub mod path;
pub mod provider;
pub mod resolver;
pub mod trace;
pub mod typed;
pub mod value;
pub mod vault;
pub mod workspace;

pub use environment::Environment;
pub use error::{Error, ErrorKind, MissingValue};
pub use memory::MemoryProvider;
pub use naming::{NameError, NamingRule, VaultNaming};
pub use path::{Path, PathError};
pub use provider::{
    Answer, Detail, Found, Location, Peek, Provenance, Provider, ProviderExt, Query, ValueRef,
};
pub use resolver::{Lookup, Resolved, Resolver, walk_paths, walk_paths_in};
pub use trace::{Outcome, Trace, TraceEntry};
pub use value::{ConvertError, Table, Value};
pub use vault::{MemoryVault, VaultBackend, VaultOptions, VaultProvider};
pub use workspace::{FileKind, ProfileName, ProfileSource, Workspace, WorkspaceOptions};

/// Re-export of `async-trait`, for provider authors.
pub use async_trait::async_trait;
/// Re-export of the `secrecy` crate: secret values are its types.
pub use secrecy;

//! The integration tests of the `strata-secrets` crate, in one binary (cargo's
//! `tests/testsuite` layout): one link of the vault SDKs instead of one per
//! file.
#![allow(clippy::unwrap_used, clippy::expect_used, dead_code)]

mod common;

mod accessors;
mod aws_e2e;
mod azure_e2e;
mod boundary_environment;
mod boundary_files;
mod boundary_local_users;
mod boundary_vault_servers;
mod cli;
mod dlt_compat;
mod exec_runtime;
mod google_e2e;
mod hardening;
mod hashicorp_e2e;
mod help;
mod leaks;
mod lean;
mod leases;
mod readme;
mod runtime;
mod typed;
mod vault_hardening;

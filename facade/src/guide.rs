//! The guides, as the repository's `docs/` holds them: what strata does, in
//! the user's terms. Built into the API docs so that every reference to one
//! resolves where the API is read; their links to each other are links to
//! these modules.

use strata_secrets_derive::guide;

guide!(lookups, "lookups.md");
guide!(profiles, "profiles.md");
guide!(naming, "naming.md");
guide!(vaults, "vaults.md");
guide!(runtime, "runtime.md");
guide!(security, "security.md");
guide!(cli, "cli.md");
guide!(python, "python.md");
guide!(performance, "performance.md");
guide!(architecture, "architecture.md");
guide!(writing_a_backend, "writing-a-backend.md");

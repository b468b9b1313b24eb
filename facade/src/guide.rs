//! The guides, as the repository's `docs/` holds them: what strata does, in
//! the user's terms. Built into the API docs so that every reference to one
//! resolves where the API is read.

macro_rules! guides {
    ($($(#[$meta:meta])* $name:ident => $file:literal;)*) => {
        $(
            $(#[$meta])*
            #[doc = include_str!(concat!("../guide/", $file))]
            pub mod $name {}
        )*
    };
}

guides! {
    lookups => "lookups.md";
    profiles => "profiles.md";
    naming => "naming.md";
    vaults => "vaults.md";
    runtime => "runtime.md";
    security => "security.md";
    cli => "cli.md";
    python => "python.md";
    performance => "performance.md";
    architecture => "architecture.md";
    writing_a_backend => "writing-a-backend.md";
}

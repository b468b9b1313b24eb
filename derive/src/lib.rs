//! `#[derive(Configuration)]` for strata typed configurations.
//!
//! Each named field becomes a section walk for its name under the
//! configuration's sections. Every field's lookup starts at once and they
//! are awaited together, so the fields of one configuration reach a vault in
//! the same round. Field attributes, under `#[config(...)]`:
//! - `secret`: a secret lookup (implied by `SecretString` and `SecretBox<T>`
//!   fields);
//! - `default = EXPR`: the value when no provider holds the field;
//! - `rename = "key"`: the key to look up instead of the field name;
//! - `nested`: the field is itself a configuration, resolved under its own
//!   section (its native form, e.g. a connection string, is tried first);
//! - `flatten`: the field is itself a configuration whose fields are looked
//!   up in this configuration's own section (shared options).
//!
//! The derive also lists the fields as data (`Configuration::FIELDS`), so a
//! configuration's keys are its struct's fields and nothing else.
//!
//! `Option<T>` fields are optional. Struct attributes, under
//! `#[config(...)]`:
//! - `credentials`: the configuration is a credentials configuration: its
//!   native form is looked up as a secret (as dlt does);
//! - `native`: the configuration also reads from one value (a connection
//!   string, a JSON key) through its `NativeValue` implementation;
//! - `crate = "path"`: the crate that re-exports the `typed` module as `__typed` (default `::strata_secrets`;
//!   a vault backend that depends on `strata-secrets-core` only writes
//!   `crate = "strata_secrets_core"`).

use proc_macro::TokenStream;
use quote::quote;
use syn::{
    Data, DeriveInput, Expr, Fields, GenericArgument, LitStr, PathArguments, Type,
    parse_macro_input,
};

/// Derives `strata_secrets::Configuration` for a struct with named fields.
#[proc_macro_derive(Configuration, attributes(config))]
pub fn derive_configuration(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    match expand(&input) {
        Ok(ts) => ts.into(),
        Err(e) => e.to_compile_error().into(),
    }
}

struct StructAttrs {
    krate: syn::Path,
    credentials: bool,
    native: bool,
}

fn struct_attrs(input: &DeriveInput) -> syn::Result<StructAttrs> {
    let mut out = StructAttrs {
        krate: syn::parse_quote!(::strata_secrets),
        credentials: false,
        native: false,
    };
    for attr in input.attrs.iter().filter(|a| a.path().is_ident("config")) {
        attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("crate") {
                out.krate = meta.value()?.parse::<LitStr>()?.parse::<syn::Path>()?;
            } else if meta.path.is_ident("credentials") {
                out.credentials = true;
            } else if meta.path.is_ident("native") {
                out.native = true;
            } else {
                return Err(meta.error("expected `credentials`, `native` or `crate = \"path\"`"));
            }
            Ok(())
        })?;
    }
    Ok(out)
}

#[derive(Default)]
struct FieldAttrs {
    secret: bool,
    nested: bool,
    flatten: bool,
    default: Option<Expr>,
    rename: Option<String>,
}

fn attrs(field: &syn::Field) -> syn::Result<FieldAttrs> {
    let mut out = FieldAttrs::default();
    for attr in field.attrs.iter().filter(|a| a.path().is_ident("config")) {
        attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("secret") {
                out.secret = true;
            } else if meta.path.is_ident("nested") {
                out.nested = true;
            } else if meta.path.is_ident("flatten") {
                out.flatten = true;
            } else if meta.path.is_ident("default") {
                out.default = Some(meta.value()?.parse::<Expr>()?);
            } else if meta.path.is_ident("rename") {
                out.rename = Some(meta.value()?.parse::<LitStr>()?.value());
            } else {
                return Err(meta.error(
                    "expected `secret`, `nested`, `flatten`, `default = ...` or `rename = \"...\"`",
                ));
            }
            Ok(())
        })?;
    }
    Ok(out)
}

fn last_ident(ty: &Type) -> Option<String> {
    match ty {
        Type::Path(p) => p.path.segments.last().map(|s| s.ident.to_string()),
        _ => None,
    }
}

/// The first type argument of `ty` when `ty` is `<wrapper><T>`
/// (`Option<T>` -> `T`, `SecretBox<T>` -> `T`).
fn generic_arg<'t>(ty: &'t Type, wrapper: &str) -> Option<&'t Type> {
    let Type::Path(p) = ty else { return None };
    let seg = p.path.segments.last()?;
    if seg.ident != wrapper {
        return None;
    }
    let PathArguments::AngleBracketed(args) = &seg.arguments else {
        return None;
    };
    match args.args.first()? {
        GenericArgument::Type(t) => Some(t),
        _ => None,
    }
}

fn is_str(ty: &Type) -> bool {
    matches!(ty, Type::Path(p) if p.path.is_ident("str"))
}

/// The named fields of the struct `input`, or why it cannot derive.
fn named_fields(input: &DeriveInput) -> syn::Result<&syn::FieldsNamed> {
    let Data::Struct(data) = &input.data else {
        return Err(syn::Error::new_spanned(
            input,
            "Configuration can be derived for structs only",
        ));
    };
    let Fields::Named(fields) = &data.fields else {
        return Err(syn::Error::new_spanned(
            input,
            "Configuration needs named fields",
        ));
    };
    if !input.generics.params.is_empty() {
        return Err(syn::Error::new_spanned(
            &input.generics,
            "Configuration cannot be generic",
        ));
    }
    Ok(fields)
}

/// What one field adds to the expansion.
struct FieldCode {
    /// The local its lookup's result is bound to.
    local: syn::Ident,
    /// Its entry in `FIELDS`.
    spec: proc_macro2::TokenStream,
    /// Its lookup, awaited with the others.
    fetch: proc_macro2::TokenStream,
    /// Its default or option applied to the result.
    finish: proc_macro2::TokenStream,
    /// Its initializer in `Self { .. }`.
    init: proc_macro2::TokenStream,
}

/// The code of field number `i`: its key, kind and lookup by its type and
/// attributes.
fn field_code(
    i: usize,
    field: &syn::Field,
    typed: &proc_macro2::TokenStream,
) -> syn::Result<FieldCode> {
    let index = u32::try_from(i).map_err(|_| syn::Error::new_spanned(field, "too many fields"))?;
    let ident = field
        .ident
        .as_ref()
        .ok_or_else(|| syn::Error::new_spanned(field, "a named field"))?;
    let a = attrs(field)?;
    let key = a
        .rename
        .clone()
        .unwrap_or_else(|| ident.to_string().trim_start_matches("r#").to_owned());
    let local = syn::Ident::new(&format!("__f{i}"), ident.span());
    let (inner, optional) = match generic_arg(&field.ty, "Option") {
        Some(t) => (t, true),
        None => (&field.ty, false),
    };
    let is_secret_string = last_ident(inner).as_deref() == Some("SecretString");
    let boxed = generic_arg(inner, "SecretBox");
    let secret = a.secret || is_secret_string || boxed.is_some();
    let may_be_absent = optional || a.default.is_some();
    let spec = quote!(
        #typed::Field::new(#index, #key).secret(#secret).optional(#may_be_absent)
    );
    if a.flatten && (a.nested || optional || a.default.is_some() || a.rename.is_some()) {
        return Err(syn::Error::new_spanned(
            field,
            "a `flatten` field is a required configuration without `nested`, `default` or `rename`",
        ));
    }
    let kind = if a.flatten {
        quote!(#typed::FieldKind::Flatten(<#inner as #typed::Configuration>::FIELDS))
    } else if a.nested {
        quote!(#typed::FieldKind::Nested(<#inner as #typed::Configuration>::FIELDS))
    } else {
        quote!(#typed::FieldKind::Value)
    };
    let fetch = if a.flatten {
        quote!(ctx.flatten::<#inner>(scope, #index))
    } else if a.nested {
        quote!(ctx.nested::<#inner>(scope, #spec))
    } else if is_secret_string || boxed.is_some_and(is_str) {
        quote!(ctx.secret_string(scope, #spec))
    } else if let Some(t) = boxed {
        quote!(ctx.secret_box::<#t>(scope, #spec))
    } else {
        quote!(ctx.field::<#inner>(scope, #spec))
    };
    let value = match (&a.default, optional) {
        (_, true) => quote!(::std::option::Option::Some(#local)),
        (Some(d), false) => quote!(::std::option::Option::Some(#local.unwrap_or_else(|| #d))),
        (None, false) => quote!(#local),
    };
    Ok(FieldCode {
        spec: quote!(#typed::FieldSpec { key: #key, secret: #secret, kind: #kind }),
        fetch,
        finish: quote!(let #local = #value;),
        init: quote!(#ident: #local?),
        local,
    })
}

fn expand(input: &DeriveInput) -> syn::Result<proc_macro2::TokenStream> {
    let name = &input.ident;
    let fields = named_fields(input)?;
    let StructAttrs {
        krate,
        credentials,
        native,
    } = struct_attrs(input)?;
    let typed = quote!(#krate::__typed);
    let mut locals = Vec::new();
    let mut futures = Vec::new();
    let mut finish = Vec::new();
    let mut inits = Vec::new();
    let mut specs = Vec::new();
    for (i, field) in fields.named.iter().enumerate() {
        let code = field_code(i, field, &typed)?;
        specs.push(code.spec);
        futures.push(code.fetch);
        finish.push(code.finish);
        inits.push(code.init);
        locals.push(code.local);
    }
    let body = if locals.is_empty() {
        quote!(::std::option::Option::Some(Self {}))
    } else {
        quote! {
            let (#(#locals,)*) = #typed::__private::join!(#(#futures),*);
            #(#finish)*
            ::std::option::Option::Some(Self { #(#inits),* })
        }
    };
    let from_native = if native {
        quote! {
            fn from_native(
                value: &#krate::Value,
            ) -> ::std::option::Option<::std::result::Result<Self, #typed::NativeError>> {
                <Self as #typed::NativeValue>::from_native(value)
            }
        }
    } else {
        quote!()
    };
    Ok(quote! {
        #[#krate::async_trait]
        impl #typed::Configuration for #name {
            const CREDENTIALS: bool = #credentials;

            const NATIVE: bool = #native;

            const FIELDS: &'static [#typed::FieldSpec] = &[#(#specs),*];

            async fn resolve_under(
                ctx: &#typed::ResolveContext<'_>,
                scope: &#typed::Scope,
            ) -> ::std::option::Option<Self> {
                let _ = &scope;
                #body
            }

            #from_native
        }
    })
}

/// `guide!(name, "file.md")`: a documentation-only module whose docs are
/// the guide `guide/file.md` of the calling crate, with each link to a
/// sibling guide (`vaults.md#policies`) turned into an intra-doc link to
/// its module (`crate::guide::vaults#policies`). For the facade's `guide`
/// module; not a public API.
#[doc(hidden)]
#[proc_macro]
pub fn guide(input: TokenStream) -> TokenStream {
    let args = parse_macro_input!(input as GuideArgs);
    match expand_guide(&args) {
        Ok(ts) => ts.into(),
        Err(e) => e.to_compile_error().into(),
    }
}

struct GuideArgs {
    name: syn::Ident,
    file: LitStr,
}

impl syn::parse::Parse for GuideArgs {
    fn parse(input: syn::parse::ParseStream<'_>) -> syn::Result<Self> {
        let name = input.parse()?;
        input.parse::<syn::Token![,]>()?;
        let file = input.parse()?;
        Ok(Self { name, file })
    }
}

fn expand_guide(args: &GuideArgs) -> syn::Result<proc_macro2::TokenStream> {
    let dir = std::env::var("CARGO_MANIFEST_DIR")
        .map_err(|_| syn::Error::new(args.file.span(), "CARGO_MANIFEST_DIR is not set"))?;
    let path = std::path::Path::new(&dir)
        .join("guide")
        .join(args.file.value());
    let text = std::fs::read_to_string(&path).map_err(|e| {
        syn::Error::new(
            args.file.span(),
            format!("cannot read {}: {e}", path.display()),
        )
    })?;
    let doc = guide_links(&text);
    let name = &args.name;
    let tracked = path.display().to_string();
    Ok(quote! {
        #[doc = #doc]
        pub mod #name {
            // rebuilt when the guide changes
            const _: &str = include_str!(#tracked);
        }
    })
}

/// `text` with each `](sibling.md[#anchor])` link made an intra-doc link
/// to `crate::guide::sibling[#anchor]`; other links are kept.
fn guide_links(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("](") {
        out.push_str(&rest[..at + 2]);
        rest = &rest[at + 2..];
        let Some(end) = rest.find(')') else {
            break;
        };
        let target = &rest[..end];
        let (file, anchor) = match target.split_once('#') {
            Some((f, a)) => (f, Some(a)),
            None => (target, None),
        };
        match file.strip_suffix(".md").filter(|stem| {
            !stem.is_empty()
                && stem
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        }) {
            Some(stem) => {
                out.push_str("crate::guide::");
                out.push_str(&stem.replace('-', "_"));
                if let Some(a) = anchor {
                    out.push('#');
                    out.push_str(a);
                }
            }
            None => out.push_str(target),
        }
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::guide_links;

    #[test]
    fn sibling_guides_become_intra_doc_links() {
        assert_eq!(
            guide_links("see [vaults](vaults.md), [leases](runtime.md#leased-credentials)."),
            "see [vaults](crate::guide::vaults), [leases](crate::guide::runtime#leased-credentials)."
        );
        assert_eq!(
            guide_links("[a](writing-a-backend.md) [b](https://x.org/a.md) [c](../README.md)"),
            "[a](crate::guide::writing_a_backend) [b](https://x.org/a.md) [c](../README.md)"
        );
        assert_eq!(guide_links("no link ]( here"), "no link ]( here");
    }
}

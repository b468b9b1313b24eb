//! `#[derive(Configuration)]` for strata typed configurations.
//!
//! Each named field becomes a section walk for its name under the
//! configuration's sections. Attributes, under `#[config(...)]`:
//! - `secret`: a secret lookup (implied by `SecretString` fields);
//! - `default = EXPR`: the value when no provider holds the field;
//! - `rename = "key"`: the key to look up instead of the field name;
//! - `nested`: the field is itself a configuration, resolved under its own
//!   section (its native form, e.g. a connection string, is tried first).
//!
//! `Option<T>` fields are optional.

use proc_macro::TokenStream;
use quote::quote;
use syn::{
    Data, DeriveInput, Expr, Fields, GenericArgument, LitStr, PathArguments, Type,
    parse_macro_input,
};

/// Derives `strata::Configuration` for a struct with named fields.
#[proc_macro_derive(Configuration, attributes(config))]
pub fn derive_configuration(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    match expand(&input) {
        Ok(ts) => ts.into(),
        Err(e) => e.to_compile_error().into(),
    }
}

#[derive(Default)]
struct FieldAttrs {
    secret: bool,
    nested: bool,
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
            } else if meta.path.is_ident("default") {
                out.default = Some(meta.value()?.parse::<Expr>()?);
            } else if meta.path.is_ident("rename") {
                out.rename = Some(meta.value()?.parse::<LitStr>()?.value());
            } else {
                return Err(meta
                    .error("expected `secret`, `nested`, `default = ...` or `rename = \"...\"`"));
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

/// `Option<T>` -> `T`.
fn option_inner(ty: &Type) -> Option<&Type> {
    let Type::Path(p) = ty else { return None };
    let seg = p.path.segments.last()?;
    if seg.ident != "Option" {
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

fn expand(input: &DeriveInput) -> syn::Result<proc_macro2::TokenStream> {
    let name = &input.ident;
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
    let mut lets = Vec::new();
    let mut inits = Vec::new();
    for (i, field) in fields.named.iter().enumerate() {
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
        let (inner, optional) = match option_inner(&field.ty) {
            Some(t) => (t, true),
            None => (&field.ty, false),
        };
        let is_secret_string = last_ident(inner).as_deref() == Some("SecretString");
        let secret = a.secret || is_secret_string;
        let presence = if optional || a.default.is_some() {
            quote!(::strata::typed::Presence::Optional)
        } else {
            quote!(::strata::typed::Presence::Required)
        };
        let fetch = if a.nested {
            quote!(ctx.nested::<#inner>(sections, #key, #secret, #presence).await)
        } else if is_secret_string {
            quote!(ctx.secret_string(sections, #key, #presence).await)
        } else {
            quote!(ctx.field::<#inner>(sections, #key, #secret, #presence).await)
        };
        let value = match (&a.default, optional) {
            (_, true) => quote!(::std::option::Option::Some(#fetch)),
            (Some(d), false) => quote!(::std::option::Option::Some((#fetch).unwrap_or_else(|| #d))),
            (None, false) => fetch,
        };
        lets.push(quote!(let #local = #value;));
        inits.push(quote!(#ident: #local?));
    }
    Ok(quote! {
        #[::strata::async_trait]
        impl ::strata::typed::Configuration for #name {
            async fn resolve_under(
                ctx: &::strata::typed::ResolveContext<'_>,
                sections: &::strata::typed::Scope,
            ) -> ::std::option::Option<Self> {
                #(#lets)*
                ::std::option::Option::Some(Self { #(#inits),* })
            }
        }
    })
}

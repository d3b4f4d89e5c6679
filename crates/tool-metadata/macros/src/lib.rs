//! The `#[tool_metadata]` attribute: declares a tool once, with its metadata, and registers it.
//!
//! ```ignore
//! /// Searches PubMed.
//! #[tool_metadata(category = research, runtime = Async, priority = 5, timeout_seconds = 60,
//!                 retry = exponential(2, 250), cache_ttl_seconds = 3600, read_only, open_world)]
//! async fn pubmed_search(ctx: ToolContext, params: SearchParams) -> Result<SearchOutput, Error> { .. }
//! ```
//! The function stays as written; the attribute adds a registration (through the runtime crate's hidden
//! `__private` re-export of inventory) of a descriptor with the metadata, the input and output JSON
//! schemas, and a type-erased handler.

use proc_macro::TokenStream;
use proc_macro2::{Span, TokenStream as TokenStream2};
use quote::{format_ident, quote};
use syn::parse::Parser;
use syn::punctuated::Punctuated;
use syn::spanned::Spanned;
use syn::{Expr, ExprLit, FnArg, GenericArgument, ItemFn, Lit, Meta, PathArguments, ReturnType, Token, Type};

/// Declares a tool. See the crate documentation.
#[proc_macro_attribute]
pub fn tool_metadata(attr: TokenStream, item: TokenStream) -> TokenStream {
    let item: TokenStream2 = item.into();
    match expand(attr.into(), item.clone()) {
        Ok(ts) => ts.into(),
        // Keep the function as written, so one bad attribute does not cascade into other errors.
        Err(e) => {
            let error = e.into_compile_error();
            quote!(#error #item).into()
        }
    }
}

const CATEGORIES: &[(&str, &str)] = &[
    ("research", "Research"),
    ("indexing", "Indexing"),
    ("testing", "Testing"),
    ("jobs", "Jobs"),
    ("cache", "Cache"),
    ("ops", "Ops"),
    ("fixture", "Fixture"),
    ("workflows", "Workflows"),
];
const RUNTIMES: &[&str] = &["Async", "Blocking", "Process"];
const KEYS: &str = "name, category, runtime, priority, timeout_seconds, inline_ms, retry, cache_ttl_seconds, \
                    read_only, destructive, idempotent, open_world, indexes_results, deprecated";

#[derive(Default)]
struct Args {
    name: Option<(String, Span)>,
    category: Option<TokenStream2>,
    runtime: Option<TokenStream2>,
    priority: Option<u8>,
    timeout_seconds: Option<u64>,
    inline_ms: Option<u64>,
    retry: Option<TokenStream2>,
    cache_ttl_seconds: Option<u64>,
    read_only: Option<bool>,
    destructive: Option<bool>,
    idempotent: Option<bool>,
    open_world: Option<bool>,
    indexes_results: Option<bool>,
    deprecated: Option<String>,
}

fn err<T>(span: Span, msg: impl std::fmt::Display) -> syn::Result<T> {
    Err(syn::Error::new(span, msg))
}

fn ident_of(expr: &Expr) -> Option<String> {
    match expr {
        Expr::Path(p) => p.path.get_ident().map(|i| i.to_string()),
        _ => None,
    }
}

fn int_of<T: std::str::FromStr>(expr: &Expr, what: &str) -> syn::Result<T>
where
    T::Err: std::fmt::Display,
{
    match expr {
        Expr::Lit(ExprLit { lit: Lit::Int(i), .. }) => i.base10_parse::<T>(),
        _ => err(expr.span(), format!("`{what}` expects an integer literal")),
    }
}

fn str_of(expr: &Expr, what: &str) -> syn::Result<String> {
    match expr {
        Expr::Lit(ExprLit { lit: Lit::Str(s), .. }) => Ok(s.value()),
        _ => err(expr.span(), format!("`{what}` expects a string literal")),
    }
}

fn bool_of(expr: &Expr, what: &str) -> syn::Result<bool> {
    match expr {
        Expr::Lit(ExprLit { lit: Lit::Bool(b), .. }) => Ok(b.value),
        _ => err(expr.span(), format!("`{what}` expects `true` or `false` (or the bare flag)")),
    }
}

fn parse_retry(expr: &Expr) -> syn::Result<TokenStream2> {
    const EXPECTED: &str =
        "`retry` expects `none`, `fixed(retries, delay_ms)` or `exponential(retries, base_ms)`";
    if ident_of(expr).as_deref() == Some("none") {
        return Ok(quote!(::tool_metadata::RetryPolicy::None));
    }
    let Expr::Call(call) = expr else { return err(expr.span(), EXPECTED) };
    let Some(kind) = ident_of(&call.func) else { return err(call.func.span(), EXPECTED) };
    if call.args.len() != 2 {
        return err(call.span(), EXPECTED);
    }
    let retries: u32 = int_of(&call.args[0], "retry")?;
    let delay: u64 = int_of(&call.args[1], "retry")?;
    if retries > 10 {
        return err(call.args[0].span(), "`retry` allows at most 10 retries");
    }
    match kind.as_str() {
        "fixed" => Ok(quote!(::tool_metadata::RetryPolicy::Fixed { retries: #retries, delay_ms: #delay })),
        "exponential" => {
            Ok(quote!(::tool_metadata::RetryPolicy::Exponential { retries: #retries, base_ms: #delay }))
        }
        _ => err(call.func.span(), EXPECTED),
    }
}

fn parse_args(attr: TokenStream2) -> syn::Result<Args> {
    let metas = Punctuated::<Meta, Token![,]>::parse_terminated.parse2(attr)?;
    let mut a = Args::default();
    for meta in metas {
        let key = meta.path().get_ident().map(|i| i.to_string()).unwrap_or_default();
        let span = meta.path().span();
        let flag = |a: &mut Option<bool>, meta: &Meta| -> syn::Result<()> {
            if a.is_some() {
                return err(span, format!("`{key}` is given twice"));
            }
            *a = Some(match meta {
                Meta::Path(_) => true,
                Meta::NameValue(nv) => bool_of(&nv.value, &key)?,
                Meta::List(l) => {
                    return err(l.span(), format!("`{key}` is a flag: write `{key}` or `{key} = true`"));
                }
            });
            Ok(())
        };
        match key.as_str() {
            "read_only" => flag(&mut a.read_only, &meta)?,
            "destructive" => flag(&mut a.destructive, &meta)?,
            "idempotent" => flag(&mut a.idempotent, &meta)?,
            "open_world" => flag(&mut a.open_world, &meta)?,
            "indexes_results" => flag(&mut a.indexes_results, &meta)?,
            "name" | "category" | "runtime" | "priority" | "timeout_seconds" | "inline_ms" | "retry"
            | "cache_ttl_seconds" | "deprecated" => {
                let Meta::NameValue(nv) = &meta else {
                    return err(span, format!("`{key}` expects a value: `{key} = ...`"));
                };
                let v = &nv.value;
                let dup = || err::<()>(span, format!("`{key}` is given twice"));
                match key.as_str() {
                    "name" => {
                        if a.name.is_some() {
                            dup()?;
                        }
                        let name = str_of(v, "name")?;
                        let ok = name.len() <= 64
                            && name.starts_with(|c: char| c.is_ascii_lowercase())
                            && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
                        if !ok {
                            return err(
                                v.span(),
                                "`name` must be snake_case: [a-z][a-z0-9_]*, at most 64 chars",
                            );
                        }
                        a.name = Some((name, v.span()));
                    }
                    "category" => {
                        if a.category.is_some() {
                            dup()?;
                        }
                        let id = ident_of(v).unwrap_or_default();
                        let Some((_, variant)) = CATEGORIES.iter().find(|(k, _)| *k == id) else {
                            let names: Vec<_> = CATEGORIES.iter().map(|(k, _)| *k).collect();
                            return err(
                                v.span(),
                                format!("unknown category; expected one of: {}", names.join(", ")),
                            );
                        };
                        let variant = format_ident!("{}", variant);
                        a.category = Some(quote!(::tool_metadata::Category::#variant));
                    }
                    "runtime" => {
                        if a.runtime.is_some() {
                            dup()?;
                        }
                        let id = ident_of(v).unwrap_or_default();
                        if !RUNTIMES.contains(&id.as_str()) {
                            return err(
                                v.span(),
                                format!("unknown runtime; expected one of: {}", RUNTIMES.join(", ")),
                            );
                        }
                        let variant = format_ident!("{}", id);
                        a.runtime = Some(quote!(::tool_metadata::Runtime::#variant));
                    }
                    "priority" => {
                        let p: u8 = int_of(v, "priority")?;
                        if p > 10 {
                            return err(v.span(), "`priority` must be between 0 and 10");
                        }
                        a.priority = Some(p);
                    }
                    "timeout_seconds" => {
                        let t: u64 = int_of(v, "timeout_seconds")?;
                        if t == 0 {
                            return err(v.span(), "`timeout_seconds` must be at least 1");
                        }
                        a.timeout_seconds = Some(t);
                    }
                    "inline_ms" => a.inline_ms = Some(int_of(v, "inline_ms")?),
                    "retry" => a.retry = Some(parse_retry(v)?),
                    "cache_ttl_seconds" => a.cache_ttl_seconds = Some(int_of(v, "cache_ttl_seconds")?),
                    "deprecated" => a.deprecated = Some(str_of(v, "deprecated")?),
                    _ => unreachable!("the outer match lists these keys"),
                }
            }
            _ => return err(span, format!("unknown argument `{key}`; expected one of: {KEYS}")),
        }
    }
    Ok(a)
}

fn doc_of(item: &ItemFn) -> String {
    let mut lines = Vec::new();
    for attr in &item.attrs {
        if !attr.path().is_ident("doc") {
            continue;
        }
        if let Meta::NameValue(nv) = &attr.meta
            && let Expr::Lit(ExprLit { lit: Lit::Str(s), .. }) = &nv.value
        {
            lines.push(s.value());
        }
    }
    let text: Vec<String> = lines.iter().map(|l| l.strip_prefix(' ').unwrap_or(l).to_owned()).collect();
    text.join("\n").trim().to_owned()
}

/// `Result<T, E>` → `T`.
fn ok_type(ret: &ReturnType) -> syn::Result<&Type> {
    const EXPECTED: &str =
        "a tool returns `Result<T, E>` where T: Serialize + JsonSchema and E: Into<ToolError>";
    let ReturnType::Type(_, ty) = ret else { return err(ret.span(), EXPECTED) };
    let Type::Path(p) = &**ty else { return err(ty.span(), EXPECTED) };
    let Some(last) = p.path.segments.last() else { return err(ty.span(), EXPECTED) };
    if last.ident != "Result" {
        return err(ty.span(), EXPECTED);
    }
    let PathArguments::AngleBracketed(args) = &last.arguments else { return err(ty.span(), EXPECTED) };
    match args.args.first() {
        Some(GenericArgument::Type(t)) => Ok(t),
        _ => err(ty.span(), EXPECTED),
    }
}

fn param_type(arg: &FnArg) -> syn::Result<&Type> {
    match arg {
        FnArg::Typed(t) => Ok(&t.ty),
        FnArg::Receiver(r) => err(r.span(), "a tool is a free function, not a method"),
    }
}

fn expand(attr: TokenStream2, item: TokenStream2) -> syn::Result<TokenStream2> {
    let args = parse_args(attr)?;
    let func: ItemFn = syn::parse2(item)?;
    let sig = &func.sig;
    if sig.asyncness.is_none() {
        return err(sig.fn_token.span(), "a tool must be an `async fn`");
    }
    if !sig.generics.params.is_empty() {
        return err(sig.generics.span(), "a tool cannot be generic");
    }
    let (with_ctx, params_ty) = match sig.inputs.len() {
        1 => (false, param_type(&sig.inputs[0])?),
        2 => (true, param_type(&sig.inputs[1])?),
        _ => {
            return err(
                sig.inputs.span(),
                "a tool takes one parameter struct, optionally after a `ToolContext`: \
                 `async fn f(params: P)` or `async fn f(ctx: ToolContext, params: P)`",
            );
        }
    };
    let out_ty = ok_type(&sig.output)?;
    let description = doc_of(&func);
    if description.is_empty() {
        return err(sig.ident.span(), "a tool needs a description: add a `///` doc comment");
    }
    let Some(category) = args.category else {
        return err(
            Span::call_site(),
            "missing `category = ...` (research, indexing, testing, jobs, cache, ops, fixture, workflows)",
        );
    };
    let Some(runtime) = args.runtime else {
        return err(Span::call_site(), "missing `runtime = Async | Blocking | Process`");
    };
    let Some(timeout) = args.timeout_seconds else {
        return err(Span::call_site(), "missing `timeout_seconds = N`");
    };
    let fn_name = &sig.ident;
    let name = args.name.map(|(n, _)| n).unwrap_or_else(|| fn_name.to_string());
    let priority = args.priority.unwrap_or(5);
    let retry = args.retry.unwrap_or_else(|| quote!(::tool_metadata::RetryPolicy::None));
    let opt_u64 = |v: Option<u64>| match v {
        Some(v) => quote!(::core::option::Option::Some(#v)),
        None => quote!(::core::option::Option::None),
    };
    let inline_ms = opt_u64(args.inline_ms);
    let cache_ttl = opt_u64(args.cache_ttl_seconds);
    let deprecated = match args.deprecated {
        Some(d) => quote!(::core::option::Option::Some(#d)),
        None => quote!(::core::option::Option::None),
    };
    let read_only = args.read_only.unwrap_or(false);
    let destructive = args.destructive.unwrap_or(false);
    let idempotent = args.idempotent.unwrap_or(false);
    let open_world = args.open_world.unwrap_or(false);
    let indexes_results = args.indexes_results.unwrap_or(false);
    let call = if with_ctx { quote!(#fn_name(ctx, params)) } else { quote!({ drop(ctx); #fn_name(params) }) };
    let mod_name = format_ident!("__tool_metadata_{}", fn_name);

    Ok(quote! {
        #func

        #[doc(hidden)]
        #[allow(non_snake_case)]
        mod #mod_name {
            use super::*;
            use ::tool_metadata::__private as __p;

            fn input_schema() -> __p::serde_json::Value {
                __p::schema_for::<#params_ty>()
            }

            fn output_schema() -> __p::serde_json::Value {
                __p::schema_for::<#out_ty>()
            }

            fn handler(
                args: __p::serde_json::Value,
                ctx: ::tool_metadata::ToolContext,
            ) -> ::tool_metadata::HandlerFuture {
                ::std::boxed::Box::pin(async move {
                    let params: #params_ty = __p::parse_params(args)?;
                    let out = #call.await.map_err(::core::convert::Into::<::tool_metadata::ToolError>::into)?;
                    __p::to_value(out)
                })
            }

            __p::inventory::submit! {
                ::tool_metadata::ToolDescriptor {
                    name: #name,
                    description: #description,
                    category: #category,
                    runtime: #runtime,
                    priority: #priority,
                    timeout_seconds: #timeout,
                    inline_ms: #inline_ms,
                    retry: #retry,
                    cache_ttl_seconds: #cache_ttl,
                    annotations: ::tool_metadata::Annotations {
                        read_only: #read_only,
                        destructive: #destructive,
                        idempotent: #idempotent,
                        open_world: #open_world,
                    },
                    indexes_results: #indexes_results,
                    deprecated: #deprecated,
                    input_schema,
                    output_schema,
                    handler,
                    source: ::core::concat!(::core::file!(), ":", ::core::line!()),
                }
            }
        }
    })
}

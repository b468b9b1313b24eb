//! The cases of the suite. Each mirrors one bullet of the
//! [`strata_secrets_core::Provider`] documentation.

use crate::{
    Capabilities, CaseResult, Harness, Stored, fetch, path, resolver_with, same, secret_lookup,
};
use futures::FutureExt;
use futures::future::BoxFuture;
use strata_secrets_core::{Answer, Lookup, ProviderExt, Table, Value};

/// One provider case.
pub(crate) struct Case {
    /// The case's name (an identifier: the trial is named after it).
    pub(crate) name: &'static str,
    /// Whether it applies to a provider with these capabilities.
    pub(crate) applies: fn(&Capabilities) -> bool,
    /// The check.
    pub(crate) run: for<'a> fn(&'a dyn Harness) -> BoxFuture<'a, CaseResult>,
}

/// Every case, in the order they run.
pub(crate) static CASES: &[Case] = &[
    Case {
        name: "native_names_follow_the_rule",
        applies: always,
        run: naming,
    },
    Case {
        name: "exact_get",
        applies: always,
        run: exact_get,
    },
    Case {
        name: "missing_is_nothing",
        applies: always,
        run: missing_is_nothing,
    },
    Case {
        name: "tables_come_back_whole",
        applies: sections,
        run: table_values,
    },
    Case {
        name: "scalar_types",
        applies: always,
        run: scalar_types,
    },
    Case {
        name: "secret_flags",
        applies: always,
        run: secret_flags,
    },
    Case {
        name: "pipeline_scoped_paths",
        applies: sections,
        run: pipeline_scoped,
    },
    Case {
        name: "concurrent_lookups_agree",
        applies: always,
        run: concurrent,
    },
    Case {
        name: "no_secret_in_debug",
        applies: always,
        run: no_secret_in_debug,
    },
    Case {
        name: "bad_names_are_errors_not_panics",
        applies: always,
        run: bad_names,
    },
    Case {
        name: "answers_at_once_agree_with_get",
        applies: always,
        run: answers_at_once_agree,
    },
];

fn always(_: &Capabilities) -> bool {
    true
}

fn sections(c: &Capabilities) -> bool {
    c.supports_sections
}

/// Paths of every kind: one segment, deep, pipeline-scoped, punctuation,
/// whitespace, unicode.
const PATH_KINDS: &[&str] = &[
    "key",
    "sources.pipedrive.api_key",
    "destination.bigquery.credentials.project_id",
    "my_pipeline.sources.pipedrive.api_key",
    "sources.my source!.key",
    "a.B_c-d.E",
    "sources.schlüssel",
];

fn naming(h: &dyn Harness) -> BoxFuture<'_, CaseResult> {
    async move {
        let caps = h.capabilities();
        let provider = h.make(&[]).await;
        for text in PATH_KINDS {
            let p = path(text);
            let want = caps.naming.name(&p).ok();
            let got = provider.native_name(&p).ok();
            if want != got {
                return Err(format!(
                    "`{text}`: native name {got:?}, the rule gives {want:?}"
                ));
            }
        }
        // a found value's provenance carries that name
        let stored: Vec<Stored> = PATH_KINDS
            .iter()
            .filter(|t| caps.naming.name(&path(t)).is_ok())
            .map(|t| Stored::new(t, format!("value of {t}")))
            .collect();
        let provider = h.make(&stored).await;
        for s in &stored {
            if !caps.supports_sections && s.path.len() > 1 {
                continue;
            }
            match provider.get(&s.path, false).await {
                Ok(Answer::Found(f)) => {
                    let want = provider.native_name(&s.path).map_err(|e| e.to_string())?;
                    if f.provenance.name != want {
                        return Err(format!(
                            "`{}` was found under {:?}, its native name is {want:?}",
                            s.path, f.provenance.name
                        ));
                    }
                }
                Ok(_) => return Err(format!("`{}` was stored but not found", s.path)),
                Err(e) => return Err(format!("`{}`: {e}", s.path)),
            }
        }
        Ok(())
    }
    .boxed()
}

fn basic_values() -> Vec<Stored> {
    vec![
        Stored::new("key", "top"),
        Stored::new("sources.pipedrive.api_key", "pd-key"),
        Stored::new("destination.postgres.credentials.password", "pw"),
        Stored::new("runtime.log_level", "WARNING"),
    ]
}

fn exact_get(h: &dyn Harness) -> BoxFuture<'_, CaseResult> {
    async move {
        let caps = h.capabilities();
        let values: Vec<Stored> = basic_values()
            .into_iter()
            .filter(|s| caps.supports_sections || s.path.len() == 1)
            .collect();
        let provider = h.make(&values).await;
        for s in &values {
            let got = fetch(provider.as_ref(), &s.path.to_string(), false).await?;
            match got {
                Some(v) if same(&s.value, &v, caps.typed_values) => {}
                Some(v) => return Err(format!("`{}` gave a different {}", s.path, v.kind())),
                None => return Err(format!("`{}` was stored but not found", s.path)),
            }
            // the same through the resolver's exact get
            let resolved = resolver_with(provider.clone())
                .get(&s.path, &Lookup::config())
                .await
                .map_err(|e| format!("resolver get `{}`: {e}", s.path))?;
            if !same(&s.value, resolved.expose(), caps.typed_values) {
                return Err(format!("resolver get `{}` gave another value", s.path));
            }
        }
        Ok(())
    }
    .boxed()
}

fn missing_is_nothing(h: &dyn Harness) -> BoxFuture<'_, CaseResult> {
    async move {
        let provider = h
            .make(&[Stored::new("present", "x"), Stored::new("a.b", "x")])
            .await;
        for absent in [
            "absent",
            "present.below",
            "a.b.c",
            "a.c",
            "sources.nothing.here",
        ] {
            if fetch(provider.as_ref(), absent, false).await?.is_some() {
                return Err(format!("`{absent}` was never stored but was found"));
            }
            if fetch(provider.as_ref(), absent, true).await?.is_some() {
                return Err(format!(
                    "`{absent}` (secret lookup) was never stored but was found"
                ));
            }
        }
        // a missing value through the resolver is the Missing error, with a trace
        let err = resolver_with(provider)
            .get(&path("absent"), &Lookup::config())
            .await
            .err()
            .ok_or("the resolver found a value that was never stored")?;
        let report = err
            .missing_report()
            .ok_or("missing value is not a Missing error")?;
        if report.trace.entries.is_empty() {
            return Err("the missing-value trace is empty".into());
        }
        Ok(())
    }
    .boxed()
}

fn credentials() -> Table {
    let mut t = Table::default();
    t.insert("host".into(), Value::from("db.example.com"));
    t.insert("port".into(), Value::Integer(5432));
    t.insert("password".into(), Value::from("p@ss \"word\""));
    t
}

fn table_values(h: &dyn Harness) -> BoxFuture<'_, CaseResult> {
    async move {
        let provider = h
            .make(&[Stored::new(
                "destination.postgres.credentials",
                credentials(),
            )])
            .await;
        let got = fetch(provider.as_ref(), "destination.postgres.credentials", true)
            .await?
            .ok_or("a stored table was not found")?;
        let table = got
            .to_table()
            .ok_or("a stored table does not read as a table")?;
        let want = Value::Table(credentials());
        if !same(&want, &Value::Table(table.into_owned()), false) {
            return Err("the table read back differs".into());
        }
        // a typed read of one field of the table works too
        let port = got
            .to_table()
            .and_then(|t| t.get("port").and_then(|p| p.deserialize::<u16>().ok()));
        if port != Some(5432) {
            return Err("the table's port does not read as 5432".into());
        }
        Ok(())
    }
    .boxed()
}

fn scalar_values() -> Vec<Stored> {
    vec![
        Stored::new("s.text", "plain text"),
        Stored::new("s.leading_zero", "0123"),
        Stored::new("s.empty", ""),
        Stored::new("s.multiline", "line one\nline two\n"),
        Stored::new("s.unicode", "żółw 🐢 \u{00e9}"),
        Stored::new("s.integer", 42i64),
        Stored::new("s.negative", -7i64),
        Stored::new("s.float", 2.5f64),
        Stored::new("s.boolean", true),
        Stored::new(
            "s.array",
            Value::Array(vec![Value::from("a"), Value::Integer(1)]),
        ),
    ]
}

fn scalar_types(h: &dyn Harness) -> BoxFuture<'_, CaseResult> {
    async move {
        let caps = h.capabilities();
        let values: Vec<Stored> = scalar_values()
            .into_iter()
            .filter(|s| caps.empty_values || s.value != Value::from(""))
            .map(|s| {
                if caps.supports_sections {
                    s
                } else {
                    Stored {
                        path: path(s.path.key()),
                        value: s.value,
                    }
                }
            })
            .collect();
        let provider = h.make(&values).await;
        for s in &values {
            let got = fetch(provider.as_ref(), &s.path.to_string(), false)
                .await?
                .ok_or_else(|| format!("`{}` not found", s.path))?;
            if !same(&s.value, &got, caps.typed_values) {
                return Err(format!(
                    "`{}`: stored {}, read back another {}",
                    s.path,
                    s.value.kind(),
                    got.kind()
                ));
            }
        }
        // text is kept exactly and converted only on request
        let zero_path = values
            .iter()
            .find(|s| s.path.key() == "leading_zero")
            .map(|s| s.path.to_string())
            .ok_or("no leading-zero value")?;
        let zero = fetch(provider.as_ref(), &zero_path, false)
            .await?
            .ok_or("leading zero text not found")?;
        if zero.deserialize::<String>().ok().as_deref() != Some("0123") {
            return Err("\"0123\" did not stay \"0123\" as a string".into());
        }
        if zero.deserialize::<i64>().ok() != Some(123) {
            return Err("\"0123\" did not read as the integer 123".into());
        }
        Ok(())
    }
    .boxed()
}

fn secret_flags(h: &dyn Harness) -> BoxFuture<'_, CaseResult> {
    async move {
        let caps = h.capabilities();
        let provider = h.make(&[Stored::new("token", "tok")]).await;
        if provider.may_hold_secrets() != caps.may_hold_secrets {
            return Err(format!(
                "may_hold_secrets() is {}, the harness says {}",
                provider.may_hold_secrets(),
                caps.may_hold_secrets
            ));
        }
        let resolver = resolver_with(provider);
        let secret = resolver.get(&path("token"), &secret_lookup()).await;
        match (caps.may_hold_secrets, secret) {
            (true, Ok(_)) => {}
            (true, Err(e)) => return Err(format!("a secret lookup failed: {e}")),
            (false, Ok(_)) => {
                return Err("a provider that may not hold secrets answered a secret lookup".into());
            }
            (false, Err(e)) => {
                let note = e
                    .missing_report()
                    .map(|r| r.notes.join(" "))
                    .unwrap_or_default();
                if !note.contains("move it to secrets.toml") {
                    return Err(format!(
                        "the missing-secret error does not say where the value is: {e}"
                    ));
                }
            }
        }
        if resolver
            .get(&path("token"), &Lookup::config())
            .await
            .is_err()
        {
            return Err("a configuration lookup did not find the value".into());
        }
        Ok(())
    }
    .boxed()
}

fn pipeline_scoped(h: &dyn Harness) -> BoxFuture<'_, CaseResult> {
    async move {
        let provider = h
            .make(&[
                Stored::new("my_pipe.sources.x.key", "scoped"),
                Stored::new("sources.x.key", "plain"),
                Stored::new("sources.x.only_plain", "plain-only"),
            ])
            .await;
        let resolver = resolver_with(provider);
        let text = |r: &strata_secrets_core::Resolved| r.expose().as_str().map(str::to_owned);
        let scoped = resolver
            .get(
                &path("sources.x.key"),
                &Lookup::config().pipeline("my_pipe"),
            )
            .await
            .map_err(|e| e.to_string())?;
        if text(&scoped).as_deref() != Some("scoped") {
            return Err("the pipeline-scoped value did not win".into());
        }
        if scoped.path().to_string() != "my_pipe.sources.x.key" {
            return Err(format!("answered from `{}`", scoped.path()));
        }
        let plain = resolver
            .get(&path("sources.x.key"), &Lookup::config())
            .await
            .map_err(|e| e.to_string())?;
        if text(&plain).as_deref() != Some("plain") {
            return Err("without a pipeline the unscoped value must answer".into());
        }
        let fallback = resolver
            .get(
                &path("sources.x.only_plain"),
                &Lookup::config().pipeline("my_pipe"),
            )
            .await
            .map_err(|e| e.to_string())?;
        if text(&fallback).as_deref() != Some("plain-only") {
            return Err("a scoped lookup did not fall back to the unscoped value".into());
        }
        let walked = resolver
            .walk(
                &["sources".into(), "x".into()],
                "key",
                &Lookup::config().pipeline("my_pipe"),
            )
            .await
            .map_err(|e| e.to_string())?;
        if text(&walked).as_deref() != Some("scoped") {
            return Err("the section walk's pipeline pass did not win".into());
        }
        Ok(())
    }
    .boxed()
}

fn concurrent(h: &dyn Harness) -> BoxFuture<'_, CaseResult> {
    async move {
        let caps = h.capabilities();
        let values: Vec<Stored> = (0..20)
            .map(|i| {
                if caps.supports_sections {
                    Stored::new(&format!("sources.s{i}.key"), format!("v{i}"))
                } else {
                    Stored::new(&format!("key{i}"), format!("v{i}"))
                }
            })
            .collect();
        let provider = h.make(&values).await;
        let lookups = (0..200).map(|n| {
            let provider = provider.clone();
            let s = values[n % values.len()].clone();
            let absent = n % 7 == 0;
            async move {
                let at = if absent {
                    s.path.child("absent").ok()
                } else {
                    Some(s.path.clone())
                };
                let Some(at) = at else {
                    return Err("bad path".to_owned());
                };
                let got = provider
                    .get(&at, n % 2 == 0)
                    .await
                    .map_err(|e| e.to_string())?;
                Ok::<_, String>((n, absent, got.found().map(|f| f.value), s.value))
            }
        });
        for outcome in futures::future::join_all(lookups).await {
            let (n, absent, got, want) = outcome?;
            match (absent, got) {
                (true, None) => {}
                (true, Some(_)) => return Err(format!("lookup {n} found an absent path")),
                (false, Some(v)) if same(&want, &v, caps.typed_values) => {}
                (false, _) => return Err(format!("lookup {n} disagreed with the stored value")),
            }
        }
        Ok(())
    }
    .boxed()
}

const CANARY: &str = "canary-hunter2-7f3a9";

fn no_secret_in_debug(h: &dyn Harness) -> BoxFuture<'_, CaseResult> {
    async move {
        let mut creds = Table::default();
        creds.insert("password".into(), Value::from(CANARY));
        let caps = h.capabilities();
        let mut values = vec![Stored::new("api_key", CANARY)];
        if caps.supports_sections {
            values.push(Stored::new("destination.pg.credentials", creds));
        }
        let provider = h.make(&values).await;
        let leaks = |what: &str, text: String| {
            if text.contains(CANARY) {
                Err(format!("{what} prints the secret: {text}"))
            } else {
                Ok(())
            }
        };
        leaks("Debug of the provider", format!("{provider:?}"))?;
        for s in &values {
            let answer = provider
                .get(&s.path, true)
                .await
                .map_err(|e| e.to_string())?;
            leaks("Debug of an answer", format!("{answer:?}"))?;
            let resolver = resolver_with(provider.clone());
            let lookup = if caps.may_hold_secrets {
                Lookup::secret()
            } else {
                Lookup::config()
            };
            let resolved = resolver
                .get(&s.path, &lookup)
                .await
                .map_err(|e| e.to_string())?;
            leaks("Debug of a resolved value", format!("{resolved:?}"))?;
            leaks("the trace", format!("{:?}", resolved.trace()))?;
            // conversion errors name the type, not the value
            if let Err(e) = resolved.deserialize::<i64>() {
                leaks("a conversion error", e.to_string())?;
                leaks("a conversion error's Debug", format!("{e:?}"))?;
            }
            let missing = resolver
                .get(&s.path.child("absent").map_err(|e| e.to_string())?, &lookup)
                .await
                .err()
                .ok_or("an absent path was found")?;
            leaks("a missing-value error", missing.to_string())?;
        }
        Ok(())
    }
    .boxed()
}

fn bad_names(h: &dyn Harness) -> BoxFuture<'_, CaseResult> {
    async move {
        let provider = h.make(&[Stored::new("ok", "x")]).await;
        // as long as a path may be: over every vault's name limit
        let long = "x".repeat(strata_secrets_core::MAX_PATH_BYTES - 20);
        let weird: Vec<String> = vec![
            long.clone(),
            format!("sources.{long}.key"),
            "!!!.???".into(),
            "sources. .key".into(),
            "ключ.значение".into(),
            "a.b/c.d".into(),
            "\"quoted\".'single'".into(),
            "emoji.🐢".into(),
        ];
        for text in &weird {
            let p = path(text);
            let _ = provider.native_name(&p);
            // an error or nothing; a panic fails the case (caught by the runner)
            if let Ok(Answer::Found(_)) = provider.get(&p, false).await {
                return Err(format!(
                    "`{}` was never stored but was found",
                    &text[..text.len().min(40)]
                ));
            }
            let _ = provider.get(&p, true).await;
        }
        let too_long = "x".repeat(strata_secrets_core::MAX_PATH_BYTES + 1);
        let too_deep = vec!["s"; strata_secrets_core::MAX_SEGMENTS + 1].join(".");
        for bad in ["", "a..b", ".a", "a.", "a.\n", &too_long, &too_deep] {
            if strata_secrets_core::Path::parse(bad).is_ok() {
                return Err(format!("{:?} parsed as a path", &bad[..bad.len().min(40)]));
            }
        }
        Ok(())
    }
    .boxed()
}

/// `peek` and the answer core builds on it (the resolver's fast path, with
/// the provenance from `native_name` and `origin`) give exactly what
/// `lookup` gives, found or not, for secret and plain lookups, and a peek's
/// answer does not change.
fn answers_at_once_agree(h: &dyn Harness) -> BoxFuture<'_, CaseResult> {
    async move {
        let caps = h.capabilities();
        let values: Vec<Stored> = basic_values()
            .into_iter()
            .filter(|s| caps.supports_sections || s.path.len() == 1)
            .collect();
        let provider = h.make(&values).await;
        let mut asked: Vec<String> = values.iter().map(|s| s.path.to_string()).collect();
        asked.extend(
            [
                "absent",
                "sources.pipedrive",
                "sources.pipedrive.api_key.below",
            ]
            .map(str::to_owned),
        );
        for text in &asked {
            let p = path(text);
            let segments: Vec<&str> = p.segments().iter().map(String::as_str).collect();
            for secret in [false, true] {
                if let Some(peeked) = peeked_value(provider.peek(&segments, secret)) {
                    let got = provider
                        .get(&p, secret)
                        .await
                        .map_err(|e| format!("get `{text}`: {e}"))?;
                    // a peek's answer is final: the resolver may keep it
                    if peeked_value(provider.peek(&segments, secret)).as_ref() != Some(&peeked) {
                        return Err(format!(
                            "`{text}` (secret: {secret}): peek changed its answer after a get"
                        ));
                    }
                    match (peeked, got) {
                        (None, Answer::NotFound) => {}
                        (Some(a), Answer::Found(b)) if a == b.value => {}
                        (a, b) => {
                            return Err(format!(
                                "`{text}` (secret: {secret}): peek saw {}, get gave {}",
                                if a.is_some() { "a value" } else { "nothing" },
                                kind(&b)
                            ));
                        }
                    }
                }
                let Some(now) = provider.answer_now(&segments, secret) else {
                    continue;
                };
                let later = provider
                    .get(&p, secret)
                    .await
                    .map_err(|e| format!("get `{text}`: {e}"))?;
                match (now, later) {
                    (Answer::NotFound, Answer::NotFound) => {}
                    (Answer::Found(a), Answer::Found(b)) => {
                        if a.value != b.value || a.provenance != b.provenance {
                            return Err(format!(
                                "`{text}`: the answer at once and get found different values or provenance"
                            ));
                        }
                    }
                    (a, b) => {
                        return Err(format!(
                            "`{text}` (secret: {secret}): the answer at once was {}, get gave {}",
                            kind(&a),
                            kind(&b)
                        ));
                    }
                }
            }
        }
        Ok(())
    }
    .boxed()
}

/// `Some(None)`: not found; `Some(Some(v))`: found; `None`: no answer at once.
fn peeked_value(p: strata_secrets_core::Peek<'_>) -> Option<Option<Value>> {
    match p {
        strata_secrets_core::Peek::Found(strata_secrets_core::ValueRef::Value(v)) => {
            Some(Some(v.clone()))
        }
        strata_secrets_core::Peek::Found(strata_secrets_core::ValueRef::Text(t)) => {
            Some(Some(Value::String(t.to_owned())))
        }
        strata_secrets_core::Peek::NotFound => Some(None),
        _ => None,
    }
}

fn kind(a: &Answer) -> &'static str {
    match a {
        Answer::Found(_) => "found",
        Answer::NotFound => "not found",
        Answer::Withheld { .. } => "withheld",
        _ => "skipped",
    }
}

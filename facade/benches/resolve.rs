//! Resolution speed: opening a workspace of 1,000 keys in 4 files plus 200
//! environment variables, exact gets and section walks over it.
//!
//! `cargo bench -p strata-secrets --bench resolve`

#![allow(clippy::unwrap_used, clippy::expect_used)]

use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;
use std::path::Path as FsPath;
use strata_secrets::{Environment, Lookup, Options, Strata};

/// Writes 250 keys into each of 4 files (two profile files, two base files)
/// and returns the paths of all keys, plus 200 environment variables (100
/// overriding file keys, 100 of their own).
fn build(dir: &FsPath) -> (Vec<String>, Vec<(String, String)>) {
    std::fs::create_dir_all(dir.join(".dlt")).unwrap();
    std::fs::write(dir.join(".dlt/.workspace"), "").unwrap();
    let files = [
        "dev.secrets.toml",
        "secrets.toml",
        "dev.config.toml",
        "config.toml",
    ];
    let mut paths = Vec::new();
    for (f, file) in files.iter().enumerate() {
        let mut text = String::new();
        for s in 0..25 {
            text.push_str(&format!("[sources.source_{f}_{s}.resource]\n"));
            for k in 0..10 {
                text.push_str(&format!("key_{k} = \"value-{f}-{s}-{k}\"\n"));
                paths.push(format!("sources.source_{f}_{s}.resource.key_{k}"));
            }
        }
        std::fs::write(dir.join(".dlt").join(file), text).unwrap();
    }
    let mut env = Vec::new();
    for i in 0..100 {
        let p = &paths[i * 10];
        env.push((
            strata_secrets::naming::env_var_name(&strata_secrets::Path::parse(p).unwrap()),
            format!("env-{i}"),
        ));
        env.push((format!("EXTRA__SECTION_{i}__KEY"), format!("extra-{i}")));
    }
    (paths, env)
}

fn bench(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let (paths, env) = build(dir.path());
    let options = Options {
        run_dir: Some(dir.path().to_path_buf()),
        global_dir: Some(dir.path().join("no-global")),
        env: Some(Environment::from_pairs(env)),
        secrets_dir: Some(dir.path().join("no-run-secrets")),
        ..Default::default()
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let strata = Strata::open_local(options.clone()).unwrap();
    // sanity: every key resolves before anything is timed
    for p in &paths {
        rt.block_on(strata.get(p, &Lookup::config())).unwrap();
    }

    c.bench_function("open workspace (4 files, 1,000 keys, 200 env vars)", |b| {
        b.iter(|| black_box(Strata::open_local(options.clone()).unwrap()))
    });

    // Lookups are awaited inside one runtime call, as a pipeline running on
    // tokio awaits them: 1,000 per iteration, so the numbers are per 1,000.
    let batch = |secret: bool, walk: bool, pipeline: bool| {
        let strata = &strata;
        let paths = &paths;
        let rt = &rt;
        move || {
            rt.block_on(async {
                let mut lookup = if secret {
                    Lookup::secret()
                } else {
                    Lookup::config()
                };
                if pipeline {
                    lookup = lookup.pipeline("my_pipeline");
                }
                // secret lookups over the secrets files' 500 keys
                let n = if secret { 500 } else { paths.len() };
                for k in 0..1000 {
                    let path = &paths[(k * 7) % n];
                    let r = if walk {
                        strata.walk(path, &lookup).await
                    } else {
                        strata.get(path, &lookup).await
                    };
                    black_box(r.unwrap());
                }
            })
        }
    };

    // the value alone, as dlt's accessors return it: `config::<String>`
    // (dlt.config.get), `secret` (dlt.secrets.get), `walk_value` (one field
    // of a dlt configuration)
    c.bench_function("1,000 config values", |b| {
        b.iter(|| {
            rt.block_on(async {
                for k in 0..1000 {
                    let path = &paths[(k * 7) % paths.len()];
                    black_box(strata.config::<String>(path).await.unwrap());
                }
            })
        })
    });
    c.bench_function("1,000 secret values", |b| {
        b.iter(|| {
            rt.block_on(async {
                for k in 0..1000 {
                    let path = &paths[(k * 7) % 500];
                    black_box(strata.secret(path).await.unwrap());
                }
            })
        })
    });
    c.bench_function("1,000 walked values", |b| {
        b.iter(|| {
            rt.block_on(async {
                let lookup = Lookup::config();
                for k in 0..1000 {
                    let path = &paths[(k * 7) % paths.len()];
                    black_box(strata.walk_value::<String>(path, &lookup).await.unwrap());
                }
            })
        })
    });

    // the full answer: the value with its provenance and trace
    c.bench_function("1,000 exact gets (config, over all providers)", |b| {
        b.iter(batch(false, false, false))
    });
    c.bench_function("1,000 exact gets (secret)", |b| {
        b.iter(batch(true, false, false))
    });
    // walk for `sources.<src>.resource.<key>` where the value sits at the
    // most specific path
    c.bench_function("1,000 section walks (config)", |b| {
        b.iter(batch(false, true, false))
    });
    c.bench_function("1,000 section walks with a pipeline pass (config)", |b| {
        b.iter(batch(false, true, true))
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20).measurement_time(std::time::Duration::from_secs(3));
    targets = bench
}
criterion_main!(benches);

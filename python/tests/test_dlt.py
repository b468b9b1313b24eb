"""strata in dlt: real dlt 1.31 pipelines (duckdb) whose source key and
destination credentials live only in a vault, reached through
strata_secrets.dlt.register(); dlt's own resolution compared with
chain="all"; many threads at once; no secret in dlt's logs."""

import hashlib
import json
import os
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest

from conftest import Bao, CountingProxy, LocalServer, http_json

HERE = Path(__file__).resolve().parent
API_KEY = "canary-api-key-3141"


def clean_env(home: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.upper().startswith(
        ("PROVIDERS__", "DLT_", "WORKSPACE__", "VAULT_", "AWS_", "AZURE_", "GOOGLE_",
         "SOURCES__", "DESTINATION__", "STRATA_", "RUNTIME__", "BAO_"))}
    env["HOME"] = str(home)
    env["RUNTIME__DLTHUB_TELEMETRY"] = "false"
    return env


def run_pipeline(mode: str, workdir: Path, env: dict, debug: bool = False) -> subprocess.CompletedProcess:
    args = [sys.executable, str(HERE / "dlt_pipeline.py"), mode, str(workdir)]
    if debug:
        args.append("debug")
    # an empty workspace: nothing but the vault holds the values
    (workdir / ".dlt").mkdir(parents=True, exist_ok=True)
    return subprocess.run(args, cwd=workdir, env=env, capture_output=True, text=True, timeout=300)


def expected_rows():
    digest = hashlib.sha256(API_KEY.encode()).hexdigest()
    return [[i, digest] for i in range(3)]


def loaded(r: subprocess.CompletedProcess):
    assert r.returncode == 0, r.stderr[-3000:]
    return json.loads(r.stdout.strip().splitlines()[-1])


def test_a_pipeline_from_openbao(tmp_path):
    bao = Bao()
    try:
        db = tmp_path / "warehouse.duckdb"
        bao.put("dlt/sources/demo", {"api_key": API_KEY})
        bao.put("dlt/destination/duckdb", {"credentials": str(db)})
        env = clean_env(tmp_path)
        env.update(PROVIDERS__ENABLE_HASHICORP_VAULT="true", VAULT_ADDR=bao.addr, VAULT_TOKEN=bao.token)
        r = run_pipeline("strata", tmp_path, env, debug=True)
        assert loaded(r) == expected_rows()
        assert db.exists(), "the destination's credentials came from the vault"
        # dlt's own logs at DEBUG hold neither secret
        assert API_KEY not in r.stderr and bao.token not in r.stderr
        assert API_KEY not in r.stdout
    finally:
        bao.stop()


def test_a_pipeline_from_the_local_key_vault(tmp_path):
    db = tmp_path / "warehouse.duckdb"
    src = tmp_path / "sources-demo.toml"
    src.write_text(f'[sources.demo]\napi_key = "{API_KEY}"\n')
    dst = tmp_path / "destination-duckdb.toml"
    dst.write_text(f'[destination.duckdb]\ncredentials = "{db}"\n')
    kv = LocalServer("local-key-vault", ["--secret", f"sources--demo={src}",
                                         "--secret", f"destination--duckdb={dst}"])
    try:
        i = kv.info
        env = clean_env(tmp_path)
        env.update(
            PROVIDERS__ENABLE_AZURE_KEY_VAULT="true",
            PROVIDERS__AZURE_KEY_VAULT__VAULT_URL=i["vault_url"],
            PROVIDERS__AZURE_KEY_VAULT__AUTHORITY_HOST=i["authority_host"],
            PROVIDERS__AZURE_KEY_VAULT__CA_CERTIFICATE=i["ca_pem"],
            PROVIDERS__AZURE_KEY_VAULT__CREDENTIALS__AZURE_TENANT_ID=i["tenant_id"],
            PROVIDERS__AZURE_KEY_VAULT__CREDENTIALS__AZURE_CLIENT_ID=i["client_id"],
            PROVIDERS__AZURE_KEY_VAULT__CREDENTIALS__AZURE_CLIENT_SECRET=i["client_secret"],
        )
        r = run_pipeline("strata", tmp_path, env, debug=True)
        assert loaded(r) == expected_rows()
        assert db.exists()
        assert API_KEY not in r.stderr and i["client_secret"] not in r.stderr
    finally:
        kv.stop()


def google_counts(endpoint: str) -> dict:
    return http_json("GET", f"{endpoint}/_local/counts")


def test_a_pipeline_from_the_local_secret_manager_as_dlt_reads_it(tmp_path):
    """strata through register() and dlt's own GoogleSecretsProvider load the
    same rows from the same vault; the requests of each are counted."""
    db = tmp_path / "warehouse.duckdb"
    src = tmp_path / "sources-demo.toml"
    src.write_text(f'[sources.demo]\napi_key = "{API_KEY}"\n')
    dst = tmp_path / "destination-duckdb.toml"
    dst.write_text(f'[destination.duckdb]\ncredentials = "{db}"\n')
    key_file = tmp_path / "key.json"
    sm = LocalServer("local-secret-manager", ["--key-out", str(key_file),
                                              "--secret", f"sources-demo={src}",
                                              "--secret", f"destination-duckdb={dst}"])
    try:
        endpoint = sm.info["endpoint"]
        counts = {}
        rows = {}
        for mode in ("strata", "dlt-google"):
            work = tmp_path / mode
            work.mkdir()
            env = clean_env(tmp_path)
            if mode == "strata":
                env.update(
                    PROVIDERS__ENABLE_GOOGLE_SECRETS="true",
                    PROVIDERS__GOOGLE_SECRETS__ENDPOINT=endpoint,
                    PROVIDERS__GOOGLE_SECRETS__CREDENTIALS=key_file.read_text(),
                )
            else:
                env.update(GOOGLE_ENDPOINT=endpoint, GOOGLE_KEY_FILE=str(key_file))
            http_json("POST", f"{endpoint}/_local/reset")
            r = run_pipeline(mode, work, env)
            rows[mode] = loaded(r)
            c = google_counts(endpoint)
            counts[mode] = {
                "api": sum(v for k, v in c.items() if not k.startswith("token")),
                "token": sum(v for k, v in c.items() if k.startswith("token")),
            }
            if db.exists():
                db.unlink()
        assert rows["strata"] == rows["dlt-google"] == expected_rows()
        print("Secret Manager requests:", json.dumps(counts))
        assert counts["strata"]["api"] > 0 and counts["dlt-google"]["api"] > 0
        # strata never asks for more than dlt's own provider does
        assert counts["strata"]["api"] <= counts["dlt-google"]["api"], counts
    finally:
        sm.stop()


RESOLVE = textwrap.dedent(
    """
    import json, sys
    import dlt
    from dlt.common.configuration import configspec, resolve_configuration
    from dlt.common.configuration.container import Container
    from dlt.common.configuration.specs import BaseConfiguration, CredentialsConfiguration
    from dlt.common.configuration.specs.config_section_context import ConfigSectionContext
    from dlt.common.typing import TSecretValue

    @configspec
    class Creds(CredentialsConfiguration):
        host: str = None
        port: int = None
        password: TSecretValue = None

    @configspec
    class Source(BaseConfiguration):
        api_key: TSecretValue = None
        page_size: int = None
        credentials: Creds = None

    mode, profile, pipeline = sys.argv[1], sys.argv[2], sys.argv[3]
    if mode == "dlt":
        from dlt._workspace.run_context import switch_profile
        switch_profile(profile)
    else:
        import strata_secrets.dlt
        strata_secrets.dlt.register(profile=profile, chain="all")
    ctx = ConfigSectionContext(pipeline_name=pipeline or None, sections=("sources", "pipedrive"))
    with Container().injectable_context(ctx):
        c = resolve_configuration(Source(), sections=("sources", "pipedrive"))
    print(json.dumps({"api_key": c.api_key, "page_size": c.page_size,
                      "credentials": {"host": c.credentials.host, "port": c.credentials.port,
                                      "password": c.credentials.password}}))
    """
)


def test_chain_all_resolves_as_dlt_alone(tmp_path):
    """dlt's resolve_configuration of a configspec with profiles, an
    environment override and a pipeline scope, through dlt's own chain and
    through strata's whole chain: the same answers."""
    dlt_dir = tmp_path / ".dlt"
    dlt_dir.mkdir()
    (dlt_dir / ".workspace").write_text("")
    (dlt_dir / "secrets.toml").write_text(
        "[sources.pipedrive]\napi_key = \"base-key\"\n"
        "[sources.pipedrive.credentials]\npassword = \"base-pw\"\nhost = \"base-host\"\n"
        "[my_pipe.sources.pipedrive]\napi_key = \"pipe-key\"\n"
    )
    (dlt_dir / "prod.secrets.toml").write_text(
        "[sources.pipedrive.credentials]\npassword = \"prod-pw\"\n"
    )
    (dlt_dir / "config.toml").write_text("[sources.pipedrive]\npage_size = 100\n[sources.credentials]\nport = 5432\n")
    (dlt_dir / "prod.config.toml").write_text("[sources.pipedrive.credentials]\nport = 6543\n")
    script = tmp_path / "resolve.py"
    script.write_text(RESOLVE)
    for profile in ("dev", "prod"):
        for pipeline in ("", "my_pipe"):
            for override in ({}, {"SOURCES__PIPEDRIVE__CREDENTIALS__HOST": "env-host"}):
                env = clean_env(tmp_path)
                env.update(override)
                out = {}
                for mode in ("dlt", "strata"):
                    r = subprocess.run([sys.executable, str(script), mode, profile, pipeline], cwd=tmp_path,
                                       env=env, capture_output=True, text=True, timeout=120)
                    assert r.returncode == 0, (mode, r.stderr[-2000:])
                    out[mode] = json.loads(r.stdout.strip().splitlines()[-1])
                assert out["strata"] == out["dlt"], (profile, pipeline, override, out)


def test_many_threads_share_one_vault_fetch(tmp_path, project):
    """16 threads resolving at once through the dlt provider: correct
    values, and no more vault requests than one thread's (counted in
    OpenBao's audit log)."""
    from dlt.common.typing import TSecretValue

    from strata_secrets.dlt import StrataProvider

    bao = Bao()
    proxy = CountingProxy(bao.addr)
    try:
        bao.put("dlt/sources/demo", {"api_key": API_KEY, "other": "x"})
        project.setenv("PROVIDERS__ENABLE_HASHICORP_VAULT", "true")
        project.setenv("VAULT_ADDR", proxy.url)
        project.setenv("VAULT_TOKEN", bao.token)

        def resolve(provider, threads):
            results, errors = [], []

            def work():
                try:
                    for key in ("api_key", "other"):
                        v, _ = provider.get_value(key, TSecretValue, None, "sources", "demo")
                        results.append((key, v))
                except Exception as e:  # reported below
                    errors.append(e)

            ts = [threading.Thread(target=work) for _ in range(threads)]
            for t in ts:
                t.start()
            for t in ts:
                t.join()
            assert not errors, errors
            return results

        before = proxy.count("/v1/secret/")
        one = resolve(StrataProvider(project.open(), "vaults"), 1)
        one_thread = proxy.count("/v1/secret/") - before
        before = proxy.count("/v1/secret/")
        many = resolve(StrataProvider(project.open(), "vaults"), 16)
        sixteen_threads = proxy.count("/v1/secret/") - before
        assert sorted(one) == [("api_key", API_KEY), ("other", "x")]
        assert sorted(set(many)) == sorted(one) and len(many) == 32
        assert one_thread > 0
        assert sixteen_threads <= one_thread, (one_thread, sixteen_threads)
    finally:
        proxy.stop()
        bao.stop()

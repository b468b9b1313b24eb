"""A real dlt pipeline (duckdb), run as its own process by test_dlt.py so
that dlt's global configuration state starts fresh each time.

    python dlt_pipeline.py MODE WORKDIR

MODE is `strata` (strata.dlt.register(), chain="vaults"), `strata-all`
(chain="all") or `dlt-google` (dlt's own GoogleSecretsProvider, pointed at
the local Secret Manager by GOOGLE_ENDPOINT and GOOGLE_KEY_FILE). The
source takes `api_key=dlt.secrets.value`; the destination's credentials
(the duckdb file) are a secret too. Both come only from the vault. Prints
one JSON line: the rows loaded.
"""

import hashlib
import json
import logging
import sys

import dlt

mode, workdir = sys.argv[1], sys.argv[2]

if mode in ("strata", "strata-all"):
    import strata_secrets.dlt

    strata_secrets.dlt.register(chain="vaults" if mode == "strata" else "all")
elif mode == "dlt-google":
    import os

    import googleapiclient.discovery as discovery
    from dlt.common.configuration.providers.google_secrets import GoogleSecretsProvider
    from dlt.common.configuration.specs import GcpServiceAccountCredentials
    from google.oauth2.service_account import Credentials

    endpoint = os.environ["GOOGLE_ENDPOINT"]
    _build = discovery.build

    def build(*args, **kwargs):
        kwargs["client_options"] = {"api_endpoint": endpoint}
        return _build(*args, **kwargs)

    discovery.build = build
    creds = GcpServiceAccountCredentials()
    with open(os.environ["GOOGLE_KEY_FILE"]) as f:
        creds.parse_native_representation(Credentials.from_service_account_info(json.load(f)))
    dlt.config.register_provider(GoogleSecretsProvider(creds, only_secrets=True, only_toml_fragments=True))
else:
    raise SystemExit(f"unknown mode {mode}")

if len(sys.argv) > 3 and sys.argv[3] == "debug":
    logging.basicConfig(level=logging.DEBUG)


@dlt.source(name="demo", section="demo")
def demo(api_key: str = dlt.secrets.value):
    @dlt.resource(name="items")
    def items():
        digest = hashlib.sha256(api_key.encode()).hexdigest()
        for i in range(3):
            yield {"id": i, "key_digest": digest}

    return items


pipeline = dlt.pipeline(
    pipeline_name="strata_demo",
    destination="duckdb",
    dataset_name="demo_data",
    pipelines_dir=f"{workdir}/pipelines",
)
pipeline.run(demo())
with pipeline.sql_client() as client:
    rows = client.execute_sql("select id, key_digest from items order by id")
print(json.dumps([list(r) for r in rows]))

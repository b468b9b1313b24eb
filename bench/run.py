"""strata vs dlt on the same workspace, side by side in one run.

    .venv/bin/python bench/run.py            # (after `bash .ci/setup`)

1. cold process: `strata get PATH` vs `python -c "import dlt; dlt.secrets.get(PATH)"`
   (and a bare process start for scale), medians of 200 runs taken in
   turns (dlt: 7 runs). `strata` is the one release binary, every vault SDK
   linked in (`cargo build --release -p strata-secrets-cli`);
2. warm, in process: exact gets and section walks over a workspace of 1,000
   keys in 4 files plus 200 environment variables: criterion for strata
   (`cargo bench -p strata-secrets --bench resolve`, which builds the same workspace),
   `timeit` for dlt (10,000 lookups);
3. vault: a 5-field credentials configuration resolved through Google Secret
   Manager (the local one, `local-secret-manager`, with 20 ms added to every
   request), in three layouts, with and without `list_secrets`, and with
   strata's `prefetch_single_values`: requests made and wall time, strata (`examples/vault_bench.rs`) vs dlt's
   `GoogleSecretsProvider` (needs `.venv/bin/pip install -r
   bench/requirements.txt`);
4. hashicorp: the same configuration and layouts through HashiCorp Vault
   (OpenBao's dev server, `.venv/bin/bao`, behind a proxy that adds 20 ms to
   every request and counts them). dlt has no Vault provider: the table
   shows strata's requests and round trips, to compare with strata's own
   Google rows above.

5. python: the Python package inside dlt (needs `.venv/bin/pip install
   ./python`): a dlt configuration resolved warm, in process, through dlt's
   own chain and through `strata_secrets.dlt.register(chain="all")`; and the
   Google layouts of part 3 through dlt's own provider and through
   `register()`, requests and wall time at 20 ms per request.

6. redact: `strata exec --redact -- cat FILE` against `cat FILE` on the same
   200 MB log (21 secrets, one line in a thousand holds one), MB/s; and
   the latency one line takes from a child's write to the reader, through
   `exec --redact` and straight through a pipe (500 lines, 2 ms apart).

7. fleet: 200 `strata export` processes started together against OpenBao
   behind a proxy that answers 429 above 50 requests a second: how many
   resolve within their deadline, and the requests per process against one
   process's plan (the difference is retries).

    .venv/bin/python bench/run.py --only vault     # one part: local (cold, warm), vault, hashicorp, python, redact or fleet

Prints tables of medians and ratios (dlt / strata). Nothing here is a test.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import timeit
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FILES = ["dev.secrets.toml", "secrets.toml", "dev.config.toml", "config.toml"]


def build_workspace(dir_: Path):
    """The same layout as facade/benches/resolve.rs: 250 keys per file, 200 env vars."""
    (dir_ / ".dlt").mkdir(parents=True)
    (dir_ / ".dlt" / ".workspace").write_text("")
    paths = []
    for f, name in enumerate(FILES):
        lines = []
        for s in range(25):
            lines.append(f"[sources.source_{f}_{s}.resource]")
            for k in range(10):
                lines.append(f'key_{k} = "value-{f}-{s}-{k}"')
                paths.append(f"sources.source_{f}_{s}.resource.key_{k}")
        (dir_ / ".dlt" / name).write_text("\n".join(lines) + "\n")
    env = {}
    for i in range(100):
        env["__".join(paths[i * 10].split(".")).upper()] = f"env-{i}"
        env[f"EXTRA__SECTION_{i}__KEY"] = f"extra-{i}"
    return paths, env


def median_ms(cmd, env, cwd, runs):
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(cmd, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def interleaved_medians_ms(cmds, env, cwd, rounds, runs):
    """Medians of each command's times, the commands taking turns in rounds
    of `runs` each, so that a slower moment of the machine hits them all."""
    times = [[] for _ in cmds]
    for _ in range(rounds):
        for i, cmd in enumerate(cmds):
            for _ in range(runs):
                start = time.perf_counter()
                subprocess.run(cmd, env=env, cwd=cwd, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, check=True)
                times[i].append((time.perf_counter() - start) * 1000)
    return [statistics.median(t) for t in times]


def criterion_ns(name):
    est = ROOT / "target" / "criterion" / name / "new" / "estimates.json"
    return json.loads(est.read_text())["median"]["point_estimate"]


DLT_WARM = r"""
import json, sys, timeit
import dlt
from typing import Any
from dlt.common.configuration import configspec, resolve_configuration
from dlt.common.configuration.specs import BaseConfiguration
from dlt.common.typing import TSecretValue

paths = json.loads(sys.argv[1])
n = int(sys.argv[2])
secret_paths = paths[:500]

def cycle(seq):
    i = 0
    while True:
        yield seq[i % len(seq)]
        i += 7

g = cycle(paths)
config_get = min(timeit.repeat(lambda: dlt.config.get(next(g)), number=n, repeat=5)) / n
g2 = cycle(secret_paths)
secret_get = min(timeit.repeat(lambda: dlt.secrets.get(next(g2)), number=n, repeat=5)) / n

specs = {}
def walk(path):
    *sections, key = path.split(".")
    spec = specs.get(key)
    if spec is None:
        spec = configspec(type("Probe", (BaseConfiguration,), {"__annotations__": {key: Any}, key: None}))
        specs[key] = spec
    return getattr(resolve_configuration(spec(), sections=tuple(sections), accept_partial=True), key)

g3 = cycle(paths)
walk_t = min(timeit.repeat(lambda: walk(next(g3)), number=n // 10, repeat=5)) / (n // 10)
print(json.dumps({"config_get": config_get, "secret_get": secret_get, "walk": walk_t}))
"""


def local_and_warm(python):
    subprocess.run(["cargo", "build", "--release", "-q", "-p", "strata-secrets-cli"], cwd=ROOT, check=True)
    release = ROOT / "target" / "release"
    with tempfile.TemporaryDirectory() as tmp:
        strata_bin = release / "strata"
        ws = Path(tmp) / "ws"
        paths, bench_env = build_workspace(ws)
        env = {"PATH": os.environ.get("PATH", ""), "HOME": tmp, "RUNTIME__DLTHUB_TELEMETRY": "false"}
        env.update(bench_env)
        env["STRATA_GLOBAL_DIR"] = str(Path(tmp) / "no-global")
        path = paths[3]

        print("cold process (median)...", file=sys.stderr)
        bare, cold_strata = interleaved_medians_ms(
            [["/bin/true"], [str(strata_bin), "get", path]],
            env, ws, rounds=10, runs=20)
        cold_dlt = median_ms([python, "-c", f"import dlt; dlt.secrets.get({path!r})"], env, ws, 7)

        print("warm, dlt (timeit)...", file=sys.stderr)
        out = subprocess.run(
            [python, "-c", DLT_WARM, json.dumps(paths), "10000"],
            env=env, cwd=ws, capture_output=True, text=True, check=True,
        )
        dlt_warm = json.loads(out.stdout.strip().splitlines()[-1])

    print("warm, strata (criterion)...", file=sys.stderr)
    subprocess.run(["cargo", "bench", "-q", "-p", "strata-secrets", "--bench", "resolve"], cwd=ROOT, check=True,
                   stdout=subprocess.DEVNULL)
    # dlt's accessors return the value: compare with strata's value accessors
    strata_warm = {
        "config_get": criterion_ns("1,000 config values") / 1e12,
        "secret_get": criterion_ns("1,000 secret values") / 1e12,
        "walk": criterion_ns("1,000 walked values") / 1e12,
    }
    # strata's full answers (value, provenance, trace), which dlt has no call for
    strata_full = {
        "config_get": criterion_ns("1,000 exact gets (config, over all providers)") / 1e12,
        "secret_get": criterion_ns("1,000 exact gets (secret)") / 1e12,
        "walk": criterion_ns("1,000 section walks (config)") / 1e12,
    }

    rows = [
        ("cold `get` (one process)", cold_strata / 1000, cold_dlt / 1000),
        ("warm config value (x10,000)", strata_warm["config_get"] * 1e4, dlt_warm["config_get"] * 1e4),
        ("warm secret value (x10,000)", strata_warm["secret_get"] * 1e4, dlt_warm["secret_get"] * 1e4),
        ("warm walked value (x10,000)", strata_warm["walk"] * 1e4, dlt_warm["walk"] * 1e4),
        ("warm get with provenance, config", strata_full["config_get"] * 1e4, dlt_warm["config_get"] * 1e4),
        ("warm get with provenance, secret", strata_full["secret_get"] * 1e4, dlt_warm["secret_get"] * 1e4),
        ("warm walk with provenance", strata_full["walk"] * 1e4, dlt_warm["walk"] * 1e4),
    ]
    print(f"\nbare process start: {bare:.2f} ms; cold strata get = {cold_strata / bare:.1f}x a bare start\n")
    print("(warm rows: 10,000 lookups; strata's 'value' rows return the value as dlt's calls do, "
          "the 'with provenance' rows also build where it came from and the trace)")
    print(f"| {'measure':<34} | {'strata':>12} | {'dlt':>12} | {'dlt / strata':>12} |")
    print(f"| {'-' * 34} | {'-' * 12}: | {'-' * 12}: | {'-' * 12}: |")
    for name, s, d in rows:
        print(f"| {name:<34} | {s * 1000:>9.2f} ms | {d * 1000:>9.2f} ms | {d / s:>11.0f}x |")


# --- vault: strata vs dlt's GoogleSecretsProvider on the local Secret Manager

LATENCY_MS = 20
FIELDS = ["host", "port", "database", "username", "password"]

DLT_VAULT = r"""
import json, sys, time
import googleapiclient.discovery as discovery
from google.oauth2.service_account import Credentials
import dlt
from dlt.common.typing import AnyType, TSecretValue
from dlt.common.configuration import configspec, resolve_configuration
from dlt.common.configuration.specs import BaseConfiguration, CredentialsConfiguration, GcpServiceAccountCredentials
from dlt.common.configuration.providers.google_secrets import GoogleSecretsProvider

endpoint, key_file, list_secrets = sys.argv[1], sys.argv[2], sys.argv[3] == "true"

# dlt builds its client with googleapiclient.discovery.build: point it here
_build = discovery.build
def build(*args, **kwargs):
    kwargs["client_options"] = {"api_endpoint": endpoint}
    return _build(*args, **kwargs)
discovery.build = build

@configspec
class WarehouseCredentials(CredentialsConfiguration):
    host: TSecretValue = None
    port: TSecretValue = None
    database: TSecretValue = None
    username: TSecretValue = None
    password: TSecretValue = None

@configspec
class Warehouse(BaseConfiguration):
    credentials: WarehouseCredentials = None

# the key's own token_uri (this server) travels with a native credentials object
creds = GcpServiceAccountCredentials()
creds.parse_native_representation(Credentials.from_service_account_info(json.load(open(key_file))))
provider = GoogleSecretsProvider(creds, only_secrets=True, only_toml_fragments=False, list_secrets=list_secrets)
dlt.config.register_provider(provider)
provider._look_vault("warm-up", AnyType)  # authenticate outside the measured run
print("ready", flush=True)
sys.stdin.readline()
started = time.perf_counter()
w = resolve_configuration(Warehouse(), sections=("destination", "warehouse"))
ms = (time.perf_counter() - started) * 1000
fields = sum(1 for f in ["host", "port", "database", "username", "password"] if getattr(w.credentials, f))
print(json.dumps({"ms": ms, "fields": fields}), flush=True)
"""


def vault_layouts():
    doc = "[destination.warehouse.credentials]\n" + "".join(f'{f} = "{f}-value"\n' for f in FIELDS)
    return [
        ("dlt_secrets_toml", {"dlt_secrets_toml": doc}),
        ("fragment `destination-warehouse`", {"destination-warehouse": doc}),
        ("single values", {f"destination-warehouse-credentials-{f}": f"{f}-value" for f in FIELDS}),
    ]


def http(method, url):
    import urllib.request
    with urllib.request.urlopen(urllib.request.Request(url, method=method, data=b"" if method == "POST" else None)) as r:
        return json.loads(r.read())


def measured(cmd, env, cwd, endpoint):
    """Runs a client that prints `ready`, resets the server's counts, lets it
    go, and returns (its JSON result, API requests made, token requests)."""
    proc = subprocess.Popen(cmd, env=env, cwd=cwd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    line = proc.stdout.readline().strip()
    if line != "ready":
        proc.kill()
        raise SystemExit(f"{cmd[0]} did not start: {line} {proc.stderr.read()}")
    http("POST", f"{endpoint}/_local/reset")
    proc.stdin.write("go\n")
    proc.stdin.flush()
    out, err = proc.communicate(timeout=120)
    if proc.returncode != 0:
        raise SystemExit(f"{cmd[0]} failed: {err}")
    result = json.loads(out.strip().splitlines()[-1])
    counts = http("GET", f"{endpoint}/_local/counts")
    api = sum(v for k, v in counts.items() if not k.startswith("token"))
    tokens = sum(v for k, v in counts.items() if k.startswith("token"))
    return result, api, tokens


def vault(python, runs):
    try:
        subprocess.run([python, "-c", "import googleapiclient, google_auth_httplib2"], check=True,
                       stderr=subprocess.DEVNULL)
    except subprocess.CalledProcessError:
        raise SystemExit("dlt's GoogleSecretsProvider needs: .venv/bin/pip install -r bench/requirements.txt")
    subprocess.run(["cargo", "build", "--release", "-q", "-p", "strata-secrets-test-servers", "-p", "strata-secrets",
                    "--features", "strata-secrets-test-servers/google,strata-secrets/google",
                    "--bin", "local-secret-manager", "--example", "vault_bench"], cwd=ROOT,
                   check=True)
    server_bin = ROOT / "target" / "release" / "local-secret-manager"
    strata_bin = ROOT / "target" / "release" / "examples" / "vault_bench"
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        ws = tmp / "ws"
        (ws / ".dlt").mkdir(parents=True)
        for layout, secrets in vault_layouts():
            files = []
            for i, (name, text) in enumerate(secrets.items()):
                f = tmp / f"secret-{i}"
                f.write_text(text)
                files += ["--secret", f"{name}={f}"]
            key = tmp / "key.json"
            server = subprocess.Popen([str(server_bin), "--latency-ms", str(LATENCY_MS), "--key-out", str(key)] + files,
                                      stdout=subprocess.PIPE, text=True)
            try:
                info = json.loads(server.stdout.readline())
                endpoint = info["endpoint"].rstrip("/")
                # dlt has no prefetching: its column repeats its own runs
                for list_secrets, prefetch in ((False, False), (True, False), (False, True)):
                    base = {"PATH": os.environ.get("PATH", ""), "HOME": str(tmp), "RUNTIME__DLTHUB_TELEMETRY": "false",
                            "STRATA_GLOBAL_DIR": str(tmp / "no-global")}
                    strata_secrets_env = dict(base, PROVIDERS__ENABLE_GOOGLE_SECRETS="true",
                                      PROVIDERS__GOOGLE_SECRETS__ENDPOINT=endpoint,
                                      PROVIDERS__GOOGLE_SECRETS__CREDENTIALS=key.read_text(),
                                      PROVIDERS__GOOGLE_SECRETS__ONLY_TOML_FRAGMENTS="false",
                                      PROVIDERS__GOOGLE_SECRETS__LIST_SECRETS=str(list_secrets).lower(),
                                      PROVIDERS__GOOGLE_SECRETS__PREFETCH_SINGLE_VALUES=str(prefetch).lower())
                    results = {"strata": [], "dlt": []}
                    for _ in range(runs):
                        results["strata"].append(measured([str(strata_bin)], strata_secrets_env, ws, endpoint))
                        results["dlt"].append(measured([python, "-c", DLT_VAULT, endpoint, str(key),
                                                        str(list_secrets).lower()], base, ws, endpoint))
                    row = {"layout": layout, "list_secrets": list_secrets, "prefetch": prefetch}
                    for who, rs in results.items():
                        assert all(r[0]["fields"] == 5 for r in rs), f"{who} did not resolve all five fields"
                        row[who] = {"ms": statistics.median(r[0]["ms"] for r in rs), "requests": rs[0][1],
                                    "tokens": rs[0][2]}
                    rows.append(row)
            finally:
                server.kill()
                server.wait()
    print(f"\nvault: 5-field credentials configuration, {LATENCY_MS} ms added per request, "
          f"token fetched before the measured run, median of {runs} runs\n")
    print(f"| {'layout':<32} | list_secrets | strata prefetch_single_values | requests strata / dlt | "
          f"strata ms (round trips) | dlt ms (round trips) | dlt / strata |")
    print(f"| {'-' * 32} | ---: | ---: | ---: | ---: | ---: | ---: |")
    for r in rows:
        s, d = r["strata"], r["dlt"]
        print(f"| {r['layout']:<32} | {str(r['list_secrets']).lower():>12} | {str(r['prefetch']).lower():>5} | "
              f"{s['requests']:>10} / {d['requests']:<10} | "
              f"{s['ms']:>9.1f} ({s['ms'] / LATENCY_MS:.1f}) | {d['ms']:>9.1f} ({d['ms'] / LATENCY_MS:.1f}) | "
              f"{d['ms'] / s['ms']:>5.1f}x |")


# --- hashicorp: strata on OpenBao, behind a proxy that adds latency and counts

class LatencyProxy:
    """Forwards HTTP to `upstream` (host:port) after LATENCY_MS, counting
    requests: `api` (KV reads and listings) and `auth` (logins, token calls)."""

    def __init__(self, upstream):
        import http.client
        import http.server
        import socket
        import threading
        counts = self.counts = {"api": 0, "auth": 0}
        lock = threading.Lock()

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # headers and body go out in separate writes: without this,
            # Nagle's algorithm and delayed ACKs add 40 ms to each reply
            disable_nagle_algorithm = True

            def log_message(self, *args):
                pass

            def forward(self):
                time.sleep(LATENCY_MS / 1000)
                with lock:
                    counts["api" if self.path.startswith("/v1/secret/") else "auth"] += 1
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                conn = http.client.HTTPConnection(upstream, timeout=60)
                conn.connect()
                conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "connection")}
                conn.request(self.command, self.path, body=body, headers=headers)
                reply = conn.getresponse()
                data = reply.read()
                self.send_response(reply.status)
                for k, v in reply.getheaders():
                    if k.lower() not in ("transfer-encoding", "connection", "content-length"):
                        self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
                conn.close()

            do_GET = do_POST = do_PUT = do_DELETE = do_LIST = forward

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.endpoint = f"http://127.0.0.1:{self.server.server_address[1]}"

    def reset(self):
        self.counts["api"] = self.counts["auth"] = 0

    def close(self):
        self.server.shutdown()


def bao_request(addr, token, method, path, body=None):
    import urllib.request
    req = urllib.request.Request(f"{addr}{path}", method=method, headers={"X-Vault-Token": token},
                                 data=json.dumps(body).encode() if body is not None else None)
    with urllib.request.urlopen(req) as r:
        text = r.read()
        return json.loads(text) if text else None


def hashicorp(runs):
    bao = ROOT / ".venv" / "bin" / "bao"
    if not bao.exists():
        raise SystemExit("OpenBao's bao is missing: bash .ci/setup")
    subprocess.run(["cargo", "build", "--release", "-q", "-p", "strata-secrets", "--features", "google", "--example", "vault_bench"], cwd=ROOT,
                   check=True)
    strata_bin = ROOT / "target" / "release" / "examples" / "vault_bench"
    import socket
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    addr, root = f"http://127.0.0.1:{port}", "bench-root"
    server = subprocess.Popen([str(bao), "server", "-dev", "-dev-no-store-token", f"-dev-root-token-id={root}",
                               f"-dev-listen-address=127.0.0.1:{port}"], stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    rows = []
    try:
        for _ in range(100):
            try:
                bao_request(addr, root, "GET", "/v1/sys/health")
                break
            except OSError:
                time.sleep(0.1)
        proxy = LatencyProxy(f"127.0.0.1:{port}")
        with tempfile.TemporaryDirectory() as tmp:
            tmp = Path(tmp)
            ws = tmp / "ws"
            (ws / ".dlt").mkdir(parents=True)
            for layout, secrets in vault_layouts():
                bao_request(addr, root, "DELETE", "/v1/sys/mounts/secret")
                bao_request(addr, root, "POST", "/v1/sys/mounts/secret", {"type": "kv", "options": {"version": "2"}})
                for name, text in secrets.items():
                    # Google's `-` names to Vault's `/` paths
                    path = "dlt_secrets_toml" if name == "dlt_secrets_toml" else name.replace("-", "/")
                    bao_request(addr, root, "POST", f"/v1/secret/data/dlt/{path}", {"data": {"value": text}})
                layout = layout.replace("destination-warehouse", "dlt/destination/warehouse")
                for list_secrets, prefetch in ((False, False), (True, False), (False, True)):
                    env = {"PATH": os.environ.get("PATH", ""), "HOME": str(tmp),
                           "STRATA_GLOBAL_DIR": str(tmp / "no-global"),
                           "PROVIDERS__ENABLE_HASHICORP_VAULT": "true", "VAULT_ADDR": proxy.endpoint,
                           "VAULT_TOKEN": root,
                           "PROVIDERS__HASHICORP_VAULT__ONLY_TOML_FRAGMENTS": "false",
                           "PROVIDERS__HASHICORP_VAULT__LIST_SECRETS": str(list_secrets).lower(),
                           "PROVIDERS__HASHICORP_VAULT__PREFETCH_SINGLE_VALUES": str(prefetch).lower()}
                    results = []
                    for _ in range(runs):
                        proc = subprocess.Popen([str(strata_bin)], env=env, cwd=ws, stdin=subprocess.PIPE,
                                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                        line = proc.stdout.readline().strip()
                        if line != "ready":
                            proc.kill()
                            raise SystemExit(f"vault_bench did not start: {line} {proc.stderr.read()}")
                        proxy.reset()
                        out, err = proc.communicate("go\n", timeout=120)
                        if proc.returncode != 0:
                            raise SystemExit(f"vault_bench failed: {err}")
                        result = json.loads(out.strip().splitlines()[-1])
                        assert result["fields"] == 5
                        results.append((result["ms"], proxy.counts["api"], proxy.counts["auth"]))
                    rows.append({"layout": layout, "list_secrets": list_secrets, "prefetch": prefetch,
                                 "ms": statistics.median(r[0] for r in results), "requests": results[0][1],
                                 "auth": results[0][2]})
        proxy.close()
    finally:
        server.kill()
        server.wait()
    print(f"\nhashicorp: the same configuration through OpenBao, {LATENCY_MS} ms added per request, "
          f"median of {runs} runs (dlt has no Vault provider: compare with strata's Google rows)\n")
    print(f"| {'layout':<36} | list_secrets | prefetch_single_values | requests | ms (round trips) |")
    print(f"| {'-' * 36} | ---: | ---: | ---: | ---: |")
    for r in rows:
        print(f"| {r['layout']:<36} | {str(r['list_secrets']).lower():>12} | {str(r['prefetch']).lower():>5} | "
              f"{r['requests']:>8} | {r['ms']:>7.1f} ({r['ms'] / LATENCY_MS:.1f}) |")


# --- python: the strata-secrets package inside dlt

PY_WARM = r"""
import json, sys, timeit
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
    database: str = None
    username: str = None
    password: TSecretValue = None

@configspec
class Source(BaseConfiguration):
    api_key: TSecretValue = None
    page_size: int = None
    credentials: Creds = None

mode, n = sys.argv[1], int(sys.argv[2])
if mode == "strata":
    import strata_secrets.dlt
    strata_secrets.dlt.register(chain="all")
ctx = ConfigSectionContext(pipeline_name="my_pipe", sections=("sources", "pipedrive"))

def once():
    with Container().injectable_context(ctx):
        return resolve_configuration(Source(), sections=("sources", "pipedrive"))

c = once()
assert c.api_key and c.credentials.password and c.page_size, c
seconds = min(timeit.repeat(once, number=n, repeat=3))
print(json.dumps({"us": seconds / n * 1e6}))
"""

PY_VAULT = r"""
import json, sys, time
import strata_secrets.dlt
from dlt.common.configuration import configspec, resolve_configuration
from dlt.common.configuration.specs import BaseConfiguration, CredentialsConfiguration
from dlt.common.typing import TSecretValue

@configspec
class WarehouseCredentials(CredentialsConfiguration):
    host: TSecretValue = None
    port: TSecretValue = None
    database: TSecretValue = None
    username: TSecretValue = None
    password: TSecretValue = None

@configspec
class Warehouse(BaseConfiguration):
    credentials: WarehouseCredentials = None

strata_secrets.dlt.register()
print("ready", flush=True)
sys.stdin.readline()
started = time.perf_counter()
w = resolve_configuration(Warehouse(), sections=("destination", "warehouse"))
ms = (time.perf_counter() - started) * 1000
fields = sum(1 for f in ["host", "port", "database", "username", "password"] if getattr(w.credentials, f))
print(json.dumps({"ms": ms, "fields": fields}), flush=True)
"""


def python_part(python, runs):
    """The Python package in dlt: (1) a configuration resolved warm, in
    process, through dlt's own chain and through `register(chain="all")`;
    (2) the Google vault layouts through dlt's own provider and through
    `register()`, at 20 ms per request."""
    try:
        subprocess.run([python, "-c", "import strata_secrets, googleapiclient"], check=True,
                       stderr=subprocess.DEVNULL)
    except subprocess.CalledProcessError:
        raise SystemExit("the Python part needs the package and dlt's Google client: "
                         ".venv/bin/pip install ./python -r bench/requirements.txt")
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        ws = tmp / "ws"
        (ws / ".dlt").mkdir(parents=True)
        (ws / ".dlt" / ".workspace").write_text("")
        (ws / ".dlt" / "secrets.toml").write_text(
            "[sources.pipedrive]\napi_key = \"k\"\n[sources.pipedrive.credentials]\npassword = \"p\"\n"
            "username = \"u\"\n[my_pipe.sources.pipedrive]\napi_key = \"pipe-k\"\n")
        (ws / ".dlt" / "config.toml").write_text(
            "[sources.pipedrive]\npage_size = 100\n[sources.pipedrive.credentials]\nhost = \"h\"\n"
            "port = 5432\ndatabase = \"d\"\n")
        env = {"PATH": os.environ.get("PATH", ""), "HOME": str(tmp), "RUNTIME__DLTHUB_TELEMETRY": "false",
               "SOURCES__PIPEDRIVE__CREDENTIALS__HOST": "env-host"}
        warm = {}
        for mode in ("dlt", "strata"):
            out = subprocess.run([python, "-c", PY_WARM, mode, "2000"], cwd=ws, env=env, capture_output=True,
                                 text=True, check=True)
            warm[mode] = json.loads(out.stdout.strip().splitlines()[-1])["us"]
        print("\n## Python: a dlt configuration (2 fields + 5 credentials, pipeline scope, env override), warm")
        print("| chain | per resolution | ratio |")
        print("| --- | ---: | ---: |")
        print(f"| dlt's own | {warm['dlt']:.0f} us | 1.0x |")
        print(f"| strata (`chain=\"all\"`) | {warm['strata']:.0f} us | {warm['dlt'] / warm['strata']:.1f}x |")

    subprocess.run(["cargo", "build", "--release", "-q", "-p", "strata-secrets-test-servers",
                    "--features", "google", "--bin", "local-secret-manager"], cwd=ROOT, check=True)
    server_bin = ROOT / "target" / "release" / "local-secret-manager"
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        ws = tmp / "ws"
        (ws / ".dlt").mkdir(parents=True)
        for layout, secrets in vault_layouts():
            files = []
            for i, (name, text) in enumerate(secrets.items()):
                f = tmp / f"secret-{i}"
                f.write_text(text)
                files += ["--secret", f"{name}={f}"]
            key = tmp / "key.json"
            server = subprocess.Popen([str(server_bin), "--latency-ms", str(LATENCY_MS), "--key-out", str(key)] + files,
                                      stdout=subprocess.PIPE, text=True)
            try:
                endpoint = json.loads(server.stdout.readline())["endpoint"].rstrip("/")
                base = {"PATH": os.environ.get("PATH", ""), "HOME": str(tmp), "RUNTIME__DLTHUB_TELEMETRY": "false"}
                strata_env = dict(base, PROVIDERS__ENABLE_GOOGLE_SECRETS="true",
                                  PROVIDERS__GOOGLE_SECRETS__ENDPOINT=endpoint,
                                  PROVIDERS__GOOGLE_SECRETS__CREDENTIALS=key.read_text(),
                                  PROVIDERS__GOOGLE_SECRETS__ONLY_TOML_FRAGMENTS="false")
                results = {"strata": [], "dlt": []}
                for _ in range(runs):
                    results["strata"].append(measured([python, "-c", PY_VAULT], strata_env, ws, endpoint))
                    results["dlt"].append(measured([python, "-c", DLT_VAULT, endpoint, str(key), "false"],
                                                   base, ws, endpoint))
                row = {"layout": layout}
                for who, rs in results.items():
                    assert all(r[0]["fields"] == 5 for r in rs), f"{who} did not resolve all five fields"
                    row[who] = {"ms": statistics.median(r[0]["ms"] for r in rs), "requests": rs[0][1]}
                rows.append(row)
            finally:
                server.kill()
    print(f"\n## Python: the vault layouts in dlt, Google at {LATENCY_MS} ms per request "
          f"(median of {runs}; API requests, the token request apart)")
    print("| vault holds | dlt's GoogleSecretsProvider | `strata_secrets.dlt.register()` | ratio |")
    print("| --- | ---: | ---: | ---: |")
    for r in rows:
        print(f"| {r['layout']} | {r['dlt']['requests']} req, {r['dlt']['ms']:.0f} ms | "
              f"{r['strata']['requests']} req, {r['strata']['ms']:.0f} ms | {r['dlt']['ms'] / r['strata']['ms']:.1f}x |")


class RateLimitProxy:
    """Forwards HTTP to `upstream` (host:port), answering 429 (Vault's
    rate-limit reply) to what comes above `rate` requests a second (a token
    bucket of `burst`); counts forwarded and refused requests."""

    def __init__(self, upstream, rate, burst):
        import http.client
        import http.server
        import socket
        import threading
        counts = self.counts = {"forwarded": 0, "refused": 0}
        lock = threading.Lock()
        bucket = {"tokens": float(burst), "at": time.monotonic()}

        def admit():
            with lock:
                now = time.monotonic()
                bucket["tokens"] = min(float(burst), bucket["tokens"] + (now - bucket["at"]) * rate)
                bucket["at"] = now
                if bucket["tokens"] >= 1:
                    bucket["tokens"] -= 1
                    counts["forwarded"] += 1
                    return True
                counts["refused"] += 1
                return False

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True

            def log_message(self, *args):
                pass

            def forward(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                if not admit():
                    data = b'{"errors":["request path \\"' + self.path.encode() + b'\\": rate limit quota exceeded"]}'
                    self.send_response(429)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Retry-After", "1")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                    return
                conn = http.client.HTTPConnection(upstream, timeout=60)
                conn.connect()
                conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "connection")}
                conn.request(self.command, self.path, body=body, headers=headers)
                reply = conn.getresponse()
                data = reply.read()
                self.send_response(reply.status)
                for k, v in reply.getheaders():
                    if k.lower() not in ("transfer-encoding", "connection", "content-length"):
                        self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
                conn.close()

            do_GET = do_POST = do_PUT = do_DELETE = do_LIST = forward

        class Server(http.server.ThreadingHTTPServer):
            request_queue_size = 1024
            daemon_threads = True

        self.server = Server(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.endpoint = f"http://127.0.0.1:{self.server.server_address[1]}"

    def reset(self):
        self.counts["forwarded"] = self.counts["refused"] = 0

    def close(self):
        self.server.shutdown()


def fleet_part(processes=200, rate=50, burst=10, deadline=60):
    """`processes` strata started together against OpenBao behind a proxy
    that answers 429 above `rate` requests a second."""
    bao = ROOT / ".venv" / "bin" / "bao"
    if not bao.exists():
        raise SystemExit("OpenBao's bao is missing: bash .ci/setup")
    subprocess.run(["cargo", "build", "--release", "-q", "-p", "strata-secrets-cli"], cwd=ROOT, check=True)
    strata_bin = str(ROOT / "target" / "release" / "strata")
    import socket
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    addr, root = f"http://127.0.0.1:{port}", "fleet-root"
    server = subprocess.Popen([str(bao), "server", "-dev", "-dev-no-store-token", f"-dev-root-token-id={root}",
                               f"-dev-listen-address=127.0.0.1:{port}"], stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    try:
        for _ in range(100):
            try:
                bao_request(addr, root, "GET", "/v1/sys/health")
                break
            except OSError:
                time.sleep(0.1)
        doc = "[destination.warehouse.credentials]\n" + "".join(f'{f} = "{f}-value"\n' for f in FIELDS)
        bao_request(addr, root, "POST", "/v1/secret/data/dlt/dlt_secrets_toml", {"data": {"value": doc}})
        proxy = RateLimitProxy(f"127.0.0.1:{port}", rate, burst)
        with tempfile.TemporaryDirectory() as tmp:
            tmp = Path(tmp)
            (tmp / ".dlt").mkdir()
            env = {"PATH": os.environ.get("PATH", ""), "HOME": str(tmp), "STRATA_GLOBAL_DIR": str(tmp / "no-global"),
                   "PROVIDERS__ENABLE_HASHICORP_VAULT": "true", "VAULT_ADDR": proxy.endpoint, "VAULT_TOKEN": root,
                   "STRATA_DEADLINE": str(deadline)}
            cmd = [strata_bin, "export", "--json"]
            # one process alone: the plan of one configuration
            proxy.reset()
            subprocess.run(cmd, env=env, cwd=tmp, check=True, capture_output=True)
            plan = proxy.counts["forwarded"]
            time.sleep(1.5)
            proxy.reset()
            print(f"fleet: {processes} processes together...", file=sys.stderr)
            started = time.perf_counter()
            procs = [subprocess.Popen(cmd, env=env, cwd=tmp, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
                     for _ in range(processes)]
            done = []
            for proc in procs:
                out, err = proc.communicate(timeout=deadline + 30)
                ok = proc.returncode == 0 and b"password-value" not in out and b"password" in out
                done.append((ok, time.perf_counter() - started, err.decode(errors="replace")))
            wall = time.perf_counter() - started
            counts = dict(proxy.counts)
        proxy.close()
    finally:
        server.kill()
        server.wait()
    resolved = sum(1 for ok, _, _ in done if ok)
    last = max(t for _, t, _ in done)
    total = counts["forwarded"] + counts["refused"]
    print(f"\nfleet: {processes} `strata export` started together against OpenBao behind a proxy that answers 429 "
          f"above {rate} requests/s (burst {burst}), deadline {deadline} s\n")
    print("| resolved | last done (s) | plan (requests, alone) | requests per process | of which 429 | wall (s) |")
    print("| ---: | ---: | ---: | ---: | ---: | ---: |")
    print(f"| {resolved}/{processes} | {last:.1f} | {plan} | {total / processes:.2f} | "
          f"{counts['refused'] / processes:.2f} | {wall:.1f} |")
    failed = [e for ok, _, e in done if not ok]
    if failed:
        print(f"\nfirst failure: {failed[0].strip()[:400]}")


REDACT_WRITER = r"""
import sys, time
n, gap = int(sys.argv[1]), float(sys.argv[2])
for i in range(n):
    sys.stdout.write(f"{time.monotonic_ns()} line {i}: rows loaded, nothing secret here\n")
    sys.stdout.flush()
    time.sleep(gap)
"""


def line_latencies_us(cmd, env, cwd):
    """Microseconds from each line's write (its monotonic stamp) to its read here."""
    proc = subprocess.Popen(cmd, env=env, cwd=cwd, stdout=subprocess.PIPE, bufsize=0)
    out = []
    for line in proc.stdout:
        now = time.monotonic_ns()
        out.append((now - int(line.split(b" ", 1)[0])) / 1000)
    proc.wait()
    return out


def redact_part(python):
    import random
    import string
    subprocess.run(["cargo", "build", "--release", "-q", "-p", "strata-secrets-cli"], cwd=ROOT, check=True)
    strata_bin = str(ROOT / "target" / "release" / "strata")
    rng = random.Random(7)
    secrets = ["".join(rng.choice(string.ascii_letters + string.digits) for _ in range(24)) for _ in range(20)]
    # a multi-line secret shaped like a key's body: random base64 lines
    key = "".join(
        "".join(rng.choice(string.ascii_letters + string.digits + "+/") for _ in range(64)) + "\n" for _ in range(25)
    )
    with tempfile.TemporaryDirectory() as tmp:
        ws = Path(tmp)
        (ws / ".dlt").mkdir()
        toml = "".join(f'[sources.s{i}]\napi_key = "{s}"\n' for i, s in enumerate(secrets))
        toml += "[destination.bigquery.credentials]\nprivate_key = " + json.dumps(key) + "\n"
        (ws / ".dlt" / "secrets.toml").write_text(toml)
        data = ws / "log.txt"
        print("redact: writing 200 MB of log...", file=sys.stderr)
        line = "2026-12-07 10:00:00 INFO loaded 1000 rows into table events_%d from page %d\n"
        with open(data, "w") as f:
            written, i = 0, 0
            while written < 200 * 1024 * 1024:
                text = line % (i, i) if i % 1000 else f"token={secrets[i // 1000 % 20]} used\n"
                f.write(text)
                written += len(text)
                i += 1
        size_mb = data.stat().st_size / 1e6
        env = {"PATH": os.environ.get("PATH", ""), "HOME": tmp, "STRATA_GLOBAL_DIR": str(ws / "no-global")}
        plain, redacted = [], []
        for _ in range(3):
            for cmd, into in ((["cat", str(data)], plain), ([strata_bin, "exec", "--redact", "--", "cat", str(data)], redacted)):
                started = time.perf_counter()
                subprocess.run(cmd, env=env, cwd=ws, stdout=subprocess.DEVNULL, check=True)
                into.append(time.perf_counter() - started)
        check = subprocess.run([strata_bin, "exec", "--redact", "--", "cat", str(data)], env=env, cwd=ws,
                               capture_output=True, check=True).stdout
        leaked = sum(check.count(s.encode()) for s in secrets)
        masked = check.count(b"token=*** used")
        print("redact: line latency...", file=sys.stderr)
        writer = [python, "-c", REDACT_WRITER, "500", "0.002"]
        direct = line_latencies_us(writer, env, ws)
        through = line_latencies_us([strata_bin, "exec", "--redact", "--"] + writer, env, ws)
    q = lambda xs, p: sorted(xs)[min(len(xs) - 1, int(len(xs) * p))]
    print()
    print(f"exec --redact, {size_mb:.0f} MB log, {len(secrets) + 1} secrets ({masked} lines masked, {leaked} leaked)")
    print(f"  cat:                 {size_mb / statistics.median(plain):8.0f} MB/s")
    print(f"  exec --redact + cat: {size_mb / statistics.median(redacted):8.0f} MB/s "
          f"({statistics.median(redacted) / statistics.median(plain):.1f}x the time)")
    print("line latency, write to read (us)    median     p99")
    print(f"  pipe:                          {statistics.median(direct):8.0f} {q(direct, 0.99):7.0f}")
    print(f"  exec --redact:                 {statistics.median(through):8.0f} {q(through, 0.99):7.0f}")
    print(f"  added by the filter:           {statistics.median(through) - statistics.median(direct):8.0f} "
          f"{q(through, 0.99) - q(direct, 0.99):7.0f}")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", choices=["local", "vault", "hashicorp", "python", "redact", "fleet"],
                        help="run one part: local (cold and warm), vault (Google, against dlt), hashicorp, "
                             "python (the package inside dlt), redact (exec --redact against cat), or fleet "
                             "(200 processes against one rate-limited OpenBao)")
    parser.add_argument("--vault-runs", type=int, default=5)
    args = parser.parse_args()
    if args.only in (None, "local"):
        local_and_warm(sys.executable)
    if args.only in (None, "vault"):
        vault(sys.executable, args.vault_runs)
    if args.only in (None, "hashicorp"):
        hashicorp(args.vault_runs)
    if args.only in (None, "python"):
        python_part(sys.executable, args.vault_runs)
    if args.only in (None, "redact"):
        redact_part(sys.executable)
    if args.only in (None, "fleet"):
        fleet_part()


if __name__ == "__main__":
    main()

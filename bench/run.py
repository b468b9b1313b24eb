"""strata vs dlt on the same workspace, side by side in one run.

    .venv/bin/python bench/run.py            # (after `bash .ci/setup`)

1. cold process: `strata get PATH` vs `python -c "import dlt; dlt.secrets.get(PATH)"`
   (and a bare process start for scale), median of several runs;
2. warm, in process: exact gets and section walks over a workspace of 1,000
   keys in 4 files plus 200 environment variables: criterion for strata
   (`cargo bench -p strata --bench resolve`, which builds the same workspace),
   `timeit` for dlt (10,000 lookups).

Prints a table of medians and ratios (dlt / strata). Nothing here is a test.
"""

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
    """The same layout as strata/benches/resolve.rs: 250 keys per file, 200 env vars."""
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
config_get = min(timeit.repeat(lambda: dlt.config.get(next(g)), number=n, repeat=3)) / n
g2 = cycle(secret_paths)
secret_get = min(timeit.repeat(lambda: dlt.secrets.get(next(g2)), number=n, repeat=3)) / n

specs = {}
def walk(path):
    *sections, key = path.split(".")
    spec = specs.get(key)
    if spec is None:
        spec = configspec(type("Probe", (BaseConfiguration,), {"__annotations__": {key: Any}, key: None}))
        specs[key] = spec
    return getattr(resolve_configuration(spec(), sections=tuple(sections), accept_partial=True), key)

g3 = cycle(paths)
walk_t = min(timeit.repeat(lambda: walk(next(g3)), number=n // 10, repeat=3)) / (n // 10)
print(json.dumps({"config_get": config_get, "secret_get": secret_get, "walk": walk_t}))
"""


def main():
    python = sys.executable
    subprocess.run(["cargo", "build", "--release", "-q", "-p", "strata"], cwd=ROOT, check=True)
    strata_bin = ROOT / "target" / "release" / "strata"
    with tempfile.TemporaryDirectory() as tmp:
        ws = Path(tmp) / "ws"
        paths, bench_env = build_workspace(ws)
        env = {"PATH": os.environ.get("PATH", ""), "HOME": tmp, "RUNTIME__DLTHUB_TELEMETRY": "false"}
        env.update(bench_env)
        env["STRATA_GLOBAL_DIR"] = str(Path(tmp) / "no-global")
        path = paths[3]

        print("cold process (median)...", file=sys.stderr)
        bare = median_ms(["/bin/true"], env, ws, 50)
        cold_strata = median_ms([str(strata_bin), "get", path], env, ws, 50)
        cold_dlt = median_ms([python, "-c", f"import dlt; dlt.secrets.get({path!r})"], env, ws, 7)

        print("warm, dlt (timeit)...", file=sys.stderr)
        out = subprocess.run(
            [python, "-c", DLT_WARM, json.dumps(paths), "10000"],
            env=env, cwd=ws, capture_output=True, text=True, check=True,
        )
        dlt_warm = json.loads(out.stdout.strip().splitlines()[-1])

    print("warm, strata (criterion)...", file=sys.stderr)
    subprocess.run(["cargo", "bench", "-q", "-p", "strata", "--bench", "resolve"], cwd=ROOT, check=True,
                   stdout=subprocess.DEVNULL)
    strata_warm = {
        "config_get": criterion_ns("exact get (config, over all providers)") / 1e9,
        "secret_get": criterion_ns("exact get (secret)") / 1e9,
        "walk": criterion_ns("section walk (config)") / 1e9,
    }

    rows = [
        ("cold `get` (one process)", cold_strata / 1000, cold_dlt / 1000),
        ("warm exact get, config (x10,000)", strata_warm["config_get"] * 1e4, dlt_warm["config_get"] * 1e4),
        ("warm exact get, secret (x10,000)", strata_warm["secret_get"] * 1e4, dlt_warm["secret_get"] * 1e4),
        ("warm section walk (x10,000)", strata_warm["walk"] * 1e4, dlt_warm["walk"] * 1e4),
    ]
    print(f"\nbare process start: {bare:.2f} ms; cold strata get = {cold_strata / bare:.1f}x a bare start\n")
    print(f"| {'measure':<34} | {'strata':>12} | {'dlt':>12} | {'dlt / strata':>12} |")
    print(f"| {'-' * 34} | {'-' * 12}: | {'-' * 12}: | {'-' * 12}: |")
    for name, s, d in rows:
        print(f"| {name:<34} | {s * 1000:>9.2f} ms | {d * 1000:>9.2f} ms | {d / s:>11.0f}x |")


if __name__ == "__main__":
    main()
